/* test_validate.c - declarative schemas: required and unknown members,
 * types, null, lengths in characters, trimming, enums, charsets, formats,
 * ranges, array counts and uniqueness, dotted paths for nested members,
 * min_members, and the email, UUID and RFC 3339 checks on their own. */
#include "keel-build.h"

#include "unit.h"
#include "core/util.h"
#include "core/json.h"
#include "core/validate.h"

#include <string.h>

/* ---- schemas ----------------------------------------------------------- */

/* One member of each type, for the type checks. */
static const schema_prop_t kinds_props[] = {
    { .name = "s", .type = SCHEMA_STRING },
    { .name = "i", .type = SCHEMA_INTEGER },
    { .name = "n", .type = SCHEMA_NUMBER },
    { .name = "b", .type = SCHEMA_BOOLEAN },
    { .name = "a", .type = SCHEMA_ARRAY },
    { .name = "o", .type = SCHEMA_OBJECT },
    { .name = "ns", .type = SCHEMA_STRING, .flags = SCHEMA_NULLABLE },
};
static const schema_t kinds = SCHEMA_OF(kinds_props);

static const char *const status_values[] = { "draft", "published", NULL };

static const schema_prop_t tag_item = { .type = SCHEMA_STRING,
                                        .bounded = 1,
                                        .min = 1,
                                        .max = 32,
                                        .charset = "a-z0-9-" };

/* Like a post, with small bounds so the edges are easy to write. */
static const schema_prop_t post_props[] = {
    { .name = "title",
      .type = SCHEMA_STRING,
      .flags = SCHEMA_REQUIRED | SCHEMA_TRIM,
      .bounded = 1,
      .min = 1,
      .max = 5 },
    { .name = "body", .type = SCHEMA_STRING, .bounded = 1, .min = 0, .max = 5 },
    { .name = "code", .type = SCHEMA_STRING, .bounded = 1, .min = 2, .max = 2 },
    { .name = "status", .type = SCHEMA_STRING, .enums = status_values },
    { .name = "tags",
      .type = SCHEMA_ARRAY,
      .flags = SCHEMA_UNIQUE,
      .bounded = 1,
      .min = 0,
      .max = 3,
      .items = &tag_item },
    { .name = "published_at",
      .type = SCHEMA_STRING,
      .flags = SCHEMA_NULLABLE,
      .format = FORMAT_TIMESTAMP },
    { .name = "version",
      .type = SCHEMA_INTEGER,
      .bounded = 1,
      .min = 1,
      .max = 1000000 },
};
static const schema_t post = SCHEMA_OF(post_props);
/* PATCH: every member optional, but {} is an error. */
static const schema_prop_t patch_props[] = {
    { .name = "title",
      .type = SCHEMA_STRING,
      .flags = SCHEMA_TRIM,
      .bounded = 1,
      .min = 1,
      .max = 5 },
    { .name = "status", .type = SCHEMA_STRING, .enums = status_values },
};
static const schema_t post_patch = {
    patch_props, sizeof(patch_props) / sizeof(patch_props[0]), 1
};
static const schema_t post_patch_any = SCHEMA_OF(patch_props);

static const schema_prop_t line_props[] = {
    { .name = "product_id",
      .type = SCHEMA_STRING,
      .flags = SCHEMA_REQUIRED,
      .format = FORMAT_UUID },
    { .name = "quantity",
      .type = SCHEMA_INTEGER,
      .flags = SCHEMA_REQUIRED,
      .bounded = 1,
      .min = 1,
      .max = 100 },
};
static const schema_t line = SCHEMA_OF(line_props);
static const schema_prop_t line_item = { .type = SCHEMA_OBJECT,
                                         .object = &line };

static const schema_prop_t address_props[] = {
    { .name = "street",
      .type = SCHEMA_STRING,
      .flags = SCHEMA_REQUIRED,
      .bounded = 1,
      .min = 1,
      .max = 100 },
    { .name = "zip",
      .type = SCHEMA_STRING,
      .bounded = 1,
      .min = 5,
      .max = 5,
      .charset = "0-9" },
};
static const schema_t address = SCHEMA_OF(address_props);

static const schema_prop_t note_props[] = {
    { .name = "text", .type = SCHEMA_STRING },
};
/* A nested object that must not be empty. */
static const schema_t note = { note_props, 1, 1 };

static const schema_prop_t cell_item = { .type = SCHEMA_INTEGER };
static const schema_prop_t row_item = { .type = SCHEMA_ARRAY,
                                        .items = &cell_item };

static const schema_prop_t order_props[] = {
    { .name = "items",
      .type = SCHEMA_ARRAY,
      .flags = SCHEMA_REQUIRED | SCHEMA_UNIQUE,
      .bounded = 1,
      .min = 1,
      .max = 10,
      .items = &line_item,
      .unique_by = "product_id" },
    { .name = "shipping", .type = SCHEMA_OBJECT, .object = &address },
    { .name = "contact", .type = SCHEMA_STRING, .format = FORMAT_EMAIL },
    { .name = "price",
      .type = SCHEMA_NUMBER,
      .bounded = 1,
      .min = 0,
      .max = 1000 },
    { .name = "note", .type = SCHEMA_OBJECT, .object = &note },
    { .name = "grid", .type = SCHEMA_ARRAY, .items = &row_item },
};
static const schema_t order = SCHEMA_OF(order_props);

static const schema_prop_t charset_props[] = {
    { .name = "slug", .type = SCHEMA_STRING, .charset = "a-z0-9-" },
    { .name = "abc", .type = SCHEMA_STRING, .charset = "-a-c" },
    { .name = "upper", .type = SCHEMA_STRING, .charset = "A-Z_" },
};
static const schema_t charsets = SCHEMA_OF(charset_props);

#define U1 "123e4567-e89b-12d3-a456-426614174000"
#define U2 "9b2f4c1e-0d7a-4e8b-9c3f-5a6b7c8d9e0f"

/* ---- helpers ----------------------------------------------------------- */

/* Validate the JSON text; returns the details array (caller puts). */
static json_object *
check(const schema_t *s, const char *text, keel_rc *rc)
{
    json_object *v = json_tokener_parse(text);
    json_object *details = json_object_new_array();

    *rc = validate_json(s, v, details);
    json_object_put(v);
    return details;
}

static const char *
detail(json_object *details, size_t i, const char *key)
{
    json_object *d = json_object_array_get_idx(details, i);
    json_object *v;

    if (d == NULL || !json_object_object_get_ex(d, key, &v))
        return "(missing)";
    return json_object_get_string(v);
}

