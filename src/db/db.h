/*
 * db.h - PostgreSQL access for handlers and stores: a per-worker pool of
 * libpq connections, parameterized statements, transactions with retry,
 * and the one mapping from SQLSTATE to keel_rc (API.md §1.2).
 *
 * Every statement is a static db_stmt_t: SQL with $1..$n placeholders and
 * values passed separately, never SQL built from values.  With
 * prepared_statements on, each connection prepares a statement the first
 * time it runs it (PQprepare) and reuses it; off (PgBouncer in transaction
 * mode), every run is PQexecParams (the unnamed statement).
 */
#ifndef KEEL_DB_DB_H
#define KEEL_DB_DB_H

#include "core/config.h"
#include "core/error.h"

#include <libpq-fe.h>
#include <stddef.h>

struct json_object;

typedef struct db_pool db_pool_t;
typedef struct db_conn db_conn_t;

typedef struct db_stmt {
    const char *name; /* for logs; the server-side name hashes the SQL */
    const char *sql;
    int nparams;
} db_stmt_t;

/* Declare a statement; its name is the variable's. */
#define DB_STMT(var, n, sql) static const db_stmt_t var = { #var, (sql), (n) }

/* A timestamptz column as API.md 1 writes timestamps (UTC, milliseconds,
 * "Z"); NULL stays NULL. */
#define DB_TS(col)                                                             \
    "to_char(" col " AT TIME ZONE 'UTC', "                                     \
    "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

/* What went wrong in a failed statement, for the log (never a response). */
typedef struct db_error {
    char sqlstate[6];
    char constraint[64];
    char table[64];
    char message[256];
} db_error_t;

/*
 * A pool of up to `size` connections for this process; connections are
 * made lazily, never before fork.  NULL on allocation failure.  Not
 * blocking.  Free with pool_destroy() (closes every connection).
 */
db_pool_t *pool_create(const keel_config_t *cfg, int size);
void pool_destroy(db_pool_t *p);

/*
 * A connection for the caller's exclusive use, waiting at most
 * pool_acquire_timeout for one to be free, connecting if needed.
 * KEEL_EUNAVAIL (503) when none is free in time or PostgreSQL cannot be
 * reached (then new attempts back off for a while, answering 503 at once).
 * Blocks.  Give it back with pool_release().
 */
keel_rc pool_acquire(db_pool_t *p, db_conn_t **out, db_error_t *err);
/* Return a connection; one left in a transaction is rolled back, a broken
 * one closed, one past max_lifetime retired. */
void pool_release(db_pool_t *p, db_conn_t *c);

typedef struct pool_stats {
    int size, idle, busy, connected;
} pool_stats_t;
void pool_stats(db_pool_t *p, pool_stats_t *out);

/*
 * Statement timing for the request this thread serves: db_track_begin
 * zeroes the total and names the request for the slow-query log
 * (statements over `slow_threshold` seconds, 0 = none, are logged with
 * their first words and duration, never their parameters);
 * db_track_seconds is the time statements took since.
 */
void db_track_begin(const char *request_id, double slow_threshold);
double db_track_seconds(void);

/* The libpq connection behind `c`, for what db.h does not cover. */
PGconn *db_pg(db_conn_t *c);

/*
 * Run `st` with text parameters `params` (NULL entries are SQL NULL).  On
 * success returns KEEL_OK and *res (the caller PQclear()s it; pass NULL to
 * discard).  On failure returns the mapped keel_rc with details in *err.
 */
keel_rc db_exec(db_conn_t *c, const db_stmt_t *st, const char *const *params,
                PGresult **res, db_error_t *err);

/*
 * Run SQL assembled at run time from fixed fragments (collection queries:
 * the filters and sort a request chose), with `nparams` text parameters.
 * Never SQL that holds request text: every value is a parameter.  Runs as
 * the unnamed statement (parsed each time), so the number of distinct texts
 * does not grow any per-connection cache.  Results as for db_exec().
 */
keel_rc db_exec_text(db_conn_t *c, const char *sql, int nparams,
                     const char *const *params, PGresult **res,
                     db_error_t *err);

/*
 * db_exec_text() for a text from a small fixed set, built from static
 * fragments the same way every time (a resource read by its id): prepared
 * once per connection, like db_exec(), under a name that hashes the text.
 * The first DB_FIXED_MAX (64) texts of a connection are prepared, any
 * more run as db_exec_text() does; so is everything without
 * prepared_statements.
 */
keel_rc db_exec_fixed(db_conn_t *c, const char *sql, int nparams,
                      const char *const *params, PGresult **res,
                      db_error_t *err);

/* Run plain SQL without parameters (BEGIN, migrations, ...). */
keel_rc db_exec_sql(db_conn_t *c, const char *sql, db_error_t *err);

/*
 * Run fn inside BEGIN ... COMMIT.  A serialization failure or deadlock
 * (SQLSTATE 40001, 40P01) anywhere rolls back and runs fn again, at most
 * `attempts` times in all; any other error rolls back and is returned.
 */
keel_rc db_transaction(db_conn_t *c, keel_rc (*fn)(db_conn_t *, void *),
                       void *arg, int attempts, db_error_t *err);

/*
 * db_transaction() for a write that reads back what it wrote into *out
 * (json_object_put): *out is NULL on entry and put again on failure, so a
 * caller gets a result only from a committed transaction.  `fn` drops an
 * earlier attempt's *out when it runs again.
 */
keel_rc db_transaction_out(db_conn_t *c, keel_rc (*fn)(db_conn_t *, void *),
                           void *arg, struct json_object **out,
                           db_error_t *err);

/*
 * The column a constraint named by PostgreSQL's convention guards:
 * "users_email_key" → "email" (table prefix and _key/_fkey/_check suffix
 * removed).  0 and out filled, or -1 when the name does not fit.
 */
int db_constraint_field(const char *constraint, const char *table, char *out,
                        size_t len);

/*
 * Optimistic locking (API.md 1.5), for a guarded UPDATE that touched no
 * row: run `st` (one parameter, the id; its first column the current
 * version) and return KEEL_ENOTFOUND when there is no row, KEEL_EPRECOND
 * when `if_match` (>= 0: given) is not its version, else KEEL_EVERSION.
 */
keel_rc db_why_unchanged(db_conn_t *c, const db_stmt_t *st, const char *id,
                         long long if_match, db_error_t *err);
/*
 * A guarded soft delete: run `del` (parameters: the id, and if_match or
 * NULL; a row back when it deleted) and, when it touched nothing, tell
 * why through `ver` as db_why_unchanged does — a stale version being
 * KEEL_EPRECOND, since a DELETE has no body.
 */
keel_rc db_guarded_delete(db_conn_t *c, const db_stmt_t *del,
                          const db_stmt_t *ver, const char *id,
                          long long if_match, db_error_t *err);

/* `v` as a parameter's text in buf, or NULL (SQL NULL) when v < 0. */
const char *db_opt_int(long long v, char *buf, size_t len);

/* Round trip "SELECT 1"; *ms gets its latency in milliseconds. */
keel_rc db_ping(db_conn_t *c, double *ms, db_error_t *err);

/* The keel_rc for a SQLSTATE: 23505 → CONFLICT, connection loss, admin
 * shutdown and statement timeout → UNAVAIL, others → INTERNAL. */
keel_rc db_sqlstate_rc(const char *sqlstate);
/* 1 when a statement failing with `sqlstate` may succeed if retried. */
int db_sqlstate_retryable(const char *sqlstate);
/* Sleep before retry number `attempt` (1, 2, ...): jittered, bounded. */
double db_retry_delay(int attempt);

#endif
