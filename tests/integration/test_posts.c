/*
 * test_posts.c - posts (API.md 5.2) and the collection rules they follow
 * (1.3-1.5, 4) through real nginx -> keeld-test -> PostgreSQL.  It proves:
 *
 * A. Creating: POST /v1/posts and POST /v1/users/{self}/posts give 201 with
 *    Location, ETag W/"1" and the whole post (defaults filled, timestamps
 *    RFC 3339 with milliseconds and Z, author_id the caller); every bound
 *    of title, body, status, visibility and tags is enforced with a 400
 *    naming the member; unknown members (read-only ones included) are 400;
 *    a body without a JSON content type is 415; anonymous callers get
 *    401; nobody writes into another user's /posts.
 * B. published_at is null while a draft, set on first publication and
 *    never moved after, whether by PATCH or PUT.
 * C. Who reads and who writes: a post is readable by anyone when published
 *    and public, else only by its author and posts:read_any; everyone else
 *    gets 404 (anonymous too); writing takes the author or posts:write_any
 *    (403 for readers who may not, 401 for anonymous), deleting the author
 *    or posts:delete_any; a deleted post is gone from GET and lists; PUT
 *    needs every writable field, PATCH a non-empty subset.
 * D. Lists: each caller sees exactly what they may read (also through
 *    /v1/users/{id}/posts); filters, sorting, field selection and the
 *    parameter errors; offset pages with exact totals and Link headers;
 *    cursor pages that are tamper-evident, bound to their collection and
 *    sort, and stable while posts are added between pages.
 * E. Conditional requests and optimistic locking (and HEAD): 304, 412
 *    and 409 change nothing; two writers racing with the same version get
 *    exactly one 200 and one 409, ten times over.
 * F. A soft-deleted author's posts vanish.
 *
 * Every post this suite lists carries a tag unique to this process
 * ("t<pid>-..."), so posts of other suites never disturb a count.  Fixture
 * accounts are made once in main() (registered over the API, given roles by
 * SQL, then logged in).  Needs KEEL_TEST_URL and KEEL_TEST_PGURL (run.sh).
 */
#include "keel-build.h"

#include "../unit/unit.h"
#include "api.h"
#include "client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------ */

typedef enum caller { ANON, USER, USER2, EDITOR, ADMIN, NCALLERS } caller_t;

static const char *const caller_name[NCALLERS] = { "anon", "user", "user2",
                                                   "editor", "admin" };

/* fx[USER], fx[USER2] (plain), fx[EDITOR], fx[ADMIN]; fx[ANON] is empty. */
static account_t fx[NCALLERS];

/* The bearer token of `who` (NULL for the anonymous caller). */
static const char *
tok(caller_t who)
{
    return who == ANON ? NULL : fx[who].p.access;
}

/* A tag unique to this process: "t<pid>-<what>". */
static const char *
tag_of(const char *what, char *out, size_t len)
{
    snprintf(out, len, "t%ld-%s", (long)getpid(), what);
    return out;
}

/* A post body: title, status, visibility and tags (a JSON array text);
 * NULL leaves a member out. */
static void
post_body(char *out, size_t len, const char *title, const char *status,
          const char *visibility, const char *tags)
{
    size_t o = (size_t)snprintf(out, len, "{");

    if (title != NULL)
        o += (size_t)snprintf(out + o, len - o, "\"title\":\"%s\",", title);
    if (status != NULL)
        o += (size_t)snprintf(out + o, len - o, "\"status\":\"%s\",", status);
    if (visibility != NULL)
        o += (size_t)snprintf(out + o, len - o, "\"visibility\":\"%s\",",
                              visibility);
    if (tags != NULL)
        o += (size_t)snprintf(out + o, len - o, "\"tags\":%s,", tags);
    if (o > 1)
        o--; /* the last comma */
    snprintf(out + o, len - o, "}");
}

/* A post of `who` with one tag: its id into `id`; 0, or -1. */
static int
mkpost(caller_t who, const char *title, const char *status,
       const char *visibility, const char *tag, char id[37])
{
    char body[1024], tags[128];

    snprintf(tags, sizeof(tags), "[\"%s\"]", tag);
    post_body(body, sizeof(body), title, status, visibility, tags);
    return create_at("/v1/posts", tok(who), body, id) == 201 ? 0 : -1;
}

/* GET /v1/posts/{id} as `who`. */
static long
get_post(caller_t who, const char *id, http_resp_t *r)
{
    return get_one("/v1/posts", id, tok(who), r);
}

/* A change of post `id` by `who`: the status. */
static long
change_post(const char *method, caller_t who, const char *id, const char *body)
{
    return change_one(method, "/v1/posts", id, tok(who), body);
}

/* ---- A: creating -------------------------------------------------------- */

static const char *const post_keys[] = {
    "id",   "author_id",    "title",      "body",       "status",  "visibility",
    "tags", "published_at", "created_at", "updated_at", "version",
};

/* `post` has exactly the fields of API.md 5.2, well formed. */
static void
assert_post_shape(json_object *post)
{
    json_object *v;

    assert_exact_members(post, post_keys,
                         sizeof(post_keys) / sizeof(post_keys[0]), "post");
    CU_ASSERT_EQUAL(strlen(nz(json_path_str(post, "id"))), 36);
    CU_ASSERT_TRUE(is_instant(json_path_str(post, "created_at")));
    CU_ASSERT_TRUE(is_instant(json_path_str(post, "updated_at")));
    CU_ASSERT_TRUE(
        json_object_is_type(json_path(post, "version"), json_type_int));
    CU_ASSERT_TRUE(
        json_object_is_type(json_path(post, "tags"), json_type_array));
    /* null (json-c's NULL) or an instant */
    v = json_path(post, "published_at");
    CU_ASSERT_TRUE(v == NULL || is_instant(json_object_get_string(v)));
}

static void
test_create_gives_the_whole_post(void)
{
    static const char typed[] = "{\"title\":\"Typed\"}";
    char path[128];
    http_resp_t r;
    json_object *tags;

    /* Only a title: every default. */
    call("POST", "/v1/posts", tok(USER), "{\"title\":\"  Hello posts  \"}", &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 201);
    assert_post_shape(json_path(r.json, "data"));
    assert_created(&r, "/v1/posts", path, sizeof(path));
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.author_id")),
                           fx[USER].id);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.title")),
                           "Hello posts");
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.body")), "");
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.status")), "draft");
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.visibility")),
                           "public");
    CU_ASSERT_EQUAL(json_object_array_length(json_path(r.json, "data.tags")),
                    0);
    CU_ASSERT_TRUE(json_object_is_type(json_path(r.json, "data.published_at"),
                                       json_type_null));
    CU_ASSERT_EQUAL(json_object_get_int(json_path(r.json, "data.version")), 1);
    /* The Location reads back the same post, with the same ETag. */
    assert_reads_back(path, tok(USER), &r);
    resp_free(&r);
    /* Every member given. */
    call("POST", "/v1/posts", tok(USER),
         "{\"title\":\"Full\",\"body\":\"Some text\",\"status\":\"published\","
         "\"visibility\":\"private\",\"tags\":[\"c-1\",\"abc\"]}",
         &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 201);
    assert_post_shape(json_path(r.json, "data"));
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.body")), "Some text");
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.status")),
                           "published");
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.visibility")),
                           "private");
    tags = json_path(r.json, "data.tags");
    CU_ASSERT_EQUAL(json_object_array_length(tags), 2);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(tags, "0")), "c-1");
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(tags, "1")), "abc");
    CU_ASSERT_TRUE(is_instant(json_path_str(r.json, "data.published_at")));
    resp_free(&r);
    /* Anonymous: 401 with the Bearer challenge. */
    assert_challenged("POST", "/v1/posts", "{\"title\":\"Nobody\"}");
    /* Not JSON by its content type: 415; a charset parameter is fine. */
    call_typed("POST", "/v1/posts", tok(USER), "text/plain", typed, &r);
    assert_envelope(&r, 415, "UNSUPPORTED_MEDIA_TYPE");
    resp_free(&r);
    call_typed("POST", "/v1/posts", tok(USER),
               "application/json; charset=utf-8", typed, &r);
    CU_ASSERT_EQUAL(r.status, 201);
    resp_free(&r);
    /* Trailing slashes are another path. */
    assert_refused("GET", "/v1/posts/", tok(USER), NULL, 404, "NOT_FOUND");
}

/* POST /v1/posts with `body` as the user: a 400 naming `field`. */
static void
refused(const char *body, const char *field, int items)
{
    http_resp_t r;

    call("POST", "/v1/posts", tok(USER), body, &r);
    if (items)
        assert_invalid_in(&r, field);
    else
        assert_invalid(&r, field);
    if (r.status != 400)
        fprintf(stderr, "    (body %.120s)\n", body);
    resp_free(&r);
}

