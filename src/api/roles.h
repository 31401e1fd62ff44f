/* roles.h - /v1/roles (API.md 4): roles and their permissions. */
#ifndef KEEL_API_ROLES_H
#define KEEL_API_ROLES_H

#include "http/ctx.h"

keel_rc roles_index(keel_ctx_t *ctx);
keel_rc roles_upsert(keel_ctx_t *ctx);
keel_rc roles_destroy(keel_ctx_t *ctx);

extern const schema_t roles_put_schema;

#endif
