/* worker.c - FastCGI accept threads, request serving, graceful stop. */
#include "keel-build.h"

#include "server/worker.h"
#include "core/arena.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/util.h"
#include "db/db.h"
#include "http/chain.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <fcgiapp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

/* Idle limit of a kept connection when request_timeout is 0. */
#define KEPT_IDLE_DEFAULT 60.0

typedef struct accept_thread {
    pthread_t tid;
    int index;
    atomic_int done;
} accept_thread_t;

static struct {
    const worker_args_t *args;
    keel_http_t http;
    int wake[2]; /* readable once the worker stops: wakes every thread */
    atomic_int stopping; /* stop accepting; finish what is in flight */
    atomic_int exit_code;
    atomic_llong served;
} W;

static void
noop_handler(int sig)
{
    (void)sig;
}

static void
request_stop(int code)
{
    if (code != 0)
        atomic_store(&W.exit_code, code);
    if (!atomic_exchange(&W.stopping, 1)) {
        char c = 1;
        /* Never drained: stays readable for every thread's poll(). */
        if (write(W.wake[1], &c, 1) < 0) {
            /* the pipe is empty and ours: cannot fail */
        }
    }
}

/*
 * Signal set-up, before FCGX_Init().  libfcgi's OS_LibInit() installs its
 * own handlers for SIGTERM, SIGUSR1 and SIGPIPE (without SA_RESTART) when
 * they are at SIG_DFL/SIG_IGN, so ours must be in place first.  All of
 * them stay blocked in every thread for good: the main thread takes them
 * with sigtimedwait(), and accept threads are never interrupted, because
 * libfcgi does not retry reads and writes that a signal interrupts (an
 * EINTR while reading params even looks like their end).  Accept threads
 * are woken with a pipe instead (see accept_loop).
 */
static void
signals_setup(void)
{
    static const int sigs[] = { SIGTERM, SIGINT,  SIGQUIT, SIGHUP,
                                SIGUSR1, SIGUSR2, SIGPIPE, SIGCHLD };
    struct sigaction sa;
    sigset_t all;

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = noop_handler;
    sa.sa_flags = SA_RESTART;
    for (size_t i = 0; i < KEEL_ARRAY_LEN(sigs); i++)
        sigaction(sigs[i], &sa, NULL);

    sigfillset(&all);
    sigdelset(&all, SIGSEGV);
    sigdelset(&all, SIGBUS);
    sigdelset(&all, SIGFPE);
    sigdelset(&all, SIGILL);
    sigdelset(&all, SIGABRT);
    pthread_sigmask(SIG_SETMASK, &all, NULL);
}

static ssize_t
fcgi_read(void *io, char *buf, size_t n)
{
    FCGX_Stream *in = io;
    int chunk = n > (1 << 20) ? (1 << 20) : (int)n;
    int got = FCGX_GetStr(buf, chunk, in);

    if (got <= 0)
        return FCGX_GetError(in) != 0 ? -1 : 0;
    return got;
}

/*
 * libfcgi's ReadParams() takes a stream error (a record of another
 * version or type, a read error, EOF) for the end of the params, and
 * FCGX_Accept_r() then returns a request with only the params before it:
 * a request cut short must never run.  The error stays on the input
 * stream; drop the connection without an answer.  Returns 1 if dropped.
 */
static int
drop_broken_params(FCGX_Request *fr)
{
    int err = FCGX_GetError(fr->in);

    if (err == 0)
        return 0;
    log_printf(KLOG_WARN,
               "FastCGI params cut short (stream error %d); connection "
               "dropped",
               err);
    FCGX_Free(fr, 1);
    return 1;
}

/*
 * libfcgi reads and writes the connection with blocking calls and no
 * timeout: a peer that stops sending the body, or never reads the
 * answer, would hold this thread until the master's request_timeout
 * watchdog kills the whole worker (and every other request it serves).
 * Each read or write that waits longer than half of request_timeout
 * fails instead; libfcgi then marks the stream broken, the answer is cut
 * and the connection closed, and the thread serves the next one.
 */
