/* client.c - libcurl wrapper and shared assertions for the suites. */
#include "client.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

typedef struct buf {
    char *data;
    size_t len;
} buf_t;

static size_t
collect(char *p, size_t size, size_t n, void *arg)
{
    buf_t *b = arg;
    size_t add = size * n;

    b->data = realloc(b->data, b->len + add + 1);
    memcpy(b->data + b->len, p, add);
    b->len += add;
    b->data[b->len] = '\0';
    return add;
}

static size_t
collect_headers(char *p, size_t size, size_t n, void *arg)
{
    buf_t *b = arg;

    /* A new status line starts a new response (after 100 Continue). */
    if (size * n >= 5 && strncmp(p, "HTTP/", 5) == 0)
        b->len = 0;
    return collect(p, size, n, arg);
}

const char *
client_base(const char *var)
{
    const char *v = getenv(var);

    if (v == NULL || *v == '\0') {
        fprintf(stderr, "%s is not set: run through tests/integration/run.sh\n",
                var);
        exit(1);
    }
    return v;
}

/*
 * The contract test's record (tests/contract.mjs): one JSON line per
 * response received, to the file named by KEEL_TEST_RECORD when it is set.
 * One write() of a line opened O_APPEND, so that the suites' threads and
 * processes never interleave within a line.
 */
static void
record(const char *method, const char *path, const http_resp_t *r)
{
    const char *file = getenv("KEEL_TEST_RECORD");
    json_object *o;
    const char *line;
    char ct[256];
    char *buf;
    size_t n;
    int fd;

    if (file == NULL || *file == '\0' || r->status == 0)
        return;
    o = json_object_new_object();
    json_object_object_add(o, "method", json_object_new_string(method));
    json_object_object_add(
        o, "path", json_object_new_string_len(path, (int)strcspn(path, "?")));
    json_object_object_add(o, "status", json_object_new_int((int)r->status));
    json_object_object_add(o, "content_type",
                           resp_header(r, "Content-Type", ct, sizeof(ct))
                               ? json_object_new_string(ct)
                               : NULL);
    json_object_object_add(
        o, "body", json_object_new_string_len(r->body, (int)r->body_len));
    line = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    n = strlen(line);
    buf = malloc(n + 1);
    if (buf != NULL) {
        memcpy(buf, line, n);
        buf[n] = '\n';
        fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0) {
            if (write(fd, buf, n + 1) != (ssize_t)(n + 1))
                fprintf(stderr, "KEEL_TEST_RECORD: short write\n");
            close(fd);
        }
        free(buf);
    }
    json_object_put(o);
}

int
http_do(const char *base, const char *method, const char *path,
        const char *const *headers, const char *body, size_t body_len,
        http_resp_t *out)
{
    CURL *c = curl_easy_init();
    struct curl_slist *hl = NULL;
    buf_t b = { NULL, 0 }, h = { NULL, 0 };
    char url[16384];
    CURLcode rc;

    memset(out, 0, sizeof(*out));
    snprintf(url, sizeof(url), "%s%s", base, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    if (body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    /* No "Expect: 100-continue" dance, and no default content type. */
    hl = curl_slist_append(hl, "Expect:");
    if (body != NULL)
        hl = curl_slist_append(hl, "Content-Type:");
    for (; headers && *headers; headers++)
        hl = curl_slist_append(hl, *headers);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect_headers);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
    rc = curl_easy_perform(c);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
        curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, &out->seconds);
    }
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    out->body = b.data ? b.data : calloc(1, 1);
    out->body_len = b.len;
    out->headers = h.data ? h.data : calloc(1, 1);
    if (out->body_len > 0)
        out->json = json_tokener_parse(out->body);
    record(method, path, out);
    return rc == CURLE_OK ? 0 : -1;
}

void
resp_free(http_resp_t *r)
{
    free(r->body);
    free(r->headers);
    json_object_put(r->json);
    memset(r, 0, sizeof(*r));
}

