-- The names a page of transactions shows (its wallets' and categories') are kept by the server
-- per ledger, with the version of the ledger's names they were read at (services::transactions),
-- so that the page itself is read without joining them. Any write that can change a name the
-- page shows moves the version: a wallet or category added, or renamed. (A deleted one needs
-- nothing: no transaction can name it any more.)
CREATE TABLE ledger_name_versions (
    ledger_id uuid PRIMARY KEY REFERENCES ledgers (id) ON DELETE CASCADE,
    version bigint NOT NULL
);

CREATE FUNCTION finai_names_added() RETURNS trigger AS $$
BEGIN
    INSERT INTO ledger_name_versions AS v (ledger_id, version)
    SELECT DISTINCT ledger_id, 1 FROM new_rows
    ON CONFLICT (ledger_id) DO UPDATE SET version = v.version + 1;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION finai_name_changed() RETURNS trigger AS $$
BEGIN
    INSERT INTO ledger_name_versions AS v (ledger_id, version) VALUES (NEW.ledger_id, 1)
    ON CONFLICT (ledger_id) DO UPDATE SET version = v.version + 1;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER names_added AFTER INSERT ON wallets
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION finai_names_added();
CREATE TRIGGER names_added AFTER INSERT ON categories
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION finai_names_added();
CREATE TRIGGER name_changed AFTER UPDATE OF name ON wallets
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name)
    EXECUTE FUNCTION finai_name_changed();
CREATE TRIGGER name_changed AFTER UPDATE OF name ON categories
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name)
    EXECUTE FUNCTION finai_name_changed();
