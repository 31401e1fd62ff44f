/* api.c - the helpers the API suites share (api.h). */
#include "api.h"

#include <ctype.h>
#include <curl/curl.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *base;
static PGconn *pg;
static int serial;

/* Every token login() was given: a suite checks that none leaks. */
static char *tokens[512];
static size_t ntokens;

int
api_main(const char *suite, const api_fixture_t *fixtures, size_t n,
         int (*more)(void), const unit_test_t *tests, size_t ntests)
{
    char name[64];
    int rc = 0;

    snprintf(name, sizeof(name), "test_%s", suite);
    /* Before any thread: libcurl's global state. */
    curl_global_init(CURL_GLOBAL_ALL);
    if (api_init(name) != 0)
        return 1;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = make_account(fixtures[i].account, fixtures[i].tag,
                          fixtures[i].role);
    if (rc == 0 && more != NULL)
        rc = more();
    if (rc != 0) {
        fprintf(stderr, "%s: the fixture accounts cannot be made\n", name);
        api_finish();
        return 1;
    }
    rc = unit_run(suite, tests, ntests);
    api_finish();
    curl_global_cleanup();
    return rc;
}

int
api_init(const char *suite)
{
    base = client_base("KEEL_TEST_URL");
    pg = PQconnectdb(client_base("KEEL_TEST_PGURL"));
    if (PQstatus(pg) != CONNECTION_OK) {
        fprintf(stderr, "%s: %s", suite, PQerrorMessage(pg));
        return -1;
    }
    return 0;
}

void
api_finish(void)
{
    for (size_t i = 0; i < ntokens; i++)
        free(tokens[i]);
    ntokens = 0;
    PQfinish(pg);
    pg = NULL;
}

const char *
api_base(void)
{
    return base;
}

PGconn *
api_pg(void)
{
    return pg;
}

int
api_serial(void)
{
    return ++serial;
}

size_t
api_seen_count(void)
{
    return ntokens;
}

const char *
api_seen(size_t i)
{
    return i < ntokens ? tokens[i] : NULL;
}

static void
remember(const char *token)
{
    if (token != NULL && *token != '\0' &&
        ntokens < sizeof(tokens) / sizeof(tokens[0]))
        tokens[ntokens++] = strdup(token);
}

long
call_h(const char *method, const char *path, const char *bearer,
       const char *body, const char *extra, http_resp_t *r)
{
    char auth[4096];
    const char *h[4];
    int n = 0;

    if (body != NULL)
        h[n++] = "Content-Type: application/json";
    if (bearer != NULL) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %.4000s", bearer);
        h[n++] = auth;
    }
    if (extra != NULL)
        h[n++] = extra;
    h[n] = NULL;
    http_do(base, method, path, h, body, body ? strlen(body) : 0, r);
    return r->status;
}

long
call(const char *method, const char *path, const char *bearer, const char *body,
     http_resp_t *r)
{
    return call_h(method, path, bearer, body, NULL, r);
}

long
status_of(const char *method, const char *path, const char *bearer,
          const char *body)
{
    http_resp_t r;
    long status = call(method, path, bearer, body, &r);

    resp_free(&r);
    return status;
}

long
call_typed(const char *method, const char *path, const char *bearer,
           const char *content_type, const char *body, http_resp_t *r)
{
    char type[256], auth[4096];
    const char *h[3] = { type, NULL, NULL };

    snprintf(type, sizeof(type), "Content-Type: %s", content_type);
    if (bearer != NULL) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %.4000s", bearer);
        h[1] = auth;
    }
    http_do(base, method, path, h, body, body ? strlen(body) : 0, r);
    return r->status;
}

long
get_cursor(const char *bearer, const char *prefix, const char *cursor,
           http_resp_t *r)
{
    char path[4096], e[2048];

    snprintf(path, sizeof(path), "%s&cursor=%s", prefix,
             enc(cursor, e, sizeof(e)));
    return call("GET", path, bearer, NULL, r);
}

