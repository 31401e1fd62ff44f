/*
 * test_access.c - access control (API.md 4), users (5.1), jobs (5.5) and the
 * audit log through real nginx -> keeld-test -> PostgreSQL.  It proves:
 *
 * A. One static access matrix: who (anonymous, a plain user, an editor, an
 *    admin) gets which status on /v1/users, /v1/roles, /v1/audit-events,
 *    /v1/jobs and /v1/auth/me; anonymous callers get 401 with a challenge,
 *    callers who may not read a user get 404, callers who may read but not
 *    change get 403.  /v1/auth/me lists exactly the roles' permissions;
 *    GET /v1/roles shows the seeded roles as API.md 4 defines them; the
 *    admin role cannot lose roles:manage; job objects never carry their
 *    payload and only dead or failed jobs are retried.
 * B. A role's life: a new role given to a user kills the user's older
 *    access tokens within 5 s; a fresh login has the role's permission;
 *    taking the permission from the role takes it from the user's current
 *    token within 5 s; an assigned role cannot be deleted, an unassigned
 *    one can.
 * C. The audit log: exactly one event, with the right actor and target, for
 *    each audited action; its filters, its tamper-evident cursor; no event
 *    holds a password, a token or a password hash; it is append-only for
 *    the database user keeld runs as.
 * D. The users collection: offset pagination, limits, sorting, filters,
 *    field selection, parameter errors, the Link header; optimistic
 *    locking and conditional GET; soft deletion.
 *
 * Fixture accounts are made once in main() (registered over the API, given
 * roles by SQL, then logged in: a token carries the roles it was issued
 * with).  Needs KEEL_TEST_URL and KEEL_TEST_PGURL (run.sh).
 */
#include "keel-build.h"

#include "../unit/unit.h"
#include "api.h"
#include "client.h"

#include <ctype.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NEW_PASSWORD "a quite different passphrase"
/* The bound of every poll: API.md 3 allows 5 s. */
#define POLL_LIMIT 6.0
#define WITHIN     5.5

/* ---- helpers ------------------------------------------------------------ */

typedef enum caller { ANON, USER, EDITOR, ADMIN, NCALLERS } caller_t;

static const char *const caller_name[NCALLERS] = { "anon", "user", "editor",
                                                   "admin" };

/* fx[USER], fx[EDITOR], fx[ADMIN]; fx[ANON] stays empty. */
static account_t fx[NCALLERS];
/* Another plain user: the {other} of the matrix, the subject of B. */
static account_t user2;
/* A user the matrix changes the roles of and deletes. */
static char victim_id[37];
/* The custom role the matrix creates and deletes. */
static char matrix_role[64];
/* A job of this test's own that has succeeded (not retryable). */
static char job_id[37];

/* 1 when the JSON array `a` holds the string `s`. */
static int
array_has(json_object *a, const char *s)
{
    size_t n = json_object_is_type(a, json_type_array)
                   ? json_object_array_length(a)
                   : 0;

    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(a, i);
        if (json_object_is_type(e, json_type_string) &&
            strcmp(json_object_get_string(e), s) == 0)
            return 1;
    }
    return 0;
}

/* 1 when the JSON array `a` holds exactly the n distinct strings `want`. */
static int
same_set(json_object *a, const char *const *want, size_t n)
{
    if (!json_object_is_type(a, json_type_array) ||
        json_object_array_length(a) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!array_has(a, want[i]))
            return 0;
    return 1;
}

/* The permissions of API.md 4. */
static const char *const user_perms[] = { "posts:create", "orders:create" };
static const char *const editor_perms[] = {
    "posts:create",    "orders:create",  "posts:read_any",
    "posts:write_any", "products:write", "users:read",
};
static const char *const admin_named_perms[] = {
    "posts:create",   "orders:create",    "posts:read_any",  "posts:write_any",
    "products:write", "users:read",       "users:write",     "users:delete",
    "roles:manage",   "posts:delete_any", "products:delete", "orders:read_any",
    "orders:manage",  "jobs:manage",      "audit:read",
};

/* Every permission in the database (the admin role's): a list to free. */
static size_t
all_permissions(char ***out)
{
    PGresult *res =
        PQexec(api_pg(), "SELECT name FROM permissions ORDER BY name");
    size_t n = 0;

    *out = NULL;
    if (PQresultStatus(res) == PGRES_TUPLES_OK) {
        n = (size_t)PQntuples(res);
        *out = calloc(n + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++)
            (*out)[i] = strdup(PQgetvalue(res, (int)i, 0));
    }
    PQclear(res);
    return n;
}

static void
free_list(char **l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(l[i]);
    free(l);
}

/* ---- A: the access matrix ---------------------------------------------- */

typedef struct access_row {
    const char *method;
    /* {self} the caller's id, {other} user2's, {victim}, {role}, {job},
     * {pid} this process's id */
    const char *path;
    const char *body; /* NULL: none; placeholders as in path */
    caller_t who;
    long status;
    const char *code;  /* the error code expected, NULL on success */
    const char *field; /* a details[].field expected, or NULL */
} access_row_t;

#define ROLES_BODY "{\"roles\":[\"user\",\"editor\"]}"
#define PERMS_BODY "{\"permissions\":[\"posts:create\",\"audit:read\"]}"

/* In order: the rows that change something come after the ones that must
 * find it unchanged. */
