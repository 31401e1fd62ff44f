/*
 * test_process.c - the process model under load, through nginx: a killed
 * worker is respawned, a reload refuses nothing, workers are recycled, a
 * runaway request is ended, logs reopen, bad configs are refused, and a
 * graceful stop lets in-flight requests finish.  The stop test runs last:
 * it ends the server.  Needs KEEL_TEST_URL, KEEL_TEST_DIR, KEEL_TEST_KEELD.
 */
#include "keel-build.h"

#include "../unit/unit.h"
#include "client.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WORKERS 2 /* as run.sh configures keeld-test */
#define LOADERS 4

static const char *base, *dir, *keeld_bin;
static char log_path[4096], conf_path[4096];

static pid_t
master_pid(void)
{
    char path[4200];
    FILE *f;
    long pid = 0;

    snprintf(path, sizeof(path), "%s/keeld.master.pid", dir);
    f = fopen(path, "r");
    if (f == NULL)
        return 0;
    if (fscanf(f, "%ld", &pid) != 1)
        pid = 0;
    fclose(f);
    return (pid_t)pid;
}

/* Live (non-zombie) children of `parent`; returns how many. */
static int
children(pid_t parent, pid_t *out, int max)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    int n = 0;

    while (d && (e = readdir(d)) != NULL) {
        char path[300], comm[64], state;
        int pid, ppid;
        FILE *f;

        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
        f = fopen(path, "r");
        if (f == NULL)
            continue;
        /* Request workers only: job workers are named keel-jobs. */
        if (fscanf(f, "%d %63s %c %d", &pid, comm, &state, &ppid) == 4 &&
            ppid == parent && state != 'Z' && n < max &&
            strcmp(comm, "(keel-jobs)") != 0)
            out[n++] = pid;
        fclose(f);
    }
    if (d)
        closedir(d);
    return n;
}

static int
contains(const pid_t *a, int n, pid_t p)
{
    for (int i = 0; i < n; i++)
        if (a[i] == p)
            return 1;
    return 0;
}

static int
alive(pid_t pid)
{
    char path[64], comm[64], state = 'Z';
    int p;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    f = fopen(path, "r");
    if (f == NULL)
        return 0;
    if (fscanf(f, "%d %63s %c", &p, comm, &state) != 3)
        state = 'Z';
    fclose(f);
    return state != 'Z';
}

/* ---- load generator --------------------------------------------------- */

typedef struct load {
    pthread_t tid;
    atomic_int *stop;
    atomic_int ok, failed; /* read while the loaders run */
} load_t;

static void *
load_loop(void *arg)
{
    load_t *l = arg;

    while (!atomic_load(l->stop)) {
        http_resp_t r;
        http_do(base, "GET", "/health", NULL, NULL, 0, &r);
        if (r.status == 200)
            atomic_fetch_add(&l->ok, 1);
        else
            atomic_fetch_add(&l->failed, 1);
        resp_free(&r);
    }
    return NULL;
}

static void
load_start(load_t *loads, atomic_int *stop)
{
    atomic_store(stop, 0);
    for (int i = 0; i < LOADERS; i++) {
        loads[i].stop = stop;
        atomic_store(&loads[i].ok, 0);
        atomic_store(&loads[i].failed, 0);
        pthread_create(&loads[i].tid, NULL, load_loop, &loads[i]);
    }
}

static void
load_stop(load_t *loads, atomic_int *stop, int *ok, int *failed)
{
    atomic_store(stop, 1);
    *ok = *failed = 0;
    for (int i = 0; i < LOADERS; i++) {
        pthread_join(loads[i].tid, NULL);
        *ok += atomic_load(&loads[i].ok);
        *failed += atomic_load(&loads[i].failed);
    }
}

/* Wait until the master has WORKERS live children; returns them. */
static int
wait_workers(pid_t master, pid_t *pids, double timeout)
{
    double end = unit_now() + timeout;
    int n;

    do {
        n = children(master, pids, 16);
        if (n == WORKERS)
            return n;
        usleep(10000);
    } while (unit_now() < end);
    return n;
}

/* ---- tests ------------------------------------------------------------ */

