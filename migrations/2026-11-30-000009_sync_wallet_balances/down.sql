DROP TRIGGER touch_wallets_deleted ON transactions;
DROP TRIGGER touch_wallets_updated ON transactions;
DROP TRIGGER touch_wallets_inserted ON transactions;
DROP FUNCTION finai_touch_wallets();
