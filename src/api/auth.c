/* auth.c - the /v1/auth handlers and the bearer-token check. */
#include "keel-build.h"

#include "api/auth.h"
#include "auth/jwt.h"
#include "auth/keys.h"
#include "auth/password.h"
#include "auth/tokens.h"
#include "core/log.h"
#include "core/util.h"
#include "core/validate.h"
#include "jobs/events.h"
#include "jobs/queue.h"
#include "store/roles.h"
#include "store/sessions.h"
#include "auth/rbac.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Failed logins for one email within 15 minutes before 429. */
#define LOGIN_FAILURES_MAX 10
/* A failure burst worth an audit record. */
#define LOGIN_FAILURE_BURST 5
/* How stale a worker's view of a user's token state may be (API.md 3). */
#define REVOCATION_STALENESS 5.0

/* ---- per worker --------------------------------------------------------- */

/* A hash that did not run: every hashing slot stayed busy for [auth]
 * hash_wait (hashgate.h), a 503 whose reason goes to the log. */
static keel_rc
hash_failed(keel_ctx_t *ctx, keel_rc rc)
{
    if (rc == KEEL_EUNAVAIL) {
        ctx->log_error = "every password-hashing slot busy for hash_wait";
        ctx->component = "auth";
        return ctx_fail(ctx, KEEL_EUNAVAIL, NULL);
    }
    return ctx_fail_internal(ctx, "password hashing failed");
}

/* The token keys and the dummy hash (auth/keys.h). */
static auth_worker_keys_t worker;

keel_rc
auth_worker_init(const keel_config_t *cfg, char *err, size_t errlen)
{
    return auth_worker_keys_load(cfg, &worker, err, errlen);
}

/* ---- revocation state, cached per worker ----------------------------------
 */

#define RCACHE_SLOTS 1024

static struct rcache_slot {
    char id[37];
    double valid_after;
    int active;
    double fetched; /* time_mono() */
} rcache[RCACHE_SLOTS];
static pthread_mutex_t rcache_lock = PTHREAD_MUTEX_INITIALIZER;

