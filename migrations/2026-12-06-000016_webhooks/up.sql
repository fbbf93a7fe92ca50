-- Webhooks: a ledger's events POSTed to URLs its owners register, signed, retried, logged.
--
-- A webhook hears the events appended after it was created: `last_seq` is its place in the
-- ledger's log, moved forward as the dispatcher copies new events into deliveries (events of
-- a ledger commit in number order, so nothing behind it can still appear).
CREATE TABLE webhooks (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    ledger_id uuid NOT NULL REFERENCES ledgers (id) ON DELETE CASCADE,
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    url text NOT NULL CHECK (length(url) <= 2048),
    description text CHECK (length(description) <= 200),
    -- Empty: every type.
    event_types text[] NOT NULL DEFAULT '{}',
    -- The signing secret, shown to the owner once; needed in the clear to sign.
    secret text NOT NULL,
    active boolean NOT NULL DEFAULT true,
    disabled_reason text,
    last_seq bigint NOT NULL,
    -- Since when every attempt has failed (cleared by a success); a day of it disables.
    failing_since timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhooks_ledger_idx ON webhooks (ledger_id, created_at, id);
CREATE INDEX webhooks_active_idx ON webhooks (ledger_id) WHERE active;
SELECT finai_manage_updated_at('webhooks');

-- One row per event and endpoint (or ping): the body as sent, its state and its last attempt.
-- The unique key makes "once per endpoint" hold whichever instance copies the event.
CREATE TABLE webhook_deliveries (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    webhook_id uuid NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id uuid,
    event_type text NOT NULL,
    body jsonb NOT NULL,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    -- An instance sending it holds it until then; a crashed one's claim lapses.
    locked_until timestamptz,
    response_status integer,
    error text,
    latency_ms integer,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_attempt_at timestamptz,
    delivered_at timestamptz,
    UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_list_idx ON webhook_deliveries (webhook_id, created_at DESC, id DESC);

-- A webhook disabled after a day of failures tells its ledger.
ALTER TABLE notifications DROP CONSTRAINT notifications_type_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_type_check CHECK (type IN (
    'budget_threshold', 'budget_exceeded', 'bill_due', 'bill_overdue', 'unusual_spending',
    'webhook_disabled'));

-- Alerts are announced by their kind as well as a notification; other notifications (a
-- disabled webhook) only as a notification. (The kind used to default to `unusual_spending`.)
CREATE OR REPLACE FUNCTION finai_notification_events() RETURNS trigger AS $$
DECLARE
    kind text := CASE NEW.type WHEN 'budget_threshold' THEN 'budget_alert'
                               WHEN 'budget_exceeded' THEN 'budget_alert'
                               WHEN 'bill_due' THEN 'bill_reminder'
                               WHEN 'bill_overdue' THEN 'bill_reminder'
                               WHEN 'unusual_spending' THEN 'unusual_spending' END;
BEGIN
    IF kind IS NOT NULL THEN
        INSERT INTO events (ledger_id, type, resource_id, payload)
        VALUES (NEW.ledger_id, kind,
                COALESCE((NEW.data ->> 'budget_id')::uuid, (NEW.data ->> 'bill_id')::uuid,
                         (NEW.data ->> 'transaction_id')::uuid),
                NEW.data || jsonb_build_object('kind', NEW.type, 'notification_id', NEW.id));
    END IF;
    INSERT INTO events (ledger_id, type, resource_id, payload)
    VALUES (NEW.ledger_id, 'notification', NEW.id,
            jsonb_build_object('id', NEW.id, 'type', NEW.type, 'title', NEW.title,
                               'body', NEW.body, 'data', NEW.data));
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
