CREATE OR REPLACE FUNCTION finai_event_seq() RETURNS trigger AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('finai-sync:' || NEW.ledger_id::text, 0));
    NEW.seq := nextval('finai_change_seq');
    PERFORM pg_notify('finai_events', NEW.ledger_id::text);
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
DROP TABLE event_listeners;
