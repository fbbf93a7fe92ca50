ALTER TABLE event_tickets DROP COLUMN personal_token_id;
DROP TABLE personal_access_tokens;
