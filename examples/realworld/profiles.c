/* profiles.c - Conduit's profiles and follows (profiles.h). */
#include "keel-build.h"

#include "profiles.h"
#include "app.h"
#include "store.h"

keel_rc
rw_get_profile(keel_ctx_t *ctx)
{
    return rw_lookup(ctx, rw_profile_get, "username", "profile");
}

/* AUTH_BEARER: rw_lookup's caller is never NULL. */
keel_rc
rw_follow(keel_ctx_t *ctx)
{
    return rw_lookup(ctx, rw_profile_follow, "username", "profile");
}

keel_rc
rw_unfollow(keel_ctx_t *ctx)
{
    return rw_lookup(ctx, rw_profile_unfollow, "username", "profile");
}
