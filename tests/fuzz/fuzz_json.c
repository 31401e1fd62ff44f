/*
 * fuzz_json.c - the strict JSON parser and the validator over each request
 * body schema the API really uses (users, posts, products, orders, roles,
 * auth).  The first byte picks the schema, the rest is the body.  A body
 * that parses must serialize to text that parses again to the same text.
 */
#include "keel-build.h"

#include "fuzz.h"
#include "core/json.h"
#include "core/validate.h"

#define MAX_SCHEMAS 64

static const schema_t *schemas[MAX_SCHEMAS];
static size_t nschemas;
static int max_depth;

static void
setup(void)
{
    keel_config_t cfg;

    if (nschemas > 0)
        return;
    nschemas = FUZZ_ROUTE_MEMBERS(body, schemas, MAX_SCHEMAS);
    FUZZ_CHECK(nschemas > 0);
    config_defaults(&cfg);
    max_depth = cfg.max_json_depth;
    config_free(&cfg);
}

/*
 * RFC 8259's grammar, written out independently of json.c: whatever
 * json_parse_strict accepts must be a JSON text by it.  (It does not check
 * UTF-8 or keel's further refusals, which only ever narrow what passes.)
 */
typedef struct rfc {
    const char *p, *end;
} rfc_t;

static int rfc_value(rfc_t *r);

static int
rfc_peek(const rfc_t *r, char c)
{
    return r->p < r->end && *r->p == c;
}

static void
rfc_ws(rfc_t *r)
{
    while (r->p < r->end &&
           (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

static int
rfc_digits(rfc_t *r)
{
    const char *start = r->p;

    while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
        r->p++;
    return r->p > start;
}

static int
rfc_number(rfc_t *r)
{
    if (rfc_peek(r, '-'))
        r->p++;
    if (rfc_peek(r, '0'))
        r->p++;
    else if (!(r->p < r->end && *r->p >= '1' && *r->p <= '9') || !rfc_digits(r))
        return 0;
    if (rfc_peek(r, '.')) {
        r->p++;
        if (!rfc_digits(r))
            return 0;
    }
    if (rfc_peek(r, 'e') || rfc_peek(r, 'E')) {
        r->p++;
        if (rfc_peek(r, '+') || rfc_peek(r, '-'))
            r->p++;
        if (!rfc_digits(r))
            return 0;
    }
    return 1;
}

static int
rfc_string(rfc_t *r)
{
    if (!rfc_peek(r, '"'))
        return 0;
    for (r->p++; r->p < r->end;) {
        unsigned char c = (unsigned char)*r->p++;
        if (c == '"')
            return 1;
        if (c < 0x20)
            return 0;
        if (c != '\\')
            continue;
        if (r->p == r->end)
            return 0;
        c = (unsigned char)*r->p++;
        if (c == 'u') {
            for (int i = 0; i < 4; i++, r->p++)
                if (r->p == r->end ||
                    !strchr("0123456789abcdefABCDEF", *r->p) || *r->p == '\0')
                    return 0;
        } else if (c == '\0' || strchr("\"\\/bfnrt", c) == NULL) {
            return 0;
        }
    }
    return 0;
}

/* '{' or '[' then members or values separated by ',' then `close`. */
static int
rfc_container(rfc_t *r, int object, char close)
{
    r->p++;
    rfc_ws(r);
    if (rfc_peek(r, close)) {
        r->p++;
        return 1;
    }
    for (;;) {
        if (object) {
            if (!rfc_string(r))
                return 0;
            rfc_ws(r);
            if (!rfc_peek(r, ':'))
                return 0;
            r->p++;
            rfc_ws(r);
        }
        if (!rfc_value(r))
            return 0;
        rfc_ws(r);
        if (rfc_peek(r, close)) {
            r->p++;
            return 1;
        }
        if (!rfc_peek(r, ','))
            return 0;
        r->p++;
        rfc_ws(r);
    }
}

static int
rfc_literal(rfc_t *r, const char *word)
{
    size_t n = strlen(word);

    if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
        return 0;
    r->p += n;
    return 1;
}

static int
rfc_value(rfc_t *r)
{
    if (r->p == r->end)
        return 0;
    switch (*r->p) {
    case '{':
        return rfc_container(r, 1, '}');
    case '[':
        return rfc_container(r, 0, ']');
    case '"':
        return rfc_string(r);
    case 't':
        return rfc_literal(r, "true");
    case 'f':
        return rfc_literal(r, "false");
    case 'n':
        return rfc_literal(r, "null");
    default:
        return rfc_number(r);
    }
}

/* Is buf[0..len) one JSON text (RFC 8259 2: ws value ws)? */
static int
rfc_json(const char *buf, size_t len)
{
    rfc_t r = { buf, buf + len };

    rfc_ws(&r);
    if (!rfc_value(&r))
        return 0;
    rfc_ws(&r);
    return r.p == r.end;
}

static void
check_round_trip(json_object *o)
{
    size_t len, len2;
    const char *text = json_compact(o, &len), *why = NULL;
    char *copy = xmalloc(len + 1);
    json_object *again = NULL;

    memcpy(copy, text, len + 1);
    FUZZ_CHECK(json_parse_strict(copy, len, max_depth, &again, &why) ==
               KEEL_OK);
    text = json_compact(again, &len2);
    FUZZ_CHECK(len2 == len && memcmp(text, copy, len) == 0);
    json_object_put(again);
    free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const schema_t *schema;
    json_object *o = NULL, *details;
    const char *why = NULL;
    keel_rc rc;

    setup();
    if (size < 1)
        return 0;
    schema = schemas[data[0] % nschemas];
    rc = json_parse_strict((const char *)data + 1, size - 1, max_depth, &o,
                           &why);
    if (rc != KEEL_OK) {
        FUZZ_CHECK(rc == KEEL_EBADREQ && why != NULL && o == NULL);
        return 0;
    }
    FUZZ_CHECK(rfc_json((const char *)data + 1, size - 1));
    check_round_trip(o);
    /* The chain validates objects only (anything else is a 400 first). */
    if (!json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        return 0;
    }
    details = json_object_new_array();
    rc = validate_json(schema, o, details);
    FUZZ_CHECK((rc == KEEL_OK) == (json_object_array_length(details) == 0));
    FUZZ_CHECK(json_object_array_length(details) <= VALIDATE_MAX_DETAILS);
    json_object_put(details);
    json_object_put(o);
    return 0;
}
