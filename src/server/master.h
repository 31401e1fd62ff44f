/*
 * master.h - the supervising process (DESIGN.md §1).
 *
 * The master opens the socket, maps the scoreboard, forks the workers and
 * then only supervises: it never touches a request.  Signals are taken
 * synchronously with sigtimedwait() in its loop (STYLE.md rule 7):
 *   SIGTERM, SIGINT, SIGQUIT  graceful stop within shutdown_timeout
 *   SIGHUP                    reload the config, replace workers one by one
 *   SIGUSR1                   reopen log files (and tell the workers)
 *   SIGCHLD                   reap; respawn with back-off; never after
 *                             KEEL_EXIT_FATAL
 */
#ifndef KEEL_SERVER_MASTER_H
#define KEEL_SERVER_MASTER_H

#include "core/config.h"
#include "http/app.h"
#include "server/listen.h"

/*
 * Run the master until a graceful stop.  Takes ownership of `cfg` (heap
 * allocated; replaced on reload) and of the listener.  `config_path` is
 * re-read on SIGHUP.  Returns the process exit status.
 */
int master_run(keel_config_t *cfg, const char *config_path,
               const keel_app_t *app, listener_t *listener);

#endif
