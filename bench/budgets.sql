-- GET /budgets (50 budgets): the page of budgets and the one spending query for all of them
-- (src/db/budgets.rs: list + spending). The handler computes each budget's current period in
-- Rust and sends the periods as arrays; here the same periods are derived in SQL for the
-- bench data's monthly, weekly and yearly budgets (and, for rollover, every day before the
-- current period since the budget's start).
SELECT b.id, b.name, b.amount, b.currency, b.period, b.start_date, b.end_date,
       b.alert_threshold, b.rollover, b.created_at, b.updated_at,
       COALESCE(jsonb_agg(jsonb_build_object('id', c.id, 'name', c.name) ORDER BY c.name, c.id)
                FILTER (WHERE c.id IS NOT NULL), '[]'::jsonb) AS categories,
       count(*) OVER () AS total_count
FROM budgets b
LEFT JOIN budget_categories bc ON bc.ledger_id = b.ledger_id AND bc.budget_id = b.id
LEFT JOIN categories c ON c.ledger_id = bc.ledger_id AND c.id = bc.category_id
WHERE b.ledger_id = :uid
GROUP BY b.ledger_id, b.id ORDER BY b.created_at, b.id LIMIT 50 OFFSET 0;
WITH RECURSIVE current AS (
    SELECT b.id, b.currency, b.rollover, b.period, b.start_date AS budget_start, p.s AS start_date,
           CASE b.period WHEN 'weekly' THEN p.s + 6
                         WHEN 'monthly' THEN (p.s + interval '1 month' - interval '1 day')::date
                         ELSE (p.s + interval '1 year' - interval '1 day')::date END AS end_date
    FROM budgets b,
         LATERAL (SELECT CASE b.period
             WHEN 'weekly' THEN b.start_date + 7 * ((current_date - b.start_date) / 7)
             WHEN 'monthly' THEN (b.start_date + make_interval(months =>
                 (extract(year FROM age(current_date, b.start_date)) * 12
                  + extract(month FROM age(current_date, b.start_date)))::int))::date
             ELSE (b.start_date + make_interval(years =>
                 extract(year FROM age(current_date, b.start_date))::int))::date END AS s) p
    WHERE b.ledger_id = :uid),
all_spans AS (
    SELECT id, currency, start_date, end_date FROM current
    UNION ALL
    SELECT id, currency, budget_start, start_date - 1
    FROM current WHERE rollover AND start_date > budget_start),
tree(budget_id, category_id) AS (
    SELECT bc.budget_id, bc.category_id FROM budget_categories bc
    WHERE bc.ledger_id = :uid AND bc.budget_id IN (SELECT id FROM current)
    UNION
    SELECT tree.budget_id, c.id FROM categories c JOIN tree ON c.parent_id = tree.category_id
    WHERE c.ledger_id = :uid),
spans(key, budget_id, start_date, end_date, currency) AS (
    SELECT row_number() OVER (), id, start_date, end_date, currency FROM all_spans)
SELECT s.key, COALESCE(sum(x.amount), 0) AS spent
FROM spans s
JOIN tree ON tree.budget_id = s.budget_id
CROSS JOIN LATERAL (
    SELECT sum(f.amount) AS amount FROM daily_category_flows f
    WHERE f.ledger_id = :uid AND f.category_id = tree.category_id
      AND f.day BETWEEN s.start_date AND s.end_date
      AND f.type = 'expense' AND f.currency = s.currency) x
GROUP BY s.key;
