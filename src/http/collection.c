/* collection.c - pagination, filters, sort and fields (API.md 1.4). */
#include "keel-build.h"

#include "http/collection.h"
#include "core/util.h"
#include "core/validate.h"
#include "db/db.h"
#include "http/ctx.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PARAMS COLL_MAX_PARAMS
/* Room for four sort keys of the longest values the schemas allow, each
 * character escaped by json-c at worst as six bytes (\u0001). */
#define CURSOR_PAYLOAD_MAX 3000

/* ---- the cursor key ------------------------------------------------------ */

static unsigned char process_key[32];
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void
make_key(void)
{
    random_bytes(process_key, sizeof(process_key));
}

void
coll_key_init(void)
{
    pthread_once(&key_once, make_key);
}

const char *
coll_secret(const keel_config_t *cfg)
{
    if (cfg == NULL)
        return "";
    if (cfg->cursor_secret && cfg->cursor_secret[0] != '\0')
        return cfg->cursor_secret;
    return cfg->jwt_secret ? cfg->jwt_secret : "";
}

/* HMAC-SHA256 over a label and the payload: the label keeps a MAC made
 * with a key shared with another use (the JWT secret) from ever meaning
 * anything there. */
static void
cursor_mac(const char *secret, const unsigned char *msg, size_t n,
           unsigned char mac[32])
{
    static const char label[] = "keel-cursor-v1\n";
    unsigned char buf[sizeof(label) - 1 + CURSOR_PAYLOAD_MAX];
    unsigned int len = 32;

    if (n > CURSOR_PAYLOAD_MAX)
        n = CURSOR_PAYLOAD_MAX; /* callers never pass more */
    memcpy(buf, label, sizeof(label) - 1);
    memcpy(buf + sizeof(label) - 1, msg, n);
    n += sizeof(label) - 1;
    if (secret != NULL && secret[0] != '\0') {
        HMAC(EVP_sha256(), secret, (int)strlen(secret), buf, n, mac, &len);
    } else {
        coll_key_init();
        HMAC(EVP_sha256(), process_key, (int)sizeof(process_key), buf, n, mac,
             &len);
    }
}

/* ---- parsing --------------------------------------------------------------
 */

/* A request-supplied name safe to repeat in a message or field. */
static int
plain(const char *s)
{
    size_t n = strlen(s);

    return n > 0 && n <= 64 &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789_.-") == n;
}

static void
detail(json_object *details, const char *field, const char *message)
{
    if (details != NULL)
        details_add(details, field, message);
}

static int
check_filter(const coll_filter_t *f, const char *v, arena_t *a,
             json_object *details)
{
    long long ll;
    long chars;

    switch (f->type) {
    case COLL_TEXT:
        chars = utf8_chars(v, strlen(v));
        if (chars < 1 || chars > (f->max_len > 0 ? f->max_len : 256)) {
            detail(details, f->name,
                   chars < 0
                       ? "must be valid UTF-8"
                       : arena_sprintf(a, "must be 1 to %d characters",
                                       f->max_len > 0 ? f->max_len : 256));
            return -1;
        }
        return 0;
    case COLL_UUID:
        if (!valid_uuid(v)) {
            detail(details, f->name, "must be a UUID");
            return -1;
        }
        return 0;
    case COLL_ENUM:
        for (const char *const *e = f->values; e && *e; e++)
            if (strcmp(*e, v) == 0)
                return 0;
        {
            size_t len = 32;
            char *msg, *o;
            for (const char *const *e = f->values; e && *e; e++)
                len += strlen(*e) + 2;
            msg = arena_alloc(a, len);
            o = msg + snprintf(msg, len, "must be one of: ");
            for (const char *const *e = f->values; e && *e; e++)
                o += snprintf(o, len - (size_t)(o - msg), "%s%s",
                              e == f->values ? "" : ", ", *e);
            detail(details, f->name, msg);
        }
        return -1;
    case COLL_TIMESTAMP:
        if (!valid_timestamp(v)) {
            detail(details, f->name, "must be an RFC 3339 timestamp");
            return -1;
        }
        return 0;
    case COLL_INT:
        if (parse_ll(v, f->min, f->max, &ll) != 0) {
            detail(details, f->name,
                   arena_sprintf(a, "must be an integer from %lld to %lld",
                                 f->min, f->max));
            return -1;
        }
        return 0;
    case COLL_BOOL:
        if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0) {
            detail(details, f->name, "must be true or false");
            return -1;
        }
        return 0;
    }
    return -1;
}

