/* pool.c - per-worker pool of libpq connections (made after fork, lazily). */
#include "keel-build.h"

#include "db/db.h"
#include "db/internal.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/util.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Back-off after a failed connect: no new attempt (503 at once) for a
 * while, so a dead database costs a request no connect_timeout each. */
#define DOWN_FIRST 0.25
/*
 * At most a second between tries while the database is down, so that
 * every worker is back within a second of its return (tests/reliability/
 * fault.sh allows 2 s); a failed try costs one request its connect time.
 */
#define DOWN_MAX 1.0

struct db_pool {
    pthread_mutex_t lock;
    pthread_cond_t freed; /* a connection came back */
    db_conn_t *conns;
    int size;
    char *url;
    char *appname;
    double acquire_timeout, connect_timeout, max_lifetime;
    double statement_timeout, idle_tx_timeout;
    int prepared;
    double down_until; /* no connect attempts before this (time_mono) */
    double down_for;   /* the current back-off */
};

db_pool_t *
pool_create(const keel_config_t *cfg, int size)
{
    db_pool_t *p = calloc(1, sizeof(*p));
    pthread_condattr_t ca;

    if (p == NULL)
        return NULL;
    p->size = size > 0 ? size : 1;
    p->conns = calloc((size_t)p->size, sizeof(*p->conns));
    p->url = strdup(cfg->db_url);
    p->appname = strdup(cfg->db_application_name);
    if (p->conns == NULL || p->url == NULL || p->appname == NULL) {
        pool_destroy(p);
        return NULL;
    }
    for (int i = 0; i < p->size; i++)
        p->conns[i].pool = p;
    p->acquire_timeout = cfg->db_acquire_timeout;
    p->connect_timeout = cfg->db_connect_timeout;
    p->max_lifetime = cfg->db_max_lifetime;
    p->statement_timeout = cfg->db_statement_timeout;
    p->idle_tx_timeout = cfg->db_idle_tx_timeout;
    p->prepared = cfg->db_prepared;
    pthread_mutex_init(&p->lock, NULL);
    /* Waits are measured on the monotonic clock, immune to clock steps. */
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->freed, &ca);
    pthread_condattr_destroy(&ca);
    return p;
}

static void
conn_close(db_conn_t *c)
{
    if (c->pg != NULL)
        PQfinish(c->pg);
    c->pg = NULL;
    c->nprepared = 0;
    c->nfixed = 0;
}

void
pool_destroy(db_pool_t *p)
{
    if (p == NULL)
        return;
    for (int i = 0; p->conns && i < p->size; i++) {
        conn_close(&p->conns[i]);
        free(p->conns[i].prepared);
    }
    free(p->conns);
    free(p->url);
    free(p->appname);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->freed);
    free(p);
}

PGconn *
db_pg(db_conn_t *c)
{
    return c->pg;
}

/* Server notices ("relation already exists, skipping") are not errors
 * and must not reach stderr, which may be the web server's log. */
static void
ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* Open c->pg and set the session up.  KEEL_OK or KEEL_EUNAVAIL. */
static keel_rc
conn_open(db_pool_t *p, db_conn_t *c, db_error_t *err)
{
    char timeout[16], st[32], idle[32], user_timeout[32];
    const char *keys[12], *vals[12];
    const char *params[2];
    PGresult *res;
    int n = 0;

    /* connect_timeout is whole seconds, at least 2 (libpq). */
    snprintf(timeout, sizeof(timeout), "%d",
             p->connect_timeout < 2 ? 2 : (int)p->connect_timeout);
    if (p->url[0] != '\0') {
        keys[n] = "dbname"; /* expanded as a conninfo string or URI */
        vals[n++] = p->url;
    }
    keys[n] = "application_name";
    vals[n++] = p->appname;
    keys[n] = "connect_timeout";
    vals[n++] = timeout;
    /*
     * A dead peer must not hold a thread for the OS defaults (hours of
     * keepalive silence, minutes of retransmission): probe after 5 s idle
     * and give up on unacknowledged data a little after statement_timeout.
     * Ignored on unix sockets, which cannot stall this way.
     */
    snprintf(
        user_timeout, sizeof(user_timeout), "%lld",
        (long long)((p->statement_timeout > 0 ? p->statement_timeout : 30.0) *
                        1000.0 +
                    5000.0));
    keys[n] = "keepalives";
    vals[n++] = "1";
    keys[n] = "keepalives_idle";
    vals[n++] = "5";
    keys[n] = "keepalives_interval";
    vals[n++] = "2";
    keys[n] = "keepalives_count";
    vals[n++] = "3";
    keys[n] = "tcp_user_timeout";
    vals[n++] = user_timeout;
    keys[n] = NULL;
    vals[n] = NULL;
    c->pg = PQconnectdbParams(keys, vals, 1);
    if (c->pg == NULL || PQstatus(c->pg) != CONNECTION_OK) {
        db_error_set(err, "08006", NULL,
                     c->pg ? PQerrorMessage(c->pg) : "out of memory");
        conn_close(c);
        return KEEL_EUNAVAIL;
    }
    PQsetNoticeProcessor(c->pg, ignore_notice, NULL);
    /*
     * Session limits, set with parameters (SET takes none).  Through
     * PgBouncer in transaction mode set them on the role instead.
     */
    snprintf(st, sizeof(st), "%lld", (long long)(p->statement_timeout * 1000));
    snprintf(idle, sizeof(idle), "%lld",
             (long long)(p->idle_tx_timeout * 1000));
    params[0] = st;
    params[1] = idle;
    res = PQexecParams(
        c->pg,
        "SELECT set_config('statement_timeout', $1, false), "
        "set_config('idle_in_transaction_session_timeout', $2, false)",
        2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        db_error_from(err, res, c->pg);
        PQclear(res);
        conn_close(c);
        return KEEL_EUNAVAIL;
    }
    PQclear(res);
    c->created = time_mono();
    c->nprepared = 0;
    c->nfixed = 0;
    c->last_sqlstate[0] = '\0';
    return KEEL_OK;
}

