/* test_jwt.c - access tokens: the round trip, and every forgery that
 * libjwt 1.10 alone would accept (tokens built here by hand with
 * OpenSSL's HMAC and RSA, independently of libjwt). */
#include "keel-build.h"

#include "unit.h"
#include "auth/jwt.h"
#include "auth/keys.h"
#include "core/util.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SECRET "0123456789abcdef0123456789abcdef-test"
#define SUB    "6f1c1a52-8a0e-4c7a-9d7e-4d0f5b1f2a3c"
#define JTI    "1b4e28ba-2fa1-41d2-883f-0016d3cca427"

static keel_config_t cfg, rcfg;
static auth_keys_t keys, rkeys;
static char dir[] = "/tmp/keel-jwt.XXXXXX";
static char pub_pem[4096];
static size_t pub_len;

/* header.payload.signature with HMAC `md` over the first two parts. */
static char *
forge(const char *header, const char *payload, const EVP_MD *md,
      const void *key, size_t keylen)
{
    static char out[8192];
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    size_t n;

    n = b64url_encode((const unsigned char *)header, strlen(header), out,
                      sizeof(out));
    out[n++] = '.';
    n += b64url_encode((const unsigned char *)payload, strlen(payload), out + n,
                       sizeof(out) - n);
    if (md != NULL) {
        HMAC(md, key, (int)keylen, (unsigned char *)out, n, mac, &maclen);
        out[n++] = '.';
        b64url_encode(mac, maclen, out + n, sizeof(out) - n);
    } else {
        out[n++] = '.';
        out[n] = '\0';
    }
    return out;
}

/* A payload with every claim right, at `now`, with one member replaced
 * (or dropped, with value NULL). */
