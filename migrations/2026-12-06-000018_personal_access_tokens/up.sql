-- Personal access tokens: long-lived bearer tokens for scripts and integrations, with scopes,
-- an optional expiry, and a record of their last use. Only a digest of the secret is kept.
CREATE TABLE personal_access_tokens (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    token_hash text NOT NULL UNIQUE,
    -- The prefix and first characters of the secret, to tell tokens apart in a list.
    hint text NOT NULL,
    scopes text[] NOT NULL
        CHECK (cardinality(scopes) > 0 AND scopes <@ ARRAY['read', 'write']::text[]),
    expires_at timestamptz,
    last_used_at timestamptz,
    last_used_ip text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX personal_access_tokens_user_idx ON personal_access_tokens (user_id, created_at, id);

-- A revoked token's open streams close at once (see migration 000015).
CREATE TRIGGER access_changed AFTER DELETE ON personal_access_tokens
    FOR EACH ROW EXECUTE FUNCTION finai_access_changed();

-- A stream ticket asked for with a personal access token lives as long as that token.
ALTER TABLE event_tickets ADD COLUMN personal_token_id uuid
    REFERENCES personal_access_tokens (id) ON DELETE CASCADE;
