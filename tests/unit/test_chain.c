/* test_chain.c - the middleware chain without a server: routing errors,
 * the envelope, body checks, the crash guard and response headers. */
#include "keel-build.h"

#include "unit.h"
#include "core/log.h"
#include "core/util.h"
#include "db/db.h"
#include "http/chain.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

static keel_rc
ok_handler(keel_ctx_t *ctx)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "ok", json_object_new_boolean(1));
    ctx_respond_data(ctx, 200, o);
    return KEEL_OK;
}

static keel_rc
crash_handler(keel_ctx_t *ctx)
{
    raise(SIGSEGV);
    return KEEL_OK;
}

static keel_rc
internal_handler(keel_ctx_t *ctx)
{
    return ctx_fail_internal(ctx, "db said: password=hunter2");
}

/* A 500 whose handler left a message and details behind. */
static keel_rc
leaky_handler(keel_ctx_t *ctx)
{
    ctx_detail(ctx, "dsn", "password=hunter2");
    return ctx_fail(ctx, KEEL_EINTERNAL, "db said: password=hunter2");
}

static keel_rc
silent_handler(keel_ctx_t *ctx)
{
    return KEEL_OK;
}

static keel_rc
conflict_handler(keel_ctx_t *ctx)
{
    db_error_t err = { "23505", "users_email_key", "users",
                       "duplicate key value violates unique constraint" };
    return ctx_fail_db(ctx, KEEL_ECONFLICT, &err);
}

static keel_rc
cached_handler(keel_ctx_t *ctx)
{
    ctx_header_set(ctx, "Cache-Control", "public, max-age=60");
    return ok_handler(ctx);
}

/* Accepts the one token "good". */
static keel_rc
test_authenticate(keel_ctx_t *ctx, const char *token)
{
    if (strcmp(token, "good") != 0)
        return KEEL_EUNAUTH;
    snprintf(ctx->user_buf.id, sizeof(ctx->user_buf.id), "u1");
    ctx->user = &ctx->user_buf;
    return KEEL_OK;
}

static const schema_prop_t props[] = {
    { .name = "name",
      .type = SCHEMA_STRING,
      .flags = SCHEMA_REQUIRED,
      .bounded = 1,
      .min = 1,
      .max = 5 },
};
static const schema_t schema = SCHEMA_OF(props);

static const route_t rows[] = {
    { .method = HTTP_GET,
      .pattern = "/ok",
      .handler = ok_handler,
      .auth = AUTH_NONE },
    { .method = HTTP_POST,
      .pattern = "/ok",
      .handler = ok_handler,
      .auth = AUTH_NONE,
      .body = &schema },
    { .method = HTTP_GET,
      .pattern = "/crash",
      .handler = crash_handler,
      .auth = AUTH_NONE },
    { .method = HTTP_GET,
      .pattern = "/internal",
      .handler = internal_handler,
      .auth = AUTH_NONE },
    { .method = HTTP_GET,
      .pattern = "/silent",
      .handler = silent_handler,
      .auth = AUTH_NONE },
    { .method = HTTP_GET,
      .pattern = "/cached",
      .handler = cached_handler,
      .auth = AUTH_NONE },
    { .method = HTTP_GET,
      .pattern = "/conflict",
      .handler = conflict_handler,
      .auth = AUTH_NONE },
    { .method = HTTP_GET,
      .pattern = "/me",
      .handler = ok_handler,
      .auth = AUTH_BEARER },
};
static const route_table_t tables[] = { ROUTE_TABLE(rows) };
static const keel_app_t app = { .name = "test",
                                .version = "9.9.9",
                                .tables = tables,
                                .ntables = 1,
                                .authenticate = test_authenticate };

/*
 * A second application with RealWorld's conventions (examples/realworld):
 * "Token" credentials, {"user": ...} bodies and envelopes, errors as
 * {"errors": {"field": ["message"]}} with 422 for validation, its own
 * wording.  Each hook of keel_app_t it sets is checked below against keel's
 * default, so that a hook the core ignores fails a test.
 */
static const valid_messages_t rw_messages = {
    .msg = { [VMSG_REQUIRED] = "can't be blank",
             [VMSG_BLANK] = "can't be blank",
             [VMSG_TAKEN] = "has already been taken" },
};

