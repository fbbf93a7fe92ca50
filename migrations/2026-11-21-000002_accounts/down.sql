DROP TABLE audit_log;
DROP TABLE user_tokens;
DROP TABLE refresh_tokens;
DROP TABLE login_throttle;
DROP TABLE users;
