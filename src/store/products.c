/* products.c - the catalogue in PostgreSQL (parameterized only). */
#include "keel-build.h"

#include "store/products.h"

#include <stdio.h>
#include <string.h>

static const coll_field_t product_fields[] = {
    { "id", "p.public_id", COLL_JS_UUID },
    { "sku", "p.sku",
      "{\"type\":\"string\",\"pattern\":\"^[A-Za-z0-9_-]{1,64}$\"}" },
    { "name", "p.name", COLL_JS_STRING },
    { "description", "p.description", COLL_JS_STRING },
    { "category", "p.category", COLL_JS_STRING },
    { "price_cents", "p.price_cents",
      "{\"type\":\"integer\",\"minimum\":0,\"maximum\":100000000}" },
    { "currency", "p.currency", COLL_JS_CURRENCY },
    { "stock", "p.stock", "{\"type\":\"integer\",\"minimum\":0}" },
    { "active", "p.active", COLL_JS_BOOL },
    { "created_at", DB_TS("p.created_at"), COLL_JS_TIME },
    { "updated_at", DB_TS("p.updated_at"), COLL_JS_TIME },
    { "version", "p.version", COLL_JS_VERSION },
};

static const coll_filter_t product_filters[] = {
    { .name = "category",
      .type = COLL_TEXT,
      .max_len = 64,
      .sql = "p.category = $" },
    { .name = "price_min",
      .type = COLL_INT,
      .min = 0,
      .max = 100000000,
      .sql = "p.price_cents >= $::integer",
      .summary = "Price at least this many cents" },
    { .name = "price_max",
      .type = COLL_INT,
      .min = 0,
      .max = 100000000,
      .sql = "p.price_cents <= $::integer",
      .summary = "Price at most this many cents" },
    { .name = "in_stock",
      .type = COLL_BOOL,
      .sql = "(p.stock > 0) = $::boolean",
      .summary = "`true`: stock above zero; `false`: none left" },
    /* A substring of the name, any case, wildcards taken literally. */
    { .name = "q",
      .type = COLL_TEXT,
      .max_len = 200,
      .sql = "p.name ILIKE '%' || replace(replace(replace($, '!', '!!'), "
             "'%', '!%'), '_', '!_') || '%' ESCAPE '!'",
      .summary = "A substring of the name, in any case" },
};

static const coll_sort_t product_sorts[] = {
    { "price_cents", "p.price_cents", "integer" },
    { "name", "p.name", "text" },
    { "created_at", "p.created_at", "timestamptz" },
    { "stock", "p.stock", "integer" },
};

const coll_schema_t products_collection = {
    .resource = "products",
    .from = "products p",
    .where = "p.deleted_at IS NULL",
    .id_sql = "p.public_id",
    .fields = COLL_ROWS(product_fields),
    .filters = COLL_ROWS(product_filters),
    .sorts = COLL_ROWS(product_sorts),
    .default_sort = "-created_at",
    .modes = COLL_OFFSET | COLL_CURSOR,
};

size_t
products_visible(int see_inactive, coll_cond_t *cond)
{
    if (see_inactive)
        return 0;
    cond->sql = "p.active";
    cond->value = NULL;
    cond->or_sql = NULL;
    return 1;
}

keel_rc
products_get(db_conn_t *c, const char *id, json_object **out, db_error_t *err)
{
    coll_query_t all = { .schema = &products_collection, .fields = ~0ULL };
    coll_cond_t cond = { "p.public_id = $::uuid", id, NULL };

    return coll_fetch_one(c, &all, &cond, 1, out, err);
}

DB_STMT(st_product_insert, 8,
        "INSERT INTO products (sku, name, description, category, "
        "price_cents, currency, stock, active) VALUES ($1, $2, "
        "coalesce($3, ''), $4, $5::integer, $6, coalesce($7::integer, 0), "
        "coalesce($8::boolean, true)) RETURNING public_id");
