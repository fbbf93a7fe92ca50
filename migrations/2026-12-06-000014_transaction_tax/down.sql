ALTER TABLE transactions DROP COLUMN tax_rate, DROP COLUMN tax_deductible;