static void
bound_connection_io(const FCGX_Request *fr)
{
    double limit = W.args->cfg->request_timeout / 2;
    struct timeval tv;

    if (limit <= 0 || fr->ipcFd < 0)
        return;
    tv.tv_sec = (time_t)limit;
    tv.tv_usec = (suseconds_t)((limit - (double)tv.tv_sec) * 1e6);
    if (tv.tv_sec == 0 && tv.tv_usec < 1000)
        tv.tv_usec = 1000;
    setsockopt(fr->ipcFd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fr->ipcFd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/*
 * The pool's size and use as it is now, for /metrics and keelctl status:
 * after each request and on every tick of the main thread, so that an idle
 * worker's figures are current too.
 */
static void
publish_pool(void)
{
    pool_stats_t ps;

    if (W.http.pool == NULL)
        return;
    pool_stats(W.http.pool, &ps);
    metrics_pool_gauges(ps.size, ps.idle, ps.busy);
    atomic_store_explicit(&W.args->slot->pool_size, ps.size,
                          memory_order_relaxed);
    atomic_store_explicit(&W.args->slot->pool_busy, ps.busy,
                          memory_order_relaxed);
}

static size_t
serve(FCGX_Request *fr, arena_t *arena, int t)
{
    keel_ctx_t ctx;
    const char *why = NULL;
    const char *head;
    size_t head_len, sent = 0;
    keel_rc rc, body_rc;

    ctx_init(&ctx, &W.http, arena);
    metrics_request_begin();
    rc = request_from_params(&ctx.req, arena, fr->envp, &W.http.limits, &why);
    scoreboard_label(W.args->slot, t, ctx.req.request_id, ctx.req.method_name,
                     ctx.req.path);
    ctx.routed = scoreboard_route;
    ctx.routed_arg = &W.args->slot->threads[t];
    /* Always consume the body (bounded), whatever the answer will be. */
    body_rc =
        request_read_body(&ctx.req, arena, fcgi_read, fr->in, &W.http.limits);
    if (rc == KEEL_OK && body_rc != KEEL_OK) {
        rc = body_rc;
        why = NULL;
    }
    scoreboard_phase(W.args->slot, t, SB_PROCESSING);
    chain_run(&ctx, rc, why);
    scoreboard_phase(W.args->slot, t, SB_WRITING);

    head = response_head(&ctx, &head_len);
    if (FCGX_PutStr(head, (int)head_len, fr->out) >= 0 &&
        ctx.req.method != HTTP_HEAD && ctx.res.body_len > 0 &&
        FCGX_PutStr(ctx.res.body, (int)ctx.res.body_len, fr->out) >= 0)
        sent = ctx.res.body_len;
    /* A write that failed (or timed out: bound_connection_io) ends the
     * connection: FCGX_Finish_r() must not wait again to write the
     * closing records to a peer that does not read. */
    if (FCGX_GetError(fr->out) != 0)
        shutdown(fr->ipcFd, SHUT_RDWR);
    FCGX_Finish_r(fr);
    scoreboard_end(W.args->slot, t, 1);
    metrics_request_end(http_route_index(&W.http, ctx.match.route),
                        (int)ctx.req.method, ctx.res.status,
                        time_mono() - ctx.started);
    chain_access_log(&ctx, sent);
    if (ctx.crashed) {
        chain_crash_guard_disarm();
        request_stop(KEEL_EXIT_CRASHED);
    }
    ctx_release(&ctx); /* gives its connection back to the pool */
    publish_pool();
    return sent;
}

/*
 * Wait until the listening socket has a connection or the worker stops.
 * Returns 1 to accept, 0 to stop.
 */
static int
wait_connection(void)
{
    struct pollfd p[2] = { { W.args->listen_fd, POLLIN, 0 },
                           { W.wake[0], POLLIN, 0 } };

    for (;;) {
        if (atomic_load(&W.stopping))
            return 0;
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return 0;
        }
        if (p[1].revents)
            return 0;
        if (p[0].revents)
            return 1;
    }
}

/*
 * After a request with FCGI_KEEP_CONN, FCGX_Finish_r() leaves the
 * connection open, and the next FCGX_Accept_r() reads the next request
 * from it instead of accepting.  So wait for that request on the kept
 * connection itself (not on the listening socket, where it would go
 * unnoticed until some other connection arrived), for at most
 * request_timeout (60 s without one) of idleness, then close it: an idle
 * kept connection pins this thread, and must not do so for ever.
 * Returns 1 when the peer sent something (or closed) on it.
 */
static int
wait_kept_connection(FCGX_Request *fr)
{
    double idle = W.args->cfg->request_timeout > 0
                      ? W.args->cfg->request_timeout
                      : KEPT_IDLE_DEFAULT;
    struct pollfd p[2] = { { fr->ipcFd, POLLIN, 0 }, { W.wake[0], POLLIN, 0 } };
    int n;

    if (fr->ipcFd < 0)
        return 0;
    do {
        n = poll(p, 2, (int)(idle * 1000));
    } while (n < 0 && errno == EINTR);
    if (n > 0 && p[0].revents != 0 && p[1].revents == 0 &&
        !atomic_load(&W.stopping))
        return 1;
    FCGX_Free(fr, 1);
    return 0;
}

/*
 * One accept thread.  The listening socket is non-blocking (the master
 * sets it): poll() waits for a connection or the wake pipe, and
 * FCGX_Accept_r() then never blocks in accept(): when another worker took
 * the connection first it fails with -EAGAIN and we poll again.  Accepted
 * connections are blocking (Linux does not inherit O_NONBLOCK), as libfcgi
 * expects.
 */
static void *
accept_loop(void *arg)
{
    accept_thread_t *self = arg;
    FCGX_Request fr;
    arena_t arena;
    long long max = W.args->cfg->max_requests;
    int kept = 0;

    arena_init(&arena);
    FCGX_InitRequest(&fr, W.args->listen_fd, 0);

    while (kept || wait_connection()) {
        int rc;

        /*
         * Reading the params of an accepted connection can block on a
         * stalled peer: the scoreboard shows the thread busy from here, so
         * the master's request_timeout watchdog bounds it.
         */
        kept = 0;
        scoreboard_begin(W.args->slot, self->index);
        rc = FCGX_Accept_r(&fr);
        if (rc < 0) {
            scoreboard_end(W.args->slot, self->index, 0);
            if (rc == -EAGAIN || rc == -EWOULDBLOCK || rc == -EINTR ||
                rc == -ECONNABORTED)
                continue;
            /*
             * -errno or -9999 (notes §1.10 item 5): this thread cannot
             * accept (EMFILE, ENOMEM...).  Stop the worker, so that the
             * master replaces it, rather than live on without accepting.
             */
            if (!atomic_load(&W.stopping)) {
                log_printf(KLOG_ERROR,
                           "FCGX_Accept_r failed: %d; worker "
                           "restarts",
                           rc);
                request_stop(KEEL_EXIT_CRASHED);
            }
            break;
        }
        if (drop_broken_params(&fr)) {
            scoreboard_end(W.args->slot, self->index, 0);
            continue;
        }
        bound_connection_io(&fr);
        serve(&fr, &arena, self->index);
        arena_reset(&arena);
        if (max > 0 && atomic_fetch_add(&W.served, 1) + 1 >= max) {
            request_stop(0);
            break;
        }
        kept = wait_kept_connection(&fr);
    }
    FCGX_Free(&fr, 1);
    arena_destroy(&arena);
    atomic_store(&self->done, 1);
    return NULL;
}

void
worker_main(const worker_args_t *args)
{
    const keel_config_t *cfg = args->cfg;
    accept_thread_t *threads;
    char err[512];
    sigset_t wait_set;
    int nthreads = cfg->threads;
    const char *linger;

    W.args = args;
    log_set_process("worker", args->index);
    if (pipe2(W.wake, O_CLOEXEC) != 0) {
        log_printf(KLOG_ERROR, "pipe: %s", strerror(errno));
        _exit(KEEL_EXIT_FATAL);
    }
#ifdef __linux__
    /* Do not outlive a master killed with SIGKILL. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
    if (getppid() != args->master)
        _exit(0);
    signals_setup();
    if (http_init(&W.http, cfg, args->app, args->index, err, sizeof(err)) !=
        KEEL_OK) {
        log_printf(KLOG_ERROR, "cannot start worker: %s", err);
        _exit(KEEL_EXIT_FATAL);
    }
    /* Connections are made after fork, lazily, never inherited. */
    W.http.pool = pool_create(cfg, cfg->db_pool_size > 0 ? cfg->db_pool_size
                                                         : cfg->threads);
    if (W.http.pool == NULL) {
        log_printf(KLOG_ERROR, "cannot create the database pool");
        _exit(KEEL_EXIT_FATAL);
    }
    if (args->app->worker_init != NULL &&
        args->app->worker_init(cfg, err, sizeof(err)) != KEEL_OK) {
        log_printf(KLOG_ERROR, "cannot start worker: %s", err);
        _exit(KEEL_EXIT_FATAL);
    }
    /*
     * libfcgi reads LIBFCGI_OS_CLOSE_POLL_TIMEOUT when it closes a
     * connection; the master sets it to 0 unless the operator chose a
     * value: the lingering close idles a worker up to 2 s per request
     * (notes/performance.md).
     */
    linger = getenv("LIBFCGI_OS_CLOSE_POLL_TIMEOUT");
    if (FCGX_Init() != 0) {
        log_printf(KLOG_ERROR, "FCGX_Init failed");
        _exit(KEEL_EXIT_FATAL);
    }
    chain_crash_guard_install();

    threads = xcalloc((size_t)nthreads, sizeof(*threads));
    for (int i = 0; i < nthreads; i++) {
        threads[i].index = i;
        if (pthread_create(&threads[i].tid, NULL, accept_loop, &threads[i]) !=
            0) {
            log_printf(KLOG_ERROR, "cannot create accept thread %d", i);
            _exit(KEEL_EXIT_FATAL);
        }
    }
    atomic_store(&args->slot->ready, 1);
    log_printf(KLOG_INFO, "worker ready: %d thread(s), linger %s ms", nthreads,
               linger ? linger : "2000");

    sigemptyset(&wait_set);
    sigaddset(&wait_set, SIGTERM);
    sigaddset(&wait_set, SIGINT);
    sigaddset(&wait_set, SIGQUIT);
    sigaddset(&wait_set, SIGHUP);
    sigaddset(&wait_set, SIGUSR1);
    for (;;) {
        /* Poll faster while stopping: accept threads wait on us. */
        struct timespec tick = { 0, (atomic_load(&W.stopping) ? 10 : 100) *
                                        1000 * 1000L };
        int sig = sigtimedwait(&wait_set, NULL, &tick);
        int alive = 0;

        if (sig == SIGUSR1) {
            if (log_reopen() != 0)
                log_printf(KLOG_ERROR, "cannot reopen log file: %s",
                           strerror(errno));
        } else if (sig > 0) {
            request_stop(0);
        }
        if (getppid() != args->master)
            request_stop(0);
        if (!atomic_load(&W.stopping)) {
            publish_pool();
            continue;
        }
        /* request_stop() has written to the wake pipe: wait for threads
         * to finish the requests they are serving. */
        for (int i = 0; i < nthreads; i++)
            if (!atomic_load(&threads[i].done))
                alive++;
        if (alive == 0)
            break;
    }
    for (int i = 0; i < nthreads; i++)
        pthread_join(threads[i].tid, NULL);
    pool_destroy(W.http.pool); /* close sessions cleanly */
    log_printf(KLOG_INFO, "worker exiting after %lld request(s)",
               (long long)atomic_load(&args->slot->requests));
    _exit(atomic_load(&W.exit_code));
}
