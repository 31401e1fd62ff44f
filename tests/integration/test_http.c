/*
 * test_http.c - the HTTP contract through real nginx → keeld (keeld-test).
 * Needs KEEL_TEST_URL (nginx) and KEEL_TEST_DIR (log files), set by run.sh.
 */
#include "keel-build.h"

#include "../unit/unit.h"
#include "client.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *base;
static const char *log_path;

static void
get(const char *path, http_resp_t *r)
{
    http_do(base, "GET", path, NULL, NULL, 0, r);
}

#define UUID "0b6f6a5e-9c1d-4c43-8d7e-1a2b3c4d5e6f"

static void
post_json(const char *path, const char *body, http_resp_t *r)
{
    static const char *const h[] = { "Content-Type: application/json", NULL };
    http_do(base, "POST", path, h, body, strlen(body), r);
}

static void
test_health_reports_healthy_with_version_and_timestamp(void)
{
    http_resp_t r;
    char ct[128];
    const char *ts;

    get("/health", &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r.json);
    CU_ASSERT_STRING_EQUAL(json_path_str(r.json, "status"), "healthy");
    CU_ASSERT_STRING_EQUAL(json_path_str(r.json, "version"), PACKAGE_VERSION);
    ts = json_path_str(r.json, "timestamp");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ts);
    CU_ASSERT_EQUAL(strlen(ts), 24);
    CU_ASSERT_EQUAL(ts[10], 'T');
    CU_ASSERT_EQUAL(ts[19], '.');
    CU_ASSERT_EQUAL(ts[23], 'Z');
    CU_ASSERT_TRUE(
        json_object_is_type(json_path(r.json, "checks"), json_type_object));
    CU_ASSERT_STRING_EQUAL(resp_header(&r, "Content-Type", ct, sizeof(ct)),
                           "application/json; charset=utf-8");
    CU_ASSERT_STRING_EQUAL(resp_header(&r, "Cache-Control", ct, sizeof(ct)),
                           "no-store");
    assert_security_headers(&r);
    resp_free(&r);
}

static void
test_unknown_path_is_404_envelope(void)
{
    http_resp_t r;

    get("/no/such/thing", &r);
    assert_envelope(&r, 404, "NOT_FOUND");
    resp_free(&r);
    get("/", &r);
    assert_envelope(&r, 404, "NOT_FOUND");
    resp_free(&r);
}

static void
test_trailing_slash_is_not_the_same_route(void)
{
    http_resp_t r;

    get("/health/", &r);
    assert_envelope(&r, 404, "NOT_FOUND");
    resp_free(&r);
}

static void
test_wrong_method_is_405_with_allow(void)
{
    http_resp_t r;
    char allow[128];

    http_do(base, "DELETE", "/health", NULL, NULL, 0, &r);
    assert_envelope(&r, 405, "METHOD_NOT_ALLOWED");
    CU_ASSERT_PTR_NOT_NULL_FATAL(resp_header(&r, "Allow", allow, 128));
    CU_ASSERT_STRING_EQUAL(allow, "GET, HEAD, OPTIONS");
    resp_free(&r);
    /* A method keel does not know at all is 405 on a known path too. */
    http_do(base, "PROPFIND", "/health", NULL, NULL, 0, &r);
    assert_envelope(&r, 405, "METHOD_NOT_ALLOWED");
    resp_free(&r);
}