/* The body is valid: KEEL_OK and no details. */
#define ASSERT_VALID(schema, text)                                             \
    do {                                                                       \
        keel_rc rc_;                                                           \
        json_object *d_ = check((schema), (text), &rc_);                       \
        CU_ASSERT_EQUAL(rc_, KEEL_OK);                                         \
        CU_ASSERT_EQUAL(json_object_array_length(d_), 0);                      \
        if (json_object_array_length(d_) != 0)                                 \
            fprintf(stderr, "\n  %s: %s\n", (text),                            \
                    json_object_to_json_string(d_));                           \
        json_object_put(d_);                                                   \
    } while (0)

/* The body has exactly one problem: `field` with `message`. */
#define ASSERT_ONE(schema, text, field, message)                               \
    do {                                                                       \
        keel_rc rc_;                                                           \
        json_object *d_ = check((schema), (text), &rc_);                       \
        CU_ASSERT_EQUAL(rc_, KEEL_EINVAL);                                     \
        CU_ASSERT_EQUAL(json_object_array_length(d_), 1);                      \
        CU_ASSERT_STRING_EQUAL(detail(d_, 0, "field"), (field));               \
        CU_ASSERT_STRING_EQUAL(detail(d_, 0, "message"), (message));           \
        json_object_put(d_);                                                   \
    } while (0)

/* ---- members ----------------------------------------------------------- */

static void
test_valid_body_gives_ok_and_no_details(void)
{
    ASSERT_VALID(&post, "{\"title\":\"Hi\",\"body\":\"\",\"code\":\"ab\","
                        "\"status\":\"draft\",\"tags\":[\"c\",\"c-2\"],"
                        "\"published_at\":\"2026-01-15T10:30:00Z\","
                        "\"version\":1}");
    ASSERT_VALID(&post, "{\"title\":\"Hi\"}");
    ASSERT_VALID(&order, "{\"items\":[{\"product_id\":\"" U1 "\","
                         "\"quantity\":1}],\"shipping\":{\"street\":\"Main "
                         "St 1\",\"zip\":\"12345\"},\"contact\":\"a@b.co\","
                         "\"price\":9.5,\"note\":{\"text\":\"x\"},"
                         "\"grid\":[[1,2],[3]]}");
}

static void
test_valid_body_keeps_earlier_details_and_returns_ok(void)
{
    json_object *v = json_tokener_parse("{\"title\":\"Hi\"}");
    json_object *details = json_object_new_array();

    details_add(details, "sort", "is not a sortable field");
    CU_ASSERT_EQUAL(validate_json(&post, v, details), KEEL_OK);
    CU_ASSERT_EQUAL(json_object_array_length(details), 1);
    json_object_put(v);
    json_object_put(details);
}

static void
test_missing_required_member_is_reported(void)
{
    ASSERT_ONE(&post, "{}", "title", "is required");
    ASSERT_ONE(&post, "{\"body\":\"x\"}", "title", "is required");
    ASSERT_ONE(&order, "{}", "items", "is required");
}

static void
test_unknown_member_is_rejected(void)
{
    ASSERT_ONE(&post, "{\"title\":\"Hi\",\"author_id\":1}", "author_id",
               "is not a known field");
    /* Member names are matched exactly. */
    ASSERT_ONE(&post, "{\"title\":\"Hi\",\"Title\":\"x\"}", "Title",
               "is not a known field");
}

static void
test_body_that_is_not_an_object_is_rejected(void)
{
    ASSERT_ONE(&post, "[{\"title\":\"Hi\"}]", "body", "must be a JSON object");
    ASSERT_ONE(&post, "\"title\"", "body", "must be a JSON object");
    ASSERT_ONE(&post, "null", "body", "must be a JSON object");
}

/* ---- types and null ---------------------------------------------------- */

static void
test_integer_rejects_double_string_and_boolean(void)
{
    ASSERT_VALID(&kinds, "{\"i\":1}");
    ASSERT_VALID(&kinds, "{\"i\":-7}");
    ASSERT_ONE(&kinds, "{\"i\":1.0}", "i", "must be an integer");
    ASSERT_ONE(&kinds, "{\"i\":1.5}", "i", "must be an integer");
    ASSERT_ONE(&kinds, "{\"i\":\"1\"}", "i", "must be an integer");
    ASSERT_ONE(&kinds, "{\"i\":true}", "i", "must be an integer");
}

static void
test_number_accepts_integer_and_double_only(void)
{
    ASSERT_VALID(&kinds, "{\"n\":1}");
    ASSERT_VALID(&kinds, "{\"n\":1.5}");
    ASSERT_VALID(&kinds, "{\"n\":-2e3}");
    ASSERT_ONE(&kinds, "{\"n\":\"1.5\"}", "n", "must be a number");
    ASSERT_ONE(&kinds, "{\"n\":false}", "n", "must be a number");
}

static void
test_string_rejects_number_array_and_object(void)
{
    ASSERT_VALID(&kinds, "{\"s\":\"5\"}");
    ASSERT_ONE(&kinds, "{\"s\":5}", "s", "must be a string");
    ASSERT_ONE(&kinds, "{\"s\":[\"5\"]}", "s", "must be a string");
    ASSERT_ONE(&kinds, "{\"s\":{}}", "s", "must be a string");
}

static void
test_boolean_rejects_strings_and_numbers(void)
{
    ASSERT_VALID(&kinds, "{\"b\":true}");
    ASSERT_VALID(&kinds, "{\"b\":false}");
    ASSERT_ONE(&kinds, "{\"b\":\"true\"}", "b", "must be a boolean");
    ASSERT_ONE(&kinds, "{\"b\":1}", "b", "must be a boolean");
}

static void
test_array_and_object_are_not_interchangeable(void)
{
    ASSERT_VALID(&kinds, "{\"a\":[1,1,\"x\"],\"o\":{\"any\":1}}");
    ASSERT_ONE(&kinds, "{\"a\":{}}", "a", "must be an array");
    ASSERT_ONE(&kinds, "{\"a\":\"x\"}", "a", "must be an array");
    ASSERT_ONE(&kinds, "{\"o\":[]}", "o", "must be an object");
    ASSERT_ONE(&kinds, "{\"o\":\"x\"}", "o", "must be an object");
}

