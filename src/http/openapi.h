/*
 * openapi.h - the OpenAPI 3.1 description of an application, generated
 * from its route tables (STYLE.md rule 2): one operation per route row,
 * its parameters from the row's collection schema (route_t.query and
 * .select), its request body from the row's validation schema
 * (route_t.body, as JSON Schema 2020-12), its responses from the row
 * (auth, permission, rate class, idempotency, route_t.answers) and the
 * resource schemas from the collections' field tables (coll_field_t.schema).
 * Nothing is written by hand a second time, so nothing can drift.
 *
 * Conventions it relies on (API.md 1): a path parameter named "id" is a
 * public id, a UUID; /v<N>/ paths answer in the data envelope.
 */
#ifndef KEEL_HTTP_OPENAPI_H
#define KEEL_HTTP_OPENAPI_H

#include "http/app.h"
#include "http/route.h"

#include <json-c/json.h>
#include <stddef.h>

/* The document of `app`: a new object the caller puts (json_object_put).
 * Does not block. */
json_object *openapi_build(const keel_app_t *app);

/*
 * The document of `app` as JSON text, built on first use and kept for the
 * life of the process (thread-safe; never freed, never to be freed).
 * *len gets its length when len is not NULL.
 */
const char *openapi_text(const keel_app_t *app, size_t *len);

/* A route handler: 200 with the document of the server's application. */
keel_rc openapi_get(keel_ctx_t *ctx);

#endif
