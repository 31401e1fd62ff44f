/*
 * users.h - /v1/users (API.md 5.1) and role assignment (API.md 4).
 */
#ifndef KEEL_API_USERS_H
#define KEEL_API_USERS_H

#include "http/ctx.h"

/* The ownership rule of a user: self may read and rename itself. */
keel_rc users_access(keel_ctx_t *ctx, int permitted);

/* Self only, with the route's permission (POST /v1/users/{id}/posts). */
keel_rc users_self_access(keel_ctx_t *ctx, int permitted);

keel_rc users_show(keel_ctx_t *ctx);
keel_rc users_patch(keel_ctx_t *ctx);
keel_rc users_remove(keel_ctx_t *ctx);
keel_rc users_put_roles(keel_ctx_t *ctx);

/* One VALIDATION_ERROR detail under `field` per name in the JSON array
 * `unknown` ("unknown role 'x'"). */
void api_unknown_names(keel_ctx_t *ctx, const char *field, const char *what,
                       json_object *unknown);

extern const schema_t users_patch_schema, users_roles_schema;

#endif
