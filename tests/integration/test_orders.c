/*
 * test_orders.c - orders (API.md 5.4) and idempotent creates (1.6), with
 * the collection, locking and access rules they follow (1.2-1.5, 4),
 * through real nginx -> keeld-test -> PostgreSQL.  It proves:
 *
 * A. Creating: POST /v1/orders takes a bearer token (401 anonymous) and
 *    gives 201 with Location, ETag W/"1" and the whole order: the caller's
 *    user_id, status "pending", the items in request order with the sku,
 *    name and price copied from each product, an integer total (beyond
 *    32 bits too), the currency, version 1; each product's stock goes down
 *    by its quantity; an order.created event is recorded; later price
 *    changes do not touch the order.
 * B. Every bound of the body is a 400 VALIDATION_ERROR naming the member
 *    (1-50 items, quantity 1-1000, distinct well-formed product ids,
 *    unknown members), an unknown or deleted product is a 400 naming
 *    items.<i>.product_id, mixed currencies a 400 naming items; none of
 *    them makes an order or moves stock.  A product id in capitals is the
 *    same id.  50 items are accepted, 51 are not.
 * C. An inactive product is a 409 CONFLICT naming items.<i>.product_id;
 *    short stock is a 409 with one detail items.<i>.quantity per short
 *    item; nothing changes; exactly the stock left may be ordered.
 * D. Concurrency: 20 buyers racing for 5 in stock get exactly 5 orders
 *    and 15 409s and the stock ends at 0; buyers naming two products in
 *    opposite orders all succeed (no deadlock); the database itself
 *    refuses a negative stock.
 * E. Idempotency-Key: malformed keys are 400 naming the header; a repeat
 *    replays status, Location, ETag and the byte-identical body with
 *    Idempotent-Replayed: true and makes nothing; another body is 422
 *    IDEMPOTENCY_KEY_REUSED; concurrent repeats make exactly one order
 *    (the others are replays or 409 CONFLICT); keys are per user; failed
 *    attempts (400, 409) are not kept; expired keys are forgotten.
 * F. PATCH: pending->paid->shipped->delivered and pending|paid->cancelled
 *    with orders:manage, every other transition 409 CONFLICT; the owner
 *    may only cancel a pending order (403 otherwise), other plain users
 *    get 404, anonymous callers 401; every change bumps the version and
 *    ETag and records an order.<status> event; cancelling returns each
 *    item's stock, once, even when cancels race (one 200, the rest 409)
 *    or a cancel races a payment; orders:read_any alone reads but may not
 *    change (403); If-Match 412 and a stale version 409 change nothing;
 *    bad bodies are 400, unknown and malformed ids 404.
 * G. Reading one order and its items: the owner or orders:read_any; 404
 *    for others, 401 anonymous; no-store; ETag and If-None-Match (304);
 *    HEAD; fields.
 * H. Lists: /v1/orders shows a plain caller their own orders and
 *    orders:read_any everything (user_id only then, else 403);
 *    /v1/users/{id}/orders is for that user or orders:read_any (404 for
 *    others); filters status, created_after, created_before; sort
 *    created_at and total_cents; fields; every entry with its items;
 *    offset pages with exact totals and Link; cursor pages, tamper-evident;
 *    bad, unknown and repeated parameters are 400.
 *
 * Every product this suite makes has the category "ocat<pid>" and a sku
 * starting "o<pid>-", every idempotency key carries the pid, and the orders
 * a test counts or lists belong to accounts it made itself, so other
 * suites or runs never disturb a count.  Fixture accounts are made once in
 * main() (registered over the API, given roles by SQL, then logged in).
 * Needs KEEL_TEST_URL and KEEL_TEST_PGURL (run.sh).
 */
#include "keel-build.h"

#include "../unit/unit.h"
#include "api.h"
#include "client.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------ */

typedef enum caller { ANON, USER, USER2, EDITOR, ADMIN, NCALLERS } caller_t;

/* fx[USER], fx[USER2] (plain), fx[EDITOR] (no order permission beyond
 * orders:create), fx[ADMIN] (orders:read_any, orders:manage); fx[ANON] is
 * empty. */
static account_t fx[NCALLERS];

/* The bearer token of `who` (NULL for the anonymous caller). */
static const char *
tok(caller_t who)
{
    return who == ANON ? NULL : fx[who].p.access;
}

/* The first value of the first row of the query `fmt`, ... into out ("" on
 * no row or an error). */
static const char *sqlf(char *out, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static const char *
sqlf(char *out, size_t len, const char *fmt, ...)
{
    char q[4096];
    char *v;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(q, sizeof(q), fmt, ap);
    va_end(ap);
    v = sql1(q);
    snprintf(out, len, "%s", v);
    free(v);
    return out;
}

/* sqlf() as a number (-1 when there is no value). */
static long sqln(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static long
sqln(const char *fmt, ...)
{
    char q[4096], *v;
    long n;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(q, sizeof(q), fmt, ap);
    va_end(ap);
    v = sql1(q);
    n = v[0] != '\0' ? strtol(v, NULL, 10) : -1;
    free(v);
    return n;
}

/* A product made by SQL (category "ocat<pid>"), its id into `id`; 0 or -1.
 * The sku is "o<pid>-<n>-<what>", the name "Order <what>". */
static int
mkprod(const char *what, long price, const char *currency, long stock,
       int active, char id[37])
{
    sqlf(id, 37,
         "INSERT INTO products (sku, name, category, price_cents, currency, "
         "stock, active) VALUES ('o%ld-%d-%s', 'Order %s', 'ocat%ld', %ld, "
         "'%s', %ld, %s) RETURNING public_id",
         (long)getpid(), api_serial(), what, what, (long)getpid(), price,
         currency, stock, active ? "true" : "false");
    if (strlen(id) != 36) {
        fprintf(stderr, "\n    mkprod %s failed\n", what);
        return -1;
    }
    return 0;
}

/* The stock of product `id` (SQL; -1 when there is none). */
static long
stock_of(const char *id)
{
    return sqln("SELECT stock FROM products WHERE public_id = '%s'", id);
}

/* How many orders the user `uid` (public id) has (SQL). */
static long
orders_of(const char *uid)
{
    return sqln("SELECT count(*) FROM orders o JOIN users u ON u.id = "
                "o.user_id WHERE u.public_id = '%s'",
                uid);
}

/* The types of the events of order `id`, oldest first, comma-separated. */
static const char *
events_of(const char *id, char *out, size_t len)
{
    return sqlf(out, len,
                "SELECT coalesce(string_agg(type, ',' ORDER BY id), '') FROM "
                "events WHERE aggregate_type = 'order' AND aggregate_id = '%s'",
                id);
}

/* An order body: n items of ids[i] with quantities qty[i]. */
static const char *
items_body(char *out, size_t len, int n, const char *const *ids, const int *qty)
{
    size_t o = (size_t)snprintf(out, len, "{\"items\":[");

    for (int i = 0; i < n && o < len; i++)
        o += (size_t)snprintf(out + o, len - o,
                              "%s{\"product_id\":\"%s\",\"quantity\":%d}",
                              i ? "," : "", ids[i], qty[i]);
    if (o < len)
        snprintf(out + o, len - o, "]}");
    return out;
}

/* An order body of one item. */
static const char *
one_body(char *out, size_t len, const char *id, int qty)
{
    const char *ids[1] = { id };

    return items_body(out, len, 1, ids, &qty);
}

/* POST `body` to /v1/orders with `bearer` and, unless NULL, the
 * Idempotency-Key `key`.  Fills *r; the status. */
static long
place(const char *bearer, const char *body, const char *key, http_resp_t *r)
{
    char h[1200];

    if (key == NULL)
        return call("POST", "/v1/orders", bearer, body, r);
    snprintf(h, sizeof(h), "Idempotency-Key: %s", key);
    return call_h("POST", "/v1/orders", bearer, body, h, r);
}

/* place() without a key; the new order's id into `id` ("" unless 201). */
static long
place_id(const char *bearer, const char *body, char id[37])
{
    return create_at("/v1/orders", bearer, body, id);
}

/* place() with the key `key`; the order's id into `id` ("" unless 201). */
static long
place_key_id(const char *bearer, const char *body, const char *key, char id[37])
{
    http_resp_t r;
    long status = place(bearer, body, key, &r);

    snprintf(id, 37, "%s",
             status == 201 ? nz(json_path_str(r.json, "data.id")) : "");
    resp_free(&r);
    return status;
}

/* The Idempotent-Replayed header of `r`, or NULL without one. */
static const char *
replayed(const http_resp_t *r)
{
    static char hv[64];

    return resp_header(r, "Idempotent-Replayed", hv, sizeof(hv));
}

/* A fresh plain account tagged "orders-<what>" into *b and a product
 * "<what>" (mkprod(): USD, active) into p; the test stops unless both are
 * made. */
static void
buyer_and_product(account_t *b, const char *what, long price, long stock,
                  char p[37])
{
    char tag[64];

    snprintf(tag, sizeof(tag), "orders-%s", what);
    CU_ASSERT_EQUAL_FATAL(make_account(b, tag, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(mkprod(what, price, "USD", stock, 1, p), 0);
}

/* An order of `qty` of product `pid` by `bearer`: its id; 0 or -1. */
static int
mkorder(const char *bearer, const char *pid, int qty, char id[37])
{
    char body[256];

    one_body(body, sizeof(body), pid, qty);
    return place_id(bearer, body, id) == 201 ? 0 : -1;
}

/* A fresh idempotency key: "k<pid>-<n>-<what>". */
static const char *
key_of(const char *what, char *out, size_t len)
{
    snprintf(out, len, "k%ld-%d-%s", (long)getpid(), api_serial(), what);
    return out;
}

/* GET `path` with `bearer`. */
static long
get(const char *path, const char *bearer, http_resp_t *r)
{
    return call("GET", path, bearer, NULL, r);
}

/* GET /v1/orders/{id} with `bearer`. */
static long
get_order(const char *id, const char *bearer, http_resp_t *r)
{
    return get_one("/v1/orders", id, bearer, r);
}

/* The status and version of order `id` as the admin (status "" and -1 when
 * it is not found). */
static int
state_of(const char *id, char *status, size_t len)
{
    http_resp_t r;
    int v = -1;

    snprintf(status, len, "%s", "");
    if (get_order(id, tok(ADMIN), &r) == 200) {
        v = json_object_get_int(json_path(r.json, "data.version"));
        snprintf(status, len, "%s", nz(json_path_str(r.json, "data.status")));
    }
    resp_free(&r);
    return v;
}

/* PATCH /v1/orders/{id} with {"status":`status`} (and "version" when
 * version > 0) and, unless NULL, one extra header line.  The status. */
static long
patch_status(const char *id, const char *bearer, const char *status,
             int version, const char *extra, http_resp_t *r)
{
    char path[128], body[128];

    snprintf(path, sizeof(path), "/v1/orders/%.64s", id);
    if (version > 0)
        snprintf(body, sizeof(body), "{\"status\":\"%s\",\"version\":%d}",
                 status, version);
    else
        snprintf(body, sizeof(body), "{\"status\":\"%s\"}", status);
    return call_h("PATCH", path, bearer, body, extra, r);
}

/* patch_status() without the response. */
static long
patch_s(const char *id, const char *bearer, const char *status)
{
    http_resp_t r;
    long s = patch_status(id, bearer, status, 0, NULL, &r);

    resp_free(&r);
    return s;
}

/* A 409 CONFLICT naming exactly the fields `fields` (n of them). */
static void
assert_conflict(const http_resp_t *r, const char *const *fields, int n)
{
    json_object *d;
    int ok = 1;

    assert_envelope(r, 409, "CONFLICT");
    d = json_path(r->json, "error.details");
    for (int i = 0; i < n; i++)
        if (!has_detail(r, fields[i]))
            ok = 0;
    if (!json_object_is_type(d, json_type_array) ||
        (int)json_object_array_length(d) != n)
        ok = 0;
    CU_ASSERT_TRUE(ok);
    if (!ok)
        fprintf(stderr, "\n    expected %d detail(s) (%s, ...): %s\n", n,
                n ? fields[0] : "", r->body);
}

/* An order of `body` by `bearer` is a 409 CONFLICT naming `field` alone. */
static void
assert_conflict_on(const char *bearer, const char *body, const char *field)
{
    http_resp_t r;

    place(bearer, body, NULL, &r);
    assert_conflict(&r, &field, 1);
    resp_free(&r);
}

/* ---- A: creating -------------------------------------------------------- */

static const char *const order_keys[] = {
    "id",       "user_id",    "status",     "items",   "total_cents",
    "currency", "created_at", "updated_at", "version",
};
#define NORDERKEYS (sizeof(order_keys) / sizeof(order_keys[0]))

static const char *const item_keys[] = {
    "product_id", "sku", "name", "quantity", "unit_price_cents",
};
#define NITEMKEYS (sizeof(item_keys) / sizeof(item_keys[0]))

/* `it` is an order item with exactly the fields of API.md 5.4. */
static void
assert_item_shape(json_object *it)
{
    assert_exact_members(it, item_keys, NITEMKEYS, "item");
    CU_ASSERT_EQUAL(strlen(nz(json_path_str(it, "product_id"))), 36);
    CU_ASSERT_PTR_NOT_NULL(json_path_str(it, "sku"));
    CU_ASSERT_PTR_NOT_NULL(json_path_str(it, "name"));
    CU_ASSERT_TRUE(
        json_object_is_type(json_path(it, "quantity"), json_type_int));
    CU_ASSERT_TRUE(
        json_object_is_type(json_path(it, "unit_price_cents"), json_type_int));
}

/* `o` is an order with exactly the fields of API.md 5.4, well formed. */
static void
assert_order_shape(json_object *o)
{
    json_object *items;

    assert_exact_members(o, order_keys, NORDERKEYS, "order");
    CU_ASSERT_EQUAL(strlen(nz(json_path_str(o, "id"))), 36);
    CU_ASSERT_EQUAL(strlen(nz(json_path_str(o, "user_id"))), 36);
    CU_ASSERT_PTR_NOT_NULL(json_path_str(o, "status"));
    CU_ASSERT_PTR_NOT_NULL(json_path_str(o, "currency"));
    CU_ASSERT_TRUE(
        json_object_is_type(json_path(o, "total_cents"), json_type_int));
    CU_ASSERT_TRUE(json_object_is_type(json_path(o, "version"), json_type_int));
    CU_ASSERT_TRUE(is_instant(json_path_str(o, "created_at")));
    CU_ASSERT_TRUE(is_instant(json_path_str(o, "updated_at")));
    items = json_path(o, "items");
    CU_ASSERT_TRUE_FATAL(json_object_is_type(items, json_type_array));
    for (size_t i = 0; i < json_object_array_length(items); i++)
        assert_item_shape(json_object_array_get_idx(items, i));
}

/* Item i of `o` is `qty` of product `pid` at `price`, with its sku and
 * name as the products table has them now. */
static void
assert_item(json_object *o, int i, const char *pid, int qty, long price)
{
    char path[32], sku[128], name[256];
    json_object *it;

    snprintf(path, sizeof(path), "items.%d", i);
    it = json_path(o, path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(it);
    sqlf(sku, sizeof(sku), "SELECT sku FROM products WHERE public_id = '%s'",
         pid);
    sqlf(name, sizeof(name), "SELECT name FROM products WHERE public_id = '%s'",
         pid);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(it, "product_id")), pid);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(it, "sku")), sku);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(it, "name")), name);
    CU_ASSERT_EQUAL(json_object_get_int(json_path(it, "quantity")), qty);
    CU_ASSERT_EQUAL(json_object_get_int64(json_path(it, "unit_price_cents")),
                    price);
    if (strcmp(nz(json_path_str(it, "product_id")), pid) != 0)
        fprintf(stderr, "\n    item %d is %s, not %s\n", i,
                nz(json_path_str(it, "product_id")), pid);
}

