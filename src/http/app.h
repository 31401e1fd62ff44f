/*
 * app.h - what an application built on libkeel hands to the server: its
 * name, version and route tables.  keeld is one such application (the
 * reference API in src/api/); tests and examples/ link others.
 */
#ifndef KEEL_HTTP_APP_H
#define KEEL_HTTP_APP_H

#include "core/config.h"
#include "http/route.h"

#include <stddef.h>

struct job;

/*
 * A background job type: `run` does the work for one claimed job and
 * returns KEEL_OK, or an error with a short reason in `why`: KEEL_EINVAL
 * when no retry can succeed (a bad payload; the job is dead at once), any
 * other error to be retried with back-off (dead after max_attempts).  Delivery
 * is at-least-once: `run` must be idempotent.
 */
typedef struct job_type {
    const char *type;
    keel_rc (*run)(const keel_config_t *cfg, const struct job *job, char *why,
                   size_t whylen);
} job_type_t;

/*
 * A job queued on a schedule: job workers queue one of `type` in each
 * period of `every` seconds (its idempotency key names the period, so
 * however many workers try, one is queued).
 */
typedef struct periodic_job {
    const char *type;
    double every;
} periodic_job_t;

typedef struct route_table {
    const route_t *routes;
    size_t nroutes;
} route_table_t;

#define ROUTE_TABLE(rows)                                                      \
    {                                                                          \
        (rows), sizeof(rows) / sizeof((rows)[0])                               \
    }

struct keel_app {
    const char *name;    /* program name in logs and --version */
    const char *version; /* reported by /health and --version */
    const route_table_t *tables;
    size_t ntables;
    /* The schema version (highest migration) this build expects; /ready
     * answers 503 until the database is at it.  0 when no database. */
    int schema_version;
    /*
     * Checks of the configuration beyond config_check() that this
     * application needs (its keys load, say): run by keeld at start, by
     * --check-config and before a reload is accepted, and by keelctl
     * config check.  NULL when none.
     */
    keel_rc (*check_config)(const keel_config_t *cfg, char *err, size_t errlen);
    /*
     * Called in each worker after fork, before it accepts requests (for
     * state that must not be inherited, such as database connections).
     * NULL when none.  A failure is fatal for the worker: it exits with
     * KEEL_EXIT_FATAL and the master does not respawn it.
     */
    keel_rc (*worker_init)(const keel_config_t *cfg, char *err, size_t errlen);
    /*
     * Check a bearer token for a route whose auth is not AUTH_NONE: fill
     * ctx->user_buf and point ctx->user at it and return KEEL_OK, or
     * return KEEL_EUNAUTH (refused token) or another error (503 when the
     * revocation check cannot be made).  NULL: every token is refused.
     */
    keel_rc (*authenticate)(keel_ctx_t *ctx, const char *token);
    /* Background job types; job workers run only when there are some. */
    const job_type_t *job_types;
    size_t njob_types;
    /* Jobs queued on a schedule (of the types above); NULL when none. */
    const periodic_job_t *periodic;
    size_t nperiodic;
};

#endif
