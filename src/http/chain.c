/* chain.c - middleware chain, error envelope, crash guard, access log. */
#include "keel-build.h"

#include "http/chain.h"
#include "auth/ratelimit.h"
#include "core/json.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/util.h"
#include "core/validate.h"
#include "db/db.h"
#include "http/collection.h"

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef keel_rc (*middleware_fn)(keel_ctx_t *ctx);

/* Seconds a faulted worker gets to send its 500 before SIGALRM ends it. */
#define CRASH_DEADLINE 2

/* Per-thread landing point of the crash guard while a handler runs. */
static _Thread_local sigjmp_buf *guard_jmp;
static _Thread_local volatile sig_atomic_t guard_sig;

keel_rc
http_init(keel_http_t *h, const keel_config_t *cfg, const keel_app_t *app,
          int worker_index, char *err, size_t errlen)
{
    memset(h, 0, sizeof(*h));
    h->cfg = cfg;
    h->app = app;
    h->worker_index = worker_index;
    h->limits.max_body = (size_t)cfg->max_body_size;
    h->limits.max_query = (size_t)cfg->max_query_size;
    h->limits.max_path = (size_t)cfg->max_path_size;
    h->limits.max_header = (size_t)cfg->max_header_size;
    h->limits.max_json_depth = cfg->max_json_depth;
    h->limits.max_query_params = (size_t)cfg->max_query_params;
    if (cidr_list_parse(cfg->trusted_proxies, "trusted_proxies", &h->trusted,
                        err, errlen) != KEEL_OK ||
        cidr_list_parse(cfg->metrics_allow, "[metrics] allow",
                        &h->metrics_allow, err, errlen) != KEEL_OK) {
        http_free(h);
        return KEEL_EINVAL;
    }
    for (size_t t = 0; t < app->ntables; t++)
        h->nroutes += app->tables[t].nroutes;
    h->routes = xcalloc(h->nroutes + 1, sizeof(*h->routes));
    h->route_patterns = xcalloc(h->nroutes + 1, sizeof(*h->route_patterns));
    h->router = router_new();
    if (h->router == NULL) {
        http_free(h);
        return KEEL_EINTERNAL;
    }
    for (size_t t = 0, n = 0; t < app->ntables; t++) {
        for (size_t i = 0; i < app->tables[t].nroutes; i++, n++) {
            keel_rc rc =
                router_add(h->router, &app->tables[t].routes[i], err, errlen);
            if (rc != KEEL_OK) {
                http_free(h);
                return rc;
            }
            h->routes[n] = &app->tables[t].routes[i];
            h->route_patterns[n] = app->tables[t].routes[i].pattern;
        }
    }
    return KEEL_OK;
}

size_t
http_route_index(const keel_http_t *h, const route_t *r)
{
    size_t i = 0;

    while (i < h->nroutes && h->routes[i] != r)
        i++;
    return i;
}

void
http_free(keel_http_t *h)
{
    router_free(h->router);
    h->router = NULL;
    cidr_list_free(&h->trusted);
    cidr_list_free(&h->metrics_allow);
    free(h->routes);
    free(h->route_patterns);
    h->routes = NULL;
    h->route_patterns = NULL;
    h->nroutes = 0;
}

void
ctx_init(keel_ctx_t *ctx, const keel_http_t *h, arena_t *arena)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->arena = arena;
    ctx->http = h;
    ctx->started = time_mono();
}

void
ctx_release(keel_ctx_t *ctx)
{
    if (ctx->db != NULL) {
        pool_release(ctx->http->pool, ctx->db);
        ctx->db = NULL;
    }
    json_object_put(ctx->details);
    ctx->details = NULL;
    json_object_put(ctx->req.json);
    ctx->req.json = NULL;
    json_object_put(ctx->resource);
    ctx->resource = NULL;
}

/* ---- middleware ------------------------------------------------------ */