static void
test_create_enforces_every_bound(void)
{
    char *big = malloc(100100), *body = malloc(100200), id[37];
    char t200[201], tag33[34];
    http_resp_t r;

    CU_ASSERT_PTR_NOT_NULL_FATAL(big);
    CU_ASSERT_PTR_NOT_NULL_FATAL(body);
    memset(t200, 'x', 200);
    t200[200] = '\0';
    memset(tag33, 'a', 33);
    tag33[33] = '\0';
    /* title: required, 1-200 characters after trimming, a string */
    refused("{\"body\":\"no title\"}", "title", 0);
    refused("{\"title\":\"\"}", "title", 0);
    refused("{\"title\":\"   \"}", "title", 0);
    refused("{\"title\":null}", "title", 0);
    refused("{\"title\":123}", "title", 0);
    snprintf(body, 100200, "{\"title\":\"%sy\"}", t200);
    refused(body, "title", 0);
    snprintf(body, 100200, "{\"title\":\"  %s  \"}", t200);
    CU_ASSERT_EQUAL(create_at("/v1/posts", tok(USER), body, id), 201);
    /* 200 characters, not bytes: "é" is two bytes. */
    {
        char t[512] = "{\"title\":\"";
        for (int i = 0; i < 200; i++)
            strcat(t, "\xc3\xa9");
        strcat(t, "\"}");
        CU_ASSERT_EQUAL(create_at("/v1/posts", tok(USER), t, id), 201);
    }
    /* body: 0-100000 */
    memset(big, 'b', 100001);
    big[100001] = '\0';
    snprintf(body, 100200, "{\"title\":\"Long\",\"body\":\"%s\"}", big);
    refused(body, "body", 0);
    big[100000] = '\0';
    snprintf(body, 100200, "{\"title\":\"Long\",\"body\":\"%s\"}", big);
    call("POST", "/v1/posts", tok(USER), body, &r);
    CU_ASSERT_EQUAL(r.status, 201);
    CU_ASSERT_EQUAL(strlen(nz(json_path_str(r.json, "data.body"))), 100000);
    resp_free(&r);
    refused("{\"title\":\"T\",\"body\":5}", "body", 0);
    /* status and visibility: the enums */
    refused("{\"title\":\"T\",\"status\":\"archived\"}", "status", 0);
    refused("{\"title\":\"T\",\"status\":\"Draft\"}", "status", 0);
    refused("{\"title\":\"T\",\"visibility\":\"secret\"}", "visibility", 0);
    /* tags: 0-10 distinct strings of 1-32 [a-z0-9-] */
    refused("{\"title\":\"T\",\"tags\":[\"Bad Tag\"]}", "tags", 1);
    refused("{\"title\":\"T\",\"tags\":[\"UPPER\"]}", "tags", 1);
    refused("{\"title\":\"T\",\"tags\":[\"under_score\"]}", "tags", 1);
    refused("{\"title\":\"T\",\"tags\":[\"\"]}", "tags", 1);
    refused("{\"title\":\"T\",\"tags\":[7]}", "tags", 1);
    refused("{\"title\":\"T\",\"tags\":\"a\"}", "tags", 1);
    refused("{\"title\":\"T\",\"tags\":[\"a\",\"b\",\"a\"]}", "tags", 1);
    snprintf(body, 100200, "{\"title\":\"T\",\"tags\":[\"%s\"]}", tag33);
    refused(body, "tags", 1);
    tag33[32] = '\0';
    snprintf(body, 100200, "{\"title\":\"T\",\"tags\":[\"%s\"]}", tag33);
    CU_ASSERT_EQUAL(create_at("/v1/posts", tok(USER), body, id), 201);
    refused("{\"title\":\"T\",\"tags\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\","
            "\"g\",\"h\",\"i\",\"j\",\"k\"]}",
            "tags", 1);
    CU_ASSERT_EQUAL(
        create_at("/v1/posts", tok(USER),
                  "{\"title\":\"T\",\"tags\":[\"a\",\"b\",\"c\",\"d\",\"e\","
                  "\"f\",\"g\",\"h\",\"i\",\"j\"]}",
                  id),
        201);
    CU_ASSERT_EQUAL(
        create_at("/v1/posts", tok(USER), "{\"title\":\"T\",\"tags\":[]}", id),
        201);
    /* Unknown members, the read-only fields among them, are refused. */
    refused("{\"title\":\"T\",\"nope\":1}", "nope", 0);
    snprintf(body, 100200, "{\"title\":\"T\",\"author_id\":\"%s\"}",
             fx[USER2].id);
    refused(body, "author_id", 0);
    refused("{\"title\":\"T\",\"published_at\":\"2020-01-01T00:00:00.000Z\"}",
            "published_at", 0);
    refused("{\"title\":\"T\",\"version\":1}", "version", 0);
    refused("{\"title\":\"T\",\"id\":\"" NOBODY_ID "\"}", "id", 0);
    refused("{\"title\":\"T\",\"created_at\":\"2020-01-01T00:00:00.000Z\"}",
            "created_at", 0);
    /* Not JSON, or not an object. */
    assert_refused("POST", "/v1/posts", tok(USER), "{\"title\":", 400,
                   "BAD_REQUEST");
    assert_refused("POST", "/v1/posts", tok(USER), "[{\"title\":\"T\"}]", 400,
                   "BAD_REQUEST");
    free(big);
    free(body);
}

static void
test_posts_under_a_user_are_only_ones_own(void)
{
    char path[160], hv[256], want[128];
    http_resp_t r;

    snprintf(path, sizeof(path), "/v1/users/%s/posts", fx[USER].id);
    call("POST", path, tok(USER),
         "{\"title\":\"Nested\",\"status\":\"published\"}", &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 201);
    assert_post_shape(json_path(r.json, "data"));
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.author_id")),
                           fx[USER].id);
    snprintf(want, sizeof(want), "/v1/posts/%s",
             nz(json_path_str(r.json, "data.id")));
    CU_ASSERT_STRING_EQUAL(nz(resp_header(&r, "Location", hv, sizeof(hv))),
                           want);
    CU_ASSERT_STRING_EQUAL(nz(resp_header(&r, "ETag", hv, sizeof(hv))),
                           "W/\"1\"");
    CU_ASSERT_TRUE(is_instant(json_path_str(r.json, "data.published_at")));
    resp_free(&r);
    /* The same validation as POST /v1/posts. */
    assert_refused_invalid("POST", path, tok(USER),
                           "{\"title\":\"T\",\"nope\":1}", "nope");
    /* Someone else's: 404 to who may not read users, 403 to who may. */
    assert_refused("POST", path, tok(USER2), "{\"title\":\"Not mine\"}", 404,
                   "NOT_FOUND");
    assert_refused("POST", path, tok(EDITOR), "{\"title\":\"Not mine\"}", 403,
                   "FORBIDDEN");
    assert_refused("POST", path, tok(ADMIN), "{\"title\":\"Not mine\"}", 403,
                   "FORBIDDEN");
    assert_refused("POST", path, NULL, "{\"title\":\"Not mine\"}", 401,
                   "UNAUTHORIZED");
    assert_refused("POST", "/v1/users/not-a-uuid/posts", tok(USER),
                   "{\"title\":\"Nowhere\"}", 404, "NOT_FOUND");
    /* The editor writes under its own id. */
    snprintf(path, sizeof(path), "/v1/users/%s/posts", fx[EDITOR].id);
    call("POST", path, tok(EDITOR), "{\"title\":\"Editor's own\"}", &r);
    CU_ASSERT_EQUAL(r.status, 201);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.author_id")),
                           fx[EDITOR].id);
    resp_free(&r);
}

/* ---- B: published_at ---------------------------------------------------- */

