/* request.c - request parsing: params, path, query, headers, body. */
#include "keel-build.h"

#include "http/request.h"
#include "core/util.h"

#include <stdio.h>
#include <string.h>

/* Drained body beyond the limit, so nginx sees an orderly close. */
#define BODY_DRAIN_MAX (16 * 1024 * 1024)

static const char *const method_names[HTTP_METHOD__MAX] = {
    [HTTP_GET] = "GET",         [HTTP_HEAD] = "HEAD",
    [HTTP_POST] = "POST",       [HTTP_PUT] = "PUT",
    [HTTP_PATCH] = "PATCH",     [HTTP_DELETE] = "DELETE",
    [HTTP_OPTIONS] = "OPTIONS",
};

enum http_method
http_method_parse(const char *s)
{
    for (int m = 0; m < HTTP_METHOD__MAX; m++)
        if (strcmp(s, method_names[m]) == 0)
            return (enum http_method)m;
    return HTTP_OTHER;
}

const char *
http_method_name(enum http_method m)
{
    return (m >= 0 && m < HTTP_METHOD__MAX) ? method_names[m] : "OTHER";
}

static int
hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

ssize_t
url_decode(const char *in, size_t len, char *out, int plus)
{
    size_t o = 0;

    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c == '%') {
            int hi, lo;
            if (i + 2 >= len)
                return -1;
            hi = hexval((unsigned char)in[i + 1]);
            lo = hexval((unsigned char)in[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = (char)(hi * 16 + lo);
            if (c == '\0')
                return -1;
            i += 2;
        } else if (c == '+' && plus) {
            c = ' ';
        } else if (c == '\0') {
            return -1;
        }
        out[o++] = c;
    }
    out[o] = '\0';
    return (ssize_t)o;
}

keel_rc
query_parse(arena_t *a, const char *qs, size_t max_params, kv_t **out,
            size_t *n, const char **why)
{
    size_t count = 0, cap = 0;
    kv_t *kv = NULL;
    const char *p = qs;

    *out = NULL;
    *n = 0;
    while (p != NULL && *p != '\0') {
        const char *amp = strchr(p, '&');
        size_t plen = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', plen);
        size_t nlen = eq ? (size_t)(eq - p) : plen;
        size_t vlen = eq ? plen - nlen - 1 : 0;
        char *name, *value;

        if (plen > 0) {
            if (count == max_params) {
                *why = "Too many query parameters";
                return KEEL_EBADREQ;
            }
            if (count == cap) {
                kv_t *nkv;
                cap = cap ? cap * 2 : 8;
                nkv = arena_alloc(a, cap * sizeof(*kv));
                if (count)
                    memcpy(nkv, kv, count * sizeof(*kv));
                kv = nkv;
            }
            name = arena_alloc(a, nlen + 1);
            value = arena_alloc(a, vlen + 1);
            if (url_decode(p, nlen, name, 1) < 0 ||
                url_decode(eq ? eq + 1 : p, vlen, value, 1) < 0) {
                *why = "Malformed percent-encoding in the query string";
                return KEEL_EBADREQ;
            }
            kv[count].name = name;
            kv[count].value = value;
            count++;
        }
        p = amp ? amp + 1 : NULL;
    }
    *out = kv;
    *n = count;
    return KEEL_OK;
}

keel_rc
path_split(arena_t *a, const char *path, char ***segs, size_t *n,
           const char **why)
{
    char **s;
    size_t count = 0;
    const char *p;

    *segs = NULL;
    *n = 0;
    if (path[0] != '/') {
        *why = "Request path must be absolute";
        return KEEL_EBADREQ;
    }
    if (path[1] == '\0')
        return KEEL_OK;
    for (p = path; *p; p++)
        if (*p == '/')
            count++;
    if (count > REQUEST_MAX_SEGMENTS) {
        *why = NULL;
        return KEEL_ENOTFOUND;
    }
    s = arena_alloc(a, count * sizeof(*s));
    count = 0;
    for (p = path + 1;;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        char *seg = arena_alloc(a, len + 1);
        if (url_decode(p, len, seg, 0) < 0) {
            *why = "Malformed percent-encoding in the path";
            return KEEL_EBADREQ;
        }
        s[count++] = seg;
        if (slash == NULL)
            break;
        p = slash + 1;
    }
    *segs = s;
    *n = count;
    return KEEL_OK;
}

