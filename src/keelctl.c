/*
 * keelctl.c - the administration tool: check a configuration, list the
 * route table with each route's auth mode and permission.
 */
#include "keel-build.h"

#include "api/routes.h"
#include "core/config.h"
#include "auth/password.h"
#include "core/validate.h"
#include "db/migrate.h"
#include "jobs/queue.h"
#include "http/chain.h"
#include "server/scoreboard.h"
#include "store/users.h"

#include <errno.h>
#include <signal.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

extern char **environ;

#ifndef KEEL_SYSCONFDIR
#define KEEL_SYSCONFDIR "/etc"
#endif

static const char *const auth_names[] = {
    [AUTH_NONE] = "none",
    [AUTH_OPTIONAL] = "optional",
    [AUTH_BEARER] = "bearer",
};

/* Load and check the configuration; 0, or -1 after saying why. */
static int
load_config(const char *path, keel_config_t *cfg)
{
    char err[1024];
    keel_rc rc = config_load(cfg, path, environ, err, sizeof(err));

    if (rc != KEEL_OK) {
        fprintf(stderr, "keelctl: %s\n",
                rc == KEEL_EINVAL ? err : "out of memory");
        config_free(cfg);
        return -1;
    }
    return 0;
}

static void
usage(FILE *out)
{
    fprintf(out, "usage: keelctl [-c FILE] COMMAND\n"
                 "commands:\n"
                 "  config check         load and check the configuration\n"
                 "  migrate up [N]       apply all (or N) pending migrations\n"
                 "  migrate down [N]     revert the last (or N) migrations\n"
                 "  migrate status       list migrations, applied or "
                 "pending\n"
                 "  user create --email E --name N [--role R]\n"
                 "                       create a user (role \"user\", and R); "
                 "the password\n"
                 "                       is asked for, or read from standard "
                 "input\n"
                 "  jobs list [--status S] [--limit N]\n"
                 "                       list jobs, newest first (default "
                 "50)\n"
                 "  jobs retry ID        re-queue a dead or failed job\n"
                 "  routes               print the route table (method, "
                 "path, auth, permission)\n"
                 "  status               the running keeld's scoreboard: "
                 "requests,\n"
                 "                       threads, queue, slow requests, "
                 "restarts, pool\n"
                 "  reload               SIGHUP to the running keeld "
                 "([server] pid_file)\n"
                 "  stop                 SIGTERM to it, and wait until it "
                 "has stopped\n"
                 "  version              print the version\n"
                 "exit status: 0 ok, 1 failure, 2 usage or configuration "
                 "error\n");
}

/*
 * Read a password: prompted twice without echo on a terminal, else the
 * first line of standard input.  Never from the command line, where other
 * users could see it (ps).  0 or -1.
 */
static int
read_password(char *buf, size_t len)
{
    char again[1100];
    size_t n;

    if (isatty(STDIN_FILENO)) {
        struct termios old, quiet;
        int ok;
        tcgetattr(STDIN_FILENO, &old);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
        fputs("Password: ", stderr);
        ok = fgets(buf, (int)len, stdin) != NULL;
        fputs("\nAgain: ", stderr);
        ok = ok && fgets(again, sizeof(again), stdin) != NULL;
        fputs("\n", stderr);
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        if (!ok || strcmp(buf, again) != 0) {
            fprintf(stderr, "keelctl: the passwords differ\n");
            explicit_bzero(again, sizeof(again));
            return -1;
        }
        explicit_bzero(again, sizeof(again));
    } else if (setvbuf(stdin, NULL, _IONBF, 0), /* no copy in stdio */
               fgets(buf, (int)len, stdin) == NULL) {
        fprintf(stderr, "keelctl: no password on standard input\n");
        return -1;
    }
    n = strlen(buf);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    return 0;
}

