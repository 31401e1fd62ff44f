/*
 * test_products.c - products (API.md 5.3) and the collection, caching and
 * locking rules they follow (1.2-1.5, 4) through real nginx -> keeld-test
 * -> PostgreSQL.  It proves:
 *
 * A. Creating: POST /v1/products takes products:write (401 anonymous, 403
 *    for a plain user) and gives 201 with Location, ETag W/"1" and the whole
 *    product (defaults filled: description "", stock 0, active true).
 * B. Every bound of sku, name, description, category, price_cents,
 *    currency, stock and active is enforced with a 400 naming the member;
 *    unknown members (read-only ones included) are 400; a second live
 *    product with one sku is 409 CONFLICT naming sku, and a deleted
 *    product's sku may be used again.
 * C. Reads are public: anonymous GETs (one and the list) are cacheable
 *    ("Cache-Control: public, max-age=60", the default), answers to a
 *    bearer token are "no-store", both vary on Authorization; ETag and
 *    If-None-Match give 304 without a body; HEAD is answered.
 * D. Inactive products are hidden (404, absent from lists) from anonymous
 *    and plain callers, and shown to callers with products:write.
 * E. PUT needs every writable member, PATCH a non-empty subset; If-Match
 *    that does not match is 412, a stale body version 409, and neither
 *    changes anything; success bumps version and ETag; sku stays unique.
 *    Unknown and malformed ids are 404.
 * F. DELETE takes products:delete (admin; 403 for the editor and a plain
 *    user, 401 anonymous); a deleted product is gone from GET and lists.
 * G. Lists: filters category, price_min, price_max, in_stock and q (% and
 *    _ literal), their bad values (400 naming the parameter), unknown and
 *    repeated parameters; sort by price_cents, name, created_at, stock;
 *    fields; offset pages with exact totals; cursor pages.
 *
 * Every product this suite lists has a category unique to this process
 * ("cat<pid>-..."), and every sku carries the pid, so products of other
 * suites or runs never disturb a count.  Fixture accounts are made once in
 * main() (registered over the API, given roles by SQL, then logged in).
 * Needs KEEL_TEST_URL and KEEL_TEST_PGURL (run.sh).
 */
#include "keel-build.h"

#include "../unit/unit.h"
#include "api.h"
#include "client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------ */

typedef enum caller { ANON, USER, EDITOR, ADMIN, NCALLERS } caller_t;

static const char *const caller_name[NCALLERS] = { "anon", "user", "editor",
                                                   "admin" };

/* fx[USER] (plain), fx[EDITOR] (products:write), fx[ADMIN]; fx[ANON] is
 * empty. */
static account_t fx[NCALLERS];

/* The bearer token of `who` (NULL for the anonymous caller). */
static const char *
tok(caller_t who)
{
    return who == ANON ? NULL : fx[who].p.access;
}

/* How many header lines named `name` the response has. */
static int
header_count(const http_resp_t *r, const char *name)
{
    size_t nlen = strlen(name);
    const char *p = r->headers;
    int n = 0;

    while (p && *p) {
        const char *eol = strstr(p, "\r\n");
        size_t llen = eol ? (size_t)(eol - p) : strlen(p);
        if (llen > nlen && strncasecmp(p, name, nlen) == 0 && p[nlen] == ':')
            n++;
        p = eol ? eol + 2 : NULL;
    }
    return n;
}

/* 1 when some Vary header of `r` names `field` (case-insensitive). */
static int
varies_on(const http_resp_t *r, const char *field)
{
    size_t flen = strlen(field);
    const char *p = r->headers;

    while (p && *p) {
        const char *eol = strstr(p, "\r\n");
        size_t llen = eol ? (size_t)(eol - p) : strlen(p);
        if (llen > 5 && strncasecmp(p, "Vary:", 5) == 0)
            for (const char *v = p + 5; v + flen <= p + llen; v++)
                if (strncasecmp(v, field, flen) == 0)
                    return 1;
        p = eol ? eol + 2 : NULL;
    }
    return 0;
}

/* A category unique to this process: "cat<pid>-<what>". */
static const char *
cat_of(const char *what, char *out, size_t len)
{
    snprintf(out, len, "cat%ld-%s", (long)getpid(), what);
    return out;
}

/* A sku unique to this process and call: "p<pid>-<n>-<what>". */
static const char *
sku_of(const char *what, char *out, size_t len)
{
    snprintf(out, len, "p%ld-%d-%s", (long)getpid(), api_serial(), what);
    return out;
}

/* A product body; NULL description leaves it out, as do stock < 0 and
 * active < 0. */
static void
product_body(char *out, size_t len, const char *sku, const char *name,
             const char *category, long price, const char *currency, long stock,
             int active, const char *description)
{
    size_t o = (size_t)snprintf(out, len,
                                "{\"sku\":\"%s\",\"name\":\"%s\","
                                "\"category\":\"%s\",\"price_cents\":%ld,"
                                "\"currency\":\"%s\"",
                                sku, name, category, price, currency);

    if (description != NULL)
        o += (size_t)snprintf(out + o, len - o, ",\"description\":\"%s\"",
                              description);
    if (stock >= 0)
        o += (size_t)snprintf(out + o, len - o, ",\"stock\":%ld", stock);
    if (active >= 0)
        o += (size_t)snprintf(out + o, len - o, ",\"active\":%s",
                              active ? "true" : "false");
    snprintf(out + o, len - o, "}");
}

/* POST `body` to /v1/products as `who`: the status; the new id into `id`
 * (empty unless 201). */
static long
create(caller_t who, const char *body, char id[37])
{
    return create_at("/v1/products", tok(who), body, id);
}

/* A product made by the editor: its id into `id`; 0, or -1. */
static int
mkproduct(const char *name, const char *category, long price, long stock,
          int active, char id[37])
{
    char body[1024], sku[96];

    sku_of("mk", sku, sizeof(sku));
    product_body(body, sizeof(body), sku, name, category, price, "USD", stock,
                 active, NULL);
    return create(EDITOR, body, id) == 201 ? 0 : -1;
}

/* GET /v1/products/{id} as `who`. */
static long
get_product(caller_t who, const char *id, http_resp_t *r)
{
    return get_one("/v1/products", id, tok(who), r);
}

/* A change of product `id` by `who`: the status. */
static long
change(const char *method, caller_t who, const char *id, const char *body)
{
    return change_one(method, "/v1/products", id, tok(who), body);
}

/* The version of product `id` as the admin (-1 when not found). */
static int
version_of(const char *id)
{
    http_resp_t r;
    int v = -1;

    if (get_product(ADMIN, id, &r) == 200)
        v = json_object_get_int(json_path(r.json, "data.version"));
    resp_free(&r);
    return v;
}

/* GET `path` as `who`: a 200 whose data is exactly `want` (any order). */
static void
assert_lists(caller_t who, const char *path, const char *const *want, int n)
{
    assert_list(caller_name[who], tok(who), path, want, n);
}

/* ---- A: creating -------------------------------------------------------- */

static const char *const product_keys[] = {
    "id",       "sku",   "name",   "description", "category",   "price_cents",
    "currency", "stock", "active", "created_at",  "updated_at", "version",
};
#define NKEYS (sizeof(product_keys) / sizeof(product_keys[0]))

