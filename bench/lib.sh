# shellcheck shell=bash
# bench/lib.sh - what the API benchmarks share: a private stack (PostgreSQL,
# keeld-test, nginx) in a temporary directory, stopped by pid on exit, and
# wrk and pgbench wrappers.  Sourced after tests/harness/lib.sh.
#
#   bench_init NAME         temporary directory /tmp/keel-NAME-bench.*, the
#                           cleanup trap, $workers (one per CPU)
#   bench_stack [DIR BINARY ROOT [ERRORS]]
#                           PostgreSQL (fsync off), migrations, keeld-test
#                           with $workers workers and no access log, nginx;
#                           sets $url.  Another application: BINARY with
#                           ROOT's sql/migrations in DIR (under $tmp), and
#                           ERRORS as nginx's error snippet
#   bench_rps ARGS...       requests/s of one wrk run (a non-2xx answer is a
#                           failure); $duration seconds, $conns connections
#   bench_pgbench_select    pgbench -S -M prepared -c8 -j2 TPS: PostgreSQL's
#                           own one-row ceiling on this machine, now
#   bench_account EMAIL PASSWORD
#                           register over the API and log in: the access
#                           token in $token

die() {
    echo "bench: $*" >&2
    exit 1
}

bench_init() {
    local name=$1
    command -v wrk >/dev/null || die "wrk not found (apt-get install wrk)"
    # One worker per CPU, at most 8: with pgbench's 8 clients they stay
    # well within PostgreSQL's default max_connections.
    workers=$(nproc 2>/dev/null || echo 2)
    [ "$workers" -le 8 ] || workers=8
    nginx_bin=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
    NGINX=$nginx_bin
    export -n NGINX
    bench_name=$name
    keel_lift_rate_limits
    tmp=$(mktemp -d "/tmp/keel-$name-bench.XXXXXX")
    chmod 0755 "$tmp"
    mkdir -p "$tmp/log"
    trap bench_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

bench_cleanup() {
    local rc=$? d
    set +e
    for d in "$tmp" "${bench_dirs[@]}"; do
        keel_stop_pidfile "$d/nginx.pid" 10
        keel_stop_pidfile "$d/keeld.master.pid" 35
        keel_pg_stop "$d"
    done
    if [ -n "${BENCH_KEEP:-}" ]; then
        echo "bench: kept $tmp" >&2
    else
        case $tmp in /tmp/keel-"$bench_name"-bench.*) rm -rf -- "$tmp" ;; esac
    fi
    exit "$rc"
}

bench_dirs=()
bench_stack() {
    local d=${1:-$tmp} bin=${2:-$builddir/tests/integration/keeld-test}
    local root=${3:-$srcdir} errors=${4:-$srcdir/conf/keel-errors.conf}
    if [ "$d" != "$tmp" ]; then
        mkdir -p "$d/log"
        chmod 0755 "$d"
        bench_dirs+=("$d")
    fi
    keel_pg_start "$d" fast || die "PostgreSQL did not start"
    keel_write_config "$d" "$d/keel.sock" "" "$root"
    sed -i "s/^workers = 2$/workers = $workers/" "$d/keel.conf"
    "$builddir/keelctl" -c "$d/keel.conf" migrate up \
        >"$d/log/migrate.log" 2>&1 || die "migrate failed"
    KEEL_LOG_ACCESS_LOG=off KEEL_JOBS_WORKERS=0 \
        keel_start_keeld "$bin" "$d" || die "${bin##*/} did not start"
    local port
    port=$(keel_free_port)
    KEEL_NGINX_ERRORS=$errors keel_nginx_conf "$d" "$port" "$d/keel.sock" "$srcdir"
    keel_start_nginx "$d" || die "nginx did not start"
    url="http://127.0.0.1:$port"
    keel_wait_for keel_http_ok "$url/health" || die "the stack did not come up"
}

bench_account() {
    curl -fsS -o /dev/null -H 'Content-Type: application/json' \
        -d "{\"email\":\"$1\",\"password\":\"$2\",\"name\":\"Bench\"}" \
        "$url/v1/auth/register" || die "register $1 failed"
    token=$(curl -fsS -H 'Content-Type: application/json' \
        -d "{\"email\":\"$1\",\"password\":\"$2\"}" "$url/v1/auth/login" |
        sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
    [ -n "$token" ] || die "login $1 failed"
}

bench_rps() {
    local out
    out=$(wrk -t2 -c"$conns" -d"${duration}s" "$@")
    if grep -q 'Non-2xx' <<<"$out"; then
        echo "bench: non-2xx answers in: wrk $*" >&2
        grep 'Non-2xx' <<<"$out" >&2
        exit 1
    fi
    awk '/^Requests\/sec:/ {printf "%.0f", $2}' <<<"$out"
}

bench_pgbench_select() {
    local pg_bin tps
    pg_bin=$(keel_pg_bin) || die "PostgreSQL not found"
    tps=$(
        set -a
        . "$tmp/pg.env"
        "$pg_bin/createdb" bench_pgbench &&
            timeout 120 "$pg_bin/pgbench" -i -s 1 -q bench_pgbench \
                >"$tmp/log/pgbench-init.log" 2>&1 &&
            timeout $((duration + 30)) "$pg_bin/pgbench" -n -S -M prepared \
                -c8 -j2 -T "$duration" bench_pgbench 2>/dev/null |
            awk '/^tps/ {printf "%.0f", $3; exit}'
    ) || true
    [ -n "$tps" ] || die "pgbench failed (see $tmp/log/pgbench-init.log)"
    echo "$tps"
}
