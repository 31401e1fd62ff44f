/* orders.c - the /v1/orders handlers. */
#include "keel-build.h"

#include "api/orders.h"
#include "core/json.h"
#include "http/collection.h"
#include "store/idempotency.h"
#include "store/orders.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const schema_prop_t line_props[] = {
    { .name = "product_id",
      .type = SCHEMA_STRING,
      .flags = SCHEMA_REQUIRED,
      .format = FORMAT_UUID },
    { .name = "quantity",
      .type = SCHEMA_INTEGER,
      .flags = SCHEMA_REQUIRED,
      .bounded = 1,
      .min = 1,
      .max = ORDER_QUANTITY_MAX },
};
static const schema_t line_schema = SCHEMA_OF(line_props);
static const schema_prop_t line_item = { .type = SCHEMA_OBJECT,
                                         .object = &line_schema };

static const schema_prop_t create_props[] = {
    { .name = "items",
      .type = SCHEMA_ARRAY,
      .flags = SCHEMA_REQUIRED | SCHEMA_UNIQUE,
      .bounded = 1,
      .min = 1,
      .max = ORDER_ITEMS_MAX,
      .items = &line_item,
      .unique_by = "product_id" },
};
const schema_t orders_create_schema = SCHEMA_OF(create_props);

static const char *const statuses[] = { "pending",   "paid",      "shipped",
                                        "delivered", "cancelled", NULL };
static const schema_prop_t patch_props[] = {
    { .name = "status",
      .type = SCHEMA_STRING,
      .flags = SCHEMA_REQUIRED,
      .enums = statuses },
    { .name = "version",
      .type = SCHEMA_INTEGER,
      .bounded = 1,
      .min = 1,
      .max = 2147483647 },
};
const schema_t orders_patch_schema = SCHEMA_OF(patch_props);

static int
is_owner(const keel_ctx_t *ctx, json_object *order)
{
    json_object *uid;

    return ctx->user != NULL &&
           json_object_object_get_ex(order, "user_id", &uid) &&
           strcmp(json_object_get_string(uid), ctx->user->id) == 0;
}

keel_rc
orders_access(keel_ctx_t *ctx, int permitted)
{
    keel_rc rc = ctx_load(ctx, orders_get);

    if (rc != KEEL_OK)
        return rc;
    /* Whether an order exists is its owner's business (API.md 4). */
    if (!is_owner(ctx, ctx->resource) && !permitted &&
        !ctx_can(ctx, "orders:read_any"))
        return KEEL_ENOTFOUND;
    return KEEL_OK;
}

keel_rc
orders_user_access(keel_ctx_t *ctx, int permitted)
{
    const char *id = ctx_param_uuid(ctx, "id");

    if (id == NULL)
        return KEEL_ENOTFOUND;
    if (permitted || (ctx->user != NULL && strcmp(ctx->user->id, id) == 0))
        return KEEL_OK;
    return KEEL_ENOTFOUND;
}

keel_rc
orders_list(keel_ctx_t *ctx)
{
    coll_cond_t own = orders_of_user(ctx->user->id);

    if (ctx_can(ctx, "orders:read_any"))
        return coll_list(ctx, NULL, 0);
    for (size_t i = 0; i < ctx->query->nfilters; i++)
        if (strcmp(ctx->query->filter[i].f->name, "user_id") == 0) {
            ctx_detail(ctx, "user_id", "needs orders:read_any");
            return ctx_fail(ctx, KEEL_EFORBIDDEN,
                            "only your own orders may be listed");
        }
    return coll_list(ctx, &own, 1);
}

keel_rc
orders_list_by_user(keel_ctx_t *ctx)
{
    /* orders_user_access let a valid id through. */
    coll_cond_t by = orders_of_user(ctx_param_uuid(ctx, "id"));

    return coll_list(ctx, &by, 1);
}

keel_rc
orders_show(keel_ctx_t *ctx)
{
    json_object *order = ctx->resource;

    if (order == NULL)
        return ctx_fail_internal(ctx, "orders_show without orders_access");
    ctx->resource = NULL;
    coll_respond_get(ctx, order);
    return KEEL_OK;
}

keel_rc
orders_show_items(keel_ctx_t *ctx)
{
    json_object *items;

    if (ctx->resource == NULL ||
        !json_object_object_get_ex(ctx->resource, "items", &items))
        return ctx_fail_internal(ctx, "orders_show_items without its order");
    /* At most ORDER_ITEMS_MAX, fixed when the order was placed: no pages. */
    ctx_respond_data(ctx, 200, json_object_get(items));
    return KEEL_OK;
}

