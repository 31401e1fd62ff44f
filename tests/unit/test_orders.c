/* test_orders.c - the pure rules of orders: the status machine (API.md
 * 5.4), which Idempotency-Key values are accepted and what makes two
 * requests "the same" for one (1.6), and the digest they rest on. */
#include "keel-build.h"

#include "unit.h"
#include "core/util.h"
#include "store/idempotency.h"
#include "store/orders.h"

#include <string.h>

static void
test_the_transitions_of_api_md_are_allowed(void)
{
    CU_ASSERT_TRUE(order_transition_ok("pending", "paid"));
    CU_ASSERT_TRUE(order_transition_ok("paid", "shipped"));
    CU_ASSERT_TRUE(order_transition_ok("shipped", "delivered"));
    CU_ASSERT_TRUE(order_transition_ok("pending", "cancelled"));
    CU_ASSERT_TRUE(order_transition_ok("paid", "cancelled"));
}

static void
test_every_other_transition_is_refused(void)
{
    static const char *const s[] = { "pending", "paid", "shipped", "delivered",
                                     "cancelled" };
    int allowed = 0;

    for (size_t i = 0; i < 5; i++)
        for (size_t j = 0; j < 5; j++)
            allowed += order_transition_ok(s[i], s[j]);
    /* Exactly the five above: no self-transition, nothing backwards,
     * nothing out of delivered or cancelled, no skipping a step. */
    CU_ASSERT_EQUAL(allowed, 5);
    CU_ASSERT_FALSE(order_transition_ok("pending", "shipped"));
    CU_ASSERT_FALSE(order_transition_ok("shipped", "cancelled"));
    CU_ASSERT_FALSE(order_transition_ok("cancelled", "pending"));
    CU_ASSERT_FALSE(order_transition_ok("paid", "paid"));
    CU_ASSERT_FALSE(order_transition_ok("pending", "lost"));
    CU_ASSERT_FALSE(order_transition_ok(NULL, "paid"));
    CU_ASSERT_FALSE(order_transition_ok("pending", NULL));
}

static void
test_idempotency_keys_are_1_to_255_printable_ascii(void)
{
    char k[300];

    CU_ASSERT_TRUE(idem_key_valid("a"));
    CU_ASSERT_TRUE(idem_key_valid("order 2026-12-05 #1 ~!"));
    memset(k, 'x', 255);
    k[255] = '\0';
    CU_ASSERT_TRUE(idem_key_valid(k));
    k[255] = 'x';
    k[256] = '\0';
    CU_ASSERT_FALSE(idem_key_valid(k));
    CU_ASSERT_FALSE(idem_key_valid(""));
    CU_ASSERT_FALSE(idem_key_valid(NULL));
    CU_ASSERT_FALSE(idem_key_valid("tab\there"));
    CU_ASSERT_FALSE(idem_key_valid("del\x7f"));
    CU_ASSERT_FALSE(idem_key_valid("caf\xc3\xa9"));
}

static void
test_a_request_is_its_method_path_and_body(void)
{
    idem_request_t a, b;
    const char *body = "{\"items\":[]}";

    idem_request_hash(&a, "POST", "/v1/orders", body, strlen(body));
    idem_request_hash(&b, "POST", "/v1/orders", body, strlen(body));
    CU_ASSERT_STRING_EQUAL(a.hash, b.hash);
    CU_ASSERT_EQUAL(strlen(a.hash), 66);
    CU_ASSERT_EQUAL(strncmp(a.hash, "\\x", 2), 0);
    /* One byte more of body, another path, another method: another hash. */
    idem_request_hash(&b, "POST", "/v1/orders", body, strlen(body) - 1);
    CU_ASSERT_STRING_NOT_EQUAL(a.hash, b.hash);
    idem_request_hash(&b, "POST", "/v1/posts", body, strlen(body));
    CU_ASSERT_STRING_NOT_EQUAL(a.hash, b.hash);
    idem_request_hash(&b, "PUT", "/v1/orders", body, strlen(body));
    CU_ASSERT_STRING_NOT_EQUAL(a.hash, b.hash);
    /* An empty body is a request too. */
    idem_request_hash(&b, "POST", "/v1/orders", NULL, 0);
    CU_ASSERT_STRING_NOT_EQUAL(a.hash, b.hash);
}

static void
test_sha256_bytea_is_sha256_in_postgres_hex(void)
{
    char out[SHA256_BYTEA_LEN];

    sha256_bytea("abc", 3, out);
    CU_ASSERT_STRING_EQUAL(out, "\\xba7816bf8f01cfea414140de5dae2223"
                                "b00361a396177a9cb410ff61f20015ad");
    sha256_bytea("", 0, out);
    CU_ASSERT_STRING_EQUAL(out, "\\xe3b0c44298fc1c149afbf4c8996fb924"
                                "27ae41e4649b934ca495991b7852b855");
}

static const unit_test_t tests[] = {
    { "the transitions of API.md 5.4 are allowed",
      test_the_transitions_of_api_md_are_allowed },
    { "every other transition is refused",
      test_every_other_transition_is_refused },
    { "Idempotency-Key is 1-255 printable ASCII",
      test_idempotency_keys_are_1_to_255_printable_ascii },
    { "a request is its method, path and body",
      test_a_request_is_its_method_path_and_body },
    { "sha256_bytea is SHA-256 in PostgreSQL's hex form",
      test_sha256_bytea_is_sha256_in_postgres_hex },
};

int
main(void)
{
    return unit_run("orders", UNIT_TESTS(tests));
}
