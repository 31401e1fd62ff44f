/*
 * router.h - segment-tree router.
 *
 * Patterns are split on '/' into literal segments and {param} segments.
 * Matching walks the tree one segment at a time (literal children first,
 * found by binary search, then the parameter child, with backtracking), so
 * its cost grows with the depth of the path, not with the number of routes.
 */
#ifndef KEEL_HTTP_ROUTER_H
#define KEEL_HTTP_ROUTER_H

#include "core/error.h"
#include "http/request.h"
#include "http/route.h"

#include <stddef.h>

#define ROUTER_MAX_PARAMS 8

typedef struct router router_t;

typedef struct route_match {
    const route_t *route;
    const char *pattern; /* the matched pattern, also for 404/405 logs */
    size_t nparams;
    kv_t params[ROUTER_MAX_PARAMS];
    unsigned allow; /* bit (1 << method) for each method of the path */
} route_match_t;

/* An empty router.  Free with router_free(). */
router_t *router_new(void);
void router_free(router_t *r);

/*
 * Add a row.  KEEL_EINVAL with a message for a malformed pattern, a route
 * without an auth mode or handler, or a duplicate (method, pattern) —
 * including two patterns that differ only in parameter names.
 */
keel_rc router_add(router_t *r, const route_t *route, char *err, size_t errlen);

/*
 * Match decoded path segments.  KEEL_OK fills m->route and m->params (values
 * point into segs).  HEAD falls back to the GET route.  KEEL_EMETHOD when
 * the path exists with other methods (m->allow set), KEEL_ENOTFOUND when
 * it does not.
 */
keel_rc router_match(const router_t *r, enum http_method method,
                     char *const *segs, size_t nsegs, route_match_t *m);

/* Write the Allow value for a method mask ("GET, HEAD, OPTIONS"). */
void router_allow_string(unsigned allow, char *buf, size_t len);

#endif
