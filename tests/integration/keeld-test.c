/*
 * keeld-test.c - keeld with extra routes that only the integration tests
 * need: a JSON echo with a schema, a slow request, a crashing handler, an
 * internal error, parameter and query echoes.  It is the same libkeel and
 * the same reference routes as keeld; the test routes never ship.
 */
#include "keel-build.h"

#include "api/routes.h"
#include "core/util.h"
#include "db/db.h"
#include "jobs/email.h"
#include "jobs/events.h"
#include "jobs/webhook.h"
#include "jobs/queue.h"
#include "http/ctx.h"
#include "server/main.h"
#include "store/idempotency.h"

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *const colors[] = { "red", "green", "blue", NULL };

static const schema_prop_t tag_item = { .type = SCHEMA_STRING,
                                        .bounded = 1,
                                        .min = 1,
                                        .max = 32,
                                        .charset = "a-z0-9-" };

static const schema_prop_t item_props[] = {
    { .name = "product_id",
      .type = SCHEMA_STRING,
      .flags = SCHEMA_REQUIRED,
      .format = FORMAT_UUID },
    { .name = "quantity",
      .type = SCHEMA_INTEGER,
      .flags = SCHEMA_REQUIRED,
      .bounded = 1,
      .min = 1,
      .max = 1000 },
};
static const schema_t item_schema = SCHEMA_OF(item_props);
static const schema_prop_t item_item = { .type = SCHEMA_OBJECT,
                                         .object = &item_schema };

static const schema_prop_t echo_props[] = {
    { .name = "name",
      .type = SCHEMA_STRING,
      .flags = SCHEMA_REQUIRED | SCHEMA_TRIM,
      .bounded = 1,
      .min = 1,
      .max = 100 },
    { .name = "email",
      .type = SCHEMA_STRING,
      .format = FORMAT_EMAIL,
      .bounded = 1,
      .min = 3,
      .max = 254 },
    { .name = "color", .type = SCHEMA_STRING, .enums = colors },
    { .name = "tags",
      .type = SCHEMA_ARRAY,
      .flags = SCHEMA_UNIQUE,
      .bounded = 1,
      .min = 0,
      .max = 10,
      .items = &tag_item },
    { .name = "items",
      .type = SCHEMA_ARRAY,
      .flags = SCHEMA_UNIQUE,
      .bounded = 1,
      .min = 1,
      .max = 50,
      .items = &item_item,
      .unique_by = "product_id" },
    { .name = "nested", .type = SCHEMA_ARRAY },
};
static const schema_t echo_schema = SCHEMA_OF(echo_props);

static keel_rc
test_echo(keel_ctx_t *ctx)
{
    ctx_header_set(ctx, "Location", "/test/echo/1");
    ctx_respond_data(ctx, 201, json_object_get(ctx->req.json));
    return KEEL_OK;
}

static keel_rc
test_sleep(keel_ctx_t *ctx)
{
    const char *ms = request_query(&ctx->req, "ms");
    long long v = 0;
    struct timespec ts;
    json_object *o;

    if (ms == NULL || parse_ll(ms, 0, 60000, &v) != 0) {
        ctx_detail(ctx, "ms", "must be an integer in 0..60000");
        return ctx_fail(ctx, KEEL_EINVAL, NULL);
    }
    ts.tv_sec = (time_t)(v / 1000);
    ts.tv_nsec = (long)(v % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0)
        ;
    o = json_object_new_object();
    json_object_object_add(o, "slept_ms", json_object_new_int64(v));
    json_object_object_add(o, "pid", json_object_new_int((int)getpid()));
    ctx_respond_data(ctx, 200, o);
    return KEEL_OK;
}

/* A response of ?kb= KiB (at most 16 MiB): for peers that never read. */
static keel_rc
test_big(keel_ctx_t *ctx)
{
    const char *kb = request_query(&ctx->req, "kb");
    long long v = 0;
    json_object *o;
    char *fill;

    if (kb == NULL || parse_ll(kb, 1, 16384, &v) != 0) {
        ctx_detail(ctx, "kb", "must be an integer in 1..16384");
        return ctx_fail(ctx, KEEL_EINVAL, NULL);
    }
    fill = xmalloc((size_t)v * 1024);
    memset(fill, 'x', (size_t)v * 1024);
    o = json_object_new_object();
    json_object_object_add(o, "fill",
                           json_object_new_string_len(fill, (int)(v * 1024)));
    free(fill);
    ctx_respond_data(ctx, 200, o);
    return KEEL_OK;
}