static keel_rc
mw_body(keel_ctx_t *ctx)
{
    const route_t *route = ctx->match.route;
    keel_request_t *req = &ctx->req;
    const char *why;
    keel_rc rc;

    if (req->body_len > 0 && !content_type_is_json(req->content_type))
        return ctx_fail(ctx, KEEL_EMEDIATYPE, NULL);
    if (route->body == NULL)
        return KEEL_OK;
    if (req->body_len == 0)
        return ctx_fail(ctx, KEEL_EBADREQ,
                        "Request body must be a JSON object");
    rc = json_parse_strict(req->body, req->body_len,
                           ctx->http->limits.max_json_depth, &req->json, &why);
    if (rc != KEEL_OK)
        return ctx_fail(ctx, rc, why);
    if (!json_object_is_type(req->json, json_type_object))
        return ctx_fail(ctx, KEEL_EBADREQ,
                        "Request body must be a JSON object");
    if (ctx->details == NULL)
        ctx->details = json_object_new_array();
    return validate_json_msgs(route->body, req->json, ctx->details,
                              ctx_messages(ctx));
}

/* The application's auth scheme and realm (keel_app_t). */
static const char *
auth_scheme(const keel_app_t *app)
{
    return app->auth_scheme ? app->auth_scheme : "Bearer";
}

static const char *
auth_realm(const keel_app_t *app)
{
    return app->auth_realm ? app->auth_realm : "keel";
}

/*
 * Authentication (API.md 1.2, RFC 6750): "Authorization: Bearer <token>"
 * (or the application's scheme), the scheme in any case, exactly one token
 * of token68 characters, one Authorization header.  The application checks
 * the token itself.
 */
static keel_rc
mw_auth(keel_ctx_t *ctx)
{
    const route_t *route = ctx->match.route;
    const keel_app_t *app = ctx->http->app;
    const char *h = NULL, *tok, *scheme = auth_scheme(app);
    size_t n = 0, slen = strlen(scheme);
    keel_rc rc;

    if (route->auth == AUTH_NONE)
        return KEEL_OK;
    for (size_t i = 0; i < ctx->req.nheaders; i++) {
        if (strcmp(ctx->req.headers[i].name, "authorization") == 0) {
            h = ctx->req.headers[i].value;
            n++;
        }
    }
    if (h == NULL)
        return route->auth == AUTH_OPTIONAL
                   ? KEEL_OK
                   : ctx_fail(ctx, KEEL_EUNAUTH, "Authentication required");
    ctx->token_invalid = 1;
    if (n > 1 || ascii_ncasecmp(h, scheme, slen) != 0 || h[slen] != ' ')
        return ctx_fail(ctx, KEEL_EUNAUTH, "Invalid or expired token");
    tok = h + slen + 1;
    while (*tok == ' ')
        tok++;
    if (*tok == '\0' ||
        strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                    "0123456789-._~+/=") != strlen(tok))
        return ctx_fail(ctx, KEEL_EUNAUTH, "Invalid or expired token");
    if (app->authenticate == NULL)
        return ctx_fail(ctx, KEEL_EUNAUTH, "Invalid or expired token");
    rc = app->authenticate(ctx, tok);
    if (rc == KEEL_OK)
        ctx->token_invalid = 0;
    else if (rc == KEEL_EUNAUTH)
        return ctx_fail(ctx, KEEL_EUNAUTH, "Invalid or expired token");
    return rc;
}

/*
 * Authorization (API.md 4): the route's permission, or the resource's
 * ownership rule when it has one.  Anonymous callers of a protected route
 * get 401; the rest 403, or 404 where the rule says the caller may not
 * know the resource.
 */
static keel_rc
mw_authz(keel_ctx_t *ctx)
{
    const route_t *route = ctx->match.route;
    int permitted;
    keel_rc rc;

    if (route->permission == NULL && route->access == NULL)
        return KEEL_OK;
    /* Anonymous callers reach only a public route's ownership rule (a
     * published post is anyone's to read). */
    if (ctx->user == NULL &&
        (route->auth != AUTH_OPTIONAL || route->access == NULL))
        return ctx_fail(ctx, KEEL_EUNAUTH, "Authentication required");
    permitted = route->permission != NULL && ctx_can(ctx, route->permission);
    if (route->access == NULL)
        return permitted ? KEEL_OK : ctx_fail(ctx, KEEL_EFORBIDDEN, NULL);
    rc = route->access(ctx, permitted);
    if (rc == KEEL_EFORBIDDEN || rc == KEEL_ENOTFOUND)
        return ctx_fail(ctx, rc, ctx->message);
    return rc;
}

/* ---- rate limits (API.md 1.7) ------------------------------------------- */

