-- Whether FinAI recorded a transaction itself (a recurring template, autopay). `created_by` alone
-- cannot tell: it is NULL for those rows and becomes NULL when the member who wrote a row
-- deletes their account, so a by-member report would count a former member's rows as
-- FinAI's. Rows from before this column cannot be told apart either: those with no author
-- keep counting as automatic, as they did. The backfill is no change to report (no new change
-- numbers, events or timestamps), so it runs with the row triggers off.
ALTER TABLE transactions ADD COLUMN automatic boolean NOT NULL DEFAULT false;
ALTER TABLE transactions DISABLE TRIGGER USER;
UPDATE transactions SET automatic = true WHERE created_by IS NULL;
ALTER TABLE transactions ENABLE TRIGGER USER;
