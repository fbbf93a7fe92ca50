-- Each wallet keeps the money its transactions moved (income in, expenses and transfers out,
-- transfers in), kept by the trigger that already touches the wallets a write moves money in.
-- Its balance is `opening_balance + moved`: read as it is by `GET /wallets` and by the
-- balance_update events, where both summed the wallet's daily rollups (every day it was used)
-- on every read and every write.
ALTER TABLE wallets ADD COLUMN moved numeric(19, 4) NOT NULL DEFAULT 0;

-- Filled from the rollups without looking like a change (no change numbers, events or times).
ALTER TABLE wallets DISABLE TRIGGER USER;
UPDATE wallets w SET moved = m.delta
FROM (SELECT ledger_id, wallet, sum(delta) AS delta
      FROM (SELECT ledger_id, wallet_id AS wallet,
                   CASE WHEN type = 'income' THEN amount ELSE -amount END AS delta
            FROM daily_flows
            UNION ALL
            SELECT ledger_id, to_wallet_id, amount FROM daily_flows
            WHERE to_wallet_id IS NOT NULL) x
      GROUP BY 1, 2) m
WHERE w.ledger_id = m.ledger_id AND w.id = m.wallet;
ALTER TABLE wallets ENABLE TRIGGER USER;

CREATE OR REPLACE FUNCTION finai_touch_wallets() RETURNS trigger AS $$
BEGIN
    -- Each wallet's share of the written rows: income in, expenses and transfers out of
    -- `wallet_id`, transfers into `to_wallet_id`; what an UPDATE or DELETE took away is
    -- given back. Every wallet the write moves money in is touched (a new change number for
    -- GET /sync), whatever its share.
    IF TG_OP = 'INSERT' THEN
        UPDATE wallets w SET moved = w.moved + d.delta
        FROM (SELECT ledger_id, wallet, sum(delta) AS delta
              FROM (SELECT ledger_id, wallet_id AS wallet,
                           CASE WHEN type = 'income' THEN amount ELSE -amount END AS delta
                    FROM new_rows
                    UNION ALL
                    SELECT ledger_id, to_wallet_id, amount FROM new_rows
                    WHERE to_wallet_id IS NOT NULL) x
              GROUP BY 1, 2) d
        WHERE w.ledger_id = d.ledger_id AND w.id = d.wallet;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE wallets w SET moved = w.moved - d.delta
        FROM (SELECT ledger_id, wallet, sum(delta) AS delta
              FROM (SELECT ledger_id, wallet_id AS wallet,
                           CASE WHEN type = 'income' THEN amount ELSE -amount END AS delta
                    FROM old_rows
                    UNION ALL
                    SELECT ledger_id, to_wallet_id, amount FROM old_rows
                    WHERE to_wallet_id IS NOT NULL) x
              GROUP BY 1, 2) d
        WHERE w.ledger_id = d.ledger_id AND w.id = d.wallet;
    ELSE
        UPDATE wallets w SET moved = w.moved + d.delta
        FROM (SELECT n.ledger_id, v.wallet, sum(v.delta) AS delta
              FROM old_rows o JOIN new_rows n ON n.id = o.id,
                  LATERAL (VALUES
                      (o.wallet_id, CASE WHEN o.type = 'income' THEN -o.amount ELSE o.amount END),
                      (o.to_wallet_id, -o.amount),
                      (n.wallet_id, CASE WHEN n.type = 'income' THEN n.amount ELSE -n.amount END),
                      (n.to_wallet_id, n.amount)) v(wallet, delta)
              WHERE v.wallet IS NOT NULL
                AND (o.wallet_id, o.to_wallet_id, o.type, o.amount)
                    IS DISTINCT FROM (n.wallet_id, n.to_wallet_id, n.type, n.amount)
              GROUP BY 1, 2) d
        WHERE w.ledger_id = d.ledger_id AND w.id = d.wallet;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION finai_transaction_events() RETURNS trigger AS $$
