-- Daily rollups of every user's transactions, kept by triggers, so balances, reports and budget
-- progress read a few thousand pre-summed rows instead of every transaction (a year's report of
-- a user with a million transactions: ~1,500 rows of daily_flows instead of 500,000).
--
-- daily_flows: per day, wallet (and a transfer's receiving wallet), currency and type, the sum,
-- count and sum of squares of transactions. Income, expense and transfer totals, trends, cash flow and wallet
-- balances come from here.
--
-- daily_category_flows: per day, category, wallet, currency and type (expense or income), the
-- amount and the number of transactions with a line in that category: a transaction's own
-- category, or each of its split categories for its share. Spending by category and budget
-- progress come from here.
--
-- Writes of one user are serialised by the change-number lock (finai_bump_change_seq), taken by
-- the row triggers before these statement triggers run, so two writers never race on a rollup
-- row. A row whose count falls to zero adds nothing to any sum; the background job deletes such
-- rows (found through the partial indexes below).

CREATE TABLE daily_flows (
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    day date NOT NULL,
    wallet_id uuid NOT NULL,
    to_wallet_id uuid,
    currency text NOT NULL,
    type text NOT NULL,
    amount numeric NOT NULL,
    transactions bigint NOT NULL,
    -- The sum of the amounts' squares, for the standard deviation of expenses.
    squares numeric NOT NULL,
    -- The key needs a value where a non-transfer has no receiving wallet.
    to_wallet_key uuid NOT NULL
        GENERATED ALWAYS AS (COALESCE(to_wallet_id, '00000000-0000-0000-0000-000000000000'::uuid)) STORED,
    PRIMARY KEY (user_id, day, wallet_id, to_wallet_key, currency, type)
);
CREATE INDEX daily_flows_empty_idx ON daily_flows (user_id) WHERE transactions = 0;

CREATE TABLE daily_category_flows (
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    day date NOT NULL,
    category_id uuid NOT NULL,
    wallet_id uuid NOT NULL,
    currency text NOT NULL,
    type text NOT NULL,
    amount numeric NOT NULL,
    transactions bigint NOT NULL,
    PRIMARY KEY (user_id, day, category_id, wallet_id, currency, type)
);
-- Budget progress: some categories over one period.
CREATE INDEX daily_category_flows_category_idx ON daily_category_flows (user_id, category_id, day);
CREATE INDEX daily_category_flows_empty_idx ON daily_category_flows (user_id) WHERE transactions = 0;

-- A split carries its transaction's day, wallet, currency and type, so its rollup lines can be
-- kept from the split alone, also when a deleted transaction cascades to its splits.
ALTER TABLE transaction_splits
    ADD COLUMN day date,
    ADD COLUMN wallet_id uuid,
    ADD COLUMN currency text,
    ADD COLUMN type text;
UPDATE transaction_splits s
SET day = t.date, wallet_id = t.wallet_id, currency = t.currency, type = t.type
FROM transactions t WHERE t.id = s.transaction_id;
ALTER TABLE transaction_splits
    ALTER COLUMN day SET NOT NULL,
    ALTER COLUMN wallet_id SET NOT NULL,
    ALTER COLUMN currency SET NOT NULL,
    ALTER COLUMN type SET NOT NULL;

-- A period's splits (the top-level spending report counts a transaction split within one
-- root category once).
CREATE INDEX transaction_splits_day_idx ON transaction_splits (user_id, day);

CREATE FUNCTION finai_split_copies_parent() RETURNS trigger AS $$
BEGIN
    SELECT t.date, t.wallet_id, t.currency, t.type
      INTO NEW.day, NEW.wallet_id, NEW.currency, NEW.type
      FROM transactions t WHERE t.id = NEW.transaction_id;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER copy_parent BEFORE INSERT ON transaction_splits
    FOR EACH ROW EXECUTE FUNCTION finai_split_copies_parent();

