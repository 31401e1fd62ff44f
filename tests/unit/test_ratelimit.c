/*
 * test_ratelimit.c - the rate limiter's buckets (API.md 1.7) and the
 * client address it keys on: GCRA counts, refills and refuses exactly;
 * keys are apart; a full table evicts and stays bounded; a wrapped clock
 * does not lock a key out; four processes sharing one table let exactly
 * the limit through; trusted proxies and X-Forwarded-For.
 */
#include "keel-build.h"

#include "unit.h"
#include "auth/ratelimit.h"
#include "core/clientip.h"

#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define SEC 1000000LL

/* A moment on the tables' clock: they count from when they were made. */
static long long
at(long long offset)
{
    static long long t0;

    if (t0 == 0)
        t0 = ratelimit_now_us() + 1000 * SEC;
    return t0 + offset;
}

static rl_result_t
take(rl_table_t *t, const char *key, long long limit, double window,
     long long now)
{
    rl_store_t s = rl_table_store(t);
    rl_policy_t p = { limit, window };
    rl_result_t r;

    s.take(s.self, key, strlen(key), &p, now, &r);
    return r;
}

static void
test_a_bucket_lets_the_limit_through_then_refuses(void)
{
    rl_table_t *t = rl_table_create(1024);
    long long now = at(0);
    rl_result_t r;

    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    for (int i = 0; i < 5; i++) {
        r = take(t, "a", 5, 60, now);
        CU_ASSERT_TRUE(r.allowed);
        CU_ASSERT_EQUAL(r.limit, 5);
        CU_ASSERT_EQUAL(r.remaining, 4 - i);
    }
    r = take(t, "a", 5, 60, now);
    CU_ASSERT_FALSE(r.allowed);
    CU_ASSERT_EQUAL(r.remaining, 0);
    /* One request comes back every 60 / 5 = 12 s. */
    CU_ASSERT_DOUBLE_EQUAL(r.retry_after, 12.0, 0.001);
    CU_ASSERT_DOUBLE_EQUAL(r.reset_after, 60.0, 0.001);
    /* A refusal does not use anything up. */
    r = take(t, "a", 5, 60, now + 12 * SEC - 1);
    CU_ASSERT_FALSE(r.allowed);
    r = take(t, "a", 5, 60, now + 12 * SEC);
    CU_ASSERT_TRUE(r.allowed);
    CU_ASSERT_EQUAL(r.remaining, 0);
    /* After the whole window it is full again. */
    r = take(t, "a", 5, 60, now + 80 * SEC);
    CU_ASSERT_TRUE(r.allowed);
    CU_ASSERT_EQUAL(r.remaining, 4);
    CU_ASSERT_DOUBLE_EQUAL(r.reset_after, 12.0, 0.001);
    rl_table_destroy(t);
}

static void
test_keys_and_policies_are_apart(void)
{
    rl_table_t *t = rl_table_create(1024);
    long long now = at(5 * SEC);

    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    for (int i = 0; i < 3; i++)
        CU_ASSERT_TRUE(take(t, "read|ip:1", 3, 60, now).allowed);
    CU_ASSERT_FALSE(take(t, "read|ip:1", 3, 60, now).allowed);
    CU_ASSERT_TRUE(take(t, "read|ip:2", 3, 60, now).allowed);
    CU_ASSERT_TRUE(take(t, "write|ip:1", 3, 60, now).allowed);
    rl_table_destroy(t);
}

static void
test_a_full_table_evicts_and_stays_bounded(void)
{
    rl_table_t *t = rl_table_create(8);
    long long now = at(10 * SEC);
    char key[32];

    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(rl_table_slots(t), RL_PROBES);
    /* Ten times more busy keys than slots: each still gets its first
     * request (an evicted bucket starts again full). */
    for (int i = 0; i < 80; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        CU_ASSERT_TRUE(take(t, key, 2, 60, now).allowed);
    }
    /* A key that used its bucket up stays refused while it is kept:
     * the most recent keys are the ones nearest to empty. */
    CU_ASSERT_TRUE(take(t, "hot", 1, 60, now).allowed);
    CU_ASSERT_FALSE(take(t, "hot", 1, 60, now).allowed);
    rl_table_destroy(t);
}

static void
test_refilled_buckets_give_their_slot_away(void)
{
    rl_table_t *t = rl_table_create(8);
    long long now = at(10 * SEC);
    char key[32];

    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_TRUE(take(t, "hot", 1, 60, now).allowed);
    /* Eight idle keys whose buckets refilled long ago... */
    for (int i = 0; i < 8; i++) {
        snprintf(key, sizeof(key), "idle%d", i);
        take(t, key, 100, 1, now - 100 * SEC);
    }
    /* ...do not push out the one that is still empty. */
    CU_ASSERT_FALSE(take(t, "hot", 1, 60, now).allowed);
    rl_table_destroy(t);
}

