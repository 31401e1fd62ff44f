/*
 * migrate.h - schema migrations from NNNN_name.up.sql / NNNN_name.down.sql
 * files, recorded in schema_migrations (version, name, checksum,
 * applied_at).  Each migration runs in its own transaction; an advisory
 * lock serializes concurrent runs; a migration whose file changed after it
 * was applied is refused.
 */
#ifndef KEEL_DB_MIGRATE_H
#define KEEL_DB_MIGRATE_H

#include "core/error.h"
#include "db/db.h"

#include <stdio.h>

typedef struct migration {
    int version;
    char name[128];    /* "0001_auth" */
    char *up, *down;   /* file contents */
    char checksum[65]; /* SHA-256 of the up file, hex */
} migration_t;

/*
 * Read the migrations in `dir`, ordered by version.  KEEL_EINVAL with a
 * message for a file name that is not NNNN_name.{up,down}.sql, a version
 * without both files, or a version used twice.  The caller frees the
 * array with migrations_free().
 */
keel_rc migrations_load(const char *dir, migration_t **out, size_t *n,
                        char *err, size_t errlen);
void migrations_free(migration_t *m, size_t n);

/* Hex SHA-256 of data[0..len) into out (65 bytes). */
void migration_checksum(const char *data, size_t len, char out[65]);

/*
 * Apply up to `steps` pending migrations (0: all), or revert the last
 * `steps` applied ones, printing one line per migration to `out`.  Checks
 * every applied migration's checksum first.  Blocks (advisory lock).
 */
keel_rc migrate_up(db_conn_t *c, const migration_t *m, size_t n, int steps,
                   FILE *out, char *err, size_t errlen);
keel_rc migrate_down(db_conn_t *c, const migration_t *m, size_t n, int steps,
                     FILE *out, char *err, size_t errlen);
/* Print each migration and whether it is applied (KEEL_OK either way;
 * an error for a changed or missing applied migration). */
keel_rc migrate_status(db_conn_t *c, const migration_t *m, size_t n, FILE *out,
                       char *err, size_t errlen);

/* The highest applied version (0 for none or no table). */
keel_rc migrate_current(db_conn_t *c, int *version, db_error_t *err);

#endif
