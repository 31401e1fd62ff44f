/* openapi.c - the OpenAPI 3.1 document of an application's route tables. */
#include "keel-build.h"

#include "http/openapi.h"
#include "core/error.h"
#include "core/util.h"
#include "core/validate.h"
#include "http/collection.h"
#include "http/ctx.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REF_ERROR     "#/components/schemas/Error"
#define REF_SCHEMAS   "#/components/schemas/"
#define REF_HEADERS   "#/components/headers/"
#define SCHEMA_BEARER "bearerAuth"

/* ---- small builders ------------------------------------------------------ */

static json_object *
str(const char *s)
{
    return json_object_new_string(s);
}

static void
put(json_object *o, const char *key, json_object *v)
{
    json_object_object_add(o, key, v);
}

static json_object *
ref(const char *prefix, const char *name)
{
    json_object *o = json_object_new_object();
    char buf[256];

    snprintf(buf, sizeof(buf), "%s%s", prefix, name);
    put(o, "$ref", str(buf));
    return o;
}

/* A member of `o`, created as an object when missing. */
static json_object *
member(json_object *o, const char *key)
{
    json_object *v;

    if (!json_object_object_get_ex(o, key, &v)) {
        v = json_object_new_object();
        put(o, key, v);
    }
    return v;
}

static json_object *
typed(const char *type)
{
    json_object *o = json_object_new_object();

    put(o, "type", str(type));
    return o;
}

/* A schema written in a table as JSON text; a text that does not parse
 * is a bug in the table, shown in the document (and by test_openapi). */
static json_object *
parse_schema(const char *text)
{
    json_object *o = json_tokener_parse(text);

    if (o == NULL) {
        o = json_object_new_object();
        put(o, "description", str("(invalid schema text in the route table)"));
    }
    return o;
}

/* ---- request bodies: schema_t as JSON Schema 2020-12 --------------------- */

static json_object *body_schema(const schema_t *s);

/* "a-z0-9-" (validate.c's class) as an ECMA-262 character class. */
static json_object *
charset_pattern(const char *set)
{
    char buf[256];
    size_t o = 0;

    o += (size_t)snprintf(buf, sizeof(buf), "^[");
    for (const char *p = set; *p && o + 4 < sizeof(buf); p++) {
        if (*p == '\\' || *p == ']' || *p == '[' || (*p == '^' && p == set))
            buf[o++] = '\\';
        buf[o++] = *p;
    }
    snprintf(buf + o, sizeof(buf) - o, "]*$");
    return str(buf);
}

static const char *
type_name(enum schema_type t)
{
    switch (t) {
    case SCHEMA_STRING:
        return "string";
    case SCHEMA_INTEGER:
        return "integer";
    case SCHEMA_NUMBER:
        return "number";
    case SCHEMA_BOOLEAN:
        return "boolean";
    case SCHEMA_OBJECT:
        return "object";
    case SCHEMA_ARRAY:
        return "array";
    }
    return "null";
}

