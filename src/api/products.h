/* products.h - /v1/products (API.md 5.3): the catalogue. */
#ifndef KEEL_API_PRODUCTS_H
#define KEEL_API_PRODUCTS_H

#include "http/ctx.h"

/* Who may see a product: inactive ones only with products:write. */
keel_rc products_access(keel_ctx_t *ctx, int permitted);

keel_rc products_list(keel_ctx_t *ctx);
keel_rc products_show(keel_ctx_t *ctx);
keel_rc products_add(keel_ctx_t *ctx);
/* PUT (every field, by its schema) and PATCH (some). */
keel_rc products_change(keel_ctx_t *ctx);
keel_rc products_remove(keel_ctx_t *ctx);

extern const schema_t products_create_schema, products_put_schema,
    products_patch_schema;

#endif