DECLARE
    -- The wallets whose money moved: ledger and wallet, pairwise.
    moved_ledgers uuid[];
    moved_wallets uuid[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        -- An import announces its rows with one import_finished event (services::imports),
        -- not one transaction_update per row: it sets finai.quiet_inserts for its inserts.
        IF coalesce(current_setting('finai.quiet_inserts', true), '') <> 'on' THEN
            INSERT INTO events (ledger_id, type, resource_id, payload)
            SELECT n.ledger_id, 'transaction_update', n.id,
                   jsonb_build_object(
                       'action', 'created', 'id', n.id, 'type', n.type, 'amount', n.amount,
                       'currency', n.currency, 'date', n.date, 'description', n.description,
                       'merchant', n.merchant, 'category_id', n.category_id,
                       'wallet_id', n.wallet_id, 'to_wallet_id', n.to_wallet_id,
                       'change_seq', n.change_seq)
            FROM new_rows n ORDER BY n.change_seq;
        END IF;
        SELECT array_agg(m.ledger_id), array_agg(m.w) INTO moved_ledgers, moved_wallets
        FROM (SELECT DISTINCT ledger_id, v.w
              FROM new_rows, LATERAL (VALUES (wallet_id), (to_wallet_id)) v(w)
              WHERE v.w IS NOT NULL) m;
    ELSIF TG_OP = 'DELETE' THEN
        -- A deleted account's rows cascade here: nothing to say (and its wallets are gone).
        INSERT INTO events (ledger_id, type, resource_id, payload)
        SELECT o.ledger_id, 'transaction_update', o.id,
               jsonb_build_object('action', 'deleted', 'id', o.id, 'type', o.type,
                                  'wallet_id', o.wallet_id, 'to_wallet_id', o.to_wallet_id)
        FROM old_rows o WHERE EXISTS (SELECT 1 FROM ledgers u WHERE u.id = o.ledger_id);
        SELECT array_agg(m.ledger_id), array_agg(m.w) INTO moved_ledgers, moved_wallets
        FROM (SELECT DISTINCT ledger_id, v.w
              FROM old_rows, LATERAL (VALUES (wallet_id), (to_wallet_id)) v(w)
              WHERE v.w IS NOT NULL) m;
    ELSE
        INSERT INTO events (ledger_id, type, resource_id, payload)
        SELECT n.ledger_id, 'transaction_update', n.id,
               jsonb_build_object(
                   'action', 'updated', 'id', n.id, 'type', n.type, 'amount', n.amount,
                   'currency', n.currency, 'date', n.date, 'description', n.description,
                   'merchant', n.merchant, 'category_id', n.category_id,
                   'wallet_id', n.wallet_id, 'to_wallet_id', n.to_wallet_id,
                   'change_seq', n.change_seq)
        FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE o IS DISTINCT FROM n
        ORDER BY n.change_seq;
        SELECT array_agg(m.ledger_id), array_agg(m.w) INTO moved_ledgers, moved_wallets
        FROM (SELECT DISTINCT n.ledger_id, v.w
              FROM old_rows o JOIN new_rows n ON n.id = o.id,
                  LATERAL (VALUES (o.wallet_id), (o.to_wallet_id), (n.wallet_id), (n.to_wallet_id)) v(w)
              WHERE v.w IS NOT NULL
                AND (o.wallet_id, o.to_wallet_id, o.type, o.amount)
                    IS DISTINCT FROM (n.wallet_id, n.to_wallet_id, n.type, n.amount)) m;
    END IF;
    -- The wallets whose money moved, with their balance after the write (`moved` is kept by
    -- finai_touch_wallets, which runs before this trigger).
    INSERT INTO events (ledger_id, type, resource_id, payload)
    SELECT w.ledger_id, 'balance_update', w.id,
           jsonb_build_object('wallet_id', w.id, 'balance', w.opening_balance + w.moved)
    FROM unnest(moved_ledgers, moved_wallets) m(ledger_id, id)
    JOIN wallets w ON w.ledger_id = m.ledger_id AND w.id = m.id;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan;