/* {"errors": {"username": ["can't be blank"]}}: fields without the body's
 * wrapper ("user.username"), the message alone when there are none. */
static json_object *
rw_render_error(const keel_ctx_t *c, keel_error_t *e)
{
    json_object *root = json_object_new_object();
    json_object *errs = json_object_new_object();
    size_t n = json_object_array_length(e->details);

    if (e->rc == KEEL_EINVAL)
        e->status = 422;
    for (size_t i = 0; i < n; i++) {
        json_object *d = json_object_array_get_idx(e->details, i), *f, *m, *l;
        const char *field, *dot;
        json_object_object_get_ex(d, "field", &f);
        json_object_object_get_ex(d, "message", &m);
        field = json_object_get_string(f);
        dot = strchr(field, '.');
        if (dot != NULL)
            field = dot + 1;
        if (!json_object_object_get_ex(errs, field, &l)) {
            l = json_object_new_array();
            json_object_object_add(errs, field, l);
        }
        json_object_array_add(l, json_object_get(m));
    }
    if (n == 0) {
        json_object *l = json_object_new_array();
        json_object_array_add(l, json_object_new_string(e->message));
        json_object_object_add(errs, "body", l);
    }
    json_object_object_add(root, "errors", errs);
    return root;
}

static const schema_prop_t rw_user_props[] = {
    { .name = "username",
      .type = SCHEMA_STRING,
      .flags = SCHEMA_REQUIRED | SCHEMA_TRIM,
      .bounded = 1,
      .min = 1,
      .max = 20 },
    { .name = "email",
      .type = SCHEMA_STRING,
      .flags = SCHEMA_REQUIRED,
      .format = FORMAT_EMAIL },
};
static const schema_t rw_user = SCHEMA_OF(rw_user_props);
static const schema_prop_t rw_body_props[] = {
    { .name = "user",
      .type = SCHEMA_OBJECT,
      .flags = SCHEMA_REQUIRED,
      .object = &rw_user },
};
static const schema_t rw_body = SCHEMA_OF(rw_body_props);

static const route_t rw_rows[] = {
    { .method = HTTP_GET,
      .pattern = "/api/user",
      .handler = ok_handler,
      .auth = AUTH_BEARER,
      .envelope = "user" },
    { .method = HTTP_POST,
      .pattern = "/api/users",
      .handler = ok_handler,
      .auth = AUTH_NONE,
      .rate = RATE_AUTH,
      .body = &rw_body,
      .envelope = "user" },
    { .method = HTTP_GET,
      .pattern = "/api/internal",
      .handler = internal_handler,
      .auth = AUTH_NONE },
    { .method = HTTP_GET,
      .pattern = "/api/leaky",
      .handler = leaky_handler,
      .auth = AUTH_NONE },
    { .method = HTTP_GET,
      .pattern = "/api/conflict",
      .handler = conflict_handler,
      .auth = AUTH_NONE },
};
static const route_table_t rw_tables[] = { ROUTE_TABLE(rw_rows) };
static const keel_app_t rw_app = { .name = "conduit-test",
                                   .version = "1.0.0",
                                   .tables = rw_tables,
                                   .ntables = 1,
                                   .authenticate = test_authenticate,
                                   .auth_scheme = "Token",
                                   .auth_realm = "conduit",
                                   .path_prefix = "/api/",
                                   .render_error = rw_render_error,
                                   .messages = &rw_messages,
                                   .rate_email_member = "user.email" };

static keel_config_t cfg, rw_cfg;
static keel_http_t http, rw_http;
static arena_t A;
static keel_ctx_t ctx;

/*
 * Run one request through the chain of `h` with an Authorization header
 * and a client address when not NULL; the response stays in `ctx`.
 */
