/*
 * clientip.h - who the client is (API.md 1.7): REMOTE_ADDR, unless that
 * is a trusted proxy ([http] trusted_proxies, a list of CIDR blocks), in
 * which case the right-most X-Forwarded-For entry that is not trusted.
 * An X-Forwarded-For from anyone else is ignored: a client cannot choose
 * its own address for the rate limiter or the logs.
 */
#ifndef KEEL_CORE_CLIENTIP_H
#define KEEL_CORE_CLIENTIP_H

#include "core/arena.h"
#include "core/error.h"

#include <stddef.h>

/* An address block; IPv4 is kept as IPv4-mapped IPv6 (::ffff:a.b.c.d). */
typedef struct cidr {
    unsigned char addr[16];
    int bits; /* 0..128 */
} cidr_t;

typedef struct cidr_list {
    cidr_t *v;
    size_t n;
} cidr_list_t;

/* The most blocks a list may hold. */
#define CIDR_LIST_MAX 64

/*
 * Parse "10.0.0.0/8, 127.0.0.1, ::1/128" (a bare address is a /32 or
 * /128; "" is the empty list) into *out (cidr_list_free).  KEEL_EINVAL
 * with a message naming the bad entry, prefixed by `what` (the key).
 */
keel_rc cidr_list_parse(const char *text, const char *what, cidr_list_t *out,
                        char *err, size_t errlen);
void cidr_list_free(cidr_list_t *l);

/* 1 when the address text `addr` is in one of the blocks of `l`. */
int cidr_list_match(const cidr_list_t *l, const char *addr);

/*
 * The client's address for a request from `remote` (REMOTE_ADDR) that
 * carried `xff` (X-Forwarded-For, or NULL): in canonical form (inet_ntop;
 * IPv4-mapped IPv6 as IPv4), in the arena.  When `remote` is trusted, the
 * walk from the right of `xff` stops at the first untrusted entry; an
 * entry that is not an address ends it at the last good one; when every
 * entry is trusted, the left-most counts.
 */
const char *client_ip_resolve(const cidr_list_t *trusted, const char *remote,
                              const char *xff, arena_t *a);

#endif
