/*
 * test_plans.c - the collections' queries use indexes (issues 7 and 8).
 * On 100 000 posts by 1 000 authors, the list as keel builds it
 * (coll_parse, the caller's read rule, coll_sql) is planned without a
 * sequential scan of posts for the default sort, the author filter, the
 * tag filter and a keyset page deep in the collection; and that deep page
 * costs about what the first one does.  On 50 000 orders of two items
 * each, a user's own orders and everyone's (each sort, the status filter)
 * are planned without a sequential scan of orders or of order_items: the
 * items of a page come by the items' primary key, in the page's query.
 * Runs in a database of its own (run.sh makes keel_plans) so that its
 * rows leave the other suites alone.  Needs KEEL_TEST_PGURL_PLANS.
 */
#include "keel-build.h"

#include "../unit/unit.h"
#include "http/collection.h"
#include "store/orders.h"
#include "store/posts.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SECRET "plans-test-cursor-secret-0123456789"

static PGconn *pg;
static arena_t arena;
static char author[37], deep_key[64], deep_id[37];

static int
exec_ok(const char *sql)
{
    PGresult *r = PQexec(pg, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK ||
             PQresultStatus(r) == PGRES_TUPLES_OK;

    if (!ok)
        fprintf(stderr, "sql failed: %s\n%s", sql, PQerrorMessage(pg));
    PQclear(r);
    return ok;
}

/* 1 000 authors, 100 000 posts: most published and public, tags drawn
 * from 200, created over a year. */
static int
seed(void)
{
    PGresult *r;

    if (!exec_ok("INSERT INTO users (email, name, password_hash) "
                 "SELECT 'plan' || g || '@example.org', 'Plan ' || g, 'x' "
                 "FROM generate_series(1, 1000) g") ||
        !exec_ok(
            "INSERT INTO posts (author_id, title, body, status, visibility, "
            "tags, published_at, created_at) "
            "SELECT u.id, 'Post ' || g, 'body', "
            "CASE WHEN g % 10 = 0 THEN 'draft' ELSE 'published' END, "
            "CASE WHEN g % 7 = 0 THEN 'private' ELSE 'public' END, "
            "ARRAY['t' || (g % 200), 't' || ((g * 7) % 200)], "
            "CASE WHEN g % 10 = 0 THEN NULL ELSE now() - g * interval '5 min' "
            "END, now() - g * interval '5 min' "
            "FROM generate_series(1, 100000) g "
            "JOIN users u ON u.email = 'plan' || (g % 1000 + 1) || "
            "'@example.org'") ||
        !exec_ok("INSERT INTO products (sku, name, category, price_cents, "
                 "currency, stock) SELECT 'plan-' || g, 'Plan ' || g, 'c', "
                 "100 * g, 'EUR', 1000 FROM generate_series(1, 100) g") ||
        !exec_ok("INSERT INTO orders (user_id, status, total_cents, currency, "
                 "created_at) SELECT u.id, CASE WHEN g % 5 = 0 THEN 'paid' "
                 "ELSE 'pending' END, g % 10000, 'EUR', "
                 "now() - g * interval '10 min' "
                 "FROM generate_series(1, 50000) g "
                 "JOIN users u ON u.email = 'plan' || (g % 1000 + 1) || "
                 "'@example.org'") ||
        !exec_ok("INSERT INTO order_items (order_id, position, product_id, "
                 "sku, name, quantity, unit_price_cents) "
                 "SELECT o.id, k, p.id, p.sku, p.name, 1, p.price_cents "
                 "FROM orders o CROSS JOIN generate_series(1, 2) k "
                 "JOIN products p ON p.sku = 'plan-' || "
                 "((o.id + 37 * k) % 100 + 1)") ||
        !exec_ok("ANALYZE users") || !exec_ok("ANALYZE posts") ||
        !exec_ok("ANALYZE products") || !exec_ok("ANALYZE orders") ||
        !exec_ok("ANALYZE order_items"))
        return -1;
    r = PQexec(pg, "SELECT public_id FROM users WHERE email = "
                   "'plan7@example.org'");
    snprintf(author, sizeof(author), "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    /* The row 70 000 posts deep in the default order, for a cursor. */
    r = PQexec(pg, "SELECT created_at::text, public_id FROM posts "
                   "WHERE status = 'published' AND visibility = 'public' "
                   "ORDER BY created_at DESC, public_id DESC OFFSET 70000 "
                   "LIMIT 1");
    snprintf(deep_key, sizeof(deep_key), "%s", PQgetvalue(r, 0, 0));
    snprintf(deep_id, sizeof(deep_id), "%s", PQgetvalue(r, 0, 1));
    PQclear(r);
    return 0;
}

/*
 * EXPLAIN (ANALYZE) the list query keel builds for `qs` on `schema` under
 * `conds`: the plan's text (free()) and the time it reports.
 */
static char *
plan_in(const coll_schema_t *schema, const char *qs, const coll_cond_t *conds,
        size_t nc, double *ms)
{
    static kv_t kv[8];
    char *copy = arena_strdup(&arena, qs), *save = NULL, *sql, *text;
    const char *params[COLL_MAX_PARAMS];
    json_object *details = json_object_new_array();
    size_t n = 0;
    coll_query_t q;
    PGresult *r;
    int np;
    size_t len = 1;

    for (char *p = strtok_r(copy, "&", &save); p && n < 8;
         p = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(p, '=');
        if (eq == NULL)
            return NULL;
        *eq = '\0';
        kv[n].name = p;
        kv[n++].value = eq + 1;
    }
    if (coll_parse(schema, kv, n, SECRET, &arena, &q, details) != KEEL_OK) {
        fprintf(stderr, "parse %s: %s\n", qs,
                json_object_to_json_string(details));
        json_object_put(details);
        return NULL;
    }
    json_object_put(details);
    if (coll_sql(&q, conds, nc, &sql, params, &np) != KEEL_OK)
        return NULL;
    text = arena_sprintf(&arena, "EXPLAIN (ANALYZE, FORMAT TEXT) %s", sql);
    free(sql);
    r = PQexecParams(pg, text, np, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        fprintf(stderr, "explain %s: %s", qs, PQerrorMessage(pg));
        PQclear(r);
        return NULL;
    }
    for (int i = 0; i < PQntuples(r); i++)
        len += strlen(PQgetvalue(r, i, 0)) + 1;
    text = calloc(1, len);
    for (int i = 0; i < PQntuples(r); i++) {
        const char *line = PQgetvalue(r, i, 0);
        strcat(text, line);
        strcat(text, "\n");
        if (strncmp(line, "Execution Time: ", 16) == 0)
            *ms = atof(line + 16);
    }
    PQclear(r);
    return text;
}

/* The posts list as an anonymous caller gets it. */
static char *
plan_of(const char *qs, double *ms)
{
    coll_cond_t cond;
    size_t nc = posts_readable(NULL, 0, &cond);

    return plan_in(&posts_collection, qs, &cond, nc, ms);
}

/* `plan` (freed) reads through an index and scans none of the tables
 * named in `tables` (NULL-terminated). */
static void
assert_plan_indexed(char *plan, const char *qs, const char *const *tables)
{
    int bad = 0;

    CU_ASSERT_PTR_NOT_NULL_FATAL(plan);
    for (size_t i = 0; tables[i] != NULL; i++) {
        char scan[64];

        snprintf(scan, sizeof(scan), "Seq Scan on %s ", tables[i]);
        bad |= strstr(plan, scan) != NULL;
    }
    bad |= strstr(plan, "Index") == NULL;
    if (bad)
        fprintf(stderr, "\n%s:\n%s\n", qs, plan);
    CU_ASSERT_FALSE(bad);
    free(plan);
}

/* The posts list reads posts through an index and never scans the
 * table. */
static void
assert_indexed(const char *qs)
{
    static const char *const posts[] = { "posts", NULL };
    double ms = 0;

    assert_plan_indexed(plan_of(qs, &ms), qs, posts);
}

/* The orders list, as `user` (a public id) sees their own or, when NULL,
 * as a caller with orders:read_any sees everyone's. */
static void
assert_orders_indexed(const char *user, const char *qs)
{
    static const char *const tables[] = { "orders", "order_items", NULL };
    coll_cond_t own = orders_of_user(user);
    double ms = 0;

    assert_plan_indexed(
        plan_in(&orders_collection, qs, &own, user ? 1 : 0, &ms), qs, tables);
}

static void
test_the_default_sort_uses_an_index(void)
{
    assert_indexed("limit=20");
    assert_indexed("limit=20&cursor=");
}

static void
test_the_author_filter_uses_an_index(void)
{
    assert_indexed(arena_sprintf(&arena, "author_id=%s&limit=20", author));
}

static void
test_the_tag_filter_uses_an_index(void)
{
    assert_indexed("tag=t17&limit=20");
    assert_indexed("tag=t17&tag=t119&limit=20");
}

/* A keyset page 70 000 rows deep is planned like the first and costs
 * about as much (not OFFSET's walk over what it skips). */
static void
test_a_deep_cursor_page_costs_what_the_first_does(void)
{
    const char *keys[1] = { deep_key };
    json_object *details = json_object_new_array();
    kv_t kv[2] = { { "limit", "20" }, { "cursor", "" } };
    coll_query_t q;
    const char *cur;
    double first = 0, deep = 0, t;
    char *plan;

    CU_ASSERT_EQUAL_FATAL(
        coll_parse(&posts_collection, kv, 2, SECRET, &arena, &q, details),
        KEEL_OK);
    json_object_put(details);
    cur = coll_cursor(&q, keys, deep_id, SECRET, &arena);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cur);
    assert_indexed(arena_sprintf(&arena, "limit=20&cursor=%s", cur));
    /* Best of five each, the machine being noisy. */
    for (int i = 0; i < 5; i++) {
        free(plan_of("limit=20&cursor=", &t));
        if (i == 0 || t < first)
            first = t;
        plan = plan_of(arena_sprintf(&arena, "limit=20&cursor=%s", cur), &t);
        free(plan);
        if (i == 0 || t < deep)
            deep = t;
    }
    printf("\n    first page %.3f ms, 70 000 deep %.3f ms\n", first, deep);
    CU_ASSERT_TRUE(deep < first * 3 + 0.5);
}

static void
test_own_orders_use_an_index_and_their_items_the_key(void)
{
    assert_orders_indexed(author, "limit=20");
    assert_orders_indexed(author, "limit=20&cursor=");
    assert_orders_indexed(author, "limit=20&sort=-total_cents");
    assert_orders_indexed(author, "limit=20&status=paid");
}

static void
test_all_orders_use_an_index_and_their_items_the_key(void)
{
    assert_orders_indexed(NULL, "limit=20&cursor=");
    assert_orders_indexed(NULL, "limit=20&sort=total_cents&cursor=");
    assert_orders_indexed(NULL, "limit=20&status=paid&cursor=");
    assert_orders_indexed(NULL,
                          arena_sprintf(&arena, "user_id=%s&limit=20", author));
}

static const unit_test_t tests[] = {
    { "the default sort uses an index", test_the_default_sort_uses_an_index },
    { "the author filter uses an index", test_the_author_filter_uses_an_index },
    { "the tag filter uses an index", test_the_tag_filter_uses_an_index },
    { "a deep cursor page costs what the first does",
      test_a_deep_cursor_page_costs_what_the_first_does },
    { "own orders use an index, their items the items' key",
      test_own_orders_use_an_index_and_their_items_the_key },
    { "all orders use an index, their items the items' key",
      test_all_orders_use_an_index_and_their_items_the_key },
};

int
main(void)
{
    const char *url = getenv("KEEL_TEST_PGURL_PLANS");
    int status;

    if (url == NULL) {
        fprintf(stderr, "test_plans: KEEL_TEST_PGURL_PLANS is not set\n");
        return 1;
    }
    pg = PQconnectdb(url);
    if (PQstatus(pg) != CONNECTION_OK) {
        fprintf(stderr, "test_plans: %s", PQerrorMessage(pg));
        return 1;
    }
    arena_init(&arena);
    if (seed() != 0)
        return 1;
    status = unit_run("collection query plans", UNIT_TESTS(tests));
    arena_destroy(&arena);
    PQfinish(pg);
    return status;
}