static void
run_on(const keel_http_t *h, const char *method, const char *uri,
       const char *ctype, const char *body, const char *auth, const char *ip)
{
    char m[64], u[4096], c[128], a[256], r[64];
    char *env[8];
    int n = 0;
    const char *why = NULL;
    keel_rc rc;

    ctx_release(&ctx);
    arena_reset(&A);
    snprintf(m, sizeof(m), "REQUEST_METHOD=%s", method);
    snprintf(u, sizeof(u), "REQUEST_URI=%s", uri);
    env[n++] = m;
    env[n++] = u;
    if (ctype) {
        snprintf(c, sizeof(c), "CONTENT_TYPE=%s", ctype);
        env[n++] = c;
    }
    if (auth) {
        snprintf(a, sizeof(a), "HTTP_AUTHORIZATION=%s", auth);
        env[n++] = a;
    }
    if (ip) {
        snprintf(r, sizeof(r), "REMOTE_ADDR=%s", ip);
        env[n++] = r;
    }
    env[n++] = "HTTP_X_REQUEST_ID=test-rid";
    env[n] = NULL;
    ctx_init(&ctx, h, &A);
    rc = request_from_params(&ctx.req, &A, env, &http.limits, &why);
    if (body) {
        ctx.req.body = arena_strdup(&A, body);
        ctx.req.body_len = strlen(body);
    }
    chain_run(&ctx, rc, why);
}

static void
run(const char *method, const char *uri, const char *ctype, const char *body)
{
    run_on(&http, method, uri, ctype, body, NULL, NULL);
}

static json_object *
body_json(void)
{
    static json_object *last;
    json_object_put(last);
    last = json_tokener_parse(ctx.res.body ? ctx.res.body : "");
    return last;
}

static const char *
err_code(void)
{
    json_object *o = body_json(), *e, *c;
    if (!json_object_object_get_ex(o, "error", &e) ||
        !json_object_object_get_ex(e, "code", &c))
        return "";
    return json_object_get_string(c);
}

static void
assert_common_headers(void)
{
    CU_ASSERT_STRING_EQUAL(ctx_header_get(&ctx, "X-Request-Id"), "test-rid");
    CU_ASSERT_STRING_EQUAL(ctx_header_get(&ctx, "X-Content-Type-Options"),
                           "nosniff");
    CU_ASSERT_STRING_EQUAL(ctx_header_get(&ctx, "Referrer-Policy"),
                           "no-referrer");
    CU_ASSERT_PTR_NOT_NULL(ctx_header_get(&ctx, "Content-Security-Policy"));
    CU_ASSERT_PTR_NOT_NULL(ctx_header_get(&ctx, "Cache-Control"));
}

static void
test_success_gets_data_and_security_headers(void)
{
    run("GET", "/ok", NULL, NULL);
    CU_ASSERT_EQUAL(ctx.res.status, 200);
    CU_ASSERT_STRING_EQUAL(ctx.res.body, "{\"data\":{\"ok\":true}}");
    CU_ASSERT_STRING_EQUAL(ctx_header_get(&ctx, "Cache-Control"), "no-store");
    CU_ASSERT_PTR_NULL(ctx_header_get(&ctx, "Strict-Transport-Security"));
    assert_common_headers();
}

static void
test_handler_cache_control_is_kept(void)
{
    run("GET", "/cached", NULL, NULL);
    CU_ASSERT_STRING_EQUAL(ctx_header_get(&ctx, "Cache-Control"),
                           "public, max-age=60");
}

static void
test_hsts_only_when_configured(void)
{
    char *old = cfg.hsts;

    cfg.hsts = "max-age=63072000";
    run("GET", "/ok", NULL, NULL);
    CU_ASSERT_STRING_EQUAL(ctx_header_get(&ctx, "Strict-Transport-Security"),
                           "max-age=63072000");
    cfg.hsts = old;
}

static void
test_routing_errors_use_the_envelope(void)
{
    run("GET", "/nope", NULL, NULL);
    CU_ASSERT_EQUAL(ctx.res.status, 404);
    CU_ASSERT_STRING_EQUAL(err_code(), "NOT_FOUND");
    assert_common_headers();
    run("DELETE", "/ok", NULL, NULL);
    CU_ASSERT_EQUAL(ctx.res.status, 405);
    CU_ASSERT_STRING_EQUAL(err_code(), "METHOD_NOT_ALLOWED");
    CU_ASSERT_STRING_EQUAL(ctx_header_get(&ctx, "Allow"),
                           "GET, HEAD, POST, OPTIONS");
    assert_common_headers();
}

