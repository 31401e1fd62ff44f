/*
 * test_jobs.c - the job queue against the real PostgreSQL of run.sh, in a
 * database no job worker uses (KEEL_TEST_PGURL_QUEUE): transactional enqueue,
 * NOTIFY at commit, claims that never overlap, leases, back-off, dead jobs and
 * retry.
 */
#include "keel-build.h"

#include "../unit/unit.h"
#include "core/config.h"
#include "jobs/queue.h"

#include <json-c/json.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static keel_config_t cfg;
static db_pool_t *pool;

static db_conn_t *
conn(void)
{
    db_conn_t *c = NULL;
    db_error_t e;

    if (pool_acquire(pool, &c, &e) != KEEL_OK) {
        fprintf(stderr, "no connection: %s\n", e.message);
        return NULL;
    }
    return c;
}

static void
reset(db_conn_t *c)
{
    CU_ASSERT_EQUAL(db_exec_sql(c, "TRUNCATE jobs", NULL), KEEL_OK);
}

static job_spec_t
spec(const char *type)
{
    job_spec_t s = { type, "{\"n\":1}", NULL, 0, 0, 0 };
    return s;
}

static void
test_rolled_back_job_never_runs_committed_one_is_notified(void)
{
    db_conn_t *a = conn(), *l = conn();
    job_spec_t s = spec("test.noop");
    char id[37];
    job_t j;
    PGnotify *n;
    int got = 0;

    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(l);
    reset(a);
    CU_ASSERT_EQUAL(db_exec_sql(l, "LISTEN " JOBS_CHANNEL, NULL), KEEL_OK);
    CU_ASSERT_EQUAL(db_exec_sql(a, "BEGIN", NULL), KEEL_OK);
    CU_ASSERT_EQUAL(job_enqueue(a, &s, id, NULL), KEEL_OK);
    CU_ASSERT_EQUAL(db_exec_sql(a, "ROLLBACK", NULL), KEEL_OK);
    CU_ASSERT_EQUAL(job_claim(a, "t", 60, &j, NULL), KEEL_ENOTFOUND);
    usleep(100000);
    PQconsumeInput(db_pg(l));
    CU_ASSERT_PTR_NULL(PQnotifies(db_pg(l))); /* no NOTIFY either */

    CU_ASSERT_EQUAL(db_exec_sql(a, "BEGIN", NULL), KEEL_OK);
    CU_ASSERT_EQUAL(job_enqueue(a, &s, id, NULL), KEEL_OK);
    CU_ASSERT_EQUAL(db_exec_sql(a, "COMMIT", NULL), KEEL_OK);
    for (int i = 0; i < 50 && !got; i++) {
        PQconsumeInput(db_pg(l));
        while ((n = PQnotifies(db_pg(l))) != NULL) {
            got += strcmp(n->relname, JOBS_CHANNEL) == 0;
            PQfreemem(n);
        }
        if (!got)
            usleep(10000);
    }
    CU_ASSERT_TRUE(got);
    CU_ASSERT_EQUAL_FATAL(job_claim(a, "t", 60, &j, NULL), KEEL_OK);
    CU_ASSERT_STRING_EQUAL(j.public_id, id);
    CU_ASSERT_STRING_EQUAL(j.type, "test.noop");
    CU_ASSERT_STRING_EQUAL(j.payload, "{\"n\": 1}");
    CU_ASSERT_EQUAL(j.attempts, 1);
    CU_ASSERT_EQUAL(job_succeed(a, &j, NULL), KEEL_OK);
    job_free(&j);
    CU_ASSERT_EQUAL(job_claim(a, "t", 60, &j, NULL), KEEL_ENOTFOUND);
    db_exec_sql(l, "UNLISTEN *", NULL);
    pool_release(pool, a);
    pool_release(pool, l);
}

#define MANY 200
static atomic_int runs[MANY + 1];

