/* json.c - strict parsing and small accessors over json-c. */
#include "keel-build.h"

#include "core/json.h"

#include <string.h>

/*
 * RFC 8259 forbids raw control characters (U+0000..U+001F) inside strings;
 * json-c accepts them even in strict mode.  0 when there are none.
 */
static int
raw_control_in_string(const char *buf, size_t len)
{
    int in_string = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (!in_string) {
            if (c == '"')
                in_string = 1;
        } else if (c == '\\') {
            i++; /* skip the escaped character */
        } else if (c == '"') {
            in_string = 0;
        } else if (c < 0x20) {
            return 1;
        }
    }
    return 0;
}

keel_rc
json_parse_strict(const char *buf, size_t len, int max_depth, json_object **out,
                  const char **why)
{
    json_tokener *tok;
    json_object *o;
    enum json_tokener_error jerr;
    size_t end;

    *out = NULL;
    if (raw_control_in_string(buf, len)) {
        *why = "Request body is not well-formed JSON";
        return KEEL_EBADREQ;
    }
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
    json_tokener_free(tok);
    if (jerr == json_tokener_error_depth) {
        json_object_put(o);
        *why = "JSON nesting is too deep";
        return KEEL_EBADREQ;
    }
    if (o == NULL || jerr != json_tokener_success) {
        json_object_put(o);
        *why = "Request body is not well-formed JSON";
        return KEEL_EBADREQ;
    }
    for (; end < len; end++) {
        char c = buf[end];
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
            json_object_put(o);
            *why = "Request body is not well-formed JSON";
            return KEEL_EBADREQ;
        }
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
