/*
 * request.h - an HTTP request built from FastCGI params.
 *
 * Everything in a keel_request_t lives in the request's arena: nothing
 * points into libfcgi's param block, whose strings die at the next
 * FCGX_Finish_r/FCGX_Accept_r (fcgiapp.h).
 */
#ifndef KEEL_HTTP_REQUEST_H
#define KEEL_HTTP_REQUEST_H

#include "core/arena.h"
#include "core/error.h"

#include <json-c/json.h>
#include <stddef.h>
#include <sys/types.h>

enum http_method {
    HTTP_GET = 0,
    HTTP_HEAD,
    HTTP_POST,
    HTTP_PUT,
    HTTP_PATCH,
    HTTP_DELETE,
    HTTP_OPTIONS,
    HTTP_METHOD__MAX,
    HTTP_OTHER = HTTP_METHOD__MAX, /* any other token: 405 where routed */
};

typedef struct kv {
    const char *name;
    const char *value;
} kv_t;

typedef struct keel_limits {
    size_t max_body;
    size_t max_query;
    size_t max_path;
    size_t max_header;
    int max_json_depth;
    size_t max_query_params;
} keel_limits_t;

#define REQUEST_MAX_SEGMENTS 32
#define REQUEST_ID_MAX       128

typedef struct keel_request {
    enum http_method method;
    const char *method_name; /* as sent */
    const char *uri;         /* raw REQUEST_URI */
    const char *path;        /* raw path, without the query */
    char **segments;         /* percent-decoded path segments */
    size_t nsegments;
    const char *query_string; /* raw, "" when none */
    kv_t *query;              /* decoded, in order, repeats kept */
    size_t nquery;
    kv_t *headers; /* lower-case names ("x-request-id"), repeats kept */
    size_t nheaders;
    const char *content_type; /* NULL when absent */
    long long content_length; /* -1 when absent */
    const char *client_ip;
    const char *user_agent;

    char request_id[REQUEST_ID_MAX + 1];
    /* W3C Trace Context: the caller's trace, or a new one when it sent
     * no valid traceparent; this request's own span; the caller's span
     * ("" when none); and the traceparent to pass on (events, webhooks). */
    char trace_id[33];
    char span_id[17];
    char parent_id[17];
    char traceparent[56];

    char *body; /* NUL-terminated copy, NULL when no body */
    size_t body_len;
    json_object *json; /* parsed body when the route has a schema */
} keel_request_t;

/* Method token → enum (HTTP_OTHER if unknown) and back. */
enum http_method http_method_parse(const char *s);
const char *http_method_name(enum http_method m);

/*
 * Percent-decode in[0..len) into out (room for len + 1 bytes), NUL
 * terminated; `plus` turns '+' into ' ' (query strings).  Returns the
 * decoded length, or -1 for a malformed escape or a decoded NUL byte.
 */
ssize_t url_decode(const char *in, size_t len, char *out, int plus);

/*
 * Split a raw query string into decoded name/value pairs.  "a" and "a="
 * both give an empty value; empty pieces ("a=1&&b=2") are skipped.  Returns
 * KEEL_OK, or KEEL_EBADREQ (malformed escape, more than
 * max_params pairs) with *why set.
 */
keel_rc query_parse(arena_t *a, const char *qs, size_t max_params, kv_t **out,
                    size_t *n, const char **why);

/*
 * Split a raw absolute path into decoded segments: "/" has none, "/a/b/" has
 * "a", "b", "".  Decoding per segment keeps "%2F" inside its segment.
 * KEEL_EBADREQ for a path not starting with '/', a malformed escape or a
 * decoded NUL; KEEL_ENOTFOUND when deeper than REQUEST_MAX_SEGMENTS.
 */
keel_rc path_split(arena_t *a, const char *path, char ***segs, size_t *n,
                   const char **why);

/*
 * Fill `req` from FastCGI params `envp` ("NAME=value", NULL-terminated):
 * method, path, query, HTTP_* headers, content type and length, client
 * address, request id and trace context.  Never reads the body.  Returns
 * KEEL_OK or an error for the envelope (400, 404, 414, 431) with *why set.
 * Even on error, request_id and what could be parsed are set.
 */
keel_rc request_from_params(keel_request_t *req, arena_t *a, char *const *envp,
                            const keel_limits_t *lim, const char **why);

/* Reads up to n bytes of body; returns bytes read, 0 at end, -1 on error. */
typedef ssize_t (*body_read_fn)(void *io, char *buf, size_t n);

/*
 * Read the body, at most lim->max_body bytes.  A declared or actual length
 * over the limit is KEEL_ETOOLARGE; the rest is then drained (up to a bound)
 * so that the web server sees an orderly close.  A short body (fewer bytes
 * than CONTENT_LENGTH) is KEEL_EBADREQ.
 */
keel_rc request_read_body(keel_request_t *req, arena_t *a, body_read_fn rd,
                          void *io, const keel_limits_t *lim);

/* First value of header `name` (lower-case), or NULL. */
const char *request_header(const keel_request_t *req, const char *name);
/* How many times header `name` was sent. */
size_t request_header_count(const keel_request_t *req, const char *name);
/* First value of query parameter `name`, or NULL. */
const char *request_query(const keel_request_t *req, const char *name);

/* 1 when `id` is 1-128 characters of [A-Za-z0-9._-]. */
int request_id_valid(const char *id);
/*
 * Parse a W3C traceparent ("00-<32 hex>-<16 hex>-<2 hex>", lower-case, ids
 * not all zero, version not ff).  Returns 1 and fills the ids, or 0.
 */
int traceparent_parse(const char *s, char trace_id[33], char parent_id[17]);

/* 1 when a Content-Type is application/json with no charset but utf-8. */
int content_type_is_json(const char *ct);

#endif
