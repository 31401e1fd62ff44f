/*
 * util.h - allocation wrappers and small helpers shared by every module.
 *
 * Out of memory is decided once (STYLE.md rule 5): in workers the x*()
 * wrappers log and abort, and the master respawns the worker.  The master
 * itself only allocates at start-up and on reload, where it checks by hand.
 */
#ifndef KEEL_CORE_UTIL_H
#define KEEL_CORE_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define KEEL_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Never return NULL: abort the process on allocation failure. */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

/* Seconds on the monotonic clock; comparable across processes on Linux. */
double time_mono(void);

/*
 * Format the wall-clock time `t` (seconds since the epoch, with fraction) as
 * RFC 3339 UTC with milliseconds: "2026-01-15T10:30:00.123Z".  `buf` must
 * hold at least 25 bytes.  Returns buf.
 */
char *time_rfc3339(double t, char *buf, size_t len);
double time_wall(void);

/*
 * Fill `buf` with `n` cryptographically random bytes (getrandom(2)).
 * Aborts if the kernel cannot provide them: every caller needs them.
 */
void random_bytes(void *buf, size_t n);

/* The length of sha256_bytea()'s text, with its NUL. */
#define SHA256_BYTEA_LEN 67

/*
 * SHA-256 of data[0..len) as PostgreSQL's hex bytea input ("\\x" and 64
 * lower-case hex digits), for a bytea parameter.
 */
void sha256_bytea(const void *data, size_t len, char out[SHA256_BYTEA_LEN]);

/* Write a random (version 4) UUID as 36 lower-case characters plus NUL. */
void uuid_v4(char out[37]);

/* Case-insensitive ASCII comparison; locale-independent. */
int ascii_casecmp(const char *a, const char *b);
int ascii_ncasecmp(const char *a, const char *b, size_t n);

/*
 * Parse a whole decimal integer in [min, max].  Returns 0 and sets *out, or
 * -1 when `s` is empty, has other characters, or is out of range.
 */
/* in[0..n) as 2n lower-case hex digits and a NUL into out. */
void hex_encode(const unsigned char *in, size_t n, char *out);

/*
 * Code points in s[0..len) when it is valid UTF-8 (RFC 3629: shortest
 * form, no surrogates, at most U+10FFFF), else -1.
 */
long utf8_chars(const char *s, size_t len);

int parse_ll(const char *s, long long min, long long max, long long *out);

/* snprintf into an error buffer (err, errlen), for "char *err" APIs. */
void keel_seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * base64url without padding (RFC 4648 5, as JWTs and refresh tokens use
 * it).  encode: the length written, 0 if `cap` is too small (NUL added).
 * decode: the bytes written, -1 for a character outside the alphabet, a
 * bad length, non-zero trailing bits or a full buffer.
 */
size_t b64url_encode(const unsigned char *in, size_t n, char *out, size_t cap);
long b64url_decode(const char *in, size_t n, unsigned char *out, size_t cap);

#endif
