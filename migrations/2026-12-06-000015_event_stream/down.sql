DROP TABLE event_tickets;
DROP TABLE event_horizons;
DROP TRIGGER access_changed ON ledger_members;
DROP TRIGGER access_ended ON users;
DROP TRIGGER access_changed ON users;
DROP FUNCTION finai_access_changed();
CREATE OR REPLACE FUNCTION finai_event_seq() RETURNS trigger AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('finai-sync:' || NEW.ledger_id::text, 0));
    NEW.seq := nextval('finai_change_seq');
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
