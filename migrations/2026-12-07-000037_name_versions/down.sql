DROP TRIGGER name_changed ON categories;
DROP TRIGGER name_changed ON wallets;
DROP TRIGGER names_added ON categories;
DROP TRIGGER names_added ON wallets;
DROP FUNCTION finai_name_changed();
DROP FUNCTION finai_names_added();
DROP TABLE ledger_name_versions;
