/*
 * articles.h - Conduit's articles, their favorites, the feed and the tags.
 */
#ifndef CONDUIT_ARTICLES_H
#define CONDUIT_ARTICLES_H

#include "http/ctx.h"

/* Access rule of the author's routes (PUT, DELETE /api/articles/{slug}):
 * 404 {"article": ["not found"]}, 403 {"article": ["forbidden"]}, else
 * ctx->resource is {"id", "author"} (rw_article_owner). */
keel_rc rw_article_access(keel_ctx_t *ctx, int permitted);

/* GET /api/articles?tag=&author=&favorited=&limit=&offset= */
keel_rc rw_list_articles(keel_ctx_t *ctx);
/* GET /api/articles/feed?limit=&offset= */
keel_rc rw_feed(keel_ctx_t *ctx);
keel_rc rw_get_article(keel_ctx_t *ctx);
keel_rc rw_create_article(keel_ctx_t *ctx);
keel_rc rw_update_article(keel_ctx_t *ctx);
keel_rc rw_delete_article(keel_ctx_t *ctx);
/* POST and DELETE /api/articles/{slug}/favorite */
keel_rc rw_favorite(keel_ctx_t *ctx);
keel_rc rw_unfavorite(keel_ctx_t *ctx);
/* GET /api/tags */
keel_rc rw_list_tags(keel_ctx_t *ctx);

#endif
