/* products.c - the /v1/products handlers. */
#include "keel-build.h"

#include "api/products.h"
#include "http/collection.h"
#include "store/products.h"

#include <stdio.h>
#include <string.h>

/* The writable members: `req` for the ones a create needs, `all` for the
 * rest (PUT: every one). */
#define PRODUCT_PROPS(req, all)                                                \
    { .name = "sku",                                                           \
      .type = SCHEMA_STRING,                                                   \
      .flags = (req),                                                          \
      .bounded = 1,                                                            \
      .min = 1,                                                                \
      .max = 64,                                                               \
      .charset = "A-Za-z0-9_-" },                                              \
        { .name = "name",                                                      \
          .type = SCHEMA_STRING,                                               \
          .flags = SCHEMA_TRIM | (req),                                        \
          .bounded = 1,                                                        \
          .min = 1,                                                            \
          .max = 200 },                                                        \
        { .name = "description",                                               \
          .type = SCHEMA_STRING,                                               \
          .flags = (all),                                                      \
          .bounded = 1,                                                        \
          .min = 0,                                                            \
          .max = 10000 },                                                      \
        { .name = "category",                                                  \
          .type = SCHEMA_STRING,                                               \
          .flags = (req),                                                      \
          .bounded = 1,                                                        \
          .min = 1,                                                            \
          .max = 64 },                                                         \
        { .name = "price_cents",                                               \
          .type = SCHEMA_INTEGER,                                              \
          .flags = (req),                                                      \
          .bounded = 1,                                                        \
          .min = 0,                                                            \
          .max = 100000000 },                                                  \
        { .name = "currency",                                                  \
          .type = SCHEMA_STRING,                                               \
          .flags = (req),                                                      \
          .bounded = 1,                                                        \
          .min = 3,                                                            \
          .max = 3,                                                            \
          .charset = "A-Z" },                                                  \
        { .name = "stock",                                                     \
          .type = SCHEMA_INTEGER,                                              \
          .flags = (all),                                                      \
          .bounded = 1,                                                        \
          .min = 0,                                                            \
          .max = 2147483647 },                                                 \
    {                                                                          \
        .name = "active", .type = SCHEMA_BOOLEAN, .flags = (all)               \
    }

#define VERSION_PROP                                                           \
    {                                                                          \
        .name = "version", .type = SCHEMA_INTEGER, .bounded = 1, .min = 1,     \
        .max = 2147483647                                                      \
    }

static const schema_prop_t create_props[] = { PRODUCT_PROPS(SCHEMA_REQUIRED,
                                                            0) };
const schema_t products_create_schema = SCHEMA_OF(create_props);

static const schema_prop_t put_props[] = {
    PRODUCT_PROPS(SCHEMA_REQUIRED, SCHEMA_REQUIRED), VERSION_PROP
};
const schema_t products_put_schema = SCHEMA_OF(put_props);

static const schema_prop_t patch_props[] = { PRODUCT_PROPS(0, 0),
                                             VERSION_PROP };
/* {} changes nothing: a validation error. */
const schema_t products_patch_schema = {
    patch_props, sizeof(patch_props) / sizeof(patch_props[0]), 1
};

/*
 * Public GETs may be kept by shared caches ([http] public_max_age) when
 * they carry no credentials; what a token sees (inactive products too)
 * is the caller's alone.  Vary tells caches the two apart.
 */
static void
cache_headers(keel_ctx_t *ctx)
{
    double age = ctx->http->cfg ? ctx->http->cfg->public_max_age : 0;

    ctx_header_set(ctx, "Vary", "Authorization");
    if (age > 0 && request_header(&ctx->req, "authorization") == NULL)
        ctx_header_set(
            ctx, "Cache-Control",
            arena_sprintf(ctx->arena, "public, max-age=%lld", (long long)age));
}