/* `p` has exactly the fields of API.md 5.3, well formed. */
static void
assert_product_shape(json_object *p)
{
    assert_exact_members(p, product_keys, NKEYS, "product");
    CU_ASSERT_EQUAL(strlen(nz(json_path_str(p, "id"))), 36);
    CU_ASSERT_PTR_NOT_NULL(json_path_str(p, "sku"));
    CU_ASSERT_PTR_NOT_NULL(json_path_str(p, "name"));
    CU_ASSERT_PTR_NOT_NULL(json_path_str(p, "description"));
    CU_ASSERT_PTR_NOT_NULL(json_path_str(p, "category"));
    CU_ASSERT_PTR_NOT_NULL(json_path_str(p, "currency"));
    CU_ASSERT_TRUE(
        json_object_is_type(json_path(p, "price_cents"), json_type_int));
    CU_ASSERT_TRUE(json_object_is_type(json_path(p, "stock"), json_type_int));
    CU_ASSERT_TRUE(
        json_object_is_type(json_path(p, "active"), json_type_boolean));
    CU_ASSERT_TRUE(json_object_is_type(json_path(p, "version"), json_type_int));
    CU_ASSERT_TRUE(is_instant(json_path_str(p, "created_at")));
    CU_ASSERT_TRUE(is_instant(json_path_str(p, "updated_at")));
}

static void
test_create_gives_the_whole_product(void)
{
    char body[1024], sku[96], cat[64], path[128], id[37], id2[37];
    http_resp_t r;

    cat_of("create", cat, sizeof(cat));
    sku_of("full", sku, sizeof(sku));
    /* Every member given, by the editor. */
    product_body(body, sizeof(body), sku, "Full Product", cat, 1999, "EUR", 12,
                 1, "A fine thing");
    call("POST", "/v1/products", tok(EDITOR), body, &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 201);
    assert_product_shape(json_path(r.json, "data"));
    snprintf(id, sizeof(id), "%s", nz(json_path_str(r.json, "data.id")));
    assert_created(&r, "/v1/products", path, sizeof(path));
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.sku")), sku);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.name")),
                           "Full Product");
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.description")),
                           "A fine thing");
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.category")), cat);
    CU_ASSERT_EQUAL(json_object_get_int(json_path(r.json, "data.price_cents")),
                    1999);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.currency")), "EUR");
    CU_ASSERT_EQUAL(json_object_get_int(json_path(r.json, "data.stock")), 12);
    CU_ASSERT_TRUE(json_object_get_boolean(json_path(r.json, "data.active")));
    CU_ASSERT_EQUAL(json_object_get_int(json_path(r.json, "data.version")), 1);
    /* The Location reads back the same product, anonymously, same ETag. */
    assert_reads_back(path, NULL, &r);
    resp_free(&r);
    /* Only the required members, by the admin: the defaults. */
    sku_of("min", sku, sizeof(sku));
    product_body(body, sizeof(body), sku, "Minimal", cat, 0, "USD", -1, -1,
                 NULL);
    call("POST", "/v1/products", tok(ADMIN), body, &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 201);
    assert_product_shape(json_path(r.json, "data"));
    snprintf(id2, sizeof(id2), "%s", nz(json_path_str(r.json, "data.id")));
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.description")), "");
    CU_ASSERT_EQUAL(json_object_get_int(json_path(r.json, "data.stock")), 0);
    CU_ASSERT_TRUE(json_object_is_type(json_path(r.json, "data.active"),
                                       json_type_boolean));
    CU_ASSERT_TRUE(json_object_get_boolean(json_path(r.json, "data.active")));
    CU_ASSERT_EQUAL(json_object_get_int(json_path(r.json, "data.price_cents")),
                    0);
    assert_version(&r, 1);
    resp_free(&r);
    /* Anonymous: 401 with the Bearer challenge; a plain user: 403. */
    sku_of("nobody", sku, sizeof(sku));
    product_body(body, sizeof(body), sku, "Nobody's", cat, 1, "USD", 1, 1,
                 NULL);
    assert_challenged("POST", "/v1/products", body);
    assert_refused("POST", "/v1/products", tok(USER), body, 403, "FORBIDDEN");
    /* Neither made anything: the category holds the two. */
    snprintf(path, sizeof(path), "/v1/products?category=%s", cat);
    {
        const char *want[2] = { id, id2 };
        assert_lists(ANON, path, want, 2);
        assert_lists(ADMIN, path, want, 2);
    }
    /* Not JSON by its content type: 415. */
    call_typed("POST", "/v1/products", tok(EDITOR), "text/plain", body, &r);
    assert_envelope(&r, 415, "UNSUPPORTED_MEDIA_TYPE");
    resp_free(&r);
    /* Trailing slashes are another path. */
    assert_refused("GET", "/v1/products/", NULL, NULL, 404, "NOT_FOUND");
}

/* ---- B: the bounds ------------------------------------------------------ */

/*
 * A valid create body (fresh sku, category cat<pid>-bounds) with member
 * `member` set to the JSON text `value`, or left out when `value` is NULL.
 * The caller frees it.
 */
static char *
body_with(const char *member, const char *value)
{
    char sku[96], cat[64];
    json_object *o = json_object_new_object();
    char *out;

    sku_of("b", sku, sizeof(sku));
    json_object_object_add(o, "sku", json_object_new_string(sku));
    json_object_object_add(o, "name", json_object_new_string("Bounded"));
    json_object_object_add(
        o, "category",
        json_object_new_string(cat_of("bounds", cat, sizeof(cat))));
    json_object_object_add(o, "price_cents", json_object_new_int(100));
    json_object_object_add(o, "currency", json_object_new_string("USD"));
    if (member != NULL) {
        json_object_object_del(o, member);
        if (value != NULL) {
            json_object *v = json_tokener_parse(value);
            /* json-c parses "null" to NULL, which adds a JSON null. */
            CU_ASSERT_TRUE(v != NULL || strcmp(value, "null") == 0);
            json_object_object_add(o, member, v);
        }
    }
    out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    return out;
}

/* `s` as a JSON string text (no escaping needed in this suite). */
static char *
jstr(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(n + 3);

    out[0] = '"';
    memcpy(out + 1, s, n);
    out[n + 1] = '"';
    out[n + 2] = '\0';
    return out;
}

/* `c` repeated n times, as a JSON string text. */
static char *
jrep(char c, size_t n)
{
    char *out = malloc(n + 3);

    out[0] = '"';
    memset(out + 1, c, n);
    out[n + 1] = '"';
    out[n + 2] = '\0';
    return out;
}

/* POST with `member` = `value`: a 400 naming `field`. */
static void
refused(const char *member, const char *value, const char *field)
{
    char *body = body_with(member, value);
    http_resp_t r;

    call("POST", "/v1/products", tok(EDITOR), body, &r);
    assert_invalid(&r, field);
    if (r.status != 400 || !has_detail(&r, field))
        fprintf(stderr, "    (POST %.160s)\n", body);
    resp_free(&r);
    free(body);
}

/* POST with `member` = `value`: a 201; the created product into *r. */
static void
accepted(const char *member, const char *value, http_resp_t *r)
{
    char *body = body_with(member, value);

    call("POST", "/v1/products", tok(EDITOR), body, r);
    CU_ASSERT_EQUAL(r->status, 201);
    if (r->status != 201)
        fprintf(stderr, "\n    expected 201 for %.160s: %ld %.300s\n", body,
                r->status, r->body);
    free(body);
}

/* accepted(), the response dropped. */
static void
accepted_(const char *member, const char *value)
{
    http_resp_t r;

    accepted(member, value, &r);
    resp_free(&r);
}