const char *
resp_header(const http_resp_t *r, const char *name, char *buf, size_t len)
{
    size_t nlen = strlen(name);
    const char *p = r->headers;

    while (p && *p) {
        const char *eol = strstr(p, "\r\n");
        size_t llen = eol ? (size_t)(eol - p) : strlen(p);
        if (llen > nlen && strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
            const char *v = p + nlen + 1;
            size_t vlen;
            while (*v == ' ')
                v++;
            vlen = llen - (size_t)(v - p);
            if (vlen >= len)
                vlen = len - 1;
            memcpy(buf, v, vlen);
            buf[vlen] = '\0';
            return buf;
        }
        p = eol ? eol + 2 : NULL;
    }
    return NULL;
}

json_object *
json_path(json_object *root, const char *path)
{
    char part[128];
    json_object *o = root;

    while (o && *path) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        if (n >= sizeof(part))
            return NULL;
        memcpy(part, path, n);
        part[n] = '\0';
        if (json_object_is_type(o, json_type_array)) {
            o = json_object_array_get_idx(o, (size_t)atoi(part));
        } else if (!json_object_object_get_ex(o, part, &o)) {
            return NULL;
        }
        path = dot ? dot + 1 : path + n;
    }
    return o;
}

const char *
json_path_str(json_object *root, const char *path)
{
    json_object *o = json_path(root, path);

    return json_object_is_type(o, json_type_string) ? json_object_get_string(o)
                                                    : NULL;
}

void
assert_security_headers(const http_resp_t *r)
{
    char v[512];

    CU_ASSERT_PTR_NOT_NULL(resp_header(r, "X-Content-Type-Options", v, 512));
    CU_ASSERT_STRING_EQUAL(v, "nosniff");
    CU_ASSERT_PTR_NOT_NULL(resp_header(r, "Content-Security-Policy", v, 512));
    CU_ASSERT_STRING_EQUAL(v, "default-src 'none'; frame-ancestors 'none'");
    CU_ASSERT_PTR_NOT_NULL(resp_header(r, "Referrer-Policy", v, 512));
    CU_ASSERT_STRING_EQUAL(v, "no-referrer");
    CU_ASSERT_PTR_NOT_NULL(resp_header(r, "Cache-Control", v, 512));
    CU_ASSERT_PTR_NOT_NULL(resp_header(r, "X-Request-Id", v, 512));
}

void
assert_envelope(const http_resp_t *r, long status, const char *code)
{
    char rid[256], ct[256];
    json_object *details;
    const char *got_code;

    CU_ASSERT_EQUAL(r->status, status);
    if (r->status != status)
        fprintf(stderr, "    expected %ld, got %ld: %s\n", status, r->status,
                r->body);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r->json);
    got_code = json_path_str(r->json, "error.code");
    CU_ASSERT_PTR_NOT_NULL_FATAL(got_code);
    CU_ASSERT_STRING_EQUAL(got_code, code);
    CU_ASSERT_PTR_NOT_NULL(json_path_str(r->json, "error.message"));
    details = json_path(r->json, "error.details");
    CU_ASSERT_TRUE(json_object_is_type(details, json_type_array));
    CU_ASSERT_PTR_NOT_NULL_FATAL(resp_header(r, "X-Request-Id", rid, 256));
    CU_ASSERT_PTR_NOT_NULL_FATAL(json_path_str(r->json, "error.request_id"));
    CU_ASSERT_STRING_EQUAL(json_path_str(r->json, "error.request_id"), rid);
    CU_ASSERT_PTR_NOT_NULL_FATAL(resp_header(r, "Content-Type", ct, 256));
    CU_ASSERT_STRING_EQUAL(ct, "application/json; charset=utf-8");
    CU_ASSERT_EQUAL(json_object_object_length(r->json), 1);
    assert_security_headers(r);
}

int
file_contains(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    char *data = NULL;
    size_t cap = 0, len = 0, got;
    int found;

    if (f == NULL)
        return 0;
    do {
        if (len + 65536 + 1 > cap) {
            cap = (cap + 65536) * 2;
            data = realloc(data, cap);
        }
        got = fread(data + len, 1, 65536, f);
        len += got;
    } while (got > 0);
    fclose(f);
    data[len] = '\0';
    found = strstr(data, needle) != NULL;
    free(data);
    return found;
}
