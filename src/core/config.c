/* config.c - keel.conf parser driven by one table of keys. */
#include "keel-build.h"

#include "core/config.h"
#include "core/clientip.h"
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
    CT_CHOICE,   /* one of `choices` ("a|b|c"), stored as its index */
    CT_WEBHOOKS, /* "pattern url, pattern url, ..." ([webhooks] subscribers) */
    CT_RATE,     /* "N/duration" or "off": [min, max] requests, 1s..1d */
};

typedef struct ckey {
    const char *section;
    const char *key;
    enum ctype type;
    size_t off;      /* offset in keel_config_t */
    const char *def; /* default, parsed like a value from the file */
    long long min, max;
    const char *choices; /* CT_CHOICE */
} ckey_t;

#define OFF(f) offsetof(keel_config_t, f)

#ifndef KEEL_MIGRATIONS_DIR
#define KEEL_MIGRATIONS_DIR "/usr/local/share/keel/sql/migrations"
#endif

/* Every key of keel.conf.  conf/keel.conf documents each row. */
static const ckey_t keys[] = {
    { "server", "listen", CT_STRING, OFF(listen), "/run/keel/keel.sock", 0, 0,
      NULL },
    { "server", "socket_mode", CT_MODE, OFF(socket_mode), "0660", 0, 0777,
      NULL },
    { "server", "socket_owner", CT_STRING, OFF(socket_owner), "", 0, 0, NULL },
    { "server", "socket_group", CT_STRING, OFF(socket_group), "", 0, 0, NULL },
    { "server", "backlog", CT_INT, OFF(backlog), "511", 1, 65535, NULL },
    { "server", "workers", CT_INT, OFF(workers), "0", 0, 1024, NULL },
    { "server", "threads", CT_INT, OFF(threads), "1", 1, 64, NULL },
    { "server", "max_requests", CT_INT, OFF(max_requests), "100000", 0,
      1000000000, NULL },
    { "server", "request_timeout", CT_DURATION, OFF(request_timeout), "30s", 0,
      86400, NULL },
    { "server", "shutdown_timeout", CT_DURATION, OFF(shutdown_timeout), "30s",
      0, 3600, NULL },
    { "server", "pid_file", CT_STRING, OFF(pid_file), "", 0, 0, NULL },
    { "server", "user", CT_STRING, OFF(user), "", 0, 0, NULL },
    { "server", "group", CT_STRING, OFF(group), "", 0, 0, NULL },
    { "server", "allow_root", CT_BOOL, OFF(allow_root), "off", 0, 0, NULL },
    { "server", "slow_request_threshold", CT_DURATION, OFF(slow_request), "5s",
      0, 86400, NULL },
    { "server", "emergency_restart_threshold", CT_INT, OFF(emergency_threshold),
      "0", 0, 1000, NULL },
    { "server", "emergency_restart_interval", CT_DURATION,
      OFF(emergency_interval), "1m", 1, 86400, NULL },
    { "http", "max_body_size", CT_SIZE, OFF(max_body_size), "1m", 0, 1LL << 30,
      NULL },
    { "http", "max_query_size", CT_SIZE, OFF(max_query_size), "8k", 64, 1 << 20,
      NULL },
    { "http", "max_path_size", CT_SIZE, OFF(max_path_size), "2k", 64, 1 << 20,
      NULL },
    { "http", "max_header_size", CT_SIZE, OFF(max_header_size), "8k", 256,
      1 << 20, NULL },
    { "http", "max_json_depth", CT_INT, OFF(max_json_depth), "32", 1, 1000,
      NULL },
    { "http", "max_query_params", CT_INT, OFF(max_query_params), "64", 1, 1024,
      NULL },
    { "http", "hsts", CT_STRING, OFF(hsts), "", 0, 0, NULL },
    { "http", "server_timing", CT_BOOL, OFF(server_timing), "off", 0, 0, NULL },
    { "http", "cursor_secret", CT_STRING, OFF(cursor_secret), "", 0, 0, NULL },
    { "http", "public_max_age", CT_DURATION, OFF(public_max_age), "60s", 0,
      86400, NULL },
    { "http", "cors_origins", CT_STRING, OFF(cors_origins), "", 0, 0, NULL },
    { "http", "cors_credentials", CT_BOOL, OFF(cors_credentials), "off", 0, 0,
      NULL },
    { "http", "cors_max_age", CT_DURATION, OFF(cors_max_age), "10m", 0, 86400,
      NULL },
    { "http", "trusted_proxies", CT_STRING, OFF(trusted_proxies), "", 0, 0,
      NULL },
    { "metrics", "enabled", CT_BOOL, OFF(metrics_enabled), "on", 0, 0, NULL },
    { "metrics", "allow", CT_STRING, OFF(metrics_allow),
      "127.0.0.1/32, ::1/128", 0, 0, NULL },
    { "ratelimit", "enabled", CT_BOOL, OFF(rl_enabled), "on", 0, 0, NULL },
    { "ratelimit", "read", CT_RATE, OFF(rl_read), "600/1m", 1, 1000000000,
      NULL },
    { "ratelimit", "write", CT_RATE, OFF(rl_write), "60/1m", 1, 1000000000,
      NULL },
    { "ratelimit", "auth", CT_RATE, OFF(rl_auth), "10/1m", 1, 1000000000,
      NULL },
    { "ratelimit", "table_size", CT_INT, OFF(rl_table_size), "65536", 64,
      16777216, NULL },
    { "log", "file", CT_STRING, OFF(log_file), "", 0, 0, NULL },
    { "log", "level", CT_LEVEL, OFF(log_level), "info", 0, 0, NULL },
    { "log", "access_log", CT_BOOL, OFF(access_log), "on", 0, 0, NULL },
    { "log", "slow_query", CT_DURATION, OFF(slow_query), "250ms", 0, 3600,
      NULL },
    { "auth", "argon2_memory", CT_INT, OFF(argon2_memory), "19456", 8, 4194304,
      NULL },
    { "auth", "argon2_time", CT_INT, OFF(argon2_time), "2", 1, 16, NULL },
    { "auth", "argon2_parallelism", CT_INT, OFF(argon2_parallelism), "1", 1, 16,
      NULL },
    { "auth", "hash_concurrency", CT_INT, OFF(hash_concurrency), "0", 0,
      64 /* HASHGATE_MAX */, NULL },
    { "auth", "hash_wait", CT_DURATION, OFF(hash_wait), "1s", 0, 60, NULL },
    { "auth", "password_min_length", CT_INT, OFF(password_min_length), "12", 8,
      128, NULL },
    { "auth", "password_max_length", CT_INT, OFF(password_max_length), "128",
      12, 1024, NULL },
    { "auth", "jwt_algorithm", CT_CHOICE, OFF(jwt_alg), "HS256", 0, 0,
      "HS256|RS256|ES256" },
    { "auth", "jwt_secret", CT_STRING, OFF(jwt_secret), "", 0, 0, NULL },
    { "auth", "jwt_private_key_file", CT_STRING, OFF(jwt_private_key_file), "",
      0, 0, NULL },
    { "auth", "jwt_public_key_file", CT_STRING, OFF(jwt_public_key_file), "", 0,
      0, NULL },
    { "auth", "jwt_issuer", CT_STRING, OFF(jwt_issuer), "keel", 0, 0, NULL },
    { "auth", "jwt_audience", CT_STRING, OFF(jwt_audience), "keel-api", 0, 0,
      NULL },
    { "auth", "jwt_leeway", CT_DURATION, OFF(jwt_leeway), "5s", 0, 300, NULL },
    { "auth", "access_token_ttl", CT_DURATION, OFF(access_ttl), "15m", 60,
      86400, NULL },
    { "auth", "refresh_token_ttl", CT_DURATION, OFF(refresh_ttl), "30d", 60,
      31536000, NULL },
    { "auth", "refresh_reuse_grace", CT_DURATION, OFF(refresh_grace), "10s", 0,
      60, NULL },
    { "auth", "verify_token_ttl", CT_DURATION, OFF(verify_ttl), "24h", 60,
      604800, NULL },
    { "auth", "require_verified_email", CT_BOOL, OFF(require_verified), "off",
      0, 0, NULL },
    { "auth", "pepper", CT_STRING, OFF(pepper), "", 0, 0, NULL },
    { "auth", "public_base_url", CT_STRING, OFF(public_base_url),
      "http://127.0.0.1:8080", 0, 0, NULL },
    { "jobs", "workers", CT_INT, OFF(job_workers), "1", 0, 16, NULL },
    { "jobs", "lease", CT_DURATION, OFF(job_lease), "5m", 1, 86400, NULL },
    { "jobs", "backoff_base", CT_DURATION, OFF(job_backoff_base), "10s", 0,
      86400, NULL },
    { "jobs", "backoff_cap", CT_DURATION, OFF(job_backoff_cap), "1h", 0, 604800,
      NULL },
    { "jobs", "dead_degrades", CT_BOOL, OFF(job_dead_degrades), "off", 0, 0,
      NULL },
    { "jobs", "poll_interval", CT_DURATION, OFF(job_poll_interval), "5s", 0,
      3600, NULL },
    { "mail", "from", CT_STRING, OFF(mail_from), "keel@localhost", 0, 0, NULL },
    { "mail", "transport", CT_CHOICE, OFF(mail_transport), "file", 0, 0,
      "file|smtp" },
    { "mail", "spool_dir", CT_STRING, OFF(mail_spool_dir),
      "/var/spool/keel/mail", 0, 0, NULL },
    { "mail", "smtp_url", CT_STRING, OFF(smtp_url), "smtp://localhost:25", 0, 0,
      NULL },
    { "mail", "smtp_tls", CT_CHOICE, OFF(smtp_tls), "required", 0, 0,
      "off|try|required" },
    { "mail", "smtp_ca_file", CT_STRING, OFF(smtp_ca_file), "", 0, 0, NULL },
    { "mail", "smtp_username", CT_STRING, OFF(smtp_username), "", 0, 0, NULL },
    { "mail", "smtp_password", CT_STRING, OFF(smtp_password), "", 0, 0, NULL },
    { "mail", "smtp_timeout", CT_DURATION, OFF(smtp_timeout), "30s", 1, 600,
      NULL },
    { "webhooks", "subscribers", CT_WEBHOOKS, OFF(webhooks), "", 0, 0, NULL },
    { "webhooks", "secret", CT_STRING, OFF(webhook_secret), "", 0, 0, NULL },
    { "webhooks", "connect_timeout", CT_DURATION, OFF(webhook_connect_timeout),
      "5s", 1, 60, NULL },
    { "webhooks", "timeout", CT_DURATION, OFF(webhook_timeout), "10s", 1, 300,
      NULL },
    { "webhooks", "max_attempts", CT_INT, OFF(webhook_max_attempts), "8", 1,
      100, NULL },
    { "database", "url", CT_STRING, OFF(db_url), "", 0, 0, NULL },
    { "database", "pool_size", CT_INT, OFF(db_pool_size), "0", 0, 1000, NULL },
    { "database", "pool_acquire_timeout", CT_DURATION, OFF(db_acquire_timeout),
      "2s", 0, 60, NULL },
    { "database", "connect_timeout", CT_DURATION, OFF(db_connect_timeout), "5s",
      1, 60, NULL },
    { "database", "max_lifetime", CT_DURATION, OFF(db_max_lifetime), "30m", 0,
      86400, NULL },
    { "database", "statement_timeout", CT_DURATION, OFF(db_statement_timeout),
      "10s", 0, 3600, NULL },
    { "database", "idle_in_transaction_timeout", CT_DURATION,
      OFF(db_idle_tx_timeout), "10s", 0, 3600, NULL },
    { "database", "application_name", CT_STRING, OFF(db_application_name),
      "keeld", 0, 0, NULL },
    { "database", "prepared_statements", CT_BOOL, OFF(db_prepared), "on", 0, 0,
      NULL },
    { "database", "migrations_dir", CT_STRING, OFF(db_migrations_dir),
      KEEL_MIGRATIONS_DIR, 0, 0, NULL },
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

static void
webhooks_free(webhook_subs_t *w)
{
    for (size_t i = 0; i < w->n; i++) {
        free(w->v[i].pattern);
        free(w->v[i].url);
    }
    free(w->v);
    w->v = NULL;
    w->n = 0;
}

/* An event type, or a pattern: "*", "type", "prefix.*". */
static int
pattern_ok(const char *p, size_t n)
{
    if (n == 1 && p[0] == '*')
        return 1;
    if (n > 2 && p[n - 1] == '*' && p[n - 2] == '.')
        n -= 2;
    if (n == 0 || n > 64 || p[0] < 'a' || p[0] > 'z')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') ||
              p[i] == '_' || p[i] == '.' || p[i] == '-'))
            return 0;
    return 1;
}

