/*
 * api.h - the HTTP, SQL and fixture helpers the API suites (test_auth,
 * test_access, test_posts, test_products) share: requests with a bearer
 * token, one-value SQL, accounts made over the API and given roles by SQL,
 * polls, and assertions on error details and list answers.  Call
 * api_init() first; it reads KEEL_TEST_URL and KEEL_TEST_PGURL (run.sh).
 */
#ifndef KEEL_TESTS_API_H
#define KEEL_TESTS_API_H

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
/* `s` percent-encoded for a query string (everything but unreserved) into
 * out; returns out. */
const char *enc(const char *s, char *out, size_t len);
/* `s`, or "" for NULL: string assertions never see NULL. */
const char *nz(const char *s);

/* ---- the database -------------------------------------------------------- */

/* The first value of the first row of `q`, or "": a string to free. */
char *sql1(const char *q);

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

/* ---- errors -------------------------------------------------------------- */

/* 1 when error.details has an entry whose field is `field`, or starts
 * with `field` followed by a dot when `prefix` is set ("tags.3"). */
int has_detail_in(const http_resp_t *r, const char *field, int prefix);
/* 1 when error.details has an entry whose field is `field`. */
int has_detail(const http_resp_t *r, const char *field);
/* Assert a 400 VALIDATION_ERROR naming `field` (when not NULL). */
void assert_invalid(const http_resp_t *r, const char *field);
/* Assert a 400 of either 400 code: where API.md says "400" without one. */
void assert_400(const http_resp_t *r);

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
/* Assert that GET `path` with `bearer` (the caller `who`, for messages) is
 * a 200 whose data is exactly `want` (any order), and meta.total, when
 * present, is n. */
void assert_list(const char *who, const char *bearer, const char *path,
                 const char *const *want, int n);
/* The URL of the Link header entry with rel="<rel>", as a path, or NULL. */
const char *link_of(const http_resp_t *r, const char *rel, char *out,
                    size_t len);

/* ---- values -------------------------------------------------------------- */

/* 1 when `s` is an RFC 3339 UTC instant with milliseconds and a Z. */
int is_instant(const char *s);

#endif
