/*
 * queue.h - the job queue in PostgreSQL (table `jobs`, migration 0002).
 *
 * A job is queued with the caller's connection, so it commits or rolls
 * back with the caller's transaction, and NOTIFY keel_jobs tells job
 * workers at commit.  Workers claim due jobs with FOR UPDATE SKIP LOCKED
 * under a lease; a job whose lease ran out (its worker died) is claimed
 * again.  Delivery is at-least-once: handlers must be idempotent.
 */
#ifndef KEEL_JOBS_QUEUE_H
#define KEEL_JOBS_QUEUE_H

#include "db/db.h"
#include "http/collection.h"

#include <stdio.h>

#define JOBS_CHANNEL "keel_jobs"

typedef struct job_spec {
    const char *type;            /* "email.send" */
    const char *payload;         /* JSON text, NULL = {} */
    const char *idempotency_key; /* NULL = none; unique when set */
    int max_attempts;            /* 0 = 5 */
    int priority;                /* higher first */
    double delay;                /* seconds before it is due */
} job_spec_t;

typedef struct job {
    long long id;
    char public_id[37];
    char type[65];
    char *payload; /* JSON text; free() */
    int attempts;  /* including this one */
    int max_attempts;
    /* The job worker's connection, idle (no transaction open), for job
     * types that work on the database; NULL where there is none. */
    db_conn_t *db;
} job_t;

/*
 * Queue a job inside the caller's transaction (or on its own when the
 * connection is idle).  `public_id` gets its UUID; with an idempotency key
 * already queued, KEEL_OK and the existing job's UUID (nothing new).
 */
keel_rc job_enqueue(db_conn_t *c, const job_spec_t *spec, char public_id[37],
                    db_error_t *err);

/*
 * Claim the next due job for `worker` (a name for locked_by) with a lease
 * of `lease` seconds.  KEEL_OK with *job filled, KEEL_ENOTFOUND when none
 * is due.  The claim commits at once (its own statement).
 */
keel_rc job_claim(db_conn_t *c, const char *worker, double lease, job_t *job,
                  db_error_t *err);
void job_free(job_t *job);

/* Record success. */
keel_rc job_succeed(db_conn_t *c, const job_t *job, db_error_t *err);
/*
 * Record a failure with a short reason: due again after `retry_in` seconds,
 * or dead when it has used max_attempts or when `retry_in` < 0 (a failure
 * that no retry can mend).  *dead says which.
 */
keel_rc job_fail(db_conn_t *c, const job_t *job, const char *reason,
                 double retry_in, int *dead, db_error_t *err);

/* Re-queue a dead or failed job (by UUID) now, with fresh attempts.
 * KEEL_ENOTFOUND for no such job, KEEL_ECONFLICT for another status. */
keel_rc job_retry(db_conn_t *c, const char *public_id, db_error_t *err);

/* How many jobs are queued (queued or failed, waiting to run) and dead. */
keel_rc job_counts(db_conn_t *c, long long *queued, long long *dead,
                   db_error_t *err);

/* Jobs not yet succeeded, by status, in the order of job_depth_names. */
#define JOB_DEPTHS 4
static const char *const job_depth_names[JOB_DEPTHS] = { "queued", "running",
                                                         "failed", "dead" };
keel_rc job_depths(db_conn_t *c, long long out[JOB_DEPTHS], db_error_t *err);

/*
 * Print jobs, newest first, at most `limit`, optionally of one status, one
 * line each (id, type, status, attempts/max, run_at, last_error) to out.
 */
keel_rc job_list(db_conn_t *c, const char *status, int limit, FILE *out,
                 db_error_t *err);

/* The /v1/jobs collection (API.md 5.5): cursor pages, newest first,
 * filters status and type; never the payload, which may hold secrets. */
extern const coll_schema_t job_collection;

/*
 * The delay before attempt `attempts` + 1 after a failure: base × 2^(n-1),
 * at most cap, with jitter in [50 %, 100 %] so retries of a burst spread.
 */
double job_backoff(int attempts, double base, double cap);

#endif
