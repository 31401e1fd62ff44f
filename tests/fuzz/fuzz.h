/*
 * fuzz.h - what the libFuzzer targets of tests/fuzz share: the entry point's
 * prototype, turning the input into C strings, the fixed keys the targets
 * verify with, and the real application's tables.
 *
 * A target checks properties of what keel returns with FUZZ_CHECK; a broken
 * property aborts, and libFuzzer keeps the input as a crash, exactly like a
 * fault found by ASan or UBSan.
 */
#ifndef KEEL_TESTS_FUZZ_H
#define KEEL_TESTS_FUZZ_H

#include "api/routes.h"
#include "core/config.h"
#include "core/util.h"
#include "http/chain.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                       \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: property broken: %s\n", __FILE__,          \
                    __LINE__, #cond);                                          \
            abort();                                                           \
        }                                                                      \
    } while (0)

/* The HS256 key of the JWT target and the cursor key of the others: fixed,
 * so that a target can sign what it makes up and reach past the MAC. */
#define FUZZ_JWT_SECRET    "fuzz-jwt-secret-0123456789abcdef0123456789"
#define FUZZ_CURSOR_SECRET "fuzz-cursor-secret-0123456789abcdef"

/*
 * data[0..size) as a NUL-terminated string (free()).  An embedded NUL ends
 * the string there, as it does for every C string keel is handed.
 */
static inline char *
fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = xmalloc(size + 1);

    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/*
 * Split `s` in place at each `sep` into at most max - 1 pieces, NULL
 * terminated in v (an envp).  Returns the number of pieces.
 */
static inline size_t
fuzz_split(char *s, size_t len, char sep, char **v, size_t max)
{
    size_t n = 0;
    char *p = s, *end = s + len;

    while (n + 1 < max && p <= end) {
        char *q = memchr(p, sep, (size_t)(end - p));
        v[n++] = p;
        if (q == NULL)
            break;
        *q = '\0';
        p = q + 1;
    }
    v[n] = NULL;
    return n;
}

/*
 * The distinct non-NULL values of a route_t member over every route of the
 * reference application (its real schemas), in table order.  Returns the
 * count; `v` holds at most max.
 */
#define FUZZ_ROUTE_MEMBERS(member, v, max)                                     \
    fuzz_route_members(offsetof(route_t, member), (const void **)(v), (max))

static inline size_t
fuzz_route_members(size_t off, const void **v, size_t max)
{
    const keel_app_t *app = &keel_api_app;
    size_t n = 0;

    for (size_t t = 0; t < app->ntables; t++) {
        for (size_t i = 0; i < app->tables[t].nroutes; i++) {
            const char *row = (const char *)&app->tables[t].routes[i];
            const void *p;
            size_t k;
            memcpy(&p, row + off, sizeof(p));
            for (k = 0; k < n && v[k] != p; k++)
                ;
            if (p != NULL && k == n && n < max)
                v[n++] = p;
        }
    }
    return n;
}

/*
 * A request worker's HTTP state for the reference application under the
 * default configuration: its limits, and its router over the real route
 * table.  Made on first use, kept for the process.
 */
static inline const keel_http_t *
fuzz_http(void)
{
    static keel_http_t http;
    static keel_config_t cfg;
    static int done;
    char err[256];

    if (!done) {
        done = 1;
        config_defaults(&cfg);
        if (http_init(&http, &cfg, &keel_api_app, 0, err, sizeof(err)) !=
            KEEL_OK) {
            fprintf(stderr, "fuzz: %s\n", err);
            abort();
        }
    }
    return &http;
}

#endif
