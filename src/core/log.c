/* log.c - JSON lines logger with redaction. */
#include "keel-build.h"

#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static const char *const level_names[] = { "debug", "info", "warn", "error" };

static struct {
    pthread_mutex_t lock; /* guards fd and path across reopen */
    int fd;
    char *path;
    int syslog; /* fd is a datagram socket to a syslog daemon */
    enum klog_level level;
    char role[16];
    int index;
    /* Lines a failed write dropped since the last one that went through. */
    unsigned long lost;
    int lost_errno;
    int torn; /* the file ends in part of a line */
} logger = { .lock = PTHREAD_MUTEX_INITIALIZER,
             .fd = STDERR_FILENO,
             .level = KLOG_INFO,
             .role = "keel",
             .index = -1 };

/*
 * Substrings that mark a member as secret.  Matching is by substring and
 * case-insensitive so that "refresh_token", "X-Api-Key" and "newPassword"
 * are all caught.
 */
static const char *const secret_words[] = {
    "password", "passwd",  "token",      "secret",  "authorization",
    "cookie",   "api_key", "apikey",     "api-key", "pepper",
    "hash",     "jwt",     "credential",
};

int
log_level_parse(const char *s)
{
    for (int i = 0; i < (int)KEEL_ARRAY_LEN(level_names); i++)
        if (strcmp(s, level_names[i]) == 0)
            return i;
    return -1;
}

/* "syslog" or "syslog:/path/to/socket": the socket's path, else NULL. */
static const char *
syslog_socket(const char *path)
{
    if (strncmp(path, "syslog", 6) != 0)
        return NULL;
    if (path[6] == '\0')
        return "/dev/log";
    return path[6] == ':' ? path + 7 : NULL;
}

/* A file opened for appending, or a datagram socket connected to the
 * syslog daemon's socket; -1 on failure. */
