/*
 * sink.c - loopback receivers for the job tests: an HTTP server for
 * webhooks and an SMTP server for email, each writing what it receives
 * into a directory, one file per request or message.
 *
 *   sink http DIR [--fail N] [--status CODE] [--delay MS]
 *       answers the first N requests 500, the others CODE (200); waits
 *       MS milliseconds before each answer.  DIR/NNNN.req: a line
 *       "received-ms: <unix ms>", then the request's head and body.
 *   sink syslog DIR
 *       binds the unix datagram socket DIR/log.sock (a syslog daemon's
 *       /dev/log) and writes each datagram as DIR/NNNN.msg.
 *   sink smtp DIR [--fail N]
 *       answers the first N DATA commands 451; refuses any recipient whose
 *       address begins with "reject" with 550.  DIR/NNNN.eml: lines
 *       "mail-from: <...>" and "rcpt-to: <...>", then the message with
 *       dot-stuffing undone.
 *
 * It binds 127.0.0.1 on a port of the kernel's choosing and writes it to
 * DIR/port (atomically) once it listens.  Files appear atomically too
 * (written as DIR/.tmp, then renamed), so a test never reads half of one.
 * One connection at a time; stopped by SIGTERM.  Test code only.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_MESSAGE (1 << 20)

static const char *dir;
static int count;

static long long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
write_atomic(const char *name, const char *data, size_t len)
{
    char tmp[4096], final[4096];
    FILE *f;

    snprintf(tmp, sizeof(tmp), "%s/.tmp", dir);
    snprintf(final, sizeof(final), "%s/%s", dir, name);
    f = fopen(tmp, "w");
    if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0 ||
        rename(tmp, final) != 0) {
        perror("sink: write");
        exit(1);
    }
}

static int
send_str(int fd, const char *s)
{
    size_t n = strlen(s);

    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w <= 0)
            return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

/* One HTTP/1.1 request (Content-Length bodies only), then close. */
static void
serve_http(int fd, int fail, int status, int delay)
{
    static char buf[MAX_MESSAGE + 1];
    char name[32], head[64], answer[256], *end = NULL, *cl;
    size_t len = 0, want = 0;
    ssize_t n;
    int hl;

    while (len < MAX_MESSAGE) {
        n = read(fd, buf + len, MAX_MESSAGE - len);
        if (n <= 0)
            return;
        len += (size_t)n;
        buf[len] = '\0';
        if (end == NULL && (end = strstr(buf, "\r\n\r\n")) != NULL) {
            cl = strcasestr(buf, "\r\ncontent-length:");
            want = (size_t)(end + 4 - buf) +
                   (cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0);
        }
        if (end != NULL && len >= want)
            break;
    }
    count++;
    hl = snprintf(head, sizeof(head), "received-ms: %lld\n", now_ms());
    {
        char *rec = malloc((size_t)hl + len);
        if (rec == NULL)
            exit(1);
        memcpy(rec, head, (size_t)hl);
        memcpy(rec + hl, buf, len);
        snprintf(name, sizeof(name), "%04d.req", count);
        write_atomic(name, rec, (size_t)hl + len);
        free(rec);
    }
    if (delay > 0) {
        struct timespec ts = { delay / 1000, (delay % 1000) * 1000000L };
        nanosleep(&ts, NULL);
    }
    if (count <= fail)
        status = 500;
    snprintf(answer, sizeof(answer),
             "HTTP/1.1 %d X\r\nContent-Type: text/plain\r\n"
             "Content-Length: 13\r\nConnection: close\r\n\r\n"
             "sink says %03d",
             status, status);
    send_str(fd, answer);
}

/* Read one CRLF line into line; 0 at EOF. */
static int
read_line(int fd, char *line, size_t cap)
{
    size_t n = 0;
    char c;

    while (n + 1 < cap) {
        if (read(fd, &c, 1) != 1)
            return 0;
        line[n++] = c;
        if (c == '\n')
            break;
    }
    line[n] = '\0';
    return 1;
}

