/*
 * collection.h - the collection query language of API.md 1.4, written once
 * for every resource: limit, offset pages with an exact or estimated total,
 * signed keyset cursors, whitelisted sort fields, typed filters, field
 * selection, and the SQL that runs them.
 *
 * A resource declares a coll_schema_t (in its store file: the fragments
 * are SQL) and points its route rows at it (route_t.query for a list,
 * route_t.select for a single GET).  The chain parses and validates the
 * query string against it before the handler runs (ctx->query); the store
 * runs coll_fetch() with conditions of its own (visibility, ownership); the
 * handler answers with coll_respond().
 *
 * The SQL is assembled only from the schema's fragments; every value from
 * the request is a bound parameter.  In a fragment, every "$" stands for
 * the one value (it becomes $1, $2, ...); fragments hold no other "$".
 *
 * Keyset pagination orders by the sort keys and then the public id, so the
 * order is total and a page costs the same wherever it is; the cursor
 * holds the last row's keys, signed with HMAC-SHA256 and bound to the
 * resource and the sort (a changed or foreign cursor is 400).
 */
#ifndef KEEL_HTTP_COLLECTION_H
#define KEEL_HTTP_COLLECTION_H

#include "core/arena.h"
#include "core/config.h"
#include "core/error.h"
#include "http/request.h"

#include <json-c/json.h>
#include <stddef.h>

typedef struct db_conn db_conn_t;
typedef struct db_error db_error_t;
typedef struct keel_ctx keel_ctx_t;

#define COLL_MAX_SORT      4
#define COLL_MAX_FILTERS   16
#define COLL_MAX_FIELDS    32
#define COLL_MAX_PARAMS    64
#define COLL_LIMIT_DEFAULT 20
#define COLL_LIMIT_MAX     100
/* Offset pages reach this many rows deep at most (OFFSET costs what it
 * skips); beyond, clients page by cursor. */
#define COLL_OFFSET_MAX 10000
/* The longest cursor text: base64url of the largest payload (3000 bytes in
 * collection.c), ".", and the 43 characters of the MAC. */
#define COLL_CURSOR_MAX 4048

enum coll_type {
    COLL_TEXT = 1,  /* 1..max_len characters */
    COLL_UUID,      /* a UUID; a malformed one matches nothing (400) */
    COLL_ENUM,      /* one of `values` */
    COLL_TIMESTAMP, /* RFC 3339 */
    COLL_INT,       /* decimal in [min, max] */
    COLL_BOOL,      /* true | false */
};

typedef struct coll_filter {
    const char *name; /* the query parameter */
    enum coll_type type;
    const char *sql; /* condition; "$" is the value: "u.created_at > $" */
    const char *const *values; /* COLL_ENUM: NULL-terminated */
    int repeatable;            /* may be given more than once (all apply) */
    int max_len;               /* COLL_TEXT: characters, 0 = 256 */
    long long min, max;        /* COLL_INT */
    /* What it matches, for the API description; NULL: "Filter by name". */
    const char *summary;
} coll_filter_t;

typedef struct coll_sort {
    const char *name; /* as in ?sort= */
    const char *sql;  /* a NOT NULL expression */
    const char *cast; /* its SQL type, for cursor values: "timestamptz" */
} coll_sort_t;

typedef struct coll_field {
    const char *name; /* as in ?fields= and in the JSON */
    const char *sql;  /* the member's value, any SQL type json accepts */
    /* The member's JSON Schema as JSON text, for the API description
     * (http/openapi.h); NULL: any value.  COLL_JS_* below for the usual. */
    const char *schema;
} coll_field_t;

/* JSON Schemas of common members (API.md 1: ids, timestamps). */
#define COLL_JS_STRING      "{\"type\":\"string\"}"
#define COLL_JS_STRING_NULL "{\"type\":[\"string\",\"null\"]}"
#define COLL_JS_UUID        "{\"type\":\"string\",\"format\":\"uuid\"}"
#define COLL_JS_UUID_NULL   "{\"type\":[\"string\",\"null\"],\"format\":\"uuid\"}"
#define COLL_JS_TIME        "{\"type\":\"string\",\"format\":\"date-time\"}"
#define COLL_JS_TIME_NULL                                                      \
    "{\"type\":[\"string\",\"null\"],\"format\":\"date-time\"}"
#define COLL_JS_INT      "{\"type\":\"integer\"}"
#define COLL_JS_VERSION  "{\"type\":\"integer\",\"minimum\":1}"
#define COLL_JS_BOOL     "{\"type\":\"boolean\"}"
#define COLL_JS_CURRENCY "{\"type\":\"string\",\"pattern\":\"^[A-Z]{3}$\"}"

#define COLL_OFFSET 0x1u /* ?page= (the default mode when allowed) */
#define COLL_CURSOR 0x2u /* ?cursor= (empty: the first page) */

typedef struct coll_schema {
    const char *resource; /* binds cursors: "users" */
    const char *from;     /* "users u" */
    const char *where;    /* always applied, or NULL */
    const char *id_sql;   /* the public id, the tie-breaker: "u.public_id" */
    const coll_field_t *fields; /* fields[0] is "id", always returned */
    size_t nfields;
    const coll_filter_t *filters;
    size_t nfilters;
    const coll_sort_t *sorts;
    size_t nsorts;
    const char *default_sort; /* "-created_at" */
    unsigned modes;           /* COLL_OFFSET | COLL_CURSOR */
} coll_schema_t;

#define COLL_ROWS(a) (a), (sizeof(a) / sizeof((a)[0]))

/*
 * An extra condition of the caller's ("$" for `value`, which may be NULL
 * when the fragment has no "$").  `or_sql`, when set, is a second
 * alternative that no row of `sql` matches: rows match either, and an
 * exact total counts the two apart, so that each can use its own index.
 */
