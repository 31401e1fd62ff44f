/* test_openapi.c - the OpenAPI document generated from keel's real route
 * table says what the rows say. */
#include "keel-build.h"

#include "unit.h"
#include "api/routes.h"
#include "http/openapi.h"

#include <stdarg.h>
#include <string.h>

static json_object *doc;

/* doc["paths"][path][method] (NULL when absent). */
static json_object *
op(const char *path, const char *method)
{
    json_object *paths, *p, *o;

    if (!json_object_object_get_ex(doc, "paths", &paths) ||
        !json_object_object_get_ex(paths, path, &p) ||
        !json_object_object_get_ex(p, method, &o))
        return NULL;
    return o;
}

/* A member by a path of keys ("a", "b", NULL). */
static json_object *
at(json_object *o, ...)
{
    va_list ap;
    const char *k;

    va_start(ap, o);
    while (o != NULL && (k = va_arg(ap, const char *)) != NULL)
        if (!json_object_object_get_ex(o, k, &o))
            o = NULL;
    va_end(ap);
    return o;
}

/* The parameter `name` of an operation. */
static json_object *
param(json_object *o, const char *name)
{
    json_object *ps = at(o, "parameters", NULL);

    for (size_t i = 0; ps && i < json_object_array_length(ps); i++) {
        json_object *p = json_object_array_get_idx(ps, i);
        if (strcmp(json_object_get_string(at(p, "name", NULL)), name) == 0)
            return p;
    }
    return NULL;
}

static int
array_has(json_object *a, const char *s)
{
    for (size_t i = 0; a && i < json_object_array_length(a); i++)
        if (strcmp(json_object_get_string(json_object_array_get_idx(a, i)),
                   s) == 0)
            return 1;
    return 0;
}

static void
test_document_is_openapi_3_1_with_app_name_and_bearer_scheme(void)
{
    CU_ASSERT_STRING_EQUAL(json_object_get_string(at(doc, "openapi", NULL)),
                           "3.1.0");
    CU_ASSERT_STRING_EQUAL(
        json_object_get_string(at(doc, "info", "title", NULL)), "keeld");
    CU_ASSERT_STRING_EQUAL(
        json_object_get_string(at(doc, "info", "version", NULL)),
        PACKAGE_VERSION);
    CU_ASSERT_STRING_EQUAL(
        json_object_get_string(at(doc, "components", "securitySchemes",
                                  "bearerAuth", "scheme", NULL)),
        "bearer");
}

static void
test_every_route_row_is_an_operation(void)
{
    static const char *const m[] = { "get",   "head",   "post",   "put",
                                     "patch", "delete", "options" };
    const keel_app_t *app = &keel_api_app;
    size_t rows = 0, ops = 0;
    json_object *paths = at(doc, "paths", NULL);

    for (size_t t = 0; t < app->ntables; t++) {
        for (size_t i = 0; i < app->tables[t].nroutes; i++) {
            const route_t *r = &app->tables[t].routes[i];
            json_object *o = op(r->pattern, m[r->method]);
            rows++;
            CU_ASSERT_PTR_NOT_NULL_FATAL(o);
            CU_ASSERT_STRING_EQUAL(
                json_object_get_string(at(o, "summary", NULL)), r->summary);
            CU_ASSERT_PTR_NOT_NULL(at(o, "responses", "500", NULL));
        }
    }
    json_object_object_foreach(paths, k, v)
    {
        (void)k;
        ops += (size_t)json_object_object_length(v);
    }
    CU_ASSERT_EQUAL(ops, rows);
    CU_ASSERT_PTR_NOT_NULL(op("/v1/openapi.json", "get"));
}

static void
test_collection_parameters_carry_the_sort_enum_and_filters(void)
{
    json_object *o = op("/v1/posts", "get");
    json_object *sort = param(o, "sort");
    json_object *e = at(sort, "schema", "items", "enum", NULL);

    CU_ASSERT_PTR_NOT_NULL_FATAL(sort);
    CU_ASSERT_TRUE(array_has(e, "created_at"));
    CU_ASSERT_TRUE(array_has(e, "-published_at"));
    CU_ASSERT_TRUE(array_has(e, "title"));
    CU_ASSERT_FALSE(array_has(e, "body"));
    CU_ASSERT_EQUAL(
        json_object_get_int(at(param(o, "limit"), "schema", "maximum", NULL)),
        100);
    CU_ASSERT_TRUE(
        array_has(at(param(o, "status"), "schema", "enum", NULL), "published"));
    /* tag is repeatable: an exploded array. */
    CU_ASSERT_STRING_EQUAL(
        json_object_get_string(at(param(o, "tag"), "schema", "type", NULL)),
        "array");
    CU_ASSERT_PTR_NOT_NULL(param(o, "cursor"));
    CU_ASSERT_PTR_NOT_NULL(param(o, "page"));
    CU_ASSERT_TRUE(array_has(
        at(param(o, "fields"), "schema", "items", "enum", NULL), "title"));
    /* Audit events page by cursor only. */
    CU_ASSERT_PTR_NULL(param(op("/v1/audit-events", "get"), "page"));
}

static void
test_body_schema_maps_required_lengths_and_enums(void)
{
    json_object *s = at(op("/v1/posts", "post"), "requestBody", "content",
                        "application/json", "schema", NULL);
    json_object *vis = at(s, "properties", "visibility", NULL);

    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_TRUE(array_has(at(s, "required", NULL), "title"));
    CU_ASSERT_FALSE(
        json_object_get_boolean(at(s, "additionalProperties", NULL)));
    CU_ASSERT_TRUE(array_has(at(vis, "enum", NULL), "private"));
    s = at(op("/v1/auth/register", "post"), "requestBody", "content",
           "application/json", "schema", NULL);
    CU_ASSERT_EQUAL(
        json_object_get_int(at(s, "properties", "email", "maxLength", NULL)),
        254);
    CU_ASSERT_STRING_EQUAL(
        json_object_get_string(at(s, "properties", "email", "format", NULL)),
        "email");
    /* PATCH: {} is refused. */
    CU_ASSERT_EQUAL(json_object_get_int(at(
                        op("/v1/posts/{id}", "patch"), "requestBody", "content",
                        "application/json", "schema", "minProperties", NULL)),
                    1);
}

