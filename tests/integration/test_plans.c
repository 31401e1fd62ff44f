/*
 * test_plans.c - the posts collection's queries use indexes (issue 7): on
 * 100 000 posts by 1 000 authors, the list as keel builds it (coll_parse,
 * the caller's read rule, coll_sql) is planned without a sequential scan
 * of posts for the default sort, the author filter, the tag filter and a
 * keyset page deep in the collection; and that deep page costs about what
 * the first one does.  Runs in a database of its own (run.sh makes
 * keel_plans) so that its rows leave the other suites alone.  Needs
 * KEEL_TEST_PGURL_PLANS.
 */
#include "keel-build.h"

#include "../unit/unit.h"
#include "http/collection.h"
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
        !exec_ok("ANALYZE users") || !exec_ok("ANALYZE posts"))
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
 * EXPLAIN (ANALYZE) the list query keel builds for `qs` as seen by an
 * anonymous caller: the plan's text (free()) and the time it reports.
 */
static char *
plan_of(const char *qs, double *ms)
{
    static kv_t kv[8];
    char *copy = arena_strdup(&arena, qs), *save = NULL, *sql, *text;
    const char *params[COLL_MAX_PARAMS];
    json_object *details = json_object_new_array();
    coll_cond_t cond;
    size_t n = 0, nc;
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
    if (coll_parse(&posts_collection, kv, n, SECRET, &arena, &q, details) !=
        KEEL_OK) {
        fprintf(stderr, "parse %s: %s\n", qs,
                json_object_to_json_string(details));
        json_object_put(details);
        return NULL;
    }
    json_object_put(details);
    nc = posts_readable(NULL, 0, &cond);
    if (coll_sql(&q, &cond, nc, &sql, params, &np) != KEEL_OK)
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

/* The plan reads posts through an index and never scans the table. */
static void
assert_indexed(const char *qs)
{
    double ms = 0;
    char *plan = plan_of(qs, &ms);

    CU_ASSERT_PTR_NOT_NULL_FATAL(plan);
    if (strstr(plan, "Seq Scan on posts") != NULL ||
        strstr(plan, "Index") == NULL)
        fprintf(stderr, "\n%s:\n%s\n", qs, plan);
    CU_ASSERT_PTR_NULL(strstr(plan, "Seq Scan on posts"));
    CU_ASSERT_PTR_NOT_NULL(strstr(plan, "Index"));
    free(plan);
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

static const unit_test_t tests[] = {
    { "the default sort uses an index", test_the_default_sort_uses_an_index },
    { "the author filter uses an index", test_the_author_filter_uses_an_index },
    { "the tag filter uses an index", test_the_tag_filter_uses_an_index },
    { "a deep cursor page costs what the first does",
      test_a_deep_cursor_page_costs_what_the_first_does },
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
    status = unit_run("posts query plans", UNIT_TESTS(tests));
    arena_destroy(&arena);
    PQfinish(pg);
    return status;
}
