/*
 * api.h - the HTTP, SQL and fixture helpers the API suites (test_auth,
 * test_access, test_posts, test_products, test_orders) share: their main(),
 * requests with a bearer token, one-value SQL, accounts made over the API
 * and given roles by SQL, polls, and assertions on error answers, created
 * resources, list answers and their pages.  api_main() calls api_init(),
 * which reads KEEL_TEST_URL and KEEL_TEST_PGURL (run.sh).
 */
#ifndef KEEL_TESTS_API_H
#define KEEL_TESTS_API_H

#include "../unit/unit.h"
#include "client.h"

#include <libpq-fe.h>
#include <stddef.h>
#include <time.h>

/* The password of every account register_user() makes. */
#define PASSWORD "correct horse battery staple"
/* A well-formed id that no object has. */
#define NOBODY_ID "00000000-0000-4000-8000-000000000000"

typedef struct pair {
    char access[2048];
    char refresh[64];
} pair_t;

typedef struct account {
    char email[128];
    char id[37];
    pair_t p;
} account_t;

/* ---- main ---------------------------------------------------------------- */

/* An account api_main() makes before the tests: *account, registered with
 * a fresh address tagged `tag` and given `role` besides "user" (NULL:
 * none), then logged in. */
typedef struct api_fixture {
    account_t *account;
    const char *tag;
    const char *role;
} api_fixture_t;

/* The whole main() of the suite "test_<suite>": libcurl's global state,
 * api_init(), the n fixture accounts in order, then `more` (NULL: none) for
 * any other fixture, the ntests tests, api_finish().  The process exit
 * status: 1, with a message, when a fixture cannot be made. */
int api_main(const char *suite, const api_fixture_t *fixtures, size_t n,
             int (*more)(void), const unit_test_t *tests, size_t ntests);

/* ---- shared state -------------------------------------------------------- */

/* Read the base URL, connect to the database; 0, or -1 with a message
 * prefixed by `suite`. */
int api_init(const char *suite);
/* Forget the tokens seen and close the database connection. */
void api_finish(void);
/* The base URL of the API (KEEL_TEST_URL). */
const char *api_base(void);
/* The connection to the test database (KEEL_TEST_PGURL). */
PGconn *api_pg(void);
/* The next number of the counter fresh_email() uses, unique per process. */
int api_serial(void);
/* How many tokens login() has been given so far. */
size_t api_seen_count(void);
/* The i-th token login() was given (i < api_seen_count()). */
const char *api_seen(size_t i);

/* ---- requests ------------------------------------------------------------ */

/* Send `method` to `path` with an optional bearer token, JSON body and one
 * extra header line.  Fills *r (the caller frees it); returns the status. */
long call_h(const char *method, const char *path, const char *bearer,
            const char *body, const char *extra, http_resp_t *r);
/* call_h() without an extra header line. */
long call(const char *method, const char *path, const char *bearer,
          const char *body, http_resp_t *r);
/* The status alone of call(). */
long status_of(const char *method, const char *path, const char *bearer,
               const char *body);
/* call_h() with the Content-Type `content_type` (not JSON's) for `body`. */
long call_typed(const char *method, const char *path, const char *bearer,
                const char *content_type, const char *body, http_resp_t *r);
/* GET `prefix`&cursor=<cursor, percent-encoded> with `bearer` into *r. */
long get_cursor(const char *bearer, const char *prefix, const char *cursor,
                http_resp_t *r);
/* GET <collection>/<id> with `bearer` into *r: the status. */
long get_one(const char *collection, const char *id, const char *bearer,
             http_resp_t *r);
/* `method` (PATCH, PUT, DELETE) on <collection>/<id> with `bearer` and
 * `body` (may be NULL): the status. */
long change_one(const char *method, const char *collection, const char *id,
                const char *bearer, const char *body);
/* POST `body` to `path` with `bearer`: the status; the new id into `id`
 * (empty unless 201, when the answer is also shown on stderr). */
long create_at(const char *path, const char *bearer, const char *body,
               char id[37]);
/* `s` percent-encoded for a query string (everything but unreserved) into
 * out; returns out. */
const char *enc(const char *s, char *out, size_t len);
/* `s`, or "" for NULL: string assertions never see NULL. */
const char *nz(const char *s);

/* ---- the database -------------------------------------------------------- */

/* The first value of the first row of `q`, or "": a string to free. */
char *sql1(const char *q);
/* The database's clock now, as an RFC 3339 instant with milliseconds. */
void db_now(char *out, size_t len);

/* ---- accounts ------------------------------------------------------------ */

/* A fresh email address "<tag>-<n>-<pid>@example.org" for each account. */
void fresh_email(char *out, size_t len, const char *tag);
/* Register `email` with PASSWORD; its id into `id` (empty on failure).
 * The status. */
long register_user(const char *email, const char *name, char id[37]);
/* Log in; on 200 the tokens are remembered (api_seen()) and, when p is not
 * NULL, copied into *p.  The status. */
