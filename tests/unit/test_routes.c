/* test_routes.c - the reference application's route table is sound: every
 * row has a handler, an auth mode and a summary, and the router takes the
 * whole table. */
#include "keel-build.h"

#include "unit.h"
#include "api/routes.h"
#include "http/chain.h"
#include "http/router.h"

#include <stdio.h>

#include <string.h>

static void
test_every_route_declares_handler_auth_and_summary(void)
{
    const keel_app_t *app = &keel_api_app;
    size_t n = 0;

    for (size_t t = 0; t < app->ntables; t++) {
        for (size_t i = 0; i < app->tables[t].nroutes; i++) {
            const route_t *r = &app->tables[t].routes[i];
            n++;
            CU_ASSERT_PTR_NOT_NULL(r->handler);
            CU_ASSERT_TRUE(r->auth == AUTH_NONE || r->auth == AUTH_OPTIONAL ||
                           r->auth == AUTH_BEARER);
            CU_ASSERT_PTR_NOT_NULL(r->summary);
            /* A protected route must say what it needs. */
            if (r->permission != NULL)
                CU_ASSERT_EQUAL(r->auth, AUTH_BEARER);
            CU_ASSERT_EQUAL(r->pattern[0], '/');
        }
    }
    CU_ASSERT_TRUE(n >= 1);
}

/*
 * Every route's access policy, written out once more here: a route added,
 * or a policy changed, without changing this table fails the test, so no
 * route is public or protected by accident.  access: the resource's
 * ownership rule decides (self or permission).
 */
static const struct policy {
    enum http_method method;
    const char *pattern;
    enum route_auth auth;
    const char *permission;
    int access;
} policies[] = {
    { HTTP_GET, "/health", AUTH_NONE, NULL, 0 },
    { HTTP_GET, "/ready", AUTH_NONE, NULL, 0 },
    { HTTP_GET, "/metrics", AUTH_NONE, NULL, 0 }, /* [metrics] allow */
    { HTTP_GET, "/v1/openapi.json", AUTH_NONE, NULL, 0 },
    { HTTP_POST, "/v1/auth/register", AUTH_NONE, NULL, 0 },
    { HTTP_POST, "/v1/auth/verify-email", AUTH_NONE, NULL, 0 },
    { HTTP_POST, "/v1/auth/login", AUTH_NONE, NULL, 0 },
    { HTTP_POST, "/v1/auth/refresh", AUTH_NONE, NULL, 0 },
    { HTTP_POST, "/v1/auth/logout", AUTH_NONE, NULL, 0 },
    { HTTP_POST, "/v1/auth/logout-all", AUTH_BEARER, NULL, 0 },
    { HTTP_GET, "/v1/auth/me", AUTH_BEARER, NULL, 0 },
    { HTTP_POST, "/v1/auth/password", AUTH_BEARER, NULL, 0 },
    { HTTP_GET, "/v1/auth/sessions", AUTH_BEARER, NULL, 0 },
    { HTTP_DELETE, "/v1/auth/sessions/{id}", AUTH_BEARER, NULL, 0 },
    { HTTP_GET, "/v1/users", AUTH_BEARER, "users:read", 0 },
    { HTTP_GET, "/v1/users/{id}", AUTH_BEARER, "users:read", 1 },
    { HTTP_PATCH, "/v1/users/{id}", AUTH_BEARER, "users:write", 1 },
    { HTTP_DELETE, "/v1/users/{id}", AUTH_BEARER, "users:delete", 1 },
    { HTTP_PUT, "/v1/users/{id}/roles", AUTH_BEARER, "roles:manage", 1 },
    { HTTP_GET, "/v1/posts", AUTH_OPTIONAL, NULL, 0 },
    { HTTP_POST, "/v1/posts", AUTH_BEARER, "posts:create", 0 },
    { HTTP_GET, "/v1/posts/{id}", AUTH_OPTIONAL, NULL, 1 },
    { HTTP_PUT, "/v1/posts/{id}", AUTH_BEARER, "posts:write_any", 1 },
    { HTTP_PATCH, "/v1/posts/{id}", AUTH_BEARER, "posts:write_any", 1 },
    { HTTP_DELETE, "/v1/posts/{id}", AUTH_BEARER, "posts:delete_any", 1 },
    { HTTP_GET, "/v1/users/{id}/posts", AUTH_OPTIONAL, NULL, 0 },
    { HTTP_POST, "/v1/users/{id}/posts", AUTH_BEARER, "posts:create", 1 },
    { HTTP_GET, "/v1/products", AUTH_OPTIONAL, NULL, 0 },
    { HTTP_POST, "/v1/products", AUTH_BEARER, "products:write", 0 },
    { HTTP_GET, "/v1/products/{id}", AUTH_OPTIONAL, NULL, 1 },
    { HTTP_PUT, "/v1/products/{id}", AUTH_BEARER, "products:write", 0 },
    { HTTP_PATCH, "/v1/products/{id}", AUTH_BEARER, "products:write", 0 },
    { HTTP_DELETE, "/v1/products/{id}", AUTH_BEARER, "products:delete", 0 },
    { HTTP_GET, "/v1/orders", AUTH_BEARER, NULL, 0 },
    { HTTP_POST, "/v1/orders", AUTH_BEARER, "orders:create", 0 },
    { HTTP_GET, "/v1/orders/{id}", AUTH_BEARER, "orders:read_any", 1 },
    { HTTP_GET, "/v1/orders/{id}/items", AUTH_BEARER, "orders:read_any", 1 },
    { HTTP_PATCH, "/v1/orders/{id}", AUTH_BEARER, "orders:manage", 1 },
    { HTTP_GET, "/v1/users/{id}/orders", AUTH_BEARER, "orders:read_any", 1 },
    { HTTP_GET, "/v1/roles", AUTH_BEARER, "roles:manage", 0 },
    { HTTP_PUT, "/v1/roles/{name}", AUTH_BEARER, "roles:manage", 0 },
    { HTTP_DELETE, "/v1/roles/{name}", AUTH_BEARER, "roles:manage", 0 },
    { HTTP_GET, "/v1/audit-events", AUTH_BEARER, "audit:read", 0 },
    { HTTP_GET, "/v1/jobs", AUTH_BEARER, "jobs:manage", 0 },
    { HTTP_GET, "/v1/jobs/{id}", AUTH_BEARER, "jobs:manage", 0 },
    { HTTP_POST, "/v1/jobs/{id}/retry", AUTH_BEARER, "jobs:manage", 0 },
};

