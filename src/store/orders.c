/* orders.c - orders in PostgreSQL (parameterized statements only). */
#include "keel-build.h"

#include "store/orders.h"
#include "core/util.h"
#include "core/validate.h"
#include "jobs/events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An order's items in the order they were given, with the products'
 * public ids: part of every order, in the query that reads the order. */
#define ORDER_ITEMS_SQL                                                        \
    "(SELECT json_agg(json_build_object('product_id', p.public_id, "           \
    "'sku', i.sku, 'name', i.name, 'quantity', i.quantity, "                   \
    "'unit_price_cents', i.unit_price_cents) ORDER BY i.position) "            \
    "FROM order_items i JOIN products p ON p.id = i.product_id "               \
    "WHERE i.order_id = o.id)"

/* The JSON Schema of one of ORDER_ITEMS_SQL's arrays. */
#define ORDER_ITEMS_JS                                                         \
    "{\"type\":\"array\",\"items\":{\"type\":\"object\",\"required\":"         \
    "[\"product_id\",\"sku\",\"name\",\"quantity\",\"unit_price_cents\"],"     \
    "\"properties\":{\"product_id\":" COLL_JS_UUID ",\"sku\":" COLL_JS_STRING  \
    ",\"name\":" COLL_JS_STRING ",\"quantity\":" COLL_JS_INT                   \
    ",\"unit_price_cents\":" COLL_JS_INT "}}}"

static const coll_field_t order_fields[] = {
    { "id", "o.public_id", COLL_JS_UUID },
    { "user_id", "(SELECT u.public_id FROM users u WHERE u.id = o.user_id)",
      COLL_JS_UUID },
    { "status", "o.status",
      "{\"type\":\"string\",\"enum\":[\"pending\",\"paid\",\"shipped\","
      "\"delivered\",\"cancelled\"]}" },
    { "items", ORDER_ITEMS_SQL, ORDER_ITEMS_JS },
    { "total_cents", "o.total_cents", "{\"type\":\"integer\",\"minimum\":0}" },
    { "currency", "o.currency", COLL_JS_CURRENCY },
    { "created_at", DB_TS("o.created_at"), COLL_JS_TIME },
    { "updated_at", DB_TS("o.updated_at"), COLL_JS_TIME },
    { "version", "o.version", COLL_JS_VERSION },
};

static const char *const order_statuses[] = { "pending",   "paid",
                                              "shipped",   "delivered",
                                              "cancelled", NULL };

#define BY_USER_SQL                                                            \
    "o.user_id = (SELECT u.id FROM users u WHERE u.public_id = $::uuid)"

/* user_id first: the list of one user's orders has all but it. */
static const coll_filter_t order_filters[] = {
    { .name = "user_id",
      .type = COLL_UUID,
      .sql = BY_USER_SQL,
      .summary =
          "Orders of this user (another user's only with `orders:read_any`)" },
    { .name = "status",
      .type = COLL_ENUM,
      .values = order_statuses,
      .sql = "o.status = $" },
    { .name = "created_after",
      .type = COLL_TIMESTAMP,
      .sql = "o.created_at > $::timestamptz",
      .summary = "Created after this instant" },
    { .name = "created_before",
      .type = COLL_TIMESTAMP,
      .sql = "o.created_at < $::timestamptz",
      .summary = "Created before this instant" },
};

static const coll_sort_t order_sorts[] = {
    { "created_at", "o.created_at", "timestamptz" },
    { "total_cents", "o.total_cents", "bigint" },
};

const coll_schema_t orders_collection = {
    .resource = "orders",
    .from = "orders o",
    .where = NULL,
    .id_sql = "o.public_id",
    .fields = COLL_ROWS(order_fields),
    .filters = COLL_ROWS(order_filters),
    .sorts = COLL_ROWS(order_sorts),
    .default_sort = "-created_at",
    .modes = COLL_OFFSET | COLL_CURSOR,
};

const coll_schema_t user_orders_collection = {
    .resource = "user-orders",
    .from = "orders o",
    .where = NULL,
    .id_sql = "o.public_id",
    .fields = COLL_ROWS(order_fields),
    .filters = order_filters + 1,
    .nfilters = sizeof(order_filters) / sizeof(order_filters[0]) - 1,
    .sorts = COLL_ROWS(order_sorts),
    .default_sort = "-created_at",
    .modes = COLL_OFFSET | COLL_CURSOR,
};

coll_cond_t
orders_of_user(const char *user_id)
{
    coll_cond_t c = { BY_USER_SQL, user_id, NULL };

    return c;
}

