/*
 * password.h - argon2id password hashes in the PHC string format
 * ($argon2id$v=19$m=19456,t=2,p=1$salt$hash), with the parameters of the
 * [auth] section.  Hashing costs tens of milliseconds of CPU: callers that
 * serve requests must bound how many run at once.
 */
#ifndef KEEL_AUTH_PASSWORD_H
#define KEEL_AUTH_PASSWORD_H

#include "core/config.h"
#include "core/error.h"

#include <stddef.h>

/* Room for any encoded hash keel makes (argon2_encodedlen is below). */
#define PASSWORD_HASH_MAX 160

/*
 * Check a candidate password's length (in characters, between the
 * configured bounds) before any hashing work.  KEEL_OK or KEEL_EINVAL
 * with a client-safe message in *why.
 */
keel_rc password_check(const keel_config_t *cfg, const char *pw,
                       const char **why);

/*
 * Hash `pw` with a fresh 16-byte salt into out (PASSWORD_HASH_MAX bytes).
 * Blocks (CPU) while it holds a hashing slot (hashgate.h), after waiting
 * at most [auth] hash_wait for one.  KEEL_OK, KEEL_EUNAVAIL when no slot
 * came free (answer 503), or KEEL_EINTERNAL.
 */
keel_rc password_hash(const keel_config_t *cfg, const char *pw,
                      char out[PASSWORD_HASH_MAX]);

/*
 * The hash of a random password, made without a slot: what a worker
 * verifies against at start-up for unknown emails, so that both kinds of
 * failed login cost the same.
 */
keel_rc password_dummy_hash(const keel_config_t *cfg,
                            char out[PASSWORD_HASH_MAX]);

/* KEEL_OK when `pw` matches `encoded`, KEEL_EUNAUTH when it does not or
 * the hash is malformed, KEEL_EUNAVAIL when no hashing slot came free.
 * Constant-time comparison (libargon2). */
keel_rc password_verify(const keel_config_t *cfg, const char *encoded,
                        const char *pw);

/* 1 when `encoded` was made with other parameters than the configured
 * ones (re-hash it on the next successful login). */
int password_needs_rehash(const keel_config_t *cfg, const char *encoded);

#endif
