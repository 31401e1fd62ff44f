/*
 * hello-fcgi.c - the cost floor of the FastCGI path for bench/run.sh.
 *
 * A bare libfcgi responder: every request gets the same small JSON body,
 * with no parsing, routing, logging or allocation of its own.  Whatever
 * keeld costs above this is keel's; whatever this costs above nginx's
 * `return 200` is the FastCGI hop itself (notes/performance.md).
 *
 *     hello-fcgi [SOCKET|- [PROCESSES]]
 *
 * With no SOCKET (or "-") the listening socket is taken from fd 0, the
 * FastCGI convention used by spawn-fcgi and mod_fcgid.  Otherwise SOCKET
 * is bound with FCGX_OpenSocket(): a unix socket path (unlinked first!) or
 * host:port.  PROCESSES (default 4) processes share the socket and each
 * runs one accept loop.  SIGTERM or SIGINT to the parent stops them all.
 *
 * Set LIBFCGI_OS_CLOSE_POLL_TIMEOUT=0 in the environment to switch off
 * libfcgi's lingering close, as keeld does for its workers.
 *
 * Build: make bench/hello-fcgi
 *    or: gcc -std=c11 -D_GNU_SOURCE -Wall -Wextra bench/hello-fcgi.c -lfcgi
 */
#include <errno.h>
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#define MAX_PROCS 1024

static const char reply[] = "Status: 200 OK\r\n"
                            "Content-Type: application/json\r\n"
                            "\r\n"
                            "{\"status\":\"ok\"}";

static void
serve(int listen_fd)
{
    FCGX_Request r;

    if (FCGX_InitRequest(&r, listen_fd, 0) != 0)
        _exit(1);
    while (FCGX_Accept_r(&r) >= 0)
        FCGX_PutStr(reply, (int)sizeof(reply) - 1, r.out);
    _exit(0);
}

int
main(int argc, char **argv)
{
    static pid_t pids[MAX_PROCS];
    const char *where = argc > 1 ? argv[1] : "-";
    long nprocs = 4;
    int listen_fd = 0, alive = 0;
    pid_t parent = getpid();
    sigset_t set;
    int sig;

    if (argc > 3) {
        fprintf(stderr, "usage: %s [SOCKET|- [PROCESSES]]\n", argv[0]);
        return 2;
    }
    if (argc > 2) {
        char *end;
        nprocs = strtol(argv[2], &end, 10);
        if (*end != '\0' || nprocs < 1 || nprocs > MAX_PROCS) {
            fprintf(stderr, "%s: PROCESSES must be 1..%d\n", argv[0],
                    MAX_PROCS);
            return 2;
        }
    }

    /*
     * The parent takes SIGTERM, SIGINT and SIGCHLD with sigwait(); blocked
     * before FCGX_Init(), so libfcgi's own SIGTERM handler (installed when
     * the disposition is SIG_DFL, notes/libraries.md §1.5) never runs here.
     */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, NULL);
    if (FCGX_Init() != 0) {
        fprintf(stderr, "%s: FCGX_Init failed\n", argv[0]);
        return 1;
    }

    if (strcmp(where, "-") == 0) {
        /* FCGX_IsCGI() is true when fd 0 is not a listening socket. */
        if (FCGX_IsCGI()) {
            fprintf(stderr,
                    "%s: fd 0 is not a listening socket; give a SOCKET "
                    "or start under spawn-fcgi\n",
                    argv[0]);
            return 2;
        }
    } else {
        /* Exits by itself on a bind or listen error. */
        listen_fd = FCGX_OpenSocket(where, 1024);
        if (listen_fd < 0) {
            fprintf(stderr, "%s: cannot open %s: %s\n", argv[0], where,
                    strerror(errno));
            return 1;
        }
    }

    for (long i = 0; i < nprocs; i++) {
        pid_t pid = fork();

        if (pid < 0) {
            perror("fork");
            break;
        }
        if (pid == 0) {
            /* Children just die on SIGTERM/SIGINT: they hold no state. */
            signal(SIGTERM, SIG_DFL);
            signal(SIGINT, SIG_DFL);
            sigprocmask(SIG_UNBLOCK, &set, NULL);
#ifdef __linux__
            prctl(PR_SET_PDEATHSIG, SIGTERM);
            if (getppid() != parent)
                _exit(0);
#endif
            serve(listen_fd);
        }
        pids[alive++] = pid;
    }

    /* Parent: wait until told to stop or until every child is gone. */
    while (alive > 0) {
        pid_t pid;

        if (sigwait(&set, &sig) != 0 || sig != SIGCHLD)
            break;
        while ((pid = waitpid(-1, NULL, WNOHANG)) > 0) {
            for (int i = 0; i < alive; i++) {
                if (pids[i] == pid) {
                    pids[i] = pids[--alive];
                    break;
                }
            }
        }
    }
    for (int i = 0; i < alive; i++)
        kill(pids[i], SIGTERM);
    while (wait(NULL) > 0)
        ;
    return 0;
}
