-- Access paths measured with bench/run.sh on a user with a million transactions.

-- Every transaction index starts with user_id (the sharding key): the wallet indexes did not,
-- so a wallet's balance or a wallet filter could not be narrowed to the user first.
DROP INDEX transactions_wallet_idx;
DROP INDEX transactions_to_wallet_idx;
CREATE INDEX transactions_user_wallet_idx ON transactions (user_id, wallet_id, date);
CREATE INDEX transactions_user_to_wallet_idx ON transactions (user_id, to_wallet_id, date)
    WHERE to_wallet_id IS NOT NULL;
-- `updated_since` (list filter and CSV export).
CREATE INDEX transactions_user_updated_idx ON transactions (user_id, updated_at);

-- How many transactions each user has, per type, kept by statement triggers, so the first page
-- of an unfiltered (or type-only, as `/expenses`) list reads its true `total_items` from one row
-- instead of counting every row the user has. Writes of one user are already serialised by the
-- change-number lock (finai_bump_change_seq), taken before these triggers run, so the counter
-- row adds no new waiting or deadlock.
CREATE TABLE transaction_counts (
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    type text NOT NULL,
    n bigint NOT NULL,
    PRIMARY KEY (user_id, type)
);

CREATE FUNCTION finai_count_transactions() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO transaction_counts (user_id, type, n)
        SELECT user_id, type, count(*) FROM new_rows GROUP BY user_id, type
        ON CONFLICT (user_id, type) DO UPDATE SET n = transaction_counts.n + EXCLUDED.n;
    ELSIF TG_OP = 'DELETE' THEN
        -- An UPDATE, never an insert: when the user itself is being deleted its counter rows
        -- are going too.
        UPDATE transaction_counts c SET n = c.n - o.n
        FROM (SELECT user_id, type, count(*) AS n FROM old_rows GROUP BY user_id, type) o
        WHERE c.user_id = o.user_id AND c.type = o.type;
    ELSE
        WITH delta AS (
            SELECT user_id, type, sum(d) AS d
            FROM (SELECT user_id, type, 1 AS d FROM new_rows
                  UNION ALL SELECT user_id, type, -1 FROM old_rows) x
            GROUP BY user_id, type HAVING sum(d) <> 0)
        INSERT INTO transaction_counts (user_id, type, n)
        SELECT user_id, type, d FROM delta
        ON CONFLICT (user_id, type) DO UPDATE SET n = transaction_counts.n + EXCLUDED.n;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

-- Transition tables need one trigger per event.
CREATE TRIGGER count_inserted AFTER INSERT ON transactions
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION finai_count_transactions();
CREATE TRIGGER count_updated AFTER UPDATE ON transactions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION finai_count_transactions();
CREATE TRIGGER count_deleted AFTER DELETE ON transactions
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION finai_count_transactions();

-- The triggers' lock on transactions is held until this migration commits, so no write slips
-- between them and this count.
INSERT INTO transaction_counts (user_id, type, n)
SELECT user_id, type, count(*) FROM transactions GROUP BY user_id, type;
