/* test_error.c - keel_rc to status and code (API.md §1.2), the error
 * envelope's shape, the no-leak rule for 5xx, and HTTP reason phrases. */
#include "keel-build.h"

#include "unit.h"
#include "core/error.h"

#include <string.h>

/* The API.md §1.2 table, row by row. */
static const struct {
    keel_rc rc;
    int status;
    const char *code;
} api_table[] = {
    { KEEL_EBADREQ, 400, "BAD_REQUEST" },
    { KEEL_EINVAL, 400, "VALIDATION_ERROR" },
    { KEEL_EUNAUTH, 401, "UNAUTHORIZED" },
    { KEEL_EFORBIDDEN, 403, "FORBIDDEN" },
    { KEEL_ENOTFOUND, 404, "NOT_FOUND" },
    { KEEL_EMETHOD, 405, "METHOD_NOT_ALLOWED" },
    { KEEL_ECONFLICT, 409, "CONFLICT" },
    { KEEL_EVERSION, 409, "VERSION_CONFLICT" },
    { KEEL_EPRECOND, 412, "PRECONDITION_FAILED" },
    { KEEL_ETOOLARGE, 413, "PAYLOAD_TOO_LARGE" },
    { KEEL_EURITOOLONG, 414, "URI_TOO_LONG" },
    { KEEL_EMEDIATYPE, 415, "UNSUPPORTED_MEDIA_TYPE" },
    { KEEL_EIDEMPOTENCY, 422, "IDEMPOTENCY_KEY_REUSED" },
    { KEEL_ERATELIMIT, 429, "RATE_LIMITED" },
    { KEEL_EHEADERS, 431, "REQUEST_HEADER_FIELDS_TOO_LARGE" },
    { KEEL_EINTERNAL, 500, "INTERNAL_ERROR" },
    { KEEL_EUNAVAIL, 503, "SERVICE_UNAVAILABLE" },
};

#define N_API (sizeof(api_table) / sizeof(api_table[0]))

/* error.<member> of an envelope, or NULL. */
static json_object *
err_member(json_object *env, const char *name)
{
    json_object *err, *v;

    if (!json_object_object_get_ex(env, "error", &err) ||
        !json_object_object_get_ex(err, name, &v))
        return NULL;
    return v;
}

static const char *
err_string(json_object *env, const char *name)
{
    json_object *v = err_member(env, name);

    return json_object_is_type(v, json_type_string) ? json_object_get_string(v)
                                                    : "(not a string)";
}

static json_object *
one_detail(const char *field, const char *message)
{
    json_object *details = json_object_new_array();
    json_object *d = json_object_new_object();

    json_object_object_add(d, "field", json_object_new_string(field));
    json_object_object_add(d, "message", json_object_new_string(message));
    json_object_array_add(details, d);
    return details;
}

static void
test_every_rc_maps_to_its_api_status_and_code(void)
{
    /* Every error rc has a row: the table has no holes left unchecked. */
    CU_ASSERT_EQUAL(N_API, (size_t)KEEL_RC__MAX - 1);
    for (size_t i = 0; i < N_API; i++) {
        const keel_error_info_t *info = keel_error_info(api_table[i].rc);
        CU_ASSERT_PTR_NOT_NULL_FATAL(info);
        CU_ASSERT_EQUAL(info->status, api_table[i].status);
        CU_ASSERT_STRING_EQUAL(info->code, api_table[i].code);
        CU_ASSERT_PTR_NOT_NULL(info->message);
        if (info->message != NULL)
            CU_ASSERT(info->message[0] != '\0');
    }
}

static void
test_ok_maps_to_200(void)
{
    const keel_error_info_t *info = keel_error_info(KEEL_OK);

    CU_ASSERT_EQUAL(info->status, 200);
    CU_ASSERT_STRING_EQUAL(info->code, "OK");
}

static void
test_every_error_code_is_distinct(void)
{
    for (size_t i = 0; i < N_API; i++)
        for (size_t j = 0; j < i; j++)
            CU_ASSERT(strcmp(keel_error_info(api_table[i].rc)->code,
                             keel_error_info(api_table[j].rc)->code) != 0);
}

static void
test_out_of_range_rc_maps_to_internal_error(void)
{
    const keel_rc bad[] = { KEEL_RC__MAX, (keel_rc)(KEEL_RC__MAX + 1),
                            (keel_rc)1000, (keel_rc)-1 };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const keel_error_info_t *info = keel_error_info(bad[i]);
        CU_ASSERT_PTR_EQUAL(info, keel_error_info(KEEL_EINTERNAL));
        CU_ASSERT_EQUAL(info->status, 500);
        CU_ASSERT_STRING_EQUAL(info->code, "INTERNAL_ERROR");
    }
}

