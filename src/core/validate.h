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
 * The messages of the validator (and of a refused unique or foreign key,
 * ctx_fail_db), one per kind of problem, so that an application speaks
 * its own API's language ("can't be blank") without another validator.
 * "{min}" and "{max}" stand for the bounds, "{list}" for the allowed
 * values or characters.
 */
enum valid_msg {
    VMSG_REQUIRED,     /* "is required" */
    VMSG_NULL,         /* "must not be null" */
    VMSG_UNKNOWN,      /* "is not a known field" */
    VMSG_NOT_OBJECT,   /* the body itself: "must be a JSON object" */
    VMSG_MIN_MEMBERS,  /* "must have at least {min} member(s)" */
    VMSG_TYPE_STRING,  /* "must be a string" */
    VMSG_TYPE_INTEGER, /* "must be an integer" */
    VMSG_TYPE_NUMBER,  /* "must be a number" */
    VMSG_TYPE_BOOLEAN, /* "must be a boolean" */
    VMSG_TYPE_OBJECT,  /* "must be an object" */
    VMSG_TYPE_ARRAY,   /* "must be an array" */
    VMSG_NUL,          /* "must not contain NUL characters" */
    /* A string with no characters (outer blanks left out under SCHEMA_TRIM)
     * where at least one is needed; no default: the length message. */
    VMSG_BLANK,
    VMSG_LEN_EXACT,   /* "must be exactly {min} characters" */
    VMSG_LEN_MAX,     /* "must be at most {max} characters" */
    VMSG_LEN_RANGE,   /* "must be {min} to {max} characters" */
    VMSG_ENUM,        /* "must be one of: {list}" */
    VMSG_CHARSET,     /* "may contain only [{list}]" */
    VMSG_EMAIL,       /* "must be a valid email address" */
    VMSG_UUID,        /* "must be a valid UUID" */
    VMSG_TIMESTAMP,   /* "must be an RFC 3339 timestamp" */
    VMSG_RANGE,       /* a number: "must be between {min} and {max}" */
    VMSG_ITEMS_MAX,   /* "must have at most {max} items" */
    VMSG_ITEMS_RANGE, /* "must have {min} to {max} items" */
    VMSG_REPEAT,      /* "must not repeat an earlier item" */
    VMSG_TAKEN,       /* unique violation: "is already taken" */
    VMSG_REFERENCE,   /* foreign key: "refers to something that ..." */
    VMSG__MAX
};

/* An application's messages: NULL entries keep keel's (API.md). */
typedef struct valid_messages {
    const char *msg[VMSG__MAX];
} valid_messages_t;

/* The message for `k` in `m` (NULL: keel's); NULL only for VMSG_BLANK
 * when neither has one. */
const char *valid_message(const valid_messages_t *m, enum valid_msg k);

/*
 * Check `value` against `schema`.  Appends problems to `details` (a json
 * array owned by the caller).  Returns KEEL_OK or KEEL_EINVAL.
 * validate_json_msgs words them with `m` (NULL: keel's messages).
 */
keel_rc validate_json(const schema_t *schema, json_object *value,
                      json_object *details);
keel_rc validate_json_msgs(const schema_t *schema, json_object *value,
                           json_object *details, const valid_messages_t *m);

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
