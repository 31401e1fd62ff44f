#!/usr/bin/env bash
# soak.sh [BUILDDIR] - the soak of issue #12, item 5: N mixed requests
# (mixed.lua: reads, order creation, logins) through a private nginx into
# keeld (4 request workers of one thread, max_requests 100000) on a private
# PostgreSQL (fsync off), at a bounded rate (wrk -t2 -c8, each connection
# pausing 5 ms before each request).  N is 1 000 000 with KEEL_LONG=1
# (dev.sh check --long) and 120 000 otherwise; SOAK_REQUESTS sets it.
#
# The first 10 % of the requests run first; then each request worker's
# resident memory (VmRSS) and open descriptors are read from /proc; then
# the other 90 % run and they are read again.  What must hold:
#   - all N requests answered, none with a 5xx (wrk and nginx's log agree),
#     no socket errors, under the same master, no worker crashed;
#   - each worker still alive holds at most 10 % more resident memory than
#     after the first 10 %, and as many descriptors (+-2);
#   - a worker that is gone was recycled by max_requests (keelctl status
#     counts restarts for reason "recycled"), and its replacement holds no
#     more than 10 % above the largest worker of the first sample.
#
# Bounded: wrk stops each thread at its share of N, and in any case after
# 10 minutes (3 hours with KEEL_LONG=1).  Every process is stopped by pid
# on exit.  Prints the figures and "N passed, N failed"; exit 1 on failure.
set -u
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$(cd "${1:-$PWD}" && pwd)
# shellcheck source=../harness/lib.sh
. "$src/tests/harness/lib.sh"
# shellcheck source=lib.sh
. "$src/tests/reliability/lib.sh"

if [ "${KEEL_LONG:-0}" = 1 ]; then
    total=${SOAK_REQUESTS:-1000000}
    cap=10800
else
    total=${SOAK_REQUESTS:-120000}
    cap=600
fi
case $total in
'' | *[!0-9]*) echo "soak.sh: SOAK_REQUESTS must be a number" >&2; exit 2 ;;
esac
first=$((total / 10))

rel_init soak
rel_stack fast
four_workers() { [ "$(rel_workers | wc -l)" = 4 ]; }
keel_wait_for four_workers || rel_die "keeld has not 4 request workers"
master0=$master

# sample FILE: "PID RSS_KB FDS" per request worker
sample() {
    local p rss
    for p in $(rel_workers); do
        rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
        [ -n "$rss" ] && echo "$p $rss $(ls "/proc/$p/fd" 2>/dev/null | wc -l)"
    done >"$1"
}
# result NAME FIELD: a number from wrk's mixed-result line (2 = requests,
# 3 = seconds, 4 = socket errors)
result() { awk -v f="$2" '/^mixed-result / { print $f }' "$dir/log/wrk-$1.txt"; }

t0=$(date +%s)
rel_wrk first "$cap" 8 - $(((first + 1) / 2)) 5
rel_wrk_wait first || exit 1
sample "$dir/rss-first.txt"
rel_wrk rest "$cap" 8 - $(((total - first + 1) / 2)) 5
rel_wrk_wait rest || exit 1
sample "$dir/rss-end.txt"
secs=$(($(date +%s) - t0))
sleep 1

done_requests=$(($(result first 2) + $(result rest 2)))
sock_errors=$(($(result first 4) + $(result rest 4)))
wrk5xx=$(cat "$dir"/log/wrk-*.txt | sed -n 's/^mixed-result //p' |
    tr ' ' '\n' | awk -F= '$1 ~ /^5/ { s += $2 } END { print s + 0 }')
nginx5xx=$(awk '$2 ~ /^5/ { n++ } END { print n + 0 }' "$dir/log/access.log")
status=$(rel_status)
recycled=$(sed -n 's/.* recycled \([0-9]*\).*/\1/p' <<<"$status")
crashed=$(sed -n 's/.* crashed \([0-9]*\).*/\1/p' <<<"$status")

echo "soak: $done_requests requests in ${secs}s ($((done_requests / (secs > 0 ? secs : 1))) per s); statuses:" \
    "$(sed -n 's/^mixed-result [^ ]* [^ ]* [^ ]* [^ ]* //p' "$dir"/log/wrk-*.txt | tr '\n' ' ')"
echo "soak: latency (first 10 %): $(sed -n 's/^mixed-latency //p' "$dir/log/wrk-first.txt")"
echo "soak: latency (the rest):   $(sed -n 's/^mixed-latency //p' "$dir/log/wrk-rest.txt")"
echo "soak: worker restarts: recycled ${recycled:-?}, crashed ${crashed:-?}"
echo "soak: pid   RSS KiB after 10 %   at the end   change   fds"
largest=$(awk '$2 > m { m = $2 } END { print m + 0 }' "$dir/rss-first.txt")
# One line per worker of either sample; the verdict in the last column:
# ok, GREW, FDS, GONE (gone without a recycle) or NEWBIG (a replacement
# above the limit).
awk -v largest="$largest" -v recycled="${recycled:-0}" '
    FNR == NR { r1[$1] = $2; f1[$1] = $3; next }
    { r2[$1] = $2; f2[$1] = $3 }
    END {
        for (p in r1) {
            if (p in r2) {
                v = (r2[p] <= r1[p] * 1.10) ? "ok" : "GREW"
                if (v == "ok" && (f2[p] - f1[p] > 2 || f1[p] - f2[p] > 2)) v = "FDS"
                printf "soak: %-6s %10d %14d %+8.1f%%   %d->%d %s\n", p, r1[p],
                    r2[p], 100 * (r2[p] - r1[p]) / r1[p], f1[p], f2[p], v
            } else {
                printf "soak: %-6s %10d %14s %9s   %d %s\n", p, r1[p], "gone",
                    "", f1[p], recycled > 0 ? "ok" : "GONE"
            }
        }
        for (p in r2) if (!(p in r1))
            printf "soak: %-6s %10s %14d %9s   %d %s\n", p, "new", r2[p], "",
                f2[p], r2[p] <= largest * 1.10 ? "ok" : "NEWBIG"
    }' "$dir/rss-first.txt" "$dir/rss-end.txt" | tee "$dir/rss-verdicts.txt"

echo "soak: checks"
keel_check "$total requests answered ($done_requests)" \
    test "$done_requests" -ge "$total"
keel_check "no 5xx seen by the clients ($wrk5xx)" test "$wrk5xx" = 0
keel_check "none in nginx's log either ($nginx5xx)" test "$nginx5xx" = 0
keel_check "no socket errors ($sock_errors)" test "$sock_errors" = 0
keel_check "the same master throughout ($master0)" \
    bash -c "[ $master0 = \$(cat '$dir/keeld.master.pid') ] && kill -0 $master0"
keel_check "no worker crashed (${crashed:-?})" test "${crashed:-x}" = 0
keel_check "4 request workers sampled each time" \
    bash -c "[ \$(wc -l <'$dir/rss-first.txt') = 4 ] && [ \$(wc -l <'$dir/rss-end.txt') = 4 ]"
keel_check "each worker within +10 % of its memory after 10 % of the requests, descriptors +-2" \
    bash -c "! grep -Eq ' (GREW|FDS)\$' '$dir/rss-verdicts.txt'"
keel_check "a worker gone was recycled by max_requests, its replacement within +10 % of the largest" \
    bash -c "! grep -Eq ' (GONE|NEWBIG)\$' '$dir/rss-verdicts.txt'"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
