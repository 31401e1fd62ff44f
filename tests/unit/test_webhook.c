/* test_webhook.c - webhook signatures against an independent reference
 * (openssl dgst -hmac), and the deliveries that must fail for good before
 * any connection is made. */
#include "keel-build.h"

#include "unit.h"
#include "jobs/queue.h"
#include "jobs/webhook.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

static keel_config_t cfg;

static void
test_signature_is_hmac_sha256_of_t_dot_body(void)
{
    char sig[WEBHOOK_SIGNATURE_MAX];

    /* printf '%s' '1700000000.{"a":1}' | openssl dgst -sha256 -hmac Jefe */
    webhook_signature("Jefe", 1700000000LL, "{\"a\":1}", 7, sig);
    CU_ASSERT_STRING_EQUAL(sig, "t=1700000000,v1=fa5f6481efc59da48b19c9dc10196"
                                "c9953e5651f8304b3a318b6b87d70272e0a");
}

static void
test_signature_changes_with_time_body_and_key(void)
{
    char a[WEBHOOK_SIGNATURE_MAX], b[WEBHOOK_SIGNATURE_MAX];

    webhook_signature("k", 1, "body", 4, a);
    webhook_signature("k", 1, "body", 4, b);
    CU_ASSERT_STRING_EQUAL(a, b);
    webhook_signature("k", 2, "body", 4, b);
    CU_ASSERT_STRING_NOT_EQUAL(strchr(a, ','), strchr(b, ','));
    webhook_signature("k", 1, "bodY", 4, b);
    CU_ASSERT_STRING_NOT_EQUAL(a, b);
    webhook_signature("K", 1, "body", 4, b);
    CU_ASSERT_STRING_NOT_EQUAL(a, b);
    /* The body's length is what counts, not a NUL inside it. */
    webhook_signature("k", 1, "bo\0y", 4, a);
    webhook_signature("k", 1, "bo\0z", 4, b);
    CU_ASSERT_STRING_NOT_EQUAL(a, b);
}

static keel_rc
deliver(const char *payload, char *why, size_t whylen)
{
    job_t job = { 0 };

    job.id = 1;
    strcpy(job.public_id, "6f1c1a52-8a0e-4c7a-9d7e-4d0f5b1f2a3c");
    strcpy(job.type, WEBHOOK_JOB);
    job.payload = (char *)payload;
    job.attempts = 1;
    job.max_attempts = 5;
    why[0] = '\0';
    return webhook_deliver_job(&cfg, &job, why, whylen);
}

static void
test_bad_payloads_fail_for_good(void)
{
    char why[256];

    CU_ASSERT_EQUAL(deliver("not json", why, sizeof(why)), KEEL_EINVAL);
    CU_ASSERT_EQUAL(deliver("{}", why, sizeof(why)), KEEL_EINVAL);
    CU_ASSERT_EQUAL(
        deliver("{\"url\":\"http://127.0.0.1:1/\"}", why, sizeof(why)),
        KEEL_EINVAL);
    CU_ASSERT_EQUAL(deliver("{\"url\":\"http://127.0.0.1:1/\",\"event\":[]}",
                            why, sizeof(why)),
                    KEEL_EINVAL);
    CU_ASSERT_STRING_EQUAL(why, "payload needs url and an event with a type");
    CU_ASSERT_EQUAL(deliver("{\"url\":\"http://127.0.0.1:1/\",\"event\":"
                            "{\"type\":\"a\\r\\nX-Evil: 1\"}}",
                            why, sizeof(why)),
                    KEEL_EINVAL);
    CU_ASSERT_STRING_EQUAL(why, "event type is not a header value");
}

static void
test_only_configured_urls_are_fetched(void)
{
    char why[256];

    CU_ASSERT_EQUAL(deliver("{\"url\":\"http://127.0.0.1:2/\",\"event\":"
                            "{\"type\":\"a\"}}",
                            why, sizeof(why)),
                    KEEL_EINVAL);
    CU_ASSERT_STRING_EQUAL(why, "url is not a configured webhook subscriber");
    CU_ASSERT_EQUAL(deliver("{\"url\":\"file:///etc/passwd\",\"event\":"
                            "{\"type\":\"a\"}}",
                            why, sizeof(why)),
                    KEEL_EINVAL);
}

static void
test_an_unreachable_receiver_is_retried(void)
{
    char why[256];

    /* Configured, but nothing listens on port 1: retryable. */
    CU_ASSERT_EQUAL(deliver("{\"url\":\"http://127.0.0.1:1/\",\"event\":"
                            "{\"type\":\"a\"}}",
                            why, sizeof(why)),
                    KEEL_EUNAVAIL);
    CU_ASSERT(why[0] != '\0');
}

static const unit_test_t tests[] = {
    { "the signature is HMAC-SHA256 of t.body",
      test_signature_is_hmac_sha256_of_t_dot_body },
    { "the signature changes with time, body and key",
      test_signature_changes_with_time_body_and_key },
    { "bad payloads fail for good", test_bad_payloads_fail_for_good },
    { "only configured URLs are fetched",
      test_only_configured_urls_are_fetched },
    { "an unreachable receiver is retried",
      test_an_unreachable_receiver_is_retried },
};

int
main(void)
{
    char err[256];
    int rc;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    config_defaults(&cfg);
    if (config_parse(&cfg,
                     "[webhooks]\nsubscribers = a http://127.0.0.1:1/\n"
                     "secret = 0123456789abcdef0123456789abcdef\n"
                     "connect_timeout = 1s\ntimeout = 2s\n",
                     "test", err, sizeof(err)) != KEEL_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    rc = unit_run("webhooks", UNIT_TESTS(tests));
    config_free(&cfg);
    curl_global_cleanup();
    return rc;
}