int
request_id_valid(const char *id)
{
    size_t n = 0;

    for (; id[n]; n++) {
        char c = id[n];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return 0;
        if (n >= REQUEST_ID_MAX)
            return 0;
    }
    return n >= 1;
}

static int
lower_hex(const char *s, size_t n)
{
    int nonzero = 0;

    for (size_t i = 0; i < n; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return -1;
        if (s[i] != '0')
            nonzero = 1;
    }
    return nonzero;
}

int
traceparent_parse(const char *s, char trace_id[33], char parent_id[17])
{
    /* version "-" trace-id "-" parent-id "-" flags, 55 characters */
    if (strlen(s) != 55 || s[2] != '-' || s[35] != '-' || s[52] != '-')
        return 0;
    if (lower_hex(s, 2) < 0 || strncmp(s, "ff", 2) == 0 ||
        strncmp(s, "00", 2) != 0)
        return 0;
    if (lower_hex(s + 3, 32) != 1 || lower_hex(s + 36, 16) != 1 ||
        lower_hex(s + 53, 2) < 0)
        return 0;
    memcpy(trace_id, s + 3, 32);
    trace_id[32] = '\0';
    memcpy(parent_id, s + 36, 16);
    parent_id[16] = '\0';
    return 1;
}

int
content_type_is_json(const char *ct)
{
    static const char json[] = "application/json";
    const char *p;

    if (ct == NULL || ascii_ncasecmp(ct, json, sizeof(json) - 1) != 0)
        return 0;
    p = ct + sizeof(json) - 1;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\0')
        return 1;
    if (*p != ';')
        return 0;
    /* Parameters: only a UTF-8 charset is acceptable (RFC 8259 §8.1). */
    while (*p == ';') {
        const char *end;
        size_t len;
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        end = strchr(p, ';');
        len = end ? (size_t)(end - p) : strlen(p);
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len >= 8 && ascii_ncasecmp(p, "charset=", 8) == 0) {
            const char *v = p + 8;
            size_t vlen = len - 8;
            if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
                v++;
                vlen -= 2;
            }
            if (!((vlen == 5 && ascii_ncasecmp(v, "utf-8", 5) == 0) ||
                  (vlen == 4 && ascii_ncasecmp(v, "utf8", 4) == 0)))
                return 0;
        } else if (len == 0) {
            return 0;
        }
        p = end ? end : p + len;
        while (*p == ' ' || *p == '\t')
            p++;
    }
    return *p == '\0';
}

