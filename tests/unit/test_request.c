/* test_request.c - percent-decoding, query and path parsing, headers,
 * request ids, traceparent, content types and body reading. */
#include "keel-build.h"

#include "unit.h"
#include "http/request.h"

#include <string.h>

static arena_t A;
static const keel_limits_t lim = { 64, 64, 64, 64, 32, 64 };

static void
test_url_decode_handles_escapes_and_plus(void)
{
    char out[64];

    CU_ASSERT_EQUAL(url_decode("a%20b%2Fc", 9, out, 0), 5);
    CU_ASSERT_STRING_EQUAL(out, "a b/c");
    CU_ASSERT_EQUAL(url_decode("a+b", 3, out, 1), 3);
    CU_ASSERT_STRING_EQUAL(out, "a b");
    CU_ASSERT_EQUAL(url_decode("a+b", 3, out, 0), 3);
    CU_ASSERT_STRING_EQUAL(out, "a+b");
    CU_ASSERT_EQUAL(url_decode("%e2%82%AC", 9, out, 0), 3);
    CU_ASSERT_STRING_EQUAL(out, "\xe2\x82\xac");
    CU_ASSERT_EQUAL(url_decode("", 0, out, 0), 0);
    CU_ASSERT_STRING_EQUAL(out, "");
}

static void
test_url_decode_rejects_malformed_escapes_and_nul(void)
{
    char out[64];

    CU_ASSERT_EQUAL(url_decode("%", 1, out, 0), -1);
    CU_ASSERT_EQUAL(url_decode("%4", 2, out, 0), -1);
    CU_ASSERT_EQUAL(url_decode("ab%", 3, out, 0), -1);
    CU_ASSERT_EQUAL(url_decode("%zz", 3, out, 0), -1);
    CU_ASSERT_EQUAL(url_decode("%g0", 3, out, 0), -1);
    CU_ASSERT_EQUAL(url_decode("%00", 3, out, 0), -1);
    /* Only the first `len` bytes count: a trailing '%' outside is fine. */
    CU_ASSERT_EQUAL(url_decode("ab%", 2, out, 0), 2);
}

static void
test_query_parse_keeps_order_repeats_and_empty_values(void)
{
    kv_t *kv;
    size_t n;
    const char *why;

    CU_ASSERT_EQUAL(
        query_parse(&A, "a=1&b=&c&a=2&&d=x+y%21", 64, &kv, &n, &why), KEEL_OK);
    CU_ASSERT_EQUAL_FATAL(n, 5);
    CU_ASSERT_STRING_EQUAL(kv[0].name, "a");
    CU_ASSERT_STRING_EQUAL(kv[0].value, "1");
    CU_ASSERT_STRING_EQUAL(kv[1].name, "b");
    CU_ASSERT_STRING_EQUAL(kv[1].value, "");
    CU_ASSERT_STRING_EQUAL(kv[2].name, "c");
    CU_ASSERT_STRING_EQUAL(kv[2].value, "");
    CU_ASSERT_STRING_EQUAL(kv[3].value, "2");
    CU_ASSERT_STRING_EQUAL(kv[4].name, "d");
    CU_ASSERT_STRING_EQUAL(kv[4].value, "x y!");
    CU_ASSERT_EQUAL(query_parse(&A, "", 64, &kv, &n, &why), KEEL_OK);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(query_parse(&A, "=v", 64, &kv, &n, &why), KEEL_OK);
    CU_ASSERT_EQUAL_FATAL(n, 1);
    CU_ASSERT_STRING_EQUAL(kv[0].name, "");
    CU_ASSERT_STRING_EQUAL(kv[0].value, "v");
}

static void
test_query_parse_rejects_bad_escapes_and_too_many_pairs(void)
{
    kv_t *kv;
    size_t n;
    const char *why = NULL;
    char many[1024] = "";

    CU_ASSERT_EQUAL(query_parse(&A, "a=%zz", 64, &kv, &n, &why), KEEL_EBADREQ);
    CU_ASSERT_PTR_NOT_NULL(why);
    CU_ASSERT_EQUAL(query_parse(&A, "a%=1", 64, &kv, &n, &why), KEEL_EBADREQ);
    CU_ASSERT_EQUAL(query_parse(&A, "a=%00", 64, &kv, &n, &why), KEEL_EBADREQ);
    for (int i = 0; i < 4; i++)
        strcat(many, "k=v&");
    CU_ASSERT_EQUAL(query_parse(&A, many, 4, &kv, &n, &why), KEEL_OK);
    CU_ASSERT_EQUAL(n, 4);
    strcat(many, "&&x");
    CU_ASSERT_EQUAL(query_parse(&A, many, 4, &kv, &n, &why), KEEL_EBADREQ);
    CU_ASSERT_STRING_EQUAL(why, "Too many query parameters");
}

