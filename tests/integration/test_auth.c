/*
 * test_auth.c - /v1/auth (API.md 3) through real nginx -> keeld-test ->
 * PostgreSQL: registration and the verification email in the file spool,
 * login, rotating refresh tokens with reuse detection, logout, logout-all
 * and password change killing access tokens within 5 s, sessions, deleted
 * users, login throttling, equal timing for unknown and known emails.
 * Needs KEEL_TEST_URL, KEEL_TEST_DIR and KEEL_TEST_PGURL (run.sh, which
 * sets [auth] refresh_reuse_grace to 1 s).
 */
#include "keel-build.h"

#include "../unit/unit.h"
#include "api.h"
#include "client.h"

#include <dirent.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *spool;

static void
post(const char *path, const char *bearer, const char *body, http_resp_t *r)
{
    char auth[4096];
    const char *h[3] = { "Content-Type: application/json", NULL, NULL };

    if (bearer != NULL) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", bearer);
        h[1] = auth;
    }
    http_do(api_base(), "POST", path, h, body, body ? strlen(body) : 0, r);
}

static void
send_bearer(const char *method, const char *path, const char *bearer,
            http_resp_t *r)
{
    char auth[4096];
    const char *h[2] = { auth, NULL };

    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", bearer);
    http_do(api_base(), method, path, h, NULL, 0, r);
}

/* Register `email` (named "Test"), asserting a 201; its id into `id`. */
static void
register_test_user(const char *email, char id[37])
{
    CU_ASSERT_EQUAL(register_user(email, "Test", id), 201);
}

static long
refresh(const char *token, pair_t *p)
{
    char body[256];
    http_resp_t r;
    long status;

    snprintf(body, sizeof(body), "{\"refresh_token\":\"%s\"}", token);
    post("/v1/auth/refresh", NULL, body, &r);
    status = r.status;
    if (p != NULL && status == 200) {
        snprintf(p->access, sizeof(p->access), "%s",
                 json_path_str(r.json, "data.access_token"));
        snprintf(p->refresh, sizeof(p->refresh), "%s",
                 json_path_str(r.json, "data.refresh_token"));
    }
    if (status == 401)
        assert_envelope(&r, 401, "UNAUTHORIZED");
    resp_free(&r);
    return status;
}

static long
me(const char *access)
{
    http_resp_t r;
    long status;

    send_bearer("GET", "/v1/auth/me", access, &r);
    status = r.status;
    resp_free(&r);
    return status;
}

/* The verification token from the newest .eml to `email` in the spool. */
static int
mailed_token(const char *email, char *token, size_t len)
{
    DIR *d = opendir(spool);
    struct dirent *e;
    int found = 0;

    if (d == NULL)
        return 0;
    while (!found && (e = readdir(d)) != NULL) {
        char path[1024], line[1024];
        int to_match = 0;
        FILE *f;
        if (strstr(e->d_name, ".eml") == NULL)
            continue;
        snprintf(path, sizeof(path), "%s/%s", spool, e->d_name);
        f = fopen(path, "r");
        if (f == NULL)
            continue;
        while (fgets(line, sizeof(line), f) != NULL) {
            char *t;
            if (strncmp(line, "To: ", 4) == 0 &&
                strncmp(line + 4, email, strlen(email)) == 0)
                to_match = 1;
            if (to_match && (t = strstr(line, "token=")) != NULL) {
                snprintf(token, len, "%.*s", (int)strcspn(t + 6, "\r\n"),
                         t + 6);
                found = 1;
                break;
            }
        }
        fclose(f);
    }
    closedir(d);
    return found;
}

