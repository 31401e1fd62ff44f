/*
 * test_listen.c - keeld takes its socket the ways deployments hand it over:
 * on fd 0 from spawn-fcgi, as fd 3 with LISTEN_FDS from systemd socket
 * activation (systemd-socket-activate), or bound itself from `listen`.
 * Talks raw FastCGI to the socket.  Needs KEEL_TEST_KEELD.
 */
#include "keel-build.h"

#include "../unit/unit.h"
#include "fcgi_client.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *keeld_bin;
static char dir[] = "/tmp/keel-listen.XXXXXX";

static const char *const health[] = { "REQUEST_METHOD=GET",
                                      "REQUEST_URI=/health",
                                      "REMOTE_ADDR=127.0.0.1", NULL };

/* A config for one worker; the extras are appended to [server] and to
 * the end ("[database]\n..."). */
static void
write_config_with(const char *listen, const char *server_extra,
                  const char *extra)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/keel.conf", dir);
    f = fopen(path, "w");
    fprintf(f,
            "[server]\nlisten = %s\nworkers = 1\nsocket_mode = 0600\n%s"
            "[auth]\njwt_secret = test-listen-secret-0123456789abcdef\n"
            "[log]\nfile = %s/keeld.log\n%s",
            listen, server_extra, dir, extra);
    fclose(f);
}

static void
write_config(const char *listen)
{
    write_config_with(listen, "", "");
}

static pid_t
launch(char *const argv[])
{
    pid_t pid = fork();

    if (pid == 0) {
        execvp(argv[0], argv);
        _exit(127);
    }
    return pid;
}

/* Ask for /health until it answers (up to 10 s); returns the response. */
static long
health_via(const char *sock, char *out, size_t len)
{
    long n = -1;

    for (int i = 0; i < 200 && n < 0; i++) {
        n = fcgi_request(sock, health, NULL, 0, out, len);
        if (n < 0)
            usleep(50000);
    }
    return n;
}