keel_rc
products_access(keel_ctx_t *ctx, int permitted)
{
    json_object *active;
    keel_rc rc = ctx_load(ctx, products_get);

    (void)permitted;
    if (rc != KEEL_OK)
        return rc;
    if (json_object_object_get_ex(ctx->resource, "active", &active) &&
        !json_object_get_boolean(active) && !ctx_can(ctx, "products:write"))
        return KEEL_ENOTFOUND;
    return KEEL_OK;
}

keel_rc
products_list(keel_ctx_t *ctx)
{
    coll_cond_t cond;
    size_t n = products_visible(ctx_can(ctx, "products:write"), &cond);
    keel_rc rc = coll_list(ctx, &cond, n);

    if (rc == KEEL_OK)
        cache_headers(ctx);
    return rc;
}

keel_rc
products_show(keel_ctx_t *ctx)
{
    json_object *product = ctx->resource;

    if (product == NULL)
        return ctx_fail_internal(ctx, "products_show without its access rule");
    ctx->resource = NULL;
    coll_respond_get(ctx, product);
    cache_headers(ctx);
    return KEEL_OK;
}

/* The body's writable fields as text (NULL when not given). */
static product_fields_t
fields_of(keel_ctx_t *ctx)
{
    product_fields_t f = {
        .sku = ctx_body_str(ctx, "sku"),
        .name = ctx_body_str_trimmed(ctx, "name"),
        .description = ctx_body_str(ctx, "description"),
        .category = ctx_body_str(ctx, "category"),
        .price_cents = ctx_body_str(ctx, "price_cents"),
        .currency = ctx_body_str(ctx, "currency"),
        .stock = ctx_body_str(ctx, "stock"),
        .active = ctx_body_str(ctx, "active"),
    };
    return f;
}

keel_rc
products_add(keel_ctx_t *ctx)
{
    product_fields_t f = fields_of(ctx);
    json_object *product;
    db_conn_t *c;
    db_error_t err;
    keel_rc rc = ctx_db(ctx, &c);

    if (rc != KEEL_OK)
        return rc;
    rc = products_create(c, &f, &product, &err);
    if (rc != KEEL_OK)
        return ctx_fail_db(ctx, rc, &err);
    coll_respond_created(ctx, "/v1/products", product);
    return KEEL_OK;
}

keel_rc
products_change(keel_ctx_t *ctx)
{
    product_fields_t f = fields_of(ctx);
    json_object *product;
    long long version = ctx_body_version(ctx);
    db_conn_t *c;
    db_error_t err;
    keel_rc rc;

    if (ctx_param_uuid(ctx, "id") == NULL)
        return ctx_fail(ctx, KEEL_ENOTFOUND, NULL);
    if (!f.sku && !f.name && !f.description && !f.category && !f.price_cents &&
        !f.currency && !f.stock && !f.active) {
        ctx_detail(ctx, "body", "give at least one field to change");
        return ctx_fail(ctx, KEEL_EINVAL, NULL);
    }
    rc = ctx_db(ctx, &c);
    if (rc != KEEL_OK)
        return rc;
    rc = products_update(c, ctx_param_uuid(ctx, "id"), &f, ctx_if_match(ctx),
                         version, &product, &err);
    return coll_respond_changed(ctx, rc, product, &err);
}

keel_rc
products_remove(keel_ctx_t *ctx)
{
    const char *id = ctx_param_uuid(ctx, "id");
    db_conn_t *c;
    db_error_t err;
    keel_rc rc;

    if (id == NULL)
        return ctx_fail(ctx, KEEL_ENOTFOUND, NULL);
    rc = ctx_db(ctx, &c);
    if (rc != KEEL_OK)
        return rc;
    rc = products_delete(c, id, ctx_if_match(ctx), &err);
    if (rc == KEEL_ENOTFOUND || rc == KEEL_EPRECOND)
        return ctx_fail(ctx, rc, NULL);
    if (rc != KEEL_OK)
        return ctx_fail_db(ctx, rc, &err);
    ctx_respond_empty(ctx, 204);
    return KEEL_OK;
}
