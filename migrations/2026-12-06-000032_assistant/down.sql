DELETE FROM notifications WHERE type IN ('goal_reached', 'goal_behind');
ALTER TABLE notifications DROP CONSTRAINT notifications_type_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_type_check CHECK (type IN (
    'budget_threshold', 'budget_exceeded', 'bill_due', 'bill_overdue', 'unusual_spending',
    'webhook_disabled', 'announcement'));
DROP TABLE assistant_answers;
DROP TABLE scenarios;
DROP TABLE goal_contributions;
DROP TABLE goals;