/* The class name and policy of `c`, or NULL when it is not limited. */
static const keel_rate_t *
rate_policy(const keel_config_t *cfg, enum rate_class c, const char **name)
{
    if (cfg == NULL || !cfg->rl_enabled)
        return NULL;
    switch (c) {
    case RATE_READ:
        *name = "read";
        return &cfg->rl_read;
    case RATE_WRITE:
        *name = "write";
        return &cfg->rl_write;
    case RATE_AUTH:
        *name = "auth";
        return &cfg->rl_auth;
    default:
        return NULL;
    }
}

/*
 * Take one request from the bucket of (`cls`, `who`) under `p`, keeping
 * for the headers the bucket that binds most; 429 when it is empty.
 * `bucket` names the bucket apart from the class ("auth" per address and
 * "auth" per email are two).
 */
static keel_rc
rate_take(keel_ctx_t *ctx, const char *cls, const char *bucket,
          const keel_rate_t *p, const char *who)
{
    rl_result_t r;

    if (p->limit <= 0)
        return KEEL_OK;
    ratelimit_take(bucket, who, p, &r);
    if (ctx->rate.cls == NULL || !r.allowed ||
        r.remaining < ctx->rate.remaining) {
        ctx->rate.cls = cls;
        ctx->rate.limit = r.limit;
        ctx->rate.remaining = r.remaining;
        ctx->rate.window = p->window;
        ctx->rate.reset_after = r.reset_after;
        ctx->rate.retry_after = r.retry_after;
    }
    if (!r.allowed) {
        metrics_rate_rejected(strcmp(cls, "read") == 0    ? RATE_READ
                              : strcmp(cls, "write") == 0 ? RATE_WRITE
                                                          : RATE_AUTH);
        return ctx_fail(ctx, KEEL_ERATELIMIT, NULL);
    }
    return KEEL_OK;
}

/* The request's bucket in class `c`: its user once authenticated, else
 * its client address. */
static keel_rc
rate_limit_class(keel_ctx_t *ctx, enum rate_class c)
{
    const char *cls = NULL, *who;
    const keel_rate_t *p = rate_policy(ctx->http->cfg, c, &cls);

    if (p == NULL)
        return KEEL_OK;
    who = ctx->user != NULL
              ? arena_sprintf(ctx->arena, "u:%s", ctx->user->id)
              : arena_sprintf(ctx->arena, "ip:%s", ctx->req.client_ip);
    return rate_take(ctx, cls, cls, p, who);
}

/*
 * After authentication, so that a signed-in client is limited as itself
 * and not by an address it may share with others (nor by a user id it
 * merely claims); a refused token is limited by address (chain_run).
 */
static keel_rc
mw_rate(keel_ctx_t *ctx)
{
    return rate_limit_class(ctx, ctx->match.route->rate);
}

/*
 * The auth class counts per target email as well (API.md 1.7): a login
 * burst against one account is held back from however many addresses it
 * comes.  After the body is read, from its "email" member.
 */
static keel_rc
mw_rate_email(keel_ctx_t *ctx)
{
    const char *cls = NULL;
    const keel_rate_t *p =
        rate_policy(ctx->http->cfg, ctx->match.route->rate, &cls);
    const char *member = ctx->http->app->rate_email_member;
    json_object *v = ctx->req.json;
    char *email;

    if (p == NULL || ctx->match.route->rate != RATE_AUTH || v == NULL)
        return KEEL_OK;
    /* A dotted path: RealWorld's login says {"user": {"email": ...}}. */
    for (const char *m = member ? member : "email"; v != NULL && *m;) {
        size_t len = strcspn(m, ".");
        char *key = arena_strndup(ctx->arena, m, len);
        if (!json_object_is_type(v, json_type_object) ||
            !json_object_object_get_ex(v, key, &v))
            v = NULL;
        m += len + (m[len] == '.');
    }
    if (v == NULL || !json_object_is_type(v, json_type_string))
        return KEEL_OK;
    email = arena_sprintf(ctx->arena, "email:%s", json_object_get_string(v));
    for (char *q = email; *q; q++)
        if (*q >= 'A' && *q <= 'Z')
            *q = (char)(*q - 'A' + 'a');
    return rate_take(ctx, cls, "auth-email", p, email);
}

