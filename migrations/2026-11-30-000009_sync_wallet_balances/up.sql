-- A wallet's balance is derived from its transactions, so a syncing client that holds the wallet
-- must hear of it whenever money moves in or out: each write that moves money touches the
-- wallets involved, which gives them a new change number (finai_bump_change_seq) for GET /sync.
CREATE FUNCTION finai_touch_wallets() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE wallets SET change_seq = change_seq
        WHERE id IN (SELECT wallet_id FROM new_rows UNION SELECT to_wallet_id FROM new_rows);
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE wallets SET change_seq = change_seq
        WHERE id IN (SELECT wallet_id FROM old_rows UNION SELECT to_wallet_id FROM old_rows);
    ELSE
        UPDATE wallets SET change_seq = change_seq
        WHERE id IN (
            SELECT w FROM old_rows o JOIN new_rows n ON n.id = o.id,
                LATERAL (VALUES (o.wallet_id), (o.to_wallet_id), (n.wallet_id), (n.to_wallet_id)) v(w)
            WHERE (o.wallet_id, o.to_wallet_id, o.type, o.amount)
                  IS DISTINCT FROM (n.wallet_id, n.to_wallet_id, n.type, n.amount));
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER touch_wallets_inserted AFTER INSERT ON transactions
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION finai_touch_wallets();
CREATE TRIGGER touch_wallets_updated AFTER UPDATE ON transactions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION finai_touch_wallets();
CREATE TRIGGER touch_wallets_deleted AFTER DELETE ON transactions
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION finai_touch_wallets();
