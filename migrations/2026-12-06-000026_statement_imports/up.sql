-- Bank statement imports (OFX/QFX, QIF, CAMT.053, CSV): one batch per file, a review queue, and
-- what lets the same bank movement be recognised when it arrives again.
--
-- import_batches: what a file brought (its format, the statement's account and period, counts)
-- and a per-entry report. A batch is kept even when every entry was a duplicate, so a client can
-- show what happened to each file it sent.
CREATE TABLE import_batches (
    ledger_id uuid NOT NULL REFERENCES ledgers (id) ON DELETE CASCADE,
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    format text NOT NULL CHECK (format IN ('csv', 'ofx', 'qif', 'camt053')),
    -- `undone` once DELETE /imports/{id} took its pending transactions back.
    undone boolean NOT NULL DEFAULT false,
    wallet_id uuid,
    account text,
    currency text,
    period_start date,
    period_end date,
    entries integer NOT NULL,
    created integer NOT NULL,
    duplicates integer NOT NULL,
    possible_duplicates integer NOT NULL,
    failed integer NOT NULL,
    report jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (ledger_id, id),
    UNIQUE (id)
);
CREATE INDEX import_batches_recent_idx ON import_batches (ledger_id, created_at DESC, id DESC);

-- A transaction's review status: `pending` (imported, not yet approved), `cleared`, or
-- `reconciled`. Every row written before this is `cleared`.
ALTER TABLE transactions
    ADD COLUMN status text NOT NULL DEFAULT 'cleared'
        CHECK (status IN ('pending', 'cleared', 'reconciled')),
    ADD COLUMN import_batch_id uuid,
    -- The bank's own id of the movement (OFX FITID, CAMT entry reference), when it gave one.
    ADD COLUMN external_id text,
    ADD FOREIGN KEY (ledger_id, import_batch_id) REFERENCES import_batches (ledger_id, id);
-- The review queue, and a batch's rows.
CREATE INDEX transactions_pending_idx ON transactions (ledger_id, date DESC, id DESC)
    WHERE status = 'pending';
CREATE INDEX transactions_import_batch_idx ON transactions (ledger_id, import_batch_id)
    WHERE import_batch_id IS NOT NULL;

-- The bank account a wallet's statements come from (OFX ACCTID, CAMT IBAN), remembered on the
-- first import so the next file finds its wallet.
ALTER TABLE wallets ADD COLUMN bank_account text;
CREATE UNIQUE INDEX wallets_bank_account_key ON wallets (ledger_id, bank_account)
    WHERE bank_account IS NOT NULL;
