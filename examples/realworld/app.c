/*
 * app.c - Conduit's conventions and route table: "Token" credentials,
 * bodies and answers wrapped in {"user": ...}, errors as
 * {"errors": {"field": ["message"]}} with 422 for invalid input, and
 * RealWorld's wording.  Everything else is keel's core.
 */
#include "keel-build.h"

#include "app.h"
#include "users.h"
#include "auth/keys.h"
#include "http/health.h"

#include <string.h>

static const valid_messages_t messages = {
    .msg = { [VMSG_REQUIRED] = "can't be blank",
             [VMSG_BLANK] = "can't be blank",
             [VMSG_NULL] = "can't be blank",
             [VMSG_LEN_RANGE] = "must be {min} to {max} characters",
             [VMSG_EMAIL] = "is invalid",
             [VMSG_UNKNOWN] = "is unknown",
             [VMSG_TAKEN] = "has already been taken" },
};

/*
 * {"errors": {"username": ["can't be blank"]}}: details by field, without
 * the body's wrapper ("user.username" is "username"); a 401 without
 * details is about the token; anything else says its message as "body".
 */
static json_object *
render_error(const keel_ctx_t *ctx, keel_error_t *e)
{
    json_object *root = json_object_new_object();
    json_object *errs = json_object_new_object(), *l;
    size_t n = json_object_array_length(e->details);

    if (e->rc == KEEL_EINVAL || e->rc == KEEL_EBADREQ)
        e->status = 422;
    for (size_t i = 0; i < n; i++) {
        json_object *d = json_object_array_get_idx(e->details, i), *f, *m;
        const char *field, *dot;
        if (!json_object_object_get_ex(d, "field", &f) ||
            !json_object_object_get_ex(d, "message", &m))
            continue;
        field = json_object_get_string(f);
        dot = strchr(field, '.');
        if (dot != NULL && dot[1] != '\0')
            field = dot + 1;
        if (!json_object_object_get_ex(errs, field, &l)) {
            l = json_object_new_array();
            json_object_object_add(errs, field, l);
        }
        json_object_array_add(l, json_object_get(m));
    }
    if (json_object_object_length(errs) == 0) {
        int token = e->rc == KEEL_EUNAUTH;
        l = json_object_new_array();
        json_object_array_add(l, json_object_new_string(!token ? e->message
                                                        : ctx->token_invalid
                                                            ? "is invalid"
                                                            : "is missing"));
        json_object_object_add(errs, token ? "token" : "body", l);
    }
    json_object_object_add(root, "errors", errs);
    return root;
}

/* ---- bodies ------------------------------------------------------------ */

#define STR(n, fl, lo, hi)                                                     \
    {                                                                          \
        .name = (n), .type = SCHEMA_STRING, .flags = (fl), .bounded = 1,       \
        .min = (lo), .max = (hi)                                               \
    }
#define EMAIL(fl)                                                              \
    {                                                                          \
        .name = "email", .type = SCHEMA_STRING, .flags = (fl) | SCHEMA_TRIM,   \
        .bounded = 1, .min = 1, .max = 254, .format = FORMAT_EMAIL             \
    }
/* {"user": {...}} around `s`. */
#define WRAPPED(var, s)                                                        \
    static const schema_prop_t var##_props[] = {                               \
        { .name = "user",                                                      \
          .type = SCHEMA_OBJECT,                                               \
          .flags = SCHEMA_REQUIRED,                                            \
          .object = &(s) },                                                    \
    };                                                                         \
    static const schema_t var = SCHEMA_OF(var##_props)

static const schema_prop_t register_props[] = {
    STR("username", SCHEMA_REQUIRED | SCHEMA_TRIM, 1, 100),
    EMAIL(SCHEMA_REQUIRED),
    /* No rule beyond the spec's on registration; bounded for argon2. */
    STR("password", SCHEMA_REQUIRED, 1, 1024),
};
static const schema_t register_user = SCHEMA_OF(register_props);
WRAPPED(register_schema, register_user);

static const schema_prop_t login_props[] = {
    EMAIL(SCHEMA_REQUIRED),
    STR("password", SCHEMA_REQUIRED, 1, 1024),
};
static const schema_t login_user = SCHEMA_OF(login_props);
WRAPPED(login_schema, login_user);

/* PUT /user: NIST 800-63B, 8 characters at least (the suite's rule). */
static const schema_prop_t update_props[] = {
    STR("username", SCHEMA_TRIM, 1, 100),
    EMAIL(0),
    STR("password", 0, 8, 1024),
    STR("bio", SCHEMA_NULLABLE, 0, 10000),
    STR("image", SCHEMA_NULLABLE, 0, 2048),
};
static const schema_t update_user = SCHEMA_OF(update_props);
WRAPPED(update_schema, update_user);

/* ---- routes ------------------------------------------------------------ */

static const route_t rows[] = {
    { .method = HTTP_GET,
      .pattern = "/health",
      .handler = health_get,
      .any_query = 1,
      .auth = AUTH_NONE,
      .rate = RATE_NONE,
      .summary = "Liveness and dependency report" },
    { .method = HTTP_GET,
      .pattern = "/ready",
      .handler = ready_get,
      .any_query = 1,
      .auth = AUTH_NONE,
      .rate = RATE_NONE,
      .summary = "Readiness: database reachable at the expected schema" },
    { .method = HTTP_POST,
      .pattern = "/api/users",
      .handler = rw_register,
      .auth = AUTH_NONE,
      .rate = RATE_AUTH,
      .body = &register_schema,
      .envelope = "user",
      .summary = "Register" },
    { .method = HTTP_POST,
      .pattern = "/api/users/login",
      .handler = rw_login,
      .auth = AUTH_NONE,
      .rate = RATE_AUTH,
      .body = &login_schema,
      .envelope = "user",
      .summary = "Log in" },
    { .method = HTTP_GET,
      .pattern = "/api/user",
      .handler = rw_current_user,
      .auth = AUTH_BEARER,
      .rate = RATE_READ,
      .envelope = "user",
      .summary = "The current user" },
    { .method = HTTP_PUT,
      .pattern = "/api/user",
      .handler = rw_update_user,
      .auth = AUTH_BEARER,
      .rate = RATE_WRITE,
      .body = &update_schema,
      .envelope = "user",
      .summary = "Update the current user" },
};

static const route_table_t tables[] = { ROUTE_TABLE(rows) };

const keel_app_t conduit_app = {
    .name = "conduitd",
    .version = PACKAGE_VERSION,
    .tables = tables,
    .ntables = 1,
    .schema_version = CONDUIT_SCHEMA_VERSION,
    .check_config = auth_check_config,
    .worker_init = rw_users_worker_init,
    .authenticate = rw_authenticate,
    .auth_scheme = "Token",
    .auth_realm = "conduit",
    .path_prefix = "/api/",
    .render_error = render_error,
    .messages = &messages,
    .rate_email_member = "user.email",
};
