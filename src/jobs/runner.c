/* runner.c - the job worker loop. */
#include "keel-build.h"

#include "jobs/runner.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/util.h"
#include "db/db.h"
#include "jobs/queue.h"

#include <curl/curl.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

static const job_type_t *
find_type(const keel_app_t *app, const char *type)
{
    for (size_t i = 0; i < app->njob_types; i++)
        if (strcmp(app->job_types[i].type, type) == 0)
            return &app->job_types[i];
    return NULL;
}

/* Run one claimed job and record how it went. */
static void
run_one(const worker_args_t *args, db_conn_t *c, job_t *job)
{
    const keel_config_t *cfg = args->cfg;
    const job_type_t *t = find_type(args->app, job->type);
    char why[512] = "";
    double started = time_mono();
    keel_rc rc;
    db_error_t e;
    int dead = 0;
    json_object *line;

    if (t == NULL) {
        snprintf(why, sizeof(why), "no handler for job type %s", job->type);
        rc = KEEL_ENOTFOUND;
    } else {
        job->db = c;
        rc = t->run(cfg, job, why, sizeof(why));
        job->db = NULL;
    }
    if (rc == KEEL_OK) {
        if (job_succeed(c, job, &e) != KEEL_OK)
            log_printf(KLOG_ERROR, "job %s: cannot record success: %s",
                       job->public_id, e.message);
    } else if (job_fail(c, job, why[0] ? why : "failed",
                        /* KEEL_EINVAL: bad payload, retries cannot help */
                        rc == KEEL_EINVAL
                            ? -1.0
                            : job_backoff(job->attempts, cfg->job_backoff_base,
                                          cfg->job_backoff_cap),
                        &dead, &e) != KEEL_OK) {
        log_printf(KLOG_ERROR, "job %s: cannot record failure: %s",
                   job->public_id, e.message);
    }
    if (t != NULL)
        metrics_job((size_t)(t - args->app->job_types),
                    rc == KEEL_OK ? METRICS_JOB_SUCCEEDED
                    : dead        ? METRICS_JOB_DEAD
                                  : METRICS_JOB_FAILED);
    line = log_new(rc == KEEL_OK ? KLOG_INFO : KLOG_WARN, "job");
    if (line) {
        json_object_object_add(line, "job_id",
                               json_object_new_string(job->public_id));
        json_object_object_add(line, "type", json_object_new_string(job->type));
        json_object_object_add(line, "attempt",
                               json_object_new_int(job->attempts));
        json_object_object_add(line, "result",
                               json_object_new_string(rc == KEEL_OK
                                                          ? "succeeded"
                                                      : dead ? "dead"
                                                             : "failed"));
        if (rc != KEEL_OK)
            json_object_object_add(line, "error", json_object_new_string(why));
        json_object_object_add(
            line, "duration_ms",
            json_object_new_double((time_mono() - started) * 1000.0));
        log_emit(line);
    }
}

/*
 * Queue this period's job of each periodic type.  Every job worker does
 * so about once a minute; the idempotency key "periodic:<type>:<period>"
 * lets one through per period.  Queued jobs wake the workers by NOTIFY.
 */
static void
schedule_periodic(const keel_app_t *app, db_conn_t *c)
{
    for (size_t i = 0; i < app->nperiodic; i++) {
        const periodic_job_t *p = &app->periodic[i];
        char key[128], id[37];
        job_spec_t spec = { 0 };
        db_error_t e;

        if (p->every <= 0)
            continue;
        snprintf(key, sizeof(key), "periodic:%s:%lld", p->type,
                 (long long)(time_wall() / p->every));
        spec.type = p->type;
        spec.idempotency_key = key;
        spec.max_attempts = 3;
        if (job_enqueue(c, &spec, id, &e) != KEEL_OK)
            log_printf(KLOG_ERROR, "cannot queue periodic job %s: %s", p->type,
                       e.message);
    }
}

