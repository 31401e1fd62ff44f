/* master.c - fork, supervise, reload and stop the workers. */
#include "keel-build.h"

#include "server/master.h"
#include "auth/hashgate.h"
#include "auth/ratelimit.h"
#include "core/metrics.h"
#include "http/collection.h"
#include "core/log.h"
#include "core/util.h"
#include "server/notify.h"
#include "server/scoreboard.h"
#include "server/worker.h"
#include "jobs/runner.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Back-off for workers that die soon after they start. */
#define CRASH_WINDOW         2.0 /* a worker that lived less than this crashed fast */
#define BACKOFF_FIRST        0.1
#define BACKOFF_MAX          10.0
#define CRASH_FORGET         10.0
#define WORKER_START_TIMEOUT 30.0 /* seconds to become ready */
#define WORKERS_HEADROOM     64 /* workers a reload may grow to without restart */
/* a crash this long ago no longer adds back-off */

enum wkind { WK_REQUEST = 0, WK_JOB };

typedef struct wproc {
    pid_t pid;        /* 0 = free */
    enum wkind kind;  /* request worker or job worker */
    unsigned gen;     /* config generation it was started with */
    int index;        /* stable worker number for logs */
    double started;   /* time_mono() at fork */
    double stop_sent; /* when we asked it to stop, 0 = not asked */
    int timed_out;    /* killed by the request-timeout watchdog */
    /* started_ns of each thread's request already logged as slow */
    long long slow_logged[SB_MAX_THREADS];
} wproc_t;

/* Crash times for [server] emergency_restart_threshold (a ring). */
#define EMERGENCY_MAX 1000

static struct {
    keel_config_t *cfg;
    const char *config_path;
    const keel_app_t *app;
    listener_t *listener;
    scoreboard_t *sb;
    wproc_t *procs; /* one per scoreboard slot */
    size_t nprocs;
    int max_workers; /* what the scoreboard has room for */
    unsigned gen;
    int fast_crashes;
    double last_crash;
    double backoff_until;
    int fatal;     /* a worker exited with KEEL_EXIT_FATAL: spawn no more */
    int gen_ready; /* a worker of the current generation became ready */
    int stopping;
    int announce; /* READY=1 is owed to systemd (start, reload) */
    double stop_deadline;
    int next_index;
    char sb_path[4096];
    int sb_file; /* the scoreboard is the file sb_path */
    double crashes[EMERGENCY_MAX];
    int ncrashes, crash_head;
} M;

/*
 * php-fpm's emergency_restart_threshold: when that many request workers
 * crash within emergency_restart_interval, something shared went bad
 * (a corrupted cache, a library in a bad state): replace every worker,
 * one by one as a reload does.
 */
static void
note_crash(void)
{
    int n = M.cfg->emergency_threshold;
    double now = time_mono(), oldest;

    if (n <= 0)
        return;
    M.crashes[M.crash_head] = now;
    M.crash_head = (M.crash_head + 1) % EMERGENCY_MAX;
    if (M.ncrashes < EMERGENCY_MAX)
        M.ncrashes++;
    if (M.ncrashes < n)
        return;
    oldest = M.crashes[(M.crash_head - n + EMERGENCY_MAX) % EMERGENCY_MAX];
    if (now - oldest > M.cfg->emergency_interval)
        return;
    log_printf(KLOG_ERROR,
               "emergency restart: %d workers crashed within %.0fs; "
               "replacing every worker",
               n, M.cfg->emergency_interval);
    M.gen++;
    M.gen_ready = 0;
    M.ncrashes = 0;
}

