DROP TRIGGER access_changed ON refresh_tokens;
ALTER TABLE event_tickets DROP COLUMN session_id;
