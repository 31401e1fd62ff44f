/*
 * idempotency.h - the Idempotency-Key of creates (API.md 1.6), kept in
 * PostgreSQL (table idempotency_keys, migration 0008).
 *
 * A create that carries a key runs in one transaction that first calls
 * idem_begin() and, once it has its answer, idem_save().  The key is held
 * by a transaction-scoped advisory lock for as long as that transaction
 * runs, so a second request with the key, on any worker, is told at once
 * that the first is still running (409) instead of doing the work again;
 * and the stored answer commits with the work it describes, so a worker
 * that dies half-way leaves neither, and the retry does the work.  Only
 * answers that changed something are kept: a failed create (409 for want
 * of stock, say) rolled back and may simply be tried again.
 */
#ifndef KEEL_STORE_IDEMPOTENCY_H
#define KEEL_STORE_IDEMPOTENCY_H

#include "core/util.h"
#include "db/db.h"

/* How long an answer is replayed. */
#define IDEM_TTL_HOURS 24
/* The job type that deletes expired keys, and how often it is queued. */
#define IDEM_PURGE_JOB   "idempotency.purge"
#define IDEM_PURGE_EVERY 3600.0

typedef struct idem_request {
    const char *user_id; /* the caller's public id */
    const char *key;     /* the header's value: 1-255 printable ASCII */
    /* SHA-256 of method, path and body (idem_request_hash). */
    char hash[SHA256_BYTEA_LEN];
} idem_request_t;

/* A create's answer, as sent and as replayed. */
typedef struct idem_answer {
    int status;
    char *location; /* NULL when none; malloc'd */
    char *etag;     /* NULL when none; malloc'd */
    char *body;     /* malloc'd */
    size_t body_len;
} idem_answer_t;

/* 1 when `key` is 1-255 printable ASCII characters (0x20-0x7e). */
int idem_key_valid(const char *key);

/* Fill r->hash from the request's method, path and body. */
void idem_request_hash(idem_request_t *r, const char *method, const char *path,
                       const char *body, size_t body_len);

/*
 * In the create's transaction, before its work: KEEL_ECONFLICT when a
 * request with this key is running now; KEEL_EIDEMPOTENCY when the key
 * answered a different request; KEEL_OK and *replay = 1 with *ans filled
 * (idem_answer_free) when it answered this one; KEEL_OK and *replay = 0
 * when the create should go on (the key is then held to the end of the
 * transaction).
 */
keel_rc idem_begin(db_conn_t *c, const idem_request_t *r, idem_answer_t *ans,
                   int *replay, db_error_t *err);

/* In the same transaction, after the work: keep its answer. */
keel_rc idem_save(db_conn_t *c, const idem_request_t *r,
                  const idem_answer_t *ans, db_error_t *err);

void idem_answer_free(idem_answer_t *a);

/*
 * Delete expired keys, in batches, on an idle connection: *deleted gets
 * how many (may be NULL).
 */
keel_rc idem_purge(db_conn_t *c, long long *deleted, db_error_t *err);

struct job;
/* The IDEM_PURGE_JOB job type: idem_purge() on the job's connection. */
keel_rc idem_purge_job(const keel_config_t *cfg, const struct job *job,
                       char *why, size_t whylen);

#endif
