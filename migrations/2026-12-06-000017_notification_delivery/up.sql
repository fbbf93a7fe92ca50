-- Notifications get a priority (lists sort by it, mails lead with it), administrators can
-- announce to everyone, and each user chooses which notifications also come by email:
-- immediately or as a daily digest, never in their quiet hours.

ALTER TABLE notifications ADD COLUMN priority text;
UPDATE notifications SET priority = CASE
    WHEN type IN ('budget_exceeded', 'bill_overdue', 'unusual_spending', 'webhook_disabled')
        THEN 'high'
    ELSE 'normal' END;
ALTER TABLE notifications ALTER COLUMN priority SET NOT NULL,
    ADD CONSTRAINT notifications_priority_check
        CHECK (priority IN ('low', 'normal', 'high', 'urgent'));
-- A notification created without a priority takes its type's.
CREATE FUNCTION finai_notification_priority() RETURNS trigger AS $$
BEGIN
    IF NEW.priority IS NULL THEN
        NEW.priority := CASE
            WHEN NEW.type IN ('budget_exceeded', 'bill_overdue', 'unusual_spending',
                              'webhook_disabled') THEN 'high'
            ELSE 'normal' END;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER set_priority BEFORE INSERT ON notifications
    FOR EACH ROW EXECUTE FUNCTION finai_notification_priority();
CREATE INDEX notifications_priority_idx ON notifications
    (ledger_id, (array_position(ARRAY['urgent', 'high', 'normal', 'low'], priority)),
     created_at DESC, id DESC);

ALTER TABLE notifications DROP CONSTRAINT notifications_type_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_type_check CHECK (type IN (
    'budget_threshold', 'budget_exceeded', 'bill_due', 'bill_overdue', 'unusual_spending',
    'webhook_disabled', 'announcement'));

-- The `notification` event carries the priority too.
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
                               'body', NEW.body, 'data', NEW.data, 'priority', NEW.priority));
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

-- Which notifications a user also receives by email. No row: none.
CREATE TABLE notification_preferences (
    user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    email_types text[] NOT NULL DEFAULT '{}',
    email_mode text NOT NULL DEFAULT 'immediate' CHECK (email_mode IN ('immediate', 'daily_digest')),
    -- Local times (the user's time zone); no mail between them (across midnight when
    -- start > end). Both or neither.
    quiet_start time,
    quiet_end time,
    -- The local date of the last digest.
    last_digest_on date,
    -- Only notifications from then on are mailed (choosing email never mails the past).
    mail_since timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((quiet_start IS NULL) = (quiet_end IS NULL))
);
SELECT finai_manage_updated_at('notification_preferences');

-- One row per notification and recipient mailed: the claim that makes each mail go once,
-- whichever instance runs the job.
CREATE TABLE notification_mails (
    notification_id uuid NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    mailed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (notification_id, user_id)
);
CREATE INDEX notification_mails_user_idx ON notification_mails (user_id, mailed_at);
