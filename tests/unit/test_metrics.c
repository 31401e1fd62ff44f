/*
 * test_metrics.c - the metric slots and their exposition: counts from
 * several processes sum up, survive the process, and render as
 * Prometheus text with cumulative buckets, bounded labels and escaping.
 */
#include "keel-build.h"

#include "unit.h"
#include "core/metrics.h"
#include "http/request.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const patterns[] = { "/v1/a", "/v1/b/{id}", "/v1/q\"uote" };
static const char *const jobs[] = { "email.send" };
static const metrics_names_t names = { "1.2.3", 3, patterns, 1, jobs };

/* The value of `series` in `text`, or -1. */
static double
value(const char *text, const char *series)
{
    size_t n = strlen(series);

    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p)
        if (strncmp(p, series, n) == 0 && p[n] == ' ')
            return atof(p + n + 1);
    return -1;
}

static char *
render(void)
{
    size_t len;
    char *t = metrics_render(&names, "extra_family 7\n", &len);

    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(strlen(t), len);
    return t;
}

static void
test_nothing_counts_before_init(void)
{
    char *t;

    metrics_request_begin();
    metrics_request_end(0, HTTP_GET, 200, 0.01);
    CU_ASSERT_FALSE(metrics_on());
    t = render();
    CU_ASSERT_EQUAL(value(t, "keel_build_info{version=\"1.2.3\"}"), 1);
    CU_ASSERT_PTR_NULL(strstr(t, "keel_http_requests_total{"));
    CU_ASSERT_EQUAL(value(t, "extra_family"), 7);
    free(t);
}

static void
test_counts_from_processes_add_up(void)
{
    char *t;

    CU_ASSERT_EQUAL_FATAL(metrics_init(4, 3, 1), 0);
    for (int k = 1; k <= 3; k++) {
        pid_t pid = fork();
        if (pid == 0) {
            metrics_bind((size_t)k, METRICS_REQUEST_WORKER);
            for (int i = 0; i < 10; i++) {
                metrics_request_begin();
                metrics_request_end(1, HTTP_GET, 200, 0.003);
            }
            metrics_request_begin();
            metrics_request_end(3, HTTP_OTHER, 418, 20.0); /* no route */
            metrics_job(0, METRICS_JOB_DEAD);
            metrics_rate_rejected(3);
            metrics_db_error("23505");
            metrics_db_error("P0001");
            _exit(0);
        }
        waitpid(pid, NULL, 0);
    }
    metrics_restart("crashed");
    metrics_restart("something new");
    t = render();
    CU_ASSERT_EQUAL(value(t, "keel_http_requests_total{method=\"GET\",route="
                             "\"/v1/b/{id}\",status=\"200\"}"),
                    30);
    CU_ASSERT_EQUAL(value(t, "keel_http_requests_total{method=\"OTHER\",route="
                             "\"none\",status=\"other\"}"),
                    3);
    /* Buckets are cumulative: 3 ms is past 2.5 ms, within 5 ms. */
    CU_ASSERT_EQUAL(value(t, "keel_http_request_duration_seconds_bucket{route="
                             "\"/v1/b/{id}\",le=\"0.0025\"}"),
                    0);
    CU_ASSERT_EQUAL(value(t, "keel_http_request_duration_seconds_bucket{route="
                             "\"/v1/b/{id}\",le=\"0.005\"}"),
                    30);
    CU_ASSERT_EQUAL(value(t, "keel_http_request_duration_seconds_bucket{route="
                             "\"none\",le=\"10\"}"),
                    0);
    CU_ASSERT_EQUAL(value(t, "keel_http_request_duration_seconds_bucket{route="
                             "\"none\",le=\"+Inf\"}"),
                    3);
    CU_ASSERT_DOUBLE_EQUAL(value(t, "keel_http_request_duration_seconds_sum{"
                                    "route=\"/v1/b/{id}\"}"),
                           0.09, 1e-6);
    CU_ASSERT_EQUAL(value(t, "keel_http_request_duration_seconds_count{route="
                             "\"/v1/b/{id}\"}"),
                    30);
    /* Routes nobody asked for have no series. */
    CU_ASSERT_PTR_NULL(strstr(t, "route=\"/v1/a\""));
    CU_ASSERT_EQUAL(
        value(t, "keel_jobs_total{type=\"email.send\",result=\"dead\"}"), 3);
    CU_ASSERT_EQUAL(value(t, "keel_ratelimit_rejected_total{class=\"auth\"}"),
                    3);
    CU_ASSERT_EQUAL(value(t, "keel_db_errors_total{sqlstate_class=\"23\"}"), 3);
    CU_ASSERT_EQUAL(value(t, "keel_db_errors_total{sqlstate_class=\"other\"}"),
                    3);
    CU_ASSERT_EQUAL(value(t, "keel_worker_restarts_total{reason=\"crashed\"}"),
                    1);
    CU_ASSERT_EQUAL(value(t, "keel_worker_restarts_total{reason=\"other\"}"),
                    1);
    /* The workers are gone: no gauge counts them (never bound as live in
     * this process, and their slots were not forgotten either). */
    CU_ASSERT_PTR_NOT_NULL(strstr(t, "# TYPE keel_http_requests_in_flight "
                                     "gauge\nkeel_http_requests_in_flight "));
    free(t);
}

