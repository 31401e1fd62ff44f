/* email.c - the email.send job type: file and SMTP transports. */
#include "keel-build.h"

#include "jobs/email.h"
#include "core/util.h"
#include "core/validate.h"

#include <curl/curl.h>
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

/*
 * The message as RFC 5322 text with CRLF line ends, into *msg (malloc'd).
 * KEEL_EINVAL with a reason for a payload that no retry can mend.
 */
static keel_rc
message_build(const keel_config_t *cfg, const struct job *job, char **msg,
              size_t *len, char *to_out, size_t to_len, char *why,
              size_t whylen)
{
    json_object *o = json_tokener_parse(job->payload), *v;
    const char *to = NULL, *subject = NULL, *text = NULL;
    char subj[1500], date[64];
    struct tm tm;
    time_t now = time(NULL);
    FILE *f;

    *msg = NULL;
    if (o && json_object_object_get_ex(o, "to", &v))
        to = json_object_get_string(v);
    if (o && json_object_object_get_ex(o, "subject", &v))
        subject = json_object_get_string(v);
    if (o && json_object_object_get_ex(o, "text", &v))
        text = json_object_get_string(v);
    if (to == NULL || !valid_email(to) || subject == NULL || text == NULL) {
        snprintf(why, whylen, "payload needs to (an email), subject, text");
        json_object_put(o);
        return KEEL_EINVAL;
    }
    if (has_crlf(subject) || has_crlf(cfg->mail_from)) {
        snprintf(why, whylen, "header fields must not contain line breaks");
        json_object_put(o);
        return KEEL_EINVAL;
    }
    f = open_memstream(msg, len);
    if (f == NULL) {
        snprintf(why, whylen, "out of memory");
        json_object_put(o);
        return KEEL_EINTERNAL;
    }
    snprintf(to_out, to_len, "%s", to);
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
    subject_header(subject, subj, sizeof(subj));
    /* Message-ID is the job's: a retry that reaches the recipient twice
     * is recognisably the same message. */
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
    json_object_put(o);
    if (fclose(f) != 0 || *msg == NULL) {
        free(*msg);
        *msg = NULL;
        snprintf(why, whylen, "out of memory");
        return KEEL_EINTERNAL;
    }
    return KEEL_OK;
}

/* File transport: spool_dir/tmp/<job>.eml, fsync, rename into spool_dir. */
static keel_rc
spool_write(const keel_config_t *cfg, const struct job *job, const char *msg,
            size_t len, char *why, size_t whylen)
{
    char tmpdir[4096], tmp[4200], final[4200];
    int fd;

    snprintf(tmpdir, sizeof(tmpdir), "%s/tmp", cfg->mail_spool_dir);
    if ((mkdir(cfg->mail_spool_dir, 0750) != 0 && errno != EEXIST) ||
        (mkdir(tmpdir, 0750) != 0 && errno != EEXIST)) {
        snprintf(why, whylen, "spool_dir: %s", strerror(errno));
        return KEEL_EINTERNAL;
    }
    snprintf(tmp, sizeof(tmp), "%s/%s.eml", tmpdir, job->public_id);
    snprintf(final, sizeof(final), "%s/%s.eml", cfg->mail_spool_dir,
             job->public_id);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) {
        snprintf(why, whylen, "spool file: %s", strerror(errno));
        return KEEL_EINTERNAL;
    }
    for (size_t off = 0; off < len;) {
        ssize_t n = write(fd, msg + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(why, whylen, "spool file: %s", strerror(errno));
            close(fd);
            unlink(tmp);
            return KEEL_EINTERNAL;
        }
        off += (size_t)n;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        snprintf(why, whylen, "spool file: %s", strerror(errno));
        unlink(tmp);
        return KEEL_EINTERNAL;
    }
    /* Atomic on one file system: readers see all of it or nothing. */
    if (rename(tmp, final) != 0) {
        snprintf(why, whylen, "spool rename: %s", strerror(errno));
        unlink(tmp);
        return KEEL_EINTERNAL;
    }
    return KEEL_OK;
}

