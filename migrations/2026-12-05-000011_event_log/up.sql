-- The event log: every change a client would want to hear of, appended in the transaction that
-- made it, with a per-owner sequence number. Push channels and notifications read from here, so
-- nothing is announced that did not commit and nothing that committed is missed.
--
-- A number comes from finai_change_seq under the owner's write lock (the lock every write of
-- the owner's rows takes, held until commit), so one owner's events commit in number order:
-- a reader that has seen N never later meets a smaller number.
CREATE TABLE events (
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    seq bigint NOT NULL,
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    type text NOT NULL CHECK (type IN (
        'transaction_update', 'balance_update', 'budget_alert', 'bill_reminder', 'bill_paid',
        'unusual_spending', 'notification', 'import_finished')),
    resource_id uuid,
    payload jsonb NOT NULL DEFAULT '{}',
    occurred_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, seq)
);
-- Pruning by age.
CREATE INDEX events_occurred_idx ON events (occurred_at);

CREATE FUNCTION finai_event_seq() RETURNS trigger AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('finai-sync:' || NEW.user_id::text, 0));
    NEW.seq := nextval('finai_change_seq');
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER number_event BEFORE INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION finai_event_seq();

-- A wallet's balance from its opening balance and the daily rollup, read per wallet.
CREATE INDEX daily_flows_wallet_idx ON daily_flows (user_id, wallet_id) INCLUDE (type, amount);
CREATE INDEX daily_flows_to_wallet_idx ON daily_flows (user_id, to_wallet_id) INCLUDE (amount)
    WHERE to_wallet_id IS NOT NULL;

CREATE FUNCTION finai_wallet_balance(_user uuid, _wallet uuid) RETURNS numeric AS $$
    SELECT w.opening_balance
         + COALESCE((SELECT sum(CASE WHEN f.type = 'income' THEN f.amount ELSE -f.amount END)
                     FROM daily_flows f WHERE f.user_id = _user AND f.wallet_id = _wallet), 0)
         + COALESCE((SELECT sum(f.amount) FROM daily_flows f
                     WHERE f.user_id = _user AND f.to_wallet_id = _wallet), 0)
    FROM wallets w WHERE w.id = _wallet AND w.user_id = _user
$$ LANGUAGE sql STABLE;

-- What a transaction event carries: the row's fields (names and splits are one read away).
CREATE FUNCTION finai_transaction_payload(_action text, t transactions) RETURNS jsonb AS $$
    SELECT jsonb_build_object(
        'action', _action, 'id', t.id, 'type', t.type, 'amount', t.amount, 'currency', t.currency,
        'date', t.date, 'description', t.description, 'merchant', t.merchant,
        'category_id', t.category_id, 'wallet_id', t.wallet_id, 'to_wallet_id', t.to_wallet_id,
        'change_seq', t.change_seq)
$$ LANGUAGE sql IMMUTABLE;

-- The events of a write to transactions: `transaction_update` per row (created, updated or
-- deleted) and `balance_update` per wallet whose money moved, with its balance after the write.
-- Named to fire after the rollup triggers (triggers of one event fire in name order), so the
-- balances include this write; the owner's lock is already held (finai_bump_change_seq), so
-- they include every earlier write too. A deleted account's rows cascade here: nothing to say.
CREATE FUNCTION finai_transaction_events() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO events (user_id, type, resource_id, payload)
        SELECT n.user_id, 'transaction_update', n.id, finai_transaction_payload('created', n)
        FROM new_rows n ORDER BY n.change_seq;
        INSERT INTO events (user_id, type, resource_id, payload)
        SELECT m.user_id, 'balance_update', m.wallet,
               jsonb_build_object('wallet_id', m.wallet,
                                  'balance', finai_wallet_balance(m.user_id, m.wallet))
        FROM (SELECT DISTINCT user_id, w AS wallet FROM new_rows,
                  LATERAL (VALUES (wallet_id), (to_wallet_id)) v(w) WHERE w IS NOT NULL) m;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO events (user_id, type, resource_id, payload)
        SELECT o.user_id, 'transaction_update', o.id,
               jsonb_build_object('action', 'deleted', 'id', o.id, 'type', o.type,
                                  'wallet_id', o.wallet_id, 'to_wallet_id', o.to_wallet_id)
        FROM old_rows o WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = o.user_id);
        INSERT INTO events (user_id, type, resource_id, payload)
        SELECT m.user_id, 'balance_update', m.wallet,
               jsonb_build_object('wallet_id', m.wallet,
                                  'balance', finai_wallet_balance(m.user_id, m.wallet))
        FROM (SELECT DISTINCT user_id, w AS wallet FROM old_rows,
                  LATERAL (VALUES (wallet_id), (to_wallet_id)) v(w) WHERE w IS NOT NULL) m
        WHERE EXISTS (SELECT 1 FROM wallets x WHERE x.id = m.wallet);
    ELSE
        INSERT INTO events (user_id, type, resource_id, payload)
        SELECT n.user_id, 'transaction_update', n.id, finai_transaction_payload('updated', n)
        FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE o IS DISTINCT FROM n
        ORDER BY n.change_seq;
        INSERT INTO events (user_id, type, resource_id, payload)
        SELECT m.user_id, 'balance_update', m.wallet,
               jsonb_build_object('wallet_id', m.wallet,
                                  'balance', finai_wallet_balance(m.user_id, m.wallet))
        FROM (SELECT DISTINCT n.user_id, w AS wallet FROM old_rows o JOIN new_rows n ON n.id = o.id,
                  LATERAL (VALUES (o.wallet_id), (o.to_wallet_id), (n.wallet_id), (n.to_wallet_id)) v(w)
              WHERE w IS NOT NULL
                AND (o.wallet_id, o.to_wallet_id, o.type, o.amount)
                    IS DISTINCT FROM (n.wallet_id, n.to_wallet_id, n.type, n.amount)) m;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER zz_events_inserted AFTER INSERT ON transactions
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION finai_transaction_events();
CREATE TRIGGER zz_events_updated AFTER UPDATE ON transactions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION finai_transaction_events();
CREATE TRIGGER zz_events_deleted AFTER DELETE ON transactions
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION finai_transaction_events();

-- Every notification is an event, and alerts are announced by their kind too: `budget_alert`,
-- `bill_reminder`, `unusual_spending`. The alert policy (services::alerts, jobs) creates the
-- notification; this announces it, in the same transaction.
CREATE FUNCTION finai_notification_events() RETURNS trigger AS $$
BEGIN
    INSERT INTO events (user_id, type, resource_id, payload)
    VALUES (NEW.user_id,
            CASE NEW.type WHEN 'budget_threshold' THEN 'budget_alert'
                          WHEN 'budget_exceeded' THEN 'budget_alert'
                          WHEN 'bill_due' THEN 'bill_reminder'
                          WHEN 'bill_overdue' THEN 'bill_reminder'
                          ELSE 'unusual_spending' END,
            COALESCE((NEW.data ->> 'budget_id')::uuid, (NEW.data ->> 'bill_id')::uuid,
                     (NEW.data ->> 'transaction_id')::uuid),
            NEW.data || jsonb_build_object('kind', NEW.type, 'notification_id', NEW.id));
    INSERT INTO events (user_id, type, resource_id, payload)
    VALUES (NEW.user_id, 'notification', NEW.id,
            jsonb_build_object('id', NEW.id, 'type', NEW.type, 'title', NEW.title,
                               'body', NEW.body, 'data', NEW.data));
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER zz_events_inserted AFTER INSERT ON notifications
    FOR EACH ROW EXECUTE FUNCTION finai_notification_events();
