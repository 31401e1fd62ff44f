/* test_config.c - keel.conf: defaults, every value type and its bounds,
 * comments, every "name:line: message" error, KEEL_<SECTION>_<KEY>
 * overrides, loading files, cross-key checks and the worker count. */
#include "keel-build.h"

#include "unit.h"
#include "core/config.h"
#include "core/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- helpers ----------------------------------------------------------- */

/* Defaults, then `text` parsed as "t.conf".  Caller frees with config_free. */
static keel_rc
parse(keel_config_t *cfg, const char *text, char *err, size_t errlen)
{
    config_defaults(cfg);
    err[0] = '\0';
    return config_parse(cfg, text, "t.conf", err, errlen);
}

/* Parse "[section]\n<line>\n": a problem in `line` is on line 2. */
static keel_rc
parse_one(keel_config_t *cfg, const char *section, const char *line, char *err,
          size_t errlen)
{
    char text[512];

    snprintf(text, sizeof(text), "[%s]\n%s\n", section, line);
    return parse(cfg, text, err, errlen);
}

/* `text` fails to parse with exactly the message `msg`. */
#define ASSERT_PARSE_ERROR(text, msg)                                          \
    do {                                                                       \
        keel_config_t c_;                                                      \
        char e_[256];                                                          \
        CU_ASSERT_EQUAL(parse(&c_, (text), e_, sizeof(e_)), KEEL_EINVAL);      \
        CU_ASSERT_STRING_EQUAL(e_, (msg));                                     \
        config_free(&c_);                                                      \
    } while (0)

/* "key = value" in `section` is rejected (any message). */
#define ASSERT_VALUE_REJECTED(section, line)                                   \
    do {                                                                       \
        keel_config_t c_;                                                      \
        char e_[256];                                                          \
        keel_rc rc_ = parse_one(&c_, (section), (line), e_, sizeof(e_));       \
        CU_ASSERT_EQUAL(rc_, KEEL_EINVAL);                                     \
        if (rc_ != KEEL_EINVAL)                                                \
            fprintf(stderr, "\n  accepted: [%s] %s\n", (section), (line));     \
        config_free(&c_);                                                      \
    } while (0)

/* Write `len` bytes to a new temporary file; its name goes to `path`. */
static int
write_temp(char *path, size_t pathlen, const char *data, size_t len)
{
    int fd;

    snprintf(path, pathlen, "/tmp/keel-test-config.XXXXXX");
    fd = mkstemp(path);
    if (fd < 0)
        return -1;
    if (write(fd, data, len) != (ssize_t)len) {
        close(fd);
        unlink(path);
        return -1;
    }
    close(fd);
    return 0;
}

static void
approx(double got, double want)
{
    CU_ASSERT_DOUBLE_EQUAL(got, want, 1e-9);
}

/* ---- defaults and syntax ----------------------------------------------- */

static void
test_defaults_match_the_documented_values(void)
{
    keel_config_t c;

    config_defaults(&c);
    CU_ASSERT_STRING_EQUAL(c.listen, "/run/keel/keel.sock");
    CU_ASSERT_EQUAL(c.socket_mode, 0660);
    CU_ASSERT_STRING_EQUAL(c.socket_owner, "");
    CU_ASSERT_STRING_EQUAL(c.socket_group, "");
    CU_ASSERT_EQUAL(c.backlog, 511);
    CU_ASSERT_EQUAL(c.workers, 0);
    CU_ASSERT_EQUAL(c.threads, 1);
    CU_ASSERT_EQUAL(c.max_requests, 100000);
    approx(c.request_timeout, 30.0);
    approx(c.shutdown_timeout, 30.0);
    CU_ASSERT_STRING_EQUAL(c.pid_file, "");
    CU_ASSERT_EQUAL(c.max_body_size, 1048576);
    CU_ASSERT_EQUAL(c.max_query_size, 8192);
    CU_ASSERT_EQUAL(c.max_path_size, 2048);
    CU_ASSERT_EQUAL(c.max_header_size, 8192);
    CU_ASSERT_EQUAL(c.max_json_depth, 32);
    CU_ASSERT_EQUAL(c.max_query_params, 64);
    CU_ASSERT_EQUAL(c.hash_concurrency, 0);
    approx(c.hash_wait, 1.0);
    CU_ASSERT_STRING_EQUAL(c.hsts, "");
    CU_ASSERT_STRING_EQUAL(c.log_file, "");
    CU_ASSERT_EQUAL(c.log_level, KLOG_INFO);
    CU_ASSERT_EQUAL(c.access_log, 1);
    config_free(&c);
    CU_ASSERT_PTR_NULL(c.listen);
    CU_ASSERT_PTR_NULL(c.hsts);
}

static void
test_defaults_pass_the_cross_key_check(void)
{
    keel_config_t c;
    char err[256] = "";

    config_defaults(&c);
    CU_ASSERT_EQUAL(config_check(&c, err, sizeof(err)), KEEL_OK);
    config_free(&c);
}

static void
test_empty_text_keeps_defaults(void)
{
    keel_config_t c;
    char err[256];

    CU_ASSERT_EQUAL(parse(&c, "", err, sizeof(err)), KEEL_OK);
    CU_ASSERT_EQUAL(c.backlog, 511);
    CU_ASSERT_STRING_EQUAL(c.listen, "/run/keel/keel.sock");
    config_free(&c);
}

static void
test_comments_and_blank_lines_are_ignored(void)
{
    keel_config_t c;
    char err[256];
    const char *text = "# keel.conf\n"
                       "; another comment style\n"
                       "\n"
                       "   \t \n"
                       "[server]\n"
                       "  # indented comment\n"
                       "backlog = 128\n"
                       "\n"
                       "[log]\n"
                       "\t; tab-indented comment\n"
                       "level = warn\n";

    CU_ASSERT_EQUAL(parse(&c, text, err, sizeof(err)), KEEL_OK);
    CU_ASSERT_STRING_EQUAL(err, "");
    CU_ASSERT_EQUAL(c.backlog, 128);
    CU_ASSERT_EQUAL(c.log_level, KLOG_WARN);
    config_free(&c);
}

static void
test_comments_and_blank_lines_count_in_line_numbers(void)
{
    ASSERT_PARSE_ERROR("# a\n\n[server]\n; b\n\nnope = 1\n",
                       "t.conf:6: unknown key 'nope' in [server]");
}

static void
test_whitespace_crlf_and_missing_final_newline_are_accepted(void)
{
    keel_config_t c;
    char err[256];

    CU_ASSERT_EQUAL(parse(&c,
                          "[ server ]\r\n"
                          "\tbacklog\t=\t64 \r\n"
                          "listen=/tmp/k.sock\r\n"
                          "[http]\n"
                          "max_json_depth = 8",
                          err, sizeof(err)),
                    KEEL_OK);
    CU_ASSERT_STRING_EQUAL(err, "");
    CU_ASSERT_EQUAL(c.backlog, 64);
    CU_ASSERT_STRING_EQUAL(c.listen, "/tmp/k.sock");
    CU_ASSERT_EQUAL(c.max_json_depth, 8);
    config_free(&c);
}

