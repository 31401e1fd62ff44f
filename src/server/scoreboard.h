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
} sb_thread_t;

typedef struct sb_worker {
    atomic_int pid;   /* 0 = free slot */
    atomic_int ready; /* 1 once the worker accepts requests */
    atomic_llong requests;
    sb_thread_t threads[SB_MAX_THREADS];
} sb_worker_t;

typedef struct scoreboard {
    size_t nslots;
    sb_worker_t slots[];
} scoreboard_t;

/* Map a scoreboard with `nslots` slots, zeroed.  NULL on failure. */
scoreboard_t *scoreboard_create(size_t nslots);
void scoreboard_destroy(scoreboard_t *sb);

/*
 * Thread `t` of `w` starts work on a connection (the request-timeout clock
 * starts), learns what the request is (for the watchdog's log), and ends
 * it; `served` counts it as a request.
 */
void scoreboard_begin(sb_worker_t *w, int t);
void scoreboard_label(sb_worker_t *w, int t, const char *request_id,
                      const char *method, const char *path);
void scoreboard_end(sb_worker_t *w, int t, int served);
void scoreboard_phase(sb_worker_t *w, int t, enum sb_phase phase);

/* Nanoseconds on CLOCK_MONOTONIC (the same clock in every process). */
long long scoreboard_now_ns(void);

#endif
