-- A wallet's `moved` is the net of everything its transactions moved, with no bound of its own:
-- it can pass the 15 integer digits of one amount while the balance (`opening_balance + moved`)
-- stays within them (an opening debt of 9e14 paid off by three incomes of 4e14). As
-- numeric(19, 4) the third income was refused. The rollups it replaced were unbounded too.
ALTER TABLE wallets ALTER COLUMN moved TYPE numeric;

-- An imported outflow and inflow approved as one transfer keep one row, the outflow's; the
-- inflow's import key stays here, with the transfer, so that importing the inflow's statement
-- again finds it a duplicate instead of creating the money a second time. It goes with the
-- transfer.
CREATE TABLE merged_import_keys (
    ledger_id uuid NOT NULL,
    import_hash text NOT NULL,
    transaction_id uuid NOT NULL,
    PRIMARY KEY (ledger_id, import_hash),
    FOREIGN KEY (ledger_id, transaction_id) REFERENCES transactions (ledger_id, id)
        ON DELETE CASCADE
);
CREATE INDEX merged_import_keys_transaction_idx ON merged_import_keys (ledger_id, transaction_id);
