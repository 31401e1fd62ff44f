/* articles.c - Conduit's articles, favorites, feed and tags (articles.h). */
#include "keel-build.h"

#include "articles.h"
#include "app.h"
#include "params.h"
#include "store.h"

keel_rc
rw_article_access(keel_ctx_t *ctx, int permitted)
{
    json_object *obj = NULL;
    db_conn_t *c;
    db_error_t err;
    keel_rc rc = ctx_db(ctx, &c);

    if (rc != KEEL_OK)
        return rc;
    rc = rw_article_owner(c, ctx_param(ctx, "slug"), &obj, &err);
    if (rc == KEEL_ENOTFOUND) {
        ctx_detail(ctx, "article", "not found");
        return rc;
    }
    if (rc != KEEL_OK)
        return ctx_fail_db(ctx, rc, &err);
    return rw_owned(ctx, obj, "article");
}

/* A page of articles as `f` (filters) and the query's limit/offset say. */
static keel_rc
list(keel_ctx_t *ctx, rw_article_filter_t *f)
{
    const char *field, *why;
    json_object *out = NULL;
    db_conn_t *c;
    db_error_t err;
    keel_rc rc;

    if (rw_page_parse(request_query(&ctx->req, "limit"),
                      request_query(&ctx->req, "offset"), &f->limit, &f->offset,
                      &field, &why) != KEEL_OK)
        return rw_fail(ctx, KEEL_EINVAL, field, why);
    rc = ctx_db(ctx, &c);
    if (rc != KEEL_OK)
        return rc;
    rc = rw_article_list(c, rw_viewer(ctx), f, &out, &err);
    return rw_answer(ctx, rc, &err, 200, out, "articles");
}

/* A filter's value: an empty one ("?tag=") filters nothing. */
static const char *
filter(const keel_ctx_t *ctx, const char *name)
{
    const char *v = request_query(&ctx->req, name);

    return v != NULL && *v != '\0' ? v : NULL;
}

keel_rc
rw_list_articles(keel_ctx_t *ctx)
{
    rw_article_filter_t f = { 0 };

    f.tag = filter(ctx, "tag");
    f.author = filter(ctx, "author");
    f.favorited = filter(ctx, "favorited");
    return list(ctx, &f);
}

keel_rc
rw_feed(keel_ctx_t *ctx)
{
    rw_article_filter_t f = { .feed = 1 };

    return list(ctx, &f);
}

keel_rc
rw_get_article(keel_ctx_t *ctx)
{
    return rw_lookup(ctx, rw_article_get, "slug", "article");
}

/* The body's {"article": {...}}: given members, tags normalised (put
 * f->tags). */
static void
fields(keel_ctx_t *ctx, rw_article_fields_t *f)
{
    json_object *tags = rw_body_member(ctx, "article", "tagList", NULL);

    f->title = rw_body_trimmed(ctx, "article", "title");
    f->description = rw_body_trimmed(ctx, "article", "description");
    f->body = rw_body_trimmed(ctx, "article", "body");
    /* The schema refuses null: a tagList here is an array. */
    f->tags = tags != NULL ? rw_tags_normalise(tags) : NULL;
}

keel_rc
rw_create_article(keel_ctx_t *ctx)
{
    char slug[RW_SLUG_MAX + 1];
    rw_article_fields_t f;
    json_object *out = NULL;
    db_conn_t *c;
    db_error_t err;
    keel_rc rc = ctx_db(ctx, &c);

    if (rc != KEEL_OK)
        return rc;
    fields(ctx, &f);
    rw_slugify(f.title, slug);
    rc = rw_article_create(c, ctx->user->id, slug, rw_slug_reserved(slug), &f,
                           &out, &err);
    json_object_put(f.tags);
    if (rc == KEEL_ENOTFOUND) {
        /* The token's user is gone. */
        ctx->token_invalid = 1;
        return ctx_fail(ctx, KEEL_EUNAUTH, NULL);
    }
    return rw_answer(ctx, rc, &err, 201, out, "article");
}

keel_rc
rw_update_article(keel_ctx_t *ctx)
{
    const char *id = rw_resource_str(ctx, "id");
    rw_article_fields_t f;
    json_object *out = NULL;
    db_conn_t *c;
    db_error_t err;
    keel_rc rc;

    if (id == NULL)
        return ctx_fail_internal(ctx, "update without rw_article_access");
    rc = ctx_db(ctx, &c);
    if (rc != KEEL_OK)
        return rc;
    fields(ctx, &f);
    rc = rw_article_update(c, rw_viewer(ctx), id, &f, &out, &err);
    json_object_put(f.tags);
    return rw_answer(ctx, rc, &err, 200, out, "article");
}

keel_rc
rw_delete_article(keel_ctx_t *ctx)
{
    return rw_remove(ctx, rw_article_delete, "id", "article");
}

/* AUTH_BEARER: rw_lookup's caller is never NULL. */
keel_rc
rw_favorite(keel_ctx_t *ctx)
{
    return rw_lookup(ctx, rw_article_favorite, "slug", "article");
}

keel_rc
rw_unfavorite(keel_ctx_t *ctx)
{
    return rw_lookup(ctx, rw_article_unfavorite, "slug", "article");
}

keel_rc
rw_list_tags(keel_ctx_t *ctx)
{
    json_object *out = NULL;
    db_conn_t *c;
    db_error_t err;
    keel_rc rc = ctx_db(ctx, &c);

    if (rc != KEEL_OK)
        return rc;
    rc = rw_tags_list(c, &out, &err);
    return rw_answer(ctx, rc, &err, 200, out, "tags");
}
