/* users.c - user accounts in PostgreSQL (parameterized statements only). */
#include "keel-build.h"

#include "store/users.h"
#include "store/roles.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

DB_STMT(st_user_insert, 3,
        "INSERT INTO users (email, name, password_hash) VALUES ($1, $2, $3) "
        "RETURNING id, public_id");
DB_STMT(st_user_add_role, 2,
        "INSERT INTO user_roles (user_id, role_id) "
        "SELECT $1::bigint, id FROM roles WHERE name = $2 "
        "ON CONFLICT DO NOTHING");

typedef struct create_args {
    const char *email, *name, *hash, *role;
    char *public_id;
    db_error_t *err;
} create_args_t;

static keel_rc
create_tx(db_conn_t *c, void *arg)
{
    create_args_t *a = arg;
    const char *p[3] = { a->email, a->name, a->hash };
    const char *roles[2] = { "user", a->role };
    char id[32];
    PGresult *res;
    keel_rc rc;

    rc = db_exec(c, &st_user_insert, p, &res, a->err);
    if (rc != KEEL_OK)
        return rc;
    strncpy(id, PQgetvalue(res, 0, 0), sizeof(id) - 1);
    id[sizeof(id) - 1] = '\0';
    strncpy(a->public_id, PQgetvalue(res, 0, 1), 36);
    a->public_id[36] = '\0';
    PQclear(res);
    for (int i = 0; i < 2; i++) {
        const char *rp[2] = { id, roles[i] };
        if (roles[i] == NULL || (i == 1 && strcmp(roles[i], "user") == 0))
            continue;
        rc = db_exec(c, &st_user_add_role, rp, &res, a->err);
        if (rc != KEEL_OK)
            return rc;
        if (strcmp(PQcmdTuples(res), "1") != 0) {
            PQclear(res);
            return KEEL_ENOTFOUND; /* no such role */
        }
        PQclear(res);
    }
    return KEEL_OK;
}

keel_rc
users_create(db_conn_t *c, const char *email, const char *name,
             const char *password_hash, const char *role, char public_id[37],
             db_error_t *err)
{
    create_args_t a = { email, name, password_hash, role, public_id, err };

    return db_transaction(c, create_tx, &a, 3, err);
}

/* ---- the users collection (API.md 5.1) ----------------------------------- */

#define USER_ROLES_SQL                                                         \
    "coalesce((SELECT json_agg(r.name ORDER BY r.name) FROM user_roles ur "    \
    "JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = u.id), '[]')"

static const coll_field_t user_fields[] = {
    { "id", "u.public_id", COLL_JS_UUID },
    { "email", "u.email", "{\"type\":\"string\",\"format\":\"email\"}" },
    { "name", "u.name", COLL_JS_STRING },
    { "roles", USER_ROLES_SQL,
      "{\"type\":\"array\",\"items\":{\"type\":\"string\"}}" },
    { "email_verified_at", DB_TS("u.email_verified_at"), COLL_JS_TIME_NULL },
    { "created_at", DB_TS("u.created_at"), COLL_JS_TIME },
    { "updated_at", DB_TS("u.updated_at"), COLL_JS_TIME },
    { "version", "u.version", COLL_JS_VERSION },
};

static const coll_filter_t user_filters[] = {
    { .name = "role",
      .type = COLL_TEXT,
      .max_len = 64,
      .sql = "EXISTS (SELECT 1 FROM user_roles ur JOIN roles r ON r.id = "
             "ur.role_id WHERE ur.user_id = u.id AND r.name = $)",
      .summary = "Users who have this role" },
    { .name = "email",
      .type = COLL_TEXT,
      .max_len = 254,
      .sql = "lower(u.email) = lower($)",
      .summary = "The email address, compared case-insensitively" },
    { .name = "created_after",
      .type = COLL_TIMESTAMP,
      .sql = "u.created_at > $::timestamptz",
      .summary = "Created after this instant" },
    { .name = "created_before",
      .type = COLL_TIMESTAMP,
      .sql = "u.created_at < $::timestamptz",
      .summary = "Created before this instant" },
};

static const coll_sort_t user_sorts[] = {
    { "created_at", "u.created_at", "timestamptz" },
    { "name", "u.name", "text" },
    { "email", "u.email", "text" },
};

const coll_schema_t users_collection = {
    .resource = "users",
    .from = "users u",
    .where = "u.deleted_at IS NULL",
    .id_sql = "u.public_id",
    .fields = COLL_ROWS(user_fields),
    .filters = COLL_ROWS(user_filters),
    .sorts = COLL_ROWS(user_sorts),
    .default_sort = "-created_at",
    .modes = COLL_OFFSET | COLL_CURSOR,
};

