-- Import rules: conditions on a transaction's payee, amount, wallet and type, and actions (set
-- a category, add tags, rename the payee, make it a transfer), in the ledger's order. Applied to
-- imported entries before the categoriser, and on demand to existing rows.
CREATE TABLE rules (
    ledger_id uuid NOT NULL REFERENCES ledgers (id) ON DELETE CASCADE,
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    position integer NOT NULL,
    active boolean NOT NULL DEFAULT true,
    payee_contains text CHECK (length(payee_contains) BETWEEN 1 AND 200),
    payee_equals text CHECK (length(payee_equals) BETWEEN 1 AND 200),
    payee_regex text CHECK (length(payee_regex) BETWEEN 1 AND 200),
    min_amount numeric(19, 4),
    max_amount numeric(19, 4),
    wallet_id uuid,
    type text CHECK (type IN ('expense', 'income')),
    category_id uuid,
    add_tags text[] NOT NULL DEFAULT '{}',
    rename_payee text CHECK (length(rename_payee) BETWEEN 1 AND 200),
    transfer_to_wallet_id uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (ledger_id, id),
    UNIQUE (id),
    -- A rule points at its own ledger's rows, and goes with them.
    FOREIGN KEY (ledger_id, wallet_id) REFERENCES wallets (ledger_id, id) ON DELETE CASCADE,
    FOREIGN KEY (ledger_id, category_id) REFERENCES categories (ledger_id, id) ON DELETE CASCADE,
    FOREIGN KEY (ledger_id, transfer_to_wallet_id) REFERENCES wallets (ledger_id, id) ON DELETE CASCADE
);
CREATE INDEX rules_order_idx ON rules (ledger_id, position, created_at);
SELECT finai_manage_updated_at('rules');

-- Where a category came from: `rule` (set by a rule) and `default` (an import's fallback
-- `Uncategorized`) join `user` and `ml`. Neither is the user's own choice, so a rule applied
-- later may replace them; a `user` category never is.
ALTER TABLE transactions DROP CONSTRAINT transactions_category_source_check;
ALTER TABLE transactions ADD CONSTRAINT transactions_category_source_check
    CHECK (category_source IN ('user', 'ml', 'rule', 'default'));
