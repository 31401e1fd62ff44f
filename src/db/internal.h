/* internal.h - what pool.c and db.c share; not for other modules. */
#ifndef KEEL_DB_INTERNAL_H
#define KEEL_DB_INTERNAL_H

#include "db/db.h"

#include <stdint.h>

/* The most texts one connection prepares through db_exec_fixed(). */
#define DB_FIXED_MAX 64

struct db_conn {
    PGconn *pg; /* NULL until connected */
    db_pool_t *pool;
    int in_use;                 /* guarded by the pool's lock */
    double created;             /* time_mono() of the connect */
    const db_stmt_t **prepared; /* statements prepared on this session */
    size_t nprepared, cap;
    uint64_t fixed[DB_FIXED_MAX]; /* hashes of db_exec_fixed() texts */
    size_t nfixed;
    char last_sqlstate[6]; /* of the last failed statement, for retries */
};

/* Fill err from a failed result (or the connection when res is NULL). */
void db_error_from(db_error_t *err, const PGresult *res, PGconn *pg);
void db_error_set(db_error_t *err, const char *sqlstate, const char *constraint,
                  const char *message);
int pool_prepared(const db_pool_t *p);
/*
 * The first words of a statement, whitespace folded, for the slow-query
 * log (statements are parameterized, so the text holds no values): at most
 * len - 1 characters and a NUL into out, ending in "..." when cut; len >= 5.
 */
void db_first_words(const char *sql, char *out, size_t len);

#endif