static void
test_every_section_and_key_is_accepted(void)
{
    keel_config_t c;
    char err[256];
    const char *text = "[server]\n"
                       "listen = 127.0.0.1:9000\n"
                       "socket_mode = 0600\n"
                       "socket_owner = www-data\n"
                       "socket_group = \"www data\"\n"
                       "backlog = 1024\n"
                       "workers = 4\n"
                       "threads = 2\n"
                       "max_requests = 0\n"
                       "request_timeout = 10s\n"
                       "shutdown_timeout = 2m\n"
                       "pid_file = /run/keel/keel.pid\n"
                       "[http]\n"
                       "max_body_size = 2m\n"
                       "max_query_size = 4k\n"
                       "max_path_size = 1k\n"
                       "max_header_size = 16k\n"
                       "max_json_depth = 64\n"
                       "hsts = max-age=63072000; includeSubDomains\n"
                       "[log]\n"
                       "file = /var/log/keel/keel.log\n"
                       "level = debug\n"
                       "access_log = off\n";

    CU_ASSERT_EQUAL_FATAL(parse(&c, text, err, sizeof(err)), KEEL_OK);
    CU_ASSERT_STRING_EQUAL(c.listen, "127.0.0.1:9000");
    CU_ASSERT_EQUAL(c.socket_mode, 0600);
    CU_ASSERT_STRING_EQUAL(c.socket_owner, "www-data");
    CU_ASSERT_STRING_EQUAL(c.socket_group, "www data");
    CU_ASSERT_EQUAL(c.backlog, 1024);
    CU_ASSERT_EQUAL(c.workers, 4);
    CU_ASSERT_EQUAL(c.threads, 2);
    CU_ASSERT_EQUAL(c.max_requests, 0);
    approx(c.request_timeout, 10.0);
    approx(c.shutdown_timeout, 120.0);
    CU_ASSERT_STRING_EQUAL(c.pid_file, "/run/keel/keel.pid");
    CU_ASSERT_EQUAL(c.max_body_size, 2 * 1048576);
    CU_ASSERT_EQUAL(c.max_query_size, 4096);
    CU_ASSERT_EQUAL(c.max_path_size, 1024);
    CU_ASSERT_EQUAL(c.max_header_size, 16384);
    CU_ASSERT_EQUAL(c.max_json_depth, 64);
    /* Only the first '=' separates key and value. */
    CU_ASSERT_STRING_EQUAL(c.hsts, "max-age=63072000; includeSubDomains");
    CU_ASSERT_STRING_EQUAL(c.log_file, "/var/log/keel/keel.log");
    CU_ASSERT_EQUAL(c.log_level, KLOG_DEBUG);
    CU_ASSERT_EQUAL(c.access_log, 0);
    config_free(&c);
}

static void
test_parse_builds_on_an_earlier_state(void)
{
    keel_config_t c;
    char err[256];

    CU_ASSERT_EQUAL(
        parse(&c, "[server]\nbacklog = 5\nlisten = /a\n", err, sizeof(err)),
        KEEL_OK);
    /* A second text may set the same keys again: not a duplicate. */
    CU_ASSERT_EQUAL(config_parse(&c, "[server]\nlisten = /b\n[log]\nlevel=warn",
                                 "u.conf", err, sizeof(err)),
                    KEEL_OK);
    CU_ASSERT_EQUAL(c.backlog, 5);
    CU_ASSERT_STRING_EQUAL(c.listen, "/b");
    CU_ASSERT_EQUAL(c.log_level, KLOG_WARN);
    config_free(&c);
}

/* ---- value types ------------------------------------------------------- */

static void
test_string_with_and_without_quotes(void)
{
    keel_config_t c;
    char err[256];

    CU_ASSERT_EQUAL(
        parse_one(&c, "server", "listen = /tmp/plain.sock", err, sizeof(err)),
        KEEL_OK);
    CU_ASSERT_STRING_EQUAL(c.listen, "/tmp/plain.sock");
    config_free(&c);

    /* Quotes keep outer spaces and are removed once. */
    CU_ASSERT_EQUAL(
        parse_one(&c, "http", "hsts = \"  max-age=1 # x  \"", err, sizeof(err)),
        KEEL_OK);
    CU_ASSERT_STRING_EQUAL(c.hsts, "  max-age=1 # x  ");
    config_free(&c);

    CU_ASSERT_EQUAL(parse_one(&c, "server", "listen = \"\"", err, sizeof(err)),
                    KEEL_OK);
    CU_ASSERT_STRING_EQUAL(c.listen, "");
    config_free(&c);

    CU_ASSERT_EQUAL(
        parse_one(&c, "server", "pid_file = \"\"quoted\"\"", err, sizeof(err)),
        KEEL_OK);
    CU_ASSERT_STRING_EQUAL(c.pid_file, "\"quoted\"");
    config_free(&c);

    /* An empty value is an empty string. */
    CU_ASSERT_EQUAL(parse_one(&c, "server", "pid_file =", err, sizeof(err)),
                    KEEL_OK);
    CU_ASSERT_STRING_EQUAL(c.pid_file, "");
    config_free(&c);
}

static void
test_quoted_numbers_are_accepted(void)
{
    keel_config_t c;
    char err[256];

    CU_ASSERT_EQUAL(
        parse_one(&c, "server", "backlog = \"100\"", err, sizeof(err)),
        KEEL_OK);
    CU_ASSERT_EQUAL(c.backlog, 100);
    config_free(&c);
}

static void
test_int_accepts_its_bounds(void)
{
    keel_config_t c;
    char err[256];

    CU_ASSERT_EQUAL(parse(&c,
                          "[server]\nbacklog = 1\nworkers = 0\nthreads = 1\n",
                          err, sizeof(err)),
                    KEEL_OK);
    CU_ASSERT_EQUAL(c.backlog, 1);
    CU_ASSERT_EQUAL(c.workers, 0);
    CU_ASSERT_EQUAL(c.threads, 1);
    config_free(&c);

    CU_ASSERT_EQUAL(parse(&c,
                          "[server]\nbacklog = 65535\nworkers = 1024\n"
                          "threads = 64\nmax_requests = 1000000000\n"
                          "[http]\nmax_json_depth = 1000\n"
                          "max_query_params = 1024\n",
                          err, sizeof(err)),
                    KEEL_OK);
    CU_ASSERT_EQUAL(c.backlog, 65535);
    CU_ASSERT_EQUAL(c.workers, 1024);
    CU_ASSERT_EQUAL(c.threads, 64);
    CU_ASSERT_EQUAL(c.max_requests, 1000000000);
    CU_ASSERT_EQUAL(c.max_json_depth, 1000);
    CU_ASSERT_EQUAL(c.max_query_params, 1024);
    config_free(&c);
}

static void
test_int_outside_its_bounds_is_an_error(void)
{
    ASSERT_PARSE_ERROR("[server]\nbacklog = 0\n",
                       "t.conf:2: backlog: expected an integer in 1..65535, "
                       "got '0'");
    ASSERT_PARSE_ERROR("[server]\nbacklog = 65536\n",
                       "t.conf:2: backlog: expected an integer in 1..65535, "
                       "got '65536'");
    ASSERT_PARSE_ERROR("[server]\nworkers = 1025\n",
                       "t.conf:2: workers: expected an integer in 0..1024, "
                       "got '1025'");
    ASSERT_PARSE_ERROR("[server]\nworkers = -1\n",
                       "t.conf:2: workers: expected an integer in 0..1024, "
                       "got '-1'");
    ASSERT_PARSE_ERROR("[server]\nthreads = 65\n",
                       "t.conf:2: threads: expected an integer in 1..64, "
                       "got '65'");
    ASSERT_PARSE_ERROR("[http]\nmax_json_depth = 0\n",
                       "t.conf:2: max_json_depth: expected an integer in "
                       "1..1000, got '0'");
    ASSERT_PARSE_ERROR("[auth]\nhash_concurrency = 65\n",
                       "t.conf:2: hash_concurrency: expected an integer in "
                       "0..64, got '65'");
    ASSERT_PARSE_ERROR("[http]\nmax_query_params = 1025\n",
                       "t.conf:2: max_query_params: expected an integer in "
                       "1..1024, got '1025'");
}