/* Split a comma list into arena copies; -1 on an empty item. */
static int
split_list(arena_t *a, const char *s, char **items, size_t max, size_t *n)
{
    *n = 0;
    for (;;) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (len == 0 || *n == max)
            return -1;
        items[(*n)++] = arena_strndup(a, s, len);
        if (e == NULL)
            return 0;
        s = e + 1;
    }
}

static int
parse_sort(const coll_schema_t *s, const char *text, arena_t *a,
           coll_query_t *q, json_object *details)
{
    char *items[COLL_MAX_SORT + 1];
    size_t n, len = 0;
    char *canon;

    if (split_list(a, text, items, COLL_MAX_SORT, &n) != 0) {
        detail(details, "sort",
               arena_sprintf(a, "must be 1 to %d comma-separated fields",
                             COLL_MAX_SORT));
        return -1;
    }
    q->nsort = 0;
    for (size_t i = 0; i < n; i++) {
        const char *name = items[i];
        int desc = 0;
        size_t k;
        /* '+' arrives as ' ' when the client did not encode it. */
        if (*name == '-' || *name == '+' || *name == ' ') {
            desc = *name == '-';
            name++;
        }
        for (k = 0; k < s->nsorts; k++)
            if (strcmp(s->sorts[k].name, name) == 0)
                break;
        if (k == s->nsorts) {
            detail(details, "sort",
                   plain(name) ? arena_sprintf(a, "cannot sort by '%s'", name)
                               : "cannot sort by that field");
            return -1;
        }
        for (size_t j = 0; j < q->nsort; j++)
            if (q->sort[j].key == &s->sorts[k]) {
                detail(details, "sort",
                       arena_sprintf(a, "'%s' is given twice", name));
                return -1;
            }
        q->sort[q->nsort].key = &s->sorts[k];
        q->sort[q->nsort].desc = desc;
        q->nsort++;
        len += strlen(name) + 2;
    }
    canon = arena_alloc(a, len + 1);
    canon[0] = '\0';
    for (size_t i = 0; i < q->nsort; i++) {
        if (i > 0)
            strcat(canon, ",");
        if (q->sort[i].desc)
            strcat(canon, "-");
        strcat(canon, q->sort[i].key->name);
    }
    q->sort_text = canon;
    return 0;
}

static int
parse_fields(const coll_schema_t *s, const char *text, arena_t *a,
             coll_query_t *q, json_object *details)
{
    char *items[COLL_MAX_FIELDS + 1];
    size_t n;

    if (split_list(a, text, items, COLL_MAX_FIELDS, &n) != 0) {
        detail(details, "fields", "must be a comma-separated list of fields");
        return -1;
    }
    q->fields = 1; /* id */
    for (size_t i = 0; i < n; i++) {
        size_t k;
        for (k = 0; k < s->nfields; k++)
            if (strcmp(s->fields[k].name, items[i]) == 0)
                break;
        if (k == s->nfields) {
            detail(details, "fields",
                   plain(items[i])
                       ? arena_sprintf(a, "unknown field '%s'", items[i])
                       : "unknown field");
            return -1;
        }
        q->fields |= 1ULL << k;
    }
    return 0;
}

static int
parse_cursor(const coll_schema_t *s, const char *text, const char *secret,
             arena_t *a, coll_query_t *q, json_object *details)
{
    unsigned char payload[CURSOR_PAYLOAD_MAX + 1], mac[32], want[32];
    const char *dot = strchr(text, '.');
    json_object *root = NULL, *r, *sort, *keys, *id;
    long plen, mlen;
    int ok = 0;

    if (dot == NULL)
        goto out;
    plen =
        b64url_decode(text, (size_t)(dot - text), payload, CURSOR_PAYLOAD_MAX);
    mlen = b64url_decode(dot + 1, strlen(dot + 1), mac, sizeof(mac));
    if (plen <= 0 || mlen != 32)
        goto out;
    cursor_mac(secret, payload, (size_t)plen, want);
    if (CRYPTO_memcmp(mac, want, 32) != 0)
        goto out;
    payload[plen] = '\0';
    root = json_tokener_parse((const char *)payload);
    if (root == NULL || !json_object_object_get_ex(root, "r", &r) ||
        !json_object_object_get_ex(root, "s", &sort) ||
        !json_object_object_get_ex(root, "k", &keys) ||
        !json_object_object_get_ex(root, "i", &id) ||
        !json_object_is_type(r, json_type_string) ||
        !json_object_is_type(sort, json_type_string) ||
        !json_object_is_type(id, json_type_string) ||
        !json_object_is_type(keys, json_type_array) ||
        json_object_array_length(keys) != q->nsort ||
        strcmp(json_object_get_string(r), s->resource) != 0 ||
        strcmp(json_object_get_string(sort), q->sort_text) != 0 ||
        !valid_uuid(json_object_get_string(id)))
        goto out;
    for (size_t i = 0; i < q->nsort; i++) {
        json_object *k = json_object_array_get_idx(keys, i);
        if (!json_object_is_type(k, json_type_string))
            goto out;
        q->after_key[i] = arena_strdup(a, json_object_get_string(k));
    }
    q->after_id = arena_strdup(a, json_object_get_string(id));
    q->after = 1;
    ok = 1;
out:
    json_object_put(root);
    if (!ok)
        detail(details, "cursor",
               "is not a cursor of this collection and sort (start again "
               "from the first page)");
    return ok ? 0 : -1;
}