static void *
claimer(void *arg)
{
    db_conn_t *c = conn();
    job_t j;

    (void)arg;
    while (c && job_claim(c, "w", 60, &j, NULL) == KEEL_OK) {
        int n = atoi(j.payload + 6); /* {"n": N} */
        if (n >= 1 && n <= MANY)
            atomic_fetch_add(&runs[n], 1);
        job_succeed(c, &j, NULL);
        job_free(&j);
    }
    pool_release(pool, c);
    return NULL;
}

static void
test_two_workers_never_run_the_same_job(void)
{
    db_conn_t *a = conn();
    pthread_t t[2];
    char payload[32], id[37];
    int once = 0;

    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    reset(a);
    for (int i = 1; i <= MANY; i++) {
        job_spec_t s = spec("test.count");
        snprintf(payload, sizeof(payload), "{\"n\": %d}", i);
        s.payload = payload;
        CU_ASSERT_EQUAL(job_enqueue(a, &s, id, NULL), KEEL_OK);
        atomic_store(&runs[i], 0);
    }
    pool_release(pool, a);
    pthread_create(&t[0], NULL, claimer, NULL);
    pthread_create(&t[1], NULL, claimer, NULL);
    pthread_join(t[0], NULL);
    pthread_join(t[1], NULL);
    for (int i = 1; i <= MANY; i++)
        once += atomic_load(&runs[i]) == 1;
    CU_ASSERT_EQUAL(once, MANY);
}

static void
test_failures_back_off_then_die_and_retry_requeues(void)
{
    db_conn_t *a = conn();
    job_spec_t s = spec("test.flaky");
    char id[37];
    job_t j;
    int dead = -1;
    PGresult *res;

    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    reset(a);
    s.max_attempts = 2;
    CU_ASSERT_EQUAL(job_enqueue(a, &s, id, NULL), KEEL_OK);
    CU_ASSERT_EQUAL_FATAL(job_claim(a, "t", 60, &j, NULL), KEEL_OK);
    CU_ASSERT_EQUAL(job_fail(a, &j, "receiver said 500", 30, &dead, NULL),
                    KEEL_OK);
    CU_ASSERT_EQUAL(dead, 0);
    job_free(&j);
    /* Backed off: not due for 30 s. */
    CU_ASSERT_EQUAL(job_claim(a, "t", 60, &j, NULL), KEEL_ENOTFOUND);
    CU_ASSERT_EQUAL(db_exec_sql(a, "UPDATE jobs SET run_at = now()", NULL),
                    KEEL_OK);
    CU_ASSERT_EQUAL_FATAL(job_claim(a, "t", 60, &j, NULL), KEEL_OK);
    CU_ASSERT_EQUAL(j.attempts, 2);
    CU_ASSERT_EQUAL(job_fail(a, &j, "again", 0, &dead, NULL), KEEL_OK);
    CU_ASSERT_EQUAL(dead, 1);
    job_free(&j);
    CU_ASSERT_EQUAL(job_claim(a, "t", 60, &j, NULL), KEEL_ENOTFOUND);
    res = PQexec(db_pg(a), "SELECT status, last_error FROM jobs");
    CU_ASSERT_STRING_EQUAL(PQgetvalue(res, 0, 0), "dead");
    CU_ASSERT_STRING_EQUAL(PQgetvalue(res, 0, 1), "again");
    PQclear(res);
    /* Retry: queued again with fresh attempts. */
    CU_ASSERT_EQUAL(job_retry(a, id, NULL), KEEL_OK);
    CU_ASSERT_EQUAL(job_retry(a, id, NULL), KEEL_ECONFLICT); /* queued */
    CU_ASSERT_EQUAL(job_retry(a, "00000000-0000-4000-8000-000000000000", NULL),
                    KEEL_ENOTFOUND);
    CU_ASSERT_EQUAL_FATAL(job_claim(a, "t", 60, &j, NULL), KEEL_OK);
    CU_ASSERT_EQUAL(j.attempts, 1);
    job_succeed(a, &j, NULL);
    job_free(&j);
    pool_release(pool, a);
}