static void
test_register_creates_a_user_and_mails_a_verification_token(void)
{
    char email[128], body[512], token[128] = "", loc[128], q[512];
    http_resp_t r;
    int i;

    fresh_email(email, sizeof(email), "Reg");
    snprintf(body, sizeof(body),
             "{\"email\":\"%s\",\"password\":\"" PASSWORD
             "\",\"name\":\"  Ada Lovelace \"}",
             email);
    post("/v1/auth/register", NULL, body, &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 201);
    CU_ASSERT_STRING_EQUAL(json_path_str(r.json, "data.email"), email);
    CU_ASSERT_STRING_EQUAL(json_path_str(r.json, "data.name"), "Ada Lovelace");
    CU_ASSERT_STRING_EQUAL(json_path_str(r.json, "data.roles.0"), "user");
    CU_ASSERT_PTR_NULL(json_path_str(r.json, "data.email_verified_at"));
    CU_ASSERT_EQUAL(json_object_get_int(json_path(r.json, "data.version")), 1);
    CU_ASSERT_PTR_NULL(strstr(r.body, "password"));
    CU_ASSERT_PTR_NULL(strstr(r.body, "argon2"));
    snprintf(q, sizeof(q), "/v1/users/%s", json_path_str(r.json, "data.id"));
    CU_ASSERT_STRING_EQUAL(resp_header(&r, "Location", loc, sizeof(loc)), q);
    resp_free(&r);
    /* The user.registered event was recorded with it. */
    snprintf(q, sizeof(q),
             "SELECT count(*) FROM events e JOIN users u ON "
             "u.public_id::text = e.aggregate_id WHERE u.email = '%s' AND "
             "e.type = 'user.registered'",
             email);
    {
        char *n = sql1(q);
        CU_ASSERT_STRING_EQUAL(n, "1");
        free(n);
    }
    /* The job worker writes the email into the spool. */
    for (i = 0; i < 50 && !mailed_token(email, token, sizeof(token)); i++)
        usleep(100000);
    CU_ASSERT_EQUAL_FATAL(strlen(token), 43);
    snprintf(body, sizeof(body), "{\"token\":\"%s\"}", token);
    post("/v1/auth/verify-email", NULL, body, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_PTR_NOT_NULL(json_path_str(r.json, "data.email_verified_at"));
    resp_free(&r);
    /* Single use. */
    post("/v1/auth/verify-email", NULL, body, &r);
    assert_envelope(&r, 400, "VALIDATION_ERROR");
    CU_ASSERT_STRING_EQUAL(json_path_str(r.json, "error.details.0.field"),
                           "token");
    resp_free(&r);
    post("/v1/auth/verify-email", NULL, "{\"token\":\"nope\"}", &r);
    assert_envelope(&r, 400, "VALIDATION_ERROR");
    resp_free(&r);
}

static void
test_register_refuses_bad_input_and_duplicates(void)
{
    char email[128], upper[128], body[512], id[37];
    http_resp_t r;
    static const char *const bad[] = {
        "{\"email\":\"not-an-email\",\"password\":\"" PASSWORD
        "\",\"name\":\"A\"}",
        "{\"email\":\"a@example.org\",\"password\":\"short\",\"name\":\"A\"}",
        "{\"email\":\"a@example.org\",\"password\":\"" PASSWORD
        "\",\"name\":\"   \"}",
        "{\"email\":\"a@example.org\",\"password\":\"" PASSWORD
        "\",\"name\":\"A\",\"roles\":[\"admin\"]}",
        "{\"email\":\"a@example.org\",\"name\":\"A\"}",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        post("/v1/auth/register", NULL, bad[i], &r);
        assert_envelope(&r, 400, "VALIDATION_ERROR");
        resp_free(&r);
    }
    post("/v1/auth/register", NULL,
         "{\"email\":\"same-as-pw@example.org\",\"password\":"
         "\"same-as-pw@example.org\",\"name\":\"A\"}",
         &r);
    assert_envelope(&r, 400, "VALIDATION_ERROR");
    CU_ASSERT_STRING_EQUAL(json_path_str(r.json, "error.details.0.field"),
                           "password");
    resp_free(&r);
    fresh_email(email, sizeof(email), "dup");
    register_test_user(email, id);
    for (size_t i = 0; email[i]; i++)
        upper[i] = (char)(email[i] >= 'a' && email[i] <= 'z' ? email[i] - 32
                                                             : email[i]);
    upper[strlen(email)] = '\0';
    snprintf(body, sizeof(body),
             "{\"email\":\"%s\",\"password\":\"" PASSWORD
             "\",\"name\":\"Twin\"}",
             upper);
    post("/v1/auth/register", NULL, body, &r);
    assert_envelope(&r, 409, "CONFLICT");
    CU_ASSERT_STRING_EQUAL(json_path_str(r.json, "error.details.0.field"),
                           "email");
    resp_free(&r);
}

static void
test_login_returns_a_token_pair_and_me_the_user(void)
{
    char email[128], body[512], id[37], wa[256];
    http_resp_t r;

    fresh_email(email, sizeof(email), "login");
    register_test_user(email, id);
    snprintf(body, sizeof(body),
             "{\"email\":\"%s\",\"password\":\"" PASSWORD "\"}", email);
    /* Emails compare case-insensitively. */
    body[10] = (char)(body[10] - 32);
    post("/v1/auth/login", NULL, body, &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 200);
    CU_ASSERT_STRING_EQUAL(json_path_str(r.json, "data.token_type"), "Bearer");
    CU_ASSERT_EQUAL(json_object_get_int(json_path(r.json, "data.expires_in")),
                    900);
    CU_ASSERT_EQUAL(
        json_object_get_int(json_path(r.json, "data.refresh_expires_in")),
        2592000);
    CU_ASSERT_EQUAL(strlen(json_path_str(r.json, "data.refresh_token")), 43);
    CU_ASSERT_STRING_EQUAL(json_path_str(r.json, "data.user.id"), id);
    {
        pair_t p;
        http_resp_t m;
        snprintf(p.access, sizeof(p.access), "%s",
                 json_path_str(r.json, "data.access_token"));
        send_bearer("GET", "/v1/auth/me", p.access, &m);
        CU_ASSERT_EQUAL(m.status, 200);
        CU_ASSERT_STRING_EQUAL(json_path_str(m.json, "data.id"), id);
        CU_ASSERT_STRING_EQUAL(json_path_str(m.json, "data.roles.0"), "user");
        CU_ASSERT_TRUE(json_object_is_type(
            json_path(m.json, "data.permissions"), json_type_array));
        CU_ASSERT_PTR_NOT_NULL(strstr(m.body, "\"posts:create\""));
        resp_free(&m);
        /* The scheme in any case. */
        {
            char h[4200];
            const char *hh[2] = { h, NULL };
            snprintf(h, sizeof(h), "Authorization: bEaReR %s", p.access);
            http_do(api_base(), "GET", "/v1/auth/me", hh, NULL, 0, &m);
            CU_ASSERT_EQUAL(m.status, 200);
            resp_free(&m);
            snprintf(h, sizeof(h), "Authorization: Bearer %s %s", p.access,
                     p.access);
            http_do(api_base(), "GET", "/v1/auth/me", hh, NULL, 0, &m);
            assert_envelope(&m, 401, "UNAUTHORIZED");
            resp_free(&m);
            snprintf(h, sizeof(h), "Authorization: Basic %s", p.access);
            http_do(api_base(), "GET", "/v1/auth/me", hh, NULL, 0, &m);
            assert_envelope(&m, 401, "UNAUTHORIZED");
            resp_free(&m);
        }
    }
    resp_free(&r);
    /* No credentials: 401 with a bare challenge; a bad token: invalid_token. */
    http_do(api_base(), "GET", "/v1/auth/me", NULL, NULL, 0, &r);
    assert_envelope(&r, 401, "UNAUTHORIZED");
    CU_ASSERT_STRING_EQUAL(resp_header(&r, "WWW-Authenticate", wa, sizeof(wa)),
                           "Bearer realm=\"keel\"");
    resp_free(&r);
    send_bearer("GET", "/v1/auth/me", "eyJ.eyJ.sig", &r);
    assert_envelope(&r, 401, "UNAUTHORIZED");
    CU_ASSERT_STRING_EQUAL(resp_header(&r, "WWW-Authenticate", wa, sizeof(wa)),
                           "Bearer realm=\"keel\", error=\"invalid_token\"");
    resp_free(&r);
}

static void
test_login_failures_look_the_same_and_are_audited(void)
{
    char email[128], unknown[128], body[512], id[37], q[512];
    http_resp_t a, b;
    char *v;

    fresh_email(email, sizeof(email), "fail");
    fresh_email(unknown, sizeof(unknown), "nobody");
    register_test_user(email, id);
    snprintf(body, sizeof(body),
             "{\"email\":\"%s\",\"password\":\"wrong password here\"}", email);
    post("/v1/auth/login", NULL, body, &a);
    snprintf(body, sizeof(body),
             "{\"email\":\"%s\",\"password\":\"wrong password here\"}",
             unknown);
    post("/v1/auth/login", NULL, body, &b);
    assert_envelope(&a, 401, "UNAUTHORIZED");
    assert_envelope(&b, 401, "UNAUTHORIZED");
    CU_ASSERT_STRING_EQUAL(json_path_str(a.json, "error.message"),
                           json_path_str(b.json, "error.message"));
    CU_ASSERT_EQUAL(a.body_len, b.body_len);
    resp_free(&a);
    resp_free(&b);
    snprintf(q, sizeof(q),
             "SELECT count(*) FROM audit_events WHERE action = "
             "'auth.login_failed' AND details->>'email' IN ('%s', '%s') "
             "AND details::text NOT LIKE '%%wrong password%%'",
             email, unknown);
    v = sql1(q);
    CU_ASSERT_STRING_EQUAL(v, "2");
    free(v);
}

static double
median(double *v, int n)
{
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void
test_unknown_and_known_emails_fail_in_the_same_time(void)
{
    double known[30], unknown[30], mk, mu;
    char emails[3][128], body[512], id[37];

    /* Three accounts, ten failures each: under the throttle's limit. */
    for (int i = 0; i < 3; i++) {
        fresh_email(emails[i], sizeof(emails[i]), "timing");
        register_test_user(emails[i], id);
    }
    for (int i = 0; i < 30; i++) {
        char nobody[128];
        http_resp_t r;
        /* Interleaved, so that drift of the machine hits both alike. */
        snprintf(body, sizeof(body),
                 "{\"email\":\"%s\",\"password\":\"not the password\"}",
                 emails[i % 3]);
        post("/v1/auth/login", NULL, body, &r);
        known[i] = r.seconds;
        CU_ASSERT_EQUAL(r.status, 401);
        resp_free(&r);
        fresh_email(nobody, sizeof(nobody), "timing-nobody");
        snprintf(body, sizeof(body),
                 "{\"email\":\"%s\",\"password\":\"not the password\"}",
                 nobody);
        post("/v1/auth/login", NULL, body, &r);
        unknown[i] = r.seconds;
        CU_ASSERT_EQUAL(r.status, 401);
        resp_free(&r);
    }
    mk = median(known, 30);
    mu = median(unknown, 30);
    fprintf(stderr,
            "\n  median login failure: known %.1f ms, unknown %.1f ms\n",
            mk * 1000, mu * 1000);
    CU_ASSERT(mu > 0.75 * mk && mu < 1.25 * mk);
}

static void
test_failed_logins_are_throttled_per_email(void)
{
    char email[128], body[512], id[37], ra[32];
    http_resp_t r;

    fresh_email(email, sizeof(email), "throttle");
    register_test_user(email, id);
    for (int i = 0; i < 10; i++)
        CU_ASSERT_EQUAL(login(email, "not the password", NULL), 401);
    /* Even the right password waits out the window now. */
    snprintf(body, sizeof(body),
             "{\"email\":\"%s\",\"password\":\"" PASSWORD "\"}", email);
    post("/v1/auth/login", NULL, body, &r);
    assert_envelope(&r, 429, "RATE_LIMITED");
    CU_ASSERT_PTR_NOT_NULL(resp_header(&r, "Retry-After", ra, sizeof(ra)));
    CU_ASSERT(atoi(ra) > 0 && atoi(ra) <= 900);
    resp_free(&r);
}

static void
test_refresh_rotates_and_reuse_revokes_the_family(void)
{
    char email[128], id[37], q[256];
    pair_t p1, p2, p3, other;
    char *v;

    fresh_email(email, sizeof(email), "rotate");
    register_test_user(email, id);
    CU_ASSERT_EQUAL_FATAL(login(email, PASSWORD, &p1), 200);
    CU_ASSERT_EQUAL_FATAL(login(email, PASSWORD, &other), 200);
    CU_ASSERT_EQUAL_FATAL(refresh(p1.refresh, &p2), 200);
    CU_ASSERT_STRING_NOT_EQUAL(p1.refresh, p2.refresh);
    CU_ASSERT_EQUAL(me(p2.access), 200);
    /* Within the grace window (1 s here): refused, nothing revoked. */
    CU_ASSERT_EQUAL(refresh(p1.refresh, NULL), 401);
    CU_ASSERT_EQUAL_FATAL(refresh(p2.refresh, &p3), 200);
    sleep(2);
    /* After it: theft.  The whole family goes, and the user's access
     * tokens; the user's other session (another device) stays. */
    CU_ASSERT_EQUAL(refresh(p1.refresh, NULL), 401);
    CU_ASSERT_EQUAL(refresh(p3.refresh, NULL), 401);
    CU_ASSERT_TRUE(refused_within(p3.access, 6.0) >= 0);
    CU_ASSERT_TRUE(refused_within(other.access, 6.0) >= 0);
    CU_ASSERT_EQUAL(refresh(other.refresh, &other), 200);
    CU_ASSERT_EQUAL(me(other.access), 200);
    snprintf(q, sizeof(q),
             "SELECT count(*) FROM audit_events WHERE action = "
             "'auth.refresh_token_reused' AND actor_id = '%s'",
             id);
    v = sql1(q);
    CU_ASSERT_STRING_EQUAL(v, "1");
    free(v);
    /* Garbage and unknown tokens are plain 401s. */
    CU_ASSERT_EQUAL(refresh("not-a-token", NULL), 401);
    CU_ASSERT_EQUAL(
        refresh("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL), 401);
    /* A fresh login still works. */
    CU_ASSERT_EQUAL(login(email, PASSWORD, &p1), 200);
    CU_ASSERT_EQUAL(me(p1.access), 200);
}

static void
test_logout_ends_one_session(void)
{
    char email[128], id[37], body[256];
    pair_t a, b;
    http_resp_t r;

    fresh_email(email, sizeof(email), "logout");
    register_test_user(email, id);
    CU_ASSERT_EQUAL_FATAL(login(email, PASSWORD, &a), 200);
    CU_ASSERT_EQUAL_FATAL(login(email, PASSWORD, &b), 200);
    snprintf(body, sizeof(body), "{\"refresh_token\":\"%s\"}", a.refresh);
    post("/v1/auth/logout", NULL, body, &r);
    CU_ASSERT_EQUAL(r.status, 204);
    CU_ASSERT_EQUAL(r.body_len, 0);
    resp_free(&r);
    post("/v1/auth/logout", NULL, body, &r);
    assert_envelope(&r, 401, "UNAUTHORIZED");
    resp_free(&r);
    CU_ASSERT_EQUAL(refresh(a.refresh, NULL), 401);
    CU_ASSERT_EQUAL(refresh(b.refresh, NULL), 200);
}

static void
test_logout_all_kills_access_tokens_within_5s(void)
{
    char email[128], id[37];
    pair_t a, b, c;
    http_resp_t r;
    double t;

    fresh_email(email, sizeof(email), "all");
    register_test_user(email, id);
    CU_ASSERT_EQUAL_FATAL(login(email, PASSWORD, &a), 200);
    CU_ASSERT_EQUAL_FATAL(login(email, PASSWORD, &b), 200);
    /* Each worker has seen the token (and cached the user's state). */
    for (int i = 0; i < 6; i++)
        CU_ASSERT_EQUAL(me(b.access), 200);
    post("/v1/auth/logout-all", a.access, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 204);
    resp_free(&r);
    t = refused_within(b.access, 6.0);
    CU_ASSERT_TRUE(t >= 0 && t <= 5.5);
    /* Past 5 s no worker may still take either token. */
    if (t < 5.2)
        usleep((useconds_t)((5.2 - t) * 1e6));
    for (int i = 0; i < 6; i++) {
        CU_ASSERT_EQUAL(me(a.access), 401);
        CU_ASSERT_EQUAL(me(b.access), 401);
    }
    CU_ASSERT_EQUAL(refresh(a.refresh, NULL), 401);
    CU_ASSERT_EQUAL(refresh(b.refresh, NULL), 401);
    /* A login right after is not caught by the revocation. */
    CU_ASSERT_EQUAL_FATAL(login(email, PASSWORD, &c), 200);
    CU_ASSERT_EQUAL(me(c.access), 200);
}

static void
test_password_change_ends_other_sessions(void)
{
    char email[128], id[37], body[256];
    pair_t cur, other, next;
    http_resp_t r;

    fresh_email(email, sizeof(email), "pw");
    register_test_user(email, id);
    CU_ASSERT_EQUAL_FATAL(login(email, PASSWORD, &cur), 200);
    CU_ASSERT_EQUAL_FATAL(login(email, PASSWORD, &other), 200);
    post("/v1/auth/password", cur.access,
         "{\"current_password\":\"wrong wrong wrong\",\"new_password\":"
         "\"a brand new passphrase\"}",
         &r);
    assert_envelope(&r, 401, "UNAUTHORIZED");
    resp_free(&r);
    post("/v1/auth/password", cur.access,
         "{\"current_password\":\"" PASSWORD "\",\"new_password\":\"short\"}",
         &r);
    assert_envelope(&r, 400, "VALIDATION_ERROR");
    CU_ASSERT_STRING_EQUAL(json_path_str(r.json, "error.details.0.field"),
                           "new_password");
    resp_free(&r);
    snprintf(body, sizeof(body),
             "{\"current_password\":\"" PASSWORD
             "\",\"new_password\":\"a brand new passphrase\"}");
    post("/v1/auth/password", cur.access, body, &r);
    CU_ASSERT_EQUAL(r.status, 204);
    resp_free(&r);
    CU_ASSERT_TRUE(refused_within(other.access, 6.0) >= 0);
    CU_ASSERT_EQUAL(refresh(other.refresh, NULL), 401);
    /* The current session lives on: it refreshes to a working token. */
    CU_ASSERT_EQUAL_FATAL(refresh(cur.refresh, &next), 200);
    CU_ASSERT_EQUAL(me(next.access), 200);
    CU_ASSERT_EQUAL(login(email, PASSWORD, NULL), 401);
    CU_ASSERT_EQUAL(login(email, "a brand new passphrase", NULL), 200);
}

static void
test_sessions_are_listed_and_deleted(void)
{
    char email[128], id[37], path[128], other_sid[64] = "";
    pair_t a, b, x;
    http_resp_t r;
    json_object *list;

    fresh_email(email, sizeof(email), "sess");
    register_test_user(email, id);
    CU_ASSERT_EQUAL_FATAL(login(email, PASSWORD, &a), 200);
    CU_ASSERT_EQUAL_FATAL(login(email, PASSWORD, &b), 200);
    send_bearer("GET", "/v1/auth/sessions", a.access, &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 200);
    list = json_path(r.json, "data");
    CU_ASSERT_EQUAL_FATAL(json_object_array_length(list), 2);
    for (int i = 0; i < 2; i++) {
        json_object *s = json_object_array_get_idx(list, i);
        CU_ASSERT_PTR_NOT_NULL(json_path_str(s, "created_at"));
        CU_ASSERT_PTR_NOT_NULL(json_path_str(s, "last_used_at"));
        CU_ASSERT_PTR_NOT_NULL(json_path_str(s, "ip"));
        CU_ASSERT_PTR_NOT_NULL(json_path_str(s, "user_agent"));
        if (!json_object_get_boolean(json_path(s, "current")))
            snprintf(other_sid, sizeof(other_sid), "%s",
                     json_path_str(s, "id"));
    }
    resp_free(&r);
    CU_ASSERT_EQUAL_FATAL(strlen(other_sid), 36);
    /* Another user cannot end it. */
    fresh_email(email, sizeof(email), "sess-x");
    register_test_user(email, id);
    CU_ASSERT_EQUAL_FATAL(login(email, PASSWORD, &x), 200);
    snprintf(path, sizeof(path), "/v1/auth/sessions/%s", other_sid);
    send_bearer("DELETE", path, x.access, &r);
    assert_envelope(&r, 404, "NOT_FOUND");
    resp_free(&r);
    send_bearer("DELETE", path, a.access, &r);
    CU_ASSERT_EQUAL(r.status, 204);
    resp_free(&r);
    CU_ASSERT_EQUAL(refresh(b.refresh, NULL), 401);
    send_bearer("DELETE", path, a.access, &r);
    assert_envelope(&r, 404, "NOT_FOUND");
    resp_free(&r);
    send_bearer("DELETE", "/v1/auth/sessions/not-a-uuid", a.access, &r);
    assert_envelope(&r, 404, "NOT_FOUND");
    resp_free(&r);
}

static void
test_a_deleted_users_tokens_stop_working(void)
{
    char email[128], id[37], q[256];
    pair_t p;
    char *v;

    fresh_email(email, sizeof(email), "gone");
    register_test_user(email, id);
    CU_ASSERT_EQUAL_FATAL(login(email, PASSWORD, &p), 200);
    CU_ASSERT_EQUAL(me(p.access), 200);
    snprintf(q, sizeof(q),
             "UPDATE users SET deleted_at = now() WHERE public_id = '%s' "
             "RETURNING 1",
             id);
    v = sql1(q);
    free(v);
    CU_ASSERT_TRUE(refused_within(p.access, 6.0) >= 0);
    CU_ASSERT_EQUAL(refresh(p.refresh, NULL), 401);
    CU_ASSERT_EQUAL(login(email, PASSWORD, NULL), 401);
}

static void
test_login_rehashes_older_parameters(void)
{
    char email[128], cmd[1024], q[256];
    char *v;

    /* A user whose hash was made with t=1 (older than the config's t=2). */
    fresh_email(email, sizeof(email), "rehash");
    snprintf(cmd, sizeof(cmd),
             "printf '%%s\\n' '" PASSWORD "' | KEEL_AUTH_ARGON2_TIME=1 '%s' "
             "-c '%s/keel.conf' user create --email %s --name Old "
             ">/dev/null 2>&1",
             client_base("KEEL_TEST_KEELCTL"), client_base("KEEL_TEST_DIR"),
             email);
    CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
    snprintf(q, sizeof(q), "SELECT password_hash FROM users WHERE email = '%s'",
             email);
    v = sql1(q);
    CU_ASSERT_EQUAL(strncmp(v, "$argon2id$v=19$m=19456,t=1,p=1$", 31), 0);
    free(v);
    CU_ASSERT_EQUAL(login(email, PASSWORD, NULL), 200);
    v = sql1(q);
    CU_ASSERT_EQUAL(strncmp(v, "$argon2id$v=19$m=19456,t=2,p=1$", 31), 0);
    free(v);
    CU_ASSERT_EQUAL(login(email, PASSWORD, NULL), 200);
}

static void
test_the_audit_log_is_append_only(void)
{
    PGresult *res = PQexec(api_pg(), "DELETE FROM audit_events");

    CU_ASSERT_EQUAL(PQresultStatus(res), PGRES_FATAL_ERROR);
    PQclear(res);
    res = PQexec(api_pg(), "UPDATE audit_events SET action = 'x'");
    CU_ASSERT_EQUAL(PQresultStatus(res), PGRES_FATAL_ERROR);
    PQclear(res);
    res = PQexec(api_pg(), "TRUNCATE audit_events");
    CU_ASSERT_EQUAL(PQresultStatus(res), PGRES_FATAL_ERROR);
    PQclear(res);
}

static const unit_test_t tests[] = {
    { "register creates a user and mails a verification token",
      test_register_creates_a_user_and_mails_a_verification_token },
    { "register refuses bad input and duplicates",
      test_register_refuses_bad_input_and_duplicates },
    { "login returns a token pair, /me the user",
      test_login_returns_a_token_pair_and_me_the_user },
    { "login failures look the same and are audited",
      test_login_failures_look_the_same_and_are_audited },
    { "unknown and known emails fail in the same time",
      test_unknown_and_known_emails_fail_in_the_same_time },
    { "failed logins are throttled per email",
      test_failed_logins_are_throttled_per_email },
    { "refresh rotates; reuse revokes the family",
      test_refresh_rotates_and_reuse_revokes_the_family },
    { "logout ends one session", test_logout_ends_one_session },
    { "logout-all kills access tokens within 5 s",
      test_logout_all_kills_access_tokens_within_5s },
    { "a password change ends the other sessions",
      test_password_change_ends_other_sessions },
    { "sessions are listed and deleted", test_sessions_are_listed_and_deleted },
    { "a deleted user's tokens stop working",
      test_a_deleted_users_tokens_stop_working },
    { "login re-hashes older parameters",
      test_login_rehashes_older_parameters },
    { "the audit log is append-only", test_the_audit_log_is_append_only },
};

int
main(void)
{
    static char spool_buf[1024];

    snprintf(spool_buf, sizeof(spool_buf), "%s/mail",
             client_base("KEEL_TEST_DIR"));
    spool = spool_buf;
    return api_main("auth", NULL, 0, NULL, UNIT_TESTS(tests));
}