static void
test_null_is_rejected_unless_nullable(void)
{
    ASSERT_ONE(&kinds, "{\"s\":null}", "s", "must not be null");
    ASSERT_ONE(&kinds, "{\"i\":null}", "i", "must not be null");
    ASSERT_VALID(&kinds, "{\"ns\":null}");
    ASSERT_VALID(&post, "{\"title\":\"Hi\",\"published_at\":null}");
    /* A required member given as null is one problem, not two. */
    ASSERT_ONE(&post, "{\"title\":null}", "title", "must not be null");
    ASSERT_ONE(&post, "{\"title\":\"Hi\",\"tags\":[null]}", "tags.0",
               "must not be null");
}

/* ---- strings ----------------------------------------------------------- */

static void
test_string_length_counts_characters_not_bytes(void)
{
    ASSERT_VALID(&post, "{\"title\":\"h\xc3\xa9llo\"}"); /* 6 bytes */
    ASSERT_VALID(&post, "{\"title\":\"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"
                        "\xe3\x81\xa7\xe3\x81\x99\"}"); /* 15 bytes */
    ASSERT_VALID(&post, "{\"title\":\"\\ud83d\\ude00\\ud83d\\ude00"
                        "\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\"}");
    ASSERT_ONE(&post, "{\"title\":\"h\xc3\xa9llo!\"}", "title",
               "must be 1 to 5 characters");
    ASSERT_ONE(&post, "{\"title\":\"\"}", "title", "must be 1 to 5 characters");
}

static void
test_string_length_messages_name_the_bounds(void)
{
    ASSERT_ONE(&post, "{\"title\":\"Hi\",\"body\":\"123456\"}", "body",
               "must be at most 5 characters");
    ASSERT_ONE(&post, "{\"title\":\"Hi\",\"code\":\"abc\"}", "code",
               "must be exactly 2 characters");
    ASSERT_ONE(&post, "{\"title\":\"Hi\",\"code\":\"a\"}", "code",
               "must be exactly 2 characters");
}

static void
test_trim_ignores_outer_whitespace_in_length(void)
{
    ASSERT_VALID(&post, "{\"title\":\"   abc   \"}");
    ASSERT_VALID(&post, "{\"title\":\"\\t\\r\\n abc\\n\"}");
    /* Only blanks: empty after trimming. */
    ASSERT_ONE(&post, "{\"title\":\"   \"}", "title",
               "must be 1 to 5 characters");
    /* Inner spaces count. */
    ASSERT_ONE(&post, "{\"title\":\" a b c d \"}", "title",
               "must be 1 to 5 characters");
    /* Without SCHEMA_TRIM outer spaces count. */
    ASSERT_ONE(&post, "{\"title\":\"Hi\",\"body\":\"  abc  \"}", "body",
               "must be at most 5 characters");
}

static void
test_nul_inside_a_string_is_rejected(void)
{
    ASSERT_ONE(&post, "{\"title\":\"a\\u0000b\"}", "title",
               "must not contain NUL characters");
    ASSERT_ONE(&kinds, "{\"s\":\"\\u0000\"}", "s",
               "must not contain NUL characters");
}

static void
test_enum_accepts_only_listed_values(void)
{
    ASSERT_VALID(&post, "{\"title\":\"Hi\",\"status\":\"draft\"}");
    ASSERT_VALID(&post, "{\"title\":\"Hi\",\"status\":\"published\"}");
    ASSERT_ONE(&post, "{\"title\":\"Hi\",\"status\":\"archived\"}", "status",
               "must be one of: draft, published");
    ASSERT_ONE(&post, "{\"title\":\"Hi\",\"status\":\"Draft\"}", "status",
               "must be one of: draft, published");
    ASSERT_ONE(&post, "{\"title\":\"Hi\",\"status\":\"\"}", "status",
               "must be one of: draft, published");
}

static void
test_charset_ranges_and_literal_hyphen(void)
{
    ASSERT_VALID(&charsets, "{\"slug\":\"my-tag-2\"}");
    ASSERT_VALID(&charsets, "{\"slug\":\"-\"}");
    ASSERT_ONE(&charsets, "{\"slug\":\"My-tag\"}", "slug",
               "may contain only [a-z0-9-]");
    ASSERT_ONE(&charsets, "{\"slug\":\"tag_1\"}", "slug",
               "may contain only [a-z0-9-]");
    ASSERT_ONE(&charsets, "{\"slug\":\"tag 1\"}", "slug",
               "may contain only [a-z0-9-]");
    ASSERT_ONE(&charsets, "{\"slug\":\"t\xc3\xa9g\"}", "slug",
               "may contain only [a-z0-9-]");
    /* A leading '-' is literal too. */
    ASSERT_VALID(&charsets, "{\"abc\":\"-abc-\"}");
    ASSERT_ONE(&charsets, "{\"abc\":\"abcd\"}", "abc",
               "may contain only [-a-c]");
    /* A character after a range is a plain member. */
    ASSERT_VALID(&charsets, "{\"upper\":\"MAX_SIZE\"}");
    ASSERT_ONE(&charsets, "{\"upper\":\"MAX-SIZE\"}", "upper",
               "may contain only [A-Z_]");
}

static void
test_formats_report_their_own_message(void)
{
    ASSERT_ONE(&order,
               "{\"items\":[{\"product_id\":\"" U1 "\",\"quantity\":1}],"
               "\"contact\":\"a@b\"}",
               "contact", "must be a valid email address");
    ASSERT_ONE(&order, "{\"items\":[{\"product_id\":\"p-1\",\"quantity\":1}]}",
               "items.0.product_id", "must be a valid UUID");
    ASSERT_ONE(&post, "{\"title\":\"Hi\",\"published_at\":\"yesterday\"}",
               "published_at", "must be an RFC 3339 timestamp");
}

/* ---- numbers ----------------------------------------------------------- */

static void
test_integer_range_is_inclusive(void)
{
    ASSERT_VALID(&post, "{\"title\":\"Hi\",\"version\":1}");
    ASSERT_VALID(&post, "{\"title\":\"Hi\",\"version\":1000000}");
    ASSERT_ONE(&post, "{\"title\":\"Hi\",\"version\":0}", "version",
               "must be between 1 and 1000000");
    ASSERT_ONE(&post, "{\"title\":\"Hi\",\"version\":1000001}", "version",
               "must be between 1 and 1000000");
    ASSERT_ONE(&post, "{\"title\":\"Hi\",\"version\":-1}", "version",
               "must be between 1 and 1000000");
    ASSERT_ONE(&post, "{\"title\":\"Hi\",\"version\":9223372036854775807}",
               "version", "must be between 1 and 1000000");
}

