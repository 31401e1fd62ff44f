/* scoreboard.c - the master/worker shared-memory slots. */
#include "keel-build.h"

#include "server/scoreboard.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static size_t
sb_size(size_t nslots)
{
    return sizeof(scoreboard_t) + nslots * sizeof(sb_worker_t);
}

scoreboard_t *
scoreboard_create(size_t nslots)
{
    scoreboard_t *sb = mmap(NULL, sb_size(nslots), PROT_READ | PROT_WRITE,
                            MAP_SHARED | MAP_ANONYMOUS, -1, 0);

    if (sb == MAP_FAILED)
        return NULL;
    sb->nslots = nslots; /* anonymous pages are already zero */
    return sb;
}

void
scoreboard_destroy(scoreboard_t *sb)
{
    if (sb != NULL)
        munmap(sb, sb_size(sb->nslots));
}

long long
scoreboard_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

const char *const sb_phase_names[] = { "reading", "processing", "writing" };

void
scoreboard_phase(sb_worker_t *w, int t, enum sb_phase phase)
{
    atomic_store_explicit(&w->threads[t].phase, (int)phase,
                          memory_order_relaxed);
}

void
scoreboard_begin(sb_worker_t *w, int t)
{
    sb_thread_t *s = &w->threads[t];

    atomic_store_explicit(&s->phase, SB_READING, memory_order_relaxed);
    strcpy(s->request_id, "-");
    s->method[0] = '\0';
    s->path[0] = '\0';
    atomic_store_explicit(&s->started_ns, scoreboard_now_ns(),
                          memory_order_release);
}

void
scoreboard_label(sb_worker_t *w, int t, const char *request_id,
                 const char *method, const char *path)
{
    sb_thread_t *s = &w->threads[t];

    /* Read by the master without a lock: a torn copy only mars a log line,
     * and the watchdog re-checks started_ns around its copy. */
    snprintf(s->request_id, sizeof(s->request_id), "%s", request_id);
    snprintf(s->method, sizeof(s->method), "%s", method ? method : "");
    snprintf(s->path, sizeof(s->path), "%s", path ? path : "");
}

void
scoreboard_end(sb_worker_t *w, int t, int served)
{
    atomic_store_explicit(&w->threads[t].started_ns, 0, memory_order_release);
    if (served)
        atomic_fetch_add_explicit(&w->requests, 1, memory_order_relaxed);
}