static void
worker_spawn(enum wkind kind)
{
    size_t slot;
    pid_t pid;
    wproc_t *w;

    for (slot = 0; slot < M.nprocs; slot++)
        if (M.procs[slot].pid == 0)
            break;
    if (slot == M.nprocs) {
        log_printf(KLOG_ERROR, "no free worker slot (workers grew by reload "
                               "beyond what a restart would allow)");
        return;
    }
    w = &M.procs[slot];
    memset(&M.sb->slots[slot], 0, sizeof(M.sb->slots[slot]));
    atomic_store(&M.sb->slots[slot].job, kind == WK_JOB);
    pid = fork();
    if (pid < 0) {
        log_printf(KLOG_ERROR, "fork: %s", strerror(errno));
        M.backoff_until = time_mono() + 1.0;
        return;
    }
    if (pid == 0) {
        if (M.cfg->metrics_enabled)
            metrics_bind(slot, kind == WK_JOB ? METRICS_JOB_WORKER
                                              : METRICS_REQUEST_WORKER);
        worker_args_t args = {
            .cfg = M.cfg,
            .app = M.app,
            .listen_fd = M.listener->fd,
            .slot = &M.sb->slots[slot],
            .index = M.next_index,
            .master = getppid(),
        };
        if (kind == WK_JOB) {
            /* Job workers never accept FastCGI connections. */
            close(M.listener->fd);
            job_worker_main(&args);
        }
        worker_main(&args);
    }
    w->pid = pid;
    w->kind = kind;
    w->gen = M.gen;
    w->index = M.next_index++;
    w->started = time_mono();
    w->stop_sent = 0;
    w->timed_out = 0;
    atomic_store(&M.sb->slots[slot].pid, (int)pid);
}

static void
worker_stop(wproc_t *w, int sig)
{
    if (w->stop_sent == 0)
        w->stop_sent = time_mono();
    kill(w->pid, sig);
}

static void
reap(void)
{
    int status;
    pid_t pid;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        wproc_t *w = NULL;
        size_t slot;
        double lived;
        const char *reason;
        json_object *line;

        /* A worker killed mid-hash leaves its hashing slot to no one. */
        hashgate_forget(pid);
        metrics_forget(pid);
        for (slot = 0; slot < M.nprocs; slot++)
            if (M.procs[slot].pid == pid)
                w = &M.procs[slot];
        if (w == NULL)
            continue;
        slot = (size_t)(w - M.procs);
        lived = time_mono() - w->started;
        if (w->timed_out == 2)
            reason = "start_timeout";
        else if (w->timed_out)
            reason = "request_timeout";
        else if (w->stop_sent)
            reason = "stopped";
        else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
            reason = "recycled";
        else if (WIFEXITED(status) && WEXITSTATUS(status) == KEEL_EXIT_FATAL)
            reason = "fatal";
        else
            reason = "crashed";
        metrics_restart(reason);
        for (int r = 0; r < SB_REASONS; r++)
            if (strcmp(reason, sb_reason_names[r]) == 0)
                atomic_fetch_add(&M.sb->restarts[r], 1);
        atomic_fetch_add(&M.sb->retired_requests,
                         atomic_load(&M.sb->slots[slot].requests));
        if (w->kind == WK_REQUEST && strcmp(reason, "crashed") == 0)
            note_crash();

        line = log_new(strcmp(reason, "crashed") == 0 ||
                               strcmp(reason, "fatal") == 0
                           ? KLOG_ERROR
                           : KLOG_INFO,
                       "worker exited");
        if (line) {
            json_object_object_add(line, "worker_pid",
                                   json_object_new_int((int)pid));
            json_object_object_add(line, "worker_index",
                                   json_object_new_int(w->index));
            json_object_object_add(
                line, "kind",
                json_object_new_string(w->kind == WK_JOB ? "job" : "request"));
            json_object_object_add(line, "reason",
                                   json_object_new_string(reason));
            if (WIFEXITED(status))
                json_object_object_add(
                    line, "exit_status",
                    json_object_new_int(WEXITSTATUS(status)));
            else if (WIFSIGNALED(status))
                json_object_object_add(line, "signal",
                                       json_object_new_int(WTERMSIG(status)));
            log_emit(line);
        }
        /*
         * The fatal status stops respawning only while no worker of this
         * generation has ever become ready (a bad deployment); later, a
         * worker that cannot start (say, in a brief outage of something
         * it needs) is a crash like any other: back off and retry.
         */
        if (strcmp(reason, "fatal") == 0 && !M.gen_ready) {
            M.fatal = 1;
        } else if (strcmp(reason, "crashed") == 0 ||
                   strcmp(reason, "fatal") == 0 ||
                   strcmp(reason, "start_timeout") == 0) {
            if (time_mono() - M.last_crash > CRASH_FORGET)
                M.fast_crashes = 0;
            M.last_crash = time_mono();
            if (lived < CRASH_WINDOW) {
                double delay = BACKOFF_FIRST;
                M.fast_crashes++;
                for (int i = 1; i < M.fast_crashes && delay < BACKOFF_MAX; i++)
                    delay *= 2;
                if (delay > BACKOFF_MAX)
                    delay = BACKOFF_MAX;
                M.backoff_until = time_mono() + delay;
                log_printf(KLOG_WARN,
                           "worker died %.2fs after start; next start in "
                           "%.1fs",
                           lived, delay);
            } else {
                M.fast_crashes = 0;
            }
        }
        atomic_store(&M.sb->slots[slot].pid, 0);
        w->pid = 0;
    }
}

