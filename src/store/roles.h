/*
 * roles.h - the SQL of access control (API.md 4): roles and their
 * permissions, what the per-worker RBAC cache loads, and role assignment.
 */
#ifndef KEEL_STORE_ROLES_H
#define KEEL_STORE_ROLES_H

#include "auth/rbac.h"
#include "db/db.h"
#include "store/sessions.h"

#include <json-c/json.h>

/* The rbac_version number and the role -> permissions load. */
extern const rbac_source_t roles_rbac_source;

/* Every role, by name, with its permissions (sorted), `seeded`,
 * `created_at`, `updated_at`: a JSON array in *out (json_object_put). */
keel_rc roles_list(db_conn_t *c, json_object **out, db_error_t *err);

/*
 * Create or replace the role `name` with exactly the permissions of the
 * JSON array text `perms`, and audit it (role.created / role.updated),
 * in one transaction.  *created says which; *out gets the role as
 * roles_list shows it.  KEEL_EINVAL with the unknown names (a JSON array
 * in *unknown, json_object_put) when a permission does not exist;
 * KEEL_ECONFLICT when ROLES_MAX roles exist already or when no live user
 * could manage roles afterwards.
 */
keel_rc roles_put(db_conn_t *c, const char *name, const char *perms,
                  const audit_who_t *who, int *created, json_object **out,
                  json_object **unknown, db_error_t *err);

/*
 * Inside a transaction that changes roles or who holds them: take the one
 * lock that orders such changes (so two admins removing each other cannot
 * both succeed), and, at the end, check that some live user can still
 * manage roles.  roles_guard_check: KEEL_ECONFLICT when none could.
 */
keel_rc roles_guard_lock(db_conn_t *c, db_error_t *err);
keel_rc roles_guard_check(db_conn_t *c, db_error_t *err);

/* At most this many roles exist (the per-worker cache holds them all). */
#define ROLES_MAX RBAC_MAX_ROLES

typedef enum role_delete_refusal {
    ROLE_DELETE_SEEDED = 1,
    ROLE_DELETE_ASSIGNED,
} role_delete_refusal_t;

/*
 * Delete a role that is neither seeded nor assigned, and audit it.
 * KEEL_ENOTFOUND for no such role, KEEL_ECONFLICT with *why otherwise.
 */
keel_rc roles_delete(db_conn_t *c, const char *name, const audit_who_t *who,
                     role_delete_refusal_t *why, db_error_t *err);

#endif
