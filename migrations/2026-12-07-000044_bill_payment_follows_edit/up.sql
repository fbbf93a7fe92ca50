-- A bill's payment follows its expense when the expense is edited, as it already does when the
-- expense is deleted (migration 000040): a new amount or date is the payment's, and an expense
-- turned into income or a transfer, or moved into another currency than its bill's, pays
-- nothing, so the due date it paid reopens (through the payment_undone trigger). An outside
-- test found the payment still saying 50 on the 5th after its expense became 80 on the 6th,
-- and the due date still paid by what had become income.
CREATE FUNCTION finai_bill_payment_follows_edit() RETURNS trigger AS $$
BEGIN
    DELETE FROM bill_payments p
    USING bills b
    WHERE p.ledger_id = NEW.ledger_id AND p.transaction_id = NEW.id
      AND b.ledger_id = p.ledger_id AND b.id = p.bill_id
      AND (NEW.type <> 'expense' OR NEW.currency <> b.currency);
    UPDATE bill_payments
    SET amount = NEW.amount, paid_on = NEW.date
    WHERE ledger_id = NEW.ledger_id AND transaction_id = NEW.id
      AND (amount <> NEW.amount OR paid_on <> NEW.date);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER bill_payment_follows_edit AFTER UPDATE OF type, amount, date, currency ON transactions
    FOR EACH ROW
    WHEN (OLD.type IS DISTINCT FROM NEW.type OR OLD.amount IS DISTINCT FROM NEW.amount
          OR OLD.date IS DISTINCT FROM NEW.date OR OLD.currency IS DISTINCT FROM NEW.currency)
    EXECUTE FUNCTION finai_bill_payment_follows_edit();
