/* jwt.c - access tokens with libjwt 1.10, every check done here. */
#include "keel-build.h"

#include "auth/jwt.h"
#include "core/util.h"
#include "core/validate.h"

#include <errno.h>
#include <json-c/json.h>
#include <jwt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct {
    jwt_alg_t alg;
    const char *name;
} algs[] = { [JWT_HS256] = { JWT_ALG_HS256, "HS256" },
             [JWT_RS256] = { JWT_ALG_RS256, "RS256" },
             [JWT_ES256] = { JWT_ALG_ES256, "ES256" } };

/* A whole (small) file into a malloc'd buffer. */
static unsigned char *
slurp(const char *path, size_t *len, char *err, size_t errlen, const char *key)
{
    FILE *f = fopen(path, "re");
    unsigned char *buf;

    if (f == NULL) {
        keel_seterr(err, errlen, "[auth] %s: cannot open %s: %s", key, path,
                    strerror(errno));
        return NULL;
    }
    buf = xmalloc(65536);
    *len = fread(buf, 1, 65535, f);
    fclose(f);
    if (*len == 0 || *len == 65535) {
        keel_seterr(err, errlen, "[auth] %s: %s is empty or too large", key,
                    path);
        free(buf);
        return NULL;
    }
    buf[*len] = '\0';
    return buf;
}

void
auth_keys_free(auth_keys_t *k)
{
    if (k->sign != k->verify)
        free(k->verify);
    free(k->sign);
    memset(k, 0, sizeof(*k));
}

keel_rc
auth_keys_load(const keel_config_t *cfg, auth_keys_t *k, char *err,
               size_t errlen)
{
    token_claims_t c;
    char *probe = NULL;
    const char *why;
    keel_rc rc;

    memset(k, 0, sizeof(*k));
    k->alg = (int)algs[cfg->jwt_alg].alg;
    k->alg_name = algs[cfg->jwt_alg].name;
    if (cfg->jwt_alg == JWT_HS256) {
        if (strlen(cfg->jwt_secret) < 32) {
            keel_seterr(err, errlen,
                        "[auth] jwt_secret must be at least 32 bytes for "
                        "HS256 (set it in keel.conf or KEEL_AUTH_JWT_SECRET)");
            return KEEL_EINVAL;
        }
        k->sign = (unsigned char *)xstrdup(cfg->jwt_secret);
        k->sign_len = strlen(cfg->jwt_secret);
        k->verify = k->sign;
        k->verify_len = k->sign_len;
    } else {
        k->sign = slurp(cfg->jwt_private_key_file, &k->sign_len, err, errlen,
                        "jwt_private_key_file");
        if (k->sign == NULL)
            return KEEL_EINVAL;
        k->verify = slurp(cfg->jwt_public_key_file, &k->verify_len, err, errlen,
                          "jwt_public_key_file");
        if (k->verify == NULL) {
            auth_keys_free(k);
            return KEEL_EINVAL;
        }
    }
    /* A key pair that cannot sign and verify fails now, not per request. */
    rc = token_issue(k, cfg, "00000000-0000-4000-8000-000000000000",
                     "00000000-0000-4000-8000-000000000000", NULL, 0,
                     (double)time(NULL), &probe, NULL);
    if (rc == KEEL_OK)
        rc = token_verify(k, cfg, probe, (double)time(NULL), &c, &why);
    free(probe);
    if (rc != KEEL_OK) {
        keel_seterr(err, errlen,
                    "[auth] the %s keys cannot sign and verify a token",
                    k->alg_name);
        auth_keys_free(k);
        return KEEL_EINVAL;
    }
    return KEEL_OK;
}