DB_STMT(st_product_update, 11,
        "UPDATE products SET sku = coalesce($2, sku), "
        "name = coalesce($3, name), "
        "description = coalesce($4, description), "
        "category = coalesce($5, category), "
        "price_cents = coalesce($6::integer, price_cents), "
        "currency = coalesce($7, currency), "
        "stock = coalesce($8::integer, stock), "
        "active = coalesce($9::boolean, active), "
        "version = version + 1, updated_at = now() "
        "WHERE public_id = $1::uuid AND deleted_at IS NULL "
        "AND ($10::integer IS NULL OR version = $10::integer) "
        "AND ($11::integer IS NULL OR version = $11::integer) "
        "RETURNING public_id");
DB_STMT(st_product_version, 1,
        "SELECT version FROM products "
        "WHERE public_id = $1::uuid AND deleted_at IS NULL");
DB_STMT(st_product_delete, 2,
        "UPDATE products SET deleted_at = now(), updated_at = now(), "
        "version = version + 1 "
        "WHERE public_id = $1::uuid AND deleted_at IS NULL "
        "AND ($2::integer IS NULL OR version = $2::integer) RETURNING id");

typedef struct product_write {
    const char *id;
    const product_fields_t *f;
    long long if_match, version;
    json_object **out;
    db_error_t *err;
} product_write_t;

/* Each write and the read of what it wrote run in one transaction
 * (db_transaction_out), so that the answer and its ETag are this
 * request's version, not a later one. */
static keel_rc
create_tx(db_conn_t *c, void *arg)
{
    product_write_t *w = arg;
    const product_fields_t *f = w->f;
    json_object **out = w->out;
    db_error_t *err = w->err;
    const char *p[8] = { f->sku,      f->name,        f->description,
                         f->category, f->price_cents, f->currency,
                         f->stock,    f->active };
    PGresult *res;
    char id[37];
    keel_rc rc = db_exec(c, &st_product_insert, p, &res, err);

    /* A retried transaction drops what the last attempt read. */
    json_object_put(*out);
    *out = NULL;
    if (rc != KEEL_OK)
        return rc;
    snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return products_get(c, id, out, err);
}

keel_rc
products_create(db_conn_t *c, const product_fields_t *f, json_object **out,
                db_error_t *err)
{
    product_write_t w = { NULL, f, -1, -1, out, err };

    return db_transaction_out(c, create_tx, &w, out, err);
}

static keel_rc
update_tx(db_conn_t *c, void *arg)
{
    product_write_t *w = arg;
    const char *id = w->id;
    const product_fields_t *f = w->f;
    long long if_match = w->if_match, version = w->version;
    json_object **out = w->out;
    db_error_t *err = w->err;
    char im[24], v[24];
    const char *p[11] = { id,
                          f->sku,
                          f->name,
                          f->description,
                          f->category,
                          f->price_cents,
                          f->currency,
                          f->stock,
                          f->active,
                          db_opt_int(if_match, im, sizeof(im)),
                          db_opt_int(version, v, sizeof(v)) };
    PGresult *res;
    int n;
    keel_rc rc = db_exec(c, &st_product_update, p, &res, err);

    /* A retried transaction drops what the last attempt read. */
    json_object_put(*out);
    *out = NULL;
    if (rc != KEEL_OK)
        return rc;
    n = PQntuples(res);
    PQclear(res);
    if (n == 0)
        return db_why_unchanged(c, &st_product_version, id, if_match, err);
    return products_get(c, id, out, err);
}

keel_rc
products_update(db_conn_t *c, const char *id, const product_fields_t *f,
                long long if_match, long long version, json_object **out,
                db_error_t *err)
{
    product_write_t w = { id, f, if_match, version, out, err };

    return db_transaction_out(c, update_tx, &w, out, err);
}

keel_rc
products_delete(db_conn_t *c, const char *id, long long if_match,
                db_error_t *err)
{
    return db_guarded_delete(c, &st_product_delete, &st_product_version, id,
                             if_match, err);
}
