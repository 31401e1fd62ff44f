/* ratelimit.c - GCRA buckets in a lock-free shared-memory table. */
#include "keel-build.h"

#include "auth/ratelimit.h"
#include "core/log.h"
#include "core/util.h"

#include <limits.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

/*
 * A slot: 0 when empty, else the key's 24-bit tag over 40 bits of its
 * theoretical arrival time (TAT) in microseconds since the table was made.
 * 40 bits last 12.7 days and then wrap: a TAT is read back as the time
 * nearest to now with those low bits, and one more than a window ahead of
 * now (which no live bucket has) counts as refilled.
 */
#define TAT_BITS  40
#define TAT_MASK  ((UINT64_C(1) << TAT_BITS) - 1)
#define TAG_OF(w) ((w) >> TAT_BITS)
/* Compare-and-swap rounds before a contended take lets the request by. */
#define MAX_ROUNDS 64

struct rl_table {
    long long base_us; /* ratelimit_now_us() when made */
    size_t mask;       /* slots - 1 */
    size_t bytes;      /* of the mapping */
    _Atomic uint64_t slot[];
};

long long
ratelimit_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

rl_table_t *
rl_table_create(size_t slots)
{
    size_t n = RL_PROBES, bytes;
    rl_table_t *t;

    while (n < slots && n < RL_SLOTS_MAX)
        n <<= 1;
    bytes = sizeof(rl_table_t) + n * sizeof(uint64_t);
    t = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
             -1, 0);
    if (t == MAP_FAILED)
        return NULL;
    /* Anonymous pages are zero: every slot starts empty. */
    t->base_us = ratelimit_now_us();
    t->mask = n - 1;
    t->bytes = bytes;
    return t;
}

void
rl_table_destroy(rl_table_t *t)
{
    if (t != NULL)
        munmap(t, t->bytes);
}

size_t
rl_table_slots(const rl_table_t *t)
{
    return t->mask + 1;
}

/* The TAT a slot's word holds, as microseconds on the table's clock. */
static long long
tat_of(uint64_t w, long long now)
{
    long long d = (long long)((w - (uint64_t)now) & TAT_MASK);

    if (d >= (1LL << (TAT_BITS - 1)))
        d -= 1LL << TAT_BITS;
    return now + d;
}

/*
 * GCRA: one request at `now` on a bucket whose TAT is `tat`, with an
 * emission interval of `T` and a window of `W` microseconds (the bucket
 * holds W / T requests).  1 and *next (the new TAT) when allowed.
 */
static int
gcra(long long tat, long long now, long long T, long long W, long long limit,
     rl_result_t *out, long long *next)
{
    long long t = tat > now ? tat : now;
    long long nt = t + T;

    out->limit = limit;
    if (nt - now > W) {
        out->allowed = 0;
        out->remaining = 0;
        out->retry_after = (double)(nt - W - now) / 1e6;
        out->reset_after = (double)(t - now) / 1e6;
        return 0;
    }
    out->allowed = 1;
    out->remaining = (W - (nt - now)) / T;
    if (out->remaining > limit - 1)
        out->remaining = limit - 1;
    out->retry_after = 0;
    out->reset_after = (double)(nt - now) / 1e6;
    *next = nt;
    return 1;
}

/* 64 bits of SHA-256 over the process's secret and the key: keys chosen
 * by clients (emails, addresses) cannot be made to collide on purpose. */
static unsigned char seed[16];

static uint64_t
key_hash(const void *key, size_t len)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    uint64_t h = 0;

    if (c != NULL && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
        EVP_DigestUpdate(c, seed, sizeof(seed)) == 1 &&
        EVP_DigestUpdate(c, key, len) == 1 &&
        EVP_DigestFinal_ex(c, md, &n) == 1)
        memcpy(&h, md, sizeof(h));
    EVP_MD_CTX_free(c);
    return h;
}

