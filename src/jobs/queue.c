/* queue.c - enqueue, claim, complete and retry jobs (parameterized SQL). */
#include "keel-build.h"

#include "jobs/queue.h"
#include "core/util.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

DB_STMT(st_job_insert, 6,
        "INSERT INTO jobs (type, payload, idempotency_key, max_attempts, "
        "priority, run_at) "
        "VALUES ($1, coalesce($2::jsonb, '{}'), $3, $4::integer, "
        "$5::integer, now() + make_interval(secs => $6::float8)) "
        "ON CONFLICT (idempotency_key) DO NOTHING RETURNING public_id");
DB_STMT(st_job_by_key, 1,
        "SELECT public_id FROM jobs WHERE idempotency_key = $1");
DB_STMT(st_job_notify, 1, "SELECT pg_notify('" JOBS_CHANNEL "', $1)");
/* One due job, or one whose lease ran out; SKIP LOCKED keeps two workers
 * from ever taking the same one. */
DB_STMT(st_job_claim, 2,
        "UPDATE jobs SET status = 'running', attempts = attempts + 1, "
        "locked_by = $1, locked_until = now() + make_interval(secs => "
        "$2::float8), updated_at = now() "
        "WHERE id = (SELECT id FROM jobs "
        "  WHERE (status IN ('queued', 'failed') AND run_at <= now()) "
        "     OR (status = 'running' AND locked_until < now()) "
        "  ORDER BY priority DESC, run_at, id "
        "  LIMIT 1 FOR UPDATE SKIP LOCKED) "
        "RETURNING id, public_id, type, payload::text, attempts, "
        "max_attempts");
DB_STMT(st_job_succeed, 1,
        "UPDATE jobs SET status = 'succeeded', locked_until = NULL, "
        "locked_by = NULL, last_error = NULL, updated_at = now() "
        "WHERE id = $1");
DB_STMT(st_job_fail, 3,
        "UPDATE jobs SET status = CASE WHEN attempts >= max_attempts "
        "OR $3::float8 < 0 THEN 'dead' ELSE 'failed' END, "
        "run_at = now() + make_interval(secs => greatest($3::float8, 0)), "
        "locked_until = NULL, locked_by = NULL, last_error = $2, "
        "updated_at = now() WHERE id = $1 RETURNING status");
DB_STMT(st_job_retry, 1,
        "UPDATE jobs SET status = 'queued', attempts = 0, run_at = now(), "
        "last_error = NULL, updated_at = now() "
        "WHERE public_id = $1::uuid AND status IN ('dead', 'failed') "
        "RETURNING id");
DB_STMT(st_job_counts, 0,
        "SELECT count(*) FILTER (WHERE status IN ('queued', 'failed')), "
        "count(*) FILTER (WHERE status = 'dead') FROM jobs");
DB_STMT(st_job_depths, 0,
        "SELECT count(*) FILTER (WHERE status = 'queued'), "
        "count(*) FILTER (WHERE status = 'running'), "
        "count(*) FILTER (WHERE status = 'failed'), "
        "count(*) FILTER (WHERE status = 'dead') "
        "FROM jobs WHERE status <> 'succeeded'");
DB_STMT(st_job_list, 2,
        "SELECT public_id, type, status, attempts, max_attempts, "
        "to_char(run_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
        "coalesce(last_error, '') FROM jobs "
        "WHERE $1::text IS NULL OR status = $1 "
        "ORDER BY created_at DESC, id DESC LIMIT $2::integer");
DB_STMT(st_job_exists, 1, "SELECT 1 FROM jobs WHERE public_id = $1::uuid");