static const char *
claims_with(const char *drop_or_set, const char *value)
{
    static char buf[1024];
    long long now = (long long)time(NULL);
    json_object *o = json_object_new_object();

    json_object_object_add(o, "iss", json_object_new_string("keel"));
    json_object_object_add(o, "aud", json_object_new_string("keel-api"));
    json_object_object_add(o, "sub", json_object_new_string(SUB));
    json_object_object_add(o, "jti", json_object_new_string(JTI));
    json_object_object_add(o, "sid", json_object_new_string(JTI));
    json_object_object_add(o, "iat", json_object_new_int64(now));
    json_object_object_add(o, "nbf", json_object_new_int64(now));
    json_object_object_add(o, "exp", json_object_new_int64(now + 600));
    json_object_object_add(o, "roles", json_object_new_array());
    if (drop_or_set != NULL) {
        if (value == NULL)
            json_object_object_del(o, drop_or_set);
        else
            json_object_object_add(o, drop_or_set, json_tokener_parse(value));
    }
    snprintf(buf, sizeof(buf), "%s",
             json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    return buf;
}

static const char *HS = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

static keel_rc
verify(const char *token)
{
    token_claims_t c;
    const char *why;

    return token_verify(&keys, &cfg, token, (double)time(NULL), &c, &why);
}

static void
test_round_trip_keeps_every_claim(void)
{
    const char *roles[] = { "user", "editor" };
    double now = 1.7e9 + 0.123;
    token_claims_t c;
    const char *why = "unset";
    char *t = NULL, jti[37];

    CU_ASSERT_EQUAL_FATAL(token_issue(&keys, &cfg, SUB, JTI, roles, 2,
                                      (double)time(NULL) + 0.123, &t, jti),
                          KEEL_OK);
    CU_ASSERT_EQUAL(token_verify(&keys, &cfg, t, (double)time(NULL), &c, &why),
                    KEEL_OK);
    CU_ASSERT_PTR_NULL(why);
    CU_ASSERT_STRING_EQUAL(c.sub, SUB);
    CU_ASSERT_STRING_EQUAL(c.jti, jti);
    CU_ASSERT_STRING_EQUAL(c.sid, JTI);
    CU_ASSERT_EQUAL(c.nroles, 2);
    CU_ASSERT_STRING_EQUAL(c.roles[1], "editor");
    CU_ASSERT_EQUAL(c.exp, c.nbf + 900);
    /* iat keeps milliseconds. */
    CU_ASSERT(c.iat - (double)c.nbf > 0.1229 && c.iat - (double)c.nbf < 0.1231);
    free(t);
    /* The clock of the verifier decides: the same token 16 minutes on. */
    CU_ASSERT_EQUAL(token_issue(&keys, &cfg, SUB, JTI, NULL, 0, now, &t, NULL),
                    KEEL_OK);
    CU_ASSERT_EQUAL(token_verify(&keys, &cfg, t, now + 60, &c, &why), KEEL_OK);
    CU_ASSERT_EQUAL(token_verify(&keys, &cfg, t, now + 960, &c, &why),
                    KEEL_EUNAUTH);
    CU_ASSERT_STRING_EQUAL(why, "expired");
    free(t);
}

static void
test_forged_tokens_with_right_claims_verify(void)
{
    /* The forging helper is right: a token it signs correctly passes. */
    CU_ASSERT_EQUAL(verify(forge(HS, claims_with(NULL, NULL), EVP_sha256(),
                                 SECRET, strlen(SECRET))),
                    KEEL_OK);
    CU_ASSERT_EQUAL(
        verify(forge("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"key-1\"}",
                     claims_with(NULL, NULL), EVP_sha256(), SECRET,
                     strlen(SECRET))),
        KEEL_OK);
}

static void
test_alg_none_is_refused(void)
{
    CU_ASSERT_EQUAL(verify(forge("{\"alg\":\"none\",\"typ\":\"JWT\"}",
                                 claims_with(NULL, NULL), NULL, NULL, 0)),
                    KEEL_EUNAUTH);
    CU_ASSERT_EQUAL(verify(forge("{\"alg\":\"none\"}", claims_with(NULL, NULL),
                                 EVP_sha256(), SECRET, strlen(SECRET))),
                    KEEL_EUNAUTH);
    /* HS256 in the header but no signature. */
    CU_ASSERT_EQUAL(verify(forge(HS, claims_with(NULL, NULL), NULL, NULL, 0)),
                    KEEL_EUNAUTH);
}

static void
test_other_hmac_sizes_are_refused(void)
{
    CU_ASSERT_EQUAL(verify(forge("{\"alg\":\"HS384\",\"typ\":\"JWT\"}",
                                 claims_with(NULL, NULL), EVP_sha384(), SECRET,
                                 strlen(SECRET))),
                    KEEL_EUNAUTH);
    CU_ASSERT_EQUAL(verify(forge("{\"alg\":\"HS512\",\"typ\":\"JWT\"}",
                                 claims_with(NULL, NULL), EVP_sha512(), SECRET,
                                 strlen(SECRET))),
                    KEEL_EUNAUTH);
}

static void
test_rs_hs_confusion_is_refused(void)
{
    token_claims_t c;
    const char *why;
    char *t = NULL;

    /* RS256 pinned: a token HMAC'd with the public key's PEM as secret. */
    CU_ASSERT_EQUAL(token_verify(&rkeys, &rcfg,
                                 forge(HS, claims_with(NULL, NULL),
                                       EVP_sha256(), pub_pem, pub_len),
                                 (double)time(NULL), &c, &why),
                    KEEL_EUNAUTH);
    /* HS256 pinned: a token that says RS256, "signed" with the secret. */
    CU_ASSERT_EQUAL(verify(forge("{\"alg\":\"RS256\",\"typ\":\"JWT\"}",
                                 claims_with(NULL, NULL), EVP_sha256(), SECRET,
                                 strlen(SECRET))),
                    KEEL_EUNAUTH);
    /* And RS256 itself works with its key pair. */
    CU_ASSERT_EQUAL(token_issue(&rkeys, &rcfg, SUB, JTI, NULL, 0,
                                (double)time(NULL), &t, NULL),
                    KEEL_OK);
    CU_ASSERT_EQUAL(
        token_verify(&rkeys, &rcfg, t, (double)time(NULL), &c, &why), KEEL_OK);
    /* An RS256 token is not accepted where HS256 is pinned. */
    CU_ASSERT_EQUAL(verify(t), KEEL_EUNAUTH);
    free(t);
}

static void
test_tampering_is_refused(void)
{
    char *t = NULL, copy[8192], *dot;

    CU_ASSERT_EQUAL_FATAL(token_issue(&keys, &cfg, SUB, JTI, NULL, 0,
                                      (double)time(NULL), &t, NULL),
                          KEEL_OK);
    /* Signature: flip its first character. */
    snprintf(copy, sizeof(copy), "%s", t);
    dot = strrchr(copy, '.');
    dot[1] = dot[1] == 'A' ? 'B' : 'A';
    CU_ASSERT_EQUAL(verify(copy), KEEL_EUNAUTH);
    /* Payload: another, well-formed payload under the old signature. */
    {
        const char *other =
            forge(HS, claims_with("sub", "\"" JTI "\""), NULL, NULL, 0);
        char mixed[8192];
        snprintf(mixed, sizeof(mixed), "%.*s%s", (int)(strlen(other) - 1),
                 other, strrchr(t, '.'));
        CU_ASSERT_EQUAL(verify(mixed), KEEL_EUNAUTH);
    }
    free(t);
}

static void
test_wrong_or_missing_claims_are_refused(void)
{
    static const struct {
        const char *member, *value;
    } bad[] = {
        { "iss", "\"someone-else\"" },
        { "aud", "\"another-api\"" },
        { "aud", "[\"keel-api\"]" },
        { "exp", "1000" },
        { "exp", "\"tomorrow\"" },
        { "nbf", "4102444800" },
        { "iat", "4102444800" },
        { "iat", "\"now\"" },
        { "sub", NULL },
        { "sub", "\"admin\"" },
        { "jti", NULL },
        { "sid", NULL },
        { "sid", "\"x\"" },
        { "exp", NULL },
        { "roles", "\"admin\"" },
        { "iss", NULL },
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        keel_rc rc = verify(forge(HS, claims_with(bad[i].member, bad[i].value),
                                  EVP_sha256(), SECRET, strlen(SECRET)));
        CU_ASSERT_EQUAL(rc, KEEL_EUNAUTH);
        if (rc != KEEL_EUNAUTH)
            fprintf(stderr, "\n  accepted %s = %s\n", bad[i].member,
                    bad[i].value ? bad[i].value : "(missing)");
    }
}

static void
test_leeway_applies_to_exp_and_nbf(void)
{
    char exp[32], nbf[32];
    long long now = (long long)time(NULL);

    snprintf(exp, sizeof(exp), "%lld", now - 3); /* leeway is 5 s */
    CU_ASSERT_EQUAL(verify(forge(HS, claims_with("exp", exp), EVP_sha256(),
                                 SECRET, strlen(SECRET))),
                    KEEL_OK);
    snprintf(exp, sizeof(exp), "%lld", now - 6);
    CU_ASSERT_EQUAL(verify(forge(HS, claims_with("exp", exp), EVP_sha256(),
                                 SECRET, strlen(SECRET))),
                    KEEL_EUNAUTH);
    snprintf(nbf, sizeof(nbf), "%lld", now + 3);
    CU_ASSERT_EQUAL(verify(forge(HS, claims_with("nbf", nbf), EVP_sha256(),
                                 SECRET, strlen(SECRET))),
                    KEEL_OK);
}

static void
test_malformed_tokens_are_refused(void)
{
    static const char *const bad[] = {
        "",
        "abc",
        "a.b",
        "a.b.c.d",
        "!!!.???.###",
        "a$b.c.d",
        "eyJhbGciOiJIUzI1NiJ9.e30.",
        ".e30.abc",
        "eyJhbGciOiJIUzI1NiJ9..abc",
        /* valid alphabet, not JSON inside */
        "YWJj.ZGVm.Z2hp",
    };
    char *huge = malloc(100 * 1024 + 1);

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CU_ASSERT_EQUAL(verify(bad[i]), KEEL_EUNAUTH);
    /* 100 KB: refused on its length, before any parsing. */
    memset(huge, 'A', 100 * 1024);
    huge[20] = '.';
    huge[60] = '.';
    huge[100 * 1024] = '\0';
    CU_ASSERT_EQUAL(verify(huge), KEEL_EUNAUTH);
    free(huge);
}

static void
test_header_members_that_point_elsewhere_are_refused(void)
{
    static const char *const headers[] = {
        "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"../../etc/passwd\"}",
        "{\"alg\":\"HS256\",\"kid\":\"/dev/null\"}",
        "{\"alg\":\"HS256\",\"kid\":\"\"}",
        "{\"alg\":\"HS256\",\"jku\":\"http://127.0.0.1:1/keys\"}",
        "{\"alg\":\"HS256\",\"x5u\":\"http://127.0.0.1:1/cert\"}",
        "{\"alg\":\"HS256\",\"jwk\":{\"kty\":\"oct\",\"k\":\"AAAA\"}}",
        "{\"alg\":\"HS256\",\"crit\":[\"exp\"]}",
        "{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}",
        "{\"typ\":\"JWT\"}",
    };

    for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++)
        CU_ASSERT_EQUAL(verify(forge(headers[i], claims_with(NULL, NULL),
                                     EVP_sha256(), SECRET, strlen(SECRET))),
                        KEEL_EUNAUTH);
}

