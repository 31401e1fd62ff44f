/*
 * test_fcgi_abuse.c - hostile FastCGI peers straight on keeld's socket,
 * without a web server in between (issue #12, item 3; security catalogue
 * D-10): truncated records, wrong versions, unknown record types,
 * oversized params, FCGI_ABORT_REQUEST, silent peers, peers that never
 * read, connection floods, padding, multiplexed and kept connections.
 *
 * keeld-test runs with three request workers of one thread each and
 * request_timeout = 2s.  After every abuse: a normal request through the
 * same socket is answered promptly, all workers serve at once again
 * within request_timeout (no worker wedged), the master is the same
 * process, and no worker crashed ("reason":"crashed" in the log).
 * Needs KEEL_TEST_KEELD.
 */
#include "keel-build.h"

#include "../unit/unit.h"
#include "fcgi_client.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

enum {
    BEGIN_REQUEST = 1,
    ABORT_REQUEST = 2,
    END_REQUEST = 3,
    PARAMS = 4,
    STDIN = 5,
    STDOUT = 6,
    GET_VALUES = 9,
    GET_VALUES_RESULT = 10,
    UNKNOWN_TYPE = 11
};

#define KEEP_CONN       1
#define CANT_MPX_CONN   1
#define REQUEST_TIMEOUT 2.0 /* keel.conf below */
#define PROMPT          3.0 /* a normal request is answered within this */
#define WEDGE_MARGIN    3.0 /* slack for the watchdog and a respawn */
#define MAX_BODY        16384
#define WORKERS         3 /* of one thread each */

static const char *keeld_bin;
static char dir[] = "/tmp/keel-fcgi-abuse.XXXXXX";
static char sock[256];
static pid_t master;

static const char *const health[] = { "REQUEST_METHOD=GET",
                                      "REQUEST_URI=/health",
                                      "REMOTE_ADDR=127.0.0.1", NULL };

/* ---- raw records -------------------------------------------------------- */

static int
conn_open(void)
{
    return fcgi_connect(sock);
}

/* One record of any version, type, id and padding (zero bytes), in one
 * write: keeld may close as soon as it has read a record, and a record
 * written piecemeal would then fail half-way. */
static int
rec(int fd, int version, int type, int id, const void *data, size_t len,
    int pad)
{
    unsigned char *r = calloc(1, 8 + len + (size_t)pad);
    int rc;

    r[0] = (unsigned char)version;
    r[1] = (unsigned char)type;
    r[2] = (unsigned char)(id >> 8);
    r[3] = (unsigned char)id;
    r[4] = (unsigned char)(len >> 8);
    r[5] = (unsigned char)len;
    r[6] = (unsigned char)pad;
    if (len > 0)
        memcpy(r + 8, data, len);
    rc = fcgi_write_all(fd, r, 8 + len + (size_t)pad);
    free(r);
    return rc;
}

static int
begin(int fd, int id, int flags)
{
    unsigned char b[8] = { 0, 1, (unsigned char)flags, 0, 0, 0, 0, 0 };

    return rec(fd, 1, BEGIN_REQUEST, id, b, sizeof(b), 0);
}

/* A FastCGI name-value pair; lengths as given (they may lie). */
static size_t
nv_head(unsigned char *p, size_t nlen, size_t vlen)
{
    size_t n = 0;
    size_t lens[2] = { nlen, vlen };

    for (int i = 0; i < 2; i++) {
        if (lens[i] < 128) {
            p[n++] = (unsigned char)lens[i];
        } else {
            p[n++] = (unsigned char)((lens[i] >> 24) | 0x80);
            p[n++] = (unsigned char)(lens[i] >> 16);
            p[n++] = (unsigned char)(lens[i] >> 8);
            p[n++] = (unsigned char)lens[i];
        }
    }
    return n;
}

/* "NAME=value" params into buf; returns the length. */
static size_t
params_encode(unsigned char *buf, const char *const *params)
{
    size_t used = 0;

    for (int i = 0; params[i]; i++) {
        const char *eq = strchr(params[i], '=');
        size_t nl = (size_t)(eq - params[i]), vl = strlen(eq + 1);
        used += nv_head(buf + used, nl, vl);
        memcpy(buf + used, params[i], nl);
        used += nl;
        memcpy(buf + used, eq + 1, vl);
        used += vl;
    }
    return used;
}

/* A whole request with id `id` (flags in BEGIN_REQUEST), no body. */
static int
send_request(int fd, int id, int flags, const char *const *params)
{
    unsigned char buf[4096];
    size_t n = params_encode(buf, params);

    return begin(fd, id, flags) || rec(fd, 1, PARAMS, id, buf, n, 0) ||
           rec(fd, 1, PARAMS, id, NULL, 0, 0) ||
           rec(fd, 1, STDIN, id, NULL, 0, 0);
}

/*
 * A new connection with a POST announcing 100 bytes of body, of which
 * only 9 are sent (the rest never comes): the fd, or -1.
 */
