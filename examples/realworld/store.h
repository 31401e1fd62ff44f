/*
 * store.h - Conduit's SQL (parameterized only): its accounts.  Each
 * function answers KEEL_OK with *out, a JSON object the caller puts
 * (json_object_put), or the database's error mapped to a keel_rc, with
 * details in *err for the log.
 */
#ifndef CONDUIT_STORE_H
#define CONDUIT_STORE_H

#include "db/db.h"

#include <json-c/json.h>

/* A user as RealWorld shows it: {"id" (public uuid), "username", "email",
 * "bio", "image"} (without "token", which the handler adds). */
keel_rc rw_user_create(db_conn_t *c, const char *username, const char *email,
                       const char *hash, json_object **out, db_error_t *err);
/* By email (any case), with the password hash in *hash (malloc'd, free);
 * KEEL_ENOTFOUND when there is none. */
keel_rc rw_user_by_email(db_conn_t *c, const char *email, json_object **out,
                         char **hash, db_error_t *err);
/* By public id; KEEL_ENOTFOUND when there is none. */
keel_rc rw_user_get(db_conn_t *c, const char *id, json_object **out,
                    db_error_t *err);

/*
 * Change what is given: NULL leaves username, email and hash as they are;
 * set_bio/set_image say whether bio/image change, to `bio`/`image` (NULL or
 * "" clears them).  KEEL_ENOTFOUND when the user is gone.
 */
typedef struct rw_user_change {
    const char *username, *email, *hash;
    int set_bio, set_image;
    const char *bio, *image;
} rw_user_change_t;
keel_rc rw_user_update(db_conn_t *c, const char *id, const rw_user_change_t *ch,
                       json_object **out, db_error_t *err);

#endif
