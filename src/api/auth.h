/*
 * auth.h - /v1/auth (API.md 3): registration, email verification, login,
 * rotating refresh sessions, logout, the current user, password change,
 * sessions; and the bearer-token check the chain calls.
 */
#ifndef KEEL_API_AUTH_H
#define KEEL_API_AUTH_H

#include "http/ctx.h"

/* Per worker, after fork: the token keys and the dummy hash. */
keel_rc auth_worker_init(const keel_config_t *cfg, char *err, size_t errlen);

/* keel_app_t.authenticate: JWT verification plus the revocation check
 * (tokens_valid_after, deletion, disablement; cached at most 5 s). */
keel_rc auth_authenticate(keel_ctx_t *ctx, const char *token);

/* Drop this worker's cached token state of a user whose tokens were just
 * revoked here (other workers see it within 5 s). */
void auth_forget(const char *user_id);

keel_rc auth_register(keel_ctx_t *ctx);
keel_rc auth_verify_email(keel_ctx_t *ctx);
keel_rc auth_login(keel_ctx_t *ctx);
keel_rc auth_refresh(keel_ctx_t *ctx);
keel_rc auth_logout(keel_ctx_t *ctx);
keel_rc auth_logout_all(keel_ctx_t *ctx);
keel_rc auth_me(keel_ctx_t *ctx);
keel_rc auth_password(keel_ctx_t *ctx);
keel_rc auth_sessions(keel_ctx_t *ctx);
keel_rc auth_session_delete(keel_ctx_t *ctx);

/* The request bodies. */
extern const schema_t auth_register_schema, auth_login_schema,
    auth_refresh_schema, auth_verify_schema, auth_password_schema;

#endif
