/* sessions.c - authentication's SQL (parameterized statements only). */
#include "keel-build.h"

#include "store/sessions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TS(col)                                                                \
    "to_char(" col " AT TIME ZONE 'UTC', "                                     \
    "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

DB_STMT(st_login_by_email, 1,
        "SELECT public_id, password_hash, email_verified_at IS NOT NULL, "
        "disabled_at IS NOT NULL, email FROM users "
        "WHERE lower(email) = lower($1) AND deleted_at IS NULL");
DB_STMT(st_login_by_id, 1,
        "SELECT public_id, password_hash, email_verified_at IS NOT NULL, "
        "disabled_at IS NOT NULL, email FROM users "
        "WHERE public_id = $1::uuid AND deleted_at IS NULL");
DB_STMT(st_set_hash, 2,
        "UPDATE users SET password_hash = $2 WHERE public_id = $1::uuid");
DB_STMT(
    st_user_json, 2,
    "SELECT json_build_object('id', u.public_id, 'email', u.email, "
    "'name', u.name, 'roles', coalesce((SELECT json_agg(r.name ORDER BY "
    "r.name) FROM user_roles ur JOIN roles r ON r.id = ur.role_id "
    "WHERE ur.user_id = u.id), '[]'), "
    "'email_verified_at', " TS(
        "u.email_verified_at") ", "
                               "'created_at', " TS(
                                   "u.created_at") ", "
                                                   "'updated_at', " TS(
                                                       "u.updated_at") ", "
                                                                       "'versio"
                                                                       "n', "
                                                                       "u."
                                                                       "version"
                                                                       ") "
                                                                       "::"
                                                                       "jsonb "
                                                                       "|| "
                                                                       "CASE "
                                                                       "WHEN "
                                                                       "$2::"
                                                                       "boolean"
                                                                       " THEN "
                                                                       "jsonb_"
                                                                       "build_"
                                                                       "object("
                                                                       "'permis"
                                                                       "sions',"
                                                                       " coales"
                                                                       "ce(("
                                                                       "SELECT "
                                                                       "jsonb_"
                                                                       "agg("
                                                                       "DISTINC"
                                                                       "T "
                                                                       "p.name)"
                                                                       " "
                                                                       "FROM "
                                                                       "user_"
                                                                       "roles "
                                                                       "ur "
                                                                       "JOIN "
                                                                       "role_"
                                                                       "permiss"
                                                                       "ions "
                                                                       "rp ON "
                                                                       "rp."
                                                                       "role_"
                                                                       "id = "
                                                                       "ur."
                                                                       "role_"
                                                                       "id "
                                                                       "JOIN "
                                                                       "permiss"
                                                                       "ions p "
                                                                       "ON "
                                                                       "p.id = "
                                                                       "rp."
                                                                       "permiss"
                                                                       "ion_id "
                                                                       "WHERE "
                                                                       "ur."
                                                                       "user_"
                                                                       "id = "
                                                                       "u.id), "
                                                                       "'[]')) "
                                                                       "ELSE "
                                                                       "'{}' "
                                                                       "END "
                                                                       "FROM "
                                                                       "users "
                                                                       "u "
                                                                       "WHERE "
                                                                       "u."
                                                                       "public_"
                                                                       "id = "
                                                                       "$1::"
                                                                       "uuid "
                                                                       "AND "
                                                                       "u."
                                                                       "deleted"
                                                                       "_at IS "
                                                                       "NULL");
DB_STMT(st_session_insert, 4,
        "INSERT INTO sessions (user_id, user_agent, ip, expires_at) "
        "SELECT id, left($2, 512), left($3, 64), now() + make_interval(secs "
        "=> $4::float8) FROM users WHERE public_id = $1::uuid "
        "RETURNING id, public_id, extract(epoch FROM now())::float8");
DB_STMT(st_token_insert, 2,
        "INSERT INTO refresh_tokens (session_id, token_hash) "
        "VALUES ($1::bigint, $2::bytea)");
DB_STMT(st_refresh_lookup, 1,
        "SELECT rt.id, rt.rotated_at IS NOT NULL, "
        "extract(epoch FROM now() - rt.rotated_at)::float8, s.id, "
        "s.public_id, s.revoked_at IS NULL AND s.expires_at > now() "
        "AND u.deleted_at IS NULL AND u.disabled_at IS NULL, u.public_id, "
        "extract(epoch FROM now())::float8 "
        "FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id "
        "JOIN users u ON u.id = s.user_id WHERE rt.token_hash = $1::bytea "
        "FOR UPDATE OF rt, s");
