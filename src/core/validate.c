/* validate.c - JSON body validation against declarative schemas. */
#include "keel-build.h"

#include "core/validate.h"

#include <stdio.h>
#include <string.h>

#define PATH_MAX_LEN 256

/* One validation: where problems go and how they are worded. */
typedef struct vstate {
    json_object *details;
    const valid_messages_t *m;
} vstate_t;

static void validate_value(const schema_prop_t *p, json_object *v,
                           const char *path, const vstate_t *st);
static void validate_object(const schema_t *s, json_object *o, const char *path,
                            const vstate_t *st);

/* keel's own wording (API.md), the default of every application. */
static const char *const keel_messages[VMSG__MAX] = {
    [VMSG_REQUIRED] = "is required",
    [VMSG_NULL] = "must not be null",
    [VMSG_UNKNOWN] = "is not a known field",
    [VMSG_NOT_OBJECT] = "must be a JSON object",
    [VMSG_MIN_MEMBERS] = "must have at least {min} member(s)",
    [VMSG_TYPE_STRING] = "must be a string",
    [VMSG_TYPE_INTEGER] = "must be an integer",
    [VMSG_TYPE_NUMBER] = "must be a number",
    [VMSG_TYPE_BOOLEAN] = "must be a boolean",
    [VMSG_TYPE_OBJECT] = "must be an object",
    [VMSG_TYPE_ARRAY] = "must be an array",
    [VMSG_NUL] = "must not contain NUL characters",
    [VMSG_BLANK] = NULL,
    [VMSG_LEN_EXACT] = "must be exactly {min} characters",
    [VMSG_LEN_MAX] = "must be at most {max} characters",
    [VMSG_LEN_RANGE] = "must be {min} to {max} characters",
    [VMSG_ENUM] = "must be one of: {list}",
    [VMSG_CHARSET] = "may contain only [{list}]",
    [VMSG_EMAIL] = "must be a valid email address",
    [VMSG_UUID] = "must be a valid UUID",
    [VMSG_TIMESTAMP] = "must be an RFC 3339 timestamp",
    [VMSG_RANGE] = "must be between {min} and {max}",
    [VMSG_ITEMS_MAX] = "must have at most {max} items",
    [VMSG_ITEMS_RANGE] = "must have {min} to {max} items",
    [VMSG_REPEAT] = "must not repeat an earlier item",
    [VMSG_TAKEN] = "is already taken",
    [VMSG_REFERENCE] =
        "refers to something that does not exist or is still in use",
};

const char *
valid_message(const valid_messages_t *m, enum valid_msg k)
{
    if ((int)k < 0 || k >= VMSG__MAX)
        return "is invalid";
    if (m != NULL && m->msg[k] != NULL)
        return m->msg[k];
    return keel_messages[k];
}

/*
 * Append the message `k` for `path`, its {min}, {max} and {list} filled
 * in (a template, not a printf format: an application's table is data).
 */
static void
say(const vstate_t *st, const char *path, enum valid_msg k, long long min,
    long long max, const char *list)
{
    const char *t = valid_message(st->m, k);
    char out[320];
    size_t o = 0;

    if (t == NULL)
        t = valid_message(NULL, VMSG_LEN_RANGE);
    while (*t != '\0' && o < sizeof(out) - 1) {
        char num[24];
        const char *sub = NULL;
        size_t skip = 0;
        if (strncmp(t, "{min}", 5) == 0) {
            snprintf(num, sizeof(num), "%lld", min);
            sub = num;
            skip = 5;
        } else if (strncmp(t, "{max}", 5) == 0) {
            snprintf(num, sizeof(num), "%lld", max);
            sub = num;
            skip = 5;
        } else if (strncmp(t, "{list}", 6) == 0) {
            sub = list ? list : "";
            skip = 6;
        }
        if (sub == NULL) {
            out[o++] = *t++;
            continue;
        }
        o += (size_t)snprintf(out + o, sizeof(out) - o, "%s", sub);
        if (o >= sizeof(out))
            o = sizeof(out) - 1;
        t += skip;
    }
    out[o] = '\0';
    details_add(st->details, path, out);
}

/* A message without numbers or list. */
static void
say0(const vstate_t *st, const char *path, enum valid_msg k)
{
    say(st, path, k, 0, 0, NULL);
}

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

static enum valid_msg
type_message(enum schema_type t)
{
    switch (t) {
    case SCHEMA_STRING:
        return VMSG_TYPE_STRING;
    case SCHEMA_INTEGER:
        return VMSG_TYPE_INTEGER;
    case SCHEMA_NUMBER:
        return VMSG_TYPE_NUMBER;
    case SCHEMA_BOOLEAN:
        return VMSG_TYPE_BOOLEAN;
    case SCHEMA_OBJECT:
        return VMSG_TYPE_OBJECT;
    case SCHEMA_ARRAY:
        return VMSG_TYPE_ARRAY;
    }
    return VMSG__MAX;
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

int
valid_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void
validate_string(const schema_prop_t *p, json_object *v, const char *path,
                const vstate_t *st)
{
    const char *s = json_object_get_string(v);
    size_t len = (size_t)json_object_get_string_len(v);
    size_t start = 0, end = len, chars;

    if (strlen(s) != len) {
        say0(st, path, VMSG_NUL);
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
        if (chars == 0 && valid_message(st->m, VMSG_BLANK) != NULL)
            say0(st, path, VMSG_BLANK);
        else if (p->min == p->max)
            say(st, path, VMSG_LEN_EXACT, p->min, p->max, NULL);
        else if (p->min <= 0)
            say(st, path, VMSG_LEN_MAX, p->min, p->max, NULL);
        else
            say(st, path, VMSG_LEN_RANGE, p->min, p->max, NULL);
        return;
    }
    if (p->enums != NULL) {
        char list[256] = "";
        size_t n = 0;
        for (const char *const *e = p->enums; *e; e++) {
            if (strcmp(*e, s) == 0)
                return;
            if (n < sizeof(list)) /* truncated lists stop growing */
                n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s",
                                      e == p->enums ? "" : ", ", *e);
        }
        say(st, path, VMSG_ENUM, 0, 0, list);
        return;
    }
    if (p->charset != NULL) {
        for (size_t i = 0; i < len; i++) {
            if (!in_charset(p->charset, (unsigned char)s[i])) {
                say(st, path, VMSG_CHARSET, 0, 0, p->charset);
                return;
            }
        }
    }
    switch (p->format) {
    case FORMAT_EMAIL:
        if (!valid_email(s))
            say0(st, path, VMSG_EMAIL);
        break;
    case FORMAT_UUID:
        if (!valid_uuid(s))
            say0(st, path, VMSG_UUID);
        break;
    case FORMAT_TIMESTAMP:
        if (!valid_timestamp(s))
            say0(st, path, VMSG_TIMESTAMP);
        break;
    case FORMAT_NONE:
        break;
    }
}