static int
open_path(const char *path)
{
    const char *sock = syslog_socket(path);
    struct sockaddr_un sa;
    int fd;

    if (sock == NULL)
        return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (strlen(sock) >= sizeof(sa.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    strcpy(sa.sun_path, sock);
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        fd = -1;
    }
    return fd;
}

int
log_open(const char *path, enum klog_level level)
{
    int fd = STDERR_FILENO;

    if (path != NULL && *path != '\0') {
        fd = open_path(path);
        if (fd < 0)
            return -1;
    }
    pthread_mutex_lock(&logger.lock);
    if (logger.fd != STDERR_FILENO)
        close(logger.fd);
    logger.fd = fd;
    logger.torn = 0;
    free(logger.path);
    logger.path = (path && *path) ? strdup(path) : NULL;
    logger.syslog = logger.path != NULL && syslog_socket(logger.path) != NULL;
    logger.level = level;
    pthread_mutex_unlock(&logger.lock);
    return 0;
}

int
log_reopen(void)
{
    int rc = 0;

    pthread_mutex_lock(&logger.lock);
    if (logger.path != NULL) {
        int fd = open_path(logger.path);
        if (fd < 0) {
            rc = -1;
        } else {
            close(logger.fd);
            logger.fd = fd;
            logger.torn = 0;
        }
    }
    pthread_mutex_unlock(&logger.lock);
    return rc;
}

void
log_set_level(enum klog_level level)
{
    logger.level = level;
}

void
log_set_process(const char *role, int index)
{
    snprintf(logger.role, sizeof(logger.role), "%s", role);
    logger.index = index;
}

json_object *
log_new(enum klog_level level, const char *msg)
{
    json_object *o;
    char ts[32];

    if (level < logger.level)
        return NULL;
    o = json_object_new_object();
    json_object_object_add(
        o, "ts", json_object_new_string(time_rfc3339(time_wall(), ts, 32)));
    json_object_object_add(o, "level",
                           json_object_new_string(level_names[level]));
    json_object_object_add(o, "msg", json_object_new_string(msg));
    json_object_object_add(o, "pid", json_object_new_int((int)getpid()));
    json_object_object_add(o, "role", json_object_new_string(logger.role));
    if (logger.index >= 0)
        json_object_object_add(o, "worker", json_object_new_int(logger.index));
    return o;
}

int
log_key_is_secret(const char *key)
{
    size_t klen = strlen(key);

    for (size_t i = 0; i < KEEL_ARRAY_LEN(secret_words); i++) {
        size_t wlen = strlen(secret_words[i]);
        for (size_t off = 0; off + wlen <= klen; off++)
            if (ascii_ncasecmp(key + off, secret_words[i], wlen) == 0)
                return 1;
    }
    return 0;
}

void
log_redact(json_object *o)
{
    if (json_object_is_type(o, json_type_array)) {
        size_t n = json_object_array_length(o);
        for (size_t i = 0; i < n; i++)
            log_redact(json_object_array_get_idx(o, i));
        return;
    }
    if (!json_object_is_type(o, json_type_object))
        return;
    json_object_object_foreach(o, key, val)
    {
        if (log_key_is_secret(key)) {
            /* Replacing a value in place keeps the iteration valid. */
            json_object_object_add(o, key,
                                   json_object_new_string("[REDACTED]"));
        } else {
            log_redact(val);
        }
    }
}

/*
 * One datagram to the syslog daemon: "<PRI>Mmm dd hh:mm:ss keel[pid]: "
 * and the JSON line (RFC 3164; facility daemon, severity from the line's
 * level).  A daemon that restarted has a new socket: reconnect once.
 * Called with the lock held.
 */
static void
send_syslog(json_object *line, const char *s, size_t len)
{
    static const int severity[] = { 7, 6, 4, 3 }; /* debug info warn error */
    json_object *lv;
    int sev = 6, pri;
    char head[64], *msg;
    size_t hl;
    time_t now = time(NULL);
    struct tm tm;

    if (json_object_object_get_ex(line, "level", &lv)) {
        int l = log_level_parse(json_object_get_string(lv));
        if (l >= 0)
            sev = severity[l];
    }
    pri = 3 * 8 + sev; /* LOG_DAEMON */
    localtime_r(&now, &tm);
    hl = (size_t)snprintf(head, sizeof(head), "<%d>", pri);
    hl += strftime(head + hl, sizeof(head) - hl, "%b %e %H:%M:%S ", &tm);
    hl += (size_t)snprintf(head + hl, sizeof(head) - hl,
                           "keel[%d]: ", (int)getpid());
    msg = xmalloc(hl + len);
    memcpy(msg, head, hl);
    memcpy(msg + hl, s, len);
    for (int attempt = 0; attempt < 2; attempt++) {
        int fd;
        if (send(logger.fd, msg, hl + len, MSG_NOSIGNAL) >= 0)
            break;
        if (attempt == 1 || (fd = open_path(logger.path)) < 0)
            break;
        close(logger.fd);
        logger.fd = fd;
    }
    free(msg);
}

/* Write len bytes of buf to fd; the count written, short only on error. */
static size_t
write_full(int fd, const char *buf, size_t len)
{
    size_t off = 0;

    while (off < len) {
        ssize_t w = write(fd, buf + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    return off;
}

/*
 * Take back the n bytes a short write left at the end of a regular file,
 * so that no other process glues its next line to them.  1 when done.
 * With the disk full nobody can append meanwhile; only space returning in
 * this very instant could let another line in first (it would be cut).
 */
static int
untear(size_t n)
{
    struct stat st;

    if (fstat(logger.fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        st.st_size < (off_t)n)
        return 0;
    return ftruncate(logger.fd, st.st_size - (off_t)n) == 0;
}

/*
 * Append one line (ending in a newline) to the log file; called with the
 * lock held.  A failed write (a full disk, a file size limit) must neither
 * stop nor slow the caller: the line is dropped and counted.  When writes
 * go through again, a warning tells how many lines were lost and why.  A
 * line cut short is taken back (untear), or else ended before the next
 * one, so that it spoils only itself.
 */
static void
write_line(const char *buf, size_t len)
{
    size_t n;

    if (logger.torn && write_full(logger.fd, "\n", 1) == 1)
        logger.torn = 0;
    if (logger.torn) {
        logger.lost++;
        return;
    }
    /* One write per line: O_APPEND keeps lines of all processes whole. */
    n = write_full(logger.fd, buf, len);
    if (n < len) {
        logger.lost++;
        logger.lost_errno = errno;
        logger.torn = n > 0 && !untear(n);
        return;
    }
    if (logger.lost > 0) {
        char msg[160], *note;
        json_object *o;
        const char *s;

        snprintf(msg, sizeof(msg), "%lu log line(s) lost: %s", logger.lost,
                 strerror(logger.lost_errno));
        o = log_new(KLOG_WARN, msg);
        if (o == NULL) {
            logger.lost = 0;
            return;
        }
        s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        len = strlen(s);
        note = xmalloc(len + 1);
        memcpy(note, s, len);
        note[len] = '\n';
        n = write_full(logger.fd, note, len + 1);
        if (n == len + 1)
            logger.lost = 0;
        else
            logger.torn = n > 0;
        free(note);
        json_object_put(o);
    }
}

void
log_emit(json_object *line)
{
    const char *s;
    size_t len;
    char *buf;

    if (line == NULL)
        return;
    log_redact(line);
    s = json_object_to_json_string_ext(
        line, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    len = strlen(s);
    if (logger.syslog) {
        pthread_mutex_lock(&logger.lock);
        send_syslog(line, s, len);
        pthread_mutex_unlock(&logger.lock);
        json_object_put(line);
        return;
    }
    buf = xmalloc(len + 1);
    memcpy(buf, s, len);
    buf[len] = '\n';
    pthread_mutex_lock(&logger.lock);
    write_line(buf, len + 1);
    pthread_mutex_unlock(&logger.lock);
    free(buf);
    json_object_put(line);
}

void
log_printf(enum klog_level level, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    json_object *line;

    if (level < logger.level)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    line = log_new(level, msg);
    log_emit(line);
}
