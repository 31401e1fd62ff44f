#!/bin/bash
# bench/auth.sh [BUILDDIR] - what authentication costs, measured with wrk
# on loopback through one private nginx into keeld-test and a private
# PostgreSQL (fsync off), in one run:
#
#   (a) POST /v1/auth/login           one argon2id verification each;
#       next to bench/argon2-rate     hashes/s with the same parameters on
#                                     as many threads as keeld has workers:
#                                     the ceiling of logins/s
#   (b) GET /health                   unauthenticated, for reference
#   (c) GET /v1/auth/me               authenticated (JWT + revocation check)
#                                     plus one query
#   (d) GET /test/auth-echo           the JWT + revocation check alone
#   (e) GET /test/noauth-echo         the same handler without auth
#
# The auth check's cost is the time per request it adds, (1/d - 1/e),
# as a share of an authenticated request's time, 1/c.  Target: < 15 %.
#
# Bounded (BENCH_DURATION seconds per case, default 10), every process
# stopped by its pid, never part of `make check`.
#   BENCH_CONNECTIONS (default 32), BENCH_KEEP=1 keeps the directory.
set -euo pipefail

srcdir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
builddir=$(cd "${1:-$PWD}" && pwd)
# shellcheck source=../tests/harness/lib.sh
. "$srcdir/tests/harness/lib.sh"

# shellcheck source=lib.sh
. "$srcdir/bench/lib.sh"

duration=${BENCH_DURATION:-10}
conns=${BENCH_CONNECTIONS:-32}
bench_init auth
make -C "$builddir" tests/integration/keeld-test keelctl bench/argon2-rate >&2 ||
    die "build failed"
bench_stack

email=bench@example.org
password="bench password 0123"
bench_account "$email" "$password"
cat >"$tmp/login.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"email":"$email","password":"$password"}'
LUA

m=$(awk -F' *= *' '/^argon2_memory/ {print $2}' "$srcdir/conf/keel.conf")
t=$(awk -F' *= *' '/^argon2_time/ {print $2}' "$srcdir/conf/keel.conf")
p=$(awk -F' *= *' '/^argon2_parallelism/ {print $2}' "$srcdir/conf/keel.conf")
hashes=$("$builddir/bench/argon2-rate" "$m" "$t" "$p" "$workers" 5 | awk '{printf "%.0f", $2}')
logins=$(bench_rps -c4 -s "$tmp/login.lua" "$url/v1/auth/login")
health=$(bench_rps "$url/health")
me=$(bench_rps -H "Authorization: Bearer $token" "$url/v1/auth/me")
authed=$(bench_rps -H "Authorization: Bearer $token" "$url/test/auth-echo")
plain=$(bench_rps "$url/test/noauth-echo")

echo "bench/auth.sh: $(date -u +%Y-%m-%dT%H:%MZ), $workers workers, wrk -t2 -c$conns, ${duration}s each"
printf '%-46s %8s\n' "argon2id hashes/s (m=$m t=$t p=$p, $workers threads)" "$hashes"
printf '%-46s %8s  %5s %% of hashes/s\n' "POST /v1/auth/login (4 connections)" "$logins" \
    "$(awk -v a="$logins" -v b="$hashes" 'BEGIN { printf "%.1f", 100 * a / b }')"
printf '%-46s %8s\n' "GET /health (no auth)" "$health"
printf '%-46s %8s\n' "GET /v1/auth/me (bearer)" "$me"
printf '%-46s %8s\n' "GET /test/auth-echo (bearer)" "$authed"
printf '%-46s %8s\n' "GET /test/noauth-echo (no auth)" "$plain"
share=$(awk -v c="$me" -v d="$authed" -v e="$plain" \
    'BEGIN { printf "%.1f", 100 * (1 / d - 1 / e) / (1 / c) }')
echo "auth check: $share % of an authenticated request's time (target < 15 %)"