/* RFC 9651 keys are lower-case: the class names are. */
static void
rate_headers(keel_ctx_t *ctx)
{
    long long reset = (long long)(ctx->rate.reset_after + 0.999);
    long long window = (long long)(ctx->rate.window + 0.5);

    if (ctx->rate.cls == NULL)
        return;
    ctx_header_set(ctx, "X-RateLimit-Limit",
                   arena_sprintf(ctx->arena, "%lld", ctx->rate.limit));
    ctx_header_set(ctx, "X-RateLimit-Remaining",
                   arena_sprintf(ctx->arena, "%lld", ctx->rate.remaining));
    ctx_header_set(
        ctx, "X-RateLimit-Reset",
        arena_sprintf(ctx->arena, "%lld", (long long)time_wall() + reset));
    ctx_header_set(ctx, "RateLimit-Policy",
                   arena_sprintf(ctx->arena, "\"%s\";q=%lld;w=%lld",
                                 ctx->rate.cls, ctx->rate.limit, window));
    ctx_header_set(ctx, "RateLimit",
                   arena_sprintf(ctx->arena, "\"%s\";r=%lld;t=%lld",
                                 ctx->rate.cls, ctx->rate.remaining, reset));
    if (ctx->res.status == 429) {
        long long after = (long long)(ctx->rate.retry_after + 0.999);
        ctx_header_set(
            ctx, "Retry-After",
            arena_sprintf(ctx->arena, "%lld", after < 1 ? 1 : after));
    }
}

/* The query string of a collection or a selectable resource (API.md 1.4). */
static keel_rc
mw_query(keel_ctx_t *ctx)
{
    const route_t *route = ctx->match.route;
    coll_query_t *q;
    keel_rc rc;

    if (route->query == NULL && route->select == NULL) {
        /* No parameter is silently ignored (API.md 1.4). */
        if (route->any_query || ctx->req.nquery == 0)
            return KEEL_OK;
        ctx_detail(ctx, "query", "this endpoint takes no query parameters");
        return ctx_fail(ctx, KEEL_EINVAL, NULL);
    }
    q = arena_calloc(ctx->arena, sizeof(*q));
    if (ctx->details == NULL)
        ctx->details = json_object_new_array();
    if (route->query != NULL)
        rc = coll_parse(route->query, ctx->req.query, ctx->req.nquery,
                        coll_secret(ctx->http->cfg), ctx->arena, q,
                        ctx->details);
    else
        rc = coll_parse_single(route->select, ctx->req.query, ctx->req.nquery,
                               ctx->arena, q, ctx->details);
    if (rc != KEEL_OK)
        return ctx_fail(ctx, rc, NULL);
    ctx->query = q;
    return KEEL_OK;
}

/*
 * The chain after routing, in order (DESIGN.md §2).  Rate limiting comes
 * after authentication (DESIGN.md has it before): only a verified token
 * says which user's bucket to take from.
 */
static const struct {
    const char *name;
    middleware_fn fn;
} middleware[] = {
    { "auth", mw_auth },   { "rate", mw_rate }, { "authz", mw_authz },
    { "query", mw_query }, { "body", mw_body }, { "rate-email", mw_rate_email },
};

/* ---- crash guard ----------------------------------------------------- */

static void
guard_handler(int sig)
{
    if (guard_jmp != NULL) {
        guard_sig = sig;
        siglongjmp(*guard_jmp, 1);
    }
    /* Not in a handler: die as the signal means to. */
    signal(sig, SIG_DFL);
    raise(sig);
}

void
chain_crash_guard_install(void)
{
    static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL };
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = guard_handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_NODEFER;
    for (size_t i = 0; i < KEEL_ARRAY_LEN(sigs); i++)
        sigaction(sigs[i], &sa, NULL);
}

void
chain_crash_guard_disarm(void)
{
    alarm(0);
}

