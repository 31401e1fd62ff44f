/* health.c - GET /health. */
#include "keel-build.h"

#include "api/health.h"
#include "core/util.h"
#include "http/app.h"

keel_rc
health_get(keel_ctx_t *ctx)
{
    json_object *root = json_object_new_object();
    char ts[32];

    /*
     * "checks" reports each dependency keel has; the database and job
     * queue add their entries when they exist.  Until then there is none
     * whose failure would make keel "degraded".
     */
    json_object_object_add(root, "status", json_object_new_string("healthy"));
    json_object_object_add(root, "version",
                           json_object_new_string(ctx->http->app->version));
    json_object_object_add(
        root, "timestamp",
        json_object_new_string(time_rfc3339(time_wall(), ts, sizeof(ts))));
    json_object_object_add(root, "checks", json_object_new_object());
    ctx_respond_json(ctx, 200, root);
    json_object_put(root);
    return KEEL_OK;
}
