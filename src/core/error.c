/* error.c - keel_rc → HTTP status, error code and default message. */
#include "keel-build.h"

#include "core/error.h"

#include <stddef.h>

static const keel_error_info_t errors[KEEL_RC__MAX] = {
    [KEEL_OK] = { 200, "OK", "OK" },
    [KEEL_EBADREQ] = { 400, "BAD_REQUEST", "Malformed request" },
    [KEEL_EINVAL] = { 400, "VALIDATION_ERROR", "Invalid request parameters" },
    [KEEL_EUNAUTH] = { 401, "UNAUTHORIZED", "Authentication required" },
    [KEEL_EFORBIDDEN] = { 403, "FORBIDDEN", "Permission denied" },
    [KEEL_ENOTFOUND] = { 404, "NOT_FOUND", "Resource not found" },
    [KEEL_EMETHOD] = { 405, "METHOD_NOT_ALLOWED", "Method not allowed" },
    [KEEL_ECONFLICT] = { 409, "CONFLICT", "Conflict" },
    [KEEL_EVERSION] = { 409, "VERSION_CONFLICT",
                        "Resource version is not current" },
    [KEEL_EPRECOND] = { 412, "PRECONDITION_FAILED", "Precondition failed" },
    [KEEL_ETOOLARGE] = { 413, "PAYLOAD_TOO_LARGE", "Request body too large" },
    [KEEL_EURITOOLONG] = { 414, "URI_TOO_LONG", "Request URI too long" },
    [KEEL_EMEDIATYPE] = { 415, "UNSUPPORTED_MEDIA_TYPE",
                          "Content-Type must be application/json" },
    [KEEL_EIDEMPOTENCY] = { 422, "IDEMPOTENCY_KEY_REUSED",
                            "Idempotency key reused with another request" },
    [KEEL_ERATELIMIT] = { 429, "RATE_LIMITED", "Too many requests" },
    [KEEL_EHEADERS] = { 431, "REQUEST_HEADER_FIELDS_TOO_LARGE",
                        "Request header too large" },
    [KEEL_EINTERNAL] = { 500, "INTERNAL_ERROR", "Internal server error" },
    [KEEL_EUNAVAIL] = { 503, "SERVICE_UNAVAILABLE",
                        "Service temporarily unavailable" },
};

const keel_error_info_t *
keel_error_info(keel_rc rc)
{
    if ((int)rc < 0 || rc >= KEEL_RC__MAX || errors[rc].code == NULL)
        return &errors[KEEL_EINTERNAL];
    return &errors[rc];
}

static const struct {
    int status;
    const char *reason;
} reasons[] = {
    { 200, "OK" },
    { 201, "Created" },
    { 202, "Accepted" },
    { 204, "No Content" },
    { 301, "Moved Permanently" },
    { 302, "Found" },
    { 304, "Not Modified" },
    { 400, "Bad Request" },
    { 401, "Unauthorized" },
    { 403, "Forbidden" },
    { 404, "Not Found" },
    { 405, "Method Not Allowed" },
    { 409, "Conflict" },
    { 412, "Precondition Failed" },
    { 413, "Content Too Large" },
    { 414, "URI Too Long" },
    { 415, "Unsupported Media Type" },
    { 422, "Unprocessable Content" },
    { 429, "Too Many Requests" },
    { 431, "Request Header Fields Too Large" },
    { 500, "Internal Server Error" },
    { 503, "Service Unavailable" },
};

const char *
http_reason(int status)
{
    for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
        if (reasons[i].status == status)
            return reasons[i].reason;
    return "Unknown";
}

json_object *
error_envelope(keel_rc rc, const char *message, json_object *details,
               const char *request_id)
{
    const keel_error_info_t *info = keel_error_info(rc);
    json_object *root = json_object_new_object();
    json_object *err = json_object_new_object();

    /* A 500 never carries details: they could leak internals. */
    if (details == NULL || info->status >= 500) {
        json_object_put(details);
        details = json_object_new_array();
    }
    if (message == NULL || info->status >= 500)
        message = info->message;
    json_object_object_add(err, "code", json_object_new_string(info->code));
    json_object_object_add(err, "message", json_object_new_string(message));
    json_object_object_add(err, "details", details);
    json_object_object_add(err, "request_id",
                           request_id ? json_object_new_string(request_id)
                                      : json_object_new_null());
    json_object_object_add(root, "error", err);
    return root;
}