static keel_rc
run_handler(keel_ctx_t *ctx)
{
    sigjmp_buf jb;
    volatile keel_rc rc = KEEL_EINTERNAL;

    if (sigsetjmp(jb, 1) == 0) {
        guard_jmp = &jb;
        rc = ctx->match.route->handler(ctx);
        guard_jmp = NULL;
        return rc;
    }
    guard_jmp = NULL;
    ctx->crashed = 1;
    /*
     * Best effort from here: the fault may have left a lock held (malloc's,
     * the logger's), and answering needs both.  Bound the attempt: SIGALRM,
     * unblocked in this thread only, ends the process (its default action)
     * if the 500 is not out within CRASH_DEADLINE seconds; the worker stops
     * after this request in any case (ctx->crashed) and is replaced.
     */
    {
        sigset_t alrm;
        sigemptyset(&alrm);
        sigaddset(&alrm, SIGALRM);
        signal(SIGALRM, SIG_DFL);
        pthread_sigmask(SIG_UNBLOCK, &alrm, NULL);
        alarm(CRASH_DEADLINE);
    }
    ctx->log_error =
        arena_sprintf(ctx->arena, "handler crashed: signal %d", (int)guard_sig);
    return KEEL_EINTERNAL;
}

/* ---- errors and response finishing ----------------------------------- */

void
chain_error(keel_ctx_t *ctx, keel_rc rc)
{
    const keel_error_info_t *info = keel_error_info(rc);
    const keel_app_t *app = ctx->http->app;
    keel_error_t e = {
        rc,           info->status,
        info->code,   ctx->message ? ctx->message : info->message,
        ctx->details, ctx->req.request_id
    };
    json_object *env;
    char allow[96];

    if (info->status >= 500) {
        json_object *line = log_new(KLOG_ERROR, "request failed");
        if (line) {
            json_object_object_add(line, "request_id",
                                   json_object_new_string(ctx->req.request_id));
            json_object_object_add(
                line, "route",
                ctx->match.pattern ? json_object_new_string(ctx->match.pattern)
                                   : NULL);
            json_object_object_add(line, "component",
                                   json_object_new_string(ctx->component
                                                              ? ctx->component
                                                              : "handler"));
            json_object_object_add(line, "error",
                                   json_object_new_string(ctx->log_error
                                                              ? ctx->log_error
                                                              : info->code));
            log_emit(line);
        }
    }
    /* A 500 never carries details or a handler's message: they could leak
     * internals, whoever renders them. */
    if (e.details == NULL || info->status >= 500) {
        json_object_put(e.details);
        e.details = json_object_new_array();
    }
    if (info->status >= 500)
        e.message = info->message;
    ctx->details = NULL;
    env = app->render_error != NULL
              ? app->render_error(ctx, &e)
              : error_envelope(rc, e.message, json_object_get(e.details),
                               e.request_id);
    json_object_put(e.details);
    ctx_respond_json(ctx, e.status, env);
    json_object_put(env);
    if (rc == KEEL_EMETHOD) {
        router_allow_string(ctx->match.allow, allow, sizeof(allow));
        ctx_header_set(ctx, "Allow", allow);
    }
    if (rc == KEEL_EUNAUTH)
        ctx_header_set(ctx, "WWW-Authenticate",
                       arena_sprintf(ctx->arena, "%s realm=\"%s\"%s",
                                     auth_scheme(app), auth_realm(app),
                                     ctx->token_invalid
                                         ? ", error=\"invalid_token\""
                                         : ""));
    if (rc == KEEL_EUNAVAIL && ctx_header_get(ctx, "Retry-After") == NULL)
        ctx_header_set(ctx, "Retry-After", "1");
}

/* ---- CORS (API.md 6) ------------------------------------------------- */

#define CORS_ALLOW_HEADERS                                                     \
    "Authorization, Content-Type, Idempotency-Key, If-Match, "                 \
    "If-None-Match, X-Request-Id, traceparent"
#define CORS_EXPOSE_HEADERS                                                    \
    "ETag, Location, X-Request-Id, Retry-After, X-RateLimit-Limit, "           \
    "X-RateLimit-Remaining, X-RateLimit-Reset, RateLimit-Policy, RateLimit, "  \
    "Idempotent-Replayed, Server-Timing"

/* Add `v` to the Vary header (answers differ by it). */
static void
vary(keel_ctx_t *ctx, const char *v)
{
    const char *old = ctx_header_get(ctx, "Vary");

    ctx_header_set(ctx, "Vary",
                   old ? arena_sprintf(ctx->arena, "%s, %s", old, v) : v);
}

/*
 * The CORS headers of an answer: Vary: Origin whenever origins are
 * configured (a cache must not serve one origin's answer to another), and
 * the Allow-Origin family only for an allowed Origin.  `preflight`: the
 * answer to OPTIONS with Access-Control-Request-Method; `allow` its
 * methods.
 */
