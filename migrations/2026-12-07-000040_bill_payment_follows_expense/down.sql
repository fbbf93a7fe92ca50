DROP TRIGGER payment_undone ON bill_payments;
DROP FUNCTION finai_bill_payment_undone();
ALTER TABLE bill_payments DROP CONSTRAINT bill_payments_transaction_fkey;
DROP INDEX bill_payments_transaction_idx;