const char *
request_header(const keel_request_t *req, const char *name)
{
    for (size_t i = 0; i < req->nheaders; i++)
        if (strcmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}

size_t
request_header_count(const keel_request_t *req, const char *name)
{
    size_t n = 0;

    for (size_t i = 0; i < req->nheaders; i++)
        if (strcmp(req->headers[i].name, name) == 0)
            n++;
    return n;
}

const char *
request_query(const keel_request_t *req, const char *name)
{
    for (size_t i = 0; i < req->nquery; i++)
        if (strcmp(req->query[i].name, name) == 0)
            return req->query[i].value;
    return NULL;
}

/* "HTTP_X_REQUEST_ID" → "x-request-id" */
static char *
header_name(arena_t *a, const char *param, size_t len)
{
    char *n = arena_alloc(a, len + 1);

    for (size_t i = 0; i < len; i++) {
        char c = param[i];
        n[i] = (c == '_') ? '-' : (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
    }
    n[len] = '\0';
    return n;
}

static void
add_header(keel_request_t *req, arena_t *a, size_t *cap, const char *name,
           const char *value)
{
    if (req->nheaders == *cap) {
        kv_t *h;
        *cap = *cap ? *cap * 2 : 16;
        h = arena_alloc(a, *cap * sizeof(*h));
        if (req->nheaders)
            memcpy(h, req->headers, req->nheaders * sizeof(*h));
        req->headers = h;
    }
    req->headers[req->nheaders].name = name;
    req->headers[req->nheaders].value = value;
    req->nheaders++;
}

static void
request_identity(keel_request_t *req)
{
    const char *id = request_header(req, "x-request-id");
    const char *tp = request_header(req, "traceparent");

    /* A repeated X-Request-Id is ambiguous: replace it. */
    if (id != NULL && request_header_count(req, "x-request-id") == 1 &&
        request_id_valid(id)) {
        strcpy(req->request_id, id);
    } else {
        uuid_v4(req->request_id);
    }
    unsigned char r[16];
    const char *flags = "01";

    if (tp == NULL || request_header_count(req, "traceparent") != 1 ||
        !traceparent_parse(tp, req->trace_id, req->parent_id)) {
        random_bytes(r, sizeof(r));
        hex_encode(r, 16, req->trace_id);
        req->parent_id[0] = '\0';
    } else if (strlen(tp) >= 55) {
        flags = tp + 53; /* version 00: "00-trace-parent-flags" */
    }
    random_bytes(r, 8);
    hex_encode(r, 8, req->span_id);
    snprintf(req->traceparent, sizeof(req->traceparent), "00-%s-%s-%.2s",
             req->trace_id, req->span_id, flags);
}

keel_rc
request_from_params(keel_request_t *req, arena_t *a, char *const *envp,
                    const keel_limits_t *lim, const char **why)
{
    const char *uri = NULL, *method = NULL, *redirect_auth = NULL;
    const char *clen = NULL, *qmark;
    size_t hcap = 0;
    keel_rc rc = KEEL_OK;
    long long cl;

    memset(req, 0, sizeof(*req));
    req->content_length = -1;
    req->query_string = "";
    *why = NULL;

    for (; envp != NULL && *envp != NULL; envp++) {
        const char *e = *envp;
        const char *eq = strchr(e, '=');
        const char *v;
        size_t nlen;

        if (eq == NULL)
            continue;
        nlen = (size_t)(eq - e);
        v = eq + 1;
        if (nlen > 5 && strncmp(e, "HTTP_", 5) == 0) {
            /*
             * nginx before 1.23 (Debian 12 ships 1.22) sends a repeated
             * request header as separate params, and FCGX_GetParam would
             * return only the first: keep every one, in order.
             */
            if (strlen(v) > lim->max_header && rc == KEEL_OK) {
                rc = KEEL_EHEADERS;
                *why = "A request header is too large";
            }
            add_header(req, a, &hcap, header_name(a, e + 5, nlen - 5),
                       arena_strdup(a, v));
        } else if (nlen == 11 && strncmp(e, "REQUEST_URI", 11) == 0) {
            uri = v;
        } else if (nlen == 14 && strncmp(e, "REQUEST_METHOD", 14) == 0) {
            method = v;
        } else if (nlen == 12 && strncmp(e, "CONTENT_TYPE", 12) == 0) {
            if (*v != '\0')
                req->content_type = arena_strdup(a, v);
        } else if (nlen == 14 && strncmp(e, "CONTENT_LENGTH", 14) == 0) {
            clen = v;
        } else if (nlen == 11 && strncmp(e, "REMOTE_ADDR", 11) == 0) {
            req->client_ip = arena_strdup(a, v);
        } else if (nlen == 27 &&
                   strncmp(e, "REDIRECT_HTTP_AUTHORIZATION", 27) == 0) {
            /* Apache after an internal redirect (mod_rewrite E=). */
            redirect_auth = v;
        }
    }
    if (redirect_auth != NULL && *redirect_auth != '\0' &&
        request_header(req, "authorization") == NULL)
        add_header(req, a, &hcap, "authorization",
                   arena_strdup(a, redirect_auth));

    request_identity(req);
    req->user_agent = request_header(req, "user-agent");
    if (req->client_ip == NULL)
        req->client_ip = "";
    req->method_name = arena_strdup(a, method ? method : "");
    req->method = http_method_parse(req->method_name);
    if (uri == NULL || *uri == '\0')
        uri = "/";
    req->uri = arena_strdup(a, uri);
    qmark = strchr(uri, '?');
    req->path = qmark ? arena_strndup(a, uri, (size_t)(qmark - uri)) : req->uri;
    if (qmark)
        req->query_string = arena_strdup(a, qmark + 1);
    if (rc != KEEL_OK)
        return rc;

    if (method == NULL || *method == '\0') {
        *why = "Missing request method";
        return KEEL_EBADREQ;
    }
    if (strlen(req->path) > lim->max_path ||
        strlen(req->query_string) > lim->max_query) {
        *why = "Request URI is too long";
        return KEEL_EURITOOLONG;
    }
    if (clen != NULL && *clen != '\0') {
        if (parse_ll(clen, 0, (long long)1 << 62, &cl) != 0) {
            *why = "Invalid Content-Length";
            return KEEL_EBADREQ;
        }
        req->content_length = cl;
    }
    rc = path_split(a, req->path, &req->segments, &req->nsegments, why);
    if (rc != KEEL_OK)
        return rc;
    return query_parse(a, req->query_string, lim->max_query_params, &req->query,
                       &req->nquery, why);
}

/*
 * Read and discard the rest of the body up to BODY_DRAIN_MAX.  Reading to
 * EOF also consumes the FastCGI end-of-stdin record: a web server that
 * streams the body (Apache) is still writing it when keel answers, and
 * closing before it is read turns the answer into a broken pipe there; nginx
 * writes its whole buffered body, and closing with unread data resets the
 * connection.  Returns the bytes discarded before EOF, or -1 on a read
 * error or past the bound.
 */
static ssize_t
drain(body_read_fn rd, void *io)
{
    char sink[8192];
    size_t drained = 0;
    ssize_t got;

    while ((got = rd(io, sink, sizeof(sink))) > 0) {
        drained += (size_t)got;
        if (drained > BODY_DRAIN_MAX)
            return -1;
    }
    return got == 0 ? (ssize_t)drained : -1;
}

keel_rc
request_read_body(keel_request_t *req, arena_t *a, body_read_fn rd, void *io,
                  const keel_limits_t *lim)
{
    size_t cap, limit, len = 0;
    char *buf;

    if (req->content_length > 0 &&
        (unsigned long long)req->content_length > lim->max_body) {
        drain(rd, io);
        return KEEL_ETOOLARGE;
    }
    if (req->content_length == 0) {
        /* Nothing announced: anything sent anyway is malformed. */
        return drain(rd, io) == 0 ? KEEL_OK : KEEL_EBADREQ;
    }
    /* Without a length (chunked, unbuffered) read until EOF or limit. */
    if (req->content_length > 0) {
        limit = (size_t)req->content_length;
        cap = limit;
    } else {
        /* Unknown length (a GET, or chunked without buffering): start
         * small and grow up to the limit, so no request pays for it. */
        limit = lim->max_body;
        cap = limit < 8192 ? limit : 8192;
    }
    buf = arena_alloc(a, cap + 1);
    while (len < limit) {
        ssize_t got;
        if (len == cap) {
            size_t ncap = cap * 2 > limit ? limit : cap * 2;
            char *nbuf = arena_alloc(a, ncap + 1);
            memcpy(nbuf, buf, len);
            buf = nbuf;
            cap = ncap;
        }
        got = rd(io, buf + len, cap - len);
        if (got < 0)
            return KEEL_EBADREQ;
        if (got == 0)
            break;
        len += (size_t)got;
    }
    if (req->content_length > 0 && len < (size_t)req->content_length)
        return KEEL_EBADREQ;
    if (len == limit) {
        char probe;
        ssize_t got = rd(io, &probe, 1);
        if (got > 0) {
            drain(rd, io);
            /* More than announced is malformed; more than allowed, 413. */
            return req->content_length > 0 ? KEEL_EBADREQ : KEEL_ETOOLARGE;
        }
        if (got < 0)
            return KEEL_EBADREQ;
    }
    buf[len] = '\0';
    if (len > 0) {
        req->body = buf;
        req->body_len = len;
    }
    return KEEL_OK;
}
