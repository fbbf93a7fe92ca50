DROP TRIGGER roll_deleted ON transaction_splits;
DROP TRIGGER roll_updated ON transaction_splits;
DROP TRIGGER roll_inserted ON transaction_splits;
DROP FUNCTION finai_roll_splits();
DROP TRIGGER roll_deleted ON transactions;
DROP TRIGGER roll_updated ON transactions;
DROP TRIGGER roll_inserted ON transactions;
DROP FUNCTION finai_roll_transactions();
DROP TRIGGER copy_parent ON transaction_splits;
DROP FUNCTION finai_split_copies_parent();
DROP INDEX transaction_splits_day_idx;
ALTER TABLE transaction_splits
    DROP COLUMN type,
    DROP COLUMN currency,
    DROP COLUMN wallet_id,
    DROP COLUMN day;
DROP TABLE daily_category_flows;
DROP TABLE daily_flows;
