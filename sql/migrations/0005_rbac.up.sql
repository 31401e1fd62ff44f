-- 0005_rbac: what access control (API.md 4, 5.1) needs beyond 0001.

-- One number that changes with every change of roles or their permissions.
-- Each worker caches role -> permissions and compares this number at most
-- once a second (auth/rbac.c), so a change reaches every worker within 1 s
-- without a query per request.
CREATE TABLE rbac_version (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    version  bigint NOT NULL DEFAULT 1
);
INSERT INTO rbac_version DEFAULT VALUES;

CREATE FUNCTION rbac_version_bump() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE rbac_version SET version = version + 1;
    RETURN NULL;
END;
$$;
CREATE TRIGGER roles_rbac_version
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON roles
    FOR EACH STATEMENT EXECUTE FUNCTION rbac_version_bump();
CREATE TRIGGER role_permissions_rbac_version
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON role_permissions
    FOR EACH STATEMENT EXECUTE FUNCTION rbac_version_bump();
CREATE TRIGGER permissions_rbac_version
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON permissions
    FOR EACH STATEMENT EXECUTE FUNCTION rbac_version_bump();

-- Collections (API.md 1.4) page by keyset on (sort key, public id): the
-- public id breaks ties, so each allowed sort has an index ending in it.
-- Users: live users only, sorted by created_at, name or email.
DROP INDEX users_created_at_idx;
CREATE INDEX users_created_idx ON users (created_at, public_id)
    WHERE deleted_at IS NULL;
CREATE INDEX users_name_idx ON users (name, public_id)
    WHERE deleted_at IS NULL;
CREATE INDEX users_email_sort_idx ON users (email, public_id)
    WHERE deleted_at IS NULL;
-- Audit events: newest first, filtered by actor, target or action.
DROP INDEX audit_events_created_idx;
DROP INDEX audit_events_actor_idx;
DROP INDEX audit_events_target_idx;
CREATE INDEX audit_events_created_idx ON audit_events (created_at, public_id);
CREATE INDEX audit_events_actor_idx
    ON audit_events (actor_id, created_at, public_id);
CREATE INDEX audit_events_target_idx
    ON audit_events (target_id, created_at, public_id);
CREATE INDEX audit_events_action_idx
    ON audit_events (action, created_at, public_id);
-- Jobs: newest first, filtered by status or type.
CREATE INDEX jobs_created_idx ON jobs (created_at, public_id);
CREATE INDEX jobs_status_created_idx ON jobs (status, created_at, public_id);
CREATE INDEX jobs_type_idx ON jobs (type, created_at, public_id);

-- The audit log is append-only for the role that runs the application too,
-- by privilege as well as by trigger.  Here the application's role owns the
-- tables (it runs the migrations); an owner keeps the right to grant the
-- privilege back, which only a migration would do.  Where a separate role
-- owns the schema, the application's role is simply never granted these.
REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM PUBLIC;
REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM CURRENT_USER;
