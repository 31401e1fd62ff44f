/* listen.c - inherit or bind the listening socket. */
#include "keel-build.h"

#include "server/listen.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int
is_listening_socket(int fd)
{
    int accepting = 0;
    socklen_t len = sizeof(accepting);

    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) != 0)
        return 0;
    return accepting != 0;
}

static int
from_systemd(void)
{
    const char *pid = getenv("LISTEN_PID");
    const char *fds = getenv("LISTEN_FDS");

    if (pid == NULL || fds == NULL || atol(pid) != (long)getpid())
        return -1;
    /* Children must not think the sockets are theirs (sd_listen_fds(3)). */
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    if (atoi(fds) < 1 || !is_listening_socket(3))
        return -1;
    return 3;
}

static int
bind_unix(listener_t *l, const keel_config_t *cfg, char *err, size_t errlen)
{
    struct sockaddr_un sa;
    struct stat st;
    int fd;
    mode_t old;

    if (strlen(cfg->listen) >= sizeof(sa.sun_path)) {
        snprintf(err, errlen, "listen: unix socket path too long");
        return -1;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    strcpy(sa.sun_path, cfg->listen);

    if (lstat(cfg->listen, &st) == 0) {
        int probe;
        if (!S_ISSOCK(st.st_mode)) {
            snprintf(err, errlen, "listen: %s exists and is not a socket",
                     cfg->listen);
            return -1;
        }
        /* Unlink only a stale socket, never one a live server answers on. */
        probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (probe >= 0 &&
            connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
            close(probe);
            snprintf(err, errlen,
                     "listen: %s: a server is already running "
                     "there",
                     cfg->listen);
            return -1;
        }
        if (probe >= 0)
            close(probe);
        unlink(cfg->listen);
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "listen: socket: %s", strerror(errno));
        return -1;
    }
    old = umask(0777 & ~(mode_t)cfg->socket_mode);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        umask(old);
        snprintf(err, errlen, "listen: bind %s: %s", cfg->listen,
                 strerror(errno));
        close(fd);
        return -1;
    }
    umask(old);
    l->unix_path = strdup(cfg->listen);
    if (chmod(cfg->listen, (mode_t)cfg->socket_mode) != 0) {
        snprintf(err, errlen, "listen: chmod %s: %s", cfg->listen,
                 strerror(errno));
        goto fail;
    }
    if (cfg->socket_owner[0] || cfg->socket_group[0]) {
        uid_t uid = (uid_t)-1;
        gid_t gid = (gid_t)-1;
        if (cfg->socket_owner[0]) {
            struct passwd *pw = getpwnam(cfg->socket_owner);
            if (pw == NULL) {
                snprintf(err, errlen, "socket_owner: no user '%s'",
                         cfg->socket_owner);
                goto fail;
            }
            uid = pw->pw_uid;
        }
        if (cfg->socket_group[0]) {
            struct group *gr = getgrnam(cfg->socket_group);
            if (gr == NULL) {
                snprintf(err, errlen, "socket_group: no group '%s'",
                         cfg->socket_group);
                goto fail;
            }
            gid = gr->gr_gid;
        }
        if (chown(cfg->listen, uid, gid) != 0) {
            snprintf(err, errlen, "listen: chown %s: %s", cfg->listen,
                     strerror(errno));
            goto fail;
        }
    }
    return fd;
fail:
    close(fd);
    unlink(l->unix_path);
    free(l->unix_path);
    l->unix_path = NULL;
    return -1;
}

static int
bind_tcp(const keel_config_t *cfg, char *err, size_t errlen)
{
    char host[256];
    const char *port;
    struct addrinfo hints, *res = NULL;
    int fd = -1, one = 1, gai;
    const char *spec = cfg->listen;

    if (spec[0] == '[') {
        const char *close_br = strchr(spec, ']');
        if (close_br == NULL || close_br[1] != ':' ||
            (size_t)(close_br - spec - 1) >= sizeof(host))
            goto bad;
        memcpy(host, spec + 1, (size_t)(close_br - spec - 1));
        host[close_br - spec - 1] = '\0';
        port = close_br + 2;
    } else {
        const char *colon = strrchr(spec, ':');
        if (colon == NULL || (size_t)(colon - spec) >= sizeof(host))
            goto bad;
        memcpy(host, spec, (size_t)(colon - spec));
        host[colon - spec] = '\0';
        port = colon + 1;
    }
    if (host[0] == '\0' || port[0] == '\0')
        goto bad;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    gai = getaddrinfo(host, port, &hints, &res);
    if (gai != 0) {
        snprintf(err, errlen, "listen: %s: %s", spec, gai_strerror(gai));
        return -1;
    }
    if (res->ai_next != NULL) {
        snprintf(err, errlen,
                 "listen: %s resolves to several addresses; give one", spec);
        freeaddrinfo(res);
        return -1;
    }
    fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC,
                res->ai_protocol);
    if (fd < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, res->ai_addr, res->ai_addrlen) != 0) {
        snprintf(err, errlen, "listen: bind %s: %s", spec, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(res);
        return -1;
    }
    freeaddrinfo(res);
    return fd;
bad:
    snprintf(err, errlen,
             "listen: '%s' is neither an absolute unix socket path nor "
             "host:port",
             spec);
    return -1;
}

/*
 * Workers poll() the socket and then call FCGX_Accept_r(); non-blocking,
 * the accept() inside fails with EAGAIN when another worker was faster,
 * instead of blocking where nothing but a signal could wake it.
 */
static int
set_nonblocking(listener_t *l, char *err, size_t errlen)
{
    int flags = fcntl(l->fd, F_GETFL);

    if (flags < 0 || fcntl(l->fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        snprintf(err, errlen, "listen: fcntl: %s", strerror(errno));
        return -1;
    }
    return 0;
}

int
listener_open(listener_t *l, const keel_config_t *cfg, char *err, size_t errlen)
{
    int fd;

    memset(l, 0, sizeof(*l));
    fd = from_systemd();
    if (fd >= 0) {
        l->fd = fd;
        l->origin = "systemd";
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        return set_nonblocking(l, err, errlen);
    }
    if (is_listening_socket(0)) {
        l->fd = 0;
        l->origin = "inherited fd 0";
        return set_nonblocking(l, err, errlen);
    }
    if (cfg->listen[0] == '/')
        fd = bind_unix(l, cfg, err, errlen);
    else
        fd = bind_tcp(cfg, err, errlen);
    if (fd < 0)
        return -1;
    if (listen(fd, cfg->backlog) != 0) {
        snprintf(err, errlen, "listen: %s", strerror(errno));
        close(fd);
        if (l->unix_path) {
            unlink(l->unix_path);
            free(l->unix_path);
            l->unix_path = NULL;
        }
        return -1;
    }
    l->fd = fd;
    l->origin = "bound";
    return set_nonblocking(l, err, errlen);
}

void
listener_close(listener_t *l, int unlink_path)
{
    if (l->fd >= 0)
        close(l->fd);
    l->fd = -1;
    if (l->unix_path && unlink_path)
        unlink(l->unix_path);
    free(l->unix_path);
    l->unix_path = NULL;
}