const char *
coll_cursor(const coll_query_t *q, const char *const *keys, const char *id,
            const char *secret, arena_t *a)
{
    json_object *root = json_object_new_object(), *k = json_object_new_array();
    const char *text;
    unsigned char mac[32];
    char *out;
    size_t n, cap, o;

    json_object_object_add(root, "r",
                           json_object_new_string(q->schema->resource));
    json_object_object_add(root, "s", json_object_new_string(q->sort_text));
    for (size_t i = 0; i < q->nsort; i++)
        json_object_array_add(k, json_object_new_string(keys[i]));
    json_object_object_add(root, "k", k);
    json_object_object_add(root, "i", json_object_new_string(id));
    text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN);
    n = strlen(text);
    if (n > CURSOR_PAYLOAD_MAX) {
        /* Sort keys too long to carry: no cursor rather than a bad one. */
        json_object_put(root);
        return NULL;
    }
    cursor_mac(secret, (const unsigned char *)text, n, mac);
    cap = n * 4 / 3 + 4 + 1 + 44;
    out = arena_alloc(a, cap);
    o = b64url_encode((const unsigned char *)text, n, out, cap);
    out[o++] = '.';
    b64url_encode(mac, sizeof(mac), out + o, cap - o);
    json_object_put(root);
    return out;
}

static const coll_filter_t *
find_filter(const coll_schema_t *s, const char *name)
{
    for (size_t i = 0; i < s->nfilters; i++)
        if (strcmp(s->filters[i].name, name) == 0)
            return &s->filters[i];
    return NULL;
}

enum { P_LIMIT, P_PAGE, P_CURSOR, P_COUNT, P_SORT, P_FIELDS, P__MAX };
static const char *const reserved[P__MAX] = { "limit", "page", "cursor",
                                              "count", "sort", "fields" };

static void
unknown(json_object *details, const char *name)
{
    detail(details, plain(name) ? name : "query", "unknown parameter");
}

