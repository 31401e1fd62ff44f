/*
 * unit.h - a small frame for the CUnit suites: each test file lists its
 * tests in a table and calls unit_run() from main().
 */
#ifndef KEEL_TESTS_UNIT_H
#define KEEL_TESTS_UNIT_H

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

typedef struct unit_test {
    const char *name; /* says the behaviour it proves */
    void (*fn)(void);
} unit_test_t;

#define UNIT_TESTS(arr) (arr), (sizeof(arr) / sizeof((arr)[0]))

/* Run the shell command `cmd` (its stderr with its stdout), its output in
 * `out`; its exit status, -1 when it cannot run or was killed. */
static inline int
unit_command(const char *cmd, char *out, size_t len)
{
    FILE *p = popen(cmd, "r");
    size_t n;
    int st;

    out[0] = '\0';
    if (p == NULL)
        return -1;
    n = fread(out, 1, len - 1, p);
    out[n] = '\0';
    st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Seconds on CLOCK_MONOTONIC, for tests that wait or time something. */
static inline double
unit_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* How many lines of DIR/keeld.log, the log of a keeld that a suite
 * started with its files in DIR, contain `needle` (0 without a log). */
static inline int
unit_log_count(const char *dir, const char *needle)
{
    char line[8192], path[512];
    FILE *f;
    int n = 0;

    snprintf(path, sizeof(path), "%s/keeld.log", dir);
    f = fopen(path, "r");

    if (f == NULL)
        return 0;
    while (fgets(line, sizeof(line), f))
        n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

static inline int
unit_run(const char *suite_name, const unit_test_t *tests, size_t n)
{
    CU_pSuite suite;
    unsigned failed;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 99;
    suite = CU_add_suite(suite_name, NULL, NULL);
    if (suite == NULL)
        return 99;
    for (size_t i = 0; i < n; i++)
        if (CU_add_test(suite, tests[i].name, tests[i].fn) == NULL)
            return 99;
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    /* A run that executed nothing must not pass. */
    if (CU_get_number_of_tests_run() == 0)
        failed = 1;
    CU_cleanup_registry();
    return failed ? 1 : 0;
}

#endif
