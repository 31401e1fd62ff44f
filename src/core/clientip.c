/* clientip.c - trusted proxies and X-Forwarded-For. */
#include "keel-build.h"

#include "core/clientip.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* `s` (len bytes) as a 16-byte address; 0, or -1 when it is none. */
static int
addr_parse(const char *s, size_t len, unsigned char out[16], int *v4)
{
    char buf[INET6_ADDRSTRLEN + 1];
    struct in_addr a4;

    if (len == 0 || len >= sizeof(buf))
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (inet_pton(AF_INET, buf, &a4) == 1) {
        memset(out, 0, 10);
        out[10] = out[11] = 0xff;
        memcpy(out + 12, &a4, 4);
        *v4 = 1;
        return 0;
    }
    *v4 = 0;
    return inet_pton(AF_INET6, buf, out) == 1 ? 0 : -1;
}

static int
in_block(const cidr_t *c, const unsigned char a[16])
{
    int full = c->bits / 8, rest = c->bits % 8;

    if (memcmp(c->addr, a, (size_t)full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    return ((c->addr[full] ^ a[full]) & (0xff << (8 - rest))) == 0;
}

keel_rc
cidr_list_parse(const char *text, const char *what, cidr_list_t *out, char *err,
                size_t errlen)
{
    cidr_list_t l = { NULL, 0 };
    const char *p = text;

    while (*p != '\0') {
        const char *start, *end, *slash;
        cidr_t c;
        int v4;

        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '\0')
            break;
        start = p;
        while (*p && *p != ',' && *p != ' ' && *p != '\t')
            p++;
        end = p;
        slash = memchr(start, '/', (size_t)(end - start));
        if (addr_parse(start, (size_t)((slash ? slash : end) - start), c.addr,
                       &v4) != 0)
            goto bad;
        c.bits = 128;
        if (slash != NULL) {
            char num[8];
            long long bits;
            size_t n = (size_t)(end - slash - 1);

            if (n == 0 || n >= sizeof(num))
                goto bad;
            memcpy(num, slash + 1, n);
            num[n] = '\0';
            if (parse_ll(num, 0, v4 ? 32 : 128, &bits) != 0)
                goto bad;
            c.bits = (int)bits + (v4 ? 96 : 0);
        }
        /* Host bits set below the prefix are almost always a typo. */
        for (int b = c.bits; b < 128; b++)
            if (c.addr[b / 8] & (0x80 >> (b % 8)))
                goto bad;
        if (l.n == CIDR_LIST_MAX) {
            keel_seterr(err, errlen, "%s: more than %d entries", what,
                        CIDR_LIST_MAX);
            cidr_list_free(&l);
            return KEEL_EINVAL;
        }
        if (l.n == 0)
            l.v = xcalloc(CIDR_LIST_MAX, sizeof(*l.v));
        l.v[l.n++] = c;
        continue;
    bad:
        keel_seterr(err, errlen,
                    "%s: '%.*s' is not an address or an "
                    "address/prefix block",
                    what, (int)(end - start > 64 ? 64 : end - start), start);
        cidr_list_free(&l);
        return KEEL_EINVAL;
    }
    *out = l;
    return KEEL_OK;
}

void
cidr_list_free(cidr_list_t *l)
{
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static int
match_bytes(const cidr_list_t *l, const unsigned char a[16])
{
    for (size_t i = 0; i < l->n; i++)
        if (in_block(&l->v[i], a))
            return 1;
    return 0;
}

int
cidr_list_match(const cidr_list_t *l, const char *addr)
{
    unsigned char a[16];
    int v4;

    return addr != NULL && addr_parse(addr, strlen(addr), a, &v4) == 0 &&
           match_bytes(l, a);
}

/* The canonical text of a parsed address, in the arena. */
static const char *
canonical(const unsigned char a[16], int v4, arena_t *ar)
{
    char buf[INET6_ADDRSTRLEN];

    if (v4)
        inet_ntop(AF_INET, a + 12, buf, sizeof(buf));
    else
        inet_ntop(AF_INET6, a, buf, sizeof(buf));
    return arena_strdup(ar, buf);
}

const char *
client_ip_resolve(const cidr_list_t *trusted, const char *remote,
                  const char *xff, arena_t *ar)
{
    unsigned char a[16];
    const char *best;
    size_t end;
    int v4;

    if (remote == NULL || addr_parse(remote, strlen(remote), a, &v4) != 0)
        return remote ? remote : "";
    best = canonical(a, v4, ar);
    if (xff == NULL || trusted->n == 0 || !match_bytes(trusted, a))
        return best;
    /* Right to left: each entry was added by the hop to its right. */
    end = strlen(xff);
    while (end > 0) {
        size_t start = end, s, e;

        while (start > 0 && xff[start - 1] != ',')
            start--;
        s = start;
        e = end;
        while (s < e && (xff[s] == ' ' || xff[s] == '\t'))
            s++;
        while (e > s && (xff[e - 1] == ' ' || xff[e - 1] == '\t'))
            e--;
        if (addr_parse(xff + s, e - s, a, &v4) != 0)
            return best;
        best = canonical(a, v4, ar);
        if (!match_bytes(trusted, a))
            return best;
        end = start > 0 ? start - 1 : 0;
    }
    return best;
}