DB_STMT(st_token_rotate, 1,
        "UPDATE refresh_tokens SET rotated_at = now() WHERE id = $1::bigint");
DB_STMT(st_session_touch, 1,
        "UPDATE sessions SET last_used_at = now() WHERE id = $1::bigint");
DB_STMT(st_session_revoke, 2,
        "UPDATE sessions SET revoked_at = now(), revoked_reason = $2 "
        "WHERE id = $1::bigint AND revoked_at IS NULL");
DB_STMT(st_logout, 1,
        "UPDATE sessions s SET revoked_at = now(), revoked_reason = 'logout' "
        "FROM refresh_tokens rt WHERE rt.session_id = s.id "
        "AND rt.token_hash = $1::bytea AND rt.rotated_at IS NULL "
        "AND s.revoked_at IS NULL RETURNING s.id");
DB_STMT(st_revoke_all, 3,
        "UPDATE sessions SET revoked_at = now(), revoked_reason = $3 "
        "WHERE user_id = (SELECT id FROM users WHERE public_id = $1::uuid) "
        "AND revoked_at IS NULL AND ($2::uuid IS NULL OR public_id <> $2)");
DB_STMT(st_tokens_bump, 1,
        "UPDATE users SET tokens_valid_after = now() "
        "WHERE public_id = $1::uuid");
DB_STMT(st_session_list, 2,
        "SELECT coalesce(json_agg(json_build_object('id', s.public_id, "
        "'created_at', " TS("s.created_at") ", 'last_used_at', " TS(
            "s.last_used_at") ", 'user_agent', s.user_agent, 'ip', s.ip, "
                              "'current', s.public_id = $2::uuid) ORDER BY "
                              "s.created_at DESC, s.id DESC), '[]')::text "
                              "FROM sessions s JOIN users u ON u.id = "
                              "s.user_id WHERE u.public_id = $1::uuid AND "
                              "s.revoked_at IS NULL AND s.expires_at > now()");
DB_STMT(st_session_delete, 2,
        "UPDATE sessions s SET revoked_at = now(), revoked_reason = 'deleted' "
        "FROM users u WHERE u.id = s.user_id AND u.public_id = $1::uuid "
        "AND s.public_id = $2::uuid AND s.revoked_at IS NULL "
        "AND s.expires_at > now() RETURNING s.id");
DB_STMT(st_token_state, 1,
        "SELECT extract(epoch FROM tokens_valid_after)::float8, "
        "deleted_at IS NULL AND disabled_at IS NULL "
        "FROM users WHERE public_id = $1::uuid");
DB_STMT(st_failure_add, 1,
        "INSERT INTO login_failures AS f (email, failures, window_start) "
        "VALUES (lower($1), 1, now()) ON CONFLICT (email) DO UPDATE SET "
        "failures = CASE WHEN f.window_start < now() - interval '15 minutes' "
        "THEN 1 ELSE f.failures + 1 END, window_start = CASE WHEN "
        "f.window_start < now() - interval '15 minutes' THEN now() "
        "ELSE f.window_start END RETURNING failures");
DB_STMT(st_failure_get, 1,
        "SELECT failures, extract(epoch FROM window_start + "
        "interval '15 minutes' - now())::float8 FROM login_failures "
        "WHERE email = lower($1) AND "
        "window_start > now() - interval '15 minutes'");
DB_STMT(st_failure_clear, 1,
        "DELETE FROM login_failures WHERE email = lower($1)");
DB_STMT(st_verification_insert, 3,
        "INSERT INTO email_verifications (user_id, token_hash, expires_at) "
        "SELECT id, $2::bytea, now() + make_interval(secs => $3::float8) "
        "FROM users WHERE public_id = $1::uuid");
DB_STMT(st_verification_use, 1,
        "WITH v AS (UPDATE email_verifications SET used_at = now() "
        "WHERE token_hash = $1::bytea AND used_at IS NULL "
        "AND expires_at > now() RETURNING user_id) "
        "UPDATE users u SET email_verified_at = coalesce(email_verified_at, "
        "now()), updated_at = now(), version = version + 1 FROM v "
        "WHERE u.id = v.user_id AND u.deleted_at IS NULL "
        "RETURNING u.public_id");
