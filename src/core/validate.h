/*
 * validate.h - declarative schemas for JSON request bodies.
 *
 * A schema is a static table of members (STYLE.md rule 2).  validate_json()
 * checks a parsed body against it and appends one {"field", "message"}
 * entry per problem to a details array, with dotted paths for nested
 * members ("items.1.quantity").  Unknown members are always an error.
 *
 *   static const schema_prop_t post_props[] = {
 *       { .name = "title", .type = SCHEMA_STRING, .flags = SCHEMA_REQUIRED,
 *         .bounded = 1, .min = 1, .max = 200 },
 *   };
 *   static const schema_t post_schema = SCHEMA_OF(post_props);
 */
#ifndef KEEL_CORE_VALIDATE_H
#define KEEL_CORE_VALIDATE_H

#include "core/error.h"

#include <json-c/json.h>
#include <stddef.h>

enum schema_type {
    SCHEMA_STRING = 1,
    SCHEMA_INTEGER,
    SCHEMA_NUMBER,
    SCHEMA_BOOLEAN,
    SCHEMA_OBJECT,
    SCHEMA_ARRAY,
};

enum schema_format {
    FORMAT_NONE = 0,
    FORMAT_EMAIL,     /* addr-spec subset: local@dom.ain */
    FORMAT_UUID,      /* 8-4-4-4-12 hex */
    FORMAT_TIMESTAMP, /* RFC 3339 date-time */
};

/* At most this many details are reported for one body. */
#define VALIDATE_MAX_DETAILS 50

#define SCHEMA_REQUIRED 0x1u /* member must be present */
#define SCHEMA_NULLABLE 0x2u /* JSON null is accepted */
#define SCHEMA_TRIM     0x4u /* string length counted without outer spaces */
#define SCHEMA_UNIQUE   0x8u /* array items (or their unique_by) distinct */

typedef struct schema schema_t;

typedef struct schema_prop {
    const char *name;
    enum schema_type type;
    unsigned flags;
    int bounded;        /* min/max apply */
    long long min, max; /* string characters, integer value, array items */
    const char *const *enums; /* NULL-terminated allowed strings */
    enum schema_format format;
    const char *charset;    /* allowed ASCII characters, ranges as "a-z0-9-" */
    const schema_t *object; /* SCHEMA_OBJECT members */
    const struct schema_prop *items; /* SCHEMA_ARRAY item (name unused) */
    const char *unique_by;           /* object member compared by UNIQUE */
} schema_prop_t;

struct schema {
    const schema_prop_t *props;
    size_t nprops;
    size_t min_members; /* e.g. 1 for PATCH: {} is a validation error */
};

#define SCHEMA_OF(props)                                                       \
    {                                                                          \
        (props), sizeof(props) / sizeof((props)[0]), 0                         \
    }

/*
 * Check `value` against `schema`.  Appends problems to `details` (a json
 * array owned by the caller).  Returns KEEL_OK or KEEL_EINVAL.
 */
keel_rc validate_json(const schema_t *schema, json_object *value,
                      json_object *details);

/* The format checks, also used for query parameters and path ids. */
int valid_email(const char *s);
int valid_uuid(const char *s);
int valid_timestamp(const char *s);

/* The blanks SCHEMA_TRIM leaves out of a length: space, tab, CR, LF. */
int valid_blank(char c);

/* Number of UTF-8 code points in s[0..len) (input assumed valid UTF-8). */
size_t utf8_length(const char *s, size_t len);

/* Append {"field": field, "message": message} to `details`. */
void details_add(json_object *details, const char *field, const char *message);

#endif
