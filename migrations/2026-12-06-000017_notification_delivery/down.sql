DROP TABLE notification_mails;
DROP TABLE notification_preferences;
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
DELETE FROM notifications WHERE type = 'announcement';
ALTER TABLE notifications DROP CONSTRAINT notifications_type_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_type_check CHECK (type IN (
    'budget_threshold', 'budget_exceeded', 'bill_due', 'bill_overdue', 'unusual_spending',
    'webhook_disabled'));
DROP INDEX notifications_priority_idx;
DROP TRIGGER set_priority ON notifications;
DROP FUNCTION finai_notification_priority();
ALTER TABLE notifications DROP COLUMN priority;
