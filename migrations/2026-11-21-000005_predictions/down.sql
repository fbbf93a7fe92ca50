DROP TABLE category_suggestions;
DROP TABLE predictions;
DROP TABLE ml_models;
ALTER TABLE transactions
    DROP COLUMN unusual_reason,
    DROP COLUMN is_unusual,
    DROP COLUMN category_confidence,
    DROP COLUMN category_source;