static void
test_envelope_has_exactly_error_with_four_members(void)
{
    json_object *env = error_envelope(KEEL_ENOTFOUND, NULL, NULL, "req-1");
    json_object *err;

    CU_ASSERT_TRUE_FATAL(json_object_is_type(env, json_type_object));
    CU_ASSERT_EQUAL(json_object_object_length(env), 1);
    CU_ASSERT_TRUE_FATAL(json_object_object_get_ex(env, "error", &err));
    CU_ASSERT_TRUE(json_object_is_type(err, json_type_object));
    CU_ASSERT_EQUAL(json_object_object_length(err), 4);
    CU_ASSERT_STRING_EQUAL(err_string(env, "code"), "NOT_FOUND");
    CU_ASSERT_STRING_EQUAL(err_string(env, "message"), "Resource not found");
    CU_ASSERT_TRUE(
        json_object_is_type(err_member(env, "details"), json_type_array));
    CU_ASSERT_STRING_EQUAL(err_string(env, "request_id"), "req-1");
    json_object_put(env);
}

static void
test_envelope_details_is_an_empty_array_when_none_given(void)
{
    for (size_t i = 0; i < N_API; i++) {
        json_object *env = error_envelope(api_table[i].rc, NULL, NULL, "r");
        json_object *d = err_member(env, "details");
        CU_ASSERT_TRUE(json_object_is_type(d, json_type_array));
        CU_ASSERT_EQUAL(json_object_array_length(d), 0);
        CU_ASSERT_STRING_EQUAL(err_string(env, "code"), api_table[i].code);
        CU_ASSERT_STRING_EQUAL(err_string(env, "message"),
                               keel_error_info(api_table[i].rc)->message);
        json_object_put(env);
    }
}

static void
test_envelope_4xx_keeps_custom_message_and_details(void)
{
    json_object *details = one_detail("email", "must be a valid email address");
    json_object *env =
        error_envelope(KEEL_EINVAL, "Email is not valid", details, "req-2");
    json_object *d = err_member(env, "details");
    json_object *first, *v;

    CU_ASSERT_STRING_EQUAL(err_string(env, "code"), "VALIDATION_ERROR");
    CU_ASSERT_STRING_EQUAL(err_string(env, "message"), "Email is not valid");
    CU_ASSERT_PTR_EQUAL(d, details); /* taken over, not copied */
    CU_ASSERT_EQUAL_FATAL(json_object_array_length(d), 1);
    first = json_object_array_get_idx(d, 0);
    CU_ASSERT_TRUE(json_object_object_get_ex(first, "field", &v));
    CU_ASSERT_STRING_EQUAL(json_object_get_string(v), "email");
    CU_ASSERT_TRUE(json_object_object_get_ex(first, "message", &v));
    CU_ASSERT_STRING_EQUAL(json_object_get_string(v),
                           "must be a valid email address");
    json_object_put(env);
}

static void
test_envelope_5xx_never_leaks_message_or_details(void)
{
    const keel_rc five[] = { KEEL_EINTERNAL, KEEL_EUNAVAIL };

    for (size_t i = 0; i < sizeof(five) / sizeof(five[0]); i++) {
        json_object *details =
            one_detail("sql", "duplicate key value violates constraint");
        json_object *env =
            error_envelope(five[i], "PQexec: connection to 10.0.0.5 refused",
                           details, "req-3");
        const keel_error_info_t *info = keel_error_info(five[i]);
        json_object *d = err_member(env, "details");
        const char *s = json_object_to_json_string(env);

        CU_ASSERT_STRING_EQUAL(err_string(env, "code"), info->code);
        CU_ASSERT_STRING_EQUAL(err_string(env, "message"), info->message);
        CU_ASSERT_TRUE(json_object_is_type(d, json_type_array));
        CU_ASSERT_EQUAL(json_object_array_length(d), 0);
        CU_ASSERT_PTR_NULL(strstr(s, "10.0.0.5"));
        CU_ASSERT_PTR_NULL(strstr(s, "constraint"));
        CU_ASSERT_STRING_EQUAL(err_string(env, "request_id"), "req-3");
        json_object_put(env);
    }
}

static void
test_envelope_internal_error_message_is_generic(void)
{
    json_object *env =
        error_envelope(KEEL_EINTERNAL, "segfault in x.c:12", NULL, NULL);

    CU_ASSERT_STRING_EQUAL(err_string(env, "message"), "Internal server error");
    json_object_put(env);
}

static void
test_envelope_out_of_range_rc_is_internal_error(void)
{
    json_object *env =
        error_envelope((keel_rc)77, "secret detail", NULL, "req-4");

    CU_ASSERT_STRING_EQUAL(err_string(env, "code"), "INTERNAL_ERROR");
    CU_ASSERT_STRING_EQUAL(err_string(env, "message"), "Internal server error");
    json_object_put(env);
}