DB_STMT(st_audit_insert, 7,
        "INSERT INTO audit_events (action, actor_id, target_type, target_id, "
        "ip, request_id, details) VALUES ($1, $2::uuid, $3, $4, $5, $6, "
        "coalesce($7::jsonb, '{}'))");
DB_STMT(st_user_insert, 3,
        "WITH u AS (INSERT INTO users (email, name, password_hash) "
        "VALUES ($1, $2, $3) RETURNING id, public_id), "
        "r AS (INSERT INTO user_roles (user_id, role_id) "
        "SELECT u.id, roles.id FROM u, roles WHERE roles.name = 'user') "
        "SELECT public_id FROM u");

/* One row, or KEEL_ENOTFOUND; *res is cleared on anything but KEEL_OK. */
static keel_rc
one_row(db_conn_t *c, const db_stmt_t *st, const char *const *p, PGresult **res,
        db_error_t *err)
{
    keel_rc rc = db_exec(c, st, p, res, err);

    if (rc != KEEL_OK)
        return rc;
    if (PQntuples(*res) != 1) {
        PQclear(*res);
        *res = NULL;
        return KEEL_ENOTFOUND;
    }
    return KEEL_OK;
}

static void
copy_id(char out[37], const char *v)
{
    snprintf(out, 37, "%s", v);
}

static int
is_true(PGresult *res, int row, int col)
{
    return strcmp(PQgetvalue(res, row, col), "t") == 0;
}

static keel_rc
login_user(db_conn_t *c, const db_stmt_t *st, const char *key, login_user_t *u,
           db_error_t *err)
{
    const char *p[1] = { key };
    PGresult *res;
    keel_rc rc = one_row(c, st, p, &res, err);

    memset(u, 0, sizeof(*u));
    if (rc != KEEL_OK)
        return rc;
    copy_id(u->id, PQgetvalue(res, 0, 0));
    snprintf(u->hash, sizeof(u->hash), "%s", PQgetvalue(res, 0, 1));
    u->verified = is_true(res, 0, 2);
    u->disabled = is_true(res, 0, 3);
    snprintf(u->email, sizeof(u->email), "%s", PQgetvalue(res, 0, 4));
    PQclear(res);
    return KEEL_OK;
}

keel_rc
auth_user_by_email(db_conn_t *c, const char *email, login_user_t *u,
                   db_error_t *err)
{
    return login_user(c, &st_login_by_email, email, u, err);
}

keel_rc
auth_user_by_id(db_conn_t *c, const char *id, login_user_t *u, db_error_t *err)
{
    return login_user(c, &st_login_by_id, id, u, err);
}

keel_rc
auth_set_hash(db_conn_t *c, const char *user_id, const char *hash,
              db_error_t *err)
{
    const char *p[2] = { user_id, hash };

    return db_exec(c, &st_set_hash, p, NULL, err);
}

keel_rc
auth_user_json(db_conn_t *c, const char *user_id, int with_permissions,
               json_object **out, db_error_t *err)
{
    const char *p[2] = { user_id, with_permissions ? "true" : "false" };
    PGresult *res;
    keel_rc rc = one_row(c, &st_user_json, p, &res, err);

    *out = NULL;
    if (rc != KEEL_OK)
        return rc;
    *out = json_tokener_parse(PQgetvalue(res, 0, 0));
    PQclear(res);
    return *out ? KEEL_OK : KEEL_EINTERNAL;
}

keel_rc
session_create(db_conn_t *c, const char *user_id, const char *ua,
               const char *ip, double ttl, const char *hash_hex, char sid[37],
               double *now, db_error_t *err)
{
    char secs[32], id[32];
    const char *p[4] = { user_id, ua ? ua : "", ip ? ip : "", secs };
    const char *t[2] = { id, hash_hex };
    PGresult *res;
    keel_rc rc;

    snprintf(secs, sizeof(secs), "%.3f", ttl);
    rc = one_row(c, &st_session_insert, p, &res, err);
    if (rc != KEEL_OK)
        return rc;
    snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
    copy_id(sid, PQgetvalue(res, 0, 1));
    *now = atof(PQgetvalue(res, 0, 2));
    PQclear(res);
    return db_exec(c, &st_token_insert, t, NULL, err);
}

typedef struct refresh_args {
    const char *old_hash, *new_hash, *ip, *request_id;
    double grace;
    refresh_result_t *r;
    db_error_t *err;
} refresh_args_t;