static void
test_create_enforces_every_bound(void)
{
    char sku[96], *v;
    http_resp_t r;

    /* sku: required, 1-64 of [A-Za-z0-9_-], a string */
    refused("sku", NULL, "sku");
    refused("sku", "\"\"", "sku");
    refused("sku", "\"a b\"", "sku");
    refused("sku", "\"a.b\"", "sku");
    refused("sku", "\"caf\xc3\xa9\"", "sku");
    refused("sku", "42", "sku");
    refused("sku", "null", "sku");
    snprintf(sku, sizeof(sku), "p%ld-%d-", (long)getpid(), api_serial());
    {
        char s65[70];
        size_t n = strlen(sku);
        memcpy(s65, sku, n);
        memset(s65 + n, 'Z', 65 - n);
        s65[65] = '\0';
        v = jstr(s65);
        refused("sku", v, "sku");
        free(v);
        s65[64] = '\0';
        v = jstr(s65);
        accepted("sku", v, &r);
        CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.sku")), s65);
        resp_free(&r);
        free(v);
    }
    snprintf(sku, sizeof(sku), "\"p%ld-%d-Mixed_Case-09\"", (long)getpid(),
             api_serial());
    accepted_("sku", sku);
    /* name: required, 1-200 characters after trimming, a string */
    refused("name", NULL, "name");
    refused("name", "\"\"", "name");
    refused("name", "\"   \"", "name");
    refused("name", "7", "name");
    refused("name", "null", "name");
    v = jrep('n', 201);
    refused("name", v, "name");
    free(v);
    v = jrep('n', 200);
    accepted_("name", v);
    free(v);
    {
        char padded[220];
        snprintf(padded, sizeof(padded), "\"  %0200d  \"", 0);
        accepted_("name", padded);
    }
    {
        /* 200 characters, not bytes: "é" is two bytes. */
        char t[512] = "\"";
        for (int i = 0; i < 200; i++)
            strcat(t, "\xc3\xa9");
        strcat(t, "\"");
        accepted_("name", t);
    }
    /* description: optional, a string of 0-10000 */
    v = jrep('d', 10001);
    refused("description", v, "description");
    free(v);
    v = jrep('d', 10000);
    accepted("description", v, &r);
    CU_ASSERT_EQUAL(strlen(nz(json_path_str(r.json, "data.description"))),
                    10000);
    resp_free(&r);
    free(v);
    accepted_("description", "\"\"");
    refused("description", "5", "description");
    /* category: required, 1-64 characters */
    refused("category", NULL, "category");
    refused("category", "\"\"", "category");
    refused("category", "9", "category");
    v = jrep('c', 65);
    refused("category", v, "category");
    free(v);
    v = jrep('c', 64);
    accepted_("category", v);
    free(v);
    /* price_cents: required, an integer 0-100000000 */
    refused("price_cents", NULL, "price_cents");
    refused("price_cents", "-1", "price_cents");
    refused("price_cents", "100000001", "price_cents");
    refused("price_cents", "1.5", "price_cents");
    refused("price_cents", "\"100\"", "price_cents");
    refused("price_cents", "null", "price_cents");
    accepted_("price_cents", "0");
    accepted("price_cents", "100000000", &r);
    CU_ASSERT_EQUAL(json_object_get_int(json_path(r.json, "data.price_cents")),
                    100000000);
    resp_free(&r);
    /* currency: required, three capital letters */
    refused("currency", NULL, "currency");
    refused("currency", "\"usd\"", "currency");
    refused("currency", "\"EURO\"", "currency");
    refused("currency", "\"US\"", "currency");
    refused("currency", "\"U1D\"", "currency");
    refused("currency", "\"\"", "currency");
    refused("currency", "840", "currency");
    accepted("currency", "\"GBP\"", &r);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.currency")), "GBP");
    resp_free(&r);
    /* stock: optional, an integer 0-2147483647 */
    refused("stock", "-1", "stock");
    refused("stock", "2147483648", "stock");
    refused("stock", "\"5\"", "stock");
    refused("stock", "1.5", "stock");
    accepted("stock", "2147483647", &r);
    CU_ASSERT_EQUAL(json_object_get_int64(json_path(r.json, "data.stock")),
                    2147483647);
    resp_free(&r);
    accepted_("stock", "0");
    /* active: optional, a boolean */
    refused("active", "\"yes\"", "active");
    refused("active", "1", "active");
    accepted("active", "false", &r);
    CU_ASSERT_TRUE(json_object_is_type(json_path(r.json, "data.active"),
                                       json_type_boolean));
    CU_ASSERT_FALSE(json_object_get_boolean(json_path(r.json, "data.active")));
    resp_free(&r);
    /* Unknown members, the read-only fields among them, are refused. */
    refused("nope", "1", "nope");
    refused("id", "\"" NOBODY_ID "\"", "id");
    refused("created_at", "\"2020-01-01T00:00:00.000Z\"", "created_at");
    refused("version", "1", "version");
    /* Not JSON, or not an object. */
    assert_refused("POST", "/v1/products", tok(EDITOR), "{\"sku\":", 400,
                   "BAD_REQUEST");
    assert_refused("POST", "/v1/products", tok(EDITOR), "[1]", 400,
                   "BAD_REQUEST");
}

static void
test_skus_are_unique_among_live_products(void)
{
    char sku[96], cat[64], body[1024], first[37], again[37], path[128];
    http_resp_t r;

    cat_of("sku", cat, sizeof(cat));
    sku_of("dup", sku, sizeof(sku));
    product_body(body, sizeof(body), sku, "First", cat, 100, "USD", 1, 1, NULL);
    CU_ASSERT_EQUAL_FATAL(create(EDITOR, body, first), 201);
    /* The same sku, other members: 409 naming sku, by anyone. */
    product_body(body, sizeof(body), sku, "Second", cat, 200, "EUR", 2, 0, "x");
    call("POST", "/v1/products", tok(EDITOR), body, &r);
    assert_envelope(&r, 409, "CONFLICT");
    CU_ASSERT_TRUE(has_detail(&r, "sku"));
    if (!has_detail(&r, "sku"))
        fprintf(stderr, "\n    no details entry for sku: %s\n", r.body);
    resp_free(&r);
    call("POST", "/v1/products", tok(ADMIN), body, &r);
    assert_envelope(&r, 409, "CONFLICT");
    CU_ASSERT_TRUE(has_detail(&r, "sku"));
    resp_free(&r);
    snprintf(path, sizeof(path), "/v1/products?category=%s", cat);
    {
        const char *want[1] = { first };
        assert_lists(ADMIN, path, want, 1);
    }
    /* Deleted, its sku is free again. */
    CU_ASSERT_EQUAL_FATAL(change("DELETE", ADMIN, first, NULL), 204);
    call("POST", "/v1/products", tok(EDITOR), body, &r);
    CU_ASSERT_EQUAL(r.status, 201);
    if (r.status != 201)
        fprintf(stderr, "\n    re-using a deleted sku: %ld %s\n", r.status,
                r.body);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.sku")), sku);
    snprintf(again, sizeof(again), "%s", nz(json_path_str(r.json, "data.id")));
    CU_ASSERT_STRING_NOT_EQUAL(again, first);
    resp_free(&r);
    /* And taken once more while that one lives. */
    assert_refused("POST", "/v1/products", tok(EDITOR), body, 409, "CONFLICT");
    {
        const char *want[1] = { again };
        assert_lists(ADMIN, path, want, 1);
    }
}