static void
test_expired_lease_is_claimed_again(void)
{
    db_conn_t *a = conn();
    job_spec_t s = spec("test.lease");
    char id[37];
    job_t j, k;

    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    reset(a);
    CU_ASSERT_EQUAL(job_enqueue(a, &s, id, NULL), KEEL_OK);
    CU_ASSERT_EQUAL_FATAL(job_claim(a, "dies", 0.2, &j, NULL), KEEL_OK);
    /* Its worker "dies": no success, no failure recorded. */
    CU_ASSERT_EQUAL(job_claim(a, "other", 60, &k, NULL), KEEL_ENOTFOUND);
    usleep(300000);
    CU_ASSERT_EQUAL_FATAL(job_claim(a, "other", 60, &k, NULL), KEEL_OK);
    CU_ASSERT_STRING_EQUAL(k.public_id, j.public_id);
    CU_ASSERT_EQUAL(k.attempts, 2);
    job_succeed(a, &k, NULL);
    job_free(&j);
    job_free(&k);
    pool_release(pool, a);
}

static void
test_idempotency_key_queues_once(void)
{
    db_conn_t *a = conn();
    job_spec_t s = spec("test.once");
    char id1[37], id2[37];
    PGresult *res;

    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    reset(a);
    s.idempotency_key = "order-42-email";
    CU_ASSERT_EQUAL(job_enqueue(a, &s, id1, NULL), KEEL_OK);
    CU_ASSERT_EQUAL(job_enqueue(a, &s, id2, NULL), KEEL_OK);
    CU_ASSERT_STRING_EQUAL(id1, id2);
    res = PQexec(db_pg(a), "SELECT count(*) FROM jobs");
    CU_ASSERT_STRING_EQUAL(PQgetvalue(res, 0, 0), "1");
    PQclear(res);
    reset(a);
    pool_release(pool, a);
}

static const char *
str_of(json_object *o, const char *key)
{
    json_object *v;

    return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v)
                                                 : NULL;
}

/* GET /v1/jobs/{id}'s store query: the job collection's row by public id. */
static keel_rc
job_find(db_conn_t *c, const char *id, json_object **out)
{
    coll_query_t all = { .schema = &job_collection, .fields = ~0ULL };
    coll_cond_t cond = { "j.public_id = $::uuid", id, NULL };

    return coll_fetch_one(c, &all, &cond, 1, out, NULL);
}

/* The statements prepared on `c` that read a job by its public id. */
static int
prepared_count(db_conn_t *c)
{
    PGresult *res =
        PQexec(db_pg(c), "SELECT count(*) FROM pg_prepared_statements "
                         "WHERE statement LIKE '%j.public_id = $1::uuid%'");
    int n = atoi(PQgetvalue(res, 0, 0));

    PQclear(res);
    return n;
}

/* A read by id (every field) is one fixed text: prepared on a connection
 * once, then reused; a read of chosen fields runs unprepared. */
static void
test_a_read_by_id_is_prepared_once_per_connection(void)
{
    db_conn_t *a = conn();
    job_spec_t s = spec("test.prepared");
    coll_query_t some = { .schema = &job_collection, .fields = 1ULL };
    coll_cond_t cond = { "j.public_id = $::uuid", NULL, NULL };
    json_object *o = NULL;
    char id[37];

    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    reset(a);
    CU_ASSERT_EQUAL_FATAL(job_enqueue(a, &s, id, NULL), KEEL_OK);
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(job_find(a, id, &o), KEEL_OK);
        CU_ASSERT_STRING_EQUAL(str_of(o, "id"), id);
        json_object_put(o);
        o = NULL;
    }
    CU_ASSERT_EQUAL(prepared_count(a), 1);
    cond.value = id;
    CU_ASSERT_EQUAL(coll_fetch_one(a, &some, &cond, 1, &o, NULL), KEEL_OK);
    CU_ASSERT_EQUAL(json_object_object_length(o), 1);
    json_object_put(o);
    CU_ASSERT_EQUAL(prepared_count(a), 1);
    /* Another id is the same statement. */
    CU_ASSERT_EQUAL(job_find(a, "00000000-0000-4000-8000-000000000000", &o),
                    KEEL_ENOTFOUND);
    CU_ASSERT_EQUAL(prepared_count(a), 1);
    reset(a);
    pool_release(pool, a);
}