static json_object *
prop_schema(const schema_prop_t *p)
{
    json_object *o = json_object_new_object();
    const char *t = type_name(p->type);

    if (p->flags & SCHEMA_NULLABLE) {
        json_object *a = json_object_new_array();
        json_object_array_add(a, str(t));
        json_object_array_add(a, str("null"));
        put(o, "type", a);
    } else {
        put(o, "type", str(t));
    }
    switch (p->type) {
    case SCHEMA_STRING:
        if (p->bounded) {
            /* A trimmed length leaves outer blanks out: the text itself
             * has at least `min` characters, but may have more than `max`. */
            put(o, "minLength", json_object_new_int64(p->min));
            if (!(p->flags & SCHEMA_TRIM))
                put(o, "maxLength", json_object_new_int64(p->max));
        }
        if (p->flags & SCHEMA_TRIM) {
            char d[160];
            if (p->bounded)
                snprintf(d, sizeof(d),
                         "%lld to %lld characters, not counting leading and "
                         "trailing blanks",
                         p->min, p->max);
            else
                snprintf(d, sizeof(d),
                         "Leading and trailing blanks are not "
                         "counted");
            put(o, "description", str(d));
        }
        switch (p->format) {
        case FORMAT_EMAIL:
            put(o, "format", str("email"));
            break;
        case FORMAT_UUID:
            put(o, "format", str("uuid"));
            break;
        case FORMAT_TIMESTAMP:
            put(o, "format", str("date-time"));
            break;
        case FORMAT_NONE:
            break;
        }
        if (p->charset != NULL)
            put(o, "pattern", charset_pattern(p->charset));
        if (p->enums != NULL) {
            json_object *e = json_object_new_array();
            for (const char *const *v = p->enums; *v; v++)
                json_object_array_add(e, str(*v));
            if (p->flags & SCHEMA_NULLABLE)
                json_object_array_add(e, NULL);
            put(o, "enum", e);
        }
        break;
    case SCHEMA_INTEGER:
    case SCHEMA_NUMBER:
        if (p->bounded) {
            put(o, "minimum", json_object_new_int64(p->min));
            put(o, "maximum", json_object_new_int64(p->max));
        }
        break;
    case SCHEMA_ARRAY:
        if (p->bounded) {
            put(o, "minItems", json_object_new_int64(p->min));
            put(o, "maxItems", json_object_new_int64(p->max));
        }
        if (p->items != NULL)
            put(o, "items", prop_schema(p->items));
        if (p->flags & SCHEMA_UNIQUE) {
            put(o, "uniqueItems", json_object_new_boolean(1));
            if (p->unique_by != NULL) {
                char d[160];
                snprintf(d, sizeof(d), "No two items may have the same `%s`.",
                         p->unique_by);
                put(o, "description", str(d));
            }
        }
        break;
    case SCHEMA_OBJECT:
        if (p->object != NULL) {
            json_object *sub = body_schema(p->object);
            json_object_object_foreach(sub, k, v)
            {
                if (strcmp(k, "type") != 0)
                    put(o, k, json_object_get(v));
            }
            json_object_put(sub);
        }
        break;
    case SCHEMA_BOOLEAN:
        break;
    }
    return o;
}

/* An object's members; unknown members are refused (validate.h). */
static json_object *
body_schema(const schema_t *s)
{
    json_object *o = typed("object"), *props = json_object_new_object();
    json_object *req = json_object_new_array();

    for (size_t i = 0; i < s->nprops; i++) {
        put(props, s->props[i].name, prop_schema(&s->props[i]));
        if (s->props[i].flags & SCHEMA_REQUIRED)
            json_object_array_add(req, str(s->props[i].name));
    }
    put(o, "properties", props);
    if (json_object_array_length(req) > 0)
        put(o, "required", req);
    else
        json_object_put(req);
    if (s->min_members > 0)
        put(o, "minProperties",
            json_object_new_int64((long long)s->min_members));
    put(o, "additionalProperties", json_object_new_boolean(0));
    return o;
}

/* ---- collections --------------------------------------------------------- */

/* A resource's representation: every member optional but `id` (?fields=
 * selects members); members may be added in later versions. */
static json_object *
resource_schema(const coll_schema_t *s)
{
    json_object *o = typed("object"), *props = json_object_new_object();
    json_object *req = json_object_new_array();

    for (size_t i = 0; i < s->nfields; i++)
        put(props, s->fields[i].name,
            s->fields[i].schema ? parse_schema(s->fields[i].schema)
                                : json_object_new_object());
    if (s->nfields > 0)
        json_object_array_add(req, str(s->fields[0].name));
    put(o, "required", req);
    put(o, "properties", props);
    return o;
}

static json_object *
names(const char *const *v)
{
    json_object *a = json_object_new_array();

    for (; v && *v; v++)
        json_object_array_add(a, str(*v));
    return a;
}

static json_object *
param(const char *in, const char *name, int required, const char *desc,
      json_object *schema)
{
    json_object *p = json_object_new_object();

    put(p, "name", str(name));
    put(p, "in", str(in));
    if (required)
        put(p, "required", json_object_new_boolean(1));
    if (desc)
        put(p, "description", str(desc));
    put(p, "schema", schema);
    return p;
}

/* A comma-separated list of `values` (style form, not exploded). */
static json_object *
list_param(const char *name, const char *desc, json_object *values,
           size_t max_items, const char *dflt)
{
    json_object *s = typed("array"), *items = typed("string"), *p;

    put(items, "enum", values);
    put(s, "items", items);
    put(s, "minItems", json_object_new_int(1));
    put(s, "maxItems", json_object_new_int64((long long)max_items));
    if (dflt != NULL) {
        json_object *d = json_object_new_array();
        json_object_array_add(d, str(dflt));
        put(s, "default", d);
    }
    p = param("query", name, 0, desc, s);
    put(p, "style", str("form"));
    put(p, "explode", json_object_new_boolean(0));
    return p;
}