static void
test_keys_load_refuses_short_secrets_and_bad_files(void)
{
    keel_config_t c;
    auth_keys_t k;
    char err[256], path[256];

    config_defaults(&c);
    CU_ASSERT_EQUAL(auth_keys_load(&c, &k, err, sizeof(err)), KEEL_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "at least 32 bytes"));
    free(c.jwt_secret);
    c.jwt_secret = strdup("0123456789abcdef0123456789abcde");
    CU_ASSERT_EQUAL(auth_keys_load(&c, &k, err, sizeof(err)), KEEL_EINVAL);
    c.jwt_alg = JWT_RS256;
    free(c.jwt_private_key_file);
    c.jwt_private_key_file = strdup("/nonexistent/key.pem");
    CU_ASSERT_EQUAL(auth_keys_load(&c, &k, err, sizeof(err)), KEEL_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "jwt_private_key_file"));
    /* A public key that is not the private key's pair. */
    free(c.jwt_private_key_file);
    snprintf(path, sizeof(path), "%s/priv.pem", dir);
    c.jwt_private_key_file = strdup(path);
    free(c.jwt_public_key_file);
    snprintf(path, sizeof(path), "%s/other.pem", dir);
    c.jwt_public_key_file = strdup(path);
    CU_ASSERT_EQUAL(auth_keys_load(&c, &k, err, sizeof(err)), KEEL_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot sign and verify"));
    config_free(&c);
}