static void
test_options_answers_204_with_allow(void)
{
    run("OPTIONS", "/ok", NULL, NULL);
    CU_ASSERT_EQUAL(ctx.res.status, 204);
    CU_ASSERT_EQUAL(ctx.res.body_len, 0);
    CU_ASSERT_STRING_EQUAL(ctx_header_get(&ctx, "Allow"),
                           "GET, HEAD, POST, OPTIONS");
    run("OPTIONS", "/none", NULL, NULL);
    CU_ASSERT_EQUAL(ctx.res.status, 404);
}

static void
test_parse_errors_become_envelopes(void)
{
    char uri[3000] = "/";

    memset(uri + 1, 'a', 2500);
    run("GET", uri, NULL, NULL);
    CU_ASSERT_EQUAL(ctx.res.status, 414);
    CU_ASSERT_STRING_EQUAL(err_code(), "URI_TOO_LONG");
    run("GET", "/ok/%zz", NULL, NULL);
    CU_ASSERT_EQUAL(ctx.res.status, 400);
    CU_ASSERT_STRING_EQUAL(err_code(), "BAD_REQUEST");
}

static void
test_body_checks_in_order(void)
{
    run("POST", "/ok", "text/plain", "{\"name\":\"a\"}");
    CU_ASSERT_EQUAL(ctx.res.status, 415);
    run("POST", "/ok", "application/json", "{\"name\":");
    CU_ASSERT_EQUAL(ctx.res.status, 400);
    CU_ASSERT_STRING_EQUAL(err_code(), "BAD_REQUEST");
    run("POST", "/ok", "application/json", "[]");
    CU_ASSERT_EQUAL(ctx.res.status, 400);
    CU_ASSERT_STRING_EQUAL(err_code(), "BAD_REQUEST");
    /* A 4xx without details keeps its own message. */
    CU_ASSERT_PTR_NOT_NULL(
        strstr(ctx.res.body, "\"Request body must be a JSON object\""));
    run("POST", "/ok", "application/json", NULL);
    CU_ASSERT_EQUAL(ctx.res.status, 400);
    run("POST", "/ok", "application/json", "{\"name\":\"toolong\",\"x\":1}");
    CU_ASSERT_EQUAL(ctx.res.status, 400);
    CU_ASSERT_STRING_EQUAL(err_code(), "VALIDATION_ERROR");
    {
        json_object *e, *d;
        json_object_object_get_ex(body_json(), "error", &e);
        json_object_object_get_ex(e, "details", &d);
        CU_ASSERT_EQUAL(json_object_array_length(d), 2);
    }
    run("POST", "/ok", "application/json; charset=utf-8", "{\"name\":\"ab\"}");
    CU_ASSERT_EQUAL(ctx.res.status, 200);
}

static void
test_crash_guard_turns_a_fault_into_500(void)
{
    run("GET", "/crash", NULL, NULL);
    chain_crash_guard_disarm();
    CU_ASSERT_EQUAL(ctx.res.status, 500);
    CU_ASSERT_TRUE(ctx.crashed);
    CU_ASSERT_STRING_EQUAL(err_code(), "INTERNAL_ERROR");
    CU_ASSERT_PTR_NULL(strstr(ctx.res.body, "signal"));
    /* The guard is re-armed for the next request. */
    run("GET", "/crash", NULL, NULL);
    chain_crash_guard_disarm();
    CU_ASSERT_EQUAL(ctx.res.status, 500);
    run("GET", "/ok", NULL, NULL);
    CU_ASSERT_EQUAL(ctx.res.status, 200);
    CU_ASSERT_FALSE(ctx.crashed);
}

static void
test_internal_errors_hide_their_detail(void)
{
    run("GET", "/internal", NULL, NULL);
    CU_ASSERT_EQUAL(ctx.res.status, 500);
    CU_ASSERT_PTR_NULL(strstr(ctx.res.body, "hunter2"));
    CU_ASSERT_PTR_NULL(strstr(ctx.res.body, "db said"));
    CU_ASSERT_PTR_NOT_NULL(strstr(ctx.log_error, "db said"));
    run("GET", "/silent", NULL, NULL);
    CU_ASSERT_EQUAL(ctx.res.status, 500);
}

