-- The ledger is the sharding key (issue 18): every ledger-owned table's primary key and unique
-- keys lead with ledger_id, and its foreign keys to other ledger-owned tables carry it, so a
-- distributed PostgreSQL (Citus and its kind) could place each ledger's rows on one node and
-- check every constraint there. tests/api/schema.rs checks the catalogue for it.
--
-- 1. The foreign keys into the tables whose keys change are set aside and put back at the end
--    (the keys they use are rebuilt in between).
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

-- 2. Three tables hung off a ledger-owned row by its id alone: they get the ledger too.
ALTER TABLE recurring_occurrences ADD COLUMN ledger_id uuid;
UPDATE recurring_occurrences o SET ledger_id = r.ledger_id
FROM recurring_transactions r WHERE r.id = o.recurring_id;
ALTER TABLE recurring_occurrences ALTER COLUMN ledger_id SET NOT NULL;

ALTER TABLE notification_mails ADD COLUMN ledger_id uuid;
UPDATE notification_mails m SET ledger_id = n.ledger_id
FROM notifications n WHERE n.id = m.notification_id;
ALTER TABLE notification_mails ALTER COLUMN ledger_id SET NOT NULL;

ALTER TABLE webhook_deliveries ADD COLUMN ledger_id uuid;
UPDATE webhook_deliveries d SET ledger_id = w.ledger_id
FROM webhooks w WHERE w.id = d.webhook_id;
ALTER TABLE webhook_deliveries ALTER COLUMN ledger_id SET NOT NULL;

-- 3. Primary keys: (ledger_id, id) where they were (id); the (ledger_id, id) unique keys that
--    stood beside them go (the primary key is that key now).
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['wallets', 'categories', 'transactions', 'budgets', 'bills',
                             'recurring_transactions'] LOOP
        EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', t, t || '_user_id_id_key');
    END LOOP;
    FOREACH t IN ARRAY ARRAY['wallets', 'categories', 'transactions', 'budgets', 'bills',
                             'recurring_transactions', 'category_descriptions',
                             'transaction_splits', 'tombstones', 'bill_payments', 'notifications',
                             'ml_models', 'predictions', 'category_suggestions', 'webhooks',
                             'webhook_deliveries'] LOOP
        EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', t, t || '_pkey');
        EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I PRIMARY KEY (ledger_id, id)', t, t || '_pkey');
    END LOOP;
    -- Tables born with (ledger_id, id) keys kept a unique (id) beside them: a plain index now,
    -- for the jobs that find a row by its id.
    FOREACH t IN ARRAY ARRAY['import_batches', 'rules', 'receipts', 'attachments', 'goals',
                             'goal_contributions', 'scenarios', 'assistant_answers'] LOOP
        EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', t, t || '_id_key');
        EXECUTE format('CREATE INDEX %I ON %I (id)', t || '_id_idx', t);
    END LOOP;
END $$;
CREATE INDEX webhook_deliveries_id_idx ON webhook_deliveries (id);
DROP INDEX webhook_deliveries_list_idx;
CREATE INDEX webhook_deliveries_list_idx
    ON webhook_deliveries (ledger_id, webhook_id, created_at DESC, id DESC);
DROP INDEX category_suggestions_transaction_idx;
CREATE INDEX category_suggestions_transaction_idx
    ON category_suggestions (ledger_id, transaction_id) WHERE transaction_id IS NOT NULL;

-- 4. The other keys, led by the ledger.
ALTER TABLE budget_categories DROP CONSTRAINT budget_categories_pkey;
ALTER TABLE budget_categories ADD PRIMARY KEY (ledger_id, budget_id, category_id);
ALTER TABLE recurring_occurrences DROP CONSTRAINT recurring_occurrences_pkey;
ALTER TABLE recurring_occurrences ADD PRIMARY KEY (ledger_id, recurring_id, occurrence_date);
ALTER TABLE notification_mails DROP CONSTRAINT notification_mails_pkey;
ALTER TABLE notification_mails ADD PRIMARY KEY (ledger_id, notification_id, user_id);
ALTER TABLE transaction_splits DROP CONSTRAINT transaction_splits_transaction_id_position_key;
ALTER TABLE transaction_splits ADD CONSTRAINT transaction_splits_transaction_id_position_key
    UNIQUE (ledger_id, transaction_id, "position");
ALTER TABLE bill_payments DROP CONSTRAINT bill_payments_bill_id_due_date_key;
ALTER TABLE bill_payments ADD CONSTRAINT bill_payments_bill_id_due_date_key
    UNIQUE (ledger_id, bill_id, due_date);
ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_webhook_id_event_id_key;
ALTER TABLE webhook_deliveries ADD CONSTRAINT webhook_deliveries_webhook_id_event_id_key
    UNIQUE (ledger_id, webhook_id, event_id);
DROP INDEX category_descriptions_text_key;
CREATE UNIQUE INDEX category_descriptions_text_key
    ON category_descriptions (ledger_id, category_id, lower(text));
-- Single-use tokens are found by their hash alone (the holder does not know the ledger): a
-- plain index finds them, the key carries the ledger.
ALTER TABLE ledger_invitations DROP CONSTRAINT ledger_invitations_token_hash_key;
ALTER TABLE ledger_invitations ADD CONSTRAINT ledger_invitations_token_hash_key
    UNIQUE (ledger_id, token_hash);
CREATE INDEX ledger_invitations_token_hash_idx ON ledger_invitations (token_hash);
ALTER TABLE event_tickets DROP CONSTRAINT event_tickets_pkey;
ALTER TABLE event_tickets ADD PRIMARY KEY (ledger_id, token_hash);
CREATE INDEX event_tickets_token_hash_idx ON event_tickets (token_hash);

-- 5. The foreign keys back, those that named a row by its id alone now with its ledger.
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT * FROM ledger_keys_fks LOOP
        r.def := CASE r.conname
            WHEN 'recurring_occurrences_recurring_id_fkey' THEN
                replace(r.def, 'FOREIGN KEY (recurring_id) REFERENCES recurring_transactions(id)',
                        'FOREIGN KEY (ledger_id, recurring_id) REFERENCES recurring_transactions(ledger_id, id)')
            WHEN 'notification_mails_notification_id_fkey' THEN
                replace(r.def, 'FOREIGN KEY (notification_id) REFERENCES notifications(id)',
                        'FOREIGN KEY (ledger_id, notification_id) REFERENCES notifications(ledger_id, id)')
            WHEN 'webhook_deliveries_webhook_id_fkey' THEN
                replace(r.def, 'FOREIGN KEY (webhook_id) REFERENCES webhooks(id)',
                        'FOREIGN KEY (ledger_id, webhook_id) REFERENCES webhooks(ledger_id, id)')
            ELSE r.def END;
        EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I %s', r.tbl, r.conname, r.def);
    END LOOP;
END $$;