long login(const char *email, const char *password, pair_t *p);
/* Give the user `id` the role `role` directly in the database; 0 or -1. */
int grant(const char *id, const char *role);
/* Register, optionally grant `role` (besides "user"), log in.  0 or -1. */
int make_account(account_t *a, const char *tag, const char *role);

/* ---- polls --------------------------------------------------------------- */

/* The seconds since *t0 (CLOCK_MONOTONIC). */
double since(const struct timespec *t0);
/* Poll until `method path` with `bearer` answers `want`: seconds, or -1
 * once `limit` seconds have passed. */
double status_within(const char *method, const char *path, const char *bearer,
                     long want, double limit);
/* Poll until GET /v1/auth/me refuses `access` (401): seconds, or -1. */
double refused_within(const char *access, double limit);

/* ---- races --------------------------------------------------------------- */

/* One request of race_all(), sent at the same moment as the others. */
typedef struct racer {
    const char *method;
    const char *path;
    const char *bearer;
    char body[512];     /* "" for none */
    char extra[320];    /* one extra header line, or "" for none */
    long status;        /* the answer's */
    char code[40];      /* its error.code, or "" */
    char location[128]; /* its Location, or "" */
    http_resp_t r;      /* the whole answer, freed by free_racers() */
} racer_t;

/* Send the n (at most 64) requests of rc at once, each from a thread of its
 * own released by one barrier, and fill in their answers.  Blocks until
 * every answer is in. */
void race_all(racer_t *rc, int n);
/* Free the answers race_all() filled in. */
void free_racers(racer_t *rc, int n);

/* ---- errors -------------------------------------------------------------- */

/* 1 when error.details has an entry whose field is `field`, or starts
 * with `field` followed by a dot when `prefix` is set ("tags.3"). */
int has_detail_in(const http_resp_t *r, const char *field, int prefix);
/* 1 when error.details has an entry whose field is `field`. */
int has_detail(const http_resp_t *r, const char *field);
/* Assert a 400 VALIDATION_ERROR naming `field` (when not NULL). */
void assert_invalid(const http_resp_t *r, const char *field);
/* Assert a 400 VALIDATION_ERROR naming `field` or something under it
 * ("tags.3"). */
void assert_invalid_in(const http_resp_t *r, const char *field);
/* Assert a 400 of either 400 code: where API.md says "400" without one. */
void assert_400(const http_resp_t *r);

/* ---- answers to one request ----------------------------------------------
 * Each sends the request, asserts on the answer and frees it. */

/* `method path` with `bearer` and `body` (may be NULL) is the error
 * `status` with `code` (assert_envelope()). */
void assert_refused(const char *method, const char *path, const char *bearer,
                    const char *body, long status, const char *code);
/* assert_refused() with one extra header line (If-Match, ...). */
void assert_refused_h(const char *method, const char *path, const char *bearer,
                      const char *body, const char *extra, long status,
                      const char *code);
/* `method path` is a 400 VALIDATION_ERROR naming `field` (NULL: any). */
void assert_refused_invalid(const char *method, const char *path,
                            const char *bearer, const char *body,
                            const char *field);
/* `method path` without a token is a 401 with the Bearer challenge. */
void assert_challenged(const char *method, const char *path, const char *body);
/* `method path` with `bearer` and one extra header line (may be NULL) is
 * `status` without a body (HEAD, 304, 204), and has the ETag `etag` unless
 * that is NULL. */
void assert_bodiless(const char *method, const char *path, const char *bearer,
                     const char *extra, long status, const char *etag);

/* ---- created resources --------------------------------------------------- */

/* Assert the 201 `r` of a create in `collection` has the Location
 * <collection>/<data.id> (copied into path), ETag W/"1", the JSON content
 * type and the security headers.  Returns path. */
const char *assert_created(const http_resp_t *r, const char *collection,
                           char *path, size_t len);
/* Assert the answer `r` is of version `version`: data.version and the ETag
 * W/"<version>". */
void assert_version(const http_resp_t *r, int version);
/* Assert GET `path` with `bearer` is a 200 with the data of `created` and
 * ETag W/"1". */
void assert_reads_back(const char *path, const char *bearer,
                       const http_resp_t *created);

/* ---- shapes -------------------------------------------------------------- */

/* Assert `o` is an object with exactly the `n` members `keys` (each one
 * missing is named on stderr as "<what> without <key>"). */
void assert_exact_members(json_object *o, const char *const *keys, size_t n,
                          const char *what);

/* ---- lists --------------------------------------------------------------- */

/* The number of elements of `data` (-1 when it is not an array). */
int data_len(const http_resp_t *r);
/* data[i], or NULL. */
json_object *item(const http_resp_t *r, int i);
/* The id of data[i], or "". */
const char *item_id(const http_resp_t *r, int i);
/* The index in `data` of the object whose id is `id`, or -1. */
int index_of(const http_resp_t *r, const char *id);
/* 1 when `data` holds exactly the n items `want` (in any order). */
int same_ids(const http_resp_t *r, const char *const *want, int n);
/* 1 when `data` holds exactly the n items `want`, in that order. */
int in_order(const http_resp_t *r, const char *const *want, int n);
/* Add each id of `r`'s data to seen[] (n of them); 0, or -1 on a repeat. */
int collect_ids(const http_resp_t *r, char seen[][37], int *n, int max);
/* The ids ids[want[0]], ids[want[1]], ... (want ends with -1; at most max
 * of them) into out: how many. */