static void
test_base64url_round_trips_and_refuses_bad_input(void)
{
    static const struct {
        const char *raw, *enc;
    } v[] = { { "", "" },           { "f", "Zg" },
              { "fo", "Zm8" },      { "foo", "Zm9v" },
              { "foob", "Zm9vYg" }, { "fooba", "Zm9vYmE" },
              { "\xfb\xff", "-_8" } };
    unsigned char out[16];
    char enc[16];

    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        size_t n = strlen(v[i].raw);
        CU_ASSERT_EQUAL(
            b64url_encode((const unsigned char *)v[i].raw, n, enc, sizeof(enc)),
            strlen(v[i].enc));
        CU_ASSERT_STRING_EQUAL(enc, v[i].enc);
        CU_ASSERT_EQUAL(
            b64url_decode(v[i].enc, strlen(v[i].enc), out, sizeof(out)),
            (long)n);
        CU_ASSERT_EQUAL(memcmp(out, v[i].raw, n), 0);
    }
    CU_ASSERT_EQUAL(b64url_decode("Zg==", 4, out, sizeof(out)), -1);
    CU_ASSERT_EQUAL(b64url_decode("Zm+v", 4, out, sizeof(out)), -1);
    CU_ASSERT_EQUAL(b64url_decode("Z", 1, out, sizeof(out)), -1);
    CU_ASSERT_EQUAL(b64url_decode("Zh", 2, out, sizeof(out)), -1);
    CU_ASSERT_EQUAL(b64url_decode("Zm9vYmFy", 8, out, 5), -1);
    CU_ASSERT_EQUAL(b64url_encode((const unsigned char *)"foo", 3, enc, 4), 0);
}

