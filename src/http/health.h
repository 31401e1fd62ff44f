/*
 * health.h - the operational endpoints every application may route:
 * /health, /ready and /metrics.  Only libkeel's modules behind them (the
 * pool, the migrations table, the job queue, the metrics); the version and
 * schema version are the keel_app_t's.
 */
#ifndef KEEL_HTTP_HEALTH_H
#define KEEL_HTTP_HEALTH_H

#include "http/ctx.h"

/* GET /health: liveness and a report of each dependency (API.md §2). */
keel_rc health_get(keel_ctx_t *ctx);
/* GET /ready: 200 only when the database answers at the expected schema
 * version (API.md §2); 503 otherwise. */
keel_rc ready_get(keel_ctx_t *ctx);

/* GET /metrics: Prometheus text for the whole server, to the [metrics]
 * allow list only (404 for anyone else, as for an unknown path). */
keel_rc metrics_get(keel_ctx_t *ctx);

#endif