static void
test_bearer_route_has_security_and_401(void)
{
    json_object *o = op("/v1/auth/me", "get");
    json_object *sec = at(o, "security", NULL);

    CU_ASSERT_EQUAL_FATAL(json_object_array_length(sec), 1);
    CU_ASSERT_PTR_NOT_NULL(
        at(json_object_array_get_idx(sec, 0), "bearerAuth", NULL));
    CU_ASSERT_PTR_NOT_NULL(at(o, "responses", "401", NULL));
    /* Optional: anonymous or bearer. */
    CU_ASSERT_EQUAL(
        json_object_array_length(at(op("/v1/posts", "get"), "security", NULL)),
        2);
    /* Public: no security, no 401. */
    o = op("/health", "get");
    CU_ASSERT_EQUAL(json_object_array_length(at(o, "security", NULL)), 0);
    CU_ASSERT_PTR_NULL(at(o, "responses", "401", NULL));
    CU_ASSERT_PTR_NULL(at(o, "responses", "429", NULL));
}

static void
test_idempotent_route_has_idempotency_key_and_422(void)
{
    json_object *o = op("/v1/orders", "post");
    json_object *p = param(o, "Idempotency-Key");

    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_STRING_EQUAL(json_object_get_string(at(p, "in", NULL)), "header");
    CU_ASSERT_PTR_NOT_NULL(at(o, "responses", "422", NULL));
    CU_ASSERT_PTR_NOT_NULL(
        at(o, "responses", "201", "headers", "Idempotent-Replayed", NULL));
    CU_ASSERT_PTR_NULL(at(op("/v1/posts", "post"), "responses", "422", NULL));
}

static void
test_metrics_answers_text_and_is_not_rate_limited(void)
{
    json_object *o = op("/metrics", "get");

    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    CU_ASSERT_STRING_EQUAL(
        json_object_get_string(at(o, "responses", "200", "content",
                                  "text/plain", "schema", "type", NULL)),
        "string");
    CU_ASSERT_PTR_NULL(
        at(o, "responses", "200", "content", "application/json", NULL));
    CU_ASSERT_PTR_NOT_NULL(at(o, "responses", "404", NULL));
    CU_ASSERT_PTR_NULL(at(o, "responses", "429", NULL));
}

static void
test_conditional_routes_have_etag_headers_and_412_304(void)
{
    CU_ASSERT_PTR_NOT_NULL(param(op("/v1/posts/{id}", "put"), "If-Match"));
    CU_ASSERT_PTR_NOT_NULL(
        at(op("/v1/posts/{id}", "put"), "responses", "412", NULL));
    CU_ASSERT_PTR_NOT_NULL(param(op("/v1/posts/{id}", "get"), "If-None-Match"));
    CU_ASSERT_PTR_NOT_NULL(
        at(op("/v1/posts/{id}", "get"), "responses", "304", NULL));
}

static void
test_resource_schemas_come_from_the_field_tables(void)
{
    json_object *posts = at(doc, "components", "schemas", "posts", NULL);

    CU_ASSERT_STRING_EQUAL(
        json_object_get_string(at(posts, "properties", "id", "format", NULL)),
        "uuid");
    CU_ASSERT_PTR_NOT_NULL(at(posts, "properties", "published_at", NULL));
    /* No schema text in any table failed to parse. */
    CU_ASSERT_PTR_NULL(
        strstr(json_object_to_json_string(doc), "invalid schema text"));
}

static void
test_text_is_cached_and_parses(void)
{
    size_t n1, n2;
    const char *a = openapi_text(&keel_api_app, &n1);
    const char *b = openapi_text(&keel_api_app, &n2);
    json_object *o = json_tokener_parse(a);

    CU_ASSERT_PTR_EQUAL(a, b);
    CU_ASSERT_EQUAL(n1, strlen(a));
    CU_ASSERT_PTR_NOT_NULL(o);
    json_object_put(o);
}

static const unit_test_t tests[] = {
    { "/metrics answers text and is not rate limited",
      test_metrics_answers_text_and_is_not_rate_limited },
    { "document is OpenAPI 3.1 with the app's name and a bearer scheme",
      test_document_is_openapi_3_1_with_app_name_and_bearer_scheme },
    { "every route row is an operation", test_every_route_row_is_an_operation },
    { "collection parameters carry the sort enum and the filters",
      test_collection_parameters_carry_the_sort_enum_and_filters },
    { "body schema maps required, lengths and enums",
      test_body_schema_maps_required_lengths_and_enums },
    { "bearer route has security and 401",
      test_bearer_route_has_security_and_401 },
    { "idempotent route has Idempotency-Key and 422",
      test_idempotent_route_has_idempotency_key_and_422 },
    { "conditional routes have If-Match/412 and If-None-Match/304",
      test_conditional_routes_have_etag_headers_and_412_304 },
    { "resource schemas come from the field tables",
      test_resource_schemas_come_from_the_field_tables },
    { "the served text is cached and parses", test_text_is_cached_and_parses },
};

int
main(void)
{
    int rc;

    doc = openapi_build(&keel_api_app);
    rc = unit_run("openapi", UNIT_TESTS(tests));
    json_object_put(doc);
    return rc;
}