long
get_one(const char *collection, const char *id, const char *bearer,
        http_resp_t *r)
{
    char path[256];

    snprintf(path, sizeof(path), "%s/%.64s", collection, id);
    return call("GET", path, bearer, NULL, r);
}

long
change_one(const char *method, const char *collection, const char *id,
           const char *bearer, const char *body)
{
    char path[256];

    snprintf(path, sizeof(path), "%s/%s", collection, id);
    return status_of(method, path, bearer, body);
}

long
create_at(const char *path, const char *bearer, const char *body, char id[37])
{
    http_resp_t r;
    long status = call("POST", path, bearer, body, &r);

    snprintf(id, 37, "%s",
             status == 201 ? nz(json_path_str(r.json, "data.id")) : "");
    if (status != 201)
        fprintf(stderr, "\n    POST %s %.200s: %ld %.300s\n", path, body,
                status, r.body);
    resp_free(&r);
    return status;
}

const char *
enc(const char *s, char *out, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;

    for (; *s != '\0' && o + 4 < len; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
    return out;
}

const char *
nz(const char *s)
{
    return s ? s : "";
}

char *
sql1(const char *q)
{
    PGresult *res = PQexec(pg, q);
    char *v = NULL;

    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0)
        v = strdup(PQgetvalue(res, 0, 0));
    else if (PQresultStatus(res) != PGRES_TUPLES_OK &&
             PQresultStatus(res) != PGRES_COMMAND_OK)
        fprintf(stderr, "sql: %s", PQerrorMessage(pg));
    PQclear(res);
    return v ? v : strdup("");
}

void
db_now(char *out, size_t len)
{
    char *now = sql1("SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', "
                     "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')");

    snprintf(out, len, "%s", now);
    free(now);
}

void
fresh_email(char *out, size_t len, const char *tag)
{
    snprintf(out, len, "%s-%d-%ld@example.org", tag, api_serial(),
             (long)getpid());
}

long
register_user(const char *email, const char *name, char id[37])
{
    char body[512];
    http_resp_t r;
    long status;

    snprintf(body, sizeof(body),
             "{\"email\":\"%s\",\"password\":\"" PASSWORD "\",\"name\":\"%s\"}",
             email, name);
    status = call("POST", "/v1/auth/register", NULL, body, &r);
    snprintf(id, 37, "%s",
             status == 201 && json_path_str(r.json, "data.id")
                 ? json_path_str(r.json, "data.id")
                 : "");
    resp_free(&r);
    return status;
}

long
login(const char *email, const char *password, pair_t *p)
{
    char body[512];
    http_resp_t r;
    long status;

    snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"%s\"}",
             email, password);
    status = call("POST", "/v1/auth/login", NULL, body, &r);
    if (status == 200) {
        remember(json_path_str(r.json, "data.access_token"));
        remember(json_path_str(r.json, "data.refresh_token"));
    }
    if (p != NULL && status == 200) {
        snprintf(p->access, sizeof(p->access), "%s",
                 nz(json_path_str(r.json, "data.access_token")));
        snprintf(p->refresh, sizeof(p->refresh), "%s",
                 nz(json_path_str(r.json, "data.refresh_token")));
    }
    resp_free(&r);
    return status;
}

int
grant(const char *id, const char *role)
{
    char q[512];
    PGresult *res;
    int ok;

    snprintf(q, sizeof(q),
             "INSERT INTO user_roles (user_id, role_id) SELECT u.id, r.id "
             "FROM users u, roles r WHERE u.public_id = '%s' AND r.name = '%s'",
             id, role);
    res = PQexec(pg, q);
    ok = PQresultStatus(res) == PGRES_COMMAND_OK &&
         strcmp(PQcmdTuples(res), "1") == 0;
    if (!ok)
        fprintf(stderr, "grant %s: %s", role, PQerrorMessage(pg));
    PQclear(res);
    return ok ? 0 : -1;
}

