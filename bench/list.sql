-- GET /transactions (first page of 50, newest first): the page with its total and the version
-- of the ledger's names, as the handler sends it (src/db/transactions.rs: page, hot path); the
-- names come from what the server keeps, not from joins.
SELECT t.id, t.type AS transaction_type, t.amount, t.currency, t.date, t.description,
       t.merchant, t.notes, t.category_id, NULL::text AS category_name,
       t.wallet_id, ''::text AS wallet_name, t.to_wallet_id, NULL::text AS to_wallet_name,
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
       t.is_unusual, t.unusual_reason, t.created_by, t.updated_by,
       t.tax_rate, t.tax_deductible, t.status, t.import_batch_id, t.transfer_match_id,
       (SELECT COALESCE(sum(n), 0)::bigint FROM transaction_counts WHERE ledger_id = :uid) AS total_count,
       (SELECT COALESCE(max(version), 0) FROM ledger_name_versions WHERE ledger_id = :uid) AS names_version
FROM (SELECT * FROM transactions t WHERE t.ledger_id = :uid
      ORDER BY t.date DESC, t.id DESC LIMIT 50) t
ORDER BY t.date DESC, t.id DESC;