/* The API view of a job (API.md 5.5): never its payload. */
static const coll_field_t job_fields[] = {
    { "id", "j.public_id", COLL_JS_UUID },
    { "type", "j.type", COLL_JS_STRING },
    { "status", "j.status",
      "{\"type\":\"string\",\"enum\":[\"queued\",\"running\",\"succeeded\","
      "\"failed\",\"dead\"]}" },
    { "attempts", "j.attempts", COLL_JS_INT },
    { "max_attempts", "j.max_attempts", COLL_JS_INT },
    { "run_at", DB_TS("j.run_at"), COLL_JS_TIME },
    { "last_error", "j.last_error", COLL_JS_STRING_NULL },
    { "created_at", DB_TS("j.created_at"), COLL_JS_TIME },
    { "updated_at", DB_TS("j.updated_at"), COLL_JS_TIME },
};

static const char *const job_statuses[] = { "queued", "running", "succeeded",
                                            "failed", "dead",    NULL };

static const coll_filter_t job_filters[] = {
    { .name = "status",
      .type = COLL_ENUM,
      .values = job_statuses,
      .sql = "j.status = $" },
    { .name = "type", .type = COLL_TEXT, .max_len = 64, .sql = "j.type = $" },
};

static const coll_sort_t job_sorts[] = {
    { "created_at", "j.created_at", "timestamptz" },
};

const coll_schema_t job_collection = {
    .resource = "jobs",
    .from = "jobs j",
    .id_sql = "j.public_id",
    .fields = COLL_ROWS(job_fields),
    .filters = COLL_ROWS(job_filters),
    .sorts = COLL_ROWS(job_sorts),
    .default_sort = "-created_at",
    .modes = COLL_CURSOR,
};

keel_rc
job_enqueue(db_conn_t *c, const job_spec_t *spec, char public_id[37],
            db_error_t *err)
{
    char attempts[16], priority[16], delay[32];
    const char *p[6] = { spec->type, spec->payload, spec->idempotency_key,
                         attempts,   priority,      delay };
    const char *key[1] = { spec->idempotency_key };
    PGresult *res;
    keel_rc rc;

    snprintf(attempts, sizeof(attempts), "%d",
             spec->max_attempts > 0 ? spec->max_attempts : 5);
    snprintf(priority, sizeof(priority), "%d", spec->priority);
    snprintf(delay, sizeof(delay), "%.3f", spec->delay > 0 ? spec->delay : 0);
    rc = db_exec(c, &st_job_insert, p, &res, err);
    if (rc != KEEL_OK)
        return rc;
    if (PQntuples(res) == 0) {
        /* The idempotency key is queued already: that job stands. */
        PQclear(res);
        rc = db_exec(c, &st_job_by_key, key, &res, err);
        if (rc != KEEL_OK)
            return rc;
        if (PQntuples(res) == 0) {
            PQclear(res);
            return KEEL_ECONFLICT;
        }
        snprintf(public_id, 37, "%s", PQgetvalue(res, 0, 0));
        PQclear(res);
        return KEEL_OK;
    }
    snprintf(public_id, 37, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    /* Delivered at commit, never for a rolled-back transaction. */
    p[0] = spec->type;
    return db_exec(c, &st_job_notify, p, NULL, err);
}

keel_rc
job_claim(db_conn_t *c, const char *worker, double lease, job_t *job,
          db_error_t *err)
{
    char secs[32];
    const char *p[2] = { worker, secs };
    PGresult *res;
    keel_rc rc;

    memset(job, 0, sizeof(*job));
    snprintf(secs, sizeof(secs), "%.3f", lease);
    rc = db_exec(c, &st_job_claim, p, &res, err);
    if (rc != KEEL_OK)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return KEEL_ENOTFOUND;
    }
    job->id = atoll(PQgetvalue(res, 0, 0));
    snprintf(job->public_id, sizeof(job->public_id), "%s",
             PQgetvalue(res, 0, 1));
    snprintf(job->type, sizeof(job->type), "%s", PQgetvalue(res, 0, 2));
    job->payload = xstrdup(PQgetvalue(res, 0, 3));
    job->attempts = atoi(PQgetvalue(res, 0, 4));
    job->max_attempts = atoi(PQgetvalue(res, 0, 5));
    PQclear(res);
    return KEEL_OK;
}

void
job_free(job_t *job)
{
    free(job->payload);
    job->payload = NULL;
}

