/* db.c - statements, transactions and the SQLSTATE mapping. */
#include "keel-build.h"

#include "db/db.h"
#include "db/internal.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/util.h"

#include <json-c/json.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* SQLSTATE (or class, when two characters) → keel_rc. First match wins. */
static const struct {
    const char *state;
    keel_rc rc;
} sqlstate_map[] = {
    { "23505", KEEL_ECONFLICT }, /* unique_violation */
    { "23503", KEEL_ECONFLICT }, /* foreign_key_violation: still in use */
    { "40001", KEEL_EUNAVAIL },  /* serialization_failure (after retries) */
    { "40P01", KEEL_EUNAVAIL },  /* deadlock_detected (after retries) */
    { "57014", KEEL_EUNAVAIL },  /* query_canceled: statement_timeout */
    { "57P01", KEEL_EUNAVAIL },  /* admin_shutdown */
    { "57P02", KEEL_EUNAVAIL },  /* crash_shutdown */
    { "57P03", KEEL_EUNAVAIL },  /* cannot_connect_now */
    { "55P03", KEEL_EUNAVAIL },  /* lock_not_available: lock_timeout */
    { "25006", KEEL_EUNAVAIL },  /* read_only_sql_transaction: failover */
    { "08", KEEL_EUNAVAIL },     /* connection exceptions */
    { "53", KEEL_EUNAVAIL },     /* insufficient resources */
};

keel_rc
db_sqlstate_rc(const char *sqlstate)
{
    if (sqlstate == NULL || strlen(sqlstate) != 5)
        return KEEL_EINTERNAL;
    for (size_t i = 0; i < KEEL_ARRAY_LEN(sqlstate_map); i++) {
        size_t n = strlen(sqlstate_map[i].state);
        if (strncmp(sqlstate, sqlstate_map[i].state, n) == 0)
            return sqlstate_map[i].rc;
    }
    return KEEL_EINTERNAL;
}

int
db_sqlstate_retryable(const char *sqlstate)
{
    return sqlstate != NULL &&
           (strcmp(sqlstate, "40001") == 0 || strcmp(sqlstate, "40P01") == 0);
}

double
db_retry_delay(int attempt)
{
    double base = 0.01, d;
    unsigned char r;

    for (int i = 1; i < attempt && base < 0.2; i++)
        base *= 2;
    if (base > 0.2)
        base = 0.2;
    random_bytes(&r, 1);
    /* Jitter in [0.5, 1.5) so that colliding transactions drift apart. */
    d = base * (0.5 + (double)r / 256.0);
    return d;
}

void
db_error_set(db_error_t *err, const char *sqlstate, const char *constraint,
             const char *message)
{
    if (err == NULL)
        return;
    snprintf(err->sqlstate, sizeof(err->sqlstate), "%s",
             sqlstate ? sqlstate : "");
    snprintf(err->constraint, sizeof(err->constraint), "%s",
             constraint ? constraint : "");
    err->table[0] = '\0';
    snprintf(err->message, sizeof(err->message), "%s", message ? message : "");
    /* libpq messages end with a newline: keep log lines whole. */
    for (char *p = err->message; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
}

void
db_error_from(db_error_t *err, const PGresult *res, PGconn *pg)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg =
        res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

    /* No SQLSTATE from the server: the connection itself failed. */
    if (state == NULL && PQstatus(pg) != CONNECTION_OK)
        state = "08006";
    const char *table =
        res ? PQresultErrorField(res, PG_DIAG_TABLE_NAME) : NULL;

    db_error_set(err, state ? state : "XX000",
                 res ? PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : NULL,
                 msg ? msg : PQerrorMessage(pg));
    if (err != NULL)
        snprintf(err->table, sizeof(err->table), "%s", table ? table : "");
}

/*
 * The server-side name of a statement: a hash of its SQL, so that two
 * statements never share a name unless they share their text (then the
 * prepared one serves both).
 */