static void
test_int_that_is_not_a_whole_number_is_an_error(void)
{
    ASSERT_PARSE_ERROR("[server]\nbacklog = 12abc\n",
                       "t.conf:2: backlog: expected an integer in 1..65535, "
                       "got '12abc'");
    ASSERT_VALUE_REJECTED("server", "backlog = ");
    ASSERT_VALUE_REJECTED("server", "backlog = 1.0");
    ASSERT_VALUE_REJECTED("server", "backlog = +5");
    ASSERT_VALUE_REJECTED("server", "backlog = 0x10");
    ASSERT_VALUE_REJECTED("server", "backlog = 1 000");
    ASSERT_VALUE_REJECTED("server", "backlog = 99999999999999999999");
}

static void
test_bool_accepts_every_spelling(void)
{
    static const struct {
        const char *v;
        int want;
    } cases[] = {
        { "on", 1 },     { "off", 0 }, { "true", 1 }, { "false", 0 },
        { "yes", 1 },    { "no", 0 },  { "1", 1 },    { "0", 0 },
        { "ON", 1 },     { "Off", 0 }, { "TRUE", 1 }, { "No", 0 },
        { "\"on\"", 1 },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        keel_config_t c;
        char line[64], err[256];

        snprintf(line, sizeof(line), "access_log = %s", cases[i].v);
        CU_ASSERT_EQUAL(parse_one(&c, "log", line, err, sizeof(err)), KEEL_OK);
        CU_ASSERT_EQUAL(c.access_log, cases[i].want);
        config_free(&c);
    }
}

static void
test_bool_rejects_other_words(void)
{
    ASSERT_PARSE_ERROR("[log]\naccess_log = maybe\n",
                       "t.conf:2: access_log: expected on or off, got 'maybe'");
    ASSERT_PARSE_ERROR("[log]\naccess_log = \n",
                       "t.conf:2: access_log: expected on or off, got ''");
    ASSERT_VALUE_REJECTED("log", "access_log = 2");
    ASSERT_VALUE_REJECTED("log", "access_log = enabled");
    ASSERT_VALUE_REJECTED("log", "access_log = o");
}

static void
test_duration_units(void)
{
    static const struct {
        const char *v;
        double want;
    } cases[] = {
        { "30s", 30.0 },    { "500ms", 0.5 },     { "2m", 120.0 },
        { "1h", 3600.0 },   { "1d", 86400.0 },    { "45", 45.0 },
        { "1.5s", 1.5 },    { "0", 0.0 },         { "0s", 0.0 },
        { "24h", 86400.0 }, { "86400", 86400.0 }, { "1ms", 0.001 },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        keel_config_t c;
        char line[64], err[256];

        snprintf(line, sizeof(line), "request_timeout = %s", cases[i].v);
        CU_ASSERT_EQUAL(parse_one(&c, "server", line, err, sizeof(err)),
                        KEEL_OK);
        approx(c.request_timeout, cases[i].want);
        config_free(&c);
    }
}

static void
test_duration_with_a_bad_unit_or_range_is_an_error(void)
{
    ASSERT_PARSE_ERROR("[server]\nrequest_timeout = 30x\n",
                       "t.conf:2: request_timeout: expected a duration (e.g. "
                       "30s, 500ms, 2m) in 0..86400s, got '30x'");
    ASSERT_PARSE_ERROR("[server]\nrequest_timeout = 25h\n",
                       "t.conf:2: request_timeout: expected a duration (e.g. "
                       "30s, 500ms, 2m) in 0..86400s, got '25h'");
    ASSERT_PARSE_ERROR("[server]\nshutdown_timeout = 2h\n",
                       "t.conf:2: shutdown_timeout: expected a duration (e.g. "
                       "30s, 500ms, 2m) in 0..3600s, got '2h'");
    ASSERT_VALUE_REJECTED("server", "request_timeout = 30 s");
    ASSERT_VALUE_REJECTED("server", "request_timeout = 30sec");
    ASSERT_VALUE_REJECTED("server", "request_timeout = 2d");
    ASSERT_VALUE_REJECTED("server", "request_timeout = 1w");
    ASSERT_VALUE_REJECTED("server", "request_timeout = 30S");
    ASSERT_VALUE_REJECTED("server", "request_timeout = ms");
    ASSERT_VALUE_REJECTED("server", "request_timeout = -1s");
    ASSERT_VALUE_REJECTED("server", "request_timeout = .5s");
    ASSERT_VALUE_REJECTED("server", "request_timeout = ");
    ASSERT_VALUE_REJECTED("server", "request_timeout = 86401");
}

static void
test_size_units(void)
{
    keel_config_t c;
    char err[256];

    CU_ASSERT_EQUAL(parse(&c,
                          "[http]\nmax_body_size = 1g\nmax_query_size = 8k\n"
                          "max_path_size = 100\nmax_header_size = 1m\n",
                          err, sizeof(err)),
                    KEEL_OK);
    CU_ASSERT_EQUAL(c.max_body_size, 1073741824LL);
    CU_ASSERT_EQUAL(c.max_query_size, 8192);
    CU_ASSERT_EQUAL(c.max_path_size, 100);
    CU_ASSERT_EQUAL(c.max_header_size, 1048576);
    config_free(&c);

    /* Units are case-insensitive; 0 is allowed where the minimum is 0. */
    CU_ASSERT_EQUAL(parse(&c,
                          "[http]\nmax_body_size = 0\nmax_query_size = 8K\n",
                          err, sizeof(err)),
                    KEEL_OK);
    CU_ASSERT_EQUAL(c.max_body_size, 0);
    CU_ASSERT_EQUAL(c.max_query_size, 8192);
    config_free(&c);

    CU_ASSERT_EQUAL(
        parse_one(&c, "http", "max_body_size = 512M", err, sizeof(err)),
        KEEL_OK);
    CU_ASSERT_EQUAL(c.max_body_size, 512LL * 1048576);
    config_free(&c);
}

static void
test_size_with_a_bad_unit_or_range_is_an_error(void)
{
    ASSERT_PARSE_ERROR("[http]\nmax_body_size = 1t\n",
                       "t.conf:2: max_body_size: expected a size (e.g. 8k, "
                       "1m) in 0..1073741824 bytes, got '1t'");
    ASSERT_PARSE_ERROR("[http]\nmax_body_size = 2g\n",
                       "t.conf:2: max_body_size: expected a size (e.g. 8k, "
                       "1m) in 0..1073741824 bytes, got '2g'");
    ASSERT_PARSE_ERROR("[http]\nmax_query_size = 32\n",
                       "t.conf:2: max_query_size: expected a size (e.g. 8k, "
                       "1m) in 64..1048576 bytes, got '32'");
    ASSERT_VALUE_REJECTED("http", "max_body_size = 8kb");
    ASSERT_VALUE_REJECTED("http", "max_body_size = 1.5k");
    ASSERT_VALUE_REJECTED("http", "max_body_size = -1k");
    ASSERT_VALUE_REJECTED("http", "max_body_size = k");
    ASSERT_VALUE_REJECTED("http", "max_body_size = 8 k");
    ASSERT_VALUE_REJECTED("http", "max_body_size = ");
    ASSERT_VALUE_REJECTED("http", "max_body_size = 1e30");
    ASSERT_VALUE_REJECTED("http", "max_header_size = 2m");
}

static void
test_octal_mode(void)
{
    static const struct {
        const char *v;
        int want;
    } cases[] = {
        { "0660", 0660 }, { "0600", 0600 }, { "0777", 0777 },
        { "0", 0 },       { "007", 7 },     { "\"0640\"", 0640 },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        keel_config_t c;
        char line[64], err[256];

        snprintf(line, sizeof(line), "socket_mode = %s", cases[i].v);
        CU_ASSERT_EQUAL(parse_one(&c, "server", line, err, sizeof(err)),
                        KEEL_OK);
        CU_ASSERT_EQUAL(c.socket_mode, cases[i].want);
        config_free(&c);
    }
}

