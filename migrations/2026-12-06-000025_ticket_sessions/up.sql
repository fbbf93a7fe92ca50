-- A stream opened with a ticket ends with the login session of the token that asked for it.
ALTER TABLE event_tickets ADD COLUMN session_id uuid;

-- Ending a session (a logout, `DELETE /users/me/sessions/{id}`, detected theft) revokes its
-- refresh tokens: open streams of that user check their access again, and the stream of the
-- ended session closes. (Rotation only marks tokens used, and sends nothing; one revocation of
-- many tokens sends one notification: PostgreSQL folds identical ones in a transaction.)
CREATE TRIGGER access_changed AFTER UPDATE OF revoked_at ON refresh_tokens
    FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
    EXECUTE FUNCTION finai_access_changed();
