-- A NOTIFY serialises the commits of every transaction that sends one (PostgreSQL takes a
-- database-wide lock from the NOTIFY's queueing until the commit is flushed): with one per
-- event, every write of every user queued behind every other (pgbench of an event insert:
-- ~2,800 commits/s without, ~450 with, fsync on). So a commit announces its ledger only when
-- someone is listening: an open stream of that ledger on some instance (registered here,
-- under the ledger's lock, and kept fresh by the instance) or an active webhook.
CREATE TABLE event_listeners (
    ledger_id uuid NOT NULL,
    instance_id uuid NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (ledger_id, instance_id)
);

CREATE OR REPLACE FUNCTION finai_event_seq() RETURNS trigger AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('finai-sync:' || NEW.ledger_id::text, 0));
    NEW.seq := nextval('finai_change_seq');
    IF EXISTS (SELECT 1 FROM event_listeners l
               WHERE l.ledger_id = NEW.ledger_id AND l.expires_at > now())
       OR EXISTS (SELECT 1 FROM webhooks w WHERE w.ledger_id = NEW.ledger_id AND w.active) THEN
        PERFORM pg_notify('finai_events', NEW.ledger_id::text);
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
