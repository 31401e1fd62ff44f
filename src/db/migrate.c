/* migrate.c - discover, check, apply and revert schema migrations. */
#include "keel-build.h"

#include "db/migrate.h"
#include "db/internal.h"
#include "core/util.h"

#include <dirent.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* pg_advisory_lock key: "keel" in ASCII. */
#define MIGRATE_LOCK "1801807212"

DB_STMT(st_create_table, 0,
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version integer PRIMARY KEY,"
        " name text NOT NULL,"
        " checksum text NOT NULL,"
        " applied_at timestamptz NOT NULL DEFAULT now())");
DB_STMT(st_lock, 0, "SELECT pg_advisory_lock(" MIGRATE_LOCK ")");
DB_STMT(st_unlock, 0, "SELECT pg_advisory_unlock(" MIGRATE_LOCK ")");
DB_STMT(st_applied, 0,
        "SELECT version, name, checksum FROM schema_migrations "
        "ORDER BY version");
DB_STMT(st_record, 3,
        "INSERT INTO schema_migrations (version, name, checksum) "
        "VALUES ($1, $2, $3)");
DB_STMT(st_forget, 1, "DELETE FROM schema_migrations WHERE version = $1");
DB_STMT(st_current, 0,
        "SELECT coalesce(max(version), 0) FROM schema_migrations");
DB_STMT(st_has_table, 0, "SELECT to_regclass('schema_migrations') IS NOT NULL");

