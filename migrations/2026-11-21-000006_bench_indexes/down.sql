DROP TRIGGER count_deleted ON transactions;
DROP TRIGGER count_updated ON transactions;
DROP TRIGGER count_inserted ON transactions;
DROP FUNCTION finai_count_transactions();
DROP TABLE transaction_counts;

DROP INDEX transactions_user_updated_idx;
DROP INDEX transactions_user_to_wallet_idx;
DROP INDEX transactions_user_wallet_idx;
CREATE INDEX transactions_wallet_idx ON transactions (wallet_id, date);
CREATE INDEX transactions_to_wallet_idx ON transactions (to_wallet_id, date) WHERE to_wallet_id IS NOT NULL;