static void
test_live_gauges_and_label_escaping(void)
{
    char *t;

    metrics_bind(0, METRICS_REQUEST_WORKER);
    metrics_request_begin();
    metrics_request_begin();
    metrics_request_end(2, HTTP_POST, 201, 0.0);
    metrics_pool_gauges(4, 3, 1);
    t = render();
    CU_ASSERT_EQUAL(value(t, "keel_http_requests_in_flight"), 1);
    CU_ASSERT_EQUAL(value(t, "keel_db_pool_connections{state=\"busy\"}"), 1);
    CU_ASSERT_EQUAL(value(t, "keel_db_pool_connections{state=\"max\"}"), 4);
    CU_ASSERT_EQUAL(value(t, "keel_http_requests_total{method=\"POST\",route="
                             "\"/v1/q\\\"uote\",status=\"201\"}"),
                    1);
    CU_ASSERT(value(t, "keel_process_resident_memory_bytes{worker=\"0\",kind="
                       "\"request\"}") > 0);
    free(t);
    /* Reaped: its gauges stop counting. */
    metrics_forget(getpid());
    t = render();
    CU_ASSERT_EQUAL(value(t, "keel_http_requests_in_flight"), 0);
    CU_ASSERT_EQUAL(value(t, "keel_process_resident_memory_bytes{worker=\"0\","
                             "kind=\"request\"}"),
                    -1);
    free(t);
}

static void
test_method_labels_follow_the_enum(void)
{
    char *t;

    metrics_bind(0, METRICS_REQUEST_WORKER);
    for (int m = HTTP_GET; m <= HTTP_OTHER; m++) {
        metrics_request_begin();
        metrics_request_end(0, m, 204, 0.0);
    }
    t = render();
    for (int m = HTTP_GET; m < HTTP_OTHER; m++) {
        char series[160];
        snprintf(series, sizeof(series),
                 "keel_http_requests_total{method=\"%s\",route=\"/v1/a\","
                 "status=\"204\"}",
                 http_method_name((enum http_method)m));
        CU_ASSERT_EQUAL(value(t, series), 1);
    }
    free(t);
}

static const unit_test_t tests[] = {
    { "nothing counts before init", test_nothing_counts_before_init },
    { "counts from processes add up", test_counts_from_processes_add_up },
    { "live gauges and label escaping", test_live_gauges_and_label_escaping },
    { "method labels follow the enum", test_method_labels_follow_the_enum },
};

int
main(void)
{
    return unit_run("metrics", UNIT_TESTS(tests));
}