static void
test_create_gives_the_whole_order(void)
{
    char p1[37], p2[37], p3[37], body[1024], id[37], path[128];
    char ev[256], apid[37], pbody[512], sku[96];
    const char *ids[3];
    const int qty[3] = { 3, 2, 1 };
    http_resp_t r, g;

    /* Three products; ordered in an order that is neither that of their
     * creation nor that of their ids. */
    CU_ASSERT_EQUAL_FATAL(mkprod("first", 1999, "EUR", 10, 1, p1), 0);
    CU_ASSERT_EQUAL_FATAL(mkprod("second", 500, "EUR", 4, 1, p2), 0);
    CU_ASSERT_EQUAL_FATAL(mkprod("third", 12345, "EUR", 3, 1, p3), 0);
    ids[0] = p3;
    ids[1] = p1;
    ids[2] = p2;
    items_body(body, sizeof(body), 3, ids, qty);
    place(tok(USER), body, NULL, &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 201);
    assert_order_shape(json_path(r.json, "data"));
    snprintf(id, sizeof(id), "%s", nz(json_path_str(r.json, "data.id")));
    assert_created(&r, "/v1/orders", path, sizeof(path));
    CU_ASSERT_PTR_NULL(replayed(&r));
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.user_id")),
                           fx[USER].id);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.status")), "pending");
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.currency")), "EUR");
    CU_ASSERT_EQUAL(json_object_get_int(json_path(r.json, "data.version")), 1);
    CU_ASSERT_EQUAL(json_object_array_length(json_path(r.json, "data.items")),
                    3);
    assert_item(json_path(r.json, "data"), 0, p3, 3, 12345);
    assert_item(json_path(r.json, "data"), 1, p1, 2, 1999);
    assert_item(json_path(r.json, "data"), 2, p2, 1, 500);
    CU_ASSERT_EQUAL(
        json_object_get_int64(json_path(r.json, "data.total_cents")),
        3L * 12345 + 2L * 1999 + 500);
    /* The stock went down by each quantity. */
    CU_ASSERT_EQUAL(stock_of(p3), 0);
    CU_ASSERT_EQUAL(stock_of(p1), 8);
    CU_ASSERT_EQUAL(stock_of(p2), 3);
    /* One order.created event. */
    CU_ASSERT_STRING_EQUAL(events_of(id, ev, sizeof(ev)), "order.created");
    /* The Location reads back the same order. */
    assert_reads_back(path, tok(USER), &r);
    /* A later price or name change does not touch the order. */
    sqln("UPDATE products SET price_cents = 1, name = 'Renamed' WHERE "
         "public_id = '%s' RETURNING 1",
         p1);
    get(path, tok(USER), &g);
    CU_ASSERT_EQUAL(g.status, 200);
    CU_ASSERT_EQUAL(
        json_object_get_int(json_path(g.json, "data.items.1.unit_price_cents")),
        1999);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(g.json, "data.items.1.name")),
                           "Order first");
    CU_ASSERT_EQUAL(
        json_object_get_int64(json_path(g.json, "data.total_cents")),
        3L * 12345 + 2L * 1999 + 500);
    resp_free(&g);
    resp_free(&r);
    /* A product made over the API, ordered by the editor (orders:create
     * is every user's); its stock read back over the API. */
    snprintf(sku, sizeof(sku), "o%ld-%d-api", (long)getpid(), api_serial());
    snprintf(pbody, sizeof(pbody),
             "{\"sku\":\"%s\",\"name\":\"Api Product\","
             "\"category\":\"ocat%ld\",\"price_cents\":250,"
             "\"currency\":\"USD\",\"stock\":7,\"active\":true}",
             sku, (long)getpid());
    call("POST", "/v1/products", tok(ADMIN), pbody, &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 201);
    snprintf(apid, sizeof(apid), "%s", nz(json_path_str(r.json, "data.id")));
    resp_free(&r);
    one_body(body, sizeof(body), apid, 4);
    place(tok(EDITOR), body, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 201);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.user_id")),
                           fx[EDITOR].id);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.currency")), "USD");
    CU_ASSERT_EQUAL(
        json_object_get_int64(json_path(r.json, "data.total_cents")), 1000);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.items.0.sku")), sku);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.items.0.name")),
                           "Api Product");
    resp_free(&r);
    snprintf(path, sizeof(path), "/v1/products/%s", apid);
    get(path, tok(ADMIN), &r);
    CU_ASSERT_EQUAL(json_object_get_int(json_path(r.json, "data.stock")), 3);
    resp_free(&r);
    /* Anonymous: 401 with the Bearer challenge; nothing taken. */
    assert_challenged("POST", "/v1/orders", body);
    assert_refused("POST", "/v1/orders", "not.a.token", body, 401,
                   "UNAUTHORIZED");
    CU_ASSERT_EQUAL(stock_of(apid), 3);
}

static void
test_totals_are_exact_integers(void)
{
    char p[37], body[256], id[37];
    http_resp_t r;

    /* 1000 at the highest price: 10^11, past 32 bits. */
    CU_ASSERT_EQUAL_FATAL(mkprod("dear", 100000000, "USD", 1000, 1, p), 0);
    one_body(body, sizeof(body), p, 1000);
    place(tok(USER), body, NULL, &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 201);
    CU_ASSERT_TRUE(json_object_is_type(json_path(r.json, "data.total_cents"),
                                       json_type_int));
    CU_ASSERT_EQUAL(
        json_object_get_int64(json_path(r.json, "data.total_cents")),
        100000000000LL);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"total_cents\":100000000000"));
    snprintf(id, sizeof(id), "%s", nz(json_path_str(r.json, "data.id")));
    resp_free(&r);
    CU_ASSERT_EQUAL(stock_of(p), 0);
    get_order(id, tok(USER), &r);
    CU_ASSERT_EQUAL(
        json_object_get_int64(json_path(r.json, "data.total_cents")),
        100000000000LL);
    resp_free(&r);
}

/* ---- B: the bounds ------------------------------------------------------ */

/* POST `body` as `who`: a 400 VALIDATION_ERROR naming `field` (exactly,
 * or with `prefix` also something under it). */
static void
refused(const char *bearer, const char *body, const char *field, int prefix)
{
    http_resp_t r;

    place(bearer, body, NULL, &r);
    if (prefix)
        assert_invalid_in(&r, field);
    else
        assert_invalid(&r, field);
    if (r.status != 400 || !has_detail_in(&r, field, prefix))
        fprintf(stderr, "    (POST %.300s)\n", body);
    resp_free(&r);
}

static void
test_create_enforces_every_bound(void)
{
    char p[37], q[37], body[8192], item[512];
    account_t b;
    http_resp_t r;

    CU_ASSERT_EQUAL_FATAL(make_account(&b, "orders-bounds", NULL), 0);
    CU_ASSERT_EQUAL_FATAL(mkprod("bound", 100, "USD", 5000, 1, p), 0);
    CU_ASSERT_EQUAL_FATAL(mkprod("bound2", 100, "USD", 5000, 1, q), 0);
    /* items: required, an array of 1-50 objects */
    refused(b.p.access, "{}", "items", 1);
    refused(b.p.access, "{\"items\":null}", "items", 1);
    refused(b.p.access, "{\"items\":{}}", "items", 1);
    refused(b.p.access, "{\"items\":\"x\"}", "items", 1);
    refused(b.p.access, "{\"items\":[]}", "items", 1);
    refused(b.p.access, "{\"items\":[5]}", "items", 1);
    refused(b.p.access, "{\"items\":[null]}", "items", 1);
    /* quantity: required, an integer 1-1000 */
    static const char *const bad_qty[] = { "0",     "-1",   "1001", "1.5",
                                           "\"2\"", "null", "true", "1e2" };
    for (size_t i = 0; i < sizeof(bad_qty) / sizeof(bad_qty[0]); i++) {
        snprintf(body, sizeof(body),
                 "{\"items\":[{\"product_id\":\"%s\",\"quantity\":1},"
                 "{\"product_id\":\"%s\",\"quantity\":%s}]}",
                 q, p, bad_qty[i]);
        refused(b.p.access, body, "items.1.quantity", 0);
    }
    snprintf(body, sizeof(body), "{\"items\":[{\"product_id\":\"%s\"}]}", p);
    refused(b.p.access, body, "items.0.quantity", 0);
    /* product_id: required, a UUID */
    static const char *const bad_pid[] = {
        "\"not-a-uuid\"",
        "\"\"",
        "5",
        "null",
        "\"00000000-0000-4000-8000-00000000000\"",
    };
    for (size_t i = 0; i < sizeof(bad_pid) / sizeof(bad_pid[0]); i++) {
        snprintf(body, sizeof(body),
                 "{\"items\":[{\"product_id\":%s,\"quantity\":1}]}",
                 bad_pid[i]);
        refused(b.p.access, body, "items.0.product_id", 0);
    }
    refused(b.p.access, "{\"items\":[{\"quantity\":1}]}", "items.0.product_id",
            0);
    /* product ids distinct */
    snprintf(body, sizeof(body),
             "{\"items\":[{\"product_id\":\"%s\",\"quantity\":1},"
             "{\"product_id\":\"%s\",\"quantity\":2}]}",
             p, p);
    refused(b.p.access, body, "items", 1);
    /* Unknown members, in the body and in an item; read-only ones too. */
    snprintf(body, sizeof(body),
             "{\"items\":[{\"product_id\":\"%s\",\"quantity\":1,"
             "\"unit_price_cents\":1}]}",
             p);
    refused(b.p.access, body, "items", 1);
    static const char *const extra[] = { "nope", "status", "user_id",
                                         "total_cents", "currency" };
    for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
        snprintf(body, sizeof(body),
                 "{\"items\":[{\"product_id\":\"%s\",\"quantity\":1}],"
                 "\"%s\":\"x\"}",
                 p, extra[i]);
        refused(b.p.access, body, extra[i], 0);
    }
    /* 51 items: too many (the count is checked before the products). */
    {
        size_t o = (size_t)snprintf(body, sizeof(body), "{\"items\":[");
        for (int i = 0; i < 51; i++) {
            char u[37];
            snprintf(u, sizeof(u), "00000000-0000-4000-8000-%012d", i + 1);
            o += (size_t)snprintf(body + o, sizeof(body) - o,
                                  "%s{\"product_id\":\"%s\",\"quantity\":1}",
                                  i ? "," : "", u);
        }
        snprintf(body + o, sizeof(body) - o, "]}");
        refused(b.p.access, body, "items", 1);
    }
    /* Not JSON, not an object, not JSON by its content type. */
    assert_refused("POST", "/v1/orders", b.p.access, "{\"items\":", 400,
                   "BAD_REQUEST");
    assert_refused("POST", "/v1/orders", b.p.access, "[1]", 400, "BAD_REQUEST");
    one_body(item, sizeof(item), p, 1);
    call_typed("POST", "/v1/orders", b.p.access, "text/plain", item, &r);
    assert_envelope(&r, 415, "UNSUPPORTED_MEDIA_TYPE");
    resp_free(&r);
    /* None of that made an order or moved stock. */
    CU_ASSERT_EQUAL(orders_of(b.id), 0);
    CU_ASSERT_EQUAL(stock_of(p), 5000);
    CU_ASSERT_EQUAL(stock_of(q), 5000);
    /* The highest bounds are accepted: quantity 1000 ... */
    snprintf(body, sizeof(body),
             "{\"items\":[{\"product_id\":\"%s\",\"quantity\":1000},"
             "{\"quantity\":1,\"product_id\":\"%s\"}]}",
             p, q);
    place(b.p.access, body, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 201);
    if (r.status != 201)
        fprintf(stderr, "\n    quantity 1000: %ld %s\n", r.status, r.body);
    CU_ASSERT_EQUAL(
        json_object_get_int(json_path(r.json, "data.items.0.quantity")), 1000);
    CU_ASSERT_EQUAL(
        json_object_get_int64(json_path(r.json, "data.total_cents")), 100100);
    resp_free(&r);
    CU_ASSERT_EQUAL(stock_of(p), 4000);
    CU_ASSERT_EQUAL(stock_of(q), 4999);
    CU_ASSERT_EQUAL(orders_of(b.id), 1);
    /* A UUID in capitals is the same id: the same product, and a repeat. */
    {
        char up[37];
        for (int i = 0; i < 37; i++)
            up[i] =
                q[i] >= 'a' && q[i] <= 'f' ? (char)(q[i] - 'a' + 'A') : q[i];
        snprintf(body, sizeof(body),
                 "{\"items\":[{\"product_id\":\"%s\",\"quantity\":1},"
                 "{\"product_id\":\"%s\",\"quantity\":1}]}",
                 q, up);
        refused(b.p.access, body, "items", 1);
        CU_ASSERT_EQUAL(stock_of(q), 4999);
        one_body(body, sizeof(body), up, 1);
        place(b.p.access, body, NULL, &r);
        CU_ASSERT_EQUAL(r.status, 201);
        CU_ASSERT_STRING_EQUAL(
            nz(json_path_str(r.json, "data.items.0.product_id")), q);
        resp_free(&r);
        CU_ASSERT_EQUAL(stock_of(q), 4998);
        CU_ASSERT_EQUAL(orders_of(b.id), 2);
    }
}