/*
 * http(s) only, a host, printable ASCII, no credentials in the authority
 * (they would end up in logs and job payloads; receivers check the
 * signature instead).
 */
static int
url_ok(const char *u, size_t n)
{
    size_t skip, i;

    if (n > 2048)
        return 0;
    if (n > 7 && ascii_ncasecmp(u, "http://", 7) == 0)
        skip = 7;
    else if (n > 8 && ascii_ncasecmp(u, "https://", 8) == 0)
        skip = 8;
    else
        return 0;
    for (i = 0; i < n; i++)
        if ((unsigned char)u[i] <= 0x20 || (unsigned char)u[i] >= 0x7f)
            return 0;
    if (u[skip] == '/' || u[skip] == ':' || u[skip] == '?' || u[skip] == '#')
        return 0; /* no host */
    for (i = skip; i < n && u[i] != '/' && u[i] != '?' && u[i] != '#'; i++)
        if (u[i] == '@')
            return 0;
    return 1;
}

/* "pattern url, pattern url, ..." into a fresh list (old one freed). */
static keel_rc
webhooks_parse(webhook_subs_t *out, const char *v, const char *key, char *err,
               size_t errlen)
{
    webhook_subs_t w = { NULL, 0 };
    const char *p = v;

    while (*p == ' ' || *p == '\t')
        p++;
    while (*p != '\0') {
        const char *pat = p, *url, *end;
        size_t np, nu;
        webhook_sub_t *nv;

        while (*p && *p != ' ' && *p != '\t' && *p != ',')
            p++;
        np = (size_t)(p - pat);
        while (*p == ' ' || *p == '\t')
            p++;
        url = p;
        while (*p && *p != ' ' && *p != '\t' && *p != ',')
            p++;
        nu = (size_t)(p - url);
        end = p;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p != '\0' && *p != ',') {
            keel_seterr(err, errlen,
                        "%s: expected 'pattern url' entries separated by "
                        "commas, near '%.40s'",
                        key, end);
            goto bad;
        }
        if (!pattern_ok(pat, np)) {
            keel_seterr(err, errlen,
                        "%s: '%.*s' is not an event type, prefix.* or *", key,
                        (int)(np > 64 ? 64 : np), pat);
            goto bad;
        }
        if (!url_ok(url, nu)) {
            keel_seterr(err, errlen,
                        "%s: '%.*s' is not an http:// or https:// URL with a "
                        "host and no credentials",
                        key, (int)(nu > 64 ? 64 : nu), url);
            goto bad;
        }
        if (w.n == CONFIG_MAX_WEBHOOKS) {
            keel_seterr(err, errlen, "%s: more than %d subscribers", key,
                        CONFIG_MAX_WEBHOOKS);
            goto bad;
        }
        nv = realloc(w.v, (w.n + 1) * sizeof(*nv));
        if (nv == NULL)
            goto oom;
        w.v = nv;
        w.v[w.n].pattern = strndup(pat, np);
        w.v[w.n].url = strndup(url, nu);
        w.n++;
        if (w.v[w.n - 1].pattern == NULL || w.v[w.n - 1].url == NULL)
            goto oom;
        if (*p == ',') {
            p++;
            while (*p == ' ' || *p == '\t')
                p++;
            if (*p == '\0') {
                keel_seterr(err, errlen, "%s: empty entry after ','", key);
                goto bad;
            }
        }
    }
    webhooks_free(out);
    *out = w;
    return KEEL_OK;
