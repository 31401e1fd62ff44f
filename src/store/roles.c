/* roles.c - roles, permissions and the RBAC cache's queries. */
#include "keel-build.h"

#include "store/roles.h"
#include "core/log.h"

#include <stdlib.h>
#include <string.h>

DB_STMT(st_version, 0, "SELECT version FROM rbac_version");
DB_STMT(st_load, 0,
        "SELECT r.name, p.name FROM roles r "
        "LEFT JOIN role_permissions rp ON rp.role_id = r.id "
        "LEFT JOIN permissions p ON p.id = rp.permission_id");

#define ROLE_JSON                                                              \
    "json_build_object('name', r.name, 'permissions', "                        \
    "coalesce((SELECT json_agg(p.name ORDER BY p.name) "                       \
    "FROM role_permissions rp JOIN permissions p ON p.id = rp.permission_id "  \
    "WHERE rp.role_id = r.id), '[]'), 'seeded', r.seeded, "                    \
    "'created_at', " DB_TS("r.created_at") ", "                                \
                                           "'updated_at', " DB_TS(             \
                                               "r.updated_at") ")"

DB_STMT(st_list, 0,
        "SELECT coalesce(json_agg(" ROLE_JSON " ORDER BY r.name), '[]')::text "
        "FROM roles r");
DB_STMT(st_one, 1, "SELECT " ROLE_JSON "::text FROM roles r WHERE r.name = $1");
DB_STMT(st_unknown_perms, 1,
        "SELECT coalesce(json_agg(n ORDER BY n), '[]')::text "
        "FROM json_array_elements_text($1::json) AS n "
        "WHERE NOT EXISTS (SELECT 1 FROM permissions p WHERE p.name = n)");
/* The role row, locked; its permissions before the change. */
DB_STMT(st_lock, 1,
        "SELECT r.id, coalesce((SELECT json_agg(p.name ORDER BY p.name) "
        "FROM role_permissions rp JOIN permissions p ON p.id = "
        "rp.permission_id WHERE rp.role_id = r.id), '[]')::text "
        "FROM roles r WHERE r.name = $1 FOR UPDATE");
DB_STMT(st_insert, 1, "INSERT INTO roles (name) VALUES ($1) RETURNING id");
DB_STMT(st_touch, 1, "UPDATE roles SET updated_at = now() WHERE id = $1");
DB_STMT(st_clear, 1, "DELETE FROM role_permissions WHERE role_id = $1");
DB_STMT(st_grant, 2,
        "INSERT INTO role_permissions (role_id, permission_id) "
        "SELECT $1, p.id FROM permissions p "
        "WHERE p.name IN (SELECT json_array_elements_text($2::json))");
DB_STMT(st_delete_info, 1,
        "SELECT r.id, r.seeded, EXISTS (SELECT 1 FROM user_roles ur "
        "WHERE ur.role_id = r.id) FROM roles r WHERE r.name = $1 FOR UPDATE");
DB_STMT(st_delete, 1, "DELETE FROM roles WHERE id = $1");
DB_STMT(st_guard_lock, 0, "SELECT version FROM rbac_version FOR UPDATE");
DB_STMT(st_guard_check, 0,
        "SELECT EXISTS (SELECT 1 FROM users u "
        "JOIN user_roles ur ON ur.user_id = u.id "
        "JOIN role_permissions rp ON rp.role_id = ur.role_id "
        "JOIN permissions p ON p.id = rp.permission_id "
        "WHERE p.name = 'roles:manage' AND u.deleted_at IS NULL)");
DB_STMT(st_count, 0, "SELECT count(*) FROM roles");

keel_rc
roles_guard_lock(db_conn_t *c, db_error_t *err)
{
    return db_exec(c, &st_guard_lock, NULL, NULL, err);
}

keel_rc
roles_guard_check(db_conn_t *c, db_error_t *err)
{
    PGresult *res;
    keel_rc rc = db_exec(c, &st_guard_check, NULL, &res, err);

    if (rc != KEEL_OK)
        return rc;
    rc = strcmp(PQgetvalue(res, 0, 0), "t") == 0 ? KEEL_OK : KEEL_ECONFLICT;
    PQclear(res);
    return rc;
}

static keel_rc
rbac_version(db_conn_t *c, long long *version, db_error_t *err)
{
    PGresult *res;
    keel_rc rc = db_exec(c, &st_version, NULL, &res, err);

    if (rc != KEEL_OK)
        return rc;
    *version = PQntuples(res) == 1 ? atoll(PQgetvalue(res, 0, 0)) : 0;
    PQclear(res);
    return KEEL_OK;
}

static keel_rc
rbac_load(db_conn_t *c, rbac_snapshot_t *s, db_error_t *err)
{
    PGresult *res;
    keel_rc rc = db_exec(c, &st_load, NULL, &res, err);

    if (rc != KEEL_OK)
        return rc;
    /* A role or permission past the cache's bounds (made behind keel's
     * back: the API keeps within them) grants nothing; the rest loads. */
    for (int i = 0; i < PQntuples(res); i++)
        if (rbac_snapshot_add(s, PQgetvalue(res, i, 0),
                              PQgetisnull(res, i, 1)
                                  ? NULL
                                  : PQgetvalue(res, i, 1)) != KEEL_OK)
            log_printf(KLOG_WARN, "role %s: past the role cache's bounds",
                       PQgetvalue(res, i, 0));
    PQclear(res);
    return KEEL_OK;
}

const rbac_source_t roles_rbac_source = { rbac_version, rbac_load };

