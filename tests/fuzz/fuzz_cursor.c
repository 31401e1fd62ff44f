/*
 * fuzz_cursor.c - collection queries and their cursors, over the real
 * collection schemas (users, posts, products, orders, audit events, jobs).
 * The first byte picks the schema, the second the mode:
 *   even: the rest is a raw query string ("limit=5&sort=email&cursor=..."),
 *         parsed as the chain parses it;
 *   odd:  the rest is "sort\npayload": the payload is signed with the
 *         cursor key as collection.c signs it and sent as ?cursor= with
 *         that sort, so that decoding past the MAC runs.
 * A query that parses is turned into its SQL.
 */
#include "keel-build.h"

#include "fuzz.h"
#include "core/validate.h"
#include "http/collection.h"
#include "http/request.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#define MAX_SCHEMAS 32
/* collection.c's CURSOR_PAYLOAD_MAX and the label its MAC starts with. */
#define PAYLOAD_MAX  3000
#define CURSOR_LABEL "keel-cursor-v1\n"

static const coll_schema_t *schemas[MAX_SCHEMAS];
static size_t nschemas;

static void
setup(void)
{
    if (nschemas > 0)
        return;
    nschemas = FUZZ_ROUTE_MEMBERS(query, schemas, MAX_SCHEMAS);
    FUZZ_CHECK(nschemas > 0);
}

/* The cursor text for `payload`, in the arena. */
static const char *
cursor_for(arena_t *a, const char *payload, size_t n)
{
    unsigned char buf[sizeof(CURSOR_LABEL) - 1 + PAYLOAD_MAX], mac[32];
    unsigned int maclen = sizeof(mac);
    size_t cap = n * 4 / 3 + 64, o;
    char *t = arena_alloc(a, cap);

    memcpy(buf, CURSOR_LABEL, sizeof(CURSOR_LABEL) - 1);
    memcpy(buf + sizeof(CURSOR_LABEL) - 1, payload, n);
    HMAC(EVP_sha256(), FUZZ_CURSOR_SECRET, (int)strlen(FUZZ_CURSOR_SECRET), buf,
         sizeof(CURSOR_LABEL) - 1 + n, mac, &maclen);
    o = b64url_encode((const unsigned char *)payload, n, t, cap);
    t[o++] = '.';
    b64url_encode(mac, sizeof(mac), t + o, cap - o);
    return t;
}

static void
check_parsed(const coll_query_t *q)
{
    char *sql;
    const char *params[COLL_MAX_PARAMS];
    int np;

    FUZZ_CHECK(q->limit >= 1 && q->limit <= COLL_LIMIT_MAX);
    FUZZ_CHECK(q->nsort >= 1 && q->nsort <= COLL_MAX_SORT);
    if (q->after) {
        FUZZ_CHECK(valid_uuid(q->after_id));
        for (size_t i = 0; i < q->nsort; i++)
            FUZZ_CHECK(q->after_key[i] != NULL);
    }
    if (coll_sql(q, NULL, 0, &sql, params, &np) == KEEL_OK) {
        FUZZ_CHECK(np >= 0 && np <= COLL_MAX_PARAMS);
        free(sql);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const coll_schema_t *s;
    char *text, *nl;
    kv_t *kv, two[2];
    size_t n = 0;
    const char *why;
    json_object *details;
    coll_query_t q;
    arena_t a;

    setup();
    if (size < 2)
        return 0;
    s = schemas[data[0] % nschemas];
    text = fuzz_cstr(data + 2, size - 2);
    arena_init(&a);
    kv = two;
    if (data[1] % 2 == 0) {
        if (query_parse(&a, text, 64, &kv, &n, &why) != KEEL_OK)
            goto out;
    } else {
        nl = memchr(text, '\n', size - 2);
        if (nl == NULL || size - 2 - (size_t)(nl + 1 - text) > PAYLOAD_MAX)
            goto out;
        *nl = '\0';
        two[n].name = "cursor";
        two[n++].value =
            cursor_for(&a, nl + 1, size - 2 - (size_t)(nl + 1 - text));
        if (text[0] != '\0') {
            two[n].name = "sort";
            two[n++].value = text;
        }
    }
    details = json_object_new_array();
    if (coll_parse(s, kv, n, FUZZ_CURSOR_SECRET, &a, &q, details) == KEEL_OK) {
        FUZZ_CHECK(json_object_array_length(details) == 0);
        check_parsed(&q);
    } else {
        FUZZ_CHECK(json_object_array_length(details) > 0);
    }
    json_object_put(details);
out:
    arena_destroy(&a);
    free(text);
    return 0;
}