void
migration_checksum(const char *data, size_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
    for (unsigned int i = 0; i < mdlen && i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    out[64] = '\0';
}

static char *
read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "re");
    char *buf = NULL;
    size_t cap = 0, n = 0, got;

    if (f == NULL)
        return NULL;
    do {
        if (n + 4096 + 1 > cap) {
            cap = (cap + 4096) * 2;
            buf = xrealloc(buf, cap);
        }
        got = fread(buf + n, 1, 4096, f);
        n += got;
    } while (got > 0);
    if (ferror(f)) {
        fclose(f);
        free(buf);
        return NULL;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

static int
by_version(const void *a, const void *b)
{
    const migration_t *x = a, *y = b;
    return (x->version > y->version) - (x->version < y->version);
}

/* "0001_auth.up.sql" → version 1, name "0001_auth", up = 1.  0 or -1. */
static int
parse_name(const char *file, int *version, char *name, size_t nlen, int *up)
{
    size_t len = strlen(file), base;
    const char *suffix;

    if (len > 7 && strcmp(file + len - 7, ".up.sql") == 0) {
        *up = 1;
        base = len - 7;
    } else if (len > 9 && strcmp(file + len - 9, ".down.sql") == 0) {
        *up = 0;
        base = len - 9;
    } else {
        return -1;
    }
    if (base < 6 || base >= nlen || file[4] != '_')
        return -1;
    for (int i = 0; i < 4; i++)
        if (file[i] < '0' || file[i] > '9')
            return -1;
    for (size_t i = 5; i < base; i++) {
        char c = file[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return -1;
    }
    suffix = file;
    *version = (suffix[0] - '0') * 1000 + (suffix[1] - '0') * 100 +
               (suffix[2] - '0') * 10 + (suffix[3] - '0');
    memcpy(name, file, base);
    name[base] = '\0';
    return *version > 0 ? 0 : -1;
}

void
migrations_free(migration_t *m, size_t n)
{
    for (size_t i = 0; m && i < n; i++) {
        free(m[i].up);
        free(m[i].down);
    }
    free(m);
}

keel_rc
migrations_load(const char *dir, migration_t **out, size_t *n, char *err,
                size_t errlen)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    migration_t *m = NULL;
    size_t count = 0, cap = 0;
    keel_rc rc = KEEL_OK;

    *out = NULL;
    *n = 0;
    if (d == NULL) {
        keel_seterr(err, errlen, "%s: %s", dir, strerror(errno));
        return KEEL_EINVAL;
    }
    while ((e = readdir(d)) != NULL && rc == KEEL_OK) {
        char name[128], path[4096];
        int version, up;
        size_t len, i;
        char *text;

        if (e->d_name[0] == '.')
            continue;
        if (parse_name(e->d_name, &version, name, sizeof(name), &up) != 0) {
            keel_seterr(err, errlen,
                        "%s/%s: not a migration file (NNNN_name.up.sql or "
                        "NNNN_name.down.sql)",
                        dir, e->d_name);
            rc = KEEL_EINVAL;
            break;
        }
        for (i = 0; i < count; i++)
            if (m[i].version == version)
                break;
        if (i < count && strcmp(m[i].name, name) != 0) {
            keel_seterr(err, errlen, "%s: version %04d used by %s and %s", dir,
                        version, m[i].name, name);
            rc = KEEL_EINVAL;
            break;
        }
        if (i == count) {
            if (count == cap) {
                cap = cap ? cap * 2 : 16;
                m = xrealloc(m, cap * sizeof(*m));
            }
            memset(&m[count], 0, sizeof(m[count]));
            m[count].version = version;
            snprintf(m[count].name, sizeof(m[count].name), "%s", name);
            count++;
        }
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        text = read_file(path, &len);
        if (text == NULL) {
            keel_seterr(err, errlen, "%s: %s", path, strerror(errno));
            rc = KEEL_EINVAL;
            break;
        }
        if (up) {
            m[i].up = text;
            migration_checksum(text, len, m[i].checksum);
        } else {
            m[i].down = text;
        }
    }
    closedir(d);
    for (size_t i = 0; rc == KEEL_OK && i < count; i++) {
        if (m[i].up == NULL || m[i].down == NULL) {
            keel_seterr(err, errlen, "%s: %s has no %s file", dir, m[i].name,
                        m[i].up ? ".down.sql" : ".up.sql");
            rc = KEEL_EINVAL;
        }
    }
    if (rc != KEEL_OK) {
        migrations_free(m, count);
        return rc;
    }
    qsort(m, count, sizeof(*m), by_version);
    *out = m;
    *n = count;
    return KEEL_OK;
}

static keel_rc
fail(keel_rc rc, const db_error_t *e, char *err, size_t errlen,
     const char *what)
{
    keel_seterr(err, errlen, "%s: %s (SQLSTATE %s)", what, e->message,
                e->sqlstate);
    return rc;
}

/*
 * Take the lock, create the table, and check what is applied against the
 * files.  *applied gets the number of applied migrations (a prefix of m).
 */
static keel_rc
prepare(db_conn_t *c, const migration_t *m, size_t n, size_t *applied,
        char *err, size_t errlen)
{
    db_error_t e;
    PGresult *res;
    keel_rc rc;
    int rows;

    rc = db_exec(c, &st_lock, NULL, NULL, &e);
    if (rc == KEEL_OK)
        rc = db_exec(c, &st_create_table, NULL, NULL, &e);
    if (rc == KEEL_OK)
        rc = db_exec(c, &st_applied, NULL, &res, &e);
    if (rc != KEEL_OK)
        return fail(rc, &e, err, errlen, "schema_migrations");
    rows = PQntuples(res);
    for (int r = 0; r < rows; r++) {
        int version = atoi(PQgetvalue(res, r, 0));
        const char *sum = PQgetvalue(res, r, 2);
        if ((size_t)r >= n || m[r].version != version) {
            keel_seterr(err, errlen,
                        "applied migration %04d (%s) has no file in the "
                        "migrations directory",
                        version, PQgetvalue(res, r, 1));
            PQclear(res);
            return KEEL_ECONFLICT;
        }
        if (strcmp(m[r].checksum, sum) != 0) {
            keel_seterr(
                err, errlen,
                "migration %s was changed after it was applied "
                "(checksum %.12s… applied, %.12s… on disk): restore the "
                "file and put the change in a new migration",
                m[r].name, sum, m[r].checksum);
            PQclear(res);
            return KEEL_ECONFLICT;
        }
    }
    *applied = (size_t)rows;
    PQclear(res);
    return KEEL_OK;
}

static void
unlock(db_conn_t *c)
{
    if (PQtransactionStatus(db_pg(c)) != PQTRANS_IDLE)
        PQclear(PQexec(db_pg(c), "ROLLBACK"));
    db_exec(c, &st_unlock, NULL, NULL, NULL);
}

/* Run `sql` and record/forget `mig` in one transaction. */
static keel_rc
apply(db_conn_t *c, const migration_t *mig, int up, char *err, size_t errlen)
{
    char version[16];
    const char *params[3] = { version, mig->name, mig->checksum };
    db_error_t e;
    keel_rc rc;

    snprintf(version, sizeof(version), "%d", mig->version);
    rc = db_exec_sql(c, "BEGIN", &e);
    if (rc == KEEL_OK)
        rc = db_exec_sql(c, up ? mig->up : mig->down, &e);
    if (rc == KEEL_OK)
        rc = db_exec(c, up ? &st_record : &st_forget, params, NULL, &e);
    if (rc == KEEL_OK)
        rc = db_exec_sql(c, "COMMIT", &e);
    if (rc != KEEL_OK) {
        PQclear(PQexec(db_pg(c), "ROLLBACK"));
        return fail(rc, &e, err, errlen, mig->name);
    }
    return KEEL_OK;
}

keel_rc
migrate_up(db_conn_t *c, const migration_t *m, size_t n, int steps, FILE *out,
           char *err, size_t errlen)
{
    size_t applied, done = 0;
    keel_rc rc = prepare(c, m, n, &applied, err, errlen);

    for (size_t i = applied; rc == KEEL_OK && i < n; i++) {
        if (steps > 0 && done == (size_t)steps)
            break;
        rc = apply(c, &m[i], 1, err, errlen);
        if (rc == KEEL_OK) {
            fprintf(out, "applied %s\n", m[i].name);
            done++;
        }
    }
    if (rc == KEEL_OK && done == 0)
        fprintf(out, "nothing to apply: schema at version %d\n",
                applied ? m[applied - 1].version : 0);
    unlock(c);
    return rc;
}

keel_rc
migrate_down(db_conn_t *c, const migration_t *m, size_t n, int steps, FILE *out,
             char *err, size_t errlen)
{
    size_t applied;
    keel_rc rc = prepare(c, m, n, &applied, err, errlen);

    if (steps <= 0)
        steps = 1;
    for (int s = 0; rc == KEEL_OK && s < steps && applied > 0; s++) {
        rc = apply(c, &m[applied - 1], 0, err, errlen);
        if (rc == KEEL_OK) {
            fprintf(out, "reverted %s\n", m[applied - 1].name);
            applied--;
        }
    }
    unlock(c);
    return rc;
}

keel_rc
migrate_status(db_conn_t *c, const migration_t *m, size_t n, FILE *out,
               char *err, size_t errlen)
{
    size_t applied;
    keel_rc rc = prepare(c, m, n, &applied, err, errlen);

    unlock(c);
    if (rc != KEEL_OK)
        return rc;
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%-9s %s\n", i < applied ? "applied" : "pending",
                m[i].name);
    return KEEL_OK;
}

keel_rc
migrate_current(db_conn_t *c, int *version, db_error_t *err)
{
    PGresult *res;
    keel_rc rc;

    *version = 0;
    rc = db_exec(c, &st_has_table, NULL, &res, err);
    if (rc != KEEL_OK)
        return rc;
    if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
        PQclear(res);
        return KEEL_OK;
    }
    PQclear(res);
    rc = db_exec(c, &st_current, NULL, &res, err);
    if (rc != KEEL_OK)
        return rc;
    *version = atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
    return KEEL_OK;
}