static void
test_head_is_answered_where_get_is(void)
{
    http_resp_t g, h;
    char len[32];

    get("/health", &g);
    http_do(base, "HEAD", "/health", NULL, NULL, 0, &h);
    CU_ASSERT_EQUAL(h.status, 200);
    CU_ASSERT_EQUAL(h.body_len, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(resp_header(&h, "Content-Length", len, 32));
    CU_ASSERT_TRUE(atoi(len) > 0);
    assert_security_headers(&h);
    resp_free(&g);
    resp_free(&h);
    /* The length GET would send, on a route whose body does not change
     * (the one of /health carries the database's latency, which may take
     * a digit more between two requests). */
    get("/test/items/a/parts/b", &g);
    http_do(base, "HEAD", "/test/items/a/parts/b", NULL, NULL, 0, &h);
    CU_ASSERT_EQUAL(h.status, 200);
    CU_ASSERT_EQUAL(h.body_len, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(resp_header(&h, "Content-Length", len, 32));
    CU_ASSERT_EQUAL((size_t)atoi(len), g.body_len);
    CU_ASSERT_TRUE(g.body_len > 0);
    resp_free(&g);
    resp_free(&h);
    /* HEAD on an unknown path is still a 404 (without a body). */
    http_do(base, "HEAD", "/nope", NULL, NULL, 0, &h);
    CU_ASSERT_EQUAL(h.status, 404);
    CU_ASSERT_EQUAL(h.body_len, 0);
    resp_free(&h);
}

static void
test_options_on_known_path_lists_methods(void)
{
    http_resp_t r;
    char allow[128];

    http_do(base, "OPTIONS", "/test/echo", NULL, NULL, 0, &r);
    CU_ASSERT_EQUAL(r.status, 204);
    CU_ASSERT_EQUAL(r.body_len, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(resp_header(&r, "Allow", allow, 128));
    CU_ASSERT_STRING_EQUAL(allow, "POST, OPTIONS");
    resp_free(&r);
}

static void
test_valid_request_id_is_echoed(void)
{
    static const char *const h[] = { "X-Request-Id: abc.DEF_123-xyz", NULL };
    http_resp_t r;
    char rid[256];

    http_do(base, "GET", "/health", h, NULL, 0, &r);
    CU_ASSERT_STRING_EQUAL(resp_header(&r, "X-Request-Id", rid, 256),
                           "abc.DEF_123-xyz");
    resp_free(&r);
    /* Echoed in error envelopes too. */
    http_do(base, "GET", "/missing", h, NULL, 0, &r);
    assert_envelope(&r, 404, "NOT_FOUND");
    CU_ASSERT_STRING_EQUAL(json_path_str(r.json, "error.request_id"),
                           "abc.DEF_123-xyz");
    resp_free(&r);
}

static void
test_invalid_request_id_is_replaced(void)
{
    char longid[160], hdr[200], rid[256];
    const char *bad[] = { "X-Request-Id: has space", "X-Request-Id: a/b",
                          "X-Request-Id: <script>", hdr };
    http_resp_t r;

    memset(longid, 'a', 129);
    longid[129] = '\0';
    snprintf(hdr, sizeof(hdr), "X-Request-Id: %s", longid);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *h[] = { bad[i], NULL };
        http_do(base, "GET", "/health", h, NULL, 0, &r);
        CU_ASSERT_EQUAL(r.status, 200);
        CU_ASSERT_PTR_NOT_NULL_FATAL(resp_header(&r, "X-Request-Id", rid, 256));
        CU_ASSERT_EQUAL(strlen(rid), 36); /* a generated UUID */
        CU_ASSERT_PTR_NULL(strstr(bad[i] + 14, rid));
        resp_free(&r);
    }
    /* 128 characters is the longest accepted id. */
    longid[128] = '\0';
    snprintf(hdr, sizeof(hdr), "X-Request-Id: %s", longid);
    {
        const char *h[] = { hdr, NULL };
        http_do(base, "GET", "/health", h, NULL, 0, &r);
        CU_ASSERT_STRING_EQUAL(resp_header(&r, "X-Request-Id", rid, 256),
                               longid);
        resp_free(&r);
    }
}

static void
test_generated_request_ids_differ(void)
{
    http_resp_t a, b;
    char ra[64], rb[64];

    get("/health", &a);
    get("/health", &b);
    CU_ASSERT_PTR_NOT_NULL_FATAL(resp_header(&a, "X-Request-Id", ra, 64));
    CU_ASSERT_PTR_NOT_NULL_FATAL(resp_header(&b, "X-Request-Id", rb, 64));
    CU_ASSERT_STRING_NOT_EQUAL(ra, rb);
    resp_free(&a);
    resp_free(&b);
}

static void
test_body_without_json_content_type_is_415(void)
{
    static const char *const text[] = { "Content-Type: text/plain", NULL };
    static const char *const latin[] = {
        "Content-Type: application/json; charset=latin1", NULL
    };
    static const char *const utf8[] = {
        "Content-Type: application/json; charset=UTF-8", NULL
    };
    const char *body = "{\"name\":\"x\",\"items\":[]}";
    http_resp_t r;

    http_do(base, "POST", "/test/echo", text, body, strlen(body), &r);
    assert_envelope(&r, 415, "UNSUPPORTED_MEDIA_TYPE");
    resp_free(&r);
    http_do(base, "POST", "/test/echo", NULL, body, strlen(body), &r);
    assert_envelope(&r, 415, "UNSUPPORTED_MEDIA_TYPE");
    resp_free(&r);
    http_do(base, "POST", "/test/echo", latin, body, strlen(body), &r);
    assert_envelope(&r, 415, "UNSUPPORTED_MEDIA_TYPE");
    resp_free(&r);
    /* The charset parameter is fine when it says UTF-8. */
    http_do(base, "POST", "/test/echo", utf8, body, strlen(body), &r);
    CU_ASSERT_NOT_EQUAL(r.status, 415);
    resp_free(&r);
}

static void
test_malformed_json_is_400_bad_request(void)
{
    const char *bodies[] = { "{",
                             "{\"name\":}",
                             "{\"name\":\"x\"} trailing",
                             "{'name':'x'}",
                             "\xff\xfe",
                             "{\"name\":\"a\x01b\"}",
                             "{\"name\":\"a\nb\"}" };
    http_resp_t r;

    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        post_json("/test/echo", bodies[i], &r);
        assert_envelope(&r, 400, "BAD_REQUEST");
        resp_free(&r);
    }
}

/* The contract's answer, message included. */
static void
assert_error(const http_resp_t *r, long status, const char *code,
             const char *message)
{
    const char *m = json_path_str(r->json, "error.message");

    assert_envelope(r, status, code);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_STRING_EQUAL(m, message);
}

static void
test_json_that_is_not_an_object_is_400(void)
{
    /* JSON all the same, so not "not well-formed" ("42" and "null" were,
     * until tests/fuzz/fuzz_json found json-c waiting for more input). */
    const char *bodies[] = { "[1,2]", "\"text\"", "42", "null", "true" };
    http_resp_t r;

    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        post_json("/test/echo", bodies[i], &r);
        assert_error(&r, 400, "BAD_REQUEST",
                     "Request body must be a JSON object");
        resp_free(&r);
    }
    /* A route with a body schema and no body at all. */
    {
        static const char *const h[] = { "Content-Type: application/json",
                                         NULL };
        http_do(base, "POST", "/test/echo", h, "", 0, &r);
        assert_envelope(&r, 400, "BAD_REQUEST");
        resp_free(&r);
    }
}

