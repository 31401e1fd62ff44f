/*
 * products.h - the SQL of the catalogue (API.md 5.3).  Products are
 * addressed by their public id.
 */
#ifndef KEEL_STORE_PRODUCTS_H
#define KEEL_STORE_PRODUCTS_H

#include "db/db.h"
#include "http/collection.h"

#include <json-c/json.h>

/* GET /v1/products and the fields of one product. */
extern const coll_schema_t products_collection;

/* The condition that hides inactive products from callers without
 * products:write (0 when they may see everything). */
size_t products_visible(int see_inactive, coll_cond_t *cond);

/* A live product with every field; KEEL_ENOTFOUND when none. */
keel_rc products_get(db_conn_t *c, const char *id, json_object **out,
                     db_error_t *err);

/* The writable fields, as text (NULL: not given; PATCH keeps them). */
typedef struct product_fields {
    const char *sku, *name, *description, *category, *price_cents, *currency,
        *stock, *active;
} product_fields_t;

/* Create; defaults for what is not given.  KEEL_ECONFLICT when a live
 * product has the SKU (err names products_sku_key).  *out: the product. */
keel_rc products_create(db_conn_t *c, const product_fields_t *f,
                        json_object **out, db_error_t *err);

/*
 * Change the given fields in one statement that checks the version
 * (if_match, version: -1 when not given).  KEEL_ENOTFOUND, KEEL_EPRECOND,
 * KEEL_EVERSION, KEEL_ECONFLICT (SKU taken).  *out: the product.
 */
keel_rc products_update(db_conn_t *c, const char *id, const product_fields_t *f,
                        long long if_match, long long version,
                        json_object **out, db_error_t *err);

/* Soft-delete (the SKU is free again): KEEL_ENOTFOUND, KEEL_EPRECOND. */
keel_rc products_delete(db_conn_t *c, const char *id, long long if_match,
                        db_error_t *err);

#endif