static void
test_fifty_items_and_not_fiftyone(void)
{
    char body[8192], q[512], id[37];
    char ids[51][37];
    long price[51], total = 0;
    PGresult *res;
    account_t b;
    http_resp_t r;
    int ok = 1;

    CU_ASSERT_EQUAL_FATAL(make_account(&b, "orders-fifty", NULL), 0);
    snprintf(q, sizeof(q),
             "INSERT INTO products (sku, name, category, price_cents, "
             "currency, stock) SELECT 'o%ld-fifty-' || g, 'Fifty ' || g, "
             "'ocat%ld', g * 7, 'GBP', 3 FROM generate_series(1, 51) g "
             "RETURNING public_id, price_cents",
             (long)getpid(), (long)getpid());
    res = PQexec(api_pg(), q);
    CU_ASSERT_EQUAL_FATAL(PQresultStatus(res), PGRES_TUPLES_OK);
    CU_ASSERT_EQUAL_FATAL(PQntuples(res), 51);
    for (int i = 0; i < 51; i++) {
        snprintf(ids[i], 37, "%s", PQgetvalue(res, i, 0));
        price[i] = strtol(PQgetvalue(res, i, 1), NULL, 10);
    }
    PQclear(res);
    /* 51 real products: 400, nothing changes. */
    {
        size_t o = (size_t)snprintf(body, sizeof(body), "{\"items\":[");
        for (int i = 0; i < 51; i++)
            o += (size_t)snprintf(body + o, sizeof(body) - o,
                                  "%s{\"product_id\":\"%s\",\"quantity\":2}",
                                  i ? "," : "", ids[i]);
        snprintf(body + o, sizeof(body) - o, "]}");
    }
    refused(b.p.access, body, "items", 1);
    CU_ASSERT_EQUAL(orders_of(b.id), 0);
    /* 50: one order of 50 items, in request order, the exact total. */
    {
        size_t o = (size_t)snprintf(body, sizeof(body), "{\"items\":[");
        for (int i = 0; i < 50; i++) {
            o += (size_t)snprintf(body + o, sizeof(body) - o,
                                  "%s{\"product_id\":\"%s\",\"quantity\":%d}",
                                  i ? "," : "", ids[49 - i], i % 3 + 1);
            total += price[49 - i] * (i % 3 + 1);
        }
        snprintf(body + o, sizeof(body) - o, "]}");
    }
    place(b.p.access, body, NULL, &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 201);
    CU_ASSERT_EQUAL(json_object_array_length(json_path(r.json, "data.items")),
                    50);
    for (int i = 0; i < 50; i++) {
        char path[48];
        snprintf(path, sizeof(path), "data.items.%d.product_id", i);
        if (strcmp(nz(json_path_str(r.json, path)), ids[49 - i]) != 0)
            ok = 0;
        snprintf(path, sizeof(path), "data.items.%d.quantity", i);
        if (json_object_get_int(json_path(r.json, path)) != i % 3 + 1)
            ok = 0;
    }
    CU_ASSERT_TRUE(ok);
    CU_ASSERT_EQUAL(
        json_object_get_int64(json_path(r.json, "data.total_cents")), total);
    snprintf(id, sizeof(id), "%s", nz(json_path_str(r.json, "data.id")));
    resp_free(&r);
    CU_ASSERT_EQUAL(orders_of(b.id), 1);
    CU_ASSERT_EQUAL(sqln("SELECT count(*) FROM order_items i JOIN orders o ON "
                         "o.id = i.order_id WHERE o.public_id = '%s'",
                         id),
                    50);
    CU_ASSERT_EQUAL(stock_of(ids[49]), 2);
    CU_ASSERT_EQUAL(stock_of(ids[48]), 1);
    CU_ASSERT_EQUAL(stock_of(ids[47]), 0);
    CU_ASSERT_EQUAL(stock_of(ids[50]), 3);
}

static void
test_unknown_products_and_mixed_currencies(void)
{
    char p[37], d[37], e[37], body[1024];
    const char *ids[3];
    const int qty[3] = { 1, 1, 1 };
    account_t b;
    char one[37];

    CU_ASSERT_EQUAL_FATAL(make_account(&b, "orders-unknown", NULL), 0);
    CU_ASSERT_EQUAL_FATAL(mkprod("known", 100, "USD", 10, 1, p), 0);
    CU_ASSERT_EQUAL_FATAL(mkprod("deleted", 100, "USD", 10, 1, d), 0);
    CU_ASSERT_EQUAL_FATAL(mkprod("euro", 100, "EUR", 10, 1, e), 0);
    sqln("UPDATE products SET deleted_at = now() WHERE public_id = '%s' "
         "RETURNING 1",
         d);
    /* An id no product has, at index 1: items.1.product_id. */
    ids[0] = p;
    ids[1] = NOBODY_ID;
    items_body(body, sizeof(body), 2, ids, qty);
    refused(b.p.access, body, "items.1.product_id", 0);
    /* A deleted product, at index 0 and at index 2. */
    one_body(body, sizeof(body), d, 1);
    refused(b.p.access, body, "items.0.product_id", 0);
    {
        char p2[37];
        CU_ASSERT_EQUAL_FATAL(mkprod("known2", 100, "USD", 10, 1, p2), 0);
        ids[0] = p;
        ids[1] = p2;
        ids[2] = d;
        items_body(body, sizeof(body), 3, ids, qty);
        refused(b.p.access, body, "items.2.product_id", 0);
        CU_ASSERT_EQUAL(stock_of(p2), 10);
    }
    /* Two currencies: 400 naming items. */
    ids[0] = p;
    ids[1] = e;
    items_body(body, sizeof(body), 2, ids, qty);
    refused(b.p.access, body, "items", 0);
    /* Nothing happened. */
    CU_ASSERT_EQUAL(orders_of(b.id), 0);
    CU_ASSERT_EQUAL(stock_of(p), 10);
    CU_ASSERT_EQUAL(stock_of(d), 10);
    CU_ASSERT_EQUAL(stock_of(e), 10);
    /* Each alone is fine (but the deleted one). */
    CU_ASSERT_EQUAL(mkorder(b.p.access, e, 1, one), 0);
    CU_ASSERT_EQUAL(mkorder(b.p.access, p, 1, one), 0);
    CU_ASSERT_EQUAL(orders_of(b.id), 2);
}

/* ---- C: inactive products and short stock -------------------------------- */

static void
test_inactive_and_short_stock_are_conflicts(void)
{
    char a[37], s1[37], ok[37], s2[37], off[37], body[1024], id[37];
    const char *ids[3];
    int qty[3];
    account_t b;
    http_resp_t r;

    CU_ASSERT_EQUAL_FATAL(make_account(&b, "orders-short", NULL), 0);
    CU_ASSERT_EQUAL_FATAL(mkprod("short1", 100, "USD", 2, 1, s1), 0);
    CU_ASSERT_EQUAL_FATAL(mkprod("plenty", 100, "USD", 50, 1, ok), 0);
    CU_ASSERT_EQUAL_FATAL(mkprod("short2", 100, "USD", 0, 1, s2), 0);
    CU_ASSERT_EQUAL_FATAL(mkprod("off", 100, "USD", 50, 0, off), 0);
    CU_ASSERT_EQUAL_FATAL(mkprod("avail", 100, "USD", 50, 1, a), 0);
    /* An inactive product at index 1: 409 naming items.1.product_id. */
    ids[0] = a;
    ids[1] = off;
    qty[0] = qty[1] = 1;
    items_body(body, sizeof(body), 2, ids, qty);
    assert_conflict_on(b.p.access, body, "items.1.product_id");
    /* Two short items around one with enough: one detail each. */
    ids[0] = s1;
    ids[1] = ok;
    ids[2] = s2;
    qty[0] = 3;
    qty[1] = 50;
    qty[2] = 1;
    items_body(body, sizeof(body), 3, ids, qty);
    place(b.p.access, body, NULL, &r);
    {
        const char *const f[2] = { "items.0.quantity", "items.2.quantity" };
        assert_conflict(&r, f, 2);
        CU_ASSERT_FALSE(has_detail(&r, "items.1.quantity"));
    }
    resp_free(&r);
    /* One short item. */
    one_body(body, sizeof(body), s1, 3);
    assert_conflict_on(b.p.access, body, "items.0.quantity");
    /* Nothing changed. */
    CU_ASSERT_EQUAL(orders_of(b.id), 0);
    CU_ASSERT_EQUAL(stock_of(s1), 2);
    CU_ASSERT_EQUAL(stock_of(ok), 50);
    CU_ASSERT_EQUAL(stock_of(s2), 0);
    CU_ASSERT_EQUAL(stock_of(off), 50);
    CU_ASSERT_EQUAL(stock_of(a), 50);
    /* Exactly what is left may be ordered; then nothing more. */
    ids[0] = s1;
    ids[1] = ok;
    qty[0] = 2;
    qty[1] = 50;
    items_body(body, sizeof(body), 2, ids, qty);
    CU_ASSERT_EQUAL(place_id(b.p.access, body, id), 201);
    CU_ASSERT_EQUAL(stock_of(s1), 0);
    CU_ASSERT_EQUAL(stock_of(ok), 0);
    one_body(body, sizeof(body), ok, 1);
    assert_conflict_on(b.p.access, body, "items.0.quantity");
    CU_ASSERT_EQUAL(orders_of(b.id), 1);
    /* Made active again, the inactive one may be ordered. */
    sqln("UPDATE products SET active = true WHERE public_id = '%s' RETURNING 1",
         off);
    CU_ASSERT_EQUAL(mkorder(b.p.access, off, 5, id), 0);
    CU_ASSERT_EQUAL(stock_of(off), 45);
    CU_ASSERT_EQUAL(orders_of(b.id), 2);
}

/* ---- D: concurrency ------------------------------------------------------ */

#define NBUYERS 20
static account_t buyers[NBUYERS];
static int buyers_made;

/* The 20 buyers (plain users), made once. */
static int
make_buyers(void)
{
    if (buyers_made)
        return buyers_made > 0 ? 0 : -1;
    buyers_made = -1;
    for (int i = 0; i < NBUYERS; i++)
        if (make_account(&buyers[i], "orders-buyer", NULL) != 0)
            return -1;
    buyers_made = 1;
    return 0;
}

/* rc as an order by `bearer` (POST /v1/orders) with the Idempotency-Key
 * `key` (NULL: none); its body is the caller's to write. */
static void
order_racer(racer_t *rc, const char *bearer, const char *key)
{
    rc->method = "POST";
    rc->path = "/v1/orders";
    rc->bearer = bearer;
    if (key != NULL)
        snprintf(rc->extra, sizeof(rc->extra), "Idempotency-Key: %s", key);
}

