/*
 * email.h - the "email.send" job: an RFC 5322 message, delivered by the
 * [mail] transport.
 *
 * Payload: {"to": "a@b.c", "subject": "...", "text": "..."}.
 *
 * file: one .eml file per message in spool_dir, written into spool_dir/tmp
 * and renamed into spool_dir (same file system, so the rename is atomic:
 * no partial file is ever visible there), named after the job, so a retry
 * of the same job replaces its own file instead of sending twice.
 *
 * smtp: sent with libcurl to smtp_url.  SMTP cannot be made exactly-once
 * (the server may take a message whose acknowledgement is then lost); the
 * Message-ID is the job's UUID on every attempt, so a duplicate is
 * recognisable.  A 550/551/553 refusal kills the job at once; other
 * failures are retried with back-off.
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
