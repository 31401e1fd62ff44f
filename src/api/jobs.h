/* jobs.h - /v1/jobs (API.md 5.5): the background job queue, read and retried.
 */
#ifndef KEEL_API_JOBS_H
#define KEEL_API_JOBS_H

#include "http/ctx.h"

keel_rc jobs_show(keel_ctx_t *ctx);
keel_rc jobs_retry(keel_ctx_t *ctx);

#endif
