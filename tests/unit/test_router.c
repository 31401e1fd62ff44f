/* test_router.c - segment-tree matching: literals, params, backtracking,
 * 404/405 with Allow, HEAD, invalid tables, and a large table. */
#include "keel-build.h"

#include "unit.h"
#include "http/router.h"

#include <stdio.h>
#include <string.h>

static keel_rc
h(keel_ctx_t *ctx)
{
    return KEEL_OK;
}

static const route_t rows[] = {
    { .method = HTTP_GET, .pattern = "/", .handler = h, .auth = AUTH_NONE },
    { .method = HTTP_GET,
      .pattern = "/health",
      .handler = h,
      .auth = AUTH_NONE },
    { .method = HTTP_GET,
      .pattern = "/v1/users",
      .handler = h,
      .auth = AUTH_BEARER },
    { .method = HTTP_POST,
      .pattern = "/v1/users",
      .handler = h,
      .auth = AUTH_BEARER },
    { .method = HTTP_GET,
      .pattern = "/v1/users/me",
      .handler = h,
      .auth = AUTH_BEARER },
    { .method = HTTP_GET,
      .pattern = "/v1/users/{id}",
      .handler = h,
      .auth = AUTH_BEARER },
    { .method = HTTP_PATCH,
      .pattern = "/v1/users/{id}",
      .handler = h,
      .auth = AUTH_BEARER },
    { .method = HTTP_DELETE,
      .pattern = "/v1/users/{id}",
      .handler = h,
      .auth = AUTH_BEARER },
    { .method = HTTP_GET,
      .pattern = "/v1/users/{id}/posts/{post}",
      .handler = h,
      .auth = AUTH_BEARER },
    { .method = HTTP_GET,
      .pattern = "/v1/users/me/settings",
      .handler = h,
      .auth = AUTH_BEARER },
};

static router_t *
build(void)
{
    router_t *r = router_new();
    char err[256];

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        CU_ASSERT_EQUAL(router_add(r, &rows[i], err, sizeof(err)), KEEL_OK);
    return r;
}

static keel_rc
match(router_t *r, enum http_method m, const char *p, route_match_t *out)
{
    static char buf[512];
    char *segs[32];
    size_t n = 0;

    snprintf(buf, sizeof(buf), "%s", p);
    if (buf[1] != '\0') {
        char *s = buf + 1;
        for (;;) {
            char *slash = strchr(s, '/');
            segs[n++] = s;
            if (!slash)
                break;
            *slash = '\0';
            s = slash + 1;
        }
    }
    return router_match(r, m, segs, n, out);
}

static void
test_literal_routes_match(void)
{
    router_t *r = build();
    route_match_t m;

    CU_ASSERT_EQUAL(match(r, HTTP_GET, "/health", &m), KEEL_OK);
    CU_ASSERT_PTR_EQUAL(m.route, &rows[1]);
    CU_ASSERT_STRING_EQUAL(m.pattern, "/health");
    CU_ASSERT_EQUAL(match(r, HTTP_GET, "/", &m), KEEL_OK);
    CU_ASSERT_PTR_EQUAL(m.route, &rows[0]);
    CU_ASSERT_EQUAL(match(r, HTTP_POST, "/v1/users", &m), KEEL_OK);
    CU_ASSERT_PTR_EQUAL(m.route, &rows[3]);
    router_free(r);
}

static void
test_params_are_captured(void)
{
    router_t *r = build();
    route_match_t m;

    CU_ASSERT_EQUAL(match(r, HTTP_GET, "/v1/users/42/posts/7", &m), KEEL_OK);
    CU_ASSERT_PTR_EQUAL(m.route, &rows[8]);
    CU_ASSERT_EQUAL_FATAL(m.nparams, 2);
    CU_ASSERT_STRING_EQUAL(m.params[0].name, "id");
    CU_ASSERT_STRING_EQUAL(m.params[0].value, "42");
    CU_ASSERT_STRING_EQUAL(m.params[1].name, "post");
    CU_ASSERT_STRING_EQUAL(m.params[1].value, "7");
    CU_ASSERT_STRING_EQUAL(m.pattern, "/v1/users/{id}/posts/{post}");
    router_free(r);
}

