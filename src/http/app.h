/*
 * app.h - what an application built on libkeel hands to the server: its
 * name, version and route tables.  keeld is one such application (the
 * reference API in src/api/); tests and examples/ link others.
 */
#ifndef KEEL_HTTP_APP_H
#define KEEL_HTTP_APP_H

#include "core/config.h"
#include "http/route.h"

#include <stddef.h>

typedef struct route_table {
    const route_t *routes;
    size_t nroutes;
} route_table_t;

#define ROUTE_TABLE(rows)                                                      \
    {                                                                          \
        (rows), sizeof(rows) / sizeof((rows)[0])                               \
    }

struct keel_app {
    const char *name;    /* program name in logs and --version */
    const char *version; /* reported by /health and --version */
    const route_table_t *tables;
    size_t ntables;
    /* The schema version (highest migration) this build expects; /ready
     * answers 503 until the database is at it.  0 when no database. */
    int schema_version;
    /*
     * Called in each worker after fork, before it accepts requests (for
     * state that must not be inherited, such as database connections).
     * NULL when none.  A failure is fatal for the worker: it exits with
     * KEEL_EXIT_FATAL and the master does not respawn it.
     */
    keel_rc (*worker_init)(const keel_config_t *cfg, char *err, size_t errlen);
};

#endif