int
make_account(account_t *a, const char *tag, const char *role)
{
    memset(a, 0, sizeof(*a));
    fresh_email(a->email, sizeof(a->email), tag);
    if (register_user(a->email, "Test", a->id) != 201 || a->id[0] == '\0') {
        fprintf(stderr, "make_account %s: register failed\n", tag);
        return -1;
    }
    if (role != NULL && grant(a->id, role) != 0)
        return -1;
    if (login(a->email, PASSWORD, &a->p) != 200) {
        fprintf(stderr, "make_account %s: login failed\n", tag);
        return -1;
    }
    return 0;
}

double
since(const struct timespec *t0)
{
    struct timespec t1;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) +
           (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

double
status_within(const char *method, const char *path, const char *bearer,
              long want, double limit)
{
    struct timespec t0;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        double dt = since(&t0);
        if (status_of(method, path, bearer, NULL) == want)
            return dt;
        if (dt > limit)
            return -1;
        usleep(100000);
    }
}

double
refused_within(const char *access, double limit)
{
    return status_within("GET", "/v1/auth/me", access, 401, limit);
}

/* A racer with the barrier that starts it. */
typedef struct race_arg {
    pthread_barrier_t *go;
    racer_t *rc;
} race_arg_t;

static void *
race_one(void *arg)
{
    race_arg_t *a = arg;
    racer_t *me = a->rc;

    pthread_barrier_wait(a->go);
    call_h(me->method, me->path, me->bearer, me->body[0] ? me->body : NULL,
           me->extra[0] ? me->extra : NULL, &me->r);
    me->status = me->r.status;
    snprintf(me->code, sizeof(me->code), "%s",
             nz(json_path_str(me->r.json, "error.code")));
    if (resp_header(&me->r, "Location", me->location, sizeof(me->location)) ==
        NULL)
        me->location[0] = '\0';
    return NULL;
}

void
race_all(racer_t *rc, int n)
{
    pthread_barrier_t go;
    pthread_t t[64];
    race_arg_t a[64];

    if (n > 64)
        n = 64;
    pthread_barrier_init(&go, NULL, (unsigned)n);
    for (int i = 0; i < n; i++) {
        a[i].go = &go;
        a[i].rc = &rc[i];
        pthread_create(&t[i], NULL, race_one, &a[i]);
    }
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&go);
}

void
free_racers(racer_t *rc, int n)
{
    for (int i = 0; i < n; i++)
        resp_free(&rc[i].r);
}

int
has_detail_in(const http_resp_t *r, const char *field, int prefix)
{
    json_object *d = json_path(r->json, "error.details");
    size_t n = json_object_is_type(d, json_type_array)
                   ? json_object_array_length(d)
                   : 0;
    size_t flen = strlen(field);

    for (size_t i = 0; i < n; i++) {
        const char *f = json_path_str(json_object_array_get_idx(d, i), "field");
        if (f == NULL)
            continue;
        if (strcmp(f, field) == 0)
            return 1;
        if (prefix && strncmp(f, field, flen) == 0 && f[flen] == '.')
            return 1;
    }
    return 0;
}

int
has_detail(const http_resp_t *r, const char *field)
{
    return has_detail_in(r, field, 0);
}

void
assert_invalid(const http_resp_t *r, const char *field)
{
    assert_envelope(r, 400, "VALIDATION_ERROR");
    if (field != NULL) {
        CU_ASSERT_TRUE(has_detail(r, field));
        if (!has_detail(r, field))
            fprintf(stderr, "\n    no details entry for %s: %s\n", field,
                    r->body);
    }
}

void
assert_invalid_in(const http_resp_t *r, const char *field)
{
    assert_envelope(r, 400, "VALIDATION_ERROR");
    CU_ASSERT_TRUE(has_detail_in(r, field, 1));
    if (!has_detail_in(r, field, 1))
        fprintf(stderr, "\n    no details entry for %s: %s\n", field, r->body);
}

