-- Read state per member: in a shared ledger one member reading an alert no longer marks it
-- read for the others. What was read is kept as read for every member of its ledger.
CREATE TABLE notification_reads (
    ledger_id uuid NOT NULL,
    notification_id uuid NOT NULL,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    read_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (ledger_id, notification_id, user_id),
    FOREIGN KEY (ledger_id, notification_id) REFERENCES notifications (ledger_id, id)
        ON DELETE CASCADE
);
-- A deleted account's rows go with it.
CREATE INDEX notification_reads_user_idx ON notification_reads (user_id);

INSERT INTO notification_reads (ledger_id, notification_id, user_id, read_at)
SELECT n.ledger_id, n.id, m.user_id, n.read_at
FROM notifications n JOIN ledger_members m ON m.ledger_id = n.ledger_id
WHERE n.read_at IS NOT NULL;

ALTER TABLE notifications DROP COLUMN read_at;
