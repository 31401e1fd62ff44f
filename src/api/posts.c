/* posts.c - the /v1/posts handlers. */
#include "keel-build.h"

#include "api/posts.h"
#include "core/validate.h"
#include "http/collection.h"
#include "store/posts.h"

#include <string.h>

static const char *const statuses[] = { "draft", "published", NULL };
static const char *const visibilities[] = { "public", "private", NULL };

static const schema_prop_t tag_item = { .type = SCHEMA_STRING,
                                        .bounded = 1,
                                        .min = 1,
                                        .max = 32,
                                        .charset = "a-z0-9-" };

/* The writable members: `treq` makes title required, `req` the rest. */
#define POST_PROPS(treq, req)                                                  \
    { .name = "title",                                                         \
      .type = SCHEMA_STRING,                                                   \
      .flags = SCHEMA_TRIM | (treq),                                           \
      .bounded = 1,                                                            \
      .min = 1,                                                                \
      .max = 200 },                                                            \
        { .name = "body",                                                      \
          .type = SCHEMA_STRING,                                               \
          .flags = (req),                                                      \
          .bounded = 1,                                                        \
          .min = 0,                                                            \
          .max = 100000 },                                                     \
        { .name = "status",                                                    \
          .type = SCHEMA_STRING,                                               \
          .flags = (req),                                                      \
          .enums = statuses },                                                 \
        { .name = "visibility",                                                \
          .type = SCHEMA_STRING,                                               \
          .flags = (req),                                                      \
          .enums = visibilities },                                             \
    {                                                                          \
        .name = "tags", .type = SCHEMA_ARRAY, .flags = SCHEMA_UNIQUE | (req),  \
        .bounded = 1, .min = 0, .max = 10, .items = &tag_item                  \
    }

#define VERSION_PROP                                                           \
    {                                                                          \
        .name = "version", .type = SCHEMA_INTEGER, .bounded = 1, .min = 1,     \
        .max = 2147483647                                                      \
    }

static const schema_prop_t create_props[] = { POST_PROPS(SCHEMA_REQUIRED, 0) };
const schema_t posts_create_schema = SCHEMA_OF(create_props);

/* PUT replaces: every writable field is required. */
static const schema_prop_t put_props[] = {
    POST_PROPS(SCHEMA_REQUIRED, SCHEMA_REQUIRED), VERSION_PROP
};
const schema_t posts_put_schema = SCHEMA_OF(put_props);

static const schema_prop_t patch_props[] = { POST_PROPS(0, 0), VERSION_PROP };
/* {} changes nothing: a validation error. */
const schema_t posts_patch_schema = {
    patch_props, sizeof(patch_props) / sizeof(patch_props[0]), 1
};

static const char *
str_of(json_object *o, const char *name)
{
    json_object *v;

    return json_object_object_get_ex(o, name, &v) ? json_object_get_string(v)
                                                  : "";
}

/*
 * API.md 4 and 5.2 in one place: a post may be read when it is published
 * and public, by its author, or with posts:read_any — anyone else gets 404
 * whatever they ask; changing it takes the author or the route's
 * permission (posts:write_any, posts:delete_any), else 403.
 */
keel_rc
posts_access(keel_ctx_t *ctx, int permitted)
{
    json_object *post;
    int author, open;
    keel_rc rc = ctx_load(ctx, posts_get);

    if (rc != KEEL_OK)
        return rc;
    post = ctx->resource;
    author = ctx->user != NULL &&
             strcmp(ctx->user->id, str_of(post, "author_id")) == 0;
    open = strcmp(str_of(post, "status"), "published") == 0 &&
           strcmp(str_of(post, "visibility"), "public") == 0;
    if (!open && !author && !ctx_can(ctx, "posts:read_any"))
        return KEEL_ENOTFOUND;
    if (ctx->match.route->method == HTTP_GET)
        return KEEL_OK;
    return author || permitted ? KEEL_OK : KEEL_EFORBIDDEN;
}