static struct rcache_slot *
rcache_slot(const char *id)
{
    unsigned h = 2166136261u;

    for (const char *p = id; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return &rcache[h % RCACHE_SLOTS];
}

/* This worker changed the state: never serve the old one from here. */
void
auth_forget(const char *id)
{
    struct rcache_slot *s;

    pthread_mutex_lock(&rcache_lock);
    s = rcache_slot(id);
    if (strcmp(s->id, id) == 0)
        s->id[0] = '\0';
    pthread_mutex_unlock(&rcache_lock);
}

static keel_rc
token_state(keel_ctx_t *ctx, const char *id, double *valid_after, int *active)
{
    struct rcache_slot *s;
    double now = time_mono();
    db_conn_t *c;
    db_error_t err;
    keel_rc rc;

    pthread_mutex_lock(&rcache_lock);
    s = rcache_slot(id);
    if (strcmp(s->id, id) == 0 && now - s->fetched < REVOCATION_STALENESS) {
        *valid_after = s->valid_after;
        *active = s->active;
        pthread_mutex_unlock(&rcache_lock);
        return KEEL_OK;
    }
    pthread_mutex_unlock(&rcache_lock);
    rc = ctx_db(ctx, &c);
    if (rc != KEEL_OK)
        return rc;
    rc = auth_token_state(c, id, valid_after, active, &err);
    if (rc != KEEL_OK)
        return ctx_fail_db(ctx, rc, &err);
    pthread_mutex_lock(&rcache_lock);
    s = rcache_slot(id);
    snprintf(s->id, sizeof(s->id), "%s", id);
    s->valid_after = *valid_after;
    s->active = *active;
    s->fetched = now;
    pthread_mutex_unlock(&rcache_lock);
    return KEEL_OK;
}

/*
 * What the token's roles grant, from the worker's RBAC cache: a version
 * check against the database at most once a second, no query otherwise.
 */
static keel_rc
resolve_permissions(keel_ctx_t *ctx, const token_claims_t *c)
{
    const char *roles[TOKEN_MAX_ROLES];
    double now = time_mono();
    keel_rc rc;

    if (rbac_due(now)) {
        db_conn_t *conn;
        db_error_t err;
        memset(&err, 0, sizeof(err));
        rc = ctx_db(ctx, &conn);
        if (rc == KEEL_OK)
            rc = rbac_sync(conn, &roles_rbac_source, now, &err);
        if (rc != KEEL_OK)
            log_printf(KLOG_WARN, "role cache not refreshed: %s",
                       rc == KEEL_EUNAVAIL ? "database unavailable"
                                           : err.message);
    }
    for (size_t i = 0; i < c->nroles && i < TOKEN_MAX_ROLES; i++)
        roles[i] = c->roles[i];
    rc = rbac_resolve(roles, c->nroles, now, ctx->arena, &ctx->user_buf.perms,
                      &ctx->user_buf.nperms);
    if (rc != KEEL_OK)
        return ctx_fail(ctx, KEEL_EUNAVAIL, NULL);
    return KEEL_OK;
}

keel_rc
auth_authenticate(keel_ctx_t *ctx, const char *token)
{
    token_claims_t c;
    const char *why = NULL;
    double valid_after;
    int active;
    keel_rc rc;

    rc = token_verify(&worker.keys, ctx->http->cfg, token, time_wall(), &c,
                      &why);
    if (rc != KEEL_OK) {
        ctx->log_error = why;
        return KEEL_EUNAUTH;
    }
    rc = token_state(ctx, c.sub, &valid_after, &active);
    if (rc != KEEL_OK)
        return rc;
    /* Both instants come from the database clock, in milliseconds. */
    if (!active || floor(c.iat * 1000.0 + 0.5) < floor(valid_after * 1000.0)) {
        ctx->log_error = active ? "token revoked" : "user gone";
        return KEEL_EUNAUTH;
    }
    rc = resolve_permissions(ctx, &c);
    if (rc != KEEL_OK)
        return rc;
    memcpy(ctx->user_buf.id, c.sub, sizeof(c.sub));
    memcpy(ctx->user_buf.sid, c.sid, sizeof(c.sid));
    ctx->user_buf.iat = c.iat;
    ctx->user_buf.nroles = c.nroles;
    memcpy(ctx->user_buf.roles, c.roles, sizeof(c.roles));
    ctx->user = &ctx->user_buf;
    return KEEL_OK;
}

/* ---- bodies -----------------------------------------------------------------
 */

/* A required string member of `lo`..`hi` characters. */
#define STR(n, lo, hi, fl)                                                     \
    {                                                                          \
        .name = (n), .type = SCHEMA_STRING, .flags = SCHEMA_REQUIRED | (fl),   \
        .bounded = 1, .min = (lo), .max = (hi)                                 \
    }
/* Passwords: any length up to 1 KiB here; the configured rule (12..128
 * characters by default) is checked by password_check() where it applies,
 * never by hashing an unbounded input. */
#define PASSWORD_PROP(n) STR(n, 1, 1024, 0)

static const schema_prop_t register_props[] = {
    { .name = "email",
      .type = SCHEMA_STRING,
      .flags = SCHEMA_REQUIRED,
      .format = FORMAT_EMAIL,
      .bounded = 1,
      .min = 3,
      .max = 254 },
    PASSWORD_PROP("password"),
    STR("name", 1, 100, SCHEMA_TRIM),
};
const schema_t auth_register_schema = SCHEMA_OF(register_props);

static const schema_prop_t login_props[] = {
    STR("email", 1, 254, 0),
    PASSWORD_PROP("password"),
};
const schema_t auth_login_schema = SCHEMA_OF(login_props);

static const schema_prop_t refresh_props[] = {
    STR("refresh_token", 1, 256, 0),
};
const schema_t auth_refresh_schema = SCHEMA_OF(refresh_props);

static const schema_prop_t verify_props[] = {
    STR("token", 1, 256, 0),
};
const schema_t auth_verify_schema = SCHEMA_OF(verify_props);

static const schema_prop_t password_props[] = {
    PASSWORD_PROP("current_password"),
    PASSWORD_PROP("new_password"),
};
const schema_t auth_password_schema = SCHEMA_OF(password_props);

static void
audit(db_conn_t *c, keel_ctx_t *ctx, const char *action, const char *actor,
      const char *target_type, const char *target_id, const char *details)
{
    db_error_t err;

    /* The audit trail must not turn a done change into an error. */
    if (audit_record(c, action, actor, target_type, target_id,
                     ctx->req.client_ip, ctx->req.request_id, details,
                     &err) != KEEL_OK)
        log_printf(KLOG_ERROR, "audit %s not recorded: %s", action,
                   err.message);
}

/*
 * Respond 200 with a token pair for a session (API.md 3): the access token
 * issued at the database's `now`, the refresh token as given.
 */
static keel_rc
respond_pair(keel_ctx_t *ctx, db_conn_t *c, const char *user_id,
             const char *sid, double now, const char *refresh)
{
    const keel_config_t *cfg = ctx->http->cfg;
    const char *rp[TOKEN_MAX_ROLES];
    size_t nroles = 0;
    json_object *user, *o, *roles;
    db_error_t err;
    char *access = NULL;
    keel_rc rc;

    /* One query: the user as the API shows it carries the role names the
     * token needs too. */
    rc = auth_user_json(c, user_id, 0, &user, &err);
    if (rc != KEEL_OK)
        return ctx_fail_db(ctx, rc, &err);
    if (json_object_object_get_ex(user, "roles", &roles))
        for (size_t i = 0;
             i < json_object_array_length(roles) && nroles < TOKEN_MAX_ROLES;
             i++)
            rp[nroles++] =
                json_object_get_string(json_object_array_get_idx(roles, i));
    if (token_issue(&worker.keys, cfg, user_id, sid, rp, nroles, now, &access,
                    NULL) != KEEL_OK) {
        json_object_put(user);
        return ctx_fail_internal(ctx, "token_issue failed");
    }
    o = json_object_new_object();
    json_object_object_add(o, "access_token", json_object_new_string(access));
    json_object_object_add(o, "token_type", json_object_new_string("Bearer"));
    json_object_object_add(o, "expires_in",
                           json_object_new_int64((long long)cfg->access_ttl));
    json_object_object_add(o, "refresh_token", json_object_new_string(refresh));
    json_object_object_add(o, "refresh_expires_in",
                           json_object_new_int64((long long)cfg->refresh_ttl));
    json_object_object_add(o, "user", user);
    free(access);
    ctx_respond_data(ctx, 200, o);
    return KEEL_OK;
}

/* ---- register and verify-email
 * ----------------------------------------------- */

typedef struct register_args {
    keel_ctx_t *ctx;
    const char *email, *name, *hash;
    char user_id[37];
    db_error_t err;
} register_args_t;

static keel_rc
register_tx(db_conn_t *c, void *arg)
{
    register_args_t *a = arg;
    const keel_config_t *cfg = a->ctx->http->cfg;
    char token[OPAQUE_TOKEN_LEN + 1], hex[OPAQUE_HASH_HEX], job[37];
    json_object *payload, *data;
    event_spec_t ev = { 0 };
    job_spec_t spec = { 0 };
    char *text;
    keel_rc rc;

    rc = auth_user_insert(c, a->email, a->name, a->hash, a->user_id, &a->err);
    if (rc != KEEL_OK)
        return rc;
    opaque_token_new(token, hex);
    rc = verification_create(c, a->user_id, hex, cfg->verify_ttl, &a->err);
    if (rc != KEEL_OK)
        return rc;
    text = arena_sprintf(
        a->ctx->arena,
        "Hello %s,\n\nplease confirm your email address by opening this "
        "link:\n\n%s/verify-email?token=%s\n\nIt expires in %.0f hours. If "
        "you did not create an account, ignore this message.\n",
        a->name, cfg->public_base_url, token, cfg->verify_ttl / 3600.0);
    payload = json_object_new_object();
    json_object_object_add(payload, "to", json_object_new_string(a->email));
    json_object_object_add(
        payload, "subject",
        json_object_new_string("Confirm your email address"));
    json_object_object_add(payload, "text", json_object_new_string(text));
    spec.type = "email.send";
    spec.payload =
        json_object_to_json_string_ext(payload, JSON_C_TO_STRING_PLAIN);
    rc = job_enqueue(c, &spec, job, &a->err);
    json_object_put(payload);
    if (rc != KEEL_OK)
        return rc;
    data = json_object_new_object();
    json_object_object_add(data, "id", json_object_new_string(a->user_id));
    ev.type = "user.registered";
    ev.aggregate_type = "user";
    ev.aggregate_id = a->user_id;
    ev.data = arena_strdup(a->ctx->arena, json_object_to_json_string_ext(
                                              data, JSON_C_TO_STRING_PLAIN));
    json_object_put(data);
    ev.traceparent = a->ctx->req.traceparent;
    return event_record(c, cfg, &ev, NULL, NULL, &a->err);
}

keel_rc
auth_register(keel_ctx_t *ctx)
{
    const keel_config_t *cfg = ctx->http->cfg;
    register_args_t a;
    const char *pw = ctx_body_str(ctx, "password"), *why = NULL;
    char hash[PASSWORD_HASH_MAX], loc[64];
    json_object *user;
    db_conn_t *c;
    keel_rc rc;

    memset(&a, 0, sizeof(a));
    a.ctx = ctx;
    a.email = ctx_body_str(ctx, "email");
    a.name = ctx_body_str_trimmed(ctx, "name");

    if (password_check(cfg, pw, &why) != KEEL_OK) {
        ctx_detail(ctx, "password", why);
        return ctx_fail(ctx, KEEL_EINVAL, NULL);
    }
    if (ascii_casecmp(pw, a.email) == 0) {
        ctx_detail(ctx, "password", "must not be the email address");
        return ctx_fail(ctx, KEEL_EINVAL, NULL);
    }
    rc = password_hash(cfg, pw, hash);
    if (rc != KEEL_OK)
        return hash_failed(ctx, rc);
    a.hash = hash;
    rc = ctx_db(ctx, &c);
    if (rc != KEEL_OK)
        return rc;
    rc = db_transaction(c, register_tx, &a, 3, &a.err);
    if (rc != KEEL_OK)
        return ctx_fail_db(ctx, rc, &a.err);
    rc = auth_user_json(c, a.user_id, 0, &user, &a.err);
    if (rc != KEEL_OK)
        return ctx_fail_db(ctx, rc, &a.err);
    snprintf(loc, sizeof(loc), "/v1/users/%s", a.user_id);
    ctx_header_set(ctx, "Location", loc);
    ctx_respond_data(ctx, 201, user);
    return KEEL_OK;
}

keel_rc
auth_verify_email(keel_ctx_t *ctx)
{
    char hex[OPAQUE_HASH_HEX], user_id[37];
    json_object *user;
    db_conn_t *c;
    db_error_t err;
    keel_rc rc;

    if (opaque_token_hash(ctx_body_str(ctx, "token"), hex) != 0) {
        ctx_detail(ctx, "token", "is invalid, used or expired");
        return ctx_fail(ctx, KEEL_EINVAL, NULL);
    }
    rc = ctx_db(ctx, &c);
    if (rc != KEEL_OK)
        return rc;
    rc = verification_use(c, hex, user_id, &err);
    if (rc == KEEL_ENOTFOUND) {
        ctx_detail(ctx, "token", "is invalid, used or expired");
        return ctx_fail(ctx, KEEL_EINVAL, NULL);
    }
    if (rc == KEEL_OK)
        rc = auth_user_json(c, user_id, 0, &user, &err);
    if (rc != KEEL_OK)
        return ctx_fail_db(ctx, rc, &err);
    ctx_respond_data(ctx, 200, user);
    return KEEL_OK;
}

/* ---- login, refresh, logout ------------------------------------------------
 */

static keel_rc
login_failed(keel_ctx_t *ctx, db_conn_t *c, const char *email,
             const char *user_id)
{
    json_object *d = json_object_new_object();
    int failures = 0;
    db_error_t err;

    if (login_failure_add(c, email, &failures, &err) != KEEL_OK)
        log_printf(KLOG_ERROR, "login failure not counted: %s", err.message);
    /* Never the password; the email is what was tried. */
    json_object_object_add(d, "email", json_object_new_string(email));
    json_object_object_add(d, "failures", json_object_new_int(failures));
    audit(c, ctx, "auth.login_failed", NULL, user_id ? "user" : NULL, user_id,
          json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN));
    if (failures == LOGIN_FAILURE_BURST)
        audit(c, ctx, "auth.login_failure_burst", NULL, user_id ? "user" : NULL,
              user_id,
              json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN));
    json_object_put(d);
    return ctx_fail(ctx, KEEL_EUNAUTH, "Invalid email or password");
}

