DROP TRIGGER bill_payment_follows_edit ON transactions;
DROP FUNCTION finai_bill_payment_follows_edit();