/* ---- C: public reads and caching ---------------------------------------- */

/* `r` is a 200 with the one Cache-Control `want` and Vary: Authorization. */
static void
assert_cache(const http_resp_t *r, const char *want, const char *what)
{
    char hv[256];
    int ok;

    CU_ASSERT_EQUAL(r->status, 200);
    ok = header_count(r, "Cache-Control") == 1 &&
         strcmp(nz(resp_header(r, "Cache-Control", hv, sizeof(hv))), want) == 0;
    CU_ASSERT_TRUE(ok);
    if (!ok)
        fprintf(stderr,
                "\n    %s: %d Cache-Control header(s), the first \"%s\", "
                "expected one \"%s\"\n",
                what, header_count(r, "Cache-Control"),
                nz(resp_header(r, "Cache-Control", hv, sizeof(hv))), want);
    CU_ASSERT_TRUE(varies_on(r, "Authorization"));
    if (!varies_on(r, "Authorization"))
        fprintf(stderr, "\n    %s: no Vary naming Authorization\n", what);
}

static void
test_reads_are_public_and_cacheable(void)
{
    char id[37], cat[64], path[128], list[160], hv[256], h[96];
    http_resp_t r;

    cat_of("cache", cat, sizeof(cat));
    CU_ASSERT_EQUAL_FATAL(mkproduct("Cached", cat, 500, 3, 1, id), 0);
    snprintf(path, sizeof(path), "/v1/products/%s", id);
    snprintf(list, sizeof(list), "/v1/products?category=%s", cat);
    /* Anonymous: public, with an ETag. */
    call("GET", path, NULL, NULL, &r);
    assert_cache(&r, "public, max-age=60", "anonymous GET one");
    CU_ASSERT_STRING_EQUAL(nz(resp_header(&r, "ETag", hv, sizeof(hv))),
                           "W/\"1\"");
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.id")), id);
    CU_ASSERT_STRING_EQUAL(
        nz(resp_header(&r, "X-Content-Type-Options", hv, sizeof(hv))),
        "nosniff");
    resp_free(&r);
    call("GET", list, NULL, NULL, &r);
    assert_cache(&r, "public, max-age=60", "anonymous GET list");
    CU_ASSERT_EQUAL(data_len(&r), 1);
    resp_free(&r);
    /* With a bearer token, whoever it is: no-store. */
    for (int w = USER; w < NCALLERS; w++) {
        char what[64];
        snprintf(what, sizeof(what), "GET one as %s", caller_name[w]);
        call("GET", path, tok((caller_t)w), NULL, &r);
        assert_cache(&r, "no-store", what);
        CU_ASSERT_STRING_EQUAL(nz(resp_header(&r, "ETag", hv, sizeof(hv))),
                               "W/\"1\"");
        resp_free(&r);
        snprintf(what, sizeof(what), "GET list as %s", caller_name[w]);
        call("GET", list, tok((caller_t)w), NULL, &r);
        assert_cache(&r, "no-store", what);
        CU_ASSERT_EQUAL(data_len(&r), 1);
        resp_free(&r);
    }
    /* HEAD is answered as GET is, without a body. */
    assert_bodiless("HEAD", path, NULL, NULL, 200, "W/\"1\"");
    /* If-None-Match: 304 without a body when it matches, else 200. */
    assert_bodiless("GET", path, NULL, "If-None-Match: W/\"1\"", 304,
                    "W/\"1\"");
    assert_bodiless("GET", path, tok(USER), "If-None-Match: W/\"1\"", 304,
                    NULL);
    call_h("GET", path, NULL, NULL, "If-None-Match: W/\"7\"", &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.id")), id);
    resp_free(&r);
    /* A change: the old ETag gives the new product. */
    CU_ASSERT_EQUAL(change("PATCH", EDITOR, id, "{\"stock\":4}"), 200);
    call_h("GET", path, NULL, NULL, "If-None-Match: W/\"1\"", &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_STRING_EQUAL(nz(resp_header(&r, "ETag", hv, sizeof(hv))),
                           "W/\"2\"");
    CU_ASSERT_EQUAL(json_object_get_int(json_path(r.json, "data.stock")), 4);
    resp_free(&r);
    snprintf(h, sizeof(h), "If-None-Match: W/\"2\"");
    call_h("GET", path, NULL, NULL, h, &r);
    CU_ASSERT_EQUAL(r.status, 304);
    resp_free(&r);
}

/* ---- D: inactive products ----------------------------------------------- */

static void
test_inactive_products_are_hidden_from_buyers(void)
{
    char on[37], off[37], cat[64], path[160];
    http_resp_t r;

    cat_of("vis", cat, sizeof(cat));
    CU_ASSERT_EQUAL_FATAL(mkproduct("Shown", cat, 100, 1, 1, on), 0);
    CU_ASSERT_EQUAL_FATAL(mkproduct("Hidden", cat, 100, 1, 0, off), 0);
    for (int w = 0; w < NCALLERS; w++) {
        long want = w == EDITOR || w == ADMIN ? 200 : 404;
        get_product((caller_t)w, off, &r);
        CU_ASSERT_EQUAL(r.status, want);
        if (r.status != want)
            fprintf(stderr, "\n    GET inactive as %s: %ld, not %ld\n",
                    caller_name[w], r.status, want);
        if (want == 404)
            assert_envelope(&r, 404, "NOT_FOUND");
        else
            CU_ASSERT_FALSE(
                json_object_get_boolean(json_path(r.json, "data.active")));
        resp_free(&r);
        get_product((caller_t)w, on, &r);
        CU_ASSERT_EQUAL(r.status, 200);
        resp_free(&r);
    }
    /* A conditional GET does not reveal it either. */
    {
        char p[128];
        snprintf(p, sizeof(p), "/v1/products/%s", off);
        assert_refused_h("GET", p, NULL, NULL, "If-None-Match: W/\"1\"", 404,
                         "NOT_FOUND");
    }
    snprintf(path, sizeof(path), "/v1/products?category=%s", cat);
    {
        const char *want[2] = { on, off };
        assert_lists(ANON, path, want, 1);
        assert_lists(USER, path, want, 1);
        assert_lists(EDITOR, path, want, 2);
        assert_lists(ADMIN, path, want, 2);
    }
    /* Deactivated by PATCH: gone for buyers; back when reactivated. */
    CU_ASSERT_EQUAL(change("PATCH", EDITOR, on, "{\"active\":false}"), 200);
    CU_ASSERT_EQUAL(get_product(ANON, on, &r), 404);
    resp_free(&r);
    CU_ASSERT_EQUAL(get_product(USER, on, &r), 404);
    resp_free(&r);
    assert_lists(ANON, path, NULL, 0);
    assert_lists(USER, path, NULL, 0);
    CU_ASSERT_EQUAL(change("PATCH", ADMIN, on, "{\"active\":true}"), 200);
    CU_ASSERT_EQUAL(get_product(ANON, on, &r), 200);
    resp_free(&r);
    {
        const char *want[1] = { on };
        assert_lists(ANON, path, want, 1);
    }
}

/* ---- E: PUT and PATCH -----------------------------------------------------
 */

static const char *const writable[] = { "sku",         "name",
                                        "description", "category",
                                        "price_cents", "currency",
                                        "stock",       "active" };
#define NWRITABLE (sizeof(writable) / sizeof(writable[0]))

/* A PUT body of every writable member but `omit` (NULL: all of them), with
 * sku `sku`, in category `cat`, and `extra` (JSON members, may be NULL)
 * appended.  The caller frees it. */
static char *
put_body(const char *omit, const char *sku, const char *cat, const char *extra)
{
    json_object *o = json_object_new_object();
    char *out;

    for (size_t i = 0; i < NWRITABLE; i++) {
        json_object *v;
        if (omit != NULL && strcmp(writable[i], omit) == 0)
            continue;
        switch (i) {
        case 0:
            v = json_object_new_string(sku);
            break;
        case 1:
            v = json_object_new_string("Replaced");
            break;
        case 2:
            v = json_object_new_string("All new");
            break;
        case 3:
            v = json_object_new_string(cat);
            break;
        case 4:
            v = json_object_new_int(4242);
            break;
        case 5:
            v = json_object_new_string("JPY");
            break;
        case 6:
            v = json_object_new_int(77);
            break;
        default:
            v = json_object_new_boolean(1);
            break;
        }
        json_object_object_add(o, writable[i], v);
    }
    if (extra != NULL) {
        json_object *e = json_tokener_parse(extra);
        json_object_object_foreach(e, k, val)
        {
            json_object_object_add(o, k, json_object_get(val));
        }
        json_object_put(e);
    }
    out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    return out;
}

static void
test_put_replaces_and_patch_changes_a_subset(void)
{
    char id[37], other[37], cat[64], path[128], sku[96], hv[64], created[64];
    char body[1024], osku[96];
    http_resp_t r;
    char *b;

    cat_of("put", cat, sizeof(cat));
    sku_of("orig", sku, sizeof(sku));
    product_body(body, sizeof(body), sku, "Original", cat, 100, "USD", 5, 1,
                 "Old text");
    CU_ASSERT_EQUAL_FATAL(create(EDITOR, body, id), 201);
    sku_of("other", osku, sizeof(osku));
    product_body(body, sizeof(body), osku, "Other", cat, 100, "USD", 5, 1,
                 NULL);
    CU_ASSERT_EQUAL_FATAL(create(EDITOR, body, other), 201);
    snprintf(path, sizeof(path), "/v1/products/%s", id);
    get_product(ADMIN, id, &r);
    snprintf(created, sizeof(created), "%s",
             nz(json_path_str(r.json, "data.created_at")));
    resp_free(&r);
    /* PUT without any one writable member: 400 naming it, no change. */
    sku_of("put", sku, sizeof(sku));
    for (size_t i = 0; i < NWRITABLE; i++) {
        b = put_body(writable[i], sku, cat, NULL);
        call("PUT", path, tok(EDITOR), b, &r);
        assert_invalid(&r, writable[i]);
        if (r.status != 400)
            fprintf(stderr, "    (PUT without %s)\n", writable[i]);
        resp_free(&r);
        free(b);
    }
    b = put_body(NULL, sku, cat, "{\"id\":\"" NOBODY_ID "\"}");
    assert_refused_invalid("PUT", path, tok(EDITOR), b, "id");
    free(b);
    b = put_body(NULL, sku, cat, "{\"stock\":-1}");
    assert_refused_invalid("PUT", path, tok(EDITOR), b, "stock");
    free(b);
    CU_ASSERT_EQUAL(version_of(id), 1);
    /* Another live product's sku: 409 naming sku. */
    b = put_body(NULL, osku, cat, NULL);
    call("PUT", path, tok(EDITOR), b, &r);
    assert_envelope(&r, 409, "CONFLICT");
    CU_ASSERT_TRUE(has_detail(&r, "sku"));
    resp_free(&r);
    free(b);
    CU_ASSERT_EQUAL(version_of(id), 1);
    /* The whole PUT: every member replaced, version 2. */
    b = put_body(NULL, sku, cat, NULL);
    call("PUT", path, tok(EDITOR), b, &r);
    free(b);
    CU_ASSERT_EQUAL_FATAL(r.status, 200);
    assert_product_shape(json_path(r.json, "data"));
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.id")), id);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.sku")), sku);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.name")), "Replaced");
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.description")),
                           "All new");
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.category")), cat);
    CU_ASSERT_EQUAL(json_object_get_int(json_path(r.json, "data.price_cents")),
                    4242);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.currency")), "JPY");
    CU_ASSERT_EQUAL(json_object_get_int(json_path(r.json, "data.stock")), 77);
    CU_ASSERT_TRUE(json_object_get_boolean(json_path(r.json, "data.active")));
    CU_ASSERT_EQUAL(json_object_get_int(json_path(r.json, "data.version")), 2);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.created_at")),
                           created);
    CU_ASSERT_STRING_EQUAL(nz(resp_header(&r, "ETag", hv, sizeof(hv))),
                           "W/\"2\"");
    resp_free(&r);
    /* PATCH: only the given members change. */
    call("PATCH", path, tok(ADMIN), "{\"stock\":5}", &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_EQUAL(json_object_get_int(json_path(r.json, "data.stock")), 5);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.name")), "Replaced");
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.sku")), sku);
    CU_ASSERT_EQUAL(json_object_get_int(json_path(r.json, "data.price_cents")),
                    4242);
    assert_version(&r, 3);
    resp_free(&r);
    call("PATCH", path, tok(EDITOR),
         "{\"price_cents\":250,\"currency\":\"EUR\",\"description\":\"\"}", &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_EQUAL(json_object_get_int(json_path(r.json, "data.price_cents")),
                    250);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.currency")), "EUR");
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.description")), "");
    CU_ASSERT_EQUAL(json_object_get_int(json_path(r.json, "data.stock")), 5);
    CU_ASSERT_EQUAL(json_object_get_int(json_path(r.json, "data.version")), 4);
    resp_free(&r);
    /* {} and bad members: 400, nothing changes. */
    static const bad_input_t bad[] = {
        { "{}", NULL },
        { "{\"version\":4}", NULL },
        { "{\"stock\":-1}", "stock" },
        { "{\"price_cents\":100000001}", "price_cents" },
        { "{\"currency\":\"usd\"}", "currency" },
        { "{\"currency\":\"EURO\"}", "currency" },
        { "{\"name\":\"\"}", "name" },
        { "{\"name\":null}", "name" },
        { "{\"sku\":\"a b\"}", "sku" },
        { "{\"category\":\"\"}", "category" },
        { "{\"active\":\"no\"}", "active" },
        { "{\"nope\":true}", "nope" },
        { "{\"id\":\"" NOBODY_ID "\"}", "id" },
    };
    assert_bad_bodies("PATCH", path, tok(EDITOR), bad,
                      sizeof(bad) / sizeof(bad[0]));
    {
        char sb[160];
        snprintf(sb, sizeof(sb), "{\"sku\":\"%s\"}", osku);
        call("PATCH", path, tok(EDITOR), sb, &r);
        assert_envelope(&r, 409, "CONFLICT");
        CU_ASSERT_TRUE(has_detail(&r, "sku"));
        resp_free(&r);
    }
    get_product(ADMIN, id, &r);
    CU_ASSERT_EQUAL(json_object_get_int(json_path(r.json, "data.version")), 4);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.sku")), sku);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.name")), "Replaced");
    CU_ASSERT_EQUAL(json_object_get_int(json_path(r.json, "data.stock")), 5);
    resp_free(&r);
    /* Who may write: 403 for a plain user, 401 anonymous. */
    b = put_body(NULL, sku, cat, NULL);
    assert_refused("PUT", path, tok(USER), b, 403, "FORBIDDEN");
    assert_refused("PUT", path, NULL, b, 401, "UNAUTHORIZED");
    assert_refused("PATCH", path, tok(USER), "{\"stock\":1}", 403, "FORBIDDEN");
    assert_refused("PATCH", path, NULL, "{\"stock\":1}", 401, "UNAUTHORIZED");
    CU_ASSERT_EQUAL(version_of(id), 4);
    /* Ids that are none: 404. */
    assert_refused("PUT", "/v1/products/" NOBODY_ID, tok(EDITOR), b, 404,
                   "NOT_FOUND");
    assert_refused("PATCH", "/v1/products/" NOBODY_ID, tok(EDITOR),
                   "{\"stock\":1}", 404, "NOT_FOUND");
    assert_refused("PATCH", "/v1/products/nope", tok(EDITOR), "{\"stock\":1}",
                   404, "NOT_FOUND");
    assert_refused("PUT", "/v1/products/123", tok(ADMIN), b, 404, "NOT_FOUND");
    free(b);
    static const char *const none[] = {
        ("/v1/products/" NOBODY_ID),
        "/v1/products/not-a-uuid",
        "/v1/products/00000000-0000-4000-8000-00000000000",
    };
    for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
        assert_refused("GET", none[i], NULL, NULL, 404, "NOT_FOUND");
        assert_refused("GET", none[i], tok(ADMIN), NULL, 404, "NOT_FOUND");
    }
}

