-- A receipt's reading is announced when it ends (read or failed): receipt_processed.
ALTER TABLE events DROP CONSTRAINT events_type_check;
ALTER TABLE events ADD CONSTRAINT events_type_check CHECK (type IN (
    'transaction_update', 'balance_update', 'budget_alert', 'bill_reminder', 'bill_paid',
    'unusual_spending', 'notification', 'import_finished', 'receipt_processed'));
