/* test_log.c - secret member names, recursive redaction, and what
 * log_emit really writes: one redacted JSON object per line, level
 * filtering, reopening after rotation, and writes that fail (a full
 * disk, here a file size limit). */
#include "keel-build.h"

#include "unit.h"
#include "core/log.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];  /* a private temporary directory */
static char path[96]; /* the log file inside it */

/* Whole contents of `p` (caller frees), or NULL if it cannot be read. */
static char *
slurp(const char *p)
{
    FILE *f = fopen(p, "r");
    char *buf;
    size_t len = 0, got;

    if (f == NULL)
        return NULL;
    buf = malloc(65536);
    if (buf == NULL) {
        fclose(f);
        return NULL;
    }
    while ((got = fread(buf + len, 1, 65535 - len, f)) > 0)
        len += got;
    buf[len] = '\0';
    fclose(f);
    return buf;
}

static size_t
count_lines(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        if (*s == '\n')
            n++;
    return n;
}

/* Start each file test on an empty log file at `path`. */
static int
fresh_log(enum klog_level level)
{
    unlink(path);
    return log_open(path, level);
}

static const char *
member_string(json_object *o, const char *key)
{
    json_object *v;

    if (!json_object_object_get_ex(o, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return "(missing)";
    return json_object_get_string(v);
}

static void
test_secret_names_are_secret(void)
{
    const char *secret[] = {
        "password",      "new_password", "refresh_token", "access_token",
        "Authorization", "Cookie",       "X-Api-Key",     "client_secret",
        "newPassword",   "PASSWORD",     "set-cookie",    "api_key",
        "password_hash", "jwt",
    };

    for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++) {
        CU_ASSERT_EQUAL(log_key_is_secret(secret[i]), 1);
        if (log_key_is_secret(secret[i]) != 1)
            fprintf(stderr, "\n  not secret: %s\n", secret[i]);
    }
}

static void
test_ordinary_names_are_not_secret(void)
{
    const char *plain[] = { "email", "name",   "user_agent", "path",
                            "msg",   "status", "author_id",  "" };

    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
        CU_ASSERT_EQUAL(log_key_is_secret(plain[i]), 0);
        if (log_key_is_secret(plain[i]) != 0)
            fprintf(stderr, "\n  secret: %s\n", plain[i]);
    }
}

static void
test_redact_replaces_secrets_at_any_depth(void)
{
    json_object *o = json_tokener_parse(
        "{\"email\":\"a@example.com\",\"password\":\"hunter2\","
        "\"headers\":{\"Authorization\":\"Bearer abc\",\"Accept\":\"*/*\"},"
        "\"sessions\":[{\"refresh_token\":\"rt1\",\"id\":1},"
        "[{\"access_token\":\"at2\"}],\"plain\"],"
        "\"client_secret\":{\"nested\":\"s3\"}}");
    json_object *headers, *sessions, *s0, *inner, *v;

    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    log_redact(o);
    CU_ASSERT_STRING_EQUAL(member_string(o, "password"), "[REDACTED]");
    CU_ASSERT_STRING_EQUAL(member_string(o, "email"), "a@example.com");
    /* A secret member holding an object is replaced as a whole. */
    CU_ASSERT_STRING_EQUAL(member_string(o, "client_secret"), "[REDACTED]");

    CU_ASSERT_TRUE_FATAL(json_object_object_get_ex(o, "headers", &headers));
    CU_ASSERT_STRING_EQUAL(member_string(headers, "Authorization"),
                           "[REDACTED]");
    CU_ASSERT_STRING_EQUAL(member_string(headers, "Accept"), "*/*");

    CU_ASSERT_TRUE_FATAL(json_object_object_get_ex(o, "sessions", &sessions));
    CU_ASSERT_EQUAL_FATAL(json_object_array_length(sessions), 3);
    s0 = json_object_array_get_idx(sessions, 0);
    CU_ASSERT_STRING_EQUAL(member_string(s0, "refresh_token"), "[REDACTED]");
    CU_ASSERT_TRUE(json_object_object_get_ex(s0, "id", &v));
    CU_ASSERT_EQUAL(json_object_get_int(v), 1);
    inner =
        json_object_array_get_idx(json_object_array_get_idx(sessions, 1), 0);
    CU_ASSERT_STRING_EQUAL(member_string(inner, "access_token"), "[REDACTED]");
    CU_ASSERT_STRING_EQUAL(
        json_object_get_string(json_object_array_get_idx(sessions, 2)),
        "plain");

    CU_ASSERT_PTR_NULL(strstr(json_object_to_json_string(o), "hunter2"));
    CU_ASSERT_PTR_NULL(strstr(json_object_to_json_string(o), "Bearer abc"));
    CU_ASSERT_PTR_NULL(strstr(json_object_to_json_string(o), "rt1"));
    CU_ASSERT_PTR_NULL(strstr(json_object_to_json_string(o), "at2"));
    CU_ASSERT_PTR_NULL(strstr(json_object_to_json_string(o), "s3"));
    json_object_put(o);
}

