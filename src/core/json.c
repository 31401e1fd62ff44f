/* json.c - strict parsing and small accessors over json-c. */
#include "keel-build.h"

#include "core/json.h"
#include "core/util.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char not_json[] = "Request body is not well-formed JSON";
static const char out_of_range[] =
    "A number in the request body is out of range";

static int
hex4(const char *p, const char *end, unsigned *cp)
{
    unsigned v = 0;

    if (end - p < 4)
        return -1;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *cp = v;
    return 0;
}

/* An integer literal (no fraction or exponent) that int64 cannot hold. */
static int
integer_overflows(const char *p, size_t n)
{
    char tmp[32];
    long long v;
    char *e;

    if (n >= sizeof(tmp))
        return 1;
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    errno = 0;
    v = strtoll(tmp, &e, 10);
    (void)v;
    return errno == ERANGE;
}

/*
 * A number token as RFC 8259 6 writes it: -?(0|[1-9][0-9]*)(.[0-9]+)?
 * ([eE][+-]?[0-9]+)?.  json-c's strict mode also takes "1.", "1.e5" and
 * "-01".
 */
static int
number_ok(const char *p, const char *end)
{
    const char *d;

    if (p < end && *p == '-')
        p++;
    if (p < end && *p == '0')
        p++;
    else if (p < end && *p >= '1' && *p <= '9')
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    else
        return 0;
    if (p < end && *p == '.') {
        for (d = ++p; p < end && *p >= '0' && *p <= '9'; p++)
            ;
        if (p == d)
            return 0;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        for (d = p; p < end && *p >= '0' && *p <= '9'; p++)
            ;
        if (p == d)
            return 0;
    }
    return p == end;
}

/*
 * What json-c lets through even in strict mode, found on the raw text:
 * raw control characters (U+0000..U+001F) inside strings, UTF-8 that is
 * not in shortest form (json-c's check takes "\xc0\xaf" for '/'), unpaired
 * UTF-16 surrogate escapes (json-c quietly turns them into U+FFFD), \u0000 in a
 * member name (json-c keys are C strings: "title\u0000x" would become
 * "title"), NaN and Infinity, numbers outside RFC 8259's grammar, and
 * integers that do not fit in int64 (json-c clamps them).  Counts member names
 * into *nkeys for the duplicate check.  NULL when none, else the client-safe
 * message.
 */
static const char *
lexical_check(const char *buf, size_t len, size_t *nkeys)
{
    const char *p = buf, *end = buf + len;

    *nkeys = 0;
    while (p < end) {
        unsigned char c = (unsigned char)*p;

        if (c == '"') {
            int has_nul = 0;
            const char *q, *s = p + 1;

            for (p++; p < end && *p != '"'; p++) {
                unsigned cp, lo;

                if ((unsigned char)*p < 0x20)
                    return not_json;
                if (*p != '\\')
                    continue;
                if (++p == end)
                    return not_json;
                if (*p != 'u')
                    continue;
                if (hex4(p + 1, end, &cp) != 0)
                    return not_json;
                p += 4;
                if (cp == 0)
                    has_nul = 1;
                if (cp >= 0xDC00 && cp <= 0xDFFF)
                    return not_json; /* a low surrogate alone */
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    if (end - p < 7 || p[1] != '\\' || p[2] != 'u' ||
                        hex4(p + 3, end, &lo) != 0 || lo < 0xDC00 ||
                        lo > 0xDFFF)
                        return not_json; /* a high surrogate alone */
                    p += 6;
                }
            }
            if (p == end || utf8_chars(s, (size_t)(p - s)) < 0)
                return not_json;
            p++; /* past the closing quote */
            for (q = p; q < end &&
                        (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r');
                 q++)
                ;
            if (q < end && *q == ':') {
                if (has_nul)
                    return not_json;
                (*nkeys)++;
            }
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            const char *s = p;
            int integer = 1;

            while (p < end &&
                   (*p == '-' || *p == '+' || *p == '.' || *p == 'e' ||
                    *p == 'E' || (*p >= '0' && *p <= '9'))) {
                if (*p == '.' || *p == 'e' || *p == 'E')
                    integer = 0;
                p++;
            }
            if (p < end && (*p == 'I' || *p == 'N'))
                return not_json; /* -Infinity, -NaN */
            if (!number_ok(s, p))
                return not_json;
            if (integer && integer_overflows(s, (size_t)(p - s)))
                return out_of_range;
        } else if (c == 'I' || c == 'N') {
            return not_json; /* Infinity, NaN: not JSON */
        } else {
            p++;
        }
    }
    return NULL;
}