static void
test_a_wrapped_clock_does_not_lock_a_key_out(void)
{
    rl_table_t *t = rl_table_create(64);
    long long now = at(1 * SEC);
    rl_result_t r;

    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_TRUE(take(t, "w", 1, 60, now).allowed);
    CU_ASSERT_FALSE(take(t, "w", 1, 60, now).allowed);
    /* 2^40 us (12.7 days) later the stored time reads as "just now"
     * plus a little: still within a window, so still refused... */
    r = take(t, "w", 1, 60, now + (1LL << 40));
    CU_ASSERT_FALSE(r.allowed);
    /* ...but never for longer than the window. */
    CU_ASSERT_TRUE(r.retry_after <= 60.0);
    /* Half a wrap later the stored time is far ahead: taken as stale. */
    CU_ASSERT_TRUE(take(t, "w", 1, 60, now + (1LL << 39) + 100 * SEC).allowed);
    rl_table_destroy(t);
}

/* Four processes take 1 000 requests each from one shared bucket of
 * 2 000: exactly 2 000 get through, whoever they are. */
static void
test_processes_sharing_a_table_let_exactly_the_limit_through(void)
{
    rl_table_t *t = rl_table_create(1024);
    atomic_int *allowed = mmap(NULL, sizeof(*allowed), PROT_READ | PROT_WRITE,
                               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pid_t kids[4];
    int ok = 1;

    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_FATAL(allowed != MAP_FAILED);
    atomic_store(allowed, 0);
    for (int k = 0; k < 4; k++) {
        kids[k] = fork();
        if (kids[k] == 0) {
            int mine = 0;
            for (int i = 0; i < 1000; i++)
                mine += take(t, "shared", 2000, 3600, at(7 * SEC)).allowed;
            atomic_fetch_add(allowed, mine);
            _exit(0);
        }
    }
    for (int k = 0; k < 4; k++) {
        int st;
        ok &= kids[k] > 0 && waitpid(kids[k], &st, 0) == kids[k] &&
              WIFEXITED(st) && WEXITSTATUS(st) == 0;
    }
    CU_ASSERT_TRUE(ok);
    CU_ASSERT_EQUAL(atomic_load(allowed), 2000);
    CU_ASSERT_FALSE(take(t, "shared", 2000, 3600, at(7 * SEC)).allowed);
    munmap(allowed, sizeof(*allowed));
    rl_table_destroy(t);
}

static void
test_the_process_limiter_counts_per_class_and_client(void)
{
    rl_policy_t p = { 2, 60 }, none = { 0, 60 };
    rl_result_t r;

    CU_ASSERT_EQUAL(ratelimit_init(256), 0);
    ratelimit_take("read", "ip:192.0.2.1", &p, &r);
    CU_ASSERT_TRUE(r.allowed);
    ratelimit_take("read", "ip:192.0.2.1", &p, &r);
    CU_ASSERT_TRUE(r.allowed);
    ratelimit_take("read", "ip:192.0.2.1", &p, &r);
    CU_ASSERT_FALSE(r.allowed);
    /* "read" + "ip:x" and "readip" + ":x" are not one key. */
    ratelimit_take("readip", ":192.0.2.1", &p, &r);
    CU_ASSERT_TRUE(r.allowed);
    /* Limit 0: no limit. */
    for (int i = 0; i < 10; i++) {
        ratelimit_take("read", "ip:192.0.2.1", &none, &r);
        CU_ASSERT_TRUE(r.allowed);
    }
}

/* ---- client addresses ---------------------------------------------------- */

static void
test_trusted_proxy_lists_parse_and_match(void)
{
    cidr_list_t l;
    char err[160];

    CU_ASSERT_EQUAL_FATAL(cidr_list_parse("10.0.0.0/8, 127.0.0.1 ,fd00::/8",
                                          "trusted_proxies", &l, err,
                                          sizeof(err)),
                          KEEL_OK);
    CU_ASSERT_EQUAL(l.n, 3);
    CU_ASSERT_TRUE(cidr_list_match(&l, "10.200.3.4"));
    CU_ASSERT_TRUE(cidr_list_match(&l, "127.0.0.1"));
    CU_ASSERT_FALSE(cidr_list_match(&l, "127.0.0.2"));
    CU_ASSERT_FALSE(cidr_list_match(&l, "11.0.0.1"));
    CU_ASSERT_TRUE(cidr_list_match(&l, "fd12::1"));
    CU_ASSERT_FALSE(cidr_list_match(&l, "fe80::1"));
    /* IPv4-mapped IPv6 is the IPv4 address. */
    CU_ASSERT_TRUE(cidr_list_match(&l, "::ffff:10.1.2.3"));
    CU_ASSERT_FALSE(cidr_list_match(&l, "not an address"));
    cidr_list_free(&l);
    CU_ASSERT_EQUAL(
        cidr_list_parse("", "trusted_proxies", &l, err, sizeof(err)), KEEL_OK);
    CU_ASSERT_EQUAL(l.n, 0);
    CU_ASSERT_EQUAL(
        cidr_list_parse("10.0.0.0/33", "trusted_proxies", &l, err, sizeof(err)),
        KEEL_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "10.0.0.0/33"));
    CU_ASSERT_EQUAL(
        cidr_list_parse("10.0.0.1/8", "trusted_proxies", &l, err, sizeof(err)),
        KEEL_EINVAL);
    CU_ASSERT_EQUAL(
        cidr_list_parse("example.org", "trusted_proxies", &l, err, sizeof(err)),
        KEEL_EINVAL);
    CU_ASSERT_EQUAL(
        cidr_list_parse("10.0.0.0/", "trusted_proxies", &l, err, sizeof(err)),
        KEEL_EINVAL);
}

