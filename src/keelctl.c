/*
 * keelctl.c - the administration tool: check a configuration, list the
 * route table with each route's auth mode and permission.
 */
#include "keel-build.h"

#include "api/routes.h"
#include "core/config.h"
#include "http/chain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

#ifndef KEEL_SYSCONFDIR
#define KEEL_SYSCONFDIR "/etc"
#endif

static const char *const auth_names[] = {
    [AUTH_NONE] = "none",
    [AUTH_OPTIONAL] = "optional",
    [AUTH_BEARER] = "bearer",
};

static void
usage(FILE *out)
{
    fprintf(out, "usage: keelctl [-c FILE] COMMAND\n"
                 "commands:\n"
                 "  check-config   load and check the configuration\n"
                 "  routes         print the route table (method, path, "
                 "auth, permission)\n"
                 "  version        print the version\n");
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
    if (i != argc - 1) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[i], "check-config") == 0)
        return cmd_check_config(path);
    if (strcmp(argv[i], "routes") == 0)
        return cmd_routes();
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