/* published_at of post `id` (as the admin), or "" when null. */
static void
published_at(const char *id, char *out, size_t len)
{
    http_resp_t r;

    get_post(ADMIN, id, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    snprintf(out, len, "%s", nz(json_path_str(r.json, "data.published_at")));
    resp_free(&r);
}

static void
test_published_at_is_set_once(void)
{
    char id[37], first[64], now[64], tg[48];
    http_resp_t r;

    tag_of("pub", tg, sizeof(tg));
    CU_ASSERT_EQUAL_FATAL(mkpost(USER, "Lifecycle", "draft", NULL, tg, id), 0);
    published_at(id, now, sizeof(now));
    CU_ASSERT_STRING_EQUAL(now, "");
    /* A draft edited stays unpublished. */
    CU_ASSERT_EQUAL(change_post("PATCH", USER, id, "{\"body\":\"more\"}"), 200);
    published_at(id, now, sizeof(now));
    CU_ASSERT_STRING_EQUAL(now, "");
    /* First publication sets it. */
    {
        char path[128];
        snprintf(path, sizeof(path), "/v1/posts/%s", id);
        call("PATCH", path, tok(USER), "{\"status\":\"published\"}", &r);
        CU_ASSERT_EQUAL(r.status, 200);
        CU_ASSERT_TRUE(is_instant(json_path_str(r.json, "data.published_at")));
        snprintf(first, sizeof(first), "%s",
                 nz(json_path_str(r.json, "data.published_at")));
        resp_free(&r);
    }
    CU_ASSERT_FATAL(first[0] != '\0');
    usleep(20000);
    /* Back to draft: kept. */
    CU_ASSERT_EQUAL(change_post("PATCH", USER, id, "{\"status\":\"draft\"}"),
                    200);
    published_at(id, now, sizeof(now));
    CU_ASSERT_STRING_EQUAL(now, first);
    usleep(20000);
    /* Published again: unchanged. */
    CU_ASSERT_EQUAL(
        change_post("PATCH", USER, id, "{\"status\":\"published\"}"), 200);
    published_at(id, now, sizeof(now));
    CU_ASSERT_STRING_EQUAL(now, first);
    /* Other changes of a published post: unchanged. */
    CU_ASSERT_EQUAL(change_post("PATCH", EDITOR, id, "{\"title\":\"Edited\"}"),
                    200);
    CU_ASSERT_EQUAL(
        change_post("PUT", USER, id,
                    "{\"title\":\"Put\",\"body\":\"\",\"status\":\"published\","
                    "\"visibility\":\"public\",\"tags\":[]}"),
        200);
    published_at(id, now, sizeof(now));
    CU_ASSERT_STRING_EQUAL(now, first);
    /* PUT publishing a draft sets it. */
    CU_ASSERT_EQUAL_FATAL(mkpost(USER, "By PUT", NULL, NULL, tg, id), 0);
    published_at(id, now, sizeof(now));
    CU_ASSERT_STRING_EQUAL(now, "");
    CU_ASSERT_EQUAL(
        change_post("PUT", USER, id,
                    "{\"title\":\"By PUT\",\"body\":\"\",\"status\":"
                    "\"published\",\"visibility\":\"private\",\"tags\":[]}"),
        200);
    published_at(id, now, sizeof(now));
    CU_ASSERT_TRUE(is_instant(now));
    snprintf(first, sizeof(first), "%s", now);
    usleep(20000);
    CU_ASSERT_EQUAL(
        change_post("PUT", USER, id,
                    "{\"title\":\"By PUT\",\"body\":\"\",\"status\":"
                    "\"draft\",\"visibility\":\"private\",\"tags\":[]}"),
        200);
    CU_ASSERT_EQUAL(
        change_post("PUT", USER, id,
                    "{\"title\":\"By PUT\",\"body\":\"\",\"status\":"
                    "\"published\",\"visibility\":\"private\",\"tags\":[]}"),
        200);
    published_at(id, now, sizeof(now));
    CU_ASSERT_STRING_EQUAL(now, first);
    /* published_at is not writable. */
    {
        char path[128];
        snprintf(path, sizeof(path), "/v1/posts/%s", id);
        assert_refused_invalid(
            "PATCH", path, tok(USER),
            "{\"published_at\":\"2020-01-01T00:00:00.000Z\"}", "published_at");
    }
}

/* ---- C: who reads, who writes ------------------------------------------- */

/* The four kinds of post by the user: published public, published
 * private, draft public, draft private. */
enum { PUB_PUB, PUB_PRIV, DRAFT_PUB, DRAFT_PRIV, NKINDS };
static const char *const kind_status[NKINDS] = { "published", "published",
                                                 "draft", "draft" };
static const char *const kind_vis[NKINDS] = { "public", "private", "public",
                                              "private" };

static void
test_reading_follows_the_read_rule(void)
{
    char ids[NKINDS][37], tg[48];
    http_resp_t r;

    tag_of("read", tg, sizeof(tg));
    for (int k = 0; k < NKINDS; k++)
        CU_ASSERT_EQUAL_FATAL(
            mkpost(USER, "Readable?", kind_status[k], kind_vis[k], tg, ids[k]),
            0);
    for (int k = 0; k < NKINDS; k++) {
        for (int w = 0; w < NCALLERS; w++) {
            long want = k == PUB_PUB || w == USER || w == EDITOR || w == ADMIN
                            ? 200
                            : 404;
            get_post((caller_t)w, ids[k], &r);
            CU_ASSERT_EQUAL(r.status, want);
            if (r.status != want)
                fprintf(stderr, "\n    GET %s %s post as %s: %ld, not %ld\n",
                        kind_status[k], kind_vis[k], caller_name[w], r.status,
                        want);
            if (want == 404)
                assert_envelope(&r, 404, "NOT_FOUND");
            else
                CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.id")),
                                       ids[k]);
            resp_free(&r);
        }
    }
    /* Ids that are none. */
    static const char *const bad[] = {
        "/v1/posts/not-a-uuid",
        ("/v1/posts/" NOBODY_ID),
        "/v1/posts/123",
        "/v1/posts/00000000-0000-4000-8000-00000000000",
        "/v1/posts/00000000-0000-4000-8000-0000000000000",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_refused("GET", bad[i], tok(ADMIN), NULL, 404, "NOT_FOUND");
        call("GET", bad[i], NULL, NULL, &r);
        CU_ASSERT_EQUAL(r.status, 404);
        resp_free(&r);
    }
}

typedef struct write_row {
    const char *method;
    int kind; /* of the user's posts */
    caller_t who;
    long status;
    const char *code;
} write_row_t;

static const write_row_t write_rows[] = {
    /* anonymous: 401 whatever the post */
    { "PATCH", PUB_PUB, ANON, 401, "UNAUTHORIZED" },
    { "PATCH", DRAFT_PRIV, ANON, 401, "UNAUTHORIZED" },
    { "PUT", PUB_PUB, ANON, 401, "UNAUTHORIZED" },
    { "PUT", DRAFT_PUB, ANON, 401, "UNAUTHORIZED" },
    { "DELETE", PUB_PUB, ANON, 401, "UNAUTHORIZED" },
    { "DELETE", DRAFT_PRIV, ANON, 401, "UNAUTHORIZED" },
    /* another plain user: 403 where they can read it, else 404 */
    { "PATCH", PUB_PUB, USER2, 403, "FORBIDDEN" },
    { "PATCH", PUB_PRIV, USER2, 404, "NOT_FOUND" },
    { "PATCH", DRAFT_PUB, USER2, 404, "NOT_FOUND" },
    { "PATCH", DRAFT_PRIV, USER2, 404, "NOT_FOUND" },
    { "PUT", PUB_PUB, USER2, 403, "FORBIDDEN" },
    { "PUT", PUB_PRIV, USER2, 404, "NOT_FOUND" },
    { "PUT", DRAFT_PUB, USER2, 404, "NOT_FOUND" },
    { "DELETE", PUB_PUB, USER2, 403, "FORBIDDEN" },
    { "DELETE", PUB_PRIV, USER2, 404, "NOT_FOUND" },
    { "DELETE", DRAFT_PRIV, USER2, 404, "NOT_FOUND" },
    /* the editor writes anything, deletes nothing of others' */
    { "PATCH", PUB_PUB, EDITOR, 200, NULL },
    { "PATCH", DRAFT_PRIV, EDITOR, 200, NULL },
    { "PUT", PUB_PRIV, EDITOR, 200, NULL },
    { "PUT", DRAFT_PUB, EDITOR, 200, NULL },
    { "DELETE", PUB_PUB, EDITOR, 403, "FORBIDDEN" },
    { "DELETE", DRAFT_PRIV, EDITOR, 403, "FORBIDDEN" },
    /* the admin writes anything */
    { "PATCH", PUB_PRIV, ADMIN, 200, NULL },
    { "PUT", DRAFT_PRIV, ADMIN, 200, NULL },
    /* the author */
    { "PATCH", DRAFT_PUB, USER, 200, NULL },
    { "PUT", PUB_PUB, USER, 200, NULL },
    /* deletions last: the author, the admin */
    { "DELETE", DRAFT_PUB, USER, 204, NULL },
    { "DELETE", DRAFT_PUB, USER, 404, "NOT_FOUND" },
    { "DELETE", PUB_PUB, ADMIN, 204, NULL },
    { "DELETE", PUB_PUB, ADMIN, 404, "NOT_FOUND" },
    { "PATCH", PUB_PUB, USER, 404, "NOT_FOUND" },
    { "PUT", DRAFT_PUB, ADMIN, 404, "NOT_FOUND" },
};