static void
test_number_range_applies_to_fractions(void)
{
    const char *ok[] = { "0", "0.0", "999.99", "1000" };
    const char *bad[] = { "-0.01", "1000.5", "1e4" };
    char buf[160];

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        snprintf(buf, sizeof(buf),
                 "{\"items\":[{\"product_id\":\"" U1 "\",\"quantity\":1}],"
                 "\"price\":%s}",
                 ok[i]);
        ASSERT_VALID(&order, buf);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(buf, sizeof(buf),
                 "{\"items\":[{\"product_id\":\"" U1 "\",\"quantity\":1}],"
                 "\"price\":%s}",
                 bad[i]);
        ASSERT_ONE(&order, buf, "price", "must be between 0 and 1000");
    }
}

/* ---- arrays ------------------------------------------------------------ */

static void
test_array_item_count_is_bounded(void)
{
    ASSERT_VALID(&post, "{\"title\":\"Hi\",\"tags\":[]}");
    ASSERT_VALID(&post, "{\"title\":\"Hi\",\"tags\":[\"a\",\"b\",\"c\"]}");
    ASSERT_ONE(&post, "{\"title\":\"Hi\",\"tags\":[\"a\",\"b\",\"c\",\"d\"]}",
               "tags", "must have at most 3 items");
    ASSERT_ONE(&order, "{\"items\":[]}", "items", "must have 1 to 10 items");
}

static void
test_array_items_are_validated_with_index_paths(void)
{
    ASSERT_ONE(&post, "{\"title\":\"Hi\",\"tags\":[\"ok\",\"\"]}", "tags.1",
               "must be 1 to 32 characters");
    ASSERT_ONE(&post, "{\"title\":\"Hi\",\"tags\":[\"ok\",\"Not-Ok\"]}",
               "tags.1", "may contain only [a-z0-9-]");
    ASSERT_ONE(&post, "{\"title\":\"Hi\",\"tags\":[7]}", "tags.0",
               "must be a string");
}

static void
test_unique_rejects_a_repeated_item_once(void)
{
    ASSERT_ONE(&post, "{\"title\":\"Hi\",\"tags\":[\"a\",\"b\",\"a\"]}",
               "tags.2", "must not repeat an earlier item");
    /* Several repeats are one problem, at the first repeat. */
    ASSERT_ONE(&post, "{\"title\":\"Hi\",\"tags\":[\"a\",\"a\",\"a\"]}",
               "tags.1", "must not repeat an earlier item");
    /* Without SCHEMA_UNIQUE repeats are fine. */
    ASSERT_VALID(&kinds, "{\"a\":[1,1]}");
}

static void
test_unique_by_compares_only_that_member(void)
{
    ASSERT_VALID(&order, "{\"items\":[{\"product_id\":\"" U1 "\","
                         "\"quantity\":2},{\"product_id\":\"" U2 "\","
                         "\"quantity\":2}]}");
    ASSERT_ONE(&order,
               "{\"items\":[{\"product_id\":\"" U1 "\",\"quantity\":1},"
               "{\"product_id\":\"" U2 "\",\"quantity\":1},"
               "{\"product_id\":\"" U1 "\",\"quantity\":3}]}",
               "items.2.product_id", "must not repeat an earlier item");
}

/* ---- nesting ----------------------------------------------------------- */

static void
test_nested_problems_use_dotted_paths(void)
{
    ASSERT_ONE(&order,
               "{\"items\":[{\"product_id\":\"" U1 "\",\"quantity\":1},"
               "{\"product_id\":\"" U2 "\",\"quantity\":0}]}",
               "items.1.quantity", "must be between 1 and 100");
    ASSERT_ONE(&order, "{\"items\":[{\"quantity\":1}]}", "items.0.product_id",
               "is required");
    ASSERT_ONE(&order,
               "{\"items\":[{\"product_id\":\"" U1 "\",\"quantity\":1,"
               "\"colour\":\"red\"}]}",
               "items.0.colour", "is not a known field");
    ASSERT_ONE(&order, "{\"items\":[5]}", "items.0", "must be an object");
    ASSERT_ONE(&order,
               "{\"items\":[{\"product_id\":\"" U1 "\",\"quantity\":1}],"
               "\"shipping\":{\"zip\":\"12345\"}}",
               "shipping.street", "is required");
    ASSERT_ONE(&order,
               "{\"items\":[{\"product_id\":\"" U1 "\",\"quantity\":1}],"
               "\"shipping\":{\"street\":\"x\",\"zip\":\"1234\"}}",
               "shipping.zip", "must be exactly 5 characters");
    ASSERT_ONE(&order,
               "{\"items\":[{\"product_id\":\"" U1 "\",\"quantity\":1}],"
               "\"grid\":[[1],[\"x\"]]}",
               "grid.1.0", "must be an integer");
}

static void
test_min_members_rejects_an_empty_patch(void)
{
    ASSERT_ONE(&post_patch, "{}", "body", "must have at least 1 member(s)");
    ASSERT_VALID(&post_patch, "{\"status\":\"published\"}");
    ASSERT_ONE(&post_patch, "{\"status\":\"gone\"}", "status",
               "must be one of: draft, published");
    /* The same members without min_members accept {}. */
    ASSERT_VALID(&post_patch_any, "{}");
}

static void
test_min_members_on_a_nested_object_names_it(void)
{
    ASSERT_ONE(&order,
               "{\"items\":[{\"product_id\":\"" U1 "\",\"quantity\":1}],"
               "\"note\":{}}",
               "note", "must have at least 1 member(s)");
}

static void
test_several_problems_are_reported_at_once(void)
{
    keel_rc rc;
    json_object *d =
        check(&order,
              "{\"shipping\":{\"zip\":\"12a45\"},\"contact\":\"nope\","
              "\"x\":1}",
              &rc);

    CU_ASSERT_EQUAL(rc, KEEL_EINVAL);
    CU_ASSERT_EQUAL_FATAL(json_object_array_length(d), 5);
    CU_ASSERT_STRING_EQUAL(detail(d, 0, "field"), "shipping.zip");
    CU_ASSERT_STRING_EQUAL(detail(d, 0, "message"), "may contain only [0-9]");
    CU_ASSERT_STRING_EQUAL(detail(d, 1, "field"), "shipping.street");
    CU_ASSERT_STRING_EQUAL(detail(d, 1, "message"), "is required");
    CU_ASSERT_STRING_EQUAL(detail(d, 2, "field"), "contact");
    CU_ASSERT_STRING_EQUAL(detail(d, 2, "message"),
                           "must be a valid email address");
    CU_ASSERT_STRING_EQUAL(detail(d, 3, "field"), "x");
    CU_ASSERT_STRING_EQUAL(detail(d, 3, "message"), "is not a known field");
    CU_ASSERT_STRING_EQUAL(detail(d, 4, "field"), "items");
    CU_ASSERT_STRING_EQUAL(detail(d, 4, "message"), "is required");
    json_object_put(d);
}