static void
post_nested(int arrays, http_resp_t *r)
{
    char body[256];
    int o = sprintf(body, "{\"name\":\"x\",\"nested\":");

    for (int i = 0; i < arrays; i++)
        body[o++] = '[';
    for (int i = 0; i < arrays; i++)
        body[o++] = ']';
    body[o++] = '}';
    body[o] = '\0';
    post_json("/test/echo", body, r);
}

static void
test_json_nesting_beyond_limit_is_400(void)
{
    http_resp_t r;

    /* The object and 31 arrays: 32 levels, the default limit. */
    post_nested(31, &r);
    CU_ASSERT_EQUAL(r.status, 201);
    resp_free(&r);
    post_nested(32, &r);
    assert_error(&r, 400, "BAD_REQUEST", "JSON nesting is too deep");
    resp_free(&r);
    post_nested(100, &r);
    assert_error(&r, 400, "BAD_REQUEST", "JSON nesting is too deep");
    resp_free(&r);
}

static void
test_json_numbers_out_of_range_are_400(void)
{
    static const char *const range[] = {
        "{\"name\":\"x\",\"items\":[{\"product_id\":\"" UUID
        "\",\"quantity\":9223372036854775808}]}",
        "{\"name\":\"x\",\"items\":[{\"product_id\":\"" UUID
        "\",\"quantity\":-99999999999999999999}]}",
        "{\"name\":\"x\",\"nested\":[1e400]}",
        "{\"name\":\"x\",\"nested\":[-2E+999]}",
    };
    static const char *const not_json[] = {
        "{\"name\":\"x\",\"nested\":[NaN]}",
        "{\"name\":\"x\",\"nested\":[Infinity]}",
        "{\"name\":\"x\",\"nested\":[-Infinity]}",
    };
    http_resp_t r;

    for (size_t i = 0; i < sizeof(range) / sizeof(range[0]); i++) {
        post_json("/test/echo", range[i], &r);
        assert_error(&r, 400, "BAD_REQUEST",
                     "A number in the request body is out of range");
        resp_free(&r);
    }
    for (size_t i = 0; i < sizeof(not_json) / sizeof(not_json[0]); i++) {
        post_json("/test/echo", not_json[i], &r);
        assert_error(&r, 400, "BAD_REQUEST",
                     "Request body is not well-formed JSON");
        resp_free(&r);
    }
    /* In range, a too-large quantity is the schema's business, by field. */
    post_json("/test/echo",
              "{\"name\":\"x\",\"items\":[{\"product_id\":\"" UUID
              "\",\"quantity\":9223372036854775807}]}",
              &r);
    assert_envelope(&r, 400, "VALIDATION_ERROR");
    CU_ASSERT_STRING_EQUAL(json_path_str(r.json, "error.details.0.field"),
                           "items.0.quantity");
    resp_free(&r);
}