/* The first column of the only row, parsed as JSON. */
static keel_rc
one_json(db_conn_t *c, const db_stmt_t *st, const char *const *p,
         json_object **out, db_error_t *err)
{
    PGresult *res;
    keel_rc rc = db_exec(c, st, p, &res, err);

    *out = NULL;
    if (rc != KEEL_OK)
        return rc;
    if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
        *out = json_tokener_parse(PQgetvalue(res, 0, 0));
    rc = PQntuples(res) != 1 ? KEEL_ENOTFOUND
                             : (*out ? KEEL_OK : KEEL_EINTERNAL);
    PQclear(res);
    return rc;
}

keel_rc
roles_list(db_conn_t *c, json_object **out, db_error_t *err)
{
    return one_json(c, &st_list, NULL, out, err);
}

typedef struct put_args {
    const char *name, *perms;
    const audit_who_t *who;
    int created;
    json_object *out, *unknown;
    db_error_t *err;
} put_args_t;

static keel_rc
put_tx(db_conn_t *c, void *arg)
{
    put_args_t *a = arg;
    const char *pn[1] = { a->name }, *pp[1] = { a->perms };
    json_object *details;
    PGresult *res;
    char id[24], *previous = NULL;
    keel_rc rc;

    json_object_put(a->unknown);
    a->unknown = NULL;
    rc = roles_guard_lock(c, a->err);
    if (rc != KEEL_OK)
        return rc;
    rc = one_json(c, &st_unknown_perms, pp, &a->unknown, a->err);
    if (rc != KEEL_OK)
        return rc;
    if (json_object_array_length(a->unknown) > 0)
        return KEEL_EINVAL;
    rc = db_exec(c, &st_lock, pn, &res, a->err);
    if (rc != KEEL_OK)
        return rc;
    a->created = PQntuples(res) == 0;
    if (!a->created) {
        snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
        previous = strdup(PQgetvalue(res, 0, 1));
        PQclear(res);
    } else {
        PQclear(res);
        rc = db_exec(c, &st_count, NULL, &res, a->err);
        if (rc != KEEL_OK)
            return rc;
        rc = atoll(PQgetvalue(res, 0, 0)) >= ROLES_MAX ? KEEL_ECONFLICT
                                                       : KEEL_OK;
        PQclear(res);
        if (rc != KEEL_OK)
            return rc;
        rc = db_exec(c, &st_insert, pn, &res, a->err);
        if (rc != KEEL_OK)
            return rc;
        snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
        PQclear(res);
    }
    {
        const char *pi[1] = { id }, *pg[2] = { id, a->perms };
        rc = db_exec(c, &st_clear, pi, NULL, a->err);
        if (rc == KEEL_OK)
            rc = db_exec(c, &st_grant, pg, NULL, a->err);
        if (rc == KEEL_OK && !a->created)
            rc = db_exec(c, &st_touch, pi, NULL, a->err);
    }
    if (rc == KEEL_OK) {
        details = json_object_new_object();
        json_object_object_add(details, "permissions",
                               json_tokener_parse(a->perms));
        if (previous)
            json_object_object_add(details, "previous",
                                   json_tokener_parse(previous));
        rc = audit_record(c, a->created ? "role.created" : "role.updated",
                          a->who->actor_id, "role", a->name, a->who->ip,
                          a->who->request_id,
                          json_object_to_json_string(details), a->err);
        json_object_put(details);
    }
    free(previous);
    if (rc == KEEL_OK)
        rc = roles_guard_check(c, a->err);
    if (rc == KEEL_OK) {
        json_object_put(a->out);
        rc = one_json(c, &st_one, pn, &a->out, a->err);
    }
    return rc;
}

keel_rc
roles_put(db_conn_t *c, const char *name, const char *perms,
          const audit_who_t *who, int *created, json_object **out,
          json_object **unknown, db_error_t *err)
{
    put_args_t a = { name, perms, who, 0, NULL, NULL, err };
    keel_rc rc = db_transaction(c, put_tx, &a, 3, err);

    *created = a.created;
    *out = rc == KEEL_OK ? a.out : NULL;
    if (rc != KEEL_OK)
        json_object_put(a.out);
    *unknown = rc == KEEL_EINVAL ? a.unknown : NULL;
    if (rc != KEEL_EINVAL)
        json_object_put(a.unknown);
    return rc;
}

typedef struct delete_args {
    const char *name;
    const audit_who_t *who;
    role_delete_refusal_t why;
    db_error_t *err;
} delete_args_t;

static keel_rc
delete_tx(db_conn_t *c, void *arg)
{
    delete_args_t *a = arg;
    const char *pn[1] = { a->name };
    PGresult *res;
    char id[24];
    keel_rc rc = db_exec(c, &st_delete_info, pn, &res, a->err);

    if (rc != KEEL_OK)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return KEEL_ENOTFOUND;
    }
    snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
    a->why = strcmp(PQgetvalue(res, 0, 1), "t") == 0   ? ROLE_DELETE_SEEDED
             : strcmp(PQgetvalue(res, 0, 2), "t") == 0 ? ROLE_DELETE_ASSIGNED
                                                       : 0;
    PQclear(res);
    if (a->why != 0)
        return KEEL_ECONFLICT;
    {
        const char *pi[1] = { id };
        rc = db_exec(c, &st_delete, pi, NULL, a->err);
    }
    if (rc == KEEL_OK)
        rc = audit_record(c, "role.deleted", a->who->actor_id, "role", a->name,
                          a->who->ip, a->who->request_id, NULL, a->err);
    return rc;
}

keel_rc
roles_delete(db_conn_t *c, const char *name, const audit_who_t *who,
             role_delete_refusal_t *why, db_error_t *err)
{
    delete_args_t a = { name, who, 0, err };
    keel_rc rc = db_transaction(c, delete_tx, &a, 3, err);

    *why = a.why;
    return rc;
}
