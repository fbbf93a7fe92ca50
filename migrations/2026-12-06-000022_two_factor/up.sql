-- Two-factor login with time-based one-time passwords (RFC 6238) and recovery codes (issue 16).

-- Seed 003's flag, kept beside the account so a login knows at once whether to ask for a code.
ALTER TABLE users ADD COLUMN two_factor_enabled boolean NOT NULL DEFAULT false;

-- The authenticator secret: pending from enrolment until a first code confirms it.
CREATE TABLE totp_credentials (
    user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret bytea NOT NULL CHECK (octet_length(secret) BETWEEN 16 AND 64),
    confirmed_at timestamptz,
    -- The last 30-second step whose code was accepted: no code is accepted twice.
    last_step bigint,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Single-use recovery codes, shown once and stored as SHA-256 (they carry 50 random bits).
CREATE TABLE recovery_codes (
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash text NOT NULL,
    used_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, code_hash)
);

-- A login whose password was right, waiting for its second factor. Single-use, short-lived.
CREATE TABLE mfa_challenges (
    token_hash text PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    remember_me boolean NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mfa_challenges_user_idx ON mfa_challenges (user_id);
