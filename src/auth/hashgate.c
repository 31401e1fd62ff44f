/* hashgate.c - shared-memory slots capping concurrent password hashing. */
#include "keel-build.h"

#include "auth/hashgate.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

typedef struct gate {
    _Atomic int limit;
    _Atomic pid_t owner[HASHGATE_MAX]; /* 0 when free */
} gate_t;

static gate_t *gate;
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;

int
hashgate_init(int limit)
{
    int rc = 0;

    if (limit <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        limit = n > 0 ? (int)n : 1;
    }
    if (limit > HASHGATE_MAX)
        limit = HASHGATE_MAX;
    pthread_mutex_lock(&init_lock);
    if (gate == NULL) {
        void *m = mmap(NULL, sizeof(gate_t), PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
            rc = -1;
        else
            gate = m; /* zero pages: every slot free */
    }
    if (gate != NULL)
        atomic_store(&gate->limit, limit);
    pthread_mutex_unlock(&init_lock);
    return rc;
}

int
hashgate_limit(void)
{
    return gate ? atomic_load(&gate->limit) : 0;
}

/* One pass over the slots in use: a free one, else -1. */
static int
try_take(pid_t me, int reclaim)
{
    int n = atomic_load(&gate->limit);

    for (int i = 0; i < n; i++) {
        pid_t want = 0;
        if (atomic_compare_exchange_strong(&gate->owner[i], &want, me))
            return i;
    }
    if (!reclaim)
        return -1;
    /* Every slot taken: any whose owner no longer exists is stale (the
     * master frees them on reaping too; this covers a master that has
     * not got there yet and slots beyond a lowered limit). */
    for (int i = 0; i < HASHGATE_MAX; i++) {
        pid_t owner = atomic_load(&gate->owner[i]);
        if (owner != 0 && owner != me && kill(owner, 0) == -1 && errno == ESRCH)
            atomic_compare_exchange_strong(&gate->owner[i], &owner, 0);
    }
    return try_take(me, 0);
}

int
hashgate_enter(double wait)
{
    pid_t me = getpid();
    struct timespec pause = { 0, 1000000 }; /* 1 ms, doubling to 8 ms */
    double waited = 0;
    int slot;

    if (gate == NULL)
        return HASHGATE_OPEN;
    while ((slot = try_take(me, 1)) < 0) {
        if (waited >= wait)
            return -1;
        nanosleep(&pause, NULL);
        waited += (double)pause.tv_nsec / 1e9;
        if (pause.tv_nsec < 8000000)
            pause.tv_nsec *= 2;
    }
    return slot;
}

void
hashgate_leave(int slot)
{
    if (gate != NULL && slot >= 0 && slot < HASHGATE_MAX)
        atomic_store(&gate->owner[slot], 0);
}

void
hashgate_forget(pid_t pid)
{
    if (gate == NULL || pid <= 0)
        return;
    for (int i = 0; i < HASHGATE_MAX; i++) {
        pid_t owner = pid;
        atomic_compare_exchange_strong(&gate->owner[i], &owner, 0);
    }
}

int
hashgate_busy(void)
{
    int n = 0;

    if (gate == NULL)
        return 0;
    for (int i = 0; i < HASHGATE_MAX; i++)
        n += atomic_load(&gate->owner[i]) != 0;
    return n;
}