/* One page of GET /v1/jobs: the query string parsed as the chain does. */
static keel_rc
job_page(db_conn_t *c, arena_t *a, const char *status, const char *type,
         const char *limit, const char *cursor, coll_page_t *page)
{
    kv_t params[4];
    size_t n = 0;
    coll_query_t q;
    json_object *details = json_object_new_array();
    keel_rc rc;

    if (status)
        params[n++] = (kv_t){ "status", status };
    if (type)
        params[n++] = (kv_t){ "type", type };
    params[n++] = (kv_t){ "limit", limit };
    if (cursor)
        params[n++] = (kv_t){ "cursor", cursor };
    rc = coll_parse(&job_collection, params, n, "", a, &q, details);
    json_object_put(details);
    if (rc != KEEL_OK)
        return rc;
    return coll_fetch(c, &q, NULL, 0, "", a, page, NULL);
}

static void
test_find_shows_the_api_fields_never_the_payload(void)
{
    db_conn_t *a = conn();
    job_spec_t s = spec("test.find");
    json_object *o = NULL;
    char id[37];

    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    reset(a);
    s.payload = "{\"password\":\"hunter2-secret\"}";
    s.max_attempts = 7;
    CU_ASSERT_EQUAL_FATAL(job_enqueue(a, &s, id, NULL), KEEL_OK);
    CU_ASSERT_EQUAL_FATAL(job_find(a, id, &o), KEEL_OK);
    CU_ASSERT_STRING_EQUAL(str_of(o, "id"), id);
    CU_ASSERT_STRING_EQUAL(str_of(o, "type"), "test.find");
    CU_ASSERT_STRING_EQUAL(str_of(o, "status"), "queued");
    CU_ASSERT_STRING_EQUAL(str_of(o, "attempts"), "0");
    CU_ASSERT_STRING_EQUAL(str_of(o, "max_attempts"), "7");
    CU_ASSERT_PTR_NULL(str_of(o, "last_error"));
    /* RFC 3339, UTC, milliseconds: 2026-11-22T09:14:16.993Z */
    CU_ASSERT_EQUAL(strlen(str_of(o, "created_at")), 24);
    CU_ASSERT_EQUAL(str_of(o, "created_at")[23], 'Z');
    CU_ASSERT_PTR_NOT_NULL(str_of(o, "updated_at"));
    CU_ASSERT_PTR_NOT_NULL(str_of(o, "run_at"));
    CU_ASSERT_EQUAL(json_object_object_length(o), 9);
    CU_ASSERT_PTR_NULL(strstr(json_object_to_json_string(o), "hunter2"));
    json_object_put(o);
    CU_ASSERT_EQUAL(job_find(a, "00000000-0000-4000-8000-000000000000", &o),
                    KEEL_ENOTFOUND);
    CU_ASSERT_PTR_NULL(o);
    reset(a);
    pool_release(pool, a);
}

