DROP INDEX receipts_transaction_key;
CREATE INDEX receipts_transaction_idx ON receipts (ledger_id, transaction_id)
    WHERE transaction_id IS NOT NULL;
