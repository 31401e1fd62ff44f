/* users.c - the /v1/users handlers. */
#include "keel-build.h"

#include "api/users.h"
#include "api/auth.h"
#include "core/validate.h"
#include "http/collection.h"
#include "store/users.h"

#include <string.h>

/* The answer to a change that would lock every administrator out. */
#define NO_MANAGER "No user could manage roles after this change"

static const schema_prop_t patch_props[] = {
    { .name = "name",
      .type = SCHEMA_STRING,
      .flags = SCHEMA_TRIM,
      .bounded = 1,
      .min = 1,
      .max = 100 },
    { .name = "email",
      .type = SCHEMA_STRING,
      .format = FORMAT_EMAIL,
      .bounded = 1,
      .min = 3,
      .max = 254 },
    { .name = "version",
      .type = SCHEMA_INTEGER,
      .bounded = 1,
      .min = 1,
      .max = 2147483647 },
};
const schema_t users_patch_schema = { patch_props, 3, 1 };

static const schema_prop_t role_name_item = {
    .type = SCHEMA_STRING, .bounded = 1, .min = 1, .max = 64
};
static const schema_prop_t roles_props[] = {
    { .name = "roles",
      .type = SCHEMA_ARRAY,
      .flags = SCHEMA_REQUIRED | SCHEMA_UNIQUE,
      .bounded = 1,
      .min = 1,
      .max = 16,
      .items = &role_name_item },
};
const schema_t users_roles_schema = SCHEMA_OF(roles_props);

static audit_who_t
who(const keel_ctx_t *ctx)
{
    audit_who_t w = { ctx->user ? ctx->user->id : NULL, ctx->req.client_ip,
                      ctx->req.request_id };
    return w;
}

static int
is_self(const keel_ctx_t *ctx, const char *id)
{
    return ctx->user != NULL && id != NULL && strcmp(ctx->user->id, id) == 0;
}

/*
 * API.md 4 and 5.1 in one place: the route's permission lets anyone with it
 * through; without it a user may read and rename itself (the handler limits
 * what self may change), may know itself exists (403 for the rest), and
 * may not know whether others exist unless it can read users (404).
 */
keel_rc
users_access(keel_ctx_t *ctx, int permitted)
{
    const char *id = ctx_param_uuid(ctx, "id");
    enum http_method m = ctx->match.route->method;

    if (id == NULL)
        return KEEL_ENOTFOUND;
    if (permitted)
        return KEEL_OK;
    if (is_self(ctx, id) && (m == HTTP_GET || m == HTTP_PATCH))
        return KEEL_OK;
    if (is_self(ctx, id) || ctx_can(ctx, "users:read"))
        return KEEL_EFORBIDDEN;
    return KEEL_ENOTFOUND;
}

/*
 * A user's own sub-resources that only they may create (POST
 * /v1/users/{id}/posts): self with the route's permission; others are
 * refused as users_access would (403 if they may read users, else 404).
 */
keel_rc
users_self_access(keel_ctx_t *ctx, int permitted)
{
    const char *id = ctx_param_uuid(ctx, "id");

    if (id == NULL)
        return KEEL_ENOTFOUND;
    if (!is_self(ctx, id))
        return ctx_can(ctx, "users:read") ? KEEL_EFORBIDDEN : KEEL_ENOTFOUND;
    return permitted ? KEEL_OK : KEEL_EFORBIDDEN;
}

keel_rc
users_show(keel_ctx_t *ctx)
{
    json_object *user;
    db_conn_t *c;
    db_error_t err;
    keel_rc rc = ctx_db(ctx, &c);

    if (rc != KEEL_OK)
        return rc;
    rc = users_get(c, NULL, ctx_param_uuid(ctx, "id"), &user, &err);
    if (rc == KEEL_ENOTFOUND)
        return ctx_fail(ctx, rc, NULL);
    if (rc != KEEL_OK)
        return ctx_fail_db(ctx, rc, &err);
    coll_respond_get(ctx, user);
    return KEEL_OK;
}

