/*
 * webhook.h - the "webhook.deliver" job: POST one event to one subscriber.
 *
 * Payload (queued by event_record()): {"url": "...", "event": {...},
 * "traceparent": "..."}.  The request carries the event as its JSON body
 * and the headers
 *
 *   X-Keel-Event: <event type>
 *   X-Keel-Delivery: <the job's UUID: the same on every retry, so that
 *                     receivers can drop duplicates>
 *   X-Keel-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">
 *   traceparent: 00-<trace id of the request that caused the event>-
 *                <a new span id>-<its flags>  (when the event had one)
 *
 * signed with [webhooks] secret.  A 2xx answer is success; any other
 * status, a connection failure or a timeout is retried with back-off.  The
 * URL must still be one of the configured subscribers' when the job runs
 * (a payload cannot send keel anywhere else); redirects are not followed.
 */
#ifndef KEEL_JOBS_WEBHOOK_H
#define KEEL_JOBS_WEBHOOK_H

#include "core/config.h"
#include "core/error.h"

#include <stddef.h>

#define WEBHOOK_JOB "webhook.deliver"

struct job;

keel_rc webhook_deliver_job(const keel_config_t *cfg, const struct job *job,
                            char *why, size_t whylen);

/* "t=<t>,v1=<64 hex digits>" for `body` signed at time `t`. */
#define WEBHOOK_SIGNATURE_MAX 96
void webhook_signature(const char *secret, long long t, const char *body,
                       size_t len, char out[WEBHOOK_SIGNATURE_MAX]);

#endif