static keel_rc
test_crash(keel_ctx_t *ctx)
{
    raise(SIGSEGV);
    return KEEL_OK;
}

/*
 * The sanitizer canary (tests/sanitizers.sh): in a build with
 * AddressSanitizer only, GET /test/sanitizer?fault=heap reads freed memory
 * and ?fault=ub overflows a signed int, in the request worker, so that the
 * sanitizer step proves a fault in a worker is reported and collected.
 * The job type test.sanitizer does the same in a job worker.  Neither
 * exists in other builds.
 */
#if defined(__SANITIZE_ADDRESS__)
#define KEEL_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KEEL_TEST_SANITIZED 1
#endif
#endif

#ifdef KEEL_TEST_SANITIZED
static int
sanitizer_fault(const char *fault)
{
    if (fault != NULL && strcmp(fault, "ub") == 0) {
        volatile int big = INT32_MAX;
        return big + (int)strlen(fault);
    }
    {
        char *p = malloc(16), *volatile q = p;

        if (p == NULL)
            return 0;
        memset(p, 'x', 16);
        free(p);
        return q[(int)strlen(fault ? fault : "")];
    }
}

static keel_rc
test_sanitizer(keel_ctx_t *ctx)
{
    int v = sanitizer_fault(request_query(&ctx->req, "fault"));

    ctx_respond_data(ctx, 200, json_object_new_int(v));
    return KEEL_OK;
}
#endif

static keel_rc
test_fail(keel_ctx_t *ctx)
{
    return ctx_fail_internal(ctx, "SECRET-DETAIL pq: connection refused");
}

static keel_rc
test_params(keel_ctx_t *ctx)
{
    json_object *o = json_object_new_object();

    for (size_t i = 0; i < ctx->match.nparams; i++)
        json_object_object_add(
            o, ctx->match.params[i].name,
            json_object_new_string(ctx->match.params[i].value));
    ctx_respond_data(ctx, 200, o);
    return KEEL_OK;
}

static keel_rc
test_query(keel_ctx_t *ctx)
{
    json_object *a = json_object_new_array();

    for (size_t i = 0; i < ctx->req.nquery; i++) {
        json_object *p = json_object_new_array();
        json_object_array_add(p,
                              json_object_new_string(ctx->req.query[i].name));
        json_object_array_add(p,
                              json_object_new_string(ctx->req.query[i].value));
        json_object_array_add(a, p);
    }
    ctx_respond_data(ctx, 200, a);
    return KEEL_OK;
}

static keel_rc
test_auth(keel_ctx_t *ctx)
{
    const char *auth = request_header(&ctx->req, "authorization");
    json_object *o = json_object_new_object();

    json_object_object_add(o, "authorization",
                           auth ? json_object_new_string(auth) : NULL);
    ctx_respond_data(ctx, 200, o);
    return KEEL_OK;
}

/* Hold a database connection for ?ms= milliseconds (pool exhaustion). */
static keel_rc
test_db_sleep(keel_ctx_t *ctx)
{
    DB_STMT(st_sleep, 1, "SELECT pg_sleep($1::float8 / 1000)");
    const char *ms = request_query(&ctx->req, "ms");
    const char *params[1] = { ms };
    long long v;
    db_conn_t *c;
    db_error_t err;
    keel_rc rc;

    if (ms == NULL || parse_ll(ms, 0, 60000, &v) != 0) {
        ctx_detail(ctx, "ms", "must be an integer in 0..60000");
        return ctx_fail(ctx, KEEL_EINVAL, NULL);
    }
    rc = ctx_db(ctx, &c);
    if (rc != KEEL_OK)
        return rc;
    rc = db_exec(c, &st_sleep, params, NULL, &err);
    if (rc != KEEL_OK)
        return ctx_fail_db(ctx, rc, &err);
    ctx_respond_data(ctx, 200, json_object_new_int64(v));
    return KEEL_OK;
}

/*
 * One row by primary key from bench_items (bench/run.sh creates and fills
 * it): the 1-row read of the benchmark, against bench/hello-pq.c.
 */
