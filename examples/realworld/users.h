/*
 * users.h - Conduit's accounts (RealWorld: Authentication, User and
 * Profile): register, login, the current user and its update.
 */
#ifndef CONDUIT_USERS_H
#define CONDUIT_USERS_H

#include "core/config.h"
#include "http/ctx.h"

/* Load the token key and the dummy hash (each worker, after fork). */
keel_rc rw_users_worker_init(const keel_config_t *cfg, char *err,
                             size_t errlen);
/* keel_app_t.authenticate: a token this server issued, not expired. */
keel_rc rw_authenticate(keel_ctx_t *ctx, const char *token);

keel_rc rw_register(keel_ctx_t *ctx);
keel_rc rw_login(keel_ctx_t *ctx);
keel_rc rw_current_user(keel_ctx_t *ctx);
keel_rc rw_update_user(keel_ctx_t *ctx);

#endif
