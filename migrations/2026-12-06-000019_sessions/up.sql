-- Sessions are listed (`GET /users/me/sessions`) with the client that holds them: each refresh
-- token keeps the User-Agent and address of the request that issued it.
ALTER TABLE refresh_tokens
    ADD COLUMN user_agent text CHECK (length(user_agent) <= 512),
    ADD COLUMN ip text;
CREATE INDEX refresh_tokens_live_idx ON refresh_tokens (user_id, created_at DESC)
    WHERE revoked_at IS NULL AND used_at IS NULL;