static void
cors_headers(keel_ctx_t *ctx, int preflight, const char *allow)
{
    const keel_config_t *cfg = ctx->http->cfg;
    const char *ok;

    if (cfg == NULL || cfg->cors_origins == NULL ||
        cfg->cors_origins[0] == '\0')
        return;
    vary(ctx, "Origin");
    ok = config_cors_origin(cfg, request_header(&ctx->req, "origin"), 0);
    if (ok == NULL)
        return;
    ctx_header_set(ctx, "Access-Control-Allow-Origin", ok);
    if (cfg->cors_credentials)
        ctx_header_set(ctx, "Access-Control-Allow-Credentials", "true");
    if (preflight) {
        ctx_header_set(ctx, "Access-Control-Allow-Methods", allow);
        ctx_header_set(ctx, "Access-Control-Allow-Headers", CORS_ALLOW_HEADERS);
        ctx_header_set(
            ctx, "Access-Control-Max-Age",
            arena_sprintf(ctx->arena, "%lld", (long long)cfg->cors_max_age));
    } else {
        ctx_header_set(ctx, "Access-Control-Expose-Headers",
                       CORS_EXPOSE_HEADERS);
    }
}

static void
finish(keel_ctx_t *ctx)
{
    const keel_config_t *cfg = ctx->http->cfg;

    ctx_header_set(ctx, "X-Request-Id", ctx->req.request_id);
    ctx_header_set(ctx, "X-Content-Type-Options", "nosniff");
    if (ctx_header_get(ctx, "Cache-Control") == NULL)
        ctx_header_set(ctx, "Cache-Control", "no-store");
    ctx_header_set(ctx, "Content-Security-Policy",
                   "default-src 'none'; frame-ancestors 'none'");
    ctx_header_set(ctx, "Referrer-Policy", "no-referrer");
    if (cfg && cfg->hsts && cfg->hsts[0] != '\0')
        ctx_header_set(ctx, "Strict-Transport-Security", cfg->hsts);
    if (cfg && cfg->server_timing) {
        /* Milliseconds (W3C Server Timing): authenticating, the request's
         * statements, and everything up to now. */
        ctx_header_set(
            ctx, "Server-Timing",
            arena_sprintf(
                ctx->arena, "auth;dur=%.2f, db;dur=%.2f, total;dur=%.2f",
                ctx->auth_seconds * 1000.0, db_track_seconds() * 1000.0,
                (time_mono() - ctx->started) * 1000.0));
    }
    rate_headers(ctx);
}

void
chain_run(keel_ctx_t *ctx, keel_rc parse_rc, const char *why)
{
    keel_request_t *req = &ctx->req;
    keel_rc rc = parse_rc;

    db_track_begin(req->request_id, ctx->http->cfg->slow_query);
    if (rc != KEEL_OK) {
        ctx->message = why;
        goto out;
    }
    if (ctx->http->trusted.n > 0)
        req->client_ip = client_ip_resolve(
            &ctx->http->trusted, req->client_ip,
            request_header(req, "x-forwarded-for"), ctx->arena);
    rc = router_match(ctx->http->router, req->method, req->segments,
                      req->nsegments, &ctx->match);
    if (rc == KEEL_EMETHOD && req->method == HTTP_OPTIONS) {
        /* OPTIONS on a known path: its methods, and a CORS preflight's
         * answer when an allowed origin asks. */
        char allow[96];
        router_allow_string(ctx->match.allow, allow, sizeof(allow));
        ctx_respond_empty(ctx, 204);
        ctx_header_set(ctx, "Allow", allow);
        cors_headers(
            ctx, request_header(req, "access-control-request-method") != NULL,
            allow);
        finish(ctx);
        return;
    }
    if (rc != KEEL_OK) {
        /* Unknown API paths count too, by address: probing is traffic. */
        const char *prefix =
            ctx->http->app->path_prefix ? ctx->http->app->path_prefix : "/v1/";
        if (strncmp(req->path, prefix, strlen(prefix)) == 0) {
            keel_rc r2 = rate_limit_class(ctx, req->method == HTTP_GET ||
                                                       req->method == HTTP_HEAD
                                                   ? RATE_READ
                                                   : RATE_WRITE);
            if (r2 != KEEL_OK)
                rc = r2;
        }
        goto out;
    }
    if (ctx->routed != NULL)
        ctx->routed(ctx->routed_arg, ctx->match.pattern);
    for (size_t i = 0; i < KEEL_ARRAY_LEN(middleware) && rc == KEEL_OK; i++) {
        double t0 = time_mono();
        rc = middleware[i].fn(ctx);
        if (middleware[i].fn == mw_auth)
            ctx->auth_seconds = time_mono() - t0;
        /* A refused token still costs its address a request. */
        if (rc == KEEL_EUNAUTH && middleware[i].fn == mw_auth) {
            keel_rc r2 = mw_rate(ctx);
            if (r2 != KEEL_OK)
                rc = r2;
        }
    }
    if (rc == KEEL_OK)
        rc = run_handler(ctx);
    if (rc == KEEL_OK && ctx->res.status == 0)
        rc = ctx_fail_internal(ctx, "handler set no response");
out:
    if (rc != KEEL_OK)
        chain_error(ctx, rc);
    cors_headers(ctx, 0, NULL);
    finish(ctx);
}