keel_rc
coll_parse(const coll_schema_t *s, const kv_t *params, size_t n,
           const char *secret, arena_t *a, coll_query_t *q,
           json_object *details)
{
    const char *val[P__MAX] = { NULL };
    unsigned seen_filter[COLL_MAX_FILTERS] = { 0 };
    int bad = 0;
    long long ll;

    memset(q, 0, sizeof(*q));
    q->schema = s;
    q->limit = COLL_LIMIT_DEFAULT;
    q->page = 1;
    q->fields = ~0ULL;
    for (size_t i = 0; i < n; i++) {
        const char *name = params[i].name, *v = params[i].value;
        const coll_filter_t *f;
        int p;

        for (p = 0; p < P__MAX; p++)
            if (strcmp(reserved[p], name) == 0)
                break;
        if (p < P__MAX) {
            if ((p == P_PAGE || p == P_COUNT) && !(s->modes & COLL_OFFSET)) {
                unknown(details, name);
                bad = 1;
            } else if (val[p] != NULL) {
                detail(details, name, "must not be given twice");
                bad = 1;
            } else {
                val[p] = v;
            }
            continue;
        }
        f = find_filter(s, name);
        if (f == NULL) {
            unknown(details, name);
            bad = 1;
            continue;
        }
        if (seen_filter[f - s->filters]++ > 0 && !f->repeatable) {
            detail(details, name, "must not be given twice");
            bad = 1;
            continue;
        }
        if (check_filter(f, v, a, details) != 0) {
            bad = 1;
            continue;
        }
        if (q->nfilters == COLL_MAX_FILTERS) {
            detail(details, name, "too many filters");
            bad = 1;
            continue;
        }
        q->filter[q->nfilters].f = f;
        q->filter[q->nfilters].value = v;
        q->nfilters++;
    }
    if (val[P_LIMIT] != NULL &&
        parse_ll(val[P_LIMIT], 1, COLL_LIMIT_MAX, &ll) != 0) {
        detail(details, "limit",
               arena_sprintf(a, "must be an integer from 1 to %d",
                             COLL_LIMIT_MAX));
        bad = 1;
    } else if (val[P_LIMIT] != NULL) {
        q->limit = (int)ll;
    }
    if (val[P_PAGE] != NULL && val[P_CURSOR] != NULL) {
        detail(details, "cursor", "cannot be used together with page");
        bad = 1;
    }
    q->cursor_mode = val[P_CURSOR] != NULL || !(s->modes & COLL_OFFSET);
    if (val[P_PAGE] != NULL &&
        (parse_ll(val[P_PAGE], 1, COLL_OFFSET_MAX, &ll) != 0 ||
         (ll - 1) * q->limit > COLL_OFFSET_MAX)) {
        detail(details, "page",
               arena_sprintf(a,
                             "must be an integer from 1 and reach at most %d "
                             "rows deep (page by cursor beyond)",
                             COLL_OFFSET_MAX));
        bad = 1;
    } else if (val[P_PAGE] != NULL) {
        q->page = ll;
    }
    if (val[P_COUNT] != NULL) {
        if (q->cursor_mode) {
            detail(details, "count", "applies to page pagination only");
            bad = 1;
        } else if (strcmp(val[P_COUNT], "estimated") == 0) {
            q->estimated = 1;
        } else if (strcmp(val[P_COUNT], "exact") != 0) {
            detail(details, "count", "must be exact or estimated");
            bad = 1;
        }
    }
    if (parse_sort(s, val[P_SORT] ? val[P_SORT] : s->default_sort, a, q,
                   details) != 0)
        bad = 1;
    if (val[P_FIELDS] != NULL &&
        parse_fields(s, val[P_FIELDS], a, q, details) != 0)
        bad = 1;
    if (!bad && val[P_CURSOR] != NULL && val[P_CURSOR][0] != '\0') {
        if (strlen(val[P_CURSOR]) > COLL_CURSOR_MAX ||
            parse_cursor(s, val[P_CURSOR], secret, a, q, details) != 0) {
            if (strlen(val[P_CURSOR]) > COLL_CURSOR_MAX)
                detail(details, "cursor", "is too long");
            bad = 1;
        }
    }
    return bad ? KEEL_EINVAL : KEEL_OK;
}

keel_rc
coll_parse_single(const coll_schema_t *s, const kv_t *params, size_t n,
                  arena_t *a, coll_query_t *q, json_object *details)
{
    const char *fields = NULL;
    int bad = 0;

    memset(q, 0, sizeof(*q));
    q->schema = s;
    q->fields = ~0ULL;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(params[i].name, "fields") != 0) {
            unknown(details, params[i].name);
            bad = 1;
        } else if (fields != NULL) {
            detail(details, "fields", "must not be given twice");
            bad = 1;
        } else {
            fields = params[i].value;
        }
    }
    if (!bad && fields != NULL && parse_fields(s, fields, a, q, details) != 0)
        bad = 1;
    return bad ? KEEL_EINVAL : KEEL_OK;
}

/* ---- SQL ------------------------------------------------------------------
 */

typedef struct sql {
    char *buf;
    size_t len, cap;
    const char *params[MAX_PARAMS];
    int np;
    int overflow;
} sql_t;

static void
put_n(sql_t *s, const char *text, size_t n)
{
    if (s->len + n + 1 > s->cap) {
        s->cap = (s->len + n + 1) * 2;
        s->buf = xrealloc(s->buf, s->cap);
    }
    memcpy(s->buf + s->len, text, n);
    s->len += n;
    s->buf[s->len] = '\0';
}

static void
put(sql_t *s, const char *text)
{
    put_n(s, text, strlen(text));
}

/* Append a fragment whose every "$" is `value` (one parameter). */
static void
put_frag(sql_t *s, const char *frag, const char *value)
{
    char num[16] = "";
    const char *p = frag, *d;

    if (strchr(frag, '$') != NULL) {
        if (s->np == MAX_PARAMS) {
            s->overflow = 1;
            return;
        }
        s->params[s->np++] = value;
        snprintf(num, sizeof(num), "$%d", s->np);
    }
    while ((d = strchr(p, '$')) != NULL) {
        put_n(s, p, (size_t)(d - p));
        put(s, num);
        p = d + 1;
    }
    put(s, p);
}

