DROP TRIGGER zz_opening_balance_event ON wallets;
DROP FUNCTION finai_opening_balance_event();