/* Wait for a NOTIFY on `listen` (or the poll interval); drain them. */
static void
wait_for_work(db_conn_t *listen, double seconds)
{
    struct pollfd p = { -1, POLLIN, 0 };
    PGnotify *n;

    if (listen != NULL)
        p.fd = PQsocket(db_pg(listen));
    if (poll(&p, p.fd >= 0 ? 1 : 0, (int)(seconds * 1000)) > 0 &&
        listen != NULL) {
        PQconsumeInput(db_pg(listen));
        while ((n = PQnotifies(db_pg(listen))) != NULL)
            PQfreemem(n);
    }
}

void
job_worker_main(const worker_args_t *args)
{
    const keel_config_t *cfg = args->cfg;
    db_pool_t *pool;
    db_conn_t *listen = NULL, *work;
    char name[64];
    sigset_t wait_set;
    int stop = 0;
    double next_schedule = 0;

    log_set_process("jobs", args->index);
#ifdef __linux__
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    /* Tells job workers apart from request workers in ps and /proc. */
    prctl(PR_SET_NAME, "keel-jobs");
#endif
    if (getppid() != args->master)
        _exit(0);
    /* Signals stay blocked (the master's mask); taken synchronously. */
    sigemptyset(&wait_set);
    sigaddset(&wait_set, SIGTERM);
    sigaddset(&wait_set, SIGINT);
    sigaddset(&wait_set, SIGQUIT);
    sigaddset(&wait_set, SIGHUP);
    sigaddset(&wait_set, SIGUSR1);
    /* Before any thread could exist (libcurl's resolver may start some). */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        _exit(KEEL_EXIT_FATAL);
    /* One connection LISTENs, the other does the work. */
    pool = pool_create(cfg, 2);
    if (pool == NULL)
        _exit(KEEL_EXIT_FATAL);
    snprintf(name, sizeof(name), "pid:%ld", (long)getpid());
    atomic_store(&args->slot->ready, 1);
    log_printf(KLOG_INFO, "job worker ready");

    while (!stop) {
        struct timespec zero = { 0, 0 };
        int sig;
        job_t job;
        db_error_t e;
        keel_rc rc;

        while ((sig = sigtimedwait(&wait_set, NULL, &zero)) > 0) {
            if (sig == SIGUSR1)
                log_reopen();
            else
                stop = 1; /* between jobs: the one in hand is finished */
        }
        if (stop || getppid() != args->master)
            break;
        if (listen == NULL && pool_acquire(pool, &listen, &e) == KEEL_OK &&
            db_exec_sql(listen, "LISTEN " JOBS_CHANNEL, &e) != KEEL_OK) {
            pool_release(pool, listen);
            listen = NULL;
        }
        if (pool_acquire(pool, &work, &e) != KEEL_OK) {
            wait_for_work(NULL, 1.0); /* the pool backs off by itself */
            continue;
        }
        if (time_mono() >= next_schedule) {
            schedule_periodic(args->app, work);
            next_schedule = time_mono() + 60.0;
        }
        rc = job_claim(work, name, cfg->job_lease, &job, &e);
        if (rc == KEEL_OK) {
            run_one(args, work, &job);
            job_free(&job);
        }
        pool_release(pool, work);
        if (rc == KEEL_ENOTFOUND) {
            double wait =
                cfg->job_poll_interval > 0 ? cfg->job_poll_interval : 5.0;
            /* Wake at least once a second to see signals promptly. */
            wait_for_work(listen, wait < 1.0 ? wait : 1.0);
        } else if (rc != KEEL_OK) {
            log_printf(KLOG_ERROR, "job claim failed: %s", e.message);
            wait_for_work(NULL, 1.0);
        }
        if (listen != NULL && PQstatus(db_pg(listen)) != CONNECTION_OK) {
            pool_release(pool, listen);
            listen = NULL;
        }
    }
    if (listen != NULL)
        pool_release(pool, listen);
    pool_destroy(pool);
    log_printf(KLOG_INFO, "job worker exiting");
    _exit(0);
}