keel_rc
users_get(db_conn_t *c, const coll_query_t *q, const char *id,
          json_object **out, db_error_t *err)
{
    coll_query_t all = { .schema = &users_collection, .fields = ~0ULL };
    coll_cond_t cond = { "u.public_id = $::uuid", id, NULL };

    return coll_fetch_one(c, q ? q : &all, &cond, 1, out, err);
}

DB_STMT(st_user_update, 5,
        "UPDATE users SET name = coalesce($2, name), "
        "email = coalesce($3, email), "
        "email_verified_at = CASE WHEN $3 IS NOT NULL AND "
        "lower($3) <> lower(email) THEN NULL ELSE email_verified_at END, "
        "version = version + 1, updated_at = now() "
        "WHERE public_id = $1::uuid AND deleted_at IS NULL "
        "AND ($4::integer IS NULL OR version = $4::integer) "
        "AND ($5::integer IS NULL OR version = $5::integer) "
        "RETURNING version");
DB_STMT(st_user_version, 1,
        "SELECT version FROM users "
        "WHERE public_id = $1::uuid AND deleted_at IS NULL");

typedef struct update_args {
    const char *id, *name, *email;
    long long if_match, version;
    const audit_who_t *who;
    json_object *out;
    db_error_t *err;
} update_args_t;

static keel_rc
update_tx(db_conn_t *c, void *arg)
{
    update_args_t *a = arg;
    char im[24], v[24];
    const char *p[5] = { a->id, a->name, a->email,
                         db_opt_int(a->if_match, im, sizeof(im)),
                         db_opt_int(a->version, v, sizeof(v)) };
    json_object *details, *fields;
    PGresult *res;
    keel_rc rc = db_exec(c, &st_user_update, p, &res, a->err);

    if (rc != KEEL_OK)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return db_why_unchanged(c, &st_user_version, a->id, a->if_match,
                                a->err);
    }
    PQclear(res);
    details = json_object_new_object();
    fields = json_object_new_array();
    if (a->name)
        json_object_array_add(fields, json_object_new_string("name"));
    if (a->email)
        json_object_array_add(fields, json_object_new_string("email"));
    json_object_object_add(details, "fields", fields);
    rc = audit_record(c, "user.updated", a->who->actor_id, "user", a->id,
                      a->who->ip, a->who->request_id,
                      json_object_to_json_string(details), a->err);
    json_object_put(details);
    if (rc == KEEL_OK) {
        json_object_put(a->out);
        rc = users_get(c, NULL, a->id, &a->out, a->err);
    }
    return rc;
}

keel_rc
users_update(db_conn_t *c, const char *id, const char *name, const char *email,
             long long if_match, long long version, const audit_who_t *who,
             json_object **out, db_error_t *err)
{
    update_args_t a = { id, name, email, if_match, version, who, NULL, err };
    keel_rc rc = db_transaction(c, update_tx, &a, 3, err);

    *out = rc == KEEL_OK ? a.out : NULL;
    if (rc != KEEL_OK)
        json_object_put(a.out);
    return rc;
}

DB_STMT(st_user_soft_delete, 2,
        "UPDATE users SET deleted_at = now(), tokens_valid_after = now(), "
        "updated_at = now(), version = version + 1 "
        "WHERE public_id = $1::uuid AND deleted_at IS NULL "
        "AND ($2::integer IS NULL OR version = $2::integer) RETURNING id");
DB_STMT(st_user_roles_clear, 1, "DELETE FROM user_roles WHERE user_id = $1");
/* A deleted user's posts vanish with them (API.md 5.1). */
DB_STMT(st_user_posts_delete, 1,
        "UPDATE posts SET deleted_at = now(), updated_at = now(), "
        "version = version + 1 WHERE author_id = $1 AND deleted_at IS NULL");

typedef struct delete_args {
    const char *id;
    long long if_match;
    const audit_who_t *who;
    db_error_t *err;
} delete_args_t;

static keel_rc
delete_tx(db_conn_t *c, void *arg)
{
    delete_args_t *a = arg;
    char im[24], internal[24];
    const char *p[2] = { a->id, db_opt_int(a->if_match, im, sizeof(im)) };
    PGresult *res;
    keel_rc rc = roles_guard_lock(c, a->err);

    if (rc == KEEL_OK)
        rc = db_exec(c, &st_user_soft_delete, p, &res, a->err);
    if (rc != KEEL_OK)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        rc = db_why_unchanged(c, &st_user_version, a->id, a->if_match, a->err);
        return rc == KEEL_EVERSION ? KEEL_EPRECOND : rc;
    }
    snprintf(internal, sizeof(internal), "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    {
        const char *pi[1] = { internal };
        rc = db_exec(c, &st_user_roles_clear, pi, NULL, a->err);
        if (rc == KEEL_OK)
            rc = db_exec(c, &st_user_posts_delete, pi, NULL, a->err);
    }
    if (rc == KEEL_OK)
        rc = roles_guard_check(c, a->err);
    if (rc == KEEL_OK)
        rc = session_revoke_all(c, a->id, NULL, "user deleted", a->err);
    if (rc == KEEL_OK)
        rc = audit_record(c, "user.deleted", a->who->actor_id, "user", a->id,
                          a->who->ip, a->who->request_id, NULL, a->err);
    return rc;
}

