-- 0005_rbac: back to 0004.
GRANT UPDATE, DELETE, TRUNCATE ON audit_events TO CURRENT_USER;
DROP INDEX jobs_type_idx;
DROP INDEX jobs_status_created_idx;
DROP INDEX jobs_created_idx;
DROP INDEX audit_events_action_idx;
DROP INDEX audit_events_target_idx;
DROP INDEX audit_events_actor_idx;
DROP INDEX audit_events_created_idx;
CREATE INDEX audit_events_created_idx ON audit_events (created_at, id);
CREATE INDEX audit_events_actor_idx ON audit_events (actor_id, created_at);
CREATE INDEX audit_events_target_idx ON audit_events (target_id, created_at);
DROP INDEX users_email_sort_idx;
DROP INDEX users_name_idx;
DROP INDEX users_created_idx;
CREATE INDEX users_created_at_idx ON users (created_at, id)
    WHERE deleted_at IS NULL;
DROP TRIGGER permissions_rbac_version ON permissions;
DROP TRIGGER role_permissions_rbac_version ON role_permissions;
DROP TRIGGER roles_rbac_version ON roles;
DROP FUNCTION rbac_version_bump();
DROP TABLE rbac_version;
