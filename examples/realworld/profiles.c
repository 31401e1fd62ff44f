/* profiles.c - Conduit's profiles and follows (profiles.h). */
#include "keel-build.h"

#include "profiles.h"
#include "app.h"
#include "store.h"

keel_rc
rw_get_profile(keel_ctx_t *ctx)
{
    json_object *out = NULL;
    db_conn_t *c;
    db_error_t err;
    keel_rc rc = ctx_db(ctx, &c);

    if (rc != KEEL_OK)
        return rc;
    rc = rw_profile_get(c, rw_viewer(ctx), ctx_param(ctx, "username"), &out,
                        &err);
    return rw_answer(ctx, rc, &err, 200, out, "profile");
}

static keel_rc
follow(keel_ctx_t *ctx, int on)
{
    json_object *out = NULL;
    db_conn_t *c;
    db_error_t err;
    keel_rc rc = ctx_db(ctx, &c);

    if (rc != KEEL_OK)
        return rc;
    rc = rw_profile_follow(c, ctx->user->id, ctx_param(ctx, "username"), on,
                           &out, &err);
    return rw_answer(ctx, rc, &err, 200, out, "profile");
}

keel_rc
rw_follow(keel_ctx_t *ctx)
{
    return follow(ctx, 1);
}

keel_rc
rw_unfollow(keel_ctx_t *ctx)
{
    return follow(ctx, 0);
}