static void
test_envelope_request_id_is_null_when_not_given(void)
{
    json_object *env = error_envelope(KEEL_EUNAUTH, NULL, NULL, NULL);
    json_object *err, *v = (json_object *)1;

    CU_ASSERT_TRUE_FATAL(json_object_object_get_ex(env, "error", &err));
    /* Present, and JSON null (json-c represents null as NULL). */
    CU_ASSERT_TRUE(json_object_object_get_ex(err, "request_id", &v));
    CU_ASSERT_PTR_NULL(v);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(json_object_to_json_string_ext(env, JSON_C_TO_STRING_PLAIN),
               "\"request_id\":null"));
    json_object_put(env);
}

static void
test_envelope_serializes_in_the_documented_shape(void)
{
    json_object *env = error_envelope(KEEL_EFORBIDDEN, NULL, NULL, "abc");

    CU_ASSERT_STRING_EQUAL(
        json_object_to_json_string_ext(env, JSON_C_TO_STRING_PLAIN),
        "{\"error\":{\"code\":\"FORBIDDEN\",\"message\":\"Permission "
        "denied\",\"details\":[],\"request_id\":\"abc\"}}");
    json_object_put(env);
}

static void
test_http_reason_knows_common_statuses(void)
{
    CU_ASSERT_STRING_EQUAL(http_reason(200), "OK");
    CU_ASSERT_STRING_EQUAL(http_reason(201), "Created");
    CU_ASSERT_STRING_EQUAL(http_reason(204), "No Content");
    CU_ASSERT_STRING_EQUAL(http_reason(304), "Not Modified");
    CU_ASSERT_STRING_EQUAL(http_reason(400), "Bad Request");
    CU_ASSERT_STRING_EQUAL(http_reason(401), "Unauthorized");
    CU_ASSERT_STRING_EQUAL(http_reason(404), "Not Found");
    CU_ASSERT_STRING_EQUAL(http_reason(405), "Method Not Allowed");
    CU_ASSERT_STRING_EQUAL(http_reason(413), "Content Too Large");
    CU_ASSERT_STRING_EQUAL(http_reason(422), "Unprocessable Content");
    CU_ASSERT_STRING_EQUAL(http_reason(429), "Too Many Requests");
    CU_ASSERT_STRING_EQUAL(http_reason(431), "Request Header Fields Too Large");
    CU_ASSERT_STRING_EQUAL(http_reason(500), "Internal Server Error");
    CU_ASSERT_STRING_EQUAL(http_reason(503), "Service Unavailable");
}

static void
test_http_reason_covers_every_error_status(void)
{
    for (size_t i = 0; i < N_API; i++)
        CU_ASSERT_STRING_NOT_EQUAL(http_reason(api_table[i].status), "Unknown");
}

static void
test_http_reason_is_unknown_for_unlisted_statuses(void)
{
    CU_ASSERT_STRING_EQUAL(http_reason(418), "Unknown");
    CU_ASSERT_STRING_EQUAL(http_reason(0), "Unknown");
    CU_ASSERT_STRING_EQUAL(http_reason(-1), "Unknown");
    CU_ASSERT_STRING_EQUAL(http_reason(999), "Unknown");
}

static const unit_test_t tests[] = {
    { "every keel_rc maps to its API.md status and code",
      test_every_rc_maps_to_its_api_status_and_code },
    { "KEEL_OK maps to 200 OK", test_ok_maps_to_200 },
    { "every error code is distinct", test_every_error_code_is_distinct },
    { "an out-of-range rc maps to INTERNAL_ERROR",
      test_out_of_range_rc_maps_to_internal_error },
    { "envelope is {error:{code,message,details,request_id}}",
      test_envelope_has_exactly_error_with_four_members },
    { "envelope details is [] and message the default when none given",
      test_envelope_details_is_an_empty_array_when_none_given },
    { "a 4xx envelope keeps a custom message and its details",
      test_envelope_4xx_keeps_custom_message_and_details },
    { "a 5xx envelope never leaks the message or details given",
      test_envelope_5xx_never_leaks_message_or_details },
    { "INTERNAL_ERROR always has the generic message",
      test_envelope_internal_error_message_is_generic },
    { "an envelope for an out-of-range rc is INTERNAL_ERROR",
      test_envelope_out_of_range_rc_is_internal_error },
    { "request_id is JSON null when none is given",
      test_envelope_request_id_is_null_when_not_given },
    { "envelope serializes in the documented member order",
      test_envelope_serializes_in_the_documented_shape },
    { "http_reason knows common statuses",
      test_http_reason_knows_common_statuses },
    { "http_reason covers every status of the error table",
      test_http_reason_covers_every_error_status },
    { "http_reason is Unknown for unlisted statuses",
      test_http_reason_is_unknown_for_unlisted_statuses },
};

int
main(void)
{
    return unit_run("error", UNIT_TESTS(tests));
}