static void
serve_smtp(int fd, int fail)
{
    static int datas;
    static char msg[MAX_MESSAGE + 1024];
    char line[2048], name[32];
    size_t len = 0;

    send_str(fd, "220 sink ESMTP\r\n");
    while (read_line(fd, line, sizeof(line))) {
        if (strncasecmp(line, "EHLO", 4) == 0) {
            send_str(fd, "250-sink\r\n250 8BITMIME\r\n");
        } else if (strncasecmp(line, "HELO", 4) == 0) {
            send_str(fd, "250 sink\r\n");
        } else if (strncasecmp(line, "MAIL FROM:", 10) == 0) {
            len = (size_t)snprintf(msg, sizeof(msg), "mail-from: %.*s\n",
                                   (int)strcspn(line + 10, "\r\n"), line + 10);
            send_str(fd, "250 ok\r\n");
        } else if (strncasecmp(line, "RCPT TO:", 8) == 0) {
            if (strncasecmp(line + 8, "<reject", 7) == 0) {
                send_str(fd, "550 no such user\r\n");
                continue;
            }
            len += (size_t)snprintf(msg + len, sizeof(msg) - len,
                                    "rcpt-to: %.*s\n",
                                    (int)strcspn(line + 8, "\r\n"), line + 8);
            send_str(fd, "250 ok\r\n");
        } else if (strncasecmp(line, "DATA", 4) == 0) {
            send_str(fd, "354 go on\r\n");
            while (read_line(fd, line, sizeof(line))) {
                const char *l = line;
                size_t n;
                if (strcmp(line, ".\r\n") == 0)
                    break;
                if (line[0] == '.')
                    l++; /* undo dot-stuffing (RFC 5321 4.5.2) */
                n = strlen(l);
                if (len + n < sizeof(msg)) {
                    memcpy(msg + len, l, n);
                    len += n;
                }
            }
            if (++datas <= fail) {
                send_str(fd, "451 try again later\r\n");
                continue;
            }
            count++;
            snprintf(name, sizeof(name), "%04d.eml", count);
            write_atomic(name, msg, len);
            send_str(fd, "250 queued\r\n");
        } else if (strncasecmp(line, "QUIT", 4) == 0) {
            send_str(fd, "221 bye\r\n");
            return;
        } else if (strncasecmp(line, "RSET", 4) == 0 ||
                   strncasecmp(line, "NOOP", 4) == 0) {
            send_str(fd, "250 ok\r\n");
        } else {
            send_str(fd, "502 not here\r\n");
        }
    }
}

/* The syslog mode: one file per datagram, until SIGTERM. */
static int
serve_syslog(void)
{
    struct sockaddr_un a;
    char buf[65536], name[32];
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0), got = 0;

    memset(&a, 0, sizeof(a));
    a.sun_family = AF_UNIX;
    snprintf(a.sun_path, sizeof(a.sun_path), "%s/log.sock", dir);
    unlink(a.sun_path);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        perror("sink: bind");
        return 1;
    }
    write_atomic("port", "0\n", 2); /* ready, as the other modes say */
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            perror("sink: recv");
            return 1;
        }
        snprintf(name, sizeof(name), "%04d.msg", ++got);
        write_atomic(name, buf, (size_t)n);
    }
}

int
main(int argc, char **argv)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);
    int fail = 0, status = 200, delay = 0, lfd, one = 1, smtp;
    char port[16];

    if (argc < 3 ||
        (strcmp(argv[1], "http") != 0 && strcmp(argv[1], "smtp") != 0 &&
         strcmp(argv[1], "syslog") != 0)) {
        fprintf(stderr, "usage: sink http|smtp|syslog DIR [--fail N] "
                        "[--status CODE] [--delay MS]\n");
        return 2;
    }
    smtp = strcmp(argv[1], "smtp") == 0;
    dir = argv[2];
    if (strcmp(argv[1], "syslog") == 0)
        return serve_syslog();
    for (int i = 3; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--fail") == 0)
            fail = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--status") == 0)
            status = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--delay") == 0)
            delay = atoi(argv[i + 1]);
    }
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        listen(lfd, 16) != 0 ||
        getsockname(lfd, (struct sockaddr *)&a, &alen) != 0) {
        perror("sink: listen");
        return 1;
    }
    snprintf(port, sizeof(port), "%d\n", ntohs(a.sin_port));
    write_atomic("port", port, strlen(port));
    for (;;) {
        struct timeval tv = { 30, 0 };
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR)
                continue;
            perror("sink: accept");
            return 1;
        }
        /* A stalled client cannot wedge the sink. */
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        if (smtp)
            serve_smtp(fd, fail);
        else
            serve_http(fd, fail, status, delay);
        close(fd);
    }
}
