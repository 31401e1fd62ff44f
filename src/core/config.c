/* config.c - keel.conf parser driven by one table of keys. */
#include "keel-build.h"

#include "core/config.h"
#include "core/log.h"
#include "core/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum ctype {
    CT_STRING,   /* any text */
    CT_INT,      /* decimal integer in [min, max] */
    CT_BOOL,     /* on/off, true/false, yes/no, 1/0 */
    CT_DURATION, /* seconds, or with unit ms/s/m/h; [min, max] seconds */
    CT_SIZE,     /* bytes, or with binary unit k/m/g; [min, max] bytes */
    CT_MODE,     /* octal file mode */
    CT_LEVEL,    /* log level name */
};

typedef struct ckey {
    const char *section;
    const char *key;
    enum ctype type;
    size_t off;      /* offset in keel_config_t */
    const char *def; /* default, parsed like a value from the file */
    long long min, max;
} ckey_t;

#define OFF(f) offsetof(keel_config_t, f)

#ifndef KEEL_MIGRATIONS_DIR
#define KEEL_MIGRATIONS_DIR "/usr/local/share/keel/sql/migrations"
#endif

/* Every key of keel.conf.  conf/keel.conf documents each row. */
static const ckey_t keys[] = {
    { "server", "listen", CT_STRING, OFF(listen), "/run/keel/keel.sock", 0, 0 },
    { "server", "socket_mode", CT_MODE, OFF(socket_mode), "0660", 0, 0777 },
    { "server", "socket_owner", CT_STRING, OFF(socket_owner), "", 0, 0 },
    { "server", "socket_group", CT_STRING, OFF(socket_group), "", 0, 0 },
    { "server", "backlog", CT_INT, OFF(backlog), "511", 1, 65535 },
    { "server", "workers", CT_INT, OFF(workers), "0", 0, 1024 },
    { "server", "threads", CT_INT, OFF(threads), "1", 1, 64 },
    { "server", "max_requests", CT_INT, OFF(max_requests), "100000", 0,
      1000000000 },
    { "server", "request_timeout", CT_DURATION, OFF(request_timeout), "30s", 0,
      86400 },
    { "server", "shutdown_timeout", CT_DURATION, OFF(shutdown_timeout), "30s",
      0, 3600 },
    { "server", "pid_file", CT_STRING, OFF(pid_file), "", 0, 0 },
    { "http", "max_body_size", CT_SIZE, OFF(max_body_size), "1m", 0,
      1LL << 30 },
    { "http", "max_query_size", CT_SIZE, OFF(max_query_size), "8k", 64,
      1 << 20 },
    { "http", "max_path_size", CT_SIZE, OFF(max_path_size), "2k", 64, 1 << 20 },
    { "http", "max_header_size", CT_SIZE, OFF(max_header_size), "8k", 256,
      1 << 20 },
    { "http", "max_json_depth", CT_INT, OFF(max_json_depth), "32", 1, 1000 },
    { "http", "hsts", CT_STRING, OFF(hsts), "", 0, 0 },
    { "log", "file", CT_STRING, OFF(log_file), "", 0, 0 },
    { "log", "level", CT_LEVEL, OFF(log_level), "info", 0, 0 },
    { "log", "access_log", CT_BOOL, OFF(access_log), "on", 0, 0 },
    { "auth", "argon2_memory", CT_INT, OFF(argon2_memory), "19456", 8,
      4194304 },
    { "auth", "argon2_time", CT_INT, OFF(argon2_time), "2", 1, 16 },
    { "auth", "argon2_parallelism", CT_INT, OFF(argon2_parallelism), "1", 1,
      16 },
    { "auth", "password_min_length", CT_INT, OFF(password_min_length), "12", 8,
      128 },
    { "auth", "password_max_length", CT_INT, OFF(password_max_length), "128",
      12, 1024 },
    { "jobs", "workers", CT_INT, OFF(job_workers), "1", 0, 16 },
    { "jobs", "lease", CT_DURATION, OFF(job_lease), "5m", 1, 86400 },
    { "jobs", "backoff_base", CT_DURATION, OFF(job_backoff_base), "10s", 0,
      86400 },
    { "jobs", "backoff_cap", CT_DURATION, OFF(job_backoff_cap), "1h", 0,
      604800 },
    { "jobs", "poll_interval", CT_DURATION, OFF(job_poll_interval), "5s", 0,
      3600 },
    { "mail", "from", CT_STRING, OFF(mail_from), "keel@localhost", 0, 0 },
    { "mail", "spool_dir", CT_STRING, OFF(mail_spool_dir),
      "/var/spool/keel/mail", 0, 0 },
    { "database", "url", CT_STRING, OFF(db_url), "", 0, 0 },
    { "database", "pool_size", CT_INT, OFF(db_pool_size), "0", 0, 1000 },
    { "database", "pool_acquire_timeout", CT_DURATION, OFF(db_acquire_timeout),
      "2s", 0, 60 },
    { "database", "connect_timeout", CT_DURATION, OFF(db_connect_timeout), "5s",
      1, 60 },
    { "database", "max_lifetime", CT_DURATION, OFF(db_max_lifetime), "30m", 0,
      86400 },
    { "database", "statement_timeout", CT_DURATION, OFF(db_statement_timeout),
      "10s", 0, 3600 },
    { "database", "idle_in_transaction_timeout", CT_DURATION,
      OFF(db_idle_tx_timeout), "10s", 0, 3600 },
    { "database", "application_name", CT_STRING, OFF(db_application_name),
      "keeld", 0, 0 },
    { "database", "prepared_statements", CT_BOOL, OFF(db_prepared), "on", 0,
      0 },
    { "database", "migrations_dir", CT_STRING, OFF(db_migrations_dir),
      KEEL_MIGRATIONS_DIR, 0, 0 },
};

