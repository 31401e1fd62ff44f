/*
 * app.h - RealWorld's Conduit as a libkeel application: its route table
 * and its conventions (README.md in this directory), and the helpers its
 * handlers share to speak them.
 */
#ifndef CONDUIT_APP_H
#define CONDUIT_APP_H

#include "http/app.h"
#include "http/ctx.h"

/* The highest migration in examples/realworld/sql/migrations. */
#define CONDUIT_SCHEMA_VERSION 3

extern const keel_app_t conduit_app;

/*
 * Member `name` of the body's {"<wrapper>": {...}} (validated already), or
 * NULL (absent or JSON null); *present, when asked, says whether it was
 * there at all.  Borrowed from the request's body.
 */
json_object *rw_body_member(const keel_ctx_t *ctx, const char *wrapper,
                            const char *name, int *present);
/* Its string value, or NULL; _trimmed: without the outer blanks that
 * SCHEMA_TRIM left out of its length (in the arena). */
const char *rw_body_str(const keel_ctx_t *ctx, const char *wrapper,
                        const char *name);
const char *rw_body_trimmed(keel_ctx_t *ctx, const char *wrapper,
                            const char *name);

/* The caller's public id, NULL when anonymous (AUTH_OPTIONAL). */
const char *rw_viewer(const keel_ctx_t *ctx);

/* {"errors": {"<field>": ["<message>"]}} with rc's status, for
 * `return rw_fail(ctx, KEEL_ENOTFOUND, "article", "not found");`. */
keel_rc rw_fail(keel_ctx_t *ctx, keel_rc rc, const char *field,
                const char *message);

/*
 * Answer a store call: KEEL_OK responds `status` with `out` in the route's
 * envelope (taking it), or, when the route has none, with `out` itself
 * (a list page, put after); KEEL_ENOTFOUND is "<missing>": "not found";
 * any other error is the database's, logged.
 */
keel_rc rw_answer(keel_ctx_t *ctx, keel_rc rc, const db_error_t *err,
                  int status, json_object *out, const char *missing);

/*
 * A read (or a write that answers with what it touched) named by path
 * parameter `param`: `fn` with the caller (NULL when anonymous) and the
 * parameter's value, answered as rw_answer does (200).
 */
typedef keel_rc (*rw_lookup_fn)(db_conn_t *c, const char *viewer,
                                const char *key, json_object **out,
                                db_error_t *err);
keel_rc rw_lookup(keel_ctx_t *ctx, rw_lookup_fn fn, const char *param,
                  const char *missing);

/*
 * The last step of an access rule: `obj` (taken) names its writer in
 * member "author"; when that is the caller it becomes ctx->resource for
 * the handler, else the answer is 403 {"<what>": ["forbidden"]}.
 */
keel_rc rw_owned(keel_ctx_t *ctx, json_object *obj, const char *what);

/* Member `key` of what the access rule loaded (ctx->resource) as a
 * string, or NULL. */
const char *rw_resource_str(const keel_ctx_t *ctx, const char *key);

/*
 * A DELETE behind an access rule: `fn` with the resource's member `key`
 * (its id), then 204; a resource gone meanwhile is 404
 * {"<missing>": ["not found"]}.
 */
typedef keel_rc (*rw_remove_fn)(db_conn_t *c, const char *id, db_error_t *err);
keel_rc rw_remove(keel_ctx_t *ctx, rw_remove_fn fn, const char *key,
                  const char *missing);

#endif