static void
test_x_forwarded_for_counts_only_from_trusted_proxies(void)
{
    arena_t a;
    cidr_list_t l;
    char err[160];

    arena_init(&a);
    CU_ASSERT_EQUAL_FATAL(cidr_list_parse("127.0.0.1, 10.0.0.0/8",
                                          "trusted_proxies", &l, err,
                                          sizeof(err)),
                          KEEL_OK);
    /* From an untrusted peer the header is ignored. */
    CU_ASSERT_STRING_EQUAL(
        client_ip_resolve(&l, "192.0.2.9", "127.0.0.1, 10.1.1.1", &a),
        "192.0.2.9");
    /* From a trusted one: the right-most entry that is not trusted. */
    CU_ASSERT_STRING_EQUAL(
        client_ip_resolve(&l, "127.0.0.1", "198.51.100.7, 10.1.1.1", &a),
        "198.51.100.7");
    /* A client's own entries left of that change nothing. */
    CU_ASSERT_STRING_EQUAL(
        client_ip_resolve(&l, "127.0.0.1",
                          "6.6.6.6, 203.0.113.5,10.2.2.2 , 10.1.1.1", &a),
        "203.0.113.5");
    /* Every entry trusted: the left-most. */
    CU_ASSERT_STRING_EQUAL(
        client_ip_resolve(&l, "127.0.0.1", "10.9.9.9, 10.1.1.1", &a),
        "10.9.9.9");
    /* Garbage stops the walk at the last good hop. */
    CU_ASSERT_STRING_EQUAL(
        client_ip_resolve(&l, "127.0.0.1", "198.51.100.7, junk", &a),
        "127.0.0.1");
    CU_ASSERT_STRING_EQUAL(client_ip_resolve(&l, "127.0.0.1", "", &a),
                           "127.0.0.1");
    CU_ASSERT_STRING_EQUAL(client_ip_resolve(&l, "127.0.0.1", NULL, &a),
                           "127.0.0.1");
    /* Addresses come out in one form, so one client is one bucket. */
    CU_ASSERT_STRING_EQUAL(
        client_ip_resolve(&l, "127.0.0.1", "2001:DB8:0:0::1", &a),
        "2001:db8::1");
    CU_ASSERT_STRING_EQUAL(
        client_ip_resolve(&l, "::ffff:10.0.0.1", "198.51.100.8", &a),
        "198.51.100.8");
    cidr_list_free(&l);
    /* With no trusted proxies, REMOTE_ADDR whatever the header says. */
    CU_ASSERT_STRING_EQUAL(client_ip_resolve(&l, "127.0.0.1", "1.2.3.4", &a),
                           "127.0.0.1");
    arena_destroy(&a);
}

static const unit_test_t tests[] = {
    { "a bucket lets the limit through, then refuses",
      test_a_bucket_lets_the_limit_through_then_refuses },
    { "keys and policies are apart", test_keys_and_policies_are_apart },
    { "a full table evicts and stays bounded",
      test_a_full_table_evicts_and_stays_bounded },
    { "refilled buckets give their slot away",
      test_refilled_buckets_give_their_slot_away },
    { "a wrapped clock does not lock a key out",
      test_a_wrapped_clock_does_not_lock_a_key_out },
    { "processes sharing a table let exactly the limit through",
      test_processes_sharing_a_table_let_exactly_the_limit_through },
    { "the process limiter counts per class and client",
      test_the_process_limiter_counts_per_class_and_client },
    { "trusted proxy lists parse and match",
      test_trusted_proxy_lists_parse_and_match },
    { "X-Forwarded-For counts only from trusted proxies",
      test_x_forwarded_for_counts_only_from_trusted_proxies },
};

int
main(void)
{
    return unit_run("rate limits and client addresses", UNIT_TESTS(tests));
}
