/*
 * app.c - Conduit's conventions and route table: "Token" credentials,
 * bodies and answers wrapped in {"user": ...}, errors as
 * {"errors": {"field": ["message"]}} with 422 for invalid input, and
 * RealWorld's wording.  Everything else is keel's core.
 */
#include "keel-build.h"

#include "app.h"
#include "articles.h"
#include "comments.h"
#include "profiles.h"
#include "users.h"
#include "auth/keys.h"
#include "core/validate.h"
#include "db/db.h"
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

/* ---- helpers ----------------------------------------------------------- */

json_object *
rw_body_member(const keel_ctx_t *ctx, const char *wrapper, const char *name,
               int *present)
{
    json_object *w, *v = NULL;
    int there = ctx->req.json != NULL &&
                json_object_object_get_ex(ctx->req.json, wrapper, &w) &&
                json_object_object_get_ex(w, name, &v);

    if (present != NULL)
        *present = there;
    return v;
}

const char *
rw_body_str(const keel_ctx_t *ctx, const char *wrapper, const char *name)
{
    json_object *v = rw_body_member(ctx, wrapper, name, NULL);

    return v != NULL ? json_object_get_string(v) : NULL;
}

const char *
rw_body_trimmed(keel_ctx_t *ctx, const char *wrapper, const char *name)
{
    return ctx_trimmed(ctx, rw_body_str(ctx, wrapper, name));
}

const char *
rw_viewer(const keel_ctx_t *ctx)
{
    return ctx->user != NULL ? ctx->user->id : NULL;
}

keel_rc
rw_fail(keel_ctx_t *ctx, keel_rc rc, const char *field, const char *message)
{
    ctx_detail(ctx, field, message);
    return ctx_fail(ctx, rc, NULL);
}

keel_rc
rw_answer(keel_ctx_t *ctx, keel_rc rc, const db_error_t *err, int status,
          json_object *out, const char *missing)
{
    if (rc == KEEL_ENOTFOUND)
        return rw_fail(ctx, rc, missing, "not found");
    if (rc != KEEL_OK)
        return ctx_fail_db(ctx, rc, err);
    if (ctx->match.route->envelope != NULL) {
        ctx_respond_data(ctx, status, out);
    } else {
        ctx_respond_json(ctx, status, out);
        json_object_put(out);
    }
    return KEEL_OK;
}

keel_rc
rw_lookup(keel_ctx_t *ctx, rw_lookup_fn fn, const char *param,
          const char *missing)
{
    json_object *out = NULL;
    db_conn_t *c;
    db_error_t err;
    keel_rc rc = ctx_db(ctx, &c);

    if (rc != KEEL_OK)
        return rc;
    rc = fn(c, rw_viewer(ctx), ctx_param(ctx, param), &out, &err);
    return rw_answer(ctx, rc, &err, 200, out, missing);
}

keel_rc
rw_owned(keel_ctx_t *ctx, json_object *obj, const char *what)
{
    json_object *author;

    if (!json_object_object_get_ex(obj, "author", &author) ||
        strcmp(json_object_get_string(author), ctx->user->id) != 0) {
        json_object_put(obj);
        ctx_detail(ctx, what, "forbidden");
        return KEEL_EFORBIDDEN;
    }
    json_object_put(ctx->resource);
    ctx->resource = obj;
    return KEEL_OK;
}

const char *
rw_resource_str(const keel_ctx_t *ctx, const char *key)
{
    json_object *v;

    return ctx->resource != NULL &&
                   json_object_object_get_ex(ctx->resource, key, &v) &&
                   v != NULL
               ? json_object_get_string(v)
               : NULL;
}

