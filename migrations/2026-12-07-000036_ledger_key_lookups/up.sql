-- Lookups by the ledger key, and plans kept rather than made on every write.
--
-- Migration 000033 made `(ledger_id, id)` the key of every ledger-owned table, but five trigger
-- statements still found rows by `id` (or `transaction_id`) alone, which no index serves any
-- more: each scanned the whole table, every ledger's rows, on every write that reached it (a
-- split's insert read all transactions; a write's wallet touch and balance read all wallets).
-- They now name the ledger too.
--
-- The balance statement of the events trigger and the budget spending of a write were planned
-- on every call (PostgreSQL judged their generic plans dearer, by the row estimate of an array,
-- and kept planning them for their values: 0.23 ms and 0.33 ms of planning against 0.2 ms and
-- 0.1 ms of running, in pg_stat_statements under bench/run.sh's 64 writers). Both are given
-- their generic plan: the same index paths, planned once per connection.

CREATE OR REPLACE FUNCTION finai_split_copies_parent() RETURNS trigger AS $$
BEGIN
    SELECT t.date, t.wallet_id, t.currency, t.type
      INTO NEW.day, NEW.wallet_id, NEW.currency, NEW.type
      FROM transactions t WHERE t.ledger_id = NEW.ledger_id AND t.id = NEW.transaction_id;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION finai_touch_wallets() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE wallets SET change_seq = change_seq
        WHERE (ledger_id, id) IN (SELECT ledger_id, wallet_id FROM new_rows
                                  UNION SELECT ledger_id, to_wallet_id FROM new_rows);
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE wallets SET change_seq = change_seq
        WHERE (ledger_id, id) IN (SELECT ledger_id, wallet_id FROM old_rows
                                  UNION SELECT ledger_id, to_wallet_id FROM old_rows);
    ELSE
        UPDATE wallets SET change_seq = change_seq
        WHERE (ledger_id, id) IN (
            SELECT n.ledger_id, w FROM old_rows o JOIN new_rows n ON n.id = o.id,
                LATERAL (VALUES (o.wallet_id), (o.to_wallet_id), (n.wallet_id), (n.to_wallet_id)) v(w)
            WHERE (o.wallet_id, o.to_wallet_id, o.type, o.amount)
                  IS DISTINCT FROM (n.wallet_id, n.to_wallet_id, n.type, n.amount));
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION finai_transaction_events() RETURNS trigger AS $$
DECLARE
    -- The wallets whose money moved: ledger and wallet, pairwise.
    moved_ledgers uuid[];
    moved_wallets uuid[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        -- An import announces its rows with one import_finished event (services::imports),
        -- not one transaction_update per row: it sets finai.quiet_inserts for its inserts.
        IF coalesce(current_setting('finai.quiet_inserts', true), '') <> 'on' THEN
            INSERT INTO events (ledger_id, type, resource_id, payload)
            SELECT n.ledger_id, 'transaction_update', n.id,
                   jsonb_build_object(
                       'action', 'created', 'id', n.id, 'type', n.type, 'amount', n.amount,
                       'currency', n.currency, 'date', n.date, 'description', n.description,
                       'merchant', n.merchant, 'category_id', n.category_id,
                       'wallet_id', n.wallet_id, 'to_wallet_id', n.to_wallet_id,
                       'change_seq', n.change_seq)
            FROM new_rows n ORDER BY n.change_seq;
        END IF;
        SELECT array_agg(m.ledger_id), array_agg(m.w) INTO moved_ledgers, moved_wallets
        FROM (SELECT DISTINCT ledger_id, v.w
              FROM new_rows, LATERAL (VALUES (wallet_id), (to_wallet_id)) v(w)
              WHERE v.w IS NOT NULL) m;
    ELSIF TG_OP = 'DELETE' THEN
        -- A deleted account's rows cascade here: nothing to say (and its wallets are gone).
        INSERT INTO events (ledger_id, type, resource_id, payload)
        SELECT o.ledger_id, 'transaction_update', o.id,
               jsonb_build_object('action', 'deleted', 'id', o.id, 'type', o.type,
                                  'wallet_id', o.wallet_id, 'to_wallet_id', o.to_wallet_id)
        FROM old_rows o WHERE EXISTS (SELECT 1 FROM ledgers u WHERE u.id = o.ledger_id);
        SELECT array_agg(m.ledger_id), array_agg(m.w) INTO moved_ledgers, moved_wallets
        FROM (SELECT DISTINCT ledger_id, v.w
              FROM old_rows, LATERAL (VALUES (wallet_id), (to_wallet_id)) v(w)
              WHERE v.w IS NOT NULL) m;
    ELSE
        INSERT INTO events (ledger_id, type, resource_id, payload)
        SELECT n.ledger_id, 'transaction_update', n.id,
               jsonb_build_object(
                   'action', 'updated', 'id', n.id, 'type', n.type, 'amount', n.amount,
                   'currency', n.currency, 'date', n.date, 'description', n.description,
                   'merchant', n.merchant, 'category_id', n.category_id,
                   'wallet_id', n.wallet_id, 'to_wallet_id', n.to_wallet_id,
                   'change_seq', n.change_seq)
        FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE o IS DISTINCT FROM n
        ORDER BY n.change_seq;
        SELECT array_agg(m.ledger_id), array_agg(m.w) INTO moved_ledgers, moved_wallets
        FROM (SELECT DISTINCT n.ledger_id, v.w
              FROM old_rows o JOIN new_rows n ON n.id = o.id,
                  LATERAL (VALUES (o.wallet_id), (o.to_wallet_id), (n.wallet_id), (n.to_wallet_id)) v(w)
              WHERE v.w IS NOT NULL
                AND (o.wallet_id, o.to_wallet_id, o.type, o.amount)
                    IS DISTINCT FROM (n.wallet_id, n.to_wallet_id, n.type, n.amount)) m;
    END IF;
    -- The wallets whose money moved, with their balance after the write.
    INSERT INTO events (ledger_id, type, resource_id, payload)
    SELECT w.ledger_id, 'balance_update', w.id,
           jsonb_build_object('wallet_id', w.id, 'balance',
               w.opening_balance
               + COALESCE((SELECT sum(CASE WHEN f.type = 'income' THEN f.amount ELSE -f.amount END)
                           FROM daily_flows f WHERE f.ledger_id = w.ledger_id AND f.wallet_id = w.id), 0)
               + COALESCE((SELECT sum(f.amount) FROM daily_flows f
                           WHERE f.ledger_id = w.ledger_id AND f.to_wallet_id = w.id), 0))
    FROM unnest(moved_ledgers, moved_wallets) m(ledger_id, id)
    JOIN wallets w ON w.ledger_id = m.ledger_id AND w.id = m.id;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan;

-- Splits' rollups count a transaction's lines of one category and day: by the ledger key.
CREATE OR REPLACE FUNCTION finai_roll_splits() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        WITH pairs AS (
            SELECT ledger_id, transaction_id, category_id, day, wallet_id, currency, type,
                   sum(amount) AS amount, count(*) AS net
            FROM new_rows GROUP BY 1, 2, 3, 4, 5, 6, 7)
        INSERT INTO daily_category_flows AS f (ledger_id, day, category_id, wallet_id, currency, type, amount, transactions)
        SELECT p.ledger_id, p.day, p.category_id, p.wallet_id, p.currency, p.type, sum(p.amount),
               sum((c.now > 0)::int - (c.now - p.net > 0)::int)
        FROM pairs p, LATERAL (
            SELECT count(*) AS now FROM transaction_splits s
            WHERE s.ledger_id = p.ledger_id AND s.transaction_id = p.transaction_id
              AND s.category_id = p.category_id
              AND s.day = p.day AND s.wallet_id = p.wallet_id AND s.currency = p.currency
              AND s.type = p.type) c
        GROUP BY 1, 2, 3, 4, 5, 6
        ON CONFLICT (ledger_id, day, category_id, wallet_id, currency, type)
        DO UPDATE SET amount = f.amount + EXCLUDED.amount, transactions = f.transactions + EXCLUDED.transactions;
    ELSIF TG_OP = 'DELETE' THEN
        WITH pairs AS (
            SELECT ledger_id, transaction_id, category_id, day, wallet_id, currency, type,
                   -sum(amount) AS amount, -count(*) AS net
            FROM old_rows
            WHERE EXISTS (SELECT 1 FROM ledgers u WHERE u.id = old_rows.ledger_id)
            GROUP BY 1, 2, 3, 4, 5, 6, 7)
        INSERT INTO daily_category_flows AS f (ledger_id, day, category_id, wallet_id, currency, type, amount, transactions)
        SELECT p.ledger_id, p.day, p.category_id, p.wallet_id, p.currency, p.type, sum(p.amount),
               sum((c.now > 0)::int - (c.now - p.net > 0)::int)
        FROM pairs p, LATERAL (
            SELECT count(*) AS now FROM transaction_splits s
            WHERE s.ledger_id = p.ledger_id AND s.transaction_id = p.transaction_id
              AND s.category_id = p.category_id
              AND s.day = p.day AND s.wallet_id = p.wallet_id AND s.currency = p.currency
              AND s.type = p.type) c
        GROUP BY 1, 2, 3, 4, 5, 6
        ON CONFLICT (ledger_id, day, category_id, wallet_id, currency, type)
        DO UPDATE SET amount = f.amount + EXCLUDED.amount, transactions = f.transactions + EXCLUDED.transactions;
    ELSE
        WITH changes AS (
            SELECT -1 AS sign, o.ledger_id, o.transaction_id, o.category_id, o.day, o.wallet_id, o.currency, o.type, o.amount
            FROM old_rows o
            UNION ALL
            SELECT 1, n.ledger_id, n.transaction_id, n.category_id, n.day, n.wallet_id, n.currency, n.type, n.amount
            FROM new_rows n),
        pairs AS (
            SELECT ledger_id, transaction_id, category_id, day, wallet_id, currency, type,
                   sum(sign * amount) AS amount, sum(sign) AS net
            FROM changes GROUP BY 1, 2, 3, 4, 5, 6, 7)
        INSERT INTO daily_category_flows AS f (ledger_id, day, category_id, wallet_id, currency, type, amount, transactions)
        SELECT p.ledger_id, p.day, p.category_id, p.wallet_id, p.currency, p.type, sum(p.amount),
               sum((c.now > 0)::int - (c.now - p.net > 0)::int)
        FROM pairs p, LATERAL (
            SELECT count(*) AS now FROM transaction_splits s
            WHERE s.ledger_id = p.ledger_id AND s.transaction_id = p.transaction_id
              AND s.category_id = p.category_id
              AND s.day = p.day AND s.wallet_id = p.wallet_id AND s.currency = p.currency
              AND s.type = p.type) c
        GROUP BY 1, 2, 3, 4, 5, 6
        HAVING sum(p.amount) <> 0 OR sum((c.now > 0)::int - (c.now - p.net > 0)::int) <> 0
        ON CONFLICT (ledger_id, day, category_id, wallet_id, currency, type)
        DO UPDATE SET amount = f.amount + EXCLUDED.amount, transactions = f.transactions + EXCLUDED.transactions;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

-- A transaction's splits follow it by the ledger key.
CREATE OR REPLACE FUNCTION finai_roll_transactions() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO daily_flows AS f (ledger_id, day, wallet_id, to_wallet_id, currency, type, amount, transactions, squares)
        SELECT ledger_id, date, wallet_id, to_wallet_id, currency, type, sum(amount), count(*), sum(amount * amount)
        FROM new_rows
        GROUP BY ledger_id, date, wallet_id, to_wallet_id, currency, type
        ON CONFLICT (ledger_id, day, wallet_id, to_wallet_key, currency, type)
        DO UPDATE SET amount = f.amount + EXCLUDED.amount, transactions = f.transactions + EXCLUDED.transactions,
                      squares = f.squares + EXCLUDED.squares;
        -- A split transaction has no category of its own: its splits carry its category lines.
        INSERT INTO daily_category_flows AS f (ledger_id, day, category_id, wallet_id, currency, type, amount, transactions)
        SELECT ledger_id, date, category_id, wallet_id, currency, type, sum(amount), count(*)
        FROM new_rows WHERE category_id IS NOT NULL
        GROUP BY ledger_id, date, category_id, wallet_id, currency, type
        ON CONFLICT (ledger_id, day, category_id, wallet_id, currency, type)
        DO UPDATE SET amount = f.amount + EXCLUDED.amount, transactions = f.transactions + EXCLUDED.transactions;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO daily_flows AS f (ledger_id, day, wallet_id, to_wallet_id, currency, type, amount, transactions, squares)
        SELECT ledger_id, date, wallet_id, to_wallet_id, currency, type, -sum(amount), -count(*), -sum(amount * amount)
        FROM old_rows
        -- A deleted account's rows cascade here after its rollups went: nothing to subtract.
        WHERE EXISTS (SELECT 1 FROM ledgers u WHERE u.id = old_rows.ledger_id)
        GROUP BY ledger_id, date, wallet_id, to_wallet_id, currency, type
        ON CONFLICT (ledger_id, day, wallet_id, to_wallet_key, currency, type)
        DO UPDATE SET amount = f.amount + EXCLUDED.amount, transactions = f.transactions + EXCLUDED.transactions,
                      squares = f.squares + EXCLUDED.squares;
        INSERT INTO daily_category_flows AS f (ledger_id, day, category_id, wallet_id, currency, type, amount, transactions)
        SELECT ledger_id, date, category_id, wallet_id, currency, type, -sum(amount), -count(*)
        FROM old_rows WHERE category_id IS NOT NULL
          AND EXISTS (SELECT 1 FROM ledgers u WHERE u.id = old_rows.ledger_id)
        GROUP BY ledger_id, date, category_id, wallet_id, currency, type
        ON CONFLICT (ledger_id, day, category_id, wallet_id, currency, type)
        DO UPDATE SET amount = f.amount + EXCLUDED.amount, transactions = f.transactions + EXCLUDED.transactions;
    ELSE
        WITH changes AS (
            SELECT c.* FROM old_rows o JOIN new_rows n ON n.id = o.id,
                LATERAL (VALUES (-1, o.ledger_id, o.date, o.wallet_id, o.to_wallet_id, o.currency, o.type, o.amount),
                                (1, n.ledger_id, n.date, n.wallet_id, n.to_wallet_id, n.currency, n.type, n.amount))
                    AS c(sign, ledger_id, date, wallet_id, to_wallet_id, currency, type, amount)
            WHERE (o.date, o.wallet_id, o.to_wallet_id, o.currency, o.type, o.amount)
                  IS DISTINCT FROM (n.date, n.wallet_id, n.to_wallet_id, n.currency, n.type, n.amount))
        INSERT INTO daily_flows AS f (ledger_id, day, wallet_id, to_wallet_id, currency, type, amount, transactions, squares)
        SELECT ledger_id, date, wallet_id, to_wallet_id, currency, type, sum(sign * amount), sum(sign),
               sum(sign * amount * amount)
        FROM changes
        GROUP BY ledger_id, date, wallet_id, to_wallet_id, currency, type
        HAVING sum(sign) <> 0 OR sum(sign * amount) <> 0 OR sum(sign * amount * amount) <> 0
        ON CONFLICT (ledger_id, day, wallet_id, to_wallet_key, currency, type)
        DO UPDATE SET amount = f.amount + EXCLUDED.amount, transactions = f.transactions + EXCLUDED.transactions,
                      squares = f.squares + EXCLUDED.squares;
        WITH changes AS (
            SELECT c.* FROM old_rows o JOIN new_rows n ON n.id = o.id,
                LATERAL (VALUES (-1, o.ledger_id, o.date, o.category_id, o.wallet_id, o.currency, o.type, o.amount),
                                (1, n.ledger_id, n.date, n.category_id, n.wallet_id, n.currency, n.type, n.amount))
                    AS c(sign, ledger_id, date, category_id, wallet_id, currency, type, amount)
            WHERE (o.date, o.category_id, o.wallet_id, o.currency, o.type, o.amount)
                  IS DISTINCT FROM (n.date, n.category_id, n.wallet_id, n.currency, n.type, n.amount))
        INSERT INTO daily_category_flows AS f (ledger_id, day, category_id, wallet_id, currency, type, amount, transactions)
        SELECT ledger_id, date, category_id, wallet_id, currency, type, sum(sign * amount), sum(sign)
        FROM changes WHERE category_id IS NOT NULL
        GROUP BY ledger_id, date, category_id, wallet_id, currency, type
        HAVING sum(sign) <> 0 OR sum(sign * amount) <> 0
        ON CONFLICT (ledger_id, day, category_id, wallet_id, currency, type)
        DO UPDATE SET amount = f.amount + EXCLUDED.amount, transactions = f.transactions + EXCLUDED.transactions;
        -- Splits follow their transaction (their own trigger then moves their lines).
        UPDATE transaction_splits s
        SET day = n.date, wallet_id = n.wallet_id, currency = n.currency, type = n.type
        FROM new_rows n
        WHERE s.ledger_id = n.ledger_id AND s.transaction_id = n.id
          AND (s.day, s.wallet_id, s.currency, s.type) IS DISTINCT FROM (n.date, n.wallet_id, n.currency, n.type);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

-- The spending of budget periods (src/db/budgets.rs, `spending`): expenses in each budget's
-- categories and their descendants, in its currency, between its dates, from the daily rollup of
-- category lines. A function so that its plan is the generic one, made once per connection.
CREATE FUNCTION finai_budget_spending(_ledger uuid, _keys bigint[], _budgets uuid[],
                                      _starts date[], _ends date[], _currencies text[])
RETURNS TABLE (key bigint, spent numeric) AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH RECURSIVE tree(budget_id, category_id) AS (
        SELECT bc.budget_id, bc.category_id FROM budget_categories bc
        WHERE bc.ledger_id = _ledger AND bc.budget_id = ANY(_budgets)
        UNION
        SELECT tree.budget_id, c.id FROM categories c JOIN tree ON c.parent_id = tree.category_id
        WHERE c.ledger_id = _ledger),
    spans(key, budget_id, start_date, end_date, currency) AS (
        SELECT * FROM unnest(_keys, _budgets, _starts, _ends, _currencies))
    SELECT s.key, COALESCE(sum(x.amount), 0)::numeric
    FROM spans s
    JOIN tree ON tree.budget_id = s.budget_id
    CROSS JOIN LATERAL (
        SELECT sum(f.amount) AS amount FROM daily_category_flows f
        WHERE f.ledger_id = _ledger AND f.category_id = tree.category_id
          AND f.day BETWEEN s.start_date AND s.end_date
          AND f.type = 'expense' AND f.currency = s.currency) x
    GROUP BY s.key;
END;
$$ LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan;

-- An expense by hand looks for the imported movement it may repeat (same wallet, type, amount,
-- within 3 days): among imported rows only, rather than every row of the wallet in the week.
CREATE INDEX transactions_imported_idx ON transactions (ledger_id, wallet_id, amount, date)
    WHERE import_batch_id IS NOT NULL OR import_hash IS NOT NULL;
