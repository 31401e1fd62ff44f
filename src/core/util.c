/* util.c - allocation wrappers, clocks, randomness, small parsers. */
#include "keel-build.h"

#include "core/util.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static void
oom(size_t n)
{
    /* Not through the logger: it allocates. One write(2), then abort. */
    char msg[128];
    int len = snprintf(msg, sizeof(msg),
                       "{\"level\":\"fatal\",\"msg\":\"out of memory\","
                       "\"bytes\":%zu,\"pid\":%ld}\n",
                       n, (long)getpid());
    if (len > 0 && write(STDERR_FILENO, msg, (size_t)len) < 0) {
        /* nothing more can be done */
    }
    abort();
}

void *
xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        oom(n);
    return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
    void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
    if (p == NULL)
        oom(nmemb * size);
    return p;
}

void *
xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL)
        oom(n);
    return q;
}

char *
xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = xmalloc(n);
    memcpy(p, s, n);
    return p;
}

double
time_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double
time_wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

char *
time_rfc3339(double t, char *buf, size_t len)
{
    time_t secs = (time_t)t;
    int ms = (int)((t - (double)secs) * 1000.0);
    struct tm tm;

    if (ms < 0)
        ms = 0;
    if (ms > 999)
        ms = 999;
    gmtime_r(&secs, &tm);
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
    return buf;
}

void
random_bytes(void *buf, size_t n)
{
    unsigned char *p = buf;

    while (n > 0) {
        ssize_t got = getrandom(p, n, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            abort();
        }
        p += got;
        n -= (size_t)got;
    }
}

void
uuid_v4(char out[37])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char b[16];
    int o = 0;

    random_bytes(b, sizeof(b));
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[o] = '\0';
}

static int
lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

int
ascii_casecmp(const char *a, const char *b)
{
    for (;; a++, b++) {
        int d = lower((unsigned char)*a) - lower((unsigned char)*b);
        if (d != 0 || *a == '\0')
            return d;
    }
}

int
ascii_ncasecmp(const char *a, const char *b, size_t n)
{
    for (; n > 0; a++, b++, n--) {
        int d = lower((unsigned char)*a) - lower((unsigned char)*b);
        if (d != 0 || *a == '\0')
            return d;
    }
    return 0;
}

int
parse_ll(const char *s, long long min, long long max, long long *out)
{
    char *end;
    long long v;

    if (s == NULL || *s == '\0' || (*s != '-' && (*s < '0' || *s > '9')))
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

void
keel_seterr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t
b64url_encode(const unsigned char *in, size_t n, char *out, size_t cap)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16;
        size_t left = n - i;
        if (left > 1)
            v |= (unsigned)in[i + 1] << 8;
        if (left > 2)
            v |= in[i + 2];
        for (size_t k = 0; k < (left > 2 ? 4 : left + 1); k++) {
            if (o + 1 >= cap)
                return 0;
            out[o++] = b64url[(v >> (18 - 6 * k)) & 63];
        }
    }
    if (o >= cap)
        return 0;
    out[o] = '\0';
    return o;
}

static int
b64url_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

long
b64url_decode(const char *in, size_t n, unsigned char *out, size_t cap)
{
    size_t o = 0;
    unsigned v = 0;
    int bits = 0;

    if (n % 4 == 1)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int d = b64url_value(in[i]);
        if (d < 0)
            return -1;
        v = (v << 6) | (unsigned)d;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= cap)
                return -1;
            out[o++] = (unsigned char)(v >> bits);
        }
    }
    /* Leftover bits must be zero (one encoding per value). */
    if ((v & ((1u << bits) - 1)) != 0)
        return -1;
    return (long)o;
}

void
sha256_bytea(const void *data, size_t len, char out[SHA256_BYTEA_LEN])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
    out[0] = '\\';
    out[1] = 'x';
    for (unsigned int i = 0; i < 32; i++) {
        out[2 + 2 * i] = hex[md[i] >> 4];
        out[3 + 2 * i] = hex[md[i] & 15];
    }
    out[66] = '\0';
}

long
utf8_chars(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    long n = 0;

    while (p < end) {
        size_t need;
        unsigned cp;

        if (*p < 0x80) {
            p++;
            n++;
            continue;
        } else if ((*p & 0xE0) == 0xC0) {
            need = 2;
            cp = *p & 0x1F;
        } else if ((*p & 0xF0) == 0xE0) {
            need = 3;
            cp = *p & 0x0F;
        } else if ((*p & 0xF8) == 0xF0) {
            need = 4;
            cp = *p & 0x07;
        } else {
            return -1;
        }
        if ((size_t)(end - p) < need)
            return -1;
        for (size_t i = 1; i < need; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return -1;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        if ((need == 2 && cp < 0x80) || (need == 3 && cp < 0x800) ||
            (need == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return -1;
        p += need;
        n++;
    }
    return n;
}

void
hex_encode(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}
