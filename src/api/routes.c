/* routes.c - the one declarative route table of the reference API. */
#include "keel-build.h"

#include "api/routes.h"
#include "api/auth.h"
#include "api/jobs.h"
#include "api/orders.h"
#include "api/posts.h"
#include "api/products.h"
#include "api/roles.h"
#include "api/users.h"
#include "http/collection.h"
#include "http/health.h"
#include "http/openapi.h"
#include "jobs/queue.h"
#include "store/audit.h"
#include "store/idempotency.h"
#include "store/orders.h"
#include "store/posts.h"
#include "store/products.h"
#include "store/users.h"
#include "auth/keys.h"
#include "jobs/email.h"
#include "jobs/webhook.h"

/*
 * Success bodies that are not a collection's page or resource (route_t.
 * response): JSON Schema text, next to the rows that answer them.
 */
#define REF(r)    "{\"$ref\":\"#/components/schemas/" r "\"}"
#define STRING    "{\"type\":\"string\"}"
#define INTEGER   "{\"type\":\"integer\"}"
#define TIMESTAMP "{\"type\":\"string\",\"format\":\"date-time\"}"
#define STRINGS   "{\"type\":\"array\",\"items\":" STRING "}"
#define DATA(s)                                                                \
    "{\"type\":\"object\",\"required\":[\"data\"],"                            \
    "\"additionalProperties\":false,\"properties\":{\"data\":" s "}}"

#define HEALTH_JSON                                                            \
    "{\"type\":\"object\",\"required\":[\"status\",\"version\",\"timestamp\"," \
    "\"checks\"],\"properties\":{\"status\":{\"type\":\"string\",\"enum\":"    \
    "[\"healthy\",\"degraded\"]},\"version\":" STRING                          \
    ",\"timestamp\":" TIMESTAMP                                                \
    ",\"checks\":{\"type\":\"object\",\"additionalProperties\":"               \
    "{\"type\":\"object\",\"required\":[\"status\"],\"properties\":"           \
    "{\"status\":{\"type\":\"string\",\"enum\":[\"up\",\"down\"]},"            \
    "\"latency_ms\":{\"type\":\"number\"},\"queued\":" INTEGER                 \
    ",\"dead\":" INTEGER "}}}}}"
#define READY_JSON                                                             \
    "{\"type\":\"object\",\"required\":[\"status\"],\"properties\":"           \
    "{\"status\":{\"type\":\"string\",\"enum\":[\"ready\"]}}}"
#define OPENAPI_JSON                                                           \
    "{\"type\":\"object\",\"required\":[\"openapi\",\"info\",\"paths\"],"      \
    "\"properties\":{\"openapi\":" STRING ",\"info\":{\"type\":\"object\"},"   \
    "\"paths\":{\"type\":\"object\"}}}"
#define TOKENS_JSON                                                            \
    DATA("{\"type\":\"object\",\"required\":[\"access_token\",\"token_type\"," \
         "\"expires_in\",\"refresh_token\",\"refresh_expires_in\",\"user\"],"  \
         "\"additionalProperties\":false,\"properties\":{\"access_"            \
         "token\":" STRING                                                     \
         ",\"token_type\":{\"type\":\"string\",\"enum\":[\"Bearer\"]},"        \
         "\"expires_in\":" INTEGER ",\"refresh_token\":" STRING                \
         ",\"refresh_expires_in\":" INTEGER ",\"user\":" REF("users") "}}")
#define ME_JSON                                                                \
    DATA("{\"allOf\":[" REF("users") ",{\"type\":\"object\",\"required\":"     \
                                     "[\"roles\",\"permissions\"],"            \
                                     "\"properties\":{\"roles\":" STRINGS      \
                                     ",\"permissions\":" STRINGS "}}]}")
