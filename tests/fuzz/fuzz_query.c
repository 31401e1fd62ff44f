/*
 * fuzz_query.c - percent-decoding and the parsers of the request line:
 * url_decode (path and query flavours), query_parse, path_split, and the
 * small header parsers (Content-Type, X-Request-Id, traceparent).
 */
#include "keel-build.h"

#include "fuzz.h"
#include "http/request.h"

static void
check_decode(const uint8_t *data, size_t size, int plus)
{
    char *out = xmalloc(size + 1);
    ssize_t n = url_decode((const char *)data, size, out, plus);

    /* Decoding never grows the text, and never lets a NUL through. */
    if (n >= 0) {
        FUZZ_CHECK((size_t)n <= size);
        FUZZ_CHECK(strlen(out) == (size_t)n);
    }
    free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    arena_t a;
    kv_t *kv;
    char **segs;
    size_t n;
    const char *why = NULL;
    char trace[33], parent[17];

    check_decode(data, size, 0);
    check_decode(data, size, 1);

    arena_init(&a);
    if (query_parse(&a, s, 64, &kv, &n, &why) == KEEL_OK) {
        FUZZ_CHECK(n <= 64);
        for (size_t i = 0; i < n; i++)
            FUZZ_CHECK(kv[i].name != NULL && kv[i].value != NULL &&
                       strlen(kv[i].name) + strlen(kv[i].value) <= strlen(s));
    } else {
        FUZZ_CHECK(why != NULL);
    }
    if (s[0] == '/') {
        keel_rc rc = path_split(&a, s, &segs, &n, &why);
        if (rc == KEEL_OK) {
            FUZZ_CHECK(n <= REQUEST_MAX_SEGMENTS);
            /* A '/' inside a segment can only come from a %2F. */
            for (size_t i = 0; i < n; i++)
                FUZZ_CHECK(strchr(segs[i], '/') == NULL ||
                           strcasestr(s, "%2f") != NULL);
        } else {
            FUZZ_CHECK(rc == KEEL_EBADREQ || rc == KEEL_ENOTFOUND);
        }
    }
    arena_destroy(&a);

    (void)content_type_is_json(s);
    if (request_id_valid(s))
        FUZZ_CHECK(strlen(s) >= 1 && strlen(s) <= REQUEST_ID_MAX);
    if (traceparent_parse(s, trace, parent))
        FUZZ_CHECK(strlen(trace) == 32 && strlen(parent) == 16);
    free(s);
    return 0;
}