/* KEEL_* variables that are read by scripts, not config keys. */
static const char *const env_not_keys[] = { "KEEL_CONFIG", "KEEL_PORT" };

static int
section_known(const char *s, size_t n)
{
    for (size_t i = 0; i < KEEL_ARRAY_LEN(keys); i++)
        if (strlen(keys[i].section) == n && strncmp(keys[i].section, s, n) == 0)
            return 1;
    return 0;
}

static const ckey_t *
key_find(const char *section, const char *key)
{
    for (size_t i = 0; i < KEEL_ARRAY_LEN(keys); i++)
        if (strcmp(keys[i].section, section) == 0 &&
            strcmp(keys[i].key, key) == 0)
            return &keys[i];
    return NULL;
}

/* Split "<number><unit>"; returns 0 and the number, or -1. */
static int
number_unit(const char *v, double *num, const char **unit)
{
    char *end;

    if (!isdigit((unsigned char)*v))
        return -1;
    errno = 0;
    *num = strtod(v, &end);
    if (errno != 0 || end == v)
        return -1;
    *unit = end;
    return 0;
}

static int
parse_bool(const char *v, int *out)
{
    static const char *const yes[] = { "on", "true", "yes", "1" };
    static const char *const no[] = { "off", "false", "no", "0" };

    for (size_t i = 0; i < 4; i++) {
        if (ascii_casecmp(v, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (ascii_casecmp(v, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

/*
 * Store `v` into the field of `k`.  Returns KEEL_OK, KEEL_EINVAL with a
 * message (without location) in err, or KEEL_EINTERNAL on OOM.
 */
static keel_rc
set_value(keel_config_t *cfg, const ckey_t *k, const char *v, char *err,
          size_t errlen)
{
    char *field = (char *)cfg + k->off;
    double num;
    const char *unit;
    long long ll;
    int b;

    switch (k->type) {
    case CT_STRING: {
        char *copy = strdup(v);
        if (copy == NULL)
            return KEEL_EINTERNAL;
        free(*(char **)field);
        *(char **)field = copy;
        return KEEL_OK;
    }
    case CT_INT:
        if (parse_ll(v, k->min, k->max, &ll) != 0)
            goto range;
        *(int *)field = (int)ll; /* CT_INT bounds all fit an int */
        return KEEL_OK;
    case CT_BOOL:
        if (parse_bool(v, &b) != 0) {
            keel_seterr(err, errlen, "%s: expected on or off, got '%s'", k->key,
                        v);
            return KEEL_EINVAL;
        }
        *(int *)field = b;
        return KEEL_OK;
    case CT_DURATION:
        if (number_unit(v, &num, &unit) != 0)
            goto range;
        if (strcmp(unit, "ms") == 0)
            num /= 1000.0;
        else if (strcmp(unit, "m") == 0)
            num *= 60.0;
        else if (strcmp(unit, "h") == 0)
            num *= 3600.0;
        else if (*unit != '\0' && strcmp(unit, "s") != 0)
            goto range;
        if (num < (double)k->min || num > (double)k->max)
            goto range;
        *(double *)field = num;
        return KEEL_OK;
    case CT_SIZE:
        /* Bound before any cast: a double beyond long long is UB. */
        if (number_unit(v, &num, &unit) != 0 || num > (double)k->max ||
            num != (double)(long long)num)
            goto range;
        if (ascii_casecmp(unit, "k") == 0)
            num *= 1024.0;
        else if (ascii_casecmp(unit, "m") == 0)
            num *= 1024.0 * 1024.0;
        else if (ascii_casecmp(unit, "g") == 0)
            num *= 1024.0 * 1024.0 * 1024.0;
        else if (*unit != '\0')
            goto range;
        if (num < (double)k->min || num > (double)k->max)
            goto range;
        *(long long *)field = (long long)num;
        return KEEL_OK;
    case CT_MODE: {
        char *end;
        long m;
        if (*v != '0' || strlen(v) > 4)
            goto range;
        errno = 0;
        m = strtol(v, &end, 8);
        if (errno != 0 || *end != '\0' || m < k->min || m > k->max)
            goto range;
        *(int *)field = (int)m;
        return KEEL_OK;
    }
    case CT_LEVEL:
        b = log_level_parse(v);
        if (b < 0) {
            keel_seterr(err, errlen,
                        "%s: expected debug, info, warn or error, got '%s'",
                        k->key, v);
            return KEEL_EINVAL;
        }
        *(int *)field = b;
        return KEEL_OK;
    }
range:
    switch (k->type) {
    case CT_INT:
        keel_seterr(err, errlen,
                    "%s: expected an integer in %lld..%lld, got '%s'", k->key,
                    k->min, k->max, v);
        break;
    case CT_DURATION:
        keel_seterr(
            err, errlen,
            "%s: expected a duration (e.g. 30s, 500ms, 2m) in %lld..%llds, "
            "got '%s'",
            k->key, k->min, k->max, v);
        break;
    case CT_SIZE:
        keel_seterr(err, errlen,
                    "%s: expected a size (e.g. 8k, 1m) in %lld..%lld bytes, "
                    "got '%s'",
                    k->key, k->min, k->max, v);
        break;
    default:
        keel_seterr(err, errlen,
                    "%s: expected an octal mode such as 0660, got '%s'", k->key,
                    v);
        break;
    }
    return KEEL_EINVAL;
}

void
config_defaults(keel_config_t *cfg)
{
    char err[256];

    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < KEEL_ARRAY_LEN(keys); i++)
        if (set_value(cfg, &keys[i], keys[i].def, err, sizeof(err)) != KEEL_OK)
            abort(); /* a bad default is a programming error */
}

void
config_free(keel_config_t *cfg)
{
    for (size_t i = 0; i < KEEL_ARRAY_LEN(keys); i++) {
        if (keys[i].type == CT_STRING) {
            char **p = (char **)((char *)cfg + keys[i].off);
            free(*p);
            *p = NULL;
        }
    }
}

static char *
trim(char *s)
{
    char *e;

    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        *--e = '\0';
    return s;
}

/* Remove one pair of surrounding double quotes; -1 if unbalanced. */
static int
unquote(char **v)
{
    size_t n = strlen(*v);

    if (n == 0 || (*v)[0] != '"')
        return (n > 0 && (*v)[n - 1] == '"') ? -1 : 0;
    if (n < 2 || (*v)[n - 1] != '"')
        return -1;
    (*v)[n - 1] = '\0';
    (*v)++;
    return 0;
}

keel_rc
config_parse(keel_config_t *cfg, const char *text, const char *name, char *err,
             size_t errlen)
{
    char *copy = strdup(text);
    char section[32] = "";
    unsigned char seen[KEEL_ARRAY_LEN(keys)] = { 0 };
    char msg[256];
    int lineno = 0;
    keel_rc rc = KEEL_OK;
    char *line, *next;

    if (copy == NULL)
        return KEEL_EINTERNAL;
    for (line = copy; line != NULL && rc == KEEL_OK; line = next) {
        char *nl = strchr(line, '\n');
        char *s, *eq, *key, *val;
        const ckey_t *k;

        next = nl ? nl + 1 : NULL;
        if (nl)
            *nl = '\0';
        lineno++;
        s = trim(line);
        if (*s == '\0' || *s == '#' || *s == ';')
            continue;
        if (*s == '[') {
            size_t n = strlen(s);
            if (s[n - 1] != ']') {
                keel_seterr(err, errlen, "%s:%d: section header without ']'",
                            name, lineno);
                rc = KEEL_EINVAL;
                break;
            }
            s[n - 1] = '\0';
            s = trim(s + 1);
            if (!section_known(s, strlen(s))) {
                keel_seterr(err, errlen, "%s:%d: unknown section [%.40s]", name,
                            lineno, s);
                rc = KEEL_EINVAL;
                break;
            }
            snprintf(section, sizeof(section), "%s", s);
            continue;
        }
        eq = strchr(s, '=');
        if (eq == NULL) {
            keel_seterr(err, errlen, "%s:%d: expected 'key = value'", name,
                        lineno);
            rc = KEEL_EINVAL;
            break;
        }
        *eq = '\0';
        key = trim(s);
        val = trim(eq + 1);
        if (section[0] == '\0') {
            keel_seterr(err, errlen, "%s:%d: key '%.40s' outside of a section",
                        name, lineno, key);
            rc = KEEL_EINVAL;
            break;
        }
        k = key_find(section, key);
        if (k == NULL) {
            keel_seterr(err, errlen, "%s:%d: unknown key '%.40s' in [%s]", name,
                        lineno, key, section);
            rc = KEEL_EINVAL;
            break;
        }
        if (seen[k - keys]) {
            keel_seterr(err, errlen, "%s:%d: duplicate key '%s' in [%s]", name,
                        lineno, key, section);
            rc = KEEL_EINVAL;
            break;
        }
        seen[k - keys] = 1;
        if (unquote(&val) != 0) {
            keel_seterr(err, errlen,
                        "%s:%d: unbalanced quotes in value of '%s'", name,
                        lineno, key);
            rc = KEEL_EINVAL;
            break;
        }
        rc = set_value(cfg, k, val, msg, sizeof(msg));
        if (rc == KEEL_EINVAL)
            keel_seterr(err, errlen, "%s:%d: %s", name, lineno, msg);
    }
    free(copy);
    return rc;
}

keel_rc
config_apply_env(keel_config_t *cfg, char *const *envp, char *err,
                 size_t errlen)
{
    char msg[256];

    for (; envp != NULL && *envp != NULL; envp++) {
        const char *e = *envp;
        const char *eq = strchr(e, '=');
        const char *sec, *us;
        char section[32], key[64];
        const ckey_t *k;
        size_t i, n;
        int skip = 0;
        keel_rc rc;

        if (eq == NULL || strncmp(e, "KEEL_", 5) != 0)
            continue;
        for (i = 0; i < KEEL_ARRAY_LEN(env_not_keys); i++) {
            n = strlen(env_not_keys[i]);
            if ((size_t)(eq - e) == n && strncmp(e, env_not_keys[i], n) == 0)
                skip = 1;
        }
        sec = e + 5;
        us = memchr(sec, '_', (size_t)(eq - sec));
        if (skip || us == NULL || (size_t)(us - sec) >= sizeof(section))
            continue;
        for (i = 0; sec + i < us; i++)
            section[i] = (char)tolower((unsigned char)sec[i]);
        section[i] = '\0';
        /* Only variables naming a known section are config keys. */
        if (!section_known(section, i))
            continue;
        if ((size_t)(eq - us - 1) >= sizeof(key)) {
            keel_seterr(err, errlen, "%.*s: unknown key in [%s]", (int)(eq - e),
                        e, section);
            return KEEL_EINVAL;
        }
        for (i = 0; us + 1 + i < eq; i++)
            key[i] = (char)tolower((unsigned char)us[1 + i]);
        key[i] = '\0';
        k = key_find(section, key);
        if (k == NULL) {
            keel_seterr(err, errlen, "%.*s: unknown key '%s' in [%s]",
                        (int)(eq - e), e, key, section);
            return KEEL_EINVAL;
        }
        rc = set_value(cfg, k, eq + 1, msg, sizeof(msg));
        if (rc == KEEL_EINVAL)
            keel_seterr(err, errlen, "%.*s: %s", (int)(eq - e), e, msg);
        if (rc != KEEL_OK)
            return rc;
    }
    return KEEL_OK;
}

keel_rc
config_check(const keel_config_t *cfg, char *err, size_t errlen)
{
    if (cfg->max_query_size + cfg->max_path_size > (1 << 20)) {
        keel_seterr(err, errlen, "max_query_size + max_path_size exceed 1 MiB");
        return KEEL_EINVAL;
    }
    return KEEL_OK;
}

keel_rc
config_load(keel_config_t *cfg, const char *path, char *const *envp, char *err,
            size_t errlen)
{
    FILE *f;
    char *text = NULL;
    size_t len = 0, cap = 0;
    keel_rc rc;

    config_defaults(cfg);
    f = fopen(path, "re");
    if (f == NULL) {
        keel_seterr(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return KEEL_EINVAL;
    }
    for (;;) {
        size_t got;
        if (len + 4096 + 1 > cap) {
            char *t;
            cap = cap ? cap * 2 : 8192;
            t = realloc(text, cap);
            if (t == NULL) {
                free(text);
                fclose(f);
                return KEEL_EINTERNAL;
            }
            text = t;
        }
        got = fread(text + len, 1, 4096, f);
        len += got;
        if (len > (1 << 20)) {
            keel_seterr(err, errlen, "%s: file larger than 1 MiB", path);
            free(text);
            fclose(f);
            return KEEL_EINVAL;
        }
        if (got < 4096)
            break;
    }
    /* fopen() succeeds on a directory; only reading it fails. */
    if (ferror(f)) {
        keel_seterr(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        free(text);
        fclose(f);
        return KEEL_EINVAL;
    }
    fclose(f);
    text[len] = '\0';
    if (strlen(text) != len) {
        keel_seterr(err, errlen, "%s: file contains a NUL byte", path);
        free(text);
        return KEEL_EINVAL;
    }
    rc = config_parse(cfg, text, path, err, errlen);
    free(text);
    if (rc == KEEL_OK)
        rc = config_apply_env(cfg, envp, err, errlen);
    if (rc == KEEL_OK)
        rc = config_check(cfg, err, errlen);
    return rc;
}

int
config_workers(const keel_config_t *cfg)
{
    long n;

    if (cfg->workers > 0)
        return cfg->workers;
    n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}