typedef struct coll_cond {
    const char *sql;
    const char *value;
    const char *or_sql;
} coll_cond_t;

/* A parsed, valid query.  Strings point into the request or its arena. */
typedef struct coll_query {
    const coll_schema_t *schema;
    int limit;
    long long page; /* offset mode: 1.. */
    int cursor_mode;
    int estimated; /* count=estimated */
    size_t nsort;
    struct {
        const coll_sort_t *key;
        int desc;
    } sort[COLL_MAX_SORT];
    const char *sort_text; /* canonical: "-created_at,name" */
    size_t nfilters;
    struct {
        const coll_filter_t *f;
        const char *value;
    } filter[COLL_MAX_FILTERS];
    unsigned long long fields; /* bit i: schema field i (bit 0 always) */
    int after; /* a cursor was given: rows after after_key/after_id */
    const char *after_key[COLL_MAX_SORT];
    const char *after_id;
} coll_query_t;

/*
 * The process's random cursor key, used when [http] cursor_secret is "".
 * The master calls this before forking so that every worker signs alike;
 * elsewhere it is made on first use.
 */
void coll_key_init(void);

/*
 * The cursor key of a configuration: [http] cursor_secret; else one
 * derived from [auth] jwt_secret (the MAC input is prefixed with a label
 * of its own, so the one key serves two purposes safely); else "" (the
 * process key: cursors then last as long as the master).
 */
const char *coll_secret(const keel_config_t *cfg);

/*
 * Parse a list request's query parameters against `s`: KEEL_OK and *q, or
 * KEEL_EINVAL with one detail per problem appended to `details`.  `secret`
 * is the cursor key ("" = the process key).  Does not block.
 */
keel_rc coll_parse(const coll_schema_t *s, const kv_t *params, size_t n,
                   const char *secret, arena_t *a, coll_query_t *q,
                   json_object *details);

/* The same for a single resource: only `fields` is allowed. */
keel_rc coll_parse_single(const coll_schema_t *s, const kv_t *params, size_t n,
                          arena_t *a, coll_query_t *q, json_object *details);

/*
 * The cursor that continues `q` after a row with sort keys `keys` (text,
 * one per sort field) and public id `id`: base64url(JSON) "." base64url
 * (HMAC-SHA256), in the arena.  NULL when the keys are too long to carry.
 */
const char *coll_cursor(const coll_query_t *q, const char *const *keys,
                        const char *id, const char *secret, arena_t *a);

typedef struct coll_page {
    json_object *items; /* array; the caller puts it (or hands it on) */
    int has_more;
    const char *next_cursor; /* arena; NULL on the last page, offset mode */
    int have_total;
    long long total;
    int total_is_estimate;
} coll_page_t;

/*
 * Run the query: one page of rows (limit + 1 fetched to learn has_more)
 * under the schema's conditions, the filters and `extra`, plus the total
 * in offset mode.  Blocks on the database.
 */
keel_rc coll_fetch(db_conn_t *c, const coll_query_t *q,
                   const coll_cond_t *extra, size_t nextra, const char *secret,
                   arena_t *a, coll_page_t *page, db_error_t *err);

/*
 * The page query coll_fetch() runs, without running it: *sql (free()) and
 * its parameters (COLL_MAX_PARAMS at most; pointers into q and extra), for
 * EXPLAIN in tests and for review.  No value of the request is in *sql.
 */
keel_rc coll_sql(const coll_query_t *q, const coll_cond_t *extra, size_t nextra,
                 char **sql, const char **params, int *nparams);

/*
 * One row under the schema's conditions and `conds`, with the fields `q`
 * selected: KEEL_OK and *out (json_object_put), or KEEL_ENOTFOUND.
 */
keel_rc coll_fetch_one(db_conn_t *c, const coll_query_t *q,
                       const coll_cond_t *conds, size_t nconds,
                       json_object **out, db_error_t *err);

/* Remove the members `q` did not select from `obj` (an object built with
 * every field, after a write). */
void coll_select(const coll_query_t *q, json_object *obj);

/*
 * Respond 200 with {"data": [...], "meta": {...}} and the RFC 8288 Link
 * header for `page` (its items are taken over).
 */
void coll_respond(keel_ctx_t *ctx, const coll_query_t *q, coll_page_t *page);

/*
 * Respond `status` with one versioned resource (taken over): {"data": obj}
 * with only the fields ctx->query selects, and ETag W/"<version>".
 * coll_respond_get: the same with 200, or 304 when If-None-Match matches.
 */
void coll_respond_one(keel_ctx_t *ctx, int status, json_object *obj);
/*
 * The answer to a guarded change (PUT, PATCH) whose store call returned
 * `rc`: 200 with `obj` (taken over) on success; else 404, 412 or 409
 * VERSION_CONFLICT as they are, and any other error through
 * ctx_fail_db() (logged with `err`).  Returns what the handler returns.
 */
keel_rc coll_respond_changed(keel_ctx_t *ctx, keel_rc rc, json_object *obj,
                             const db_error_t *err);

/* 201 with coll_respond_one and Location: <base>/<its id>. */
void coll_respond_created(keel_ctx_t *ctx, const char *base, json_object *obj);
void coll_respond_get(keel_ctx_t *ctx, json_object *obj);

/*
 * Answer a list request: the route's collection (ctx->query) under the
 * conditions `extra` (the caller's visibility and ownership rules).
 */
keel_rc coll_list(keel_ctx_t *ctx, const coll_cond_t *extra, size_t nextra);

/*
 * A route handler for a plain list: the route's collection with no
 * conditions beyond the schema's (who may list is the route's permission).
 */
keel_rc coll_handle_list(keel_ctx_t *ctx);

#endif
