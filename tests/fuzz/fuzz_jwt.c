/*
 * fuzz_jwt.c - access-token verification with a fixed HS256 key.  The first
 * byte picks the mode:
 *   0 mod 3: the rest is the token string, as a client sends it;
 *   1 mod 3: the rest is "header JSON\nclaims JSON", encoded and signed
 *            with the key, so that the checks after the signature run;
 *   2 mod 3: the rest is the claims JSON under the usual header, signed.
 * Time is fixed (FUZZ_NOW) so that an input always does the same thing.
 */
#include "keel-build.h"

#include "fuzz.h"
#include "auth/jwt.h"
#include "core/validate.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

/* 2026-09-21T14:13:20Z; the seeds' tokens are valid around it. */
#define FUZZ_NOW 1790000000.0

static keel_config_t cfg;
static auth_keys_t keys;

static void
setup(void)
{
    static int done;
    static const char text[] = "[auth]\njwt_secret = " FUZZ_JWT_SECRET "\n";
    char err[256];

    if (done)
        return;
    done = 1;
    config_defaults(&cfg);
    if (config_parse(&cfg, text, "fuzz", err, sizeof(err)) != KEEL_OK ||
        auth_keys_load(&cfg, &keys, err, sizeof(err)) != KEEL_OK) {
        fprintf(stderr, "fuzz_jwt: %s\n", err);
        abort();
    }
}

/* base64url(header) "." base64url(claims) "." base64url(HMAC-SHA256). */
static char *
sign(const char *header, size_t hlen, const char *claims, size_t clen)
{
    size_t cap = (hlen + clen) * 4 / 3 + 64, o;
    char *t = xmalloc(cap);
    unsigned char mac[32];
    unsigned int maclen = sizeof(mac);

    o = b64url_encode((const unsigned char *)header, hlen, t, cap);
    t[o++] = '.';
    o += b64url_encode((const unsigned char *)claims, clen, t + o, cap - o);
    HMAC(EVP_sha256(), FUZZ_JWT_SECRET, (int)strlen(FUZZ_JWT_SECRET),
         (const unsigned char *)t, o, mac, &maclen);
    t[o++] = '.';
    b64url_encode(mac, sizeof(mac), t + o, cap - o);
    return t;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    token_claims_t c;
    const char *why = NULL, *rest;
    char *token, *nl;
    size_t len;

    setup();
    if (size < 1 || size > TOKEN_MAX_LEN)
        return 0;
    rest = (const char *)data + 1;
    len = size - 1;
    switch (data[0] % 3) {
    case 0:
        token = fuzz_cstr(data + 1, len);
        break;
    case 1:
        nl = memchr(rest, '\n', len);
        if (nl == NULL)
            return 0;
        token = sign(rest, (size_t)(nl - rest), nl + 1,
                     len - (size_t)(nl + 1 - rest));
        break;
    default:
        token = sign(header, sizeof(header) - 1, rest, len);
        break;
    }
    if (token_verify(&keys, &cfg, token, FUZZ_NOW, &c, &why) == KEEL_OK) {
        FUZZ_CHECK(why == NULL);
        FUZZ_CHECK(valid_uuid(c.sub) && valid_uuid(c.sid) && valid_uuid(c.jti));
        FUZZ_CHECK(c.nroles <= TOKEN_MAX_ROLES);
        FUZZ_CHECK(FUZZ_NOW < (double)c.exp + cfg.jwt_leeway);
        FUZZ_CHECK((double)c.nbf <= FUZZ_NOW + cfg.jwt_leeway);
    } else {
        FUZZ_CHECK(why != NULL);
    }
    free(token);
    return 0;
}
