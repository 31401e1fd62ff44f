/* metrics.c - per-worker counters in shared memory, summed for /metrics. */
#include "keel-build.h"

#include "core/metrics.h"

#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

typedef atomic_ullong counter_t;

/* Upper bounds (seconds) of the histogram buckets; +Inf is implied. */
static const double bounds[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                 0.25,  0.5,    1,     2.5,  5,     10 };
#define NBOUNDS (sizeof(bounds) / sizeof(bounds[0]))
/* A histogram: a counter per bucket (+Inf last), the sum in µs, count. */
#define HIST_WORDS (NBOUNDS + 1 + 2)

/* The statuses counted by name; any other is "other". */
static const int statuses[] = { 200, 201, 202, 204, 301, 302, 304, 400,
                                401, 403, 404, 405, 406, 409, 410, 412,
                                413, 414, 415, 416, 422, 428, 429, 431,
                                500, 501, 502, 503, 504 };
#define NSTATUS (sizeof(statuses) / sizeof(statuses[0]) + 1)

/* enum http_method's order (http/request.h); test_metrics checks it. */
static const char *const methods[] = { "GET",   "HEAD",   "POST",    "PUT",
                                       "PATCH", "DELETE", "OPTIONS", "OTHER" };
#define NMETHOD (sizeof(methods) / sizeof(methods[0]))

static const char *const sqlstate_classes[] = { "08", "22", "23", "25",
                                                "40", "42", "53", "54",
                                                "55", "57", "58", "XX" };
#define NCLASS (sizeof(sqlstate_classes) / sizeof(sqlstate_classes[0]) + 1)

static const char *const rate_classes[] = { "read", "write", "auth" };
#define NRATE 3

static const char *const reasons[] = { "crashed",       "fatal",
                                       "recycled",      "request_timeout",
                                       "start_timeout", "stopped" };
#define NREASON (sizeof(reasons) / sizeof(reasons[0]) + 1)

static const char *const job_results[] = { "succeeded", "failed", "dead" };

/* One worker's slot: fixed words, then the per-route and per-job arrays. */
typedef struct slot {
    atomic_int pid;  /* 0 when no live worker has it */
    atomic_int used; /* 1 once a worker has counted here */
    atomic_int kind;
    atomic_llong in_flight;
    atomic_llong pool_size, pool_idle, pool_busy;
    counter_t pool_wait[HIST_WORDS];
    counter_t db_errors[NCLASS];
    counter_t rate_rejected[NRATE];
    counter_t words[]; /* requests, durations, jobs */
} slot_t;

typedef struct segment {
    size_t nslots, nroutes, njobs, stride;
    counter_t restarts[NREASON];
    unsigned char slots[];
} segment_t;

static segment_t *seg;
static slot_t *mine;

static size_t
route_words(void)
{
    return (seg->nroutes + 1) * (NMETHOD * NSTATUS + HIST_WORDS);
}

static slot_t *
slot_at(size_t i)
{
    return (slot_t *)(seg->slots + i * seg->stride);
}

int
metrics_init(size_t nslots, size_t nroutes, size_t njobs)
{
    size_t words, stride, bytes;
    void *m;

    if (seg != NULL)
        return 0;
    words = (nroutes + 1) * (NMETHOD * NSTATUS + HIST_WORDS) +
            njobs * METRICS_JOB__MAX;
    stride = sizeof(slot_t) + words * sizeof(counter_t);
    stride = (stride + 63) & ~(size_t)63; /* no false sharing */
    bytes = sizeof(segment_t) + nslots * stride;
    m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
             -1, 0);
    if (m == MAP_FAILED)
        return -1;
    seg = m; /* zero pages: every counter 0 */
    seg->nslots = nslots;
    seg->nroutes = nroutes;
    seg->njobs = njobs;
    seg->stride = stride;
    return 0;
}

int
metrics_on(void)
{
    return seg != NULL;
}

void
metrics_bind(size_t slot, enum metrics_kind kind)
{
    if (seg == NULL || slot >= seg->nslots)
        return;
    mine = slot_at(slot);
    atomic_store(&mine->in_flight, 0);
    atomic_store(&mine->pool_size, 0);
    atomic_store(&mine->pool_idle, 0);
    atomic_store(&mine->pool_busy, 0);
    atomic_store(&mine->kind, (int)kind);
    atomic_store(&mine->used, 1);
    atomic_store(&mine->pid, (int)getpid());
}

