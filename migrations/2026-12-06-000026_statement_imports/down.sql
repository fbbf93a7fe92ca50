DROP INDEX wallets_bank_account_key;
ALTER TABLE wallets DROP COLUMN bank_account;
ALTER TABLE transactions DROP COLUMN status, DROP COLUMN import_batch_id, DROP COLUMN external_id;
DROP TABLE import_batches;