/* A list of posts under the caller's read rule and `extra`. */
static keel_rc
list(keel_ctx_t *ctx, const coll_cond_t *extra)
{
    coll_cond_t conds[2];
    size_t n = posts_readable(ctx->user ? ctx->user->id : NULL,
                              ctx_can(ctx, "posts:read_any"), &conds[0]);

    if (extra != NULL)
        conds[n++] = *extra;
    return coll_list(ctx, conds, n);
}

keel_rc
posts_list(keel_ctx_t *ctx)
{
    return list(ctx, NULL);
}

keel_rc
posts_list_by_user(keel_ctx_t *ctx)
{
    coll_cond_t by = { "p.author_id = (SELECT u.id FROM users u "
                       "WHERE u.public_id = $::uuid)",
                       ctx_param_uuid(ctx, "id"), NULL };

    /* A user that is not there, or no longer, has an empty list: a 404
     * would tell anyone which ids are users (API.md 4). */
    if (by.value == NULL)
        return ctx_fail(ctx, KEEL_ENOTFOUND, NULL);
    return list(ctx, &by);
}

keel_rc
posts_show(keel_ctx_t *ctx)
{
    json_object *post = ctx->resource;

    /* posts_access loaded it (the route always has the rule). */
    if (post == NULL)
        return ctx_fail_internal(ctx, "posts_show without posts_access");
    ctx->resource = NULL;
    coll_respond_get(ctx, post);
    return KEEL_OK;
}

/* The body's writable fields (NULL when not given). */
static post_fields_t
fields_of(keel_ctx_t *ctx)
{
    json_object *tags;
    post_fields_t f = {
        .title = ctx_body_str_trimmed(ctx, "title"),
        .body = ctx_body_str(ctx, "body"),
        .status = ctx_body_str(ctx, "status"),
        .visibility = ctx_body_str(ctx, "visibility"),
    };

    if (json_object_object_get_ex(ctx->req.json, "tags", &tags))
        f.tags = arena_strdup(ctx->arena, json_object_to_json_string_ext(
                                              tags, JSON_C_TO_STRING_PLAIN));
    return f;
}

keel_rc
posts_add(keel_ctx_t *ctx)
{
    post_fields_t f = fields_of(ctx);
    json_object *post;
    db_conn_t *c;
    db_error_t err;
    keel_rc rc = ctx_db(ctx, &c);

    if (rc != KEEL_OK)
        return rc;
    rc = posts_create(c, ctx->user->id, &f, &post, &err);
    if (rc == KEEL_ENOTFOUND)
        return ctx_fail(ctx, KEEL_EUNAUTH, "Invalid or expired token");
    if (rc != KEEL_OK)
        return ctx_fail_db(ctx, rc, &err);
    coll_respond_created(ctx, "/v1/posts", post);
    return KEEL_OK;
}

keel_rc
posts_change(keel_ctx_t *ctx)
{
    post_fields_t f = fields_of(ctx);
    json_object *post;
    long long version = ctx_body_version(ctx);
    db_conn_t *c;
    db_error_t err;
    keel_rc rc;

    if (f.title == NULL && f.body == NULL && f.status == NULL &&
        f.visibility == NULL && f.tags == NULL) {
        ctx_detail(ctx, "body", "give at least one field to change");
        return ctx_fail(ctx, KEEL_EINVAL, NULL);
    }
    rc = ctx_db(ctx, &c);
    if (rc != KEEL_OK)
        return rc;
    rc = posts_update(c, ctx_param_uuid(ctx, "id"), &f, ctx_if_match(ctx),
                      version, &post, &err);
    return coll_respond_changed(ctx, rc, post, &err);
}

keel_rc
posts_remove(keel_ctx_t *ctx)
{
    db_conn_t *c;
    db_error_t err;
    keel_rc rc = ctx_db(ctx, &c);

    if (rc != KEEL_OK)
        return rc;
    rc = posts_delete(c, ctx_param_uuid(ctx, "id"), ctx_if_match(ctx), &err);
    if (rc == KEEL_ENOTFOUND || rc == KEEL_EPRECOND)
        return ctx_fail(ctx, rc, NULL);
    if (rc != KEEL_OK)
        return ctx_fail_db(ctx, rc, &err);
    ctx_respond_empty(ctx, 204);
    return KEEL_OK;
}