keel_rc
orders_get(db_conn_t *c, const char *id, json_object **out, db_error_t *err)
{
    coll_query_t all = { .schema = &orders_collection, .fields = ~0ULL };
    coll_cond_t cond = { "o.public_id = $::uuid", id, NULL };

    return coll_fetch_one(c, &all, &cond, 1, out, err);
}

/* ---- placing an order ---------------------------------------------------- */

DB_STMT(st_order_user, 1,
        "SELECT id FROM users WHERE public_id = $1::uuid "
        "AND deleted_at IS NULL");
/* In id order, as every transaction that locks several products does, so
 * that two orders never wait for each other. */
DB_STMT(st_order_lock, 1,
        "SELECT p.id, p.public_id, p.price_cents, p.currency, p.stock, "
        "p.active FROM products p WHERE p.public_id = ANY ($1::uuid[]) "
        "AND p.deleted_at IS NULL ORDER BY p.id FOR UPDATE");
DB_STMT(st_order_take, 2,
        "UPDATE products p SET stock = p.stock - v.q, "
        "version = p.version + 1, updated_at = now() "
        "FROM unnest($1::bigint[], $2::integer[]) AS v (id, q) "
        "WHERE p.id = v.id");
DB_STMT(st_order_insert, 3,
        "INSERT INTO orders (user_id, total_cents, currency) "
        "VALUES ($1::bigint, $2::bigint, $3) RETURNING id, public_id");
/* The product's sku, name and price as they are now, under the lock. */
DB_STMT(st_order_items, 3,
        "INSERT INTO order_items (order_id, position, product_id, sku, name, "
        "quantity, unit_price_cents) "
        "SELECT $1::bigint, v.pos, p.id, p.sku, p.name, v.q, p.price_cents "
        "FROM unnest($2::bigint[], $3::integer[]) WITH ORDINALITY "
        "AS v (id, q, pos) JOIN products p ON p.id = v.id");

/* A product as the lock read it. */
typedef struct locked {
    const char *id; /* internal id, text */
    const char *public_id;
    long long price, stock;
    const char *currency;
    int active;
} locked_t;

static void
detail(json_object *details, size_t i, const char *member, const char *msg)
{
    char field[48];

    snprintf(field, sizeof(field), "items.%zu.%s", i, member);
    details_add(details, field, msg);
}

/* Check every line against the locked rows (row[i]: line i's product or
 * NULL), reporting every problem: KEEL_EINVAL, KEEL_ECONFLICT or KEEL_OK
 * with *total. */
static keel_rc
check_lines(const order_line_t *lines, size_t n, locked_t *const *row,
            json_object *details, long long *total)
{
    int unknown = 0, mixed = 0, short_ = 0;

    *total = 0;
    for (size_t i = 0; i < n; i++) {
        if (row[i] == NULL) {
            detail(details, i, "product_id", "no such product");
            unknown = 1;
        }
    }
    if (unknown)
        return KEEL_EINVAL;
    for (size_t i = 1; i < n; i++)
        if (strcmp(row[i]->currency, row[0]->currency) != 0)
            mixed = 1;
    if (mixed) {
        details_add(details, "items", "all items must share one currency");
        return KEEL_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        if (!row[i]->active) {
            detail(details, i, "product_id", "the product is not for sale");
            short_ = 1;
        } else if (row[i]->stock < lines[i].quantity) {
            char msg[64];

            snprintf(msg, sizeof(msg), "only %lld left in stock",
                     row[i]->stock);
            detail(details, i, "quantity", msg);
            short_ = 1;
        }
        *total += row[i]->price * lines[i].quantity;
    }
    return short_ ? KEEL_ECONFLICT : KEEL_OK;
}

/* "{a,b,c}": a PostgreSQL array literal of `n` plain tokens (ids and
 * numbers: nothing to quote).  NULL when out of memory. */
static char *
array_text(size_t n, const char *(*at)(const void *, size_t, char *),
           const void *arg)
{
    size_t cap = 2 + n * 40, len = 1;
    char *s = malloc(cap), buf[40];

    if (s == NULL)
        return NULL;
    s[0] = '{';
    for (size_t i = 0; i < n; i++) {
        const char *v = at(arg, i, buf);
        len += (size_t)snprintf(s + len, cap - len, "%s%s", i ? "," : "", v);
    }
    snprintf(s + len, cap - len, "}");
    return s;
}

static const char *
line_product(const void *arg, size_t i, char *buf)
{
    (void)buf;
    return ((const order_line_t *)arg)[i].product_id;
}

static const char *
line_quantity(const void *arg, size_t i, char *buf)
{
    snprintf(buf, 40, "%d", ((const order_line_t *)arg)[i].quantity);
    return buf;
}