bad:
    webhooks_free(&w);
    return KEEL_EINVAL;
oom:
    webhooks_free(&w);
    return KEEL_EINTERNAL;
}

const char *
config_cors_origin(const keel_config_t *cfg, const char *origin, int exact)
{
    const char *p = cfg->cors_origins;
    size_t n = origin ? strlen(origin) : 0;

    if (origin == NULL || n == 0)
        return NULL;
    while (*p != '\0') {
        const char *e;
        size_t len;

        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        e = p;
        while (*e && *e != ',' && *e != ' ' && *e != '\t')
            e++;
        len = (size_t)(e - p);
        if (len == n && strncmp(p, origin, n) == 0)
            return origin;
        if (!exact && len == 1 && *p == '*')
            return cfg->cors_credentials ? origin : "*";
        p = e;
    }
    return NULL;
}

int
config_webhook_matches(const char *pattern, const char *type)
{
    size_t n = strlen(pattern);

    if (strcmp(pattern, "*") == 0)
        return 1;
    if (n > 2 && pattern[n - 1] == '*' && pattern[n - 2] == '.')
        return strncmp(pattern, type, n - 1) == 0 && type[n - 1] != '\0';
    return strcmp(pattern, type) == 0;
}

static keel_rc set_value(keel_config_t *cfg, const ckey_t *k, const char *v,
                         char *err, size_t errlen);