static int
stop(pid_t pid)
{
    int status = -1;

    kill(pid, SIGTERM);
    for (int i = 0; i < 200; i++) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
        usleep(50000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

static void
assert_healthy(const char *out)
{
    CU_ASSERT_EQUAL(strncmp(out, "Status: 200 OK\r\n", 16), 0);
    /* No database here: "degraded", but answered by keel. */
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"checks\":{\"database\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "X-Request-Id: "));
}

static void
test_binds_the_configured_unix_socket(void)
{
    char sock[256], conf[256], out[8192];
    struct stat st;
    pid_t pid;

    snprintf(sock, sizeof(sock), "%s/own.sock", dir);
    snprintf(conf, sizeof(conf), "%s/keel.conf", dir);
    write_config(sock);
    pid = launch((char *const[]){ (char *)keeld_bin, "--foreground", "--config",
                                  conf, NULL });
    CU_ASSERT_TRUE(health_via(sock, out, sizeof(out)) > 0);
    assert_healthy(out);
    CU_ASSERT_EQUAL_FATAL(stat(sock, &st), 0);
    CU_ASSERT_EQUAL(st.st_mode & 0777, 0600); /* socket_mode */
    CU_ASSERT_EQUAL(stop(pid), 0);
    CU_ASSERT_NOT_EQUAL(stat(sock, &st), 0); /* removed at stop */
}

/* For a keeld handed its socket by a launcher: DIR/NAME.sock for the
 * launcher to bind, and a config whose listen names DIR/NAME-unused.sock,
 * which keeld must then leave alone. */
static void
inherited_setup(const char *name, char sock[256], char unused[256],
                char conf[256])
{
    snprintf(sock, 256, "%s/%s.sock", dir, name);
    snprintf(unused, 256, "%s/%s-unused.sock", dir, name);
    snprintf(conf, 256, "%s/keel.conf", dir);
    write_config(unused);
}

/* keeld `pid` serves on the socket it was handed, `sock`, and never bound
 * the configured `unused` one (the listen key is not used); stopped. */
static void
assert_serves_inherited(pid_t pid, const char *sock, const char *unused)
{
    char out[8192];
    struct stat st;

    CU_ASSERT_TRUE(health_via(sock, out, sizeof(out)) > 0);
    assert_healthy(out);
    CU_ASSERT_NOT_EQUAL(stat(unused, &st), 0);
    CU_ASSERT_EQUAL(stop(pid), 0);
}

static void
test_takes_fd_0_from_spawn_fcgi(void)
{
    char sock[256], unused[256], conf[256];
    pid_t pid;

    inherited_setup("spawn", sock, unused, conf);
    /* -n: spawn-fcgi binds, puts the socket on fd 0 and execs keeld. */
    pid = launch((char *const[]){ "spawn-fcgi", "-n", "-s", sock, "-M", "0600",
                                  "--", (char *)keeld_bin, "--foreground",
                                  "--config", conf, NULL });
    assert_serves_inherited(pid, sock, unused);
}

static void
test_takes_listen_fds_from_systemd(void)
{
    char sock[256], unused[256], conf[256];
    pid_t pid;

    inherited_setup("systemd", sock, unused, conf);
    /* It passes on only the environment it is told to: as root keeld
     * needs allow_root (lib.sh sets it for everything else). */
    pid =
        launch((char *const[]){ "systemd-socket-activate", "-l", sock, "-E",
                                "KEEL_SERVER_ALLOW_ROOT=on", (char *)keeld_bin,
                                "--foreground", "--config", conf, NULL });
    assert_serves_inherited(pid, sock, unused);
}

static void
test_oversized_body_is_drained_and_answered_413(void)
{
    char sock[256], conf[256], out[8192];
    static const char *const post[] = { "REQUEST_METHOD=POST",
                                        "REQUEST_URI=/test/echo",
                                        "CONTENT_TYPE=application/json",
                                        "CONTENT_LENGTH=3145728", NULL };
    size_t n = 3 * 1024 * 1024;
    char *body = malloc(n);
    pid_t pid;

    memset(body, ' ', n);
    snprintf(sock, sizeof(sock), "%s/own.sock", dir);
    snprintf(conf, sizeof(conf), "%s/keel.conf", dir);
    write_config(sock);
    pid = launch((char *const[]){ (char *)keeld_bin, "--foreground", "--config",
                                  conf, NULL });
    CU_ASSERT_TRUE(health_via(sock, out, sizeof(out)) > 0);
    /* The whole body is written before the answer is read: keeld must
     * drain it, or this write would stall or fail. */
    CU_ASSERT_TRUE(fcgi_request(sock, post, body, n, out, sizeof(out)) > 0);
    CU_ASSERT_EQUAL(strncmp(out, "Status: 413 ", 12), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "PAYLOAD_TOO_LARGE"));
    CU_ASSERT_EQUAL(stop(pid), 0);
    free(body);
}

typedef struct paused {
    pthread_t tid;
    const char *sock;
    long n;
    char out[8192];
} paused_t;

static void *
paused_health(void *arg)
{
    /* REQUEST_URI first, REQUEST_METHOD after the pause. */
    static const char *const params[] = { "REQUEST_URI=/health",
                                          "REQUEST_METHOD=GET", NULL };
    paused_t *p = arg;

    p->n = fcgi_request_paused(p->sock, params, 600, p->out, sizeof(p->out));
    return NULL;
}

static void
test_half_received_request_survives_a_graceful_stop(void)
{
    char sock[256], conf[256], out[8192];
    paused_t p;
    pid_t pid;

    snprintf(sock, sizeof(sock), "%s/own.sock", dir);
    snprintf(conf, sizeof(conf), "%s/keel.conf", dir);
    write_config(sock);
    pid = launch((char *const[]){ (char *)keeld_bin, "--foreground", "--config",
                                  conf, NULL });
    CU_ASSERT_TRUE_FATAL(health_via(sock, out, sizeof(out)) > 0);
    /* The request is accepted and half read when the stop begins: its
     * worker must finish it whole, not cut its params short. */
    p.sock = sock;
    pthread_create(&p.tid, NULL, paused_health, &p);
    usleep(200000);
    kill(pid, SIGTERM);
    pthread_join(p.tid, NULL);
    CU_ASSERT_TRUE(p.n > 0);
    assert_healthy(p.out);
    CU_ASSERT_EQUAL(stop(pid), 0);
}

typedef struct held {
    pthread_t tid;
    const char *sock;
    long n;
    double took;
    char out[8192];
} held_t;

static void *
db_sleep(void *arg)
{
    static const char *const params[] = { "REQUEST_METHOD=GET",
                                          "REQUEST_URI=/test/db-sleep?ms=1500",
                                          NULL };
    held_t *h = arg;
    struct timespec a, b;

    clock_gettime(CLOCK_MONOTONIC, &a);
    h->n = fcgi_request(h->sock, params, NULL, 0, h->out, sizeof(h->out));
    clock_gettime(CLOCK_MONOTONIC, &b);
    h->took = (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
    return NULL;
}

static void
test_exhausted_pool_answers_503_after_the_acquire_timeout(void)
{
    const char *pgurl = getenv("KEEL_TEST_PGURL");
    char sock[256], conf[256], db[512], out[8192];
    held_t a, b;
    pid_t pid;

    CU_ASSERT_PTR_NOT_NULL_FATAL(pgurl);
    snprintf(sock, sizeof(sock), "%s/pool.sock", dir);
    snprintf(conf, sizeof(conf), "%s/keel.conf", dir);
    snprintf(db, sizeof(db),
             "[database]\nurl = \"%s\"\npool_size = 1\n"
             "pool_acquire_timeout = 500ms\n",
             pgurl);
    /* Two accept threads share one connection. */
    write_config_with(sock, "threads = 2\n", db);
    pid = launch((char *const[]){ (char *)keeld_bin, "--foreground", "--config",
                                  conf, NULL });
    CU_ASSERT_TRUE_FATAL(health_via(sock, out, sizeof(out)) > 0);
    a.sock = b.sock = sock;
    pthread_create(&a.tid, NULL, db_sleep, &a);
    usleep(300000);
    pthread_create(&b.tid, NULL, db_sleep, &b);
    pthread_join(b.tid, NULL);
    pthread_join(a.tid, NULL);
    CU_ASSERT_EQUAL(strncmp(a.out, "Status: 200 ", 12), 0);
    CU_ASSERT_EQUAL(strncmp(b.out, "Status: 503 ", 12), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(b.out, "\r\nRetry-After: "));
    CU_ASSERT_PTR_NOT_NULL(strstr(b.out, "SERVICE_UNAVAILABLE"));
    CU_ASSERT_TRUE(b.took >= 0.45 && b.took < 1.2);
    /* The connection comes back: the next request is served. */
    pthread_create(&b.tid, NULL, db_sleep, &b);
    pthread_join(b.tid, NULL);
    CU_ASSERT_EQUAL(strncmp(b.out, "Status: 200 ", 12), 0);
    CU_ASSERT_EQUAL(stop(pid), 0);
}

static pid_t
launch_with_worker_init(const char *mode, const char *sock)
{
    char conf[256], log[256];
    pid_t pid;

    snprintf(conf, sizeof(conf), "%s/keel.conf", dir);
    snprintf(log, sizeof(log), "%s/keeld.log", dir);
    unlink(log);
    write_config(sock);
    setenv("KEEL_TEST_WORKER_INIT", mode, 1);
    pid = launch((char *const[]){ (char *)keeld_bin, "--foreground", "--config",
                                  conf, NULL });
    unsetenv("KEEL_TEST_WORKER_INIT");
    return pid;
}

static void
test_fatal_worker_exit_is_not_respawned(void)
{
    char sock[256];
    int status = -1;
    pid_t pid;

    snprintf(sock, sizeof(sock), "%s/fatal.sock", dir);
    pid = launch_with_worker_init("fatal", sock);
    for (int i = 0; i < 100; i++) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            break;
        usleep(50000);
    }
    if (!WIFEXITED(status)) {
        stop(pid);
        CU_FAIL("master kept running after a fatal worker exit");
        return;
    }
    CU_ASSERT_EQUAL(WEXITSTATUS(status), 1);
    CU_ASSERT_EQUAL(unit_log_count(dir, "\"reason\":\"fatal\""), 1);
    CU_ASSERT_EQUAL(unit_log_count(dir, "KEEL_TEST_WORKER_INIT=fatal"), 1);
}

static void
test_crashing_workers_are_respawned_with_back_off(void)
{
    char sock[256];
    pid_t pid;
    int crashes;

    snprintf(sock, sizeof(sock), "%s/crash.sock", dir);
    pid = launch_with_worker_init("crash", sock);
    sleep(3);
    CU_ASSERT_EQUAL(stop(pid), 0);
    crashes = unit_log_count(dir, "\"reason\":\"crashed\"");
    fprintf(stderr, "    %d crashes in 3 s\n", crashes);
    /* 0.1 s doubling up to 10 s: about six in 3 s, not hundreds. */
    CU_ASSERT_TRUE(crashes >= 3 && crashes <= 9);
    CU_ASSERT_TRUE(unit_log_count(dir, "next start in") >= 3);
}

/* ---- sd_notify ---------------------------------------------------------- */

/* A datagram socket at `path`, as systemd's $NOTIFY_SOCKET. */
static int
notify_socket(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    if (strlen(path) >= sizeof(sa.sun_path)) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    unlink(path);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/*
 * Read datagrams for up to `timeout` seconds until one has the line
 * `want` (e.g. "READY=1"); 1 when seen.  Every line read is appended to
 * `seen` ("|"-separated), for the asserts and the failure message.
 */
static int
notify_wait(int fd, const char *want, double timeout, char *seen,
            size_t seen_len)
{
    double end = unit_now() + timeout;

    while (unit_now() < end) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        char msg[1024];
        ssize_t n;
        int found = 0;

        if (poll(&p, 1, (int)((end - unit_now()) * 1000) + 1) <= 0)
            continue;
        n = recv(fd, msg, sizeof(msg) - 1, 0);
        if (n <= 0)
            continue;
        msg[n] = '\0';
        for (char *save = NULL, *line = strtok_r(msg, "\n", &save);
             line != NULL; line = strtok_r(NULL, "\n", &save)) {
            size_t used = strlen(seen);
            snprintf(seen + used, seen_len - used, "%s|", line);
            found |= strcmp(line, want) == 0;
        }
        if (found)
            return 1;
    }
    return 0;
}

/* How many times `line|` occurs in `seen`. */
static int
seen_count(const char *seen, const char *line)
{
    char needle[64];
    int n = 0;

    snprintf(needle, sizeof(needle), "%s|", line);
    for (const char *p = strstr(seen, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/*
 * Under a unit of Type=notify (keeld built with libsystemd): READY=1 only
 * once every request worker accepts (three, the last of them 0.75 s
 * late), the watchdog pinged at half WATCHDOG_USEC, RELOADING=1 then
 * READY=1 again on SIGHUP, STOPPING=1 on SIGTERM.  Built without it,
 * keeld sends nothing at all.
 */
#ifdef HAVE_SYSTEMD
/* keelctl status of the server configured in DIR/keel.conf, its output in
 * `out`; its exit status (-1 when it cannot run). */
static int
status_of(char *out, size_t len)
{
    char cmd[1024];
    const char *keelctl = getenv("KEEL_TEST_KEELCTL");

    out[0] = '\0';
    if (keelctl == NULL)
        return -1;
    snprintf(cmd, sizeof(cmd), "'%s' -c '%s/keel.conf' status 2>&1", keelctl,
             dir);
    return unit_command(cmd, out, len);
}

/* Whether keelctl status says `what` within 2 s. */
static int
status_until(const char *what, char *out, size_t len)
{
    for (int i = 0; i < 80; i++) {
        if (status_of(out, len) == 0 && strstr(out, what) != NULL)
            return 1;
        usleep(25000);
    }
    return 0;
}
#endif

static void
test_tells_systemd_ready_reloading_stopping(void)
{
    char sock[256], conf[256], nsock[256], stagger[256], out[8192];
    char pidf[300];
    char seen[4096] = "";
    double t0;
    int fd, ready;
    pid_t pid;

    snprintf(sock, sizeof(sock), "%s/notify-keel.sock", dir);
    snprintf(nsock, sizeof(nsock), "%s/notify", dir);
    snprintf(stagger, sizeof(stagger), "%s/stagger", dir);
    snprintf(conf, sizeof(conf), "%s/keel.conf", dir);
    /* A pid file, so that keelctl status finds the scoreboard. */
    snprintf(pidf, sizeof(pidf), "pid_file = %s/notify.pid\n", dir);
    unlink(stagger);
    write_config_with(sock, pidf, "");
    fd = notify_socket(nsock);
    CU_ASSERT_FATAL(fd >= 0);
    setenv("NOTIFY_SOCKET", nsock, 1);
    setenv("WATCHDOG_USEC", "400000", 1);
    setenv("KEEL_SERVER_WORKERS", "3", 1);
    setenv("KEEL_TEST_WORKER_INIT", "stagger", 1);
    setenv("KEEL_TEST_STAGGER_FILE", stagger, 1);
    t0 = unit_now();
    pid = launch((char *const[]){ (char *)keeld_bin, "--foreground", "--config",
                                  conf, NULL });
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("KEEL_SERVER_WORKERS");
    unsetenv("KEEL_TEST_WORKER_INIT");
    unsetenv("KEEL_TEST_STAGGER_FILE");

    ready = notify_wait(fd, "READY=1", 15, seen, sizeof(seen));
#ifdef HAVE_SYSTEMD
    double ready_at = unit_now() - t0;

    CU_ASSERT_TRUE(ready);
    /* Not at the first ready worker (0.25 s): at the third (0.75 s). */
    CU_ASSERT_TRUE(ready_at >= 0.75);
    CU_ASSERT_PTR_NOT_NULL(strstr(seen, "STATUS=Serving: 3 request worker"));
    /* Ready means serving: the first request is answered. */
    CU_ASSERT_TRUE(fcgi_request(sock, health, NULL, 0, out, sizeof(out)) > 0);
    assert_healthy(out);
    /* The watchdog every 0.2 s: a second's worth. */
    notify_wait(fd, "never", 1.0, seen, sizeof(seen));
    CU_ASSERT_TRUE(seen_count(seen, "WATCHDOG=1") >= 3);

    seen[0] = '\0';
    unlink(stagger); /* the new workers take 0.25, 0.5, 0.75 s again */
    kill(pid, SIGHUP);
    /* Meanwhile keelctl status says old workers are being replaced; the
     * notifications wait in the socket. */
    CU_ASSERT_TRUE(status_until("of an older generation being replaced", out,
                                sizeof(out)));
    CU_ASSERT_TRUE(notify_wait(fd, "READY=1", 15, seen, sizeof(seen)));
    /* At READY=1 none is left to replace. */
    CU_ASSERT_EQUAL(status_of(out, sizeof(out)), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "request workers:"));
    CU_ASSERT_PTR_NULL(strstr(out, "being replaced"));
    /* RELOADING=1 came first, then the new workers (0.25 s and later
     * each) before READY=1. */
    CU_ASSERT_PTR_NOT_NULL(strstr(seen, "RELOADING=1|"));
    CU_ASSERT_TRUE(strstr(seen, "RELOADING=1|") < strstr(seen, "READY=1|"));
    CU_ASSERT_EQUAL(seen_count(seen, "READY=1"), 1);

    seen[0] = '\0';
    kill(pid, SIGTERM);
    CU_ASSERT_TRUE(notify_wait(fd, "STOPPING=1", 10, seen, sizeof(seen)));
    CU_ASSERT_EQUAL(stop(pid), 0);
#else
    CU_ASSERT_FALSE(ready);
    CU_ASSERT_TRUE(health_via(sock, out, sizeof(out)) > 0);
    kill(pid, SIGHUP);
    CU_ASSERT_EQUAL(stop(pid), 0);
    notify_wait(fd, "never", 0.5, seen, sizeof(seen));
    CU_ASSERT_EQUAL(seen_count(seen, "READY=1"), 0);
    CU_ASSERT_STRING_EQUAL(seen, "");
    (void)t0;
#endif
    close(fd);
    unlink(nsock);
}

static const unit_test_t tests[] = {
    { "binds the configured unix socket with its mode",
      test_binds_the_configured_unix_socket },
    { "takes fd 0 from spawn-fcgi", test_takes_fd_0_from_spawn_fcgi },
    { "takes LISTEN_FDS from systemd socket activation",
      test_takes_listen_fds_from_systemd },
    { "oversized body is drained and answered 413",
      test_oversized_body_is_drained_and_answered_413 },
    { "a half-received request survives a graceful stop",
      test_half_received_request_survives_a_graceful_stop },
    { "an exhausted pool answers 503 after the acquire timeout",
      test_exhausted_pool_answers_503_after_the_acquire_timeout },
    { "a fatal worker exit is not respawned and stops the master",
      test_fatal_worker_exit_is_not_respawned },
    { "crashing workers are respawned with back-off",
      test_crashing_workers_are_respawned_with_back_off },
    { "tells systemd ready, reloading and stopping (sd_notify)",
      test_tells_systemd_ready_reloading_stopping },
};

int
main(void)
{
    int rc;

    keeld_bin = getenv("KEEL_TEST_KEELD");
    if (keeld_bin == NULL || mkdtemp(dir) == NULL) {
        fprintf(stderr, "KEEL_TEST_KEELD is not set\n");
        return 1;
    }
    rc = unit_run("listening socket", UNIT_TESTS(tests));
    if (rc != 0) {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "tail -n 20 %s/keeld.log >&2", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "(no keeld log)\n");
    }
    {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", dir);
    }
    return rc;
}
