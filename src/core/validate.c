/* validate.c - JSON body validation against declarative schemas. */
#include "keel-build.h"

#include "core/validate.h"

#include <stdio.h>
#include <string.h>

#define PATH_MAX_LEN 256

static void validate_value(const schema_prop_t *p, json_object *v,
                           const char *path, json_object *details);
static void validate_object(const schema_t *s, json_object *o, const char *path,
                            json_object *details);

static int
details_full(json_object *details)
{
    return json_object_array_length(details) >= VALIDATE_MAX_DETAILS;
}

void
details_add(json_object *details, const char *field, const char *message)
{
    json_object *d;

    /* Bounded: a body of 100 000 unknown members gets 50 lines, not 5 MB. */
    if (details_full(details))
        return;
    d = json_object_new_object();

    json_object_object_add(d, "field", json_object_new_string(field));
    json_object_object_add(d, "message", json_object_new_string(message));
    json_object_array_add(details, d);
}

size_t
utf8_length(const char *s, size_t len)
{
    size_t n = 0;

    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80)
            n++;
    return n;
}

static int
is_alnum(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9');
}

static int
is_hex(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
           (c >= 'A' && c <= 'F');
}

int
valid_email(const char *s)
{
    static const char local_extra[] = "!#$%&'*+/=?^_`{|}~.-";
    const char *at = strrchr(s, '@');
    const char *d, *label;
    size_t llen;

    if (at == NULL || strlen(s) > 254)
        return 0;
    llen = (size_t)(at - s);
    if (llen == 0 || llen > 64 || s[0] == '.' || at[-1] == '.')
        return 0;
    for (const char *p = s; p < at; p++) {
        if (!is_alnum((unsigned char)*p) && strchr(local_extra, *p) == NULL)
            return 0;
        if (*p == '.' && p[1] == '.')
            return 0;
    }
    /* Domain: two or more labels of [A-Za-z0-9-], no edge hyphens. */
    d = at + 1;
    label = d;
    int labels = 0;
    for (const char *p = d;; p++) {
        if (*p == '.' || *p == '\0') {
            size_t n = (size_t)(p - label);
            if (n == 0 || n > 63 || label[0] == '-' || p[-1] == '-')
                return 0;
            labels++;
            if (*p == '\0')
                break;
            label = p + 1;
        } else if (!is_alnum((unsigned char)*p) && *p != '-') {
            return 0;
        }
    }
    return labels >= 2;
}

int
valid_uuid(const char *s)
{
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return 0;
        } else if (!is_hex((unsigned char)s[i])) {
            return 0;
        }
    }
    return s[36] == '\0';
}

