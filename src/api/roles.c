/* roles.c - the /v1/roles handlers. */
#include "keel-build.h"

#include "api/roles.h"
#include "api/users.h"
#include "auth/rbac.h"
#include "store/roles.h"

#include <string.h>

/* The role that must always keep the permission to manage roles, so that
 * nobody can lock every administrator out. */
#define ADMIN_ROLE       "admin"
#define ADMIN_PERMISSION "roles:manage"

static const schema_prop_t permission_item = {
    .type = SCHEMA_STRING, .bounded = 1, .min = 1, .max = 64
};
static const schema_prop_t put_props[] = {
    { .name = "permissions",
      .type = SCHEMA_ARRAY,
      .flags = SCHEMA_REQUIRED | SCHEMA_UNIQUE,
      .bounded = 1,
      .min = 0,
      .max = 64,
      .items = &permission_item },
};
const schema_t roles_put_schema = SCHEMA_OF(put_props);

/* Role names as the roles table allows them: ^[a-z][a-z0-9_-]{0,63}$ */
static int
valid_role_name(const char *s)
{
    size_t n = s ? strlen(s) : 0;

    return n >= 1 && n <= 64 && s[0] >= 'a' && s[0] <= 'z' &&
           strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

static audit_who_t
who(const keel_ctx_t *ctx)
{
    audit_who_t w = { ctx->user->id, ctx->req.client_ip, ctx->req.request_id };
    return w;
}

keel_rc
roles_index(keel_ctx_t *ctx)
{
    json_object *list;
    db_conn_t *c;
    db_error_t err;
    keel_rc rc = ctx_db(ctx, &c);

    if (rc != KEEL_OK)
        return rc;
    rc = roles_list(c, &list, &err);
    if (rc != KEEL_OK)
        return ctx_fail_db(ctx, rc, &err);
    ctx_respond_data(ctx, 200, list);
    return KEEL_OK;
}

keel_rc
roles_upsert(keel_ctx_t *ctx)
{
    const char *name = ctx_param(ctx, "name");
    json_object *perms, *role, *unknown;
    audit_who_t w = who(ctx);
    int created, keeps = 0;
    db_conn_t *c;
    db_error_t err;
    keel_rc rc;

    if (!valid_role_name(name)) {
        ctx_detail(ctx, "name",
                   "must be 1 to 64 of a-z, 0-9, '_' and '-', starting with "
                   "a letter");
        return ctx_fail(ctx, KEEL_EINVAL, NULL);
    }
    json_object_object_get_ex(ctx->req.json, "permissions", &perms);
    for (size_t i = 0; i < json_object_array_length(perms); i++)
        if (strcmp(json_object_get_string(json_object_array_get_idx(perms, i)),
                   ADMIN_PERMISSION) == 0)
            keeps = 1;
    if (strcmp(name, ADMIN_ROLE) == 0 && !keeps) {
        ctx_detail(ctx, "permissions",
                   "the admin role must keep " ADMIN_PERMISSION);
        return ctx_fail(ctx, KEEL_ECONFLICT,
                        "The admin role cannot lose " ADMIN_PERMISSION);
    }
    rc = ctx_db(ctx, &c);
    if (rc != KEEL_OK)
        return rc;
    rc = roles_put(
        c, name, json_object_to_json_string_ext(perms, JSON_C_TO_STRING_PLAIN),
        &w, &created, &role, &unknown, &err);
    if (rc == KEEL_EINVAL) {
        api_unknown_names(ctx, "permissions", "permission", unknown);
        json_object_put(unknown);
        return ctx_fail(ctx, rc, NULL);
    }
    if (rc == KEEL_ECONFLICT)
        return ctx_fail(ctx, rc,
                        "The role limit is reached, or no user could manage "
                        "roles after this change");
    if (rc != KEEL_OK)
        return ctx_fail_db(ctx, rc, &err);
    /* This worker sees the change at its next request; others within the
     * cache's check interval. */
    rbac_invalidate();
    ctx_respond_data(ctx, created ? 201 : 200, role);
    if (created)
        ctx_header_set(ctx, "Location",
                       arena_sprintf(ctx->arena, "/v1/roles/%s", name));
    return KEEL_OK;
}

keel_rc
roles_destroy(keel_ctx_t *ctx)
{
    const char *name = ctx_param(ctx, "name");
    role_delete_refusal_t why;
    audit_who_t w = who(ctx);
    db_conn_t *c;
    db_error_t err;
    keel_rc rc;

    if (!valid_role_name(name))
        return ctx_fail(ctx, KEEL_ENOTFOUND, NULL);
    rc = ctx_db(ctx, &c);
    if (rc != KEEL_OK)
        return rc;
    rc = roles_delete(c, name, &w, &why, &err);
    if (rc == KEEL_ENOTFOUND)
        return ctx_fail(ctx, rc, NULL);
    if (rc == KEEL_ECONFLICT && why != 0)
        return ctx_fail(ctx, rc,
                        why == ROLE_DELETE_SEEDED
                            ? "A seeded role cannot be deleted"
                            : "The role is still assigned to users");
    if (rc != KEEL_OK)
        return ctx_fail_db(ctx, rc, &err);
    rbac_invalidate();
    ctx_respond_empty(ctx, 204);
    return KEEL_OK;
}
