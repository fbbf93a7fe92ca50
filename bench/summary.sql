-- GET /reports/summary for a year: the handler's three statements (src/db/reports.rs: totals
-- for the period, totals for the period before it, spending by leaf category).
WITH tx AS (
    SELECT t.* FROM transactions t
    WHERE t.user_id = :uid AND t.currency = 'USD' AND t.date BETWEEN :from AND :to
      AND (NULL::uuid IS NULL OR t.wallet_id = NULL::uuid OR t.to_wallet_id = NULL::uuid)),
lines AS (
    SELECT t.id AS transaction_id, t.category_id, t.amount, t.date FROM tx t
    WHERE t.type = 'expense' AND t.category_id IS NOT NULL
    UNION ALL
    SELECT s.transaction_id, s.category_id, s.amount, t.date
    FROM transaction_splits s JOIN tx t ON t.id = s.transaction_id WHERE t.type = 'expense'),
largest AS (SELECT id, amount, description, date FROM tx WHERE type = 'expense'
            ORDER BY amount DESC, date DESC, id LIMIT 1)
SELECT COALESCE(sum(amount) FILTER (WHERE type = 'income'), 0) AS income,
       COALESCE(sum(amount) FILTER (WHERE type = 'expense'), 0) AS expense,
       COALESCE(sum(amount) FILTER (WHERE type = 'transfer'), 0) AS transfer_volume,
       count(*) AS transaction_count,
       (SELECT id FROM largest) AS largest_id, (SELECT amount FROM largest) AS largest_amount,
       (SELECT description FROM largest) AS largest_description,
       (SELECT date FROM largest) AS largest_date
FROM tx;
WITH tx AS (
    SELECT t.* FROM transactions t
    WHERE t.user_id = :uid AND t.currency = 'USD' AND t.date BETWEEN :pfrom AND :pto
      AND (NULL::uuid IS NULL OR t.wallet_id = NULL::uuid OR t.to_wallet_id = NULL::uuid)),
lines AS (
    SELECT t.id AS transaction_id, t.category_id, t.amount, t.date FROM tx t
    WHERE t.type = 'expense' AND t.category_id IS NOT NULL
    UNION ALL
    SELECT s.transaction_id, s.category_id, s.amount, t.date
    FROM transaction_splits s JOIN tx t ON t.id = s.transaction_id WHERE t.type = 'expense'),
largest AS (SELECT id, amount, description, date FROM tx WHERE type = 'expense'
            ORDER BY amount DESC, date DESC, id LIMIT 1)
SELECT COALESCE(sum(amount) FILTER (WHERE type = 'income'), 0) AS income,
       COALESCE(sum(amount) FILTER (WHERE type = 'expense'), 0) AS expense,
       COALESCE(sum(amount) FILTER (WHERE type = 'transfer'), 0) AS transfer_volume,
       count(*) AS transaction_count,
       (SELECT id FROM largest) AS largest_id, (SELECT amount FROM largest) AS largest_amount,
       (SELECT description FROM largest) AS largest_description,
       (SELECT date FROM largest) AS largest_date
FROM tx;
WITH RECURSIVE roots(id, root_id) AS (
    SELECT id, id FROM categories WHERE user_id = :uid AND parent_id IS NULL
    UNION ALL
    SELECT c.id, roots.root_id FROM categories c JOIN roots ON c.parent_id = roots.id
    WHERE c.user_id = :uid),
tx AS (
    SELECT t.* FROM transactions t
    WHERE t.user_id = :uid AND t.currency = 'USD' AND t.date BETWEEN :from AND :to
      AND (NULL::uuid IS NULL OR t.wallet_id = NULL::uuid OR t.to_wallet_id = NULL::uuid)),
lines AS (
    SELECT t.id AS transaction_id, t.category_id, t.amount, t.date FROM tx t
    WHERE t.type = 'expense' AND t.category_id IS NOT NULL
    UNION ALL
    SELECT s.transaction_id, s.category_id, s.amount, t.date
    FROM transaction_splits s JOIN tx t ON t.id = s.transaction_id WHERE t.type = 'expense')
SELECT l.category_id AS category_id, c.name, sum(l.amount) AS amount,
       count(DISTINCT l.transaction_id) AS transaction_count
FROM lines l JOIN roots r ON r.id = l.category_id JOIN categories c ON c.id = l.category_id
GROUP BY l.category_id, c.name ORDER BY amount DESC, c.name, l.category_id;
