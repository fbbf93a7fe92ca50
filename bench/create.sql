-- POST /transactions (an expense): the insert, in its own transaction. The handler also checks
-- the wallet and category, and the budgets the expense touches.
BEGIN;
INSERT INTO transactions (ledger_id, type, amount, currency, date, description, merchant,
                          category_id, wallet_id)
VALUES (:uid, 'expense', 12.34, 'USD', current_date, 'Coffee', 'Bean There', :category, :wallet)
RETURNING id;
COMMIT;