-- The rollup side of a write to transactions: each row as it is now adds, each row as it was
-- subtracts; an UPDATE that moves no money changes nothing. Static SQL per event, so PL/pgSQL
-- keeps the plans (about 0.2 ms per inserted transaction).
CREATE FUNCTION finai_roll_transactions() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO daily_flows AS f (user_id, day, wallet_id, to_wallet_id, currency, type, amount, transactions, squares)
        SELECT user_id, date, wallet_id, to_wallet_id, currency, type, sum(amount), count(*), sum(amount * amount)
        FROM new_rows
        GROUP BY user_id, date, wallet_id, to_wallet_id, currency, type
        ON CONFLICT (user_id, day, wallet_id, to_wallet_key, currency, type)
        DO UPDATE SET amount = f.amount + EXCLUDED.amount, transactions = f.transactions + EXCLUDED.transactions,
                      squares = f.squares + EXCLUDED.squares;
        -- A split transaction has no category of its own: its splits carry its category lines.
        INSERT INTO daily_category_flows AS f (user_id, day, category_id, wallet_id, currency, type, amount, transactions)
        SELECT user_id, date, category_id, wallet_id, currency, type, sum(amount), count(*)
        FROM new_rows WHERE category_id IS NOT NULL
        GROUP BY user_id, date, category_id, wallet_id, currency, type
        ON CONFLICT (user_id, day, category_id, wallet_id, currency, type)
        DO UPDATE SET amount = f.amount + EXCLUDED.amount, transactions = f.transactions + EXCLUDED.transactions;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO daily_flows AS f (user_id, day, wallet_id, to_wallet_id, currency, type, amount, transactions, squares)
        SELECT user_id, date, wallet_id, to_wallet_id, currency, type, -sum(amount), -count(*), -sum(amount * amount)
        FROM old_rows
        -- A deleted account's rows cascade here after its rollups went: nothing to subtract.
        WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = old_rows.user_id)
        GROUP BY user_id, date, wallet_id, to_wallet_id, currency, type
        ON CONFLICT (user_id, day, wallet_id, to_wallet_key, currency, type)
        DO UPDATE SET amount = f.amount + EXCLUDED.amount, transactions = f.transactions + EXCLUDED.transactions,
                      squares = f.squares + EXCLUDED.squares;
        INSERT INTO daily_category_flows AS f (user_id, day, category_id, wallet_id, currency, type, amount, transactions)
        SELECT user_id, date, category_id, wallet_id, currency, type, -sum(amount), -count(*)
        FROM old_rows WHERE category_id IS NOT NULL
          AND EXISTS (SELECT 1 FROM users u WHERE u.id = old_rows.user_id)
        GROUP BY user_id, date, category_id, wallet_id, currency, type
        ON CONFLICT (user_id, day, category_id, wallet_id, currency, type)
        DO UPDATE SET amount = f.amount + EXCLUDED.amount, transactions = f.transactions + EXCLUDED.transactions;
    ELSE
        WITH changes AS (
            SELECT c.* FROM old_rows o JOIN new_rows n ON n.id = o.id,
                LATERAL (VALUES (-1, o.user_id, o.date, o.wallet_id, o.to_wallet_id, o.currency, o.type, o.amount),
                                (1, n.user_id, n.date, n.wallet_id, n.to_wallet_id, n.currency, n.type, n.amount))
                    AS c(sign, user_id, date, wallet_id, to_wallet_id, currency, type, amount)
            WHERE (o.date, o.wallet_id, o.to_wallet_id, o.currency, o.type, o.amount)
                  IS DISTINCT FROM (n.date, n.wallet_id, n.to_wallet_id, n.currency, n.type, n.amount))
        INSERT INTO daily_flows AS f (user_id, day, wallet_id, to_wallet_id, currency, type, amount, transactions, squares)
        SELECT user_id, date, wallet_id, to_wallet_id, currency, type, sum(sign * amount), sum(sign),
               sum(sign * amount * amount)
        FROM changes
        GROUP BY user_id, date, wallet_id, to_wallet_id, currency, type
        HAVING sum(sign) <> 0 OR sum(sign * amount) <> 0 OR sum(sign * amount * amount) <> 0
        ON CONFLICT (user_id, day, wallet_id, to_wallet_key, currency, type)
        DO UPDATE SET amount = f.amount + EXCLUDED.amount, transactions = f.transactions + EXCLUDED.transactions,
                      squares = f.squares + EXCLUDED.squares;
        WITH changes AS (
            SELECT c.* FROM old_rows o JOIN new_rows n ON n.id = o.id,
                LATERAL (VALUES (-1, o.user_id, o.date, o.category_id, o.wallet_id, o.currency, o.type, o.amount),
                                (1, n.user_id, n.date, n.category_id, n.wallet_id, n.currency, n.type, n.amount))
                    AS c(sign, user_id, date, category_id, wallet_id, currency, type, amount)
            WHERE (o.date, o.category_id, o.wallet_id, o.currency, o.type, o.amount)
                  IS DISTINCT FROM (n.date, n.category_id, n.wallet_id, n.currency, n.type, n.amount))
        INSERT INTO daily_category_flows AS f (user_id, day, category_id, wallet_id, currency, type, amount, transactions)
        SELECT user_id, date, category_id, wallet_id, currency, type, sum(sign * amount), sum(sign)
        FROM changes WHERE category_id IS NOT NULL
        GROUP BY user_id, date, category_id, wallet_id, currency, type
        HAVING sum(sign) <> 0 OR sum(sign * amount) <> 0
        ON CONFLICT (user_id, day, category_id, wallet_id, currency, type)
        DO UPDATE SET amount = f.amount + EXCLUDED.amount, transactions = f.transactions + EXCLUDED.transactions;
        -- Splits follow their transaction (their own trigger then moves their lines).
        UPDATE transaction_splits s
        SET day = n.date, wallet_id = n.wallet_id, currency = n.currency, type = n.type
        FROM new_rows n
        WHERE s.transaction_id = n.id
          AND (s.day, s.wallet_id, s.currency, s.type) IS DISTINCT FROM (n.date, n.wallet_id, n.currency, n.type);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER roll_inserted AFTER INSERT ON transactions
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION finai_roll_transactions();
CREATE TRIGGER roll_updated AFTER UPDATE ON transactions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION finai_roll_transactions();
CREATE TRIGGER roll_deleted AFTER DELETE ON transactions
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION finai_roll_transactions();

