-- Budgets with live progress, bills and their payments, recurring transactions, notifications.

CREATE TABLE budgets (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    amount numeric(19, 4) NOT NULL CHECK (amount > 0),
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    period text NOT NULL CHECK (period IN ('daily', 'weekly', 'monthly', 'yearly', 'custom')),
    start_date date NOT NULL,
    end_date date,
    alert_threshold numeric(5, 2) NOT NULL DEFAULT 80 CHECK (alert_threshold > 0 AND alert_threshold <= 100),
    rollover boolean NOT NULL DEFAULT false,
    change_seq bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (end_date IS NULL OR end_date >= start_date),
    CHECK (period <> 'custom' OR end_date IS NOT NULL),
    UNIQUE (user_id, id)
);
CREATE INDEX budgets_user_idx ON budgets (user_id, created_at, id);
CREATE INDEX budgets_sync_idx ON budgets (user_id, change_seq);
SELECT finai_manage_updated_at('budgets');
CREATE TRIGGER bump_change_seq BEFORE INSERT OR UPDATE ON budgets
    FOR EACH ROW EXECUTE PROCEDURE finai_bump_change_seq();

CREATE TABLE budget_categories (
    user_id uuid NOT NULL,
    budget_id uuid NOT NULL,
    category_id uuid NOT NULL,
    PRIMARY KEY (budget_id, category_id),
    FOREIGN KEY (user_id, budget_id) REFERENCES budgets (user_id, id) ON DELETE CASCADE,
    FOREIGN KEY (user_id, category_id) REFERENCES categories (user_id, id)
);
CREATE INDEX budget_categories_category_idx ON budget_categories (user_id, category_id);

CREATE TABLE bills (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    amount numeric(19, 4) NOT NULL CHECK (amount > 0),
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    category_id uuid NOT NULL,
    wallet_id uuid NOT NULL,
    frequency text NOT NULL CHECK (frequency IN ('once', 'weekly', 'monthly', 'quarterly', 'yearly')),
    next_due_date date NOT NULL,
    -- The day of month a monthly/quarterly/yearly bill is due (31 falls on the last day of
    -- shorter months, and comes back to 31 after them).
    due_day smallint NOT NULL CHECK (due_day BETWEEN 1 AND 31),
    reminder_days_before integer NOT NULL DEFAULT 3 CHECK (reminder_days_before BETWEEN 0 AND 365),
    notes text,
    autopay boolean NOT NULL DEFAULT false,
    paid_at timestamptz,
    cancelled_at timestamptz,
    change_seq bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (user_id, category_id) REFERENCES categories (user_id, id),
    FOREIGN KEY (user_id, wallet_id) REFERENCES wallets (user_id, id),
    UNIQUE (user_id, id)
);
CREATE INDEX bills_due_idx ON bills (user_id, next_due_date, id);
CREATE INDEX bills_open_due_idx ON bills (next_due_date) WHERE cancelled_at IS NULL AND paid_at IS NULL;
CREATE INDEX bills_sync_idx ON bills (user_id, change_seq);
SELECT finai_manage_updated_at('bills');
CREATE TRIGGER bump_change_seq BEFORE INSERT OR UPDATE ON bills
    FOR EACH ROW EXECUTE PROCEDURE finai_bump_change_seq();

-- One payment per bill and due date: paying twice for the same due date is refused here.
CREATE TABLE bill_payments (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL,
    bill_id uuid NOT NULL,
    due_date date NOT NULL,
    paid_on date NOT NULL,
    amount numeric(19, 4) NOT NULL CHECK (amount > 0),
    transaction_id uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (user_id, bill_id) REFERENCES bills (user_id, id) ON DELETE CASCADE,
    UNIQUE (bill_id, due_date)
);

CREATE TABLE recurring_transactions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    type text NOT NULL CHECK (type IN ('expense', 'income', 'transfer')),
    amount numeric(19, 4) NOT NULL CHECK (amount > 0),
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    description text NOT NULL DEFAULT '',
    merchant text,
    notes text,
    category_id uuid,
    wallet_id uuid NOT NULL,
    to_wallet_id uuid,
    tags text[] NOT NULL DEFAULT '{}',
    frequency text NOT NULL CHECK (frequency IN ('daily', 'weekly', 'monthly', 'quarterly', 'yearly')),
    next_date date NOT NULL,
    end_date date,
    anchor_day smallint NOT NULL CHECK (anchor_day BETWEEN 1 AND 31),
    active boolean NOT NULL DEFAULT true,
    change_seq bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (user_id, category_id) REFERENCES categories (user_id, id),
    FOREIGN KEY (user_id, wallet_id) REFERENCES wallets (user_id, id),
    FOREIGN KEY (user_id, to_wallet_id) REFERENCES wallets (user_id, id),
    CHECK ((type = 'transfer') = (to_wallet_id IS NOT NULL)),
    CHECK ((type = 'transfer') = (category_id IS NULL)),
    UNIQUE (user_id, id)
);
CREATE INDEX recurring_due_idx ON recurring_transactions (next_date) WHERE active;
CREATE INDEX recurring_user_idx ON recurring_transactions (user_id, created_at, id);
CREATE INDEX recurring_sync_idx ON recurring_transactions (user_id, change_seq);
SELECT finai_manage_updated_at('recurring_transactions');
CREATE TRIGGER bump_change_seq BEFORE INSERT OR UPDATE ON recurring_transactions
    FOR EACH ROW EXECUTE PROCEDURE finai_bump_change_seq();

-- Each occurrence materialises once, however many workers run.
CREATE TABLE recurring_occurrences (
    recurring_id uuid NOT NULL REFERENCES recurring_transactions (id) ON DELETE CASCADE,
    occurrence_date date NOT NULL,
    transaction_id uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (recurring_id, occurrence_date)
);

CREATE TABLE notifications (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    type text NOT NULL CHECK (type IN ('budget_threshold', 'budget_exceeded', 'bill_due', 'bill_overdue', 'unusual_spending')),
    title text NOT NULL,
    body text NOT NULL,
    data jsonb NOT NULL DEFAULT '{}',
    -- What the notification is about (e.g. budget, period and level): created once.
    dedupe_key text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    read_at timestamptz,
    UNIQUE (user_id, dedupe_key)
);
CREATE INDEX notifications_user_idx ON notifications (user_id, created_at DESC, id DESC);
CREATE INDEX notifications_unread_idx ON notifications (user_id, created_at DESC) WHERE read_at IS NULL;