keel_rc
auth_login(keel_ctx_t *ctx)
{
    const keel_config_t *cfg = ctx->http->cfg;
    const char *email = ctx_body_str(ctx, "email"),
               *pw = ctx_body_str(ctx, "password");
    char token[OPAQUE_TOKEN_LEN + 1], hex[OPAQUE_HASH_HEX], sid[37], buf[32];
    char hash[PASSWORD_HASH_MAX];
    login_user_t u;
    int failures, ok;
    double retry, now;
    db_conn_t *c;
    db_error_t err;
    keel_rc rc, vrc;

    rc = ctx_db(ctx, &c);
    if (rc != KEEL_OK)
        return rc;
    rc = login_failure_get(c, email, &failures, &retry, &err);
    if (rc != KEEL_OK)
        return ctx_fail_db(ctx, rc, &err);
    if (failures >= LOGIN_FAILURES_MAX) {
        snprintf(buf, sizeof(buf), "%.0f", ceil(retry > 1 ? retry : 1));
        ctx_header_set(ctx, "Retry-After", buf);
        return ctx_fail(ctx, KEEL_ERATELIMIT,
                        "Too many failed logins for this email; try later");
    }
    rc = auth_user_by_email(c, email, &u, &err);
    if (rc != KEEL_OK && rc != KEEL_ENOTFOUND)
        return ctx_fail_db(ctx, rc, &err);
    /* The same work whether the email exists or not. */
    vrc = password_verify(cfg, rc == KEEL_OK ? u.hash : worker.dummy_hash, pw);
    if (vrc == KEEL_EUNAVAIL) /* not checked: no failure counted */
        return hash_failed(ctx, vrc);
    ok = vrc == KEEL_OK && rc == KEEL_OK && !u.disabled;
    if (!ok)
        return login_failed(ctx, c, email, rc == KEEL_OK ? u.id : NULL);
    if (cfg->require_verified && !u.verified)
        return ctx_fail(ctx, KEEL_EFORBIDDEN, "Email address not verified");
    rc = login_failure_clear(c, email, &err);
    if (rc != KEEL_OK)
        return ctx_fail_db(ctx, rc, &err);
    if (password_needs_rehash(cfg, u.hash) &&
        password_hash(cfg, pw, hash) == KEEL_OK &&
        auth_set_hash(c, u.id, hash, &err) != KEEL_OK)
        log_printf(KLOG_WARN, "re-hash not stored: %s", err.message);
    opaque_token_new(token, hex);
    rc = session_create(c, u.id, ctx->req.user_agent, ctx->req.client_ip,
                        cfg->refresh_ttl, hex, sid, &now, &err);
    if (rc != KEEL_OK)
        return ctx_fail_db(ctx, rc, &err);
    return respond_pair(ctx, c, u.id, sid, now, token);
}