static int
cmd_user_create(const char *path, int argc, char **argv)
{
    const char *email = NULL, *name = NULL, *role = NULL, *why;
    char pw[1100], hash[PASSWORD_HASH_MAX], id[37];
    keel_config_t cfg;
    db_pool_t *pool = NULL;
    db_conn_t *c = NULL;
    db_error_t e;
    int status = 2;
    keel_rc rc;

    for (int i = 0; i < argc; i += 2) {
        if (i + 1 >= argc)
            goto usage;
        if (strcmp(argv[i], "--email") == 0)
            email = argv[i + 1];
        else if (strcmp(argv[i], "--name") == 0)
            name = argv[i + 1];
        else if (strcmp(argv[i], "--role") == 0)
            role = argv[i + 1];
        else
            goto usage;
    }
    if (email == NULL || name == NULL)
        goto usage;
    if (!valid_email(email)) {
        fprintf(stderr, "keelctl: --email: must be a valid email address\n");
        return 2;
    }
    if (utf8_length(name, strlen(name)) < 1 ||
        utf8_length(name, strlen(name)) > 100) {
        fprintf(stderr, "keelctl: --name: must be 1 to 100 characters\n");
        return 2;
    }
    if (load_config(path, &cfg) != 0)
        return 2;
    if (read_password(pw, sizeof(pw)) != 0)
        goto out;
    if (password_check(&cfg, pw, &why) != KEEL_OK) {
        fprintf(stderr, "keelctl: password: %s\n", why);
        goto out;
    }
    if (ascii_casecmp(pw, email) == 0) {
        fprintf(stderr, "keelctl: password: must not be the email\n");
        goto out;
    }
    status = 1;
    if (password_hash(&cfg, pw, hash) != KEEL_OK) {
        fprintf(stderr, "keelctl: cannot hash the password\n");
        goto out;
    }
    pool = pool_create(&cfg, 1);
    if (pool == NULL || pool_acquire(pool, &c, &e) != KEEL_OK) {
        fprintf(stderr, "keelctl: cannot connect to the database: %s\n",
                pool ? e.message : "out of memory");
        goto out;
    }
    rc = users_create(c, email, name, hash, role, id, &e);
    if (rc == KEEL_ECONFLICT)
        fprintf(stderr, "keelctl: a user with email %s exists\n", email);
    else if (rc == KEEL_ENOTFOUND)
        fprintf(stderr, "keelctl: no role named %s\n", role);
    else if (rc != KEEL_OK)
        fprintf(stderr, "keelctl: cannot create the user: %s\n", e.message);
    else {
        printf("created user %s <%s>, roles: user%s%s\n", id, email,
               role && strcmp(role, "user") ? ", " : "",
               role && strcmp(role, "user") ? role : "");
        status = 0;
    }
out:
    explicit_bzero(pw, sizeof(pw));
    if (c)
        pool_release(pool, c);
    pool_destroy(pool);
    config_free(&cfg);
    return status;
usage:
    usage(stderr);
    return 2;
}

static int
cmd_jobs(const char *path, int argc, char **argv)
{
    static const char *const statuses[] = { "queued", "running", "succeeded",
                                            "failed", "dead" };
    const char *status = NULL;
    long long limit = 50;
    keel_config_t cfg;
    db_pool_t *pool = NULL;
    db_conn_t *c = NULL;
    db_error_t e;
    int status_code = 1, list = strcmp(argv[0], "list") == 0;
    keel_rc rc;

    if (list) {
        for (int i = 1; i < argc; i += 2) {
            int ok = 0;
            if (i + 1 >= argc)
                goto usage;
            if (strcmp(argv[i], "--status") == 0) {
                status = argv[i + 1];
                for (size_t k = 0; k < KEEL_ARRAY_LEN(statuses); k++)
                    ok |= strcmp(status, statuses[k]) == 0;
                if (!ok) {
                    fprintf(stderr, "keelctl: --status: one of queued, "
                                    "running, succeeded, failed, dead\n");
                    return 2;
                }
            } else if (strcmp(argv[i], "--limit") == 0) {
                if (parse_ll(argv[i + 1], 1, 10000, &limit) != 0) {
                    fprintf(stderr, "keelctl: --limit: 1..10000\n");
                    return 2;
                }
            } else {
                goto usage;
            }
        }
    } else if (strcmp(argv[0], "retry") != 0 || argc != 2) {
        goto usage;
    } else if (!valid_uuid(argv[1])) {
        fprintf(stderr, "keelctl: jobs retry: ID must be a job's UUID\n");
        return 2;
    }
    if (load_config(path, &cfg) != 0)
        return 2;
    pool = pool_create(&cfg, 1);
    if (pool == NULL || pool_acquire(pool, &c, &e) != KEEL_OK) {
        fprintf(stderr, "keelctl: cannot connect to the database: %s\n",
                pool ? e.message : "out of memory");
        goto out;
    }
    if (list) {
        rc = job_list(c, status, (int)limit, stdout, &e);
    } else {
        rc = job_retry(c, argv[1], &e);
        if (rc == KEEL_OK)
            printf("re-queued %s\n", argv[1]);
        else if (rc == KEEL_ENOTFOUND)
            fprintf(stderr, "keelctl: no job %s\n", argv[1]);
        else if (rc == KEEL_ECONFLICT)
            fprintf(stderr, "keelctl: job %s is neither dead nor failed\n",
                    argv[1]);
    }
    if (rc == KEEL_OK)
        status_code = 0;
    else if (rc != KEEL_ENOTFOUND && rc != KEEL_ECONFLICT)
        fprintf(stderr, "keelctl: %s\n", e.message);
out:
    if (c)
        pool_release(pool, c);
    pool_destroy(pool);
    config_free(&cfg);
    return status_code;
usage:
    usage(stderr);
    return 2;
}