static void
test_killed_worker_is_respawned_within_a_second_under_load(void)
{
    pid_t master = master_pid(), before[16], after[16], victim;
    load_t loads[LOADERS];
    atomic_int stop;
    int ok, failed, n, killed;
    double t0, respawned = -1;

    CU_ASSERT_EQUAL_FATAL(wait_workers(master, before, 5), WORKERS);
    load_start(loads, &stop);
    usleep(500000);
    /* A worker may have been recycled (max_requests) and reaped between
     * the listing and the kill: take a worker that is there. */
    for (int tries = 0;; tries++) {
        n = children(master, before, 16);
        CU_ASSERT_TRUE_FATAL(n >= 1);
        victim = before[0];
        t0 = unit_now();
        killed = kill(victim, SIGKILL) == 0;
        if (killed || errno != ESRCH || tries == 20)
            break;
    }
    CU_ASSERT_TRUE(killed);
    while (unit_now() - t0 < 3.0) {
        n = children(master, after, 16);
        if (n == WORKERS && !contains(after, n, victim)) {
            respawned = unit_now() - t0;
            break;
        }
        usleep(5000);
    }
    usleep(800000);
    /* At least 100 answers under this load; a slower build (sanitizers)
     * takes longer to give them. */
    for (t0 = unit_now(); unit_now() - t0 < 20.0; usleep(50000)) {
        ok = 0;
        for (int i = 0; i < LOADERS; i++)
            ok += atomic_load(&loads[i].ok);
        if (ok > 100)
            break;
    }
    load_stop(loads, &stop, &ok, &failed);
    fprintf(stderr, "    respawned in %.3fs; %d ok, %d failed\n", respawned, ok,
            failed);
    CU_ASSERT_TRUE(respawned >= 0 && respawned < 1.0);
    CU_ASSERT_TRUE(ok > 100);
    /* Only what was in flight on the killed worker (1 thread) may fail. */
    CU_ASSERT_TRUE(failed <= 1);
}

static void
test_reload_under_load_refuses_nothing(void)
{
    pid_t master = master_pid(), before[16], after[16];
    load_t loads[LOADERS];
    atomic_int stop;
    int ok, failed, nb, na, replaced = 1;

    nb = wait_workers(master, before, 5);
    CU_ASSERT_EQUAL_FATAL(nb, WORKERS);
    load_start(loads, &stop);
    usleep(300000);
    CU_ASSERT_EQUAL(kill(master, SIGHUP), 0);
    usleep(700000);
    CU_ASSERT_EQUAL(kill(master, SIGHUP), 0);
    usleep(1500000);
    load_stop(loads, &stop, &ok, &failed);
    na = wait_workers(master, after, 5);
    fprintf(stderr, "    %d ok, %d failed during two reloads\n", ok, failed);
    CU_ASSERT_EQUAL(failed, 0);
    CU_ASSERT_TRUE(ok > 100);
    CU_ASSERT_EQUAL(na, WORKERS);
    for (int i = 0; i < nb; i++)
        if (contains(after, na, before[i]))
            replaced = 0;
    CU_ASSERT_TRUE(replaced);
    CU_ASSERT_TRUE(file_contains(log_path, "configuration reloaded"));
}

static void
test_workers_are_recycled_after_max_requests(void)
{
    pid_t seen[64];
    int nseen = 0, failed = 0;

    /* run.sh sets max_requests = 100 */
    for (int i = 0; i < 320; i++) {
        http_resp_t r;
        json_object *pid;
        http_do(base, "GET", "/test/sleep?ms=0", NULL, NULL, 0, &r);
        if (r.status != 200)
            failed++;
        pid = json_path(r.json, "data.pid");
        if (pid && !contains(seen, nseen, json_object_get_int(pid)) &&
            nseen < 64)
            seen[nseen++] = json_object_get_int(pid);
        resp_free(&r);
    }
    fprintf(stderr, "    %d distinct worker pids over 320 requests\n", nseen);
    CU_ASSERT_EQUAL(failed, 0);
    CU_ASSERT_TRUE(nseen >= 3);
    CU_ASSERT_TRUE(file_contains(log_path, "\"reason\":\"recycled\""));
}

