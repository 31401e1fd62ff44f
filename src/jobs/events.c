/* events.c - record a domain event and queue its webhook deliveries. */
#include "keel-build.h"

#include "jobs/events.h"
#include "http/request.h"
#include "jobs/queue.h"
#include "jobs/webhook.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

/* The stored event, as webhook receivers get it (API.md timestamps). */
DB_STMT(st_event_insert, 4,
        "INSERT INTO events (type, aggregate_type, aggregate_id, data) "
        "VALUES ($1, $2, $3, coalesce($4::jsonb, '{}')) "
        "RETURNING public_id, json_build_object('id', public_id, "
        "'type', type, 'aggregate_type', aggregate_type, "
        "'aggregate_id', aggregate_id, 'created_at', "
        "to_char(created_at AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), 'data', data)::text");

keel_rc
event_record(db_conn_t *c, const keel_config_t *cfg, const event_spec_t *ev,
             char public_id[37], int *deliveries, db_error_t *err)
{
    const char *p[4] = { ev->type, ev->aggregate_type, ev->aggregate_id,
                         ev->data };
    json_object *event;
    PGresult *res;
    keel_rc rc;
    int queued = 0;

    if (deliveries != NULL)
        *deliveries = 0;
    rc = db_exec(c, &st_event_insert, p, &res, err);
    if (rc != KEEL_OK)
        return rc;
    if (public_id != NULL)
        snprintf(public_id, 37, "%s", PQgetvalue(res, 0, 0));
    event = json_tokener_parse(PQgetvalue(res, 0, 1));
    PQclear(res);
    if (event == NULL)
        return KEEL_EINTERNAL;
    for (size_t i = 0; i < cfg->webhooks.n && rc == KEEL_OK; i++) {
        const webhook_sub_t *s = &cfg->webhooks.v[i];
        json_object *payload;
        job_spec_t spec = { 0 };
        char job_id[37], trace[33], span[17];

        if (!config_webhook_matches(s->pattern, ev->type))
            continue;
        payload = json_object_new_object();
        json_object_object_add(payload, "url", json_object_new_string(s->url));
        json_object_object_add(payload, "event", json_object_get(event));
        if (ev->traceparent != NULL &&
            traceparent_parse(ev->traceparent, trace, span))
            json_object_object_add(payload, "traceparent",
                                   json_object_new_string(ev->traceparent));
        spec.type = WEBHOOK_JOB;
        spec.payload =
            json_object_to_json_string_ext(payload, JSON_C_TO_STRING_PLAIN);
        spec.max_attempts = cfg->webhook_max_attempts;
        rc = job_enqueue(c, &spec, job_id, err);
        json_object_put(payload);
        if (rc == KEEL_OK)
            queued++;
    }
    json_object_put(event);
    if (deliveries != NULL)
        *deliveries = queued;
    return rc;
}
