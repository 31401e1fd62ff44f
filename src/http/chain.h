/*
 * chain.h - the middleware chain (DESIGN.md §2) and the one place where
 * every error becomes the API.md §1.2 envelope.
 */
#ifndef KEEL_HTTP_CHAIN_H
#define KEEL_HTTP_CHAIN_H

#include "core/config.h"
#include "http/app.h"
#include "http/ctx.h"

#include <stddef.h>

/*
 * Build a worker's HTTP state: limits from `cfg`, a router with every route
 * of `app`.  KEEL_EINVAL with a message when the route table is invalid.
 * Release with http_free().
 */
keel_rc http_init(keel_http_t *h, const keel_config_t *cfg,
                  const keel_app_t *app, int worker_index, char *err,
                  size_t errlen);
void http_free(keel_http_t *h);

/* Route `r`'s position among h->routes; h->nroutes when r is NULL. */
size_t http_route_index(const keel_http_t *h, const route_t *r);

/* Prepare ctx for a request; `arena` must be fresh (reset). */
void ctx_init(keel_ctx_t *ctx, const keel_http_t *h, arena_t *arena);
/* Release what ctx owns outside the arena (JSON); call before reset. */
void ctx_release(keel_ctx_t *ctx);

/*
 * Run the chain for a request whose parsing ended with `parse_rc` (and
 * client-safe `why`): router, validation, handler — or the error envelope.
 * Always leaves a complete response in ctx->res, with the security headers
 * and X-Request-Id.  Does no I/O.
 */
void chain_run(keel_ctx_t *ctx, keel_rc parse_rc, const char *why);

/* Turn `rc` into the error envelope in ctx->res (and log 5xx details). */
void chain_error(keel_ctx_t *ctx, keel_rc rc);

/* Write the access-log line for a finished request. */
void chain_access_log(keel_ctx_t *ctx, size_t bytes_sent);

/*
 * Install the crash guard's handlers for SIGSEGV, SIGBUS, SIGFPE and SIGILL.
 * A fault inside a handler becomes a 500 for that request and sets
 * ctx->crashed (the worker must then exit: its state is suspect).  A fault
 * outside a guarded handler kills the process as usual.
 */
void chain_crash_guard_install(void);
/*
 * After a caught fault the guard arms a deadline (SIGALRM) for producing
 * the 500; call this once that response is written and logged.
 */
void chain_crash_guard_disarm(void);

/* Serialize the status line and headers as FastCGI/CGI response headers
 * ("Status: 404 Not Found\r\n...\r\n\r\n") into the arena. */
const char *response_head(keel_ctx_t *ctx, size_t *len);

#endif