/* A parameter with a cast: "$n::type". */
static void
put_param(sql_t *s, const char *value, const char *cast)
{
    char buf[96];

    if (s->np == MAX_PARAMS) {
        s->overflow = 1;
        return;
    }
    s->params[s->np++] = value;
    snprintf(buf, sizeof(buf), "$%d::%s", s->np, cast);
    put(s, buf);
}

/* The alternatives of the conditions' or_sql: both (OR), or one. */
enum alt { ALT_BOTH, ALT_FIRST, ALT_SECOND };

static void
put_where_alt(sql_t *s, const coll_query_t *q, const coll_cond_t *extra,
              size_t nextra, enum alt alt)
{
    const coll_schema_t *sc = q->schema;

    put(s, " FROM ");
    put(s, sc->from);
    put(s, " WHERE TRUE");
    if (sc->where) {
        put(s, " AND (");
        put(s, sc->where);
        put(s, ")");
    }
    for (size_t i = 0; i < q->nfilters; i++) {
        put(s, " AND (");
        put_frag(s, q->filter[i].f->sql, q->filter[i].value);
        put(s, ")");
    }
    for (size_t i = 0; i < nextra; i++) {
        put(s, " AND (");
        if (extra[i].or_sql == NULL || alt == ALT_FIRST) {
            put_frag(s, extra[i].sql, extra[i].value);
        } else if (alt == ALT_SECOND) {
            put_frag(s, extra[i].or_sql, extra[i].value);
        } else {
            put(s, "(");
            put_frag(s, extra[i].sql, extra[i].value);
            put(s, ") OR (");
            put_frag(s, extra[i].or_sql, extra[i].value);
            put(s, ")");
        }
        put(s, ")");
    }
}

static void
put_where(sql_t *s, const coll_query_t *q, const coll_cond_t *extra,
          size_t nextra)
{
    put_where_alt(s, q, extra, nextra, ALT_BOTH);
}

/* The keyset condition: rows after (after_key..., after_id). */
static void
put_keyset(sql_t *s, const coll_query_t *q)
{
    const coll_schema_t *sc = q->schema;
    int same = 1, desc = q->sort[q->nsort - 1].desc;

    for (size_t i = 0; i < q->nsort; i++)
        if (q->sort[i].desc != desc)
            same = 0;
    if (same) {
        /* One row comparison: an index on (keys..., public_id) serves it. */
        put(s, " AND (");
        for (size_t i = 0; i < q->nsort; i++) {
            put(s, q->sort[i].key->sql);
            put(s, ", ");
        }
        put(s, sc->id_sql);
        put(s, desc ? ") < (" : ") > (");
        for (size_t i = 0; i < q->nsort; i++) {
            put_param(s, q->after_key[i], q->sort[i].key->cast);
            put(s, ", ");
        }
        put_param(s, q->after_id, "uuid");
        put(s, ")");
        return;
    }
    /* Mixed directions: k1 > a1 OR (k1 = a1 AND k2 < a2) OR ... */
    put(s, " AND (");
    for (size_t level = 0; level <= q->nsort; level++) {
        put(s, level ? " OR (" : "(");
        for (size_t i = 0; i < level; i++) {
            put(s, q->sort[i].key->sql);
            put(s, " = ");
            put_param(s, q->after_key[i], q->sort[i].key->cast);
            put(s, " AND ");
        }
        if (level < q->nsort) {
            put(s, q->sort[level].key->sql);
            put(s, q->sort[level].desc ? " < " : " > ");
            put_param(s, q->after_key[level], q->sort[level].key->cast);
        } else {
            put(s, sc->id_sql);
            put(s, desc ? " < " : " > ");
            put_param(s, q->after_id, "uuid");
        }
        put(s, ")");
    }
    put(s, ")");
}

static void
put_object(sql_t *s, const coll_query_t *q)
{
    const coll_schema_t *sc = q->schema;

    put(s, "json_build_object(");
    for (size_t i = 0; i < sc->nfields; i++) {
        if (!(q->fields & (1ULL << i)))
            continue;
        if (i > 0)
            put(s, ", ");
        put(s, "'");
        put(s, sc->fields[i].name);
        put(s, "', ");
        put(s, sc->fields[i].sql);
    }
    put(s, ")::text");
}

static keel_rc
run(db_conn_t *c, sql_t *s, PGresult **res, db_error_t *err)
{
    keel_rc rc;

    if (s->overflow) {
        free(s->buf);
        return KEEL_EINTERNAL;
    }
    rc = db_exec_text(c, s->buf, s->np, s->params, res, err);
    free(s->buf);
    return rc;
}

