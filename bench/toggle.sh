#!/bin/bash
# bench/toggle.sh FEATURE [BUILDDIR] - what a server-wide feature costs:
# the same requests with it on and off, keeld restarted between,
# alternating on/off BENCH_ROUNDS times (5) keeping each side's best run,
# all in one run on loopback.  FEATURE is
#
#   ratelimit  [ratelimit] enabled (limits far above the load, so every
#              request takes from a bucket and none is refused); target
#              < 5 % (bench/ratelimit.sh)
#   metrics    [metrics] enabled (every request counted into the shared
#              slots); target < 3 % (bench/metrics.sh)
#
# on these requests:
#
#   /health                      no auth, not rate limited
#   GET /v1/products/{id}        anonymous: every request takes from one
#                                bucket (one address), the worst case for
#                                the limiter's compare-and-swap
#   GET /v1/auth/me              a bearer token
#
# Bounded (BENCH_DURATION seconds per run, default 5; about a minute in
# all), every process stopped by its pid, never part of `make check`.
set -euo pipefail

srcdir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
feature=${1:?usage: bench/toggle.sh ratelimit|metrics [BUILDDIR]}
builddir=$(cd "${2:-$PWD}" && pwd)
case $feature in
ratelimit) var=KEEL_RATELIMIT_ENABLED ;;
metrics) var=KEEL_METRICS_ENABLED ;;
*) echo "bench/toggle.sh: unknown feature $feature" >&2; exit 2 ;;
esac
# shellcheck source=../tests/harness/lib.sh
. "$srcdir/tests/harness/lib.sh"
# shellcheck source=lib.sh
. "$srcdir/bench/lib.sh"

duration=${BENCH_DURATION:-5}
conns=${BENCH_CONNECTIONS:-32}
rounds=${BENCH_ROUNDS:-5}
bench_init "$feature"
make -C "$builddir" tests/integration/keeld-test keelctl >&2 ||
    die "build failed"
bench_stack

email=bench@example.org
password="bench password 0123"
bench_account "$email" "$password"
product=$(
    set -a
    . "$tmp/pg.env"
    "$(keel_pg_bin)/psql" -Atq -c "INSERT INTO products (sku, name, category,
        price_cents, currency, stock) VALUES ('rl-1', 'Limited', 'bench', 100,
        'EUR', 1) RETURNING public_id" | head -n 1
)
[ -n "$product" ] || die "no product"

# Which side is running: the limiter's headers, or /metrics answering.
side_is_on() {
    case $feature in
    ratelimit)
        curl -fsS -D - -o /dev/null "$url/v1/products/$product" |
            grep -qi '^x-ratelimit-limit:'
        ;;
    metrics) curl -fs -o /dev/null "$url/metrics" ;;
    esac
}
restart() { # restart on|off
    keel_stop_pidfile "$tmp/keeld.master.pid" 35
    (
        export KEEL_LOG_ACCESS_LOG=off KEEL_JOBS_WORKERS=0 "$var=$1"
        keel_start_keeld "$builddir/tests/integration/keeld-test" "$tmp"
    ) || die "keeld-test did not start"
    keel_wait_for keel_http_ok "$url/health" || die "keeld did not answer"
    if [ "$1" = on ]; then
        side_is_on || die "$feature not on"
    else
        ! side_is_on || die "$feature not off"
    fi
}

declare -A best
keep() { # keep KEY VALUE: the higher
    if [ -z "${best[$1]:-}" ] || [ "$2" -gt "${best[$1]}" ]; then
        best[$1]=$2
    fi
}
for round in $(seq 1 "$rounds"); do
    for side in on off; do
        restart "$side"
        keep "health-$side" "$(bench_rps "$url/health")"
        keep "product-$side" "$(bench_rps "$url/v1/products/$product")"
        keep "me-$side" "$(bench_rps -H "Authorization: Bearer $token" \
            "$url/v1/auth/me")"
        echo "round $round, $feature $side: done" >&2
    done
done

pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) * 100 / b }'; }
printf 'bench/%s.sh: %s, %s workers, wrk -t2 -c%s, %ss per run, best of %s\n' \
    "$feature" "$(date -u +%Y-%m-%dT%H:%MZ)" "$workers" "$conns" "$duration" "$rounds"
printf '%-34s %12s %12s %10s\n' "requests/s" "$feature on" "$feature off" "cost %"
for k in health product me; do
    case $k in
    health) label="/health" ;;
    product) label="GET /v1/products/{id}, anonymous" ;;
    me) label="GET /v1/auth/me, bearer" ;;
    esac
    printf '%-34s %12s %12s %10s\n' "$label" "${best[$k-on]}" \
        "${best[$k-off]}" "$(pct "${best[$k-on]}" "${best[$k-off]}")"
done
