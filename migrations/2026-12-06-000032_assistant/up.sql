-- The assistant, what-if scenarios and savings goals (issue 22).

-- Savings goals. A goal tracks either a wallet (its balance is what is saved) or the explicit
-- contributions recorded against it, never both, so nothing is counted twice.
CREATE TABLE goals (
    ledger_id uuid NOT NULL REFERENCES ledgers (id) ON DELETE CASCADE,
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    target_amount numeric(19, 4) NOT NULL CHECK (target_amount > 0),
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    target_date date,
    wallet_id uuid,
    -- The last state announced (a notification goes out when it changes).
    announced_state text NOT NULL DEFAULT 'on_track'
        CHECK (announced_state IN ('on_track', 'behind', 'reached')),
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (ledger_id, id),
    UNIQUE (id),
    FOREIGN KEY (ledger_id, wallet_id) REFERENCES wallets (ledger_id, id)
        ON DELETE SET NULL (wallet_id)
);
CREATE INDEX goals_list_idx ON goals (ledger_id, created_at, id);
SELECT finai_manage_updated_at('goals');

CREATE TABLE goal_contributions (
    ledger_id uuid NOT NULL,
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    goal_id uuid NOT NULL,
    -- Negative: money taken back out of the goal.
    amount numeric(19, 4) NOT NULL CHECK (amount <> 0),
    date date NOT NULL,
    note text CHECK (length(note) <= 500),
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (ledger_id, id),
    UNIQUE (id),
    FOREIGN KEY (ledger_id, goal_id) REFERENCES goals (ledger_id, id) ON DELETE CASCADE
);
CREATE INDEX goal_contributions_goal_idx ON goal_contributions (ledger_id, goal_id, date);

-- Saved what-if scenarios: the simulation request, re-run on demand against fresh figures.
CREATE TABLE scenarios (
    ledger_id uuid NOT NULL REFERENCES ledgers (id) ON DELETE CASCADE,
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    request jsonb NOT NULL,
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (ledger_id, id),
    UNIQUE (id)
);
CREATE INDEX scenarios_list_idx ON scenarios (ledger_id, created_at DESC, id DESC);

-- Every question the assistant was asked, its answer and the user's feedback (seed 000's
-- AILog). A conversation is one member's, in one ledger.
CREATE TABLE assistant_answers (
    ledger_id uuid NOT NULL REFERENCES ledgers (id) ON DELETE CASCADE,
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    conversation_id uuid NOT NULL,
    question text NOT NULL,
    locale text NOT NULL CHECK (locale IN ('en', 'vi')),
    intent text NOT NULL,
    confidence real NOT NULL,
    entities jsonb NOT NULL,
    data jsonb NOT NULL,
    answer text NOT NULL,
    feedback text CHECK (feedback IN ('helpful', 'not_helpful')),
    feedback_comment text CHECK (length(feedback_comment) <= 1000),
    feedback_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (ledger_id, id),
    UNIQUE (id)
);
CREATE INDEX assistant_answers_conversation_idx
    ON assistant_answers (ledger_id, user_id, conversation_id, created_at DESC);
CREATE INDEX assistant_answers_list_idx
    ON assistant_answers (ledger_id, user_id, created_at DESC, id DESC);

ALTER TABLE notifications DROP CONSTRAINT notifications_type_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_type_check CHECK (type IN (
    'budget_threshold', 'budget_exceeded', 'bill_due', 'bill_overdue', 'unusual_spending',
    'webhook_disabled', 'announcement', 'goal_reached', 'goal_behind'));