static keel_rc
fetch_total(db_conn_t *c, const coll_query_t *q, const coll_cond_t *extra,
            size_t nextra, coll_page_t *page, db_error_t *err)
{
    sql_t s = { 0 };
    PGresult *res;
    keel_rc rc;

    size_t alts = 0;

    for (size_t i = 0; i < nextra; i++)
        alts += extra[i].or_sql != NULL;
    if (q->estimated) {
        put(&s, "EXPLAIN (FORMAT JSON) SELECT 1");
        put_where(&s, q, extra, nextra);
    } else if (alts == 1) {
        /* Two disjoint alternatives counted apart, each on its own index
         * (an OR of them would scan the table). */
        put(&s, "SELECT (SELECT count(*)");
        put_where_alt(&s, q, extra, nextra, ALT_FIRST);
        put(&s, ") + (SELECT count(*)");
        put_where_alt(&s, q, extra, nextra, ALT_SECOND);
        put(&s, ")");
    } else {
        put(&s, "SELECT count(*)");
        put_where(&s, q, extra, nextra);
    }
    rc = run(c, &s, &res, err);
    if (rc != KEEL_OK)
        return rc;
    if (q->estimated) {
        json_object *plan = json_tokener_parse(PQgetvalue(res, 0, 0)), *rows;
        rows = json_object_array_get_idx(plan, 0);
        if (rows && json_object_object_get_ex(rows, "Plan", &rows) &&
            json_object_object_get_ex(rows, "Plan Rows", &rows))
            page->total = json_object_get_int64(rows);
        page->total_is_estimate = 1;
        json_object_put(plan);
    } else {
        page->total = atoll(PQgetvalue(res, 0, 0));
    }
    page->have_total = 1;
    PQclear(res);
    return KEEL_OK;
}

/* The page query: the selected fields, the sort keys and the public id
 * (for the next cursor), one row more than the limit. */
static void
page_sql(sql_t *s, const coll_query_t *q, const coll_cond_t *extra,
         size_t nextra)
{
    const coll_schema_t *sc = q->schema;
    char num[48];

    put(s, "SELECT ");
    put_object(s, q);
    for (size_t i = 0; i < q->nsort; i++) {
        put(s, ", (");
        put(s, q->sort[i].key->sql);
        put(s, ")::text");
    }
    put(s, ", ");
    put(s, sc->id_sql);
    put(s, "::text");
    put_where(s, q, extra, nextra);
    if (q->cursor_mode && q->after)
        put_keyset(s, q);
    put(s, " ORDER BY ");
    for (size_t i = 0; i < q->nsort; i++) {
        put(s, q->sort[i].key->sql);
        put(s, q->sort[i].desc ? " DESC, " : ", ");
    }
    put(s, sc->id_sql);
    put(s, q->sort[q->nsort - 1].desc ? " DESC" : "");
    snprintf(num, sizeof(num), " LIMIT %d", q->limit + 1);
    put(s, num);
    if (!q->cursor_mode && q->page > 1) {
        snprintf(num, sizeof(num), " OFFSET %lld",
                 (q->page - 1) * (long long)q->limit);
        put(s, num);
    }
}

keel_rc
coll_sql(const coll_query_t *q, const coll_cond_t *extra, size_t nextra,
         char **sql, const char **params, int *nparams)
{
    sql_t s = { 0 };

    page_sql(&s, q, extra, nextra);
    if (s.overflow) {
        free(s.buf);
        return KEEL_EINTERNAL;
    }
    memcpy(params, s.params, (size_t)s.np * sizeof(*params));
    *nparams = s.np;
    *sql = s.buf;
    return KEEL_OK;
}

