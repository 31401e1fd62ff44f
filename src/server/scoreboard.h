/*
 * scoreboard.h - shared memory between the master and its workers.
 *
 * The master maps it (MAP_SHARED | MAP_ANONYMOUS) before it forks, so every
 * worker sees the same pages.  Each worker owns one slot and writes only
 * there, with atomics and no locks, so a worker that dies mid-update can
 * never leave anything locked.  The master reads the slots to police
 * request timeouts and to know when a new worker is ready.
 */
#ifndef KEEL_SERVER_SCOREBOARD_H
#define KEEL_SERVER_SCOREBOARD_H

#include <stdatomic.h>
#include <stddef.h>
#include <sys/types.h>

#define SB_MAX_THREADS 64 /* the bound of the `threads` key */

/* What a busy thread is doing. */
enum sb_phase { SB_READING = 0, SB_PROCESSING, SB_WRITING };
extern const char *const sb_phase_names[];

typedef struct sb_thread {
    atomic_llong started_ns; /* CLOCK_MONOTONIC of the request, 0 = idle */
    atomic_int phase;        /* enum sb_phase, for the slow-request log */
    char request_id[64];     /* written before started_ns is published */
    char method[8];
    char path[112];
    char route[64]; /* the route's pattern once routed, else "" */
} sb_thread_t;

typedef struct sb_worker {
    atomic_int pid;                  /* 0 = free slot */
    atomic_int ready;                /* 1 once the worker accepts requests */
    atomic_int job;                  /* 1 for a job worker */
    atomic_int pool_size, pool_busy; /* after its last request */
    atomic_llong requests;
    sb_thread_t threads[SB_MAX_THREADS];
} sb_worker_t;

/* Why workers ended, as counted in the scoreboard (and in the metrics). */
#define SB_REASONS 6
extern const char *const sb_reason_names[SB_REASONS];

#define SB_MAGIC 0x6b65656c73623032ULL /* "keelsb02" */

typedef struct scoreboard {
    unsigned long long magic;
    size_t slot_size; /* sizeof(sb_worker_t): keelctl checks the layout */
    size_t nslots;
    long long started;           /* Unix seconds when the master started */
    atomic_int workers, threads; /* configured request workers, threads */
    /* Request workers of an older generation still serving while a reload
     * or an emergency restart replaces them one by one (0: none). */
    atomic_int replacing;
    atomic_llong retired_requests; /* served by workers that are gone */
    atomic_int active_max;         /* most busy threads seen at once */
    atomic_int listen_queue;       /* -1 when the kernel does not say */
    atomic_int listen_queue_max, listen_backlog;
    atomic_llong slow_requests;
    atomic_llong restarts[SB_REASONS];
    sb_worker_t slots[];
} scoreboard_t;

/*
 * Map a scoreboard with `nslots` slots, zeroed: in `path` (created 0640,
 * so that keelctl status can map it too) or anonymous when path is NULL.
 * NULL on failure.
 */
scoreboard_t *scoreboard_create(size_t nslots, const char *path);
void scoreboard_destroy(scoreboard_t *sb);

/* keelctl: map the scoreboard file read-only; NULL with errno, EPROTO
 * when it is not one of this build's layout.  scoreboard_close unmaps. */
const scoreboard_t *scoreboard_open(const char *path);
void scoreboard_close(const scoreboard_t *sb);

/* The scoreboard file of a server with pid file `pid_file`. */
void scoreboard_path(const char *pid_file, char *out, size_t len);

/*
 * Thread `t` of `w` starts work on a connection (the request-timeout clock
 * starts), learns what the request is (for the watchdog's log), and ends
 * it; `served` counts it as a request.
 */
void scoreboard_begin(sb_worker_t *w, int t);
void scoreboard_label(sb_worker_t *w, int t, const char *request_id,
                      const char *method, const char *path);
/* The request of thread `thread` (an sb_thread_t) matched the route
 * `pattern`; a keel_ctx_t routed hook. */
void scoreboard_route(void *thread, const char *pattern);
void scoreboard_end(sb_worker_t *w, int t, int served);
void scoreboard_phase(sb_worker_t *w, int t, enum sb_phase phase);

/* Nanoseconds on CLOCK_MONOTONIC (the same clock in every process). */
long long scoreboard_now_ns(void);

#endif
