-- Predictions: where a transaction's category came from, unusual-spending flags, the per-user
-- models (serialised), the forecasts clients asked for, and the log of category suggestions
-- with the user's final choice (seed 000's AILog).

ALTER TABLE transactions
    -- `user`: set (or left empty, for transfers) by the user; `ml`: applied from a suggestion.
    ADD COLUMN category_source text NOT NULL DEFAULT 'user' CHECK (category_source IN ('user', 'ml')),
    -- The suggestion's probability when `category_source = 'ml'`.
    ADD COLUMN category_confidence numeric(5, 4)
        CHECK (category_confidence IS NULL OR category_confidence BETWEEN 0 AND 1),
    ADD COLUMN is_unusual boolean NOT NULL DEFAULT false,
    ADD COLUMN unusual_reason text;

CREATE TABLE ml_models (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('forecast', 'categorizer')),
    algorithm text NOT NULL,
    -- The fitted model, serialised with serde.
    model jsonb NOT NULL,
    metrics jsonb NOT NULL,
    data_from date,
    data_to date,
    training_rows integer NOT NULL,
    training_ms integer NOT NULL,
    -- The user's highest change sequence number when the model was trained: a newer change
    -- makes the model stale.
    data_version bigint NOT NULL,
    trained_at timestamptz NOT NULL DEFAULT now(),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, kind)
);
SELECT finai_manage_updated_at('ml_models');

CREATE TABLE predictions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    category_id uuid,
    period text NOT NULL CHECK (period IN ('month', 'week')),
    period_start date NOT NULL,
    period_end date NOT NULL,
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    amount numeric(19, 4) NOT NULL,
    lower numeric(19, 4) NOT NULL,
    upper numeric(19, 4) NOT NULL,
    method text NOT NULL,
    confidence text NOT NULL CHECK (confidence IN ('low', 'medium', 'high')),
    as_of date NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (period_end >= period_start),
    FOREIGN KEY (user_id, category_id) REFERENCES categories (user_id, id) ON DELETE CASCADE
);
CREATE INDEX predictions_user_idx ON predictions (user_id, created_at DESC, id DESC);

CREATE TABLE category_suggestions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The transaction the suggestion was used for, once there is one (kept after it is deleted).
    transaction_id uuid,
    description text NOT NULL,
    merchant text,
    amount numeric(19, 4),
    -- `[{category_id, name, probability}]`, best first.
    suggestions jsonb NOT NULL,
    model text NOT NULL,
    -- The category applied automatically (`auto_categorize`), if any.
    applied_category_id uuid,
    -- What the user finally chose (or kept).
    final_category_id uuid,
    resolved_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX category_suggestions_user_idx ON category_suggestions (user_id, created_at DESC);
CREATE INDEX category_suggestions_transaction_idx ON category_suggestions (transaction_id)
    WHERE transaction_id IS NOT NULL;
