-- Tax on a transaction, for the business ledgers' tax summary: the rate (in percent) its
-- amount includes, and whether an expense is deductible.
ALTER TABLE transactions
    ADD COLUMN tax_rate numeric(7, 4) CHECK (tax_rate >= 0 AND tax_rate <= 100),
    ADD COLUMN tax_deductible boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT transactions_tax_not_on_transfers
        CHECK (type <> 'transfer' OR (tax_rate IS NULL AND NOT tax_deductible));