static void
test_conditional_writes_and_versions(void)
{
    char id[37], cat[64], path[128], sku[96];
    http_resp_t r;
    char *b;

    cat_of("cond", cat, sizeof(cat));
    CU_ASSERT_EQUAL_FATAL(mkproduct("Conditional", cat, 100, 1, 1, id), 0);
    snprintf(path, sizeof(path), "/v1/products/%s", id);
    sku_of("cond", sku, sizeof(sku));
    /* If-Match that does not match: 412, nothing changes. */
    assert_refused_h("PATCH", path, tok(EDITOR), "{\"name\":\"Never\"}",
                     "If-Match: W/\"9\"", 412, "PRECONDITION_FAILED");
    b = put_body(NULL, sku, cat, NULL);
    assert_refused_h("PUT", path, tok(EDITOR), b, "If-Match: W/\"9\"", 412,
                     "PRECONDITION_FAILED");
    assert_refused_h("DELETE", path, tok(ADMIN), NULL, "If-Match: W/\"9\"", 412,
                     "PRECONDITION_FAILED");
    get_product(ADMIN, id, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_EQUAL(json_object_get_int(json_path(r.json, "data.version")), 1);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.name")),
                           "Conditional");
    resp_free(&r);
    /* The current ETag: the change, version + 1 and a new ETag. */
    call_h("PATCH", path, tok(EDITOR), "{\"name\":\"Second\"}",
           "If-Match: W/\"1\"", &r);
    CU_ASSERT_EQUAL(r.status, 200);
    assert_version(&r, 2);
    resp_free(&r);
    /* A stale body version: 409, nothing changes. */
    assert_refused("PATCH", path, tok(EDITOR),
                   "{\"name\":\"Stale\",\"version\":1}", 409,
                   "VERSION_CONFLICT");
    free(b);
    b = put_body(NULL, sku, cat, "{\"version\":1}");
    assert_refused("PUT", path, tok(EDITOR), b, 409, "VERSION_CONFLICT");
    free(b);
    assert_refused("PATCH", path, tok(EDITOR),
                   "{\"name\":\"Future\",\"version\":3}", 409,
                   "VERSION_CONFLICT");
    get_product(ADMIN, id, &r);
    CU_ASSERT_EQUAL(json_object_get_int(json_path(r.json, "data.version")), 2);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.name")), "Second");
    resp_free(&r);
    /* The current body version: accepted, by PATCH and by PUT. */
    call("PATCH", path, tok(EDITOR), "{\"name\":\"Third\",\"version\":2}", &r);
    CU_ASSERT_EQUAL(r.status, 200);
    assert_version(&r, 3);
    resp_free(&r);
    b = put_body(NULL, sku, cat, "{\"version\":3}");
    call("PUT", path, tok(ADMIN), b, &r);
    free(b);
    CU_ASSERT_EQUAL(r.status, 200);
    assert_version(&r, 4);
    CU_ASSERT_STRING_EQUAL(nz(json_path_str(r.json, "data.name")), "Replaced");
    resp_free(&r);
    /* A matching If-Match deletes. */
    assert_bodiless("DELETE", path, tok(ADMIN), "If-Match: W/\"4\"", 204, NULL);
}

