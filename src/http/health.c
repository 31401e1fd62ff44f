/* health.c - GET /health, GET /ready (API.md §2) and GET /metrics. */
#include "keel-build.h"

#include "http/health.h"
#include "core/metrics.h"
#include "core/util.h"
#include "db/db.h"
#include "db/migrate.h"
#include "jobs/queue.h"
#include "http/app.h"

#include <stdio.h>
#include <stdlib.h>

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

keel_rc
metrics_get(keel_ctx_t *ctx)
{
    const keel_http_t *h = ctx->http;
    const keel_app_t *app = h->app;
    const char **types;
    char extra[512] = "", *text;
    long long depth[JOB_DEPTHS];
    size_t len;
    db_conn_t *c;
    db_error_t err;
    metrics_names_t names = { app->version, h->nroutes, h->route_patterns, 0,
                              NULL };

    if (!h->cfg->metrics_enabled ||
        !cidr_list_match(&h->metrics_allow, ctx->req.client_ip))
        return ctx_fail(ctx, KEEL_ENOTFOUND, NULL);
    types = arena_alloc(ctx->arena, (app->njob_types + 1) * sizeof(*types));
    for (size_t i = 0; i < app->njob_types; i++)
        types[i] = app->job_types[i].type;
    names.njobs = app->njob_types;
    names.job_types = types;
    /* The queue from the database; left out while it cannot be read. */
    if (h->pool != NULL && ctx_db(ctx, &c) == KEEL_OK &&
        job_depths(c, depth, &err) == KEEL_OK) {
        size_t o = (size_t)snprintf(
            extra, sizeof(extra),
            "# HELP keel_jobs_queue_depth Jobs not yet succeeded, by "
            "status.\n# TYPE keel_jobs_queue_depth gauge\n");
        for (int i = 0; i < JOB_DEPTHS && o < sizeof(extra); i++)
            o += (size_t)snprintf(extra + o, sizeof(extra) - o,
                                  "keel_jobs_queue_depth{status=\"%s\"} "
                                  "%lld\n",
                                  job_depth_names[i], depth[i]);
    }
    text = metrics_render(&names, extra, &len);
    if (text == NULL)
        return ctx_fail_internal(ctx, "metrics: out of memory");
    ctx->res.status = 200;
    ctx->res.body = arena_strndup(ctx->arena, text, len);
    ctx->res.body_len = len;
    free(text);
    ctx_header_set(ctx, "Content-Type",
                   "text/plain; version=0.0.4; charset=utf-8");
    return KEEL_OK;
}