static void
test_literal_wins_and_backtracks_to_param(void)
{
    router_t *r = build();
    route_match_t m;

    CU_ASSERT_EQUAL(match(r, HTTP_GET, "/v1/users/me", &m), KEEL_OK);
    CU_ASSERT_PTR_EQUAL(m.route, &rows[4]);
    CU_ASSERT_EQUAL(m.nparams, 0);
    /* "me" has no posts subtree: fall back to {id}. */
    CU_ASSERT_EQUAL(match(r, HTTP_GET, "/v1/users/me/posts/3", &m), KEEL_OK);
    CU_ASSERT_PTR_EQUAL(m.route, &rows[8]);
    CU_ASSERT_STRING_EQUAL(m.params[0].value, "me");
    /* DELETE exists only on {id}: "me" is an id for it. */
    CU_ASSERT_EQUAL(match(r, HTTP_DELETE, "/v1/users/me", &m), KEEL_OK);
    CU_ASSERT_PTR_EQUAL(m.route, &rows[7]);
    CU_ASSERT_EQUAL(match(r, HTTP_GET, "/v1/users/me/settings", &m), KEEL_OK);
    CU_ASSERT_PTR_EQUAL(m.route, &rows[9]);
    router_free(r);
}

static void
test_unknown_paths_are_404(void)
{
    router_t *r = build();
    route_match_t m;

    CU_ASSERT_EQUAL(match(r, HTTP_GET, "/v2/users", &m), KEEL_ENOTFOUND);
    CU_ASSERT_EQUAL(match(r, HTTP_GET, "/v1", &m), KEEL_ENOTFOUND);
    CU_ASSERT_EQUAL(match(r, HTTP_GET, "/v1/users/1/posts", &m),
                    KEEL_ENOTFOUND);
    CU_ASSERT_EQUAL(match(r, HTTP_GET, "/health/x", &m), KEEL_ENOTFOUND);
    router_free(r);
}

static void
test_trailing_slash_is_not_equivalent(void)
{
    router_t *r = build();
    route_match_t m;

    CU_ASSERT_EQUAL(match(r, HTTP_GET, "/health/", &m), KEEL_ENOTFOUND);
    /* An empty segment never fills a parameter. */
    CU_ASSERT_EQUAL(match(r, HTTP_GET, "/v1/users/", &m), KEEL_ENOTFOUND);
    router_free(r);
}

static void
test_other_method_is_405_with_allow(void)
{
    router_t *r = build();
    route_match_t m;
    char allow[128];

    CU_ASSERT_EQUAL(match(r, HTTP_PUT, "/v1/users/5", &m), KEEL_EMETHOD);
    router_allow_string(m.allow, allow, sizeof(allow));
    CU_ASSERT_STRING_EQUAL(allow, "GET, HEAD, PATCH, DELETE, OPTIONS");
    CU_ASSERT_STRING_EQUAL(m.pattern, "/v1/users/{id}");
    CU_ASSERT_EQUAL(match(r, HTTP_DELETE, "/health", &m), KEEL_EMETHOD);
    router_allow_string(m.allow, allow, sizeof(allow));
    CU_ASSERT_STRING_EQUAL(allow, "GET, HEAD, OPTIONS");
    CU_ASSERT_EQUAL(match(r, HTTP_OTHER, "/health", &m), KEEL_EMETHOD);
    /* The literal path answers for Allow first. */
    CU_ASSERT_EQUAL(match(r, HTTP_PUT, "/v1/users/me", &m), KEEL_EMETHOD);
    router_allow_string(m.allow, allow, sizeof(allow));
    CU_ASSERT_STRING_EQUAL(allow, "GET, HEAD, OPTIONS");
    router_free(r);
}

