-- GET /wallets: every wallet with its balance, which the wallet row keeps (src/db/wallets.rs:
-- SELECT_WITH_BALANCE + list), and the page's count.
SELECT w.id, w.name, w.type AS wallet_type, w.currency, w.opening_balance, w.archived,
       w.created_at, w.updated_at, w.opening_balance + w.moved AS balance,
       count(*) OVER () AS total_count
FROM wallets w
WHERE w.ledger_id = :uid AND (NULL::boolean IS NULL OR w.archived = NULL)
ORDER BY w.created_at, w.id LIMIT 50 OFFSET 0;