static void
test_path_split_decodes_each_segment(void)
{
    char **s;
    size_t n;
    const char *why;

    CU_ASSERT_EQUAL(path_split(&A, "/", &s, &n, &why), KEEL_OK);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(path_split(&A, "/v1/a%2Fb/c%20d", &s, &n, &why), KEEL_OK);
    CU_ASSERT_EQUAL_FATAL(n, 3);
    CU_ASSERT_STRING_EQUAL(s[0], "v1");
    CU_ASSERT_STRING_EQUAL(s[1], "a/b");
    CU_ASSERT_STRING_EQUAL(s[2], "c d");
    /* A trailing slash leaves an empty last segment. */
    CU_ASSERT_EQUAL(path_split(&A, "/v1/posts/", &s, &n, &why), KEEL_OK);
    CU_ASSERT_EQUAL_FATAL(n, 3);
    CU_ASSERT_STRING_EQUAL(s[2], "");
    /* '+' is not a space in a path. */
    CU_ASSERT_EQUAL(path_split(&A, "/a+b", &s, &n, &why), KEEL_OK);
    CU_ASSERT_STRING_EQUAL(s[0], "a+b");
}

static void
test_path_split_rejects_bad_paths(void)
{
    char **s;
    size_t n;
    const char *why;
    char deep[256] = "";

    CU_ASSERT_EQUAL(path_split(&A, "v1/x", &s, &n, &why), KEEL_EBADREQ);
    CU_ASSERT_EQUAL(path_split(&A, "/a/%zz", &s, &n, &why), KEEL_EBADREQ);
    CU_ASSERT_EQUAL(path_split(&A, "/a%00b", &s, &n, &why), KEEL_EBADREQ);
    for (int i = 0; i <= REQUEST_MAX_SEGMENTS; i++)
        strcat(deep, "/x");
    CU_ASSERT_EQUAL(path_split(&A, deep, &s, &n, &why), KEEL_ENOTFOUND);
}

static void
test_params_become_request_with_headers(void)
{
    char *env[] = { "REQUEST_METHOD=POST",
                    "REQUEST_URI=/v1/x%20y?a=1&b=2",
                    "CONTENT_TYPE=application/json",
                    "CONTENT_LENGTH=12",
                    "REMOTE_ADDR=10.1.2.3",
                    "HTTP_X_REQUEST_ID=req-1",
                    "HTTP_USER_AGENT=curl/8",
                    "HTTP_ACCEPT=a",
                    "HTTP_ACCEPT=b",
                    NULL };
    keel_request_t req;
    const char *why;

    CU_ASSERT_EQUAL(request_from_params(&req, &A, env, &lim, &why), KEEL_OK);
    CU_ASSERT_EQUAL(req.method, HTTP_POST);
    CU_ASSERT_STRING_EQUAL(req.path, "/v1/x%20y");
    CU_ASSERT_EQUAL_FATAL(req.nsegments, 2);
    CU_ASSERT_STRING_EQUAL(req.segments[1], "x y");
    CU_ASSERT_STRING_EQUAL(req.query_string, "a=1&b=2");
    CU_ASSERT_STRING_EQUAL(request_query(&req, "b"), "2");
    CU_ASSERT_PTR_NULL(request_query(&req, "c"));
    CU_ASSERT_STRING_EQUAL(req.content_type, "application/json");
    CU_ASSERT_EQUAL(req.content_length, 12);
    CU_ASSERT_STRING_EQUAL(req.client_ip, "10.1.2.3");
    CU_ASSERT_STRING_EQUAL(req.request_id, "req-1");
    CU_ASSERT_STRING_EQUAL(req.user_agent, "curl/8");
    /* Repeated headers arrive as separate params: all are kept. */
    CU_ASSERT_EQUAL(request_header_count(&req, "accept"), 2);
    CU_ASSERT_STRING_EQUAL(request_header(&req, "accept"), "a");
    CU_ASSERT_STRING_EQUAL(request_header(&req, "x-request-id"), "req-1");
}

