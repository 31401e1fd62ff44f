/*
 * fcgi_client.h - a minimal FastCGI client for tests that talk to keeld's
 * socket directly, without a web server in between.
 */
#ifndef KEEL_TESTS_FCGI_CLIENT_H
#define KEEL_TESTS_FCGI_CLIENT_H

#include <stddef.h>

/*
 * Send one RESPONDER request (params "NAME=value", NULL-terminated; an
 * optional body) over a new connection to the unix socket `path`; collect
 * FCGI_STDOUT until FCGI_END_REQUEST into out (NUL-terminated, truncated
 * to len - 1).  Returns the number of bytes of stdout, or -1.
 */
long fcgi_request(const char *path, const char *const *params, const char *body,
                  size_t body_len, char *out, size_t len);

/*
 * The same without a body, but the first param goes out in its own record
 * and the client pauses `pause_ms` before sending the rest: a request that
 * is half received when something happens to the server.
 */
long fcgi_request_paused(const char *path, const char *const *params,
                         int pause_ms, char *out, size_t len);

/* A blocking connection to the unix socket `path`, or -1. */
int fcgi_connect(const char *path);

/* Write all n bytes (never raising SIGPIPE): 0, or -1. */
int fcgi_write_all(int fd, const void *buf, size_t n);

#endif
