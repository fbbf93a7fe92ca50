-- Access paths that read a user's whole history without an index of their own, measured on a
-- user with a million transactions (bench/run.sh's data).

-- The list sorted by amount or by creation (a first page sorted every row: ~0.5 s).
CREATE INDEX transactions_user_amount_idx ON transactions (user_id, amount DESC, id DESC);
CREATE INDEX transactions_user_created_idx ON transactions (user_id, created_at DESC, id DESC);
-- A report's largest expense, and the expense statistics: expenses in amount order, the date
-- checked in the index (0.4 ms instead of 226 ms through the amount index above, which has to
-- visit every larger income and transfer first).
CREATE INDEX transactions_user_expense_amount_idx ON transactions (user_id, type, currency, amount DESC, date);

-- An expense's earlier payments at its merchant (unusual-spending check).
CREATE INDEX transactions_user_merchant_idx ON transactions (user_id, lower(merchant), date)
    WHERE merchant IS NOT NULL;

-- The background job's sweep of rows past their keeping time.
CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (expires_at);
CREATE INDEX user_tokens_expires_idx ON user_tokens (expires_at);
CREATE INDEX login_throttle_updated_idx ON login_throttle (updated_at);
