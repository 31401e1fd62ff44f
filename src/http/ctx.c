/* ctx.c - response building helpers for handlers and middleware. */
#include "keel-build.h"

#include "http/ctx.h"
#include "core/json.h"
#include "core/util.h"
#include "core/log.h"
#include "core/validate.h"
#include "db/db.h"
#include "http/app.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static kv_t *
header_find(keel_ctx_t *ctx, const char *name)
{
    for (size_t i = 0; i < ctx->res.nheaders; i++)
        if (ascii_casecmp(ctx->res.headers[i].name, name) == 0)
            return &ctx->res.headers[i];
    return NULL;
}

void
ctx_header_add(keel_ctx_t *ctx, const char *name, const char *value)
{
    /* The table is sized for every header keel sends; more is a bug. */
    if (ctx->res.nheaders == RESPONSE_MAX_HEADERS)
        return;
    ctx->res.headers[ctx->res.nheaders].name = arena_strdup(ctx->arena, name);
    ctx->res.headers[ctx->res.nheaders].value = arena_strdup(ctx->arena, value);
    ctx->res.nheaders++;
}

void
ctx_header_set(keel_ctx_t *ctx, const char *name, const char *value)
{
    kv_t *h = header_find(ctx, name);

    if (h == NULL) {
        ctx_header_add(ctx, name, value);
        return;
    }
    h->value = arena_strdup(ctx->arena, value);
}

const char *
ctx_header_get(const keel_ctx_t *ctx, const char *name)
{
    kv_t *h = header_find((keel_ctx_t *)ctx, name);
    return h ? h->value : NULL;
}

void
ctx_respond_json(keel_ctx_t *ctx, int status, json_object *root)
{
    size_t len;
    const char *s = json_compact(root, &len);

    ctx->res.status = status;
    ctx->res.body = arena_strndup(ctx->arena, s, len);
    ctx->res.body_len = len;
    ctx_header_set(ctx, "Content-Type", "application/json; charset=utf-8");
}

void
ctx_respond_data(keel_ctx_t *ctx, int status, json_object *data)
{
    const route_t *r = ctx->match.route;
    json_object *root = json_object_new_object();

    json_object_object_add(root, r && r->envelope ? r->envelope : "data", data);
    ctx_respond_json(ctx, status, root);
    json_object_put(root);
}

void
ctx_respond_empty(keel_ctx_t *ctx, int status)
{
    ctx->res.status = status;
    ctx->res.body = NULL;
    ctx->res.body_len = 0;
}

keel_rc
ctx_fail(keel_ctx_t *ctx, keel_rc rc, const char *message)
{
    ctx->message = message ? arena_strdup(ctx->arena, message) : NULL;
    return rc;
}

keel_rc
ctx_fail_internal(keel_ctx_t *ctx, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    ctx->log_error = arena_vsprintf(ctx->arena, fmt, ap);
    va_end(ap);
    ctx->message = NULL;
    return KEEL_EINTERNAL;
}

void
ctx_detail(keel_ctx_t *ctx, const char *field, const char *message)
{
    if (ctx->details == NULL)
        ctx->details = json_object_new_array();
    details_add(ctx->details, field, message);
}

const valid_messages_t *
ctx_messages(const keel_ctx_t *ctx)
{
    return ctx->http != NULL && ctx->http->app != NULL
               ? ctx->http->app->messages
               : NULL;
}

const char *
ctx_param(const keel_ctx_t *ctx, const char *name)
{
    for (size_t i = 0; i < ctx->match.nparams; i++)
        if (strcmp(ctx->match.params[i].name, name) == 0)
            return ctx->match.params[i].value;
    return NULL;
}

keel_rc
ctx_db(keel_ctx_t *ctx, db_conn_t **out)
{
    db_error_t err;
    keel_rc rc;

    if (ctx->db == NULL) {
        if (ctx->http->pool == NULL) {
            ctx->component = "database";
            return ctx_fail(ctx, KEEL_EUNAVAIL, NULL);
        }
        rc = pool_acquire(ctx->http->pool, &ctx->db, &err);
        if (rc != KEEL_OK)
            return ctx_fail_db(ctx, rc, &err);
    }
    *out = ctx->db;
    return KEEL_OK;
}

keel_rc
ctx_fail_db(keel_ctx_t *ctx, keel_rc rc, const db_error_t *err)
{
    ctx->component = "database";
    ctx->log_error = arena_sprintf(ctx->arena, "database: %s (SQLSTATE %s%s%s)",
                                   err->message, err->sqlstate,
                                   err->constraint[0] ? ", constraint " : "",
                                   err->constraint);
    /* A unique violation names the field when the constraint does:
     * "users_email_key" → {"field": "email", ...}. */
    if (rc == KEEL_ECONFLICT) {
        char field[64];
        if (db_constraint_field(err->constraint, err->table, field,
                                sizeof(field)) == 0)
            ctx_detail(ctx, field,
                       valid_message(ctx_messages(ctx),
                                     strcmp(err->sqlstate, "23505") == 0
                                         ? VMSG_TAKEN
                                         : VMSG_REFERENCE));
    }
    if (rc != KEEL_EINTERNAL && rc != KEEL_EUNAVAIL) {
        /* 4xx from the database (a conflict) is logged at warn level. */
        json_object *line = log_new(KLOG_WARN, "database refused");
        if (line) {
            json_object_object_add(line, "request_id",
                                   json_object_new_string(ctx->req.request_id));
            json_object_object_add(line, "error",
                                   json_object_new_string(ctx->log_error));
            log_emit(line);
        }
    }
    ctx->message = NULL;
    return rc;
}

