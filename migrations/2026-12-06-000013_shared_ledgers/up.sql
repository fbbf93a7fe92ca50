-- Shared ledgers. Everything a user kept (wallets, categories, transactions, budgets, bills,
-- recurring templates, notifications, models, rollups, events) now belongs to a ledger, and users
-- reach a ledger through a membership with a role. The ledger id is the key every such row and
-- query leads with: the column that was `user_id` becomes `ledger_id`, so every index, unique key
-- and foreign key that led with the owner now leads with the ledger.
--
-- Each user's personal ledger has the user's own id. Existing rows therefore move into their
-- owner's personal ledger without being rewritten, and the paths without a ledger in them (the
-- default ledger's) need no lookup to find it.

CREATE TABLE ledgers (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind text NOT NULL CHECK (kind IN ('personal', 'household', 'business')),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
SELECT finai_manage_updated_at('ledgers');

CREATE TABLE ledger_members (
    ledger_id uuid NOT NULL REFERENCES ledgers (id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role text NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
    joined_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (ledger_id, user_id)
);
-- "My ledgers", and the per-request membership check.
CREATE INDEX ledger_members_user_idx ON ledger_members (user_id, ledger_id) INCLUDE (role);

-- Invitations by email: a mailed single-use token, stored as its digest.
CREATE TABLE ledger_invitations (
    ledger_id uuid NOT NULL REFERENCES ledgers (id) ON DELETE CASCADE,
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    email text NOT NULL,
    role text NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
    token_hash text NOT NULL UNIQUE,
    invited_by uuid REFERENCES users (id) ON DELETE SET NULL,
    status text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'accepted', 'declined', 'revoked')),
    answered_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    answered_at timestamptz,
    PRIMARY KEY (ledger_id, id)
);
-- One open invitation per address and ledger; the invitee's list of open invitations.
CREATE UNIQUE INDEX ledger_invitations_open_key ON ledger_invitations (ledger_id, lower(email))
    WHERE status = 'pending';
CREATE INDEX ledger_invitations_email_idx ON ledger_invitations (lower(email))
    WHERE status = 'pending';

INSERT INTO ledgers (id, kind, name, currency, created_at)
SELECT id, 'personal', 'Personal', currency, created_at FROM users;
INSERT INTO ledger_members (ledger_id, user_id, role, joined_at)
SELECT id, id, 'owner', created_at FROM users;

-- The owner column becomes the ledger column; a foreign key to the owner becomes one to the
-- ledger (the composite keys between owned tables follow the rename by themselves).
DO $$
DECLARE
    owned text[] := ARRAY[
        'wallets', 'categories', 'category_descriptions', 'category_suggestions', 'transactions',
        'transaction_splits', 'transaction_counts', 'daily_flows', 'daily_category_flows',
        'budgets', 'budget_categories', 'bills', 'bill_payments', 'recurring_transactions',
        'ml_models', 'predictions', 'notifications', 'tombstones', 'events'];
    t text;
    fk record;
BEGIN
    FOREACH t IN ARRAY owned LOOP
        FOR fk IN
            SELECT conname FROM pg_constraint
            WHERE conrelid = t::regclass AND contype = 'f' AND confrelid = 'users'::regclass
        LOOP
            EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', t, fk.conname);
        END LOOP;
        EXECUTE format('ALTER TABLE %I RENAME COLUMN user_id TO ledger_id', t);
        EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I FOREIGN KEY (ledger_id) '
                       'REFERENCES ledgers (id) ON DELETE CASCADE', t, t || '_ledger_id_fkey');
    END LOOP;
END;
$$;

-- The trigger functions keyed their work (rollups, counters, change numbers, events and the
-- per-owner write lock) by the owner; they now key it by the ledger, and "is the owner being
-- deleted" becomes "is the ledger being deleted". Their bodies change only in those names.
DO $$
DECLARE
    f record;
BEGIN
    FOR f IN
        SELECT p.proname, p.prosrc FROM pg_proc p
        WHERE p.proname IN ('finai_bump_change_seq', 'finai_count_transactions', 'finai_event_seq',
                            'finai_notification_events', 'finai_roll_splits',
                            'finai_roll_transactions', 'finai_transaction_events')
    LOOP
        EXECUTE format('CREATE OR REPLACE FUNCTION %I() RETURNS trigger LANGUAGE plpgsql AS %L',
                       f.proname,
                       replace(replace(f.prosrc, 'user_id', 'ledger_id'),
                               'FROM users u', 'FROM ledgers u'));
    END LOOP;
END;
$$;

-- Who did what, in a ledger several people write to. Rows from before shared ledgers were all
-- written by the owner of their personal ledger, whose id the ledger shares. The backfill must
-- not look like a change (no new change numbers, events or timestamps), so it runs with the
-- row triggers off.
ALTER TABLE transactions
    ADD COLUMN created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    ADD COLUMN updated_by uuid REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE transactions DISABLE TRIGGER USER;
UPDATE transactions SET created_by = ledger_id, updated_by = ledger_id;
ALTER TABLE transactions ENABLE TRIGGER USER;

-- A personal ledger goes with its account, however the account goes: first, while the account
-- still exists (so nothing is left to point at it). Rows that point at the ledger's categories
-- and wallets go before the cascade from `ledgers` meets them.
CREATE FUNCTION finai_drop_personal_ledger() RETURNS trigger AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM ledgers WHERE id = OLD.id AND kind = 'personal') THEN
        DELETE FROM recurring_transactions WHERE ledger_id = OLD.id;
        DELETE FROM bills WHERE ledger_id = OLD.id;
        DELETE FROM budgets WHERE ledger_id = OLD.id;
        DELETE FROM transactions WHERE ledger_id = OLD.id;
        DELETE FROM ledgers WHERE id = OLD.id;
    END IF;
    RETURN OLD;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER drop_personal_ledger BEFORE DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION finai_drop_personal_ledger();