static int
known_permission(const char *p)
{
    for (const char *const *k = keel_api_permissions; *k; k++)
        if (strcmp(*k, p) == 0)
            return 1;
    return 0;
}

static void
test_every_route_has_exactly_its_declared_policy(void)
{
    const route_table_t *t = &keel_api_routes;
    int used[sizeof(policies) / sizeof(policies[0])] = { 0 };

    for (size_t i = 0; i < t->nroutes; i++) {
        const route_t *r = &t->routes[i];
        size_t k;
        for (k = 0; k < sizeof(policies) / sizeof(policies[0]); k++)
            if (policies[k].method == r->method &&
                strcmp(policies[k].pattern, r->pattern) == 0)
                break;
        if (k == sizeof(policies) / sizeof(policies[0])) {
            fprintf(stderr, "route %s has no policy row in this test\n",
                    r->pattern);
            CU_FAIL("a route without a declared policy");
            continue;
        }
        used[k] = 1;
        if (r->auth != policies[k].auth ||
            (r->access != NULL) != policies[k].access ||
            (r->permission == NULL) != (policies[k].permission == NULL) ||
            (r->permission &&
             strcmp(r->permission, policies[k].permission) != 0)) {
            fprintf(stderr, "route %s: policy differs from the test's\n",
                    r->pattern);
            CU_FAIL("a route's policy changed");
        }
        if (r->permission)
            CU_ASSERT_TRUE(known_permission(r->permission));
        /* Whatever needs a caller says how the caller is known. */
        if (r->permission || r->access)
            CU_ASSERT_NOT_EQUAL(r->auth, AUTH_NONE);
        /* Every /v1 route but the credential exchanges and the API's
         * description (the same for everyone) knows its caller (public
         * reads are AUTH_OPTIONAL: a token widens what they show). */
        if (strncmp(r->pattern, "/v1/", 4) == 0 && r->auth == AUTH_NONE &&
            strcmp(r->pattern, "/v1/openapi.json") != 0)
            CU_ASSERT_EQUAL(strncmp(r->pattern, "/v1/auth/", 9), 0);
    }
    for (size_t k = 0; k < sizeof(policies) / sizeof(policies[0]); k++)
        if (!used[k]) {
            fprintf(stderr, "policy row %s matches no route\n",
                    policies[k].pattern);
            CU_FAIL("a policy row without its route");
        }
}

static keel_rc
noop(keel_ctx_t *ctx)
{
    (void)ctx;
    return KEEL_OK;
}

static void
test_router_refuses_a_permission_on_a_public_route(void)
{
    route_t r = { .method = HTTP_GET,
                  .pattern = "/x",
                  .handler = noop,
                  .auth = AUTH_NONE,
                  .permission = "users:read" };
    router_t *rt = router_new();
    char err[256] = "";

    CU_ASSERT_EQUAL(router_add(rt, &r, err, sizeof(err)), KEEL_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "AUTH_BEARER"));
    r.auth = AUTH_BEARER;
    CU_ASSERT_EQUAL(router_add(rt, &r, err, sizeof(err)), KEEL_OK);
    router_free(rt);
}

static void
test_router_accepts_the_whole_table(void)
{
    keel_config_t cfg;
    keel_http_t http;
    char err[256] = "";

    config_defaults(&cfg);
    CU_ASSERT_EQUAL(http_init(&http, &cfg, &keel_api_app, -1, err, 256),
                    KEEL_OK);
    CU_ASSERT_STRING_EQUAL(err, "");
    http_free(&http);
    config_free(&cfg);
}

static void
test_health_is_public_and_not_rate_limited(void)
{
    const route_table_t *t = &keel_api_routes;
    int found = 0;

    for (size_t i = 0; i < t->nroutes; i++) {
        if (strcmp(t->routes[i].pattern, "/health") == 0) {
            found = 1;
            CU_ASSERT_EQUAL(t->routes[i].auth, AUTH_NONE);
            CU_ASSERT_EQUAL(t->routes[i].rate, RATE_NONE);
            CU_ASSERT_EQUAL(t->routes[i].method, HTTP_GET);
        }
    }
    CU_ASSERT_TRUE(found);
}

static const unit_test_t tests[] = {
    { "every route declares a handler, an auth mode and a summary",
      test_every_route_declares_handler_auth_and_summary },
    { "every route has exactly its declared access policy",
      test_every_route_has_exactly_its_declared_policy },
    { "the router refuses a permission on a public route",
      test_router_refuses_a_permission_on_a_public_route },
    { "the router accepts the whole table",
      test_router_accepts_the_whole_table },
    { "/health is public and not rate limited",
      test_health_is_public_and_not_rate_limited },
};

int
main(void)
{
    return unit_run("reference route table", UNIT_TESTS(tests));
}
