/* posts.h - /v1/posts and /v1/users/{id}/posts (API.md 5.2). */
#ifndef KEEL_API_POSTS_H
#define KEEL_API_POSTS_H

#include "http/ctx.h"

/* The ownership rule of a post: who may read it, change it, delete it. */
keel_rc posts_access(keel_ctx_t *ctx, int permitted);

keel_rc posts_list(keel_ctx_t *ctx);
keel_rc posts_list_by_user(keel_ctx_t *ctx);
keel_rc posts_show(keel_ctx_t *ctx);
keel_rc posts_add(keel_ctx_t *ctx);
/* PUT (every field, by its schema) and PATCH (some). */
keel_rc posts_change(keel_ctx_t *ctx);
keel_rc posts_remove(keel_ctx_t *ctx);

extern const schema_t posts_create_schema, posts_put_schema, posts_patch_schema;

#endif
