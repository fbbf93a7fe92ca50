-- A bill's payment follows its expense when the expense is edited, as it already does when the
-- expense is deleted (migration 000040): a new amount or date is the payment's, and an expense
-- turned into income or a transfer pays nothing, so the due date it paid reopens (through the
-- payment_undone trigger). An outside test found the payment still saying 50 on the 5th after
-- its expense became 80 on the 6th, and the due date still paid by what had become income.
CREATE FUNCTION finai_bill_payment_follows_edit() RETURNS trigger AS $$
BEGIN
    IF NEW.type <> 'expense' THEN
        DELETE FROM bill_payments
        WHERE ledger_id = NEW.ledger_id AND transaction_id = NEW.id;
    ELSE
        UPDATE bill_payments
        SET amount = NEW.amount, paid_on = NEW.date
        WHERE ledger_id = NEW.ledger_id AND transaction_id = NEW.id
          AND (amount <> NEW.amount OR paid_on <> NEW.date);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER bill_payment_follows_edit AFTER UPDATE OF type, amount, date ON transactions
    FOR EACH ROW
    WHEN (OLD.type IS DISTINCT FROM NEW.type OR OLD.amount IS DISTINCT FROM NEW.amount
          OR OLD.date IS DISTINCT FROM NEW.date)
    EXECUTE FUNCTION finai_bill_payment_follows_edit();
