/*
 * users.h - SQL for user accounts (store layer: no HTTP here).
 */
#ifndef KEEL_STORE_USERS_H
#define KEEL_STORE_USERS_H

#include "db/db.h"
#include "http/collection.h"
#include "store/sessions.h"

#include <json-c/json.h>

/*
 * Create a user with the role "user" and, when `role` is another name,
 * that role too, in one transaction.  `public_id` gets the new UUID.
 * KEEL_ECONFLICT when a live user has that email (case-insensitively),
 * KEEL_ENOTFOUND when `role` does not exist.
 */
keel_rc users_create(db_conn_t *c, const char *email, const char *name,
                     const char *password_hash, const char *role,
                     char public_id[37], db_error_t *err);

/* GET /v1/users and /v1/users/{id}: fields, filters, sorts (API.md 5.1). */
extern const coll_schema_t users_collection;

/* A live user as the API shows it, fields as `q` selects (NULL: all).
 * KEEL_ENOTFOUND for no live user with that public id. */
keel_rc users_get(db_conn_t *c, const coll_query_t *q, const char *id,
                  json_object **out, db_error_t *err);

/*
 * Change a live user's name and/or email (NULL: unchanged) in one
 * statement that checks the version: `if_match` and `version` (-1: not
 * given) must equal the current version.  A changed email is unverified
 * again.  Audited as user.updated with the names of the changed fields.
 * KEEL_ENOTFOUND, KEEL_EPRECOND (if_match stale), KEEL_EVERSION (version
 * stale), KEEL_ECONFLICT (email taken).  *out: the user (all fields).
 */
keel_rc users_update(db_conn_t *c, const char *id, const char *name,
                     const char *email, long long if_match, long long version,
                     const audit_who_t *who, json_object **out,
                     db_error_t *err);

/*
 * Soft-delete a live user in one transaction: deleted_at set (their email
 * is free again), their posts deleted, role assignments removed, every session
 * revoked and every access token refused (tokens_valid_after), audited as
 * user.deleted.  KEEL_ENOTFOUND for no live user; KEEL_EPRECOND when
 * `if_match` (-1: not given) is not the current version; KEEL_ECONFLICT
 * when no live user could manage roles afterwards.
 */
keel_rc users_delete(db_conn_t *c, const char *id, long long if_match,
                     const audit_who_t *who, db_error_t *err);

/*
 * Replace a live user's roles with the names in the JSON array text
 * `roles`, refuse their access tokens issued so far (the roles they carry
 * are stale), and audit user.roles_changed.  KEEL_EINVAL with the unknown
 * names in *unknown (json_object_put) when a role does not exist;
 * KEEL_ECONFLICT when no live user could manage roles afterwards.
 * *out: the user (all fields).
 */
keel_rc users_set_roles(db_conn_t *c, const char *id, const char *roles,
                        const audit_who_t *who, json_object **out,
                        json_object **unknown, db_error_t *err);

#endif