static json_object *
fields_param(const coll_schema_t *s)
{
    json_object *v = json_object_new_array();

    for (size_t i = 0; i < s->nfields; i++)
        json_object_array_add(v, str(s->fields[i].name));
    return list_param("fields",
                      "The members to return, comma-separated (`id` always "
                      "is); unknown names are 400.",
                      v, COLL_MAX_FIELDS, NULL);
}

static json_object *
filter_schema(const coll_filter_t *f)
{
    json_object *s = NULL;

    switch (f->type) {
    case COLL_TEXT:
        s = typed("string");
        put(s, "minLength", json_object_new_int(1));
        put(s, "maxLength",
            json_object_new_int(f->max_len > 0 ? f->max_len : 256));
        break;
    case COLL_UUID:
        s = typed("string");
        put(s, "format", str("uuid"));
        break;
    case COLL_ENUM:
        s = typed("string");
        put(s, "enum", names(f->values));
        break;
    case COLL_TIMESTAMP:
        s = typed("string");
        put(s, "format", str("date-time"));
        break;
    case COLL_INT:
        s = typed("integer");
        put(s, "minimum", json_object_new_int64(f->min));
        put(s, "maximum", json_object_new_int64(f->max));
        break;
    case COLL_BOOL:
        s = typed("boolean");
        break;
    }
    if (s == NULL)
        s = json_object_new_object();
    return s;
}

static void
collection_params(json_object *params, const coll_schema_t *s)
{
    json_object *lim = typed("integer"), *sorts = json_object_new_array();
    char d[256];

    put(lim, "minimum", json_object_new_int(1));
    put(lim, "maximum", json_object_new_int(COLL_LIMIT_MAX));
    put(lim, "default", json_object_new_int(COLL_LIMIT_DEFAULT));
    json_object_array_add(params,
                          param("query", "limit", 0, "Items per page.", lim));
    if (s->modes & COLL_OFFSET) {
        json_object *pg = typed("integer"), *cnt = typed("string");
        put(pg, "minimum", json_object_new_int(1));
        put(pg, "default", json_object_new_int(1));
        snprintf(d, sizeof(d),
                 "Offset pagination: the page number; pages reach at most %d "
                 "rows deep (page by cursor beyond).  Not with `cursor`.",
                 COLL_OFFSET_MAX);
        json_object_array_add(params, param("query", "page", 0, d, pg));
        put(cnt, "enum",
            names((const char *const[]){ "exact", "estimated", NULL }));
        put(cnt, "default", str("exact"));
        json_object_array_add(
            params,
            param("query", "count", 0,
                  "Offset pagination: `estimated` gives the planner's "
                  "estimate as `meta.total` (with `meta.total_is_estimate`).",
                  cnt));
    }
    if (s->modes & COLL_CURSOR) {
        json_object *c = typed("string");
        put(c, "maxLength", json_object_new_int(COLL_CURSOR_MAX));
        json_object_array_add(
            params,
            param("query", "cursor", 0,
                  (s->modes & COLL_OFFSET)
                      ? "Cursor pagination: `meta.next_cursor` of the previous "
                        "page (empty: the first page).  Not with `page`."
                      : "`meta.next_cursor` of the previous page (empty or "
                        "absent: the first page).",
                  c));
    }
    for (size_t i = 0; i < s->nsorts; i++) {
        char buf[96];
        json_object_array_add(sorts, str(s->sorts[i].name));
        snprintf(buf, sizeof(buf), "-%s", s->sorts[i].name);
        json_object_array_add(sorts, str(buf));
        snprintf(buf, sizeof(buf), "+%s", s->sorts[i].name);
        json_object_array_add(sorts, str(buf));
    }
    json_object_array_add(
        params,
        list_param("sort",
                   "Sort keys, comma-separated, `-` for descending "
                   "(`+` or none for ascending); ties are broken by id.",
                   sorts, COLL_MAX_SORT, s->default_sort));
    json_object_array_add(params, fields_param(s));
    for (size_t i = 0; i < s->nfilters; i++) {
        const coll_filter_t *f = &s->filters[i];
        json_object *sc = filter_schema(f), *p;
        if (f->repeatable) {
            json_object *a = typed("array");
            put(a, "items", sc);
            sc = a;
        }
        if (f->summary != NULL)
            snprintf(d, sizeof(d), "%s%s.", f->summary,
                     f->repeatable ? "; repeatable: every value given must "
                                     "match"
                                   : "");
        else
            snprintf(d, sizeof(d), "Filter by `%s`%s.", f->name,
                     f->repeatable
                         ? "; repeatable: every value given must match"
                         : "");
        p = param("query", f->name, 0, d, sc);
        if (f->repeatable) {
            put(p, "style", str("form"));
            put(p, "explode", json_object_new_boolean(1));
        }
        json_object_array_add(params, p);
    }
}

