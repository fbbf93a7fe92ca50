-- A wallet's balance moves with its opening balance too: a change of it is announced as a
-- balance_update with the balance after it, as a transaction's write is (an outside test found
-- a client keeping balances from the stream left at the old one).
CREATE FUNCTION finai_opening_balance_event() RETURNS trigger AS $$
BEGIN
    INSERT INTO events (ledger_id, type, resource_id, payload)
    VALUES (NEW.ledger_id, 'balance_update', NEW.id,
            jsonb_build_object('wallet_id', NEW.id, 'balance', NEW.opening_balance + NEW.moved));
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER zz_opening_balance_event AFTER UPDATE OF opening_balance ON wallets
    FOR EACH ROW WHEN (OLD.opening_balance IS DISTINCT FROM NEW.opening_balance)
    EXECUTE FUNCTION finai_opening_balance_event();
