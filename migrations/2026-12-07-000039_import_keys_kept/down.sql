DROP TABLE merged_import_keys;
ALTER TABLE wallets ALTER COLUMN moved TYPE numeric(19, 4);