static void
test_unique_violation_is_409_naming_the_field(void)
{
    json_object *e, *d, *first, *f;

    run("GET", "/conflict", NULL, NULL);
    CU_ASSERT_EQUAL(ctx.res.status, 409);
    CU_ASSERT_STRING_EQUAL(err_code(), "CONFLICT");
    CU_ASSERT_PTR_NULL(strstr(ctx.res.body, "duplicate key"));
    CU_ASSERT_PTR_NULL(strstr(ctx.res.body, "users_email_key"));
    json_object_object_get_ex(body_json(), "error", &e);
    json_object_object_get_ex(e, "details", &d);
    CU_ASSERT_EQUAL_FATAL(json_object_array_length(d), 1);
    first = json_object_array_get_idx(d, 0);
    json_object_object_get_ex(first, "field", &f);
    CU_ASSERT_STRING_EQUAL(json_object_get_string(f), "email");
}

static void
test_response_head_is_cgi_style(void)
{
    const char *head;
    size_t len;

    run("GET", "/nope", NULL, NULL);
    head = response_head(&ctx, &len);
    CU_ASSERT_EQUAL(strlen(head), len);
    CU_ASSERT_EQUAL(strncmp(head, "Status: 404 Not Found\r\n", 23), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(head, "\r\nContent-Length: "));
    CU_ASSERT_EQUAL(strcmp(head + len - 4, "\r\n\r\n"), 0);
    run("OPTIONS", "/ok", NULL, NULL);
    head = response_head(&ctx, &len);
    CU_ASSERT_EQUAL(strncmp(head, "Status: 204 No Content\r\n", 24), 0);
    CU_ASSERT_PTR_NULL(strstr(head, "Content-Length"));
}

/* ---- an application's own conventions (keel_app_t hooks) ------------ */

/* Response header `name`, "" when absent (a failed check, not a crash). */
static const char *
hdr(const char *name)
{
    const char *v = ctx_header_get(&ctx, name);
    return v ? v : "";
}

static void
test_auth_scheme_is_the_apps(void)
{
    run_on(&http, "GET", "/me", NULL, NULL, "Bearer good", NULL);
    CU_ASSERT_EQUAL(ctx.res.status, 200);
    run_on(&http, "GET", "/me", NULL, NULL, "Token good", NULL);
    CU_ASSERT_EQUAL(ctx.res.status, 401);
    CU_ASSERT_STRING_EQUAL(hdr("WWW-Authenticate"),
                           "Bearer realm=\"keel\", error=\"invalid_token\"");
    run_on(&http, "GET", "/me", NULL, NULL, NULL, NULL);
    CU_ASSERT_STRING_EQUAL(hdr("WWW-Authenticate"), "Bearer realm=\"keel\"");

    run_on(&rw_http, "GET", "/api/user", NULL, NULL, "Token good", NULL);
    CU_ASSERT_EQUAL(ctx.res.status, 200);
    run_on(&rw_http, "GET", "/api/user", NULL, NULL, "token good", NULL);
    CU_ASSERT_EQUAL(ctx.res.status, 200);
    run_on(&rw_http, "GET", "/api/user", NULL, NULL, "Tokengood", NULL);
    CU_ASSERT_EQUAL(ctx.res.status, 401);
    run_on(&rw_http, "GET", "/api/user", NULL, NULL, "Bearer good", NULL);
    CU_ASSERT_EQUAL(ctx.res.status, 401);
    CU_ASSERT_STRING_EQUAL(hdr("WWW-Authenticate"),
                           "Token realm=\"conduit\", error=\"invalid_token\"");
}

