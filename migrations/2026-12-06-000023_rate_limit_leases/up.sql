-- A server may take several of a bucket's requests at once (a lease it then hands out without
-- asking again, for a credential that sends many requests a second): how many the last
-- upsert granted (0 when it refused).
ALTER TABLE rate_limits ADD COLUMN granted integer NOT NULL DEFAULT 1;
