DELETE FROM import_batches WHERE format = 'xlsx';
ALTER TABLE import_batches DROP CONSTRAINT import_batches_format_check;
ALTER TABLE import_batches ADD CONSTRAINT import_batches_format_check
    CHECK (format IN ('csv', 'ofx', 'qif', 'camt053'));
