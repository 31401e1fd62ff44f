/*
 * users.h - SQL for user accounts (store layer: no HTTP here).
 */
#ifndef KEEL_STORE_USERS_H
#define KEEL_STORE_USERS_H

#include "db/db.h"

/*
 * Create a user with the role "user" and, when `role` is another name,
 * that role too, in one transaction.  `public_id` gets the new UUID.
 * KEEL_ECONFLICT when a live user has that email (case-insensitively),
 * KEEL_ENOTFOUND when `role` does not exist.
 */
keel_rc users_create(db_conn_t *c, const char *email, const char *name,
                     const char *password_hash, const char *role,
                     char public_id[37], db_error_t *err);

#endif