/* ---- F: DELETE ------------------------------------------------------------
 */

static void
test_delete_takes_products_delete(void)
{
    char id[37], cat[64], path[128], list[160];
    http_resp_t r;

    cat_of("del", cat, sizeof(cat));
    CU_ASSERT_EQUAL_FATAL(mkproduct("Doomed", cat, 100, 1, 1, id), 0);
    snprintf(path, sizeof(path), "/v1/products/%s", id);
    snprintf(list, sizeof(list), "/v1/products?category=%s", cat);
    assert_refused("DELETE", path, NULL, NULL, 401, "UNAUTHORIZED");
    assert_refused("DELETE", path, tok(USER), NULL, 403, "FORBIDDEN");
    /* products:write is not products:delete. */
    assert_refused("DELETE", path, tok(EDITOR), NULL, 403, "FORBIDDEN");
    CU_ASSERT_EQUAL(get_product(ANON, id, &r), 200);
    resp_free(&r);
    {
        const char *want[1] = { id };
        assert_lists(ANON, list, want, 1);
    }
    assert_bodiless("DELETE", path, tok(ADMIN), NULL, 204, NULL);
    assert_refused("DELETE", path, tok(ADMIN), NULL, 404, "NOT_FOUND");
    for (int w = 0; w < NCALLERS; w++) {
        get_product((caller_t)w, id, &r);
        assert_envelope(&r, 404, "NOT_FOUND");
        resp_free(&r);
        assert_lists((caller_t)w, list, NULL, 0);
    }
    CU_ASSERT_EQUAL(change("PATCH", EDITOR, id, "{\"stock\":9}"), 404);
    CU_ASSERT_EQUAL(
        status_of("DELETE", "/v1/products/" NOBODY_ID, tok(ADMIN), NULL), 404);
    CU_ASSERT_EQUAL(status_of("DELETE", "/v1/products/nope", tok(ADMIN), NULL),
                    404);
}

/* ---- G: lists ----------------------------------------------------------- */

/* The filter products, made in this order (created_at ascending):
 *   name               price   stock
 *   Alpha Widget         100       0
 *   Beta 50% off         500      10
 *   Gamma_under         1000       3
 *   HotelXunder         2500       0
 * and one in category <cat>-o, which the category filter leaves out. */
enum { F_ALPHA, F_BETA, F_GAMMA, F_HOTEL, NF };
static char fid[NF][37], fother[37], fcat[64];
static const char *const fname[NF] = { "Alpha Widget", "Beta 50% off",
                                       "Gamma_under", "HotelXunder" };
static const long fprice[NF] = { 100, 500, 1000, 2500 };
static const long fstock[NF] = { 0, 10, 3, 0 };

