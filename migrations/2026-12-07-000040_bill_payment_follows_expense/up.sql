-- A bill's payment recorded as an expense goes with the expense: deleting the expense (paid in
-- error, or undone) reopens the due date it paid, where it used to stay paid with no money
-- spent and could never be paid again. The bill goes back to that due date if it had moved
-- past it, and a one-off bill is open again.
DELETE FROM bill_payments p
WHERE p.transaction_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM transactions t
                  WHERE t.ledger_id = p.ledger_id AND t.id = p.transaction_id);
CREATE INDEX bill_payments_transaction_idx ON bill_payments (ledger_id, transaction_id)
    WHERE transaction_id IS NOT NULL;
ALTER TABLE bill_payments ADD CONSTRAINT bill_payments_transaction_fkey
    FOREIGN KEY (ledger_id, transaction_id) REFERENCES transactions (ledger_id, id)
    ON DELETE CASCADE;

CREATE FUNCTION finai_bill_payment_undone() RETURNS trigger AS $$
BEGIN
    UPDATE bills
    SET next_due_date = LEAST(next_due_date, OLD.due_date), paid_at = NULL
    WHERE ledger_id = OLD.ledger_id AND id = OLD.bill_id
      AND (next_due_date > OLD.due_date OR paid_at IS NOT NULL);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER payment_undone AFTER DELETE ON bill_payments
    FOR EACH ROW EXECUTE FUNCTION finai_bill_payment_undone();
