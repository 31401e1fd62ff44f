/* webhook.c - the webhook.deliver job type (libcurl, HMAC-SHA256). */
#include "keel-build.h"

#include "jobs/webhook.h"
#include "core/util.h"
#include "http/request.h"
#include "jobs/queue.h"

#include <curl/curl.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EXCERPT_MAX 200

void
webhook_signature(const char *secret, long long t, const char *body, size_t len,
                  char out[WEBHOOK_SIGNATURE_MAX])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    char prefix[32];
    size_t np = (size_t)snprintf(prefix, sizeof(prefix), "%lld.", t);
    unsigned char *msg = xmalloc(np + len);
    int n;

    memcpy(msg, prefix, np);
    memcpy(msg + np, body, len);
    HMAC(EVP_sha256(), secret, (int)strlen(secret), msg, np + len, mac,
         &maclen);
    free(msg);
    n = snprintf(out, WEBHOOK_SIGNATURE_MAX, "t=%lld,v1=", t);
    for (unsigned int i = 0; i < maclen && n + 3 <= WEBHOOK_SIGNATURE_MAX; i++)
        n += snprintf(out + n, WEBHOOK_SIGNATURE_MAX - (size_t)n, "%02x",
                      mac[i]);
}

/* The start of the receiver's answer, for last_error; the rest is read
 * and dropped (the total timeout bounds how long that may take). */
typedef struct excerpt {
    char text[EXCERPT_MAX + 1];
    size_t len;
} excerpt_t;

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
    excerpt_t *e = arg;
    size_t total = size * n;

    for (size_t i = 0; i < total && e->len < EXCERPT_MAX; i++) {
        unsigned char ch = (unsigned char)data[i];
        /* Printable ASCII only: it ends up in logs and the API. */
        e->text[e->len++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : ' ';
    }
    e->text[e->len] = '\0';
    return total;
}

static int
subscribed(const keel_config_t *cfg, const char *url)
{
    for (size_t i = 0; i < cfg->webhooks.n; i++)
        if (strcmp(cfg->webhooks.v[i].url, url) == 0)
            return 1;
    return 0;
}

static struct curl_slist *
add_header(struct curl_slist *h, const char *name, const char *value)
{
    char line[512];

    snprintf(line, sizeof(line), "%s: %s", name, value);
    return curl_slist_append(h, line);
}

keel_rc
webhook_deliver_job(const keel_config_t *cfg, const struct job *job, char *why,
                    size_t whylen)
{
    json_object *o = json_tokener_parse(job->payload), *v, *event = NULL;
    const char *url = NULL, *type = NULL, *tp = NULL, *body;
    char sig[WEBHOOK_SIGNATURE_MAX], trace[33], span[17], tpout[64];
    char ua[64], errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *h = NULL;
    excerpt_t ex = { "", 0 };
    long status = 0;
    keel_rc rc = KEEL_EINVAL;
    CURL *curl = NULL;
    CURLcode cc;

    if (o && json_object_object_get_ex(o, "url", &v))
        url = json_object_get_string(v);
    if (o && json_object_object_get_ex(o, "event", &event) &&
        json_object_object_get_ex(event, "type", &v))
        type = json_object_get_string(v);
    if (o && json_object_object_get_ex(o, "traceparent", &v))
        tp = json_object_get_string(v);
    /* Retrying cannot mend a bad payload or an unknown URL: dead now. */
    if (url == NULL || type == NULL ||
        !json_object_is_type(event, json_type_object)) {
        snprintf(why, whylen, "payload needs url and an event with a type");
        goto out;
    }
    if (strpbrk(type, "\r\n") != NULL || strlen(type) > 64) {
        snprintf(why, whylen, "event type is not a header value");
        goto out;
    }
    if (!subscribed(cfg, url)) {
        snprintf(why, whylen, "url is not a configured webhook subscriber");
        goto out;
    }
    rc = KEEL_EUNAVAIL;
    body = json_object_to_json_string_ext(
        event, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    webhook_signature(cfg->webhook_secret, (long long)time(NULL), body,
                      strlen(body), sig);
    snprintf(ua, sizeof(ua), "keel/%s", PACKAGE_VERSION);
    h = curl_slist_append(h, "Content-Type: application/json");
    h = curl_slist_append(h, "Expect:"); /* no 100-continue round trip */
    h = add_header(h, "X-Keel-Event", type);
    h = add_header(h, "X-Keel-Delivery", job->public_id);
    h = add_header(h, "X-Keel-Signature", sig);
    /* The same trace, a new span: this delivery. */
    if (tp != NULL && traceparent_parse(tp, trace, span)) {
        unsigned char r[8];
        char hex[17];
        random_bytes(r, sizeof(r));
        hex_encode(r, sizeof(r), hex);
        snprintf(tpout, sizeof(tpout), "00-%s-%s-%s", trace, hex, tp + 53);
        h = add_header(h, "traceparent", tpout);
    }
    curl = curl_easy_init();
    if (curl == NULL || h == NULL) {
        snprintf(why, whylen, "out of memory");
        goto out;
    }
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)(cfg->webhook_connect_timeout * 1000));
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                     (long)(cfg->webhook_timeout * 1000));
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, ua);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &ex);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    cc = curl_easy_perform(curl);
    if (cc != CURLE_OK) {
        snprintf(why, whylen, "%s",
                 errbuf[0] ? errbuf : curl_easy_strerror(cc));
        goto out;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299) {
        snprintf(why, whylen, "HTTP %ld%s%s", status, ex.len ? ": " : "",
                 ex.text);
        goto out;
    }
    rc = KEEL_OK;
out:
    curl_easy_cleanup(curl);
    curl_slist_free_all(h);
    json_object_put(o);
    return rc;
}