static void
test_details_add_appends_field_and_message(void)
{
    json_object *d = json_object_new_array();
    json_object *e;

    details_add(d, "limit", "must be between 1 and 100");
    details_add(d, "sort", "is not a sortable field");
    CU_ASSERT_EQUAL_FATAL(json_object_array_length(d), 2);
    e = json_object_array_get_idx(d, 0);
    CU_ASSERT_EQUAL(json_object_object_length(e), 2);
    CU_ASSERT_STRING_EQUAL(detail(d, 0, "field"), "limit");
    CU_ASSERT_STRING_EQUAL(detail(d, 0, "message"),
                           "must be between 1 and 100");
    CU_ASSERT_STRING_EQUAL(detail(d, 1, "field"), "sort");
    json_object_put(d);
}

/* ---- format checks on their own ---------------------------------------- */

static void
test_email_accepts_common_addresses(void)
{
    CU_ASSERT_TRUE(valid_email("user@example.com"));
    CU_ASSERT_TRUE(valid_email("first.last+tag@sub.example.co"));
    CU_ASSERT_TRUE(valid_email("o'neil_x-y@ex-ample.org"));
    CU_ASSERT_TRUE(valid_email("A@B.CD"));
    CU_ASSERT_TRUE(valid_email("1@2.3"));
}

static void
test_email_rejects_malformed_addresses(void)
{
    const char *bad[] = {
        "",
        "user",
        "@example.com",
        "user@",
        "user@example",      /* no dot in the domain */
        ".user@example.com", /* leading dot */
        "user.@example.com", /* trailing dot in the local part */
        "us..er@example.com",
        "user@.example.com",
        "user@example..com",
        "user@example.com.",
        "user@-example.com", /* hyphen at a label's edge */
        "user@example-.com",
        "user@example.-com",
        "us er@example.com",
        "user@exa mple.com",
        "user@exam_ple.com",
        "a@b@example.com",
        "user@example.com\n",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CU_ASSERT_FALSE(valid_email(bad[i]));
        if (valid_email(bad[i]))
            fprintf(stderr, "\n  accepted: '%s'\n", bad[i]);
    }
}

static void
test_email_length_limits(void)
{
    char buf[300];
    char local65[66];

    /* 64 + 1 + 63 + 1 + 63 + 1 + 61 = 254 characters: the longest. */
    memset(buf, 0, sizeof(buf));
    memset(buf, 'a', 64);
    buf[64] = '@';
    memset(buf + 65, 'b', 63);
    buf[128] = '.';
    memset(buf + 129, 'c', 63);
    buf[192] = '.';
    memset(buf + 193, 'd', 61);
    CU_ASSERT_EQUAL_FATAL(strlen(buf), 254);
    CU_ASSERT_TRUE(valid_email(buf));
    buf[254] = 'd'; /* 255 */
    CU_ASSERT_FALSE(valid_email(buf));

    /* A local part over 64 characters. */
    memset(local65, 'a', 65);
    local65[65] = '\0';
    snprintf(buf, sizeof(buf), "%s@example.com", local65);
    CU_ASSERT_FALSE(valid_email(buf));
    /* A domain label over 63 characters. */
    memset(buf, 0, sizeof(buf));
    memcpy(buf, "u@", 2);
    memset(buf + 2, 'b', 64);
    memcpy(buf + 66, ".com", 4);
    CU_ASSERT_FALSE(valid_email(buf));
}

static void
test_uuid_accepts_8_4_4_4_12_hex(void)
{
    char gen[37];

    CU_ASSERT_TRUE(valid_uuid(U1));
    CU_ASSERT_TRUE(valid_uuid("123E4567-E89B-12D3-A456-426614174000"));
    CU_ASSERT_TRUE(valid_uuid("00000000-0000-0000-0000-000000000000"));
    uuid_v4(gen);
    CU_ASSERT_TRUE(valid_uuid(gen));
}

static void
test_uuid_rejects_other_shapes(void)
{
    CU_ASSERT_FALSE(valid_uuid(""));
    CU_ASSERT_FALSE(valid_uuid("123e4567-e89b-12d3-a456-42661417400"));
    CU_ASSERT_FALSE(valid_uuid("123e4567-e89b-12d3-a456-4266141740000"));
    CU_ASSERT_FALSE(valid_uuid("123e4567e89b12d3a456426614174000"));
    CU_ASSERT_FALSE(valid_uuid("123e4567-e89b-12d3-a456_426614174000"));
    CU_ASSERT_FALSE(valid_uuid("123e456-7e89b-12d3-a456-426614174000"));
    CU_ASSERT_FALSE(valid_uuid("g23e4567-e89b-12d3-a456-426614174000"));
    CU_ASSERT_FALSE(valid_uuid("{123e4567-e89b-12d3-a456-426614174000}"));
    CU_ASSERT_FALSE(valid_uuid(" 123e4567-e89b-12d3-a456-426614174000"));
}

static void
test_timestamp_accepts_rfc3339_forms(void)
{
    const char *good[] = {
        "2026-01-15T10:30:00Z",           "2026-01-15T10:30:00.123Z",
        "2026-01-15T10:30:00.123456789Z", "2026-01-15T10:30:00.1+02:00",
        "2026-01-15T10:30:00+02:00",      "2026-01-15T10:30:00-05:30",
        "2026-01-15T23:59:59+15:59",      "2026-01-15t10:30:00z",
        "0001-01-01T00:00:00Z", /* PostgreSQL's first year */
        "2026-12-31T23:59:60Z", /* leap second */
        "2024-02-29T00:00:00Z", /* leap year */
        "2000-02-29T00:00:00Z",           "2026-04-30T00:00:00Z",
        "2026-01-31T00:00:00Z",
    };

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        CU_ASSERT_TRUE(valid_timestamp(good[i]));
        if (!valid_timestamp(good[i]))
            fprintf(stderr, "\n  rejected: '%s'\n", good[i]);
    }
}