void
assert_400(const http_resp_t *r)
{
    const char *code = json_path_str(r->json, "error.code");

    CU_ASSERT_EQUAL(r->status, 400);
    if (r->status != 400)
        fprintf(stderr, "\n    expected 400, got %ld: %s\n", r->status,
                r->body);
    CU_ASSERT_PTR_NOT_NULL_FATAL(code);
    CU_ASSERT_TRUE(strcmp(code, "VALIDATION_ERROR") == 0 ||
                   strcmp(code, "BAD_REQUEST") == 0);
}

void
assert_refused_h(const char *method, const char *path, const char *bearer,
                 const char *body, const char *extra, long status,
                 const char *code)
{
    http_resp_t r;

    call_h(method, path, bearer, body, extra, &r);
    assert_envelope(&r, status, code);
    resp_free(&r);
}

void
assert_refused(const char *method, const char *path, const char *bearer,
               const char *body, long status, const char *code)
{
    assert_refused_h(method, path, bearer, body, NULL, status, code);
}

void
assert_refused_invalid(const char *method, const char *path, const char *bearer,
                       const char *body, const char *field)
{
    http_resp_t r;

    call(method, path, bearer, body, &r);
    assert_invalid(&r, field);
    resp_free(&r);
}

void
assert_challenged(const char *method, const char *path, const char *body)
{
    char h[256];
    http_resp_t r;

    call(method, path, NULL, body, &r);
    assert_envelope(&r, 401, "UNAUTHORIZED");
    CU_ASSERT_PTR_NOT_NULL(resp_header(&r, "WWW-Authenticate", h, sizeof(h)));
    CU_ASSERT_EQUAL(strncmp(h, "Bearer", 6), 0);
    resp_free(&r);
}

void
assert_bodiless(const char *method, const char *path, const char *bearer,
                const char *extra, long status, const char *etag)
{
    char hv[64];
    http_resp_t r;

    call_h(method, path, bearer, NULL, extra, &r);
    CU_ASSERT_EQUAL(r.status, status);
    CU_ASSERT_EQUAL(r.body_len, 0);
    if (etag != NULL)
        CU_ASSERT_STRING_EQUAL(nz(resp_header(&r, "ETag", hv, sizeof(hv))),
                               etag);
    resp_free(&r);
}

const char *
assert_created(const http_resp_t *r, const char *collection, char *path,
               size_t len)
{
    char hv[256];

    snprintf(path, len, "%s/%s", collection,
             nz(json_path_str(r->json, "data.id")));
    CU_ASSERT_STRING_EQUAL(nz(resp_header(r, "Location", hv, sizeof(hv))),
                           path);
    CU_ASSERT_STRING_EQUAL(nz(resp_header(r, "ETag", hv, sizeof(hv))),
                           "W/\"1\"");
    CU_ASSERT_STRING_EQUAL(nz(resp_header(r, "Content-Type", hv, sizeof(hv))),
                           "application/json; charset=utf-8");
    assert_security_headers(r);
    return path;
}

void
assert_version(const http_resp_t *r, int version)
{
    char hv[64], want[32];

    snprintf(want, sizeof(want), "W/\"%d\"", version);
    CU_ASSERT_EQUAL(json_object_get_int(json_path(r->json, "data.version")),
                    version);
    CU_ASSERT_STRING_EQUAL(nz(resp_header(r, "ETag", hv, sizeof(hv))), want);
}

void
assert_reads_back(const char *path, const char *bearer,
                  const http_resp_t *created)
{
    char hv[256];
    http_resp_t g;

    call("GET", path, bearer, NULL, &g);
    CU_ASSERT_EQUAL(g.status, 200);
    CU_ASSERT_TRUE(json_object_equal(json_path(g.json, "data"),
                                     json_path(created->json, "data")));
    CU_ASSERT_STRING_EQUAL(nz(resp_header(&g, "ETag", hv, sizeof(hv))),
                           "W/\"1\"");
    resp_free(&g);
}

