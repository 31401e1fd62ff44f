/*
 * jwt.h - access tokens (API.md 3): issue and verify JWTs with libjwt 1.10.
 *
 * libjwt 1.10 takes the algorithm from the token's header, skips the
 * signature check when handed a NULL key, and checks no claim at all
 * (notes/libraries.md 7.1).  So verification here: bounds the token's
 * length, checks its shape and header (alg must be the configured one
 * before anything is decoded; no kid with path characters, no jku, x5u,
 * jwk, x5c or crit), decodes with a key that is never NULL, requires
 * jwt_get_alg() to be the configured algorithm, and checks every claim
 * itself: iss, aud, exp, nbf and iat (with the configured leeway), sub,
 * sid and jti (UUIDs), roles (an array of role names).
 *
 * `iat` carries milliseconds (a fractional NumericDate, RFC 7519 2) taken
 * from the database's clock, so that it compares exactly with a user's
 * tokens_valid_after, which the same clock wrote.
 */
#ifndef KEEL_AUTH_JWT_H
#define KEEL_AUTH_JWT_H

#include "core/config.h"
#include "core/error.h"

#include <stddef.h>

#define TOKEN_MAX_LEN   8192
#define TOKEN_MAX_ROLES 16

typedef struct auth_keys {
    int alg; /* libjwt's jwt_alg_t */
    const char *alg_name;
    unsigned char *sign; /* HMAC secret or private key PEM */
    size_t sign_len;
    unsigned char *verify; /* HMAC secret or public key PEM */
    size_t verify_len;
} auth_keys_t;

/*
 * The keys [auth] names: jwt_secret (>= 32 bytes) for HS256, or the PEM
 * files for RS256/ES256 (checked by signing and verifying a probe).
 * KEEL_EINVAL with a message naming the key.  Free with auth_keys_free().
 */
keel_rc auth_keys_load(const keel_config_t *cfg, auth_keys_t *k, char *err,
                       size_t errlen);
void auth_keys_free(auth_keys_t *k);

typedef struct token_claims {
    char sub[37]; /* the user's public id */
    char sid[37]; /* the session (login) the token was issued for */
    char jti[37];
    double iat; /* seconds, millisecond precision */
    long long nbf, exp;
    char roles[TOKEN_MAX_ROLES][65];
    size_t nroles;
} token_claims_t;

/*
 * A signed access token for `sub` with `roles`, issued at `iat` (seconds,
 * the database's clock), valid for [auth] access_token_ttl.  *out is
 * malloc'd; `jti` (may be NULL) gets its id.
 */
keel_rc token_issue(const auth_keys_t *k, const keel_config_t *cfg,
                    const char *sub, const char *sid, const char *const *roles,
                    size_t nroles, double iat, char **out, char jti[37]);

/*
 * Verify `token` at time `now` (seconds).  KEEL_OK with *claims filled, or
 * KEEL_EUNAUTH with a short reason in `why` (for the log, never for the
 * client).
 */
keel_rc token_verify(const auth_keys_t *k, const keel_config_t *cfg,
                     const char *token, double now, token_claims_t *claims,
                     const char **why);

#endif