int
ctx_can(const keel_ctx_t *ctx, const char *perm)
{
    if (ctx->user == NULL || perm == NULL)
        return 0;
    for (size_t i = 0; i < ctx->user->nperms; i++)
        if (strcmp(ctx->user->perms[i], perm) == 0)
            return 1;
    return 0;
}

void
ctx_etag(keel_ctx_t *ctx, long long version)
{
    char tag[40];

    snprintf(tag, sizeof(tag), "W/\"%lld\"", version);
    ctx_header_set(ctx, "ETag", tag);
}

/* The version of one entity tag at *p (W/"12" or "12"), advancing *p past
 * it: >= 1, 0 for a tag that names no version, -1 for "*". */
static long long
etag_version(const char **p)
{
    const char *s = *p;
    long long v = 0;
    int digits = 0;

    while (*s == ' ' || *s == '\t' || *s == ',')
        s++;
    if (*s == '*') {
        *p = s + 1;
        return -1;
    }
    if (s[0] == 'W' && s[1] == '/')
        s += 2;
    if (*s != '"') {
        *p = s + strcspn(s, ",");
        return 0;
    }
    for (s++; *s >= '0' && *s <= '9' && digits < 18; s++, digits++)
        v = v * 10 + (*s - '0');
    if (*s != '"' || digits == 0) {
        *p = s + strcspn(s, ",");
        return 0;
    }
    *p = s + 1;
    return v;
}

long long
ctx_if_match(const keel_ctx_t *ctx)
{
    const char *h = request_header(&ctx->req, "if-match");
    long long v;

    if (h == NULL)
        return -1;
    v = etag_version(&h);
    /* Versions are PostgreSQL integers: a larger tag is none of ours. */
    return v > 2147483647LL ? 0 : v;
}

int
ctx_not_modified(keel_ctx_t *ctx, long long version)
{
    const char *h = request_header(&ctx->req, "if-none-match");

    while (h != NULL && *h != '\0') {
        const char *before = h;
        long long v = etag_version(&h);
        if (v == -1 || v == version) {
            ctx_respond_empty(ctx, 304);
            ctx_etag(ctx, version);
            return 1;
        }
        if (h == before)
            break;
    }
    return 0;
}

const char *
ctx_body_str(const keel_ctx_t *ctx, const char *name)
{
    json_object *v;

    return ctx->req.json != NULL &&
                   json_object_object_get_ex(ctx->req.json, name, &v)
               ? json_object_get_string(v)
               : NULL;
}

const char *
ctx_trimmed(keel_ctx_t *ctx, const char *s)
{
    size_t n;

    if (s == NULL)
        return NULL;
    /* The blanks the schema's length check left out (SCHEMA_TRIM). */
    while (valid_blank(*s))
        s++;
    n = strlen(s);
    while (n > 0 && valid_blank(s[n - 1]))
        n--;
    return arena_strndup(ctx->arena, s, n);
}

const char *
ctx_body_str_trimmed(keel_ctx_t *ctx, const char *name)
{
    return ctx_trimmed(ctx, ctx_body_str(ctx, name));
}

const char *
ctx_param_uuid(keel_ctx_t *ctx, const char *name)
{
    const char *v = ctx_param(ctx, name);
    char *out;

    if (v == NULL || !valid_uuid(v))
        return NULL;
    out = arena_strdup(ctx->arena, v);
    for (char *p = out; *p; p++)
        if (*p >= 'A' && *p <= 'F')
            *p = (char)(*p - 'A' + 'a');
    return out;
}

keel_rc
ctx_load(keel_ctx_t *ctx, ctx_get_fn get)
{
    const char *id = ctx_param_uuid(ctx, "id");
    json_object *obj;
    db_conn_t *c;
    db_error_t err;
    keel_rc rc;

    if (id == NULL)
        return KEEL_ENOTFOUND;
    rc = ctx_db(ctx, &c);
    if (rc != KEEL_OK)
        return rc;
    rc = get(c, id, &obj, &err);
    if (rc == KEEL_ENOTFOUND)
        return rc;
    if (rc != KEEL_OK)
        return ctx_fail_db(ctx, rc, &err);
    json_object_put(ctx->resource);
    ctx->resource = obj;
    return KEEL_OK;
}

long long
ctx_body_version(const keel_ctx_t *ctx)
{
    json_object *v;

    return ctx->req.json != NULL &&
                   json_object_object_get_ex(ctx->req.json, "version", &v)
               ? json_object_get_int64(v)
               : -1;
}