int
data_len(const http_resp_t *r)
{
    json_object *d = json_path(r->json, "data");

    return json_object_is_type(d, json_type_array)
               ? (int)json_object_array_length(d)
               : -1;
}

json_object *
item(const http_resp_t *r, int i)
{
    return json_object_array_get_idx(json_path(r->json, "data"), (size_t)i);
}

const char *
item_id(const http_resp_t *r, int i)
{
    return nz(json_path_str(item(r, i), "id"));
}

int
index_of(const http_resp_t *r, const char *id)
{
    for (int i = 0; i < data_len(r); i++)
        if (strcmp(item_id(r, i), id) == 0)
            return i;
    return -1;
}

int
same_ids(const http_resp_t *r, const char *const *want, int n)
{
    if (data_len(r) != n)
        return 0;
    for (int i = 0; i < n; i++)
        if (index_of(r, want[i]) < 0)
            return 0;
    return 1;
}

int
in_order(const http_resp_t *r, const char *const *want, int n)
{
    if (data_len(r) != n)
        return 0;
    for (int i = 0; i < n; i++)
        if (strcmp(item_id(r, i), want[i]) != 0)
            return 0;
    return 1;
}

int
collect_ids(const http_resp_t *r, char seen[][37], int *n, int max)
{
    int repeat = 0;

    for (int i = 0; i < data_len(r); i++) {
        const char *id = item_id(r, i);
        for (int j = 0; j < *n; j++)
            if (strcmp(seen[j], id) == 0)
                repeat = 1;
        if (*n < max)
            snprintf(seen[(*n)++], 37, "%s", id);
    }
    return repeat ? -1 : 0;
}

const char *
link_of(const http_resp_t *r, const char *rel, char *out, size_t len)
{
    char hdr[16384], want[32];
    const char *p;

    if (resp_header(r, "Link", hdr, sizeof(hdr)) == NULL)
        return NULL;
    snprintf(want, sizeof(want), "rel=\"%s\"", rel);
    for (p = strchr(hdr, '<'); p != NULL; p = strchr(p + 1, '<')) {
        const char *end = strchr(p, '>'), *next;
        size_t n;
        if (end == NULL)
            return NULL;
        next = strchr(end, '<');
        n = next ? (size_t)(next - end) : strlen(end);
        if (memmem(end, n, want, strlen(want)) == NULL)
            continue;
        p++;
        /* An absolute URL: keep its path. */
        if (strncmp(p, "http://", 7) == 0 || strncmp(p, "https://", 8) == 0) {
            const char *slash = strchr(strstr(p, "//") + 2, '/');
            if (slash == NULL || slash > end)
                return NULL;
            p = slash;
        }
        n = (size_t)(end - p);
        if (n >= len)
            return NULL;
        memcpy(out, p, n);
        out[n] = '\0';
        return out;
    }
    return NULL;
}

int
is_instant(const char *s)
{
    regex_t re;
    int ok;

    if (s == NULL)
        return 0;
    regcomp(&re,
            "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
            "\\.[0-9]{3}Z$",
            REG_EXTENDED | REG_NOSUB);
    ok = regexec(&re, s, 0, NULL, 0) == 0;
    regfree(&re);
    return ok;
}