static int
cmd_migrate(const char *path, const char *what, const char *count)
{
    keel_config_t cfg;
    migration_t *m = NULL;
    db_pool_t *pool = NULL;
    db_conn_t *c = NULL;
    db_error_t e;
    size_t n = 0;
    long long steps = 0;
    char err[1024];
    int status = 1;
    keel_rc rc;

    if (count != NULL && parse_ll(count, 1, 9999, &steps) != 0) {
        fprintf(stderr, "keelctl: migrate: N must be a number 1..9999\n");
        return 2;
    }
    if (load_config(path, &cfg) != 0)
        return 2;
    if (migrations_load(cfg.db_migrations_dir, &m, &n, err, sizeof(err)) !=
        KEEL_OK) {
        fprintf(stderr, "keelctl: migrations: %s\n", err);
        status = 2;
        goto out;
    }
    pool = pool_create(&cfg, 1);
    if (pool == NULL || pool_acquire(pool, &c, &e) != KEEL_OK) {
        fprintf(stderr, "keelctl: cannot connect to the database: %s\n",
                pool ? e.message : "out of memory");
        goto out;
    }
    /*
     * No session timeouts while migrating: waiting for the advisory lock
     * of a concurrent run, or building an index, may take longer.
     */
    if (db_exec_sql(c, "SET statement_timeout = 0; SET lock_timeout = 0", &e) !=
        KEEL_OK) {
        fprintf(stderr, "keelctl: %s\n", e.message);
        goto out;
    }
    if (strcmp(what, "up") == 0)
        rc = migrate_up(c, m, n, (int)steps, stdout, err, sizeof(err));
    else if (strcmp(what, "down") == 0)
        rc = migrate_down(c, m, n, (int)steps, stdout, err, sizeof(err));
    else
        rc = migrate_status(c, m, n, stdout, err, sizeof(err));
    if (rc != KEEL_OK)
        fprintf(stderr, "keelctl: migrate %s: %s\n", what, err);
    else
        status = 0;
out:
    if (c)
        pool_release(pool, c);
    pool_destroy(pool);
    migrations_free(m, n);
    config_free(&cfg);
    return status;
}

static int
cmd_check_config(const char *path)
{
    keel_config_t cfg;
    keel_http_t http;
    char err[1024];
    keel_rc rc = config_load(&cfg, path, environ, err, sizeof(err));

    if (rc != KEEL_OK) {
        fprintf(stderr, "keelctl: %s\n",
                rc == KEEL_EINVAL ? err : "out of memory");
        config_free(&cfg);
        return 2;
    }
    if (keel_api_app.check_config != NULL &&
        keel_api_app.check_config(&cfg, err, sizeof(err)) != KEEL_OK) {
        fprintf(stderr, "keelctl: %s\n", err);
        config_free(&cfg);
        return 2;
    }
    rc = http_init(&http, &cfg, &keel_api_app, -1, err, sizeof(err));
    if (rc != KEEL_OK) {
        fprintf(stderr, "keelctl: route table: %s\n", err);
        config_free(&cfg);
        return 2;
    }
    http_free(&http);
    config_free(&cfg);
    printf("%s: configuration ok\n", path);
    return 0;
}