static void
test_es256_signs_and_verifies_and_refuses_others(void)
{
    keel_config_t c;
    auth_keys_t k;
    token_claims_t cl;
    const char *why;
    char err[256], path[256], *t = NULL;

    config_defaults(&c);
    c.jwt_alg = JWT_ES256;
    free(c.jwt_private_key_file);
    snprintf(path, sizeof(path), "%s/ec-priv.pem", dir);
    c.jwt_private_key_file = strdup(path);
    free(c.jwt_public_key_file);
    snprintf(path, sizeof(path), "%s/ec-pub.pem", dir);
    c.jwt_public_key_file = strdup(path);
    CU_ASSERT_EQUAL_FATAL(auth_keys_load(&c, &k, err, sizeof(err)), KEEL_OK);
    CU_ASSERT_EQUAL(
        token_issue(&k, &c, SUB, JTI, NULL, 0, (double)time(NULL), &t, NULL),
        KEEL_OK);
    CU_ASSERT_EQUAL(token_verify(&k, &c, t, (double)time(NULL), &cl, &why),
                    KEEL_OK);
    /* Neither the HS256 nor the RS256 verifier takes it, nor it theirs. */
    CU_ASSERT_EQUAL(verify(t), KEEL_EUNAUTH);
    CU_ASSERT_EQUAL(
        token_verify(&rkeys, &rcfg, t, (double)time(NULL), &cl, &why),
        KEEL_EUNAUTH);
    free(t);
    CU_ASSERT_EQUAL(token_verify(&k, &c,
                                 forge(HS, claims_with(NULL, NULL),
                                       EVP_sha256(), k.verify, k.verify_len),
                                 (double)time(NULL), &cl, &why),
                    KEEL_EUNAUTH);
    auth_keys_free(&k);
    config_free(&c);
}

/* auth/keys.h: what each application's worker_init and check_config
 * call.  The worker's keys are the configured ones (a token they sign
 * verifies with keys loaded here), its dummy hash is an argon2id hash no
 * password matches, and a key that does not load fails both. */
static void
test_worker_keys_and_config_check(void)
{
    static auth_worker_keys_t wk;
    keel_config_t c;
    token_claims_t cl;
    const char *why;
    char err[256] = "", *t = NULL;

    CU_ASSERT_EQUAL(auth_check_config(&cfg, err, sizeof(err)), KEEL_OK);
    CU_ASSERT_EQUAL_FATAL(auth_worker_keys_load(&cfg, &wk, err, sizeof(err)),
                          KEEL_OK);
    CU_ASSERT_EQUAL(strncmp(wk.dummy_hash, "$argon2id$", 10), 0);
    CU_ASSERT_EQUAL(password_verify(&cfg, wk.dummy_hash, ""), KEEL_EUNAUTH);
    CU_ASSERT_EQUAL(password_verify(&cfg, wk.dummy_hash, SECRET), KEEL_EUNAUTH);
    CU_ASSERT_EQUAL(token_issue(&wk.keys, &cfg, SUB, JTI, NULL, 0,
                                (double)time(NULL), &t, NULL),
                    KEEL_OK);
    CU_ASSERT_EQUAL(token_verify(&keys, &cfg, t, (double)time(NULL), &cl, &why),
                    KEEL_OK);
    free(t);
    auth_keys_free(&wk.keys);

    config_defaults(&c);
    free(c.jwt_secret);
    c.jwt_secret = strdup("too short");
    CU_ASSERT_EQUAL(auth_check_config(&c, err, sizeof(err)), KEEL_EINVAL);
    CU_ASSERT_NOT_EQUAL(err[0], '\0');
    err[0] = '\0';
    CU_ASSERT_EQUAL(auth_worker_keys_load(&c, &wk, err, sizeof(err)),
                    KEEL_EINVAL);
    CU_ASSERT_NOT_EQUAL(err[0], '\0');
    config_free(&c);
}