static const char *
row_id(const void *arg, size_t i, char *buf)
{
    (void)buf;
    return ((locked_t *const *)arg)[i]->id;
}

static keel_rc
record(db_conn_t *c, const order_events_t *ev, const char *type,
       json_object *order, db_error_t *err)
{
    json_object *id;
    event_spec_t spec = { 0 };

    json_object_object_get_ex(order, "id", &id);
    spec.type = type;
    spec.aggregate_type = "order";
    spec.aggregate_id = json_object_get_string(id);
    spec.data = json_object_to_json_string_ext(order, JSON_C_TO_STRING_PLAIN);
    spec.traceparent = ev->traceparent;
    return event_record(c, ev->cfg, &spec, NULL, NULL, err);
}

/* The rest of orders_create, once the products are locked in `res`. */
static keel_rc
place(db_conn_t *c, const char *user, const order_line_t *lines, size_t n,
      PGresult *res, const order_events_t *ev, json_object *details,
      json_object **out, db_error_t *err)
{
    locked_t rows[ORDER_ITEMS_MAX], *row[ORDER_ITEMS_MAX] = { 0 };
    size_t nrows = (size_t)PQntuples(res);
    char *ids = NULL, *qs = NULL, total[24], order_id[24], public_id[37];
    long long sum;
    PGresult *ins;
    keel_rc rc;

    for (size_t j = 0; j < nrows && j < ORDER_ITEMS_MAX; j++) {
        rows[j].id = PQgetvalue(res, (int)j, 0);
        rows[j].public_id = PQgetvalue(res, (int)j, 1);
        rows[j].price = atoll(PQgetvalue(res, (int)j, 2));
        rows[j].currency = PQgetvalue(res, (int)j, 3);
        rows[j].stock = atoll(PQgetvalue(res, (int)j, 4));
        rows[j].active = strcmp(PQgetvalue(res, (int)j, 5), "t") == 0;
        for (size_t i = 0; i < n; i++)
            if (strcmp(lines[i].product_id, rows[j].public_id) == 0)
                row[i] = &rows[j];
    }
    rc = check_lines(lines, n, row, details, &sum);
    if (rc != KEEL_OK)
        return rc;
    ids = array_text(n, row_id, row);
    qs = array_text(n, line_quantity, lines);
    if (ids == NULL || qs == NULL) {
        rc = KEEL_EINTERNAL;
        snprintf(err->message, sizeof(err->message), "out of memory");
        goto out;
    }
    {
        const char *take[2] = { ids, qs };
        const char *order[3] = { user, total, rows[0].currency };

        snprintf(total, sizeof(total), "%lld", sum);
        rc = db_exec(c, &st_order_take, take, NULL, err);
        if (rc == KEEL_OK)
            rc = db_exec(c, &st_order_insert, order, &ins, err);
        if (rc != KEEL_OK)
            goto out;
        snprintf(order_id, sizeof(order_id), "%s", PQgetvalue(ins, 0, 0));
        snprintf(public_id, sizeof(public_id), "%s", PQgetvalue(ins, 0, 1));
        PQclear(ins);
    }
    {
        const char *items[3] = { order_id, ids, qs };

        rc = db_exec(c, &st_order_items, items, NULL, err);
    }
    if (rc == KEEL_OK)
        rc = orders_get(c, public_id, out, err);
    if (rc == KEEL_OK)
        rc = record(c, ev, "order.created", *out, err);
out:
    free(ids);
    free(qs);
    return rc;
}

keel_rc
orders_create(db_conn_t *c, const char *user_id, const order_line_t *lines,
              size_t n, const order_events_t *ev, json_object *details,
              json_object **out, db_error_t *err)
{
    const char *p[1] = { user_id };
    char user[24], *ids;
    PGresult *res;
    keel_rc rc;

    *out = NULL;
    if (n == 0 || n > ORDER_ITEMS_MAX) {
        details_add(details, "items", "give 1 to 50 items");
        return KEEL_EINVAL;
    }
    rc = db_exec(c, &st_order_user, p, &res, err);
    if (rc != KEEL_OK)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return KEEL_ENOTFOUND;
    }
    snprintf(user, sizeof(user), "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    ids = array_text(n, line_product, lines);
    if (ids == NULL) {
        snprintf(err->message, sizeof(err->message), "out of memory");
        return KEEL_EINTERNAL;
    }
    p[0] = ids;
    rc = db_exec(c, &st_order_lock, p, &res, err);
    free(ids);
    if (rc != KEEL_OK)
        return rc;
    rc = place(c, user, lines, n, res, ev, details, out, err);
    PQclear(res);
    if (rc != KEEL_OK) {
        json_object_put(*out);
        *out = NULL;
    }
    return rc;
}

