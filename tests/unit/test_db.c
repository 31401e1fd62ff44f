/* test_db.c - pure logic of the database layer: the SQLSTATE mapping, the
 * retry policy, migration discovery, ordering and checksums. */
#include "keel-build.h"

#include "unit.h"
#include "api/routes.h"
#include "db/db.h"
#include "db/internal.h"
#include "db/migrate.h"
#include "jobs/queue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
test_sqlstates_map_to_the_envelope(void)
{
    CU_ASSERT_EQUAL(db_sqlstate_rc("23505"), KEEL_ECONFLICT);
    CU_ASSERT_EQUAL(db_sqlstate_rc("23503"), KEEL_ECONFLICT);
    CU_ASSERT_EQUAL(db_sqlstate_rc("57014"), KEEL_EUNAVAIL); /* timeout */
    CU_ASSERT_EQUAL(db_sqlstate_rc("57P01"), KEEL_EUNAVAIL); /* shutdown */
    CU_ASSERT_EQUAL(db_sqlstate_rc("08006"), KEEL_EUNAVAIL);
    CU_ASSERT_EQUAL(db_sqlstate_rc("08001"), KEEL_EUNAVAIL);
    CU_ASSERT_EQUAL(db_sqlstate_rc("53300"), KEEL_EUNAVAIL);
    CU_ASSERT_EQUAL(db_sqlstate_rc("40001"), KEEL_EUNAVAIL);
    CU_ASSERT_EQUAL(db_sqlstate_rc("42P01"), KEEL_EINTERNAL);
    CU_ASSERT_EQUAL(db_sqlstate_rc("22P02"), KEEL_EINTERNAL);
    CU_ASSERT_EQUAL(db_sqlstate_rc("XX000"), KEEL_EINTERNAL);
    CU_ASSERT_EQUAL(db_sqlstate_rc(""), KEEL_EINTERNAL);
    CU_ASSERT_EQUAL(db_sqlstate_rc(NULL), KEEL_EINTERNAL);
    CU_ASSERT_EQUAL(db_sqlstate_rc("0800"), KEEL_EINTERNAL);
}

static void
test_only_serialization_failures_and_deadlocks_retry(void)
{
    CU_ASSERT_TRUE(db_sqlstate_retryable("40001"));
    CU_ASSERT_TRUE(db_sqlstate_retryable("40P01"));
    CU_ASSERT_FALSE(db_sqlstate_retryable("23505"));
    CU_ASSERT_FALSE(db_sqlstate_retryable("57014"));
    CU_ASSERT_FALSE(db_sqlstate_retryable("40002"));
    CU_ASSERT_FALSE(db_sqlstate_retryable(NULL));
}

static void
test_retry_delays_grow_with_jitter_and_stay_bounded(void)
{
    for (int attempt = 1; attempt <= 20; attempt++) {
        double base = attempt == 1 ? 0.01 : 0.01 * (1 << (attempt - 1));
        double d = db_retry_delay(attempt);
        if (base > 0.2)
            base = 0.2;
        CU_ASSERT_TRUE(d >= base * 0.5 && d < base * 1.5);
        CU_ASSERT_TRUE(d < 0.3);
    }
}

static char dir[] = "/tmp/keel-migr.XXXXXX";