static const unit_test_t tests[] = {
    { "ES256 signs and verifies, and refuses the others",
      test_es256_signs_and_verifies_and_refuses_others },
    { "base64url round trips and refuses bad input",
      test_base64url_round_trips_and_refuses_bad_input },
    { "a round trip keeps every claim", test_round_trip_keeps_every_claim },
    { "forged tokens with the right claims and key verify",
      test_forged_tokens_with_right_claims_verify },
    { "alg none is refused", test_alg_none_is_refused },
    { "HS384 and HS512 are refused when HS256 is pinned",
      test_other_hmac_sizes_are_refused },
    { "RS/HS confusion is refused both ways", test_rs_hs_confusion_is_refused },
    { "a tampered payload or signature is refused", test_tampering_is_refused },
    { "wrong or missing claims are refused",
      test_wrong_or_missing_claims_are_refused },
    { "the leeway applies to exp and nbf", test_leeway_applies_to_exp_and_nbf },
    { "malformed and oversized tokens are refused",
      test_malformed_tokens_are_refused },
    { "header members that point elsewhere are refused",
      test_header_members_that_point_elsewhere_are_refused },
    { "key loading refuses short secrets and bad files",
      test_keys_load_refuses_short_secrets_and_bad_files },
    { "worker keys and the config check load the configured keys",
      test_worker_keys_and_config_check },
};

/* An RSA key pair in dir/priv.pem and dir/pub.pem, and another public key
 * in dir/other.pem. */
static int
make_keys(void)
{
    char path[256];
    EVP_PKEY *a = EVP_RSA_gen(2048), *b = EVP_RSA_gen(2048);
    FILE *f;

    if (a == NULL || b == NULL || mkdtemp(dir) == NULL)
        return -1;
    snprintf(path, sizeof(path), "%s/priv.pem", dir);
    f = fopen(path, "w");
    PEM_write_PrivateKey(f, a, NULL, NULL, 0, NULL, NULL);
    fclose(f);
    snprintf(path, sizeof(path), "%s/pub.pem", dir);
    f = fopen(path, "w");
    PEM_write_PUBKEY(f, a);
    fclose(f);
    f = fopen(path, "r");
    pub_len = fread(pub_pem, 1, sizeof(pub_pem) - 1, f);
    fclose(f);
    snprintf(path, sizeof(path), "%s/other.pem", dir);
    f = fopen(path, "w");
    PEM_write_PUBKEY(f, b);
    fclose(f);
    EVP_PKEY_free(a);
    EVP_PKEY_free(b);
    a = EVP_EC_gen("P-256");
    if (a == NULL)
        return -1;
    snprintf(path, sizeof(path), "%s/ec-priv.pem", dir);
    f = fopen(path, "w");
    PEM_write_PrivateKey(f, a, NULL, NULL, 0, NULL, NULL);
    fclose(f);
    snprintf(path, sizeof(path), "%s/ec-pub.pem", dir);
    f = fopen(path, "w");
    PEM_write_PUBKEY(f, a);
    fclose(f);
    EVP_PKEY_free(a);
    return 0;
}

int
main(void)
{
    char err[256], path[256];
    int rc;

    if (make_keys() != 0)
        return 1;
    config_defaults(&cfg);
    free(cfg.jwt_secret);
    cfg.jwt_secret = strdup(SECRET);
    config_defaults(&rcfg);
    rcfg.jwt_alg = JWT_RS256;
    free(rcfg.jwt_private_key_file);
    snprintf(path, sizeof(path), "%s/priv.pem", dir);
    rcfg.jwt_private_key_file = strdup(path);
    free(rcfg.jwt_public_key_file);
    snprintf(path, sizeof(path), "%s/pub.pem", dir);
    rcfg.jwt_public_key_file = strdup(path);
    if (auth_keys_load(&cfg, &keys, err, sizeof(err)) != KEEL_OK ||
        auth_keys_load(&rcfg, &rkeys, err, sizeof(err)) != KEEL_OK) {
        fprintf(stderr, "keys: %s\n", err);
        return 1;
    }
    rc = unit_run("access tokens", UNIT_TESTS(tests));
    auth_keys_free(&keys);
    auth_keys_free(&rkeys);
    config_free(&cfg);
    config_free(&rcfg);
    snprintf(path, sizeof(path), "rm -rf '%s'", dir);
    if (system(path) != 0)
        rc = 1;
    return rc;
}
