/*
 * log.h - structured JSON logger: one JSON object per line.
 *
 * Every line carries "ts", "level", "msg", "pid" and "role" (master, worker,
 * ...).  Lines are written with one write(2) on an O_APPEND descriptor, so
 * lines from every process of the server interleave whole.  Before a line is
 * written, any member whose name looks like a secret (password, token,
 * authorization, cookie, secret, ...) has its value replaced, at any depth.
 * Thread-safe.
 */
#ifndef KEEL_CORE_LOG_H
#define KEEL_CORE_LOG_H

#include <json-c/json.h>
#include <stdarg.h>

enum klog_level { KLOG_DEBUG = 0, KLOG_INFO, KLOG_WARN, KLOG_ERROR };

/* Parse "debug", "info", "warn", "error"; -1 if none of them. */
int log_level_parse(const char *s);

/*
 * Send lines to `path` (created 0640, appended to), or to stderr when path
 * is NULL or "", or to the syslog daemon when path is "syslog" (its socket
 * /dev/log) or "syslog:/path/to/socket": one datagram per line, facility
 * daemon, severity from the line's level, reconnected when the daemon
 * restarts.  Returns 0, or -1 with errno when the file cannot be opened
 * (the previous destination is kept).
 */
int log_open(const char *path, enum klog_level level);
/* Reopen the same path (after log rotation, SIGUSR1).  0 or -1. */
int log_reopen(void);
/* Call before threads start (not synchronized with writers). */
void log_set_level(enum klog_level level);
/*
 * Name this process in every line: role "master"/"worker", index or -1.
 * Call before threads start (not synchronized with writers).
 */
void log_set_process(const char *role, int index);

/* A new line object, or NULL when `level` is below the configured level. */
json_object *log_new(enum klog_level level, const char *msg);
/* Redact, serialize and write `line`, then put it.  NULL is ignored. */
void log_emit(json_object *line);

/* A line with a printf-formatted message and no other members. */
void log_printf(enum klog_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* 1 when a member called `key` must never be logged with its value. */
int log_key_is_secret(const char *key);
/* Replace secret members' values in `o`, recursively.  Exported for tests. */
void log_redact(json_object *o);

#endif