/* ---- responses ----------------------------------------------------------- */

static void
header_ref(json_object *headers, const char *name)
{
    put(headers, name, ref(REF_HEADERS, name));
}

static void
common_headers(json_object *h, const route_t *r)
{
    header_ref(h, "X-Request-Id");
    if (r->rate != RATE_NONE) {
        header_ref(h, "X-RateLimit-Limit");
        header_ref(h, "X-RateLimit-Remaining");
        header_ref(h, "X-RateLimit-Reset");
        header_ref(h, "RateLimit");
        header_ref(h, "RateLimit-Policy");
    }
}

static json_object *
json_content(json_object *schema)
{
    json_object *c = json_object_new_object(), *mt = json_object_new_object();

    put(mt, "schema", schema);
    put(c, "application/json", mt);
    return c;
}

static void
error_response(json_object *responses, const route_t *r, int status)
{
    json_object *resp = json_object_new_object(), *h = json_object_new_object();
    char code[8], desc[256] = "";
    size_t o = 0;

    /* The codes of that status, from the one error table. */
    for (int rc = 1; rc < KEEL_RC__MAX; rc++) {
        const keel_error_info_t *e = keel_error_info((keel_rc)rc);
        if (e->status != status || strstr(desc, e->code) != NULL)
            continue;
        o += (size_t)snprintf(desc + o, sizeof(desc) - o, "%s`%s`",
                              o ? ", " : "", e->code);
        if (o >= sizeof(desc))
            break;
    }
    if (desc[0] == '\0')
        snprintf(desc, sizeof(desc), "%s", http_reason(status));
    put(resp, "description", str(desc));
    common_headers(h, r);
    if (status == 429 || status == 503)
        header_ref(h, "Retry-After");
    if (status == 401)
        header_ref(h, "WWW-Authenticate");
    put(resp, "headers", h);
    put(resp, "content", json_content(ref(REF_SCHEMAS, "Error")));
    snprintf(code, sizeof(code), "%d", status);
    put(responses, code, resp);
}

static int
has_params(const route_t *r)
{
    return strchr(r->pattern, '{') != NULL;
}

static int
versioned(const char *pattern)
{
    return pattern[0] == '/' && pattern[1] == 'v' && pattern[2] >= '0' &&
           pattern[2] <= '9';
}

/* The success body of a route, or NULL when it has none described. */
static json_object *
success_schema(const route_t *r)
{
    json_object *o, *props;
    const char *key;

    if (r->response != NULL)
        return parse_schema(r->response);
    if (r->query == NULL && r->select == NULL)
        return NULL;
    /* A page of a collection is {"data", "meta"}; one resource is wrapped
     * in the route's envelope member. */
    key = r->query == NULL && r->envelope != NULL ? r->envelope : "data";
    o = typed("object");
    props = json_object_new_object();
    put(o, "required", json_object_new_array());
    json_object_array_add(json_object_object_get(o, "required"), str(key));
    if (r->query != NULL) {
        json_object *arr = typed("array"), *meta;
        put(arr, "items", ref(REF_SCHEMAS, r->query->resource));
        put(props, "data", arr);
        if ((r->query->modes & (COLL_OFFSET | COLL_CURSOR)) ==
            (COLL_OFFSET | COLL_CURSOR)) {
            json_object *one = json_object_new_array();
            meta = json_object_new_object();
            json_object_array_add(one, ref(REF_SCHEMAS, "OffsetPageMeta"));
            json_object_array_add(one, ref(REF_SCHEMAS, "CursorPageMeta"));
            put(meta, "oneOf", one);
        } else {
            meta = ref(REF_SCHEMAS, (r->query->modes & COLL_OFFSET)
                                        ? "OffsetPageMeta"
                                        : "CursorPageMeta");
        }
        put(props, "meta", meta);
        json_object_array_add(json_object_object_get(o, "required"),
                              str("meta"));
    } else {
        put(props, key, ref(REF_SCHEMAS, r->select->resource));
    }
    put(o, "properties", props);
    put(o, "additionalProperties", json_object_new_boolean(0));
    return o;
}

