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
#define CONDUIT_SCHEMA_VERSION 2

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

#endif
