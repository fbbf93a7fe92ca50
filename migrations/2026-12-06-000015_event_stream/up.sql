-- Push channels (WebSocket, SSE) read the event log; these tell them when to read.
--
-- `finai_events` carries a ledger id after the commit of any transaction that appended one of
-- that ledger's events. PostgreSQL folds identical notifications of one transaction into one,
-- so a write of many rows wakes listeners once, and only once it has committed: a reader woken
-- by it finds the events in the log (numbered under the ledger's lock, so in commit order).
CREATE OR REPLACE FUNCTION finai_event_seq() RETURNS trigger AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('finai-sync:' || NEW.ledger_id::text, 0));
    NEW.seq := nextval('finai_change_seq');
    PERFORM pg_notify('finai_events', NEW.ledger_id::text);
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

-- `finai_access` carries a user id whenever what that user may read could have shrunk: the
-- account was disabled, deleted or logged out everywhere (its token cut-off moved), or one of
-- its memberships was changed or ended. Open streams of that user check their access again.
CREATE FUNCTION finai_access_changed() RETURNS trigger AS $$
BEGIN
    IF TG_TABLE_NAME = 'users' THEN
        PERFORM pg_notify('finai_access', OLD.id::text);
    ELSE
        PERFORM pg_notify('finai_access', OLD.user_id::text);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER access_changed AFTER UPDATE OF status, tokens_valid_after ON users
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status
                       OR OLD.tokens_valid_after IS DISTINCT FROM NEW.tokens_valid_after)
    EXECUTE FUNCTION finai_access_changed();
CREATE TRIGGER access_ended AFTER DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION finai_access_changed();
CREATE TRIGGER access_changed AFTER UPDATE OR DELETE ON ledger_members
    FOR EACH ROW EXECUTE FUNCTION finai_access_changed();

-- The log keeps a window (jobs prune it by age). A reader whose cursor is older than what was
-- pruned from its ledger has missed events and must sync afresh; this remembers the line.
-- (Its own table, so pruning does not look like an edit of the ledger.)
CREATE TABLE event_horizons (
    ledger_id uuid PRIMARY KEY REFERENCES ledgers (id) ON DELETE CASCADE,
    pruned_through bigint NOT NULL
);

-- Single-use tickets for opening a stream where a client cannot send headers (a browser's
-- WebSocket). A ticket is good for one ledger, for 30 seconds, once; the stream it opens lives
-- as long as the access token that asked for it (its issue and expiry times are kept).
CREATE TABLE event_tickets (
    token_hash text PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    ledger_id uuid NOT NULL REFERENCES ledgers (id) ON DELETE CASCADE,
    token_issued_at bigint NOT NULL,
    token_expires_at bigint NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX event_tickets_expiry_idx ON event_tickets (expires_at);