static int
cmd_routes(void)
{
    const keel_app_t *app = &keel_api_app;

    for (size_t t = 0; t < app->ntables; t++) {
        for (size_t i = 0; i < app->tables[t].nroutes; i++) {
            const route_t *r = &app->tables[t].routes[i];
            printf("%-7s %-40s %-8s %s\n", http_method_name(r->method),
                   r->pattern, auth_names[r->auth],
                   r->permission ? r->permission : "-");
        }
    }
    return 0;
}

/*
 * The running master named by [server] pid_file: its pid, or 0 with a
 * message (no pid file configured, none written, or its process gone).
 */
static pid_t
running_master(const char *path, double *stop_timeout, char *sb_path,
               size_t sb_len)
{
    keel_config_t cfg;
    char err[1024];
    long pid = 0;
    FILE *f;

    if (config_load(&cfg, path, environ, err, sizeof(err)) != KEEL_OK) {
        fprintf(stderr, "keelctl: %s\n", err);
        config_free(&cfg);
        return -1;
    }
    *stop_timeout = cfg.shutdown_timeout;
    if (sb_path != NULL)
        scoreboard_path(cfg.pid_file, sb_path, sb_len);
    if (cfg.pid_file[0] == '\0') {
        fprintf(stderr, "keelctl: %s sets no [server] pid_file\n", path);
    } else if ((f = fopen(cfg.pid_file, "re")) == NULL) {
        fprintf(stderr, "keelctl: %s: %s (is keeld running?)\n", cfg.pid_file,
                strerror(errno));
    } else {
        if (fscanf(f, "%ld", &pid) != 1 || pid <= 1)
            pid = 0;
        fclose(f);
        if (pid == 0)
            fprintf(stderr, "keelctl: %s holds no pid\n", cfg.pid_file);
        else if (kill((pid_t)pid, 0) != 0 && errno == ESRCH) {
            fprintf(stderr, "keelctl: %s names process %ld, which is gone\n",
                    cfg.pid_file, pid);
            pid = 0;
        }
    }
    config_free(&cfg);
    return (pid_t)pid;
}

/* keelctl reload | stop: exit 0 when done, 1 when there is no server. */
static int
cmd_signal(const char *path, int stop)
{
    double timeout = 30, waited = 0;
    pid_t pid = running_master(path, &timeout, NULL, 0);

    if (pid < 0)
        return 2;
    if (pid == 0)
        return 1;
    if (kill(pid, stop ? SIGTERM : SIGHUP) != 0) {
        fprintf(stderr, "keelctl: cannot signal %ld: %s\n", (long)pid,
                strerror(errno));
        return 1;
    }
    if (!stop) {
        printf("keeld %ld: reloading\n", (long)pid);
        return 0;
    }
    /* The master lets workers finish for shutdown_timeout, then kills. */
    while (kill(pid, 0) == 0 || errno != ESRCH) {
        struct timespec ts = { 0, 100000000 };
        if (waited > timeout + 10) {
            fprintf(stderr, "keelctl: keeld %ld still runs after %.0fs\n",
                    (long)pid, waited);
            return 1;
        }
        nanosleep(&ts, NULL);
        waited += 0.1;
    }
    printf("keeld %ld: stopped\n", (long)pid);
    return 0;
}

/*
 * keelctl status: what php-fpm's status page tells, read from the running
 * master's scoreboard file (beside its pid file) without disturbing it.
 */
