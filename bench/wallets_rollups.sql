-- GET /wallets before migration 000038 (BENCH_BIN of an older build): every wallet with its
-- balance summed from the daily rollup, and the page's count.
WITH moved AS (
    SELECT wallet, sum(delta) AS delta FROM (
        SELECT f.wallet_id AS wallet,
               CASE WHEN f.type = 'income' THEN f.amount ELSE -f.amount END AS delta
        FROM daily_flows f WHERE f.ledger_id = :uid
        UNION ALL
        SELECT f.to_wallet_id, f.amount FROM daily_flows f
        WHERE f.ledger_id = :uid AND f.to_wallet_id IS NOT NULL) x
    GROUP BY wallet)
SELECT w.id, w.name, w.type AS wallet_type, w.currency, w.opening_balance, w.archived,
       w.created_at, w.updated_at,
       w.opening_balance + COALESCE(m.delta, 0) AS balance,
       count(*) OVER () AS total_count
FROM wallets w LEFT JOIN moved m ON m.wallet = w.id
WHERE w.ledger_id = :uid AND (NULL::boolean IS NULL OR w.archived = NULL)
ORDER BY w.created_at, w.id LIMIT 50 OFFSET 0;
