/* store.c - Conduit's SQL: accounts.  PostgreSQL builds the JSON. */
#include "keel-build.h"

#include "store.h"

#include <stdlib.h>
#include <string.h>

#define USER_JSON                                                              \
    "json_build_object('id', public_id, 'username', username, 'email', "       \
    "email, 'bio', bio, 'image', image)::text"

DB_STMT(st_user_insert, 3,
        "INSERT INTO users (username, email, password_hash) "
        "VALUES ($1, $2, $3) RETURNING " USER_JSON);
DB_STMT(st_user_by_email, 1,
        "SELECT " USER_JSON ", password_hash FROM users "
        "WHERE lower(email) = lower($1)");
DB_STMT(st_user_get, 1, "SELECT " USER_JSON " FROM users WHERE public_id = $1");
DB_STMT(st_user_update, 8,
        "UPDATE users SET username = coalesce($2, username), "
        "email = coalesce($3, email), "
        "password_hash = coalesce($4, password_hash), "
        "bio = CASE WHEN $5::boolean THEN nullif($6, '') ELSE bio END, "
        "image = CASE WHEN $7::boolean THEN nullif($8, '') ELSE image END, "
        "updated_at = now() WHERE public_id = $1 RETURNING " USER_JSON);

keel_rc
rw_one_json(db_conn_t *c, const db_stmt_t *st, const char *const *params,
            json_object **out, char **second, db_error_t *err)
{
    PGresult *res;
    keel_rc rc = db_exec(c, st, params, &res, err);

    if (rc != KEEL_OK)
        return rc;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return KEEL_ENOTFOUND;
    }
    *out = json_tokener_parse(PQgetvalue(res, 0, 0));
    if (second != NULL)
        *second = strdup(PQgetvalue(res, 0, 1));
    PQclear(res);
    if (*out == NULL || (second != NULL && *second == NULL)) {
        json_object_put(*out);
        *out = NULL;
        return KEEL_EINTERNAL;
    }
    return KEEL_OK;
}

keel_rc
rw_user_create(db_conn_t *c, const char *username, const char *email,
               const char *hash, json_object **out, db_error_t *err)
{
    const char *p[] = { username, email, hash };

    return rw_one_json(c, &st_user_insert, p, out, NULL, err);
}

keel_rc
rw_user_by_email(db_conn_t *c, const char *email, json_object **out,
                 char **hash, db_error_t *err)
{
    const char *p[] = { email };

    return rw_one_json(c, &st_user_by_email, p, out, hash, err);
}

keel_rc
rw_user_get(db_conn_t *c, const char *id, json_object **out, db_error_t *err)
{
    const char *p[] = { id };

    return rw_one_json(c, &st_user_get, p, out, NULL, err);
}

keel_rc
rw_user_update(db_conn_t *c, const char *id, const rw_user_change_t *ch,
               json_object **out, db_error_t *err)
{
    const char *p[] = { id,
                        ch->username,
                        ch->email,
                        ch->hash,
                        ch->set_bio ? "true" : "false",
                        ch->bio,
                        ch->set_image ? "true" : "false",
                        ch->image };

    return rw_one_json(c, &st_user_update, p, out, NULL, err);
}