#define SESSIONS_JSON                                                          \
    DATA("{\"type\":\"array\",\"items\":{\"type\":\"object\",\"required\":"    \
         "[\"id\",\"created_at\",\"last_used_at\",\"user_agent\",\"ip\","      \
         "\"current\"],\"additionalProperties\":false,\"properties\":"         \
         "{\"id\":" COLL_JS_UUID ",\"created_at\":" TIMESTAMP                  \
         ",\"last_used_at\":" TIMESTAMP ",\"user_agent\":" STRING              \
         ",\"ip\":" STRING ",\"current\":{\"type\":\"boolean\"}}}}")
#define ROLE_JSON                                                              \
    "{\"type\":\"object\",\"required\":[\"name\",\"permissions\",\"seeded\"]," \
    "\"additionalProperties\":false,\"properties\":{\"name\":" STRING          \
    ",\"permissions\":" STRINGS ",\"seeded\":{\"type\":\"boolean\"},"          \
    "\"created_at\":" TIMESTAMP ",\"updated_at\":" TIMESTAMP "}}"

static const route_t rows[] = {
    { .method = HTTP_GET,
      .pattern = "/health",
      .handler = health_get,
      .any_query = 1,
      .auth = AUTH_NONE,
      .rate = RATE_NONE,
      .summary = "Liveness and dependency report",
      .response = HEALTH_JSON },
    { .method = HTTP_GET,
      .pattern = "/ready",
      .handler = ready_get,
      .any_query = 1,
      .auth = AUTH_NONE,
      .rate = RATE_NONE,
      .summary = "Readiness: database reachable at the expected schema",
      .response = READY_JSON },
    /* Public like the API it describes, and a /v1 path like it: counted as
     * a read (API.md 1.7), so a client that fetches it in a loop is held
     * back like any other. */
    { .method = HTTP_GET,
      .pattern = "/v1/openapi.json",
      .handler = openapi_get,
      .auth = AUTH_NONE,
      .rate = RATE_READ,
      .response = OPENAPI_JSON,
      .summary = "This API's OpenAPI 3.1 description" },
    /* Operators' scrapers, not API clients: not rate limited, and only
     * for [metrics] allow (404, like an unknown path, for anyone else). */
    { .method = HTTP_GET,
      .pattern = "/metrics",
      .handler = metrics_get,
      .auth = AUTH_NONE,
      .rate = RATE_NONE,
      .answers = ANSWER_TEXT | ANSWER_NOT_FOUND,
      .summary = "Prometheus metrics of the whole server ([metrics] allow)" },
    { .method = HTTP_POST,
      .pattern = "/v1/auth/register",
      .handler = auth_register,
      .auth = AUTH_NONE,
      .rate = RATE_AUTH,
      .body = &auth_register_schema,
      .summary = "Create an account; a verification email is queued",
      .response = DATA(REF("users")),
      .answers = ANSWER_CREATED | ANSWER_CONFLICT },
    { .method = HTTP_POST,
      .pattern = "/v1/auth/verify-email",
      .handler = auth_verify_email,
      .auth = AUTH_NONE,
      .rate = RATE_AUTH,
      .body = &auth_verify_schema,
      .summary = "Confirm an email address with its token",
      .response = DATA(REF("users")) },
    { .method = HTTP_POST,
      .pattern = "/v1/auth/login",
      .handler = auth_login,
      .auth = AUTH_NONE,
      .rate = RATE_AUTH,
      .body = &auth_login_schema,
      .summary = "Log in: an access token and a refresh token",
      .response = TOKENS_JSON,
      .answers = ANSWER_UNAUTHORIZED | ANSWER_FORBIDDEN },
    { .method = HTTP_POST,
      .pattern = "/v1/auth/refresh",
      .handler = auth_refresh,
      .auth = AUTH_NONE,
      .rate = RATE_AUTH,
      .body = &auth_refresh_schema,
      .summary = "Rotate a refresh token for a new token pair",
      .response = TOKENS_JSON,
      .answers = ANSWER_UNAUTHORIZED },
    { .method = HTTP_POST,
      .pattern = "/v1/auth/logout",
      .handler = auth_logout,
      .auth = AUTH_NONE,
      .rate = RATE_WRITE,
      .body = &auth_refresh_schema,
      .summary = "End the session of a refresh token",
      .answers = ANSWER_EMPTY | ANSWER_UNAUTHORIZED },
    { .method = HTTP_POST,
      .pattern = "/v1/auth/logout-all",
      .handler = auth_logout_all,
      .auth = AUTH_BEARER,
      .rate = RATE_WRITE,
      .summary = "End every session; access tokens stop working",
      .answers = ANSWER_EMPTY },
    { .method = HTTP_GET,
      .pattern = "/v1/auth/me",
      .handler = auth_me,
      .auth = AUTH_BEARER,
      .rate = RATE_READ,
      .summary = "The current user with roles and permissions",
      .response = ME_JSON },
    { .method = HTTP_POST,
      .pattern = "/v1/auth/password",
      .handler = auth_password,
      .auth = AUTH_BEARER,
      .rate = RATE_AUTH,
      .body = &auth_password_schema,
      .summary = "Change the password; other sessions end",
      .answers = ANSWER_EMPTY },
    { .method = HTTP_GET,
      .pattern = "/v1/auth/sessions",
      .handler = auth_sessions,
      .auth = AUTH_BEARER,
      .rate = RATE_READ,
      .summary = "The current user's active sessions",
      .response = SESSIONS_JSON },
    { .method = HTTP_DELETE,
      .pattern = "/v1/auth/sessions/{id}",
      .handler = auth_session_delete,
      .auth = AUTH_BEARER,
      .rate = RATE_WRITE,
      .summary = "End one of the current user's sessions" },
    { .method = HTTP_GET,
      .pattern = "/v1/users",
      .handler = coll_handle_list,
      .auth = AUTH_BEARER,
      .permission = "users:read",
      .rate = RATE_READ,
      .query = &users_collection,
      .summary = "List users: offset or cursor pages, filters, sort, fields" },
    { .method = HTTP_GET,
      .pattern = "/v1/users/{id}",
      .handler = users_show,
      .auth = AUTH_BEARER,
      .permission = "users:read",
      .access = users_access,
      .rate = RATE_READ,
      .select = &users_collection,
      .summary = "One user (self, or with users:read)",
      .answers = ANSWER_ETAG },
    { .method = HTTP_PATCH,
      .pattern = "/v1/users/{id}",
      .handler = users_patch,
      .auth = AUTH_BEARER,
      .permission = "users:write",
      .access = users_access,
      .rate = RATE_WRITE,
      .body = &users_patch_schema,
      .summary = "Change a user: self its name, users:write name and email",
      .response = DATA(REF("users")),
      .answers = ANSWER_ETAG | ANSWER_IF_MATCH | ANSWER_CONFLICT },
    { .method = HTTP_DELETE,
      .pattern = "/v1/users/{id}",
      .handler = users_remove,
      .auth = AUTH_BEARER,
      .permission = "users:delete",
      .access = users_access,
      .rate = RATE_WRITE,
      .summary = "Soft-delete a user (not oneself); their sessions end",
      .answers = ANSWER_EMPTY | ANSWER_IF_MATCH | ANSWER_CONFLICT },
    { .method = HTTP_PUT,
      .pattern = "/v1/users/{id}/roles",
      .handler = users_put_roles,
      .auth = AUTH_BEARER,
      .permission = "roles:manage",
      .access = users_access,
      .rate = RATE_WRITE,
      .body = &users_roles_schema,
      .summary = "Replace a user's roles; their access tokens stop",
      .response = DATA(REF("users")),
      .answers = ANSWER_ETAG | ANSWER_CONFLICT },
    { .method = HTTP_GET,
      .pattern = "/v1/posts",
      .handler = posts_list,
      .auth = AUTH_OPTIONAL,
      .rate = RATE_READ,
      .query = &posts_collection,
      .summary = "Posts the caller may read: pages, filters, sort, fields" },
    { .method = HTTP_POST,
      .pattern = "/v1/posts",
      .handler = posts_add,
      .auth = AUTH_BEARER,
      .permission = "posts:create",
      .rate = RATE_WRITE,
      .body = &posts_create_schema,
      .summary = "Write a post",
      .response = DATA(REF("posts")),
      .answers = ANSWER_CREATED | ANSWER_ETAG },
    { .method = HTTP_GET,
      .pattern = "/v1/posts/{id}",
      .handler = posts_show,
      .auth = AUTH_OPTIONAL,
      .access = posts_access,
      .rate = RATE_READ,
      .select = &posts_collection,
      .summary = "One post (published and public, own, or posts:read_any)",
      .answers = ANSWER_ETAG },
    { .method = HTTP_PUT,
      .pattern = "/v1/posts/{id}",
      .handler = posts_change,
      .auth = AUTH_BEARER,
      .permission = "posts:write_any",
      .access = posts_access,
      .rate = RATE_WRITE,
      .body = &posts_put_schema,
      .summary = "Replace a post (author or posts:write_any)",
      .response = DATA(REF("posts")),
      .answers = ANSWER_ETAG | ANSWER_IF_MATCH | ANSWER_CONFLICT },
    { .method = HTTP_PATCH,
      .pattern = "/v1/posts/{id}",
      .handler = posts_change,
      .auth = AUTH_BEARER,
      .permission = "posts:write_any",
      .access = posts_access,
      .rate = RATE_WRITE,
      .body = &posts_patch_schema,
      .summary = "Change a post (author or posts:write_any)",
      .response = DATA(REF("posts")),
      .answers = ANSWER_ETAG | ANSWER_IF_MATCH | ANSWER_CONFLICT },
    { .method = HTTP_DELETE,
      .pattern = "/v1/posts/{id}",
      .handler = posts_remove,
      .auth = AUTH_BEARER,
      .permission = "posts:delete_any",
      .access = posts_access,
      .rate = RATE_WRITE,
      .summary = "Soft-delete a post (author or posts:delete_any)",
      .answers = ANSWER_EMPTY | ANSWER_IF_MATCH },
    { .method = HTTP_GET,
      .pattern = "/v1/users/{id}/posts",
      .handler = posts_list_by_user,
      .auth = AUTH_OPTIONAL,
      .rate = RATE_READ,
      .query = &posts_collection,
      .summary = "A user's posts that the caller may read" },
    { .method = HTTP_POST,
      .pattern = "/v1/users/{id}/posts",
      .handler = posts_add,
      .auth = AUTH_BEARER,
      .permission = "posts:create",
      .access = users_self_access,
      .rate = RATE_WRITE,
      .body = &posts_create_schema,
      .summary = "Write a post as oneself (as POST /v1/posts)",
      .response = DATA(REF("posts")),
      .answers = ANSWER_CREATED | ANSWER_ETAG },
    { .method = HTTP_GET,
      .pattern = "/v1/products",
      .handler = products_list,
      .auth = AUTH_OPTIONAL,
      .rate = RATE_READ,
      .query = &products_collection,
      .summary = "The catalogue (inactive products with products:write)" },
    { .method = HTTP_POST,
      .pattern = "/v1/products",
      .handler = products_add,
      .auth = AUTH_BEARER,
      .permission = "products:write",
      .rate = RATE_WRITE,
      .body = &products_create_schema,
      .summary = "Add a product",
      .response = DATA(REF("products")),
      .answers = ANSWER_CREATED | ANSWER_ETAG | ANSWER_CONFLICT },
    { .method = HTTP_GET,
      .pattern = "/v1/products/{id}",
      .handler = products_show,
      .auth = AUTH_OPTIONAL,
      .access = products_access,
      .rate = RATE_READ,
      .select = &products_collection,
      .summary = "One product (cacheable when asked without a token)",
      .answers = ANSWER_ETAG },
    { .method = HTTP_PUT,
      .pattern = "/v1/products/{id}",
      .handler = products_change,
      .auth = AUTH_BEARER,
      .permission = "products:write",
      .rate = RATE_WRITE,
      .body = &products_put_schema,
      .summary = "Replace a product",
      .response = DATA(REF("products")),
      .answers = ANSWER_ETAG | ANSWER_IF_MATCH | ANSWER_CONFLICT },
    { .method = HTTP_PATCH,
      .pattern = "/v1/products/{id}",
      .handler = products_change,
      .auth = AUTH_BEARER,
      .permission = "products:write",
      .rate = RATE_WRITE,
      .body = &products_patch_schema,
      .summary = "Change a product",
      .response = DATA(REF("products")),
      .answers = ANSWER_ETAG | ANSWER_IF_MATCH | ANSWER_CONFLICT },
    { .method = HTTP_DELETE,
      .pattern = "/v1/products/{id}",
      .handler = products_remove,
      .auth = AUTH_BEARER,
      .permission = "products:delete",
      .rate = RATE_WRITE,
      .summary = "Soft-delete a product (its SKU is free again)",
      .answers = ANSWER_EMPTY | ANSWER_IF_MATCH },
    { .method = HTTP_GET,
      .pattern = "/v1/orders",
      .handler = orders_list,
      .auth = AUTH_BEARER,
      .rate = RATE_READ,
      .query = &orders_collection,
      .summary = "One's own orders (everyone's with orders:read_any)",
      /* user_id filters by another user only with orders:read_any. */
      .answers = ANSWER_FORBIDDEN },
    { .method = HTTP_POST,
      .pattern = "/v1/orders",
      .handler = orders_add,
      .auth = AUTH_BEARER,
      .permission = "orders:create",
      .rate = RATE_WRITE,
      .body = &orders_create_schema,
      .idempotent = 1,
      .summary = "Place an order (stock taken in the same transaction)",
      .response = DATA(REF("orders")),
      .answers = ANSWER_CREATED | ANSWER_ETAG | ANSWER_CONFLICT },
    { .method = HTTP_GET,
      .pattern = "/v1/orders/{id}",
      .handler = orders_show,
      .auth = AUTH_BEARER,
      .permission = "orders:read_any",
      .access = orders_access,
      .rate = RATE_READ,
      .select = &orders_collection,
      .summary = "One order (owner or orders:read_any)",
      .answers = ANSWER_ETAG },
    { .method = HTTP_GET,
      .pattern = "/v1/orders/{id}/items",
      .handler = orders_show_items,
      .auth = AUTH_BEARER,
      .permission = "orders:read_any",
      .access = orders_access,
      .rate = RATE_READ,
      .summary = "An order's items (owner or orders:read_any)",
      .response =
          DATA("{\"$ref\":\"#/components/schemas/orders/properties/items\"}") },
    { .method = HTTP_PATCH,
      .pattern = "/v1/orders/{id}",
      .handler = orders_change,
      .auth = AUTH_BEARER,
      .permission = "orders:manage",
      .access = orders_access,
      .rate = RATE_WRITE,
      .body = &orders_patch_schema,
      .summary = "Change an order's status (the owner may cancel a pending "
                 "one)",
      .response = DATA(REF("orders")),
      .answers = ANSWER_ETAG | ANSWER_IF_MATCH | ANSWER_CONFLICT },
    { .method = HTTP_GET,
      .pattern = "/v1/users/{id}/orders",
      .handler = orders_list_by_user,
      .auth = AUTH_BEARER,
      .permission = "orders:read_any",
      .access = orders_user_access,
      .rate = RATE_READ,
      .query = &user_orders_collection,
      .summary = "A user's orders (that user or orders:read_any)" },
    { .method = HTTP_GET,
      .pattern = "/v1/roles",
      .handler = roles_index,
      .auth = AUTH_BEARER,
      .permission = "roles:manage",
      .rate = RATE_READ,
      .summary = "Every role with its permissions",
      .response = DATA("{\"type\":\"array\",\"items\":" ROLE_JSON "}") },
    { .method = HTTP_PUT,
      .pattern = "/v1/roles/{name}",
      .handler = roles_upsert,
      .auth = AUTH_BEARER,
      .permission = "roles:manage",
      .rate = RATE_WRITE,
      .body = &roles_put_schema,
      .summary = "Create or replace a role's permissions",
      .response = DATA(ROLE_JSON),
      .answers = ANSWER_OK | ANSWER_CREATED | ANSWER_CONFLICT },
    { .method = HTTP_DELETE,
      .pattern = "/v1/roles/{name}",
      .handler = roles_destroy,
      .auth = AUTH_BEARER,
      .permission = "roles:manage",
      .rate = RATE_WRITE,
      .summary = "Delete a role that is not seeded and not assigned",
      .answers = ANSWER_EMPTY | ANSWER_CONFLICT },
    { .method = HTTP_GET,
      .pattern = "/v1/audit-events",
      .handler = coll_handle_list,
      .auth = AUTH_BEARER,
      .permission = "audit:read",
      .rate = RATE_READ,
      .query = &audit_collection,
      .summary = "The audit log: cursor pages, newest first, filters" },
    { .method = HTTP_GET,
      .pattern = "/v1/jobs",
      .handler = coll_handle_list,
      .auth = AUTH_BEARER,
      .permission = "jobs:manage",
      .rate = RATE_READ,
      .query = &job_collection,
      .summary = "Background jobs: cursor pages, filters status and type" },
    { .method = HTTP_GET,
      .pattern = "/v1/jobs/{id}",
      .handler = jobs_show,
      .auth = AUTH_BEARER,
      .permission = "jobs:manage",
      .rate = RATE_READ,
      .select = &job_collection,
      .summary = "One background job (never its payload)" },
    { .method = HTTP_POST,
      .pattern = "/v1/jobs/{id}/retry",
      .handler = jobs_retry,
      .auth = AUTH_BEARER,
      .permission = "jobs:manage",
      .rate = RATE_WRITE,
      .summary = "Queue a dead or failed job again",
      .response = DATA(REF("jobs")),
      .answers = ANSWER_CONFLICT },
};