static void
test_mode_that_is_not_octal_is_an_error(void)
{
    ASSERT_PARSE_ERROR("[server]\nsocket_mode = 660\n",
                       "t.conf:2: socket_mode: expected an octal mode such as "
                       "0660, got '660'");
    ASSERT_PARSE_ERROR("[server]\nsocket_mode = 0999\n",
                       "t.conf:2: socket_mode: expected an octal mode such as "
                       "0660, got '0999'");
    ASSERT_VALUE_REJECTED("server", "socket_mode = 0778");
    ASSERT_VALUE_REJECTED("server", "socket_mode = 01777");
    ASSERT_VALUE_REJECTED("server", "socket_mode = 0x1ff");
    ASSERT_VALUE_REJECTED("server", "socket_mode = 0o660");
    ASSERT_VALUE_REJECTED("server", "socket_mode = ");
}

static void
test_log_level_names(void)
{
    static const struct {
        const char *v;
        int want;
    } cases[] = {
        { "debug", KLOG_DEBUG },
        { "info", KLOG_INFO },
        { "warn", KLOG_WARN },
        { "error", KLOG_ERROR },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        keel_config_t c;
        char line[64], err[256];

        snprintf(line, sizeof(line), "level = %s", cases[i].v);
        CU_ASSERT_EQUAL(parse_one(&c, "log", line, err, sizeof(err)), KEEL_OK);
        CU_ASSERT_EQUAL(c.log_level, cases[i].want);
        config_free(&c);
    }
    ASSERT_PARSE_ERROR("[log]\nlevel = verbose\n",
                       "t.conf:2: level: expected debug, info, warn or error, "
                       "got 'verbose'");
}

/* ---- syntax errors ----------------------------------------------------- */

static void
test_unknown_section_is_an_error(void)
{
    ASSERT_PARSE_ERROR("[server]\nbacklog = 1\n[databases]\n",
                       "t.conf:3: unknown section [databases]");
    ASSERT_PARSE_ERROR("[]\n", "t.conf:1: unknown section []");
}

static void
test_unterminated_section_header_is_an_error(void)
{
    ASSERT_PARSE_ERROR("[server\nbacklog = 1\n",
                       "t.conf:1: section header without ']'");
    ASSERT_PARSE_ERROR("\n[\n", "t.conf:2: section header without ']'");
}

static void
test_key_outside_a_section_is_an_error(void)
{
    ASSERT_PARSE_ERROR("# top\nlisten = /tmp/k.sock\n[server]\n",
                       "t.conf:2: key 'listen' outside of a section");
}

static void
test_line_without_equals_is_an_error(void)
{
    ASSERT_PARSE_ERROR("[server]\nlisten /tmp/k.sock\n",
                       "t.conf:2: expected 'key = value'");
    ASSERT_PARSE_ERROR("[log]\naccess_log\n",
                       "t.conf:2: expected 'key = value'");
}

static void
test_unknown_key_is_an_error(void)
{
    ASSERT_PARSE_ERROR("[server]\nport = 8080\n",
                       "t.conf:2: unknown key 'port' in [server]");
    /* A known key in the wrong section is unknown there. */
    ASSERT_PARSE_ERROR("[http]\nlisten = /tmp/k.sock\n",
                       "t.conf:2: unknown key 'listen' in [http]");
    ASSERT_PARSE_ERROR("[server]\n= 1\n",
                       "t.conf:2: unknown key '' in [server]");
}

static void
test_duplicate_key_is_an_error(void)
{
    ASSERT_PARSE_ERROR("[server]\nbacklog = 1\nbacklog = 2\n",
                       "t.conf:3: duplicate key 'backlog' in [server]");
    /* Also when the section is opened again. */
    ASSERT_PARSE_ERROR("[server]\nbacklog = 1\n[log]\nlevel = info\n"
                       "[server]\nbacklog = 1\n",
                       "t.conf:6: duplicate key 'backlog' in [server]");
}

static void
test_unbalanced_quotes_are_an_error(void)
{
    ASSERT_PARSE_ERROR("[server]\nlisten = \"/tmp/k.sock\n",
                       "t.conf:2: unbalanced quotes in value of 'listen'");
    ASSERT_PARSE_ERROR("[server]\nlisten = /tmp/k.sock\"\n",
                       "t.conf:2: unbalanced quotes in value of 'listen'");
    ASSERT_PARSE_ERROR("[server]\nlisten = \"\n",
                       "t.conf:2: unbalanced quotes in value of 'listen'");
}

static void
test_messages_use_the_given_name_and_stop_at_the_first_error(void)
{
    keel_config_t c;
    char err[256];

    config_defaults(&c);
    CU_ASSERT_EQUAL(config_parse(&c, "[server]\nbacklog = 0\nnope = 1\n",
                                 "/etc/keel/keel.conf", err, sizeof(err)),
                    KEEL_EINVAL);
    CU_ASSERT_STRING_EQUAL(err, "/etc/keel/keel.conf:2: backlog: expected an "
                                "integer in 1..65535, got '0'");
    config_free(&c);
}

static void
test_error_message_is_truncated_to_the_buffer(void)
{
    keel_config_t c;
    char err[16];

    memset(err, 'x', sizeof(err));
    config_defaults(&c);
    CU_ASSERT_EQUAL(
        config_parse(&c, "[server]\nport = 1\n", "t.conf", err, sizeof(err)),
        KEEL_EINVAL);
    CU_ASSERT_EQUAL(err[sizeof(err) - 1], '\0');
    CU_ASSERT_STRING_EQUAL(err, "t.conf:2: unkno");
    config_free(&c);
}

/* ---- environment ------------------------------------------------------- */

static void
test_env_overrides_single_keys(void)
{
    keel_config_t c;
    char err[256] = "";
    char *const envp[] = {
        "PATH=/usr/bin",
        "KEEL_SERVER_BACKLOG=100",
        "KEEL_SERVER_LISTEN=127.0.0.1:9000",
        "KEEL_SERVER_REQUEST_TIMEOUT=500ms",
        "KEEL_HTTP_MAX_BODY_SIZE=2m",
        "KEEL_LOG_LEVEL=debug",
        "KEEL_LOG_ACCESS_LOG=off",
        NULL,
    };

    config_defaults(&c);
    CU_ASSERT_EQUAL(config_apply_env(&c, envp, err, sizeof(err)), KEEL_OK);
    CU_ASSERT_STRING_EQUAL(err, "");
    CU_ASSERT_EQUAL(c.backlog, 100);
    CU_ASSERT_STRING_EQUAL(c.listen, "127.0.0.1:9000");
    approx(c.request_timeout, 0.5);
    CU_ASSERT_EQUAL(c.max_body_size, 2 * 1048576);
    CU_ASSERT_EQUAL(c.log_level, KLOG_DEBUG);
    CU_ASSERT_EQUAL(c.access_log, 0);
    /* Untouched keys keep their values. */
    CU_ASSERT_EQUAL(c.threads, 1);
    config_free(&c);
}