void
metrics_forget(pid_t pid)
{
    if (seg == NULL)
        return;
    for (size_t i = 0; i < seg->nslots; i++) {
        int want = (int)pid;
        atomic_compare_exchange_strong(&slot_at(i)->pid, &want, 0);
    }
}

static void
add(counter_t *c, unsigned long long n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static void
observe(counter_t *h, double seconds)
{
    size_t b = 0;

    while (b < NBOUNDS && seconds > bounds[b])
        b++;
    add(&h[b], 1);
    add(&h[NBOUNDS + 1], seconds > 0 ? (unsigned long long)(seconds * 1e6) : 0);
    add(&h[NBOUNDS + 2], 1);
}

static size_t
status_index(int status)
{
    for (size_t i = 0; i < NSTATUS - 1; i++)
        if (statuses[i] == status)
            return i;
    return NSTATUS - 1;
}

void
metrics_request_begin(void)
{
    if (mine != NULL)
        atomic_fetch_add_explicit(&mine->in_flight, 1, memory_order_relaxed);
}

void
metrics_request_end(size_t route, int method, int status, double seconds)
{
    counter_t *r;

    if (mine == NULL)
        return;
    atomic_fetch_sub_explicit(&mine->in_flight, 1, memory_order_relaxed);
    if (route > seg->nroutes)
        route = seg->nroutes;
    if (method < 0 || (size_t)method >= NMETHOD)
        method = NMETHOD - 1;
    r = mine->words + route * (NMETHOD * NSTATUS + HIST_WORDS);
    add(&r[(size_t)method * NSTATUS + status_index(status)], 1);
    observe(r + NMETHOD * NSTATUS, seconds);
}

void
metrics_pool_gauges(int size, int idle, int busy)
{
    if (mine == NULL)
        return;
    atomic_store_explicit(&mine->pool_size, size, memory_order_relaxed);
    atomic_store_explicit(&mine->pool_idle, idle, memory_order_relaxed);
    atomic_store_explicit(&mine->pool_busy, busy, memory_order_relaxed);
}

void
metrics_pool_wait(double seconds)
{
    if (mine != NULL)
        observe(mine->pool_wait, seconds);
}

void
metrics_db_error(const char *sqlstate)
{
    size_t i = 0;

    if (mine == NULL || sqlstate == NULL)
        return;
    while (i < NCLASS - 1 && strncmp(sqlstate, sqlstate_classes[i], 2) != 0)
        i++;
    add(&mine->db_errors[i], 1);
}

void
metrics_job(size_t type, enum metrics_job_result result)
{
    if (mine == NULL || type >= seg->njobs || result >= METRICS_JOB__MAX)
        return;
    add(&mine->words[route_words() + type * METRICS_JOB__MAX + result], 1);
}

void
metrics_rate_rejected(int cls)
{
    if (mine != NULL && cls >= 1 && cls <= NRATE)
        add(&mine->rate_rejected[cls - 1], 1);
}

void
metrics_restart(const char *reason)
{
    size_t i = 0;

    if (seg == NULL)
        return;
    while (i < NREASON - 1 && strcmp(reason, reasons[i]) != 0)
        i++;
    add(&seg->restarts[i], 1);
}

/* ---- rendering ------------------------------------------------------------
 */

typedef struct buf {
    char *s;
    size_t len, cap;
    int failed;
} buf_t;

static void __attribute__((format(printf, 2, 3)))
put(buf_t *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->failed)
        return;
    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = 1;
            return;
        }
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        {
            size_t cap = (b->cap + (size_t)n + 1) * 2;
            char *s = realloc(b->s, cap);
            if (s == NULL) {
                b->failed = 1;
                return;
            }
            b->s = s;
            b->cap = cap;
        }
    }
}

/* A label value: backslash, quote and newline escaped. */
static void
put_label(buf_t *b, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            put(b, "\\%c", *v);
        else if (*v == '\n')
            put(b, "\\n");
        else
            put(b, "%c", *v);
    }
}