keel_rc
users_delete(db_conn_t *c, const char *id, long long if_match,
             const audit_who_t *who, db_error_t *err)
{
    delete_args_t a = { id, if_match, who, err };

    return db_transaction(c, delete_tx, &a, 3, err);
}

DB_STMT(st_user_lock, 1,
        "SELECT u.id, " USER_ROLES_SQL "::text FROM users u "
        "WHERE u.public_id = $1::uuid AND u.deleted_at IS NULL FOR UPDATE");
DB_STMT(st_unknown_roles, 1,
        "SELECT coalesce(json_agg(n ORDER BY n), '[]')::text "
        "FROM json_array_elements_text($1::json) AS n "
        "WHERE NOT EXISTS (SELECT 1 FROM roles r WHERE r.name = n)");
DB_STMT(st_user_roles_set, 2,
        "INSERT INTO user_roles (user_id, role_id) "
        "SELECT $1::bigint, r.id FROM roles r "
        "WHERE r.name IN (SELECT json_array_elements_text($2::json))");
/* The roles in issued tokens are stale now: refuse them (API.md 3). */
DB_STMT(st_user_roles_bump, 1,
        "UPDATE users SET tokens_valid_after = now(), updated_at = now(), "
        "version = version + 1 WHERE id = $1::bigint");

typedef struct roles_args {
    const char *id, *roles;
    const audit_who_t *who;
    json_object *out, *unknown;
    db_error_t *err;
} roles_args_t;

static keel_rc
roles_tx(db_conn_t *c, void *arg)
{
    roles_args_t *a = arg;
    const char *pu[1] = { a->id }, *pr[1] = { a->roles };
    char internal[24], *previous;
    json_object *details;
    PGresult *res;
    keel_rc rc;

    json_object_put(a->unknown);
    a->unknown = NULL;
    rc = roles_guard_lock(c, a->err);
    if (rc != KEEL_OK)
        return rc;
    rc = db_exec(c, &st_unknown_roles, pr, &res, a->err);
    if (rc != KEEL_OK)
        return rc;
    a->unknown = json_tokener_parse(PQgetvalue(res, 0, 0));
    PQclear(res);
    if (a->unknown == NULL)
        return KEEL_EINTERNAL;
    if (json_object_array_length(a->unknown) > 0)
        return KEEL_EINVAL;
    rc = db_exec(c, &st_user_lock, pu, &res, a->err);
    if (rc != KEEL_OK)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return KEEL_ENOTFOUND;
    }
    snprintf(internal, sizeof(internal), "%s", PQgetvalue(res, 0, 0));
    previous = strdup(PQgetvalue(res, 0, 1));
    PQclear(res);
    {
        const char *pi[1] = { internal }, *ps[2] = { internal, a->roles };
        rc = db_exec(c, &st_user_roles_clear, pi, NULL, a->err);
        if (rc == KEEL_OK)
            rc = db_exec(c, &st_user_roles_set, ps, NULL, a->err);
        if (rc == KEEL_OK)
            rc = db_exec(c, &st_user_roles_bump, pi, NULL, a->err);
    }
    if (rc == KEEL_OK)
        rc = roles_guard_check(c, a->err);
    if (rc == KEEL_OK) {
        details = json_object_new_object();
        json_object_object_add(details, "roles", json_tokener_parse(a->roles));
        json_object_object_add(details, "previous",
                               json_tokener_parse(previous));
        rc = audit_record(c, "user.roles_changed", a->who->actor_id, "user",
                          a->id, a->who->ip, a->who->request_id,
                          json_object_to_json_string(details), a->err);
        json_object_put(details);
    }
    free(previous);
    if (rc == KEEL_OK) {
        json_object_put(a->out);
        rc = users_get(c, NULL, a->id, &a->out, a->err);
    }
    return rc;
}

keel_rc
users_set_roles(db_conn_t *c, const char *id, const char *roles,
                const audit_who_t *who, json_object **out,
                json_object **unknown, db_error_t *err)
{
    roles_args_t a = { id, roles, who, NULL, NULL, err };
    keel_rc rc = db_transaction(c, roles_tx, &a, 3, err);

    *out = rc == KEEL_OK ? a.out : NULL;
    if (rc != KEEL_OK)
        json_object_put(a.out);
    *unknown = rc == KEEL_EINVAL ? a.unknown : NULL;
    if (rc != KEEL_EINVAL)
        json_object_put(a.unknown);
    return rc;
}