static const access_row_t matrix[] = {
    /* GET /v1/users: users:read */
    { "GET", "/v1/users", NULL, ANON, 401, "UNAUTHORIZED", NULL },
    { "GET", "/v1/users", NULL, USER, 403, "FORBIDDEN", NULL },
    { "GET", "/v1/users", NULL, EDITOR, 200, NULL, NULL },
    { "GET", "/v1/users", NULL, ADMIN, 200, NULL, NULL },
    /* GET /v1/users/{id}: self or users:read; others do not see it */
    { "GET", "/v1/users/{other}", NULL, ANON, 401, "UNAUTHORIZED", NULL },
    { "GET", "/v1/users/{self}", NULL, USER, 200, NULL, NULL },
    { "GET", "/v1/users/{other}", NULL, USER, 404, "NOT_FOUND", NULL },
    { "GET", "/v1/users/{self}", NULL, EDITOR, 200, NULL, NULL },
    { "GET", "/v1/users/{other}", NULL, EDITOR, 200, NULL, NULL },
    { "GET", "/v1/users/{other}", NULL, ADMIN, 200, NULL, NULL },
    { "GET", "/v1/users/not-a-uuid", NULL, ADMIN, 404, "NOT_FOUND", NULL },
    { "GET", "/v1/users/" NOBODY_ID, NULL, ADMIN, 404, "NOT_FOUND", NULL },
    /* PATCH /v1/users/{id}: self (name only) or users:write */
    { "PATCH", "/v1/users/{other}", "{\"name\":\"X\"}", ANON, 401,
      "UNAUTHORIZED", NULL },
    { "PATCH", "/v1/users/{self}", "{\"name\":\"X\"}", USER, 200, NULL, NULL },
    { "PATCH", "/v1/users/{other}", "{\"name\":\"X\"}", USER, 404, "NOT_FOUND",
      NULL },
    { "PATCH", "/v1/users/{other}", "{\"name\":\"X\"}", EDITOR, 403,
      "FORBIDDEN", NULL },
    { "PATCH", "/v1/users/{other}", "{\"name\":\"X\"}", ADMIN, 200, NULL,
      NULL },
    { "PATCH", "/v1/users/{self}", "{\"email\":\"moved-{pid}@example.org\"}",
      USER, 400, "VALIDATION_ERROR", "email" },
    { "PATCH", "/v1/users/{self}", "{}", USER, 400, "VALIDATION_ERROR", NULL },
    { "PATCH", "/v1/users/{self}", "{\"nope\":1}", USER, 400,
      "VALIDATION_ERROR", NULL },
    /* PUT /v1/users/{id}/roles: roles:manage */
    { "PUT", "/v1/users/{victim}/roles", ROLES_BODY, ANON, 401, "UNAUTHORIZED",
      NULL },
    { "PUT", "/v1/users/{other}/roles", ROLES_BODY, USER, 404, "NOT_FOUND",
      NULL },
    { "PUT", "/v1/users/{self}/roles", ROLES_BODY, USER, 403, "FORBIDDEN",
      NULL },
    { "PUT", "/v1/users/{victim}/roles", ROLES_BODY, EDITOR, 403, "FORBIDDEN",
      NULL },
    { "PUT", "/v1/users/{victim}/roles",
      "{\"roles\":[\"user\",\"no-such-role-{pid}\"]}", ADMIN, 400,
      "VALIDATION_ERROR", NULL },
    { "PUT", "/v1/users/{victim}/roles", "{\"roles\":[]}", ADMIN, 400,
      "VALIDATION_ERROR", NULL },
    { "PUT", "/v1/users/{victim}/roles", ROLES_BODY, ADMIN, 200, NULL, NULL },
    /* DELETE /v1/users/{id}: users:delete, not self */
    { "DELETE", "/v1/users/{victim}", NULL, ANON, 401, "UNAUTHORIZED", NULL },
    { "DELETE", "/v1/users/{victim}", NULL, USER, 404, "NOT_FOUND", NULL },
    { "DELETE", "/v1/users/{victim}", NULL, EDITOR, 403, "FORBIDDEN", NULL },
    { "DELETE", "/v1/users/{self}", NULL, ADMIN, 403, "FORBIDDEN", NULL },
    { "DELETE", "/v1/users/{victim}", NULL, ADMIN, 204, NULL, NULL },
    { "DELETE", "/v1/users/{victim}", NULL, ADMIN, 404, "NOT_FOUND", NULL },
    /* GET /v1/roles: roles:manage */
    { "GET", "/v1/roles", NULL, ANON, 401, "UNAUTHORIZED", NULL },
    { "GET", "/v1/roles", NULL, USER, 403, "FORBIDDEN", NULL },
    { "GET", "/v1/roles", NULL, EDITOR, 403, "FORBIDDEN", NULL },
    { "GET", "/v1/roles", NULL, ADMIN, 200, NULL, NULL },
    /* PUT /v1/roles/{name}: roles:manage; 201 new, 200 replaced */
    { "PUT", "/v1/roles/{role}", PERMS_BODY, ANON, 401, "UNAUTHORIZED", NULL },
    { "PUT", "/v1/roles/{role}", PERMS_BODY, USER, 403, "FORBIDDEN", NULL },
    { "PUT", "/v1/roles/{role}", PERMS_BODY, EDITOR, 403, "FORBIDDEN", NULL },
    { "PUT", "/v1/roles/{role}", PERMS_BODY, ADMIN, 201, NULL, NULL },
    { "PUT", "/v1/roles/{role}", PERMS_BODY, ADMIN, 200, NULL, NULL },
    { "PUT", "/v1/roles/{role}",
      "{\"permissions\":[\"posts:create\",\"nope:nope\"]}", ADMIN, 400,
      "VALIDATION_ERROR", NULL },
    { "PUT", "/v1/roles/Bad%20Name%21", PERMS_BODY, ADMIN, 400,
      "VALIDATION_ERROR", NULL },
    { "PUT", "/v1/roles/UPPER", PERMS_BODY, ADMIN, 400, "VALIDATION_ERROR",
      NULL },
    /* DELETE /v1/roles/{name}: roles:manage; not seeded ones */
    { "DELETE", "/v1/roles/{role}", NULL, ANON, 401, "UNAUTHORIZED", NULL },
    { "DELETE", "/v1/roles/{role}", NULL, USER, 403, "FORBIDDEN", NULL },
    { "DELETE", "/v1/roles/{role}", NULL, EDITOR, 403, "FORBIDDEN", NULL },
    { "DELETE", "/v1/roles/editor", NULL, ADMIN, 409, "CONFLICT", NULL },
    { "DELETE", "/v1/roles/{role}", NULL, ADMIN, 204, NULL, NULL },
    { "DELETE", "/v1/roles/{role}", NULL, ADMIN, 404, "NOT_FOUND", NULL },
    { "DELETE", "/v1/roles/no-such-role-{pid}", NULL, ADMIN, 404, "NOT_FOUND",
      NULL },
    /* GET /v1/audit-events: audit:read; cursor only */
    { "GET", "/v1/audit-events", NULL, ANON, 401, "UNAUTHORIZED", NULL },
    { "GET", "/v1/audit-events", NULL, USER, 403, "FORBIDDEN", NULL },
    { "GET", "/v1/audit-events", NULL, EDITOR, 403, "FORBIDDEN", NULL },
    { "GET", "/v1/audit-events", NULL, ADMIN, 200, NULL, NULL },
    { "GET", "/v1/audit-events?page=2", NULL, ADMIN, 400, "VALIDATION_ERROR",
      NULL },
    /* /v1/jobs: jobs:manage */
    { "GET", "/v1/jobs", NULL, ANON, 401, "UNAUTHORIZED", NULL },
    { "GET", "/v1/jobs", NULL, USER, 403, "FORBIDDEN", NULL },
    { "GET", "/v1/jobs", NULL, EDITOR, 403, "FORBIDDEN", NULL },
    { "GET", "/v1/jobs", NULL, ADMIN, 200, NULL, NULL },
    { "GET", "/v1/jobs/{job}", NULL, ANON, 401, "UNAUTHORIZED", NULL },
    { "GET", "/v1/jobs/{job}", NULL, USER, 403, "FORBIDDEN", NULL },
    { "GET", "/v1/jobs/{job}", NULL, EDITOR, 403, "FORBIDDEN", NULL },
    { "GET", "/v1/jobs/{job}", NULL, ADMIN, 200, NULL, NULL },
    { "GET", "/v1/jobs/" NOBODY_ID, NULL, ADMIN, 404, "NOT_FOUND", NULL },
    { "POST", "/v1/jobs/{job}/retry", NULL, ANON, 401, "UNAUTHORIZED", NULL },
    { "POST", "/v1/jobs/{job}/retry", NULL, USER, 403, "FORBIDDEN", NULL },
    { "POST", "/v1/jobs/{job}/retry", NULL, EDITOR, 403, "FORBIDDEN", NULL },
    { "POST", "/v1/jobs/{job}/retry", NULL, ADMIN, 409, "CONFLICT", NULL },
    /* GET /v1/auth/me: any authenticated caller */
    { "GET", "/v1/auth/me", NULL, ANON, 401, "UNAUTHORIZED", NULL },
    { "GET", "/v1/auth/me", NULL, USER, 200, NULL, NULL },
    { "GET", "/v1/auth/me", NULL, EDITOR, 200, NULL, NULL },
    { "GET", "/v1/auth/me", NULL, ADMIN, 200, NULL, NULL },
};

/* `tmpl` with the placeholders of access_row_t replaced. */
static void
expand(const char *tmpl, caller_t who, char *out, size_t len)
{
    char pid[24];
    size_t o = 0;

    snprintf(pid, sizeof(pid), "%ld", (long)getpid());
    while (*tmpl != '\0' && o + 1 < len) {
        static const char *const keys[] = { "{self}", "{other}", "{victim}",
                                            "{role}", "{job}",   "{pid}" };
        const char *vals[6];
        size_t k;

        /* The anonymous caller has no self: it asks about user2. */
        vals[0] = who == ANON ? user2.id : fx[who].id;
        vals[1] = user2.id;
        vals[2] = victim_id;
        vals[3] = matrix_role;
        vals[4] = job_id;
        vals[5] = pid;
        for (k = 0; k < 6; k++)
            if (strncmp(tmpl, keys[k], strlen(keys[k])) == 0)
                break;
        if (k < 6) {
            o += (size_t)snprintf(out + o, len - o, "%s", vals[k]);
            if (o >= len)
                o = len - 1;
            tmpl += strlen(keys[k]);
        } else {
            out[o++] = *tmpl++;
        }
    }
    out[o] = '\0';
}

static void
test_the_access_matrix_holds(void)
{
    CU_ASSERT_EQUAL_FATAL(strlen(victim_id), 36);
    CU_ASSERT_EQUAL_FATAL(strlen(job_id), 36);
    for (size_t i = 0; i < sizeof(matrix) / sizeof(matrix[0]); i++) {
        const access_row_t *row = &matrix[i];
        char path[512], body[512], wa[256];
        const char *code;
        http_resp_t r;
        int row_holds;

        expand(row->path, row->who, path, sizeof(path));
        if (row->body != NULL)
            expand(row->body, row->who, body, sizeof(body));
        call(row->method, path, row->who == ANON ? NULL : fx[row->who].p.access,
             row->body ? body : NULL, &r);
        code = json_path_str(r.json, "error.code");
        row_holds = r.status == row->status;
        if (row_holds && row->code != NULL)
            row_holds = code != NULL && strcmp(code, row->code) == 0 &&
                        json_path_str(r.json, "error.request_id") != NULL;
        if (row_holds && row->code == NULL)
            row_holds = code == NULL;
        if (row_holds && row->field != NULL)
            row_holds = has_detail(&r, row->field);
        /* RFC 6750: a 401 always carries the Bearer challenge. */
        if (row_holds && row->status == 401)
            row_holds =
                resp_header(&r, "WWW-Authenticate", wa, sizeof(wa)) != NULL &&
                strncmp(wa, "Bearer", 6) == 0;
        if (row_holds && row->status == 204)
            row_holds = r.body_len == 0;
        if (row_holds && row->status == 200)
            row_holds = json_path(r.json, "data") != NULL;
        CU_ASSERT(row_holds);
        if (!row_holds)
            fprintf(
                stderr,
                "\n  matrix row %zu: %s %s%s%s as %s: expected %ld%s%s%s%s, "
                "got %ld: %.300s\n",
                i, row->method, path, row->body ? " " : "",
                row->body ? body : "", caller_name[row->who], row->status,
                row->code ? " " : "", row->code ? row->code : "",
                row->field ? " field " : "", row->field ? row->field : "",
                r.status, r.body);
        resp_free(&r);
    }
}

