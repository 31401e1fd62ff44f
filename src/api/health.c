/* health.c - GET /health and GET /ready (API.md §2). */
#include "keel-build.h"

#include "api/health.h"
#include "core/util.h"
#include "db/db.h"
#include "db/migrate.h"
#include "jobs/queue.h"
#include "http/app.h"

#include <stdio.h>

/* {"status": "up", "latency_ms": 0.8} or {"status": "down"}; 1 if up. */
static int
check_database(keel_ctx_t *ctx, json_object *checks)
{
    json_object *o = json_object_new_object();
    db_conn_t *c;
    db_error_t err;
    double ms = 0;
    int up = 0;
    char buf[32];

    if (ctx_db(ctx, &c) == KEEL_OK && db_ping(c, &ms, &err) == KEEL_OK)
        up = 1;
    json_object_object_add(o, "status",
                           json_object_new_string(up ? "up" : "down"));
    if (up) {
        snprintf(buf, sizeof(buf), "%.3f", ms);
        json_object_object_add(o, "latency_ms",
                               json_object_new_double_s(ms, buf));
    }
    json_object_object_add(checks, "database", o);
    return up;
}

/*
 * {"status": "up", "queued": 3, "dead": 0} or {"status": "down"}.  *dead
 * gets the dead count (for [jobs] dead_degrades).
 */
static int
check_jobs(keel_ctx_t *ctx, json_object *checks, int db_up, long long *ndead)
{
    json_object *o = json_object_new_object();
    long long queued = 0, dead = 0;
    db_conn_t *c;
    db_error_t err;
    int up = db_up && ctx_db(ctx, &c) == KEEL_OK &&
             job_counts(c, &queued, &dead, &err) == KEEL_OK;

    json_object_object_add(o, "status",
                           json_object_new_string(up ? "up" : "down"));
    if (up) {
        json_object_object_add(o, "queued", json_object_new_int64(queued));
        json_object_object_add(o, "dead", json_object_new_int64(dead));
    }
    *ndead = dead;
    json_object_object_add(checks, "jobs", o);
    return up;
}

keel_rc
health_get(keel_ctx_t *ctx)
{
    json_object *root = json_object_new_object();
    json_object *checks = json_object_new_object();
    int db_up = check_database(ctx, checks);
    long long dead = 0;
    int healthy = check_jobs(ctx, checks, db_up, &dead) && db_up;
    char ts[32];

    /* Dead jobs wait for a person: an operator's choice to page on them. */
    if (ctx->http->cfg->job_dead_degrades && dead > 0)
        healthy = 0;
    /* A dependency down is "degraded", still 200: the process is alive. */
    json_object_object_add(
        root, "status",
        json_object_new_string(healthy ? "healthy" : "degraded"));
    json_object_object_add(root, "version",
                           json_object_new_string(ctx->http->app->version));
    json_object_object_add(
        root, "timestamp",
        json_object_new_string(time_rfc3339(time_wall(), ts, sizeof(ts))));
    json_object_object_add(root, "checks", checks);
    ctx_respond_json(ctx, 200, root);
    json_object_put(root);
    return KEEL_OK;
}

keel_rc
ready_get(keel_ctx_t *ctx)
{
    int want = ctx->http->app->schema_version, have = 0;
    json_object *root;
    db_conn_t *c;
    db_error_t err;
    keel_rc rc;
    char msg[96];

    rc = ctx_db(ctx, &c);
    if (rc != KEEL_OK)
        return ctx_fail(ctx, KEEL_EUNAVAIL, "Database unavailable");
    rc = migrate_current(c, &have, &err);
    if (rc != KEEL_OK)
        return ctx_fail_db(ctx, KEEL_EUNAVAIL, &err);
    if (have != want) {
        snprintf(msg, sizeof(msg), "schema at version %d, expected %d", have,
                 want);
        ctx->log_error = arena_strdup(ctx->arena, msg);
        return ctx_fail(ctx, KEEL_EUNAVAIL, NULL);
    }
    root = json_object_new_object();
    json_object_object_add(root, "status", json_object_new_string("ready"));
    ctx_respond_json(ctx, 200, root);
    json_object_put(root);
    return KEEL_OK;
}
