-- Excel workbooks (the import template) are an import format beside CSV and the bank files.
ALTER TABLE import_batches DROP CONSTRAINT import_batches_format_check;
ALTER TABLE import_batches ADD CONSTRAINT import_batches_format_check
    CHECK (format IN ('csv', 'ofx', 'qif', 'camt053', 'xlsx'));