static void
test_concurrent_orders_never_oversell(void)
{
    char p[37], ids[1024] = "";
    racer_t rc[NBUYERS];
    int n201 = 0, n409 = 0, other = 0;

    CU_ASSERT_EQUAL_FATAL(make_buyers(), 0);
    CU_ASSERT_EQUAL_FATAL(mkprod("scarce", 700, "USD", 5, 1, p), 0);
    memset(rc, 0, sizeof(rc));
    for (int i = 0; i < NBUYERS; i++) {
        order_racer(&rc[i], buyers[i].p.access, NULL);
        one_body(rc[i].body, sizeof(rc[i].body), p, 1);
    }
    race_all(rc, NBUYERS);
    for (int i = 0; i < NBUYERS; i++) {
        if (rc[i].status == 201)
            n201++;
        else if (rc[i].status == 409 && strcmp(rc[i].code, "CONFLICT") == 0 &&
                 has_detail(&rc[i].r, "items.0.quantity"))
            n409++;
        else {
            other++;
            fprintf(stderr, "\n    buyer %d: %ld %.300s\n", i, rc[i].status,
                    nz(rc[i].r.body));
        }
    }
    free_racers(rc, NBUYERS);
    CU_ASSERT_EQUAL(n201, 5);
    CU_ASSERT_EQUAL(n409, 15);
    CU_ASSERT_EQUAL(other, 0);
    if (n201 != 5 || n409 != 15)
        fprintf(stderr, "\n    %d orders, %d conflicts, %d others\n", n201,
                n409, other);
    CU_ASSERT_EQUAL(stock_of(p), 0);
    CU_ASSERT_EQUAL(sqln("SELECT count(*) FROM order_items i JOIN products p "
                         "ON p.id = i.product_id WHERE p.public_id = '%s'",
                         p),
                    5);
    CU_ASSERT_EQUAL(sqln("SELECT coalesce(sum(quantity), 0) FROM order_items "
                         "i JOIN products p ON p.id = i.product_id WHERE "
                         "p.public_id = '%s'",
                         p),
                    5);
    /* Each winner has exactly one order of it. */
    for (int i = 0; i < NBUYERS; i++) {
        size_t o = strlen(ids);
        snprintf(ids + o, sizeof(ids) - o, "%s'%s'", i ? "," : "",
                 buyers[i].id);
    }
    CU_ASSERT_EQUAL(sqln("SELECT count(*) FROM orders o JOIN users u ON u.id "
                         "= o.user_id JOIN order_items i ON i.order_id = o.id "
                         "JOIN products p ON p.id = i.product_id WHERE "
                         "p.public_id = '%s' AND u.public_id IN (%s)",
                         p, ids),
                    5);
}

static void
test_products_are_locked_in_a_fixed_order(void)
{
    char a[37], b[37];
    racer_t rc[NBUYERS];
    int n201 = 0;

    CU_ASSERT_EQUAL_FATAL(make_buyers(), 0);
    CU_ASSERT_EQUAL_FATAL(mkprod("lock-a", 10, "USD", 100, 1, a), 0);
    CU_ASSERT_EQUAL_FATAL(mkprod("lock-b", 20, "USD", 100, 1, b), 0);
    for (int round = 0; round < 2; round++) {
        memset(rc, 0, sizeof(rc));
        for (int i = 0; i < NBUYERS; i++) {
            const char *ids[2] = { i % 2 ? a : b, i % 2 ? b : a };
            const int qty[2] = { 1, 1 };
            order_racer(&rc[i], buyers[i].p.access, NULL);
            items_body(rc[i].body, sizeof(rc[i].body), 2, ids, qty);
        }
        race_all(rc, NBUYERS);
        for (int i = 0; i < NBUYERS; i++) {
            if (rc[i].status == 201)
                n201++;
            else
                fprintf(stderr, "\n    round %d buyer %d: %ld %.300s\n", round,
                        i, rc[i].status, nz(rc[i].r.body));
        }
        free_racers(rc, NBUYERS);
    }
    CU_ASSERT_EQUAL(n201, 2 * NBUYERS);
    CU_ASSERT_EQUAL(stock_of(a), 100 - n201);
    CU_ASSERT_EQUAL(stock_of(b), 100 - n201);
}

static void
test_the_database_refuses_negative_stock(void)
{
    char p[37], q[256];
    PGresult *res;

    CU_ASSERT_EQUAL_FATAL(mkprod("check", 10, "USD", 3, 1, p), 0);
    snprintf(q, sizeof(q),
             "UPDATE products SET stock = -1 WHERE public_id = '%s'", p);
    res = PQexec(api_pg(), q);
    CU_ASSERT_EQUAL(PQresultStatus(res), PGRES_FATAL_ERROR);
    /* check_violation */
    CU_ASSERT_STRING_EQUAL(nz(PQresultErrorField(res, PG_DIAG_SQLSTATE)),
                           "23514");
    PQclear(res);
    snprintf(q, sizeof(q),
             "UPDATE products SET stock = stock - 4 WHERE public_id = '%s'", p);
    res = PQexec(api_pg(), q);
    CU_ASSERT_EQUAL(PQresultStatus(res), PGRES_FATAL_ERROR);
    PQclear(res);
    CU_ASSERT_EQUAL(stock_of(p), 3);
}

/* ---- E: Idempotency-Key -------------------------------------------------- */

static void
test_malformed_keys_are_400(void)
{
    char p[37], body[256], key[300], h[400], id[37];
    account_t b;
    http_resp_t r;

    buyer_and_product(&b, "badkey", 100, 10, p);
    one_body(body, sizeof(body), p, 1);
    /* 256 characters. */
    snprintf(key, sizeof(key), "k%ld-", (long)getpid());
    memset(key + strlen(key), 'x', 256 - strlen(key));
    key[256] = '\0';
    place(b.p.access, body, key, &r);
    assert_invalid(&r, "Idempotency-Key");
    resp_free(&r);
    /* A tab, a non-ASCII character, DEL. */
    static const char *const bad[] = { "a\tb", "caf\xc3\xa9", "x\x7fy" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(h, sizeof(h), "k%ld-%s", (long)getpid(), bad[i]);
        place(b.p.access, body, h, &r);
        assert_invalid(&r, "Idempotency-Key");
        if (r.status != 400)
            fprintf(stderr, "    (key %zu)\n", i);
        resp_free(&r);
    }
    CU_ASSERT_EQUAL(orders_of(b.id), 0);
    CU_ASSERT_EQUAL(stock_of(p), 10);
    /* 255 printable characters, punctuation among them: fine. */
    key[255] = '\0';
    key[20] = '~';
    key[21] = '!';
    key[22] = '/';
    CU_ASSERT_EQUAL(place_key_id(b.p.access, body, key, id), 201);
    place(b.p.access, body, key, &r);
    CU_ASSERT_EQUAL(r.status, 201);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.id")), id);
    CU_ASSERT_STRING_EQUAL(nz(replayed(&r)), "true");
    resp_free(&r);
    CU_ASSERT_EQUAL(orders_of(b.id), 1);
    CU_ASSERT_EQUAL(stock_of(p), 9);
}

static void
test_a_repeated_key_replays_the_answer(void)
{
    char p[37], body[256], key[96], loc[128], etag[64], hv[128], id[37];
    account_t b;
    http_resp_t first, again;

    buyer_and_product(&b, "replay", 300, 10, p);
    one_body(body, sizeof(body), p, 2);
    key_of("replay", key, sizeof(key));
    place(b.p.access, body, key, &first);
    CU_ASSERT_EQUAL_FATAL(first.status, 201);
    CU_ASSERT_PTR_NULL(replayed(&first));
    snprintf(loc, sizeof(loc), "%s",
             nz(resp_header(&first, "Location", hv, sizeof(hv))));
    snprintf(etag, sizeof(etag), "%s",
             nz(resp_header(&first, "ETag", hv, sizeof(hv))));
    snprintf(id, sizeof(id), "%s", nz(json_path_str(first.json, "data.id")));
    CU_ASSERT_STRING_EQUAL(etag, "W/\"1\"");
    /* Twice more: the same answer, marked as a replay. */
    for (int i = 0; i < 2; i++) {
        place(b.p.access, body, key, &again);
        CU_ASSERT_EQUAL(again.status, 201);
        CU_ASSERT_STRING_EQUAL(
            nz(resp_header(&again, "Location", hv, sizeof(hv))), loc);
        CU_ASSERT_STRING_EQUAL(nz(resp_header(&again, "ETag", hv, sizeof(hv))),
                               etag);
        CU_ASSERT_STRING_EQUAL(nz(replayed(&again)), "true");
        CU_ASSERT_STRING_EQUAL(
            nz(resp_header(&again, "Content-Type", hv, sizeof(hv))),
            "application/json; charset=utf-8");
        assert_security_headers(&again);
        CU_ASSERT_EQUAL(again.body_len, first.body_len);
        CU_ASSERT_STRING_EQUAL(again.body, first.body);
        if (strcmp(again.body, first.body) != 0)
            fprintf(stderr, "\n    replay differs:\n    %s\n    %s\n",
                    first.body, again.body);
        resp_free(&again);
    }
    CU_ASSERT_EQUAL(orders_of(b.id), 1);
    CU_ASSERT_EQUAL(stock_of(p), 8);
    /* After the order changed, the replay is still the first answer. */
    CU_ASSERT_EQUAL(patch_s(id, b.p.access, "cancelled"), 200);
    CU_ASSERT_EQUAL(stock_of(p), 10);
    place(b.p.access, body, key, &again);
    CU_ASSERT_EQUAL(again.status, 201);
    CU_ASSERT_STRING_EQUAL(again.body, first.body);
    CU_ASSERT_STRING_EQUAL(nz(replayed(&again)), "true");
    resp_free(&again);
    CU_ASSERT_EQUAL(orders_of(b.id), 1);
    CU_ASSERT_EQUAL(stock_of(p), 10);
    /* Without the key, the same body is a new order. */
    place(b.p.access, body, NULL, &again);
    CU_ASSERT_EQUAL(again.status, 201);
    CU_ASSERT_STRING_NOT_EQUAL(nz(json_path_str(again.json, "data.id")), id);
    resp_free(&again);
    CU_ASSERT_EQUAL(orders_of(b.id), 2);
    CU_ASSERT_EQUAL(stock_of(p), 8);
    resp_free(&first);
}

static void
test_a_reused_key_with_another_body_is_422(void)
{
    char p[37], body[256], other[256], key[96], id[37];
    account_t b;
    http_resp_t r;

    buyer_and_product(&b, "reuse", 100, 10, p);
    key_of("reuse", key, sizeof(key));
    one_body(body, sizeof(body), p, 1);
    CU_ASSERT_EQUAL_FATAL(place_key_id(b.p.access, body, key, id), 201);
    one_body(other, sizeof(other), p, 2);
    place(b.p.access, other, key, &r);
    assert_envelope(&r, 422, "IDEMPOTENCY_KEY_REUSED");
    resp_free(&r);
    /* An invalid body with that key: still 422 or 400, never an order. */
    place(b.p.access, "{\"items\":[]}", key, &r);
    CU_ASSERT_TRUE(r.status == 422 || r.status == 400);
    resp_free(&r);
    CU_ASSERT_EQUAL(orders_of(b.id), 1);
    CU_ASSERT_EQUAL(stock_of(p), 9);
    /* The first body still replays the first order. */
    place(b.p.access, body, key, &r);
    CU_ASSERT_EQUAL(r.status, 201);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.id")), id);
    resp_free(&r);
    CU_ASSERT_EQUAL(orders_of(b.id), 1);
}

static void
test_concurrent_repeats_make_one_order(void)
{
    char p[37], key[96];
    racer_t rc[8];
    account_t b;
    int good_rounds = 0;

    buyer_and_product(&b, "samekey", 100, 1000, p);
    for (int round = 0; round < 5; round++) {
        int n201 = 0, n409 = 0, other = 0, same = 1;
        const char *loc = NULL, *answer = NULL;
        char uid[128];

        key_of("race", key, sizeof(key));
        memset(rc, 0, sizeof(rc));
        for (int i = 0; i < 8; i++) {
            order_racer(&rc[i], b.p.access, key);
            one_body(rc[i].body, sizeof(rc[i].body), p, 3);
        }
        race_all(rc, 8);
        for (int i = 0; i < 8; i++) {
            if (rc[i].status == 201) {
                n201++;
                /* Every 201, original or replay, is the one order. */
                if (loc == NULL) {
                    loc = rc[i].location;
                    answer = rc[i].r.body;
                } else if (strcmp(loc, rc[i].location) != 0 ||
                           strcmp(answer, rc[i].r.body) != 0) {
                    same = 0;
                }
            } else if (rc[i].status == 409 &&
                       strcmp(rc[i].code, "CONFLICT") == 0) {
                n409++;
            } else {
                other++;
                fprintf(stderr, "\n    round %d racer %d: %ld %.300s\n", round,
                        i, rc[i].status, nz(rc[i].r.body));
            }
        }
        CU_ASSERT_TRUE(n201 >= 1);
        CU_ASSERT_EQUAL(n201 + n409, 8);
        CU_ASSERT_EQUAL(other, 0);
        CU_ASSERT_TRUE(same);
        CU_ASSERT_EQUAL(orders_of(b.id), round + 1);
        CU_ASSERT_EQUAL(stock_of(p), 1000 - 3 * (round + 1));
        /* A replay now answers the one order. */
        {
            http_resp_t r;
            place(b.p.access, rc[0].body, key, &r);
            CU_ASSERT_EQUAL(r.status, 201);
            CU_ASSERT_STRING_EQUAL(
                nz(resp_header(&r, "Location", uid, sizeof(uid))), nz(loc));
            CU_ASSERT_STRING_EQUAL(nz(replayed(&r)), "true");
            resp_free(&r);
        }
        if (n201 >= 1 && n201 + n409 == 8 && same &&
            orders_of(b.id) == round + 1)
            good_rounds++;
        free_racers(rc, 8);
    }
    CU_ASSERT_EQUAL(good_rounds, 5);
    CU_ASSERT_EQUAL(orders_of(b.id), 5);
}

