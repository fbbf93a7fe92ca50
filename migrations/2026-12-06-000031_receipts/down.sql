DROP TRIGGER queue_file_garbage ON attachments;
DROP FUNCTION finai_queue_file_garbage();
DROP TABLE file_garbage;
DROP TABLE attachments;
DROP TABLE receipts;
