-- The import batch an inflow merged into an approved transfer came from: that batch has an
-- approved row, so it can no longer be undone (it used to answer `undone` and change nothing).
ALTER TABLE merged_import_keys ADD COLUMN import_batch_id uuid;
CREATE INDEX merged_import_keys_batch_idx ON merged_import_keys (ledger_id, import_batch_id)
    WHERE import_batch_id IS NOT NULL;
