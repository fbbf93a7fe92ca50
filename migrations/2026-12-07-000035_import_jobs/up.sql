-- Large files are imported in the background (POST /imports answers 202): the batch is written
-- first, `queued`, with its file in the file store (`sha256`, as attachments keep theirs), and a
-- reader of this or another instance takes it (`running`, under a lease), imports it and marks
-- it `done`, or `failed` with the reason a request would have been refused with. Every batch
-- written before this was imported within its request: `done`.
ALTER TABLE import_batches
    ADD COLUMN state text NOT NULL DEFAULT 'done'
        CHECK (state IN ('queued', 'running', 'done', 'failed')),
    ADD COLUMN auto_approve boolean NOT NULL DEFAULT false,
    -- The queued file, until its batch is done, failed or cancelled.
    ADD COLUMN sha256 text,
    ADD COLUMN size_bytes bigint,
    -- Entries stored so far while `running` (of `entries`, known once the file is read).
    ADD COLUMN progress integer NOT NULL DEFAULT 0,
    -- Why a background import failed: the request field at fault and the message.
    ADD COLUMN failure_field text,
    ADD COLUMN failure text,
    ADD COLUMN claimed_until timestamptz,
    ADD COLUMN attempts integer NOT NULL DEFAULT 0,
    ADD COLUMN finished_at timestamptz;
UPDATE import_batches SET finished_at = created_at;

-- A report's amounts are JSON numbers, as every amount of the API (they were strings), and the
-- report is kept as the text it was written as (json, not jsonb), so it is answered as stored
-- without being parsed again.
UPDATE import_batches SET report = (
    SELECT coalesce(jsonb_agg(CASE WHEN jsonb_typeof(e -> 'amount') = 'string'
                                   THEN jsonb_set(e, '{amount}', to_jsonb((e ->> 'amount')::numeric))
                                   ELSE e END ORDER BY n), '[]'::jsonb)
    FROM jsonb_array_elements(report) WITH ORDINALITY AS t (e, n))
WHERE jsonb_path_exists(report, '$[*].amount ? (@.type() == "string")');
ALTER TABLE import_batches ALTER COLUMN report TYPE json USING report::json;
CREATE INDEX import_batches_queue_idx ON import_batches (created_at)
    WHERE state IN ('queued', 'running');

-- A queued file goes the way an attachment's does: when no batch holds it any more (done,
-- failed, cancelled, or the ledger deleted), its key is queued for the sweeper.
CREATE TRIGGER queue_import_file_garbage AFTER DELETE ON import_batches
    FOR EACH ROW WHEN (OLD.sha256 IS NOT NULL) EXECUTE FUNCTION finai_queue_file_garbage();
CREATE TRIGGER release_import_file AFTER UPDATE OF sha256 ON import_batches
    FOR EACH ROW WHEN (OLD.sha256 IS NOT NULL AND NEW.sha256 IS DISTINCT FROM OLD.sha256)
    EXECUTE FUNCTION finai_queue_file_garbage();
