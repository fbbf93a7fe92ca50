ALTER TABLE notifications ADD COLUMN read_at timestamptz;
-- A notification any member read comes back read.
UPDATE notifications n SET read_at = r.read_at
FROM (SELECT ledger_id, notification_id, min(read_at) AS read_at
      FROM notification_reads GROUP BY ledger_id, notification_id) r
WHERE r.ledger_id = n.ledger_id AND r.notification_id = n.id;
CREATE INDEX notifications_unread_idx ON notifications (ledger_id, created_at DESC)
    WHERE read_at IS NULL;
DROP TABLE notification_reads;
