/* fcgi_client.c - just enough of the FastCGI protocol to send a request. */
#include "fcgi_client.h"

#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

enum {
    BEGIN_REQUEST = 1,
    END_REQUEST = 3,
    PARAMS = 4,
    STDIN = 5,
    STDOUT = 6,
    STDERR = 7
};

int
fcgi_write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;

    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int
read_all(int fd, void *buf, size_t n)
{
    char *p = buf;

    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static int
record(int fd, int type, const void *data, size_t len)
{
    unsigned char h[8] = { 1,
                           (unsigned char)type,
                           0,
                           1,
                           (unsigned char)(len >> 8),
                           (unsigned char)len,
                           0,
                           0 };

    if (fcgi_write_all(fd, h, 8) != 0)
        return -1;
    return len ? fcgi_write_all(fd, data, len) : 0;
}

static size_t
put_len(unsigned char *p, size_t n)
{
    if (n < 128) {
        p[0] = (unsigned char)n;
        return 1;
    }
    p[0] = (unsigned char)((n >> 24) | 0x80);
    p[1] = (unsigned char)(n >> 16);
    p[2] = (unsigned char)(n >> 8);
    p[3] = (unsigned char)n;
    return 4;
}

int
fcgi_connect(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd;

    if (strlen(path) >= sizeof(sa.sun_path))
        return -1;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static long send_request(const char *path, const char *const *params,
                         int pause_ms, const char *body, size_t body_len,
                         char *out, size_t len);

long
fcgi_request(const char *path, const char *const *params, const char *body,
             size_t body_len, char *out, size_t len)
{
    return send_request(path, params, -1, body, body_len, out, len);
}

long
fcgi_request_paused(const char *path, const char *const *params, int pause_ms,
                    char *out, size_t len)
{
    return send_request(path, params, pause_ms, NULL, 0, out, len);
}

static long
send_request(const char *path, const char *const *params, int pause_ms,
             const char *body, size_t body_len, char *out, size_t len)
{
    static const unsigned char begin[8] = { 0, 1, 0, 0, 0, 0, 0, 0 };
    struct timeval tv = { 10, 0 };
    unsigned char buf[65536];
    size_t used = 0, got = 0;
    int fd;

    fd = fcgi_connect(path);
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (record(fd, BEGIN_REQUEST, begin, sizeof(begin)) != 0)
        goto fail;
    for (int i = 0; params && params[i]; i++) {
        const char *eq = strchr(params[i], '=');
        size_t nl = (size_t)(eq - params[i]), vl = strlen(eq + 1);
        if (used + 8 + nl + vl > sizeof(buf))
            goto fail;
        used += put_len(buf + used, nl);
        used += put_len(buf + used, vl);
        memcpy(buf + used, params[i], nl);
        used += nl;
        memcpy(buf + used, eq + 1, vl);
        used += vl;
        if (i == 0 && pause_ms >= 0) {
            /* The first param alone, then a pause mid-request. */
            if (record(fd, PARAMS, buf, used) != 0)
                goto fail;
            usleep((useconds_t)pause_ms * 1000);
            used = 0;
        }
    }
    if ((used > 0 && record(fd, PARAMS, buf, used) != 0) ||
        record(fd, PARAMS, NULL, 0) != 0)
        goto fail;
    while (body_len > 0) {
        size_t n = body_len > 32768 ? 32768 : body_len;
        if (record(fd, STDIN, body, n) != 0)
            goto fail;
        body += n;
        body_len -= n;
    }
    if (record(fd, STDIN, NULL, 0) != 0)
        goto fail;
    for (;;) {
        unsigned char h[8];
        size_t clen, plen;
        if (read_all(fd, h, 8) != 0)
            goto fail;
        clen = ((size_t)h[4] << 8) | h[5];
        plen = h[6];
        if (read_all(fd, buf, clen + plen) != 0)
            goto fail;
        if (h[1] == END_REQUEST)
            break;
        if (h[1] == STDOUT && got < len - 1) {
            size_t n = clen < len - 1 - got ? clen : len - 1 - got;
            memcpy(out + got, buf, n);
            got += n;
        }
    }
    close(fd);
    out[got] = '\0';
    return (long)got;
fail:
    close(fd);
    return -1;
}