static int
open_cut_post(void)
{
    static const char *const post[] = { "REQUEST_METHOD=POST",
                                        "REQUEST_URI=/test/echo",
                                        "CONTENT_TYPE=application/json",
                                        "CONTENT_LENGTH=100", NULL };
    unsigned char buf[1024];
    size_t n = params_encode(buf, post);
    int fd = conn_open();

    if (fd < 0)
        return -1;
    if (begin(fd, 1, 0) || rec(fd, 1, PARAMS, 1, buf, n, 0) ||
        rec(fd, 1, PARAMS, 1, NULL, 0, 0) ||
        rec(fd, 1, STDIN, 1, "{\"name\":\"", 9, 0)) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Read exactly n bytes within `secs`: 0, or -1 on EOF, error, timeout. */
static int
get(int fd, void *buf, size_t n, double secs)
{
    double end = unit_now() + secs;
    char *p = buf;

    while (n > 0) {
        struct pollfd pf = { .fd = fd, .events = POLLIN };
        int left = (int)((end - unit_now()) * 1000);
        ssize_t r;

        if (left <= 0 || poll(&pf, 1, left) <= 0)
            return -1;
        r = recv(fd, p, n, 0);
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

typedef struct record {
    int type, id;
    size_t len;
    unsigned char body[65536 + 256];
} record_t;

/* The next record within `secs`: 0, or -1. */
static int
next_record(int fd, record_t *r, double secs)
{
    unsigned char h[8];

    if (get(fd, h, 8, secs) != 0)
        return -1;
    r->type = h[1];
    r->id = (h[2] << 8) | h[3];
    r->len = ((size_t)h[4] << 8) | h[5];
    return get(fd, r->body, r->len + h[6], secs);
}

typedef struct answer {
    int ended;           /* FCGI_END_REQUEST seen */
    int protocol_status; /* from it */
    int foreign_ids;     /* records for another request id */
    char out[65536];     /* FCGI_STDOUT, truncated */
    size_t out_len;
} answer_t;

/* Collect the answer to request `id` until its END_REQUEST (1), the
 * peer's close or a timeout (0). */
static int
read_answer(int fd, int id, answer_t *a, double secs)
{
    record_t *r = malloc(sizeof(*r));
    double end = unit_now() + secs;

    memset(a, 0, sizeof(*a));
    while (next_record(fd, r, end - unit_now()) == 0) {
        if (r->id != id) {
            a->foreign_ids++;
            continue;
        }
        if (r->type == STDOUT && a->out_len + r->len < sizeof(a->out)) {
            memcpy(a->out + a->out_len, r->body, r->len);
            a->out_len += r->len;
            a->out[a->out_len] = '\0';
        } else if (r->type == END_REQUEST) {
            a->ended = 1;
            a->protocol_status = r->body[4];
            break;
        }
    }
    free(r);
    return a->ended;
}

/*
 * Whether keeld closes the connection within `secs` (reading and
 * discarding what it sends meanwhile); *stdout_bytes counts the
 * FCGI_STDOUT content among it.
 */
static int
dropped_within(int fd, double secs, size_t *stdout_bytes)
{
    double end = unit_now() + secs;
    unsigned char buf[65536];
    size_t got = 0;

    for (;;) {
        struct pollfd pf = { .fd = fd, .events = POLLIN };
        int left = (int)((end - unit_now()) * 1000);
        ssize_t r;

        if (left <= 0 || poll(&pf, 1, left) <= 0)
            return 0;
        r = recv(fd, buf, sizeof(buf), 0);
        if (r == 0 || (r < 0 && errno == ECONNRESET))
            break;
        if (r < 0)
            return 0;
        /* Good enough for the question "was a response sent": the
         * first record's type. */
        if (got == 0 && r >= 8 && buf[1] == STDOUT)
            got += (size_t)r;
    }
    if (stdout_bytes)
        *stdout_bytes = got;
    return 1;
}

/* ---- keeld -------------------------------------------------------------- */

static int
master_alive(void)
{
    int status;

    return waitpid(master, &status, WNOHANG) == 0;
}

/* A normal request answered 200 within PROMPT seconds. */
static int
served_promptly(void)
{
    char out[8192];
    double t0 = unit_now();
    long n = fcgi_request(sock, health, NULL, 0, out, sizeof(out));

    if (n <= 0 || strncmp(out, "Status: 200 ", 12) != 0) {
        fprintf(stderr, "    /health: %ld bytes: %.40s\n", n, n > 0 ? out : "");
        return 0;
    }
    if (unit_now() - t0 > PROMPT) {
        fprintf(stderr, "    /health took %.2fs\n", unit_now() - t0);
        return 0;
    }
    return 1;
}

typedef struct sleeper {
    pthread_t tid;
    long n;
    int pid;
    char out[8192];
} sleeper_t;

static void *
sleep_request(void *arg)
{
    static const char *const params[] = { "REQUEST_METHOD=GET",
                                          "REQUEST_URI=/test/sleep?ms=700",
                                          NULL };
    sleeper_t *s = arg;
    const char *p;

    s->n = fcgi_request(sock, params, NULL, 0, s->out, sizeof(s->out));
    p = s->n > 0 ? strstr(s->out, "\"pid\":") : NULL;
    s->pid = p ? atoi(p + 6) : 0;
    return NULL;
}

/*
 * Every worker serves at once: WORKERS concurrent 0.7 s requests answered
 * by as many different processes.  Tried until `deadline` (unit_now()
 * based): a worker wedged past it is a failure.
 */
static int
all_workers_serve_by(double deadline)
{
    do {
        sleeper_t s[WORKERS];
        int distinct = 0;

        for (int i = 0; i < WORKERS; i++)
            pthread_create(&s[i].tid, NULL, sleep_request, &s[i]);
        for (int i = 0; i < WORKERS; i++)
            pthread_join(s[i].tid, NULL);
        for (int i = 0; i < WORKERS; i++) {
            int seen = s[i].pid <= 0;
            for (int k = 0; k < i; k++)
                seen |= s[k].pid == s[i].pid;
            distinct += !seen;
        }
        if (distinct == WORKERS)
            return 1;
    } while (unit_now() < deadline);
    fprintf(stderr, "    the workers did not all serve at once in time\n");
    return 0;
}

/* What every abuse must leave behind; `since` is when it began. */
static void
assert_unharmed(double since)
{
    CU_ASSERT_TRUE(served_promptly());
    CU_ASSERT_TRUE(
        all_workers_serve_by(since + REQUEST_TIMEOUT + WEDGE_MARGIN));
    CU_ASSERT_TRUE(master_alive());
    CU_ASSERT_EQUAL(unit_log_count(dir, "\"reason\":\"crashed\""), 0);
    CU_ASSERT_EQUAL(unit_log_count(dir, "\"reason\":\"fatal\""), 0);
}

/* The end of an abuse test: its last connection (fd, or -1) closed, its
 * scratch (either may be NULL) freed, and keeld unharmed since `t0`. */
static void
abuse_done(int fd, answer_t *a, record_t *r, double t0)
{
    if (fd >= 0)
        close(fd);
    free(a);
    free(r);
    assert_unharmed(t0);
}

/* The request on `fd` answered with `status` ("Status: 400 "; NULL: with
 * anything but a 5xx) within `secs`, or not at all; either way the
 * connection then ends within `secs`.  Closes fd. */
static void
answered_or_dropped(int fd, answer_t *a, const char *status, double secs)
{
    if (read_answer(fd, 1, a, secs)) {
        if (status != NULL) {
            CU_ASSERT_EQUAL(strncmp(a->out, status, strlen(status)), 0);
        } else {
            CU_ASSERT_PTR_NULL(strstr(a->out, "Status: 5"));
        }
    }
    CU_ASSERT_TRUE(dropped_within(fd, secs, NULL));
    close(fd);
}

/* A management record of `type` (unknown to FastCGI) with `len` bytes of
 * `data`: answered FCGI_UNKNOWN_TYPE naming it; then a request on the
 * connection is served or dropped. */
static void
unknown_type_answered(int type, const void *data, size_t len, answer_t *a,
                      record_t *r)
{
    int fd = conn_open();

    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(rec(fd, 1, type, 0, data, len, 0), 0);
    CU_ASSERT_EQUAL_FATAL(next_record(fd, r, PROMPT), 0);
    CU_ASSERT_EQUAL(r->type, UNKNOWN_TYPE);
    CU_ASSERT_EQUAL(r->id, 0);
    CU_ASSERT_EQUAL(r->body[0], type);
    send_request(fd, 1, 0, health);
    if (read_answer(fd, 1, a, PROMPT))
        CU_ASSERT_EQUAL(strncmp(a->out, "Status: 200 ", 12), 0);
    close(fd);
}

/* ---- the abuses -----------------------------------------------------------
 */

/* Connect, send `n` bytes of `data`, half-close: keeld must drop it. */
static int
truncated_is_dropped(const void *data, size_t n)
{
    int fd = conn_open(), ok;
    size_t out = 0;

    if (fd < 0)
        return 0;
    ok = fcgi_write_all(fd, data, n) == 0 && shutdown(fd, SHUT_WR) == 0 &&
         dropped_within(fd, REQUEST_TIMEOUT + WEDGE_MARGIN, &out) && out == 0;
    close(fd);
    return ok;
}

static void
test_truncated_records_are_dropped(void)
{
    static const unsigned char begin_rec[16] = {
        1, BEGIN_REQUEST, 0, 1, 0, 8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0
    };
    unsigned char buf[512];
    double t0 = unit_now();

    /* A header cut after 5 bytes. */
    CU_ASSERT_TRUE(truncated_is_dropped(begin_rec, 5));
    /* BEGIN_REQUEST's body cut after 3 of 8 bytes. */
    CU_ASSERT_TRUE(truncated_is_dropped(begin_rec, 11));
    /* A PARAMS record announcing 200 bytes, 40 sent. */
    memcpy(buf, begin_rec, 16);
    memcpy(buf + 16, (unsigned char[]){ 1, PARAMS, 0, 1, 0, 200, 0, 0 }, 8);
    memset(buf + 24, 'a', 40);
    CU_ASSERT_TRUE(truncated_is_dropped(buf, 64));
    /* A name-value pair whose 4-byte length is cut in two. */
    memcpy(buf + 16, (unsigned char[]){ 1, PARAMS, 0, 1, 0, 2, 0, 0 }, 8);
    buf[24] = 0x80;
    buf[25] = 0;
    CU_ASSERT_TRUE(truncated_is_dropped(buf, 26));
    /* Complete params, then STDIN cut: CONTENT_LENGTH 100, 9 sent. */
    {
        int fd = open_cut_post();
        answer_t *a = malloc(sizeof(*a));

        CU_ASSERT_FATAL(fd >= 0);
        shutdown(fd, SHUT_WR);
        /* Answered (a 400: the body is short) or dropped; never a 5xx. */
        answered_or_dropped(fd, a, "Status: 400 ",
                            REQUEST_TIMEOUT + WEDGE_MARGIN);
        abuse_done(-1, a, NULL, t0);
    }
}

static void
test_wrong_versions_are_dropped(void)
{
    static const int versions[] = { 0, 2, 255 };
    unsigned char b[8] = { 0, 1, 0, 0, 0, 0, 0, 0 };
    double t0 = unit_now();

    for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
        int fd = conn_open();
        size_t out = 1;

        CU_ASSERT_FATAL(fd >= 0);
        CU_ASSERT_EQUAL(rec(fd, versions[i], BEGIN_REQUEST, 1, b, sizeof(b), 0),
                        0);
        /* A whole request after it, which must not be served. */
        send_request(fd, 1, 0, health);
        CU_ASSERT_TRUE(dropped_within(fd, PROMPT, &out));
        CU_ASSERT_EQUAL(out, 0);
        close(fd);
    }
    assert_unharmed(t0);
}

static void
test_unknown_record_types_are_answered_or_dropped(void)
{
    record_t *r = malloc(sizeof(*r));
    answer_t *a = malloc(sizeof(*a));
    unsigned char buf[256];
    double t0 = unit_now();
    size_t n;
    int fd;

    /* A management record of an unknown type, empty and with content. */
    unknown_type_answered(99, NULL, 0, a, r);
    unknown_type_answered(200, "12345678", 8, a, r);

    /* FCGI_GET_VALUES (padded to 8 bytes: unpadded, libfcgi drops the
     * connection unanswered): keeld says it does not multiplex. */
    fd = conn_open();
    CU_ASSERT_FATAL(fd >= 0);
    n = nv_head(buf, 15, 0);
    memcpy(buf + n, "FCGI_MPXS_CONNS", 15);
    n += 15;
    CU_ASSERT_EQUAL(rec(fd, 1, GET_VALUES, 0, buf, n, 7), 0);
    CU_ASSERT_EQUAL_FATAL(next_record(fd, r, PROMPT), 0);
    CU_ASSERT_EQUAL(r->type, GET_VALUES_RESULT);
    CU_ASSERT_TRUE(r->len == 18 &&
                   memcmp(r->body + 2, "FCGI_MPXS_CONNS0", 16) == 0);
    close(fd);

    /* An unknown type inside a request (id 1, mid-params): dropped, or
     * the request answered; nothing else. */
    fd = conn_open();
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(begin(fd, 1, 0), 0);
    n = params_encode(buf, health);
    CU_ASSERT_EQUAL(rec(fd, 1, PARAMS, 1, buf, n, 0), 0);
    CU_ASSERT_EQUAL(rec(fd, 1, 99, 1, "xxxxxxxx", 8, 0), 0);
    rec(fd, 1, PARAMS, 1, NULL, 0, 0);
    rec(fd, 1, STDIN, 1, NULL, 0, 0);
    answered_or_dropped(fd, a, "Status: 200 ", PROMPT);
    abuse_done(-1, a, r, t0);
}

/* One param NAME of `vlen` bytes of `fill`, split in PARAMS records of
 * at most 65535 bytes, after the other params; the answer. */
static void
big_param_request(const char *name, size_t vlen, char fill, answer_t *a)
{
    static const char *const base[] = { "REQUEST_METHOD=GET",
                                        "REMOTE_ADDR=127.0.0.1", NULL };
    size_t total, n, nl = strlen(name);
    unsigned char *buf = malloc(vlen + 4096), *p;
    int fd = conn_open();

    CU_ASSERT_FATAL(fd >= 0 && buf != NULL);
    total = params_encode(buf, base);
    total += nv_head(buf + total, nl, vlen);
    memcpy(buf + total, name, nl);
    total += nl;
    memset(buf + total, fill, vlen);
    if (strcmp(name, "REQUEST_URI") == 0)
        buf[total] = '/';
    total += vlen;
    CU_ASSERT_EQUAL(begin(fd, 1, 0), 0);
    for (p = buf; total > 0; p += n, total -= n) {
        n = total > 65535 ? 65535 : total;
        if (rec(fd, 1, PARAMS, 1, p, n, 0) != 0)
            break;
    }
    rec(fd, 1, PARAMS, 1, NULL, 0, 0);
    rec(fd, 1, STDIN, 1, NULL, 0, 0);
    read_answer(fd, 1, a, REQUEST_TIMEOUT + WEDGE_MARGIN);
    close(fd);
    free(buf);
}

static void
test_oversized_params_get_the_contract_error(void)
{
    answer_t *a = malloc(sizeof(*a));
    unsigned char buf[64];
    double t0 = unit_now();
    size_t out = 1;
    int fd;

    /* A 64 KiB header (max_header_size 8k): 431. */
    big_param_request("HTTP_X_BIG", 64 * 1024, 'h', a);
    CU_ASSERT_TRUE(a->ended);
    CU_ASSERT_EQUAL(strncmp(a->out, "Status: 431 ", 12), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(a->out, "REQUEST_HEADER_FIELDS_TOO_LARGE"));
    /* A 1 MiB path (max_path_size 2k): 414. */
    big_param_request("REQUEST_URI", 1024 * 1024, 'p', a);
    CU_ASSERT_TRUE(a->ended);
    CU_ASSERT_EQUAL(strncmp(a->out, "Status: 414 ", 12), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(a->out, "URI_TOO_LONG"));
    /* 4 MiB of one unknown param: read, ignored, answered. */
    big_param_request("X_UNKNOWN", 4 * 1024 * 1024, 'u', a);
    CU_ASSERT_TRUE(a->ended);
    CU_ASSERT_EQUAL(strncmp(a->out, "Status: 404 ", 12), 0);

    /* Lengths of 2^31 - 1 (CVE-2025-23016's overflow): dropped. */
    fd = conn_open();
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(begin(fd, 1, 0), 0);
    CU_ASSERT_EQUAL(
        rec(fd, 1, PARAMS, 1, buf, nv_head(buf, 0x7fffffff, 0x7fffffff), 0), 0);
    rec(fd, 1, PARAMS, 1, NULL, 0, 0);
    shutdown(fd, SHUT_WR);
    CU_ASSERT_TRUE(dropped_within(fd, REQUEST_TIMEOUT + WEDGE_MARGIN, &out));
    CU_ASSERT_EQUAL(out, 0);
    close(fd);

    /* A value announced as 1 GiB, 64 KiB sent, then EOF: dropped. */
    fd = conn_open();
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(begin(fd, 1, 0), 0);
    {
        unsigned char *big = calloc(1, 65535);
        size_t n = nv_head(big, 1, 1u << 30);
        big[n] = 'X';
        CU_ASSERT_EQUAL(rec(fd, 1, PARAMS, 1, big, 65535, 0), 0);
        free(big);
    }
    shutdown(fd, SHUT_WR);
    out = 1;
    CU_ASSERT_TRUE(dropped_within(fd, REQUEST_TIMEOUT + WEDGE_MARGIN, &out));
    CU_ASSERT_EQUAL(out, 0);
    abuse_done(fd, a, NULL, t0);
}

static void
test_abort_request_mid_request(void)
{
    static const char *const post[] = { "REQUEST_METHOD=POST",
                                        "REQUEST_URI=/test/echo",
                                        "CONTENT_TYPE=application/json",
                                        "CONTENT_LENGTH=100", NULL };
    answer_t *a = malloc(sizeof(*a));
    unsigned char buf[1024];
    double t0 = unit_now();
    size_t n = params_encode(buf, post);
    int fd;

    /* Mid-stdin: answered (400, the body is cut short) or dropped, and
     * the connection closed; never a 5xx, never a wait. */
    fd = open_cut_post();
    CU_ASSERT_FATAL(fd >= 0);
    usleep(200000);
    CU_ASSERT_EQUAL(rec(fd, 1, ABORT_REQUEST, 1, NULL, 0, 0), 0);
    answered_or_dropped(fd, a, "Status: 400 ", PROMPT);

    /* Mid-params. */
    fd = conn_open();
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(begin(fd, 1, 0), 0);
    CU_ASSERT_EQUAL(rec(fd, 1, PARAMS, 1, buf, n, 0), 0);
    usleep(200000);
    CU_ASSERT_EQUAL(rec(fd, 1, ABORT_REQUEST, 1, NULL, 0, 0), 0);
    answered_or_dropped(fd, a, NULL, PROMPT);

    /* After the whole request, while it runs (a 0.5 s sleep): the
     * answer may still come, the connection ends either way. */
    fd = conn_open();
    CU_ASSERT_FATAL(fd >= 0);
    {
        static const char *const slow[] = { "REQUEST_METHOD=GET",
                                            "REQUEST_URI=/test/sleep?ms=500",
                                            NULL };
        CU_ASSERT_EQUAL(send_request(fd, 1, 0, slow), 0);
    }
    usleep(100000);
    CU_ASSERT_EQUAL(rec(fd, 1, ABORT_REQUEST, 1, NULL, 0, 0), 0);
    answered_or_dropped(fd, a, "Status: 200 ", PROMPT);
    abuse_done(-1, a, NULL, t0);
}

/*
 * `peers` connections, every other one silent (connected, nothing sent)
 * or stalled (half its params, then nothing); each must be dropped by
 * `bound` seconds from now.  With `prompt`, normal requests are answered
 * promptly meanwhile.
 */
static void
hold_peers(int peers, double bound, int prompt)
{
    int fds[16];
    unsigned char buf[1024];
    double t0 = unit_now();
    size_t n = params_encode(buf, health);

    for (int i = 0; i < peers; i++) {
        fds[i] = conn_open();
        CU_ASSERT_FATAL(fds[i] >= 0);
        if (i % 2 == 1) {
            begin(fds[i], 1, 0);
            rec(fds[i], 1, PARAMS, 1, buf, n / 2, 0);
        }
    }
    if (prompt) {
        usleep(300000); /* until the peers are accepted */
        for (int i = 0; i < 3; i++)
            CU_ASSERT_TRUE(served_promptly());
    }
    for (int i = 0; i < peers; i++) {
        CU_ASSERT_TRUE(dropped_within(fds[i], t0 + bound - unit_now(), NULL));
        close(fds[i]);
    }
    fprintf(stderr, "    %d silent/stalled peers dropped after %.2fs\n", peers,
            unit_now() - t0);
}

/*
 * Peers that connect and send nothing, and peers that send half a
 * request and stall: fewer than the workers, the others serve meanwhile
 * and each is dropped within request_timeout; twice as many as the
 * workers, they queue, each dropped within request_timeout of being
 * accepted; afterwards every worker serves again.
 */
static void
test_silent_and_stalled_peers_are_dropped_by_request_timeout(void)
{
    double t0 = unit_now();

    hold_peers(WORKERS - 1, REQUEST_TIMEOUT + WEDGE_MARGIN, 1);
    hold_peers(2 * WORKERS, 2 * REQUEST_TIMEOUT + 2 * WEDGE_MARGIN, 0);
    assert_unharmed(t0 + REQUEST_TIMEOUT + WEDGE_MARGIN);
}

/*
 * Peers that ask for a 4 MiB answer and never read it, and a peer that
 * stops sending its body half-way: each read or write keeld waits on
 * gives up at half of request_timeout, so the thread is freed without
 * the watchdog killing its worker.
 */
static void
test_stalled_body_and_unread_answer_free_the_thread(void)
{
    static const char *const big[] = { "REQUEST_METHOD=GET",
                                       "REQUEST_URI=/test/big?kb=4096", NULL };
    int kills = unit_log_count(dir, "\"reason\":\"request_timeout\"");
    answer_t *a = malloc(sizeof(*a));
    double t0 = unit_now(), took;
    int fds[WORKERS - 1], fd;

    /* All workers but one: the answer is far beyond the socket buffer. */
    for (int i = 0; i < WORKERS - 1; i++) {
        fds[i] = conn_open();
        CU_ASSERT_FATAL(fds[i] >= 0);
        CU_ASSERT_EQUAL(send_request(fds[i], 1, 0, big), 0);
    }
    usleep(300000);
    CU_ASSERT_TRUE(served_promptly());

    /* The body stops after 9 of 100 bytes: 400 at half the timeout. */
    fd = open_cut_post();
    CU_ASSERT_FATAL(fd >= 0);
    t0 = unit_now();
    CU_ASSERT_TRUE(read_answer(fd, 1, a, REQUEST_TIMEOUT + WEDGE_MARGIN));
    took = unit_now() - t0;
    fprintf(stderr, "    stalled body answered after %.2fs\n", took);
    CU_ASSERT_EQUAL(strncmp(a->out, "Status: 400 ", 12), 0);
    CU_ASSERT_TRUE(took < REQUEST_TIMEOUT);
    close(fd);

    assert_unharmed(t0);
    for (int i = 0; i < WORKERS - 1; i++)
        close(fds[i]);
    /* Past request_timeout: still no worker killed for any of them. */
    while (unit_now() - t0 < REQUEST_TIMEOUT + 1)
        usleep(100000);
    CU_ASSERT_EQUAL(unit_log_count(dir, "\"reason\":\"request_timeout\""),
                    kills);
    free(a);
}

static void
test_connection_flood(void)
{
    enum { FLOOD = 400, HALF = 100 };
    double t0 = unit_now();
    int opened = 0;

    /* Opened and closed at once, with nothing sent. */
    for (int i = 0; i < FLOOD && unit_now() - t0 < 20; i++) {
        int fd = conn_open();
        if (fd >= 0) {
            opened++;
            close(fd);
        }
    }
    /* Whole requests whose answer nobody reads. */
    for (int i = 0; i < HALF && unit_now() - t0 < 30; i++) {
        int fd = conn_open();
        if (fd >= 0) {
            send_request(fd, 1, 0, health);
            close(fd);
        }
    }
    fprintf(stderr, "    %d connections opened and closed in %.2fs\n", opened,
            unit_now() - t0);
    CU_ASSERT_TRUE(opened > FLOOD / 2);
    assert_unharmed(unit_now());
}

static void
test_padded_records_are_served(void)
{
    answer_t *a = malloc(sizeof(*a));
    unsigned char buf[1024];
    unsigned char b[8] = { 0, 1, 0, 0, 0, 0, 0, 0 };
    double t0 = unit_now();
    size_t n = params_encode(buf, health);
    int fd = conn_open();

    /* Padding where nginx and Apache put it (content records of params
     * and stdin, split anywhere), and more: served. */
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(begin(fd, 1, 0), 0);
    CU_ASSERT_EQUAL(rec(fd, 1, PARAMS, 1, buf, 5, 3), 0);
    CU_ASSERT_EQUAL(rec(fd, 1, PARAMS, 1, buf + 5, n - 5, 255), 0);
    CU_ASSERT_EQUAL(rec(fd, 1, PARAMS, 1, NULL, 0, 0), 0);
    CU_ASSERT_EQUAL(rec(fd, 1, STDIN, 1, NULL, 0, 1), 0);
    CU_ASSERT_TRUE(read_answer(fd, 1, a, PROMPT));
    CU_ASSERT_EQUAL(strncmp(a->out, "Status: 200 ", 12), 0);
    close(fd);

    /*
     * Padding on BEGIN_REQUEST or on the empty record that ends the
     * params: libfcgi reads those padding bytes as the next record (it
     * forgets the padding when it switches streams).  The request must
     * then be dropped or refused, never run with the params cut short
     * (which is what keeld did before it checked the params stream).
     */
    for (int pad_begin = 1; pad_begin >= 0; pad_begin--) {
        size_t out = 0;

        fd = conn_open();
        CU_ASSERT_FATAL(fd >= 0);
        CU_ASSERT_EQUAL(
            rec(fd, 1, BEGIN_REQUEST, 1, b, sizeof(b), pad_begin ? 255 : 0), 0);
        /* keeld may have dropped it already: writes may fail. */
        rec(fd, 1, PARAMS, 1, buf, n, 0);
        rec(fd, 1, PARAMS, 1, NULL, 0, pad_begin ? 0 : 7);
        rec(fd, 1, STDIN, 1, NULL, 0, 0);
        shutdown(fd, SHUT_WR);
        if (read_answer(fd, 1, a, PROMPT)) {
            CU_ASSERT_EQUAL(strncmp(a->out, "Status: 400 ", 12), 0);
            CU_ASSERT_PTR_NULL(strstr(a->out, "Missing request method"));
            out = 1;
        } else {
            CU_ASSERT_TRUE(dropped_within(fd, PROMPT, NULL));
        }
        fprintf(stderr, "    padding on %s: %s\n",
                pad_begin ? "BEGIN_REQUEST" : "the end of params",
                out ? "400" : "dropped");
        close(fd);
    }

    /* A body of 65535 bytes in one record with 255 bytes of padding
     * (HAProxy's uint16 overflow): exactly that body, 413 as it is over
     * max_body_size here, not a smuggled record. */
    {
        static const char *const post[] = { "REQUEST_METHOD=POST",
                                            "REQUEST_URI=/test/echo",
                                            "CONTENT_TYPE=application/json",
                                            "CONTENT_LENGTH=65535", NULL };
        char *body = malloc(65535);

        memset(body, ' ', 65535);
        n = params_encode(buf, post);
        fd = conn_open();
        CU_ASSERT_FATAL(fd >= 0);
        CU_ASSERT_EQUAL(begin(fd, 1, 0), 0);
        CU_ASSERT_EQUAL(rec(fd, 1, PARAMS, 1, buf, n, 0), 0);
        CU_ASSERT_EQUAL(rec(fd, 1, PARAMS, 1, NULL, 0, 0), 0);
        CU_ASSERT_EQUAL(rec(fd, 1, STDIN, 1, body, 65535, 255), 0);
        CU_ASSERT_EQUAL(rec(fd, 1, STDIN, 1, NULL, 0, 0), 0);
        CU_ASSERT_TRUE(read_answer(fd, 1, a, PROMPT));
        CU_ASSERT_EQUAL(strncmp(a->out, "Status: 413 ", 12), 0);
        CU_ASSERT_EQUAL(a->foreign_ids, 0);
        close(fd);
        free(body);
    }
    abuse_done(-1, a, NULL, t0);
}

/*
 * A second request id on a connection whose first request is not done:
 * FCGI_END_REQUEST{FCGI_CANT_MPX_CONN} for it, the first answered under
 * its own id only.  With FCGI_KEEP_CONN the connection then takes the
 * next request (or is closed); a kept connection left idle holds no
 * worker past request_timeout.
 */
static void
test_multiplexed_ids_and_kept_connections(void)
{
    answer_t *a = malloc(sizeof(*a));
    record_t *r = malloc(sizeof(*r));
    unsigned char buf[1024];
    double t0 = unit_now();
    size_t n = params_encode(buf, health);
    int fd = conn_open();

    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(begin(fd, 1, KEEP_CONN), 0);
    CU_ASSERT_EQUAL(rec(fd, 1, PARAMS, 1, buf, n, 0), 0);
    CU_ASSERT_EQUAL(begin(fd, 2, KEEP_CONN), 0);
    CU_ASSERT_EQUAL_FATAL(next_record(fd, r, PROMPT), 0);
    CU_ASSERT_EQUAL(r->type, END_REQUEST);
    CU_ASSERT_EQUAL(r->id, 2);
    CU_ASSERT_EQUAL(r->body[4], CANT_MPX_CONN);
    /* Records of id 2 are ignored; id 1 completes. */
    CU_ASSERT_EQUAL(rec(fd, 1, PARAMS, 2, buf, n, 0), 0);
    CU_ASSERT_EQUAL(rec(fd, 1, PARAMS, 1, NULL, 0, 0), 0);
    CU_ASSERT_EQUAL(rec(fd, 1, STDIN, 1, NULL, 0, 0), 0);
    CU_ASSERT_TRUE(read_answer(fd, 1, a, PROMPT));
    CU_ASSERT_EQUAL(strncmp(a->out, "Status: 200 ", 12), 0);
    CU_ASSERT_EQUAL(a->foreign_ids, 0);

    /* Kept open: the next request on it, id 2 now, is answered
     * promptly, or the connection is closed; never left waiting. */
    {
        double t1 = unit_now();
        if (send_request(fd, 2, KEEP_CONN, health) == 0 &&
            read_answer(fd, 2, a, PROMPT)) {
            CU_ASSERT_EQUAL(strncmp(a->out, "Status: 200 ", 12), 0);
        } else {
            CU_ASSERT_TRUE(dropped_within(fd, 0.1, NULL));
        }
        fprintf(stderr, "    second request on a kept connection: %.2fs\n",
                unit_now() - t1);
        CU_ASSERT_TRUE(unit_now() - t1 < PROMPT);
    }
    /* Now left idle: it must not pin a worker past request_timeout. */
    CU_ASSERT_TRUE(
        all_workers_serve_by(unit_now() + REQUEST_TIMEOUT + WEDGE_MARGIN));
    CU_ASSERT_TRUE(dropped_within(fd, REQUEST_TIMEOUT + WEDGE_MARGIN, NULL));
    abuse_done(fd, a, r, t0);
}

static void
test_master_never_restarted(void)
{
    CU_ASSERT_TRUE(master_alive());
    CU_ASSERT_EQUAL(unit_log_count(dir, "\"reason\":\"crashed\""), 0);
    fprintf(stderr, "    worker exits: %d request_timeout, %d crashed\n",
            unit_log_count(dir, "\"reason\":\"request_timeout\""),
            unit_log_count(dir, "\"reason\":\"crashed\""));
}

static const unit_test_t tests[] = {
    { "truncated records are dropped", test_truncated_records_are_dropped },
    { "wrong protocol versions are dropped", test_wrong_versions_are_dropped },
    { "unknown record types are answered FCGI_UNKNOWN_TYPE or dropped",
      test_unknown_record_types_are_answered_or_dropped },
    { "oversized params get the contract's error or are dropped",
      test_oversized_params_get_the_contract_error },
    { "FCGI_ABORT_REQUEST mid-request ends the request",
      test_abort_request_mid_request },
    { "silent and stalled peers are dropped by request_timeout",
      test_silent_and_stalled_peers_are_dropped_by_request_timeout },
    { "a stalled body or an unread answer frees the thread, no kill",
      test_stalled_body_and_unread_answer_free_the_thread },
    { "a flood of connections opened and closed", test_connection_flood },
    { "padded records are served", test_padded_records_are_served },
    { "multiplexed ids and kept connections",
      test_multiplexed_ids_and_kept_connections },
    { "the master never restarted and no worker crashed",
      test_master_never_restarted },
};

int
main(void)
{
    char conf[300], out[8192];
    FILE *f;
    int rc;

    keeld_bin = getenv("KEEL_TEST_KEELD");
    if (keeld_bin == NULL || mkdtemp(dir) == NULL) {
        fprintf(stderr, "KEEL_TEST_KEELD is not set\n");
        return 1;
    }
    snprintf(sock, sizeof(sock), "%s/keel.sock", dir);
    snprintf(conf, sizeof(conf), "%s/keel.conf", dir);
    f = fopen(conf, "w");
    if (f == NULL)
        return 1;
    /* No database: /health answers "degraded", /test/sleep and
     * /test/big need none. */
    fprintf(f,
            "[server]\nlisten = %s\nworkers = %d\nthreads = 1\n"
            "socket_mode = 0600\nrequest_timeout = 2s\n"
            "slow_request_threshold = 0s\n"
            "[http]\nmax_body_size = %d\n"
            "[jobs]\nworkers = 0\n"
            "[auth]\njwt_secret = test-fcgi-abuse-secret-0123456789abcdef\n"
            "[log]\nfile = %s/keeld.log\n",
            sock, WORKERS, MAX_BODY, dir);
    fclose(f);
    master = fork();
    if (master == 0) {
        execl(keeld_bin, keeld_bin, "--foreground", "--config", conf,
              (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) {
        if (fcgi_request(sock, health, NULL, 0, out, sizeof(out)) > 0)
            break;
        usleep(50000);
    }
    rc = unit_run("FastCGI protocol abuse", UNIT_TESTS(tests));
    kill(master, SIGTERM);
    {
        int status;
        for (int i = 0; i < 200 && waitpid(master, &status, WNOHANG) == 0; i++)
            usleep(50000);
        if (kill(master, 0) == 0) {
            kill(master, SIGKILL);
            waitpid(master, &status, 0);
        }
    }
    if (rc != 0) {
        char cmd[400];
        snprintf(cmd, sizeof(cmd), "tail -n 30 %s/keeld.log >&2", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "(no keeld log)\n");
    }
    if (getenv("KEEL_KEEP_TEST_DIR") != NULL) {
        fprintf(stderr, "test directory kept: %s\n", dir);
    } else {
        char cmd[400];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", dir);
    }
    return rc;
}
