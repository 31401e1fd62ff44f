/*
 * runner.h - a job worker process: LISTEN for new jobs, claim them one at
 * a time, run their type's handler, record the outcome.
 */
#ifndef KEEL_JOBS_RUNNER_H
#define KEEL_JOBS_RUNNER_H

#include "server/worker.h"

/*
 * Run a job worker in this (freshly forked) process; never returns.  A
 * graceful stop (SIGTERM) finishes the job in hand first.  Exit 0.
 */
void job_worker_main(const worker_args_t *args) __attribute__((noreturn));

#endif