static void
test_nul_and_bad_unicode_in_json_strings_are_400(void)
{
    static const char *const not_json[] = {
        "{\"name\":\"\xc3\x28\"}",     /* a lead byte without its tail */
        "{\"name\":\"\xc0\xaf\"}",     /* an overlong '/' */
        "{\"name\":\"\xed\xa0\x80\"}", /* a UTF-16 surrogate as UTF-8 */
        "{\"name\":\"\\ud800\"}",      /* an unpaired surrogate escape */
        "{\"name\":\"x\\udc00\"}",
        "{\"name\\u0000x\":\"x\"}", /* NUL in a member name */
        ("{\"name\":\"a\0"
         "b\"}"), /* a raw NUL byte */
    };
    http_resp_t r;

    for (size_t i = 0; i < sizeof(not_json) / sizeof(not_json[0]); i++) {
        size_t len = strlen(not_json[i]);
        if (i == sizeof(not_json) / sizeof(not_json[0]) - 1)
            len = 14; /* past the raw NUL */
        http_do(base, "POST", "/test/echo",
                (const char *const[]){ "Content-Type: application/json", NULL },
                not_json[i], len, &r);
        assert_error(&r, 400, "BAD_REQUEST",
                     "Request body is not well-formed JSON");
        resp_free(&r);
    }
    /* An escaped NUL in a value parses, and the field says why it fails. */
    post_json("/test/echo", "{\"name\":\"a\\u0000b\"}", &r);
    assert_envelope(&r, 400, "VALIDATION_ERROR");
    CU_ASSERT_STRING_EQUAL(json_path_str(r.json, "error.details.0.field"),
                           "name");
    CU_ASSERT_STRING_EQUAL(json_path_str(r.json, "error.details.0.message"),
                           "must not contain NUL characters");
    resp_free(&r);
    /* A surrogate pair is one character and fine. */
    post_json("/test/echo", "{\"name\":\"\\ud83d\\ude00\"}", &r);
    CU_ASSERT_EQUAL(r.status, 201);
    CU_ASSERT_STRING_EQUAL(json_path_str(r.json, "data.name"),
                           "\xf0\x9f\x98\x80");
    resp_free(&r);
}