static void
test_me_lists_exactly_the_roles_permissions(void)
{
    char **all;
    size_t nall = all_permissions(&all);
    http_resp_t r;

    /* Every permission API.md 4 names exists (the admin role has all). */
    CU_ASSERT_TRUE(nall >= sizeof(admin_named_perms) / sizeof(char *));
    call("GET", "/v1/auth/me", fx[USER].p.access, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_TRUE(same_set(json_path(r.json, "data.permissions"), user_perms,
                            sizeof(user_perms) / sizeof(char *)));
    CU_ASSERT_TRUE(array_has(json_path(r.json, "data.roles"), "user"));
    resp_free(&r);
    call("GET", "/v1/auth/me", fx[EDITOR].p.access, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_TRUE(same_set(json_path(r.json, "data.permissions"), editor_perms,
                            sizeof(editor_perms) / sizeof(char *)));
    CU_ASSERT_TRUE(array_has(json_path(r.json, "data.roles"), "editor"));
    resp_free(&r);
    call("GET", "/v1/auth/me", fx[ADMIN].p.access, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_TRUE(same_set(json_path(r.json, "data.permissions"),
                            (const char *const *)all, nall));
    for (size_t i = 0; i < sizeof(admin_named_perms) / sizeof(char *); i++)
        CU_ASSERT_TRUE(array_has(json_path(r.json, "data.permissions"),
                                 admin_named_perms[i]));
    CU_ASSERT_TRUE(array_has(json_path(r.json, "data.roles"), "admin"));
    resp_free(&r);
    free_list(all, nall);
}

static void
test_roles_lists_the_seeded_roles_with_their_permissions(void)
{
    char **all;
    size_t nall = all_permissions(&all);
    int found = 0;
    http_resp_t r;

    call("GET", "/v1/roles", fx[ADMIN].p.access, NULL, &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 200);
    CU_ASSERT_TRUE_FATAL(data_len(&r) >= 3);
    for (int i = 0; i < data_len(&r); i++) {
        json_object *role =
            json_object_array_get_idx(json_path(r.json, "data"), (size_t)i);
        const char *name = json_path_str(role, "name");
        json_object *perms = json_path(role, "permissions");
        json_object *seeded = json_path(role, "seeded");

        CU_ASSERT_PTR_NOT_NULL_FATAL(name);
        CU_ASSERT_TRUE(json_object_is_type(perms, json_type_array));
        CU_ASSERT_TRUE(json_object_is_type(seeded, json_type_boolean));
        CU_ASSERT_PTR_NOT_NULL(json_path_str(role, "created_at"));
        CU_ASSERT_PTR_NOT_NULL(json_path_str(role, "updated_at"));
        if (strcmp(name, "user") == 0) {
            found++;
            CU_ASSERT_TRUE(json_object_get_boolean(seeded));
            CU_ASSERT_TRUE(same_set(perms, user_perms,
                                    sizeof(user_perms) / sizeof(char *)));
        } else if (strcmp(name, "editor") == 0) {
            found++;
            CU_ASSERT_TRUE(json_object_get_boolean(seeded));
            CU_ASSERT_TRUE(same_set(perms, editor_perms,
                                    sizeof(editor_perms) / sizeof(char *)));
        } else if (strcmp(name, "admin") == 0) {
            found++;
            CU_ASSERT_TRUE(json_object_get_boolean(seeded));
            CU_ASSERT_TRUE(same_set(perms, (const char *const *)all, nall));
        }
    }
    CU_ASSERT_EQUAL(found, 3);
    resp_free(&r);
    free_list(all, nall);
}

/* The permissions of role `name` in GET /v1/roles, as a new reference. */
static json_object *
role_permissions(const char *name)
{
    json_object *perms = NULL;
    http_resp_t r;

    call("GET", "/v1/roles", fx[ADMIN].p.access, NULL, &r);
    for (int i = 0; r.status == 200 && i < data_len(&r); i++) {
        json_object *role =
            json_object_array_get_idx(json_path(r.json, "data"), (size_t)i);
        const char *n = json_path_str(role, "name");
        if (n != NULL && strcmp(n, name) == 0)
            perms = json_object_get(json_path(role, "permissions"));
    }
    resp_free(&r);
    return perms;
}

static void
test_the_admin_role_keeps_roles_manage(void)
{
    char *body = sql1("SELECT json_build_object('permissions', "
                      "json_agg(name ORDER BY name))::text FROM permissions "
                      "WHERE name <> 'roles:manage'");
    json_object *perms;
    PGresult *res;

    CU_ASSERT_PTR_NOT_NULL(strstr(body, "audit:read"));
    assert_refused("PUT", "/v1/roles/admin", fx[ADMIN].p.access, body, 409,
                   "CONFLICT");
    perms = role_permissions("admin");
    CU_ASSERT_TRUE(array_has(perms, "roles:manage"));
    CU_ASSERT_TRUE(array_has(perms, "audit:read"));
    json_object_put(perms);
    /* Still allowed to manage roles. */
    CU_ASSERT_EQUAL(status_of("GET", "/v1/roles", fx[ADMIN].p.access, NULL),
                    200);
    free(body);
    /* Whatever happened, the rest of the suite needs a whole admin role. */
    res = PQexec(api_pg(),
                 "INSERT INTO role_permissions (role_id, permission_id) "
                 "SELECT r.id, p.id FROM roles r, permissions p "
                 "WHERE r.name = 'admin' ON CONFLICT DO NOTHING");
    PQclear(res);
}

/* The keys every job object has, and the one it never has. */
static void
assert_job(json_object *job)
{
    static const char *const keys[] = {
        "id",     "type",       "status",     "attempts",   "max_attempts",
        "run_at", "last_error", "created_at", "updated_at",
    };
    json_object *v;

    CU_ASSERT_TRUE_FATAL(json_object_is_type(job, json_type_object));
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        CU_ASSERT_TRUE(json_object_object_get_ex(job, keys[i], &v));
        if (!json_object_object_get_ex(job, keys[i], &v))
            fprintf(stderr, "\n    job without %s\n", keys[i]);
    }
    CU_ASSERT_FALSE(json_object_object_get_ex(job, "payload", &v));
}

static void
test_jobs_hide_payloads_and_only_dead_or_failed_ones_retry(void)
{
    char path[128], *dead, *queued;
    http_resp_t r;

    call("GET", "/v1/jobs?limit=100", fx[ADMIN].p.access, NULL, &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 200);
    CU_ASSERT_TRUE(data_len(&r) >= 1);
    for (int i = 0; i < data_len(&r); i++)
        assert_job(
            json_object_array_get_idx(json_path(r.json, "data"), (size_t)i));
    CU_ASSERT_PTR_NULL(strstr(r.body, "\"payload\""));
    /* A cursor-paginated collection. */
    CU_ASSERT_EQUAL(json_object_get_int(json_path(r.json, "meta.limit")), 100);
    CU_ASSERT_TRUE(json_object_is_type(json_path(r.json, "meta.has_more"),
                                       json_type_boolean));
    CU_ASSERT_TRUE(json_object_object_get_ex(json_path(r.json, "meta"),
                                             "next_cursor", NULL));
    resp_free(&r);
    snprintf(path, sizeof(path), "/v1/jobs/%s", job_id);
    call("GET", path, fx[ADMIN].p.access, NULL, &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 200);
    assert_job(json_path(r.json, "data"));
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.id")), job_id);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.status")),
                           "succeeded");
    CU_ASSERT_PTR_NULL(strstr(r.body, "keel-test-secret"));
    resp_free(&r);
    /* A queued job (not due for a day, so no worker takes it): 409. */
    queued = sql1("INSERT INTO jobs (type, payload, status, run_at) VALUES "
                  "('test.noop', '{\"token\":\"keel-test-secret\"}', "
                  "'queued', now() + interval '1 day') RETURNING public_id");
    CU_ASSERT_EQUAL_FATAL(strlen(queued), 36);
    snprintf(path, sizeof(path), "/v1/jobs/%s/retry", queued);
    assert_refused("POST", path, fx[ADMIN].p.access, NULL, 409, "CONFLICT");
    /* A dead one is queued again. */
    dead = sql1("INSERT INTO jobs (type, payload, status, attempts, "
                "max_attempts, last_error) VALUES ('test.noop', "
                "'{\"token\":\"keel-test-secret\"}', 'dead', 1, 1, 'boom') "
                "RETURNING public_id");
    CU_ASSERT_EQUAL_FATAL(strlen(dead), 36);
    snprintf(path, sizeof(path), "/v1/jobs/%s", dead);
    call("GET", path, fx[ADMIN].p.access, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.status")), "dead");
    CU_ASSERT_PTR_NULL(strstr(r.body, "keel-test-secret"));
    resp_free(&r);
    snprintf(path, sizeof(path), "/v1/jobs/%s/retry", dead);
    call("POST", path, fx[ADMIN].p.access, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.id")), dead);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.status")), "queued");
    assert_job(json_path(r.json, "data"));
    CU_ASSERT_PTR_NULL(strstr(r.body, "keel-test-secret"));
    resp_free(&r);
    free(dead);
    free(queued);
}

/* ---- B: a role's life ---------------------------------------------------- */

/* PUT /v1/users/{id}/roles as admin with `roles_json`; asserts 200 and that
 * data.roles holds `expect` (NULL-terminated). */