/* FNV-1a of a statement's text: its server-side name. */
static uint64_t
sql_hash(const char *sql)
{
    uint64_t h = 1469598103934665603ULL;

    for (const unsigned char *p = (const unsigned char *)sql; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    return h;
}

static void
hash_name(uint64_t h, char out[24])
{
    snprintf(out, 24, "k%016llx", (unsigned long long)h);
}

static void
stmt_name(const db_stmt_t *st, char out[24])
{
    hash_name(sql_hash(st->sql), out);
}

static int
is_prepared(const db_conn_t *c, const db_stmt_t *st)
{
    for (size_t i = 0; i < c->nprepared; i++)
        if (c->prepared[i] == st)
            return 1;
    return 0;
}

/* The statements of the request this thread serves (db_track_begin). */
static _Thread_local struct {
    double seconds;
    double slow;
    char request_id[64];
} track;

void
db_track_begin(const char *request_id, double slow_threshold)
{
    track.seconds = 0;
    track.slow = slow_threshold;
    snprintf(track.request_id, sizeof(track.request_id), "%s",
             request_id ? request_id : "");
}

double
db_track_seconds(void)
{
    return track.seconds;
}

void
db_first_words(const char *sql, char *out, size_t len)
{
    size_t o = 0;
    int space = 0;

    for (; *sql; sql++) {
        if (*sql == ' ' || *sql == '\n' || *sql == '\t' || *sql == '\r') {
            space = o > 0;
            continue;
        }
        /* Room for the folded space, this character, "..." and the NUL
         * (the space made it two characters at once: one past the end). */
        if (o + (size_t)space + 1 + 3 + 1 > len)
            break;
        if (space)
            out[o++] = ' ';
        space = 0;
        out[o++] = *sql;
    }
    if (*sql)
        out[o++] = '.', out[o++] = '.', out[o++] = '.';
    out[o] = '\0';
}

/* Time a statement took: into the request's total, and a log line when
 * it ran past the slow-query threshold. */
static void
timed(double t0, const char *sql)
{
    double took = time_mono() - t0;

    track.seconds += took;
    if (track.slow > 0 && took >= track.slow && sql != NULL) {
        char words[96];
        json_object *line = log_new(KLOG_WARN, "slow query");
        if (line == NULL)
            return;
        db_first_words(sql, words, sizeof(words));
        if (track.request_id[0])
            json_object_object_add(line, "request_id",
                                   json_object_new_string(track.request_id));
        json_object_object_add(line, "statement",
                               json_object_new_string(words));
        json_object_object_add(line, "duration_ms",
                               json_object_new_double(took * 1000.0));
        log_emit(line);
    }
}

static keel_rc
check(db_conn_t *c, PGresult *res, PGresult **out, db_error_t *err, double t0,
      const char *sql)
{
    ExecStatusType s = PQresultStatus(res);
    db_error_t local;

    timed(t0, sql);

    if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) {
        if (out)
            *out = res;
        else
            PQclear(res);
        return KEEL_OK;
    }
    if (err == NULL)
        err = &local;
    db_error_from(err, res, c->pg);
    memcpy(c->last_sqlstate, err->sqlstate, sizeof(c->last_sqlstate));
    if (strcmp(err->sqlstate, "42P05") != 0) /* prepared already: fine */
        metrics_db_error(err->sqlstate);
    PQclear(res);
    return db_sqlstate_rc(err->sqlstate);
}

keel_rc
db_exec(db_conn_t *c, const db_stmt_t *st, const char *const *params,
        PGresult **res, db_error_t *err)
{
    PGresult *r;
    char name[24];
    double t0 = time_mono();

    if (res)
        *res = NULL;
    if (!pool_prepared(c->pool)) {
        r = PQexecParams(c->pg, st->sql, st->nparams, NULL, params, NULL, NULL,
                         0);
        return check(c, r, res, err, t0, st->sql);
    }
    stmt_name(st, name);
    if (!is_prepared(c, st)) {
        keel_rc rc;
        r = PQprepare(c->pg, name, st->sql, st->nparams, NULL);
        rc = check(c, r, NULL, err, t0, NULL);
        t0 = time_mono();
        /* 42P05: prepared already, by another db_stmt_t with the same SQL
         * (same hash, same text). */
        if (rc != KEEL_OK && strcmp(c->last_sqlstate, "42P05") != 0)
            return rc;
        if (c->nprepared == c->cap) {
            c->cap = c->cap ? c->cap * 2 : 16;
            c->prepared = xrealloc(c->prepared, c->cap * sizeof(*c->prepared));
        }
        c->prepared[c->nprepared++] = st;
    }
    r = PQexecPrepared(c->pg, name, st->nparams, params, NULL, NULL, 0);
    return check(c, r, res, err, t0, st->sql);
}

keel_rc
db_exec_text(db_conn_t *c, const char *sql, int nparams,
             const char *const *params, PGresult **res, db_error_t *err)
{
    double t0 = time_mono();
    PGresult *r;

    if (res)
        *res = NULL;
    r = PQexecParams(c->pg, sql, nparams, NULL, params, NULL, NULL, 0);
    return check(c, r, res, err, t0, sql);
}

keel_rc
db_exec_fixed(db_conn_t *c, const char *sql, int nparams,
              const char *const *params, PGresult **res, db_error_t *err)
{
    uint64_t h;
    char name[24];
    size_t i;
    double t0;
    PGresult *r;

    if (!pool_prepared(c->pool))
        return db_exec_text(c, sql, nparams, params, res, err);
    if (res)
        *res = NULL;
    h = sql_hash(sql);
    for (i = 0; i < c->nfixed && c->fixed[i] != h; i++)
        ;
    if (i == c->nfixed) {
        keel_rc rc;

        /* More texts than expected: run the rest unprepared. */
        if (c->nfixed == DB_FIXED_MAX)
            return db_exec_text(c, sql, nparams, params, res, err);
        hash_name(h, name);
        t0 = time_mono();
        rc = check(c, PQprepare(c->pg, name, sql, nparams, NULL), NULL, err, t0,
                   NULL);
        if (rc != KEEL_OK && strcmp(c->last_sqlstate, "42P05") != 0)
            return rc;
        c->fixed[c->nfixed++] = h;
    }
    hash_name(h, name);
    t0 = time_mono();
    r = PQexecPrepared(c->pg, name, nparams, params, NULL, NULL, 0);
    return check(c, r, res, err, t0, sql);
}

