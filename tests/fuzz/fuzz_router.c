/*
 * fuzz_router.c - the router over the reference application's real route
 * table: an arbitrary method token and path ("METHOD\n/path"), split and
 * decoded as a request's would be, matched for that method and for every
 * other.
 */
#include "keel-build.h"

#include "fuzz.h"
#include "http/router.h"

static void
check_match(enum http_method method, char **segs, size_t n)
{
    route_match_t m;
    char allow[128];
    keel_rc rc;

    memset(&m, 0, sizeof(m));
    rc = router_match(fuzz_http()->router, method, segs, n, &m);
    if (rc == KEEL_OK) {
        FUZZ_CHECK(m.route != NULL && m.pattern != NULL);
        FUZZ_CHECK(m.route->method == method ||
                   (method == HTTP_HEAD && m.route->method == HTTP_GET));
        FUZZ_CHECK(m.nparams <= ROUTER_MAX_PARAMS && m.nparams <= n);
        for (size_t i = 0; i < m.nparams; i++)
            FUZZ_CHECK(m.params[i].name != NULL && m.params[i].value != NULL);
    } else if (rc == KEEL_EMETHOD) {
        FUZZ_CHECK(m.allow != 0 && !(m.allow & (1u << method)));
        router_allow_string(m.allow, allow, sizeof(allow));
        FUZZ_CHECK(allow[0] != '\0');
    } else {
        FUZZ_CHECK(rc == KEEL_ENOTFOUND);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size), *path, *q;
    char **segs;
    size_t n;
    const char *why;
    arena_t a;

    path = strchr(s, '\n');
    if (path == NULL) {
        free(s);
        return 0;
    }
    *path++ = '\0';
    q = strchr(path, '?');
    if (q != NULL)
        *q = '\0';
    arena_init(&a);
    if (path_split(&a, path, &segs, &n, &why) == KEEL_OK) {
        check_match(http_method_parse(s), segs, n);
        for (int m = 0; m <= HTTP_METHOD__MAX; m++)
            check_match((enum http_method)m, segs, n);
    }
    arena_destroy(&a);
    free(s);
    return 0;
}