static void
put(const char *name, const char *text)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static void
clear(void)
{
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -f %s/*", dir);
    if (system(cmd) != 0)
        CU_FAIL("cannot clear the temporary directory");
}

static void
test_migrations_are_found_in_version_order(void)
{
    migration_t *m;
    size_t n;
    char err[256];

    clear();
    put("0010_late.up.sql", "CREATE TABLE b ();");
    put("0010_late.down.sql", "DROP TABLE b;");
    put("0002_early.up.sql", "CREATE TABLE a ();");
    put("0002_early.down.sql", "DROP TABLE a;");
    CU_ASSERT_EQUAL_FATAL(migrations_load(dir, &m, &n, err, sizeof(err)),
                          KEEL_OK);
    CU_ASSERT_EQUAL_FATAL(n, 2);
    CU_ASSERT_EQUAL(m[0].version, 2);
    CU_ASSERT_STRING_EQUAL(m[0].name, "0002_early");
    CU_ASSERT_STRING_EQUAL(m[0].up, "CREATE TABLE a ();");
    CU_ASSERT_STRING_EQUAL(m[0].down, "DROP TABLE a;");
    CU_ASSERT_EQUAL(m[1].version, 10);
    CU_ASSERT_EQUAL(strlen(m[1].checksum), 64);
    migrations_free(m, n);
}

static void
test_bad_migration_sets_are_refused(void)
{
    migration_t *m;
    size_t n;
    char err[256];

    clear();
    put("0001_a.up.sql", "SELECT 1;");
    CU_ASSERT_EQUAL(migrations_load(dir, &m, &n, err, sizeof(err)),
                    KEEL_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "0001_a has no .down.sql"));
    clear();
    put("0001_a.up.sql", "SELECT 1;");
    put("0001_a.down.sql", "SELECT 1;");
    put("0001_b.up.sql", "SELECT 1;");
    CU_ASSERT_EQUAL(migrations_load(dir, &m, &n, err, sizeof(err)),
                    KEEL_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "version 0001 used by"));
    clear();
    put("README", "not a migration");
    CU_ASSERT_EQUAL(migrations_load(dir, &m, &n, err, sizeof(err)),
                    KEEL_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a migration file"));
    clear();
    put("1_short.up.sql", "SELECT 1;");
    CU_ASSERT_EQUAL(migrations_load(dir, &m, &n, err, sizeof(err)),
                    KEEL_EINVAL);
    clear();
    put("0000_zero.up.sql", "SELECT 1;");
    CU_ASSERT_EQUAL(migrations_load(dir, &m, &n, err, sizeof(err)),
                    KEEL_EINVAL);
    CU_ASSERT_EQUAL(
        migrations_load("/nonexistent/dir", &m, &n, err, sizeof(err)),
        KEEL_EINVAL);
}

static void
test_checksum_is_sha256_of_the_up_file(void)
{
    char sum[65];

    migration_checksum("abc", 3, sum);
    CU_ASSERT_STRING_EQUAL(
        sum,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    migration_checksum("", 0, sum);
    CU_ASSERT_STRING_EQUAL(
        sum,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void
test_schema_version_is_the_highest_shipped_migration(void)
{
    const char *src = getenv("top_srcdir");
    char path[4096], err[256];
    migration_t *m;
    size_t n;

    snprintf(path, sizeof(path), "%s/sql/migrations", src ? src : ".");
    CU_ASSERT_EQUAL_FATAL(migrations_load(path, &m, &n, err, sizeof(err)),
                          KEEL_OK);
    CU_ASSERT_TRUE_FATAL(n > 0);
    CU_ASSERT_EQUAL(m[n - 1].version, KEEL_SCHEMA_VERSION);
    CU_ASSERT_EQUAL(keel_api_app.schema_version, KEEL_SCHEMA_VERSION);
    migrations_free(m, n);
}

static void
test_constraint_names_give_the_field(void)
{
    char f[64];

    CU_ASSERT_EQUAL(db_constraint_field("users_email_key", "users", f, 64), 0);
    CU_ASSERT_STRING_EQUAL(f, "email");
    CU_ASSERT_EQUAL(
        db_constraint_field("user_roles_role_id_fkey", "user_roles", f, 64), 0);
    CU_ASSERT_STRING_EQUAL(f, "role_id");
    CU_ASSERT_EQUAL(db_constraint_field("products_sku_key", "products", f, 64),
                    0);
    CU_ASSERT_STRING_EQUAL(f, "sku");
    CU_ASSERT_EQUAL(db_constraint_field("users_pkey", "users", f, 64), -1);
    CU_ASSERT_EQUAL(db_constraint_field("other_email_key", "users", f, 64), -1);
    CU_ASSERT_EQUAL(db_constraint_field("users_key", "users", f, 64), -1);
    CU_ASSERT_EQUAL(db_constraint_field("users_email_key", "users", f, 3), -1);
}

static void
test_job_backoff_doubles_with_jitter_up_to_the_cap(void)
{
    for (int n = 1; n <= 30; n++) {
        double full = 10.0;
        for (int i = 1; i < n && full < 3600; i++)
            full *= 2;
        if (full > 3600)
            full = 3600;
        for (int k = 0; k < 20; k++) {
            double d = job_backoff(n, 10.0, 3600.0);
            CU_ASSERT_TRUE(d >= full * 0.5 && d <= full);
        }
    }
}

/*
 * The slow-query log's statement: cut to the buffer whatever the spacing.
 * A folded space and the character after it came two at once, and with
 * "..." wrote the NUL one byte past the buffer (found by the sanitizer
 * step: a stack-buffer-overflow in every slow-query line of a worker).
 * The buffer here is exactly len bytes on the heap, followed by guard
 * bytes that must stay as they were (also without sanitizers).
 */
static void
test_slow_query_words_stay_in_their_buffer(void)
{
    static const char *const sql[] = {
        "SELECT count(*) FILTER (WHERE status IN ('queued', 'failed')), "
        "count(*) FILTER (WHERE status = 'dead') FROM jobs",
        "INSERT INTO users (email, name, password_hash) VALUES ($1, $2, $3) "
        "RETURNING id, email, name, created_at, updated_at, version",
        "a b c d e f g h i j k l m n o p q r s t u v w x y z a b c d e f g h",
        "  SELECT\n\t 1  ",
        "SELECT 1",
    };

    for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
        for (size_t len = 5; len <= 120; len++) {
            unsigned char *buf = malloc(len + 8);
            size_t n;

            CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
            memset(buf, 0x7f, len + 8);
            db_first_words(sql[i], (char *)buf, len);
            n = strlen((char *)buf);
            CU_ASSERT_TRUE(n < len);
            for (size_t g = len; g < len + 8; g++)
                CU_ASSERT_EQUAL(buf[g], 0x7f);
            /* Cut text ends in "..."; whole text has no space at its ends. */
            if (n >= 3 && strcmp((char *)buf + n - 3, "...") == 0)
                CU_ASSERT_TRUE(n + 6 >= len || strlen(sql[i]) > n);
            CU_ASSERT_TRUE(n == 0 || buf[0] != ' ');
            free(buf);
        }
    }
    {
        char out[96];
        db_first_words("  SELECT\n\t 1  ", out, sizeof(out));
        CU_ASSERT_STRING_EQUAL(out, "SELECT 1");
        db_first_words(sql[2], out, 12);
        CU_ASSERT_STRING_EQUAL(out, "a b c d...");
    }
}

static const unit_test_t tests[] = {
    { "slow-query words stay in their buffer",
      test_slow_query_words_stay_in_their_buffer },
    { "job back-off doubles with jitter up to the cap",
      test_job_backoff_doubles_with_jitter_up_to_the_cap },
    { "constraint names give the field", test_constraint_names_give_the_field },
    { "SQLSTATEs map to the envelope", test_sqlstates_map_to_the_envelope },
    { "only serialization failures and deadlocks retry",
      test_only_serialization_failures_and_deadlocks_retry },
    { "retry delays grow with jitter and stay bounded",
      test_retry_delays_grow_with_jitter_and_stay_bounded },
    { "migrations are found in version order",
      test_migrations_are_found_in_version_order },
    { "bad migration sets are refused", test_bad_migration_sets_are_refused },
    { "the checksum is SHA-256 of the up file",
      test_checksum_is_sha256_of_the_up_file },
    { "the schema version is the highest shipped migration",
      test_schema_version_is_the_highest_shipped_migration },
};

int
main(void)
{
    int rc;

    if (mkdtemp(dir) == NULL)
        return 1;
    rc = unit_run("database layer", UNIT_TESTS(tests));
    clear();
    rmdir(dir);
    return rc;
}