typedef struct upload {
    const char *p;
    size_t left;
} upload_t;

static size_t
on_read(char *buf, size_t size, size_t n, void *arg)
{
    upload_t *u = arg;
    size_t take = size * n < u->left ? size * n : u->left;

    memcpy(buf, u->p, take);
    u->p += take;
    u->left -= take;
    return take;
}

/* The bare address of "Name <a@b>" or "a@b", in angle brackets. */
static void
envelope_address(const char *from, char *out, size_t len)
{
    const char *lt = strrchr(from, '<'), *gt = lt ? strchr(lt, '>') : NULL;

    if (lt != NULL && gt != NULL)
        snprintf(out, len, "<%.*s>",
                 (int)(gt - lt - 1 > 254 ? 254 : gt - lt - 1), lt + 1);
    else
        snprintf(out, len, "<%.254s>", from);
}

/* SMTP transport (libcurl), STARTTLS or implicit TLS as configured. */
static keel_rc
smtp_send(const keel_config_t *cfg, const char *to, const char *msg, size_t len,
          char *why, size_t whylen)
{
    static const long use_ssl[] = { CURLUSESSL_NONE, CURLUSESSL_TRY,
                                    CURLUSESSL_ALL };
    char from[320], rcpt[320], errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *rcpts = NULL;
    upload_t u = { msg, len };
    long code = 0;
    keel_rc rc = KEEL_EUNAVAIL;
    CURL *curl;
    CURLcode cc;

    envelope_address(cfg->mail_from, from, sizeof(from));
    snprintf(rcpt, sizeof(rcpt), "<%.254s>", to);
    rcpts = curl_slist_append(rcpts, rcpt);
    curl = curl_easy_init();
    if (curl == NULL || rcpts == NULL) {
        snprintf(why, whylen, "out of memory");
        curl_slist_free_all(rcpts);
        curl_easy_cleanup(curl);
        return KEEL_EINTERNAL;
    }
    curl_easy_setopt(curl, CURLOPT_URL, cfg->smtp_url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(curl, CURLOPT_USE_SSL, use_ssl[cfg->smtp_tls]);
    if (cfg->smtp_ca_file[0] != '\0')
        curl_easy_setopt(curl, CURLOPT_CAINFO, cfg->smtp_ca_file);
    if (cfg->smtp_username[0] != '\0') {
        curl_easy_setopt(curl, CURLOPT_USERNAME, cfg->smtp_username);
        curl_easy_setopt(curl, CURLOPT_PASSWORD, cfg->smtp_password);
    }
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                     (long)(cfg->smtp_timeout * 1000));
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpts);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(curl, CURLOPT_READDATA, &u);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    cc = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    if (cc == CURLE_OK) {
        rc = KEEL_OK;
    } else {
        snprintf(why, whylen, "smtp: %s%s%.0ld",
                 errbuf[0] ? errbuf : curl_easy_strerror(cc),
                 code ? ", last reply " : "", code);
        /* The recipient refused for good: retries cannot help.  Other
         * failures (4xx, a refused login, the network) are retried. */
        if (cc != CURLE_LOGIN_DENIED &&
            (code == 550 || code == 551 || code == 553))
            rc = KEEL_EINVAL;
    }
    curl_slist_free_all(rcpts);
    curl_easy_cleanup(curl);
    return rc;
}

keel_rc
email_send_job(const keel_config_t *cfg, const struct job *job, char *why,
               size_t whylen)
{
    char *msg, to[320];
    size_t len = 0;
    keel_rc rc;

    /* Bad payloads fail with KEEL_EINVAL (dead at once): retrying cannot
     * mend them. */
    rc = message_build(cfg, job, &msg, &len, to, sizeof(to), why, whylen);
    if (rc != KEEL_OK)
        return rc;
    if (cfg->mail_transport == MAIL_SMTP)
        rc = smtp_send(cfg, to, msg, len, why, whylen);
    else
        rc = spool_write(cfg, job, msg, len, why, whylen);
    free(msg);
    return rc;
}
