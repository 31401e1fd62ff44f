/*
 * orders.h - orders in PostgreSQL (API.md 5.4): placing one in a single
 * transaction that never oversells, the status machine, and the lists.
 * Orders are addressed by their public id.
 */
#ifndef KEEL_STORE_ORDERS_H
#define KEEL_STORE_ORDERS_H

#include "db/db.h"
#include "http/collection.h"

#include <json-c/json.h>

/* The most items of one order, and of one item's quantity. */
#define ORDER_ITEMS_MAX    50
#define ORDER_QUANTITY_MAX 1000

/* GET /v1/orders (filter user_id too); a user's orders (without it).
 * Each order carries its items: a page of orders is one query. */
extern const coll_schema_t orders_collection, user_orders_collection;

/* The condition for one user's orders (`user_id`: a public id). */
coll_cond_t orders_of_user(const char *user_id);

/* One order with its items; KEEL_ENOTFOUND when none. */
keel_rc orders_get(db_conn_t *c, const char *id, json_object **out,
                   db_error_t *err);

/* What the events of orders need of the request. */
typedef struct order_events {
    const keel_config_t *cfg;
    const char *traceparent; /* NULL when none */
} order_events_t;

typedef struct order_line {
    const char *product_id; /* a public id, lower case */
    int quantity;
} order_line_t;

/*
 * Place an order for user `user_id` inside the caller's transaction: lock
 * the products in id order, check each is there and active and has the
 * stock, take the stock, copy the prices, insert the order and its items,
 * record "order.created".  KEEL_EINVAL (an unknown product, two
 * currencies) or KEEL_ECONFLICT (inactive, short) with one detail per
 * item in `details` (a json array); KEEL_ENOTFOUND when the user is gone.
 * *out: the order.
 */
keel_rc orders_create(db_conn_t *c, const char *user_id,
                      const order_line_t *lines, size_t n,
                      const order_events_t *ev, json_object *details,
                      json_object **out, db_error_t *err);

/* 1 when an order may go from status `from` to `to` (API.md 5.4). */
int order_transition_ok(const char *from, const char *to);

/* Who asks for a change of status. */
typedef struct order_actor {
    const char *user_id; /* public id */
    int manage;          /* holds orders:manage */
} order_actor_t;

/*
 * Move order `id` to status `to` in one transaction: cancelling gives the
 * stock back; the change records "order.<to>".  KEEL_ENOTFOUND,
 * KEEL_ECONFLICT (not a transition from its status), KEEL_EFORBIDDEN (the
 * owner may only cancel a pending order), KEEL_EPRECOND (if_match),
 * KEEL_EVERSION (version); -1 for either when not given.  *out: the order.
 */
keel_rc orders_transition(db_conn_t *c, const char *id, const char *to,
                          const order_actor_t *who, long long if_match,
                          long long version, const order_events_t *ev,
                          json_object **out, db_error_t *err);

#endif
