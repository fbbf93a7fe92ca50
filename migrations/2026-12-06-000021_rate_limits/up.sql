-- Request rate limits shared by every server process on this database (issue 16). One row per
-- bucket (a user's reads, a personal access token's writes, an address's anonymous requests,
-- ...), holding the bucket's theoretical arrival time (the generic cell rate algorithm): a
-- request is let in when `greatest(tat, now()) + interval <= now() + window`, and then moves
-- `tat` on by one interval. One upsert decides and records, so two instances can never let
-- in more than the limit between them.
--
-- UNLOGGED: the state is worth nothing after a crash (the buckets simply start full again),
-- and a transaction that writes only unlogged tables commits without waiting for the WAL to
-- reach the disk, so counting a request costs no fsync.
CREATE UNLOGGED TABLE rate_limits (
    key text PRIMARY KEY,
    tat timestamptz NOT NULL,
    -- Whether the last request counted against this bucket was let in (what the upsert
    -- decided, for its RETURNING).
    allowed boolean NOT NULL DEFAULT true
) WITH (fillfactor = 70);