static void
test_env_bad_value_names_the_variable(void)
{
    keel_config_t c;
    char err[256];
    char *const envp[] = { "KEEL_SERVER_BACKLOG=lots", NULL };
    char *const envp2[] = { "KEEL_LOG_ACCESS_LOG=maybe", NULL };

    config_defaults(&c);
    CU_ASSERT_EQUAL(config_apply_env(&c, envp, err, sizeof(err)), KEEL_EINVAL);
    CU_ASSERT_STRING_EQUAL(err, "KEEL_SERVER_BACKLOG: backlog: expected an "
                                "integer in 1..65535, got 'lots'");
    CU_ASSERT_EQUAL(c.backlog, 511);
    CU_ASSERT_EQUAL(config_apply_env(&c, envp2, err, sizeof(err)), KEEL_EINVAL);
    CU_ASSERT_STRING_EQUAL(
        err,
        "KEEL_LOG_ACCESS_LOG: access_log: expected on or off, got 'maybe'");
    config_free(&c);
}

static void
test_env_unknown_key_in_a_known_section_is_an_error(void)
{
    keel_config_t c;
    char err[256];
    char *const envp[] = { "KEEL_SERVER_PORT=8080", NULL };
    char *const envp2[] = { "KEEL_HTTP_LISTEN=/x", NULL };

    config_defaults(&c);
    CU_ASSERT_EQUAL(config_apply_env(&c, envp, err, sizeof(err)), KEEL_EINVAL);
    CU_ASSERT_STRING_EQUAL(err, "KEEL_SERVER_PORT: unknown key 'port' in "
                                "[server]");
    CU_ASSERT_EQUAL(config_apply_env(&c, envp2, err, sizeof(err)), KEEL_EINVAL);
    CU_ASSERT_STRING_EQUAL(err, "KEEL_HTTP_LISTEN: unknown key 'listen' in "
                                "[http]");
    config_free(&c);
}

