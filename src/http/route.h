/*
 * route.h - the declarative route table (DESIGN.md §2, STYLE.md rule 2).
 *
 * One row per (method, pattern): the router, the middleware chain and the
 * OpenAPI document are all driven by these rows.  A new endpoint is a new
 * row plus a handler, never a new branch in the dispatcher.
 */
#ifndef KEEL_HTTP_ROUTE_H
#define KEEL_HTTP_ROUTE_H

#include "core/error.h"
#include "core/validate.h"
#include "http/request.h"

typedef struct keel_ctx keel_ctx_t;
typedef struct keel_app keel_app_t;

/*
 * A handler fills ctx->res (ctx_respond_*) and returns KEEL_OK, or returns
 * an error (ctx_fail) that the chain turns into the error envelope.
 */
typedef keel_rc (*route_handler_fn)(keel_ctx_t *ctx);

/*
 * The ownership rule of a resource (API.md 4), in one place per resource:
 * called by the chain for an authenticated caller before the body is read,
 * with `permitted` saying whether the caller holds the route's permission.
 * Returns KEEL_OK to let the request through, KEEL_EFORBIDDEN when the
 * caller may know the resource but not do this, KEEL_ENOTFOUND when the
 * caller may not know it exists (or it does not), or another error (the
 * database failed).  It may load the resource for the handler.
 */
typedef keel_rc (*route_access_fn)(keel_ctx_t *ctx, int permitted);

struct coll_schema;

enum route_auth {
    AUTH_NONE = 1, /* public: credentials are not looked at */
    AUTH_OPTIONAL, /* public, but a valid bearer token identifies the user */
    AUTH_BEARER,   /* a valid bearer token is required (401 otherwise) */
};

enum rate_class {
    RATE_NONE = 0, /* operational endpoints: not rate limited */
    RATE_READ,
    RATE_WRITE,
    RATE_AUTH,
};

typedef struct route {
    enum http_method method;
    const char *pattern; /* "/v1/posts/{id}": literals and {params} */
    route_handler_fn handler;
    enum route_auth auth; /* must be set: 0 is rejected by the router */
    /*
     * The permission the route needs ("users:read"), or NULL.  Without an
     * `access` rule the chain answers 401 to anonymous callers and 403 to
     * callers without it; with one, the rule decides (self or permission).
     */
    const char *permission;
    route_access_fn access;
    enum rate_class rate;
    const schema_t *body; /* JSON body schema, NULL when no body */
    /* A collection's query language (filters, sort, fields, pagination),
     * checked by the chain into ctx->query; NULL when not a collection. */
    const struct coll_schema *query;
    /* A single resource's selectable fields (?fields=), or NULL. */
    const struct coll_schema *select;
    /* Any query string is accepted (the handler reads it itself, or it is
     * an operational probe); else a route without `query` or `select`
     * takes no query parameters (400). */
    int any_query;
    /* A create that takes an Idempotency-Key (API.md 1.6): its handler
     * keeps and replays answers (store/idempotency.h). */
    int idempotent;
    /* The member ctx_respond_data wraps this route's success body in:
     * "data" when NULL (API.md 1.1); RealWorld's "user", "article"... */
    const char *envelope;
    const char *summary; /* one line for the API description */
    /*
     * For the API description (http/openapi.h), nothing the chain reads.
     * `response`: the JSON Schema (2020-12, as JSON text) of the success
     * body, whole, envelope included; NULL derives it from `query` (a page
     * of that collection) or `select` (one of its resources), else the
     * body is undescribed.  A "$ref" may name "#/components/schemas/<r>"
     * for the resource r of any collection in the tables, and
     * "#/components/schemas/Error" for the error envelope.
     */
    const char *response;
    unsigned answers; /* ANSWER_* below: what the row alone does not say */
} route_t;

/*
 * Answers of a route beyond those its row implies (400 always; 401 unless
 * AUTH_NONE; 403 with a permission or access rule; 404 with path
 * parameters or an access rule; 413/415 with a body; 422 when idempotent;
 * 429 unless RATE_NONE; 500 and 503 always).  The success status is 200,
 * or 204 for DELETE, unless ANSWER_OK/CREATED/EMPTY say otherwise.
 */
#define ANSWER_OK           0x01u  /* 200 */
#define ANSWER_CREATED      0x02u  /* 201 with Location */
#define ANSWER_EMPTY        0x04u  /* 204, no body */
#define ANSWER_ETAG         0x08u  /* ETag; GET: If-None-Match, 304 */
#define ANSWER_IF_MATCH     0x10u  /* If-Match honoured: 412 */
#define ANSWER_CONFLICT     0x20u  /* 409 (state, uniqueness or version) */
#define ANSWER_UNAUTHORIZED 0x40u  /* 401 on an AUTH_NONE route */
#define ANSWER_FORBIDDEN    0x80u  /* 403 without a route permission */
#define ANSWER_NOT_FOUND    0x100u /* 404 without path parameters */
#define ANSWER_TEXT         0x200u /* the success body is text/plain */

#endif
