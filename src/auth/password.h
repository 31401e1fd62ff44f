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

/* Hash `pw` with a fresh 16-byte salt into out (PASSWORD_HASH_MAX bytes).
 * KEEL_OK, or KEEL_EINTERNAL. Blocks (CPU). */
keel_rc password_hash(const keel_config_t *cfg, const char *pw,
                      char out[PASSWORD_HASH_MAX]);

/* KEEL_OK when `pw` matches `encoded`, KEEL_EUNAUTH when it does not or
 * the hash is malformed.  Constant-time comparison (libargon2). */
keel_rc password_verify(const keel_config_t *cfg, const char *encoded,
                        const char *pw);

/* 1 when `encoded` was made with other parameters than the configured
 * ones (re-hash it on the next successful login). */
int password_needs_rehash(const keel_config_t *cfg, const char *encoded);

#endif