const char *
response_head(keel_ctx_t *ctx, size_t *len)
{
    keel_response_t *res = &ctx->res;
    size_t cap = 64, o;
    char *buf;
    int body_allowed = res->status != 204 && res->status != 304;

    for (size_t i = 0; i < res->nheaders; i++)
        cap += strlen(res->headers[i].name) + strlen(res->headers[i].value) + 4;
    cap += 64; /* Status and Content-Length lines */
    buf = arena_alloc(ctx->arena, cap);
    o = (size_t)snprintf(buf, cap, "Status: %d %s\r\n", res->status,
                         http_reason(res->status));
    for (size_t i = 0; i < res->nheaders; i++)
        o += (size_t)snprintf(buf + o, cap - o, "%s: %s\r\n",
                              res->headers[i].name, res->headers[i].value);
    if (body_allowed)
        o += (size_t)snprintf(buf + o, cap - o, "Content-Length: %zu\r\n",
                              res->body_len);
    o += (size_t)snprintf(buf + o, cap - o, "\r\n");
    *len = o;
    return buf;
}

void
chain_access_log(keel_ctx_t *ctx, size_t bytes_sent)
{
    keel_request_t *req = &ctx->req;
    json_object *line;
    double ms;

    if (!ctx->http->cfg->access_log)
        return;
    line = log_new(KLOG_INFO, "access");
    if (line == NULL)
        return;
    ms = (time_mono() - ctx->started) * 1000.0;
    json_object_object_add(line, "request_id",
                           json_object_new_string(req->request_id));
    json_object_object_add(line, "trace_id",
                           json_object_new_string(req->trace_id));
    json_object_object_add(line, "span_id",
                           json_object_new_string(req->span_id));
    if (req->parent_id[0])
        json_object_object_add(line, "parent_id",
                               json_object_new_string(req->parent_id));
    json_object_object_add(line, "user_id",
                           ctx->user ? json_object_new_string(ctx->user->id)
                                     : NULL);
    json_object_object_add(
        line, "method",
        json_object_new_string(req->method_name ? req->method_name : ""));
    json_object_object_add(line, "path",
                           json_object_new_string(req->path ? req->path : ""));
    json_object_object_add(
        line, "route",
        ctx->match.pattern ? json_object_new_string(ctx->match.pattern) : NULL);
    json_object_object_add(line, "status",
                           json_object_new_int(ctx->res.status));
    {
        char d[32];
        snprintf(d, sizeof(d), "%.3f", ms);
        json_object_object_add(line, "duration_ms",
                               json_object_new_double_s(ms, d));
    }
    json_object_object_add(line, "bytes",
                           json_object_new_int64((int64_t)bytes_sent));
    json_object_object_add(
        line, "client_ip",
        json_object_new_string(req->client_ip ? req->client_ip : ""));
    json_object_object_add(
        line, "user_agent",
        req->user_agent ? json_object_new_string(req->user_agent) : NULL);
    if (ctx->http->worker_index >= 0)
        json_object_object_add(line, "worker",
                               json_object_new_int(ctx->http->worker_index));
    log_emit(line);
}