static void
test_apache_redirect_authorization_is_used(void)
{
    char *env[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/",
                    "REDIRECT_HTTP_AUTHORIZATION=Bearer abc", NULL };
    char *both[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/",
                     "HTTP_AUTHORIZATION=Bearer direct",
                     "REDIRECT_HTTP_AUTHORIZATION=Bearer abc", NULL };
    keel_request_t req;
    const char *why;

    CU_ASSERT_EQUAL(request_from_params(&req, &A, env, &lim, &why), KEEL_OK);
    CU_ASSERT_STRING_EQUAL(request_header(&req, "authorization"), "Bearer abc");
    CU_ASSERT_EQUAL(request_from_params(&req, &A, both, &lim, &why), KEEL_OK);
    CU_ASSERT_EQUAL(request_header_count(&req, "authorization"), 1);
    CU_ASSERT_STRING_EQUAL(request_header(&req, "authorization"),
                           "Bearer direct");
}

static void
test_limits_give_414_and_431(void)
{
    char uri[200] = "REQUEST_URI=/", hdr[200] = "HTTP_X_BIG=";
    char *env[] = { "REQUEST_METHOD=GET", uri, NULL };
    char *env2[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/x", hdr, NULL };
    keel_request_t req;
    const char *why;

    memset(uri + 13, 'a', 70);
    CU_ASSERT_EQUAL(request_from_params(&req, &A, env, &lim, &why),
                    KEEL_EURITOOLONG);
    strcpy(uri, "REQUEST_URI=/x?q=");
    memset(uri + 17, 'b', 70);
    CU_ASSERT_EQUAL(request_from_params(&req, &A, env, &lim, &why),
                    KEEL_EURITOOLONG);
    memset(hdr + 11, 'c', 65);
    CU_ASSERT_EQUAL(request_from_params(&req, &A, env2, &lim, &why),
                    KEEL_EHEADERS);
    /* Even a rejected request gets an id for its envelope. */
    CU_ASSERT_EQUAL(strlen(req.request_id), 36);
}

static void
test_bad_content_length_and_method_are_400(void)
{
    char *env[] = { "REQUEST_METHOD=POST", "REQUEST_URI=/",
                    "CONTENT_LENGTH=12x", NULL };
    char *env2[] = { "REQUEST_URI=/", NULL };
    char *env3[] = { "REQUEST_METHOD=POST", "REQUEST_URI=/",
                     "CONTENT_LENGTH=-1", NULL };
    keel_request_t req;
    const char *why;

    CU_ASSERT_EQUAL(request_from_params(&req, &A, env, &lim, &why),
                    KEEL_EBADREQ);
    CU_ASSERT_EQUAL(request_from_params(&req, &A, env2, &lim, &why),
                    KEEL_EBADREQ);
    CU_ASSERT_EQUAL(request_from_params(&req, &A, env3, &lim, &why),
                    KEEL_EBADREQ);
}

static void
test_request_id_rules(void)
{
    char id[200];

    CU_ASSERT_TRUE(request_id_valid("a"));
    CU_ASSERT_TRUE(request_id_valid("A-b_c.9"));
    CU_ASSERT_FALSE(request_id_valid(""));
    CU_ASSERT_FALSE(request_id_valid("a b"));
    CU_ASSERT_FALSE(request_id_valid("a/b"));
    CU_ASSERT_FALSE(request_id_valid("é"));
    memset(id, 'x', 128);
    id[128] = '\0';
    CU_ASSERT_TRUE(request_id_valid(id));
    id[128] = 'x';
    id[129] = '\0';
    CU_ASSERT_FALSE(request_id_valid(id));
}

static void
test_repeated_or_invalid_request_id_is_regenerated(void)
{
    char *twice[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/",
                      "HTTP_X_REQUEST_ID=one", "HTTP_X_REQUEST_ID=two", NULL };
    char *bad[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/",
                    "HTTP_X_REQUEST_ID=bad id", NULL };
    keel_request_t req;
    const char *why;

    request_from_params(&req, &A, twice, &lim, &why);
    CU_ASSERT_EQUAL(strlen(req.request_id), 36);
    request_from_params(&req, &A, bad, &lim, &why);
    CU_ASSERT_EQUAL(strlen(req.request_id), 36);
    CU_ASSERT_EQUAL(req.request_id[14], '4'); /* UUID version 4 */
}

static void
test_traceparent_parsing(void)
{
    char t[33], p[17];

    CU_ASSERT_TRUE(traceparent_parse(
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", t, p));
    CU_ASSERT_STRING_EQUAL(t, "4bf92f3577b34da6a3ce929d0e0e4736");
    CU_ASSERT_STRING_EQUAL(p, "00f067aa0ba902b7");
    CU_ASSERT_FALSE(traceparent_parse(
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01", t, p));
    CU_ASSERT_FALSE(traceparent_parse(
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", t, p));
    CU_ASSERT_FALSE(traceparent_parse(
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", t, p));
    CU_ASSERT_FALSE(traceparent_parse(
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", t, p));
    CU_ASSERT_FALSE(traceparent_parse(
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7", t, p));
    CU_ASSERT_FALSE(traceparent_parse("garbage", t, p));
}

static void
test_content_type_json_detection(void)
{
    CU_ASSERT_TRUE(content_type_is_json("application/json"));
    CU_ASSERT_TRUE(content_type_is_json("Application/JSON"));
    CU_ASSERT_TRUE(content_type_is_json("application/json; charset=utf-8"));
    CU_ASSERT_TRUE(content_type_is_json("application/json;charset=\"UTF-8\""));
    CU_ASSERT_FALSE(content_type_is_json(NULL));
    CU_ASSERT_FALSE(content_type_is_json("text/plain"));
    CU_ASSERT_FALSE(content_type_is_json("application/jsonx"));
    CU_ASSERT_FALSE(content_type_is_json("application/json; charset=latin1"));
    CU_ASSERT_FALSE(content_type_is_json("application/json;"));
}

typedef struct src {
    const char *data;
    size_t len, off, step;
    int fail;
    int eofs; /* reads that returned end of stream */
} src_t;

static ssize_t
src_read(void *io, char *buf, size_t n)
{
    src_t *s = io;
    size_t k = s->len - s->off;

    if (s->fail)
        return -1;
    if (k > n)
        k = n;
    if (s->step && k > s->step)
        k = s->step;
    memcpy(buf, s->data + s->off, k);
    s->off += k;
    if (k == 0)
        s->eofs++;
    return (ssize_t)k;
}

static void
test_body_is_read_whole_in_pieces(void)
{
    keel_request_t req = { 0 };
    src_t s = { "{\"a\":1}", 7, 0, 2, 0, 0 };

    req.content_length = 7;
    CU_ASSERT_EQUAL(request_read_body(&req, &A, src_read, &s, &lim), KEEL_OK);
    CU_ASSERT_EQUAL(req.body_len, 7);
    CU_ASSERT_STRING_EQUAL(req.body, "{\"a\":1}");
    /* Without CONTENT_LENGTH, read to EOF. */
    memset(&req, 0, sizeof(req));
    req.content_length = -1;
    s.off = 0;
    CU_ASSERT_EQUAL(request_read_body(&req, &A, src_read, &s, &lim), KEEL_OK);
    CU_ASSERT_EQUAL(req.body_len, 7);
}

static void
test_body_over_limit_is_413_and_drained(void)
{
    char big[200];
    keel_request_t req = { 0 };
    src_t s = { big, sizeof(big), 0, 0, 0, 0 };

    memset(big, 'x', sizeof(big));
    req.content_length = sizeof(big); /* declared over the 64-byte limit */
    CU_ASSERT_EQUAL(request_read_body(&req, &A, src_read, &s, &lim),
                    KEEL_ETOOLARGE);
    CU_ASSERT_EQUAL(s.off, sizeof(big)); /* drained */
    CU_ASSERT_PTR_NULL(req.body);
    /* Undeclared length found to be over the limit while reading. */
    memset(&req, 0, sizeof(req));
    req.content_length = -1;
    s.off = 0;
    CU_ASSERT_EQUAL(request_read_body(&req, &A, src_read, &s, &lim),
                    KEEL_ETOOLARGE);
    CU_ASSERT_EQUAL(s.off, sizeof(big));
}

static void
test_short_or_failed_body_is_400(void)
{
    keel_request_t req = { 0 };
    src_t s = { "abc", 3, 0, 0, 0, 0 };

    req.content_length = 10;
    CU_ASSERT_EQUAL(request_read_body(&req, &A, src_read, &s, &lim),
                    KEEL_EBADREQ);
    memset(&req, 0, sizeof(req));
    req.content_length = 3;
    s.off = 0;
    s.fail = 1;
    CU_ASSERT_EQUAL(request_read_body(&req, &A, src_read, &s, &lim),
                    KEEL_EBADREQ);
}

static void
test_end_of_stream_is_always_consumed(void)
{
    keel_request_t req = { 0 };
    src_t s = { "{}", 2, 0, 0, 0, 0 };

    /* An exact body: the end-of-stdin record is read too. */
    req.content_length = 2;
    CU_ASSERT_EQUAL(request_read_body(&req, &A, src_read, &s, &lim), KEEL_OK);
    CU_ASSERT_EQUAL(s.eofs, 1);
    /* Content-Length: 0 still reads to the end of the stream. */
    memset(&req, 0, sizeof(req));
    s = (src_t){ "", 0, 0, 0, 0, 0 };
    CU_ASSERT_EQUAL(request_read_body(&req, &A, src_read, &s, &lim), KEEL_OK);
    CU_ASSERT_EQUAL(s.eofs, 1);
    CU_ASSERT_PTR_NULL(req.body);
}

static void
test_more_body_than_announced_is_400(void)
{
    keel_request_t req = { 0 };
    src_t s = { "{}xyz", 5, 0, 0, 0, 0 };

    req.content_length = 2;
    CU_ASSERT_EQUAL(request_read_body(&req, &A, src_read, &s, &lim),
                    KEEL_EBADREQ);
    CU_ASSERT_EQUAL(s.off, 5); /* drained */
    memset(&req, 0, sizeof(req));
    s = (src_t){ "x", 1, 0, 0, 0, 0 };
    CU_ASSERT_EQUAL(request_read_body(&req, &A, src_read, &s, &lim),
                    KEEL_EBADREQ);
}

static void
test_method_names_round_trip(void)
{
    CU_ASSERT_EQUAL(http_method_parse("GET"), HTTP_GET);
    CU_ASSERT_EQUAL(http_method_parse("PATCH"), HTTP_PATCH);
    CU_ASSERT_EQUAL(http_method_parse("get"), HTTP_OTHER);
    CU_ASSERT_EQUAL(http_method_parse("PROPFIND"), HTTP_OTHER);
    CU_ASSERT_STRING_EQUAL(http_method_name(HTTP_OPTIONS), "OPTIONS");
}

static const unit_test_t tests[] = {
    { "url_decode handles escapes and plus",
      test_url_decode_handles_escapes_and_plus },
    { "url_decode rejects malformed escapes and NUL",
      test_url_decode_rejects_malformed_escapes_and_nul },
    { "query parse keeps order, repeats and empty values",
      test_query_parse_keeps_order_repeats_and_empty_values },
    { "query parse rejects bad escapes and too many pairs",
      test_query_parse_rejects_bad_escapes_and_too_many_pairs },
    { "path split decodes each segment", test_path_split_decodes_each_segment },
    { "path split rejects bad paths", test_path_split_rejects_bad_paths },
    { "params become a request with headers",
      test_params_become_request_with_headers },
    { "Apache REDIRECT_HTTP_AUTHORIZATION is used",
      test_apache_redirect_authorization_is_used },
    { "limits give 414 and 431", test_limits_give_414_and_431 },
    { "bad Content-Length and missing method are 400",
      test_bad_content_length_and_method_are_400 },
    { "request id rules", test_request_id_rules },
    { "repeated or invalid request id is regenerated",
      test_repeated_or_invalid_request_id_is_regenerated },
    { "traceparent parsing", test_traceparent_parsing },
    { "JSON content type detection", test_content_type_json_detection },
    { "body is read whole in pieces", test_body_is_read_whole_in_pieces },
    { "body over the limit is 413 and drained",
      test_body_over_limit_is_413_and_drained },
    { "short or failed body is 400", test_short_or_failed_body_is_400 },
    { "end of stream is always consumed",
      test_end_of_stream_is_always_consumed },
    { "more body than announced is 400", test_more_body_than_announced_is_400 },
    { "method names round trip", test_method_names_round_trip },
};

int
main(void)
{
    int rc;

    arena_init(&A);
    rc = unit_run("request", UNIT_TESTS(tests));
    arena_destroy(&A);
    return rc;
}