static void
test_head_uses_the_get_route(void)
{
    router_t *r = build();
    route_match_t m;

    CU_ASSERT_EQUAL(match(r, HTTP_HEAD, "/v1/users/9", &m), KEEL_OK);
    CU_ASSERT_PTR_EQUAL(m.route, &rows[5]);
    router_free(r);
}

static void
test_invalid_tables_are_refused(void)
{
    static const route_t bad[] = {
        { .method = HTTP_GET,
          .pattern = "nope",
          .handler = h,
          .auth = AUTH_NONE },
        { .method = HTTP_GET,
          .pattern = "/a//b",
          .handler = h,
          .auth = AUTH_NONE },
        { .method = HTTP_GET,
          .pattern = "/a/{",
          .handler = h,
          .auth = AUTH_NONE },
        { .method = HTTP_GET,
          .pattern = "/a/{}",
          .handler = h,
          .auth = AUTH_NONE },
        { .method = HTTP_GET,
          .pattern = "/a/x{y}",
          .handler = h,
          .auth = AUTH_NONE },
        { .method = HTTP_GET,
          .pattern = "/health",
          .handler = NULL,
          .auth = AUTH_NONE },
        { .method = HTTP_GET, .pattern = "/noauth", .handler = h },
        { .method = HTTP_HEAD,
          .pattern = "/head",
          .handler = h,
          .auth = AUTH_NONE },
        { .method = HTTP_GET,
          .pattern = "/health",
          .handler = h,
          .auth = AUTH_NONE },
        { .method = HTTP_GET,
          .pattern = "/v1/users/{uid}/x",
          .handler = h,
          .auth = AUTH_NONE },
    };
    router_t *r = build();
    char err[256];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        CU_ASSERT_EQUAL(router_add(r, &bad[i], err, sizeof(err)), KEEL_EINVAL);
        CU_ASSERT_TRUE(strlen(err) > 0);
    }
    router_free(r);
}

static void
test_many_routes_all_match(void)
{
    static route_t many[600];
    static char patterns[600][48];
    router_t *r = router_new();
    route_match_t m;
    char err[256], path[64];

    for (int i = 0; i < 600; i++) {
        snprintf(patterns[i], sizeof(patterns[i]), "/r%d/{id}/s%d", i % 37, i);
        many[i] = (route_t){ .method = HTTP_GET,
                             .pattern = patterns[i],
                             .handler = h,
                             .auth = AUTH_NONE };
        CU_ASSERT_EQUAL(router_add(r, &many[i], err, sizeof(err)), KEEL_OK);
    }
    for (int i = 0; i < 600; i++) {
        snprintf(path, sizeof(path), "/r%d/x%d/s%d", i % 37, i, i);
        CU_ASSERT_EQUAL(match(r, HTTP_GET, path, &m), KEEL_OK);
        CU_ASSERT_PTR_EQUAL(m.route, &many[i]);
    }
    CU_ASSERT_EQUAL(match(r, HTTP_GET, "/r1/x/s2", &m), KEEL_ENOTFOUND);
    router_free(r);
}

static const unit_test_t tests[] = {
    { "literal routes match", test_literal_routes_match },
    { "params are captured", test_params_are_captured },
    { "literal wins and backtracks to param",
      test_literal_wins_and_backtracks_to_param },
    { "unknown paths are 404", test_unknown_paths_are_404 },
    { "trailing slash is not equivalent",
      test_trailing_slash_is_not_equivalent },
    { "other method is 405 with Allow", test_other_method_is_405_with_allow },
    { "HEAD uses the GET route", test_head_uses_the_get_route },
    { "invalid tables are refused", test_invalid_tables_are_refused },
    { "600 routes all match", test_many_routes_all_match },
};

int
main(void)
{
    return unit_run("router", UNIT_TESTS(tests));
}