const route_table_t keel_api_routes = ROUTE_TABLE(rows);

/* The permissions of API.md 4, as migration 0001 seeds them. */
const char *const keel_api_permissions[] = {
    "posts:create",   "orders:create",    "posts:read_any",  "posts:write_any",
    "products:write", "users:read",       "users:write",     "users:delete",
    "roles:manage",   "posts:delete_any", "products:delete", "orders:read_any",
    "orders:manage",  "jobs:manage",      "audit:read",      NULL,
};

static const route_table_t tables[] = { ROUTE_TABLE(rows) };

static const job_type_t jobs[] = {
    { "email.send", email_send_job },
    { WEBHOOK_JOB, webhook_deliver_job },
    { IDEM_PURGE_JOB, idem_purge_job },
};

static const periodic_job_t periodic[] = {
    { IDEM_PURGE_JOB, IDEM_PURGE_EVERY },
};

const keel_app_t keel_api_app = {
    /* keeld refuses to start (or reload) when the token keys do not load. */
    .check_config = auth_check_config,
    .worker_init = auth_worker_init,
    .authenticate = auth_authenticate,
    .name = "keeld",
    .version = PACKAGE_VERSION,
    .tables = tables,
    .ntables = 1,
    .schema_version = KEEL_SCHEMA_VERSION,
    .job_types = jobs,
    .njob_types = sizeof(jobs) / sizeof(jobs[0]),
    .periodic = periodic,
    .nperiodic = sizeof(periodic) / sizeof(periodic[0]),
};