static keel_rc
test_bench_item(keel_ctx_t *ctx)
{
    DB_STMT(st_bench_item, 1,
            "SELECT id, name, price_cents FROM bench_items WHERE id = $1");
    char id[24];
    const char *params[1] = { id };
    long long v;
    db_conn_t *c;
    db_error_t err;
    PGresult *res;
    json_object *o;
    keel_rc rc;

    if (parse_ll(ctx_param(ctx, "id"), 1, INT32_MAX, &v) != 0)
        return ctx_fail(ctx, KEEL_ENOTFOUND, NULL);
    snprintf(id, sizeof(id), "%lld", v);
    rc = ctx_db(ctx, &c);
    if (rc != KEEL_OK)
        return rc;
    rc = db_exec(c, &st_bench_item, params, &res, &err);
    if (rc != KEEL_OK)
        return ctx_fail_db(ctx, rc, &err);
    if (PQntuples(res) != 1) {
        PQclear(res);
        return ctx_fail(ctx, KEEL_ENOTFOUND, NULL);
    }
    o = json_object_new_object();
    json_object_object_add(o, "id",
                           json_object_new_int(atoi(PQgetvalue(res, 0, 0))));
    json_object_object_add(o, "name",
                           json_object_new_string_len(PQgetvalue(res, 0, 1),
                                                      PQgetlength(res, 0, 1)));
    json_object_object_add(o, "price_cents",
                           json_object_new_int(atoi(PQgetvalue(res, 0, 2))));
    PQclear(res);
    ctx_respond_data(ctx, 200, o);
    return KEEL_OK;
}

/* POST /test/events: event_record() in a transaction that commits, or
 * with "rollback": true rolls back after recording. */
static const schema_prop_t event_props[] = {
    { .name = "type", .type = SCHEMA_STRING, .flags = SCHEMA_REQUIRED },
    { .name = "aggregate_id", .type = SCHEMA_STRING, .flags = SCHEMA_REQUIRED },
    { .name = "data", .type = SCHEMA_OBJECT },
    { .name = "rollback", .type = SCHEMA_BOOLEAN },
};
static const schema_t event_schema = SCHEMA_OF(event_props);

typedef struct event_call {
    keel_ctx_t *ctx;
    int rollback, deliveries;
    char id[37];
} event_call_t;

static keel_rc
record_event_tx(db_conn_t *c, void *arg)
{
    event_call_t *call = arg;
    json_object *body = call->ctx->req.json, *v, *data = NULL;
    event_spec_t ev = { 0 };
    db_error_t err;
    keel_rc rc;

    json_object_object_get_ex(body, "type", &v);
    ev.type = json_object_get_string(v);
    json_object_object_get_ex(body, "aggregate_id", &v);
    ev.aggregate_id = json_object_get_string(v);
    ev.aggregate_type = "test";
    if (json_object_object_get_ex(body, "data", &data))
        ev.data = json_object_to_json_string(data);
    ev.traceparent = request_header(&call->ctx->req, "traceparent");
    rc = event_record(c, call->ctx->http->cfg, &ev, call->id, &call->deliveries,
                      &err);
    if (rc != KEEL_OK)
        return rc;
    return call->rollback ? KEEL_ECONFLICT : KEEL_OK;
}

static keel_rc
test_events(keel_ctx_t *ctx)
{
    event_call_t call = { ctx, 0, 0, "" };
    json_object *v, *o;
    db_conn_t *c;
    db_error_t err;
    keel_rc rc;

    if (json_object_object_get_ex(ctx->req.json, "rollback", &v))
        call.rollback = json_object_get_boolean(v);
    rc = ctx_db(ctx, &c);
    if (rc != KEEL_OK)
        return rc;
    memset(&err, 0, sizeof(err));
    rc = db_transaction(c, record_event_tx, &call, 3, &err);
    if (rc != KEEL_OK && !(call.rollback && rc == KEEL_ECONFLICT))
        return ctx_fail_db(ctx, rc, &err);
    o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_string(call.id));
    json_object_object_add(o, "deliveries",
                           json_object_new_int(call.deliveries));
    json_object_object_add(o, "committed",
                           json_object_new_boolean(!call.rollback));
    ctx_respond_data(ctx, 201, o);
    return KEEL_OK;
}

/* /test/auth-echo and /test/noauth-echo: the same handler with and
 * without the bearer check (bench/auth.sh measures what it costs). */
static keel_rc
test_whoami(keel_ctx_t *ctx)
{
    json_object *o = json_object_new_object();

    json_object_object_add(
        o, "user", ctx->user ? json_object_new_string(ctx->user->id) : NULL);
    ctx_respond_data(ctx, 200, o);
    return KEEL_OK;
}

/*
 * GET /test/sqli?name= and POST /test/sqli {"name": ...}: the names of
 * the products called `name`.  DELIBERATELY INJECTABLE: the value is
 * pasted into the SQL text.  It is the negative control of
 * scripts/security-scan.sh, which must find this injection, or its clean
 * result on the real routes proves nothing.  keeld-test only; nothing in
 * src/ may ever build SQL from request text.
 */
