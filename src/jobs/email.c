/* email.c - the email.send job type, file transport. */
#include "keel-build.h"

#include "jobs/email.h"
#include "core/util.h"
#include "core/validate.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int
has_crlf(const char *s)
{
    return strpbrk(s, "\r\n") != NULL;
}

static int
ascii_only(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return 0;
    return 1;
}

/* Subject as-is when ASCII, else an RFC 2047 encoded word. */
static void
subject_header(const char *subject, char *out, size_t len)
{
    unsigned char b64[1400];
    size_t n = strlen(subject);

    if (ascii_only(subject) || n > 1000) {
        snprintf(out, len, "%s", subject);
        return;
    }
    EVP_EncodeBlock(b64, (const unsigned char *)subject, (int)n);
    snprintf(out, len, "=?UTF-8?B?%s?=", b64);
}

keel_rc
email_send_job(const keel_config_t *cfg, const struct job *job, char *why,
               size_t whylen)
{
    json_object *o = json_tokener_parse(job->payload), *v;
    const char *to = NULL, *subject = NULL, *text = NULL;
    char tmpdir[4096], tmp[4200], final[4200], subj[1500], date[64];
    struct tm tm;
    time_t now = time(NULL);
    keel_rc rc = KEEL_EINVAL;
    FILE *f;
    int fd;

    if (o && json_object_object_get_ex(o, "to", &v))
        to = json_object_get_string(v);
    if (o && json_object_object_get_ex(o, "subject", &v))
        subject = json_object_get_string(v);
    if (o && json_object_object_get_ex(o, "text", &v))
        text = json_object_get_string(v);
    /* Bad payloads fail (and end dead): retrying cannot mend them. */
    if (to == NULL || !valid_email(to) || subject == NULL || text == NULL) {
        snprintf(why, whylen, "payload needs to (an email), subject, text");
        goto out;
    }
    if (has_crlf(subject) || has_crlf(cfg->mail_from)) {
        snprintf(why, whylen, "header fields must not contain line breaks");
        goto out;
    }
    snprintf(tmpdir, sizeof(tmpdir), "%s/tmp", cfg->mail_spool_dir);
    if ((mkdir(cfg->mail_spool_dir, 0750) != 0 && errno != EEXIST) ||
        (mkdir(tmpdir, 0750) != 0 && errno != EEXIST)) {
        snprintf(why, whylen, "spool_dir: %s", strerror(errno));
        rc = KEEL_EINTERNAL;
        goto out;
    }
    snprintf(tmp, sizeof(tmp), "%s/%s.eml", tmpdir, job->public_id);
    snprintf(final, sizeof(final), "%s/%s.eml", cfg->mail_spool_dir,
             job->public_id);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (f == NULL) {
        snprintf(why, whylen, "spool file: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        rc = KEEL_EINTERNAL;
        goto out;
    }
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
    subject_header(subject, subj, sizeof(subj));
    fprintf(f,
            "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\n"
            "Message-ID: <%s@keel>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n\r\n",
            cfg->mail_from, to, subj, date, job->public_id);
    for (const char *p = text; *p; p++) {
        /* Line breaks as CRLF, as RFC 5322 wants them. */
        if (*p == '\n' && (p == text || p[-1] != '\r'))
            fputc('\r', f);
        fputc(*p, f);
    }
    fputs("\r\n", f);
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
        snprintf(why, whylen, "spool file: %s", strerror(errno));
        fclose(f);
        unlink(tmp);
        rc = KEEL_EINTERNAL;
        goto out;
    }
    fclose(f);
    /* Atomic on one file system: readers see all of it or nothing. */
    if (rename(tmp, final) != 0) {
        snprintf(why, whylen, "spool rename: %s", strerror(errno));
        unlink(tmp);
        rc = KEEL_EINTERNAL;
        goto out;
    }
    rc = KEEL_OK;
out:
    json_object_put(o);
    return rc;
}