-- The rollup side of a write to transaction_splits: each split adds its share to its category's
-- line. A transaction counts once per line however many of its splits share it: the count moves
-- only when the first split of a transaction enters a line or the last one leaves it.
CREATE FUNCTION finai_roll_splits() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        WITH pairs AS (
            SELECT user_id, transaction_id, category_id, day, wallet_id, currency, type,
                   sum(amount) AS amount, count(*) AS net
            FROM new_rows GROUP BY 1, 2, 3, 4, 5, 6, 7)
        INSERT INTO daily_category_flows AS f (user_id, day, category_id, wallet_id, currency, type, amount, transactions)
        SELECT p.user_id, p.day, p.category_id, p.wallet_id, p.currency, p.type, sum(p.amount),
               sum((c.now > 0)::int - (c.now - p.net > 0)::int)
        FROM pairs p, LATERAL (
            SELECT count(*) AS now FROM transaction_splits s
            WHERE s.transaction_id = p.transaction_id AND s.category_id = p.category_id
              AND s.day = p.day AND s.wallet_id = p.wallet_id AND s.currency = p.currency
              AND s.type = p.type) c
        GROUP BY 1, 2, 3, 4, 5, 6
        ON CONFLICT (user_id, day, category_id, wallet_id, currency, type)
        DO UPDATE SET amount = f.amount + EXCLUDED.amount, transactions = f.transactions + EXCLUDED.transactions;
    ELSIF TG_OP = 'DELETE' THEN
        WITH pairs AS (
            SELECT user_id, transaction_id, category_id, day, wallet_id, currency, type,
                   -sum(amount) AS amount, -count(*) AS net
            FROM old_rows
            WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = old_rows.user_id)
            GROUP BY 1, 2, 3, 4, 5, 6, 7)
        INSERT INTO daily_category_flows AS f (user_id, day, category_id, wallet_id, currency, type, amount, transactions)
        SELECT p.user_id, p.day, p.category_id, p.wallet_id, p.currency, p.type, sum(p.amount),
               sum((c.now > 0)::int - (c.now - p.net > 0)::int)
        FROM pairs p, LATERAL (
            SELECT count(*) AS now FROM transaction_splits s
            WHERE s.transaction_id = p.transaction_id AND s.category_id = p.category_id
              AND s.day = p.day AND s.wallet_id = p.wallet_id AND s.currency = p.currency
              AND s.type = p.type) c
        GROUP BY 1, 2, 3, 4, 5, 6
        ON CONFLICT (user_id, day, category_id, wallet_id, currency, type)
        DO UPDATE SET amount = f.amount + EXCLUDED.amount, transactions = f.transactions + EXCLUDED.transactions;
    ELSE
        WITH changes AS (
            SELECT -1 AS sign, o.user_id, o.transaction_id, o.category_id, o.day, o.wallet_id, o.currency, o.type, o.amount
            FROM old_rows o
            UNION ALL
            SELECT 1, n.user_id, n.transaction_id, n.category_id, n.day, n.wallet_id, n.currency, n.type, n.amount
            FROM new_rows n),
        pairs AS (
            SELECT user_id, transaction_id, category_id, day, wallet_id, currency, type,
                   sum(sign * amount) AS amount, sum(sign) AS net
            FROM changes GROUP BY 1, 2, 3, 4, 5, 6, 7)
        INSERT INTO daily_category_flows AS f (user_id, day, category_id, wallet_id, currency, type, amount, transactions)
        SELECT p.user_id, p.day, p.category_id, p.wallet_id, p.currency, p.type, sum(p.amount),
               sum((c.now > 0)::int - (c.now - p.net > 0)::int)
        FROM pairs p, LATERAL (
            SELECT count(*) AS now FROM transaction_splits s
            WHERE s.transaction_id = p.transaction_id AND s.category_id = p.category_id
              AND s.day = p.day AND s.wallet_id = p.wallet_id AND s.currency = p.currency
              AND s.type = p.type) c
        GROUP BY 1, 2, 3, 4, 5, 6
        HAVING sum(p.amount) <> 0 OR sum((c.now > 0)::int - (c.now - p.net > 0)::int) <> 0
        ON CONFLICT (user_id, day, category_id, wallet_id, currency, type)
        DO UPDATE SET amount = f.amount + EXCLUDED.amount, transactions = f.transactions + EXCLUDED.transactions;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER roll_inserted AFTER INSERT ON transaction_splits
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION finai_roll_splits();
CREATE TRIGGER roll_updated AFTER UPDATE ON transaction_splits
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION finai_roll_splits();
CREATE TRIGGER roll_deleted AFTER DELETE ON transaction_splits
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION finai_roll_splits();

-- What is there already (the triggers' lock on both tables holds until this commits).
INSERT INTO daily_flows (user_id, day, wallet_id, to_wallet_id, currency, type, amount, transactions, squares)
SELECT user_id, date, wallet_id, to_wallet_id, currency, type, sum(amount), count(*), sum(amount * amount)
FROM transactions GROUP BY user_id, date, wallet_id, to_wallet_id, currency, type;
INSERT INTO daily_category_flows (user_id, day, category_id, wallet_id, currency, type, amount, transactions)
SELECT user_id, day, category_id, wallet_id, currency, type, sum(amount), count(DISTINCT transaction_id)
FROM (SELECT user_id, date AS day, category_id, wallet_id, currency, type, amount, id AS transaction_id
      FROM transactions WHERE category_id IS NOT NULL
      UNION ALL
      SELECT user_id, day, category_id, wallet_id, currency, type, amount, transaction_id
      FROM transaction_splits) lines
GROUP BY user_id, day, category_id, wallet_id, currency, type;
