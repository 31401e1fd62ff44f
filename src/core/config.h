/*
 * config.h - keel.conf: an INI file of [section] key = value lines.
 *
 * Every key is a row in one table (config.c) with its type, default, bounds
 * and place in keel_config_t; conf/keel.conf documents each one.  After the
 * file, environment variables KEEL_<SECTION>_<KEY> override single keys.
 * Any unknown section or key, or a bad value, is an error reported as
 * "file:line: message" (or "KEEL_X_Y: message"), and keeld refuses to start.
 */
#ifndef KEEL_CORE_CONFIG_H
#define KEEL_CORE_CONFIG_H

#include "core/error.h"

#include <stddef.h>

/* One [webhooks] subscription: events whose type matches `pattern`
 * ("order.created", "order.*" or "*") are POSTed to `url`. */
typedef struct webhook_sub {
    char *pattern;
    char *url;
} webhook_sub_t;

typedef struct webhook_subs {
    webhook_sub_t *v;
    size_t n;
} webhook_subs_t;

#define CONFIG_MAX_WEBHOOKS 32

enum mail_transport { MAIL_FILE, MAIL_SMTP };
enum jwt_choice { JWT_HS256, JWT_RS256, JWT_ES256 };
enum smtp_tls { SMTP_TLS_OFF, SMTP_TLS_TRY, SMTP_TLS_REQUIRED };

/*
 * CORS (API.md 6): the Access-Control-Allow-Origin value for a request
 * from `origin` — the origin itself when [http] cors_origins names it (or
 * is "*" with credentials on), "*" when the list is "*" — or NULL when
 * it is not allowed.  `exact`: only a literal entry counts.
 */
struct keel_config;
const char *config_cors_origin(const struct keel_config *cfg,
                               const char *origin, int exact);

/* A rate limit: `limit` requests per `window` seconds (0: none). */
typedef struct keel_rate {
    long long limit;
    double window;
} keel_rate_t;

typedef struct keel_config {
    /* [server] */
    char *listen;              /* unix socket path or host:port */
    int socket_mode;           /* octal permissions of a unix socket */
    char *socket_owner;        /* user name, "" = unchanged */
    char *socket_group;        /* group name, "" = unchanged */
    char *user;                /* run as this user once set up (as root) */
    char *group;               /* and group; "" = the user's */
    int allow_root;            /* let workers run as root (no user) */
    double slow_request;       /* seconds; 0 = no slow-request log */
    int emergency_threshold;   /* crashes that restart all workers */
    double emergency_interval; /* ... within this many seconds */
    int backlog;
    int workers;             /* 0 = number of CPUs */
    int threads;             /* accept threads per worker */
    int max_requests;        /* per worker; 0 = never recycle */
    double request_timeout;  /* seconds; 0 = no limit */
    double shutdown_timeout; /* seconds a graceful stop may take */
    char *pid_file;          /* "" = none */
    /* [http] */
    long long max_body_size;
    long long max_query_size;
    long long max_path_size;
    long long max_header_size;
    int max_json_depth;
    int max_query_params;
    int metrics_enabled;
    char *metrics_allow; /* CIDR list of who may GET /metrics */
    double slow_query;   /* seconds; 0 = no slow-query log */
    int server_timing;
    char *hsts;            /* Strict-Transport-Security value, "" = not sent */
    char *cursor_secret;   /* HMAC key of pagination cursors, "" = random */
    double public_max_age; /* Cache-Control max-age of public GETs, 0 = no */
    char *trusted_proxies; /* CIDRs whose X-Forwarded-For is believed */
    char *cors_origins;    /* "https://a.example, ..." or "*"; "" = none */
    int cors_credentials;  /* bool: Access-Control-Allow-Credentials */
    double cors_max_age;   /* preflight cache, seconds */
    /* [ratelimit]: requests per window per client and class (API.md 1.7) */
    int rl_enabled;
    keel_rate_t rl_read, rl_write, rl_auth;
    int rl_table_size;   /* buckets in shared memory (a restart applies it) */
    double rate_scratch; /* parsing only */
    /* [log] */
    char *log_file; /* "" = stderr */
    int log_level;  /* enum klog_level */
    int access_log; /* bool */
    /* [auth] */
    int argon2_memory; /* KiB */
    int argon2_time;
    int argon2_parallelism;
    int hash_concurrency; /* 0 = online CPUs */
    double hash_wait;
    int password_min_length; /* characters */
    int password_max_length;
    int jwt_alg;                /* enum jwt_choice */
    char *jwt_secret;           /* HS256 key (>= 32 bytes): never logged */
    char *jwt_private_key_file; /* RS256/ES256 signing key (PEM) */
    char *jwt_public_key_file;  /* RS256/ES256 verification key (PEM) */
    char *jwt_issuer;           /* iss */
    char *jwt_audience;         /* aud */
    double jwt_leeway;          /* clock skew allowed on exp, nbf, iat */
    double access_ttl;          /* access token lifetime */
    double refresh_ttl;         /* refresh session lifetime */
    double refresh_grace;       /* a rotated token's retry window */
    double verify_ttl;          /* email verification token lifetime */
    int require_verified;       /* bool: unverified users cannot log in */
    char *pepper;               /* HMAC key applied before argon2, "" = none */
    char *public_base_url;      /* links in emails */
    /* [jobs] */
    int job_workers;          /* job worker processes; 0 = none */
    double job_lease;         /* seconds a claimed job is ours */
    double job_backoff_base;  /* first retry delay */
    double job_backoff_cap;   /* longest retry delay */
    double job_poll_interval; /* look for due jobs at least this often */
    int job_dead_degrades;    /* bool: dead jobs make /health degraded */
    /* [mail] */
    char *mail_from;      /* sender address */
    int mail_transport;   /* enum mail_transport */
    char *mail_spool_dir; /* the file transport's directory */
    char *smtp_url;       /* smtp://host:port or smtps://host:port */
    int smtp_tls;         /* enum smtp_tls (STARTTLS on smtp://) */
    char *smtp_ca_file;   /* "" = the system's CA store */
    char *smtp_username;  /* "" = no AUTH */
    char *smtp_password;  /* a secret: never logged */
    double smtp_timeout;  /* seconds for one message, connect included */
    /* [webhooks] */
    webhook_subs_t webhooks;
    char *webhook_secret; /* HMAC-SHA256 key: never logged */
    double webhook_connect_timeout;
    double webhook_timeout; /* seconds for one delivery, all of it */
    int webhook_max_attempts;
    /* [database] */
    char *db_url;              /* libpq conninfo or URI; "" = PG* variables */
    int db_pool_size;          /* connections per worker; 0 = threads */
    double db_acquire_timeout; /* seconds to wait for a free connection */
    double db_connect_timeout;
    double db_max_lifetime; /* seconds; 0 = forever */
    double db_statement_timeout;
    double db_idle_tx_timeout;
    char *db_application_name;
    int db_prepared; /* bool: named prepared statements */
    char *db_migrations_dir;
} keel_config_t;

