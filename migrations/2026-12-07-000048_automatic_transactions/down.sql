ALTER TABLE transactions DROP COLUMN automatic;