/*
 * Walk the parsed tree: every double finite (1e400 parses as inf), and
 * the member names it holds counted, for the duplicate check.  Depth is
 * bounded by the tokener's max_depth.
 */
static const char *
tree_check(json_object *o, size_t *nkeys)
{
    const char *why = NULL;

    switch (json_object_get_type(o)) {
    case json_type_double:
        return isfinite(json_object_get_double(o)) ? NULL : out_of_range;
    case json_type_object: {
        json_object_object_foreach(o, k, v)
        {
            (void)k;
            (*nkeys)++;
            if ((why = tree_check(v, nkeys)) != NULL)
                return why;
        }
        return NULL;
    }
    case json_type_array:
        for (size_t i = 0, n = json_object_array_length(o); i < n; i++)
            if ((why = tree_check(json_object_array_get_idx(o, i), nkeys)) !=
                NULL)
                return why;
        return NULL;
    default:
        return NULL;
    }
}

keel_rc
json_parse_strict(const char *buf, size_t len, int max_depth, json_object **out,
                  const char **why)
{
    json_tokener *tok;
    json_object *o;
    enum json_tokener_error jerr;
    size_t end, keys_text = 0, keys_tree = 0;
    const char *bad;

    *out = NULL;
    if (len > (size_t)0x7fffffff) {
        *why = "Request body is too large to parse";
        return KEEL_EBADREQ;
    }
    tok = json_tokener_new_ex(max_depth);
    if (tok == NULL) {
        *why = "Request body could not be parsed";
        return KEEL_EINTERNAL;
    }
    json_tokener_set_flags(tok,
                           JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    o = json_tokener_parse_ex(tok, buf, (int)len);
    jerr = json_tokener_get_error(tok);
    end = json_tokener_get_parse_end(tok);
    if (o == NULL && jerr == json_tokener_continue && end == len) {
        /*
         * A value that ends the text without a byte after it ("5",
         * "true", "null") could still go on in a next chunk, so json-c
         * waits; its end-of-input mark is a NUL, handed over on its own.
         */
        o = json_tokener_parse_ex(tok, "", 1);
        jerr = json_tokener_get_error(tok);
    }
    json_tokener_free(tok);
    if (jerr == json_tokener_error_depth) {
        json_object_put(o);
        *why = "JSON nesting is too deep";
        return KEEL_EBADREQ;
    }
    /* Success with no object is the JSON text null. */
    if (jerr != json_tokener_success) {
        json_object_put(o);
        *why = not_json;
        return KEEL_EBADREQ;
    }
    for (; end < len; end++) {
        char c = buf[end];
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
            json_object_put(o);
            *why = not_json;
            return KEEL_EBADREQ;
        }
    }
    /* Syntactically JSON: now what json-c would have let slip. */
    if ((bad = lexical_check(buf, len, &keys_text)) != NULL ||
        (bad = tree_check(o, &keys_tree)) != NULL) {
        json_object_put(o);
        *why = bad;
        return KEEL_EBADREQ;
    }
    if (keys_tree != keys_text) {
        /* json-c keeps the last of repeated names; RFC 8259 leaves that
         * undefined, so one reader could see another value than the next
         * (a proxy, a log, keel).  Refuse. */
        json_object_put(o);
        *why = "A JSON object repeats a member name";
        return KEEL_EBADREQ;
    }
    *out = o;
    return KEEL_OK;
}

const char *
json_compact(json_object *o, size_t *len)
{
    size_t n = 0;
    const char *s = json_object_to_json_string_length(
        o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
    if (len)
        *len = n;
    return s;
}

const char *
json_get_string(json_object *o, const char *key)
{
    json_object *v;

    if (!json_object_object_get_ex(o, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}
