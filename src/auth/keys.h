/*
 * keys.h - what every worker of an application with accounts loads after
 * fork: the access-token keys and the dummy password hash; and the
 * check_config hook that refuses a configuration whose keys do not load.
 * Shared by keel's reference application and examples/realworld.
 */
#ifndef KEEL_AUTH_KEYS_H
#define KEEL_AUTH_KEYS_H

#include "auth/jwt.h"
#include "auth/password.h"
#include "core/config.h"
#include "core/error.h"

#include <stddef.h>

typedef struct auth_worker_keys {
    auth_keys_t keys; /* token_issue() and token_verify() */
    /* Verified against for unknown emails, so that both kinds of failed
     * login cost the same. */
    char dummy_hash[PASSWORD_HASH_MAX];
} auth_worker_keys_t;

/*
 * Load [auth]'s token keys into wk->keys and compute wk->dummy_hash with
 * the configured argon2 parameters (one hash: blocks for its cost).  For
 * keel_app_t.worker_init; wk lives as long as the worker.  The error of
 * auth_keys_load(), or KEEL_EINTERNAL when the hash cannot be made.
 */
keel_rc auth_worker_keys_load(const keel_config_t *cfg, auth_worker_keys_t *wk,
                              char *err, size_t errlen);

/* keel_app_t.check_config: KEEL_OK when the token keys load (they are
 * freed again), else auth_keys_load()'s error and message. */
keel_rc auth_check_config(const keel_config_t *cfg, char *err, size_t errlen);

#endif
