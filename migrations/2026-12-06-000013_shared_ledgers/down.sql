-- Back to one owner per row: shared ledgers and what they hold go; personal ledgers' rows
-- return to their user (whose id the ledger shares).
DROP TRIGGER drop_personal_ledger ON users;
DROP FUNCTION finai_drop_personal_ledger();
ALTER TABLE transactions DROP COLUMN created_by, DROP COLUMN updated_by;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['recurring_transactions', 'bills', 'budgets', 'transactions'] LOOP
        EXECUTE format('DELETE FROM %I o USING ledgers l '
                       'WHERE l.id = o.ledger_id AND l.kind <> ''personal''', t);
    END LOOP;
END;
$$;
DELETE FROM ledgers WHERE kind <> 'personal';

DO $$
DECLARE
    f record;
BEGIN
    FOR f IN
        SELECT p.proname, p.prosrc FROM pg_proc p
        WHERE p.proname IN ('finai_bump_change_seq', 'finai_count_transactions', 'finai_event_seq',
                            'finai_notification_events', 'finai_roll_splits',
                            'finai_roll_transactions', 'finai_transaction_events')
    LOOP
        EXECUTE format('CREATE OR REPLACE FUNCTION %I() RETURNS trigger LANGUAGE plpgsql AS %L',
                       f.proname,
                       replace(replace(f.prosrc, 'ledger_id', 'user_id'),
                               'FROM ledgers u', 'FROM users u'));
    END LOOP;
END;
$$;

DO $$
DECLARE
    owned text[] := ARRAY[
        'wallets', 'categories', 'category_descriptions', 'category_suggestions', 'transactions',
        'transaction_splits', 'transaction_counts', 'daily_flows', 'daily_category_flows',
        'budgets', 'budget_categories', 'bills', 'bill_payments', 'recurring_transactions',
        'ml_models', 'predictions', 'notifications', 'tombstones', 'events'];
    direct text[] := ARRAY[
        'wallets', 'categories', 'category_descriptions', 'category_suggestions', 'transactions',
        'transaction_counts', 'daily_flows', 'daily_category_flows', 'budgets', 'bills',
        'recurring_transactions', 'ml_models', 'predictions', 'notifications', 'tombstones',
        'events'];
    t text;
BEGIN
    FOREACH t IN ARRAY owned LOOP
        EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', t, t || '_ledger_id_fkey');
        EXECUTE format('ALTER TABLE %I RENAME COLUMN ledger_id TO user_id', t);
    END LOOP;
    FOREACH t IN ARRAY direct LOOP
        EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I FOREIGN KEY (user_id) '
                       'REFERENCES users (id) ON DELETE CASCADE', t, t || '_user_id_fkey');
    END LOOP;
END;
$$;

DROP TABLE ledger_invitations;
DROP TABLE ledger_members;
DROP TABLE ledgers;