static void
make_filter_products(void)
{
    char ocat[80];

    if (fid[0][0] != '\0')
        return;
    cat_of("list", fcat, sizeof(fcat));
    for (int i = 0; i < NF; i++) {
        CU_ASSERT_EQUAL(
            mkproduct(fname[i], fcat, fprice[i], fstock[i], 1, fid[i]), 0);
        usleep(5000);
    }
    snprintf(ocat, sizeof(ocat), "%s-o", fcat);
    CU_ASSERT_EQUAL(mkproduct("Alpha Other", ocat, 100, 1, 1, fother), 0);
}

/* GET /v1/products?category=<fcat>&<q> as `who`: exactly the products
 * `want` (indexes into fid, -1 terminated). */
static void
filter_gives_as(caller_t who, const char *q, const int *want)
{
    char prefix[128];

    snprintf(prefix, sizeof(prefix), "/v1/products?category=%s", fcat);
    assert_filtered(caller_name[who], tok(who), prefix, q, fid, want);
}

static void
filter_gives(const char *q, const int *want)
{
    filter_gives_as(ADMIN, q, want);
}

static void
test_lists_filter(void)
{
    char path[512], q[160];

    make_filter_products();
    CU_ASSERT_FATAL(fid[F_HOTEL][0] != '\0' && fother[0] != '\0');
    /* category: exact. */
    filter_gives("", (const int[]){ 0, 1, 2, 3, -1 });
    filter_gives_as(ANON, "", (const int[]){ 0, 1, 2, 3, -1 });
    snprintf(path, sizeof(path), "/v1/products?category=%s-o", fcat);
    {
        const char *want[1] = { fother };
        assert_lists(ANON, path, want, 1);
    }
    {
        char prefix[64];
        snprintf(prefix, sizeof(prefix), "%.*s", (int)strlen(fcat) - 1, fcat);
        snprintf(path, sizeof(path), "/v1/products?category=%s", prefix);
        assert_lists(ANON, path, NULL, 0);
    }
    /* price_min, price_max: inclusive. */
    filter_gives("price_min=500",
                 (const int[]){ F_BETA, F_GAMMA, F_HOTEL, -1 });
    filter_gives("price_min=501", (const int[]){ F_GAMMA, F_HOTEL, -1 });
    filter_gives("price_max=1000",
                 (const int[]){ F_ALPHA, F_BETA, F_GAMMA, -1 });
    filter_gives("price_max=999", (const int[]){ F_ALPHA, F_BETA, -1 });
    filter_gives("price_min=500&price_max=1000",
                 (const int[]){ F_BETA, F_GAMMA, -1 });
    filter_gives("price_min=1000&price_max=1000", (const int[]){ F_GAMMA, -1 });
    filter_gives("price_min=0&price_max=100000000",
                 (const int[]){ 0, 1, 2, 3, -1 });
    filter_gives("price_min=100000000", (const int[]){ -1 });
    /* in_stock */
    filter_gives("in_stock=true", (const int[]){ F_BETA, F_GAMMA, -1 });
    filter_gives("in_stock=false", (const int[]){ F_ALPHA, F_HOTEL, -1 });
    filter_gives("in_stock=true&price_min=600", (const int[]){ F_GAMMA, -1 });
    /* q: a case-insensitive substring of the name; % and _ are
     * themselves. */
    filter_gives("q=widget", (const int[]){ F_ALPHA, -1 });
    filter_gives("q=ALPHA", (const int[]){ F_ALPHA, -1 });
    filter_gives("q=50%25", (const int[]){ F_BETA, -1 });
    filter_gives("q=%25", (const int[]){ F_BETA, -1 });
    filter_gives("q=_", (const int[]){ F_GAMMA, -1 });
    filter_gives("q=a_u", (const int[]){ F_GAMMA, -1 });
    filter_gives("q=under", (const int[]){ F_GAMMA, F_HOTEL, -1 });
    filter_gives("q=xUNDER", (const int[]){ F_HOTEL, -1 });
    filter_gives("q=beta%2050", (const int[]){ F_BETA, -1 });
    filter_gives("q=%5C", (const int[]){ -1 });
    filter_gives("q=nothing-like-it", (const int[]){ -1 });
    filter_gives_as(ANON, "q=under&in_stock=false",
                    (const int[]){ F_HOTEL, -1 });
    /* Bad values: 400 naming the parameter. */
    static const bad_input_t bad[] = {
        { "price_min=x", "price_min" },
        { "price_max=x", "price_max" },
        { "price_min=-1", "price_min" },
        { "price_max=100000001", "price_max" },
        { "price_min=1.5", "price_min" },
        { "price_max=", "price_max" },
        { "in_stock=yes", "in_stock" },
        { "in_stock=1", "in_stock" },
        { "in_stock=TRUE", "in_stock" },
        { "in_stock=", "in_stock" },
        { "sort=sku", "sort" },
        { "sort=-nope", "sort" },
        { "sort=description", "sort" },
    };
    assert_bad_queries("/v1/products", NULL, bad, sizeof(bad) / sizeof(bad[0]));
    assert_bad_paging("/v1/products", NULL);
    /* Unknown and repeated parameters. */
    snprintf(q, sizeof(q), "/v1/products?category=%s&category=%s", fcat, fcat);
    const char *const bad400[] = {
        "/v1/products?nope=1",
        "/v1/products?tag=x",
        "/v1/products?status=draft",
        "/v1/products?name=x",
        "/v1/products?active=false",
        "/v1/products?price_min=1&price_min=2",
        "/v1/products?in_stock=true&in_stock=false",
        q,
    };
    assert_each_400(NULL, bad400, sizeof(bad400) / sizeof(bad400[0]));
}

/* GET the filter category anonymously with sort=`sort` (NULL: none): the
 * products in `order` (indexes into fid), in that order. */
