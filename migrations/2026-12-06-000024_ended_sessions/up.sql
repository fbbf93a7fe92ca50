-- Every request asks whether the session its access token was issued in has ended (logged out,
-- ended from the sessions list, revoked as stolen): a family with a revoked token. Only ended
-- families are indexed, so the answer for a live session is one probe of a small index, however
-- many times the session was refreshed.
CREATE INDEX refresh_tokens_ended_family_idx ON refresh_tokens (family_id)
    WHERE revoked_at IS NOT NULL;