static int
digits(const char *s, int n)
{
    for (int i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static int
num(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

static int
leap_year(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int
valid_timestamp(const char *s)
{
    /* YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM) */
    static const int mdays[] = {
        31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
    };
    int mon, day;

    if (strlen(s) < 20 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) ||
        s[7] != '-' || !digits(s + 8, 2) || (s[10] != 'T' && s[10] != 't') ||
        !digits(s + 11, 2) || s[13] != ':' || !digits(s + 14, 2) ||
        s[16] != ':' || !digits(s + 17, 2))
        return 0;
    mon = num(s + 5, 2);
    day = num(s + 8, 2);
    /* Within what PostgreSQL's timestamptz takes: year 0001 on, offsets
     * up to 15:59 (a value it refuses must be a 400, never a 500). */
    if (num(s, 4) < 1 || mon < 1 || mon > 12 || day < 1 ||
        day > mdays[mon - 1] || num(s + 11, 2) > 23 || num(s + 14, 2) > 59 ||
        num(s + 17, 2) > 60)
        return 0;
    if (mon == 2 && day == 29 && !leap_year(num(s, 4)))
        return 0;
    s += 19;
    if (*s == '.') {
        int n = 0;
        for (s++; *s >= '0' && *s <= '9'; s++)
            n++;
        if (n == 0 || n > 9)
            return 0;
    }
    if ((*s == 'Z' || *s == 'z') && s[1] == '\0')
        return 1;
    if ((*s == '+' || *s == '-') && digits(s + 1, 2) && s[3] == ':' &&
        digits(s + 4, 2) && s[6] == '\0')
        return num(s + 1, 2) <= 15 && num(s + 4, 2) <= 59;
    return 0;
}

/* Is `c` in a class like "a-z0-9_-" (a '-' at either end is literal)? */
static int
in_charset(const char *set, unsigned char c)
{
    for (const char *p = set; *p; p++) {
        if (p[1] == '-' && p[2] != '\0') {
            if (c >= (unsigned char)p[0] && c <= (unsigned char)p[2])
                return 1;
            p += 2;
        } else if ((unsigned char)*p == c) {
            return 1;
        }
    }
    return 0;
}

static const char *
type_name(enum schema_type t)
{
    switch (t) {
    case SCHEMA_STRING:
        return "must be a string";
    case SCHEMA_INTEGER:
        return "must be an integer";
    case SCHEMA_NUMBER:
        return "must be a number";
    case SCHEMA_BOOLEAN:
        return "must be a boolean";
    case SCHEMA_OBJECT:
        return "must be an object";
    case SCHEMA_ARRAY:
        return "must be an array";
    }
    return "has the wrong type";
}

static int
type_matches(enum schema_type t, json_object *v)
{
    switch (t) {
    case SCHEMA_STRING:
        return json_object_is_type(v, json_type_string);
    case SCHEMA_INTEGER:
        return json_object_is_type(v, json_type_int);
    case SCHEMA_NUMBER:
        return json_object_is_type(v, json_type_int) ||
               json_object_is_type(v, json_type_double);
    case SCHEMA_BOOLEAN:
        return json_object_is_type(v, json_type_boolean);
    case SCHEMA_OBJECT:
        return json_object_is_type(v, json_type_object);
    case SCHEMA_ARRAY:
        return json_object_is_type(v, json_type_array);
    }
    return 0;
}

/* Add a detail with a formatted message (a macro keeps format checks). */
#define add(details, path, ...)                                                \
    do {                                                                       \
        char msg_[160];                                                        \
        snprintf(msg_, sizeof(msg_), __VA_ARGS__);                             \
        details_add((details), (path), msg_);                                  \
    } while (0)

int
valid_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void
validate_string(const schema_prop_t *p, json_object *v, const char *path,
                json_object *details)
{
    const char *s = json_object_get_string(v);
    size_t len = (size_t)json_object_get_string_len(v);
    size_t start = 0, end = len, chars;

    if (strlen(s) != len) {
        details_add(details, path, "must not contain NUL characters");
        return;
    }
    if (p->flags & SCHEMA_TRIM) {
        while (start < end && valid_blank(s[start]))
            start++;
        while (end > start && valid_blank(s[end - 1]))
            end--;
    }
    chars = utf8_length(s + start, end - start);
    if (p->bounded &&
        ((long long)chars < p->min || (long long)chars > p->max)) {
        if (p->min == p->max)
            add(details, path, "must be exactly %lld characters", p->min);
        else if (p->min <= 0)
            add(details, path, "must be at most %lld characters", p->max);
        else
            add(details, path, "must be %lld to %lld characters", p->min,
                p->max);
        return;
    }
    if (p->enums != NULL) {
        char msg[256] = "must be one of:";
        size_t n = strlen(msg);
        for (const char *const *e = p->enums; *e; e++) {
            if (strcmp(*e, s) == 0)
                return;
            if (n < sizeof(msg)) /* truncated lists stop growing */
                n += (size_t)snprintf(msg + n, sizeof(msg) - n, "%s %s",
                                      e == p->enums ? "" : ",", *e);
        }
        details_add(details, path, msg);
        return;
    }
    if (p->charset != NULL) {
        for (size_t i = 0; i < len; i++) {
            if (!in_charset(p->charset, (unsigned char)s[i])) {
                char msg[160];
                snprintf(msg, sizeof(msg), "may contain only [%s]", p->charset);
                details_add(details, path, msg);
                return;
            }
        }
    }
    switch (p->format) {
    case FORMAT_EMAIL:
        if (!valid_email(s))
            details_add(details, path, "must be a valid email address");
        break;
    case FORMAT_UUID:
        if (!valid_uuid(s))
            details_add(details, path, "must be a valid UUID");
        break;
    case FORMAT_TIMESTAMP:
        if (!valid_timestamp(s))
            details_add(details, path, "must be an RFC 3339 timestamp");
        break;
    case FORMAT_NONE:
        break;
    }
}

static void
validate_array(const schema_prop_t *p, json_object *v, const char *path,
               json_object *details)
{
    size_t n = json_object_array_length(v);
    char ipath[PATH_MAX_LEN];

    if (p->bounded && ((long long)n < p->min || (long long)n > p->max)) {
        if (p->min <= 0)
            add(details, path, "must have at most %lld items", p->max);
        else
            add(details, path, "must have %lld to %lld items", p->min, p->max);
        return;
    }
    for (size_t i = 0; i < n && !details_full(details); i++) {
        json_object *item = json_object_array_get_idx(v, i);
        snprintf(ipath, sizeof(ipath), "%s.%zu", path, i);
        if (p->items != NULL)
            validate_value(p->items, item, ipath, details);
    }
    if (!(p->flags & SCHEMA_UNIQUE))
        return;
    /* The check is pairwise: bound its cost. */
    if (n > 1000) {
        details_add(details, path, "must have at most 1000 items");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        json_object *a = json_object_array_get_idx(v, i);
        if (p->unique_by && !json_object_object_get_ex(a, p->unique_by, &a))
            continue;
        for (size_t j = 0; j < i; j++) {
            json_object *b = json_object_array_get_idx(v, j);
            if (p->unique_by && !json_object_object_get_ex(b, p->unique_by, &b))
                continue;
            if (json_object_equal(a, b)) {
                snprintf(ipath, sizeof(ipath), "%s.%zu%s%s", path, i,
                         p->unique_by ? "." : "",
                         p->unique_by ? p->unique_by : "");
                details_add(details, ipath, "must not repeat an earlier item");
                return;
            }
        }
    }
}

static void
validate_value(const schema_prop_t *p, json_object *v, const char *path,
               json_object *details)
{
    if (v == NULL) { /* json-c represents JSON null as NULL */
        if (!(p->flags & SCHEMA_NULLABLE))
            details_add(details, path, "must not be null");
        return;
    }
    if (!type_matches(p->type, v)) {
        details_add(details, path, type_name(p->type));
        return;
    }
    switch (p->type) {
    case SCHEMA_STRING:
        validate_string(p, v, path, details);
        break;
    case SCHEMA_INTEGER: {
        long long x = json_object_get_int64(v);
        if (p->bounded && (x < p->min || x > p->max))
            add(details, path, "must be between %lld and %lld", p->min, p->max);
        break;
    }
    case SCHEMA_NUMBER: {
        double x = json_object_get_double(v);
        if (p->bounded && (x < (double)p->min || x > (double)p->max))
            add(details, path, "must be between %lld and %lld", p->min, p->max);
        break;
    }
    case SCHEMA_BOOLEAN:
        break;
    case SCHEMA_OBJECT:
        if (p->object != NULL)
            validate_object(p->object, v, path, details);
        break;
    case SCHEMA_ARRAY:
        validate_array(p, v, path, details);
        break;
    }
}

static void
validate_object(const schema_t *s, json_object *o, const char *path,
                json_object *details)
{
    char mpath[PATH_MAX_LEN];

    json_object_object_foreach(o, key, val)
    {
        const schema_prop_t *p = NULL;
        if (details_full(details))
            return;
        for (size_t i = 0; i < s->nprops; i++)
            if (strcmp(s->props[i].name, key) == 0)
                p = &s->props[i];
        snprintf(mpath, sizeof(mpath), "%s%s%s", path, *path ? "." : "", key);
        if (p == NULL)
            details_add(details, mpath, "is not a known field");
        else
            validate_value(p, val, mpath, details);
    }
    for (size_t i = 0; i < s->nprops; i++) {
        if ((s->props[i].flags & SCHEMA_REQUIRED) &&
            !json_object_object_get_ex(o, s->props[i].name, NULL)) {
            snprintf(mpath, sizeof(mpath), "%s%s%s", path, *path ? "." : "",
                     s->props[i].name);
            details_add(details, mpath, "is required");
        }
    }
    if ((size_t)json_object_object_length(o) < s->min_members) {
        add(details, *path ? path : "body", "must have at least %lld member(s)",
            (long long)s->min_members);
    }
}

keel_rc
validate_json(const schema_t *schema, json_object *value, json_object *details)
{
    size_t before = json_object_array_length(details);

    if (!json_object_is_type(value, json_type_object)) {
        details_add(details, "body", "must be a JSON object");
        return KEEL_EINVAL;
    }
    validate_object(schema, value, "", details);
    return json_object_array_length(details) > before ? KEEL_EINVAL : KEEL_OK;
}
