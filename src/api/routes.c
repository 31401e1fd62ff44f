/* routes.c - the one declarative route table of the reference API. */
#include "keel-build.h"

#include "api/routes.h"
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
    .name = "keeld",
    .version = PACKAGE_VERSION,
    .tables = tables,
    .ntables = 1,
    .schema_version = KEEL_SCHEMA_VERSION,
    .job_types = jobs,
    .njob_types = sizeof(jobs) / sizeof(jobs[0]),
};
