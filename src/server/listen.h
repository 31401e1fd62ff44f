/*
 * listen.h - the FastCGI listening socket, opened by the master.
 *
 * Not FCGX_OpenSocket(): it exit()s the process on errors, unlinks a unix
 * path blindly (even one a live server holds), binds every interface for
 * ":port" and knows no IPv6 (notes/libraries.md §1.10).
 */
#ifndef KEEL_SERVER_LISTEN_H
#define KEEL_SERVER_LISTEN_H

#include "core/config.h"

#include <stddef.h>

typedef struct listener {
    int fd;
    char *unix_path;    /* set when we bound a unix socket (unlinked at stop) */
    const char *origin; /* "systemd", "inherited fd 0" or "bound" */
} listener_t;

/*
 * Find or open the socket, in this order: systemd socket activation
 * (LISTEN_PID == getpid(), LISTEN_FDS == 1: fd 3), a listening socket on
 * fd 0 (spawn-fcgi, mod_fcgid), else bind cfg->listen: a unix path (mode,
 * owner and group from cfg; refuses a path a live server answers on) or
 * host:port / [v6]:port with an explicit host.  Returns 0, or -1 with a
 * message in err.
 */
int listener_open(listener_t *l, const keel_config_t *cfg, char *err,
                  size_t errlen);

/* Close the socket; unlink the path if we bound it and `unlink_path`. */
void listener_close(listener_t *l, int unlink_path);

#endif
