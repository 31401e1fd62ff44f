/* test_routes.c - the reference application's route table is sound: every
 * row has a handler, an auth mode and a summary, and the router takes the
 * whole table. */
#include "keel-build.h"

#include "unit.h"
#include "api/routes.h"
#include "http/chain.h"

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
