DROP INDEX refresh_tokens_live_idx;
ALTER TABLE refresh_tokens DROP COLUMN ip, DROP COLUMN user_agent;