static void
family(buf_t *b, const char *name, const char *type, const char *help)
{
    put(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/*
 * Sum of word `w` over the slots that were ever used (counters outlive
 * their workers).  The per-route words are summed once per rendering
 * into `totals` (render_requests), which a scrape reads instead.
 */
static unsigned long long
sum_word(const counter_t *(*at)(const slot_t *, size_t), size_t w)
{
    unsigned long long n = 0;

    for (size_t i = 0; i < seg->nslots; i++) {
        const slot_t *s = slot_at(i);
        if (atomic_load_explicit(&s->used, memory_order_relaxed))
            n += atomic_load_explicit(at(s, w), memory_order_relaxed);
    }
    return n;
}

static const counter_t *
at_pool_wait(const slot_t *s, size_t w)
{
    return &s->pool_wait[w];
}
static const counter_t *
at_db_errors(const slot_t *s, size_t w)
{
    return &s->db_errors[w];
}
static const counter_t *
at_rate(const slot_t *s, size_t w)
{
    return &s->rate_rejected[w];
}

/* The per-route and per-job words of every used slot, summed once per
 * rendering (a thread renders one scrape at a time). */
static _Thread_local unsigned long long *totals;

static unsigned long long
get_total(size_t w)
{
    return totals[w];
}

static unsigned long long
get_pool_wait(size_t w)
{
    return sum_word(at_pool_wait, w);
}

static int
sum_totals(void)
{
    size_t n = route_words() + seg->njobs * METRICS_JOB__MAX;

    totals = calloc(n, sizeof(*totals));
    if (totals == NULL)
        return -1;
    for (size_t i = 0; i < seg->nslots; i++) {
        const slot_t *s = slot_at(i);
        if (!atomic_load_explicit(&s->used, memory_order_relaxed))
            continue;
        for (size_t w = 0; w < n; w++)
            totals[w] +=
                atomic_load_explicit(&s->words[w], memory_order_relaxed);
    }
    return 0;
}

/* A histogram's series; `labels` is "" or `key="value",`. */
static void
put_histogram(buf_t *b, const char *name, const char *labels,
              unsigned long long (*get)(size_t), size_t base)
{
    unsigned long long cum = 0;

    for (size_t i = 0; i <= NBOUNDS; i++) {
        cum += get(base + i);
        if (i < NBOUNDS)
            put(b, "%s_bucket{%sle=\"%g\"} %llu\n", name, labels, bounds[i],
                cum);
        else
            put(b, "%s_bucket{%sle=\"+Inf\"} %llu\n", name, labels, cum);
    }
    put(b, "%s_sum%s%.*s%s %.6f\n", name, labels[0] ? "{" : "",
        labels[0] ? (int)strlen(labels) - 1 : 0, labels, labels[0] ? "}" : "",
        (double)get(base + NBOUNDS + 1) / 1e6);
    put(b, "%s_count%s%.*s%s %llu\n", name, labels[0] ? "{" : "",
        labels[0] ? (int)strlen(labels) - 1 : 0, labels, labels[0] ? "}" : "",
        get(base + NBOUNDS + 2));
}

static long long
resident_bytes(int pid)
{
    char path[64];
    long long pages = 0, size;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/statm", pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    if (fscanf(f, "%lld %lld", &size, &pages) != 2)
        pages = -1;
    fclose(f);
    return pages < 0 ? -1 : pages * sysconf(_SC_PAGESIZE);
}

static void
render_requests(buf_t *b, const metrics_names_t *n)
{
    size_t per = NMETHOD * NSTATUS + HIST_WORDS;

    family(b, "keel_http_requests_total", "counter",
           "Requests answered, by method, route pattern and status.");
    for (size_t r = 0; r <= seg->nroutes; r++) {
        const char *route = r < n->nroutes ? n->route_patterns[r] : "none";
        for (size_t m = 0; m < NMETHOD; m++)
            for (size_t s = 0; s < NSTATUS; s++) {
                unsigned long long c = totals[r * per + m * NSTATUS + s];
                if (c == 0)
                    continue;
                put(b, "keel_http_requests_total{method=\"%s\",route=\"",
                    methods[m]);
                put_label(b, route);
                if (s < NSTATUS - 1)
                    put(b, "\",status=\"%d\"} %llu\n", statuses[s], c);
                else
                    put(b, "\",status=\"other\"} %llu\n", c);
            }
    }
    family(b, "keel_http_request_duration_seconds", "histogram",
           "Time from reading a request to writing its answer, by route.");
    for (size_t r = 0; r <= seg->nroutes; r++) {
        const char *route = r < n->nroutes ? n->route_patterns[r] : "none";
        buf_t lb = { malloc(256), 0, 256, 0 };
        size_t base = r * per + NMETHOD * NSTATUS;
        if (lb.s == NULL || totals[base + NBOUNDS + 2] == 0) {
            free(lb.s);
            continue;
        }
        put(&lb, "route=\"");
        put_label(&lb, route);
        put(&lb, "\",");
        if (!lb.failed)
            put_histogram(b, "keel_http_request_duration_seconds", lb.s,
                          get_total, base);
        free(lb.s);
    }
}

static void
render_gauges(buf_t *b)
{
    long long in_flight = 0, size = 0, idle = 0, busy = 0;

    for (size_t i = 0; i < seg->nslots; i++) {
        slot_t *s = slot_at(i);
        if (atomic_load(&s->pid) == 0)
            continue;
        in_flight += atomic_load(&s->in_flight);
        size += atomic_load(&s->pool_size);
        idle += atomic_load(&s->pool_idle);
        busy += atomic_load(&s->pool_busy);
    }
    family(b, "keel_http_requests_in_flight", "gauge",
           "Requests being served now, over all workers.");
    put(b, "keel_http_requests_in_flight %lld\n", in_flight);
    family(b, "keel_db_pool_connections", "gauge",
           "Request workers' pooled database connections by state.");
    put(b, "keel_db_pool_connections{state=\"idle\"} %lld\n", idle);
    put(b, "keel_db_pool_connections{state=\"busy\"} %lld\n", busy);
    put(b, "keel_db_pool_connections{state=\"max\"} %lld\n", size);
    family(b, "keel_process_resident_memory_bytes", "gauge",
           "Resident memory of each live worker process.");
    for (size_t i = 0; i < seg->nslots; i++) {
        slot_t *s = slot_at(i);
        int pid = atomic_load(&s->pid);
        long long rss;
        if (pid == 0 || (rss = resident_bytes(pid)) < 0)
            continue;
        put(b,
            "keel_process_resident_memory_bytes{worker=\"%zu\",kind=\"%s\"} "
            "%lld\n",
            i, atomic_load(&s->kind) == METRICS_JOB_WORKER ? "job" : "request",
            rss);
    }
}

char *
metrics_render(const metrics_names_t *n, const char *extra, size_t *len)
{
    buf_t b = { NULL, 0, 0, 0 };

    b.s = malloc(4096);
    if (b.s == NULL)
        return NULL;
    b.cap = 4096;
    b.s[0] = '\0';
    family(&b, "keel_build_info", "gauge", "The running build; always 1.");
    put(&b, "keel_build_info{version=\"");
    put_label(&b, n->version ? n->version : "");
    put(&b, "\"} 1\n");
    if (seg != NULL && sum_totals() != 0)
        b.failed = 1;
    if (seg != NULL && !b.failed) {
        render_requests(&b, n);
        render_gauges(&b);
        family(&b, "keel_db_pool_wait_seconds", "histogram",
               "Time requests waited for a pooled database connection.");
        put_histogram(&b, "keel_db_pool_wait_seconds", "", get_pool_wait, 0);
        family(&b, "keel_db_errors_total", "counter",
               "Failed statements by SQLSTATE class.");
        for (size_t i = 0; i < NCLASS; i++)
            put(&b, "keel_db_errors_total{sqlstate_class=\"%s\"} %llu\n",
                i < NCLASS - 1 ? sqlstate_classes[i] : "other",
                sum_word(at_db_errors, i));
        family(&b, "keel_ratelimit_rejected_total", "counter",
               "Requests refused with 429 by rate-limit class.");
        for (size_t i = 0; i < NRATE; i++)
            put(&b, "keel_ratelimit_rejected_total{class=\"%s\"} %llu\n",
                rate_classes[i], sum_word(at_rate, i));
        family(&b, "keel_jobs_total", "counter",
               "Background jobs run, by type and result.");
        for (size_t t = 0; t < seg->njobs && t < n->njobs; t++)
            for (size_t r = 0; r < METRICS_JOB__MAX; r++) {
                put(&b, "keel_jobs_total{type=\"");
                put_label(&b, n->job_types[t]);
                put(&b, "\",result=\"%s\"} %llu\n", job_results[r],
                    totals[route_words() + t * METRICS_JOB__MAX + r]);
            }
        family(&b, "keel_worker_restarts_total", "counter",
               "Worker processes that ended, by reason.");
        for (size_t i = 0; i < NREASON; i++)
            put(&b, "keel_worker_restarts_total{reason=\"%s\"} %llu\n",
                i < NREASON - 1 ? reasons[i] : "other",
                atomic_load(&seg->restarts[i]));
    }
    free(totals);
    totals = NULL;
    if (extra != NULL)
        put(&b, "%s", extra);
    if (b.failed) {
        free(b.s);
        return NULL;
    }
    *len = b.len;
    return b.s;
}
