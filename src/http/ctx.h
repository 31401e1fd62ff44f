/*
 * ctx.h - the per-request context handed through the middleware chain, and
 * the response being built.
 *
 * One keel_ctx_t per request; everything it points to is in ctx->arena or
 * owned by it (details, response JSON) and is released in ctx_reset().
 * Nothing below the handler writes to the FastCGI stream: handlers fill
 * ctx->res and the server writes it once, after the chain.
 */
#ifndef KEEL_HTTP_CTX_H
#define KEEL_HTTP_CTX_H

#include "core/arena.h"
#include "core/config.h"
#include "core/error.h"
#include "core/clientip.h"
#include "http/request.h"
#include "http/router.h"

#include <json-c/json.h>

typedef struct db_pool db_pool_t;
typedef struct db_conn db_conn_t;
typedef struct db_error db_error_t;

#define RESPONSE_MAX_HEADERS 48

typedef struct keel_response {
    int status;
    kv_t headers[RESPONSE_MAX_HEADERS];
    size_t nheaders;
    const char *body; /* in the arena */
    size_t body_len;
} keel_response_t;

/* What a worker shares with every request it serves (read-only). */
typedef struct keel_http {
    const keel_config_t *cfg;
    const keel_app_t *app;
    router_t *router;
    db_pool_t *pool; /* this worker's database pool, NULL when none */
    keel_limits_t limits;
    cidr_list_t trusted;       /* [http] trusted_proxies */
    cidr_list_t metrics_allow; /* [metrics] allow */
    /* Every row of the app's route tables, in order: the metrics' route
     * numbering (http_route_index). */
    const char **route_patterns;
    const route_t **routes;
    size_t nroutes;
    int worker_index; /* -1 outside a worker (tests) */
} keel_http_t;

/* Who made the request, from a verified access token. */
typedef struct keel_user {
    char id[37];  /* the user's public id (sub) */
    char sid[37]; /* the session the token belongs to */
    double iat;   /* when the token was issued (database clock) */
    char roles[16][65];
    size_t nroles;
    /* What the roles grant, resolved by the application (arena). */
    const char *const *perms;
    size_t nperms;
} keel_user_t;

struct keel_ctx {
    arena_t *arena;
    const keel_http_t *http;
    keel_request_t req;
    keel_response_t res;
    route_match_t match;
    /* Called once the request has matched a route (the worker's
     * scoreboard: the slow-request log names it), or NULL. */
    void (*routed)(void *arg, const char *pattern);
    void *routed_arg;
    json_object *details;    /* error details being collected, or NULL */
    const char *message;     /* client-facing error message, or NULL */
    const char *log_error;   /* internal detail: logged, never sent */
    const char *component;   /* what failed, for the log: "database"... */
    int crashed;             /* the crash guard caught a fault */
    db_conn_t *db;           /* held from ctx_db() to the end of the request */
    double started;          /* time_mono() at the start */
    double auth_seconds;     /* spent authenticating (Server-Timing) */
    const keel_user_t *user; /* NULL unless a valid token came with it */
    keel_user_t user_buf;
    int token_invalid; /* a token came and was refused (invalid_token) */
    const struct coll_query *query; /* the route's parsed query, or NULL */
    /* What the route's access rule loaded for the handler (one query, not
     * two), or NULL; put when the request ends. */
    json_object *resource;
    /* The rate limit that binds this request most (API.md 1.7), for the
     * response's headers; cls NULL when no limit applied. */
    struct {
        const char *cls;
        long long limit, remaining;
        double window, reset_after, retry_after;
    } rate;
};

/* Set (replace) or add a response header; name and value are copied. */
void ctx_header_set(keel_ctx_t *ctx, const char *name, const char *value);
void ctx_header_add(keel_ctx_t *ctx, const char *name, const char *value);
/* The response header `name` (case-insensitive), or NULL. */
const char *ctx_header_get(const keel_ctx_t *ctx, const char *name);

/*
 * Respond with `root` serialized as the body (the caller keeps ownership of
 * root), Content-Type application/json; charset=utf-8.
 */