static void
test_repeated_member_names_are_400(void)
{
    http_resp_t r;

    post_json("/test/echo", "{\"name\":\"good\",\"name\":\"evil\"}", &r);
    assert_error(&r, 400, "BAD_REQUEST", "A JSON object repeats a member name");
    resp_free(&r);
    post_json("/test/echo",
              "{\"name\":\"x\",\"items\":[{\"product_id\":\"" UUID
              "\",\"quantity\":1,\"quantity\":2}]}",
              &r);
    assert_error(&r, 400, "BAD_REQUEST", "A JSON object repeats a member name");
    resp_free(&r);
}

static void
test_validation_errors_list_every_field(void)
{
    http_resp_t r;
    json_object *details;
    int seen_unknown = 0, seen_required = 0, seen_email = 0, seen_qty = 0;

    post_json("/test/echo",
              "{\"email\":\"not-an-email\",\"bogus\":1,\"items\":[{\"product_"
              "id\":\"0b6f6a5e-9c1d-4c43-8d7e-1a2b3c4d5e6f\",\"quantity\":0}]}",
              &r);
    assert_envelope(&r, 400, "VALIDATION_ERROR");
    details = json_path(r.json, "error.details");
    CU_ASSERT_EQUAL_FATAL(json_object_array_length(details), 4);
    for (size_t i = 0; i < json_object_array_length(details); i++) {
        json_object *d = json_object_array_get_idx(details, i);
        const char *field = json_path_str(d, "field");
        CU_ASSERT_PTR_NOT_NULL_FATAL(field);
        CU_ASSERT_PTR_NOT_NULL(json_path_str(d, "message"));
        seen_unknown += strcmp(field, "bogus") == 0;
        seen_required += strcmp(field, "name") == 0;
        seen_email += strcmp(field, "email") == 0;
        seen_qty += strcmp(field, "items.0.quantity") == 0;
    }
    CU_ASSERT_EQUAL(seen_unknown, 1);
    CU_ASSERT_EQUAL(seen_required, 1);
    CU_ASSERT_EQUAL(seen_email, 1);
    CU_ASSERT_EQUAL(seen_qty, 1);
    resp_free(&r);
}

static void
test_valid_body_reaches_the_handler(void)
{
    http_resp_t r;
    char loc[128];

    post_json("/test/echo",
              "{\"name\":\"  Ada  \",\"email\":\"ada@example.org\",\"tags\":["
              "\"a-1\"],\"color\":\"red\"}",
              &r);
    CU_ASSERT_EQUAL(r.status, 201);
    CU_ASSERT_STRING_EQUAL(json_path_str(r.json, "data.email"),
                           "ada@example.org");
    CU_ASSERT_STRING_EQUAL(resp_header(&r, "Location", loc, 128),
                           "/test/echo/1");
    assert_security_headers(&r);
    resp_free(&r);
}

static void
test_body_over_limit_is_413_from_keel(void)
{
    size_t n = 2 * 1024 * 1024;
    char *body = malloc(n + 1);
    http_resp_t r;

    memset(body, ' ', n);
    body[0] = '{';
    body[n - 1] = '}';
    body[n] = '\0';
    post_json("/test/echo", body, &r);
    assert_envelope(&r, 413, "PAYLOAD_TOO_LARGE");
    resp_free(&r);
    /* Past nginx's own limit, nginx answers with the same envelope. */
    body = realloc(body, 9 * 1024 * 1024);
    memset(body, ' ', 9 * 1024 * 1024);
    http_do(base, "POST", "/test/echo",
            (const char *const[]){ "Content-Type: application/json", NULL },
            body, 9 * 1024 * 1024, &r);
    CU_ASSERT_EQUAL(r.status, 413);
    CU_ASSERT_STRING_EQUAL(json_path_str(r.json, "error.code"),
                           "PAYLOAD_TOO_LARGE");
    resp_free(&r);
    free(body);
}

