/* router.c - segment tree with literal and parameter children. */
#include "keel-build.h"

#include "http/router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rnode rnode_t;

struct rnode {
    char *literal;  /* segment text for a literal child */
    rnode_t **kids; /* literal children, sorted by literal */
    size_t nkids;
    rnode_t *param;   /* the {param} child, at most one */
    char *param_name; /* its name in the first pattern that added it */
    const route_t *routes[HTTP_METHOD__MAX];
    const char *pattern; /* pattern of the routes at this node */
};

struct router {
    rnode_t root;
};

router_t *
router_new(void)
{
    router_t *r = calloc(1, sizeof(*r));
    return r;
}

static void
node_free(rnode_t *n)
{
    for (size_t i = 0; i < n->nkids; i++) {
        node_free(n->kids[i]);
        free(n->kids[i]);
    }
    free(n->kids);
    if (n->param) {
        node_free(n->param);
        free(n->param);
    }
    free(n->literal);
    free(n->param_name);
}

void
router_free(router_t *r)
{
    if (r == NULL)
        return;
    node_free(&r->root);
    free(r);
}

/* Binary search; returns the index of `seg` or where it would go. */
static size_t
kid_find(const rnode_t *n, const char *seg, int *found)
{
    size_t lo = 0, hi = n->nkids;

    *found = 0;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(n->kids[mid]->literal, seg);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static rnode_t *
kid_add(rnode_t *n, const char *seg, size_t len)
{
    char *lit = strndup(seg, len);
    rnode_t *k, **kids;
    size_t at;
    int found;

    if (lit == NULL)
        return NULL;
    at = kid_find(n, lit, &found);
    if (found) {
        free(lit);
        return n->kids[at];
    }
    k = calloc(1, sizeof(*k));
    kids = realloc(n->kids, (n->nkids + 1) * sizeof(*kids));
    if (k == NULL || kids == NULL) {
        free(lit);
        free(k);
        if (kids)
            n->kids = kids;
        return NULL;
    }
    n->kids = kids;
    memmove(&kids[at + 1], &kids[at], (n->nkids - at) * sizeof(*kids));
    k->literal = lit;
    kids[at] = k;
    n->nkids++;
    return k;
}

keel_rc
router_add(router_t *r, const route_t *route, char *err, size_t errlen)
{
    const char *p = route->pattern;
    rnode_t *n = &r->root;
    size_t nparams = 0;

    if (route->handler == NULL || route->auth == 0 ||
        route->method >= HTTP_METHOD__MAX || route->method == HTTP_HEAD) {
        snprintf(err, errlen,
                 "route %s: needs a handler, an auth mode and a method other "
                 "than HEAD",
                 p ? p : "(null)");
        return KEEL_EINVAL;
    }
    /* A permission or an ownership rule on a public route would never be
     * checked (no caller is known there): refuse the table. */
    if ((route->permission != NULL || route->access != NULL) &&
        route->auth == AUTH_NONE) {
        snprintf(err, errlen,
                 "route %s: a permission or access rule needs auth "
                 "AUTH_BEARER or AUTH_OPTIONAL",
                 p ? p : "(null)");
        return KEEL_EINVAL;
    }
    if (p == NULL || p[0] != '/') {
        snprintf(err, errlen, "route %s: pattern must start with '/'",
                 p ? p : "(null)");
        return KEEL_EINVAL;
    }
    if (p[1] != '\0') {
        for (const char *s = p + 1;;) {
            const char *slash = strchr(s, '/');
            size_t len = slash ? (size_t)(slash - s) : strlen(s);

            if (len == 0) {
                snprintf(err, errlen, "route %s: empty segment", p);
                return KEEL_EINVAL;
            }
            if (s[0] == '{') {
                if (len < 3 || s[len - 1] != '}' ||
                    memchr(s + 1, '{', len - 2) ||
                    memchr(s + 1, '}', len - 2)) {
                    snprintf(err, errlen, "route %s: malformed parameter", p);
                    return KEEL_EINVAL;
                }
                if (++nparams > ROUTER_MAX_PARAMS) {
                    snprintf(err, errlen, "route %s: too many parameters", p);
                    return KEEL_EINVAL;
                }
                if (n->param == NULL) {
                    n->param = calloc(1, sizeof(*n->param));
                    if (n->param == NULL)
                        return KEEL_EINTERNAL;
                    n->param->param_name = strndup(s + 1, len - 2);
                } else if (strlen(n->param->param_name) != len - 2 ||
                           strncmp(n->param->param_name, s + 1, len - 2)) {
                    snprintf(err, errlen,
                             "route %s: parameter name differs from an "
                             "earlier route at the same position",
                             p);
                    return KEEL_EINVAL;
                }
                n = n->param;
            } else {
                if (memchr(s, '{', len) || memchr(s, '}', len)) {
                    snprintf(err, errlen, "route %s: malformed segment", p);
                    return KEEL_EINVAL;
                }
                n = kid_add(n, s, len);
                if (n == NULL)
                    return KEEL_EINTERNAL;
            }
            if (slash == NULL)
                break;
            s = slash + 1;
        }
    }
    if (n->routes[route->method] != NULL) {
        snprintf(err, errlen, "route %s %s: defined twice",
                 http_method_name(route->method), p);
        return KEEL_EINVAL;
    }
    n->routes[route->method] = route;
    n->pattern = route->pattern;
    return KEEL_OK;
}

static int
node_has_routes(const rnode_t *n)
{
    for (int m = 0; m < HTTP_METHOD__MAX; m++)
        if (n->routes[m])
            return 1;
    return 0;
}

static const route_t *
node_route(const rnode_t *n, enum http_method method)
{
    if (method >= HTTP_METHOD__MAX)
        return NULL;
    if (method == HTTP_HEAD && n->routes[HTTP_HEAD] == NULL)
        return n->routes[HTTP_GET];
    return n->routes[method];
}

/*
 * Depth-first match.  Returns the node for the full path that has a route
 * for `method`; if none does, *path_node is the first node (in preference
 * order) that matches the path at all, for 405.
 */
static const rnode_t *
match(const rnode_t *n, enum http_method method, char *const *segs,
      size_t nsegs, route_match_t *m, const rnode_t **path_node)
{
    const rnode_t *hit;
    size_t at, saved;
    int found;

    if (nsegs == 0) {
        if (!node_has_routes(n))
            return NULL;
        if (*path_node == NULL)
            *path_node = n;
        return node_route(n, method) ? n : NULL;
    }
    at = kid_find(n, segs[0], &found);
    if (found) {
        hit = match(n->kids[at], method, segs + 1, nsegs - 1, m, path_node);
        if (hit)
            return hit;
    }
    /* A parameter never matches an empty segment ("/v1/posts/"). */
    if (n->param && segs[0][0] != '\0' && m->nparams < ROUTER_MAX_PARAMS) {
        saved = m->nparams;
        m->params[m->nparams].name = n->param->param_name;
        m->params[m->nparams].value = segs[0];
        m->nparams++;
        hit = match(n->param, method, segs + 1, nsegs - 1, m, path_node);
        if (hit)
            return hit;
        m->nparams = saved;
    }
    return NULL;
}

keel_rc
router_match(const router_t *r, enum http_method method, char *const *segs,
             size_t nsegs, route_match_t *m)
{
    const rnode_t *path_node = NULL, *hit;

    memset(m, 0, sizeof(*m));
    hit = match(&r->root, method, segs, nsegs, m, &path_node);
    if (hit != NULL) {
        m->route = node_route(hit, method);
        m->pattern = hit->pattern;
        for (int i = 0; i < HTTP_METHOD__MAX; i++)
            if (hit->routes[i])
                m->allow |= 1u << i;
        return KEEL_OK;
    }
    m->nparams = 0;
    if (path_node == NULL)
        return KEEL_ENOTFOUND;
    m->pattern = path_node->pattern;
    for (int i = 0; i < HTTP_METHOD__MAX; i++)
        if (path_node->routes[i])
            m->allow |= 1u << i;
    return KEEL_EMETHOD;
}

void
router_allow_string(unsigned allow, char *buf, size_t len)
{
    size_t o = 0;

    if (allow & (1u << HTTP_GET))
        allow |= 1u << HTTP_HEAD;
    allow |= 1u << HTTP_OPTIONS;
    buf[0] = '\0';
    for (int m = 0; m < HTTP_METHOD__MAX; m++) {
        if (!(allow & (1u << m)))
            continue;
        o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? ", " : "",
                              http_method_name(m));
        if (o >= len)
            break; /* truncated; never form a pointer past the buffer */
    }
}