static void
test_timestamp_rejects_bad_fields_and_zones(void)
{
    const char *bad[] = {
        "",
        "2026-01-15",
        "2026-01-15T10:30Z",
        "2026-01-15T10:30:00",             /* no offset */
        "2026-01-15 10:30:00Z",            /* space is not accepted */
        "2026-00-15T10:30:00Z",            /* month 0 */
        "2026-13-15T10:30:00Z",            /* month 13 */
        "2026-01-00T10:30:00Z",            /* day 0 */
        "2026-01-32T10:30:00Z",            /* day 32 */
        "2026-04-31T10:30:00Z",            /* April has 30 days */
        "2026-01-15T24:00:00Z",            /* hour 24 */
        "2026-01-15T10:60:00Z",            /* minute 60 */
        "2026-01-15T10:30:61Z",            /* second 61 */
        "2026-01-15T10:30:00.Z",           /* empty fraction */
        "2026-01-15T10:30:00.1234567890Z", /* 10 digits */
        "2026-01-15T10:30:00+24:00",       /* offset hour */
        "2026-01-15T10:30:00+16:00",       /* beyond PostgreSQL's 15:59 */
        "2026-01-15T10:30:00-23:59",       /* RFC 3339, not PostgreSQL */
        "0000-01-01T00:00:00Z",            /* no year 0 in PostgreSQL */
        "2026-01-15T10:30:00+02:60",       /* offset minute */
        "2026-01-15T10:30:00+0200",        /* offset without colon */
        "2026-01-15T10:30:00+02",          /* offset without minutes */
        "2026-01-15T10:30:00ZZ",           /* trailing garbage */
        "2026-01-15T10:30:00Z ",           /* trailing space */
        "26-01-15T10:30:00Z",              /* two-digit year */
        "2026-1-15T10:30:00Z",             /* one-digit month */
        "2026/01/15T10:30:00Z",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CU_ASSERT_FALSE(valid_timestamp(bad[i]));
        if (valid_timestamp(bad[i]))
            fprintf(stderr, "\n  accepted: '%s'\n", bad[i]);
    }
}

static void
test_timestamp_rejects_february_29_outside_leap_years(void)
{
    /* RFC 3339 §5.7: the day of month depends on month and year. */
    CU_ASSERT_FALSE(valid_timestamp("2025-02-29T00:00:00Z"));
    CU_ASSERT_FALSE(valid_timestamp("1900-02-29T00:00:00Z"));
    CU_ASSERT_FALSE(valid_timestamp("2026-02-30T00:00:00Z"));
}

static void
test_utf8_length_counts_code_points(void)
{
    CU_ASSERT_EQUAL(utf8_length("", 0), 0);
    CU_ASSERT_EQUAL(utf8_length("abc", 3), 3);
    CU_ASSERT_EQUAL(utf8_length("h\xc3\xa9llo", 6), 5);
    CU_ASSERT_EQUAL(utf8_length("\xe6\x97\xa5\xe6\x9c\xac", 6), 2);
    CU_ASSERT_EQUAL(utf8_length("\xf0\x9f\x98\x80!", 5), 2);
    /* Only the first `len` bytes are counted. */
    CU_ASSERT_EQUAL(utf8_length("abcdef", 2), 2);
}

static void
test_details_are_capped(void)
{
    static const schema_prop_t one[] = {
        { .name = "a", .type = SCHEMA_STRING },
    };
    static const schema_t sch = SCHEMA_OF(one);
    json_object *body = json_object_new_object(), *details;
    char key[32];

    for (int i = 0; i < 500; i++) {
        snprintf(key, sizeof(key), "unknown%d", i);
        json_object_object_add(body, key, json_object_new_int(i));
    }
    details = json_object_new_array();
    CU_ASSERT_EQUAL(validate_json(&sch, body, details), KEEL_EINVAL);
    CU_ASSERT_EQUAL(json_object_array_length(details), VALIDATE_MAX_DETAILS);
    json_object_put(details);
    json_object_put(body);
}

static void
test_strict_parse_rejects_raw_control_characters(void)
{
    json_object *o = NULL;
    const char *why = NULL;

    CU_ASSERT_EQUAL(json_parse_strict("{\"a\":\"x\x01y\"}", 11, 32, &o, &why),
                    KEEL_EBADREQ);
    CU_ASSERT_PTR_NULL(o);
    CU_ASSERT_EQUAL(json_parse_strict("{\"a\":\"x\ty\"}", 11, 32, &o, &why),
                    KEEL_EBADREQ);
    /* Escaped forms are fine, and so is whitespace between tokens. */
    CU_ASSERT_EQUAL(
        json_parse_strict("{\n\t\"a\": \"x\\ty\\u0001\"}", 21, 32, &o, &why),
        KEEL_OK);
    CU_ASSERT_STRING_EQUAL(
        json_object_get_string(json_object_object_get(o, "a")), "x\ty\x01");
    json_object_put(o);
}

static void
assert_strict(const char *text, const char *want_why)
{
    json_object *o = NULL;
    const char *why = NULL;
    keel_rc rc = json_parse_strict(text, strlen(text), 32, &o, &why);

    if (want_why == NULL) {
        CU_ASSERT_EQUAL(rc, KEEL_OK);
        CU_ASSERT_PTR_NOT_NULL(o);
    } else {
        CU_ASSERT_EQUAL(rc, KEEL_EBADREQ);
        CU_ASSERT_PTR_NULL(o);
        CU_ASSERT_PTR_NOT_NULL_FATAL(why);
        CU_ASSERT_STRING_EQUAL(why, want_why);
        if (why != NULL && strcmp(why, want_why) != 0)
            fprintf(stderr, "%s: %s\n", text, why);
    }
    json_object_put(o);
}

#define NOT_JSON "Request body is not well-formed JSON"
#define RANGE    "A number in the request body is out of range"
#define REPEATED "A JSON object repeats a member name"

