/* comments.c - Conduit's comments (comments.h). */
#include "keel-build.h"

#include "comments.h"
#include "app.h"
#include "store.h"

#include <string.h>

/* The path's {id} when it can name a comment (1 to 18 digits), else
 * NULL: no comment has it. */
static const char *
comment_id(const keel_ctx_t *ctx)
{
    const char *id = ctx_param(ctx, "id");
    size_t n = id != NULL ? strspn(id, "0123456789") : 0;

    return n > 0 && n <= 18 && id[n] == '\0' ? id : NULL;
}

keel_rc
rw_comment_access(keel_ctx_t *ctx, int permitted)
{
    json_object *obj = NULL, *v;
    db_conn_t *c;
    db_error_t err;
    keel_rc rc = ctx_db(ctx, &c);

    if (rc != KEEL_OK)
        return rc;
    rc = rw_comment_owner(c, ctx_param(ctx, "slug"), comment_id(ctx), &obj,
                          &err);
    if (rc == KEEL_ENOTFOUND) {
        ctx_detail(ctx, "article", "not found");
        return rc;
    }
    if (rc != KEEL_OK)
        return ctx_fail_db(ctx, rc, &err);
    if (!json_object_object_get_ex(obj, "comment", &v) || v == NULL) {
        json_object_put(obj);
        ctx_detail(ctx, "comment", "not found");
        return KEEL_ENOTFOUND;
    }
    return rw_owned(ctx, obj, "comment");
}

keel_rc
rw_list_comments(keel_ctx_t *ctx)
{
    return rw_lookup(ctx, rw_comment_list, "slug", "article");
}

keel_rc
rw_create_comment(keel_ctx_t *ctx)
{
    json_object *out = NULL;
    db_conn_t *c;
    db_error_t err;
    keel_rc rc = ctx_db(ctx, &c);

    if (rc != KEEL_OK)
        return rc;
    rc = rw_comment_create(c, ctx->user->id, ctx_param(ctx, "slug"),
                           rw_body_trimmed(ctx, "comment", "body"), &out, &err);
    return rw_answer(ctx, rc, &err, 201, out, "article");
}

keel_rc
rw_delete_comment(keel_ctx_t *ctx)
{
    return rw_remove(ctx, rw_comment_delete, "comment", "comment");
}