static void
sorted(const char *sort, const int *order)
{
    char path[256];
    const char *o[NF];
    http_resp_t r;
    int ok;

    snprintf(path, sizeof(path), "/v1/products?category=%s%s%s", fcat,
             sort ? "&sort=" : "", nz(sort));
    for (int k = 0; k < NF; k++)
        o[k] = fid[order[k]];
    call("GET", path, NULL, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    ok = in_order(&r, o, NF);
    CU_ASSERT_TRUE(ok);
    if (!ok) {
        fprintf(stderr, "\n    wrong order for sort=%s:", nz(sort));
        for (int i = 0; i < data_len(&r); i++)
            fprintf(stderr, " \"%s\"", nz(json_path_str(item(&r, i), "name")));
        fprintf(stderr, "\n");
    }
    resp_free(&r);
}

/* GET with sort=`sort` (on stock): the stocks are in that order. */
static void
stock_sorted(const char *sort, int descending)
{
    char path[256];
    http_resp_t r;
    int ok = 1;

    snprintf(path, sizeof(path), "/v1/products?category=%s&sort=%s", fcat,
             sort);
    call("GET", path, NULL, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_EQUAL(data_len(&r), NF);
    for (int i = 1; i < data_len(&r); i++) {
        int a = json_object_get_int(json_path(item(&r, i - 1), "stock"));
        int b = json_object_get_int(json_path(item(&r, i), "stock"));
        if (descending ? a < b : a > b)
            ok = 0;
    }
    CU_ASSERT_TRUE(ok);
    if (!ok)
        fprintf(stderr, "\n    not sorted by %s: %.400s\n", sort, r.body);
    resp_free(&r);
}

static void
test_lists_sort_and_select_fields(void)
{
    char path[256];
    http_resp_t r;

    make_filter_products();
    CU_ASSERT_FATAL(fid[F_HOTEL][0] != '\0');
    /* The default, newest first; created_at. */
    sorted(NULL, (const int[]){ F_HOTEL, F_GAMMA, F_BETA, F_ALPHA });
    sorted("-created_at", (const int[]){ F_HOTEL, F_GAMMA, F_BETA, F_ALPHA });
    sorted("created_at", (const int[]){ F_ALPHA, F_BETA, F_GAMMA, F_HOTEL });
    sorted("%2Bcreated_at", (const int[]){ F_ALPHA, F_BETA, F_GAMMA, F_HOTEL });
    /* price_cents, name. */
    sorted("price_cents", (const int[]){ F_ALPHA, F_BETA, F_GAMMA, F_HOTEL });
    sorted("%2Bprice_cents",
           (const int[]){ F_ALPHA, F_BETA, F_GAMMA, F_HOTEL });
    sorted("-price_cents", (const int[]){ F_HOTEL, F_GAMMA, F_BETA, F_ALPHA });
    sorted("name", (const int[]){ F_ALPHA, F_BETA, F_GAMMA, F_HOTEL });
    sorted("-name", (const int[]){ F_HOTEL, F_GAMMA, F_BETA, F_ALPHA });
    /* stock: 10, 3 and two 0s (their order is the id tie-break). */
    stock_sorted("stock", 0);
    stock_sorted("%2Bstock", 0);
    stock_sorted("-stock", 1);
    sorted("-stock,price_cents",
           (const int[]){ F_BETA, F_GAMMA, F_ALPHA, F_HOTEL });
    sorted("stock,-price_cents",
           (const int[]){ F_HOTEL, F_ALPHA, F_GAMMA, F_BETA });
    /* fields: exactly the selected keys, id always. */
    snprintf(path, sizeof(path), "/v1/products?category=%s&fields=id,sku",
             fcat);
    assert_ids_and(path, NULL, NF, "sku");
    snprintf(path, sizeof(path),
             "/v1/products?category=%s&fields=price_cents,active", fcat);
    call("GET", path, tok(EDITOR), NULL, &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 200);
    assert_each_selected(&r, 3);
    for (int i = 0; i < data_len(&r); i++) {
        json_object *p = item(&r, i);
        CU_ASSERT_TRUE(
            json_object_is_type(json_path(p, "price_cents"), json_type_int));
        CU_ASSERT_TRUE(
            json_object_is_type(json_path(p, "active"), json_type_boolean));
    }
    resp_free(&r);
    /* fields on one product. */
    assert_fields_of_one("/v1/products", fid[F_BETA], NULL, "name", 2, "name",
                         fname[F_BETA]);
}

static void
test_offset_and_cursor_pages(void)
{
    char path[512], next[4096] = "", cursor[2048], bad[2048], seen[16][37];
    int n = 0;
    http_resp_t r;

    make_filter_products();
    CU_ASSERT_FATAL(fid[F_HOTEL][0] != '\0');
    /* Offset pages of 3 by price: 3 then 1, exact totals. */
    snprintf(path, sizeof(path),
             "/v1/products?category=%s&limit=3&sort=price_cents", fcat);
    call("GET", path, NULL, NULL, &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 200);
    assert_page(&r, 3, 1, 3, NF, 1);
    CU_ASSERT_EQUAL(collect_ids(&r, seen, &n, 16), 0);
    CU_ASSERT_PTR_NOT_NULL(link_of(&r, "next", next, sizeof(next)));
    resp_free(&r);
    snprintf(path, sizeof(path),
             "/v1/products?category=%s&limit=3&sort=price_cents&page=2", fcat);
    call("GET", path, NULL, NULL, &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 200);
    assert_page(&r, 1, 2, PAGE_ANY, NF, 0);
    CU_ASSERT_EQUAL(collect_ids(&r, seen, &n, 16), 0);
    resp_free(&r);
    CU_ASSERT_EQUAL(n, NF);
    for (int i = 0; i < NF && n == NF; i++)
        CU_ASSERT_STRING_EQUAL(seen[i], fid[i]);
    /* The Link next is page 2. */
    if (next[0] != '\0') {
        call("GET", next, NULL, NULL, &r);
        CU_ASSERT_EQUAL(r.status, 200);
        assert_page(&r, 1, 2, PAGE_ANY, PAGE_ANY, PAGE_ANY);
        CU_ASSERT_STRING_EQUAL(item_id(&r, 0), fid[F_HOTEL]);
        resp_free(&r);
    }
    /* Past the end: empty, the total still exact. */
    snprintf(path, sizeof(path), "/v1/products?category=%s&limit=3&page=3",
             fcat);
    call("GET", path, NULL, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    assert_page(&r, 0, PAGE_ANY, PAGE_ANY, NF, PAGE_ANY);
    resp_free(&r);
    /* Cursor pages of 3 by price: 3 then 1, no totals. */
    n = 0;
    snprintf(path, sizeof(path),
             "/v1/products?category=%s&limit=3&sort=price_cents", fcat);
    get_cursor(NULL, path, "", &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 200);
    assert_page(&r, 3, PAGE_ABSENT, 3, PAGE_ABSENT, 1);
    CU_ASSERT_EQUAL(collect_ids(&r, seen, &n, 16), 0);
    next_cursor(&r, cursor, sizeof(cursor));
    resp_free(&r);
    CU_ASSERT_FATAL(cursor[0] != '\0');
    get_cursor(NULL, path, cursor, &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 200);
    assert_last_cursor_page(&r, 1);
    CU_ASSERT_EQUAL(collect_ids(&r, seen, &n, 16), 0);
    resp_free(&r);
    CU_ASSERT_EQUAL(n, NF);
    for (int i = 0; i < NF && n == NF; i++)
        CU_ASSERT_STRING_EQUAL(seen[i], fid[i]);
    /* A tampered cursor, or one of another sort: 400 naming cursor. */
    assert_bad_cursor(NULL, path, tampered(cursor, bad, sizeof(bad)));
    snprintf(path, sizeof(path), "/v1/products?category=%s&limit=3&sort=name",
             fcat);
    assert_bad_cursor(NULL, path, cursor);
}

static const unit_test_t tests[] = {
    { "create gives the whole product", test_create_gives_the_whole_product },
    { "create enforces every bound", test_create_enforces_every_bound },
    { "skus are unique among live products",
      test_skus_are_unique_among_live_products },
    { "reads are public and cacheable", test_reads_are_public_and_cacheable },
    { "inactive products are hidden from buyers",
      test_inactive_products_are_hidden_from_buyers },
    { "PUT replaces, PATCH changes a subset",
      test_put_replaces_and_patch_changes_a_subset },
    { "conditional writes and versions", test_conditional_writes_and_versions },
    { "DELETE takes products:delete", test_delete_takes_products_delete },
    { "lists filter", test_lists_filter },
    { "lists sort and select fields", test_lists_sort_and_select_fields },
    { "offset and cursor pages", test_offset_and_cursor_pages },
};

int
main(void)
{
    static const api_fixture_t fixtures[] = {
        { &fx[USER], "products-user", NULL },
        { &fx[EDITOR], "products-editor", "editor" },
        { &fx[ADMIN], "products-admin", "admin" },
    };

    return api_main("products", fixtures,
                    sizeof(fixtures) / sizeof(fixtures[0]), NULL,
                    UNIT_TESTS(tests));
}