static void
test_keys_are_per_user(void)
{
    char p[37], body[256], key[96], id1[37], id2[37];
    account_t a, b;
    http_resp_t r;

    CU_ASSERT_EQUAL_FATAL(make_account(&a, "orders-key-a", NULL), 0);
    CU_ASSERT_EQUAL_FATAL(make_account(&b, "orders-key-b", NULL), 0);
    CU_ASSERT_EQUAL_FATAL(mkprod("peruser", 100, "USD", 10, 1, p), 0);
    key_of("shared", key, sizeof(key));
    one_body(body, sizeof(body), p, 1);
    CU_ASSERT_EQUAL_FATAL(place_key_id(a.p.access, body, key, id1), 201);
    /* Another user, the same key and body: an order of their own. */
    place(b.p.access, body, key, &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 201);
    snprintf(id2, sizeof(id2), "%s", nz(json_path_str(r.json, "data.id")));
    CU_ASSERT_STRING_NOT_EQUAL(id1, id2);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.user_id")), b.id);
    CU_ASSERT_PTR_NULL(replayed(&r));
    resp_free(&r);
    /* Another user, the same key and another body: not 422. */
    {
        account_t c;
        char other[256];
        CU_ASSERT_EQUAL_FATAL(make_account(&c, "orders-key-c", NULL), 0);
        one_body(other, sizeof(other), p, 2);
        place(c.p.access, other, key, &r);
        CU_ASSERT_EQUAL(r.status, 201);
        resp_free(&r);
        CU_ASSERT_EQUAL(orders_of(c.id), 1);
    }
    CU_ASSERT_EQUAL(orders_of(a.id), 1);
    CU_ASSERT_EQUAL(orders_of(b.id), 1);
    CU_ASSERT_EQUAL(stock_of(p), 6);
    /* Each replays their own. */
    place(a.p.access, body, key, &r);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.id")), id1);
    resp_free(&r);
    place(b.p.access, body, key, &r);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.id")), id2);
    resp_free(&r);
    CU_ASSERT_EQUAL(stock_of(p), 6);
}

static void
test_failed_attempts_are_not_kept(void)
{
    char p[37], body[256], key[96], key2[96];
    account_t b;
    http_resp_t r;

    buyer_and_product(&b, "failed", 100, 1, p);
    key_of("short", key, sizeof(key));
    one_body(body, sizeof(body), p, 3);
    /* Short stock: 409, and again 409 (not a replay). */
    for (int i = 0; i < 2; i++) {
        place(b.p.access, body, key, &r);
        assert_envelope(&r, 409, "CONFLICT");
        CU_ASSERT_PTR_NULL(replayed(&r));
        resp_free(&r);
    }
    CU_ASSERT_EQUAL(orders_of(b.id), 0);
    /* More stock: the same key and body now make the order. */
    sqln("UPDATE products SET stock = 10 WHERE public_id = '%s' RETURNING 1",
         p);
    place(b.p.access, body, key, &r);
    CU_ASSERT_EQUAL(r.status, 201);
    CU_ASSERT_PTR_NULL(replayed(&r));
    resp_free(&r);
    CU_ASSERT_EQUAL(orders_of(b.id), 1);
    CU_ASSERT_EQUAL(stock_of(p), 7);
    /* A 400 is not kept either: the key is free for a good body. */
    key_of("invalid", key2, sizeof(key2));
    place(b.p.access, "{\"items\":[]}", key2, &r);
    assert_invalid_in(&r, "items");
    resp_free(&r);
    place(b.p.access, body, key2, &r);
    CU_ASSERT_EQUAL(r.status, 201);
    CU_ASSERT_PTR_NULL(replayed(&r));
    resp_free(&r);
    CU_ASSERT_EQUAL(orders_of(b.id), 2);
    CU_ASSERT_EQUAL(stock_of(p), 4);
}

static void
test_expired_keys_are_forgotten(void)
{
    char p[37], body[256], other[256], key[96], id1[37], id2[37];
    account_t b;
    http_resp_t r;

    buyer_and_product(&b, "expired", 100, 10, p);
    key_of("expiring", key, sizeof(key));
    one_body(body, sizeof(body), p, 1);
    one_body(other, sizeof(other), p, 2);
    CU_ASSERT_EQUAL_FATAL(place_key_id(b.p.access, body, key, id1), 201);
    /* Kept for 24 hours. */
    CU_ASSERT_EQUAL(sqln("SELECT count(*) FROM idempotency_keys WHERE key = "
                         "'%s' AND expires_at > now() + interval '23 hours' "
                         "AND expires_at <= now() + interval '25 hours'",
                         key),
                    1);
    CU_ASSERT_EQUAL(sqln("UPDATE idempotency_keys SET expires_at = now() - "
                         "interval '1 second' WHERE key = '%s' RETURNING 1",
                         key),
                    1);
    /* Expired: another body is a new order, not 422. */
    place(b.p.access, other, key, &r);
    CU_ASSERT_EQUAL(r.status, 201);
    if (r.status != 201)
        fprintf(stderr, "\n    expired key: %ld %s\n", r.status, r.body);
    snprintf(id2, sizeof(id2), "%s", nz(json_path_str(r.json, "data.id")));
    CU_ASSERT_STRING_NOT_EQUAL(id1, id2);
    CU_ASSERT_PTR_NULL(replayed(&r));
    resp_free(&r);
    CU_ASSERT_EQUAL(orders_of(b.id), 2);
    CU_ASSERT_EQUAL(stock_of(p), 7);
    /* And the key now stands for the new one. */
    place(b.p.access, other, key, &r);
    CU_ASSERT_EQUAL(r.status, 201);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.id")), id2);
    CU_ASSERT_STRING_EQUAL(nz(replayed(&r)), "true");
    resp_free(&r);
    place(b.p.access, body, key, &r);
    assert_envelope(&r, 422, "IDEMPOTENCY_KEY_REUSED");
    resp_free(&r);
    /* Expired again: the same body is a new order too. */
    sqln("UPDATE idempotency_keys SET expires_at = now() - interval '1 "
         "second' WHERE key = '%s' RETURNING 1",
         key);
    place(b.p.access, other, key, &r);
    CU_ASSERT_EQUAL(r.status, 201);
    CU_ASSERT_STRING_NOT_EQUAL(nz(json_path_str(r.json, "data.id")), id2);
    CU_ASSERT_PTR_NULL(replayed(&r));
    resp_free(&r);
    CU_ASSERT_EQUAL(orders_of(b.id), 3);
    CU_ASSERT_EQUAL(stock_of(p), 5);
}

/* ---- F: PATCH ------------------------------------------------------------ */

/* PATCH `id` to `status` as `bearer`: `want` with code `code`; the order's
 * status and version as the admin sees them afterwards are `after` and
 * `version`. */
static void
patch_gives(const char *id, const char *bearer, const char *status, long want,
            const char *code, const char *after, int version)
{
    char st[32];
    http_resp_t r;
    int v;

    patch_status(id, bearer, status, 0, NULL, &r);
    if (code != NULL)
        assert_envelope(&r, want, code);
    else
        CU_ASSERT_EQUAL(r.status, want);
    if (r.status != want)
        fprintf(stderr, "\n    PATCH to %s: %ld, not %ld: %.300s\n", status,
                r.status, want, r.body);
    resp_free(&r);
    v = state_of(id, st, sizeof(st));
    CU_ASSERT_STRING_EQUAL(st, after);
    CU_ASSERT_EQUAL(v, version);
}

static void
test_the_owner_may_only_cancel_a_pending_order(void)
{
    char p[37], id[37], id2[37], ev[256];
    account_t o, other;
    http_resp_t r;

    CU_ASSERT_EQUAL_FATAL(make_account(&o, "orders-owner", NULL), 0);
    CU_ASSERT_EQUAL_FATAL(make_account(&other, "orders-other", NULL), 0);
    CU_ASSERT_EQUAL_FATAL(mkprod("owner", 100, "USD", 20, 1, p), 0);
    CU_ASSERT_EQUAL_FATAL(mkorder(o.p.access, p, 2, id), 0);
    /* The owner: not pending->paid (403). */
    patch_gives(id, o.p.access, "paid", 403, "FORBIDDEN", "pending", 1);
    /* Others who may not read it: 404; anonymous 401; nothing changes. */
    patch_gives(id, other.p.access, "cancelled", 404, "NOT_FOUND", "pending",
                1);
    patch_gives(id, tok(USER2), "cancelled", 404, "NOT_FOUND", "pending", 1);
    patch_gives(id, tok(EDITOR), "cancelled", 404, "NOT_FOUND", "pending", 1);
    patch_gives(id, tok(EDITOR), "paid", 404, "NOT_FOUND", "pending", 1);
    patch_gives(id, NULL, "cancelled", 401, "UNAUTHORIZED", "pending", 1);
    CU_ASSERT_EQUAL(stock_of(p), 18);
    /* The owner cancels it: 200, version 2, the stock back. */
    patch_status(id, o.p.access, "cancelled", 0, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.status")),
                           "cancelled");
    assert_version(&r, 2);
    assert_order_shape(json_path(r.json, "data"));
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.id")), id);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.user_id")), o.id);
    resp_free(&r);
    CU_ASSERT_EQUAL(stock_of(p), 20);
    CU_ASSERT_STRING_EQUAL(events_of(id, ev, sizeof(ev)),
                           "order.created,order.cancelled");
    /* Cancelled is final, for the owner too. */
    patch_gives(id, o.p.access, "cancelled", 409, "CONFLICT", "cancelled", 2);
    CU_ASSERT_EQUAL(stock_of(p), 20);
    /* Paid by the admin, the owner may no longer cancel (403) nor ship. */
    CU_ASSERT_EQUAL_FATAL(mkorder(o.p.access, p, 1, id2), 0);
    patch_gives(id2, tok(ADMIN), "paid", 200, NULL, "paid", 2);
    patch_gives(id2, o.p.access, "cancelled", 403, "FORBIDDEN", "paid", 2);
    patch_gives(id2, o.p.access, "shipped", 403, "FORBIDDEN", "paid", 2);
    patch_gives(id2, other.p.access, "cancelled", 404, "NOT_FOUND", "paid", 2);
    CU_ASSERT_EQUAL(stock_of(p), 19);
    CU_ASSERT_STRING_EQUAL(events_of(id2, ev, sizeof(ev)),
                           "order.created,order.paid");
}

static void
test_the_admin_walks_the_legal_transitions(void)
{
    char p[37], id[37], c1[37], c2[37], ev[256];
    http_resp_t r;
    static const char *const all[] = { "pending", "paid", "shipped",
                                       "delivered", "cancelled" };
    /* What may follow each status (in all[] order). */
    static const char *const next[5][2] = {
        { "paid", "cancelled" }, { "shipped", "cancelled" },
        { "delivered", NULL },   { NULL, NULL },
        { NULL, NULL },
    };
    const char *walk[] = { "paid", "shipped", "delivered" };
    int version = 1;

    CU_ASSERT_EQUAL_FATAL(mkprod("walk", 100, "USD", 20, 1, p), 0);
    CU_ASSERT_EQUAL_FATAL(mkorder(tok(USER), p, 1, id), 0);
    /* At each step every illegal status is 409 and changes nothing. */
    for (int step = 0; step <= 3; step++) {
        const char *cur = step == 0 ? "pending" : walk[step - 1];
        int ci = 0;
        for (int k = 0; k < 5; k++)
            if (strcmp(all[k], cur) == 0)
                ci = k;
        for (int k = 0; k < 5; k++) {
            if ((next[ci][0] && strcmp(all[k], next[ci][0]) == 0) ||
                (next[ci][1] && strcmp(all[k], next[ci][1]) == 0))
                continue;
            patch_gives(id, tok(ADMIN), all[k], 409, "CONFLICT", cur, version);
            if (stock_of(p) != 19)
                fprintf(stderr, "\n    %s->%s moved stock\n", cur, all[k]);
            CU_ASSERT_EQUAL(stock_of(p), 19);
        }
        if (step == 3)
            break;
        patch_status(id, tok(ADMIN), walk[step], 0, NULL, &r);
        CU_ASSERT_EQUAL(r.status, 200);
        version++;
        CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.status")),
                               walk[step]);
        assert_version(&r, version);
        CU_ASSERT_EQUAL(
            json_object_array_length(json_path(r.json, "data.items")), 1);
        resp_free(&r);
    }
    CU_ASSERT_STRING_EQUAL(
        events_of(id, ev, sizeof(ev)),
        "order.created,order.paid,order.shipped,order.delivered");
    CU_ASSERT_EQUAL(stock_of(p), 19);
    /* The admin cancels pending and paid orders of others. */
    CU_ASSERT_EQUAL_FATAL(mkorder(tok(USER), p, 2, c1), 0);
    CU_ASSERT_EQUAL_FATAL(mkorder(tok(USER2), p, 3, c2), 0);
    CU_ASSERT_EQUAL(stock_of(p), 14);
    patch_gives(c1, tok(ADMIN), "cancelled", 200, NULL, "cancelled", 2);
    CU_ASSERT_EQUAL(stock_of(p), 16);
    patch_gives(c2, tok(ADMIN), "paid", 200, NULL, "paid", 2);
    patch_gives(c2, tok(ADMIN), "cancelled", 200, NULL, "cancelled", 3);
    CU_ASSERT_EQUAL(stock_of(p), 19);
    /* Nothing follows cancelled. */
    for (int k = 0; k < 5; k++)
        patch_gives(c2, tok(ADMIN), all[k], 409, "CONFLICT", "cancelled", 3);
    CU_ASSERT_EQUAL(stock_of(p), 19);
    CU_ASSERT_STRING_EQUAL(events_of(c1, ev, sizeof(ev)),
                           "order.created,order.cancelled");
    CU_ASSERT_STRING_EQUAL(events_of(c2, ev, sizeof(ev)),
                           "order.created,order.paid,order.cancelled");
}