keel_rc
rw_remove(keel_ctx_t *ctx, rw_remove_fn fn, const char *key,
          const char *missing)
{
    const char *id = rw_resource_str(ctx, key);
    db_conn_t *c;
    db_error_t err;
    keel_rc rc;

    if (id == NULL)
        return ctx_fail_internal(ctx, "a DELETE without its access rule");
    rc = ctx_db(ctx, &c);
    if (rc != KEEL_OK)
        return rc;
    rc = fn(c, id, &err);
    if (rc != KEEL_OK)
        return rw_answer(ctx, rc, &err, 204, NULL, missing);
    ctx_respond_empty(ctx, 204);
    return KEEL_OK;
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
/* {"<member>": {...}} around `s`. */
#define WRAPPED(var, member, s)                                                \
    static const schema_prop_t var##_props[] = {                               \
        { .name = (member),                                                    \
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
WRAPPED(register_schema, "user", register_user);

static const schema_prop_t login_props[] = {
    EMAIL(SCHEMA_REQUIRED),
    STR("password", SCHEMA_REQUIRED, 1, 1024),
};
static const schema_t login_user = SCHEMA_OF(login_props);
WRAPPED(login_schema, "user", login_user);

/* PUT /user: NIST 800-63B, 8 characters at least (the suite's rule). */
static const schema_prop_t update_props[] = {
    STR("username", SCHEMA_TRIM, 1, 100),
    EMAIL(0),
    STR("password", 0, 8, 1024),
    STR("bio", SCHEMA_NULLABLE, 0, 10000),
    STR("image", SCHEMA_NULLABLE, 0, 2048),
};
static const schema_t update_user = SCHEMA_OF(update_props);
WRAPPED(update_schema, "user", update_user);

/* POST /articles: RealWorld's three strings and an optional tag list
 * (trimmed, repeats dropped: params.h).  PUT: any of them; a tagList
 * replaces the tags ([] removes them), null is refused. */
static const schema_prop_t tag_item = STR("tag", SCHEMA_TRIM, 1, 100);
#define TAG_LIST                                                               \
    {                                                                          \
        .name = "tagList", .type = SCHEMA_ARRAY, .bounded = 1, .min = 0,       \
        .max = 20, .items = &tag_item                                          \
    }
#define ARTICLE_PROPS(req)                                                     \
    STR("title", (req) | SCHEMA_TRIM, 1, 300),                                 \
        STR("description", (req) | SCHEMA_TRIM, 1, 1000),                      \
        STR("body", (req) | SCHEMA_TRIM, 1, 100000), TAG_LIST
static const schema_prop_t new_article_props[] = { ARTICLE_PROPS(
    SCHEMA_REQUIRED) };
static const schema_t new_article = SCHEMA_OF(new_article_props);
WRAPPED(new_article_schema, "article", new_article);
static const schema_prop_t edit_article_props[] = { ARTICLE_PROPS(0) };
static const schema_t edit_article = SCHEMA_OF(edit_article_props);
WRAPPED(edit_article_schema, "article", edit_article);

static const schema_prop_t comment_props[] = {
    STR("body", SCHEMA_REQUIRED | SCHEMA_TRIM, 1, 10000),
};
static const schema_t comment = SCHEMA_OF(comment_props);
WRAPPED(comment_schema, "comment", comment);

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
    { .method = HTTP_GET,
      .pattern = "/api/profiles/{username}",
      .handler = rw_get_profile,
      .auth = AUTH_OPTIONAL,
      .rate = RATE_READ,
      .envelope = "profile",
      .summary = "A profile" },
    { .method = HTTP_POST,
      .pattern = "/api/profiles/{username}/follow",
      .handler = rw_follow,
      .auth = AUTH_BEARER,
      .rate = RATE_WRITE,
      .envelope = "profile",
      .summary = "Follow a user" },
    { .method = HTTP_DELETE,
      .pattern = "/api/profiles/{username}/follow",
      .handler = rw_unfollow,
      .auth = AUTH_BEARER,
      .rate = RATE_WRITE,
      .envelope = "profile",
      .summary = "Stop following a user" },
    /* The list routes read tag, author, favorited, limit and offset
     * themselves (RealWorld's page, not keel's collections). */
    { .method = HTTP_GET,
      .pattern = "/api/articles",
      .handler = rw_list_articles,
      .any_query = 1,
      .auth = AUTH_OPTIONAL,
      .rate = RATE_READ,
      .summary = "Recent articles, filtered" },
    { .method = HTTP_GET,
      .pattern = "/api/articles/feed",
      .handler = rw_feed,
      .any_query = 1,
      .auth = AUTH_BEARER,
      .rate = RATE_READ,
      .summary = "Recent articles by followed users" },
    { .method = HTTP_POST,
      .pattern = "/api/articles",
      .handler = rw_create_article,
      .auth = AUTH_BEARER,
      .rate = RATE_WRITE,
      .body = &new_article_schema,
      .envelope = "article",
      .summary = "Create an article" },
    { .method = HTTP_GET,
      .pattern = "/api/articles/{slug}",
      .handler = rw_get_article,
      .auth = AUTH_OPTIONAL,
      .rate = RATE_READ,
      .envelope = "article",
      .summary = "An article" },
    { .method = HTTP_PUT,
      .pattern = "/api/articles/{slug}",
      .handler = rw_update_article,
      .access = rw_article_access,
      .auth = AUTH_BEARER,
      .rate = RATE_WRITE,
      .body = &edit_article_schema,
      .envelope = "article",
      .summary = "Update an article (its author)" },
    { .method = HTTP_DELETE,
      .pattern = "/api/articles/{slug}",
      .handler = rw_delete_article,
      .access = rw_article_access,
      .auth = AUTH_BEARER,
      .rate = RATE_WRITE,
      .summary = "Delete an article (its author)" },
    { .method = HTTP_POST,
      .pattern = "/api/articles/{slug}/favorite",
      .handler = rw_favorite,
      .auth = AUTH_BEARER,
      .rate = RATE_WRITE,
      .envelope = "article",
      .summary = "Favorite an article" },
    { .method = HTTP_DELETE,
      .pattern = "/api/articles/{slug}/favorite",
      .handler = rw_unfavorite,
      .auth = AUTH_BEARER,
      .rate = RATE_WRITE,
      .envelope = "article",
      .summary = "Unfavorite an article" },
    { .method = HTTP_GET,
      .pattern = "/api/articles/{slug}/comments",
      .handler = rw_list_comments,
      .auth = AUTH_OPTIONAL,
      .rate = RATE_READ,
      .summary = "An article's comments" },
    { .method = HTTP_POST,
      .pattern = "/api/articles/{slug}/comments",
      .handler = rw_create_comment,
      .auth = AUTH_BEARER,
      .rate = RATE_WRITE,
      .body = &comment_schema,
      .envelope = "comment",
      .summary = "Comment on an article" },
    { .method = HTTP_DELETE,
      .pattern = "/api/articles/{slug}/comments/{id}",
      .handler = rw_delete_comment,
      .access = rw_comment_access,
      .auth = AUTH_BEARER,
      .rate = RATE_WRITE,
      .summary = "Delete a comment (its author)" },
    { .method = HTTP_GET,
      .pattern = "/api/tags",
      .handler = rw_list_tags,
      .auth = AUTH_NONE,
      .rate = RATE_READ,
      .summary = "Tags in use" },
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
