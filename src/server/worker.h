/*
 * worker.h - a request worker process: `threads` FastCGI accept threads
 * sharing one listening socket with the other workers.
 */
#ifndef KEEL_SERVER_WORKER_H
#define KEEL_SERVER_WORKER_H

#include "core/config.h"
#include "http/app.h"
#include "server/scoreboard.h"

#include <sys/types.h>

/* Exit status that tells the master not to respawn (nginx's model). */
#define KEEL_EXIT_FATAL 2
/* Exit status of a worker that stopped after its crash guard fired. */
#define KEEL_EXIT_CRASHED 70

typedef struct worker_args {
    const keel_config_t *cfg;
    const keel_app_t *app;
    int listen_fd;
    sb_worker_t *slot;
    int index;
    pid_t master;
} worker_args_t;

/*
 * Run the worker in this (freshly forked) process; never returns.  Exits
 * 0 after a graceful stop or max_requests, KEEL_EXIT_FATAL when it cannot
 * start, KEEL_EXIT_CRASHED after a guarded crash.
 */
void worker_main(const worker_args_t *args) __attribute__((noreturn));

#endif