static void
test_request_past_timeout_ends_its_worker(void)
{
    static const char *const h[] = { "X-Request-Id: timeout-probe-77", NULL };
    http_resp_t r;
    double t0 = unit_now(), took;

    /* run.sh sets request_timeout = 2s */
    http_do(base, "GET", "/test/sleep?ms=6000", h, NULL, 0, &r);
    took = unit_now() - t0;
    fprintf(stderr, "    runaway request ended after %.2fs with %ld\n", took,
            r.status);
    CU_ASSERT_TRUE(took >= 1.9 && took < 4.5);
    CU_ASSERT_EQUAL(r.status, 503);
    CU_ASSERT_STRING_EQUAL(json_path_str(r.json, "error.code"),
                           "SERVICE_UNAVAILABLE");
    resp_free(&r);
    usleep(200000);
    CU_ASSERT_TRUE(file_contains(log_path, "request timed out"));
    CU_ASSERT_TRUE(file_contains(log_path, "timeout-probe-77"));
    CU_ASSERT_TRUE(file_contains(log_path, "\"reason\":\"request_timeout\""));
    http_do(base, "GET", "/health", NULL, NULL, 0, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    resp_free(&r);
}

static void
test_worker_that_cannot_accept_is_replaced(void)
{
    pid_t master = master_pid(), pids[16], victim, after[16];
    struct rlimit lim;
    char fddir[64];
    int nfd, n, ok = 0;

    CU_ASSERT_EQUAL_FATAL(wait_workers(master, pids, 5), WORKERS);
    victim = pids[0];
    /* Leave the worker no file descriptor to accept with (EMFILE): the
     * limit is the lowest fd number it does not use. */
    snprintf(fddir, sizeof(fddir), "/proc/%d/fd", (int)victim);
    for (nfd = 0; nfd < 1024; nfd++) {
        char p[96];
        struct stat st;
        snprintf(p, sizeof(p), "%s/%d", fddir, nfd);
        if (lstat(p, &st) != 0)
            break;
    }
    lim.rlim_cur = lim.rlim_max = (rlim_t)nfd;
    CU_ASSERT_EQUAL_FATAL(prlimit(victim, RLIMIT_NOFILE, &lim, NULL), 0);
    for (int i = 0; i < 40; i++) {
        http_resp_t r;
        http_do(base, "GET", "/health", NULL, NULL, 0, &r);
        ok += r.status == 200;
        resp_free(&r);
    }
    /* Every request was served (by the other worker or the new one). */
    CU_ASSERT_EQUAL(ok, 40);
    n = wait_workers(master, after, 3);
    CU_ASSERT_EQUAL(n, WORKERS);
    usleep(300000);
    CU_ASSERT_FALSE(alive(victim));
    CU_ASSERT_TRUE(file_contains(log_path, "FCGX_Accept_r failed"));
}

static void
test_sigusr1_reopens_log_files(void)
{
    static const char *const h[] = { "X-Request-Id: reopen-probe-5", NULL };
    char rotated[4200];
    http_resp_t r;
    struct stat st;

    snprintf(rotated, sizeof(rotated), "%s.1", log_path);
    CU_ASSERT_EQUAL_FATAL(rename(log_path, rotated), 0);
    CU_ASSERT_EQUAL(kill(master_pid(), SIGUSR1), 0);
    usleep(400000);
    for (int i = 0; i < 4; i++) { /* reach every worker */
        http_do(base, "GET", "/health", h, NULL, 0, &r);
        CU_ASSERT_EQUAL(r.status, 200);
        resp_free(&r);
    }
    usleep(200000);
    CU_ASSERT_EQUAL(stat(log_path, &st), 0);
    CU_ASSERT_TRUE(file_contains(log_path, "reopen-probe-5"));
    CU_ASSERT_FALSE(file_contains(rotated, "reopen-probe-5"));
}

/* Run keeld-test with args; returns exit status, output in out. */
static int
run_keeld(const char *args, char *out, size_t len)
{
    char cmd[8192];

    snprintf(cmd, sizeof(cmd), "%s %s 2>&1", keeld_bin, args);
    return unit_command(cmd, out, len);
}

static void
test_bad_config_is_refused_with_its_line(void)
{
    char path[4200], args[8400], out[4096];
    FILE *f;

    snprintf(path, sizeof(path), "%s/bad.conf", dir);
    f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("# bad\n[server]\nworkers = lots\n", f);
    fclose(f);
    snprintf(args, sizeof(args), "--check-config --config %s", path);
    CU_ASSERT_EQUAL(run_keeld(args, out, sizeof(out)), 2);
    snprintf(args, sizeof(args), "%s:3: workers", path);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, args));
    /* Starting for real is refused the same way, before any fork. */
    snprintf(args, sizeof(args), "--foreground --config %s", path);
    CU_ASSERT_EQUAL(run_keeld(args, out, sizeof(out)), 2);
    /* And the good one passes the check. */
    snprintf(args, sizeof(args), "--check-config --config %s", conf_path);
    CU_ASSERT_EQUAL(run_keeld(args, out, sizeof(out)), 0);
}

static void
test_second_instance_refuses_a_live_socket(void)
{
    char args[8400], out[4096];
    http_resp_t r;

    /* Its pid file is elsewhere: the socket check is what must stop it. */
    snprintf(args, sizeof(args), "--foreground --config %s", conf_path);
    setenv("KEEL_SERVER_PID_FILE", "/tmp/keel-second-instance.pid", 1);
    CU_ASSERT_EQUAL(run_keeld(args, out, sizeof(out)), 1);
    unsetenv("KEEL_SERVER_PID_FILE");
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "already running"));
    http_do(base, "GET", "/health", NULL, NULL, 0, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    resp_free(&r);
}