/*
 * A log line about the request thread `th` of `w` runs, begun at
 * `started`: its request id, method, path, time so far and worker.  0 when
 * that request has ended meanwhile (its labels may be another's now).
 */
static int
request_line(enum klog_level level, const char *msg, const wproc_t *w,
             sb_thread_t *th, long long started, long long now,
             json_object **out)
{
    char rid[sizeof(th->request_id)], method[sizeof(th->method)];
    char path[sizeof(th->path)], route[sizeof(th->route)];
    json_object *line;

    /* Copied without a lock: re-checked against started_ns below. */
    memcpy(rid, th->request_id, sizeof(rid));
    memcpy(method, th->method, sizeof(method));
    memcpy(path, th->path, sizeof(path));
    memcpy(route, th->route, sizeof(route));
    route[sizeof(route) - 1] = '\0';
    rid[sizeof(rid) - 1] = '\0';
    method[sizeof(method) - 1] = '\0';
    path[sizeof(path) - 1] = '\0';
    *out = NULL;
    if (atomic_load_explicit(&th->started_ns, memory_order_acquire) != started)
        return 0;
    *out = line = log_new(level, msg);
    if (line == NULL)
        return 1;
    json_object_object_add(line, "request_id", json_object_new_string(rid));
    json_object_object_add(line, "method", json_object_new_string(method));
    json_object_object_add(line, "path", json_object_new_string(path));
    json_object_object_add(
        line, "route", route[0] != '\0' ? json_object_new_string(route) : NULL);
    json_object_object_add(
        line, "elapsed_s",
        json_object_new_double((double)(now - started) / 1e9));
    json_object_object_add(line, "worker_pid",
                           json_object_new_int((int)w->pid));
    return 1;
}

/* Log a request past slow_request_threshold, once: where it is. */
static void
slow_request(const wproc_t *w, sb_thread_t *th, long long started,
             long long now)
{
    int phase = atomic_load_explicit(&th->phase, memory_order_relaxed);
    json_object *line;

    if (!request_line(KLOG_WARN, "slow request", w, th, started, now, &line))
        return;
    atomic_fetch_add(&M.sb->slow_requests, 1);
    if (line == NULL)
        return;
    json_object_object_add(
        line, "phase",
        json_object_new_string(phase >= SB_READING && phase <= SB_WRITING
                                   ? sb_phase_names[phase]
                                   : "unknown"));
    log_emit(line);
}

/* Kill workers whose request has run past request_timeout. */
static void
watchdog(void)
{
    long long now = scoreboard_now_ns();
    long long limit = (long long)(M.cfg->request_timeout * 1e9);
    long long slow = (long long)(M.cfg->slow_request * 1e9);

    for (size_t s = 0; s < M.nprocs; s++) {
        wproc_t *w = &M.procs[s];
        if (w->pid == 0 || w->timed_out)
            continue;
        /* A worker that never gets ready would stall a reload for ever. */
        if (!atomic_load(&M.sb->slots[s].ready) && !w->stop_sent &&
            time_mono() - w->started > WORKER_START_TIMEOUT) {
            log_printf(KLOG_ERROR,
                       "worker %d not ready after %.0fs; "
                       "killing it",
                       (int)w->pid, WORKER_START_TIMEOUT);
            w->timed_out = 2;
            kill(w->pid, SIGKILL);
            continue;
        }
        if (limit <= 0 && slow <= 0)
            continue;
        for (int t = 0; t < SB_MAX_THREADS; t++) {
            sb_thread_t *th = &M.sb->slots[s].threads[t];
            long long started =
                atomic_load_explicit(&th->started_ns, memory_order_acquire);
            json_object *line;

            if (started != 0 && slow > 0 && now - started > slow &&
                w->slow_logged[t] != started) {
                w->slow_logged[t] = started;
                slow_request(w, th, started, now);
            }
            if (started == 0 || limit <= 0 || now - started <= limit)
                continue;
            /* The request may have ended (and another begun) meanwhile. */
            if (!request_line(KLOG_ERROR, "request timed out; killing worker",
                              w, th, started, now, &line))
                continue;
            if (line)
                log_emit(line);
            w->timed_out = 1;
            /* A thread inside a request has every signal blocked. */
            kill(w->pid, SIGKILL);
            break;
        }
    }
}