static void
table_take(void *self, const void *key, size_t keylen, const rl_policy_t *p,
           long long now_us, rl_result_t *out)
{
    rl_table_t *t = self;
    uint64_t h = key_hash(key, keylen), tag = h >> TAT_BITS;
    long long now = now_us - t->base_us;
    long long W = (long long)(p->window * 1e6), T, next;

    memset(out, 0, sizeof(*out));
    if (tag == 0)
        tag = 1; /* 0 is an empty slot */
    if (now < 0)
        now = 0;
    T = p->limit > 0 ? W / p->limit : W;
    if (T < 1)
        T = 1;
    if (W < T)
        W = T;
    for (int round = 0; round < MAX_ROUNDS; round++) {
        size_t home = (size_t)h & t->mask, target = SIZE_MAX;
        uint64_t expect = 0;
        long long oldest = LLONG_MAX;
        int found = 0;

        for (size_t i = 0; i < RL_PROBES && !found; i++) {
            size_t s = (home + i) & t->mask;
            uint64_t w = atomic_load(&t->slot[s]);
            long long tat = w ? tat_of(w, now) : 0;

            if (w != 0 && TAG_OF(w) == tag) {
                /* Ours.  A TAT beyond a window ahead is a wrapped one. */
                if (tat - now > W)
                    tat = now;
                target = s;
                expect = w;
                found = 1;
                if (!gcra(tat, now, T, W, p->limit, out, &next))
                    return; /* refused: the bucket does not change */
            } else if (w == 0 || tat <= now) {
                /* Empty or refilled: as good as no bucket. */
                if (oldest != LLONG_MIN) {
                    target = s;
                    expect = w;
                    oldest = LLONG_MIN;
                }
            } else if (oldest != LLONG_MIN && tat < oldest) {
                /* Busy: the one nearest to full is the one to evict. */
                target = s;
                expect = w;
                oldest = tat;
            }
        }
        if (!found)
            gcra(now, now, T, W, p->limit, out, &next);
        if (atomic_compare_exchange_strong(&t->slot[target], &expect,
                                           (tag << TAT_BITS) |
                                               ((uint64_t)next & TAT_MASK)))
            return;
        /* Another process changed the slot meanwhile: look again. */
    }
    /* Pathological contention on one slot: let the request by. */
    out->allowed = 1;
    out->limit = p->limit;
    out->remaining = 0;
}

rl_store_t
rl_table_store(rl_table_t *t)
{
    rl_store_t s = { table_take, t };

    return s;
}

/* ---- the process's limiter --------------------------------------------- */

static rl_table_t *table;
static rl_store_t store;
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;

int
ratelimit_init(size_t slots)
{
    int rc = 0;

    pthread_mutex_lock(&init_lock);
    if (table == NULL) {
        random_bytes(seed, sizeof(seed));
        table = rl_table_create(slots);
        if (table != NULL)
            store = rl_table_store(table);
        else
            rc = -1;
    }
    pthread_mutex_unlock(&init_lock);
    return rc;
}

void
ratelimit_take(const char *cls, const char *who, const rl_policy_t *p,
               rl_result_t *out)
{
    size_t cl = strlen(cls), wl = strlen(who);
    char buf[320], *key = cl + wl + 1 <= sizeof(buf) ? buf : NULL;

    memset(out, 0, sizeof(*out));
    out->allowed = 1;
    out->limit = p->limit;
    if (p->limit <= 0 || p->window <= 0)
        return;
    if (table == NULL && ratelimit_init(65536) != 0) {
        log_printf(KLOG_ERROR, "rate limiter: no table; limits are off");
        return;
    }
    if (key == NULL) {
        key = malloc(cl + wl + 1);
        if (key == NULL)
            return;
    }
    /* "class" NUL "who": no two (class, who) pairs share a key. */
    memcpy(key, cls, cl);
    key[cl] = '\0';
    memcpy(key + cl + 1, who, wl);
    store.take(store.self, key, cl + 1 + wl, p, ratelimit_now_us(), out);
    if (key != buf)
        free(key);
}
