DROP INDEX merged_import_keys_batch_idx;
ALTER TABLE merged_import_keys DROP COLUMN import_batch_id;
