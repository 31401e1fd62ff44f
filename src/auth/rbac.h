/*
 * rbac.h - role -> permissions, cached per worker (API.md 4).
 *
 * Roles and their permissions live in the database; every worker keeps a
 * snapshot of all of them and compares a version number with the database
 * at most once a second (RBAC_CHECK_INTERVAL), reloading when it moved, so
 * a role change reaches every worker within about a second and resolving a
 * caller's permissions costs no query on the request path.  The queries
 * are the application's (rbac_source_t): this module holds no SQL.
 * Thread-safe.
 */
#ifndef KEEL_AUTH_RBAC_H
#define KEEL_AUTH_RBAC_H

#include "core/arena.h"
#include "core/error.h"

#include <stddef.h>

typedef struct db_conn db_conn_t;
typedef struct db_error db_error_t;

#define RBAC_CHECK_INTERVAL 1.0
/* Past this age a snapshot that cannot be checked is not used (API.md 3
 * promises 5 s for a change to take effect). */
#define RBAC_MAX_STALENESS   5.0
#define RBAC_MAX_ROLES       256
#define RBAC_MAX_PERMISSIONS 64
#define RBAC_NAME_MAX        65

typedef struct rbac_snapshot rbac_snapshot_t;

/* Add one (role, permission) pair, or a role without any (perm NULL). */
keel_rc rbac_snapshot_add(rbac_snapshot_t *s, const char *role,
                          const char *perm);

typedef struct rbac_source {
    /* The current version number. */
    keel_rc (*version)(db_conn_t *c, long long *version, db_error_t *err);
    /* Every role with its permissions, through rbac_snapshot_add(). */
    keel_rc (*load)(db_conn_t *c, rbac_snapshot_t *s, db_error_t *err);
} rbac_source_t;

/* 1 when the snapshot is due for a version check (so a connection is
 * needed for rbac_sync()). */
int rbac_due(double now);

/*
 * Check the version and reload when it changed.  Blocks on the database.
 * On failure the old snapshot stays in use until RBAC_MAX_STALENESS, then
 * rbac_resolve() refuses (KEEL_EUNAVAIL).
 */
keel_rc rbac_sync(db_conn_t *c, const rbac_source_t *src, double now,
                  db_error_t *err);

/*
 * The permissions that `roles` grant together, sorted and distinct, as
 * arena strings in *perms.  Unknown roles grant nothing.  KEEL_EUNAVAIL
 * when no usable snapshot is loaded.
 */
keel_rc rbac_resolve(const char *const *roles, size_t nroles, double now,
                     arena_t *a, const char *const **perms, size_t *nperms);

/* Forget the snapshot (tests; a worker after it changed roles itself). */
void rbac_invalidate(void);

#endif
