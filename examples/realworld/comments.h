/* comments.h - Conduit's comments on an article. */
#ifndef CONDUIT_COMMENTS_H
#define CONDUIT_COMMENTS_H

#include "http/ctx.h"

/* Access rule of DELETE /api/articles/{slug}/comments/{id}: 404
 * {"article": ["not found"]} or {"comment": ["not found"]}, 403
 * {"comment": ["forbidden"]} unless the caller wrote it; else
 * ctx->resource is {"comment" (its id), "author"}. */
keel_rc rw_comment_access(keel_ctx_t *ctx, int permitted);

keel_rc rw_list_comments(keel_ctx_t *ctx);
keel_rc rw_create_comment(keel_ctx_t *ctx);
keel_rc rw_delete_comment(keel_ctx_t *ctx);

#endif