static void
test_pages_filter_and_never_skip_or_repeat(void)
{
    db_conn_t *a = conn();
    job_spec_t s = spec("test.page");
    coll_page_t page;
    arena_t ar;
    const char *cursor = NULL;
    char id[37], seen[10][37];
    int pages = 0, total = 0;

    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    arena_init(&ar);
    reset(a);
    /* In one transaction: equal created_at, so the id breaks the ties
     * (the public id: the order among them is arbitrary but total). */
    CU_ASSERT_EQUAL(db_exec_sql(a, "BEGIN", NULL), KEEL_OK);
    for (int i = 0; i < 10; i++)
        CU_ASSERT_EQUAL(job_enqueue(a, &s, id, NULL), KEEL_OK);
    CU_ASSERT_EQUAL(db_exec_sql(a, "COMMIT", NULL), KEEL_OK);
    /* Later, in a transaction of its own: the newest. */
    s.type = "test.other";
    CU_ASSERT_EQUAL(job_enqueue(a, &s, id, NULL), KEEL_OK);
    do {
        size_t n;
        CU_ASSERT_EQUAL_FATAL(
            job_page(a, &ar, NULL, "test.page", "4", cursor, &page), KEEL_OK);
        n = json_object_array_length(page.items);
        CU_ASSERT(n <= 4);
        for (size_t i = 0; i < n && total < 10; i++) {
            json_object *o = json_object_array_get_idx(page.items, i);
            CU_ASSERT_STRING_EQUAL(str_of(o, "type"), "test.page");
            snprintf(seen[total], 37, "%s", str_of(o, "id"));
            for (int k = 0; k < total; k++)
                CU_ASSERT_STRING_NOT_EQUAL(seen[k], seen[total]);
            total++;
        }
        json_object_put(page.items);
        CU_ASSERT_EQUAL(page.has_more, page.next_cursor != NULL);
        cursor = page.next_cursor;
        pages++;
    } while (cursor != NULL && pages < 10);
    CU_ASSERT_EQUAL(total, 10);
    CU_ASSERT_EQUAL(pages, 3);
    /* The newest first: the last one queued comes first. */
    CU_ASSERT_EQUAL(job_page(a, &ar, NULL, NULL, "1", NULL, &page), KEEL_OK);
    CU_ASSERT_STRING_EQUAL(
        str_of(json_object_array_get_idx(page.items, 0), "type"), "test.other");
    CU_ASSERT_PTR_NOT_NULL(page.next_cursor);
    json_object_put(page.items);
    CU_ASSERT_EQUAL(job_page(a, &ar, "dead", NULL, "4", NULL, &page), KEEL_OK);
    CU_ASSERT_EQUAL(json_object_array_length(page.items), 0);
    CU_ASSERT_PTR_NULL(page.next_cursor);
    json_object_put(page.items);
    /* A cursor that is not one of ours is refused (400 at the API). */
    CU_ASSERT_EQUAL(job_page(a, &ar, NULL, "test.page", "4",
                             "eyJyIjoiam9icyJ9.AAAA", &page),
                    KEEL_EINVAL);
    reset(a);
    arena_destroy(&ar);
    pool_release(pool, a);
}

static const unit_test_t tests[] = {
    { "find shows the API fields, never the payload",
      test_find_shows_the_api_fields_never_the_payload },
    { "pages filter, and never skip or repeat a job",
      test_pages_filter_and_never_skip_or_repeat },
    { "a rolled-back job never runs; a committed one is notified",
      test_rolled_back_job_never_runs_committed_one_is_notified },
    { "two workers never run the same job",
      test_two_workers_never_run_the_same_job },
    { "failures back off, then die; retry re-queues",
      test_failures_back_off_then_die_and_retry_requeues },
    { "an expired lease is claimed again",
      test_expired_lease_is_claimed_again },
    { "an idempotency key queues once", test_idempotency_key_queues_once },
    { "a read by id is prepared once per connection",
      test_a_read_by_id_is_prepared_once_per_connection },
};

int
main(void)
{
    const char *url = getenv("KEEL_TEST_PGURL_QUEUE");
    int rc;

    if (url == NULL) {
        fprintf(stderr, "KEEL_TEST_PGURL_QUEUE is not set\n");
        return 1;
    }
    config_defaults(&cfg);
    free(cfg.db_url);
    cfg.db_url = strdup(url);
    pool = pool_create(&cfg, 4);
    rc = unit_run("job queue", UNIT_TESTS(tests));
    pool_destroy(pool);
    config_free(&cfg);
    return rc;
}
