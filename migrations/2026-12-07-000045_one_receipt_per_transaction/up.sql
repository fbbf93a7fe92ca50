-- A transaction is matched by one receipt at most: an outside test matched a second receipt to
-- an expense another already claimed. A second link made before this is undone (the receipt is
-- parsed still, and may be matched again), and the index keeps two matches made at once apart.
UPDATE receipts r SET transaction_id = NULL
WHERE r.transaction_id IS NOT NULL
  AND EXISTS (SELECT 1 FROM receipts o
              WHERE o.ledger_id = r.ledger_id AND o.transaction_id = r.transaction_id
                AND (o.created_at, o.id) < (r.created_at, r.id));
DROP INDEX receipts_transaction_idx;
CREATE UNIQUE INDEX receipts_transaction_key ON receipts (ledger_id, transaction_id)
    WHERE transaction_id IS NOT NULL;
