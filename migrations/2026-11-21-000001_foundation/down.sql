DROP TABLE schema_info;
DROP FUNCTION finai_manage_updated_at(regclass);
DROP FUNCTION finai_set_updated_at();
