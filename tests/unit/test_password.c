/* test_password.c - argon2id hashing, verification, length rules and the
 * re-hash check. */
#include "keel-build.h"

#include "unit.h"
#include "auth/password.h"

#include <stdlib.h>
#include <string.h>

static keel_config_t cfg;

static void
test_hash_is_phc_argon2id_and_verifies(void)
{
    char h[PASSWORD_HASH_MAX], h2[PASSWORD_HASH_MAX];

    CU_ASSERT_EQUAL_FATAL(password_hash(&cfg, "correct horse battery", h),
                          KEEL_OK);
    CU_ASSERT_EQUAL(strncmp(h, "$argon2id$v=19$m=19456,t=2,p=1$", 31), 0);
    CU_ASSERT_PTR_NULL(strstr(h, "horse"));
    CU_ASSERT_EQUAL(password_verify(&cfg, h, "correct horse battery"), KEEL_OK);
    CU_ASSERT_EQUAL(password_verify(&cfg, h, "correct horse batterY"),
                    KEEL_EUNAUTH);
    CU_ASSERT_EQUAL(password_verify(&cfg, h, ""), KEEL_EUNAUTH);
    /* A fresh salt each time. */
    CU_ASSERT_EQUAL_FATAL(password_hash(&cfg, "correct horse battery", h2),
                          KEEL_OK);
    CU_ASSERT_STRING_NOT_EQUAL(h, h2);
}

static void
test_malformed_or_foreign_hashes_never_verify(void)
{
    CU_ASSERT_EQUAL(password_verify(&cfg, "", "x"), KEEL_EUNAUTH);
    CU_ASSERT_EQUAL(password_verify(&cfg, "$argon2id$garbage", "x"),
                    KEEL_EUNAUTH);
    CU_ASSERT_EQUAL(password_verify(&cfg,
                                    "$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$"
                                    "aGFzaGhhc2hoYXNoaGFzaA",
                                    "x"),
                    KEEL_EUNAUTH);
    CU_ASSERT_EQUAL(password_verify(&cfg, "plaintext", "plaintext"),
                    KEEL_EUNAUTH);
}

static void
test_length_is_checked_in_characters(void)
{
    const char *why = NULL;
    char big[600];

    CU_ASSERT_EQUAL(password_check(&cfg, "elevenchars", &why), KEEL_EINVAL);
    CU_ASSERT_STRING_EQUAL(why, "must be 12 to 128 characters");
    CU_ASSERT_EQUAL(password_check(&cfg, "twelve chars", &why), KEEL_OK);
    /* 12 characters of two bytes each. */
    CU_ASSERT_EQUAL(password_check(&cfg, "éééééééééééé", &why), KEEL_OK);
    CU_ASSERT_EQUAL(password_check(&cfg, "ééééééééééé", &why), KEEL_EINVAL);
    memset(big, 'a', 129);
    big[129] = '\0';
    CU_ASSERT_EQUAL(password_check(&cfg, big, &why), KEEL_EINVAL);
    big[128] = '\0';
    CU_ASSERT_EQUAL(password_check(&cfg, big, &why), KEEL_OK);
    memset(big, 'a', 599);
    big[599] = '\0';
    CU_ASSERT_EQUAL(password_check(&cfg, big, &why), KEEL_EINVAL);
}

static void
test_older_parameters_need_a_rehash(void)
{
    char h[PASSWORD_HASH_MAX];

    CU_ASSERT_EQUAL_FATAL(password_hash(&cfg, "correct horse battery", h),
                          KEEL_OK);
    CU_ASSERT_FALSE(password_needs_rehash(&cfg, h));
    cfg.argon2_time = 3;
    CU_ASSERT_TRUE(password_needs_rehash(&cfg, h));
    /* The old hash still verifies: parameters are read from it. */
    CU_ASSERT_EQUAL(password_verify(&cfg, h, "correct horse battery"), KEEL_OK);
    cfg.argon2_time = 2;
}

static void
test_a_pepper_is_needed_to_verify(void)
{
    keel_config_t pc;
    char h[PASSWORD_HASH_MAX];

    config_defaults(&pc);
    free(pc.pepper);
    pc.pepper = strdup("server-side-pepper-0123456789");
    CU_ASSERT_EQUAL_FATAL(password_hash(&pc, "correct horse battery", h),
                          KEEL_OK);
    CU_ASSERT_EQUAL(password_verify(&pc, h, "correct horse battery"), KEEL_OK);
    /* Without the pepper (a stolen database alone), or another one: no. */
    CU_ASSERT_EQUAL(password_verify(&cfg, h, "correct horse battery"),
                    KEEL_EUNAUTH);
    free(pc.pepper);
    pc.pepper = strdup("server-side-pepper-0123456780");
    CU_ASSERT_EQUAL(password_verify(&pc, h, "correct horse battery"),
                    KEEL_EUNAUTH);
    config_free(&pc);
}

static const unit_test_t tests[] = {
    { "a pepper is needed to verify", test_a_pepper_is_needed_to_verify },
    { "a hash is PHC argon2id and verifies",
      test_hash_is_phc_argon2id_and_verifies },
    { "malformed or foreign hashes never verify",
      test_malformed_or_foreign_hashes_never_verify },
    { "length is checked in characters", test_length_is_checked_in_characters },
    { "older parameters need a rehash", test_older_parameters_need_a_rehash },
};

int
main(void)
{
    int rc;

    config_defaults(&cfg);
    rc = unit_run("passwords", UNIT_TESTS(tests));
    config_free(&cfg);
    return rc;
}
