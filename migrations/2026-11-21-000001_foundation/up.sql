-- Conventions every later table follows:
--   * `id uuid PRIMARY KEY DEFAULT gen_random_uuid()` (built into PostgreSQL 13+, no extension);
--   * `created_at` / `updated_at timestamptz NOT NULL DEFAULT now()`, `updated_at` maintained by
--     `SELECT finai_manage_updated_at('table');`;
--   * money is `NUMERIC(19, 4)`, never float;
--   * user-owned rows carry `user_id`, and their indexes start with it.

CREATE FUNCTION finai_set_updated_at() RETURNS trigger AS $$
BEGIN
    IF NEW IS DISTINCT FROM OLD AND NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION finai_manage_updated_at(_tbl regclass) RETURNS void AS $$
BEGIN
    EXECUTE format('CREATE TRIGGER set_updated_at BEFORE UPDATE ON %s
                    FOR EACH ROW EXECUTE PROCEDURE finai_set_updated_at()', _tbl);
END;
$$ LANGUAGE plpgsql;

-- One row describing this installation: when its schema was first created, and an id that
-- lets operators tell deployments apart in logs and support requests.
CREATE TABLE schema_info (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    installed_at timestamptz NOT NULL DEFAULT now(),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    singleton boolean NOT NULL DEFAULT true UNIQUE CHECK (singleton)
);
SELECT finai_manage_updated_at('schema_info');
INSERT INTO schema_info DEFAULT VALUES;