static void
success_response(json_object *responses, const route_t *r, int status)
{
    json_object *resp = json_object_new_object(), *h = json_object_new_object();
    json_object *schema;
    char code[8];

    put(resp, "description",
        str(status == 201   ? "Created"
            : status == 204 ? "Done; no body"
            : status == 304 ? "Not modified (`If-None-Match` matched)"
                            : "OK"));
    common_headers(h, r);
    if ((r->answers & ANSWER_ETAG) && status != 204)
        header_ref(h, "ETag");
    if (status == 201)
        header_ref(h, "Location");
    if (r->idempotent && status != 304)
        header_ref(h, "Idempotent-Replayed");
    if (r->query != NULL && status == 200)
        header_ref(h, "Link");
    put(resp, "headers", h);
    if (status != 204 && status != 304 && (r->answers & ANSWER_TEXT)) {
        json_object *c = json_object_new_object(),
                    *mt = json_object_new_object();
        put(mt, "schema", typed("string"));
        put(c, "text/plain", mt);
        put(resp, "content", c);
    } else if (status != 204 && status != 304) {
        schema = success_schema(r);
        put(resp, "content",
            json_content(schema ? schema : json_object_new_object()));
    }
    snprintf(code, sizeof(code), "%d", status);
    put(responses, code, resp);
}

static json_object *
responses_of(const route_t *r)
{
    json_object *res = json_object_new_object();
    unsigned a = r->answers;
    int writes = r->method == HTTP_POST || r->method == HTTP_PUT ||
                 r->method == HTTP_PATCH;
    int guarded = r->permission != NULL || r->access != NULL;

    if (!(a & (ANSWER_OK | ANSWER_CREATED | ANSWER_EMPTY)))
        a |= r->method == HTTP_DELETE ? ANSWER_EMPTY : ANSWER_OK;
    if (a & ANSWER_OK)
        success_response(res, r, 200);
    if (a & ANSWER_CREATED)
        success_response(res, r, 201);
    if (a & ANSWER_EMPTY)
        success_response(res, r, 204);
    if ((a & ANSWER_ETAG) && r->method == HTTP_GET)
        success_response(res, r, 304);
    error_response(res, r, 400);
    if (r->auth != AUTH_NONE || guarded || (a & ANSWER_UNAUTHORIZED))
        error_response(res, r, 401);
    if (guarded || (a & ANSWER_FORBIDDEN))
        error_response(res, r, 403);
    if (has_params(r) || r->access != NULL || (a & ANSWER_NOT_FOUND))
        error_response(res, r, 404);
    if ((a & ANSWER_CONFLICT) || r->idempotent)
        error_response(res, r, 409);
    if (a & ANSWER_IF_MATCH)
        error_response(res, r, 412);
    if (r->body != NULL || writes) {
        error_response(res, r, 413);
        error_response(res, r, 415);
    }
    /* Limits of the request itself, checked before any route. */
    error_response(res, r, 414);
    if (r->idempotent)
        error_response(res, r, 422);
    if (r->rate != RATE_NONE)
        error_response(res, r, 429);
    error_response(res, r, 431);
    error_response(res, r, 500);
    error_response(res, r, 503);
    return res;
}

/* ---- operations ---------------------------------------------------------- */

static const char *
method_key(enum http_method m)
{
    switch (m) {
    case HTTP_GET:
        return "get";
    case HTTP_HEAD:
        return "head";
    case HTTP_POST:
        return "post";
    case HTTP_PUT:
        return "put";
    case HTTP_PATCH:
        return "patch";
    case HTTP_DELETE:
        return "delete";
    case HTTP_OPTIONS:
        return "options";
    default:
        return NULL;
    }
}

/* "get /v1/posts/{id}" -> "get_v1_posts_by_id": unique per row, stable. */
static void
operation_id(const route_t *r, char *buf, size_t len)
{
    size_t o = (size_t)snprintf(buf, len, "%s", method_key(r->method));

    for (const char *p = r->pattern; *p && o + 4 < len; p++) {
        if (*p == '/') {
            buf[o++] = '_';
            if (p[1] == '{') {
                o += (size_t)snprintf(buf + o, len - o, "by_");
                if (o >= len)
                    break;
                p++;
            }
        } else if (*p == '}') {
            continue;
        } else if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                   (*p >= '0' && *p <= '9')) {
            buf[o++] = *p;
        } else {
            buf[o++] = '_';
        }
    }
    buf[o < len ? o : len - 1] = '\0';
}

