DROP TRIGGER aa_lock_ledger ON notifications;
DROP FUNCTION finai_notification_locks_ledger();
