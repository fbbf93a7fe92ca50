ALTER TABLE transactions DROP COLUMN transfer_match_id;