static void
test_strict_parse_rejects_numbers_out_of_range(void)
{
    assert_strict("{\"a\":9223372036854775807}", NULL);
    assert_strict("{\"a\":-9223372036854775808}", NULL);
    assert_strict("{\"a\":1e308,\"b\":-1.5e-3,\"c\":1e-400,\"d\":-0}", NULL);
    assert_strict("{\"a\":9223372036854775808}", RANGE);
    assert_strict("{\"a\":-9223372036854775809}", RANGE);
    assert_strict("{\"a\":18446744073709551616}", RANGE);
    assert_strict("[123456789012345678901234567890123456789]", RANGE);
    assert_strict("{\"a\":1e400}", RANGE);
    assert_strict("{\"a\":[-1E+400]}", RANGE);
    assert_strict("{\"a\":NaN}", NOT_JSON);
    assert_strict("{\"a\":Infinity}", NOT_JSON);
    assert_strict("{\"a\":-Infinity}", NOT_JSON);
    /* Digits inside strings are not numbers. */
    assert_strict("{\"99999999999999999999\":\"1e999\"}", NULL);
}

static void
test_strict_parse_rejects_unpaired_surrogates(void)
{
    json_object *o = NULL;
    const char *why = NULL;

    assert_strict("{\"a\":\"\\ud800\"}", NOT_JSON);
    assert_strict("{\"a\":\"\\udc00x\"}", NOT_JSON);
    assert_strict("{\"a\":\"\\ud800\\u0041\"}", NOT_JSON);
    assert_strict("{\"\\uDBFF\":1}", NOT_JSON);
    /* A pair is one character, U+1F600 here. */
    CU_ASSERT_EQUAL(
        json_parse_strict("{\"a\":\"\\ud83d\\ude00\"}", 20, 32, &o, &why),
        KEEL_OK);
    CU_ASSERT_STRING_EQUAL(json_get_string(o, "a"), "\xf0\x9f\x98\x80");
    json_object_put(o);
}

static void
test_strict_parse_wants_shortest_form_utf8(void)
{
    assert_strict("{\"a\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}", NULL);
    assert_strict("{\"a\":\"\xc0\xaf\"}", NOT_JSON);         /* overlong '/' */
    assert_strict("{\"a\":\"\xe0\x80\xaf\"}", NOT_JSON);     /* overlong '/' */
    assert_strict("{\"a\":\"\xed\xa0\x80\"}", NOT_JSON);     /* U+D800 */
    assert_strict("{\"a\":\"\xf4\x90\x80\x80\"}", NOT_JSON); /* > U+10FFFF */
    assert_strict("{\"\xc3\":1}", NOT_JSON);                 /* cut short */
}

static void
test_strict_parse_rejects_nul_in_member_names(void)
{
    /* json-c would read "title\u0000x" as "title". */
    assert_strict("{\"title\\u0000x\":\"evil\"}", NOT_JSON);
    assert_strict("{\"a\":{\"\\u0000\" : 1}}", NOT_JSON);
    /* In a value it parses; the schema's string rule refuses it by field. */
    assert_strict("{\"title\":\"a\\u0000b\"}", NULL);
}

static void
test_strict_parse_rejects_repeated_member_names(void)
{
    assert_strict("{\"a\":1,\"a\":2}", REPEATED);
    assert_strict("{\"title\":\"good\",\"title\":\"evil\"}", REPEATED);
    assert_strict("[{\"x\":{\"y\":1,\"z\":2,\"y\":{\"q\":1}}}]", REPEATED);
    /* The same name in different objects is fine. */
    assert_strict("{\"a\":{\"a\":1},\"b\":[{\"a\":1},{\"a\":2}],\"c\":\"a:\"}",
                  NULL);
}

/*
 * Found by tests/fuzz/fuzz_json (its round-trip property): a value that
 * ends the body with no byte after it was refused as not JSON, because
 * json-c waits for a possible next chunk; "5 " passed, "5" did not.  The
 * fuzzer's input is tests/fuzz/corpus/fuzz_json/regress-scalar-at-end.
 */
static void
test_strict_parse_takes_a_value_that_ends_the_text(void)
{
    json_object *o = NULL;
    const char *why = NULL;

    assert_strict("5", NULL);
    assert_strict("5 ", NULL);
    assert_strict("-0", NULL);
    assert_strict("1.5e3", NULL);
    assert_strict("true", NULL);
    assert_strict("false", NULL);
    assert_strict("\"x\"", NULL);
    /* The text null is a value: KEEL_OK, and json-c's NULL for it. */
    CU_ASSERT_EQUAL(json_parse_strict("null", 4, 32, &o, &why), KEEL_OK);
    CU_ASSERT_PTR_NULL(o);
    /* Cut short is still not JSON. */
    assert_strict("[1", NOT_JSON);
    assert_strict("{\"a\":1", NOT_JSON);
    assert_strict("tru", NOT_JSON);
    assert_strict("-", NOT_JSON);
    assert_strict("\"ab", NOT_JSON);
}

/*
 * Found by tests/fuzz/fuzz_json (its RFC 8259 grammar oracle): json-c's
 * strict mode takes "00", "-01", "1." and "1.e3".  The fuzzer's inputs are
 * tests/fuzz/corpus/fuzz_json/regress-number-*.
 */
static void
test_strict_parse_follows_the_rfc8259_number_grammar(void)
{
    assert_strict("{\"stock\":00}", NOT_JSON);
    assert_strict("{\"a\":-01}", NOT_JSON);
    assert_strict("[1.]", NOT_JSON);
    assert_strict("{\"a\":1.}", NOT_JSON);
    assert_strict("[1.e3]", NOT_JSON);
    assert_strict("1.", NOT_JSON);
    assert_strict("[0,-0,0.5,-0.0,1e3,1E+3,1e-3,10,-10.25e-2]", NULL);
}

/* The first message validating `text` against `post` in wording `m`. */
static const char *
first_message(const valid_messages_t *m, const char *text)
{
    static char out[160];
    json_object *v = json_tokener_parse(text);
    json_object *d = json_object_new_array();

    validate_json_msgs(&post, v, d, m);
    snprintf(out, sizeof(out), "%s", detail(d, 0, "message"));
    json_object_put(v);
    json_object_put(d);
    return out;
}

/* An application's wording (keel_app_t.messages): its entries replace
 * keel's with the bounds and lists filled in; the rest stay keel's. */
