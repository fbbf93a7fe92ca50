-- GET /reports/summary for a year: the handler's three statements (src/db/reports.rs: totals of
-- the year and the year before from the daily rollup, the largest expense, spending by leaf
-- category from the daily category rollup).
WITH f AS (
    SELECT f.day >= :from AS now, f.type, f.amount, f.transactions FROM daily_flows f
    WHERE f.ledger_id = :uid AND f.currency = 'USD' AND f.day BETWEEN :pfrom AND :to
      AND (NULL::uuid IS NULL OR f.wallet_id = NULL OR f.to_wallet_id = NULL))
SELECT COALESCE(sum(amount) FILTER (WHERE now AND type = 'income'), 0) AS income,
       COALESCE(sum(amount) FILTER (WHERE now AND type = 'expense'), 0) AS expense,
       COALESCE(sum(amount) FILTER (WHERE now AND type = 'transfer'), 0) AS transfer_volume,
       COALESCE(sum(transactions) FILTER (WHERE now), 0)::bigint AS transaction_count,
       COALESCE(sum(transactions) FILTER (WHERE now AND type = 'expense'), 0)::bigint AS expense_count,
       COALESCE(sum(amount) FILTER (WHERE NOT now AND type = 'income'), 0) AS before_income,
       COALESCE(sum(amount) FILTER (WHERE NOT now AND type = 'expense'), 0) AS before_expense,
       COALESCE(sum(amount) FILTER (WHERE NOT now AND type = 'transfer'), 0) AS before_transfer_volume,
       COALESCE(sum(transactions) FILTER (WHERE NOT now), 0)::bigint AS before_transaction_count,
       COALESCE(sum(transactions) FILTER (WHERE NOT now AND type = 'expense'), 0)::bigint AS before_expense_count
FROM f;
SELECT t.id, t.amount, t.description, t.date FROM transactions t
WHERE t.ledger_id = :uid AND t.type = 'expense' AND t.currency = 'USD'
  AND t.date BETWEEN :from AND :to AND (NULL::uuid IS NULL OR t.wallet_id = NULL)
ORDER BY t.amount DESC, t.date DESC, t.id LIMIT 1;
WITH RECURSIVE roots(id, root_id) AS (
    SELECT id, id FROM categories WHERE ledger_id = :uid AND parent_id IS NULL
    UNION ALL
    SELECT c.id, roots.root_id FROM categories c JOIN roots ON c.parent_id = roots.id
    WHERE c.ledger_id = :uid),
lines AS (
    SELECT l.day, l.category_id, l.amount, l.transactions FROM daily_category_flows l
    WHERE l.ledger_id = :uid AND l.currency = 'USD' AND l.type = 'expense'
      AND l.day BETWEEN :from AND :to AND (NULL::uuid IS NULL OR l.wallet_id = NULL)),
sums AS (SELECT l.category_id AS category_id, sum(l.amount) AS amount,
                sum(l.transactions) AS transactions
         FROM lines l JOIN roots r ON r.id = l.category_id
         GROUP BY l.category_id HAVING sum(l.transactions) > 0),
overcount AS (SELECT NULL::uuid AS root_id, 0 AS extra)
SELECT s.category_id, c.name, s.amount, (s.transactions - COALESCE(o.extra, 0))::bigint AS transaction_count
FROM sums s JOIN categories c ON c.ledger_id = :uid AND c.id = s.category_id
LEFT JOIN overcount o ON o.root_id = s.category_id
ORDER BY s.amount DESC, c.name, s.category_id;
