/* password.c - argon2id hashing and verification (libargon2). */
#include "keel-build.h"

#include "auth/password.h"
#include "auth/hashgate.h"
#include "core/util.h"
#include "core/validate.h"

#include <argon2.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#define SALT_LEN 16
#define HASH_LEN 32

keel_rc
password_check(const keel_config_t *cfg, const char *pw, const char **why)
{
    size_t len = strlen(pw), chars;
    static _Thread_local char msg[96]; /* request threads call this */

    /* Bound the work before counting: bytes >= characters. */
    if (len > (size_t)cfg->password_max_length * 4) {
        chars = (size_t)cfg->password_max_length + 1;
    } else {
        chars = utf8_length(pw, len);
    }
    if (chars < (size_t)cfg->password_min_length ||
        chars > (size_t)cfg->password_max_length) {
        snprintf(msg, sizeof(msg), "must be %d to %d characters",
                 cfg->password_min_length, cfg->password_max_length);
        *why = msg;
        return KEEL_EINVAL;
    }
    return KEEL_OK;
}

/*
 * What argon2 gets: the password itself, or with a pepper its
 * HMAC-SHA256 under the pepper (as 64 hex digits).
 */
static const char *
peppered(const keel_config_t *cfg, const char *pw, char buf[65])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    if (cfg == NULL || cfg->pepper[0] == '\0')
        return pw;
    HMAC(EVP_sha256(), cfg->pepper, (int)strlen(cfg->pepper),
         (const unsigned char *)pw, strlen(pw), mac, &n);
    for (unsigned int i = 0; i < n && i < 32; i++)
        snprintf(buf + 2 * i, 3, "%02x", mac[i]);
    return buf;
}

static keel_rc
hash_now(const keel_config_t *cfg, const char *pw, char out[PASSWORD_HASH_MAX])
{
    unsigned char salt[SALT_LEN];
    char buf[65];
    size_t need = argon2_encodedlen(
        (uint32_t)cfg->argon2_time, (uint32_t)cfg->argon2_memory,
        (uint32_t)cfg->argon2_parallelism, SALT_LEN, HASH_LEN, Argon2_id);

    if (need > PASSWORD_HASH_MAX)
        return KEEL_EINTERNAL;
    random_bytes(salt, sizeof(salt));
    pw = peppered(cfg, pw, buf);
    if (argon2id_hash_encoded(
            (uint32_t)cfg->argon2_time, (uint32_t)cfg->argon2_memory,
            (uint32_t)cfg->argon2_parallelism, pw, strlen(pw), salt,
            sizeof(salt), HASH_LEN, out, PASSWORD_HASH_MAX) != ARGON2_OK)
        return KEEL_EINTERNAL;
    return KEEL_OK;
}

keel_rc
password_hash(const keel_config_t *cfg, const char *pw,
              char out[PASSWORD_HASH_MAX])
{
    int slot = hashgate_enter(cfg->hash_wait);
    keel_rc rc;

    if (slot == -1)
        return KEEL_EUNAVAIL;
    rc = hash_now(cfg, pw, out);
    hashgate_leave(slot);
    return rc;
}

keel_rc
password_dummy_hash(const keel_config_t *cfg, char out[PASSWORD_HASH_MAX])
{
    char pw[33];
    unsigned char r[16];

    random_bytes(r, sizeof(r));
    for (size_t i = 0; i < sizeof(r); i++)
        snprintf(pw + 2 * i, 3, "%02x", r[i]);
    return hash_now(cfg, pw, out);
}

keel_rc
password_verify(const keel_config_t *cfg, const char *encoded, const char *pw)
{
    char buf[65];
    int slot, ok;

    /* Only an exact ARGON2_OK is a match (malformed hashes are not). */
    if (strncmp(encoded, "$argon2id$", 10) != 0)
        return KEEL_EUNAUTH;
    slot = hashgate_enter(cfg->hash_wait);
    if (slot == -1)
        return KEEL_EUNAVAIL;
    pw = peppered(cfg, pw, buf);
    ok = argon2id_verify(encoded, pw, strlen(pw)) == ARGON2_OK;
    hashgate_leave(slot);
    return ok ? KEEL_OK : KEEL_EUNAUTH;
}

int
password_needs_rehash(const keel_config_t *cfg, const char *encoded)
{
    char want[64];

    snprintf(want, sizeof(want), "$argon2id$v=19$m=%d,t=%d,p=%d$",
             cfg->argon2_memory, cfg->argon2_time, cfg->argon2_parallelism);
    return strncmp(encoded, want, strlen(want)) != 0;
}
