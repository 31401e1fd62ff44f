/* main.c - command line, configuration, daemonizing, pid file. */
#include "keel-build.h"

#include "server/main.h"
#include "core/config.h"
#include "core/log.h"
#include "http/chain.h"
#include "http/openapi.h"
#include "server/listen.h"
#include "server/master.h"
#include "server/notify.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

#ifndef KEEL_SYSCONFDIR
#define KEEL_SYSCONFDIR "/etc"
#endif

static void
usage(FILE *out, const char *prog)
{
    fprintf(out,
            "usage: %s [-f] [-c FILE] [-t] [-v]\n"
            "  -c, --config FILE    configuration file (default %s/keel/"
            "keel.conf,\n"
            "                       or $KEEL_CONFIG)\n"
            "  -f, --foreground     do not daemonize\n"
            "  -t, --check-config   check the configuration and the route "
            "table, then exit\n"
            "  -o, --openapi        print the OpenAPI 3.1 document of the API "
            "(JSON)\n"
            "                       and exit (no configuration is read)\n"
            "  -v, --version        print the version and exit\n"
            "  -h, --help           this text\n",
            prog, KEEL_SYSCONFDIR);
}

/* 0 when a pid file could be written; refuses one naming a live process. */
static int
pidfile_write(const char *path)
{
    FILE *f;
    long old;
    char tmp[4096];

    f = fopen(path, "re");
    if (f != NULL) {
        if (fscanf(f, "%ld", &old) == 1 && old > 0 && old != (long)getpid() &&
            kill((pid_t)old, 0) == 0) {
            fclose(f);
            fprintf(stderr, "keeld: %s: process %ld is running\n", path, old);
            return -1;
        }
        fclose(f);
    }
    /* Write a temporary file and rename it, so readers never see half. */
    snprintf(tmp, sizeof(tmp), "%s.%ld", path, (long)getpid());
    f = fopen(tmp, "we");
    if (f == NULL || fprintf(f, "%ld\n", (long)getpid()) < 0 ||
        fclose(f) != 0 || rename(tmp, path) != 0) {
        fprintf(stderr, "keeld: cannot write pid file %s: %s\n", path,
                strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

static int
daemonize(int listen_fd)
{
    pid_t pid = fork();
    int devnull;

    if (pid < 0)
        return -1;
    if (pid > 0)
        _exit(0);
    if (setsid() < 0)
        return -1;
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid > 0)
        _exit(0);
    if (chdir("/") != 0)
        return -1;
    devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0)
        return -1;
    /* fd 0 may be the inherited listening socket: keep it then. */
    if (listen_fd != 0)
        dup2(devnull, 0);
    dup2(devnull, 1);
    dup2(devnull, 2);
    if (devnull > 2)
        close(devnull);
    return 0;
}

static int
relative_paths(const keel_config_t *cfg)
{
    const char *paths[] = { cfg->log_file, cfg->pid_file };

    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
        if (paths[i][0] != '\0' && paths[i][0] != '/' &&
            !(i == 0 && strncmp(paths[i], "syslog", 6) == 0 &&
              (paths[i][6] == '\0' || paths[i][6] == ':'))) {
            fprintf(stderr,
                    "keeld: %s must be an absolute path when daemonizing "
                    "(it changes to /)\n",
                    paths[i]);
            return 1;
        }
    return 0;
}

int
keel_main(int argc, char **argv, const keel_app_t *app)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' },
        { "foreground", no_argument, NULL, 'f' },
        { "check-config", no_argument, NULL, 't' },
        { "version", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { "openapi", no_argument, NULL, 'o' },
        { NULL, 0, NULL, 0 },
    };
    const char *config_path = getenv("KEEL_CONFIG");
    char default_path[4096];
    int foreground = 0, check_only = 0, opt;
    keel_config_t *cfg;
    listener_t listener;
    keel_http_t http;
    char err[1024];
    sigset_t all;
    char *pid_file = NULL;
    int status;
    keel_rc rc;

    while ((opt = getopt_long(argc, argv, "c:ftovh", opts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            config_path = optarg;
            break;
        case 'f':
            foreground = 1;
            break;
        case 't':
            check_only = 1;
            break;
        case 'o': {
            /* What GET /v1/openapi.json answers, without a server. */
            json_object *doc = openapi_build(app);
            int ok = puts(json_object_to_json_string_ext(
                         doc, JSON_C_TO_STRING_PRETTY |
                                  JSON_C_TO_STRING_NOSLASHESCAPE)) >= 0 &&
                     fflush(stdout) == 0;
            json_object_put(doc);
            return ok ? 0 : 1;
        }
        case 'v':
            /* Which unit Type= this build supports (keeld.service). */
            printf("%s %s\nsd_notify: %s\n", app->name, app->version,
                   notify_supported() ? "yes" : "no");
            return 0;
        case 'h':
            usage(stdout, argv[0]);
            return 0;
        default:
            usage(stderr, argv[0]);
            return 2;
        }
    }
    if (optind != argc) {
        usage(stderr, argv[0]);
        return 2;
    }
    if (config_path == NULL || *config_path == '\0') {
        snprintf(default_path, sizeof(default_path), "%s/keel/keel.conf",
                 KEEL_SYSCONFDIR);
        config_path = default_path;
    }

    cfg = calloc(1, sizeof(*cfg));
    if (cfg == NULL)
        return 1;
    rc = config_load(cfg, config_path, environ, err, sizeof(err));
    if (rc != KEEL_OK) {
        fprintf(stderr, "keeld: %s\n",
                rc == KEEL_EINVAL ? err : "out of memory");
        status = 2;
        goto out;
    }
    if (app->check_config != NULL &&
        app->check_config(cfg, err, sizeof(err)) != KEEL_OK) {
        fprintf(stderr, "keeld: %s\n", err);
        status = 2;
        goto out;
    }
    /* The route table is part of what --check-config proves sound. */
    rc = http_init(&http, cfg, app, -1, err, sizeof(err));
    if (rc != KEEL_OK) {
        fprintf(stderr, "keeld: route table: %s\n", err);
        status = 2;
        goto out;
    }
    http_free(&http);
    if (check_only) {
        printf("%s: configuration ok\n", config_path);
        status = 0;
        goto out;
    }
    status = 2;
    if (!foreground && relative_paths(cfg))
        goto out;
    if (log_open(cfg->log_file, (enum klog_level)cfg->log_level) != 0) {
        fprintf(stderr, "keeld: cannot open log file %s: %s\n", cfg->log_file,
                strerror(errno));
        goto out;
    }
    /* Everything from here on is synchronous: see master.h. */
    sigfillset(&all);
    sigdelset(&all, SIGSEGV);
    sigdelset(&all, SIGBUS);
    sigdelset(&all, SIGFPE);
    sigdelset(&all, SIGILL);
    sigdelset(&all, SIGABRT);
    sigprocmask(SIG_SETMASK, &all, NULL);
    /* Workers write to closed FastCGI connections; EPIPE, not death. */
    signal(SIGPIPE, SIG_IGN);
    /* libfcgi's lingering close idles a worker (notes/performance.md). */
    setenv("LIBFCGI_OS_CLOSE_POLL_TIMEOUT", "0", 0);

    status = 1;
    if (listener_open(&listener, cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "keeld: %s\n", err);
        log_printf(KLOG_ERROR, "%s", err);
        goto out;
    }
    if (!foreground && daemonize(listener.fd) != 0) {
        log_printf(KLOG_ERROR, "cannot daemonize: %s", strerror(errno));
        listener_close(&listener, 1);
        goto out;
    }
    if (cfg->pid_file[0] != '\0' && pidfile_write(cfg->pid_file) != 0) {
        listener_close(&listener, 1);
        goto out;
    }
    pid_file = strdup(cfg->pid_file);
    /* master_run owns cfg from here (it replaces it on reload). */
    status = master_run(cfg, config_path, app, &listener);
    cfg = NULL;
    if (pid_file && pid_file[0] != '\0')
        unlink(pid_file);
    free(pid_file);
out:
    if (cfg != NULL) {
        config_free(cfg);
        free(cfg);
    }
    return status;
}