/*
 * 0 when an idle session is known dead.  Reads whatever is waiting without
 * blocking: the server's FATAL message comes first and the EOF after it,
 * possibly in separate reads.
 */
static int
conn_alive(PGconn *pg)
{
    for (int i = 0; i < 8; i++) {
        struct pollfd pfd = { PQsocket(pg), POLLIN, 0 };
        if (PQstatus(pg) != CONNECTION_OK)
            return 0;
        if (poll(&pfd, 1, 0) <= 0)
            return 1; /* nothing waiting */
        if (!PQconsumeInput(pg))
            return 0;
    }
    return PQstatus(pg) == CONNECTION_OK;
}

keel_rc
pool_acquire(db_pool_t *p, db_conn_t **out, db_error_t *err)
{
    struct timespec until;
    double t0 = time_mono(), deadline = t0 + p->acquire_timeout;
    db_conn_t *c = NULL;
    keel_rc rc;

    *out = NULL;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += (time_t)p->acquire_timeout;
    until.tv_nsec +=
        (long)((p->acquire_timeout - (double)(long)p->acquire_timeout) * 1e9);
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&p->lock);
    for (;;) {
        /* A connected free one first, else any free slot. */
        for (int i = 0; i < p->size && c == NULL; i++)
            if (!p->conns[i].in_use && p->conns[i].pg != NULL)
                c = &p->conns[i];
        for (int i = 0; i < p->size && c == NULL; i++)
            if (!p->conns[i].in_use)
                c = &p->conns[i];
        if (c != NULL)
            break;
        if (time_mono() >= deadline ||
            pthread_cond_timedwait(&p->freed, &p->lock, &until) == ETIMEDOUT) {
            pthread_mutex_unlock(&p->lock);
            metrics_pool_wait(time_mono() - t0);
            db_error_set(err, "53300", NULL,
                         "no database connection free within "
                         "pool_acquire_timeout");
            return KEEL_EUNAVAIL;
        }
    }
    c->in_use = 1;
    metrics_pool_wait(time_mono() - t0);
    if (c->pg == NULL && time_mono() < p->down_until) {
        c->in_use = 0;
        /* Pass the slot on: the next waiter gets its 503 at once too. */
        pthread_cond_signal(&p->freed);
        pthread_mutex_unlock(&p->lock);
        db_error_set(err, "08006", NULL,
                     "database unreachable (backing off after a failure)");
        return KEEL_EUNAVAIL;
    }
    pthread_mutex_unlock(&p->lock);

    /*
     * An idle session the server has ended (restart, admin shutdown) has a
     * FATAL message and EOF waiting in its socket: read them without
     * blocking, so that a stale connection is replaced here instead of
     * failing the request's first statement.
     */
    if (c->pg != NULL && !conn_alive(c->pg))
        conn_close(c);
    if (c->pg == NULL) {
        rc = conn_open(p, c, err);
        pthread_mutex_lock(&p->lock);
        if (rc != KEEL_OK) {
            p->down_for = p->down_for < DOWN_FIRST     ? DOWN_FIRST
                          : p->down_for * 2 > DOWN_MAX ? DOWN_MAX
                                                       : p->down_for * 2;
            p->down_until = time_mono() + p->down_for;
            c->in_use = 0;
            pthread_cond_signal(&p->freed);
            pthread_mutex_unlock(&p->lock);
            log_printf(KLOG_ERROR,
                       "database connect failed (next try in "
                       "%.2fs): %s",
                       p->down_for, err->message);
            return rc;
        }
        p->down_for = 0;
        p->down_until = 0;
        pthread_mutex_unlock(&p->lock);
    }
    *out = c;
    return KEEL_OK;
}

void
pool_release(db_pool_t *p, db_conn_t *c)
{
    if (c == NULL)
        return;
    if (c->pg != NULL) {
        PGTransactionStatusType ts = PQtransactionStatus(c->pg);
        /* Pool hygiene: the next user gets an idle session or none. */
        if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR) {
            PQclear(PQexec(c->pg, "ROLLBACK"));
            ts = PQtransactionStatus(c->pg);
        }
        /* 25006: this server turned read-only (a failover): reconnect. */
        if (PQstatus(c->pg) != CONNECTION_OK || ts != PQTRANS_IDLE ||
            strcmp(c->last_sqlstate, "25006") == 0 ||
            (p->max_lifetime > 0 && time_mono() - c->created > p->max_lifetime))
            conn_close(c);
    }
    pthread_mutex_lock(&p->lock);
    c->in_use = 0;
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->lock);
}

void
pool_stats(db_pool_t *p, pool_stats_t *out)
{
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&p->lock);
    out->size = p->size;
    for (int i = 0; i < p->size; i++) {
        if (p->conns[i].in_use)
            out->busy++;
        else
            out->idle++;
        if (p->conns[i].pg != NULL)
            out->connected++;
    }
    pthread_mutex_unlock(&p->lock);
}

int
pool_prepared(const db_pool_t *p)
{
    return p->prepared;
}
