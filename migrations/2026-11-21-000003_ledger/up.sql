-- The ledger: wallets, categories (with quick-pick descriptions), transactions with splits,
-- tombstones for delta sync, and idempotency keys.

-- Every change to a synced row gets a number from one sequence, so a client can ask for
-- "everything after N" (see `GET /sync`). A number is taken under a per-user lock held until
-- commit, so one user's changes commit in number order: a client that has seen N can never
-- later miss a smaller number that was still in flight.
CREATE SEQUENCE finai_change_seq;

CREATE FUNCTION finai_bump_change_seq() RETURNS trigger AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('finai-sync:' || NEW.user_id::text, 0));
    NEW.change_seq := nextval('finai_change_seq');
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TABLE wallets (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    type text NOT NULL CHECK (type IN ('cash', 'bank', 'credit_card', 'savings', 'e_wallet', 'investment')),
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    opening_balance numeric(19, 4) NOT NULL DEFAULT 0,
    archived boolean NOT NULL DEFAULT false,
    change_seq bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, id)
);
CREATE INDEX wallets_user_idx ON wallets (user_id, created_at, id);
CREATE INDEX wallets_sync_idx ON wallets (user_id, change_seq);
SELECT finai_manage_updated_at('wallets');
CREATE TRIGGER bump_change_seq BEFORE INSERT OR UPDATE ON wallets
    FOR EACH ROW EXECUTE PROCEDURE finai_bump_change_seq();

CREATE TABLE categories (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    parent_id uuid,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    kind text NOT NULL CHECK (kind IN ('expense', 'income')),
    icon text,
    color text CHECK (color ~ '^#[0-9A-Fa-f]{6}$'),
    change_seq bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, id),
    -- A parent always belongs to the same user.
    FOREIGN KEY (user_id, parent_id) REFERENCES categories (user_id, id)
);
-- Names are unique per user and parent, ignoring case.
CREATE UNIQUE INDEX categories_name_key
    ON categories (user_id, COALESCE(parent_id, '00000000-0000-0000-0000-000000000000'), lower(name));
CREATE INDEX categories_parent_idx ON categories (user_id, parent_id);
CREATE INDEX categories_sync_idx ON categories (user_id, change_seq);
SELECT finai_manage_updated_at('categories');
CREATE TRIGGER bump_change_seq BEFORE INSERT OR UPDATE ON categories
    FOR EACH ROW EXECUTE PROCEDURE finai_bump_change_seq();

CREATE TABLE category_descriptions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    category_id uuid NOT NULL,
    text text NOT NULL CHECK (length(text) BETWEEN 1 AND 200),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (user_id, category_id) REFERENCES categories (user_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX category_descriptions_text_key ON category_descriptions (category_id, lower(text));
SELECT finai_manage_updated_at('category_descriptions');

CREATE TABLE transactions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    type text NOT NULL CHECK (type IN ('expense', 'income', 'transfer')),
    amount numeric(19, 4) NOT NULL CHECK (amount > 0),
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    date date NOT NULL,
    description text NOT NULL DEFAULT '',
    merchant text,
    notes text,
    category_id uuid,
    wallet_id uuid NOT NULL,
    to_wallet_id uuid,
    tags text[] NOT NULL DEFAULT '{}',
    import_hash text,
    change_seq bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    -- Rows always point at the same user's wallets and categories.
    FOREIGN KEY (user_id, wallet_id) REFERENCES wallets (user_id, id),
    FOREIGN KEY (user_id, to_wallet_id) REFERENCES wallets (user_id, id),
    FOREIGN KEY (user_id, category_id) REFERENCES categories (user_id, id),
    CHECK ((type = 'transfer') = (to_wallet_id IS NOT NULL)),
    CHECK (type <> 'transfer' OR category_id IS NULL),
    CHECK (to_wallet_id IS DISTINCT FROM wallet_id),
    UNIQUE (user_id, id)
);
-- The list's order (newest first, ties by id) and its first page, per user.
CREATE INDEX transactions_user_date_idx ON transactions (user_id, date DESC, id DESC);
CREATE INDEX transactions_category_idx ON transactions (user_id, category_id, date);
CREATE INDEX transactions_wallet_idx ON transactions (wallet_id, date);
CREATE INDEX transactions_to_wallet_idx ON transactions (to_wallet_id, date) WHERE to_wallet_id IS NOT NULL;
CREATE INDEX transactions_sync_idx ON transactions (user_id, change_seq);
CREATE UNIQUE INDEX transactions_import_hash_key ON transactions (user_id, import_hash)
    WHERE import_hash IS NOT NULL;
SELECT finai_manage_updated_at('transactions');
CREATE TRIGGER bump_change_seq BEFORE INSERT OR UPDATE ON transactions
    FOR EACH ROW EXECUTE PROCEDURE finai_bump_change_seq();

-- A transaction's amount divided over categories; the shares sum to the amount.
CREATE TABLE transaction_splits (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL,
    transaction_id uuid NOT NULL,
    category_id uuid NOT NULL,
    amount numeric(19, 4) NOT NULL CHECK (amount > 0),
    note text,
    position integer NOT NULL,
    FOREIGN KEY (user_id, transaction_id) REFERENCES transactions (user_id, id) ON DELETE CASCADE,
    FOREIGN KEY (user_id, category_id) REFERENCES categories (user_id, id),
    UNIQUE (transaction_id, position)
);
CREATE INDEX transaction_splits_category_idx ON transaction_splits (user_id, category_id);

-- Deleted rows, so a syncing client learns of deletions.
CREATE TABLE tombstones (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    entity text NOT NULL,
    entity_id uuid NOT NULL,
    change_seq bigint NOT NULL DEFAULT 0,
    deleted_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tombstones_sync_idx ON tombstones (user_id, change_seq);
CREATE TRIGGER bump_change_seq BEFORE INSERT ON tombstones
    FOR EACH ROW EXECUTE PROCEDURE finai_bump_change_seq();

-- Replays of POST requests sent with an `Idempotency-Key` header.
CREATE TABLE idempotency_keys (
    principal text NOT NULL,
    key text NOT NULL,
    request_hash text NOT NULL,
    status_code integer,
    response_headers jsonb,
    response_body bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (principal, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
