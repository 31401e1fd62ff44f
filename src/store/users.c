/* users.c - user accounts in PostgreSQL (parameterized statements only). */
#include "keel-build.h"

#include "store/users.h"

#include <libpq-fe.h>
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