static void
set_roles(const char *id, const char *roles_json, const char *const *expect)
{
    char path[128], body[256];
    http_resp_t r;

    snprintf(path, sizeof(path), "/v1/users/%s/roles", id);
    snprintf(body, sizeof(body), "{\"roles\":%s}", roles_json);
    call("PUT", path, fx[ADMIN].p.access, body, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    if (r.status != 200)
        fprintf(stderr, "\n    PUT %s %s: %ld %s\n", path, body, r.status,
                r.body);
    for (; expect && *expect; expect++)
        CU_ASSERT_TRUE(array_has(json_path(r.json, "data.roles"), *expect));
    resp_free(&r);
}

static void
test_a_roles_life_reaches_tokens_within_5s(void)
{
    char role[64], path[128], roles[128];
    const char *both[3];
    const char *const just_user[] = { "user", NULL };
    pair_t old = user2.p;
    http_resp_t r;
    double t;

    snprintf(role, sizeof(role), "auditor-%ld", (long)getpid());
    snprintf(path, sizeof(path), "/v1/roles/%s", role);
    call("PUT", path, fx[ADMIN].p.access, "{\"permissions\":[\"audit:read\"]}",
         &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 201);
    resp_free(&r);
    /* Each worker has seen user2's token; it has no audit:read yet. */
    for (int i = 0; i < 6; i++)
        CU_ASSERT_EQUAL(status_of("GET", "/v1/auth/me", old.access, NULL), 200);
    CU_ASSERT_EQUAL(status_of("GET", "/v1/audit-events", old.access, NULL),
                    403);
    snprintf(roles, sizeof(roles), "[\"user\",\"%s\"]", role);
    both[0] = "user";
    both[1] = role;
    both[2] = NULL;
    set_roles(user2.id, roles, both);
    /* A role change ends the tokens issued before it. */
    t = refused_within(old.access, POLL_LIMIT);
    CU_ASSERT_TRUE(t >= 0 && t <= WITHIN);
    CU_ASSERT_EQUAL_FATAL(login(user2.email, PASSWORD, &user2.p), 200);
    call("GET", "/v1/auth/me", user2.p.access, NULL, &r);
    CU_ASSERT_TRUE(array_has(json_path(r.json, "data.roles"), role));
    CU_ASSERT_TRUE(
        array_has(json_path(r.json, "data.permissions"), "audit:read"));
    resp_free(&r);
    /* A role made a moment ago may take a worker up to the same 5 s to
     * learn (permissions are cached per worker). */
    t = status_within("GET", "/v1/audit-events", user2.p.access, 200,
                      POLL_LIMIT);
    CU_ASSERT_TRUE(t >= 0 && t <= WITHIN);
    /* The role loses the permission: so does the current token. */
    call("PUT", path, fx[ADMIN].p.access,
         "{\"permissions\":[\"posts:create\"]}", &r);
    CU_ASSERT_EQUAL(r.status, 200);
    resp_free(&r);
    t = status_within("GET", "/v1/audit-events", user2.p.access, 403,
                      POLL_LIMIT);
    CU_ASSERT_TRUE(t >= 0 && t <= WITHIN);
    /* Assigned: it stays. */
    assert_refused("DELETE", path, fx[ADMIN].p.access, NULL, 409, "CONFLICT");
    set_roles(user2.id, "[\"user\"]", just_user);
    assert_bodiless("DELETE", path, fx[ADMIN].p.access, NULL, 204, NULL);
    call("GET", "/v1/roles", fx[ADMIN].p.access, NULL, &r);
    CU_ASSERT_PTR_NULL(strstr(r.body, role));
    resp_free(&r);
    /* The last role change ended user2's token: a fresh one. */
    CU_ASSERT_EQUAL(login(user2.email, PASSWORD, &user2.p), 200);
}

/* ---- C: the audit log ---------------------------------------------------- */

/* Events of GET /v1/audit-events?<query> as admin, polled up to 3 s until
 * there is one; the response in *r (the caller frees it). */
static void
audit_query(const char *query, http_resp_t *r)
{
    char path[1024];
    struct timespec t0;

    snprintf(path, sizeof(path), "/v1/audit-events?%s", query);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        call("GET", path, fx[ADMIN].p.access, NULL, r);
        if (r->status != 200 || data_len(r) != 0 || since(&t0) > 3.0)
            return;
        resp_free(r);
        usleep(100000);
    }
}

/*
 * Exactly one event `action` whose target is `target_id` (or, when
 * by_actor, whose actor is `actor`), with these fields.  actor NULL: a
 * null actor_id.  request_id NULL: not checked.  The event, as a new
 * reference, or NULL.
 */
static json_object *
assert_one_event(const char *action, const char *actor, const char *target_type,
                 const char *target_id, const char *request_id, int by_actor)
{
    char query[512], a[128], t[256];
    json_object *ev, *v = NULL;
    http_resp_t r;

    snprintf(query, sizeof(query), "action=%s&%s=%s", enc(action, a, sizeof(a)),
             by_actor ? "actor_id" : "target_id",
             enc(by_actor ? actor : target_id, t, sizeof(t)));
    audit_query(query, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_EQUAL(data_len(&r), 1);
    if (r.status != 200 || data_len(&r) != 1) {
        fprintf(stderr, "\n    audit %s: %ld %.500s\n", query, r.status,
                r.body);
        resp_free(&r);
        return NULL;
    }
    ev = json_object_get(json_path(r.json, "data.0"));
    resp_free(&r);
    CU_ASSERT_EQUAL(strlen(nz(json_path_str(ev, "id"))), 36);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(ev, "action")), action);
    CU_ASSERT_TRUE(json_object_object_get_ex(ev, "actor_id", &v));
    if (actor == NULL) {
        CU_ASSERT_TRUE(json_object_is_type(v, json_type_null));
    } else {
        CU_ASSERT_STRING_EQUAL(nz(json_path_str(ev, "actor_id")), actor);
    }
    if (target_type != NULL) {
        CU_ASSERT_STRING_EQUAL(nz(json_path_str(ev, "target_type")),
                               target_type);
        CU_ASSERT_STRING_EQUAL(nz(json_path_str(ev, "target_id")), target_id);
    }
    CU_ASSERT_TRUE(json_object_object_get_ex(ev, "target_type", &v));
    CU_ASSERT_TRUE(json_object_object_get_ex(ev, "target_id", &v));
    CU_ASSERT_TRUE(json_object_object_get_ex(ev, "ip", &v));
    CU_ASSERT_TRUE(json_object_object_get_ex(ev, "request_id", &v));
    if (request_id != NULL)
        CU_ASSERT_STRING_EQUAL(nz(json_path_str(ev, "request_id")), request_id);
    CU_ASSERT_TRUE(
        json_object_is_type(json_path(ev, "details"), json_type_object));
    CU_ASSERT_PTR_NOT_NULL(json_path_str(ev, "created_at"));
    return ev;
}

/* A request that must answer `want`; its X-Request-Id into rid. */
static void
expect_rid(const char *method, const char *path, const char *bearer,
           const char *body, long want, char *rid, size_t len)
{
    http_resp_t r;

    call(method, path, bearer, body, &r);
    CU_ASSERT_EQUAL(r.status, want);
    if (r.status != want)
        fprintf(stderr, "\n    %s %s: expected %ld, got %ld: %s\n", method,
                path, want, r.status, r.body);
    if (resp_header(&r, "X-Request-Id", rid, len) == NULL)
        rid[0] = '\0';
    resp_free(&r);
}