keel_rc
users_patch(keel_ctx_t *ctx)
{
    const char *id = ctx_param_uuid(ctx, "id");
    const char *name = ctx_body_str_trimmed(ctx, "name");
    const char *email = ctx_body_str(ctx, "email");
    json_object *user;
    long long version = ctx_body_version(ctx);
    audit_who_t w = who(ctx);
    db_conn_t *c;
    db_error_t err;
    keel_rc rc;

    /* Mass assignment: a member this caller may not set is an error, never
     * silently dropped. */
    if (email != NULL && !ctx_can(ctx, "users:write")) {
        ctx_detail(ctx, "email", "may not be changed by this caller");
        return ctx_fail(ctx, KEEL_EINVAL, NULL);
    }
    if (name == NULL && email == NULL) {
        ctx_detail(ctx, "body", "give name or email to change");
        return ctx_fail(ctx, KEEL_EINVAL, NULL);
    }
    rc = ctx_db(ctx, &c);
    if (rc != KEEL_OK)
        return rc;
    rc = users_update(c, id, name, email, ctx_if_match(ctx), version, &w, &user,
                      &err);
    if (rc == KEEL_ECONFLICT) {
        ctx_detail(ctx, "email", "is already registered");
        return ctx_fail(ctx, rc, "Email address already registered");
    }
    return coll_respond_changed(ctx, rc, user, &err);
}

keel_rc
users_remove(keel_ctx_t *ctx)
{
    const char *id = ctx_param_uuid(ctx, "id");
    audit_who_t w = who(ctx);
    db_conn_t *c;
    db_error_t err;
    keel_rc rc;

    if (is_self(ctx, id))
        return ctx_fail(ctx, KEEL_EFORBIDDEN,
                        "You cannot delete your own account");
    rc = ctx_db(ctx, &c);
    if (rc != KEEL_OK)
        return rc;
    rc = users_delete(c, id, ctx_if_match(ctx), &w, &err);
    if (rc == KEEL_ENOTFOUND || rc == KEEL_EPRECOND)
        return ctx_fail(ctx, rc, NULL);
    if (rc == KEEL_ECONFLICT)
        return ctx_fail(ctx, rc, NO_MANAGER);
    if (rc != KEEL_OK)
        return ctx_fail_db(ctx, rc, &err);
    auth_forget(id);
    ctx_respond_empty(ctx, 204);
    return KEEL_OK;
}

void
api_unknown_names(keel_ctx_t *ctx, const char *field, const char *what,
                  json_object *unknown)
{
    for (size_t i = 0; i < json_object_array_length(unknown); i++)
        ctx_detail(ctx, field,
                   arena_sprintf(ctx->arena, "unknown %s '%s'", what,
                                 json_object_get_string(
                                     json_object_array_get_idx(unknown, i))));
}

keel_rc
users_put_roles(keel_ctx_t *ctx)
{
    const char *id = ctx_param_uuid(ctx, "id");
    json_object *roles, *user, *unknown;
    audit_who_t w = who(ctx);
    db_conn_t *c;
    db_error_t err;
    keel_rc rc;

    json_object_object_get_ex(ctx->req.json, "roles", &roles);
    rc = ctx_db(ctx, &c);
    if (rc != KEEL_OK)
        return rc;
    rc = users_set_roles(
        c, id, json_object_to_json_string_ext(roles, JSON_C_TO_STRING_PLAIN),
        &w, &user, &unknown, &err);
    if (rc == KEEL_EINVAL) {
        api_unknown_names(ctx, "roles", "role", unknown);
        json_object_put(unknown);
        return ctx_fail(ctx, rc, NULL);
    }
    if (rc == KEEL_ENOTFOUND)
        return ctx_fail(ctx, rc, NULL);
    if (rc == KEEL_ECONFLICT)
        return ctx_fail(ctx, rc, NO_MANAGER);
    if (rc != KEEL_OK)
        return ctx_fail_db(ctx, rc, &err);
    auth_forget(id);
    coll_respond_one(ctx, 200, user);
    return KEEL_OK;
}
