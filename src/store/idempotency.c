/* idempotency.c - stored answers of creates (parameterized SQL only). */
#include "keel-build.h"

#include "store/idempotency.h"
#include "jobs/queue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STR_(x) #x
#define STR(x)  STR_(x)

/* The key's lock: one 64-bit hash of a label, the user and the key (which
 * holds no newline), so that no other advisory lock of keel's shares it. */
DB_STMT(st_idem_lock, 2,
        "SELECT pg_try_advisory_xact_lock(hashtextextended("
        "'keel-idempotency' || chr(10) || $1 || chr(10) || $2, 0))");
DB_STMT(st_idem_find, 3,
        "SELECT k.request_hash = $3::bytea, k.status, k.location, k.etag, "
        "k.body FROM idempotency_keys k "
        "WHERE k.user_id = (SELECT u.id FROM users u "
        "WHERE u.public_id = $1::uuid) AND k.key = $2 "
        "AND k.expires_at > now()");
/* A row still there for the key has expired (idem_begin found none live):
 * the new answer takes its place. */
DB_STMT(
    st_idem_save, 7,
    "INSERT INTO idempotency_keys (user_id, key, request_hash, status, "
    "location, etag, body, expires_at) "
    "SELECT u.id, $2, $3::bytea, $4::smallint, $5, $6, $7, "
    "now() + interval '" STR(
        IDEM_TTL_HOURS) " hours' "
                        "FROM users u WHERE u.public_id = $1::uuid "
                        "ON CONFLICT (user_id, key) DO UPDATE SET "
                        "request_hash = EXCLUDED.request_hash, status = "
                        "EXCLUDED.status, "
                        "location = EXCLUDED.location, etag = EXCLUDED.etag, "
                        "body = EXCLUDED.body, created_at = now(), "
                        "expires_at = EXCLUDED.expires_at");
#define PURGE_BATCH 5000
DB_STMT(st_idem_purge, 0,
        "DELETE FROM idempotency_keys WHERE ctid = ANY (ARRAY("
        "SELECT ctid FROM idempotency_keys WHERE expires_at <= now() "
        "LIMIT " STR(PURGE_BATCH) "))");
/* The purge's own finished jobs, one an hour, are kept for a day. */
DB_STMT(st_idem_purge_jobs, 0,
        "DELETE FROM jobs WHERE type = '" IDEM_PURGE_JOB "' "
        "AND status = 'succeeded' AND updated_at < now() - interval '1 day'");

int
idem_key_valid(const char *key)
{
    size_t n = 0;

    if (key == NULL)
        return 0;
    for (; key[n] != '\0'; n++)
        if ((unsigned char)key[n] < 0x20 || (unsigned char)key[n] > 0x7e)
            return 0;
    return n >= 1 && n <= 255;
}

void
idem_request_hash(idem_request_t *r, const char *method, const char *path,
                  const char *body, size_t body_len)
{
    size_t ml = strlen(method), pl = strlen(path);
    size_t n = ml + 1 + pl + 1 + body_len;
    char *buf = malloc(n ? n : 1);

    if (buf == NULL) {
        /* Fails closed: a hash no request has. */
        memset(r->hash, 0, sizeof(r->hash));
        return;
    }
    memcpy(buf, method, ml);
    buf[ml] = ' ';
    memcpy(buf + ml + 1, path, pl);
    buf[ml + 1 + pl] = '\n';
    if (body_len > 0)
        memcpy(buf + ml + pl + 2, body, body_len);
    sha256_bytea(buf, n, r->hash);
    free(buf);
}

static char *
opt_dup(PGresult *res, int col)
{
    return PQgetisnull(res, 0, col) ? NULL : strdup(PQgetvalue(res, 0, col));
}

keel_rc
idem_begin(db_conn_t *c, const idem_request_t *r, idem_answer_t *ans,
           int *replay, db_error_t *err)
{
    const char *lock[2] = { r->user_id, r->key };
    const char *find[3] = { r->user_id, r->key, r->hash };
    PGresult *res;
    int held, same;
    keel_rc rc;

    memset(ans, 0, sizeof(*ans));
    *replay = 0;
    rc = db_exec(c, &st_idem_lock, lock, &res, err);
    if (rc != KEEL_OK)
        return rc;
    held = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    /* Another transaction holds it: the first request is still running. */
    if (!held)
        return KEEL_ECONFLICT;
    /* A committed answer is visible now: the lock is released only after
     * its holder's commit. */
    rc = db_exec(c, &st_idem_find, find, &res, err);
    if (rc != KEEL_OK)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return KEEL_OK;
    }
    same = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    if (!same) {
        PQclear(res);
        return KEEL_EIDEMPOTENCY;
    }
    ans->status = atoi(PQgetvalue(res, 0, 1));
    ans->location = opt_dup(res, 2);
    ans->etag = opt_dup(res, 3);
    ans->body = strdup(PQgetvalue(res, 0, 4));
    ans->body_len = (size_t)PQgetlength(res, 0, 4);
    PQclear(res);
    if (ans->body == NULL) {
        idem_answer_free(ans);
        snprintf(err->message, sizeof(err->message), "out of memory");
        return KEEL_EINTERNAL;
    }
    *replay = 1;
    return KEEL_OK;
}

keel_rc
idem_save(db_conn_t *c, const idem_request_t *r, const idem_answer_t *ans,
          db_error_t *err)
{
    char status[8];
    const char *p[7] = { r->user_id,    r->key,    r->hash,  status,
                         ans->location, ans->etag, ans->body };

    snprintf(status, sizeof(status), "%d", ans->status);
    return db_exec(c, &st_idem_save, p, NULL, err);
}

void
idem_answer_free(idem_answer_t *a)
{
    free(a->location);
    free(a->etag);
    free(a->body);
    memset(a, 0, sizeof(*a));
}

keel_rc
idem_purge(db_conn_t *c, long long *deleted, db_error_t *err)
{
    long long total = 0;
    keel_rc rc = KEEL_OK;

    /* Bounded: a backlog larger than this waits for the next run. */
    for (int i = 0; i < 200; i++) {
        PGresult *res;
        long long n;

        rc = db_exec(c, &st_idem_purge, NULL, &res, err);
        if (rc != KEEL_OK)
            break;
        n = atoll(PQcmdTuples(res));
        PQclear(res);
        total += n;
        if (n < PURGE_BATCH)
            break;
    }
    if (rc == KEEL_OK)
        rc = db_exec(c, &st_idem_purge_jobs, NULL, NULL, err);
    if (deleted != NULL)
        *deleted = total;
    return rc;
}

keel_rc
idem_purge_job(const keel_config_t *cfg, const job_t *job, char *why,
               size_t whylen)
{
    long long n = 0;
    db_error_t err;
    keel_rc rc;

    (void)cfg;
    if (job->db == NULL) {
        snprintf(why, whylen, "no database connection");
        return KEEL_EUNAVAIL;
    }
    rc = idem_purge(job->db, &n, &err);
    if (rc != KEEL_OK)
        snprintf(why, whylen, "%s", err.message);
    return rc;
}