keel_rc
coll_fetch(db_conn_t *c, const coll_query_t *q, const coll_cond_t *extra,
           size_t nextra, const char *secret, arena_t *a, coll_page_t *page,
           db_error_t *err)
{
    sql_t s = { 0 };
    PGresult *res;
    keel_rc rc;
    int rows;

    memset(page, 0, sizeof(*page));
    page_sql(&s, q, extra, nextra);
    rc = run(c, &s, &res, err);
    if (rc != KEEL_OK)
        return rc;
    rows = PQntuples(res);
    page->items = json_object_new_array();
    for (int r = 0; r < rows && r < q->limit; r++) {
        json_object *o = json_tokener_parse(PQgetvalue(res, r, 0));
        if (o == NULL) {
            PQclear(res);
            json_object_put(page->items);
            page->items = NULL;
            return KEEL_EINTERNAL;
        }
        json_object_array_add(page->items, o);
    }
    page->has_more = rows > q->limit;
    if (q->cursor_mode && page->has_more) {
        const char *keys[COLL_MAX_SORT];
        int last = q->limit - 1;
        for (size_t i = 0; i < q->nsort; i++)
            keys[i] = PQgetvalue(res, last, (int)i + 1);
        page->next_cursor = coll_cursor(
            q, keys, PQgetvalue(res, last, (int)q->nsort + 1), secret, a);
        /* Never "more" without the way to it (the schemas' bounds keep
         * every cursor within its size). */
        if (page->next_cursor == NULL) {
            PQclear(res);
            json_object_put(page->items);
            page->items = NULL;
            return KEEL_EINTERNAL;
        }
    }
    PQclear(res);
    if (!q->cursor_mode) {
        rc = fetch_total(c, q, extra, nextra, page, err);
        if (rc != KEEL_OK) {
            json_object_put(page->items);
            page->items = NULL;
        }
    }
    return rc;
}

keel_rc
coll_fetch_one(db_conn_t *c, const coll_query_t *q, const coll_cond_t *conds,
               size_t nconds, json_object **out, db_error_t *err)
{
    coll_query_t none = *q;
    sql_t s = { 0 };
    PGresult *res;
    keel_rc rc;

    *out = NULL;
    none.nfilters = 0;
    put(&s, "SELECT ");
    put_object(&s, q);
    put_where(&s, &none, conds, nconds);
    put(&s, " LIMIT 1");
    /* Every field: a store's read by id, one text per schema and
     * condition, so it is prepared; a chosen subset runs unprepared. */
    if (q->fields == ~0ULL && !s.overflow) {
        rc = db_exec_fixed(c, s.buf, s.np, s.params, &res, err);
        free(s.buf);
    } else {
        rc = run(c, &s, &res, err);
    }
    if (rc != KEEL_OK)
        return rc;
    if (PQntuples(res) == 1) {
        *out = json_tokener_parse(PQgetvalue(res, 0, 0));
        rc = *out ? KEEL_OK : KEEL_EINTERNAL;
    } else {
        rc = KEEL_ENOTFOUND;
    }
    PQclear(res);
    return rc;
}

void
coll_select(const coll_query_t *q, json_object *obj)
{
    const coll_schema_t *sc = q->schema;

    for (size_t i = 1; i < sc->nfields; i++)
        if (!(q->fields & (1ULL << i)))
            json_object_object_del(obj, sc->fields[i].name);
}

/* ---- the response ---------------------------------------------------------
 */

static void
pct_put(char **o, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";

    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
            (*p >= '0' && *p <= '9') || strchr("-._~,", *p)) {
            *(*o)++ = (char)*p;
        } else {
            *(*o)++ = '%';
            *(*o)++ = hex[*p >> 4];
            *(*o)++ = hex[*p & 15];
        }
    }
}

/* "<path?query with name=value instead of page/cursor>; rel=..." */
static char *
link(keel_ctx_t *ctx, const char *name, const char *value, const char *rel)
{
    const keel_request_t *req = &ctx->req;
    size_t cap = strlen(req->path) + 3 * strlen(value) + 64;
    char *buf, *o;
    int first = 1;

    for (size_t i = 0; i < req->nquery; i++)
        cap +=
            3 * (strlen(req->query[i].name) + strlen(req->query[i].value)) + 2;
    o = buf = arena_alloc(ctx->arena, cap);
    *o++ = '<';
    memcpy(o, req->path, strlen(req->path));
    o += strlen(req->path);
    for (size_t i = 0; i < req->nquery; i++) {
        if (strcmp(req->query[i].name, "page") == 0 ||
            strcmp(req->query[i].name, "cursor") == 0)
            continue;
        *o++ = first ? '?' : '&';
        first = 0;
        pct_put(&o, req->query[i].name);
        *o++ = '=';
        pct_put(&o, req->query[i].value);
    }
    *o++ = first ? '?' : '&';
    pct_put(&o, name);
    *o++ = '=';
    pct_put(&o, value);
    snprintf(o, cap - (size_t)(o - buf), ">; rel=\"%s\"", rel);
    return buf;
}