/* ---- the status machine -------------------------------------------------- */

static const struct {
    const char *from, *to;
} transitions[] = {
    { "pending", "paid" },      { "paid", "shipped" },
    { "shipped", "delivered" }, { "pending", "cancelled" },
    { "paid", "cancelled" },
};

int
order_transition_ok(const char *from, const char *to)
{
    if (from == NULL || to == NULL)
        return 0;
    for (size_t i = 0; i < sizeof(transitions) / sizeof(transitions[0]); i++)
        if (strcmp(transitions[i].from, from) == 0 &&
            strcmp(transitions[i].to, to) == 0)
            return 1;
    return 0;
}

DB_STMT(st_order_for_update, 1,
        "SELECT o.id, o.status, o.version, "
        "(SELECT u.public_id FROM users u WHERE u.id = o.user_id) "
        "FROM orders o WHERE o.public_id = $1::uuid FOR UPDATE");
DB_STMT(st_order_set_status, 2,
        "UPDATE orders SET status = $2, version = version + 1, "
        "updated_at = now() WHERE id = $1::bigint");
/* The products of an order, locked in id order before their stock moves
 * (the order orders_create locks them in). */
DB_STMT(st_order_lock_items, 1,
        "SELECT p.id FROM products p WHERE p.id IN (SELECT i.product_id "
        "FROM order_items i WHERE i.order_id = $1::bigint) "
        "ORDER BY p.id FOR UPDATE");
DB_STMT(st_order_restock, 1,
        "UPDATE products p SET stock = p.stock + i.quantity, "
        "version = p.version + 1, updated_at = now() "
        "FROM order_items i WHERE i.order_id = $1::bigint "
        "AND p.id = i.product_id");

typedef struct transition {
    const char *id, *to;
    const order_actor_t *who;
    long long if_match, version;
    const order_events_t *ev;
    json_object **out;
    db_error_t *err;
} transition_t;

/* Whether `who` may make a legal change of an order of `owner`'s. */
static int
allowed(const order_actor_t *who, const char *owner, const char *from,
        const char *to)
{
    if (who->manage)
        return 1;
    return strcmp(who->user_id, owner) == 0 && strcmp(from, "pending") == 0 &&
           strcmp(to, "cancelled") == 0;
}

static keel_rc
transition_tx(db_conn_t *c, void *arg)
{
    transition_t *t = arg;
    const char *p[2] = { t->id, NULL };
    char id[24], from[16], owner[37];
    long long version;
    PGresult *res;
    keel_rc rc;

    /* A retried transaction drops what the last attempt read. */
    json_object_put(*t->out);
    *t->out = NULL;
    rc = db_exec(c, &st_order_for_update, p, &res, t->err);
    if (rc != KEEL_OK)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return KEEL_ENOTFOUND;
    }
    snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
    snprintf(from, sizeof(from), "%s", PQgetvalue(res, 0, 1));
    version = atoll(PQgetvalue(res, 0, 2));
    snprintf(owner, sizeof(owner), "%s", PQgetvalue(res, 0, 3));
    PQclear(res);
    if (t->if_match >= 0 && t->if_match != version)
        return KEEL_EPRECOND;
    if (t->version >= 0 && t->version != version)
        return KEEL_EVERSION;
    if (!order_transition_ok(from, t->to))
        return KEEL_ECONFLICT;
    if (!allowed(t->who, owner, from, t->to))
        return KEEL_EFORBIDDEN;
    p[0] = id;
    p[1] = t->to;
    rc = db_exec(c, &st_order_set_status, p, NULL, t->err);
    if (rc == KEEL_OK && strcmp(t->to, "cancelled") == 0) {
        rc = db_exec(c, &st_order_lock_items, p, NULL, t->err);
        if (rc == KEEL_OK)
            rc = db_exec(c, &st_order_restock, p, NULL, t->err);
    }
    if (rc == KEEL_OK)
        rc = orders_get(c, t->id, t->out, t->err);
    if (rc == KEEL_OK) {
        char type[32];

        snprintf(type, sizeof(type), "order.%s", t->to);
        rc = record(c, t->ev, type, *t->out, t->err);
    }
    return rc;
}

keel_rc
orders_transition(db_conn_t *c, const char *id, const char *to,
                  const order_actor_t *who, long long if_match,
                  long long version, const order_events_t *ev,
                  json_object **out, db_error_t *err)
{
    transition_t t = { id, to, who, if_match, version, ev, out, err };

    return db_transaction_out(c, transition_tx, &t, out, err);
}