/* ---- placing an order ---------------------------------------------------- */

typedef struct placing {
    keel_ctx_t *ctx;
    const order_line_t *lines;
    size_t n;
    const order_events_t *ev;
    const idem_request_t *idem; /* NULL without Idempotency-Key */
    json_object *details;       /* this attempt's problems */
    idem_answer_t answer;
    int replay;
    int in_flight; /* another request holds the key */
    db_error_t *err;
} placing_t;

/* The answer to a create, as sent now and as replayed later: the very
 * bytes coll_respond_created() would send. */
static keel_rc
answer_of(json_object *order, idem_answer_t *a)
{
    json_object *root = json_object_new_object(), *id, *version;
    const char *body;
    char buf[80];
    size_t len;

    json_object_object_get_ex(order, "id", &id);
    json_object_object_get_ex(order, "version", &version);
    a->status = 201;
    snprintf(buf, sizeof(buf), "/v1/orders/%s", json_object_get_string(id));
    a->location = strdup(buf);
    snprintf(buf, sizeof(buf), "W/\"%lld\"",
             (long long)json_object_get_int64(version));
    a->etag = strdup(buf);
    json_object_object_add(root, "data", json_object_get(order));
    body = json_compact(root, &len);
    a->body = body ? strndup(body, len) : NULL;
    a->body_len = len;
    json_object_put(root);
    return a->location && a->etag && a->body ? KEEL_OK : KEEL_EINTERNAL;
}

static keel_rc
place_tx(db_conn_t *c, void *arg)
{
    placing_t *p = arg;
    json_object *order = NULL;
    keel_rc rc;

    /* A retried transaction starts over. */
    idem_answer_free(&p->answer);
    p->replay = 0;
    p->in_flight = 0;
    json_object_put(p->details);
    p->details = json_object_new_array();
    if (p->idem != NULL) {
        rc = idem_begin(c, p->idem, &p->answer, &p->replay, p->err);
        p->in_flight = rc == KEEL_ECONFLICT;
        if (rc != KEEL_OK || p->replay)
            return rc;
    }
    rc = orders_create(c, p->ctx->user->id, p->lines, p->n, p->ev, p->details,
                       &order, p->err);
    if (rc != KEEL_OK)
        return rc;
    rc = answer_of(order, &p->answer);
    json_object_put(order);
    if (rc == KEEL_OK && p->idem != NULL)
        rc = idem_save(c, p->idem, &p->answer, p->err);
    return rc;
}

static void
respond_answer(keel_ctx_t *ctx, const idem_answer_t *a, int replay)
{
    ctx->res.status = a->status;
    ctx->res.body = arena_strndup(ctx->arena, a->body, a->body_len);
    ctx->res.body_len = a->body_len;
    ctx_header_set(ctx, "Content-Type", "application/json; charset=utf-8");
    if (a->location != NULL)
        ctx_header_set(ctx, "Location", a->location);
    if (a->etag != NULL)
        ctx_header_set(ctx, "ETag", a->etag);
    if (replay)
        ctx_header_set(ctx, "Idempotent-Replayed", "true");
}

/* The body's items (validated), product ids in lower case; 0, or -1 with
 * a detail when an id repeats in another case. */
static int
lines_of(keel_ctx_t *ctx, order_line_t *lines, size_t *n)
{
    json_object *items;

    *n = 0;
    if (!json_object_object_get_ex(ctx->req.json, "items", &items))
        return 0;
    for (size_t i = 0;
         i < json_object_array_length(items) && i < ORDER_ITEMS_MAX; i++) {
        json_object *it = json_object_array_get_idx(items, i), *v;
        char *id;

        json_object_object_get_ex(it, "product_id", &v);
        id = arena_strdup(ctx->arena, json_object_get_string(v));
        for (char *q = id; *q; q++)
            if (*q >= 'A' && *q <= 'F')
                *q = (char)(*q - 'A' + 'a');
        json_object_object_get_ex(it, "quantity", &v);
        lines[i].product_id = id;
        lines[i].quantity = json_object_get_int(v);
        for (size_t j = 0; j < i; j++)
            if (strcmp(lines[j].product_id, id) == 0) {
                ctx_detail(ctx,
                           arena_sprintf(ctx->arena, "items.%zu.product_id", i),
                           "must not repeat an earlier item");
                return -1;
            }
        *n = i + 1;
    }
    return 0;
}