static void
test_cancelling_returns_the_stock_once(void)
{
    char a[37], b[37], off[37], body[1024], id[37], id2[37];
    const char *ids[3];
    const int qty[3] = { 2, 3, 4 };
    account_t o;

    CU_ASSERT_EQUAL_FATAL(make_account(&o, "orders-restock", NULL), 0);
    CU_ASSERT_EQUAL_FATAL(mkprod("restock-a", 100, "USD", 10, 1, a), 0);
    CU_ASSERT_EQUAL_FATAL(mkprod("restock-b", 200, "USD", 10, 1, b), 0);
    CU_ASSERT_EQUAL_FATAL(mkprod("restock-off", 300, "USD", 10, 1, off), 0);
    ids[0] = a;
    ids[1] = b;
    ids[2] = off;
    items_body(body, sizeof(body), 3, ids, qty);
    /* Pending, cancelled by the owner. */
    CU_ASSERT_EQUAL_FATAL(place_id(o.p.access, body, id), 201);
    CU_ASSERT_EQUAL(stock_of(a), 8);
    CU_ASSERT_EQUAL(stock_of(b), 7);
    CU_ASSERT_EQUAL(stock_of(off), 6);
    /* Stock moved meanwhile by others is kept; a deactivated product gets
     * its stock back too. */
    sqln("UPDATE products SET stock = stock + 100 WHERE public_id = '%s' "
         "RETURNING 1",
         b);
    sqln("UPDATE products SET active = false WHERE public_id = '%s' "
         "RETURNING 1",
         off);
    CU_ASSERT_EQUAL(patch_s(id, o.p.access, "cancelled"), 200);
    CU_ASSERT_EQUAL(stock_of(a), 10);
    CU_ASSERT_EQUAL(stock_of(b), 110);
    CU_ASSERT_EQUAL(stock_of(off), 10);
    /* Only once. */
    CU_ASSERT_EQUAL(patch_s(id, o.p.access, "cancelled"), 409);
    CU_ASSERT_EQUAL(patch_s(id, tok(ADMIN), "cancelled"), 409);
    CU_ASSERT_EQUAL(stock_of(a), 10);
    CU_ASSERT_EQUAL(stock_of(b), 110);
    CU_ASSERT_EQUAL(stock_of(off), 10);
    /* Paid, cancelled by the admin. */
    sqln("UPDATE products SET active = true WHERE public_id = '%s' "
         "RETURNING 1",
         off);
    CU_ASSERT_EQUAL_FATAL(place_id(o.p.access, body, id2), 201);
    CU_ASSERT_EQUAL(stock_of(a), 8);
    CU_ASSERT_EQUAL(stock_of(b), 107);
    CU_ASSERT_EQUAL(stock_of(off), 6);
    CU_ASSERT_EQUAL(patch_s(id2, tok(ADMIN), "paid"), 200);
    CU_ASSERT_EQUAL(stock_of(a), 8);
    CU_ASSERT_EQUAL(patch_s(id2, tok(ADMIN), "cancelled"), 200);
    CU_ASSERT_EQUAL(stock_of(a), 10);
    CU_ASSERT_EQUAL(stock_of(b), 110);
    CU_ASSERT_EQUAL(stock_of(off), 10);
    CU_ASSERT_EQUAL(patch_s(id2, tok(ADMIN), "cancelled"), 409);
    CU_ASSERT_EQUAL(stock_of(a), 10);
    /* Shipped or delivered orders are not cancelled: stock stays. */
    CU_ASSERT_EQUAL_FATAL(place_id(o.p.access, body, id), 201);
    CU_ASSERT_EQUAL(patch_s(id, tok(ADMIN), "paid"), 200);
    CU_ASSERT_EQUAL(patch_s(id, tok(ADMIN), "shipped"), 200);
    CU_ASSERT_EQUAL(patch_s(id, tok(ADMIN), "cancelled"), 409);
    CU_ASSERT_EQUAL(patch_s(id, tok(ADMIN), "delivered"), 200);
    CU_ASSERT_EQUAL(patch_s(id, tok(ADMIN), "cancelled"), 409);
    CU_ASSERT_EQUAL(stock_of(a), 8);
    CU_ASSERT_EQUAL(stock_of(b), 107);
    CU_ASSERT_EQUAL(stock_of(off), 6);
}

static void
test_racing_changes_make_one_change(void)
{
    char p[37], id[37], path[128], ev[256], st[32];
    racer_t rc[4];
    account_t o;
    int good = 0;

    buyer_and_product(&o, "racecancel", 100, 100, p);
    /* The owner twice and the admin twice cancel one order at once: one
     * 200, three 409s, the stock back once. */
    for (int round = 0; round < 5; round++) {
        int n200 = 0, n409 = 0;

        CU_ASSERT_EQUAL_FATAL(mkorder(o.p.access, p, 2, id), 0);
        CU_ASSERT_EQUAL(stock_of(p), 98);
        snprintf(path, sizeof(path), "/v1/orders/%s", id);
        memset(rc, 0, sizeof(rc));
        for (int i = 0; i < 4; i++) {
            rc[i].method = "PATCH";
            rc[i].path = path;
            rc[i].bearer = i % 2 ? tok(ADMIN) : o.p.access;
            snprintf(rc[i].body, sizeof(rc[i].body),
                     "{\"status\":\"cancelled\"}");
        }
        race_all(rc, 4);
        for (int i = 0; i < 4; i++) {
            if (rc[i].status == 200)
                n200++;
            else if (rc[i].status == 409 && strcmp(rc[i].code, "CONFLICT") == 0)
                n409++;
            else
                fprintf(stderr, "\n    round %d racer %d: %ld %.300s\n", round,
                        i, rc[i].status, nz(rc[i].r.body));
        }
        free_racers(rc, 4);
        CU_ASSERT_EQUAL(n200, 1);
        CU_ASSERT_EQUAL(n409, 3);
        CU_ASSERT_EQUAL(stock_of(p), 100);
        CU_ASSERT_EQUAL(state_of(id, st, sizeof(st)), 2);
        CU_ASSERT_STRING_EQUAL(events_of(id, ev, sizeof(ev)),
                               "order.created,order.cancelled");
        if (n200 == 1 && n409 == 3 && stock_of(p) == 100)
            good++;
    }
    CU_ASSERT_EQUAL(good, 5);
    /* The admin pays while the owner cancels: one of them wins, and the
     * stock follows the winner. */
    for (int round = 0; round < 5; round++) {
        int paid, cancelled;

        CU_ASSERT_EQUAL_FATAL(mkorder(o.p.access, p, 3, id), 0);
        snprintf(path, sizeof(path), "/v1/orders/%s", id);
        memset(rc, 0, sizeof(rc));
        for (int i = 0; i < 2; i++) {
            rc[i].method = "PATCH";
            rc[i].path = path;
            rc[i].bearer = i ? tok(ADMIN) : o.p.access;
            snprintf(rc[i].body, sizeof(rc[i].body), "{\"status\":\"%s\"}",
                     i ? "paid" : "cancelled");
        }
        race_all(rc, 2);
        cancelled = rc[0].status == 200 && rc[1].status == 409 &&
                    strcmp(rc[1].code, "CONFLICT") == 0;
        paid = rc[1].status == 200 && rc[0].status == 403 &&
               strcmp(rc[0].code, "FORBIDDEN") == 0;
        CU_ASSERT_TRUE(paid || cancelled);
        if (!paid && !cancelled)
            fprintf(stderr, "\n    cancel %ld %s, pay %ld %s\n", rc[0].status,
                    rc[0].code, rc[1].status, rc[1].code);
        free_racers(rc, 2);
        state_of(id, st, sizeof(st));
        CU_ASSERT_STRING_EQUAL(st, cancelled ? "cancelled" : "paid");
        CU_ASSERT_EQUAL(stock_of(p), cancelled ? 100 : 97);
        /* Put the stock back for the next round. */
        if (!cancelled)
            CU_ASSERT_EQUAL(patch_s(id, tok(ADMIN), "cancelled"), 200);
        CU_ASSERT_EQUAL(stock_of(p), 100);
    }
}

