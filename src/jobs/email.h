/*
 * email.h - the "email.send" job: an RFC 5322 message delivered by the
 * file transport, one .eml file per message in [mail] spool_dir.
 *
 * Payload: {"to": "a@b.c", "subject": "...", "text": "..."}.  The message
 * is written into spool_dir/tmp and renamed into spool_dir (same file
 * system, so the rename is atomic: no partial file is ever visible there),
 * named after the job, so a retry of the same job replaces its own file
 * instead of sending twice.
 */
#ifndef KEEL_JOBS_EMAIL_H
#define KEEL_JOBS_EMAIL_H

#include "core/config.h"
#include "core/error.h"
#include "jobs/queue.h"

#include <stddef.h>

keel_rc email_send_job(const keel_config_t *cfg, const struct job *job,
                       char *why, size_t whylen);

#endif