static void
test_writing_follows_the_write_rules(void)
{
    char ids[NKINDS][37], tg[48], path[128], body[512], wa[256];
    http_resp_t r;

    tag_of("write", tg, sizeof(tg));
    for (int k = 0; k < NKINDS; k++)
        CU_ASSERT_EQUAL_FATAL(
            mkpost(USER, "Writable?", kind_status[k], kind_vis[k], tg, ids[k]),
            0);
    for (size_t i = 0; i < sizeof(write_rows) / sizeof(write_rows[0]); i++) {
        const write_row_t *row = &write_rows[i];
        const char *b = NULL;
        int holds;

        snprintf(path, sizeof(path), "/v1/posts/%s", ids[row->kind]);
        /* Bodies that keep each post's kind. */
        if (strcmp(row->method, "PUT") == 0) {
            snprintf(body, sizeof(body),
                     "{\"title\":\"Put %zu\",\"body\":\"b\",\"status\":\"%s\","
                     "\"visibility\":\"%s\",\"tags\":[\"%s\"]}",
                     i, kind_status[row->kind], kind_vis[row->kind], tg);
            b = body;
        } else if (strcmp(row->method, "PATCH") == 0) {
            snprintf(body, sizeof(body), "{\"body\":\"patched %zu\"}", i);
            b = body;
        }
        call(row->method, path, tok(row->who), b, &r);
        holds = r.status == row->status;
        if (holds && row->code != NULL)
            holds =
                strcmp(nz(json_path_str(r.json, "error.code")), row->code) == 0;
        if (holds && row->status == 200)
            holds = json_path(r.json, "data.id") != NULL &&
                    (strcmp(row->method, "PUT") != 0 ||
                     strcmp(nz(json_path_str(r.json, "data.status")),
                            kind_status[row->kind]) == 0);
        if (holds && row->status == 204)
            holds = r.body_len == 0;
        if (holds && row->status == 401)
            holds =
                resp_header(&r, "WWW-Authenticate", wa, sizeof(wa)) != NULL &&
                strncmp(wa, "Bearer", 6) == 0;
        CU_ASSERT(holds);
        if (!holds)
            fprintf(stderr,
                    "\n  write row %zu: %s %s %s post as %s: expected %ld %s, "
                    "got %ld: %.300s\n",
                    i, row->method, kind_status[row->kind], kind_vis[row->kind],
                    caller_name[row->who], row->status, nz(row->code), r.status,
                    r.body);
        resp_free(&r);
    }
    /* The deleted ones are gone for everyone, the author and the admin
     * included, from GET and from every list. */
    for (int k = 0; k < 2; k++) {
        const char *gone = ids[k == 0 ? PUB_PUB : DRAFT_PUB];
        CU_ASSERT_EQUAL(get_post(USER, gone, &r), 404);
        resp_free(&r);
        CU_ASSERT_EQUAL(get_post(ADMIN, gone, &r), 404);
        resp_free(&r);
    }
    snprintf(path, sizeof(path), "/v1/posts?tag=%s&limit=100", tg);
    for (int w = 0; w < NCALLERS; w++) {
        call("GET", path, tok((caller_t)w), NULL, &r);
        CU_ASSERT_EQUAL(r.status, 200);
        CU_ASSERT_EQUAL(index_of(&r, ids[PUB_PUB]), -1);
        CU_ASSERT_EQUAL(index_of(&r, ids[DRAFT_PUB]), -1);
        resp_free(&r);
    }
    call("GET", path, tok(ADMIN), NULL, &r);
    CU_ASSERT_EQUAL(data_len(&r), 2);
    CU_ASSERT_EQUAL(json_object_get_int(json_path(r.json, "meta.total")), 2);
    resp_free(&r);
    snprintf(path, sizeof(path), "/v1/users/%s/posts?tag=%s", fx[USER].id, tg);
    call("GET", path, tok(USER), NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_EQUAL(data_len(&r), 2);
    CU_ASSERT_EQUAL(index_of(&r, ids[PUB_PUB]), -1);
    resp_free(&r);
    /* An editor deletes their own post. */
    {
        char own[37];
        CU_ASSERT_EQUAL_FATAL(mkpost(EDITOR, "Mine", NULL, NULL, tg, own), 0);
        CU_ASSERT_EQUAL(change_post("DELETE", EDITOR, own, NULL), 204);
        CU_ASSERT_EQUAL(get_post(EDITOR, own, &r), 404);
        resp_free(&r);
    }
    /* Malformed ids: 404 for writers too. */
    CU_ASSERT_EQUAL(
        status_of("PATCH", "/v1/posts/nope", tok(USER), "{\"body\":\"x\"}"),
        404);
    CU_ASSERT_EQUAL(status_of("DELETE", "/v1/posts/nope", tok(ADMIN), NULL),
                    404);
}

/* `body` as JSON of every writable member but `omit`. */
static char *
put_without(const char *omit)
{
    static const char *const names[] = { "title", "body", "status",
                                         "visibility", "tags" };
    json_object *o = json_object_new_object();
    char *out;

    for (size_t i = 0; i < 5; i++) {
        json_object *v;
        if (omit != NULL && strcmp(names[i], omit) == 0)
            continue;
        if (i == 0)
            v = json_object_new_string("Whole");
        else if (i == 1)
            v = json_object_new_string("All of it");
        else if (i == 2)
            v = json_object_new_string("draft");
        else if (i == 3)
            v = json_object_new_string("private");
        else
            v = json_tokener_parse("[\"whole\"]");
        json_object_object_add(o, names[i], v);
    }
    out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    return out;
}

static void
test_put_replaces_and_patch_changes_a_subset(void)
{
    static const char *const names[] = { "title", "body", "status",
                                         "visibility", "tags" };
    char id[37], path[128];
    http_resp_t r;

    CU_ASSERT_EQUAL_FATAL(
        create_at("/v1/posts", tok(USER),
                  "{\"title\":\"Original\",\"body\":\"Text\",\"status\":"
                  "\"published\",\"tags\":[\"one\",\"two\"]}",
                  id),
        201);
    snprintf(path, sizeof(path), "/v1/posts/%s", id);
    /* PUT without any one writable member: 400 naming it, no change. */
    for (size_t i = 0; i < 5; i++) {
        char *b = put_without(names[i]);
        assert_refused_invalid("PUT", path, tok(USER), b, names[i]);
        free(b);
    }
    assert_refused_invalid(
        "PUT", path, tok(USER),
        "{\"title\":\"T\",\"body\":\"\",\"status\":\"draft\",\"visibility\":"
        "\"public\",\"tags\":[],\"author_id\":\"" NOBODY_ID "\"}",
        "author_id");
    get_post(USER, id, &r);
    CU_ASSERT_EQUAL(json_object_get_int(json_path(r.json, "data.version")), 1);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.title")), "Original");
    resp_free(&r);
    /* The whole PUT: every field replaced. */
    {
        char *b = put_without(NULL);
        call("PUT", path, tok(USER), b, &r);
        free(b);
    }
    CU_ASSERT_EQUAL_FATAL(r.status, 200);
    assert_post_shape(json_path(r.json, "data"));
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.title")), "Whole");
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.body")), "All of it");
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.status")), "draft");
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.visibility")),
                           "private");
    CU_ASSERT_EQUAL(json_object_array_length(json_path(r.json, "data.tags")),
                    1);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.tags.0")), "whole");
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.author_id")),
                           fx[USER].id);
    CU_ASSERT_EQUAL(json_object_get_int(json_path(r.json, "data.version")), 2);
    resp_free(&r);
    /* An editor's PUT keeps the author. */
    {
        char *b = put_without(NULL);
        call("PUT", path, tok(EDITOR), b, &r);
        free(b);
    }
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.author_id")),
                           fx[USER].id);
    resp_free(&r);
    /* PATCH: only the given members change. */
    call("PATCH", path, tok(USER), "{\"tags\":[\"patched\",\"twice\"]}", &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.title")), "Whole");
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.body")), "All of it");
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.visibility")),
                           "private");
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.tags.1")), "twice");
    CU_ASSERT_EQUAL(json_object_get_int(json_path(r.json, "data.version")), 4);
    resp_free(&r);
    call("PATCH", path, tok(USER), "{\"tags\":[]}", &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_EQUAL(json_object_array_length(json_path(r.json, "data.tags")),
                    0);
    resp_free(&r);
    call("PATCH", path, tok(USER), "{\"title\":\"  Trimmed  \"}", &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.title")), "Trimmed");
    resp_free(&r);
    /* {} and bad members: 400, nothing changes. */
    assert_refused_invalid("PATCH", path, tok(USER), "{}", NULL);
    assert_refused_invalid("PATCH", path, tok(USER), "{\"version\":6}", NULL);
    assert_refused_invalid("PATCH", path, tok(USER), "{\"title\":\"\"}",
                           "title");
    assert_refused_invalid("PATCH", path, tok(USER), "{\"title\":null}",
                           "title");
    call("PATCH", path, tok(USER), "{\"tags\":[\"A\"]}", &r);
    assert_invalid_in(&r, "tags");
    resp_free(&r);
    assert_refused_invalid("PATCH", path, tok(USER), "{\"status\":\"gone\"}",
                           "status");
    assert_refused_invalid("PATCH", path, tok(USER), "{\"nope\":true}", "nope");
    assert_refused_invalid("PATCH", path, tok(USER),
                           "{\"author_id\":\"" NOBODY_ID "\"}", "author_id");
    get_post(USER, id, &r);
    CU_ASSERT_EQUAL(json_object_get_int(json_path(r.json, "data.version")), 6);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.title")), "Trimmed");
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.author_id")),
                           fx[USER].id);
    resp_free(&r);
}

/* ---- D: lists ----------------------------------------------------------- */

/* GET `path` as `who`: a 200 whose data is exactly `want` (any order). */
static void
assert_lists(caller_t who, const char *path, const char *const *want, int n)
{
    assert_list(caller_name[who], tok(who), path, want, n);
}

static void
test_lists_show_each_caller_what_they_may_read(void)
{
    char u[NKINDS][37], v[NKINDS][37], tg[48], path[256], upath[256];
    const char *want[2 * NKINDS];

    tag_of("vis", tg, sizeof(tg));
    for (int k = 0; k < NKINDS; k++) {
        CU_ASSERT_EQUAL_FATAL(
            mkpost(USER, "Listed", kind_status[k], kind_vis[k], tg, u[k]), 0);
        CU_ASSERT_EQUAL_FATAL(
            mkpost(USER2, "Listed", kind_status[k], kind_vis[k], tg, v[k]), 0);
    }
    snprintf(path, sizeof(path), "/v1/posts?tag=%s&limit=100", tg);
    /* Anonymous: the published public ones. */
    want[0] = u[PUB_PUB];
    want[1] = v[PUB_PUB];
    assert_lists(ANON, path, want, 2);
    /* A plain user: those and all of their own. */
    for (int k = 0; k < NKINDS; k++)
        want[k] = u[k];
    want[NKINDS] = v[PUB_PUB];
    assert_lists(USER, path, want, NKINDS + 1);
    for (int k = 0; k < NKINDS; k++)
        want[k] = v[k];
    want[NKINDS] = u[PUB_PUB];
    assert_lists(USER2, path, want, NKINDS + 1);
    /* posts:read_any: all. */
    for (int k = 0; k < NKINDS; k++) {
        want[k] = u[k];
        want[NKINDS + k] = v[k];
    }
    assert_lists(EDITOR, path, want, 2 * NKINDS);
    assert_lists(ADMIN, path, want, 2 * NKINDS);
    /* The same through /v1/users/{id}/posts. */
    snprintf(upath, sizeof(upath), "/v1/users/%s/posts?tag=%s", fx[USER].id,
             tg);
    want[0] = u[PUB_PUB];
    assert_lists(ANON, upath, want, 1);
    assert_lists(USER2, upath, want, 1);
    for (int k = 0; k < NKINDS; k++)
        want[k] = u[k];
    assert_lists(USER, upath, want, NKINDS);
    assert_lists(EDITOR, upath, want, NKINDS);
    assert_lists(ADMIN, upath, want, NKINDS);
    snprintf(upath, sizeof(upath), "/v1/users/%s/posts?tag=%s", fx[USER2].id,
             tg);
    want[0] = v[PUB_PUB];
    assert_lists(ANON, upath, want, 1);
    assert_lists(USER, upath, want, 1);
    /* The author's published private post is among their own only. */
    snprintf(path, sizeof(path), "/v1/posts?tag=%s&visibility=private", tg);
    want[0] = u[PUB_PRIV];
    want[1] = u[DRAFT_PRIV];
    assert_lists(USER, path, want, 2);
    assert_lists(ANON, path, want, 0);
    /* Malformed user ids. */
    assert_refused("GET", "/v1/users/not-a-uuid/posts", NULL, NULL, 404,
                   "NOT_FOUND");
    assert_refused("GET", "/v1/users/not-a-uuid/posts", tok(ADMIN), NULL, 404,
                   "NOT_FOUND");
}