static void
test_read_any_alone_reads_but_does_not_change(void)
{
    char p[37], id[37], role[64], path[160], body[128], st[32];
    account_t rd;
    http_resp_t r;

    snprintf(role, sizeof(role), "orders-reader-%ld", (long)getpid());
    snprintf(path, sizeof(path), "/v1/roles/%s", role);
    CU_ASSERT_EQUAL_FATAL(status_of("PUT", path, tok(ADMIN),
                                    "{\"permissions\":[\"orders:read_any\"]}"),
                          201);
    CU_ASSERT_EQUAL_FATAL(make_account(&rd, "orders-reader", role), 0);
    CU_ASSERT_EQUAL_FATAL(mkprod("reader", 100, "USD", 10, 1, p), 0);
    CU_ASSERT_EQUAL_FATAL(mkorder(tok(USER2), p, 1, id), 0);
    /* Each worker checks for role changes at most once a second
     * (RBAC_CHECK_INTERVAL): past that, every worker's next check, so its
     * next request, knows the new role. */
    usleep(1500000);
    /* It reads the order, its items and the lists of its owner. */
    get_order(id, rd.p.access, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.user_id")),
                           fx[USER2].id);
    resp_free(&r);
    snprintf(path, sizeof(path), "/v1/orders/%s/items", id);
    get(path, rd.p.access, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_EQUAL(data_len(&r), 1);
    resp_free(&r);
    snprintf(path, sizeof(path), "/v1/orders?user_id=%s&limit=100",
             fx[USER2].id);
    get(path, rd.p.access, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_TRUE(index_of(&r, id) >= 0);
    resp_free(&r);
    snprintf(path, sizeof(path), "/v1/users/%s/orders?limit=100", fx[USER2].id);
    get(path, rd.p.access, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_TRUE(index_of(&r, id) >= 0);
    resp_free(&r);
    /* It may read but not change: 403, nothing changes. */
    static const char *const to[] = { "paid", "cancelled" };
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof(path), "/v1/orders/%s", id);
        snprintf(body, sizeof(body), "{\"status\":\"%s\"}", to[i]);
        assert_refused("PATCH", path, rd.p.access, body, 403, "FORBIDDEN");
    }
    CU_ASSERT_EQUAL(state_of(id, st, sizeof(st)), 1);
    CU_ASSERT_STRING_EQUAL(st, "pending");
    CU_ASSERT_EQUAL(stock_of(p), 9);
    /* The role goes again. */
    sqln("DELETE FROM user_roles WHERE role_id = (SELECT id FROM roles WHERE "
         "name = '%s') RETURNING 1",
         role);
    snprintf(path, sizeof(path), "/v1/roles/%s", role);
    CU_ASSERT_EQUAL(status_of("DELETE", path, tok(ADMIN), NULL), 204);
}

static void
test_conditional_patch_and_versions(void)
{
    char p[37], id[37], path[128], st[32], hv[64];
    http_resp_t r;

    CU_ASSERT_EQUAL_FATAL(mkprod("cond", 100, "USD", 20, 1, p), 0);
    CU_ASSERT_EQUAL_FATAL(mkorder(tok(USER), p, 1, id), 0);
    snprintf(path, sizeof(path), "/v1/orders/%s", id);
    /* If-Match that does not match: 412, nothing changes. */
    patch_status(id, tok(ADMIN), "paid", 0, "If-Match: W/\"9\"", &r);
    assert_envelope(&r, 412, "PRECONDITION_FAILED");
    resp_free(&r);
    patch_status(id, tok(USER), "cancelled", 0, "If-Match: W/\"2\"", &r);
    assert_envelope(&r, 412, "PRECONDITION_FAILED");
    resp_free(&r);
    CU_ASSERT_EQUAL(state_of(id, st, sizeof(st)), 1);
    CU_ASSERT_STRING_EQUAL(st, "pending");
    CU_ASSERT_EQUAL(stock_of(p), 19);
    /* A stale or future body version: 409 VERSION_CONFLICT. */
    patch_status(id, tok(ADMIN), "paid", 2, NULL, &r);
    assert_envelope(&r, 409, "VERSION_CONFLICT");
    resp_free(&r);
    CU_ASSERT_EQUAL(state_of(id, st, sizeof(st)), 1);
    /* The current ETag: 200, version 2. */
    patch_status(id, tok(ADMIN), "paid", 0, "If-Match: W/\"1\"", &r);
    CU_ASSERT_EQUAL(r.status, 200);
    assert_version(&r, 2);
    resp_free(&r);
    /* Now version 1 is stale, by header and by body. */
    patch_status(id, tok(ADMIN), "shipped", 0, "If-Match: W/\"1\"", &r);
    assert_envelope(&r, 412, "PRECONDITION_FAILED");
    resp_free(&r);
    patch_status(id, tok(ADMIN), "shipped", 1, NULL, &r);
    assert_envelope(&r, 409, "VERSION_CONFLICT");
    resp_free(&r);
    patch_status(id, tok(ADMIN), "cancelled", 1, NULL, &r);
    assert_envelope(&r, 409, "VERSION_CONFLICT");
    resp_free(&r);
    CU_ASSERT_EQUAL(state_of(id, st, sizeof(st)), 2);
    CU_ASSERT_STRING_EQUAL(st, "paid");
    CU_ASSERT_EQUAL(stock_of(p), 19);
    /* The current body version: 200, version 3. */
    patch_status(id, tok(ADMIN), "shipped", 2, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_EQUAL(json_object_get_int(json_path(r.json, "data.version")), 3);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.status")), "shipped");
    resp_free(&r);
    /* GET follows: old ETags give the order, the current one 304. */
    call_h("GET", path, tok(USER), NULL, "If-None-Match: W/\"1\"", &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_STRING_EQUAL(nz(resp_header(&r, "ETag", hv, sizeof(hv))),
                           "W/\"3\"");
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.status")), "shipped");
    resp_free(&r);
    assert_bodiless("GET", path, tok(USER), "If-None-Match: W/\"3\"", 304,
                    NULL);
}

static void
test_patch_refuses_bad_bodies_and_ids(void)
{
    char p[37], id[37], path[128], st[32];
    http_resp_t r;

    CU_ASSERT_EQUAL_FATAL(mkprod("badpatch", 100, "USD", 20, 1, p), 0);
    CU_ASSERT_EQUAL_FATAL(mkorder(tok(USER), p, 1, id), 0);
    snprintf(path, sizeof(path), "/v1/orders/%s", id);
    static const struct {
        const char *body;
        const char *field;
    } bad[] = {
        { "{}", NULL },
        { "{\"version\":1}", "status" },
        { "{\"status\":\"refunded\"}", "status" },
        { "{\"status\":\"PAID\"}", "status" },
        { "{\"status\":\"\"}", "status" },
        { "{\"status\":null}", "status" },
        { "{\"status\":5}", "status" },
        { "{\"status\":[\"paid\"]}", "status" },
        { "{\"status\":\"paid\",\"version\":\"1\"}", "version" },
        { "{\"status\":\"paid\",\"version\":0}", "version" },
        { "{\"status\":\"paid\",\"nope\":1}", "nope" },
        { "{\"status\":\"paid\",\"total_cents\":1}", "total_cents" },
        { "{\"status\":\"paid\",\"items\":[]}", "items" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        call("PATCH", path, tok(ADMIN), bad[i].body, &r);
        assert_invalid(&r, bad[i].field);
        if (r.status != 400 ||
            (bad[i].field != NULL && !has_detail(&r, bad[i].field)))
            fprintf(stderr, "    (PATCH %s)\n", bad[i].body);
        resp_free(&r);
    }
    assert_refused("PATCH", path, tok(ADMIN), "{\"status\":", 400,
                   "BAD_REQUEST");
    assert_refused_invalid("PATCH", path, tok(USER),
                           "{\"status\":\"refunded\"}", "status");
    CU_ASSERT_EQUAL(state_of(id, st, sizeof(st)), 1);
    CU_ASSERT_STRING_EQUAL(st, "pending");
    /* Ids that are none: 404. */
    static const char *const none[] = {
        ("/v1/orders/" NOBODY_ID),
        "/v1/orders/not-a-uuid",
        "/v1/orders/123",
        "/v1/orders/00000000-0000-4000-8000-00000000000",
    };
    for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
        assert_refused("PATCH", none[i], tok(ADMIN), "{\"status\":\"paid\"}",
                       404, "NOT_FOUND");
        assert_refused("PATCH", none[i], tok(USER),
                       "{\"status\":\"cancelled\"}", 404, "NOT_FOUND");
    }
    /* No PUT, no DELETE on an order; no PATCH on the collection. */
    call("DELETE", path, tok(ADMIN), NULL, &r);
    CU_ASSERT_EQUAL(r.status, 405);
    resp_free(&r);
    call("PATCH", "/v1/orders", tok(ADMIN), "{\"status\":\"paid\"}", &r);
    CU_ASSERT_EQUAL(r.status, 405);
    resp_free(&r);
    CU_ASSERT_EQUAL(state_of(id, st, sizeof(st)), 1);
}

/* ---- G: reading one order ------------------------------------------------ */

static void
test_reading_one_order_follows_the_read_rule(void)
{
    char a[37], b[37], body[512], id[37], path[128], ipath[160], hv[256];
    const char *ids[2];
    const int qty[2] = { 2, 1 };
    http_resp_t r, one;

    CU_ASSERT_EQUAL_FATAL(mkprod("read-a", 150, "USD", 20, 1, a), 0);
    CU_ASSERT_EQUAL_FATAL(mkprod("read-b", 250, "USD", 20, 1, b), 0);
    ids[0] = b;
    ids[1] = a;
    items_body(body, sizeof(body), 2, ids, qty);
    CU_ASSERT_EQUAL_FATAL(place_id(tok(USER), body, id), 201);
    snprintf(path, sizeof(path), "/v1/orders/%s", id);
    snprintf(ipath, sizeof(ipath), "/v1/orders/%s/items", id);
    /* The owner and orders:read_any: the same order, no-store, ETag. */
    get(path, tok(USER), &one);
    CU_ASSERT_EQUAL_FATAL(one.status, 200);
    assert_order_shape(json_path(one.json, "data"));
    CU_ASSERT_STRING_EQUAL(nz(resp_header(&one, "Cache-Control", hv, 256)),
                           "no-store");
    CU_ASSERT_STRING_EQUAL(nz(resp_header(&one, "ETag", hv, 256)), "W/\"1\"");
    CU_ASSERT_EQUAL(
        json_object_get_int64(json_path(one.json, "data.total_cents")), 650);
    get(path, tok(ADMIN), &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_TRUE(json_object_equal(json_path(r.json, "data"),
                                     json_path(one.json, "data")));
    resp_free(&r);
    /* Others: 404, whether they have products:write or not; anonymous 401. */
    static const caller_t others[] = { USER2, EDITOR };
    for (size_t i = 0; i < 2; i++) {
        assert_refused("GET", path, tok(others[i]), NULL, 404, "NOT_FOUND");
        assert_refused("GET", ipath, tok(others[i]), NULL, 404, "NOT_FOUND");
        assert_refused_h("GET", path, tok(others[i]), NULL,
                         "If-None-Match: W/\"1\"", 404, "NOT_FOUND");
    }
    assert_refused("GET", path, NULL, NULL, 401, "UNAUTHORIZED");
    assert_refused("GET", ipath, NULL, NULL, 401, "UNAUTHORIZED");
    /* The items: {"data": [...]} as in the order, in request order. */
    for (int w = 0; w < 2; w++) {
        get(ipath, tok(w ? ADMIN : USER), &r);
        CU_ASSERT_EQUAL(r.status, 200);
        CU_ASSERT_EQUAL(data_len(&r), 2);
        CU_ASSERT_EQUAL(json_object_object_length(r.json), 1);
        CU_ASSERT_TRUE(json_object_equal(json_path(r.json, "data"),
                                         json_path(one.json, "data.items")));
        CU_ASSERT_STRING_EQUAL(nz(json_path_str(item(&r, 0), "product_id")), b);
        CU_ASSERT_STRING_EQUAL(nz(json_path_str(item(&r, 1), "product_id")), a);
        if (data_len(&r) == 2)
            assert_item_shape(item(&r, 0));
        resp_free(&r);
    }
    /* If-None-Match: 304 without a body when it matches. */
    assert_bodiless("GET", path, tok(USER), "If-None-Match: W/\"1\"", 304,
                    NULL);
    call_h("GET", path, tok(ADMIN), NULL, "If-None-Match: W/\"1\"", &r);
    CU_ASSERT_EQUAL(r.status, 304);
    resp_free(&r);
    call_h("GET", path, tok(USER), NULL, "If-None-Match: W/\"2\"", &r);
    CU_ASSERT_EQUAL(r.status, 200);
    resp_free(&r);
    /* HEAD. */
    assert_bodiless("HEAD", path, tok(USER), NULL, 200, "W/\"1\"");
    call("HEAD", path, tok(USER2), NULL, &r);
    CU_ASSERT_EQUAL(r.status, 404);
    resp_free(&r);
    /* fields. */
    assert_fields_of_one("/v1/orders", id, tok(USER), "status,total_cents", 3,
                         "status", "pending");
    /* Ids that are none: 404, for the admin too. */
    static const char *const none[] = {
        ("/v1/orders/" NOBODY_ID),
        "/v1/orders/not-a-uuid",
        "/v1/orders/" NOBODY_ID "/items",
        "/v1/orders/not-a-uuid/items",
        "/v1/orders/",
    };
    for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
        get(none[i], tok(ADMIN), &r);
        assert_envelope(&r, 404, "NOT_FOUND");
        if (r.status != 404)
            fprintf(stderr, "    (GET %s)\n", none[i]);
        resp_free(&r);
        assert_refused("GET", none[i], tok(USER), NULL, 404, "NOT_FOUND");
    }
    resp_free(&one);
}

/* ---- H: lists ------------------------------------------------------------ */

/* Two fresh buyers: la with three orders (totals 100 pending, 300 paid,
 * 200 cancelled; made in this order, lmark between the first and the
 * second), lb with one (400). */
enum { L1, L2, L3, NL };
static account_t la, lb;
static char lid[NL][37], lbid[37], lmark[64];

static void
make_list_orders(void)
{
    char p[37];

    if (lbid[0] != '\0')
        return;
    CU_ASSERT_EQUAL_FATAL(make_account(&la, "orders-list-a", NULL), 0);
    CU_ASSERT_EQUAL_FATAL(make_account(&lb, "orders-list-b", NULL), 0);
    CU_ASSERT_EQUAL_FATAL(mkprod("list", 100, "USD", 100, 1, p), 0);
    CU_ASSERT_EQUAL_FATAL(mkorder(la.p.access, p, 1, lid[L1]), 0);
    usleep(20000);
    db_now(lmark, sizeof(lmark));
    usleep(20000);
    CU_ASSERT_EQUAL_FATAL(mkorder(la.p.access, p, 3, lid[L2]), 0);
    usleep(5000);
    CU_ASSERT_EQUAL_FATAL(mkorder(la.p.access, p, 2, lid[L3]), 0);
    CU_ASSERT_EQUAL(patch_s(lid[L2], tok(ADMIN), "paid"), 200);
    CU_ASSERT_EQUAL(patch_s(lid[L3], la.p.access, "cancelled"), 200);
    CU_ASSERT_EQUAL_FATAL(mkorder(lb.p.access, p, 4, lbid), 0);
}

/* GET `path` as `who` with `bearer`: a 200 with exactly the orders `want`
 * (indexes into lid, -1 terminated) in that order. */
static void
lists_in_order(const char *who, const char *bearer, const char *path,
               const int *want)
{
    const char *ids[NL];
    int n = pick_ids(lid, want, ids, NL);

    assert_list_in_order(who, bearer, path, ids, n);
}

/* The list of la's orders through both paths, by la and by the admin:
 * exactly `want` in that order. */
static void
la_lists(const char *q, const int *want)
{
    char path[512];

    snprintf(path, sizeof(path), "/v1/orders%s%s", q[0] ? "?" : "", q);
    lists_in_order("la", la.p.access, path, want);
    snprintf(path, sizeof(path), "/v1/orders?user_id=%s%s%s", la.id,
             q[0] ? "&" : "", q);
    lists_in_order("admin", tok(ADMIN), path, want);
    snprintf(path, sizeof(path), "/v1/users/%s/orders%s%s", la.id,
             q[0] ? "?" : "", q);
    lists_in_order("la", la.p.access, path, want);
    lists_in_order("admin", tok(ADMIN), path, want);
}

static void
test_lists_show_own_orders_or_all(void)
{
    char path[256], e[128];
    http_resp_t r;

    make_list_orders();
    /* Each plain user: their own, with their items. */
    snprintf(path, sizeof(path), "/v1/orders");
    {
        const char *want[NL] = { lid[L1], lid[L2], lid[L3] };
        const char *bw[1] = { lbid };
        assert_list("la", la.p.access, path, want, NL);
        assert_list("lb", lb.p.access, path, bw, 1);
    }
    get("/v1/orders", la.p.access, &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 200);
    for (int i = 0; i < data_len(&r); i++) {
        assert_order_shape(item(&r, i));
        CU_ASSERT_STRING_EQUAL(nz(json_path_str(item(&r, i), "user_id")),
                               la.id);
        CU_ASSERT_EQUAL(
            json_object_array_length(json_path(item(&r, i), "items")), 1);
    }
    CU_ASSERT_STRING_EQUAL(
        nz(json_path_str(item(&r, index_of(&r, lid[L2])), "status")), "paid");
    CU_ASSERT_EQUAL(json_object_get_int(json_path(
                        item(&r, index_of(&r, lid[L2])), "items.0.quantity")),
                    3);
    CU_ASSERT_EQUAL(json_object_get_int64(json_path(
                        item(&r, index_of(&r, lid[L3])), "total_cents")),
                    200);
    {
        char hv[64];
        CU_ASSERT_STRING_EQUAL(nz(resp_header(&r, "Cache-Control", hv, 64)),
                               "no-store");
    }
    resp_free(&r);
    /* The editor (no orders:read_any) sees none of them. */
    get("/v1/orders?limit=100", tok(EDITOR), &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_EQUAL(index_of(&r, lid[L1]), -1);
    CU_ASSERT_EQUAL(index_of(&r, lbid), -1);
    for (int i = 0; i < data_len(&r); i++)
        CU_ASSERT_STRING_EQUAL(nz(json_path_str(item(&r, i), "user_id")),
                               fx[EDITOR].id);
    resp_free(&r);
    /* A user without orders: an empty list. */
    {
        account_t z;
        CU_ASSERT_EQUAL_FATAL(make_account(&z, "orders-none", NULL), 0);
        assert_list("nobody", z.p.access, "/v1/orders", NULL, 0);
        snprintf(path, sizeof(path), "/v1/users/%s/orders", z.id);
        assert_list("nobody", z.p.access, path, NULL, 0);
    }
    /* orders:read_any: everybody's (those made after the mark here). */
    snprintf(path, sizeof(path), "/v1/orders?created_after=%s&limit=100",
             enc(lmark, e, sizeof(e)));
    get(path, tok(ADMIN), &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_TRUE(index_of(&r, lid[L2]) >= 0);
    CU_ASSERT_TRUE(index_of(&r, lid[L3]) >= 0);
    CU_ASSERT_TRUE(index_of(&r, lbid) >= 0);
    CU_ASSERT_EQUAL(index_of(&r, lid[L1]), -1);
    resp_free(&r);
    /* user_id only with orders:read_any: 403 else, even for oneself. */
    {
        const char *bw[1] = { lbid };
        snprintf(path, sizeof(path), "/v1/orders?user_id=%s", lb.id);
        assert_list("admin", tok(ADMIN), path, bw, 1);
    }
    snprintf(path, sizeof(path), "/v1/orders?user_id=%s", lb.id);
    assert_refused("GET", path, la.p.access, NULL, 403, "FORBIDDEN");
    snprintf(path, sizeof(path), "/v1/orders?user_id=%s", la.id);
    assert_refused("GET", path, la.p.access, NULL, 403, "FORBIDDEN");
    assert_refused("GET", path, tok(EDITOR), NULL, 403, "FORBIDDEN");
    snprintf(path, sizeof(path), "/v1/orders?user_id=%s", NOBODY_ID);
    assert_list("admin", tok(ADMIN), path, NULL, 0);
    /* Anonymous: 401. */
    assert_refused("GET", "/v1/orders", NULL, NULL, 401, "UNAUTHORIZED");
}

static void
test_user_orders_are_for_that_user_or_read_any(void)
{
    char path[256];
    http_resp_t r;

    make_list_orders();
    snprintf(path, sizeof(path), "/v1/users/%s/orders", la.id);
    {
        const char *want[NL] = { lid[L1], lid[L2], lid[L3] };
        assert_list("la", la.p.access, path, want, NL);
        assert_list("admin", tok(ADMIN), path, want, NL);
    }
    /* Anyone else: 404; anonymous 401. */
    assert_refused("GET", path, lb.p.access, NULL, 404, "NOT_FOUND");
    assert_refused("GET", path, tok(EDITOR), NULL, 404, "NOT_FOUND");
    assert_refused("GET", path, NULL, NULL, 401, "UNAUTHORIZED");
    snprintf(path, sizeof(path), "/v1/users/%s/orders", lb.id);
    {
        const char *bw[1] = { lbid };
        assert_list("lb", lb.p.access, path, bw, 1);
    }
    assert_refused("GET", path, la.p.access, NULL, 404, "NOT_FOUND");
    /* No user_id filter there. */
    snprintf(path, sizeof(path), "/v1/users/%s/orders?user_id=%s", la.id,
             la.id);
    get(path, tok(ADMIN), &r);
    assert_400(&r);
    resp_free(&r);
    /* Ids that are none. */
    assert_refused("GET", "/v1/users/not-a-uuid/orders", tok(ADMIN), NULL, 404,
                   "NOT_FOUND");
    assert_refused("GET", "/v1/users/" NOBODY_ID "/orders", la.p.access, NULL,
                   404, "NOT_FOUND");
}

static void
test_lists_filter_sort_and_select_fields(void)
{
    char path[512], q[256], e[128];
    http_resp_t r;

    make_list_orders();
    /* status */
    la_lists("status=pending", (const int[]){ L1, -1 });
    la_lists("status=paid", (const int[]){ L2, -1 });
    la_lists("status=cancelled", (const int[]){ L3, -1 });
    la_lists("status=shipped", (const int[]){ -1 });
    la_lists("status=delivered", (const int[]){ -1 });
    /* created_after, created_before */
    snprintf(q, sizeof(q), "created_after=%s&sort=created_at",
             enc(lmark, e, sizeof(e)));
    la_lists(q, (const int[]){ L2, L3, -1 });
    snprintf(q, sizeof(q), "created_before=%s", enc(lmark, e, sizeof(e)));
    la_lists(q, (const int[]){ L1, -1 });
    snprintf(q, sizeof(q), "created_after=%s&status=cancelled",
             enc(lmark, e, sizeof(e)));
    la_lists(q, (const int[]){ L3, -1 });
    snprintf(q, sizeof(q), "created_after=%s",
             enc("2000-01-01T00:00:00Z", e, sizeof(e)));
    la_lists(q, (const int[]){ L3, L2, L1, -1 });
    snprintf(q, sizeof(q), "created_before=%s",
             enc("2000-01-01T00:00:00Z", e, sizeof(e)));
    la_lists(q, (const int[]){ -1 });
    /* sort: newest first by default; created_at, total_cents. */
    la_lists("", (const int[]){ L3, L2, L1, -1 });
    la_lists("sort=-created_at", (const int[]){ L3, L2, L1, -1 });
    la_lists("sort=created_at", (const int[]){ L1, L2, L3, -1 });
    la_lists("sort=%2Bcreated_at", (const int[]){ L1, L2, L3, -1 });
    la_lists("sort=total_cents", (const int[]){ L1, L3, L2, -1 });
    la_lists("sort=-total_cents", (const int[]){ L2, L3, L1, -1 });
    la_lists("sort=-total_cents&status=pending", (const int[]){ L1, -1 });
    /* fields: exactly the selected keys, id always. */
    snprintf(path, sizeof(path), "/v1/orders?fields=id,total_cents");
    get(path, la.p.access, &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 200);
    CU_ASSERT_EQUAL(data_len(&r), NL);
    for (int i = 0; i < data_len(&r); i++) {
        CU_ASSERT_EQUAL(json_object_object_length(item(&r, i)), 2);
        CU_ASSERT_TRUE(json_object_is_type(
            json_path(item(&r, i), "total_cents"), json_type_int));
    }
    resp_free(&r);
    snprintf(path, sizeof(path), "/v1/users/%s/orders?fields=status,items",
             la.id);
    get(path, tok(ADMIN), &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 200);
    CU_ASSERT_EQUAL(data_len(&r), NL);
    assert_each_selected(&r, 3);
    for (int i = 0; i < data_len(&r); i++) {
        CU_ASSERT_PTR_NOT_NULL(json_path_str(item(&r, i), "status"));
        CU_ASSERT_EQUAL(
            json_object_array_length(json_path(item(&r, i), "items")), 1);
    }
    resp_free(&r);
    /* Bad values: 400 naming the parameter, on both paths. */
    static const bad_input_t bad[] = {
        { "status=refunded", "status" },
        { "status=", "status" },
        { "created_after=yesterday", "created_after" },
        { "created_before=2026-13-01T00:00:00Z", "created_before" },
        { "sort=name", "sort" },
        { "sort=-nope", "sort" },
        { "sort=price_cents", "sort" },
    };
    assert_bad_queries("/v1/orders", la.p.access, bad,
                       sizeof(bad) / sizeof(bad[0]));
    assert_bad_paging("/v1/orders", la.p.access);
    snprintf(path, sizeof(path), "/v1/users/%s/orders", la.id);
    assert_bad_queries(path, la.p.access, bad, sizeof(bad) / sizeof(bad[0]));
    assert_bad_paging(path, la.p.access);
    assert_refused_invalid("GET", "/v1/orders?user_id=x", tok(ADMIN), NULL,
                           "user_id");
    /* Unknown and repeated parameters. */
    static const char *const bad400[] = {
        "/v1/orders?nope=1",
        "/v1/orders?q=x",
        "/v1/orders?category=x",
        "/v1/orders?total_cents=100",
        "/v1/orders?status=pending&status=paid",
        "/v1/orders?sort=total_cents&sort=created_at",
        "/v1/orders?limit=2&limit=3",
    };
    assert_each_400(la.p.access, bad400, sizeof(bad400) / sizeof(bad400[0]));
    snprintf(path, sizeof(path), "/v1/orders?user_id=%s&user_id=%s", la.id,
             la.id);
    get(path, tok(ADMIN), &r);
    assert_400(&r);
    resp_free(&r);
}

static void
test_offset_and_cursor_pages(void)
{
    char path[512], next[4096] = "", cursor[2048], bad[2048], seen[8][37];
    int n = 0;
    http_resp_t r;

    make_list_orders();
    for (int w = 0; w < 2; w++) {
        char base[160];
        if (w == 0)
            snprintf(base, sizeof(base), "/v1/orders");
        else
            snprintf(base, sizeof(base), "/v1/users/%s/orders", la.id);
        /* Offset pages of 2 by created_at: 2 then 1, exact totals. */
        n = 0;
        next[0] = '\0';
        snprintf(path, sizeof(path), "%s?limit=2&sort=created_at", base);
        get(path, la.p.access, &r);
        CU_ASSERT_EQUAL_FATAL(r.status, 200);
        assert_page(&r, 2, 1, 2, NL, 1);
        CU_ASSERT_EQUAL(collect_ids(&r, seen, &n, 8), 0);
        CU_ASSERT_PTR_NOT_NULL(link_of(&r, "next", next, sizeof(next)));
        resp_free(&r);
        CU_ASSERT_FATAL(next[0] != '\0');
        get(next, la.p.access, &r);
        CU_ASSERT_EQUAL_FATAL(r.status, 200);
        assert_page(&r, 1, 2, PAGE_ANY, NL, 0);
        CU_ASSERT_EQUAL(collect_ids(&r, seen, &n, 8), 0);
        resp_free(&r);
        CU_ASSERT_EQUAL(n, NL);
        for (int i = 0; i < NL && n == NL; i++)
            CU_ASSERT_STRING_EQUAL(seen[i], lid[i]);
        /* Cursor pages of 2 by total: 100, 200 then 300. */
        n = 0;
        snprintf(path, sizeof(path), "%s?limit=2&sort=total_cents", base);
        get_cursor(la.p.access, path, "", &r);
        CU_ASSERT_EQUAL_FATAL(r.status, 200);
        assert_page(&r, 2, PAGE_ANY, PAGE_ANY, PAGE_ABSENT, 1);
        CU_ASSERT_EQUAL(collect_ids(&r, seen, &n, 8), 0);
        next_cursor(&r, cursor, sizeof(cursor));
        resp_free(&r);
        CU_ASSERT_FATAL(cursor[0] != '\0');
        get_cursor(la.p.access, path, cursor, &r);
        CU_ASSERT_EQUAL_FATAL(r.status, 200);
        assert_last_cursor_page(&r, 1);
        CU_ASSERT_EQUAL(collect_ids(&r, seen, &n, 8), 0);
        resp_free(&r);
        CU_ASSERT_EQUAL(n, NL);
        if (n == NL) {
            CU_ASSERT_STRING_EQUAL(seen[0], lid[L1]);
            CU_ASSERT_STRING_EQUAL(seen[1], lid[L3]);
            CU_ASSERT_STRING_EQUAL(seen[2], lid[L2]);
        }
        /* A tampered cursor, or one of another sort: 400 naming cursor. */
        assert_bad_cursor(la.p.access, path,
                          tampered(cursor, bad, sizeof(bad)));
        snprintf(path, sizeof(path), "%s?limit=2&sort=created_at", base);
        assert_bad_cursor(la.p.access, path, cursor);
    }
    /* Past the end: empty, the total still exact. */
    get("/v1/orders?limit=2&page=3", la.p.access, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    assert_page(&r, 0, PAGE_ANY, PAGE_ANY, NL, PAGE_ANY);
    resp_free(&r);
    /* A cursor does not leak another user's orders: lb's walk is lb's. */
    get_cursor(lb.p.access, "/v1/orders?limit=1", "", &r);
    CU_ASSERT_EQUAL(r.status, 200);
    assert_page(&r, 1, PAGE_ANY, PAGE_ANY, PAGE_ANY, 0);
    CU_ASSERT_STRING_EQUAL(item_id(&r, 0), lbid);
    resp_free(&r);
}

static const unit_test_t tests[] = {
    { "create gives the whole order", test_create_gives_the_whole_order },
    { "totals are exact integers", test_totals_are_exact_integers },
    { "create enforces every bound", test_create_enforces_every_bound },
    { "fifty items and not fifty-one", test_fifty_items_and_not_fiftyone },
    { "unknown products and mixed currencies are 400",
      test_unknown_products_and_mixed_currencies },
    { "inactive products and short stock are conflicts",
      test_inactive_and_short_stock_are_conflicts },
    { "concurrent orders never oversell",
      test_concurrent_orders_never_oversell },
    { "products are locked in a fixed order",
      test_products_are_locked_in_a_fixed_order },
    { "the database refuses negative stock",
      test_the_database_refuses_negative_stock },
    { "malformed Idempotency-Keys are 400", test_malformed_keys_are_400 },
    { "a repeated key replays the answer",
      test_a_repeated_key_replays_the_answer },
    { "a reused key with another body is 422",
      test_a_reused_key_with_another_body_is_422 },
    { "concurrent repeats make one order",
      test_concurrent_repeats_make_one_order },
    { "keys are per user", test_keys_are_per_user },
    { "failed attempts are not kept", test_failed_attempts_are_not_kept },
    { "expired keys are forgotten", test_expired_keys_are_forgotten },
    { "the owner may only cancel a pending order",
      test_the_owner_may_only_cancel_a_pending_order },
    { "the admin walks the legal transitions",
      test_the_admin_walks_the_legal_transitions },
    { "cancelling returns the stock once",
      test_cancelling_returns_the_stock_once },
    { "racing changes make one change", test_racing_changes_make_one_change },
    { "orders:read_any alone reads but does not change",
      test_read_any_alone_reads_but_does_not_change },
    { "conditional PATCH and versions", test_conditional_patch_and_versions },
    { "PATCH refuses bad bodies and ids",
      test_patch_refuses_bad_bodies_and_ids },
    { "reading one order follows the read rule",
      test_reading_one_order_follows_the_read_rule },
    { "lists show own orders or all", test_lists_show_own_orders_or_all },
    { "user orders are for that user or read_any",
      test_user_orders_are_for_that_user_or_read_any },
    { "lists filter, sort and select fields",
      test_lists_filter_sort_and_select_fields },
    { "offset and cursor pages", test_offset_and_cursor_pages },
};

int
main(void)
{
    static const api_fixture_t fixtures[] = {
        { &fx[USER], "orders-user", NULL },
        { &fx[USER2], "orders-user2", NULL },
        { &fx[EDITOR], "orders-editor", "editor" },
        { &fx[ADMIN], "orders-admin", "admin" },
    };

    return api_main("orders", fixtures, sizeof(fixtures) / sizeof(fixtures[0]),
                    NULL, UNIT_TESTS(tests));
}
