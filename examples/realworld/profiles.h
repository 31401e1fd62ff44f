/* profiles.h - Conduit's profiles: read one, follow, unfollow. */
#ifndef CONDUIT_PROFILES_H
#define CONDUIT_PROFILES_H

#include "http/ctx.h"

/* GET /api/profiles/{username} (optional auth: "following"). */
keel_rc rw_get_profile(keel_ctx_t *ctx);
/* POST and DELETE /api/profiles/{username}/follow. */
keel_rc rw_follow(keel_ctx_t *ctx);
keel_rc rw_unfollow(keel_ctx_t *ctx);

#endif