static void
test_env_long_unknown_key_in_a_known_section_is_an_error(void)
{
    keel_config_t c;
    char err[256] = "";
    char var[128];
    char *envp[] = { var, NULL };

    /* A typo is an error however long the name is. */
    snprintf(var, sizeof(var), "KEEL_SERVER_%s=1",
             "MAX_REQUESTS_PER_WORKER_BEFORE_IT_IS_RECYCLED_BY_THE_MASTER_"
             "PROCESS_X");
    config_defaults(&c);
    CU_ASSERT_EQUAL(config_apply_env(&c, envp, err, sizeof(err)), KEEL_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown key"));
    config_free(&c);
}

static void
test_env_ignores_non_key_variables(void)
{
    keel_config_t c;
    char err[256] = "";
    char *const envp[] = {
        "KEEL_PORT=8080",
        "KEEL_CONFIG=/etc/keel/keel.conf",
        "KEEL_TEST_FOO=1",
        "KEEL_DATABASE_URL=postgres://x",
        "KEEL_SERVER=1",
        "keel_server_backlog=5",
        "XKEEL_SERVER_BACKLOG=5",
        "KEEL_SERVER_BACKLOG", /* no '=' */
        "HOME=/root",
        NULL,
    };

    config_defaults(&c);
    CU_ASSERT_EQUAL(config_apply_env(&c, envp, err, sizeof(err)), KEEL_OK);
    CU_ASSERT_STRING_EQUAL(err, "");
    CU_ASSERT_EQUAL(c.backlog, 511);
    CU_ASSERT_STRING_EQUAL(c.listen, "/run/keel/keel.sock");
    CU_ASSERT_EQUAL(config_apply_env(&c, NULL, err, sizeof(err)), KEEL_OK);
    config_free(&c);
}

/* ---- loading ----------------------------------------------------------- */

static void
test_load_missing_file_is_an_error(void)
{
    keel_config_t c;
    char err[256];
    char *const envp[] = { NULL };

    CU_ASSERT_EQUAL(
        config_load(&c, "/nonexistent/keel/keel.conf", envp, err, sizeof(err)),
        KEEL_EINVAL);
    CU_ASSERT_STRING_EQUAL(err, "/nonexistent/keel/keel.conf: cannot open: "
                                "No such file or directory");
    config_free(&c);
}

static void
test_load_file_with_a_nul_byte_is_an_error(void)
{
    static const char data[] = "[server]\nbacklog = 1\0\nthreads = 2\n";
    keel_config_t c;
    char path[64], want[128], err[256];
    char *const envp[] = { NULL };

    CU_ASSERT_EQUAL_FATAL(
        write_temp(path, sizeof(path), data, sizeof(data) - 1), 0);
    CU_ASSERT_EQUAL(config_load(&c, path, envp, err, sizeof(err)), KEEL_EINVAL);
    snprintf(want, sizeof(want), "%s: file contains a NUL byte", path);
    CU_ASSERT_STRING_EQUAL(err, want);
    config_free(&c);
    unlink(path);
}

static void
test_load_applies_defaults_then_file_then_env(void)
{
    static const char data[] = "[server]\n"
                               "backlog = 100\n"
                               "listen = /tmp/from-file.sock\n"
                               "[log]\n"
                               "level = warn\n";
    keel_config_t c;
    char path[64], err[256] = "";
    char *const envp[] = { "KEEL_SERVER_BACKLOG=200", "KEEL_PORT=1", NULL };

    CU_ASSERT_EQUAL_FATAL(
        write_temp(path, sizeof(path), data, sizeof(data) - 1), 0);
    CU_ASSERT_EQUAL(config_load(&c, path, envp, err, sizeof(err)), KEEL_OK);
    CU_ASSERT_STRING_EQUAL(err, "");
    CU_ASSERT_EQUAL(c.backlog, 200);
    CU_ASSERT_STRING_EQUAL(c.listen, "/tmp/from-file.sock");
    CU_ASSERT_EQUAL(c.log_level, KLOG_WARN);
    CU_ASSERT_EQUAL(c.threads, 1);
    config_free(&c);
    unlink(path);
}

static void
test_load_reports_errors_with_the_file_path(void)
{
    static const char data[] = "[server]\n\nnope = 1\n";
    static const char good[] = "[server]\nbacklog = 100\n";
    keel_config_t c;
    char path[64], want[128], err[256];
    char *const envp[] = { NULL };
    char *const bad_env[] = { "KEEL_SERVER_THREADS=0", NULL };

    CU_ASSERT_EQUAL_FATAL(
        write_temp(path, sizeof(path), data, sizeof(data) - 1), 0);
    CU_ASSERT_EQUAL(config_load(&c, path, envp, err, sizeof(err)), KEEL_EINVAL);
    snprintf(want, sizeof(want), "%s:3: unknown key 'nope' in [server]", path);
    CU_ASSERT_STRING_EQUAL(err, want);
    config_free(&c);
    unlink(path);

    /* A bad environment variable after a good file. */
    CU_ASSERT_EQUAL_FATAL(
        write_temp(path, sizeof(path), good, sizeof(good) - 1), 0);
    CU_ASSERT_EQUAL(config_load(&c, path, bad_env, err, sizeof(err)),
                    KEEL_EINVAL);
    CU_ASSERT_STRING_EQUAL(err, "KEEL_SERVER_THREADS: threads: expected an "
                                "integer in 1..64, got '0'");
    config_free(&c);
    unlink(path);
}

static void
test_load_runs_the_cross_key_check(void)
{
    static const char data[] = "[http]\nmax_query_size = 1m\n"
                               "max_path_size = 1k\n";
    keel_config_t c;
    char path[64], err[256];
    char *const envp[] = { NULL };

    CU_ASSERT_EQUAL_FATAL(
        write_temp(path, sizeof(path), data, sizeof(data) - 1), 0);
    CU_ASSERT_EQUAL(config_load(&c, path, envp, err, sizeof(err)), KEEL_EINVAL);
    CU_ASSERT_STRING_EQUAL(err, "max_query_size + max_path_size exceed 1 MiB");
    config_free(&c);
    unlink(path);
}

static void
test_load_directory_is_an_error(void)
{
    keel_config_t c;
    char dir[64], err[256] = "";
    char *const envp[] = { NULL };

    snprintf(dir, sizeof(dir), "/tmp/keel-test-config.XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    /* fopen(3) succeeds on a directory; only the read fails (EISDIR). */
    CU_ASSERT_EQUAL(config_load(&c, dir, envp, err, sizeof(err)), KEEL_EINVAL);
    config_free(&c);
    rmdir(dir);
}

/* A file of `size` bytes: one section line, then comment lines. */
static char *
big_config(size_t size)
{
    char *data = malloc(size);

    if (data == NULL)
        return NULL;
    memset(data, '#', size);
    memcpy(data, "[server]\n", 9);
    for (size_t i = 9 + 99; i < size; i += 100)
        data[i] = '\n';
    data[size - 1] = '\n';
    return data;
}

static void
test_load_file_over_1_mib_is_an_error(void)
{
    size_t size = (1u << 20) + 1;
    char *data = big_config(size);
    keel_config_t c;
    char path[64], want[128], err[256];
    char *const envp[] = { NULL };

    CU_ASSERT_PTR_NOT_NULL_FATAL(data);
    CU_ASSERT_EQUAL_FATAL(write_temp(path, sizeof(path), data, size), 0);
    CU_ASSERT_EQUAL(config_load(&c, path, envp, err, sizeof(err)), KEEL_EINVAL);
    snprintf(want, sizeof(want), "%s: file larger than 1 MiB", path);
    CU_ASSERT_STRING_EQUAL(err, want);
    config_free(&c);
    unlink(path);
    free(data);
}

static void
test_load_file_just_under_1_mib_is_accepted(void)
{
    size_t size = (1u << 20) - 1024;
    char *data = big_config(size);
    keel_config_t c;
    char path[64], err[256] = "";
    char *const envp[] = { NULL };

    CU_ASSERT_PTR_NOT_NULL_FATAL(data);
    CU_ASSERT_EQUAL_FATAL(write_temp(path, sizeof(path), data, size), 0);
    CU_ASSERT_EQUAL(config_load(&c, path, envp, err, sizeof(err)), KEEL_OK);
    if (err[0] != '\0')
        fprintf(stderr, "\n  %s\n", err);
    config_free(&c);
    unlink(path);
    free(data);
}

/* ---- checks ------------------------------------------------------------ */

static void
test_check_limits_query_plus_path_to_1_mib(void)
{
    keel_config_t c;
    char err[256] = "";

    config_defaults(&c);
    c.max_query_size = (1 << 20) - 2048;
    c.max_path_size = 2048;
    CU_ASSERT_EQUAL(config_check(&c, err, sizeof(err)), KEEL_OK);
    c.max_path_size = 2049;
    CU_ASSERT_EQUAL(config_check(&c, err, sizeof(err)), KEEL_EINVAL);
    CU_ASSERT_STRING_EQUAL(err, "max_query_size + max_path_size exceed 1 MiB");
    config_free(&c);
}

static void
test_choice_accepts_only_its_values(void)
{
    keel_config_t c;
    char err[256];

    CU_ASSERT_EQUAL(parse_one(&c, "mail", "transport = smtp", err, sizeof(err)),
                    KEEL_OK);
    CU_ASSERT_EQUAL(c.mail_transport, MAIL_SMTP);
    config_free(&c);
    CU_ASSERT_EQUAL(parse_one(&c, "mail", "smtp_tls = try", err, sizeof(err)),
                    KEEL_OK);
    CU_ASSERT_EQUAL(c.smtp_tls, SMTP_TLS_TRY);
    CU_ASSERT_EQUAL(c.mail_transport, MAIL_FILE);
    config_free(&c);
    ASSERT_PARSE_ERROR("[mail]\ntransport = SMTP\n",
                       "t.conf:2: transport: expected one of file|smtp, got "
                       "'SMTP'");
    ASSERT_VALUE_REJECTED("mail", "smtp_tls = ");
    ASSERT_VALUE_REJECTED("mail", "smtp_tls = requiredx");
    ASSERT_VALUE_REJECTED("mail", "transport = fil");
}

static void
test_webhook_subscribers_parse_into_a_list(void)
{
    keel_config_t c;
    char err[256];

    CU_ASSERT_EQUAL(
        parse_one(&c, "webhooks",
                  "subscribers = order.created https://a.example/h?x=1 ,"
                  "order.* http://b.example:8080/k,  * HTTPS://c.example",
                  err, sizeof(err)),
        KEEL_OK);
    CU_ASSERT_EQUAL(c.webhooks.n, 3);
    if (c.webhooks.n == 3) {
        CU_ASSERT_STRING_EQUAL(c.webhooks.v[0].pattern, "order.created");
        CU_ASSERT_STRING_EQUAL(c.webhooks.v[0].url, "https://a.example/h?x=1");
        CU_ASSERT_STRING_EQUAL(c.webhooks.v[1].pattern, "order.*");
        CU_ASSERT_STRING_EQUAL(c.webhooks.v[1].url, "http://b.example:8080/k");
        CU_ASSERT_STRING_EQUAL(c.webhooks.v[2].pattern, "*");
    }
    /* A later value replaces the list (env over file). */
    CU_ASSERT_EQUAL(
        config_parse(&c, "[webhooks]\nsubscribers =\n", "u", err, sizeof(err)),
        KEEL_OK);
    CU_ASSERT_EQUAL(c.webhooks.n, 0);
    config_free(&c);
    CU_ASSERT_EQUAL(c.webhooks.v, NULL);
}

static void
test_bad_webhook_subscribers_are_errors(void)
{
    char many[4096] = "subscribers = ";

    ASSERT_PARSE_ERROR("[webhooks]\nsubscribers = order.created\n",
                       "t.conf:2: subscribers: '' is not an http:// or "
                       "https:// URL with a host and no credentials");
    ASSERT_PARSE_ERROR("[webhooks]\nsubscribers = Order x://y\n",
                       "t.conf:2: subscribers: 'Order' is not an event type, "
                       "prefix.* or *");
    ASSERT_VALUE_REJECTED("webhooks", "subscribers = a ftp://x/");
    ASSERT_VALUE_REJECTED("webhooks", "subscribers = a file:///etc/passwd");
    ASSERT_VALUE_REJECTED("webhooks", "subscribers = a gopher://x/");
    ASSERT_VALUE_REJECTED("webhooks", "subscribers = a http://");
    ASSERT_VALUE_REJECTED("webhooks", "subscribers = a http:///path");
    ASSERT_VALUE_REJECTED("webhooks", "subscribers = a http://u:p@host/");
    ASSERT_VALUE_REJECTED("webhooks", "subscribers = a http://h/ extra");
    ASSERT_VALUE_REJECTED("webhooks", "subscribers = a http://h/,");
    ASSERT_VALUE_REJECTED("webhooks", "subscribers = a http://h/,,b http://h/");
    ASSERT_VALUE_REJECTED("webhooks", "subscribers = a* http://h/");
    ASSERT_VALUE_REJECTED("webhooks", "subscribers = .* http://h/");
    ASSERT_VALUE_REJECTED("webhooks", "subscribers = a.*.b http://h/");
    ASSERT_VALUE_REJECTED("webhooks", "subscribers = a http://h/\x7f");
    ASSERT_VALUE_REJECTED("webhooks", "subscribers = a http://h/\xc3\xa9");
    /* At most CONFIG_MAX_WEBHOOKS. */
    for (int i = 0; i <= CONFIG_MAX_WEBHOOKS; i++)
        strcat(many, i ? ", a http://h/" : "a http://h/");
    {
        keel_config_t c;
        char err[256];
        CU_ASSERT_EQUAL(parse_one(&c, "webhooks", many, err, sizeof(err)),
                        KEEL_EINVAL);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "more than 32 subscribers"));
        config_free(&c);
    }
}