keel_rc
token_issue(const auth_keys_t *k, const keel_config_t *cfg, const char *sub,
            const char *sid, const char *const *roles, size_t nroles,
            double iat, char **out, char jti[37])
{
    jwt_t *jwt = NULL;
    json_object *extra = json_object_new_object(), *r;
    char id[37], num[32];
    keel_rc rc = KEEL_EINTERNAL;
    long long exp = (long long)floor(iat) + (long long)cfg->access_ttl;

    *out = NULL;
    uuid_v4(id);
    r = json_object_new_array();
    for (size_t i = 0; i < nroles; i++)
        json_object_array_add(r, json_object_new_string(roles[i]));
    json_object_object_add(extra, "roles", r);
    /* Milliseconds, as a JSON number (json-c would print a double with
     * up to 17 digits; format it exactly). */
    snprintf(num, sizeof(num), "%.3f", floor(iat * 1000.0) / 1000.0);
    json_object_object_add(extra, "iat",
                           json_object_new_double_s(atof(num), num));
    if (jwt_new(&jwt) != 0)
        goto out;
    if (jwt_add_grant(jwt, "iss", cfg->jwt_issuer) != 0 ||
        jwt_add_grant(jwt, "aud", cfg->jwt_audience) != 0 ||
        jwt_add_grant(jwt, "sub", sub) != 0 ||
        jwt_add_grant(jwt, "sid", sid) != 0 ||
        jwt_add_grant(jwt, "jti", id) != 0 ||
        jwt_add_grant_int(jwt, "nbf", (long)floor(iat)) != 0 ||
        jwt_add_grant_int(jwt, "exp", (long)exp) != 0 ||
        jwt_add_grants_json(jwt, json_object_to_json_string_ext(
                                     extra, JSON_C_TO_STRING_PLAIN)) != 0 ||
        jwt_set_alg(jwt, (jwt_alg_t)k->alg, k->sign, (int)k->sign_len) != 0)
        goto out;
    *out = jwt_encode_str(jwt);
    if (*out == NULL)
        goto out;
    if (jti != NULL)
        memcpy(jti, id, 37);
    rc = KEEL_OK;
out:
    jwt_free(jwt);
    json_object_put(extra);
    return rc;
}