static void
test_redact_leaves_non_secret_values_untouched(void)
{
    const char *text = "{\"user\":{\"email\":\"a@example.com\",\"name\":\"A\","
                       "\"tags\":[\"x\",\"y\"]},\"n\":3,\"ok\":true,"
                       "\"none\":null}";
    json_object *o = json_tokener_parse(text);
    json_object *copy = json_tokener_parse(text);

    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    log_redact(o);
    CU_ASSERT_TRUE(json_object_equal(o, copy));
    json_object_put(o);
    json_object_put(copy);
}

static void
test_redact_ignores_non_objects(void)
{
    json_object *s = json_object_new_string("password");
    json_object *a = json_tokener_parse("[\"password\",1]");

    log_redact(s);
    log_redact(a);
    log_redact(NULL);
    CU_ASSERT_STRING_EQUAL(json_object_get_string(s), "password");
    CU_ASSERT_STRING_EQUAL(
        json_object_get_string(json_object_array_get_idx(a, 0)), "password");
    json_object_put(s);
    json_object_put(a);
}

static void
test_emit_writes_one_redacted_json_line(void)
{
    json_object *line, *nested, *parsed, *v;
    char *text;

    CU_ASSERT_EQUAL_FATAL(fresh_log(KLOG_DEBUG), 0);
    line = log_new(KLOG_INFO, "user logged in");
    CU_ASSERT_PTR_NOT_NULL_FATAL(line);
    json_object_object_add(line, "email",
                           json_object_new_string("a@example.com"));
    json_object_object_add(line, "password",
                           json_object_new_string("hunter2-secret"));
    nested = json_object_new_object();
    json_object_object_add(nested, "refresh_token",
                           json_object_new_string("rt-9f8e7d"));
    json_object_object_add(nested, "ip", json_object_new_string("192.0.2.1"));
    json_object_object_add(line, "session", nested);
    log_emit(line);

    text = slurp(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_PTR_NULL(strstr(text, "hunter2-secret"));
    CU_ASSERT_PTR_NULL(strstr(text, "rt-9f8e7d"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "[REDACTED]"));
    CU_ASSERT_EQUAL(count_lines(text), 1);
    CU_ASSERT(strlen(text) > 0 && text[strlen(text) - 1] == '\n');

    parsed = json_tokener_parse(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(parsed);
    CU_ASSERT_TRUE(json_object_is_type(parsed, json_type_object));
    CU_ASSERT_STRING_EQUAL(member_string(parsed, "level"), "info");
    CU_ASSERT_STRING_EQUAL(member_string(parsed, "msg"), "user logged in");
    CU_ASSERT_STRING_EQUAL(member_string(parsed, "email"), "a@example.com");
    CU_ASSERT_STRING_EQUAL(member_string(parsed, "password"), "[REDACTED]");
    CU_ASSERT_TRUE(json_object_object_get_ex(parsed, "session", &v));
    CU_ASSERT_STRING_EQUAL(member_string(v, "refresh_token"), "[REDACTED]");
    CU_ASSERT_STRING_EQUAL(member_string(v, "ip"), "192.0.2.1");
    /* ts is RFC 3339 UTC with milliseconds: 2026-01-15T10:30:00.123Z */
    {
        const char *ts = member_string(parsed, "ts");
        CU_ASSERT_EQUAL(strlen(ts), 24);
        if (strlen(ts) == 24) {
            CU_ASSERT_EQUAL(ts[4], '-');
            CU_ASSERT_EQUAL(ts[10], 'T');
            CU_ASSERT_EQUAL(ts[19], '.');
            CU_ASSERT_EQUAL(ts[23], 'Z');
        }
    }
    CU_ASSERT_TRUE(json_object_object_get_ex(parsed, "pid", &v));
    CU_ASSERT_TRUE(json_object_is_type(v, json_type_int));
    CU_ASSERT_EQUAL(json_object_get_int(v), (int)getpid());
    json_object_put(parsed);
    free(text);
}

static void
test_emit_keeps_a_multiline_message_on_one_line(void)
{
    json_object *parsed;
    char *text;

    CU_ASSERT_EQUAL_FATAL(fresh_log(KLOG_DEBUG), 0);
    log_emit(log_new(KLOG_WARN, "first\nsecond\r\n{\"level\":\"x\"}"));
    text = slurp(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_EQUAL(count_lines(text), 1);
    parsed = json_tokener_parse(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(parsed);
    CU_ASSERT_STRING_EQUAL(member_string(parsed, "msg"),
                           "first\nsecond\r\n{\"level\":\"x\"}");
    CU_ASSERT_STRING_EQUAL(member_string(parsed, "level"), "warn");
    json_object_put(parsed);
    free(text);
}

static void
test_emit_appends_lines_in_order(void)
{
    char *text, *nl;
    json_object *a, *b;

    CU_ASSERT_EQUAL_FATAL(fresh_log(KLOG_DEBUG), 0);
    log_printf(KLOG_ERROR, "line %d", 1);
    log_printf(KLOG_DEBUG, "line %s", "two");
    text = slurp(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_EQUAL_FATAL(count_lines(text), 2);
    nl = strchr(text, '\n');
    *nl = '\0';
    a = json_tokener_parse(text);
    b = json_tokener_parse(nl + 1);
    CU_ASSERT_STRING_EQUAL(member_string(a, "msg"), "line 1");
    CU_ASSERT_STRING_EQUAL(member_string(a, "level"), "error");
    CU_ASSERT_STRING_EQUAL(member_string(b, "msg"), "line two");
    CU_ASSERT_STRING_EQUAL(member_string(b, "level"), "debug");
    json_object_put(a);
    json_object_put(b);
    free(text);
}

static void
test_emit_names_the_process_role_and_worker(void)
{
    json_object *parsed, *v;
    char *text;

    CU_ASSERT_EQUAL_FATAL(fresh_log(KLOG_DEBUG), 0);
    log_set_process("worker", 3);
    log_emit(log_new(KLOG_INFO, "hello"));
    log_set_process("master", -1);
    log_emit(log_new(KLOG_INFO, "hello"));
    text = slurp(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_EQUAL_FATAL(count_lines(text), 2);
    parsed = json_tokener_parse(text);
    CU_ASSERT_STRING_EQUAL(member_string(parsed, "role"), "worker");
    CU_ASSERT_TRUE(json_object_object_get_ex(parsed, "worker", &v));
    CU_ASSERT_EQUAL(json_object_get_int(v), 3);
    json_object_put(parsed);
    parsed = json_tokener_parse(strchr(text, '\n') + 1);
    CU_ASSERT_STRING_EQUAL(member_string(parsed, "role"), "master");
    CU_ASSERT_FALSE(json_object_object_get_ex(parsed, "worker", NULL));
    json_object_put(parsed);
    free(text);
}

static void
test_level_filters_lines_below_it(void)
{
    json_object *line;
    char *text;

    CU_ASSERT_EQUAL_FATAL(fresh_log(KLOG_WARN), 0);
    CU_ASSERT_PTR_NULL(log_new(KLOG_DEBUG, "debug"));
    CU_ASSERT_PTR_NULL(log_new(KLOG_INFO, "info"));
    line = log_new(KLOG_WARN, "warn");
    CU_ASSERT_PTR_NOT_NULL(line);
    json_object_put(line);
    line = log_new(KLOG_ERROR, "error");
    CU_ASSERT_PTR_NOT_NULL(line);
    json_object_put(line);

    log_printf(KLOG_INFO, "filtered %d", 1);
    log_emit(NULL); /* what a filtered log_new gives: ignored */
    text = slurp(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_STRING_EQUAL(text, "");
    free(text);

    log_set_level(KLOG_DEBUG);
    line = log_new(KLOG_DEBUG, "debug");
    CU_ASSERT_PTR_NOT_NULL(line);
    json_object_put(line);
}

static void
test_level_names_parse(void)
{
    CU_ASSERT_EQUAL(log_level_parse("debug"), KLOG_DEBUG);
    CU_ASSERT_EQUAL(log_level_parse("info"), KLOG_INFO);
    CU_ASSERT_EQUAL(log_level_parse("warn"), KLOG_WARN);
    CU_ASSERT_EQUAL(log_level_parse("error"), KLOG_ERROR);
    CU_ASSERT_EQUAL(log_level_parse("verbose"), -1);
    CU_ASSERT_EQUAL(log_level_parse(""), -1);
}

static void
test_open_creates_the_file_0640(void)
{
    struct stat st;
    mode_t old = umask(022);

    CU_ASSERT_EQUAL_FATAL(fresh_log(KLOG_DEBUG), 0);
    umask(old);
    CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
    CU_ASSERT_EQUAL(st.st_mode & 07777, 0640);
}

static void
test_open_appends_to_an_existing_file(void)
{
    FILE *f;
    char *text;

    unlink(path);
    f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("earlier line\n", f);
    fclose(f);
    CU_ASSERT_EQUAL_FATAL(log_open(path, KLOG_DEBUG), 0);
    log_printf(KLOG_INFO, "later line");
    text = slurp(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_EQUAL(strncmp(text, "earlier line\n{", 14), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "later line"));
    CU_ASSERT_EQUAL(count_lines(text), 2);
    free(text);
}

static void
test_reopen_after_rename_writes_a_new_file(void)
{
    char rotated[112];
    char *old_text, *new_text;

    snprintf(rotated, sizeof(rotated), "%s.1", path);
    CU_ASSERT_EQUAL_FATAL(fresh_log(KLOG_DEBUG), 0);
    log_printf(KLOG_INFO, "before rotation");
    CU_ASSERT_EQUAL_FATAL(rename(path, rotated), 0);
    CU_ASSERT_EQUAL(log_reopen(), 0);
    log_printf(KLOG_INFO, "after rotation");

    old_text = slurp(rotated);
    new_text = slurp(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(old_text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(new_text);
    CU_ASSERT_PTR_NOT_NULL(strstr(old_text, "before rotation"));
    CU_ASSERT_PTR_NULL(strstr(old_text, "after rotation"));
    CU_ASSERT_PTR_NOT_NULL(strstr(new_text, "after rotation"));
    CU_ASSERT_PTR_NULL(strstr(new_text, "before rotation"));
    CU_ASSERT_EQUAL(count_lines(old_text), 1);
    CU_ASSERT_EQUAL(count_lines(new_text), 1);
    free(old_text);
    free(new_text);
    unlink(rotated);
}

static void
test_open_failure_keeps_previous_destination(void)
{
    char bad[128];
    char *text;

    snprintf(bad, sizeof(bad), "%s/no-such-dir/keel.log", dir);
    CU_ASSERT_EQUAL_FATAL(fresh_log(KLOG_DEBUG), 0);
    errno = 0;
    CU_ASSERT_EQUAL(log_open(bad, KLOG_DEBUG), -1);
    CU_ASSERT_EQUAL(errno, ENOENT);
    log_printf(KLOG_INFO, "still here");
    text = slurp(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "still here"));
    free(text);
}

/*
 * A full disk, short of filling one: RLIMIT_FSIZE makes write() stop at
 * the limit (a short count, then EFBIG) as ENOSPC would.  The part of the
 * line cut short is taken back (another process could glue its next line
 * to it), the lines dropped are counted, and once writes go through again
 * they are reported and logging goes on.
 */
static void
test_failed_writes_are_counted_and_logging_resumes(void)
{
    struct rlimit saved, lim;
    struct stat st;
    char *text, *line, *next;
    int whole = 0, broken = 0, reported = 0, resumed = 0;

    CU_ASSERT_EQUAL_FATAL(fresh_log(KLOG_DEBUG), 0);
    log_printf(KLOG_INFO, "before the disk filled");
    CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
    CU_ASSERT_EQUAL_FATAL(getrlimit(RLIMIT_FSIZE, &saved), 0);
    signal(SIGXFSZ, SIG_IGN);
    lim = saved;
    lim.rlim_cur = (rlim_t)st.st_size + 40; /* room for part of a line */
    CU_ASSERT_EQUAL_FATAL(setrlimit(RLIMIT_FSIZE, &lim), 0);
    log_printf(KLOG_INFO, "cut short by the full disk");
    log_printf(KLOG_INFO, "dropped whole");
    CU_ASSERT_EQUAL_FATAL(setrlimit(RLIMIT_FSIZE, &saved), 0);
    signal(SIGXFSZ, SIG_DFL);
    log_printf(KLOG_INFO, "after space returned");

    text = slurp(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    for (line = text; *line; line = next) {
        json_object *o;
        next = strchr(line, '\n');
        CU_ASSERT_PTR_NOT_NULL_FATAL(next);
        *next++ = '\0';
        o = json_tokener_parse(line);
        if (o == NULL) {
            broken++;
            continue;
        }
        whole++;
        if (strcmp(member_string(o, "msg"),
                   "2 log line(s) lost: File too large") == 0 &&
            strcmp(member_string(o, "level"), "warn") == 0)
            reported++;
        if (strcmp(member_string(o, "msg"), "after space returned") == 0)
            resumed++;
        json_object_put(o);
    }
    /* before, the note, after; the 40 bytes of the cut line taken back. */
    CU_ASSERT_EQUAL(whole, 3);
    CU_ASSERT_EQUAL(broken, 0);
    CU_ASSERT_EQUAL(reported, 1);
    CU_ASSERT_EQUAL(resumed, 1);
    free(text);
}

static const unit_test_t tests[] = {
    { "password, tokens, Authorization, Cookie, X-Api-Key are secret",
      test_secret_names_are_secret },
    { "email, name, user_agent, path are not secret",
      test_ordinary_names_are_not_secret },
    { "redact replaces secret values in nested objects and arrays",
      test_redact_replaces_secrets_at_any_depth },
    { "redact leaves non-secret values untouched",
      test_redact_leaves_non_secret_values_untouched },
    { "redact ignores strings, arrays of strings and NULL",
      test_redact_ignores_non_objects },
    { "emit writes one redacted JSON line with ts, level, msg, pid",
      test_emit_writes_one_redacted_json_line },
    { "a message with newlines stays on one line",
      test_emit_keeps_a_multiline_message_on_one_line },
    { "lines are appended in order", test_emit_appends_lines_in_order },
    { "lines name the process role and worker index",
      test_emit_names_the_process_role_and_worker },
    { "lines below the level are not created or written",
      test_level_filters_lines_below_it },
    { "level names parse", test_level_names_parse },
    { "log_open creates the file with mode 0640",
      test_open_creates_the_file_0640 },
    { "log_open appends to an existing file",
      test_open_appends_to_an_existing_file },
    { "reopen after rename writes a new file at the same path",
      test_reopen_after_rename_writes_a_new_file },
    { "a failed open keeps the previous destination",
      test_open_failure_keeps_previous_destination },
    { "failed writes are counted, a cut line taken back, logging resumes",
      test_failed_writes_are_counted_and_logging_resumes },
};

int
main(void)
{
    int rc;

    snprintf(dir, sizeof(dir), "/tmp/keel-test-log.XXXXXX");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 99;
    }
    snprintf(path, sizeof(path), "%s/keel.log", dir);
    rc = unit_run("log", UNIT_TESTS(tests));
    log_open(NULL, KLOG_INFO);
    unlink(path);
    rmdir(dir);
    return rc;
}