static keel_rc
fail_with(keel_ctx_t *ctx, keel_rc rc, json_object *details)
{
    for (size_t i = 0; details && i < json_object_array_length(details); i++) {
        json_object *d = json_object_array_get_idx(details, i), *f, *m;

        json_object_object_get_ex(d, "field", &f);
        json_object_object_get_ex(d, "message", &m);
        ctx_detail(ctx, json_object_get_string(f), json_object_get_string(m));
    }
    return ctx_fail(ctx, rc,
                    rc == KEEL_ECONFLICT
                        ? "some items cannot be had; nothing was ordered"
                        : NULL);
}

keel_rc
orders_add(keel_ctx_t *ctx)
{
    order_line_t lines[ORDER_ITEMS_MAX];
    const char *key = request_header(&ctx->req, "idempotency-key");
    order_events_t ev = { ctx->http->cfg, ctx->req.traceparent };
    idem_request_t idem;
    placing_t p = { .ctx = ctx, .lines = lines, .ev = &ev };
    db_conn_t *c;
    db_error_t err;
    keel_rc rc;

    if (key != NULL && !idem_key_valid(key)) {
        ctx_detail(ctx, "Idempotency-Key",
                   "must be 1 to 255 printable ASCII characters");
        return ctx_fail(ctx, KEEL_EINVAL, NULL);
    }
    if (lines_of(ctx, lines, &p.n) != 0)
        return ctx_fail(ctx, KEEL_EINVAL, NULL);
    if (key != NULL) {
        idem.user_id = ctx->user->id;
        idem.key = key;
        idem_request_hash(&idem, "POST", "/v1/orders", ctx->req.body,
                          ctx->req.body_len);
        p.idem = &idem;
    }
    p.err = &err;
    rc = ctx_db(ctx, &c);
    if (rc != KEEL_OK)
        return rc;
    rc = db_transaction(c, place_tx, &p, 3, &err);
    if (rc == KEEL_OK) {
        respond_answer(ctx, &p.answer, p.replay);
    } else if (p.in_flight) {
        ctx_header_set(ctx, "Retry-After", "1");
        rc = ctx_fail(ctx, rc,
                      "a request with this Idempotency-Key is still in "
                      "progress");
    } else if (rc == KEEL_EINVAL || rc == KEEL_ECONFLICT)
        rc = fail_with(ctx, rc, p.details);
    else if (rc == KEEL_EIDEMPOTENCY)
        rc = ctx_fail(ctx, rc, NULL);
    else if (rc == KEEL_ENOTFOUND)
        /* The token's user was deleted meanwhile. */
        rc = ctx_fail(ctx, KEEL_EUNAUTH, NULL);
    else
        rc = ctx_fail_db(ctx, rc, &err);
    idem_answer_free(&p.answer);
    json_object_put(p.details);
    return rc;
}

/* ---- the status machine -------------------------------------------------- */

keel_rc
orders_change(keel_ctx_t *ctx)
{
    const char *to = ctx_body_str(ctx, "status");
    const char *from = NULL;
    json_object *order = NULL, *st;
    order_actor_t who = { ctx->user->id, ctx_can(ctx, "orders:manage") };
    order_events_t ev = { ctx->http->cfg, ctx->req.traceparent };
    db_conn_t *c;
    db_error_t err;
    keel_rc rc;

    if (ctx->resource != NULL &&
        json_object_object_get_ex(ctx->resource, "status", &st))
        from = arena_strdup(ctx->arena, json_object_get_string(st));
    rc = ctx_db(ctx, &c);
    if (rc != KEEL_OK)
        return rc;
    rc = orders_transition(c, ctx_param_uuid(ctx, "id"), to, &who,
                           ctx_if_match(ctx), ctx_body_version(ctx), &ev,
                           &order, &err);
    switch (rc) {
    case KEEL_OK:
        coll_respond_one(ctx, 200, order);
        return KEEL_OK;
    case KEEL_ECONFLICT:
        return ctx_fail(ctx, rc,
                        from ? arena_sprintf(ctx->arena,
                                             "an order that is %s cannot "
                                             "become %s",
                                             from, to)
                             : "that is not a change this order can make");
    case KEEL_EFORBIDDEN:
        return ctx_fail(ctx, rc,
                        "you may only cancel your own order while it is "
                        "pending");
    case KEEL_ENOTFOUND:
    case KEEL_EPRECOND:
    case KEEL_EVERSION:
        return ctx_fail(ctx, rc, NULL);
    default:
        return ctx_fail_db(ctx, rc, &err);
    }
}
