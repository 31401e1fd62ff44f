/*
 * client.h - a small libcurl client for the integration suites, plus the
 * assertions every suite shares (the API.md §1.2 envelope).
 */
#ifndef KEEL_TESTS_CLIENT_H
#define KEEL_TESTS_CLIENT_H

#include <CUnit/CUnit.h>
#include <json-c/json.h>
#include <stddef.h>

typedef struct http_resp {
    long status; /* 0 when the request failed at the transport level */
    char *body;  /* NUL-terminated */
    size_t body_len;
    char *headers;     /* raw header block of the final response */
    json_object *json; /* parsed body, NULL when not JSON */
    double seconds;    /* total time */
} http_resp_t;

/* Base URL from the environment variable `var` (e.g. KEEL_TEST_URL). */
const char *client_base(const char *var);

/*
 * Send `method` to base + path with extra header lines ("Name: value",
 * NULL-terminated list, may be NULL) and an optional body.  Fills *out;
 * returns 0, or -1 on a transport error (out->status is then 0).
 */
int http_do(const char *base, const char *method, const char *path,
            const char *const *headers, const char *body, size_t body_len,
            http_resp_t *out);
void resp_free(http_resp_t *r);

/* Value of response header `name` (case-insensitive) copied into buf. */
const char *resp_header(const http_resp_t *r, const char *name, char *buf,
                        size_t len);

/* A JSON member by dotted path ("error.code"), or NULL. */
json_object *json_path(json_object *root, const char *path);
const char *json_path_str(json_object *root, const char *path);

/*
 * Assert `r` is an error of `status` with `code` in the envelope: error
 * object with code, message string, details array, request_id equal to the
 * X-Request-Id header, JSON content type, and the security headers.
 */
void assert_envelope(const http_resp_t *r, long status, const char *code);
/* The security headers of API.md §6 are present. */
void assert_security_headers(const http_resp_t *r);

/* 1 when the file contains `needle`. */
int file_contains(const char *path, const char *needle);

#endif
