-- Back to migration 000011's events trigger and the SQL functions it called.
CREATE FUNCTION finai_wallet_balance(_user uuid, _wallet uuid) RETURNS numeric AS $$
    SELECT w.opening_balance
         + COALESCE((SELECT sum(CASE WHEN f.type = 'income' THEN f.amount ELSE -f.amount END)
                     FROM daily_flows f WHERE f.user_id = _user AND f.wallet_id = _wallet), 0)
         + COALESCE((SELECT sum(f.amount) FROM daily_flows f
                     WHERE f.user_id = _user AND f.to_wallet_id = _wallet), 0)
    FROM wallets w WHERE w.id = _wallet AND w.user_id = _user
$$ LANGUAGE sql STABLE;

CREATE FUNCTION finai_transaction_payload(_action text, t transactions) RETURNS jsonb AS $$
    SELECT jsonb_build_object(
        'action', _action, 'id', t.id, 'type', t.type, 'amount', t.amount, 'currency', t.currency,
        'date', t.date, 'description', t.description, 'merchant', t.merchant,
        'category_id', t.category_id, 'wallet_id', t.wallet_id, 'to_wallet_id', t.to_wallet_id,
        'change_seq', t.change_seq)
$$ LANGUAGE sql IMMUTABLE;

CREATE OR REPLACE FUNCTION finai_transaction_events() RETURNS trigger AS $$
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
