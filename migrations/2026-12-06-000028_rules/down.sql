UPDATE transactions SET category_source = 'user' WHERE category_source IN ('rule', 'default');
ALTER TABLE transactions DROP CONSTRAINT transactions_category_source_check;
ALTER TABLE transactions ADD CONSTRAINT transactions_category_source_check
    CHECK (category_source IN ('user', 'ml'));
DROP TABLE rules;
