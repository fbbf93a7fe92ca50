-- Receipts and attachments. A file is stored once per ledger under its SHA-256
-- (`<ledger>/<aa>/<sha256>` in the storage), and each `attachments` row is one use of it: on a
-- transaction, or as the image of a receipt. Rows go with their transaction, receipt or ledger;
-- the file goes when its last row does: a deleted row leaves its key in `file_garbage`, and the
-- sweeper removes the file once no row uses that key (under the key's advisory lock, which an
-- upload holds while it writes).
CREATE TABLE receipts (
    ledger_id uuid NOT NULL REFERENCES ledgers (id) ON DELETE CASCADE,
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    uploaded_by uuid REFERENCES users (id) ON DELETE SET NULL,
    status text NOT NULL DEFAULT 'processing' CHECK (status IN ('processing', 'parsed', 'failed')),
    failure text,
    -- What OCR read, and what the parser made of it (fields with confidences); the user's
    -- corrections are kept apart, so both the reading and the correction can be shown.
    ocr_text text,
    parsed jsonb,
    corrections jsonb NOT NULL DEFAULT '{}',
    -- The fields as they stand (the reading overlaid with the corrections), for search and
    -- matching.
    merchant text,
    date date,
    total numeric(19, 4),
    currency text CHECK (currency ~ '^[A-Z]{3}$'),
    transaction_id uuid,
    -- The worker's lease: a receipt claimed by an instance that died is taken again.
    claimed_until timestamptz,
    attempts integer NOT NULL DEFAULT 0,
    processed_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (ledger_id, id),
    UNIQUE (id),
    FOREIGN KEY (ledger_id, transaction_id) REFERENCES transactions (ledger_id, id)
        ON DELETE SET NULL (transaction_id)
);
CREATE INDEX receipts_list_idx ON receipts (ledger_id, created_at DESC, id DESC);
CREATE INDEX receipts_waiting_idx ON receipts (created_at) WHERE status = 'processing';
CREATE INDEX receipts_transaction_idx ON receipts (ledger_id, transaction_id)
    WHERE transaction_id IS NOT NULL;
SELECT finai_manage_updated_at('receipts');

CREATE TABLE attachments (
    ledger_id uuid NOT NULL REFERENCES ledgers (id) ON DELETE CASCADE,
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    transaction_id uuid,
    receipt_id uuid,
    uploaded_by uuid REFERENCES users (id) ON DELETE SET NULL,
    file_name text CHECK (length(file_name) BETWEEN 1 AND 255),
    content_type text NOT NULL,
    size_bytes bigint NOT NULL CHECK (size_bytes > 0),
    sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (ledger_id, id),
    UNIQUE (id),
    CHECK (num_nonnulls(transaction_id, receipt_id) = 1),
    FOREIGN KEY (ledger_id, transaction_id) REFERENCES transactions (ledger_id, id) ON DELETE CASCADE,
    FOREIGN KEY (ledger_id, receipt_id) REFERENCES receipts (ledger_id, id) ON DELETE CASCADE
);
CREATE INDEX attachments_transaction_idx ON attachments (ledger_id, transaction_id)
    WHERE transaction_id IS NOT NULL;
CREATE UNIQUE INDEX attachments_receipt_key ON attachments (ledger_id, receipt_id)
    WHERE receipt_id IS NOT NULL;
CREATE INDEX attachments_file_idx ON attachments (ledger_id, sha256);

CREATE TABLE file_garbage (
    ledger_id uuid NOT NULL,
    sha256 text NOT NULL,
    queued_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (ledger_id, sha256)
);

CREATE FUNCTION finai_queue_file_garbage() RETURNS trigger AS $$
BEGIN
    -- A key the sweeper holds at this moment is queued again once it lets go, so a row
    -- deleted while the sweeper decides is never missed.
    INSERT INTO file_garbage (ledger_id, sha256) VALUES (OLD.ledger_id, OLD.sha256)
        ON CONFLICT (ledger_id, sha256) DO UPDATE SET queued_at = now();
    RETURN OLD;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER queue_file_garbage AFTER DELETE ON attachments
    FOR EACH ROW EXECUTE FUNCTION finai_queue_file_garbage();