/* Fill `cfg` with the defaults.  Release with config_free(). */
void config_defaults(keel_config_t *cfg);
void config_free(keel_config_t *cfg);

/*
 * Parse the text of a config file into `cfg` (which holds defaults or an
 * earlier state); `name` is used in messages.  On error returns KEEL_EINVAL
 * and writes "name:line: message" into err.  Allocates with malloc; the
 * master checks by hand (it must not abort), so KEEL_EINTERNAL means OOM.
 */
keel_rc config_parse(keel_config_t *cfg, const char *text, const char *name,
                     char *err, size_t errlen);

/*
 * Apply KEEL_<SECTION>_<KEY> variables from `envp` (NULL-terminated).  A
 * variable naming a known section but no key of it is an error (a typo must
 * not pass silently); KEEL_ variables of no known section (KEEL_PORT,
 * KEEL_TEST_*, ...) are not config keys and are ignored.
 */
keel_rc config_apply_env(keel_config_t *cfg, char *const *envp, char *err,
                         size_t errlen);

/* Defaults, then the file at `path`, then the environment. */
keel_rc config_load(keel_config_t *cfg, const char *path, char *const *envp,
                    char *err, size_t errlen);

/* Checks across keys.  KEEL_EINVAL with a message. */
keel_rc config_check(const keel_config_t *cfg, char *err, size_t errlen);

/*
 * Does event type `type` match a subscription pattern: equal, "*", or
 * "prefix.*" for every type that begins with "prefix."?
 */
int config_webhook_matches(const char *pattern, const char *type);

/* The table of keys, for documentation checks: key i's section and name. */
size_t config_nkeys(void);
void config_key(size_t i, const char **section, const char **key);

/* 1 when a and b differ in some key (named "[section] key" in which). */
int config_diff(const keel_config_t *a, const keel_config_t *b, char *which,
                size_t len);

/* Effective number of request workers (resolves workers = 0). */
int config_workers(const keel_config_t *cfg);

#endif
