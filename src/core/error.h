/*
 * error.h - the one project-wide result type (STYLE.md rule 3) and the one
 * table that maps it to an HTTP status and an API.md §1.2 error code.
 */
#ifndef KEEL_CORE_ERROR_H
#define KEEL_CORE_ERROR_H

#include <json-c/json.h>

typedef enum keel_rc {
    KEEL_OK = 0,
    KEEL_EBADREQ,      /* 400 BAD_REQUEST */
    KEEL_EINVAL,       /* 400 VALIDATION_ERROR */
    KEEL_EUNAUTH,      /* 401 UNAUTHORIZED */
    KEEL_EFORBIDDEN,   /* 403 FORBIDDEN */
    KEEL_ENOTFOUND,    /* 404 NOT_FOUND */
    KEEL_EMETHOD,      /* 405 METHOD_NOT_ALLOWED */
    KEEL_ECONFLICT,    /* 409 CONFLICT */
    KEEL_EVERSION,     /* 409 VERSION_CONFLICT */
    KEEL_EPRECOND,     /* 412 PRECONDITION_FAILED */
    KEEL_ETOOLARGE,    /* 413 PAYLOAD_TOO_LARGE */
    KEEL_EURITOOLONG,  /* 414 URI_TOO_LONG */
    KEEL_EMEDIATYPE,   /* 415 UNSUPPORTED_MEDIA_TYPE */
    KEEL_EIDEMPOTENCY, /* 422 IDEMPOTENCY_KEY_REUSED */
    KEEL_ERATELIMIT,   /* 429 RATE_LIMITED */
    KEEL_EHEADERS,     /* 431 REQUEST_HEADER_FIELDS_TOO_LARGE */
    KEEL_EINTERNAL,    /* 500 INTERNAL_ERROR */
    KEEL_EUNAVAIL,     /* 503 SERVICE_UNAVAILABLE */
    KEEL_RC__MAX
} keel_rc;

typedef struct keel_error_info {
    int status;          /* HTTP status */
    const char *code;    /* API.md error code */
    const char *message; /* default client-facing message */
} keel_error_info_t;

/* The row for `rc`; an out-of-range rc maps to INTERNAL_ERROR. */
const keel_error_info_t *keel_error_info(keel_rc rc);

/* The reason phrase for an HTTP status ("Not Found"), "Unknown" if none. */
const char *http_reason(int status);

/*
 * Build the API.md §1.2 envelope.  `message` NULL means the table's default
 * message; `details` (an array, may be NULL for []) is taken over by the
 * envelope.  The caller owns the result (json_object_put).
 */
json_object *error_envelope(keel_rc rc, const char *message,
                            json_object *details, const char *request_id);

#endif