/*
 * For keelctl status: the most request threads busy at once (sampled each
 * tick), and the listen queue where the kernel tells it (TCP: the accept
 * queue and its bound from TCP_INFO; unix sockets: not told).
 */
static void
sample_load(void)
{
    int active = 0;
    struct tcp_info ti;
    socklen_t len = sizeof(ti);

    for (size_t s = 0; s < M.nprocs; s++) {
        if (M.procs[s].pid == 0 || M.procs[s].kind != WK_REQUEST)
            continue;
        for (int t = 0; t < M.cfg->threads && t < SB_MAX_THREADS; t++)
            active +=
                atomic_load_explicit(&M.sb->slots[s].threads[t].started_ns,
                                     memory_order_relaxed) != 0;
    }
    if (active > atomic_load(&M.sb->active_max))
        atomic_store(&M.sb->active_max, active);
    memset(&ti, 0, sizeof(ti));
    if (M.listener->unix_path == NULL &&
        getsockopt(M.listener->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 &&
        ti.tcpi_state == TCP_LISTEN) {
        atomic_store(&M.sb->listen_queue, (int)ti.tcpi_unacked);
        atomic_store(&M.sb->listen_backlog, (int)ti.tcpi_sacked);
        if ((int)ti.tcpi_unacked > atomic_load(&M.sb->listen_queue_max))
            atomic_store(&M.sb->listen_queue_max, (int)ti.tcpi_unacked);
    }
}

/* Keep `workers` current-generation workers; roll old ones one by one. */
static void
maintain(void)
{
    int target = config_workers(M.cfg) < M.max_workers ? config_workers(M.cfg)
                                                       : M.max_workers;
    int cur = 0, cur_ready = 0, cur_starting = 0, old = 0;
    double now = time_mono();

    for (size_t s = 0; s < M.nprocs; s++) {
        wproc_t *w = &M.procs[s];
        if (w->pid == 0 || w->stop_sent || w->kind != WK_REQUEST)
            continue;
        if (w->gen == M.gen) {
            cur++;
            if (atomic_load(&M.sb->slots[s].ready)) {
                cur_ready++;
                M.gen_ready = 1;
            } else {
                cur_starting++;
            }
        } else {
            old++;
        }
    }
    atomic_store(&M.sb->replacing, old);
    /* Every worker of this generation accepts, none of an older one is
     * left: started, or reloaded (systemd's start or reload job ends). */
    if (M.announce && old == 0 && cur_ready >= target) {
        notify_ready(target, M.cfg->threads);
        M.announce = 0;
    }
    if (old > 0) {
        /* Reload: never fewer than `target` workers ready to accept. */
        if (cur_ready + old > target) {
            for (size_t s = 0; s < M.nprocs; s++) {
                wproc_t *w = &M.procs[s];
                if (w->pid && !w->stop_sent && w->kind == WK_REQUEST &&
                    w->gen != M.gen) {
                    worker_stop(w, SIGTERM);
                    break;
                }
            }
        } else if (cur_starting == 0 && !M.fatal && now >= M.backoff_until) {
            worker_spawn(WK_REQUEST);
        }
        return;
    }
    if (cur > target) {
        for (size_t s = M.nprocs; s-- > 0;) {
            wproc_t *w = &M.procs[s];
            if (w->pid && !w->stop_sent && w->kind == WK_REQUEST &&
                cur > target) {
                worker_stop(w, SIGTERM);
                cur--;
            }
        }
    }
    while (cur < target && !M.fatal && now >= M.backoff_until) {
        worker_spawn(WK_REQUEST);
        cur++;
        if (M.fast_crashes > 0)
            break; /* after a crash, start one at a time */
    }
}

/*
 * Keep `[jobs] workers` job workers of the current generation.  Jobs wait
 * durably in the queue, so a reload simply stops the old ones (each
 * finishes the job in hand) and starts new ones.
 */
static void
maintain_jobs(void)
{
    int target = M.app->njob_types > 0 ? M.cfg->job_workers : 0;
    int cur = 0;

    for (size_t s = 0; s < M.nprocs; s++) {
        wproc_t *w = &M.procs[s];
        if (w->pid == 0 || w->stop_sent || w->kind != WK_JOB)
            continue;
        if (w->gen != M.gen || cur >= target)
            worker_stop(w, SIGTERM);
        else
            cur++;
    }
    while (cur < target && !M.fatal && time_mono() >= M.backoff_until) {
        worker_spawn(WK_JOB);
        cur++;
    }
}

/* Escalate for workers that ignore a stop request past the timeout. */
static void
enforce_stop_timeout(void)
{
    double now = time_mono();

    for (size_t s = 0; s < M.nprocs; s++) {
        wproc_t *w = &M.procs[s];
        if (w->pid && w->stop_sent &&
            now - w->stop_sent > M.cfg->shutdown_timeout) {
            log_printf(KLOG_WARN,
                       "worker %d did not stop within %.0fs; killing it",
                       (int)w->pid, M.cfg->shutdown_timeout);
            kill(w->pid, SIGKILL);
            w->stop_sent = now + 3600; /* do not repeat every tick */
        }
    }
}

static void
reload(void)
{
    keel_config_t *next = calloc(1, sizeof(*next));
    char err[512];
    keel_rc rc;

    if (next == NULL) {
        log_printf(KLOG_ERROR, "reload: out of memory");
        return;
    }
    rc = config_load(next, M.config_path, environ, err, sizeof(err));
    if (rc != KEEL_OK) {
        log_printf(KLOG_ERROR,
                   "reload refused, keeping the running "
                   "configuration: %s",
                   rc == KEEL_EINVAL ? err : "out of memory");
        config_free(next);
        free(next);
        return;
    }
    if (rc == KEEL_OK && M.app->check_config != NULL &&
        M.app->check_config(next, err, sizeof(err)) != KEEL_OK) {
        log_printf(KLOG_ERROR,
                   "reload refused, keeping the running configuration: %s",
                   err);
        config_free(next);
        free(next);
        return;
    }
    /* The socket is already open: listening changes need a restart. */
    if (strcmp(next->listen, M.cfg->listen) != 0 ||
        next->socket_mode != M.cfg->socket_mode ||
        strcmp(next->socket_owner, M.cfg->socket_owner) != 0 ||
        strcmp(next->socket_group, M.cfg->socket_group) != 0 ||
        next->backlog != M.cfg->backlog)
        log_printf(KLOG_WARN, "reload: listen settings changed; they take "
                              "effect at the next restart");
    if (strcmp(next->user, M.cfg->user) != 0 ||
        strcmp(next->group, M.cfg->group) != 0)
        log_printf(KLOG_WARN, "reload: user and group changes take effect "
                              "at the next restart");
    if (config_workers(next) > M.max_workers)
        log_printf(KLOG_WARN,
                   "reload: running %d workers, not %d: more "
                   "than %d needs a restart",
                   M.max_workers, config_workers(next), M.max_workers);
    if (log_open(next->log_file, (enum klog_level)next->log_level) != 0)
        log_printf(KLOG_ERROR, "reload: cannot open log file %s: %s",
                   next->log_file, strerror(errno));
    /* Workers forked earlier keep their own copy of the old config. */
    config_free(M.cfg);
    free(M.cfg);
    M.cfg = next;
    hashgate_init(M.cfg->hash_concurrency);
    atomic_store(&M.sb->workers, config_workers(next));
    atomic_store(&M.sb->threads, next->threads);
    M.gen++;
    M.gen_ready = 0;
    M.fatal = 0;
    M.fast_crashes = 0;
    M.backoff_until = 0;
    log_printf(KLOG_INFO, "configuration reloaded; replacing workers");
}

/*
 * Started as root: become [server] user (and group) now that the socket
 * is bound and the shared memory mapped, before any worker exists, so
 * that no worker ever runs as root.  Without a user, root is refused
 * unless allow_root says otherwise.  Not root: a user other than the
 * current one cannot be had, and is refused.  0, or -1 (logged).
 */
static int
drop_privileges(const keel_config_t *cfg)
{
    struct passwd *pw;
    struct group *gr;
    gid_t gid;

    if (cfg->user[0] == '\0') {
        if (geteuid() == 0 && !cfg->allow_root) {
            log_printf(KLOG_ERROR, "running as root: set [server] user (the "
                                   "workers' account), or allow_root = on");
            return -1;
        }
        if (geteuid() == 0)
            log_printf(KLOG_WARN, "workers run as root (allow_root = on)");
        return 0;
    }
    pw = getpwnam(cfg->user);
    if (pw == NULL) {
        log_printf(KLOG_ERROR, "[server] user %s: no such user", cfg->user);
        return -1;
    }
    if (pw->pw_uid == 0) {
        log_printf(KLOG_ERROR,
                   "[server] user %s is root: name an "
                   "unprivileged account",
                   cfg->user);
        return -1;
    }
    gid = pw->pw_gid;
    if (cfg->group[0] != '\0') {
        gr = getgrnam(cfg->group);
        if (gr == NULL) {
            log_printf(KLOG_ERROR, "[server] group %s: no such group",
                       cfg->group);
            return -1;
        }
        gid = gr->gr_gid;
    }
    if (geteuid() != 0) {
        if (geteuid() == pw->pw_uid && getegid() == gid)
            return 0;
        log_printf(KLOG_ERROR,
                   "[server] user %s: only root can switch to "
                   "it",
                   cfg->user);
        return -1;
    }
    if (initgroups(cfg->user, gid) != 0 || setgid(gid) != 0 ||
        setuid(pw->pw_uid) != 0) {
        log_printf(KLOG_ERROR, "cannot become %s: %s", cfg->user,
                   strerror(errno));
        return -1;
    }
    if (setuid(0) == 0) { /* must be impossible now */
        log_printf(KLOG_ERROR, "could regain root after dropping it");
        return -1;
    }
    /* Let processes of the same user read each other's /proc files (the
     * metrics read every worker's memory), as before the switch. */
    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
    log_printf(KLOG_INFO, "running as %s (uid %ld, gid %ld)", cfg->user,
               (long)pw->pw_uid, (long)gid);
    return 0;
}

static void
signal_workers(int sig)
{
    for (size_t s = 0; s < M.nprocs; s++)
        if (M.procs[s].pid)
            kill(M.procs[s].pid, sig);
}

static int
live_workers(void)
{
    int n = 0;

    for (size_t s = 0; s < M.nprocs; s++)
        if (M.procs[s].pid)
            n++;
    return n;
}

static int
live_request_workers(void)
{
    int n = 0;

    for (size_t s = 0; s < M.nprocs; s++)
        if (M.procs[s].pid && M.procs[s].kind == WK_REQUEST)
            n++;
    return n;
}

static void
begin_stop(const char *why)
{
    if (M.stopping)
        return;
    M.stopping = 1;
    notify_stopping();
    M.stop_deadline = time_mono() + M.cfg->shutdown_timeout;
    log_printf(KLOG_INFO, "%s: stopping gracefully (up to %.0fs)", why,
               M.cfg->shutdown_timeout);
    for (size_t s = 0; s < M.nprocs; s++)
        if (M.procs[s].pid)
            worker_stop(&M.procs[s], SIGTERM);
}

int
master_run(keel_config_t *cfg, const char *config_path, const keel_app_t *app,
           listener_t *listener)
{
    sigset_t wait_set;
    int workers = config_workers(cfg);
    int status = 0;

    M.cfg = cfg;
    M.config_path = config_path;
    M.app = app;
    M.listener = listener;
    /*
     * Room to run old and new workers side by side during a reload, also
     * after a reload that raises `workers` (up to WORKERS_HEADROOM without
     * a restart).  Unused slots are untouched pages of the mapping.
     */
    M.max_workers = workers > WORKERS_HEADROOM ? workers : WORKERS_HEADROOM;
    M.nprocs = (size_t)M.max_workers * 2 + 2 + 2 * 16; /* + job workers */
    /* With a pid file, the scoreboard is a file beside it: keelctl status
     * maps it too. */
    if (cfg->pid_file[0] != '\0') {
        scoreboard_path(cfg->pid_file, M.sb_path, sizeof(M.sb_path));
        M.sb = scoreboard_create(M.nprocs, M.sb_path);
        if (M.sb == NULL)
            log_printf(KLOG_WARN,
                       "cannot create %s (%s): keelctl status "
                       "will not see this server",
                       M.sb_path, strerror(errno));
        else
            M.sb_file = 1;
    }
    if (M.sb == NULL)
        M.sb = scoreboard_create(M.nprocs, NULL);
    if (M.sb != NULL) {
        atomic_store(&M.sb->workers, workers);
        atomic_store(&M.sb->threads, cfg->threads);
    }
    /* One cursor key for every worker when [http] cursor_secret is "". */
    coll_key_init();
    /* The rate-limit buckets every worker shares (a restart resizes). */
    if (ratelimit_init((size_t)cfg->rl_table_size) != 0)
        log_printf(KLOG_ERROR, "cannot map the rate-limit table: limits are "
                               "off");
    /* Per-worker metric slots, numbered as the scoreboard's. */
    {
        size_t nroutes = 0;
        for (size_t t = 0; t < app->ntables; t++)
            nroutes += app->tables[t].nroutes;
        if (metrics_init(M.nprocs, nroutes, app->njob_types) != 0)
            log_printf(KLOG_ERROR, "cannot map the metrics: /metrics will "
                                   "show no counts");
    }
    /* The password-hashing slots (DESIGN.md 1); reload changes the count. */
    if (hashgate_init(cfg->hash_concurrency) != 0)
        log_printf(KLOG_ERROR, "cannot map the hashing slots: password "
                               "hashing is not capped");
    M.procs = calloc(M.nprocs, sizeof(*M.procs));
    if (M.sb == NULL || M.procs == NULL) {
        log_printf(KLOG_ERROR, "cannot allocate the scoreboard");
        status = 1;
        goto out;
    }
    if (drop_privileges(cfg) != 0) {
        status = 1;
        goto out;
    }
    log_set_process("master", -1);
    log_printf(KLOG_INFO,
               "%s %s master started: %d worker(s) x %d "
               "thread(s), socket %s (%s)",
               app->name, app->version, workers, cfg->threads,
               listener->unix_path ? listener->unix_path : cfg->listen,
               listener->origin);

    notify_init();
    M.announce = 1;

    sigemptyset(&wait_set);
    sigaddset(&wait_set, SIGCHLD);
    sigaddset(&wait_set, SIGTERM);
    sigaddset(&wait_set, SIGINT);
    sigaddset(&wait_set, SIGQUIT);
    sigaddset(&wait_set, SIGHUP);
    sigaddset(&wait_set, SIGUSR1);

    for (;;) {
        struct timespec tick = { 0, 50 * 1000 * 1000 };
        int sig = sigtimedwait(&wait_set, NULL, &tick);

        switch (sig) {
        case SIGTERM:
        case SIGINT:
        case SIGQUIT:
            begin_stop(sig == SIGINT    ? "SIGINT"
                       : sig == SIGQUIT ? "SIGQUIT"
                                        : "SIGTERM");
            break;
        case SIGHUP:
            if (!M.stopping) {
                /* systemctl reload waits for the READY=1 that follows
                 * (at once when the new file is refused). */
                notify_reloading();
                reload();
                M.announce = 1;
            }
            break;
        case SIGUSR1:
            if (log_reopen() != 0)
                log_printf(KLOG_ERROR, "cannot reopen log file: %s",
                           strerror(errno));
            signal_workers(SIGUSR1);
            break;
        default:
            break;
        }
        reap();
        notify_watchdog(time_mono());
        if (M.stopping) {
            if (live_workers() == 0)
                break;
            if (time_mono() > M.stop_deadline) {
                log_printf(KLOG_WARN,
                           "shutdown_timeout reached; killing %d "
                           "worker(s)",
                           live_workers());
                signal_workers(SIGKILL);
                M.stop_deadline = time_mono() + 3600;
            }
            continue;
        }
        watchdog();
        sample_load();
        enforce_stop_timeout();
        maintain();
        maintain_jobs();
        if (M.fatal && live_request_workers() == 0) {
            log_printf(KLOG_ERROR, "a worker could not start (fatal exit); "
                                   "not respawning, master exits");
            status = 1;
            break;
        }
    }
    if (status == 0)
        log_printf(KLOG_INFO, "master stopped");
out:
    listener_close(listener, 1);
    if (M.sb_file)
        unlink(M.sb_path);
    if (M.sb)
        scoreboard_destroy(M.sb);
    free(M.procs);
    config_free(M.cfg);
    free(M.cfg);
    return status;
}