static keel_rc
refresh_tx(db_conn_t *c, void *arg)
{
    refresh_args_t *a = arg;
    const char *p[1] = { a->old_hash };
    char token_id[32], session_id[32];
    PGresult *res;
    keel_rc rc = one_row(c, &st_refresh_lookup, p, &res, a->err);
    int rotated, live;
    double since;

    a->r->outcome = REFRESH_UNKNOWN;
    if (rc == KEEL_ENOTFOUND)
        return KEEL_OK;
    if (rc != KEEL_OK)
        return rc;
    snprintf(token_id, sizeof(token_id), "%s", PQgetvalue(res, 0, 0));
    rotated = is_true(res, 0, 1);
    since = atof(PQgetvalue(res, 0, 2));
    snprintf(session_id, sizeof(session_id), "%s", PQgetvalue(res, 0, 3));
    copy_id(a->r->sid, PQgetvalue(res, 0, 4));
    live = is_true(res, 0, 5);
    copy_id(a->r->user_id, PQgetvalue(res, 0, 6));
    a->r->now = atof(PQgetvalue(res, 0, 7));
    PQclear(res);
    if (!live)
        return KEEL_OK;
    if (rotated) {
        const char *rp[2] = { session_id, "refresh token reuse" };
        char details[96];
        if (since <= a->grace) {
            a->r->outcome = REFRESH_GRACE;
            return KEEL_OK;
        }
        /* Theft: the whole family goes, with every access token issued
         * so far (the thief may hold one); the user's other sessions
         * stay.  And it is recorded. */
        a->r->outcome = REFRESH_REUSED;
        rc = db_exec(c, &st_session_revoke, rp, NULL, a->err);
        if (rc == KEEL_OK) {
            const char *bp[1] = { a->r->user_id };
            rc = db_exec(c, &st_tokens_bump, bp, NULL, a->err);
        }
        snprintf(details, sizeof(details), "{\"session_id\":\"%s\"}",
                 a->r->sid);
        if (rc == KEEL_OK)
            rc = audit_record(c, "auth.refresh_token_reused", a->r->user_id,
                              "session", a->r->sid, a->ip, a->request_id,
                              details, a->err);
        return rc;
    }
    {
        const char *rp[1] = { token_id };
        const char *tp[2] = { session_id, a->new_hash };
        const char *sp[1] = { session_id };
        rc = db_exec(c, &st_token_rotate, rp, NULL, a->err);
        if (rc == KEEL_OK)
            rc = db_exec(c, &st_token_insert, tp, NULL, a->err);
        if (rc == KEEL_OK)
            rc = db_exec(c, &st_session_touch, sp, NULL, a->err);
    }
    if (rc == KEEL_OK)
        a->r->outcome = REFRESH_ROTATED;
    return rc;
}

keel_rc
session_refresh(db_conn_t *c, const char *old_hash, const char *new_hash,
                double grace, const char *ip, const char *request_id,
                refresh_result_t *r, db_error_t *err)
{
    refresh_args_t a = { old_hash, new_hash, ip, request_id, grace, r, err };

    memset(r, 0, sizeof(*r));
    return db_transaction(c, refresh_tx, &a, 3, err);
}

keel_rc
session_logout(db_conn_t *c, const char *hash_hex, db_error_t *err)
{
    const char *p[1] = { hash_hex };
    PGresult *res;
    keel_rc rc = one_row(c, &st_logout, p, &res, err);

    if (rc == KEEL_OK)
        PQclear(res);
    return rc;
}

typedef struct revoke_args {
    const char *user_id, *keep, *reason;
    db_error_t *err;
} revoke_args_t;

static keel_rc
revoke_all_tx(db_conn_t *c, void *arg)
{
    revoke_args_t *a = arg;
    const char *p[3] = { a->user_id, a->keep, a->reason };
    const char *b[1] = { a->user_id };
    keel_rc rc = db_exec(c, &st_revoke_all, p, NULL, a->err);

    return rc == KEEL_OK ? db_exec(c, &st_tokens_bump, b, NULL, a->err) : rc;
}

keel_rc
session_revoke_all(db_conn_t *c, const char *user_id, const char *keep_sid,
                   const char *reason, db_error_t *err)
{
    revoke_args_t a = { user_id, keep_sid, reason, err };

    /* Inside a caller's transaction, join it; else make one. */
    if (PQtransactionStatus(db_pg(c)) == PQTRANS_INTRANS)
        return revoke_all_tx(c, &a);
    return db_transaction(c, revoke_all_tx, &a, 3, err);
}