static void
validate_array(const schema_prop_t *p, json_object *v, const char *path,
               const vstate_t *st)
{
    size_t n = json_object_array_length(v);
    char ipath[PATH_MAX_LEN];

    if (p->bounded && ((long long)n < p->min || (long long)n > p->max)) {
        say(st, path, p->min <= 0 ? VMSG_ITEMS_MAX : VMSG_ITEMS_RANGE, p->min,
            p->max, NULL);
        return;
    }
    for (size_t i = 0; i < n && !details_full(st->details); i++) {
        json_object *item = json_object_array_get_idx(v, i);
        snprintf(ipath, sizeof(ipath), "%s.%zu", path, i);
        if (p->items != NULL)
            validate_value(p->items, item, ipath, st);
    }
    if (!(p->flags & SCHEMA_UNIQUE))
        return;
    /* The check is pairwise: bound its cost. */
    if (n > 1000) {
        say(st, path, VMSG_ITEMS_MAX, 0, 1000, NULL);
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
                say0(st, ipath, VMSG_REPEAT);
                return;
            }
        }
    }
}

static void
validate_value(const schema_prop_t *p, json_object *v, const char *path,
               const vstate_t *st)
{
    if (v == NULL) { /* json-c represents JSON null as NULL */
        if (!(p->flags & SCHEMA_NULLABLE))
            say0(st, path, VMSG_NULL);
        return;
    }
    if (!type_matches(p->type, v)) {
        if (type_message(p->type) == VMSG__MAX)
            details_add(st->details, path, "has the wrong type");
        else
            say0(st, path, type_message(p->type));
        return;
    }
    switch (p->type) {
    case SCHEMA_STRING:
        validate_string(p, v, path, st);
        break;
    case SCHEMA_INTEGER: {
        long long x = json_object_get_int64(v);
        if (p->bounded && (x < p->min || x > p->max))
            say(st, path, VMSG_RANGE, p->min, p->max, NULL);
        break;
    }
    case SCHEMA_NUMBER: {
        double x = json_object_get_double(v);
        if (p->bounded && (x < (double)p->min || x > (double)p->max))
            say(st, path, VMSG_RANGE, p->min, p->max, NULL);
        break;
    }
    case SCHEMA_BOOLEAN:
        break;
    case SCHEMA_OBJECT:
        if (p->object != NULL)
            validate_object(p->object, v, path, st);
        break;
    case SCHEMA_ARRAY:
        validate_array(p, v, path, st);
        break;
    }
}

static void
validate_object(const schema_t *s, json_object *o, const char *path,
                const vstate_t *st)
{
    char mpath[PATH_MAX_LEN];

    json_object_object_foreach(o, key, val)
    {
        const schema_prop_t *p = NULL;
        if (details_full(st->details))
            return;
        for (size_t i = 0; i < s->nprops; i++)
            if (strcmp(s->props[i].name, key) == 0)
                p = &s->props[i];
        snprintf(mpath, sizeof(mpath), "%s%s%s", path, *path ? "." : "", key);
        if (p == NULL)
            say0(st, mpath, VMSG_UNKNOWN);
        else
            validate_value(p, val, mpath, st);
    }
    for (size_t i = 0; i < s->nprops; i++) {
        if ((s->props[i].flags & SCHEMA_REQUIRED) &&
            !json_object_object_get_ex(o, s->props[i].name, NULL)) {
            snprintf(mpath, sizeof(mpath), "%s%s%s", path, *path ? "." : "",
                     s->props[i].name);
            say0(st, mpath, VMSG_REQUIRED);
        }
    }
    if ((size_t)json_object_object_length(o) < s->min_members)
        say(st, *path ? path : "body", VMSG_MIN_MEMBERS,
            (long long)s->min_members, 0, NULL);
}

keel_rc
validate_json_msgs(const schema_t *schema, json_object *value,
                   json_object *details, const valid_messages_t *m)
{
    size_t before = json_object_array_length(details);
    vstate_t st = { details, m };

    if (!json_object_is_type(value, json_type_object)) {
        say0(&st, "body", VMSG_NOT_OBJECT);
        return KEEL_EINVAL;
    }
    validate_object(schema, value, "", &st);
    return json_object_array_length(details) > before ? KEEL_EINVAL : KEEL_OK;
}

keel_rc
validate_json(const schema_t *schema, json_object *value, json_object *details)
{
    return validate_json_msgs(schema, value, details, NULL);
}