/* The tag of a path: its first segment after /v<N>. */
static void
tag_of(const char *pattern, char *buf, size_t len)
{
    const char *p = pattern + 1;
    size_t n;

    if (versioned(pattern) && strchr(p, '/') != NULL)
        p = strchr(p, '/') + 1;
    n = strcspn(p, "/");
    if (n == 0 || n >= len)
        n = 0;
    memcpy(buf, p, n);
    buf[n] = '\0';
    if (n == 0)
        snprintf(buf, len, "root");
}

static void
path_params(json_object *params, const char *pattern)
{
    for (const char *p = strchr(pattern, '{'); p; p = strchr(p + 1, '{')) {
        const char *e = strchr(p, '}');
        char name[64];
        json_object *s = typed("string");
        if (e == NULL || (size_t)(e - p - 1) >= sizeof(name))
            break;
        memcpy(name, p + 1, (size_t)(e - p - 1));
        name[e - p - 1] = '\0';
        if (strcmp(name, "id") == 0)
            put(s, "format", str("uuid"));
        json_object_array_add(params,
                              param("path", name, 1,
                                    strcmp(name, "id") == 0
                                        ? "A public id (a malformed one is 404)"
                                        : NULL,
                                    s));
    }
}

static json_object *
operation(const route_t *r, json_object *tags_seen, json_object *tags)
{
    json_object *op = json_object_new_object();
    json_object *params = json_object_new_array(), *t = json_object_new_array();
    char buf[256];

    operation_id(r, buf, sizeof(buf));
    put(op, "operationId", str(buf));
    put(op, "summary", str(r->summary ? r->summary : buf));
    if (r->permission != NULL) {
        snprintf(buf, sizeof(buf), "Permission: `%s`%s.", r->permission,
                 r->access ? " (or the resource's ownership rule)" : "");
        put(op, "description", str(buf));
    }
    tag_of(r->pattern, buf, sizeof(buf));
    json_object_array_add(t, str(buf));
    put(op, "tags", t);
    if (!json_object_object_get_ex(tags_seen, buf, NULL)) {
        json_object *tag = json_object_new_object();
        char d[300];
        put(tag, "name", str(buf));
        /* "/v1/auth/login" -> "/v1/auth": the tag's path prefix. */
        size_t n = strlen(r->pattern), k = 0;
        for (size_t j = 1, seg = 0; j <= n; j++)
            if (r->pattern[j] == '/' || r->pattern[j] == '\0')
                if (++seg == (versioned(r->pattern) ? 2u : 1u)) {
                    k = j;
                    break;
                }
        snprintf(d, sizeof(d), "Operations under `%.*s`",
                 (int)(k         ? k
                       : n > 200 ? 200
                                 : n),
                 r->pattern);
        put(tag, "description", str(d));
        json_object_array_add(tags, tag);
        put(tags_seen, buf, json_object_new_boolean(1));
    }
    if (r->auth == AUTH_BEARER || r->auth == AUTH_OPTIONAL) {
        json_object *sec = json_object_new_array(), *b;
        if (r->auth == AUTH_OPTIONAL)
            json_object_array_add(sec, json_object_new_object());
        b = json_object_new_object();
        put(b, SCHEMA_BEARER, json_object_new_array());
        json_object_array_add(sec, b);
        put(op, "security", sec);
    } else {
        put(op, "security", json_object_new_array());
    }
    path_params(params, r->pattern);
    if (r->query != NULL)
        collection_params(params, r->query);
    else if (r->select != NULL)
        json_object_array_add(params, fields_param(r->select));
    if (r->idempotent) {
        json_object *s = typed("string");
        put(s, "minLength", json_object_new_int(1));
        put(s, "maxLength", json_object_new_int(255));
        put(s, "pattern", str("^[ -~]+$"));
        json_object_array_add(
            params, param("header", "Idempotency-Key", 0,
                          "Replays the first answer for 24 hours to the same "
                          "request with this key (API.md 1.6).",
                          s));
    }
    if (r->answers & ANSWER_IF_MATCH)
        json_object_array_add(
            params, param("header", "If-Match", 0,
                          "Change only if the ETag is current (else 412).",
                          typed("string")));
    if ((r->answers & ANSWER_ETAG) && r->method == HTTP_GET)
        json_object_array_add(params,
                              param("header", "If-None-Match", 0,
                                    "304 without a body when an ETag matches.",
                                    typed("string")));
    if (json_object_array_length(params) > 0)
        put(op, "parameters", params);
    else
        json_object_put(params);
    if (r->body != NULL) {
        json_object *rb = json_object_new_object();
        put(rb, "required", json_object_new_boolean(1));
        put(rb, "content", json_content(body_schema(r->body)));
        put(op, "requestBody", rb);
    }
    put(op, "responses", responses_of(r));
    return op;
}