keel_rc
job_succeed(db_conn_t *c, const job_t *job, db_error_t *err)
{
    char id[32];
    const char *p[1] = { id };

    snprintf(id, sizeof(id), "%lld", job->id);
    return db_exec(c, &st_job_succeed, p, NULL, err);
}

keel_rc
job_fail(db_conn_t *c, const job_t *job, const char *reason, double retry_in,
         int *dead, db_error_t *err)
{
    char id[32], secs[32], why[512];
    const char *p[3] = { id, why, secs };
    PGresult *res;
    keel_rc rc;

    snprintf(id, sizeof(id), "%lld", job->id);
    snprintf(secs, sizeof(secs), "%.3f", retry_in);
    /* Only a short excerpt is kept (it may quote a remote response). */
    snprintf(why, sizeof(why), "%s", reason ? reason : "failed");
    rc = db_exec(c, &st_job_fail, p, &res, err);
    if (rc != KEEL_OK)
        return rc;
    *dead = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "dead") == 0;
    PQclear(res);
    return KEEL_OK;
}

keel_rc
job_retry(db_conn_t *c, const char *public_id, db_error_t *err)
{
    const char *p[1] = { public_id };
    PGresult *res;
    keel_rc rc;
    int n;

    rc = db_exec(c, &st_job_retry, p, &res, err);
    if (rc != KEEL_OK)
        return rc;
    n = PQntuples(res);
    PQclear(res);
    if (n == 1) {
        const char *t[1] = { "retry" };
        return db_exec(c, &st_job_notify, t, NULL, err);
    }
    rc = db_exec(c, &st_job_exists, p, &res, err);
    if (rc != KEEL_OK)
        return rc;
    n = PQntuples(res);
    PQclear(res);
    return n == 1 ? KEEL_ECONFLICT : KEEL_ENOTFOUND;
}

double
job_backoff(int attempts, double base, double cap)
{
    double d = base;
    unsigned char r;

    for (int i = 1; i < attempts && d < cap; i++)
        d *= 2;
    if (d > cap)
        d = cap;
    random_bytes(&r, 1);
    return d * (0.5 + 0.5 * (double)r / 255.0);
}

keel_rc
job_counts(db_conn_t *c, long long *queued, long long *dead, db_error_t *err)
{
    PGresult *res;
    keel_rc rc = db_exec(c, &st_job_counts, NULL, &res, err);

    if (rc != KEEL_OK)
        return rc;
    *queued = atoll(PQgetvalue(res, 0, 0));
    *dead = atoll(PQgetvalue(res, 0, 1));
    PQclear(res);
    return KEEL_OK;
}

keel_rc
job_depths(db_conn_t *c, long long out[JOB_DEPTHS], db_error_t *err)
{
    PGresult *res;
    keel_rc rc = db_exec(c, &st_job_depths, NULL, &res, err);

    if (rc != KEEL_OK)
        return rc;
    for (int i = 0; i < JOB_DEPTHS; i++)
        out[i] = atoll(PQgetvalue(res, 0, i));
    PQclear(res);
    return KEEL_OK;
}

keel_rc
job_list(db_conn_t *c, const char *status, int limit, FILE *out,
         db_error_t *err)
{
    char lim[16];
    const char *p[2] = { status, lim };
    PGresult *res;
    keel_rc rc;

    snprintf(lim, sizeof(lim), "%d", limit);
    rc = db_exec(c, &st_job_list, p, &res, err);
    if (rc != KEEL_OK)
        return rc;
    for (int r = 0; r < PQntuples(res); r++)
        fprintf(out, "%s  %-20s %-9s %s/%s  %s  %s\n", PQgetvalue(res, r, 0),
                PQgetvalue(res, r, 1), PQgetvalue(res, r, 2),
                PQgetvalue(res, r, 3), PQgetvalue(res, r, 4),
                PQgetvalue(res, r, 5), PQgetvalue(res, r, 6));
    PQclear(res);
    return KEEL_OK;
}
