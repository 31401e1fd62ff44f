/* users.c - Conduit's accounts on keel's argon2id, JWT and pool. */
#include "keel-build.h"

#include "users.h"
#include "app.h"
#include "store.h"
#include "auth/keys.h"
#include "auth/password.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

/* Worker-lifetime state: the token keys and the dummy hash (auth/keys.h). */
static auth_worker_keys_t worker;

keel_rc
rw_users_worker_init(const keel_config_t *cfg, char *err, size_t errlen)
{
    return auth_worker_keys_load(cfg, &worker, err, errlen);
}

/*
 * Conduit's tokens carry the user's public id as sub (and as sid: there
 * are no sessions to revoke); a user deleted since is caught by the
 * handler's lookup.
 */
keel_rc
rw_authenticate(keel_ctx_t *ctx, const char *token)
{
    token_claims_t c;
    const char *why = NULL;

    if (token_verify(&worker.keys, ctx->http->cfg, token, time_wall(), &c,
                     &why) != KEEL_OK) {
        ctx->log_error = why;
        return KEEL_EUNAUTH;
    }
    memcpy(ctx->user_buf.id, c.sub, sizeof(c.sub));
    memcpy(ctx->user_buf.sid, c.sid, sizeof(c.sid));
    ctx->user_buf.iat = c.iat;
    ctx->user = &ctx->user_buf;
    return KEEL_OK;
}

/* Member `name` of the body's {"user": {...}}. */
static const char *
user_str(const keel_ctx_t *ctx, const char *name)
{
    return rw_body_str(ctx, "user", name);
}

/* Answer {"user": user + token}; takes `user`. */
static keel_rc
respond_user(keel_ctx_t *ctx, int status, json_object *user)
{
    json_object *id;
    char *tok = NULL;
    keel_rc rc;

    if (!json_object_object_get_ex(user, "id", &id)) {
        json_object_put(user);
        return ctx_fail_internal(ctx, "user row without id");
    }
    rc = token_issue(&worker.keys, ctx->http->cfg, json_object_get_string(id),
                     json_object_get_string(id), NULL, 0, time_wall(), &tok,
                     NULL);
    if (rc != KEEL_OK) {
        json_object_put(user);
        return ctx_fail_internal(ctx, "cannot issue a token");
    }
    json_object_object_del(user, "id");
    json_object_object_add(user, "token", json_object_new_string(tok));
    free(tok);
    ctx_respond_data(ctx, status, user);
    return KEEL_OK;
}

/* The user's row by the token's subject: 401 when it is gone. */
static keel_rc
load_current(keel_ctx_t *ctx, db_conn_t *c, json_object **user)
{
    db_error_t err;
    keel_rc rc = rw_user_get(c, ctx->user->id, user, &err);

    if (rc == KEEL_ENOTFOUND) {
        ctx->token_invalid = 1;
        return KEEL_EUNAUTH;
    }
    return rc == KEEL_OK ? KEEL_OK : ctx_fail_db(ctx, rc, &err);
}

keel_rc
rw_register(keel_ctx_t *ctx)
{
    char hash[PASSWORD_HASH_MAX];
    json_object *user = NULL;
    db_conn_t *c;
    db_error_t err;
    keel_rc rc;

    rc = password_hash(ctx->http->cfg, user_str(ctx, "password"), hash);
    if (rc != KEEL_OK)
        return rc == KEEL_EUNAVAIL ? ctx_fail(ctx, rc, NULL)
                                   : ctx_fail_internal(ctx, "hashing failed");
    rc = ctx_db(ctx, &c);
    if (rc != KEEL_OK)
        return rc;
    rc = rw_user_create(c, user_str(ctx, "username"), user_str(ctx, "email"),
                        hash, &user, &err);
    if (rc != KEEL_OK)
        return ctx_fail_db(ctx, rc, &err);
    return respond_user(ctx, 201, user);
}

keel_rc
rw_login(keel_ctx_t *ctx)
{
    const char *pw = user_str(ctx, "password");
    json_object *user = NULL;
    char *hash = NULL;
    db_conn_t *c;
    db_error_t err;
    keel_rc rc;

    rc = ctx_db(ctx, &c);
    if (rc != KEEL_OK)
        return rc;
    rc = rw_user_by_email(c, user_str(ctx, "email"), &user, &hash, &err);
    if (rc != KEEL_OK && rc != KEEL_ENOTFOUND)
        return ctx_fail_db(ctx, rc, &err);
    rc = password_verify(ctx->http->cfg, hash ? hash : worker.dummy_hash, pw);
    free(hash);
    if (rc == KEEL_OK && user != NULL)
        return respond_user(ctx, 200, user);
    json_object_put(user);
    if (rc == KEEL_EUNAVAIL)
        return ctx_fail(ctx, rc, NULL);
    ctx_detail(ctx, "credentials", "invalid");
    return ctx_fail(ctx, KEEL_EUNAUTH, NULL);
}

keel_rc
rw_current_user(keel_ctx_t *ctx)
{
    json_object *user = NULL;
    db_conn_t *c;
    keel_rc rc = ctx_db(ctx, &c);

    if (rc == KEEL_OK)
        rc = load_current(ctx, c, &user);
    return rc == KEEL_OK ? respond_user(ctx, 200, user) : rc;
}

keel_rc
rw_update_user(keel_ctx_t *ctx)
{
    rw_user_change_t ch = { 0 };
    const char *pw = user_str(ctx, "password");
    char hash[PASSWORD_HASH_MAX];
    json_object *user = NULL, *v;
    db_conn_t *c;
    db_error_t err;
    keel_rc rc;

    ch.username = user_str(ctx, "username");
    ch.email = user_str(ctx, "email");
    v = rw_body_member(ctx, "user", "bio", &ch.set_bio);
    ch.bio = v ? json_object_get_string(v) : NULL;
    v = rw_body_member(ctx, "user", "image", &ch.set_image);
    ch.image = v ? json_object_get_string(v) : NULL;
    if (pw != NULL) {
        rc = password_hash(ctx->http->cfg, pw, hash);
        if (rc != KEEL_OK)
            return rc == KEEL_EUNAVAIL
                       ? ctx_fail(ctx, rc, NULL)
                       : ctx_fail_internal(ctx, "hashing failed");
        ch.hash = hash;
    }
    rc = ctx_db(ctx, &c);
    if (rc != KEEL_OK)
        return rc;
    rc = rw_user_update(c, ctx->user->id, &ch, &user, &err);
    if (rc == KEEL_ENOTFOUND) {
        ctx->token_invalid = 1;
        return KEEL_EUNAUTH;
    }
    if (rc != KEEL_OK)
        return ctx_fail_db(ctx, rc, &err);
    return respond_user(ctx, 200, user);
}