/* ---- components ---------------------------------------------------------- */

static json_object *
header(const char *desc, const char *type)
{
    json_object *h = json_object_new_object();

    put(h, "description", str(desc));
    put(h, "schema", typed(type));
    return h;
}

static json_object *
error_schema(void)
{
    json_object *root = typed("object"), *props = json_object_new_object();
    json_object *err = typed("object"), *ep = json_object_new_object();
    json_object *codes = json_object_new_array(), *code = typed("string");
    json_object *det = typed("array"), *item = typed("object");
    json_object *ip = json_object_new_object(), *rid;

    for (int rc = 1; rc < KEEL_RC__MAX; rc++) {
        const char *c = keel_error_info((keel_rc)rc)->code;
        int dup = 0;
        for (size_t i = 0; i < json_object_array_length(codes); i++)
            if (strcmp(
                    json_object_get_string(json_object_array_get_idx(codes, i)),
                    c) == 0)
                dup = 1;
        if (!dup)
            json_object_array_add(codes, str(c));
    }
    put(code, "enum", codes);
    put(ep, "code", code);
    put(ep, "message", typed("string"));
    put(ip, "field", typed("string"));
    put(ip, "message", typed("string"));
    put(item, "properties", ip);
    put(item, "required",
        names((const char *const[]){ "field", "message", NULL }));
    put(item, "additionalProperties", json_object_new_boolean(0));
    put(det, "items", item);
    put(ep, "details", det);
    rid = json_object_new_object();
    put(rid, "type", names((const char *const[]){ "string", "null", NULL }));
    put(ep, "request_id", rid);
    put(err, "properties", ep);
    put(err, "required",
        names((const char *const[]){ "code", "message", "details", "request_id",
                                     NULL }));
    put(err, "additionalProperties", json_object_new_boolean(0));
    put(props, "error", err);
    put(root, "properties", props);
    put(root, "required", names((const char *const[]){ "error", NULL }));
    put(root, "additionalProperties", json_object_new_boolean(0));
    put(root, "description",
        str("The error envelope of every error (API.md "
            "1.2)."));
    return root;
}

static json_object *
page_meta(int offset)
{
    json_object *o = typed("object"), *p = json_object_new_object(), *v;

    v = typed("integer");
    put(v, "minimum", json_object_new_int(1));
    put(v, "maximum", json_object_new_int(COLL_LIMIT_MAX));
    put(p, "limit", v);
    put(p, "has_more", typed("boolean"));
    if (offset) {
        v = typed("integer");
        put(v, "minimum", json_object_new_int(1));
        put(p, "page", v);
        v = typed("integer");
        put(v, "minimum", json_object_new_int(0));
        put(p, "total", v);
        put(p, "total_is_estimate", typed("boolean"));
        put(o, "required",
            names((const char *const[]){ "page", "limit", "total", "has_more",
                                         NULL }));
    } else {
        v = json_object_new_object();
        put(v, "type", names((const char *const[]){ "string", "null", NULL }));
        put(v, "description", str("null on the last page"));
        put(p, "next_cursor", v);
        put(o, "required",
            names((const char *const[]){ "limit", "has_more", "next_cursor",
                                         NULL }));
    }
    put(o, "properties", p);
    put(o, "additionalProperties", json_object_new_boolean(0));
    return o;
}