static void
test_webhook_patterns_match_types(void)
{
    CU_ASSERT(config_webhook_matches("order.created", "order.created"));
    CU_ASSERT(!config_webhook_matches("order.created", "order.paid"));
    CU_ASSERT(config_webhook_matches("order.*", "order.paid"));
    CU_ASSERT(config_webhook_matches("order.*", "order.a.b"));
    CU_ASSERT(!config_webhook_matches("order.*", "order."));
    CU_ASSERT(!config_webhook_matches("order.*", "order"));
    CU_ASSERT(!config_webhook_matches("order.*", "orders.created"));
    CU_ASSERT(config_webhook_matches("*", "user.registered"));
}

static void
test_check_wants_a_webhook_secret_and_tls_for_smtp_logins(void)
{
    keel_config_t c;
    char err[256] = "";

    CU_ASSERT_EQUAL(parse_one(&c, "webhooks", "subscribers = a http://h/", err,
                              sizeof(err)),
                    KEEL_OK);
    CU_ASSERT_EQUAL(config_check(&c, err, sizeof(err)), KEEL_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "secret must be at least 32 bytes"));
    free(c.webhook_secret);
    c.webhook_secret = strdup("0123456789abcdef0123456789abcde");
    CU_ASSERT_EQUAL(config_check(&c, err, sizeof(err)), KEEL_EINVAL);
    free(c.webhook_secret);
    c.webhook_secret = strdup("0123456789abcdef0123456789abcdef");
    CU_ASSERT_EQUAL(config_check(&c, err, sizeof(err)), KEEL_OK);
    config_free(&c);

    CU_ASSERT_EQUAL(parse(&c,
                          "[mail]\ntransport = smtp\nsmtp_tls = try\n"
                          "smtp_username = u\n",
                          err, sizeof(err)),
                    KEEL_OK);
    CU_ASSERT_EQUAL(config_check(&c, err, sizeof(err)), KEEL_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "smtp_username needs"));
    c.smtp_tls = SMTP_TLS_REQUIRED;
    CU_ASSERT_EQUAL(config_check(&c, err, sizeof(err)), KEEL_OK);
    c.smtp_tls = SMTP_TLS_OFF;
    free(c.smtp_url);
    c.smtp_url = strdup("smtps://mail.example:465");
    CU_ASSERT_EQUAL(config_check(&c, err, sizeof(err)), KEEL_OK);
    free(c.smtp_url);
    c.smtp_url = strdup("http://mail.example");
    CU_ASSERT_EQUAL(config_check(&c, err, sizeof(err)), KEEL_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "smtp_url must begin with"));
    config_free(&c);
}

/*
 * conf/keel.conf, as shipped: it parses, documents every key of the table
 * in its section, and shows the built-in defaults ("deleting a line
 * changes nothing").
 */
static void
test_shipped_keel_conf_documents_every_key_with_its_default(void)
{
    const char *top = getenv("top_srcdir");
    char path[4096], err[256] = "", which[128] = "";
    keel_config_t file, def;
    char *text = NULL;
    size_t len = 0;
    FILE *f;

    snprintf(path, sizeof(path), "%s/conf/keel.conf", top ? top : ".");
    CU_ASSERT_EQUAL_FATAL(config_load(&file, path, NULL, err, sizeof(err)),
                          KEEL_OK);
    config_defaults(&def);
    CU_ASSERT_EQUAL(config_diff(&file, &def, which, sizeof(which)), 0);
    if (which[0])
        fprintf(stderr, "\n  keel.conf differs from the default in %s\n",
                which);
    f = fopen(path, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    text = malloc(1 << 20);
    len = fread(text, 1, (1 << 20) - 1, f);
    text[len] = '\0';
    fclose(f);
    for (size_t i = 0; i < config_nkeys(); i++) {
        const char *section, *key, *sec, *next, *hit;
        char header[64], line[128];
        config_key(i, &section, &key);
        snprintf(header, sizeof(header), "\n[%s]\n", section);
        snprintf(line, sizeof(line), "\n%s = ", key);
        sec = strstr(text, header);
        next = sec ? strstr(sec + 1, "\n[") : NULL;
        hit = sec ? strstr(sec, line) : NULL;
        /* Defaults set at configure time are shown commented out. */
        if (hit == NULL || (next != NULL && hit > next)) {
            snprintf(line, sizeof(line), "\n#%s = ", key);
            hit = sec ? strstr(sec, line) : NULL;
        }
        CU_ASSERT(hit != NULL && (next == NULL || hit < next));
        if (hit == NULL || (next != NULL && hit > next))
            fprintf(stderr, "\n  keel.conf does not show [%s] %s\n", section,
                    key);
    }
    free(text);
    config_free(&file);
    config_free(&def);
}

static void
test_workers_resolves_zero_to_the_cpu_count(void)
{
    keel_config_t c;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);

    config_defaults(&c);
    c.workers = 4;
    CU_ASSERT_EQUAL(config_workers(&c), 4);
    c.workers = 1;
    CU_ASSERT_EQUAL(config_workers(&c), 1);
    c.workers = 0;
    CU_ASSERT(config_workers(&c) >= 1);
    if (cpus > 0)
        CU_ASSERT_EQUAL(config_workers(&c), (int)cpus);
    config_free(&c);
}

static void
test_rate_limits_are_requests_per_duration(void)
{
    keel_config_t c;
    char err[256];

    config_defaults(&c);
    CU_ASSERT_EQUAL(c.rl_enabled, 1);
    CU_ASSERT_EQUAL(c.rl_read.limit, 600);
    approx(c.rl_read.window, 60.0);
    CU_ASSERT_EQUAL(c.rl_write.limit, 60);
    approx(c.rl_write.window, 60.0);
    CU_ASSERT_EQUAL(c.rl_auth.limit, 10);
    approx(c.rl_auth.window, 60.0);
    CU_ASSERT_EQUAL(c.rl_table_size, 65536);
    CU_ASSERT_STRING_EQUAL(c.trusted_proxies, "");
    config_free(&c);
    CU_ASSERT_EQUAL_FATAL(
        parse(&c,
              "[ratelimit]\nread = 100/10s\nwrite = off\nauth = 5/1h\n"
              "enabled = off\n[http]\ntrusted_proxies = 10.0.0.0/8, ::1\n",
              err, sizeof(err)),
        KEEL_OK);
    CU_ASSERT_EQUAL(c.rl_read.limit, 100);
    approx(c.rl_read.window, 10.0);
    CU_ASSERT_EQUAL(c.rl_write.limit, 0);
    CU_ASSERT_EQUAL(c.rl_auth.limit, 5);
    approx(c.rl_auth.window, 3600.0);
    CU_ASSERT_EQUAL(c.rl_enabled, 0);
    CU_ASSERT_EQUAL(config_check(&c, err, sizeof(err)), KEEL_OK);
    config_free(&c);
    ASSERT_PARSE_ERROR("[ratelimit]\nread = 600\n",
                       "t.conf:2: read: expected requests per duration in "
                       "1..1000000000 per 1s..1d (e.g. 600/1m) or off, got "
                       "'600'");
    ASSERT_VALUE_REJECTED("ratelimit", "read = 0/1m");
    ASSERT_VALUE_REJECTED("ratelimit", "read = 10/0s");
    ASSERT_VALUE_REJECTED("ratelimit", "read = 10/2d");
    ASSERT_VALUE_REJECTED("ratelimit", "read = 10/");
    ASSERT_VALUE_REJECTED("ratelimit", "read = /1m");
    ASSERT_VALUE_REJECTED("ratelimit", "read = ten/1m");
    ASSERT_VALUE_REJECTED("ratelimit", "table_size = 10");
    /* A bad proxy list fails the check keeld and reloads run. */
    CU_ASSERT_EQUAL_FATAL(parse_one(&c, "http", "trusted_proxies = 10.0.0.0/40",
                                    err, sizeof(err)),
                          KEEL_OK);
    CU_ASSERT_EQUAL(config_check(&c, err, sizeof(err)), KEEL_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "10.0.0.0/40"));
    config_free(&c);
}