keel_rc
auth_refresh(keel_ctx_t *ctx)
{
    const keel_config_t *cfg = ctx->http->cfg;
    char old[OPAQUE_HASH_HEX], token[OPAQUE_TOKEN_LEN + 1],
        hex[OPAQUE_HASH_HEX];
    refresh_result_t r;
    db_conn_t *c;
    db_error_t err;
    keel_rc rc;

    if (opaque_token_hash(ctx_body_str(ctx, "refresh_token"), old) != 0)
        return ctx_fail(ctx, KEEL_EUNAUTH, "Invalid refresh token");
    rc = ctx_db(ctx, &c);
    if (rc != KEEL_OK)
        return rc;
    opaque_token_new(token, hex);
    rc = session_refresh(c, old, hex, cfg->refresh_grace, ctx->req.client_ip,
                         ctx->req.request_id, &r, &err);
    if (rc != KEEL_OK)
        return ctx_fail_db(ctx, rc, &err);
    /* Reuse revoked the family and the user's access tokens (store). */
    if (r.outcome == REFRESH_REUSED)
        auth_forget(r.user_id);
    if (r.outcome != REFRESH_ROTATED)
        return ctx_fail(ctx, KEEL_EUNAUTH, "Invalid refresh token");
    return respond_pair(ctx, c, r.user_id, r.sid, r.now, token);
}

