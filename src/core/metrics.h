/*
 * metrics.h - counters and histograms for GET /metrics (Prometheus text
 * exposition 0.0.4), for the whole server.
 *
 * The master maps one shared segment before it forks: a slot per worker
 * process (the scoreboard's numbering) and a few server-wide counters.
 * Each worker writes only its own slot, with relaxed atomic adds and no
 * lock, so the request path never waits and a worker that dies cannot
 * leave anything locked.  Counters survive the worker (its successor in
 * the slot goes on adding to them, so they never go down); gauges
 * (in-flight requests, pool connections, memory) count only live slots.
 * Any worker renders the sum of all slots when /metrics is asked.
 *
 * Label values are bounded by construction: routes are the route table's
 * patterns (never raw paths), statuses a fixed list, methods the parsed
 * ones, job types the application's.
 */
#ifndef KEEL_CORE_METRICS_H
#define KEEL_CORE_METRICS_H

#include <stddef.h>
#include <sys/types.h>

enum metrics_kind { METRICS_REQUEST_WORKER = 1, METRICS_JOB_WORKER = 2 };

enum metrics_job_result {
    METRICS_JOB_SUCCEEDED = 0,
    METRICS_JOB_FAILED, /* to be retried */
    METRICS_JOB_DEAD,
    METRICS_JOB__MAX
};

/*
 * Map the segment: `nslots` worker slots, counters for `nroutes` routes
 * (plus one for requests no route matched) and `njobs` job types.  The
 * master calls it once before forking.  0, or -1 (nothing is counted).
 */
int metrics_init(size_t nslots, size_t nroutes, size_t njobs);

/* 1 when metrics_init succeeded in this process or its parent. */
int metrics_on(void);

/* In a freshly forked worker: count into slot `slot` from now on. */
void metrics_bind(size_t slot, enum metrics_kind kind);

/* The master, when it reaps `pid`: its slot's gauges stop counting. */
void metrics_forget(pid_t pid);

/* A request starts (in flight) and ends: `route` is the route's index
 * (nroutes for none), `method` an enum http_method, `seconds` from the
 * first byte read to the last written. */
void metrics_request_begin(void);
void metrics_request_end(size_t route, int method, int status, double seconds);

/* This worker's pool, published after each request. */
void metrics_pool_gauges(int size, int idle, int busy);
/* How long a request waited for a pooled connection. */
void metrics_pool_wait(double seconds);
/* A statement failed with SQLSTATE `sqlstate` (5 characters). */
void metrics_db_error(const char *sqlstate);
/* A job of type index `type` ran to `result`. */
void metrics_job(size_t type, enum metrics_job_result result);
/* A request refused by rate-limit class `cls` (enum rate_class, 1..3). */
void metrics_rate_rejected(int cls);
/* The master: a worker ended, for `reason` (see metrics.c's list). */
void metrics_restart(const char *reason);

/* What the numbers are called: the labels rendering needs. */
typedef struct metrics_names {
    const char *version;
    size_t nroutes;
    const char *const *route_patterns; /* [nroutes] */
    size_t njobs;
    const char *const *job_types; /* [njobs] */
} metrics_names_t;

/*
 * The exposition text (malloc'd, NUL terminated; *len its length): every
 * family with HELP and TYPE, then `extra` (more families the caller
 * computed, such as queue depths from the database) verbatim.
 */
char *metrics_render(const metrics_names_t *names, const char *extra,
                     size_t *len);

#endif
