/* routes.c - the one declarative route table of the reference API. */
#include "keel-build.h"

#include "api/routes.h"
#include "api/auth.h"
#include "api/health.h"
#include "auth/jwt.h"
#include "jobs/email.h"
#include "jobs/webhook.h"

static const route_t rows[] = {
    { .method = HTTP_GET,
      .pattern = "/health",
      .handler = health_get,
      .auth = AUTH_NONE,
      .rate = RATE_NONE,
      .summary = "Liveness and dependency report" },
    { .method = HTTP_GET,
      .pattern = "/ready",
      .handler = ready_get,
      .auth = AUTH_NONE,
      .rate = RATE_NONE,
      .summary = "Readiness: database reachable at the expected schema" },
    { .method = HTTP_POST,
      .pattern = "/v1/auth/register",
      .handler = auth_register,
      .auth = AUTH_NONE,
      .rate = RATE_AUTH,
      .body = &auth_register_schema,
      .summary = "Create an account; a verification email is queued" },
    { .method = HTTP_POST,
      .pattern = "/v1/auth/verify-email",
      .handler = auth_verify_email,
      .auth = AUTH_NONE,
      .rate = RATE_AUTH,
      .body = &auth_verify_schema,
      .summary = "Confirm an email address with its token" },
    { .method = HTTP_POST,
      .pattern = "/v1/auth/login",
      .handler = auth_login,
      .auth = AUTH_NONE,
      .rate = RATE_AUTH,
      .body = &auth_login_schema,
      .summary = "Log in: an access token and a refresh token" },
    { .method = HTTP_POST,
      .pattern = "/v1/auth/refresh",
      .handler = auth_refresh,
      .auth = AUTH_NONE,
      .rate = RATE_AUTH,
      .body = &auth_refresh_schema,
      .summary = "Rotate a refresh token for a new token pair" },
    { .method = HTTP_POST,
      .pattern = "/v1/auth/logout",
      .handler = auth_logout,
      .auth = AUTH_NONE,
      .rate = RATE_WRITE,
      .body = &auth_refresh_schema,
      .summary = "End the session of a refresh token" },
    { .method = HTTP_POST,
      .pattern = "/v1/auth/logout-all",
      .handler = auth_logout_all,
      .auth = AUTH_BEARER,
      .rate = RATE_WRITE,
      .summary = "End every session; access tokens stop working" },
    { .method = HTTP_GET,
      .pattern = "/v1/auth/me",
      .handler = auth_me,
      .auth = AUTH_BEARER,
      .rate = RATE_READ,
      .summary = "The current user with roles and permissions" },
    { .method = HTTP_POST,
      .pattern = "/v1/auth/password",
      .handler = auth_password,
      .auth = AUTH_BEARER,
      .rate = RATE_AUTH,
      .body = &auth_password_schema,
      .summary = "Change the password; other sessions end" },
    { .method = HTTP_GET,
      .pattern = "/v1/auth/sessions",
      .handler = auth_sessions,
      .auth = AUTH_BEARER,
      .rate = RATE_READ,
      .summary = "The current user's active sessions" },
    { .method = HTTP_DELETE,
      .pattern = "/v1/auth/sessions/{id}",
      .handler = auth_session_delete,
      .auth = AUTH_BEARER,
      .rate = RATE_WRITE,
      .summary = "End one of the current user's sessions" },
};

const route_table_t keel_api_routes = ROUTE_TABLE(rows);

static const route_table_t tables[] = { ROUTE_TABLE(rows) };

static const job_type_t jobs[] = {
    { "email.send", email_send_job },
    { WEBHOOK_JOB, webhook_deliver_job },
};

/* keeld refuses to start (or reload) when the token keys do not load. */
static keel_rc
api_check_config(const keel_config_t *cfg, char *err, size_t errlen)
{
    auth_keys_t k;
    keel_rc rc = auth_keys_load(cfg, &k, err, errlen);

    if (rc == KEEL_OK)
        auth_keys_free(&k);
    return rc;
}

const keel_app_t keel_api_app = {
    .check_config = api_check_config,
    .worker_init = auth_worker_init,
    .authenticate = auth_authenticate,
    .name = "keeld",
    .version = PACKAGE_VERSION,
    .tables = tables,
    .ntables = 1,
    .schema_version = KEEL_SCHEMA_VERSION,
    .job_types = jobs,
    .njob_types = sizeof(jobs) / sizeof(jobs[0]),
};