keel_rc
auth_logout(keel_ctx_t *ctx)
{
    char hex[OPAQUE_HASH_HEX];
    db_conn_t *c;
    db_error_t err;
    keel_rc rc;

    if (opaque_token_hash(ctx_body_str(ctx, "refresh_token"), hex) != 0)
        return ctx_fail(ctx, KEEL_EUNAUTH, "Invalid refresh token");
    rc = ctx_db(ctx, &c);
    if (rc != KEEL_OK)
        return rc;
    rc = session_logout(c, hex, &err);
    if (rc == KEEL_ENOTFOUND)
        return ctx_fail(ctx, KEEL_EUNAUTH, "Invalid refresh token");
    if (rc != KEEL_OK)
        return ctx_fail_db(ctx, rc, &err);
    ctx_respond_empty(ctx, 204);
    return KEEL_OK;
}

keel_rc
auth_logout_all(keel_ctx_t *ctx)
{
    db_conn_t *c;
    db_error_t err;
    keel_rc rc = ctx_db(ctx, &c);

    if (rc != KEEL_OK)
        return rc;
    rc = session_revoke_all(c, ctx->user->id, NULL, "logout-all", &err);
    if (rc != KEEL_OK)
        return ctx_fail_db(ctx, rc, &err);
    auth_forget(ctx->user->id);
    audit(c, ctx, "auth.logout_all", ctx->user->id, "user", ctx->user->id,
          NULL);
    ctx_respond_empty(ctx, 204);
    return KEEL_OK;
}

