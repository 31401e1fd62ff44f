/* api.c - the helpers the API suites share (api.h). */
#include "api.h"

#include <ctype.h>
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

void
assert_list(const char *who, const char *bearer, const char *path,
            const char *const *want, int n)
{
    http_resp_t r;
    int ok;

    call("GET", path, bearer, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    ok = r.status == 200 && same_ids(&r, want, n);
    CU_ASSERT_TRUE(ok);
    if (!ok)
        fprintf(stderr,
                "\n    GET %s as %s: %ld, %d items, expected %d: %.400s\n",
                path, who, r.status, data_len(&r), n, r.body);
    if (json_path(r.json, "meta.total") != NULL)
        CU_ASSERT_EQUAL(json_object_get_int(json_path(r.json, "meta.total")),
                        n);
    resp_free(&r);
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
