/*
 * events.h - domain events ("user.registered", "order.created", ...).
 *
 * event_record() stores an event in the `events` table and queues one
 * "webhook.deliver" job per [webhooks] subscriber whose pattern matches
 * its type, all with the caller's connection: inside the caller's
 * transaction, the event and its deliveries commit or roll back with the
 * change they describe.
 */
#ifndef KEEL_JOBS_EVENTS_H
#define KEEL_JOBS_EVENTS_H

#include "core/config.h"
#include "db/db.h"

typedef struct event_spec {
    const char *type;           /* "order.created" */
    const char *aggregate_type; /* "order" */
    const char *aggregate_id;   /* the aggregate's public id */
    const char *data;           /* a JSON object's text; NULL = {} */
    const char *traceparent;    /* W3C trace context to pass on; NULL = none */
} event_spec_t;

/*
 * Record `ev`; `public_id` (may be NULL) gets the event's UUID and
 * *deliveries (may be NULL) the number of webhook jobs queued.
 */
keel_rc event_record(db_conn_t *c, const keel_config_t *cfg,
                     const event_spec_t *ev, char public_id[37],
                     int *deliveries, db_error_t *err);

#endif