/* ---- the current user -----------------------------------------------------
 */

keel_rc
auth_me(keel_ctx_t *ctx)
{
    json_object *user;
    db_conn_t *c;
    db_error_t err;
    keel_rc rc = ctx_db(ctx, &c);

    if (rc != KEEL_OK)
        return rc;
    rc = auth_user_json(c, ctx->user->id, 1, &user, &err);
    if (rc == KEEL_ENOTFOUND)
        return ctx_fail(ctx, KEEL_EUNAUTH, "Invalid or expired token");
    if (rc != KEEL_OK)
        return ctx_fail_db(ctx, rc, &err);
    ctx_respond_data(ctx, 200, user);
    return KEEL_OK;
}

typedef struct password_args {
    keel_ctx_t *ctx;
    const char *hash;
    db_error_t err;
} password_args_t;

static keel_rc
password_tx(db_conn_t *c, void *arg)
{
    password_args_t *a = arg;
    const keel_user_t *me = a->ctx->user;
    keel_rc rc = auth_set_hash(c, me->id, a->hash, &a->err);

    /* Every other session ends; every access token so far stops working
     * (this one too: the client refreshes with its session). */
    if (rc == KEEL_OK)
        rc = session_revoke_all(c, me->id, me->sid, "password change", &a->err);
    if (rc == KEEL_OK)
        rc = audit_record(c, "user.password_changed", me->id, "user", me->id,
                          a->ctx->req.client_ip, a->ctx->req.request_id, NULL,
                          &a->err);
    return rc;
}

