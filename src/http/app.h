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

/*
 * An error answer as the chain has it (chain_error), for an application's
 * renderer: the status and API.md code of `rc`, the client-facing message
 * (never NULL) and the details, an array of {"field", "message"} (never
 * NULL; borrowed).  For a 5xx the message is the table's default and the
 * details are empty whatever the handler said: the core, not each
 * renderer, keeps internals out of answers.
 */
typedef struct keel_error {
    keel_rc rc;
    int status;
    const char *code;
    const char *message;
    json_object *details;
    const char *request_id;
} keel_error_t;

/*
 * Render the body of an error answer: a new JSON value the chain serializes
 * and puts.  It may change e->status (an API that answers validation
 * errors with 422, say).  It must not take e->details (json_object_get to
 * keep a part) nor write to ctx->res: headers (Allow, WWW-Authenticate,
 * Retry-After) stay the chain's.
 */
typedef json_object *(*error_render_fn)(const keel_ctx_t *ctx, keel_error_t *e);

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
    /*
     * The application's HTTP conventions, where they may differ from
     * keel's own (API.md).  NULL (0) in each: keel's.
     *
     * auth_scheme: the Authorization scheme the chain takes a token from,
     * compared in any case ("Bearer"; RealWorld's Conduit says "Token");
     * auth_realm: the realm of WWW-Authenticate on a 401 ("keel").
     */
    const char *auth_scheme;
    const char *auth_realm;
    /* Unknown paths under this prefix are rate limited like the API's
     * (probing is traffic): "/v1/". */
    const char *path_prefix;
    /* The body of every error answer: error_envelope() (API.md 1.2). */
    error_render_fn render_error;
    /* The wording of validation problems and of refused unique or foreign
     * keys (validate.h), entry by entry: keel's where NULL. */
    const valid_messages_t *messages;
    /* The body member the auth rate class also counts by (API.md 1.7): a
     * dotted path into the JSON body, "email". */
    const char *rate_email_member;
    /* Background job types; job workers run only when there are some. */
    const job_type_t *job_types;
    size_t njob_types;
    /* Jobs queued on a schedule (of the types above); NULL when none. */
    const periodic_job_t *periodic;
    size_t nperiodic;
};

#endif