static void
test_each_audited_action_is_recorded_once(void)
{
    const char *admin = fx[ADMIN].id;
    char role[64], path[160], rid[256], loc[256], sid[64] = "";
    account_t a;
    json_object *ev;
    http_resp_t r;

    /* role.created, role.updated, role.deleted */
    snprintf(role, sizeof(role), "audited-%ld", (long)getpid());
    snprintf(path, sizeof(path), "/v1/roles/%s", role);
    call("PUT", path, fx[ADMIN].p.access, "{\"permissions\":[\"audit:read\"]}",
         &r);
    CU_ASSERT_EQUAL(r.status, 201);
    CU_ASSERT_STRING_EQUAL(nz(resp_header(&r, "Location", loc, sizeof(loc))),
                           path);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.name")), role);
    CU_ASSERT_TRUE(
        array_has(json_path(r.json, "data.permissions"), "audit:read"));
    CU_ASSERT_FALSE(json_object_get_boolean(json_path(r.json, "data.seeded")));
    if (resp_header(&r, "X-Request-Id", rid, sizeof(rid)) == NULL)
        rid[0] = '\0';
    resp_free(&r);
    json_object_put(
        assert_one_event("role.created", admin, "role", role, rid, 0));
    expect_rid("PUT", path, fx[ADMIN].p.access,
               "{\"permissions\":[\"posts:create\"]}", 200, rid, sizeof(rid));
    json_object_put(
        assert_one_event("role.updated", admin, "role", role, rid, 0));
    expect_rid("DELETE", path, fx[ADMIN].p.access, NULL, 204, rid, sizeof(rid));
    json_object_put(
        assert_one_event("role.deleted", admin, "role", role, rid, 0));

    /* user.roles_changed */
    CU_ASSERT_EQUAL_FATAL(make_account(&a, "audit-roles", NULL), 0);
    snprintf(path, sizeof(path), "/v1/users/%s/roles", a.id);
    expect_rid("PUT", path, fx[ADMIN].p.access,
               "{\"roles\":[\"user\",\"editor\"]}", 200, rid, sizeof(rid));
    json_object_put(
        assert_one_event("user.roles_changed", admin, "user", a.id, rid, 0));

    /* user.deleted */
    CU_ASSERT_EQUAL_FATAL(make_account(&a, "audit-deleted", NULL), 0);
    snprintf(path, sizeof(path), "/v1/users/%s", a.id);
    expect_rid("DELETE", path, fx[ADMIN].p.access, NULL, 204, rid, sizeof(rid));
    json_object_put(
        assert_one_event("user.deleted", admin, "user", a.id, rid, 0));

    /* user.password_changed: the user is actor and target */
    CU_ASSERT_EQUAL_FATAL(make_account(&a, "audit-pw", NULL), 0);
    expect_rid("POST", "/v1/auth/password", a.p.access,
               "{\"current_password\":\"" PASSWORD
               "\",\"new_password\":\"" NEW_PASSWORD "\"}",
               204, rid, sizeof(rid));
    json_object_put(
        assert_one_event("user.password_changed", a.id, "user", a.id, rid, 0));

    /* auth.session_revoked: the user ends another session of theirs */
    CU_ASSERT_EQUAL_FATAL(make_account(&a, "audit-sess", NULL), 0);
    CU_ASSERT_EQUAL_FATAL(login(a.email, PASSWORD, NULL), 200);
    call("GET", "/v1/auth/sessions", a.p.access, NULL, &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 200);
    for (int i = 0; i < data_len(&r); i++) {
        json_object *s =
            json_object_array_get_idx(json_path(r.json, "data"), (size_t)i);
        if (!json_object_get_boolean(json_path(s, "current")))
            snprintf(sid, sizeof(sid), "%s", nz(json_path_str(s, "id")));
    }
    resp_free(&r);
    CU_ASSERT_EQUAL_FATAL(strlen(sid), 36);
    snprintf(path, sizeof(path), "/v1/auth/sessions/%s", sid);
    expect_rid("DELETE", path, a.p.access, NULL, 204, rid, sizeof(rid));
    /* Found by its actor; the target is the session or its user. */
    ev = assert_one_event("auth.session_revoked", a.id, NULL, NULL, rid, 1);
    if (ev != NULL) {
        const char *tt = json_path_str(ev, "target_type");
        const char *ti = json_path_str(ev, "target_id");
        CU_ASSERT_PTR_NOT_NULL_FATAL(tt);
        CU_ASSERT_PTR_NOT_NULL_FATAL(ti);
        CU_ASSERT_TRUE((strcmp(tt, "session") == 0 && strcmp(ti, sid) == 0) ||
                       (strcmp(tt, "user") == 0 && strcmp(ti, a.id) == 0));
        json_object_put(ev);
    }

    /* auth.login_failed: no actor, the user as target */
    CU_ASSERT_EQUAL_FATAL(make_account(&a, "audit-fail", NULL), 0);
    {
        char body[512];
        snprintf(body, sizeof(body),
                 "{\"email\":\"%s\",\"password\":\"not the password at all\"}",
                 a.email);
        expect_rid("POST", "/v1/auth/login", NULL, body, 401, rid, sizeof(rid));
    }
    ev = assert_one_event("auth.login_failed", NULL, "user", a.id, rid, 0);
    CU_ASSERT_PTR_NULL(
        ev ? strstr(json_object_to_json_string(ev), "not the password") : NULL);
    json_object_put(ev);
}