keel_rc
auth_password(keel_ctx_t *ctx)
{
    const keel_config_t *cfg = ctx->http->cfg;
    const char *cur = ctx_body_str(ctx, "current_password");
    const char *next = ctx_body_str(ctx, "new_password"), *why = NULL;
    password_args_t a;
    char hash[PASSWORD_HASH_MAX];
    login_user_t u;
    db_conn_t *c;
    keel_rc rc;

    memset(&a, 0, sizeof(a));
    a.ctx = ctx;

    if (password_check(cfg, next, &why) != KEEL_OK) {
        ctx_detail(ctx, "new_password", why);
        return ctx_fail(ctx, KEEL_EINVAL, NULL);
    }
    rc = ctx_db(ctx, &c);
    if (rc != KEEL_OK)
        return rc;
    rc = auth_user_by_id(c, ctx->user->id, &u, &a.err);
    if (rc == KEEL_ENOTFOUND)
        return ctx_fail(ctx, KEEL_EUNAUTH, "Invalid or expired token");
    if (rc != KEEL_OK)
        return ctx_fail_db(ctx, rc, &a.err);
    if (ascii_casecmp(next, u.email) == 0) {
        ctx_detail(ctx, "new_password", "must not be the email address");
        return ctx_fail(ctx, KEEL_EINVAL, NULL);
    }
    rc = password_verify(cfg, u.hash, cur);
    if (rc == KEEL_EUNAUTH)
        return ctx_fail(ctx, KEEL_EUNAUTH, "Current password is wrong");
    if (rc == KEEL_OK)
        rc = password_hash(cfg, next, hash);
    if (rc != KEEL_OK)
        return hash_failed(ctx, rc);
    a.hash = hash;
    rc = db_transaction(c, password_tx, &a, 3, &a.err);
    if (rc != KEEL_OK)
        return ctx_fail_db(ctx, rc, &a.err);
    auth_forget(ctx->user->id);
    ctx_respond_empty(ctx, 204);
    return KEEL_OK;
}

keel_rc
auth_sessions(keel_ctx_t *ctx)
{
    json_object *list;
    db_conn_t *c;
    db_error_t err;
    keel_rc rc = ctx_db(ctx, &c);

    if (rc != KEEL_OK)
        return rc;
    rc = session_list(c, ctx->user->id, ctx->user->sid, &list, &err);
    if (rc != KEEL_OK)
        return ctx_fail_db(ctx, rc, &err);
    ctx_respond_data(ctx, 200, list);
    return KEEL_OK;
}

typedef struct revoke_args {
    keel_ctx_t *ctx;
    const char *sid;
    db_error_t *err;
} revoke_args_t;

/* The revocation and its audit record commit together. */
static keel_rc
session_delete_tx(db_conn_t *c, void *arg)
{
    revoke_args_t *a = arg;
    keel_ctx_t *ctx = a->ctx;
    keel_rc rc = session_delete(c, ctx->user->id, a->sid, a->err);

    if (rc == KEEL_OK)
        rc = audit_record(c, "auth.session_revoked", ctx->user->id, "session",
                          a->sid, ctx->req.client_ip, ctx->req.request_id, NULL,
                          a->err);
    return rc;
}

keel_rc
auth_session_delete(keel_ctx_t *ctx)
{
    db_error_t err;
    revoke_args_t a = { ctx, ctx_param_uuid(ctx, "id"), &err };
    db_conn_t *c;
    keel_rc rc;

    if (a.sid == NULL)
        return ctx_fail(ctx, KEEL_ENOTFOUND, NULL);
    rc = ctx_db(ctx, &c);
    if (rc != KEEL_OK)
        return rc;
    rc = db_transaction(c, session_delete_tx, &a, 3, &err);
    if (rc == KEEL_ENOTFOUND)
        return ctx_fail(ctx, KEEL_ENOTFOUND, NULL);
    if (rc != KEEL_OK)
        return ctx_fail_db(ctx, rc, &err);
    ctx_respond_empty(ctx, 204);
    return KEEL_OK;
}