/* The five posts of the filter test, by the user. */
enum { F_500, F_50PCT, F_UNDER, F_UNDERX, F_MIXED, NF };
static char fid[NF][37], ftag[48], fmark[64];

static void
make_filter_posts(void)
{
    char ta[48], tb[48], tags[160], body[512];

    tag_of("f", ftag, sizeof(ftag));
    tag_of("fa", ta, sizeof(ta));
    tag_of("fb", tb, sizeof(tb));
    snprintf(tags, sizeof(tags), "[\"%s\",\"%s\"]", ftag, ta);
    post_body(body, sizeof(body), "500 items", "published", "public", tags);
    CU_ASSERT_EQUAL(create_at("/v1/posts", tok(USER), body, fid[F_500]), 201);
    snprintf(tags, sizeof(tags), "[\"%s\",\"%s\",\"%s\"]", ftag, ta, tb);
    post_body(body, sizeof(body), "Get 50% off", "draft", "public", tags);
    CU_ASSERT_EQUAL(create_at("/v1/posts", tok(USER), body, fid[F_50PCT]), 201);
    usleep(20000);
    db_now(fmark, sizeof(fmark));
    usleep(20000);
    snprintf(tags, sizeof(tags), "[\"%s\",\"%s\"]", tb, ftag);
    post_body(body, sizeof(body), "under_score", "published", "private", tags);
    CU_ASSERT_EQUAL(create_at("/v1/posts", tok(USER), body, fid[F_UNDER]), 201);
    CU_ASSERT_EQUAL(
        mkpost(USER, "underXscore", "published", "public", ftag, fid[F_UNDERX]),
        0);
    CU_ASSERT_EQUAL(
        mkpost(USER, "Mixed CASE Title", NULL, NULL, ftag, fid[F_MIXED]), 0);
}

/* GET /v1/posts?tag=<ftag>&<q> as the admin: exactly the posts `want`
 * (indexes into fid, -1 terminated). */
static void
filter_gives(const char *q, const int *want)
{
    char prefix[128];

    snprintf(prefix, sizeof(prefix), "/v1/posts?tag=%s", ftag);
    assert_filtered(caller_name[ADMIN], tok(ADMIN), prefix, q, fid, want);
}

static void
test_lists_filter(void)
{
    char path[512], e[64], ta[48], tb[48], q[256];

    make_filter_posts();
    CU_ASSERT_FATAL(fid[F_MIXED][0] != '\0');
    tag_of("fa", ta, sizeof(ta));
    tag_of("fb", tb, sizeof(tb));
    filter_gives("", (const int[]){ 0, 1, 2, 3, 4, -1 });
    /* tag, repeatable: every tag given must be there. */
    snprintf(q, sizeof(q), "tag=%s", ta);
    filter_gives(q, (const int[]){ F_500, F_50PCT, -1 });
    snprintf(q, sizeof(q), "tag=%s&tag=%s", tb, ta);
    filter_gives(q, (const int[]){ F_50PCT, -1 });
    snprintf(q, sizeof(q), "tag=%s", tb);
    filter_gives(q, (const int[]){ F_50PCT, F_UNDER, -1 });
    filter_gives("tag=no-such-tag", (const int[]){ -1 });
    /* q: a case-insensitive substring of the title; % and _ are
     * themselves. */
    filter_gives("q=50%25", (const int[]){ F_50PCT, -1 });
    filter_gives("q=%25", (const int[]){ F_50PCT, -1 });
    filter_gives("q=under_score", (const int[]){ F_UNDER, -1 });
    filter_gives("q=_", (const int[]){ F_UNDER, -1 });
    filter_gives("q=under", (const int[]){ F_UNDER, F_UNDERX, -1 });
    filter_gives("q=mixed%20case", (const int[]){ F_MIXED, -1 });
    filter_gives("q=TITLE", (const int[]){ F_MIXED, -1 });
    filter_gives("q=500", (const int[]){ F_500, -1 });
    filter_gives("q=%5C", (const int[]){ -1 });
    filter_gives("q=nothing-like-it", (const int[]){ -1 });
    /* status, visibility */
    filter_gives("status=draft", (const int[]){ F_50PCT, F_MIXED, -1 });
    filter_gives("status=published",
                 (const int[]){ F_500, F_UNDER, F_UNDERX, -1 });
    filter_gives("visibility=private", (const int[]){ F_UNDER, -1 });
    filter_gives("status=published&visibility=public",
                 (const int[]){ F_500, F_UNDERX, -1 });
    /* author_id */
    snprintf(q, sizeof(q), "author_id=%s", fx[USER].id);
    filter_gives(q, (const int[]){ 0, 1, 2, 3, 4, -1 });
    snprintf(q, sizeof(q), "author_id=%s", fx[USER2].id);
    filter_gives(q, (const int[]){ -1 });
    /* created_after, created_before */
    snprintf(q, sizeof(q), "created_after=%s", enc(fmark, e, sizeof(e)));
    filter_gives(q, (const int[]){ F_UNDER, F_UNDERX, F_MIXED, -1 });
    snprintf(q, sizeof(q), "created_before=%s", enc(fmark, e, sizeof(e)));
    filter_gives(q, (const int[]){ F_500, F_50PCT, -1 });
    snprintf(q, sizeof(q), "created_after=%s&q=under",
             enc("2000-01-01T00:00:00Z", e, sizeof(e)));
    filter_gives(q, (const int[]){ F_UNDER, F_UNDERX, -1 });
    /* Filters and the read rule together: anonymous sees two. */
    snprintf(path, sizeof(path), "/v1/posts?tag=%s", ftag);
    {
        const char *want[2] = { fid[F_500], fid[F_UNDERX] };
        assert_lists(ANON, path, want, 2);
    }
    /* Bad values: 400 naming the parameter. */
    static const bad_input_t bad[] = {
        { "author_id=x", "author_id" },
        { "status=archived", "status" },
        { "visibility=secret", "visibility" },
        { "created_after=yesterday", "created_after" },
        { "created_before=2026-13-01T00:00:00Z", "created_before" },
        { "sort=body", "sort" },
        { "sort=-nope", "sort" },
        { "limit=ten", "limit" },
        { "page=1&cursor=", "cursor" },
    };
    assert_bad_queries("/v1/posts", tok(ADMIN), bad,
                       sizeof(bad) / sizeof(bad[0]));
    assert_bad_paging("/v1/posts", tok(ADMIN));
    /* Unknown and repeated parameters. */
    static const char *const bad400[] = {
        "/v1/posts?nope=1",
        "/v1/posts?title=x",
        "/v1/posts?limit=2&limit=3",
        "/v1/posts?status=draft&status=published",
        "/v1/posts?q=a&q=b",
        "/v1/posts?sort=title&sort=-title",
        "/v1/posts?fields=id&fields=title",
        "/v1/posts?author_id=" NOBODY_ID "&author_id=" NOBODY_ID,
    };
    assert_each_400(NULL, bad400, sizeof(bad400) / sizeof(bad400[0]));
}