static void
test_path_params_are_decoded_per_segment(void)
{
    http_resp_t r;

    get("/test/items/a%20b/parts/x%2Fy", &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_STRING_EQUAL(json_path_str(r.json, "data.id"), "a b");
    CU_ASSERT_STRING_EQUAL(json_path_str(r.json, "data.part"), "x/y");
    resp_free(&r);
    /* A literal segment wins over a parameter at the same place. */
    get("/test/items/special/parts/7", &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_PTR_NULL(json_path(r.json, "data.id"));
    CU_ASSERT_STRING_EQUAL(json_path_str(r.json, "data.part"), "7");
    resp_free(&r);
}

static void
test_malformed_escapes_are_400(void)
{
    http_resp_t r;

    get("/test/items/%zz/parts/1", &r);
    assert_envelope(&r, 400, "BAD_REQUEST");
    resp_free(&r);
    get("/test/items/%00/parts/1", &r);
    assert_envelope(&r, 400, "BAD_REQUEST");
    resp_free(&r);
    get("/test/query?a=%4", &r);
    assert_envelope(&r, 400, "BAD_REQUEST");
    resp_free(&r);
}

static void
test_query_pairs_are_decoded_in_order(void)
{
    http_resp_t r;

    get("/test/query?tag=a&tag=b+c&empty=&flag&x=%26%3D", &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_EQUAL_FATAL(json_object_array_length(json_path(r.json, "data")),
                          5);
    CU_ASSERT_STRING_EQUAL(json_path_str(r.json, "data.0.1"), "a");
    CU_ASSERT_STRING_EQUAL(json_path_str(r.json, "data.1.0"), "tag");
    CU_ASSERT_STRING_EQUAL(json_path_str(r.json, "data.1.1"), "b c");
    CU_ASSERT_STRING_EQUAL(json_path_str(r.json, "data.2.1"), "");
    CU_ASSERT_STRING_EQUAL(json_path_str(r.json, "data.3.0"), "flag");
    CU_ASSERT_STRING_EQUAL(json_path_str(r.json, "data.4.1"), "&=");
    resp_free(&r);
}

static void
test_query_parameters_beyond_limit_are_400(void)
{
    char path[1024];
    int o = sprintf(path, "/test/query?");
    http_resp_t r;

    for (int i = 0; i < 64; i++)
        o += sprintf(path + o, "%sk%d=v", i ? "&" : "", i);
    get(path, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_EQUAL(json_object_array_length(json_path(r.json, "data")), 64);
    resp_free(&r);
    /* Empty pairs do not count; a 65th does, repeated name or not. */
    strcat(path, "&&&k0=again");
    get(path, &r);
    assert_error(&r, 400, "BAD_REQUEST", "Too many query parameters");
    resp_free(&r);
}

static void
test_limits_hold_exactly_at_their_size(void)
{
    char *path = malloc(2200), *hdr = malloc(8300);
    http_resp_t r;

    /* A 2048-byte path is served (404: no such route), 2049 is not. */
    strcpy(path, "/test/");
    memset(path + 6, 'a', 2042);
    path[2048] = '\0';
    get(path, &r);
    assert_envelope(&r, 404, "NOT_FOUND");
    resp_free(&r);
    strcat(path, "a");
    get(path, &r);
    assert_error(&r, 414, "URI_TOO_LONG", "Request URI is too long");
    resp_free(&r);
    /* A query string of 8192 bytes is served, 8193 is not. */
    path = realloc(path, 8300);
    strcpy(path, "/test/query?q=");
    memset(path + 14, 'b', 8190);
    path[14 + 8190] = '\0';
    get(path, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    resp_free(&r);
    strcat(path, "b");
    get(path, &r);
    assert_error(&r, 414, "URI_TOO_LONG", "Request URI is too long");
    resp_free(&r);
    /* A header value of 8192 bytes passes, 8193 is 431. */
    strcpy(hdr, "X-Big: ");
    memset(hdr + 7, 'c', 8192);
    hdr[7 + 8192] = '\0';
    {
        const char *h[] = { hdr, NULL };
        http_do(base, "GET", "/health", h, NULL, 0, &r);
        CU_ASSERT_EQUAL(r.status, 200);
        resp_free(&r);
        strcat(hdr, "c");
        http_do(base, "GET", "/health", h, NULL, 0, &r);
        assert_envelope(&r, 431, "REQUEST_HEADER_FIELDS_TOO_LARGE");
        resp_free(&r);
    }
    free(path);
    free(hdr);
}

static void
test_handler_crash_is_a_generic_500(void)
{
    http_resp_t r;

    get("/test/crash", &r);
    assert_envelope(&r, 500, "INTERNAL_ERROR");
    CU_ASSERT_STRING_EQUAL(json_path_str(r.json, "error.message"),
                           "Internal server error");
    CU_ASSERT_EQUAL(
        json_object_array_length(json_path(r.json, "error.details")), 0);
    resp_free(&r);
    /* The server keeps serving (the crashed worker is replaced). */
    for (int i = 0; i < 10; i++) {
        get("/health", &r);
        CU_ASSERT_EQUAL(r.status, 200);
        resp_free(&r);
    }
}

static void
test_internal_error_detail_goes_only_to_the_log(void)
{
    static const char *const h[] = { "X-Request-Id: fail-detail-1", NULL };
    http_resp_t r;

    http_do(base, "GET", "/test/fail", h, NULL, 0, &r);
    assert_envelope(&r, 500, "INTERNAL_ERROR");
    CU_ASSERT_PTR_NULL(strstr(r.body, "SECRET-DETAIL"));
    CU_ASSERT_PTR_NULL(strstr(r.body, "connection refused"));
    resp_free(&r);
    usleep(100000);
    CU_ASSERT_TRUE(file_contains(log_path, "SECRET-DETAIL"));
    /* The error line names its request and the failing component. */
    CU_ASSERT_TRUE(file_contains(log_path,
                                 "\"request_id\":\"fail-detail-1\",\"route\":"
                                 "\"/test/fail\",\"component\":\"handler\""));
}

static void
test_access_log_line_has_every_field_and_no_secrets(void)
{
    static const char *const h[] = {
        "X-Request-Id: access-log-probe-42",
        "Authorization: Bearer sekrit-token-value-123",
        "Cookie: session=sekrit-cookie-456",
        "User-Agent: keel-tests/1.0",
        "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        NULL
    };
    http_resp_t r;
    FILE *f;
    char line[8192];
    int found = 0;

    http_do(base, "GET", "/test/items/1/parts/2?x=1", h, NULL, 0, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    resp_free(&r);
    usleep(200000);
    f = fopen(log_path, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    while (fgets(line, sizeof(line), f)) {
        json_object *o;
        if (strstr(line, "access-log-probe-42") == NULL ||
            strstr(line, "\"access\"") == NULL)
            continue;
        o = json_tokener_parse(line);
        CU_ASSERT_PTR_NOT_NULL_FATAL(o);
        found++;
        CU_ASSERT_STRING_EQUAL(json_path_str(o, "method"), "GET");
        CU_ASSERT_STRING_EQUAL(json_path_str(o, "path"),
                               "/test/items/1/parts/2");
        CU_ASSERT_STRING_EQUAL(json_path_str(o, "route"),
                               "/test/items/{id}/parts/{part}");
        CU_ASSERT_EQUAL(json_object_get_int(json_path(o, "status")), 200);
        CU_ASSERT_PTR_NOT_NULL(json_path(o, "duration_ms"));
        CU_ASSERT_TRUE(json_object_get_int(json_path(o, "bytes")) > 0);
        CU_ASSERT_STRING_EQUAL(json_path_str(o, "client_ip"), "127.0.0.1");
        CU_ASSERT_STRING_EQUAL(json_path_str(o, "user_agent"),
                               "keel-tests/1.0");
        CU_ASSERT_PTR_NOT_NULL(json_path(o, "worker"));
        CU_ASSERT_PTR_NOT_NULL(json_path_str(o, "ts"));
        CU_ASSERT_STRING_EQUAL(json_path_str(o, "trace_id"),
                               "4bf92f3577b34da6a3ce929d0e0e4736");
        json_object_put(o);
    }
    fclose(f);
    CU_ASSERT_EQUAL(found, 1);
    CU_ASSERT_FALSE(file_contains(log_path, "sekrit-token-value-123"));
    CU_ASSERT_FALSE(file_contains(log_path, "sekrit-cookie-456"));
}

static const unit_test_t tests[] = {
    { "health reports healthy with version and timestamp",
      test_health_reports_healthy_with_version_and_timestamp },
    { "unknown path is 404 envelope", test_unknown_path_is_404_envelope },
    { "trailing slash is not the same route",
      test_trailing_slash_is_not_the_same_route },
    { "wrong method is 405 with Allow", test_wrong_method_is_405_with_allow },
    { "HEAD is answered where GET is", test_head_is_answered_where_get_is },
    { "OPTIONS on a known path lists its methods",
      test_options_on_known_path_lists_methods },
    { "valid X-Request-Id is echoed", test_valid_request_id_is_echoed },
    { "invalid X-Request-Id is replaced", test_invalid_request_id_is_replaced },
    { "generated request ids differ", test_generated_request_ids_differ },
    { "body without JSON content type is 415",
      test_body_without_json_content_type_is_415 },
    { "malformed JSON is 400 BAD_REQUEST",
      test_malformed_json_is_400_bad_request },
    { "JSON that is not an object is 400",
      test_json_that_is_not_an_object_is_400 },
    { "JSON nesting beyond the limit is 400",
      test_json_nesting_beyond_limit_is_400 },
    { "JSON numbers out of range are 400",
      test_json_numbers_out_of_range_are_400 },
    { "NUL and bad Unicode in JSON strings are 400",
      test_nul_and_bad_unicode_in_json_strings_are_400 },
    { "repeated member names are 400", test_repeated_member_names_are_400 },
    { "validation errors list every field",
      test_validation_errors_list_every_field },
    { "valid body reaches the handler", test_valid_body_reaches_the_handler },
    { "body over the limit is 413", test_body_over_limit_is_413_from_keel },
    { "path params are decoded per segment",
      test_path_params_are_decoded_per_segment },
    { "malformed escapes are 400", test_malformed_escapes_are_400 },
    { "query pairs are decoded in order",
      test_query_pairs_are_decoded_in_order },
    { "query parameters beyond the limit are 400",
      test_query_parameters_beyond_limit_are_400 },
    { "limits hold exactly at their size",
      test_limits_hold_exactly_at_their_size },
    { "handler crash is a generic 500", test_handler_crash_is_a_generic_500 },
    { "internal error detail goes only to the log",
      test_internal_error_detail_goes_only_to_the_log },
    { "access log line has every field and no secrets",
      test_access_log_line_has_every_field_and_no_secrets },
};

int
main(void)
{
    static char path[4096];

    base = client_base("KEEL_TEST_URL");
    snprintf(path, sizeof(path), "%s/log/keeld.log",
             client_base("KEEL_TEST_DIR"));
    log_path = path;
    return unit_run("http through nginx", UNIT_TESTS(tests));
}
