/* jobs.c - the /v1/jobs handlers (the list is coll_handle_list). */
#include "keel-build.h"

#include "api/jobs.h"
#include "core/validate.h"
#include "http/collection.h"
#include "jobs/queue.h"
#include "store/sessions.h"

/* The job of the path, fields as the query selects. */
static keel_rc
find_job(keel_ctx_t *ctx, db_conn_t *c, const char *id, json_object **out,
         db_error_t *err)
{
    coll_query_t all = { .schema = &job_collection, .fields = ~0ULL };
    coll_cond_t cond = { "j.public_id = $::uuid", id, NULL };

    return coll_fetch_one(c, ctx->query ? ctx->query : &all, &cond, 1, out,
                          err);
}

keel_rc
jobs_show(keel_ctx_t *ctx)
{
    const char *id = ctx_param_uuid(ctx, "id");
    json_object *job;
    db_conn_t *c;
    db_error_t err;
    keel_rc rc;

    if (id == NULL)
        return ctx_fail(ctx, KEEL_ENOTFOUND, NULL);
    rc = ctx_db(ctx, &c);
    if (rc != KEEL_OK)
        return rc;
    rc = find_job(ctx, c, id, &job, &err);
    if (rc == KEEL_ENOTFOUND)
        return ctx_fail(ctx, rc, NULL);
    if (rc != KEEL_OK)
        return ctx_fail_db(ctx, rc, &err);
    ctx_respond_data(ctx, 200, job);
    return KEEL_OK;
}

typedef struct retry_args {
    keel_ctx_t *ctx;
    const char *id;
    json_object *job;
    db_error_t *err;
} retry_args_t;

/* Re-queue, audit and read the job in one transaction: the job workers
 * hear of it at commit, so the answer shows it queued, not already run. */
static keel_rc
retry_tx(db_conn_t *c, void *arg)
{
    retry_args_t *a = arg;
    keel_rc rc = job_retry(c, a->id, a->err);

    if (rc == KEEL_OK)
        rc = audit_record(c, "job.retried", a->ctx->user->id, "job", a->id,
                          a->ctx->req.client_ip, a->ctx->req.request_id, NULL,
                          a->err);
    if (rc == KEEL_OK) {
        json_object_put(a->job);
        a->job = NULL;
        rc = find_job(a->ctx, c, a->id, &a->job, a->err);
    }
    return rc;
}

keel_rc
jobs_retry(keel_ctx_t *ctx)
{
    const char *id = ctx_param_uuid(ctx, "id");
    db_conn_t *c;
    db_error_t err;
    retry_args_t a = { ctx, id, NULL, &err };
    keel_rc rc;

    if (id == NULL)
        return ctx_fail(ctx, KEEL_ENOTFOUND, NULL);
    rc = ctx_db(ctx, &c);
    if (rc != KEEL_OK)
        return rc;
    rc = db_transaction(c, retry_tx, &a, 3, &err);
    if (rc != KEEL_OK)
        json_object_put(a.job);
    if (rc == KEEL_ENOTFOUND)
        return ctx_fail(ctx, rc, NULL);
    if (rc == KEEL_ECONFLICT)
        return ctx_fail(ctx, rc, "Only dead or failed jobs can be retried");
    if (rc != KEEL_OK)
        return ctx_fail_db(ctx, rc, &err);
    ctx_respond_data(ctx, 200, a.job);
    return KEEL_OK;
}