void ctx_respond_json(keel_ctx_t *ctx, int status, json_object *root);
/* Respond {"data": data} (the route's envelope member in place of
 * "data" when it names one); takes ownership of data. */
void ctx_respond_data(keel_ctx_t *ctx, int status, json_object *data);
/* Respond with no body (204, 304). */
void ctx_respond_empty(keel_ctx_t *ctx, int status);

/*
 * Record a client-facing message (NULL: the table's default) and return rc,
 * for `return ctx_fail(ctx, KEEL_ENOTFOUND, NULL);` in handlers.
 */
keel_rc ctx_fail(keel_ctx_t *ctx, keel_rc rc, const char *message);
/* A 500 whose printf-formatted detail goes only to the log. */
keel_rc ctx_fail_internal(keel_ctx_t *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Add one {"field","message"} entry to the error details. */
void ctx_detail(keel_ctx_t *ctx, const char *field, const char *message);
/* The application's messages (keel_app_t.messages), NULL for keel's: for
 * valid_message(). */
const valid_messages_t *ctx_messages(const keel_ctx_t *ctx);

/*
 * This request's database connection, taken from the worker's pool on the
 * first call and given back when the request ends (ctx_release): a
 * handler cannot leak one.  KEEL_EUNAVAIL (503) when none can be had.
 */
keel_rc ctx_db(keel_ctx_t *ctx, db_conn_t **out);
/* Log a failed statement (SQLSTATE and message go only to the log) and
 * return rc for the envelope. */
keel_rc ctx_fail_db(keel_ctx_t *ctx, keel_rc rc, const db_error_t *err);

/*
 * Conditional requests on a resource's integer version (API.md 1.5).
 * ctx_etag sets ETag: W/"<version>".  ctx_if_match gives the version an
 * If-Match header names (the first tag of a list): -1 when there is none
 * (or it is "*"), 0 when it names no version keel could have issued (so it
 * never matches).  Tags
 * compare weakly: W/"3" and "3" both name version 3.
 * ctx_not_modified answers 304 with the ETag and returns 1 when an
 * If-None-Match header matches `version`; else 0.
 */
void ctx_etag(keel_ctx_t *ctx, long long version);
long long ctx_if_match(const keel_ctx_t *ctx);
int ctx_not_modified(keel_ctx_t *ctx, long long version);

/* The string value of body member `name` (validated already), or NULL;
 * _trimmed: without the outer blanks SCHEMA_TRIM ignores, in the arena. */
const char *ctx_body_str(const keel_ctx_t *ctx, const char *name);
const char *ctx_body_str_trimmed(keel_ctx_t *ctx, const char *name);
/* `s` (NULL: NULL) without those outer blanks, in the arena: for strings
 * an application reads from nested bodies itself. */
const char *ctx_trimmed(keel_ctx_t *ctx, const char *s);
/* The body's optimistic-locking "version" (API.md 1.5), -1 when absent. */
long long ctx_body_version(const keel_ctx_t *ctx);

/* 1 when the caller is authenticated and holds permission `perm`. */
int ctx_can(const keel_ctx_t *ctx, const char *perm);

/*
 * Path parameter `name` as a UUID in its canonical lower case (in the
 * arena), or NULL when it is not one: ids compare as strings everywhere
 * (self checks, caches, the audit log), so "ABC…" and "abc…" must be one.
 */
const char *ctx_param_uuid(keel_ctx_t *ctx, const char *name);

/*
 * For an access rule: load the resource the path's {id} names with `get`
 * into ctx->resource (the handler answers with it, without a second
 * query).  KEEL_OK, KEEL_ENOTFOUND (no such resource, or a malformed id),
 * or the database's error, logged.
 */
typedef keel_rc (*ctx_get_fn)(db_conn_t *c, const char *id, json_object **out,
                              db_error_t *err);
keel_rc ctx_load(keel_ctx_t *ctx, ctx_get_fn get);

/* The value of path parameter `name`, or NULL. */
const char *ctx_param(const keel_ctx_t *ctx, const char *name);

#endif