/* assert_list() in any order, or in the order of `want`. */
static void
list_is(const char *who, const char *bearer, const char *path,
        const char *const *want, int n, int ordered)
{
    http_resp_t r;
    int ok;

    call("GET", path, bearer, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    ok = r.status == 200 &&
         (ordered ? in_order(&r, want, n) : same_ids(&r, want, n));
    CU_ASSERT_TRUE(ok);
    if (!ok)
        fprintf(stderr,
                "\n    GET %s as %s: %ld, %d items, expected %d%s: %.400s\n",
                path, who, r.status, data_len(&r), n,
                ordered ? " in order" : "", r.body);
    if (json_path(r.json, "meta.total") != NULL)
        CU_ASSERT_EQUAL(json_object_get_int(json_path(r.json, "meta.total")),
                        n);
    resp_free(&r);
}

void
assert_list(const char *who, const char *bearer, const char *path,
            const char *const *want, int n)
{
    list_is(who, bearer, path, want, n, 0);
}

void
assert_list_in_order(const char *who, const char *bearer, const char *path,
                     const char *const *want, int n)
{
    list_is(who, bearer, path, want, n, 1);
}

int
pick_ids(char ids[][37], const int *want, const char **out, int max)
{
    int n = 0;

    for (; want[n] >= 0 && n < max; n++)
        out[n] = ids[want[n]];
    return n;
}

void
assert_filtered(const char *who, const char *bearer, const char *prefix,
                const char *q, char ids[][37], const int *want)
{
    char path[1024];
    const char *picked[64];
    int n = pick_ids(ids, want, picked, 64);

    snprintf(path, sizeof(path), "%s&limit=100%s%s", prefix, q[0] ? "&" : "",
             q);
    assert_list(who, bearer, path, picked, n);
}

/* Assert meta.<name> of `r` is `want`, absent (PAGE_ABSENT), or anything
 * (PAGE_ANY). */
static void
assert_meta(const http_resp_t *r, const char *name, int want)
{
    char path[32];

    snprintf(path, sizeof(path), "meta.%s", name);
    if (want == PAGE_ABSENT) {
        CU_ASSERT_PTR_NULL(json_path(r->json, path));
    } else if (want != PAGE_ANY) {
        CU_ASSERT_EQUAL(json_object_get_int(json_path(r->json, path)), want);
    }
}

void
assert_page(const http_resp_t *r, int len, int page, int limit, int total,
            int has_more)
{
    if (len != PAGE_ANY)
        CU_ASSERT_EQUAL(data_len(r), len);
    assert_meta(r, "page", page);
    assert_meta(r, "limit", limit);
    assert_meta(r, "total", total);
    if (has_more != PAGE_ANY)
        CU_ASSERT_EQUAL(
            json_object_get_boolean(json_path(r->json, "meta.has_more")),
            has_more);
}

void
assert_last_cursor_page(const http_resp_t *r, int len)
{
    assert_page(r, len, PAGE_ANY, PAGE_ANY, PAGE_ANY, 0);
    CU_ASSERT_TRUE(json_object_is_type(json_path(r->json, "meta.next_cursor"),
                                       json_type_null));
}

const char *
next_cursor(const http_resp_t *r, char *out, size_t len)
{
    snprintf(out, len, "%s", nz(json_path_str(r->json, "meta.next_cursor")));
    return out;
}

const char *
tampered(const char *cursor, char *out, size_t len)
{
    char *at;

    snprintf(out, len, "%s", cursor);
    at = out + strlen(out) / 2;
    *at = *at == 'A' ? 'B' : 'A';
    return out;
}

void
assert_bad_cursor(const char *bearer, const char *prefix, const char *cursor)
{
    http_resp_t r;

    get_cursor(bearer, prefix, cursor, &r);
    assert_invalid(&r, "cursor");
    resp_free(&r);
}

void
assert_bad_queries(const char *path, const char *bearer, const bad_input_t *bad,
                   size_t n)
{
    char q[1024];
    http_resp_t r;

    for (size_t i = 0; i < n; i++) {
        snprintf(q, sizeof(q), "%s?%s", path, bad[i].text);
        call("GET", q, bearer, NULL, &r);
        assert_invalid(&r, bad[i].field);
        if (r.status != 400 ||
            (bad[i].field != NULL && !has_detail(&r, bad[i].field)))
            fprintf(stderr, "    (GET %s)\n", q);
        resp_free(&r);
    }
}

void
assert_bad_bodies(const char *method, const char *path, const char *bearer,
                  const bad_input_t *bad, size_t n)
{
    http_resp_t r;

    for (size_t i = 0; i < n; i++) {
        call(method, path, bearer, bad[i].text, &r);
        assert_invalid(&r, bad[i].field);
        if (r.status != 400 ||
            (bad[i].field != NULL && !has_detail(&r, bad[i].field)))
            fprintf(stderr, "    (%s %s)\n", method, bad[i].text);
        resp_free(&r);
    }
}

void
assert_each_400(const char *bearer, const char *const *paths, size_t n)
{
    http_resp_t r;

    for (size_t i = 0; i < n; i++) {
        call("GET", paths[i], bearer, NULL, &r);
        assert_400(&r);
        if (r.status != 400)
            fprintf(stderr, "    (GET %s)\n", paths[i]);
        resp_free(&r);
    }
}

void
assert_exact_members(json_object *o, const char *const *keys, size_t n,
                     const char *what)
{
    json_object *v;

    CU_ASSERT_TRUE_FATAL(json_object_is_type(o, json_type_object));
    CU_ASSERT_EQUAL(json_object_object_length(o), (int)n);
    for (size_t i = 0; i < n; i++) {
        int has = json_object_object_get_ex(o, keys[i], &v);

        CU_ASSERT_TRUE(has);
        if (!has)
            fprintf(stderr, "\n    %s without %s\n", what, keys[i]);
    }
}

void
assert_bad_paging(const char *path, const char *bearer)
{
    static const bad_input_t bad[] = {
        { "fields=nope", "fields" }, { "fields=id,password", "fields" },
        { "limit=0", "limit" },      { "limit=101", "limit" },
        { "page=0", "page" },        { "page=2&cursor=abc", "cursor" },
    };

    assert_bad_queries(path, bearer, bad, sizeof(bad) / sizeof(bad[0]));
}

void
assert_estimated(const char *path, const char *bearer)
{
    http_resp_t r;

    call("GET", path, bearer, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_TRUE(
        json_object_get_boolean(json_path(r.json, "meta.total_is_estimate")));
    CU_ASSERT_TRUE(
        json_object_is_type(json_path(r.json, "meta.total"), json_type_int));
    resp_free(&r);
}

void
assert_ids_and(const char *path, const char *bearer, int len,
               const char *member)
{
    http_resp_t r;

    call("GET", path, bearer, NULL, &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 200);
    CU_ASSERT_EQUAL(data_len(&r), len);
    for (int i = 0; i < data_len(&r); i++) {
        json_object *o = item(&r, i);
        CU_ASSERT_EQUAL(json_object_object_length(o), 2);
        CU_ASSERT_EQUAL(strlen(nz(json_path_str(o, "id"))), 36);
        CU_ASSERT_PTR_NOT_NULL(json_path_str(o, member));
    }
    resp_free(&r);
}

void
assert_each_selected(const http_resp_t *r, int n)
{
    for (int i = 0; i < data_len(r); i++) {
        CU_ASSERT_EQUAL(json_object_object_length(item(r, i)), n);
        CU_ASSERT_PTR_NOT_NULL(json_path_str(item(r, i), "id"));
    }
}

void
assert_fields_of_one(const char *collection, const char *id, const char *bearer,
                     const char *fields, int n, const char *member,
                     const char *value)
{
    char path[512];
    http_resp_t r;

    snprintf(path, sizeof(path), "%s/%s?fields=%s", collection, id, fields);
    call("GET", path, bearer, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_EQUAL(json_object_object_length(json_path(r.json, "data")), n);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.id")), id);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(json_path(r.json, "data"), member)),
                           value);
    resp_free(&r);
    snprintf(path, sizeof(path), "%s/%s?fields=nope", collection, id);
    assert_refused_invalid("GET", path, bearer, NULL, "fields");
    snprintf(path, sizeof(path), "%s/%s?nope=1", collection, id);
    call("GET", path, bearer, NULL, &r);
    assert_400(&r);
    resp_free(&r);
}