/* Rewrite the `workers = N` line of the running config. */
static void
set_workers(int n)
{
    char text[8192], out[8300];
    FILE *f = fopen(conf_path, "r");
    size_t len = fread(text, 1, sizeof(text) - 1, f);
    char *line;

    fclose(f);
    text[len] = '\0';
    line = strstr(text, "workers = ");
    CU_ASSERT_PTR_NOT_NULL_FATAL(line);
    snprintf(out, sizeof(out), "%.*sworkers = %d%s", (int)(line - text), text,
             n, strchr(line, '\n'));
    f = fopen(conf_path, "w");
    fputs(out, f);
    fclose(f);
}

static int
count_workers_settling(pid_t master, int want)
{
    pid_t pids[64];
    int n = 0;

    for (int i = 0; i < 200; i++) {
        n = children(master, pids, 64);
        if (n == want)
            return n;
        usleep(25000);
    }
    return n;
}

static void
test_reload_applies_a_new_worker_count(void)
{
    pid_t master = master_pid();
    http_resp_t r;

    set_workers(5);
    CU_ASSERT_EQUAL(kill(master, SIGHUP), 0);
    CU_ASSERT_EQUAL(count_workers_settling(master, 5), 5);
    http_do(base, "GET", "/health", NULL, NULL, 0, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    resp_free(&r);
    set_workers(WORKERS);
    CU_ASSERT_EQUAL(kill(master, SIGHUP), 0);
    CU_ASSERT_EQUAL(count_workers_settling(master, WORKERS), WORKERS);
}

typedef struct slow {
    pthread_t tid;
    http_resp_t r;
} slow_t;

static void *
slow_request(void *arg)
{
    slow_t *s = arg;
    http_do(base, "GET", "/test/sleep?ms=1500", NULL, NULL, 0, &s->r);
    return NULL;
}

static void
test_sigterm_lets_inflight_requests_finish(void)
{
    pid_t master = master_pid();
    char sock[4200], pidfile[4200];
    slow_t s;
    double t0;
    struct stat st;

    snprintf(sock, sizeof(sock), "%s/keel.sock", dir);
    snprintf(pidfile, sizeof(pidfile), "%s/keeld.pid", dir);
    CU_ASSERT_EQUAL(stat(pidfile, &st), 0);
    pthread_create(&s.tid, NULL, slow_request, &s);
    usleep(400000);
    t0 = unit_now();
    CU_ASSERT_EQUAL(kill(master, SIGTERM), 0);
    pthread_join(s.tid, NULL);
    CU_ASSERT_EQUAL(s.r.status, 200);
    CU_ASSERT_EQUAL(json_object_get_int(json_path(s.r.json, "data.slept_ms")),
                    1500);
    resp_free(&s.r);
    while (alive(master) && unit_now() - t0 < 8.0)
        usleep(20000);
    CU_ASSERT_FALSE(alive(master));
    CU_ASSERT_NOT_EQUAL(stat(sock, &st), 0);    /* socket removed */
    CU_ASSERT_NOT_EQUAL(stat(pidfile, &st), 0); /* pid file removed */
    CU_ASSERT_TRUE(file_contains(log_path, "master stopped"));
}

static const unit_test_t tests[] = {
    { "killed worker is respawned within a second under load",
      test_killed_worker_is_respawned_within_a_second_under_load },
    { "reload under load refuses nothing",
      test_reload_under_load_refuses_nothing },
    { "workers are recycled after max_requests",
      test_workers_are_recycled_after_max_requests },
    { "request past request_timeout ends its worker",
      test_request_past_timeout_ends_its_worker },
    { "a worker that cannot accept is replaced",
      test_worker_that_cannot_accept_is_replaced },
    { "SIGUSR1 reopens log files", test_sigusr1_reopens_log_files },
    { "bad config is refused with its line",
      test_bad_config_is_refused_with_its_line },
    { "second instance refuses a live socket",
      test_second_instance_refuses_a_live_socket },
    { "reload applies a new worker count",
      test_reload_applies_a_new_worker_count },
    { "SIGTERM lets in-flight requests finish (stops the server)",
      test_sigterm_lets_inflight_requests_finish },
};

int
main(void)
{
    base = client_base("KEEL_TEST_URL");
    dir = client_base("KEEL_TEST_DIR");
    keeld_bin = client_base("KEEL_TEST_KEELD");
    snprintf(log_path, sizeof(log_path), "%s/log/keeld.log", dir);
    snprintf(conf_path, sizeof(conf_path), "%s/keel.conf", dir);
    curl_global_init(CURL_GLOBAL_ALL);
    return unit_run("process model", UNIT_TESTS(tests));
}