static void
test_error_renderer_and_messages_are_the_apps(void)
{
    run_on(&rw_http, "POST", "/api/users", "application/json",
           "{\"user\":{\"username\":\" \",\"email\":\"a@b.co\"}}", NULL,
           "10.9.0.11");
    CU_ASSERT_EQUAL(ctx.res.status, 422);
    CU_ASSERT_STRING_EQUAL(ctx.res.body,
                           "{\"errors\":{\"username\":[\"can't be blank\"]}}");
    run_on(&rw_http, "POST", "/api/users", "application/json", "[]", NULL,
           "10.9.0.12");
    CU_ASSERT_STRING_EQUAL(
        ctx.res.body,
        "{\"errors\":{\"body\":[\"Request body must be a JSON object\"]}}");
    run_on(&rw_http, "POST", "/api/users", "application/json",
           "{\"user\":{\"username\":\"ann\"}}", NULL, "10.9.0.13");
    CU_ASSERT_EQUAL(ctx.res.status, 422);
    CU_ASSERT_STRING_EQUAL(ctx.res.body,
                           "{\"errors\":{\"email\":[\"can't be blank\"]}}");
    /* keel's own wording and envelope are untouched. */
    run("POST", "/ok", "application/json", "{\"name\":\"\"}");
    CU_ASSERT_EQUAL(ctx.res.status, 400);
    CU_ASSERT_STRING_EQUAL(err_code(), "VALIDATION_ERROR");
    CU_ASSERT_PTR_NOT_NULL(strstr(ctx.res.body, "\"field\":\"name\","
                                                "\"message\":\"must be 1 to 5 "
                                                "characters\""));
}

static void
test_app_renderer_never_sees_internals(void)
{
    static const char *const paths[] = { "/api/internal", "/api/leaky" };

    for (size_t i = 0; i < KEEL_ARRAY_LEN(paths); i++) {
        run_on(&rw_http, "GET", paths[i], NULL, NULL, NULL, NULL);
        CU_ASSERT_EQUAL(ctx.res.status, 500);
        CU_ASSERT_STRING_EQUAL(
            ctx.res.body,
            "{\"errors\":{\"body\":[\"Internal server error\"]}}");
    }
}

static void
test_conflict_message_is_the_apps(void)
{
    run_on(&rw_http, "GET", "/api/conflict", NULL, NULL, NULL, NULL);
    CU_ASSERT_EQUAL(ctx.res.status, 409);
    CU_ASSERT_STRING_EQUAL(
        ctx.res.body, "{\"errors\":{\"email\":[\"has already been taken\"]}}");
    run("GET", "/conflict", NULL, NULL);
    CU_ASSERT_PTR_NOT_NULL(strstr(ctx.res.body, "\"is already taken\""));
}

static void
test_success_envelope_is_the_routes(void)
{
    run_on(&rw_http, "GET", "/api/user", NULL, NULL, "Token good", NULL);
    CU_ASSERT_STRING_EQUAL(ctx.res.body, "{\"user\":{\"ok\":true}}");
    run_on(&rw_http, "POST", "/api/users", "application/json",
           "{\"user\":{\"username\":\"ann\",\"email\":\"a@b.co\"}}", NULL,
           "10.9.0.2");
    CU_ASSERT_EQUAL(ctx.res.status, 200);
    CU_ASSERT_STRING_EQUAL(ctx.res.body, "{\"user\":{\"ok\":true}}");
}

/* ctx_trimmed: an application's own nested members, trimmed as
 * SCHEMA_TRIM trims (ctx_body_str_trimmed is the same on top level). */
static void
test_trimmed_strings_for_nested_members(void)
{
    run("GET", "/x", NULL, NULL);
    CU_ASSERT_PTR_NULL(ctx_trimmed(&ctx, NULL));
    CU_ASSERT_STRING_EQUAL(ctx_trimmed(&ctx, " \t\r\n a b \n\t"), "a b");
    CU_ASSERT_STRING_EQUAL(ctx_trimmed(&ctx, " \t "), "");
    CU_ASSERT_STRING_EQUAL(ctx_trimmed(&ctx, "x"), "x");
}

