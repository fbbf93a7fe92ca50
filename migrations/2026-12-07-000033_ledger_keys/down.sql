-- Back to the keys of migration 000032: primary keys on the row id, (ledger_id, id) unique keys
-- beside them for the foreign keys, and the three child tables without their ledger.
CREATE TEMPORARY TABLE ledger_keys_fks ON COMMIT DROP AS
SELECT c.conrelid::regclass::text AS tbl, c.conname, pg_get_constraintdef(c.oid) AS def
FROM pg_constraint c
WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
  AND c.confrelid::regclass::text IN (
      'wallets', 'categories', 'transactions', 'budgets', 'bills', 'recurring_transactions',
      'notifications', 'webhooks');

DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT * FROM ledger_keys_fks LOOP
        EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', r.tbl, r.conname);
    END LOOP;
END $$;

DROP INDEX event_tickets_token_hash_idx;
ALTER TABLE event_tickets DROP CONSTRAINT event_tickets_pkey;
ALTER TABLE event_tickets ADD PRIMARY KEY (token_hash);
DROP INDEX ledger_invitations_token_hash_idx;
ALTER TABLE ledger_invitations DROP CONSTRAINT ledger_invitations_token_hash_key;
ALTER TABLE ledger_invitations ADD CONSTRAINT ledger_invitations_token_hash_key UNIQUE (token_hash);
DROP INDEX category_descriptions_text_key;
CREATE UNIQUE INDEX category_descriptions_text_key ON category_descriptions (category_id, lower(text));
ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_webhook_id_event_id_key;
ALTER TABLE webhook_deliveries ADD CONSTRAINT webhook_deliveries_webhook_id_event_id_key
    UNIQUE (webhook_id, event_id);
ALTER TABLE bill_payments DROP CONSTRAINT bill_payments_bill_id_due_date_key;
ALTER TABLE bill_payments ADD CONSTRAINT bill_payments_bill_id_due_date_key UNIQUE (bill_id, due_date);
ALTER TABLE transaction_splits DROP CONSTRAINT transaction_splits_transaction_id_position_key;
ALTER TABLE transaction_splits ADD CONSTRAINT transaction_splits_transaction_id_position_key
    UNIQUE (transaction_id, "position");
ALTER TABLE notification_mails DROP CONSTRAINT notification_mails_pkey;
ALTER TABLE notification_mails ADD PRIMARY KEY (notification_id, user_id);
ALTER TABLE recurring_occurrences DROP CONSTRAINT recurring_occurrences_pkey;
ALTER TABLE recurring_occurrences ADD PRIMARY KEY (recurring_id, occurrence_date);
ALTER TABLE budget_categories DROP CONSTRAINT budget_categories_pkey;
ALTER TABLE budget_categories ADD PRIMARY KEY (budget_id, category_id);

DROP INDEX webhook_deliveries_id_idx;
DROP INDEX webhook_deliveries_list_idx;
CREATE INDEX webhook_deliveries_list_idx ON webhook_deliveries (webhook_id, created_at DESC, id DESC);
DROP INDEX category_suggestions_transaction_idx;
CREATE INDEX category_suggestions_transaction_idx ON category_suggestions (transaction_id)
    WHERE transaction_id IS NOT NULL;
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['import_batches', 'rules', 'receipts', 'attachments', 'goals',
                             'goal_contributions', 'scenarios', 'assistant_answers'] LOOP
        EXECUTE format('DROP INDEX %I', t || '_id_idx');
        EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I UNIQUE (id)', t, t || '_id_key');
    END LOOP;
    FOREACH t IN ARRAY ARRAY['wallets', 'categories', 'transactions', 'budgets', 'bills',
                             'recurring_transactions', 'category_descriptions',
                             'transaction_splits', 'tombstones', 'bill_payments', 'notifications',
                             'ml_models', 'predictions', 'category_suggestions', 'webhooks',
                             'webhook_deliveries'] LOOP
        EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', t, t || '_pkey');
        EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I PRIMARY KEY (id)', t, t || '_pkey');
    END LOOP;
    FOREACH t IN ARRAY ARRAY['wallets', 'categories', 'transactions', 'budgets', 'bills',
                             'recurring_transactions'] LOOP
        EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I UNIQUE (ledger_id, id)', t, t || '_user_id_id_key');
    END LOOP;
END $$;

DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT * FROM ledger_keys_fks LOOP
        r.def := CASE r.conname
            WHEN 'recurring_occurrences_recurring_id_fkey' THEN
                replace(r.def, 'FOREIGN KEY (ledger_id, recurring_id) REFERENCES recurring_transactions(ledger_id, id)',
                        'FOREIGN KEY (recurring_id) REFERENCES recurring_transactions(id)')
            WHEN 'notification_mails_notification_id_fkey' THEN
                replace(r.def, 'FOREIGN KEY (ledger_id, notification_id) REFERENCES notifications(ledger_id, id)',
                        'FOREIGN KEY (notification_id) REFERENCES notifications(id)')
            WHEN 'webhook_deliveries_webhook_id_fkey' THEN
                replace(r.def, 'FOREIGN KEY (ledger_id, webhook_id) REFERENCES webhooks(ledger_id, id)',
                        'FOREIGN KEY (webhook_id) REFERENCES webhooks(id)')
            ELSE r.def END;
        EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I %s', r.tbl, r.conname, r.def);
    END LOOP;
END $$;

ALTER TABLE webhook_deliveries DROP COLUMN ledger_id;
ALTER TABLE notification_mails DROP COLUMN ledger_id;
ALTER TABLE recurring_occurrences DROP COLUMN ledger_id;