static int
cmd_status(const char *path)
{
    double timeout;
    char sb_path[4200], when[32];
    pid_t pid = running_master(path, &timeout, sb_path, sizeof(sb_path));
    const scoreboard_t *sb;
    long long accepted, up;
    int workers = 0, jobs = 0, active = 0, idle = 0, size = 0, busy = 0;
    time_t started;
    struct tm tm;

    if (pid <= 0)
        return pid < 0 ? 2 : 1;
    sb = scoreboard_open(sb_path);
    if (sb == NULL) {
        fprintf(stderr, "keelctl: %s: %s\n", sb_path,
                errno == EPROTO ? "not a scoreboard of this keel version"
                                : strerror(errno));
        return 1;
    }
    accepted = atomic_load(&sb->retired_requests);
    for (size_t s = 0; s < sb->nslots; s++) {
        const sb_worker_t *w = &sb->slots[s];
        if (atomic_load(&w->pid) == 0)
            continue;
        if (atomic_load(&w->job)) {
            jobs++;
            continue;
        }
        workers++;
        accepted += atomic_load(&w->requests);
        size += atomic_load(&w->pool_size);
        busy += atomic_load(&w->pool_busy);
        for (int t = 0; t < atomic_load(&sb->threads) && t < SB_MAX_THREADS;
             t++) {
            if (atomic_load(&w->threads[t].started_ns) != 0)
                active++;
            else
                idle++;
        }
    }
    started = (time_t)sb->started;
    gmtime_r(&started, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    up = (long long)time(NULL) - sb->started;
    printf("pid:                  %ld\n", (long)pid);
    printf("start time:           %s\n", when);
    printf("uptime:               %lldd %02lld:%02lld:%02lld\n", up / 86400,
           up / 3600 % 24, up / 60 % 60, up % 60);
    printf("accepted requests:    %lld\n", accepted);
    printf("request workers:      %d (configured %d), job workers: %d", workers,
           atomic_load(&sb->workers), jobs);
    /* A reload or an emergency restart still rolling. */
    if (atomic_load(&sb->replacing) > 0)
        printf(", %d of an older generation being replaced",
               atomic_load(&sb->replacing));
    putchar('\n');
    printf("active threads:       %d\n", active);
    printf("idle threads:         %d\n", idle);
    printf("max active threads:   %d\n", atomic_load(&sb->active_max));
    if (atomic_load(&sb->listen_queue) < 0)
        printf("listen queue:         - (a unix socket: the kernel does not "
               "say)\n");
    else
        printf("listen queue:         %d (max %d, backlog %d)\n",
               atomic_load(&sb->listen_queue),
               atomic_load(&sb->listen_queue_max),
               atomic_load(&sb->listen_backlog));
    printf("slow requests:        %lld\n", atomic_load(&sb->slow_requests));
    printf("worker restarts:     ");
    for (int r = 0; r < SB_REASONS; r++)
        printf(" %s %lld%s", sb_reason_names[r], atomic_load(&sb->restarts[r]),
               r + 1 < SB_REASONS ? "," : "\n");
    printf("db connections:       %d busy of %d\n", busy, size);
    scoreboard_close(sb);
    return 0;
}

int
main(int argc, char **argv)
{
    const char *path = getenv("KEEL_CONFIG");
    char default_path[4096];
    int i = 1;

    if (i + 1 < argc &&
        (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0)) {
        path = argv[i + 1];
        i += 2;
    }
    if (path == NULL || *path == '\0') {
        snprintf(default_path, sizeof(default_path), "%s/keel/keel.conf",
                 KEEL_SYSCONFDIR);
        path = default_path;
    }
    if (i + 2 <= argc && strcmp(argv[i], "migrate") == 0) {
        const char *what = argv[i + 1];
        int extra = argc - i - 2;
        if ((strcmp(what, "up") == 0 || strcmp(what, "down") == 0) &&
            extra <= 1)
            return cmd_migrate(path, what, extra ? argv[i + 2] : NULL);
        if (strcmp(what, "status") == 0 && extra == 0)
            return cmd_migrate(path, what, NULL);
        usage(stderr);
        return 2;
    }
    if (i + 2 <= argc && strcmp(argv[i], "jobs") == 0)
        return cmd_jobs(path, argc - i - 1, argv + i + 1);
    if (i + 2 <= argc && strcmp(argv[i], "user") == 0 &&
        strcmp(argv[i + 1], "create") == 0)
        return cmd_user_create(path, argc - i - 2, argv + i + 2);
    if (i + 2 == argc && strcmp(argv[i], "config") == 0 &&
        strcmp(argv[i + 1], "check") == 0)
        return cmd_check_config(path);
    if (i != argc - 1) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[i], "check-config") == 0)
        return cmd_check_config(path);
    if (strcmp(argv[i], "routes") == 0)
        return cmd_routes();
    if (strcmp(argv[i], "status") == 0)
        return cmd_status(path);
    if (strcmp(argv[i], "reload") == 0 || strcmp(argv[i], "stop") == 0)
        return cmd_signal(path, strcmp(argv[i], "stop") == 0);
    if (strcmp(argv[i], "version") == 0) {
        printf("keelctl %s\n", PACKAGE_VERSION);
        return 0;
    }
    if (strcmp(argv[i], "help") == 0 || strcmp(argv[i], "--help") == 0) {
        usage(stdout);
        return 0;
    }
    usage(stderr);
    return 2;
}
