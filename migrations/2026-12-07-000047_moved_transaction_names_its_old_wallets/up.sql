-- A transaction moved to other wallets says which it left (`previous_wallet_id`,
-- `previous_to_wallet_id` in its `updated` event): a stream filtered to the wallet it left was
-- told nothing and kept showing it there.
CREATE OR REPLACE FUNCTION finai_transaction_events() RETURNS trigger AS $$
DECLARE
    -- The wallets whose money moved: ledger and wallet, pairwise.
    moved_ledgers uuid[];
    moved_wallets uuid[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        -- An import announces its rows with one import_finished event (services::imports),
        -- not one transaction_update per row: it sets finai.quiet_inserts for its inserts.
        IF coalesce(current_setting('finai.quiet_inserts', true), '') <> 'on' THEN
            INSERT INTO events (ledger_id, type, resource_id, payload)
            SELECT n.ledger_id, 'transaction_update', n.id,
                   jsonb_build_object(
                       'action', 'created', 'id', n.id, 'type', n.type, 'amount', n.amount,
                       'currency', n.currency, 'date', n.date, 'description', n.description,
                       'merchant', n.merchant, 'category_id', n.category_id,
                       'wallet_id', n.wallet_id, 'to_wallet_id', n.to_wallet_id,
                       'change_seq', n.change_seq)
            FROM new_rows n ORDER BY n.change_seq;
        END IF;
        SELECT array_agg(m.ledger_id), array_agg(m.w) INTO moved_ledgers, moved_wallets
        FROM (SELECT DISTINCT ledger_id, v.w
              FROM new_rows, LATERAL (VALUES (wallet_id), (to_wallet_id)) v(w)
              WHERE v.w IS NOT NULL) m;
    ELSIF TG_OP = 'DELETE' THEN
        -- A deleted account's rows cascade here: nothing to say (and its wallets are gone).
        INSERT INTO events (ledger_id, type, resource_id, payload)
        SELECT o.ledger_id, 'transaction_update', o.id,
               jsonb_build_object('action', 'deleted', 'id', o.id, 'type', o.type,
                                  'wallet_id', o.wallet_id, 'to_wallet_id', o.to_wallet_id)
        FROM old_rows o WHERE EXISTS (SELECT 1 FROM ledgers u WHERE u.id = o.ledger_id);
        SELECT array_agg(m.ledger_id), array_agg(m.w) INTO moved_ledgers, moved_wallets
        FROM (SELECT DISTINCT ledger_id, v.w
              FROM old_rows, LATERAL (VALUES (wallet_id), (to_wallet_id)) v(w)
              WHERE v.w IS NOT NULL) m;
    ELSE
        INSERT INTO events (ledger_id, type, resource_id, payload)
        SELECT n.ledger_id, 'transaction_update', n.id,
               jsonb_build_object(
                   'action', 'updated', 'id', n.id, 'type', n.type, 'amount', n.amount,
                   'currency', n.currency, 'date', n.date, 'description', n.description,
                   'merchant', n.merchant, 'category_id', n.category_id,
                   'wallet_id', n.wallet_id, 'to_wallet_id', n.to_wallet_id,
                   'change_seq', n.change_seq)
               -- Moved to other wallets: the ones it left, so that a stream or webhook
               -- watching them hears that it is gone from them.
               || CASE WHEN (o.wallet_id, o.to_wallet_id) IS DISTINCT FROM (n.wallet_id, n.to_wallet_id)
                       THEN jsonb_build_object('previous_wallet_id', o.wallet_id,
                                               'previous_to_wallet_id', o.to_wallet_id)
                       ELSE '{}'::jsonb END
        FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE o IS DISTINCT FROM n
        ORDER BY n.change_seq;
        SELECT array_agg(m.ledger_id), array_agg(m.w) INTO moved_ledgers, moved_wallets
        FROM (SELECT DISTINCT n.ledger_id, v.w
              FROM old_rows o JOIN new_rows n ON n.id = o.id,
                  LATERAL (VALUES (o.wallet_id), (o.to_wallet_id), (n.wallet_id), (n.to_wallet_id)) v(w)
              WHERE v.w IS NOT NULL
                AND (o.wallet_id, o.to_wallet_id, o.type, o.amount)
                    IS DISTINCT FROM (n.wallet_id, n.to_wallet_id, n.type, n.amount)) m;
    END IF;
    -- The wallets whose money moved, with their balance after the write (`moved` is kept by
    -- finai_touch_wallets, which runs before this trigger).
    INSERT INTO events (ledger_id, type, resource_id, payload)
    SELECT w.ledger_id, 'balance_update', w.id,
           jsonb_build_object('wallet_id', w.id, 'balance', w.opening_balance + w.moved)
    FROM unnest(moved_ledgers, moved_wallets) m(ledger_id, id)
    JOIN wallets w ON w.ledger_id = m.ledger_id AND w.id = m.id;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan;
