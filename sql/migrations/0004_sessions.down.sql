-- 0004_sessions: remove sessions, tokens, throttling and the audit log.
DROP TABLE audit_events;
DROP FUNCTION audit_events_append_only();
DROP TABLE login_failures;
DROP TABLE email_verifications;
DROP TABLE refresh_tokens;
DROP TABLE sessions;
