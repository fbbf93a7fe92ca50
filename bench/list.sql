-- GET /transactions (first page of 50, newest first): the page and its total, as the handler
-- sends them (src/db/transactions.rs: SELECT_VIEW + list, counted).
SELECT t.id, t.type AS transaction_type, t.amount, t.currency, t.date, t.description,
       t.merchant, t.notes, t.category_id, c.name AS category_name,
       t.wallet_id, w.name AS wallet_name, t.to_wallet_id, tw.name AS to_wallet_name,
       t.tags,
       COALESCE((SELECT jsonb_agg(jsonb_build_object(
                    'category_id', s.category_id, 'category_name', sc.name,
                    'amount', s.amount, 'note', s.note) ORDER BY s.position)
                 FROM transaction_splits s JOIN categories sc ON sc.id = s.category_id
                 WHERE s.transaction_id = t.id), '[]'::jsonb) AS splits,
       t.created_at, t.updated_at, t.category_source, t.category_confidence,
       t.is_unusual, t.unusual_reason
FROM transactions t
JOIN wallets w ON w.id = t.wallet_id
LEFT JOIN wallets tw ON tw.id = t.to_wallet_id
LEFT JOIN categories c ON c.id = t.category_id
WHERE t.user_id = :uid
ORDER BY t.date DESC, t.id DESC LIMIT 50 OFFSET 0;
SELECT COALESCE(sum(n), 0)::bigint AS n FROM transaction_counts WHERE user_id = :uid;