static json_object *
components(const keel_app_t *app)
{
    json_object *c = json_object_new_object();
    json_object *schemas = json_object_new_object();
    json_object *headers = json_object_new_object();
    json_object *sec = json_object_new_object(), *bearer = typed("http");

    put(schemas, "Error", error_schema());
    put(schemas, "OffsetPageMeta", page_meta(1));
    put(schemas, "CursorPageMeta", page_meta(0));
    for (size_t t = 0; t < app->ntables; t++) {
        for (size_t i = 0; i < app->tables[t].nroutes; i++) {
            const route_t *r = &app->tables[t].routes[i];
            const coll_schema_t *s[2] = { r->query, r->select };
            for (int k = 0; k < 2; k++)
                if (s[k] != NULL &&
                    !json_object_object_get_ex(schemas, s[k]->resource, NULL))
                    put(schemas, s[k]->resource, resource_schema(s[k]));
        }
    }
    put(c, "schemas", schemas);

    put(headers, "X-Request-Id",
        header("The request's id (echoed when the client sent a valid one)",
               "string"));
    put(headers, "X-RateLimit-Limit",
        header("Requests allowed in the window of this route's class",
               "integer"));
    put(headers, "X-RateLimit-Remaining",
        header("Requests left in the window", "integer"));
    put(headers, "X-RateLimit-Reset",
        header("Unix time (seconds) when the window has refilled", "integer"));
    put(headers, "RateLimit",
        header("IETF RateLimit field: `\"<class>\";r=<remaining>;t=<seconds>`",
               "string"));
    put(headers, "RateLimit-Policy",
        header(
            "IETF RateLimit-Policy field: `\"<class>\";q=<limit>;w=<window>`",
            "string"));
    put(headers, "Retry-After", header("Seconds to wait", "integer"));
    put(headers, "ETag", header("W/\"<version>\" of the resource", "string"));
    put(headers, "Location", header("The created resource", "string"));
    put(headers, "Idempotent-Replayed",
        header("`true` when this answer is a replay (Idempotency-Key)",
               "string"));
    put(headers, "WWW-Authenticate",
        header("`Bearer`, with `error=\"invalid_token\"` when one was given",
               "string"));
    put(headers, "Link",
        header("RFC 8288 links: rel=\"next\" (and \"prev\", \"first\" in "
               "offset mode)",
               "string"));
    put(c, "headers", headers);

    put(bearer, "scheme", str("bearer"));
    put(bearer, "bearerFormat", str("JWT"));
    put(sec, SCHEMA_BEARER, bearer);
    put(c, "securitySchemes", sec);
    return c;
}

/* ---- the document -------------------------------------------------------- */

json_object *
openapi_build(const keel_app_t *app)
{
    json_object *doc = json_object_new_object(),
                *info = json_object_new_object();
    json_object *servers = json_object_new_array(), *srv;
    json_object *paths = json_object_new_object(),
                *tags = json_object_new_array();
    json_object *seen = json_object_new_object(), *lic;
    char d[256];

    put(doc, "openapi", str("3.1.0"));
    put(info, "title", str(app->name ? app->name : "keel application"));
    put(info, "version", str(app->version ? app->version : "0"));
    snprintf(d, sizeof(d),
             "Generated by libkeel from the route table of %s: every route "
             "row is an operation.",
             app->name ? app->name : "the application");
    put(info, "description", str(d));
    lic = json_object_new_object();
    put(lic, "name", str("Proprietary"));
    put(lic, "identifier", str("LicenseRef-Proprietary"));
    put(info, "license", lic);
    put(doc, "info", info);
    srv = json_object_new_object();
    put(srv, "url", str("/"));
    json_object_array_add(servers, srv);
    put(doc, "servers", servers);
    put(doc, "tags", tags);
    for (size_t t = 0; t < app->ntables; t++) {
        for (size_t i = 0; i < app->tables[t].nroutes; i++) {
            const route_t *r = &app->tables[t].routes[i];
            const char *m = method_key(r->method);
            if (m == NULL || r->pattern == NULL)
                continue;
            put(member(paths, r->pattern), m, operation(r, seen, tags));
        }
    }
    json_object_put(seen);
    put(doc, "paths", paths);
    put(doc, "components", components(app));
    return doc;
}

static pthread_mutex_t text_lock = PTHREAD_MUTEX_INITIALIZER;
static const keel_app_t *text_app;
static char *text;
static size_t text_len;

const char *
openapi_text(const keel_app_t *app, size_t *len)
{
    const char *out;

    pthread_mutex_lock(&text_lock);
    if (text == NULL || text_app != app) {
        json_object *doc = openapi_build(app);
        const char *s = json_object_to_json_string_ext(
            doc, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        /* Another app's text (tests build more than one) is let go. */
        free(text);
        text = xstrdup(s);
        text_len = strlen(text);
        text_app = app;
        json_object_put(doc);
    }
    out = text;
    if (len != NULL)
        *len = text_len;
    pthread_mutex_unlock(&text_lock);
    return out;
}

keel_rc
openapi_get(keel_ctx_t *ctx)
{
    size_t len;
    const char *s = openapi_text(ctx->http->app, &len);

    ctx->res.status = 200;
    ctx->res.body = s;
    ctx->res.body_len = len;
    ctx_header_set(ctx, "Content-Type", "application/json; charset=utf-8");
    return KEEL_OK;
}
