/*
 * test_apache.c - smoke subset through Apache 2.4 with mod_proxy_fcgi into
 * the same keeld: the same responses, headers, and the Authorization header
 * passed through (CGIPassAuth).  Needs KEEL_TEST_APACHE_URL.
 */
#include "keel-build.h"

#include "../unit/unit.h"
#include "client.h"

#include <string.h>

static const char *base;

static void
test_health_through_apache(void)
{
    static const char *const h[] = { "X-Request-Id: apache-smoke-1", NULL };
    http_resp_t r;
    char rid[64];

    http_do(base, "GET", "/health", h, NULL, 0, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_STRING_EQUAL(json_path_str(r.json, "status"), "healthy");
    CU_ASSERT_STRING_EQUAL(resp_header(&r, "X-Request-Id", rid, 64),
                           "apache-smoke-1");
    assert_security_headers(&r);
    resp_free(&r);
}

static void
test_errors_through_apache(void)
{
    http_resp_t r;
    char allow[64];

    http_do(base, "GET", "/nope", NULL, NULL, 0, &r);
    assert_envelope(&r, 404, "NOT_FOUND");
    resp_free(&r);
    http_do(base, "DELETE", "/health", NULL, NULL, 0, &r);
    assert_envelope(&r, 405, "METHOD_NOT_ALLOWED");
    CU_ASSERT_STRING_EQUAL(resp_header(&r, "Allow", allow, 64),
                           "GET, HEAD, OPTIONS");
    resp_free(&r);
    http_do(base, "POST", "/test/echo",
            (const char *const[]){ "Content-Type: text/plain", NULL }, "{}", 2,
            &r);
    assert_envelope(&r, 415, "UNSUPPORTED_MEDIA_TYPE");
    resp_free(&r);
}

static void
test_json_body_through_apache(void)
{
    const char *body = "{\"name\":\"Grace\"}";
    http_resp_t r;

    http_do(base, "POST", "/test/echo",
            (const char *const[]){ "Content-Type: application/json", NULL },
            body, strlen(body), &r);
    CU_ASSERT_EQUAL(r.status, 201);
    CU_ASSERT_STRING_EQUAL(json_path_str(r.json, "data.name"), "Grace");
    resp_free(&r);
}

static void
test_authorization_header_reaches_keel(void)
{
    static const char *const h[] = { "Authorization: Bearer apache-token-9",
                                     NULL };
    http_resp_t r;

    http_do(base, "GET", "/test/auth", h, NULL, 0, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_PTR_NOT_NULL_FATAL(json_path_str(r.json, "data.authorization"));
    CU_ASSERT_STRING_EQUAL(json_path_str(r.json, "data.authorization"),
                           "Bearer apache-token-9");
    resp_free(&r);
}

static void
test_path_and_query_through_apache(void)
{
    http_resp_t r;

    http_do(base, "GET", "/test/items/a%20b/parts/9?x=1", NULL, NULL, 0, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_STRING_EQUAL(json_path_str(r.json, "data.id"), "a b");
    resp_free(&r);
    http_do(base, "GET", "/test/query?tag=a&tag=b+c", NULL, NULL, 0, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_STRING_EQUAL(json_path_str(r.json, "data.1.1"), "b c");
    resp_free(&r);
}

static const unit_test_t tests[] = {
    { "health through Apache", test_health_through_apache },
    { "errors through Apache keep the envelope", test_errors_through_apache },
    { "JSON body through Apache", test_json_body_through_apache },
    { "Authorization header reaches keel through Apache",
      test_authorization_header_reaches_keel },
    { "path and query through Apache", test_path_and_query_through_apache },
};

int
main(void)
{
    base = client_base("KEEL_TEST_APACHE_URL");
    return unit_run("Apache mod_proxy_fcgi smoke", UNIT_TESTS(tests));
}