keel_rc
session_list(db_conn_t *c, const char *user_id, const char *current,
             json_object **out, db_error_t *err)
{
    const char *p[2] = { user_id, current };
    PGresult *res;
    keel_rc rc = one_row(c, &st_session_list, p, &res, err);

    *out = NULL;
    if (rc != KEEL_OK)
        return rc;
    *out = json_tokener_parse(PQgetvalue(res, 0, 0));
    PQclear(res);
    return *out ? KEEL_OK : KEEL_EINTERNAL;
}

keel_rc
session_delete(db_conn_t *c, const char *user_id, const char *sid,
               db_error_t *err)
{
    const char *p[2] = { user_id, sid };
    PGresult *res;
    keel_rc rc = one_row(c, &st_session_delete, p, &res, err);

    if (rc == KEEL_OK)
        PQclear(res);
    return rc;
}

keel_rc
auth_token_state(db_conn_t *c, const char *user_id, double *valid_after,
                 int *active, db_error_t *err)
{
    const char *p[1] = { user_id };
    PGresult *res;
    keel_rc rc = one_row(c, &st_token_state, p, &res, err);

    *active = 0;
    *valid_after = 0;
    if (rc == KEEL_ENOTFOUND)
        return KEEL_OK; /* no such user: not active */
    if (rc != KEEL_OK)
        return rc;
    *valid_after = atof(PQgetvalue(res, 0, 0));
    *active = is_true(res, 0, 1);
    PQclear(res);
    return KEEL_OK;
}

keel_rc
login_failure_add(db_conn_t *c, const char *email, int *failures,
                  db_error_t *err)
{
    const char *p[1] = { email };
    PGresult *res;
    keel_rc rc = one_row(c, &st_failure_add, p, &res, err);

    *failures = 0;
    if (rc != KEEL_OK)
        return rc;
    *failures = atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
    return KEEL_OK;
}

keel_rc
login_failure_get(db_conn_t *c, const char *email, int *failures,
                  double *retry_after, db_error_t *err)
{
    const char *p[1] = { email };
    PGresult *res;
    keel_rc rc = one_row(c, &st_failure_get, p, &res, err);

    *failures = 0;
    *retry_after = 0;
    if (rc == KEEL_ENOTFOUND)
        return KEEL_OK;
    if (rc != KEEL_OK)
        return rc;
    *failures = atoi(PQgetvalue(res, 0, 0));
    *retry_after = atof(PQgetvalue(res, 0, 1));
    PQclear(res);
    return KEEL_OK;
}

keel_rc
login_failure_clear(db_conn_t *c, const char *email, db_error_t *err)
{
    const char *p[1] = { email };

    return db_exec(c, &st_failure_clear, p, NULL, err);
}

keel_rc
verification_create(db_conn_t *c, const char *user_id, const char *hash_hex,
                    double ttl, db_error_t *err)
{
    char secs[32];
    const char *p[3] = { user_id, hash_hex, secs };

    snprintf(secs, sizeof(secs), "%.3f", ttl);
    return db_exec(c, &st_verification_insert, p, NULL, err);
}

keel_rc
verification_use(db_conn_t *c, const char *hash_hex, char user_id[37],
                 db_error_t *err)
{
    const char *p[1] = { hash_hex };
    PGresult *res;
    keel_rc rc = one_row(c, &st_verification_use, p, &res, err);

    if (rc != KEEL_OK)
        return rc;
    copy_id(user_id, PQgetvalue(res, 0, 0));
    PQclear(res);
    return KEEL_OK;
}

keel_rc
audit_record(db_conn_t *c, const char *action, const char *actor_id,
             const char *target_type, const char *target_id, const char *ip,
             const char *request_id, const char *details, db_error_t *err)
{
    const char *p[7] = { action, actor_id,   target_type, target_id,
                         ip,     request_id, details };

    return db_exec(c, &st_audit_insert, p, NULL, err);
}

keel_rc
auth_user_insert(db_conn_t *c, const char *email, const char *name,
                 const char *hash, char user_id[37], db_error_t *err)
{
    const char *p[3] = { email, name, hash };
    PGresult *res;
    keel_rc rc = one_row(c, &st_user_insert, p, &res, err);

    if (rc != KEEL_OK)
        return rc;
    copy_id(user_id, PQgetvalue(res, 0, 0));
    PQclear(res);
    return KEEL_OK;
}