static void
test_audit_events_filter_and_page_by_cursor(void)
{
    char q[4096], cursor[2048], e1[128], id1[64], link[4096] = "", *at;
    json_object *d;
    http_resp_t r;

    /* actor_id: only the admin's events. */
    snprintf(q, sizeof(q), "actor_id=%s&limit=100", fx[ADMIN].id);
    audit_query(q, &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 200);
    CU_ASSERT_TRUE(data_len(&r) >= 1);
    d = json_path(r.json, "data");
    for (int i = 0; i < data_len(&r); i++)
        CU_ASSERT_STRING_EQUAL(
            nz(json_path_str(json_object_array_get_idx(d, (size_t)i),
                             "actor_id")),
            fx[ADMIN].id);
    resp_free(&r);
    /* action: only that action. */
    audit_query("action=auth.login_failed&limit=100", &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 200);
    CU_ASSERT_TRUE(data_len(&r) >= 1);
    d = json_path(r.json, "data");
    for (int i = 0; i < data_len(&r); i++)
        CU_ASSERT_STRING_EQUAL(
            nz(json_path_str(json_object_array_get_idx(d, (size_t)i),
                             "action")),
            "auth.login_failed");
    resp_free(&r);
    /* created_after, created_before: RFC 3339 instants. */
    snprintf(q, sizeof(q), "actor_id=%s&created_after=%s", fx[ADMIN].id,
             enc("2000-01-01T00:00:00.000Z", e1, sizeof(e1)));
    audit_query(q, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_TRUE(data_len(&r) >= 1);
    resp_free(&r);
    snprintf(q, sizeof(q), "/v1/audit-events?actor_id=%s&created_after=%s",
             fx[ADMIN].id, enc("2999-01-01T00:00:00.000Z", e1, sizeof(e1)));
    call("GET", q, fx[ADMIN].p.access, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_EQUAL(data_len(&r), 0);
    CU_ASSERT_FALSE(
        json_object_get_boolean(json_path(r.json, "meta.has_more")));
    CU_ASSERT_TRUE(json_object_is_type(json_path(r.json, "meta.next_cursor"),
                                       json_type_null));
    resp_free(&r);
    snprintf(q, sizeof(q), "/v1/audit-events?actor_id=%s&created_before=%s",
             fx[ADMIN].id, enc("2000-01-01T00:00:00.000Z", e1, sizeof(e1)));
    call("GET", q, fx[ADMIN].p.access, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_EQUAL(data_len(&r), 0);
    resp_free(&r);
    snprintf(q, sizeof(q), "actor_id=%s&created_before=%s", fx[ADMIN].id,
             enc("2999-01-01T00:00:00.000Z", e1, sizeof(e1)));
    audit_query(q, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_TRUE(data_len(&r) >= 1);
    resp_free(&r);
    /* Bad values and unknown parameters. */
    assert_refused_invalid("GET", "/v1/audit-events?created_after=yesterday",
                           fx[ADMIN].p.access, NULL, "created_after");
    call("GET", "/v1/audit-events?nope=1", fx[ADMIN].p.access, NULL, &r);
    assert_400(&r);
    resp_free(&r);
    /* Cursor pages: the first without a cursor, the next with it. */
    call("GET", "/v1/audit-events?limit=1", fx[ADMIN].p.access, NULL, &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 200);
    CU_ASSERT_EQUAL(data_len(&r), 1);
    CU_ASSERT_EQUAL(json_object_get_int(json_path(r.json, "meta.limit")), 1);
    CU_ASSERT_TRUE(json_object_get_boolean(json_path(r.json, "meta.has_more")));
    CU_ASSERT_PTR_NOT_NULL_FATAL(json_path_str(r.json, "meta.next_cursor"));
    snprintf(cursor, sizeof(cursor), "%s",
             nz(json_path_str(r.json, "meta.next_cursor")));
    snprintf(id1, sizeof(id1), "%s", nz(json_path_str(r.json, "data.0.id")));
    CU_ASSERT_PTR_NOT_NULL(resp_header(&r, "Link", link, sizeof(link)));
    CU_ASSERT_PTR_NOT_NULL(strstr(link, "rel=\"next\""));
    resp_free(&r);
    {
        char e[2048];
        snprintf(q, sizeof(q), "/v1/audit-events?limit=1&cursor=%s",
                 enc(cursor, e, sizeof(e)));
    }
    call("GET", q, fx[ADMIN].p.access, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_EQUAL(data_len(&r), 1);
    CU_ASSERT_STRING_NOT_EQUAL(nz(json_path_str(r.json, "data.0.id")), id1);
    resp_free(&r);
    /* A tampered cursor: one character in the middle changed. */
    at = cursor + strlen(cursor) / 2;
    *at = *at == 'A' ? 'B' : 'A';
    {
        char e[2048];
        snprintf(q, sizeof(q), "/v1/audit-events?limit=1&cursor=%s",
                 enc(cursor, e, sizeof(e)));
    }
    assert_refused_invalid("GET", q, fx[ADMIN].p.access, NULL, "cursor");
}

static void
test_the_audit_log_holds_no_secrets_and_is_append_only(void)
{
    char path[4096], cursor[2048] = "", *total;
    size_t events = 0;
    PGresult *res;

    /* Every page, newest to oldest, until next_cursor is null. */
    for (int page = 0; page < 1000; page++) {
        http_resp_t r;
        const char *next;

        if (cursor[0] == '\0') {
            snprintf(path, sizeof(path), "/v1/audit-events?limit=100");
        } else {
            char e[2048];
            snprintf(path, sizeof(path), "/v1/audit-events?limit=100&cursor=%s",
                     enc(cursor, e, sizeof(e)));
        }
        call("GET", path, fx[ADMIN].p.access, NULL, &r);
        CU_ASSERT_EQUAL(r.status, 200);
        if (r.status != 200) {
            resp_free(&r);
            break;
        }
        events += (size_t)data_len(&r);
        CU_ASSERT_PTR_NULL(strstr(r.body, PASSWORD));
        CU_ASSERT_PTR_NULL(strstr(r.body, NEW_PASSWORD));
        CU_ASSERT_PTR_NULL(strstr(r.body, "$argon2"));
        for (size_t i = 0; i < api_seen_count(); i++) {
            CU_ASSERT_PTR_NULL(strstr(r.body, api_seen(i)));
            if (strstr(r.body, api_seen(i)) != NULL)
                fprintf(stderr, "\n    a token is in the audit log\n");
        }
        next = json_path_str(r.json, "meta.next_cursor");
        CU_ASSERT_EQUAL(
            json_object_get_boolean(json_path(r.json, "meta.has_more")),
            next != NULL);
        if (next == NULL || strcmp(next, cursor) == 0) {
            resp_free(&r);
            break;
        }
        snprintf(cursor, sizeof(cursor), "%s", next);
        resp_free(&r);
    }
    /* Every event, once: paging skipped none (nothing writes meanwhile). */
    total = sql1("SELECT count(*) FROM audit_events");
    CU_ASSERT_EQUAL(events, (size_t)strtoul(total, NULL, 10));
    free(total);
    CU_ASSERT_TRUE(events >= 8);
    fprintf(stderr, "\n  scanned %zu audit events, %zu tokens\n", events,
            api_seen_count());
    /* keeld's database user cannot rewrite history either. */
    res = PQexec(api_pg(), "UPDATE audit_events SET action = 'x' WHERE id = "
                           "(SELECT max(id) FROM audit_events)");
    CU_ASSERT_NOT_EQUAL(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    res = PQexec(api_pg(), "DELETE FROM audit_events WHERE id = "
                           "(SELECT max(id) FROM audit_events)");
    CU_ASSERT_NOT_EQUAL(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
}

/* ---- D: the users collection --------------------------------------------- */

/* Two users made after `after` (a database instant), P then Q, with
 * P.email > Q.email and P.name < Q.name. */
static char sort_after[64], p_id[37], q_id[37];

static void
make_sort_pair(void)
{
    char ep[128], eq[128];
    char *now;

    if (p_id[0] != '\0')
        return;
    now = sql1("SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', "
               "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')");
    snprintf(sort_after, sizeof(sort_after), "%s", now);
    free(now);
    usleep(20000);
    fresh_email(ep, sizeof(ep), "sort-b");
    fresh_email(eq, sizeof(eq), "sort-a");
    CU_ASSERT_EQUAL(register_user(ep, "Alpha Sort", p_id), 201);
    CU_ASSERT_EQUAL(register_user(eq, "Bravo Sort", q_id), 201);
}

/* Under `sort`, does P come before Q (1), after (0), or is one missing
 * (-1)? */
static int
p_first(const char *sort)
{
    char path[512], e[64];
    http_resp_t r;
    int ip, iq;

    snprintf(path, sizeof(path), "/v1/users?created_after=%s&limit=100%s%s",
             enc(sort_after, e, sizeof(e)), sort ? "&sort=" : "",
             sort ? sort : "");
    call("GET", path, fx[ADMIN].p.access, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    ip = index_of(&r, p_id);
    iq = index_of(&r, q_id);
    resp_free(&r);
    return ip < 0 || iq < 0 ? -1 : ip < iq;
}

static void
test_users_list_pages_sorts_filters_and_selects(void)
{
    char path[512], e1[256], e2[64], upper[128], email[128], id[37];
    char link[4096] = "";
    json_object *d;
    http_resp_t r;

    /* Offset mode by default. */
    call("GET", "/v1/users", fx[ADMIN].p.access, NULL, &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 200);
    CU_ASSERT_TRUE(data_len(&r) >= 1 && data_len(&r) <= 20);
    CU_ASSERT_EQUAL(json_object_get_int(json_path(r.json, "meta.page")), 1);
    CU_ASSERT_EQUAL(json_object_get_int(json_path(r.json, "meta.limit")), 20);
    CU_ASSERT_TRUE(
        json_object_is_type(json_path(r.json, "meta.total"), json_type_int));
    CU_ASSERT_TRUE(json_object_is_type(json_path(r.json, "meta.has_more"),
                                       json_type_boolean));
    CU_ASSERT_PTR_NULL(strstr(r.body, "password"));
    resp_free(&r);
    /* limit bounds */
    assert_refused_invalid("GET", "/v1/users?limit=0", fx[ADMIN].p.access, NULL,
                           "limit");
    assert_refused_invalid("GET", "/v1/users?limit=101", fx[ADMIN].p.access,
                           NULL, "limit");
    /* Pages of the two users made after an instant. */
    make_sort_pair();
    snprintf(path, sizeof(path), "/v1/users?created_after=%s&limit=1",
             enc(sort_after, e2, sizeof(e2)));
    call("GET", path, fx[ADMIN].p.access, NULL, &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 200);
    CU_ASSERT_EQUAL(data_len(&r), 1);
    CU_ASSERT_EQUAL(json_object_get_int(json_path(r.json, "meta.total")), 2);
    CU_ASSERT_TRUE(json_object_get_boolean(json_path(r.json, "meta.has_more")));
    /* Default order -created_at: Q, then P. */
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.0.id")), q_id);
    CU_ASSERT_PTR_NOT_NULL(resp_header(&r, "Link", link, sizeof(link)));
    CU_ASSERT_PTR_NOT_NULL(strstr(link, "rel=\"next\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(link, "page=2"));
    resp_free(&r);
    snprintf(path, sizeof(path), "/v1/users?created_after=%s&limit=1&page=2",
             enc(sort_after, e2, sizeof(e2)));
    call("GET", path, fx[ADMIN].p.access, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_EQUAL(json_object_get_int(json_path(r.json, "meta.page")), 2);
    CU_ASSERT_FALSE(
        json_object_get_boolean(json_path(r.json, "meta.has_more")));
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.0.id")), p_id);
    if (resp_header(&r, "Link", link, sizeof(link)) != NULL)
        CU_ASSERT_PTR_NULL(strstr(link, "rel=\"next\""));
    resp_free(&r);
    /* Sorting. */
    CU_ASSERT_EQUAL(p_first(NULL), 0);
    CU_ASSERT_EQUAL(p_first("-email"), 1);
    CU_ASSERT_EQUAL(p_first("email"), 0);
    CU_ASSERT_EQUAL(p_first("name"), 1);
    CU_ASSERT_EQUAL(p_first("-name"), 0);
    CU_ASSERT_EQUAL(p_first("%2Bname"), 1);
    assert_refused_invalid("GET", "/v1/users?sort=password", fx[ADMIN].p.access,
                           NULL, "sort");
    /* email: exact, case-insensitive; the address as it was given. */
    fresh_email(email, sizeof(email), "Mixed-Case");
    CU_ASSERT_EQUAL_FATAL(register_user(email, "Mixed", id), 201);
    for (size_t i = 0; i <= strlen(email); i++)
        upper[i] = (char)toupper((unsigned char)email[i]);
    snprintf(path, sizeof(path), "/v1/users?email=%s",
             enc(upper, e1, sizeof(e1)));
    call("GET", path, fx[ADMIN].p.access, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_EQUAL(data_len(&r), 1);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.0.id")), id);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.0.email")), email);
    resp_free(&r);
    /* Not a substring match. */
    snprintf(path, sizeof(path), "/v1/users?email=%s",
             enc(email + 1, e1, sizeof(e1)));
    call("GET", path, fx[ADMIN].p.access, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_EQUAL(data_len(&r), 0);
    resp_free(&r);
    /* role */
    call("GET", "/v1/users?role=admin&limit=100", fx[ADMIN].p.access, NULL, &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 200);
    CU_ASSERT_TRUE(data_len(&r) >= 1);
    d = json_path(r.json, "data");
    for (int i = 0; i < data_len(&r); i++)
        CU_ASSERT_TRUE(array_has(
            json_path(json_object_array_get_idx(d, (size_t)i), "roles"),
            "admin"));
    resp_free(&r);
    snprintf(path, sizeof(path), "/v1/users?role=admin&email=%s",
             enc(fx[ADMIN].email, e1, sizeof(e1)));
    call("GET", path, fx[ADMIN].p.access, NULL, &r);
    CU_ASSERT_EQUAL(data_len(&r), 1);
    resp_free(&r);
    snprintf(path, sizeof(path), "/v1/users?role=admin&email=%s",
             enc(fx[EDITOR].email, e1, sizeof(e1)));
    call("GET", path, fx[ADMIN].p.access, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_EQUAL(data_len(&r), 0);
    resp_free(&r);
    /* fields */
    call("GET", "/v1/users?fields=id,email&limit=5", fx[ADMIN].p.access, NULL,
         &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 200);
    CU_ASSERT_TRUE(data_len(&r) >= 1);
    d = json_path(r.json, "data");
    for (int i = 0; i < data_len(&r); i++) {
        json_object *u = json_object_array_get_idx(d, (size_t)i);
        CU_ASSERT_EQUAL(json_object_object_length(u), 2);
        CU_ASSERT_PTR_NOT_NULL(json_path_str(u, "id"));
        CU_ASSERT_PTR_NOT_NULL(json_path_str(u, "email"));
    }
    resp_free(&r);
    call("GET", "/v1/users?fields=id,nope", fx[ADMIN].p.access, NULL, &r);
    assert_400(&r);
    resp_free(&r);
    snprintf(path, sizeof(path), "/v1/users/%s?fields=name", fx[USER].id);
    call("GET", path, fx[ADMIN].p.access, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_EQUAL(json_object_object_length(json_path(r.json, "data")), 2);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.id")), fx[USER].id);
    CU_ASSERT_PTR_NOT_NULL(json_path_str(r.json, "data.name"));
    resp_free(&r);
    /* Parameter errors. */
    call("GET", "/v1/users?page=1&cursor=x", fx[ADMIN].p.access, NULL, &r);
    assert_400(&r);
    resp_free(&r);
    call("GET", "/v1/users?limit=5&limit=6", fx[ADMIN].p.access, NULL, &r);
    assert_400(&r);
    resp_free(&r);
    call("GET", "/v1/users?nope=1", fx[ADMIN].p.access, NULL, &r);
    assert_400(&r);
    resp_free(&r);
}

/* Cursor mode on a collection that also has pages: an empty cursor starts
 * it; each page's next_cursor continues it; the last page has none; a
 * cursor of another sort is refused; count=estimated is marked. */
static void
test_users_page_by_cursor_and_estimate(void)
{
    char path[2048], e2[64], first[37] = "", cursor[1024] = "";
    http_resp_t r;

    make_sort_pair();
    enc(sort_after, e2, sizeof(e2));
    snprintf(path, sizeof(path),
             "/v1/users?created_after=%s&limit=1&sort=name&cursor=", e2);
    call("GET", path, fx[ADMIN].p.access, NULL, &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 200);
    CU_ASSERT_EQUAL(data_len(&r), 1);
    CU_ASSERT_PTR_NULL(json_path(r.json, "meta.page"));
    CU_ASSERT_TRUE(json_object_get_boolean(json_path(r.json, "meta.has_more")));
    snprintf(first, sizeof(first), "%s",
             nz(json_path_str(r.json, "data.0.id")));
    snprintf(cursor, sizeof(cursor), "%s",
             nz(json_path_str(r.json, "meta.next_cursor")));
    resp_free(&r);
    CU_ASSERT_STRING_EQUAL(first, p_id); /* "Alpha Sort" < "Bravo Sort" */
    CU_ASSERT_FATAL(cursor[0] != '\0');
    snprintf(path, sizeof(path),
             "/v1/users?created_after=%s&limit=1&sort=name&cursor=%s", e2,
             cursor);
    call("GET", path, fx[ADMIN].p.access, NULL, &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 200);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.0.id")), q_id);
    resp_free(&r);
    /* Walk on to the end: as many users as the offset total, the last
     * page without a cursor. */
    {
        char c2[1024];
        int walked = 2, total, pages = 0;
        snprintf(path, sizeof(path), "/v1/users?created_after=%s", e2);
        call("GET", path, fx[ADMIN].p.access, NULL, &r);
        total = json_object_get_int(json_path(r.json, "meta.total"));
        resp_free(&r);
        snprintf(path, sizeof(path),
                 "/v1/users?created_after=%s&limit=1&sort=name&cursor=%s", e2,
                 cursor);
        call("GET", path, fx[ADMIN].p.access, NULL, &r);
        while (r.status == 200 && pages++ < 100 &&
               json_object_get_boolean(json_path(r.json, "meta.has_more"))) {
            snprintf(c2, sizeof(c2), "%s",
                     nz(json_path_str(r.json, "meta.next_cursor")));
            resp_free(&r);
            snprintf(path, sizeof(path),
                     "/v1/users?created_after=%s&limit=1&sort=name&cursor=%s",
                     e2, c2);
            call("GET", path, fx[ADMIN].p.access, NULL, &r);
            CU_ASSERT_EQUAL(data_len(&r), 1);
            walked++;
        }
        CU_ASSERT_EQUAL(r.status, 200);
        CU_ASSERT_TRUE(json_object_is_type(
            json_path(r.json, "meta.next_cursor"), json_type_null));
        CU_ASSERT_EQUAL(walked, total);
        resp_free(&r);
    }
    /* The same cursor under another sort. */
    snprintf(path, sizeof(path),
             "/v1/users?created_after=%s&limit=1&sort=email&cursor=%s", e2,
             cursor);
    assert_refused_invalid("GET", path, fx[ADMIN].p.access, NULL, "cursor");
    assert_estimated("/v1/users?count=estimated", fx[ADMIN].p.access);
}

static void
test_user_updates_are_conditional_and_versioned(void)
{
    char path[128], etag[64] = "", h[128];
    account_t w;
    int v;
    http_resp_t r;

    CU_ASSERT_EQUAL_FATAL(make_account(&w, "locking", NULL), 0);
    snprintf(path, sizeof(path), "/v1/users/%s", w.id);
    call("GET", path, w.p.access, NULL, &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 200);
    v = json_object_get_int(json_path(r.json, "data.version"));
    CU_ASSERT_EQUAL(v, 1);
    snprintf(h, sizeof(h), "W/\"%d\"", v);
    CU_ASSERT_STRING_EQUAL(nz(resp_header(&r, "ETag", etag, sizeof(etag))), h);
    resp_free(&r);
    /* If-Match that does not match: 412, nothing changes. */
    assert_refused_h("PATCH", path, w.p.access, "{\"name\":\"Never\"}",
                     "If-Match: W/\"999\"", 412, "PRECONDITION_FAILED");
    /* The current ETag: the change, version + 1 and a new ETag. */
    snprintf(h, sizeof(h), "If-Match: W/\"%d\"", v);
    call_h("PATCH", path, w.p.access, "{\"name\":\"Renamed\"}", h, &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 200);
    CU_ASSERT_EQUAL(json_object_get_int(json_path(r.json, "data.version")),
                    v + 1);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.name")), "Renamed");
    snprintf(h, sizeof(h), "W/\"%d\"", v + 1);
    CU_ASSERT_STRING_EQUAL(nz(resp_header(&r, "ETag", etag, sizeof(etag))), h);
    resp_free(&r);
    /* A stale body version: 409, nothing changes. */
    snprintf(h, sizeof(h), "{\"name\":\"Stale\",\"version\":%d}", v);
    assert_refused("PATCH", path, w.p.access, h, 409, "VERSION_CONFLICT");
    call("GET", path, w.p.access, NULL, &r);
    CU_ASSERT_EQUAL(json_object_get_int(json_path(r.json, "data.version")),
                    v + 1);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.name")), "Renamed");
    resp_free(&r);
    /* The current one: accepted. */
    snprintf(h, sizeof(h), "{\"name\":\"Current\",\"version\":%d}", v + 1);
    call("PATCH", path, w.p.access, h, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_EQUAL(json_object_get_int(json_path(r.json, "data.version")),
                    v + 2);
    CU_ASSERT_PTR_NOT_NULL(resp_header(&r, "ETag", etag, sizeof(etag)));
    resp_free(&r);
    /* If-None-Match with the current ETag: 304 without a body. */
    snprintf(h, sizeof(h), "If-None-Match: %s", etag);
    assert_bodiless("GET", path, w.p.access, h, 304, NULL);
    /* An older one: the user again. */
    snprintf(h, sizeof(h), "If-None-Match: W/\"%d\"", v);
    call_h("GET", path, w.p.access, NULL, h, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    resp_free(&r);
}

static void
test_a_deleted_user_vanishes_and_frees_the_email(void)
{
    char path[160], e[256], id[37];
    account_t x;
    http_resp_t r;
    double t;

    CU_ASSERT_EQUAL_FATAL(make_account(&x, "soft", NULL), 0);
    /* Each worker has seen the token. */
    for (int i = 0; i < 6; i++)
        CU_ASSERT_EQUAL(status_of("GET", "/v1/auth/me", x.p.access, NULL), 200);
    snprintf(path, sizeof(path), "/v1/users/%s", x.id);
    assert_bodiless("DELETE", path, fx[ADMIN].p.access, NULL, 204, NULL);
    t = refused_within(x.p.access, POLL_LIMIT);
    CU_ASSERT_TRUE(t >= 0 && t <= WITHIN);
    CU_ASSERT_EQUAL(login(x.email, PASSWORD, NULL), 401);
    assert_refused("GET", path, fx[ADMIN].p.access, NULL, 404, "NOT_FOUND");
    snprintf(path, sizeof(path), "/v1/users?email=%s",
             enc(x.email, e, sizeof(e)));
    call("GET", path, fx[ADMIN].p.access, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_EQUAL(data_len(&r), 0);
    resp_free(&r);
    CU_ASSERT_EQUAL(register_user(x.email, "Again", id), 201);
    CU_ASSERT_STRING_NOT_EQUAL(id, x.id);
}

/* Ids in any letter case are one id: a self check cannot be dodged by
 * writing one's own id in capitals. */
static void
test_ids_in_capitals_are_the_same_user(void)
{
    char up[37], path[128];
    http_resp_t r;

    for (int i = 0; i < 37; i++)
        up[i] = (char)toupper((unsigned char)fx[ADMIN].id[i]);
    snprintf(path, sizeof(path), "/v1/users/%s", up);
    CU_ASSERT_EQUAL(status_of("DELETE", path, fx[ADMIN].p.access, NULL), 403);
    for (int i = 0; i < 37; i++)
        up[i] = (char)toupper((unsigned char)fx[USER].id[i]);
    snprintf(path, sizeof(path), "/v1/users/%s", up);
    call("GET", path, fx[USER].p.access, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.id")), fx[USER].id);
    resp_free(&r);
}

/* Bad input gets a 400 (or 412), never a 500: versions beyond any
 * integer, timestamps PostgreSQL refuses, blanks around names, offsets too
 * deep, parameters a route does not take. */
static void
test_odd_input_is_a_client_error(void)
{
    char path[160];
    http_resp_t r;

    snprintf(path, sizeof(path), "/v1/users/%s", fx[USER].id);
    assert_refused_h("PATCH", path, fx[USER].p.access, "{\"name\":\"Odd\"}",
                     "If-Match: W/\"99999999999\"", 412, "PRECONDITION_FAILED");
    /* CR and LF around a name are not stored: 100 characters fit. */
    {
        char body[256] = "{\"name\":\"\\n\\r\\n";
        for (int i = 0; i < 100; i++)
            strcat(body, "a");
        strcat(body, "\\n\"}");
        call("PATCH", path, fx[USER].p.access, body, &r);
        CU_ASSERT_EQUAL(r.status, 200);
        CU_ASSERT_EQUAL(strlen(nz(json_path_str(r.json, "data.name"))), 100);
        resp_free(&r);
    }
    assert_refused_invalid(
        "GET", "/v1/audit-events?created_after=0000-01-01T00:00:00Z",
        fx[ADMIN].p.access, NULL, "created_after");
    assert_refused_invalid(
        "GET", "/v1/audit-events?created_after=2026-01-01T00:00:00%2B16:00",
        fx[ADMIN].p.access, NULL, "created_after");
    assert_refused_invalid("GET", "/v1/users?limit=100&page=102",
                           fx[ADMIN].p.access, NULL, "page");
    CU_ASSERT_EQUAL(status_of("GET", "/v1/users?limit=100&page=101",
                              fx[ADMIN].p.access, NULL),
                    200);
    assert_refused_invalid("PATCH",
                           "/v1/users/00000000-0000-4000-8000-000000000000?x=1",
                           fx[ADMIN].p.access, "{\"name\":\"X\"}", "query");
    assert_refused_invalid("GET", "/v1/roles?sort=name", fx[ADMIN].p.access,
                           NULL, "query");
    /* Probes may add what they like. */
    CU_ASSERT_EQUAL(status_of("GET", "/health?probe=1", NULL, NULL), 200);
}

/* The number of roles is bounded (every worker caches them all): at the
 * bound a new role is 409 and the cache keeps working. */
static void
test_roles_are_bounded(void)
{
    char *n;

    free(sql1("INSERT INTO roles (name) SELECT 'bulk-' || g FROM "
              "generate_series(1, 256 - (SELECT count(*) FROM roles)::int) g"));
    n = sql1("SELECT count(*) FROM roles");
    CU_ASSERT_STRING_EQUAL(n, "256");
    free(n);
    assert_refused("PUT", "/v1/roles/one-too-many", fx[ADMIN].p.access,
                   "{\"permissions\":[]}", 409, "CONFLICT");
    usleep(1200000); /* past the cache's check interval */
    CU_ASSERT_EQUAL(status_of("GET", "/v1/roles", fx[ADMIN].p.access, NULL),
                    200);
    free(sql1("DELETE FROM roles WHERE name LIKE 'bulk-%'"));
    CU_ASSERT_EQUAL(status_of("PUT", "/v1/roles/one-more", fx[ADMIN].p.access,
                              "{\"permissions\":[]}"),
                    201);
    CU_ASSERT_EQUAL(
        status_of("DELETE", "/v1/roles/one-more", fx[ADMIN].p.access, NULL),
        204);
}

/* Nobody can take the last power to manage roles away, whether by a
 * user's roles, a deletion or a role's permissions.  Runs last: it leaves
 * the fixture admin as the only user who can manage roles. */
static void
test_the_last_role_manager_cannot_be_removed(void)
{
    char q[512], path[128];
    http_resp_t r;
    char *n;

    snprintf(q, sizeof(q),
             "DELETE FROM user_roles ur USING roles r WHERE r.id = ur.role_id "
             "AND r.name <> 'user' AND ur.user_id <> (SELECT id FROM users "
             "WHERE public_id = '%s') AND EXISTS (SELECT 1 FROM "
             "role_permissions rp JOIN permissions p ON p.id = "
             "rp.permission_id WHERE rp.role_id = r.id AND p.name = "
             "'roles:manage')",
             fx[ADMIN].id);
    free(sql1(q));
    n = sql1("SELECT count(DISTINCT u.id) FROM users u JOIN user_roles ur ON "
             "ur.user_id = u.id JOIN role_permissions rp ON rp.role_id = "
             "ur.role_id JOIN permissions p ON p.id = rp.permission_id WHERE "
             "p.name = 'roles:manage' AND u.deleted_at IS NULL");
    CU_ASSERT_STRING_EQUAL(n, "1");
    free(n);
    snprintf(path, sizeof(path), "/v1/users/%s/roles", fx[ADMIN].id);
    assert_refused("PUT", path, fx[ADMIN].p.access, "{\"roles\":[\"user\"]}",
                   409, "CONFLICT");
    snprintf(path, sizeof(path), "/v1/users/%s", fx[ADMIN].id);
    call("GET", path, fx[ADMIN].p.access, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_TRUE(array_has(json_path(r.json, "data.roles"), "admin"));
    resp_free(&r);
}

static const unit_test_t tests[] = {
    { "the access matrix holds", test_the_access_matrix_holds },
    { "/me lists exactly the roles' permissions",
      test_me_lists_exactly_the_roles_permissions },
    { "GET /v1/roles lists the seeded roles with their permissions",
      test_roles_lists_the_seeded_roles_with_their_permissions },
    { "the admin role keeps roles:manage",
      test_the_admin_role_keeps_roles_manage },
    { "jobs hide payloads; only dead or failed ones retry",
      test_jobs_hide_payloads_and_only_dead_or_failed_ones_retry },
    { "a role's life reaches tokens within 5 s",
      test_a_roles_life_reaches_tokens_within_5s },
    { "each audited action is recorded once",
      test_each_audited_action_is_recorded_once },
    { "audit events filter and page by cursor",
      test_audit_events_filter_and_page_by_cursor },
    { "the users list pages, sorts, filters and selects fields",
      test_users_list_pages_sorts_filters_and_selects },
    { "users page by cursor; count=estimated is marked",
      test_users_page_by_cursor_and_estimate },
    { "user updates are conditional and versioned",
      test_user_updates_are_conditional_and_versioned },
    { "a deleted user vanishes and frees the email",
      test_a_deleted_user_vanishes_and_frees_the_email },
    { "ids in capitals are the same user",
      test_ids_in_capitals_are_the_same_user },
    { "odd input is a client error, never a 500",
      test_odd_input_is_a_client_error },
    { "roles are bounded", test_roles_are_bounded },
    { "the last user who can manage roles keeps that power",
      test_the_last_role_manager_cannot_be_removed },
    /* Last: it scans what every test before recorded. */
    { "the audit log holds no secrets and is append-only",
      test_the_audit_log_holds_no_secrets_and_is_append_only },
};

/* The fixtures every test uses besides the accounts of main(): 0, or -1
 * with a message. */
static int
fixtures(void)
{
    char email[128], *v;

    fresh_email(email, sizeof(email), "acc-victim");
    if (register_user(email, "Victim", victim_id) != 201)
        return -1;
    snprintf(matrix_role, sizeof(matrix_role), "matrix-%ld", (long)getpid());
    /* A job that has run: found by id, never retried. */
    v = sql1("INSERT INTO jobs (type, payload, status, attempts) VALUES "
             "('test.noop', '{\"token\":\"keel-test-secret\"}', 'succeeded', "
             "1) RETURNING public_id");
    snprintf(job_id, sizeof(job_id), "%s", v);
    free(v);
    if (strlen(job_id) != 36) {
        fprintf(stderr, "test_access: cannot insert a job\n");
        return -1;
    }
    return 0;
}

int
main(void)
{
    static const api_fixture_t accounts[] = {
        { &fx[USER], "acc-user", NULL },
        { &fx[EDITOR], "acc-editor", "editor" },
        { &fx[ADMIN], "acc-admin", "admin" },
        { &user2, "acc-user2", NULL },
    };

    return api_main("access", accounts, sizeof(accounts) / sizeof(accounts[0]),
                    fixtures, UNIT_TESTS(tests));
}