/* The shape of a compact JWS: three base64url parts, two dots. */
static int
shape_ok(const char *t, size_t len, size_t *hlen)
{
    const char *d1 = memchr(t, '.', len), *d2;

    if (d1 == NULL)
        return 0;
    d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - t));
    if (d2 == NULL || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - t)))
        return 0;
    for (size_t i = 0; i < len; i++) {
        char ch = t[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
              (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.'))
            return 0;
    }
    *hlen = (size_t)(d1 - t);
    /* An empty signature is an unsigned token. */
    return d1 > t && d2 > d1 + 1 && (size_t)(d2 + 1 - t) < len;
}

/* The header is read here first: alg pinned, no key-fetching members. */
static int
header_ok(const auth_keys_t *k, const char *t, size_t hlen)
{
    unsigned char buf[1024];
    long n = hlen < 1360 ? b64url_decode(t, hlen, buf, sizeof(buf) - 1) : -1;
    json_object *h, *v;
    int ok = 0;

    if (n <= 0)
        return 0;
    buf[n] = '\0';
    h = json_tokener_parse((const char *)buf);
    if (h == NULL || !json_object_is_type(h, json_type_object))
        goto out;
    if (!json_object_object_get_ex(h, "alg", &v) ||
        !json_object_is_type(v, json_type_string) ||
        strcmp(json_object_get_string(v), k->alg_name) != 0)
        goto out;
    if (json_object_object_get_ex(h, "typ", &v) &&
        (!json_object_is_type(v, json_type_string) ||
         ascii_casecmp(json_object_get_string(v), "JWT") != 0))
        goto out;
    if (json_object_object_get_ex(h, "kid", &v)) {
        const char *kid = json_object_get_string(v);
        if (!json_object_is_type(v, json_type_string) || strlen(kid) > 64 ||
            strspn(kid, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                        "0123456789_-") != strlen(kid) ||
            *kid == '\0')
            goto out;
    }
    if (json_object_object_get_ex(h, "jku", NULL) ||
        json_object_object_get_ex(h, "x5u", NULL) ||
        json_object_object_get_ex(h, "jwk", NULL) ||
        json_object_object_get_ex(h, "x5c", NULL) ||
        json_object_object_get_ex(h, "crit", NULL))
        goto out;
    ok = 1;
out:
    json_object_put(h);
    return ok;
}

/* An integer claim; -1 when missing or not an integer. */
static int
int_claim(jwt_t *jwt, const char *name, long long *out)
{
    long v;

    errno = 0;
    v = jwt_get_grant_int(jwt, name);
    if (errno != 0)
        return -1;
    *out = v;
    return 0;
}

/* A claim as json-c (malloc'd JSON text from libjwt, parsed). */
static json_object *
json_claim(jwt_t *jwt, const char *name)
{
    char *text = jwt_get_grants_json(jwt, name);
    json_object *o = text ? json_tokener_parse(text) : NULL;

    free(text);
    return o;
}

static int
str_claim_eq(jwt_t *jwt, const char *name, const char *want)
{
    const char *v = jwt_get_grant(jwt, name);

    return v != NULL && strcmp(v, want) == 0;
}

keel_rc
token_verify(const auth_keys_t *k, const keel_config_t *cfg, const char *token,
             double now, token_claims_t *claims, const char **why)
{
    size_t len = strnlen(token, TOKEN_MAX_LEN + 1), hlen = 0;
    double leeway = cfg->jwt_leeway;
    jwt_t *jwt = NULL;
    json_object *o = NULL;
    const char *s;
    keel_rc rc = KEEL_EUNAUTH;

    memset(claims, 0, sizeof(*claims));
    *why = "token too long";
    if (len > TOKEN_MAX_LEN)
        return rc;
    *why = "not a compact JWS";
    if (!shape_ok(token, len, &hlen))
        return rc;
    *why = "header: algorithm or members refused";
    if (!header_ok(k, token, hlen))
        return rc;
    /* Never a NULL key: libjwt would skip the signature check. */
    *why = "bad signature or encoding";
    if (k->verify == NULL ||
        jwt_decode(&jwt, token, k->verify, (int)k->verify_len) != 0)
        return rc;
    *why = "algorithm mismatch";
    if (jwt_get_alg(jwt) != (jwt_alg_t)k->alg)
        goto out;
    *why = "wrong iss or aud";
    if (!str_claim_eq(jwt, "iss", cfg->jwt_issuer) ||
        !str_claim_eq(jwt, "aud", cfg->jwt_audience))
        goto out;
    *why = "exp or nbf missing";
    if (int_claim(jwt, "exp", &claims->exp) != 0 ||
        int_claim(jwt, "nbf", &claims->nbf) != 0)
        goto out;
    *why = "expired";
    if (now >= (double)claims->exp + leeway)
        goto out;
    *why = "not yet valid";
    if (now + leeway < (double)claims->nbf)
        goto out;
    *why = "iat missing or in the future";
    o = json_claim(jwt, "iat");
    if (o == NULL || !(json_object_is_type(o, json_type_double) ||
                       json_object_is_type(o, json_type_int)))
        goto out;
    claims->iat = json_object_get_double(o);
    json_object_put(o);
    o = NULL;
    if (claims->iat > now + leeway)
        goto out;
    *why = "sub, sid or jti missing";
    s = jwt_get_grant(jwt, "sub");
    if (s == NULL || !valid_uuid(s))
        goto out;
    memcpy(claims->sub, s, 37);
    s = jwt_get_grant(jwt, "sid");
    if (s == NULL || !valid_uuid(s))
        goto out;
    memcpy(claims->sid, s, 37);
    s = jwt_get_grant(jwt, "jti");
    if (s == NULL || !valid_uuid(s))
        goto out;
    memcpy(claims->jti, s, 37);
    *why = "roles malformed";
    o = json_claim(jwt, "roles");
    if (o == NULL || !json_object_is_type(o, json_type_array) ||
        json_object_array_length(o) > TOKEN_MAX_ROLES)
        goto out;
    for (size_t i = 0; i < json_object_array_length(o); i++) {
        json_object *r = json_object_array_get_idx(o, i);
        if (!json_object_is_type(r, json_type_string) ||
            json_object_get_string_len(r) > 64)
            goto out;
        snprintf(claims->roles[i], sizeof(claims->roles[i]), "%s",
                 json_object_get_string(r));
        claims->nroles = i + 1;
    }
    *why = NULL;
    rc = KEEL_OK;
out:
    json_object_put(o);
    jwt_free(jwt);
    return rc;
}
