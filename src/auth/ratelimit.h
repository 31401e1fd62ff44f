/*
 * ratelimit.h - request rate limits that hold for the whole server
 * (API.md 1.7): one bucket per (policy class, client) in a fixed-size
 * table in shared memory, mapped by the master before it forks so that
 * every worker process and thread takes from the same buckets.
 *
 * Each bucket is one 64-bit word updated by compare-and-swap: the
 * generic cell rate algorithm (GCRA) needs only the bucket's "theoretical
 * arrival time", and the word holds it beside a tag of the key.  There is
 * no lock, so a worker killed in the middle of an update leaves nothing
 * held: its CAS either happened or did not.  A bucket that has refilled is
 * as good as no bucket, so its slot may be taken by another key; when
 * every slot a key may use is busy, the one closest to full is evicted.
 * Memory is table_size × 8 bytes, whatever the number of clients.
 *
 * The store behind the limiter is an interface (rl_store_t): the shared
 * table is the one built and tested here; a store that keeps buckets
 * elsewhere (Redis, for limits across hosts, DESIGN.md 6) plugs in with
 * the same take() and the same algorithm.
 */
#ifndef KEEL_AUTH_RATELIMIT_H
#define KEEL_AUTH_RATELIMIT_H

#include "core/config.h"
#include "core/error.h"

#include <stddef.h>

/* A limit: `limit` requests per `window` seconds (limit 0: none). */
typedef keel_rate_t rl_policy_t;

/* What one take() decided. */
typedef struct rl_result {
    int allowed;
    long long limit;
    long long remaining; /* requests left now */
    double reset_after;  /* seconds until the bucket is full again */
    double retry_after;  /* refused: seconds until one is allowed */
} rl_result_t;

typedef struct rl_store {
    /* Take one request for `key` (any bytes) under `p` at `now_us`
     * (CLOCK_MONOTONIC microseconds). */
    void (*take)(void *self, const void *key, size_t keylen,
                 const rl_policy_t *p, long long now_us, rl_result_t *out);
    void *self;
} rl_store_t;

/* ---- the shared-memory table ------------------------------------------- */

typedef struct rl_table rl_table_t;

/* The most slots a table may have (a power of two: 2^24, 128 MiB). */
#define RL_SLOTS_MAX (1u << 24)
/* Slots a key may use: its home slot and the next ones. */
#define RL_PROBES 8

/*
 * Map a table of `slots` (rounded up to a power of two, at least
 * RL_PROBES) shared with processes forked after this call.  NULL when
 * the mapping fails.
 */
rl_table_t *rl_table_create(size_t slots);
void rl_table_destroy(rl_table_t *t);
size_t rl_table_slots(const rl_table_t *t);
/* The store interface of `t`. */
rl_store_t rl_table_store(rl_table_t *t);

/* ---- the process's limiter ------------------------------------------------
 */

/*
 * The server's table: the master calls this before forking (every worker
 * then shares it); elsewhere the first use makes one for the process.
 * Returns 0, or -1 when no table could be mapped (limits then fail open,
 * logged).  A second call keeps the first table.
 */
int ratelimit_init(size_t slots);

/*
 * Take one request from the bucket of (`cls`, `who`) under `p`: the key
 * is the class name and the client's identity ("u:<user id>",
 * "ip:<address>", "email:<address>").  Fills *out; a policy with limit 0
 * always allows.
 */
void ratelimit_take(const char *cls, const char *who, const rl_policy_t *p,
                    rl_result_t *out);

/* CLOCK_MONOTONIC in microseconds (the same clock in every process). */
long long ratelimit_now_us(void);

#endif
