DELETE FROM import_batches WHERE state <> 'done';
DROP TRIGGER release_import_file ON import_batches;
DROP TRIGGER queue_import_file_garbage ON import_batches;
DROP INDEX import_batches_queue_idx;
ALTER TABLE import_batches ALTER COLUMN report TYPE jsonb USING report::jsonb;
ALTER TABLE import_batches
    DROP COLUMN state,
    DROP COLUMN auto_approve,
    DROP COLUMN sha256,
    DROP COLUMN size_bytes,
    DROP COLUMN progress,
    DROP COLUMN failure_field,
    DROP COLUMN failure,
    DROP COLUMN claimed_until,
    DROP COLUMN attempts,
    DROP COLUMN finished_at;