static const schema_prop_t sqli_props[] = {
    { .name = "name", .type = SCHEMA_STRING, .flags = SCHEMA_REQUIRED },
};
static const schema_t sqli_schema = SCHEMA_OF(sqli_props);

static keel_rc
test_sqli(keel_ctx_t *ctx)
{
    const char *name = ctx->req.json ? ctx_body_str(ctx, "name")
                                     : request_query(&ctx->req, "name");
    json_object *a;
    db_conn_t *c;
    PGresult *res;
    keel_rc rc;

    if (name == NULL) {
        ctx_detail(ctx, "name", "is required");
        return ctx_fail(ctx, KEEL_EINVAL, NULL);
    }
    rc = ctx_db(ctx, &c);
    if (rc != KEEL_OK)
        return rc;
    res = PQexec(db_pg(c),
                 arena_sprintf(ctx->arena,
                               "SELECT name FROM products WHERE name = '%s' "
                               "ORDER BY id",
                               name));
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(res);
        return ctx_fail_internal(ctx, "the control query failed");
    }
    a = json_object_new_array();
    for (int i = 0; i < PQntuples(res); i++)
        json_object_array_add(a, json_object_new_string(PQgetvalue(res, i, 0)));
    PQclear(res);
    ctx_respond_data(ctx, 200, a);
    return KEEL_OK;
}

static const route_t test_rows[] = {
    { .method = HTTP_GET,
      .pattern = "/test/sqli",
      .any_query = 1,
      .handler = test_sqli,
      .auth = AUTH_NONE },
    { .method = HTTP_POST,
      .pattern = "/test/sqli",
      .handler = test_sqli,
      .auth = AUTH_NONE,
      .body = &sqli_schema },
    { .method = HTTP_GET,
      .pattern = "/test/auth-echo",
      .handler = test_whoami,
      .auth = AUTH_BEARER },
    { .method = HTTP_GET,
      .pattern = "/test/noauth-echo",
      .handler = test_whoami,
      .auth = AUTH_NONE },
    { .method = HTTP_POST,
      .pattern = "/test/events",
      .handler = test_events,
      .auth = AUTH_NONE,
      .body = &event_schema },
    { .method = HTTP_GET,
      .pattern = "/test/db-sleep",
      .any_query = 1,
      .handler = test_db_sleep,
      .auth = AUTH_NONE },
    { .method = HTTP_GET,
      .pattern = "/test/bench-items/{id}",
      .handler = test_bench_item,
      .auth = AUTH_NONE },
    { .method = HTTP_POST,
      .pattern = "/test/echo",
      .handler = test_echo,
      .auth = AUTH_NONE,
      .body = &echo_schema },
    { .method = HTTP_GET,
      .pattern = "/test/sleep",
      .any_query = 1,
      .handler = test_sleep,
      .auth = AUTH_NONE },
    { .method = HTTP_GET,
      .pattern = "/test/big",
      .any_query = 1,
      .handler = test_big,
      .auth = AUTH_NONE },
    { .method = HTTP_GET,
      .pattern = "/test/crash",
      .handler = test_crash,
      .auth = AUTH_NONE },
#ifdef KEEL_TEST_SANITIZED
    { .method = HTTP_GET,
      .pattern = "/test/sanitizer",
      .any_query = 1,
      .handler = test_sanitizer,
      .auth = AUTH_NONE },
#endif
    { .method = HTTP_GET,
      .pattern = "/test/fail",
      .handler = test_fail,
      .auth = AUTH_NONE },
    { .method = HTTP_GET,
      .pattern = "/test/items/{id}/parts/{part}",
      .any_query = 1,
      .handler = test_params,
      .auth = AUTH_NONE },
    { .method = HTTP_GET,
      .pattern = "/test/items/special/parts/{part}",
      .any_query = 1,
      .handler = test_params,
      .auth = AUTH_NONE },
    { .method = HTTP_GET,
      .pattern = "/test/query",
      .any_query = 1,
      .handler = test_query,
      .auth = AUTH_NONE },
    { .method = HTTP_GET,
      .pattern = "/test/auth",
      .handler = test_auth,
      .auth = AUTH_NONE },
};

/* Job types for the job worker tests: create the file named by the
 * payload's "path", after "ms" milliseconds for test.sleep_touch. */