static void
test_lists_sort_and_select_fields(void)
{
    /* Made in the order mike, kilo, lima; published lima, mike, kilo; last
     * changed lima, kilo, mike. */
    enum { MIKE, KILO, LIMA, NS };
    char id[NS][37], tg[48], path[256];
    const char *o[NS];
    http_resp_t r;

    tag_of("sort", tg, sizeof(tg));
    CU_ASSERT_EQUAL_FATAL(mkpost(USER, "mike", NULL, NULL, tg, id[MIKE]), 0);
    usleep(5000);
    CU_ASSERT_EQUAL_FATAL(mkpost(USER, "kilo", NULL, NULL, tg, id[KILO]), 0);
    usleep(5000);
    CU_ASSERT_EQUAL_FATAL(mkpost(USER, "lima", NULL, NULL, tg, id[LIMA]), 0);
    usleep(5000);
    CU_ASSERT_EQUAL(
        change_post("PATCH", USER, id[LIMA], "{\"status\":\"published\"}"),
        200);
    usleep(5000);
    CU_ASSERT_EQUAL(
        change_post("PATCH", USER, id[MIKE], "{\"status\":\"published\"}"),
        200);
    usleep(5000);
    CU_ASSERT_EQUAL(
        change_post("PATCH", USER, id[KILO], "{\"status\":\"published\"}"),
        200);
    usleep(5000);
    CU_ASSERT_EQUAL(
        change_post("PATCH", USER, id[MIKE], "{\"body\":\"touched\"}"), 200);
    static const struct {
        const char *sort; /* NULL: the default */
        int order[3];
    } cases[] = {
        { NULL, { LIMA, KILO, MIKE } },
        { "-created_at", { LIMA, KILO, MIKE } },
        { "created_at", { MIKE, KILO, LIMA } },
        { "%2Bcreated_at", { MIKE, KILO, LIMA } },
        { "title", { KILO, LIMA, MIKE } },
        { "%2Btitle", { KILO, LIMA, MIKE } },
        { "-title", { MIKE, LIMA, KILO } },
        { "published_at", { LIMA, MIKE, KILO } },
        { "-published_at", { KILO, MIKE, LIMA } },
        { "updated_at", { LIMA, KILO, MIKE } },
        { "-updated_at", { MIKE, KILO, LIMA } },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int ok;
        snprintf(path, sizeof(path), "/v1/posts?tag=%s%s%s", tg,
                 cases[i].sort ? "&sort=" : "", nz(cases[i].sort));
        for (int k = 0; k < NS; k++)
            o[k] = id[cases[i].order[k]];
        call("GET", path, tok(USER), NULL, &r);
        CU_ASSERT_EQUAL(r.status, 200);
        ok = in_order(&r, o, NS);
        CU_ASSERT_TRUE(ok);
        if (!ok)
            fprintf(stderr, "\n    wrong order for sort=%s\n",
                    nz(cases[i].sort));
        resp_free(&r);
    }
    /* Several keys: the first decides here. */
    snprintf(path, sizeof(path), "/v1/posts?tag=%s&sort=-created_at,title", tg);
    o[0] = id[LIMA];
    o[1] = id[KILO];
    o[2] = id[MIKE];
    call("GET", path, tok(USER), NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_TRUE(in_order(&r, o, NS));
    resp_free(&r);
    snprintf(path, sizeof(path), "/v1/posts?tag=%s&sort=status", tg);
    assert_refused_invalid("GET", path, tok(USER), NULL, "sort");
    /* fields: exactly the selected keys, id always. */
    snprintf(path, sizeof(path), "/v1/posts?tag=%s&fields=id,title", tg);
    assert_ids_and(path, tok(USER), NS, "title");
    snprintf(path, sizeof(path), "/v1/posts?tag=%s&fields=title,tags", tg);
    call("GET", path, tok(USER), NULL, &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 200);
    assert_each_selected(&r, 3);
    for (int i = 0; i < data_len(&r); i++)
        CU_ASSERT_TRUE(json_object_is_type(json_path(item(&r, i), "tags"),
                                           json_type_array));
    resp_free(&r);
    /* fields on one post. */
    assert_fields_of_one("/v1/posts", id[KILO], tok(USER), "title", 2, "title",
                         "kilo");
}

/* Seven published public posts for the paging tests. */
static char pg_ids[7][37], pg_tag[48];

static void
make_page_posts(void)
{
    char title[32];

    if (pg_ids[0][0] != '\0')
        return;
    tag_of("page", pg_tag, sizeof(pg_tag));
    for (int i = 0; i < 7; i++) {
        snprintf(title, sizeof(title), "page %d", i);
        CU_ASSERT_EQUAL(
            mkpost(USER2, title, "published", "public", pg_tag, pg_ids[i]), 0);
    }
}

static void
test_offset_pages_count_and_link(void)
{
    char path[512], next[4096], l[4096], seen[16][37];
    int n = 0;
    http_resp_t r;

    make_page_posts();
    /* The default: page 1 of 20. */
    snprintf(path, sizeof(path), "/v1/posts?tag=%s", pg_tag);
    call("GET", path, NULL, NULL, &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 200);
    assert_page(&r, 7, 1, 20, 7, 0);
    CU_ASSERT_TRUE(json_object_is_type(json_path(r.json, "meta.has_more"),
                                       json_type_boolean));
    CU_ASSERT_PTR_NULL(link_of(&r, "next", l, sizeof(l)));
    CU_ASSERT_PTR_NULL(link_of(&r, "prev", l, sizeof(l)));
    CU_ASSERT_PTR_NOT_NULL(link_of(&r, "first", l, sizeof(l)));
    resp_free(&r);
    /* Pages of 3, by the next link: 3, 3, 1. */
    snprintf(path, sizeof(path), "/v1/posts?tag=%s&limit=3", pg_tag);
    call("GET", path, NULL, NULL, &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 200);
    assert_page(&r, 3, 1, 3, 7, 1);
    CU_ASSERT_PTR_NULL(link_of(&r, "prev", l, sizeof(l)));
    CU_ASSERT_PTR_NOT_NULL(link_of(&r, "first", l, sizeof(l)));
    CU_ASSERT_PTR_NOT_NULL_FATAL(link_of(&r, "next", next, sizeof(next)));
    CU_ASSERT_PTR_NOT_NULL(strstr(next, "page=2"));
    CU_ASSERT_PTR_NOT_NULL(strstr(next, pg_tag));
    CU_ASSERT_PTR_NOT_NULL(strstr(next, "limit=3"));
    CU_ASSERT_EQUAL(collect_ids(&r, seen, &n, 16), 0);
    resp_free(&r);
    call("GET", next, NULL, NULL, &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 200);
    assert_page(&r, 3, 2, PAGE_ANY, 7, 1);
    CU_ASSERT_PTR_NOT_NULL(link_of(&r, "prev", l, sizeof(l)));
    CU_ASSERT_PTR_NOT_NULL(strstr(l, "page=1"));
    CU_ASSERT_PTR_NOT_NULL(link_of(&r, "first", l, sizeof(l)));
    CU_ASSERT_PTR_NOT_NULL(strstr(l, "page=1"));
    CU_ASSERT_EQUAL(collect_ids(&r, seen, &n, 16), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(link_of(&r, "next", next, sizeof(next)));
    resp_free(&r);
    call("GET", next, NULL, NULL, &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 200);
    assert_page(&r, 1, 3, PAGE_ANY, PAGE_ANY, 0);
    CU_ASSERT_PTR_NULL(link_of(&r, "next", l, sizeof(l)));
    CU_ASSERT_PTR_NOT_NULL(link_of(&r, "prev", l, sizeof(l)));
    CU_ASSERT_PTR_NOT_NULL(strstr(l, "page=2"));
    CU_ASSERT_EQUAL(collect_ids(&r, seen, &n, 16), 0);
    resp_free(&r);
    /* The pages hold the seven posts, each once, newest first. */
    CU_ASSERT_EQUAL(n, 7);
    for (int i = 0; i < 7 && n == 7; i++)
        CU_ASSERT_STRING_EQUAL(seen[i], pg_ids[6 - i]);
    /* The links carry the query as given: a space, a "+" and a "%" come
     * back as themselves (q="page " and "+title": 7 posts by title). */
    snprintf(path, sizeof(path),
             "/v1/posts?tag=%s&limit=3&q=page%%20&sort=%%2Btitle", pg_tag);
    call("GET", path, NULL, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_EQUAL(json_object_get_int(json_path(r.json, "meta.total")), 7);
    CU_ASSERT_STRING_EQUAL(item_id(&r, 0), pg_ids[0]);
    CU_ASSERT_PTR_NOT_NULL_FATAL(link_of(&r, "next", next, sizeof(next)));
    resp_free(&r);
    call("GET", next, NULL, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    assert_page(&r, PAGE_ANY, 2, PAGE_ANY, 7, PAGE_ANY);
    CU_ASSERT_STRING_EQUAL(item_id(&r, 0), pg_ids[3]);
    resp_free(&r);
    snprintf(path, sizeof(path), "/v1/posts?tag=%s&limit=3&q=%%25", pg_tag);
    call("GET", path, NULL, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_EQUAL(json_object_get_int(json_path(r.json, "meta.total")), 0);
    CU_ASSERT_PTR_NOT_NULL(link_of(&r, "first", l, sizeof(l)));
    resp_free(&r);
    call("GET", l, NULL, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_EQUAL(data_len(&r), 0);
    resp_free(&r);
    /* Past the end: an empty page. */
    snprintf(path, sizeof(path), "/v1/posts?tag=%s&limit=3&page=4", pg_tag);
    call("GET", path, NULL, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    assert_page(&r, 0, PAGE_ANY, PAGE_ANY, 7, 0);
    resp_free(&r);
    /* The bounds of limit. */
    snprintf(path, sizeof(path), "/v1/posts?tag=%s&limit=1", pg_tag);
    call("GET", path, NULL, NULL, &r);
    CU_ASSERT_EQUAL(data_len(&r), 1);
    resp_free(&r);
    snprintf(path, sizeof(path), "/v1/posts?tag=%s&limit=100", pg_tag);
    call("GET", path, NULL, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_EQUAL(json_object_get_int(json_path(r.json, "meta.limit")), 100);
    resp_free(&r);
    /* count=estimated is marked. */
    snprintf(path, sizeof(path), "/v1/posts?tag=%s&count=estimated", pg_tag);
    assert_estimated(path, NULL);
    /* An exact count is not marked as an estimate. */
    snprintf(path, sizeof(path), "/v1/posts?tag=%s", pg_tag);
    call("GET", path, NULL, NULL, &r);
    CU_ASSERT_FALSE(
        json_object_get_boolean(json_path(r.json, "meta.total_is_estimate")));
    resp_free(&r);
}

static void
test_cursor_pages_are_tamper_evident(void)
{
    char prefix[256], cursor[2048], other[2100], l[4096], seen[16][37];
    int n = 0, pages = 0;
    http_resp_t r;

    make_page_posts();
    snprintf(prefix, sizeof(prefix), "/v1/posts?tag=%s&limit=3", pg_tag);
    /* cursor= (empty) starts cursor mode. */
    get_cursor(NULL, prefix, "", &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 200);
    assert_page(&r, 3, PAGE_ABSENT, 3, PAGE_ABSENT, 1);
    next_cursor(&r, cursor, sizeof(cursor));
    CU_ASSERT_FATAL(cursor[0] != '\0');
    CU_ASSERT_PTR_NOT_NULL(link_of(&r, "next", l, sizeof(l)));
    CU_ASSERT_PTR_NOT_NULL(strstr(l, "cursor="));
    CU_ASSERT_PTR_NOT_NULL(strstr(l, pg_tag));
    CU_ASSERT_EQUAL(collect_ids(&r, seen, &n, 16), 0);
    resp_free(&r);
    /* The Link next is the same page as next_cursor. */
    call("GET", l, NULL, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_EQUAL(data_len(&r), 3);
    CU_ASSERT_EQUAL(index_of(&r, seen[0]), -1);
    resp_free(&r);
    /* Walk to the end: 3, 3, 1; the last page has no cursor. */
    for (;;) {
        char c2[2048];
        get_cursor(NULL, prefix, cursor, &r);
        CU_ASSERT_EQUAL(r.status, 200);
        if (r.status != 200 || ++pages > 10) {
            resp_free(&r);
            break;
        }
        CU_ASSERT_EQUAL(collect_ids(&r, seen, &n, 16), 0);
        if (json_object_is_type(json_path(r.json, "meta.next_cursor"),
                                json_type_null)) {
            assert_page(&r, 1, PAGE_ANY, PAGE_ANY, PAGE_ANY, 0);
            CU_ASSERT_PTR_NULL(link_of(&r, "next", l, sizeof(l)));
            resp_free(&r);
            break;
        }
        CU_ASSERT_TRUE(
            json_object_get_boolean(json_path(r.json, "meta.has_more")));
        next_cursor(&r, c2, sizeof(c2));
        resp_free(&r);
        snprintf(cursor, sizeof(cursor), "%s", c2);
    }
    CU_ASSERT_EQUAL(pages, 2);
    CU_ASSERT_EQUAL(n, 7);
    for (int i = 0; i < 7 && n == 7; i++)
        CU_ASSERT_STRING_EQUAL(seen[i], pg_ids[6 - i]);
    /* A fresh first-page cursor, then: tampered, another sort. */
    get_cursor(NULL, prefix, "", &r);
    next_cursor(&r, cursor, sizeof(cursor));
    resp_free(&r);
    assert_bad_cursor(NULL, prefix, tampered(cursor, other, sizeof(other)));
    /* The MAC part and the payload part, each changed at its end. */
    snprintf(other, sizeof(other), "%s", cursor);
    other[strlen(other) - 1] = other[strlen(other) - 1] == 'A' ? 'B' : 'A';
    assert_bad_cursor(NULL, prefix, other);
    snprintf(other, sizeof(other), "x%s", cursor);
    assert_bad_cursor(NULL, prefix, other);
    assert_bad_cursor(NULL, prefix, "not-a-cursor");
    {
        char p2[320];
        snprintf(p2, sizeof(p2), "%s&sort=title", prefix);
        assert_bad_cursor(NULL, p2, cursor);
        snprintf(p2, sizeof(p2), "%s&sort=created_at", prefix);
        assert_bad_cursor(NULL, p2, cursor);
        /* The same cursor with another filter or caller is still a posts
         * cursor of this sort (not asserted either way); with page: 400. */
        snprintf(p2, sizeof(p2), "%s&page=1", prefix);
        assert_bad_cursor(NULL, p2, cursor);
    }
    /* A users cursor. */
    call("GET", "/v1/users?limit=1&cursor=", tok(ADMIN), NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    next_cursor(&r, other, sizeof(other));
    resp_free(&r);
    CU_ASSERT(other[0] != '\0');
    if (other[0] != '\0')
        assert_bad_cursor(NULL, prefix, other);
    /* An audit cursor: two audited deletions make sure there is one. */
    for (int i = 0; i < 2; i++) {
        char email[128], id[37], path[128];
        fresh_email(email, sizeof(email), "posts-audit");
        CU_ASSERT_EQUAL(register_user(email, "Audited", id), 201);
        snprintf(path, sizeof(path), "/v1/users/%s", id);
        CU_ASSERT_EQUAL(status_of("DELETE", path, tok(ADMIN), NULL), 204);
    }
    call("GET", "/v1/audit-events?limit=1", tok(ADMIN), NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    next_cursor(&r, other, sizeof(other));
    resp_free(&r);
    CU_ASSERT(other[0] != '\0');
    if (other[0] != '\0')
        assert_bad_cursor(NULL, prefix, other);
    /* And a posts cursor is no users cursor. */
    {
        char e[2048], path[2200];
        snprintf(path, sizeof(path), "/v1/users?limit=1&cursor=%s",
                 enc(cursor, e, sizeof(e)));
        assert_refused_invalid("GET", path, tok(ADMIN), NULL, "cursor");
    }
}

#define NWALK 12

/* The tag of the posts of the walk at hand. */
static char walk_tag[48];

/* NWALK published public posts of the user tagged walk_tag = "t<pid>-<what>",
 * titled "mwalk <i>", or each `same` unless it is NULL: their ids into orig.
 */
static void
make_walk_posts(const char *what, const char *same, char orig[][37])
{
    char title[64];

    tag_of(what, walk_tag, sizeof(walk_tag));
    for (int i = 0; i < NWALK; i++) {
        snprintf(title, sizeof(title), "mwalk %02d", i);
        CU_ASSERT_EQUAL_FATAL(mkpost(USER, same ? same : title, "published",
                                     "public", walk_tag, orig[i]),
                              0);
    }
}

/* Walk /v1/posts?tag=<walk_tag>&<query> by cursor as the user, making two
 * posts of user2 titled "<newer> <n>" with the same tag before each next
 * page.  Assert that no page repeats a post and that each of the `orig`
 * posts is seen once (`walk` names the walk in messages). */
static void
assert_walk_while_inserting(const char *query, const char *newer,
                            char orig[][37], const char *walk)
{
    static char seen[256][37];
    char prefix[256], cursor[2048] = "", title[64], id[37];
    int n = 0, repeats = 0, pages = 0, made = 0, count[NWALK] = { 0 };

    snprintf(prefix, sizeof(prefix), "/v1/posts?tag=%s&%s", walk_tag, query);
    for (;;) {
        http_resp_t r;
        get_cursor(tok(USER), prefix, cursor, &r);
        CU_ASSERT_EQUAL(r.status, 200);
        if (r.status != 200 || ++pages > 30) {
            CU_ASSERT(pages <= 30);
            resp_free(&r);
            break;
        }
        if (collect_ids(&r, seen, &n, 256) != 0)
            repeats++;
        for (int i = 0; i < data_len(&r); i++)
            for (int k = 0; k < NWALK; k++)
                if (strcmp(item_id(&r, i), orig[k]) == 0)
                    count[k]++;
        next_cursor(&r, cursor, sizeof(cursor));
        resp_free(&r);
        if (cursor[0] == '\0')
            break;
        for (int k = 0; k < 2; k++) {
            snprintf(title, sizeof(title), "%s %02d", newer, made++);
            CU_ASSERT_EQUAL(
                mkpost(USER2, title, "published", "public", walk_tag, id), 0);
        }
    }
    CU_ASSERT_EQUAL(repeats, 0);
    for (int i = 0; i < NWALK; i++) {
        CU_ASSERT_EQUAL(count[i], 1);
        if (count[i] != 1)
            fprintf(stderr, "\n    %s walk: post %d seen %d times\n", walk, i,
                    count[i]);
    }
}

static void
test_cursor_walks_are_stable_under_inserts(void)
{
    char orig[NWALK][37];

    /* Newest first (the default sort), posts added as we go. */
    make_walk_posts("walk", NULL, orig);
    assert_walk_while_inserting("limit=5", "mwalk new", orig, "-created_at");
    /* By title, posts that sort first added as we go. */
    make_walk_posts("walk2", NULL, orig);
    assert_walk_while_inserting("limit=5&sort=title", "aaa", orig, "title");
    /* Equal titles are ordered by id: a walk of limit 1 over twelve posts
     * of one title sees each once. */
    make_walk_posts("walk3", "same", orig);
    assert_walk_while_inserting("limit=1&sort=-title", "zzz", orig, "-title");
}

/* ---- E: conditional requests and optimistic locking ---------------------- */

static void
test_conditional_requests_and_versions(void)
{
    char id[37], path[128], etag[64], h[160], tg[48];
    http_resp_t r;

    tag_of("cond", tg, sizeof(tg));
    CU_ASSERT_EQUAL_FATAL(
        mkpost(USER, "Conditional", "published", "public", tg, id), 0);
    snprintf(path, sizeof(path), "/v1/posts/%s", id);
    call("GET", path, NULL, NULL, &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 200);
    CU_ASSERT_STRING_EQUAL(nz(resp_header(&r, "ETag", etag, sizeof(etag))),
                           "W/\"1\"");
    resp_free(&r);
    /* If-None-Match: 304 without a body when it matches, else the post. */
    snprintf(h, sizeof(h), "If-None-Match: %s", etag);
    assert_bodiless("GET", path, NULL, h, 304, "W/\"1\"");
    /* HEAD is answered as GET is, without a body. */
    assert_bodiless("HEAD", path, NULL, NULL, 200, "W/\"1\"");
    CU_ASSERT_EQUAL(status_of("HEAD", "/v1/posts?limit=1", NULL, NULL), 200);
    assert_bodiless("GET", path, tok(USER), h, 304, NULL);
    call_h("GET", path, NULL, NULL, "If-None-Match: W/\"7\"", &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.id")), id);
    resp_free(&r);
    /* If-None-Match does not reveal a post one may not read. */
    {
        char hidden[37], hpath[128];
        CU_ASSERT_EQUAL_FATAL(
            mkpost(USER, "Hidden", "draft", "private", tg, hidden), 0);
        snprintf(hpath, sizeof(hpath), "/v1/posts/%s", hidden);
        assert_refused_h("GET", hpath, tok(USER2), NULL,
                         "If-None-Match: W/\"1\"", 404, "NOT_FOUND");
    }
    /* If-Match that does not match: 412 and nothing changes. */
    assert_refused_h("PATCH", path, tok(USER), "{\"title\":\"Never\"}",
                     "If-Match: W/\"9\"", 412, "PRECONDITION_FAILED");
    assert_refused_h("PUT", path, tok(USER),
                     "{\"title\":\"Never\",\"body\":\"\",\"status\":\"draft\","
                     "\"visibility\":\"public\",\"tags\":[]}",
                     "If-Match: W/\"9\"", 412, "PRECONDITION_FAILED");
    assert_refused_h("DELETE", path, tok(USER), NULL, "If-Match: W/\"9\"", 412,
                     "PRECONDITION_FAILED");
    call("GET", path, tok(USER), NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_EQUAL(json_object_get_int(json_path(r.json, "data.version")), 1);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.title")),
                           "Conditional");
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.status")),
                           "published");
    resp_free(&r);
    /* The current ETag: the change, version + 1 and a new ETag. */
    call_h("PATCH", path, tok(USER), "{\"title\":\"Second\"}",
           "If-Match: W/\"1\"", &r);
    CU_ASSERT_EQUAL(r.status, 200);
    assert_version(&r, 2);
    resp_free(&r);
    /* The old ETag no longer gives a 304. */
    call_h("GET", path, NULL, NULL, "If-None-Match: W/\"1\"", &r);
    CU_ASSERT_EQUAL(r.status, 200);
    resp_free(&r);
    /* A stale body version: 409, nothing changes. */
    assert_refused("PATCH", path, tok(USER),
                   "{\"title\":\"Stale\",\"version\":1}", 409,
                   "VERSION_CONFLICT");
    assert_refused("PUT", path, tok(EDITOR),
                   "{\"title\":\"Stale\",\"body\":\"\",\"status\":\"draft\","
                   "\"visibility\":\"public\",\"tags\":[],\"version\":1}",
                   409, "VERSION_CONFLICT");
    assert_refused("PATCH", path, tok(USER),
                   "{\"title\":\"Future\",\"version\":3}", 409,
                   "VERSION_CONFLICT");
    call("GET", path, tok(USER), NULL, &r);
    CU_ASSERT_EQUAL(json_object_get_int(json_path(r.json, "data.version")), 2);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.title")), "Second");
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.status")),
                           "published");
    resp_free(&r);
    /* The current body version: accepted, by PATCH and by PUT. */
    call("PATCH", path, tok(USER), "{\"title\":\"Third\",\"version\":2}", &r);
    CU_ASSERT_EQUAL(r.status, 200);
    assert_version(&r, 3);
    resp_free(&r);
    call("PUT", path, tok(USER),
         "{\"title\":\"Fourth\",\"body\":\"\",\"status\":\"published\","
         "\"visibility\":\"public\",\"tags\":[],\"version\":3}",
         &r);
    CU_ASSERT_EQUAL(r.status, 200);
    assert_version(&r, 4);
    resp_free(&r);
    /* Both conditions given, both current. */
    call_h("PATCH", path, tok(USER), "{\"body\":\"both\",\"version\":4}",
           "If-Match: W/\"4\"", &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_EQUAL(json_object_get_int(json_path(r.json, "data.version")), 5);
    resp_free(&r);
    /* A matching If-Match deletes. */
    assert_bodiless("DELETE", path, tok(USER), "If-Match: W/\"5\"", 204, NULL);
    assert_refused("GET", path, tok(USER), NULL, 404, "NOT_FOUND");
}

static void
test_racing_writers_one_wins(void)
{
    char id[37], path[128], tg[48];
    int version = 1, good_rounds = 0;

    tag_of("race", tg, sizeof(tg));
    CU_ASSERT_EQUAL_FATAL(mkpost(USER, "Race", NULL, NULL, tg, id), 0);
    snprintf(path, sizeof(path), "/v1/posts/%s", id);
    for (int round = 0; round < 10; round++) {
        racer_t rc[2];
        int ok200 = 0, ok409 = 0;
        http_resp_t r;

        memset(rc, 0, sizeof(rc));
        for (int i = 0; i < 2; i++) {
            rc[i].method = "PATCH";
            rc[i].path = path;
            /* The author and an editor, both allowed. */
            rc[i].bearer = tok(i == 0 ? USER : EDITOR);
            snprintf(rc[i].body, sizeof(rc[i].body),
                     "{\"body\":\"round %d writer %d\",\"version\":%d}", round,
                     i, version);
        }
        race_all(rc, 2);
        for (int i = 0; i < 2; i++) {
            if (rc[i].status == 200)
                ok200++;
            else if (rc[i].status == 409 &&
                     strcmp(rc[i].code, "VERSION_CONFLICT") == 0)
                ok409++;
        }
        CU_ASSERT_EQUAL(ok200, 1);
        CU_ASSERT_EQUAL(ok409, 1);
        if (ok200 == 1 && ok409 == 1)
            good_rounds++;
        else
            fprintf(stderr, "\n    round %d: %ld %s / %ld %s\n", round,
                    rc[0].status, rc[0].code, rc[1].status, rc[1].code);
        free_racers(rc, 2);
        /* Exactly one change happened, and it is the winner's. */
        get_post(USER, id, &r);
        CU_ASSERT_EQUAL(json_object_get_int(json_path(r.json, "data.version")),
                        version + ok200);
        for (int i = 0; i < 2; i++)
            if (rc[i].status == 200) {
                char want[64];
                snprintf(want, sizeof(want), "round %d writer %d", round, i);
                CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.body")),
                                       want);
            }
        version = json_object_get_int(json_path(r.json, "data.version"));
        resp_free(&r);
    }
    CU_ASSERT_EQUAL(good_rounds, 10);
}

/* ---- F: a deleted author ------------------------------------------------ */

static void
test_a_deleted_authors_posts_vanish(void)
{
    char id[37], path[160], tg[48];
    account_t gone;
    http_resp_t r;

    tag_of("gone", tg, sizeof(tg));
    CU_ASSERT_EQUAL_FATAL(make_account(&gone, "posts-gone", NULL), 0);
    {
        char body[256];
        snprintf(body, sizeof(body),
                 "{\"title\":\"Orphan\",\"status\":\"published\","
                 "\"tags\":[\"%s\"]}",
                 tg);
        CU_ASSERT_EQUAL_FATAL(create_at("/v1/posts", gone.p.access, body, id),
                              201);
    }
    CU_ASSERT_EQUAL(get_post(ANON, id, &r), 200);
    resp_free(&r);
    snprintf(path, sizeof(path), "/v1/posts?tag=%s", tg);
    {
        const char *want[1] = { id };
        assert_lists(ANON, path, want, 1);
    }
    snprintf(path, sizeof(path), "/v1/users/%s", gone.id);
    CU_ASSERT_EQUAL_FATAL(status_of("DELETE", path, tok(ADMIN), NULL), 204);
    for (int w = 0; w < NCALLERS; w++) {
        get_post((caller_t)w, id, &r);
        assert_envelope(&r, 404, "NOT_FOUND");
        resp_free(&r);
    }
    snprintf(path, sizeof(path), "/v1/posts?tag=%s", tg);
    assert_lists(ANON, path, NULL, 0);
    assert_lists(ADMIN, path, NULL, 0);
    snprintf(path, sizeof(path), "/v1/posts?author_id=%s", gone.id);
    assert_lists(ADMIN, path, NULL, 0);
    /* Their collection is empty, as is one of a user who never was: the
     * same answer for both, so the list tells nobody which ids are users. */
    snprintf(path, sizeof(path), "/v1/users/%s/posts", gone.id);
    call("GET", path, tok(ADMIN), NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_EQUAL(data_len(&r), 0);
    resp_free(&r);
    call("GET", "/v1/users/00000000-0000-4000-8000-000000000000/posts", NULL,
         NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_EQUAL(data_len(&r), 0);
    resp_free(&r);
    /* Nobody writes to it. */
    CU_ASSERT_EQUAL(
        change_post("PATCH", ADMIN, id, "{\"title\":\"Resurrected\"}"), 404);
    CU_ASSERT_EQUAL(change_post("DELETE", ADMIN, id, NULL), 404);
}

static const unit_test_t tests[] = {
    { "create gives the whole post", test_create_gives_the_whole_post },
    { "create enforces every bound", test_create_enforces_every_bound },
    { "posts under a user are only one's own",
      test_posts_under_a_user_are_only_ones_own },
    { "published_at is set once", test_published_at_is_set_once },
    { "reading follows the read rule", test_reading_follows_the_read_rule },
    { "writing follows the write rules", test_writing_follows_the_write_rules },
    { "PUT replaces, PATCH changes a subset",
      test_put_replaces_and_patch_changes_a_subset },
    { "lists show each caller what they may read",
      test_lists_show_each_caller_what_they_may_read },
    { "lists filter", test_lists_filter },
    { "lists sort and select fields", test_lists_sort_and_select_fields },
    { "offset pages count and link", test_offset_pages_count_and_link },
    { "cursor pages are tamper-evident", test_cursor_pages_are_tamper_evident },
    { "cursor walks are stable under inserts",
      test_cursor_walks_are_stable_under_inserts },
    { "conditional requests and versions",
      test_conditional_requests_and_versions },
    { "racing writers: one wins, one gets 409", test_racing_writers_one_wins },
    { "a deleted author's posts vanish", test_a_deleted_authors_posts_vanish },
};

int
main(void)
{
    static const api_fixture_t fixtures[] = {
        { &fx[USER], "posts-user", NULL },
        { &fx[USER2], "posts-user2", NULL },
        { &fx[EDITOR], "posts-editor", "editor" },
        { &fx[ADMIN], "posts-admin", "admin" },
    };

    return api_main("posts", fixtures, sizeof(fixtures) / sizeof(fixtures[0]),
                    NULL, UNIT_TESTS(tests));
}