void
coll_respond(keel_ctx_t *ctx, const coll_query_t *q, coll_page_t *page)
{
    json_object *root = json_object_new_object(), *meta;
    char *links[3];
    size_t nlinks = 0;

    meta = json_object_new_object();
    if (q->cursor_mode) {
        json_object_object_add(meta, "limit", json_object_new_int(q->limit));
        json_object_object_add(meta, "has_more",
                               json_object_new_boolean(page->has_more));
        json_object_object_add(meta, "next_cursor",
                               page->next_cursor
                                   ? json_object_new_string(page->next_cursor)
                                   : NULL);
        if (page->next_cursor)
            links[nlinks++] = link(ctx, "cursor", page->next_cursor, "next");
    } else {
        char num[24];
        json_object_object_add(meta, "page", json_object_new_int64(q->page));
        json_object_object_add(meta, "limit", json_object_new_int(q->limit));
        json_object_object_add(meta, "total",
                               json_object_new_int64(page->total));
        if (page->total_is_estimate)
            json_object_object_add(meta, "total_is_estimate",
                                   json_object_new_boolean(1));
        json_object_object_add(meta, "has_more",
                               json_object_new_boolean(page->has_more));
        if (page->has_more) {
            snprintf(num, sizeof(num), "%lld", q->page + 1);
            links[nlinks++] = link(ctx, "page", num, "next");
        }
        if (q->page > 1) {
            snprintf(num, sizeof(num), "%lld", q->page - 1);
            links[nlinks++] = link(ctx, "page", num, "prev");
        }
        links[nlinks++] = link(ctx, "page", "1", "first");
    }
    json_object_object_add(root, "data", page->items);
    page->items = NULL;
    json_object_object_add(root, "meta", meta);
    ctx_respond_json(ctx, 200, root);
    json_object_put(root);
    if (nlinks > 0) {
        size_t len = 1;
        char *v;
        for (size_t i = 0; i < nlinks; i++)
            len += strlen(links[i]) + 2;
        v = arena_alloc(ctx->arena, len);
        v[0] = '\0';
        for (size_t i = 0; i < nlinks; i++) {
            if (i > 0)
                strcat(v, ", ");
            strcat(v, links[i]);
        }
        ctx_header_set(ctx, "Link", v);
    }
}

keel_rc
coll_list(keel_ctx_t *ctx, const coll_cond_t *extra, size_t nextra)
{
    coll_page_t page;
    db_conn_t *c;
    db_error_t err;
    keel_rc rc;

    if (ctx->query == NULL)
        return ctx_fail_internal(ctx, "list route without a query schema");
    rc = ctx_db(ctx, &c);
    if (rc != KEEL_OK)
        return rc;
    rc = coll_fetch(c, ctx->query, extra, nextra, coll_secret(ctx->http->cfg),
                    ctx->arena, &page, &err);
    if (rc != KEEL_OK)
        return ctx_fail_db(ctx, rc, &err);
    coll_respond(ctx, ctx->query, &page);
    return KEEL_OK;
}

keel_rc
coll_handle_list(keel_ctx_t *ctx)
{
    return coll_list(ctx, NULL, 0);
}

/* The "version" member of a resource, 0 when none. */
static long long
version_of(json_object *obj)
{
    json_object *v;

    return json_object_object_get_ex(obj, "version", &v)
               ? json_object_get_int64(v)
               : 0;
}

void
coll_respond_one(keel_ctx_t *ctx, int status, json_object *obj)
{
    long long version = version_of(obj);

    if (ctx->query != NULL)
        coll_select(ctx->query, obj);
    ctx_respond_data(ctx, status, obj);
    ctx_etag(ctx, version);
}

void
coll_respond_get(keel_ctx_t *ctx, json_object *obj)
{
    if (ctx_not_modified(ctx, version_of(obj))) {
        json_object_put(obj);
        return;
    }
    coll_respond_one(ctx, 200, obj);
}

keel_rc
coll_respond_changed(keel_ctx_t *ctx, keel_rc rc, json_object *obj,
                     const db_error_t *err)
{
    if (rc == KEEL_ENOTFOUND || rc == KEEL_EPRECOND || rc == KEEL_EVERSION)
        return ctx_fail(ctx, rc, NULL);
    if (rc != KEEL_OK)
        return ctx_fail_db(ctx, rc, err);
    coll_respond_one(ctx, 200, obj);
    return KEEL_OK;
}

void
coll_respond_created(keel_ctx_t *ctx, const char *base, json_object *obj)
{
    json_object *id;

    if (json_object_object_get_ex(obj, "id", &id))
        ctx_header_set(ctx, "Location",
                       arena_sprintf(ctx->arena, "%s/%s", base,
                                     json_object_get_string(id)));
    coll_respond_one(ctx, 201, obj);
}