/* "N/duration" (N requests per duration) or "off" into *out. */
static keel_rc
rate_parse(keel_rate_t *out, const ckey_t *k, const char *v, char *err,
           size_t errlen)
{
    const char *slash = strchr(v, '/');
    char num[24];
    ckey_t dk = { k->section, k->key, CT_DURATION, 0, NULL, 1, 86400, NULL };
    keel_config_t tmp;
    long long n;

    if (strcmp(v, "off") == 0) {
        out->limit = 0;
        out->window = 0;
        return KEEL_OK;
    }
    if (slash == NULL || (size_t)(slash - v) >= sizeof(num))
        goto bad;
    memcpy(num, v, (size_t)(slash - v));
    num[slash - v] = '\0';
    if (parse_ll(num, k->min, k->max, &n) != 0)
        goto bad;
    /* The window parses as a duration key would, into a scratch config. */
    dk.off = offsetof(keel_config_t, rate_scratch);
    if (set_value(&tmp, &dk, slash + 1, err, errlen) != KEEL_OK)
        goto bad;
    out->limit = n;
    out->window = tmp.rate_scratch;
    return KEEL_OK;
bad:
    keel_seterr(err, errlen,
                "%s: expected requests per duration in %lld..%lld per 1s..1d "
                "(e.g. 600/1m) or off, got '%.40s'",
                k->key, k->min, k->max, v);
    return KEEL_EINVAL;
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
        else if (strcmp(unit, "d") == 0)
            num *= 86400.0;
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
    case CT_CHOICE: {
        const char *c = k->choices;
        size_t n = strlen(v);
        for (b = 0; c != NULL && *c; b++) {
            const char *bar = strchr(c, '|');
            size_t cn = bar ? (size_t)(bar - c) : strlen(c);
            if (cn == n && strncmp(c, v, n) == 0) {
                *(int *)field = b;
                return KEEL_OK;
            }
            c += cn + (bar ? 1 : 0);
        }
        keel_seterr(err, errlen, "%s: expected one of %s, got '%.40s'", k->key,
                    k->choices, v);
        return KEEL_EINVAL;
    }
    case CT_WEBHOOKS:
        return webhooks_parse((webhook_subs_t *)(void *)field, v, k->key, err,
                              errlen);
    case CT_RATE:
        return rate_parse((keel_rate_t *)(void *)field, k, v, err, errlen);
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
        } else if (keys[i].type == CT_WEBHOOKS) {
            webhooks_free(
                (webhook_subs_t *)(void *)((char *)cfg + keys[i].off));
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
    cidr_list_t trusted;

    if (cidr_list_parse(cfg->trusted_proxies, "trusted_proxies", &trusted, err,
                        errlen) != KEEL_OK)
        return KEEL_EINVAL;
    cidr_list_free(&trusted);
    if (cidr_list_parse(cfg->metrics_allow, "[metrics] allow", &trusted, err,
                        errlen) != KEEL_OK)
        return KEEL_EINVAL;
    cidr_list_free(&trusted);
    /* Browsers refuse "*" with credentials; an origin list must name them. */
    if (cfg->cors_credentials && config_cors_origin(cfg, "*", 1) != NULL) {
        keel_seterr(err, errlen,
                    "[http] cors_credentials = on needs cors_origins to name "
                    "the origins, not \"*\"");
        return KEEL_EINVAL;
    }
    if (cfg->max_query_size + cfg->max_path_size > (1 << 20)) {
        keel_seterr(err, errlen, "max_query_size + max_path_size exceed 1 MiB");
        return KEEL_EINVAL;
    }
    if (cfg->cursor_secret[0] != '\0' && strlen(cfg->cursor_secret) < 32) {
        keel_seterr(err, errlen,
                    "[http] cursor_secret must be at least 32 bytes (or "
                    "empty: a random key per start)");
        return KEEL_EINVAL;
    }
    /* A short key makes signatures guessable; none makes them absent. */
    if (cfg->webhooks.n > 0 && strlen(cfg->webhook_secret) < 32) {
        keel_seterr(err, errlen,
                    "[webhooks] secret must be at least 32 bytes when there "
                    "are subscribers");
        return KEEL_EINVAL;
    }
    if (cfg->mail_transport == MAIL_SMTP &&
        ascii_ncasecmp(cfg->smtp_url, "smtp://", 7) != 0 &&
        ascii_ncasecmp(cfg->smtp_url, "smtps://", 8) != 0) {
        keel_seterr(err, errlen,
                    "[mail] smtp_url must begin with smtp:// or smtps://");
        return KEEL_EINVAL;
    }
    /* Credentials never cross the network in the clear. */
    if (cfg->mail_transport == MAIL_SMTP && cfg->smtp_username[0] != '\0' &&
        cfg->smtp_tls != SMTP_TLS_REQUIRED &&
        ascii_ncasecmp(cfg->smtp_url, "smtps://", 8) != 0) {
        keel_seterr(err, errlen,
                    "[mail] smtp_username needs smtp_tls = required or an "
                    "smtps:// URL");
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

size_t
config_nkeys(void)
{
    return KEEL_ARRAY_LEN(keys);
}

void
config_key(size_t i, const char **section, const char **key)
{
    *section = keys[i].section;
    *key = keys[i].key;
}

static int
key_equal(const ckey_t *k, const keel_config_t *a, const keel_config_t *b)
{
    const char *fa = (const char *)a + k->off, *fb = (const char *)b + k->off;

    switch (k->type) {
    case CT_STRING:
        return strcmp(*(char *const *)(const void *)fa,
                      *(char *const *)(const void *)fb) == 0;
    case CT_DURATION:
        return *(const double *)(const void *)fa ==
               *(const double *)(const void *)fb;
    case CT_SIZE:
        return *(const long long *)(const void *)fa ==
               *(const long long *)(const void *)fb;
    case CT_RATE: {
        const keel_rate_t *ra = (const void *)fa, *rb = (const void *)fb;
        return ra->limit == rb->limit && ra->window == rb->window;
    }
    case CT_WEBHOOKS: {
        const webhook_subs_t *wa = (const void *)fa, *wb = (const void *)fb;
        if (wa->n != wb->n)
            return 0;
        for (size_t i = 0; i < wa->n; i++)
            if (strcmp(wa->v[i].pattern, wb->v[i].pattern) != 0 ||
                strcmp(wa->v[i].url, wb->v[i].url) != 0)
                return 0;
        return 1;
    }
    default:
        return *(const int *)(const void *)fa == *(const int *)(const void *)fb;
    }
}

int
config_diff(const keel_config_t *a, const keel_config_t *b, char *which,
            size_t len)
{
    for (size_t i = 0; i < KEEL_ARRAY_LEN(keys); i++) {
        if (!key_equal(&keys[i], a, b)) {
            snprintf(which, len, "[%s] %s", keys[i].section, keys[i].key);
            return 1;
        }
    }
    return 0;
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