static void
test_app_messages_replace_keels_entry_by_entry(void)
{
    static const valid_messages_t m = {
        .msg = { [VMSG_REQUIRED] = "can't be blank",
                 [VMSG_BLANK] = "can't be blank",
                 [VMSG_LEN_RANGE] = "is too long (maximum is {max}, "
                                    "minimum {min})",
                 [VMSG_ENUM] = "is not included in the list ({list})",
                 [VMSG_UNKNOWN] = NULL },
    };
    json_object *v = json_tokener_parse(
        "{\"title\":\"much too long\",\"status\":\"x\",\"zz\":1}");
    json_object *d = json_object_new_array();

    CU_ASSERT_EQUAL(validate_json_msgs(&post, v, d, &m), KEEL_EINVAL);
    CU_ASSERT_EQUAL_FATAL(json_object_array_length(d), 3);
    CU_ASSERT_STRING_EQUAL(detail(d, 0, "message"),
                           "is too long (maximum is 5, minimum 1)");
    CU_ASSERT_STRING_EQUAL(detail(d, 1, "message"),
                           "is not included in the list (draft, published)");
    CU_ASSERT_STRING_EQUAL(detail(d, 2, "message"), "is not a known field");
    json_object_put(v);
    json_object_put(d);

    /* A blank string and a missing member: "can't be blank" for the app,
     * the length and "is required" for keel. */
    CU_ASSERT_STRING_EQUAL(first_message(&m, "{\"title\":\"  \"}"),
                           "can't be blank");
    CU_ASSERT_STRING_EQUAL(first_message(NULL, "{\"title\":\"  \"}"),
                           "must be 1 to 5 characters");
    CU_ASSERT_STRING_EQUAL(first_message(&m, "{}"), "can't be blank");
    CU_ASSERT_STRING_EQUAL(first_message(NULL, "{}"), "is required");
    CU_ASSERT_STRING_EQUAL(valid_message(NULL, VMSG_TAKEN), "is already taken");
    CU_ASSERT_PTR_NULL(valid_message(NULL, VMSG_BLANK));
}

static const unit_test_t tests[] = {
    { "an app's messages replace keel's entry by entry",
      test_app_messages_replace_keels_entry_by_entry },
    { "details are capped at VALIDATE_MAX_DETAILS", test_details_are_capped },
    { "strict parse rejects raw control characters in strings",
      test_strict_parse_rejects_raw_control_characters },
    { "strict parse rejects numbers out of range",
      test_strict_parse_rejects_numbers_out_of_range },
    { "strict parse rejects unpaired surrogates",
      test_strict_parse_rejects_unpaired_surrogates },
    { "strict parse wants shortest-form UTF-8",
      test_strict_parse_wants_shortest_form_utf8 },
    { "strict parse rejects NUL in member names",
      test_strict_parse_rejects_nul_in_member_names },
    { "strict parse rejects repeated member names",
      test_strict_parse_rejects_repeated_member_names },
    { "strict parse takes a value that ends the text",
      test_strict_parse_takes_a_value_that_ends_the_text },
    { "strict parse follows the RFC 8259 number grammar",
      test_strict_parse_follows_the_rfc8259_number_grammar },
    { "a valid body gives KEEL_OK and no details",
      test_valid_body_gives_ok_and_no_details },
    { "a valid body keeps earlier details and still returns KEEL_OK",
      test_valid_body_keeps_earlier_details_and_returns_ok },
    { "a missing required member is reported",
      test_missing_required_member_is_reported },
    { "an unknown member is not a known field",
      test_unknown_member_is_rejected },
    { "a body that is not an object is rejected",
      test_body_that_is_not_an_object_is_rejected },
    { "integer rejects 1.0, strings and booleans",
      test_integer_rejects_double_string_and_boolean },
    { "number accepts integers and doubles only",
      test_number_accepts_integer_and_double_only },
    { "string rejects numbers, arrays and objects",
      test_string_rejects_number_array_and_object },
    { "boolean rejects strings and numbers",
      test_boolean_rejects_strings_and_numbers },
    { "arrays and objects are not interchangeable",
      test_array_and_object_are_not_interchangeable },
    { "null is rejected unless SCHEMA_NULLABLE",
      test_null_is_rejected_unless_nullable },
    { "string length counts UTF-8 characters, not bytes",
      test_string_length_counts_characters_not_bytes },
    { "string length messages name the bounds",
      test_string_length_messages_name_the_bounds },
    { "SCHEMA_TRIM ignores outer whitespace in the length",
      test_trim_ignores_outer_whitespace_in_length },
    { "a NUL inside a JSON string is rejected",
      test_nul_inside_a_string_is_rejected },
    { "enum accepts only the listed values",
      test_enum_accepts_only_listed_values },
    { "charset classes take ranges and a literal hyphen",
      test_charset_ranges_and_literal_hyphen },
    { "email, uuid and timestamp formats report their own message",
      test_formats_report_their_own_message },
    { "integer range is inclusive", test_integer_range_is_inclusive },
    { "number range applies to fractions",
      test_number_range_applies_to_fractions },
    { "array item count is bounded", test_array_item_count_is_bounded },
    { "array items are validated with index paths",
      test_array_items_are_validated_with_index_paths },
    { "SCHEMA_UNIQUE rejects a repeated item once",
      test_unique_rejects_a_repeated_item_once },
    { "unique_by compares only that member",
      test_unique_by_compares_only_that_member },
    { "nested problems use dotted paths like items.1.quantity",
      test_nested_problems_use_dotted_paths },
    { "min_members rejects an empty PATCH body",
      test_min_members_rejects_an_empty_patch },
    { "min_members on a nested object names that object",
      test_min_members_on_a_nested_object_names_it },
    { "several problems are reported at once",
      test_several_problems_are_reported_at_once },
    { "details_add appends {field, message}",
      test_details_add_appends_field_and_message },
    { "valid_email accepts common addresses",
      test_email_accepts_common_addresses },
    { "valid_email rejects malformed addresses",
      test_email_rejects_malformed_addresses },
    { "valid_email enforces 254/64/63 length limits",
      test_email_length_limits },
    { "valid_uuid accepts 8-4-4-4-12 hex", test_uuid_accepts_8_4_4_4_12_hex },
    { "valid_uuid rejects other shapes", test_uuid_rejects_other_shapes },
    { "valid_timestamp accepts RFC 3339 forms",
      test_timestamp_accepts_rfc3339_forms },
    { "valid_timestamp rejects bad fields and zones",
      test_timestamp_rejects_bad_fields_and_zones },
    { "valid_timestamp rejects February 29 outside leap years",
      test_timestamp_rejects_february_29_outside_leap_years },
    { "utf8_length counts code points", test_utf8_length_counts_code_points },
};

int
main(void)
{
    return unit_run("validate", UNIT_TESTS(tests));
}