int pick_ids(char ids[][37], const int *want, const char **out, int max);
/* Assert that GET `path` with `bearer` (the caller `who`, for messages) is
 * a 200 whose data is exactly `want` (any order), and meta.total, when
 * present, is n. */
void assert_list(const char *who, const char *bearer, const char *path,
                 const char *const *want, int n);
/* assert_list(), the data in the order of `want`. */
void assert_list_in_order(const char *who, const char *bearer, const char *path,
                          const char *const *want, int n);
/* assert_list() of GET <prefix>&limit=100, then &<q> unless q is "": the
 * items picked from ids by `want` (pick_ids()). */
void assert_filtered(const char *who, const char *bearer, const char *prefix,
                     const char *q, char ids[][37], const int *want);
/* Assert GET `path` (a list with count=estimated) with `bearer` is a 200
 * whose meta.total is an integer marked as an estimate. */
void assert_estimated(const char *path, const char *bearer);

/* ---- fields -------------------------------------------------------------- */

/* Assert GET `path` (a list with fields=id,<member>) with `bearer` is a 200
 * of `len` items, each exactly an id of 36 characters and a string
 * `member`. */
void assert_ids_and(const char *path, const char *bearer, int len,
                    const char *member);
/* Assert each item of the list `r` has exactly n members, an id among them
 * (fields=<n - 1 others>). */
void assert_each_selected(const http_resp_t *r, int n);
/* Assert GET <collection>/<id>?fields=<fields> with `bearer` is a 200 whose
 * data has exactly n members, id `id` and `member` `value`; and that
 * fields=nope is a 400 naming fields and an unknown parameter a 400. */
void assert_fields_of_one(const char *collection, const char *id,
                          const char *bearer, const char *fields, int n,
                          const char *member, const char *value);

/* ---- pages --------------------------------------------------------------- */

/* In assert_page(): a value not checked; a member that must be absent. */
#define PAGE_ANY    (-1)
#define PAGE_ABSENT (-2)

/* Assert the list page `r` has `len` items, meta.page `page`, meta.limit
 * `limit`, meta.total `total` and meta.has_more `has_more` (0 or 1).  None
 * is checked where it is PAGE_ANY; meta.page and meta.total are asserted
 * absent where they are PAGE_ABSENT (cursor pages). */
void assert_page(const http_resp_t *r, int len, int page, int limit, int total,
                 int has_more);
/* Assert `r` is the last page of a cursor walk: `len` items, has_more
 * false, next_cursor null. */
void assert_last_cursor_page(const http_resp_t *r, int len);
/* The URL of the Link header entry with rel="<rel>", as a path, or NULL. */
const char *link_of(const http_resp_t *r, const char *rel, char *out,
                    size_t len);
/* The meta.next_cursor of `r` into out, or "" without one; returns out. */
const char *next_cursor(const http_resp_t *r, char *out, size_t len);
/* `cursor` with its middle character changed, into out; returns out. */
const char *tampered(const char *cursor, char *out, size_t len);
/* Assert GET `prefix`&cursor=<cursor> with `bearer` is a 400 naming the
 * cursor. */
void assert_bad_cursor(const char *bearer, const char *prefix,
                       const char *cursor);

/* ---- refused parameters and bodies --------------------------------------- */

/* A refused input: a query string or a body, and the details[].field
 * naming it (NULL: any or none). */
typedef struct bad_input {
    const char *text;
    const char *field;
} bad_input_t;

/* Assert GET `path`?<bad[i].text> with `bearer` is a 400 VALIDATION_ERROR
 * naming bad[i].field, for each of the n. */
void assert_bad_queries(const char *path, const char *bearer,
                        const bad_input_t *bad, size_t n);
/* assert_bad_queries() of the bad values every collection refuses alike:
 * fields=nope, fields=id,password, limit=0, limit=101, page=0 and
 * page=2&cursor=abc. */
void assert_bad_paging(const char *path, const char *bearer);
/* Assert `method path` with `bearer` and the body bad[i].text is a 400
 * VALIDATION_ERROR naming bad[i].field, for each of the n. */
void assert_bad_bodies(const char *method, const char *path, const char *bearer,
                       const bad_input_t *bad, size_t n);
/* Assert GET paths[i] with `bearer` is a 400 of either code (assert_400()),
 * for each of the n (unknown and repeated parameters). */
void assert_each_400(const char *bearer, const char *const *paths, size_t n);

/* ---- values -------------------------------------------------------------- */

/* 1 when `s` is an RFC 3339 UTC instant with milliseconds and a Z. */
int is_instant(const char *s);

#endif
