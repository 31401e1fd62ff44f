/* orders.h - /v1/orders (API.md 5.4, 1.6): placing, reading and moving
 * orders through their statuses. */
#ifndef KEEL_API_ORDERS_H
#define KEEL_API_ORDERS_H

#include "http/ctx.h"

/* The owner, or a caller with orders:read_any or the route's permission;
 * loads the order for the handler.  Anyone else: 404. */
keel_rc orders_access(keel_ctx_t *ctx, int permitted);
/* /v1/users/{id}/orders: that user, or the route's permission; else 404. */
keel_rc orders_user_access(keel_ctx_t *ctx, int permitted);

keel_rc orders_list(keel_ctx_t *ctx);
keel_rc orders_list_by_user(keel_ctx_t *ctx);
keel_rc orders_show(keel_ctx_t *ctx);
keel_rc orders_show_items(keel_ctx_t *ctx);
keel_rc orders_add(keel_ctx_t *ctx);
keel_rc orders_change(keel_ctx_t *ctx);

extern const schema_t orders_create_schema, orders_patch_schema;

#endif