keel_rc
db_exec_sql(db_conn_t *c, const char *sql, db_error_t *err)
{
    double t0 = time_mono();
    PGresult *r = PQexec(c->pg, sql);

    return check(c, r, NULL, err, t0, sql);
}

keel_rc
db_transaction(db_conn_t *c, keel_rc (*fn)(db_conn_t *, void *), void *arg,
               int attempts, db_error_t *err)
{
    keel_rc rc = KEEL_EINTERNAL;

    for (int attempt = 1; attempt <= attempts; attempt++) {
        c->last_sqlstate[0] = '\0';
        rc = db_exec_sql(c, "BEGIN", err);
        if (rc != KEEL_OK)
            return rc;
        rc = fn(c, arg);
        /* COMMIT in a failed transaction "succeeds" as a ROLLBACK: a fn
         * that swallowed an error must not look committed. */
        if (rc == KEEL_OK && PQtransactionStatus(c->pg) == PQTRANS_INERROR)
            rc = KEEL_EINTERNAL;
        if (rc == KEEL_OK)
            rc = db_exec_sql(c, "COMMIT", err);
        if (rc == KEEL_OK)
            return KEEL_OK;
        if (PQtransactionStatus(c->pg) != PQTRANS_IDLE)
            PQclear(PQexec(c->pg, "ROLLBACK"));
        if (!db_sqlstate_retryable(c->last_sqlstate) || attempt == attempts)
            break;
        {
            double d = db_retry_delay(attempt);
            struct timespec ts = { (time_t)d, (long)((d - (long)d) * 1e9) };
            nanosleep(&ts, NULL);
        }
    }
    if (err && c->last_sqlstate[0] != '\0' && err->sqlstate[0] == '\0')
        memcpy(err->sqlstate, c->last_sqlstate, sizeof(err->sqlstate));
    return rc;
}

keel_rc
db_ping(db_conn_t *c, double *ms, db_error_t *err)
{
    DB_STMT(st_ping, 0, "SELECT 1");
    double t0 = time_mono();
    keel_rc rc = db_exec(c, &st_ping, NULL, NULL, err);

    *ms = (time_mono() - t0) * 1000.0;
    return rc;
}

int
db_constraint_field(const char *constraint, const char *table, char *out,
                    size_t len)
{
    static const char *const suffixes[] = { "_key", "_fkey", "_check" };
    size_t tlen = strlen(table), clen = strlen(constraint), flen;

    if (tlen == 0 || clen <= tlen + 1 ||
        strncmp(constraint, table, tlen) != 0 || constraint[tlen] != '_')
        return -1;
    for (size_t i = 0; i < KEEL_ARRAY_LEN(suffixes); i++) {
        size_t slen = strlen(suffixes[i]);
        if (clen > tlen + 1 + slen &&
            strcmp(constraint + clen - slen, suffixes[i]) == 0) {
            flen = clen - tlen - 1 - slen;
            if (flen + 1 > len)
                return -1;
            memcpy(out, constraint + tlen + 1, flen);
            out[flen] = '\0';
            return 0;
        }
    }
    return -1;
}

keel_rc
db_why_unchanged(db_conn_t *c, const db_stmt_t *st, const char *id,
                 long long if_match, db_error_t *err)
{
    const char *p[1] = { id };
    PGresult *res;
    long long current;
    keel_rc rc = db_exec(c, st, p, &res, err);

    if (rc != KEEL_OK)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return KEEL_ENOTFOUND;
    }
    current = atoll(PQgetvalue(res, 0, 0));
    PQclear(res);
    return if_match >= 0 && if_match != current ? KEEL_EPRECOND : KEEL_EVERSION;
}

const char *
db_opt_int(long long v, char *buf, size_t len)
{
    if (v < 0)
        return NULL;
    snprintf(buf, len, "%lld", v);
    return buf;
}

keel_rc
db_guarded_delete(db_conn_t *c, const db_stmt_t *del, const db_stmt_t *ver,
                  const char *id, long long if_match, db_error_t *err)
{
    char im[24];
    const char *p[2] = { id, db_opt_int(if_match, im, sizeof(im)) };
    PGresult *res;
    int n;
    keel_rc rc = db_exec(c, del, p, &res, err);

    if (rc != KEEL_OK)
        return rc;
    n = PQntuples(res);
    PQclear(res);
    if (n > 0)
        return KEEL_OK;
    rc = db_why_unchanged(c, ver, id, if_match, err);
    return rc == KEEL_EVERSION ? KEEL_EPRECOND : rc;
}

keel_rc
db_transaction_out(db_conn_t *c, keel_rc (*fn)(db_conn_t *, void *), void *arg,
                   struct json_object **out, db_error_t *err)
{
    keel_rc rc;

    *out = NULL;
    rc = db_transaction(c, fn, arg, 3, err);
    if (rc != KEEL_OK) {
        json_object_put(*out);
        *out = NULL;
    }
    return rc;
}
