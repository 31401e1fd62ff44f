/*
 * sessions.h - the SQL of authentication (store layer: no HTTP here):
 * users by email, sessions and their rotating refresh tokens, email
 * verification tokens, login failure counts, the revocation state of a
 * user's tokens, and audit records.
 *
 * Tokens arrive here already hashed (auth/tokens.h), as bytea literals.
 * Users are addressed by their public id; internal ids stay inside.
 */
#ifndef KEEL_STORE_SESSIONS_H
#define KEEL_STORE_SESSIONS_H

#include "db/db.h"

#include <json-c/json.h>

typedef struct login_user {
    char id[37];
    char hash[160];
    int verified;
    int disabled;
    char email[255];
} login_user_t;

/* A live user by email (case-insensitive): KEEL_OK or KEEL_ENOTFOUND. */
keel_rc auth_user_by_email(db_conn_t *c, const char *email, login_user_t *u,
                           db_error_t *err);
/* A live user by public id, for a password check. */
keel_rc auth_user_by_id(db_conn_t *c, const char *id, login_user_t *u,
                        db_error_t *err);

/* Replace a user's password hash (re-hash on login: no revocation). */
keel_rc auth_set_hash(db_conn_t *c, const char *user_id, const char *hash,
                      db_error_t *err);

/*
 * The user as the API shows it (API.md 5.1), with "permissions" too when
 * `with_permissions`.  KEEL_ENOTFOUND for no live user.
 */
keel_rc auth_user_json(db_conn_t *c, const char *user_id, int with_permissions,
                       json_object **out, db_error_t *err);

/*
 * A new session for `user_id` with its first refresh token (hash_hex),
 * expiring after `ttl` seconds.  `sid` gets its public id and *now the
 * database's clock (seconds), for the access token's iat.
 */
keel_rc session_create(db_conn_t *c, const char *user_id, const char *ua,
                       const char *ip, double ttl, const char *hash_hex,
                       char sid[37], double *now, db_error_t *err);

typedef enum refresh_outcome {
    REFRESH_ROTATED, /* new token stored, old one rotated */
    REFRESH_UNKNOWN, /* no such token, or its session is over */
    REFRESH_GRACE,   /* a rotated token, again within the grace window */
    REFRESH_REUSED,  /* a rotated token after the window: family revoked */
} refresh_outcome_t;

typedef struct refresh_result {
    refresh_outcome_t outcome;
    char user_id[37];
    char sid[37];
    double now;
} refresh_result_t;

/*
 * Rotate: in one transaction, look the token up (locking it and its
 * session), and either rotate it to `new_hash` or report why not; reuse
 * revokes that session and every access token of the user issued so far
 * (tokens_valid_after) and writes an audit record, and that commits.
 */
keel_rc session_refresh(db_conn_t *c, const char *old_hash,
                        const char *new_hash, double grace, const char *ip,
                        const char *request_id, refresh_result_t *r,
                        db_error_t *err);

/* Revoke the session of a current refresh token: KEEL_ENOTFOUND if none. */
keel_rc session_logout(db_conn_t *c, const char *hash_hex, db_error_t *err);

/*
 * Revoke every session of the user but `keep_sid` (NULL: all) and make
 * every access token issued so far invalid (tokens_valid_after = now()).
 */
keel_rc session_revoke_all(db_conn_t *c, const char *user_id,
                           const char *keep_sid, const char *reason,
                           db_error_t *err);

/* The user's active sessions, newest first, "current" marked. */
keel_rc session_list(db_conn_t *c, const char *user_id, const char *current,
                     json_object **out, db_error_t *err);
/* Revoke one of the user's sessions: KEEL_ENOTFOUND if not theirs/active. */
keel_rc session_delete(db_conn_t *c, const char *user_id, const char *sid,
                       db_error_t *err);

/* tokens_valid_after (epoch seconds) and whether the user may act. */
keel_rc auth_token_state(db_conn_t *c, const char *user_id, double *valid_after,
                         int *active, db_error_t *err);

/*
 * Failed logins for an email in the current 15-minute window: count one
 * more (returns the count in *failures), read it, or clear it.
 */
keel_rc login_failure_add(db_conn_t *c, const char *email, int *failures,
                          db_error_t *err);
keel_rc login_failure_get(db_conn_t *c, const char *email, int *failures,
                          double *retry_after, db_error_t *err);
keel_rc login_failure_clear(db_conn_t *c, const char *email, db_error_t *err);

/* Store a verification token for the user, valid `ttl` seconds. */
keel_rc verification_create(db_conn_t *c, const char *user_id,
                            const char *hash_hex, double ttl, db_error_t *err);
/* Use a verification token: the user's id, or KEEL_ENOTFOUND when it is
 * unknown, used or expired. */
keel_rc verification_use(db_conn_t *c, const char *hash_hex, char user_id[37],
                         db_error_t *err);

/* Who acts, for audit records: the user (NULL: nobody authenticated), the
 * client's address and the request id. */
typedef struct audit_who {
    const char *actor_id;
    const char *ip;
    const char *request_id;
} audit_who_t;

/* Append to the audit log; details is a JSON object's text or NULL. */
keel_rc audit_record(db_conn_t *c, const char *action, const char *actor_id,
                     const char *target_type, const char *target_id,
                     const char *ip, const char *request_id,
                     const char *details, db_error_t *err);

/* Create a user (role "user") inside the caller's transaction. */
keel_rc auth_user_insert(db_conn_t *c, const char *email, const char *name,
                         const char *hash, char user_id[37], db_error_t *err);

#endif