static keel_rc
touch_after(const job_t *job, long ms, char *why, size_t whylen)
{
    json_object *o = json_tokener_parse(job->payload), *v;
    const char *path = NULL;
    FILE *f;

    if (o && json_object_object_get_ex(o, "path", &v))
        path = json_object_get_string(v);
    if (path == NULL) {
        snprintf(why, whylen, "payload has no path");
        json_object_put(o);
        return KEEL_EINVAL;
    }
    if (ms > 0) {
        struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
        while (nanosleep(&ts, &ts) != 0)
            ;
    }
    f = fopen(path, "a");
    if (f != NULL) {
        fprintf(f, "%s attempt %d\n", job->public_id, job->attempts);
        fclose(f);
    }
    json_object_put(o);
    return f ? KEEL_OK : KEEL_EINTERNAL;
}

/* test.touch: at once, or after the payload's "ms" (at most 2000). */
static keel_rc
job_touch(const keel_config_t *cfg, const job_t *job, char *why, size_t whylen)
{
    json_object *o = json_tokener_parse(job->payload), *v;
    long ms = 0;

    if (o && json_object_object_get_ex(o, "ms", &v))
        ms = (long)json_object_get_int(v);
    json_object_put(o);
    return touch_after(job, ms < 0 ? 0 : ms > 2000 ? 2000 : ms, why, whylen);
}

static keel_rc
job_sleep_touch(const keel_config_t *cfg, const job_t *job, char *why,
                size_t whylen)
{
    return touch_after(job, 1500, why, whylen);
}

/* test.noop: nothing at all (bench/jobs.sh measures the queue itself). */
static keel_rc
job_noop(const keel_config_t *cfg, const job_t *job, char *why, size_t whylen)
{
    return KEEL_OK;
}

#ifdef KEEL_TEST_SANITIZED
static keel_rc
job_sanitizer(const keel_config_t *cfg, const job_t *job, char *why,
              size_t whylen)
{
    snprintf(why, whylen, "%d", sanitizer_fault("heap"));
    return KEEL_EINTERNAL;
}
#endif

static const job_type_t test_jobs[] = {
    { "test.noop", job_noop },
    { "email.send", email_send_job },
    { WEBHOOK_JOB, webhook_deliver_job },
    { IDEM_PURGE_JOB, idem_purge_job },
    { "test.touch", job_touch },
    { "test.sleep_touch", job_sleep_touch },
#ifdef KEEL_TEST_SANITIZED
    { "test.sanitizer", job_sanitizer },
#endif
};

/*
 * Worker start-up faults on demand, for the master's respawn policy:
 * KEEL_TEST_WORKER_INIT=fatal fails cleanly (exit status 2, no respawn),
 * =crash aborts (respawn with back-off), =stagger makes the n-th worker to
 * start take n x 0.25 s (n counted in the file KEEL_TEST_STAGGER_FILE).
 */
static keel_rc
test_worker_init(const keel_config_t *cfg, char *err, size_t errlen)
{
    const char *mode = getenv("KEEL_TEST_WORKER_INIT");

    if (mode != NULL && strcmp(mode, "crash") == 0)
        abort();
    if (mode != NULL && strcmp(mode, "stagger") == 0) {
        const char *path = getenv("KEEL_TEST_STAGGER_FILE");
        int fd = path ? open(path, O_WRONLY | O_CREAT | O_APPEND, 0600) : -1;
        struct stat st;

        if (fd >= 0 && write(fd, "w", 1) == 1 && fstat(fd, &st) == 0)
            usleep((useconds_t)st.st_size * 250000);
        if (fd >= 0)
            close(fd);
    }
    if (mode != NULL && strcmp(mode, "fatal") == 0) {
        snprintf(err, errlen, "KEEL_TEST_WORKER_INIT=fatal");
        return KEEL_EINTERNAL;
    }
    return keel_api_app.worker_init(cfg, err, errlen);
}

int
main(int argc, char **argv)
{
    static const route_table_t tables[2] = { { NULL, 0 },
                                             ROUTE_TABLE(test_rows) };
    static route_table_t all[2];
    static keel_app_t app;

    memcpy(all, tables, sizeof(all));
    all[0] = keel_api_routes;
    app = keel_api_app;
    app.name = "keeld-test";
    app.tables = all;
    app.ntables = 2;
    app.worker_init = test_worker_init;
    app.job_types = test_jobs;
    app.njob_types = sizeof(test_jobs) / sizeof(test_jobs[0]);
    return keel_main(argc, argv, &app);
}
