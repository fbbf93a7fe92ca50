-- GET /transactions before migration 000037 (BENCH_BIN of an older build): the first page of
-- 50, newest first, with its total, cut first, then named by joins.
SELECT t.id, t.type AS transaction_type, t.amount, t.currency, t.date, t.description,
       t.merchant, t.notes, t.category_id, c.name AS category_name,
       t.wallet_id, w.name AS wallet_name, t.to_wallet_id, tw.name AS to_wallet_name,
       t.tags,
       CASE WHEN t.category_id IS NULL AND t.type <> 'transfer' THEN
           COALESCE((SELECT jsonb_agg(jsonb_build_object(
                        'category_id', s.category_id, 'category_name', sc.name,
                        'amount', s.amount, 'note', s.note) ORDER BY s.position)
                     FROM transaction_splits s JOIN categories sc
                          ON sc.ledger_id = s.ledger_id AND sc.id = s.category_id
                     WHERE s.ledger_id = t.ledger_id AND s.transaction_id = t.id), '[]'::jsonb)
       ELSE '[]'::jsonb END AS splits,
       t.created_at, t.updated_at, t.category_source, t.category_confidence,
       t.is_unusual, t.unusual_reason,
       (SELECT COALESCE(sum(n), 0)::bigint FROM transaction_counts WHERE ledger_id = :uid) AS total_count
FROM (SELECT * FROM transactions t WHERE t.ledger_id = :uid
      ORDER BY t.date DESC, t.id DESC LIMIT 50) t
JOIN wallets w ON w.ledger_id = t.ledger_id AND w.id = t.wallet_id
LEFT JOIN wallets tw ON tw.ledger_id = t.ledger_id AND tw.id = t.to_wallet_id
LEFT JOIN categories c ON c.ledger_id = t.ledger_id AND c.id = t.category_id
ORDER BY t.date DESC, t.id DESC;