static void
test_rate_limits_follow_the_apps_paths_and_login_member(void)
{
    /* rw_cfg: one read per address, two auth requests per address and per
     * email.  Unknown paths under the app's prefix count as reads. */
    run_on(&rw_http, "GET", "/api/nope", NULL, NULL, NULL, "10.9.1.1");
    CU_ASSERT_EQUAL(ctx.res.status, 404);
    run_on(&rw_http, "GET", "/api/nope", NULL, NULL, NULL, "10.9.1.1");
    CU_ASSERT_EQUAL(ctx.res.status, 429);
    run_on(&rw_http, "GET", "/v1/nope", NULL, NULL, NULL, "10.9.1.2");
    run_on(&rw_http, "GET", "/v1/nope", NULL, NULL, NULL, "10.9.1.2");
    CU_ASSERT_EQUAL(ctx.res.status, 404);
    /* keel's default prefix is /v1/ (API.md 1.7). */
    run_on(&http, "GET", "/v1/nope", NULL, NULL, NULL, "10.9.1.3");
    CU_ASSERT_EQUAL(ctx.res.status, 404);
    CU_ASSERT_EQUAL(strncmp(hdr("RateLimit-Policy"), "\"read\";", 7), 0);
    run_on(&http, "GET", "/api/nope", NULL, NULL, NULL, "10.9.1.3");
    CU_ASSERT_STRING_EQUAL(hdr("RateLimit-Policy"), "");
    /* The email inside {"user": ...} is a bucket of its own, whatever the
     * address. */
    for (int i = 0; i < 3; i++) {
        char ip[32];
        snprintf(ip, sizeof(ip), "10.9.2.%d", i + 1);
        run_on(&rw_http, "POST", "/api/users", "application/json",
               "{\"user\":{\"username\":\"bo\",\"email\":\"Bo@b.co\"}}", NULL,
               ip);
        CU_ASSERT_EQUAL(ctx.res.status, i < 2 ? 200 : 429);
    }
}

static const unit_test_t tests[] = {
    { "success gets data and security headers",
      test_success_gets_data_and_security_headers },
    { "a handler's Cache-Control is kept", test_handler_cache_control_is_kept },
    { "HSTS only when configured", test_hsts_only_when_configured },
    { "routing errors use the envelope", test_routing_errors_use_the_envelope },
    { "OPTIONS answers 204 with Allow", test_options_answers_204_with_allow },
    { "parse errors become envelopes", test_parse_errors_become_envelopes },
    { "body checks run in order: 415, 400, validation",
      test_body_checks_in_order },
    { "crash guard turns a fault into 500",
      test_crash_guard_turns_a_fault_into_500 },
    { "internal errors hide their detail",
      test_internal_errors_hide_their_detail },
    { "a unique violation is 409 naming the field",
      test_unique_violation_is_409_naming_the_field },
    { "response head is CGI style", test_response_head_is_cgi_style },
    { "the auth scheme and realm are the app's", test_auth_scheme_is_the_apps },
    { "the error renderer and validation messages are the app's",
      test_error_renderer_and_messages_are_the_apps },
    { "an app's renderer never sees a 500's internals",
      test_app_renderer_never_sees_internals },
    { "a unique violation speaks the app's words",
      test_conflict_message_is_the_apps },
    { "the success envelope is the route's",
      test_success_envelope_is_the_routes },
    { "rate limits follow the app's path prefix and login member",
      test_rate_limits_follow_the_apps_paths_and_login_member },
    { "nested members are trimmed as SCHEMA_TRIM trims",
      test_trimmed_strings_for_nested_members },
};

int
main(void)
{
    char err[256];
    int rc;

    log_open("/dev/null", KLOG_DEBUG);
    config_defaults(&cfg);
    config_defaults(&rw_cfg);
    rw_cfg.rl_enabled = 1;
    rw_cfg.rl_read = (keel_rate_t){ 1, 600 };
    rw_cfg.rl_auth = (keel_rate_t){ 2, 600 };
    rw_cfg.rl_write = (keel_rate_t){ 100, 600 };
    if (http_init(&http, &cfg, &app, -1, err, sizeof(err)) != KEEL_OK ||
        http_init(&rw_http, &rw_cfg, &rw_app, -1, err, sizeof(err)) !=
            KEEL_OK) {
        fprintf(stderr, "http_init: %s\n", err);
        return 1;
    }
    chain_crash_guard_install();
    arena_init(&A);
    rc = unit_run("chain", UNIT_TESTS(tests));
    ctx_release(&ctx);
    arena_destroy(&A);
    http_free(&http);
    http_free(&rw_http);
    config_free(&cfg);
    config_free(&rw_cfg);
    return rc;
}
