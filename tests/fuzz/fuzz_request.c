/*
 * fuzz_request.c - a request built from FastCGI params, as a worker builds
 * it: the input is the params block ("NAME=value" entries separated by NUL
 * bytes), under the default limits.  What parses is then routed against
 * the real route table and its query checked against the route's
 * collection schema, as the chain does before any handler runs.
 */
#include "keel-build.h"

#include "fuzz.h"
#include "http/collection.h"
#include "http/router.h"

#define MAX_PARAMS 256

static void
check_query(const keel_request_t *req, const route_t *route, arena_t *a)
{
    json_object *details = json_object_new_array();
    coll_query_t q;

    if (route->query != NULL &&
        coll_parse(route->query, req->query, req->nquery, FUZZ_CURSOR_SECRET, a,
                   &q, details) == KEEL_OK) {
        char *sql;
        const char *params[COLL_MAX_PARAMS];
        int np;
        FUZZ_CHECK(q.limit >= 1 && q.limit <= COLL_LIMIT_MAX);
        FUZZ_CHECK(json_object_array_length(details) == 0);
        if (coll_sql(&q, NULL, 0, &sql, params, &np) == KEEL_OK)
            free(sql);
    } else if (route->select != NULL) {
        (void)coll_parse_single(route->select, req->query, req->nquery, a, &q,
                                details);
    }
    json_object_put(details);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const keel_http_t *http = fuzz_http();
    char *s = fuzz_cstr(data, size);
    char *envp[MAX_PARAMS];
    keel_request_t req;
    route_match_t m;
    const char *why = NULL;
    arena_t a;
    keel_rc rc;

    fuzz_split(s, size, '\0', envp, MAX_PARAMS);
    arena_init(&a);
    rc = request_from_params(&req, &a, envp, &http->limits, &why);
    /* Whatever happened, the request has an id, and a trace to pass on. */
    FUZZ_CHECK(request_id_valid(req.request_id));
    FUZZ_CHECK(strlen(req.traceparent) == 55);
    FUZZ_CHECK(req.method_name != NULL && req.path != NULL);
    if (rc == KEEL_OK) {
        FUZZ_CHECK(req.nsegments <= REQUEST_MAX_SEGMENTS);
        FUZZ_CHECK(req.nquery <= http->limits.max_query_params);
        FUZZ_CHECK(strlen(req.path) <= http->limits.max_path);
        for (size_t i = 0; i < req.nheaders; i++)
            FUZZ_CHECK(strlen(req.headers[i].value) <= http->limits.max_header);
        if (router_match(http->router, req.method, req.segments, req.nsegments,
                         &m) == KEEL_OK)
            check_query(&req, m.route, &a);
    } else {
        FUZZ_CHECK(rc == KEEL_EBADREQ || rc == KEEL_ENOTFOUND ||
                   rc == KEEL_EURITOOLONG || rc == KEEL_EHEADERS);
    }
    arena_destroy(&a);
    free(s);
    return 0;
}