static void
test_cors_origins_match_exactly_and_star_never_with_credentials(void)
{
    keel_config_t c;
    char err[256];

    config_defaults(&c);
    CU_ASSERT_STRING_EQUAL(c.cors_origins, "");
    CU_ASSERT_EQUAL(c.cors_credentials, 0);
    approx(c.cors_max_age, 600.0);
    CU_ASSERT_PTR_NULL(config_cors_origin(&c, "https://a.example", 0));
    config_free(&c);
    CU_ASSERT_EQUAL_FATAL(parse_one(&c, "http",
                                    "cors_origins = https://a.example, "
                                    "https://b.example:8443",
                                    err, sizeof(err)),
                          KEEL_OK);
    CU_ASSERT_STRING_EQUAL(config_cors_origin(&c, "https://a.example", 0),
                           "https://a.example");
    CU_ASSERT_STRING_EQUAL(config_cors_origin(&c, "https://b.example:8443", 0),
                           "https://b.example:8443");
    CU_ASSERT_PTR_NULL(config_cors_origin(&c, "https://b.example", 0));
    CU_ASSERT_PTR_NULL(config_cors_origin(&c, "https://a.example.evil", 0));
    CU_ASSERT_PTR_NULL(config_cors_origin(&c, "http://a.example", 0));
    CU_ASSERT_PTR_NULL(config_cors_origin(&c, "", 0));
    CU_ASSERT_PTR_NULL(config_cors_origin(&c, NULL, 0));
    config_free(&c);
    CU_ASSERT_EQUAL_FATAL(
        parse_one(&c, "http", "cors_origins = *", err, sizeof(err)), KEEL_OK);
    CU_ASSERT_STRING_EQUAL(config_cors_origin(&c, "https://x.example", 0), "*");
    CU_ASSERT_EQUAL(config_check(&c, err, sizeof(err)), KEEL_OK);
    c.cors_credentials = 1;
    CU_ASSERT_EQUAL(config_check(&c, err, sizeof(err)), KEEL_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "cors_credentials"));
    config_free(&c);
}

static const unit_test_t tests[] = {
    { "CORS origins match exactly, and * never with credentials",
      test_cors_origins_match_exactly_and_star_never_with_credentials },
    { "rate limits are requests per duration",
      test_rate_limits_are_requests_per_duration },
    { "defaults match the documented values",
      test_defaults_match_the_documented_values },
    { "defaults pass the cross-key check",
      test_defaults_pass_the_cross_key_check },
    { "an empty file keeps the defaults", test_empty_text_keeps_defaults },
    { "comments (# and ;) and blank lines are ignored",
      test_comments_and_blank_lines_are_ignored },
    { "comments and blank lines count in line numbers",
      test_comments_and_blank_lines_count_in_line_numbers },
    { "whitespace, CRLF and a missing final newline are accepted",
      test_whitespace_crlf_and_missing_final_newline_are_accepted },
    { "every section and key is accepted and stored",
      test_every_section_and_key_is_accepted },
    { "parse builds on an earlier state without duplicate errors",
      test_parse_builds_on_an_earlier_state },
    { "strings with and without quotes", test_string_with_and_without_quotes },
    { "quoted numbers are accepted", test_quoted_numbers_are_accepted },
    { "integers accept their bounds", test_int_accepts_its_bounds },
    { "integers outside their bounds are an error naming the range",
      test_int_outside_its_bounds_is_an_error },
    { "integers that are not whole decimal numbers are an error",
      test_int_that_is_not_a_whole_number_is_an_error },
    { "bools accept on/off, true/false, yes/no, 1/0 in any case",
      test_bool_accepts_every_spelling },
    { "bools reject other words", test_bool_rejects_other_words },
    { "durations take ms, s, m, h or bare seconds", test_duration_units },
    { "durations with a bad unit or out of range are an error",
      test_duration_with_a_bad_unit_or_range_is_an_error },
    { "sizes take k, m, g (any case) or bare bytes", test_size_units },
    { "sizes with a bad unit or out of range are an error",
      test_size_with_a_bad_unit_or_range_is_an_error },
    { "socket_mode is octal", test_octal_mode },
    { "a mode that is not 0-prefixed octal is an error",
      test_mode_that_is_not_octal_is_an_error },
    { "log level names", test_log_level_names },
    { "an unknown section is an error", test_unknown_section_is_an_error },
    { "a section header without ']' is an error",
      test_unterminated_section_header_is_an_error },
    { "a key outside a section is an error",
      test_key_outside_a_section_is_an_error },
    { "a line without '=' is an error", test_line_without_equals_is_an_error },
    { "an unknown key is an error", test_unknown_key_is_an_error },
    { "a duplicate key is an error", test_duplicate_key_is_an_error },
    { "unbalanced quotes are an error", test_unbalanced_quotes_are_an_error },
    { "messages use the given name and stop at the first error",
      test_messages_use_the_given_name_and_stop_at_the_first_error },
    { "an error message is truncated to the buffer",
      test_error_message_is_truncated_to_the_buffer },
    { "KEEL_<SECTION>_<KEY> overrides single keys",
      test_env_overrides_single_keys },
    { "a bad environment value names the variable",
      test_env_bad_value_names_the_variable },
    { "an unknown key in a known section's variable is an error",
      test_env_unknown_key_in_a_known_section_is_an_error },
    { "a long unknown key in a known section's variable is an error",
      test_env_long_unknown_key_in_a_known_section_is_an_error },
    { "KEEL_PORT, KEEL_CONFIG and unknown sections are ignored",
      test_env_ignores_non_key_variables },
    { "loading a missing file is an error",
      test_load_missing_file_is_an_error },
    { "loading a file with a NUL byte is an error",
      test_load_file_with_a_nul_byte_is_an_error },
    { "load applies defaults, then the file, then the environment",
      test_load_applies_defaults_then_file_then_env },
    { "load reports errors with the file path or variable",
      test_load_reports_errors_with_the_file_path },
    { "load runs the cross-key check", test_load_runs_the_cross_key_check },
    { "loading a directory is an error", test_load_directory_is_an_error },
    { "loading a file over 1 MiB is an error",
      test_load_file_over_1_mib_is_an_error },
    { "loading a file just under 1 MiB is accepted",
      test_load_file_just_under_1_mib_is_accepted },
    { "check limits max_query_size + max_path_size to 1 MiB",
      test_check_limits_query_plus_path_to_1_mib },
    { "a choice takes only its listed values",
      test_choice_accepts_only_its_values },
    { "webhook subscribers parse into a list",
      test_webhook_subscribers_parse_into_a_list },
    { "bad webhook subscribers are errors",
      test_bad_webhook_subscribers_are_errors },
    { "webhook patterns match event types", test_webhook_patterns_match_types },
    { "check wants a webhook secret, and TLS for SMTP logins",
      test_check_wants_a_webhook_secret_and_tls_for_smtp_logins },
    { "the shipped keel.conf documents every key with its default",
      test_shipped_keel_conf_documents_every_key_with_its_default },
    { "workers = 0 resolves to the CPU count",
      test_workers_resolves_zero_to_the_cpu_count },
};

int
main(void)
{
    return unit_run("config", UNIT_TESTS(tests));
}
