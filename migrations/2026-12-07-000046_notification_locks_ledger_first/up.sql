-- A notification's insert takes its ledger's lock before its row. Its event is written by a
-- statement trigger after the rows, and that needs the lock: an insert outside the lock (a
-- budget alert after a write's commit) held its dedupe key while it waited for the lock, and a
-- writer holding the lock waited for that key to insert the same alert: a deadlock. Taken
-- first (a row trigger runs before its row is stored), the insert queues behind the writer.
CREATE FUNCTION finai_notification_locks_ledger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('finai-sync:' || NEW.ledger_id::text, 0));
    RETURN NEW;
END;
$$;

CREATE TRIGGER aa_lock_ledger BEFORE INSERT ON notifications
    FOR EACH ROW EXECUTE FUNCTION finai_notification_locks_ledger();
