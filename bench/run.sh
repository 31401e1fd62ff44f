#!/bin/bash
# bench/run.sh [BUILDDIR] - load benchmark of keel's FastCGI path, with its
# ceiling and its floor measured in the same run.
#
# Measures with wrk, on loopback, against one private nginx:
#   (a) nginx `return 200`            the ceiling for anything behind nginx
#   (b) bench/hello-fcgi              a bare libfcgi responder: the cost
#                                     floor of the FastCGI hop itself
#   (c) GET /health through keeld     keel's whole request path
# and a single-row primary-key read from a private PostgreSQL (fast mode,
# table bench_items with 10 000 rows, ids picked at random by wrk):
#   (d) GET /test/bench-items/{id}    keel's whole path plus one prepared
#       through keeld-test            statement (ctx_db + db_exec)
#   (e) bench/hello-pq                a bare libfcgi responder with one
#                                     PQexecPrepared and json-c: the floor
#                                     of a 1-query endpoint
#   (f) pgbench -S -M prepared -c8    PostgreSQL's own 1-row ceiling
# first in the recommended configuration (a new FastCGI connection per
# request, libfcgi's lingering close off), then (b) and (c) again with
# FastCGI keepalive (upstream keepalive + fastcgi_keep_conn on), the
# configuration keel does NOT recommend (notes/performance.md, item 3).
# Absolute numbers drift between runs by 15 % or more; compare the ratios
# within one run.  Targets, recommended set-up: /health >= 70 % of
# hello-fcgi; the 1-row read through keeld >= 90 % of hello-pq.
#
# BUILDDIR (default: the current directory) holds the built ./keeld; the
# script builds nothing but `make bench/hello-fcgi bench/hello-pq
# tests/integration/keeld-test` there.  Everything runs from a temporary
# directory under /tmp, on 127.0.0.1 and unix sockets (PostgreSQL listens
# on no TCP address), and every process started is stopped by its pid on
# exit.  Never part of `make check`.
#
# Environment:
#   BENCH_DURATION     seconds per wrk run (default 10)
#   BENCH_CONNECTIONS  wrk connections (default 64); BENCH_THREADS (default 2)
#   BENCH_WORKERS      keeld workers = hello-fcgi processes = nginx workers
#                      (default: the number of CPUs)
#   BENCH_KEEPALIVE    `keepalive N` of the keepalive upstreams (default 8)
#   BENCH_HELLO        a hello-fcgi binary to use instead of building one
#   BENCH_HELLO_PQ     a hello-pq binary to use instead of building one
#   BENCH_DB=0         skip the database cases (d), (e) and (f)
#   BENCH_STRICT=1     exit 1 when the target is missed
#   NGINX              the nginx binary (default: from PATH or /usr/sbin)
#   KEEL_<SECTION>_<KEY>  other keel.conf keys for keeld and keeld-test, e.g.
#                      KEEL_SERVER_MAX_REQUESTS=0 (workers, threads and
#                      access_log are set here)
#   BENCH_KEEP=1       keep the temporary directory (wrk output, logs)

set -euo pipefail

srcdir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
builddir=$(cd "${1:-$PWD}" && pwd)
# shellcheck source=../tests/harness/lib.sh
. "$srcdir/tests/harness/lib.sh"
keel_lift_rate_limits

duration=${BENCH_DURATION:-10}
conns=${BENCH_CONNECTIONS:-64}
wthreads=${BENCH_THREADS:-2}
ncpu=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN || echo 2)
workers=${BENCH_WORKERS:-$ncpu}
keepalive=${BENCH_KEEPALIVE:-8}
with_db=${BENCH_DB:-1}
target_pct=70
target_db_pct=90
nitems=10000

die() {
    echo "bench: $*" >&2
    exit 1
}

for v in duration conns wthreads workers keepalive; do
    case ${!v} in
    '' | *[!0-9]*) die "$v must be a positive integer, got '${!v}'" ;;
    esac
    [ "${!v}" -gt 0 ] || die "$v must be a positive integer"
done

# ---- prerequisites --------------------------------------------------------
keeld=$builddir/keeld
[ -x "$keeld" ] || die "no keeld in $builddir (run from the build directory, or pass it)"
nginx_bin=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
[ -x "$nginx_bin" ] || die "nginx not found (apt-get install nginx)"
# lib.sh reads $NGINX, but it must never be in nginx's environment: nginx
# takes an exported NGINX for a list of inherited listening sockets (its
# binary-upgrade mechanism) and then fails to bind.
NGINX=$nginx_bin
export -n NGINX
command -v curl >/dev/null || die "curl not found (apt-get install curl)"
command -v ss >/dev/null || die "ss not found (apt-get install iproute2)"

if ! command -v wrk >/dev/null; then
    echo "bench: wrk is missing; installing the Debian package 'wrk'" >&2
    if [ "$(id -u)" = 0 ]; then
        apt-get install -y wrk >&2 || { apt-get update >&2 && apt-get install -y wrk >&2; }
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        sudo -n apt-get install -y wrk >&2 ||
            { sudo -n apt-get update >&2 && sudo -n apt-get install -y wrk >&2; }
    else
        die "wrk not found; install it: sudo apt-get install wrk"
    fi
    command -v wrk >/dev/null || die "wrk still not found"
fi

if [ -n "${BENCH_HELLO:-}" ]; then
    hello=$BENCH_HELLO
else
    make -C "$builddir" bench/hello-fcgi >&2 || die "make bench/hello-fcgi failed"
    hello=$builddir/bench/hello-fcgi
fi
[ -x "$hello" ] || die "no hello-fcgi binary at $hello"

if [ "$with_db" = 1 ]; then
    pg_bin=$(keel_pg_bin) ||
        die "PostgreSQL not found (apt-get install postgresql), or set BENCH_DB=0"
    [ -x "$pg_bin/pgbench" ] || die "no pgbench in $pg_bin"
    if [ -n "${BENCH_HELLO_PQ:-}" ]; then
        hello_pq=$BENCH_HELLO_PQ
    else
        make -C "$builddir" bench/hello-pq >&2 || die "make bench/hello-pq failed"
        hello_pq=$builddir/bench/hello-pq
    fi
    [ -x "$hello_pq" ] || die "no hello-pq binary at $hello_pq"
    make -C "$builddir" tests/integration/keeld-test >&2 ||
        die "make tests/integration/keeld-test failed"
    keeld_test=$builddir/tests/integration/keeld-test
    [ -x "$keeld_test" ] || die "no keeld-test at $keeld_test"
fi

# ---- private directory, cleanup by pid -----------------------------------
tmp=$(mktemp -d /tmp/keel-bench.XXXXXX)
chmod 0755 "$tmp"
mkdir -p "$tmp/log"
sampler_pid=""

cleanup() {
    local rc=$?
    set +e
    if [ -n "$sampler_pid" ]; then
        kill "$sampler_pid" 2>/dev/null
        wait "$sampler_pid" 2>/dev/null
    fi
    # nginx first: it holds the FastCGI connections to the others.
    keel_stop_pidfile "$tmp/nginx.pid" 10
    keel_stop_pidfile "$tmp/keeld.master.pid" 35
    keel_stop_pidfile "$tmp/hello.pid" 10
    # The database clients before the database.
    keel_stop_pidfile "$tmp/kt/keeld.master.pid" 35
    keel_stop_pidfile "$tmp/hello-pq.pid" 10
    keel_pg_stop "$tmp/db"
    if [ -n "${BENCH_KEEP:-}" ]; then
        echo "bench: kept $tmp" >&2
    else
        case $tmp in /tmp/keel-bench.*) rm -rf -- "$tmp" ;; esac
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

keel_sock=$tmp/keel.sock
hello_sock=$tmp/hello.sock
kt_sock=$tmp/kt/keel.sock
pq_sock=$tmp/hello-pq.sock

# ---- keeld: workers = CPUs, 1 thread, access log on (to a file) ----------
# keel_write_config already sets workers; KEEL_* in the environment win.
keel_write_config "$tmp" "$keel_sock"
# Otherwise keel.conf defaults (max_requests 10000: workers are recycled
# during the run, as in production).
KEEL_SERVER_WORKERS=$workers KEEL_SERVER_THREADS=1 KEEL_LOG_ACCESS_LOG=on \
    keel_start_keeld "$keeld" "$tmp" || die "keeld did not start"

# ---- hello-fcgi: same number of processes, no lingering close ------------
LIBFCGI_OS_CLOSE_POLL_TIMEOUT=0 "$hello" "$hello_sock" "$workers" \
    >>"$tmp/log/hello.stderr" 2>&1 &
echo $! >"$tmp/hello.pid"
KEEL_WAIT=10 keel_wait_for test -S "$hello_sock" ||
    die "hello-fcgi did not create $hello_sock: $(cat "$tmp/log/hello.stderr")"
chmod 0666 "$hello_sock"

# ---- the 1-row read: PostgreSQL, keeld-test, hello-pq ---------------------
# The cluster lives in $tmp/db (not $tmp): keeld above must stay without a
# [database] section, or its /health would ping PostgreSQL.
pg_dir=$tmp/db
# with_pg CMD...: run CMD with the cluster's PG* variables (user keel).
pg_env=()
with_pg() {
    env "${pg_env[@]}" "$@"
}
if [ "$with_db" = 1 ]; then
    mkdir -p "$pg_dir/log" "$tmp/kt/log"
    keel_pg_start "$pg_dir" fast || die "PostgreSQL did not start"
    mapfile -t pg_env <"$pg_dir/pg.env"
    with_pg "$pg_bin/psql" -X -q -v ON_ERROR_STOP=1 \
        >"$tmp/log/psql.log" 2>&1 <<SQL || die "filling bench_items failed: $(cat "$tmp/log/psql.log")"
CREATE TABLE bench_items (
    id integer PRIMARY KEY,
    name text NOT NULL,
    price_cents integer NOT NULL
);
INSERT INTO bench_items
    SELECT i, 'item ' || i, 100 + (i * 7919) % 99900
    FROM generate_series(1, $nitems) AS i;
VACUUM ANALYZE bench_items;
CREATE DATABASE bench_pgbench;
SQL
    # pgbench's own tables, in their own database (scale 1: 100 000 rows).
    with_pg timeout 120 "$pg_bin/pgbench" -i -s 1 -q bench_pgbench \
        >"$tmp/log/pgbench-init.log" 2>&1 ||
        die "pgbench -i failed: $(cat "$tmp/log/pgbench-init.log")"

    # keeld-test: keeld plus the test routes, configured like keeld above
    # but with [database] (keel_write_config reads kt/pg.env).
    cp "$pg_dir/pg.env" "$tmp/kt/pg.env"
    keel_write_config "$tmp/kt" "$kt_sock" "" "$srcdir"
    KEEL_SERVER_WORKERS=$workers KEEL_SERVER_THREADS=1 KEEL_LOG_ACCESS_LOG=on \
        keel_start_keeld "$keeld_test" "$tmp/kt" || die "keeld-test did not start"

    # hello-pq: PG* from pg.env, same number of processes, no lingering close.
    # A simple command, not a function or subshell: $! is hello-pq's pid.
    env "${pg_env[@]}" LIBFCGI_OS_CLOSE_POLL_TIMEOUT=0 "$hello_pq" "$pq_sock" \
        "$workers" >>"$tmp/log/hello-pq.stderr" 2>&1 &
    echo $! >"$tmp/hello-pq.pid"
    KEEL_WAIT=10 keel_wait_for test -S "$pq_sock" ||
        die "hello-pq did not create $pq_sock: $(cat "$tmp/log/hello-pq.stderr")"
    chmod 0666 "$pq_sock"

    # wrk: GET <the URL's path><id>, id uniform in 1..$nitems, one seed per
    # thread.
    cat >"$tmp/ids.lua" <<LUA
-- Generated by bench/run.sh.
local n = 0
function setup(thread)
    n = n + 1
    thread:set("tid", n)
end
function init(args)
    math.randomseed(os.time() * 1000 + (tid or 0))
    prefix = wrk.path
end
function request()
    return wrk.format("GET", prefix .. math.random(1, $nitems))
end
LUA
fi

# ---- nginx: one server per FastCGI configuration ------------------------
# The recommended server includes the shipped conf/keel-fastcgi.conf as is
# (fastcgi_keep_conn off); the keepalive server includes a copy with only
# that line changed, so both pass exactly the same params.
sed 's/^fastcgi_keep_conn[[:space:]]*off;/fastcgi_keep_conn on;/' \
    "$srcdir/conf/keel-fastcgi.conf" >"$tmp/keel-fastcgi-keepalive.conf"
grep -q '^fastcgi_keep_conn on;' "$tmp/keel-fastcgi-keepalive.conf" ||
    die "conf/keel-fastcgi.conf no longer sets 'fastcgi_keep_conn off;'"

port=$(keel_free_port)
port_ka=$(keel_free_port)
[ "$port" != "$port_ka" ] || port_ka=$(keel_free_port)
nginx_user=""
[ "$(id -u)" = 0 ] && nginx_user="user root root;"
mkdir -p "$tmp/nginx-tmp"
cat >"$tmp/nginx.conf" <<CONF
# Generated by bench/run.sh (shape of keel_nginx_conf in tests/harness/lib.sh).
$nginx_user
worker_processes $workers;
daemon off;
pid $tmp/nginx.pid;
error_log $tmp/log/nginx-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    server_tokens off;
    default_type text/plain;
    client_body_temp_path $tmp/nginx-tmp/body;
    fastcgi_temp_path $tmp/nginx-tmp/fastcgi;
    proxy_temp_path $tmp/nginx-tmp/proxy;
    uwsgi_temp_path $tmp/nginx-tmp/uwsgi;
    scgi_temp_path $tmp/nginx-tmp/scgi;
    client_max_body_size 8m;
    large_client_header_buffers 4 16k;

    # Recommended: a new FastCGI connection per request.
    server {
        listen 127.0.0.1:$port;
        include $srcdir/conf/keel-errors.conf;
        # (a) the ceiling for anything behind nginx.
        location = /__nginx_static { return 200 "ok\n"; }
        # (b) the FastCGI floor.
        location = /__hello {
            include $srcdir/conf/keel-fastcgi.conf;
            fastcgi_pass unix:$hello_sock;
        }
        # (c) keeld.
        location / {
            include $srcdir/conf/keel-fastcgi.conf;
            fastcgi_pass unix:$keel_sock;
        }
        # (d) keeld-test: the 1-row read through keel.
        location /test/ {
            include $srcdir/conf/keel-fastcgi.conf;
            fastcgi_pass unix:$kt_sock;
        }
        # (e) hello-pq: the floor of a 1-query endpoint.
        location /__pq/ {
            include $srcdir/conf/keel-fastcgi.conf;
            fastcgi_pass unix:$pq_sock;
        }
    }

    # NOT recommended: FastCGI keepalive.  Each idle kept connection pins a
    # libfcgi accept loop (notes/performance.md, item 3).
    upstream hello_keepalive {
        server unix:$hello_sock;
        keepalive $keepalive;
    }
    upstream keel_keepalive {
        server unix:$keel_sock;
        keepalive $keepalive;
    }
    server {
        listen 127.0.0.1:$port_ka;
        include $srcdir/conf/keel-errors.conf;
        location = /__hello {
            include $tmp/keel-fastcgi-keepalive.conf;
            fastcgi_pass hello_keepalive;
        }
        location / {
            include $tmp/keel-fastcgi-keepalive.conf;
            fastcgi_pass keel_keepalive;
        }
    }
}
CONF
keel_start_nginx "$tmp" || die "nginx did not start"

base=http://127.0.0.1:$port
base_ka=http://127.0.0.1:$port_ka
# Only the recommended server now: a single request through a keepalive
# upstream already leaves a worker pinned to nginx's idle connection (for
# nginx's upstream keepalive_timeout, 60 s), which would halve the
# recommended runs.  The keepalive URLs are checked just before their runs.
check_ok() {
    KEEL_WAIT=10 keel_wait_for keel_http_ok "$1" || die "no 200 from $1"
}
for url in "$base/__nginx_static" "$base/__hello" "$base/health"; do
    check_ok "$url"
done
if [ "$with_db" = 1 ]; then
    check_ok "$base/test/bench-items/1"
    check_ok "$base/__pq/1"
    # Same ids, same rows, the same body from both (up to key order).
    for id in 1 4242 $nitems; do
        a=$(curl -fsS --max-time 2 "$base/test/bench-items/$id") ||
            die "GET /test/bench-items/$id failed"
        b=$(curl -fsS --max-time 2 "$base/__pq/$id") || die "GET /__pq/$id failed"
        [ "$a" = "$b" ] || die "id $id: keeld-test says $a, hello-pq $b"
    done
    echo "bench: GET /test/bench-items/$nitems: $a" >&2
    for url in "$base/test/bench-items/$((nitems + 1))" \
        "$base/test/bench-items/0" "$base/__pq/$((nitems + 1))"; do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url")
        [ "$code" = 404 ] || die "$url: $code, not 404"
    done
fi

# ---- measuring ------------------------------------------------------------
# to_ms VALUE: wrk's time with unit (us, ms, s, m, h) in milliseconds.
to_ms() {
    awk -v v="$1" 'BEGIN {
        n = v + 0; u = v; sub(/^[0-9.]+/, "", u); f = -1
        if (u == "us") f = 0.001; else if (u == "ms") f = 1
        else if (u == "s") f = 1000; else if (u == "m") f = 60000
        else if (u == "h") f = 3600000
        if (f < 0 || v == "") print "n/a"; else printf "%.2f\n", n * f
    }'
}

# parse_wrk FILE: "rps p99_ms non2xx socket_errors timeouts", "n/a" if absent.
parse_wrk() {
    local rps p99 non2xx errs tmo
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$1")
    p99=$(awk '/^[[:space:]]*99(\.0+)?%[[:space:]]/ {print $2; exit}' "$1")
    non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$1")
    errs=$(awk '/Socket errors:/ {
        gsub(/,/, ""); print $4 + $6 + $8 + $10 }' "$1")
    tmo=$(awk '/Socket errors:/ {print $NF}' "$1")
    echo "${rps:-n/a} $( [ -n "$p99" ] && to_ms "$p99" || echo n/a)" \
        "${non2xx:-0} ${errs:-0} ${tmo:-0}"
}

# sample_queue OUT SOCKET...: every 100 ms, the accept queue (Recv-Q) of
# the listening unix sockets, as "path recvq" lines, until killed.
sample_queue() {
    local out=$1
    shift
    while :; do
        ss -lxn 2>/dev/null | awk -v list="$*" '
            BEGIN { n = split(list, s, " "); for (i = 1; i <= n; i++) want[s[i]] = 1 }
            ($5 in want) { print $5, $3 }'
        sleep 0.1
    done >"$out"
}

max_queue() { # FILE SOCKET
    awk -v s="$2" '$1 == s && $2 > m { m = $2 } END { print m + 0 }' "$1"
}

# show_queue SOCKET...: `ss -lx` lines of the sockets (Recv-Q = waiting).
show_queue() {
    local s
    printf '    %-8s %-8s %s\n' Recv-Q Send-Q socket
    for s in "$@"; do
        ss -lxn 2>/dev/null | awk -v s="$s" '$5 == s {
            printf "    %-8s %-8s %s\n", $3, $4, $5 }'
    done
}

# probe URL: 8 parallel new requests with a 3 s limit; prints how many
# did not complete (requests stuck behind pinned workers).
probe() {
    local i pids=() stuck=0
    for i in 1 2 3 4 5 6 7 8; do
        curl -s -o /dev/null --max-time 3 "$1" &
        pids+=($!)
    done
    for i in "${pids[@]}"; do
        wait "$i" || stuck=$((stuck + 1))
    done
    echo "$stuck"
}

declare -A RPS P99 NON2XX ERRS TMO QMAX QAFTER
names=()

# run NAME URL [SOCKET [SCRIPT]]: one wrk run; with SOCKET, sample its
# accept queue; with SCRIPT, wrk runs that Lua script (-s).
run() {
    local name=$1 url=$2 sock=${3:-} script=${4:-} out=$tmp/wrk-$1.txt
    local extra=()
    [ -n "$script" ] && extra=(-s "$script")
    names+=("$name")
    echo "bench: $name: wrk -t$wthreads -c$conns -d${duration}s --latency" \
        "${script:+-s $script }$url" >&2
    if [ -n "$sock" ]; then
        sample_queue "$tmp/queue-$name.txt" "$sock" &
        sampler_pid=$!
    fi
    timeout $((duration + 30)) wrk -t"$wthreads" -c"$conns" -d"${duration}s" \
        --latency ${extra[@]+"${extra[@]}"} "$url" >"$out" 2>&1 ||
        echo "bench: wrk exited with $?" >&2
    if [ -n "$sampler_pid" ]; then
        kill "$sampler_pid" 2>/dev/null || true
        wait "$sampler_pid" 2>/dev/null || true
        sampler_pid=""
        QMAX[$name]=$(max_queue "$tmp/queue-$name.txt" "$sock")
        # wrk has closed its connections: anything still queued is stuck.
        sleep 0.5
        QAFTER[$name]=$(ss -lxn 2>/dev/null | awk -v s="$sock" '$5 == s {print $3}')
    else
        QMAX[$name]="-"
        QAFTER[$name]="-"
    fi
    read -r "RPS[$name]" "P99[$name]" "NON2XX[$name]" "ERRS[$name]" \
        "TMO[$name]" < <(parse_wrk "$out")
    if [ "${RPS[$name]}" = n/a ]; then
        echo "bench: $name: no result from wrk:" >&2
        sed 's/^/    /' "$out" >&2
    fi
    sleep 1 # let TIME_WAIT and queues settle between runs
}

# run_pgbench NAME: pgbench -S -M prepared -c8 against the private cluster,
# 10 % of the transactions logged for the p99.
pgbench_clients=8
run_pgbench() {
    local name=$1 out=$tmp/pgbench-$1.txt f
    names+=("$name")
    # -j2: one pgbench thread would be the bottleneck on two cores.
    echo "bench: $name: pgbench -S -M prepared -c$pgbench_clients -j2 -T$duration" >&2
    rm -f "$tmp/pgbench-log".*
    with_pg timeout $((duration + 30)) "$pg_bin/pgbench" -n -S -M prepared \
        -c"$pgbench_clients" -j2 -T"$duration" -l --sampling-rate=0.1 \
        --log-prefix="$tmp/pgbench-log" bench_pgbench >"$out" 2>&1 || echo "bench: pgbench exited with $?" >&2
    RPS[$name]=$(awk '/^tps = / { printf "%.2f\n", $3; exit }' "$out")
    # Per-transaction log: client, transaction, latency in us, ...
    P99[$name]=$(cat "$tmp/pgbench-log".* 2>/dev/null | awk '{ print $3 }' |
        sort -n | awk '{ v[NR] = $1 } END {
            if (NR == 0) { print "n/a"; exit }
            i = int(NR * 0.99 + 0.999); if (i < 1) i = 1; if (i > NR) i = NR
            printf "%.2f\n", v[i] / 1000 }')
    f=$(awk '/^number of failed transactions:/ { print $5; exit }' "$out")
    NON2XX[$name]="-"
    ERRS[$name]=${f:-0}
    TMO[$name]="-"
    QMAX[$name]="-"
    QAFTER[$name]="-"
    if [ -z "${RPS[$name]}" ]; then
        RPS[$name]=n/a
        echo "bench: $name: no result from pgbench:" >&2
        sed 's/^/    /' "$out" >&2
    fi
    sleep 1
}

echo "keel benchmark: $(date -u +%Y-%m-%dT%H:%MZ), $(uname -sr), $ncpu CPU(s)"
echo "keeld $("$keeld" --version | awk '{print $NF}'), $("$nginx_bin" -v 2>&1 | sed 's/.*: //'), $(wrk -v 2>&1 | head -1 | awk '{print $1, $2}')"
echo "$workers keeld worker(s) x 1 thread, access_log on; $workers hello-fcgi processes;" \
    "$workers nginx workers; wrk -t$wthreads -c$conns -d${duration}s on the same CPUs"
if [ "$with_db" = 1 ]; then
    echo "1-row read: PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}')" \
        "(fsync off, unix socket), bench_items $nitems rows, random ids;" \
        "keeld-test $workers x 1 like keeld; $workers hello-pq processes"
fi
echo

run nginx "$base/__nginx_static"
run hello "$base/__hello" "$hello_sock"
run health "$base/health" "$keel_sock"
if [ "$with_db" = 1 ]; then
    run item "$base/test/bench-items/" "$kt_sock" "$tmp/ids.lua"
    run pq "$base/__pq/" "$pq_sock" "$tmp/ids.lua"
    run_pgbench pgbench
fi

echo "bench: keepalive runs: the configuration NOT recommended" >&2
check_ok "$base_ka/__hello"
run hello_ka "$base_ka/__hello" "$hello_sock"
echo "after hello-fcgi with keepalive (ss -lx; Recv-Q = connections waiting for accept):"
show_queue "$hello_sock"
stuck_hello=$(probe "$base_ka/__hello")
echo "    new requests after the run: $stuck_hello of 8 did not complete within 3 s"
check_ok "$base_ka/health"
run health_ka "$base_ka/health" "$keel_sock"
echo "after keeld with keepalive (ss -lx; Recv-Q = connections waiting for accept):"
show_queue "$keel_sock"
stuck_health=$(probe "$base_ka/health")
echo "    new requests after the run: $stuck_health of 8 did not complete within 3 s"
echo

# ---- report ---------------------------------------------------------------
label() {
    case $1 in
    nginx) echo "(a) nginx return 200 (ceiling)" ;;
    hello) echo "(b) bare fcgi2 hello-fcgi" ;;
    health) echo "(c) GET /health via keeld" ;;
    item) echo "(d) 1-row read via keeld(-test)" ;;
    pq) echo "(e) bare fcgi2 + libpq hello-pq" ;;
    pgbench) echo "(f) pgbench -S -M prepared -c$pgbench_clients -j2" ;;
    hello_ka) echo "(b) hello-fcgi, keepalive [NOT rec.]" ;;
    health_ka) echo "(c) /health, keepalive [NOT rec.]" ;;
    esac
}

line=$(printf '%.0s-' {1..102})
printf '%-37s %10s %8s %7s %11s %7s %7s\n' configuration "requests/s" \
    "p99 ms" non-2xx "sock errors" "queue" "queue"
printf '%-37s %10s %8s %7s %11s %7s %7s\n' "" "" "" "" "(timeouts)" "max" "after"
echo "$line"
for n in "${names[@]}"; do
    printf '%-37s %10s %8s %7s %11s %7s %7s\n' "$(label "$n")" "${RPS[$n]}" \
        "${P99[$n]}" "${NON2XX[$n]}" "${ERRS[$n]} (${TMO[$n]})" \
        "${QMAX[$n]}" "${QAFTER[$n]:-?}"
done
echo "$line"
echo "sock errors: wrk's connect+read+write+timeout errors (timeouts: no answer"
echo "within 2 s).  queue: accept queue (Recv-Q) of the FastCGI socket, the"
echo "largest seen during the run and 0.5 s after it.  During a run the queue"
echo "holds requests waiting for a free worker; after it, anything left is"
echo "stuck behind workers pinned by kept connections.  wrk counts only"
echo "requests that complete, so stuck ones show up only here."
if [ "$with_db" = 1 ]; then
    echo "(f) is transactions/s; its p99 is from a 10 % sample of pgbench's"
    echo "per-transaction log, its errors are failed transactions."
fi
echo

# ratio A B: A / B as a percentage, or n/a.
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN {
        if (a + 0 > 0 && b + 0 > 0) printf "%.1f %%\n", 100 * a / b; else print "n/a" }'
}
echo "ratios (recommended configuration):"
printf '  %-28s %s\n' "/health / hello-fcgi" "$(ratio "${RPS[health]}" "${RPS[hello]}")"
printf '  %-28s %s\n' "/health / nginx return" "$(ratio "${RPS[health]}" "${RPS[nginx]}")"
printf '  %-28s %s\n' "hello-fcgi / nginx return" "$(ratio "${RPS[hello]}" "${RPS[nginx]}")"
if [ "$with_db" = 1 ]; then
    printf '  %-28s %s\n' "keeld 1-row read / hello-pq" "$(ratio "${RPS[item]}" "${RPS[pq]}")"
    printf '  %-28s %s\n' "keeld 1-row read / pgbench" "$(ratio "${RPS[item]}" "${RPS[pgbench]}")"
    printf '  %-28s %s\n' "hello-pq / pgbench" "$(ratio "${RPS[pq]}" "${RPS[pgbench]}")"
    printf '  %-28s %s\n' "keeld 1-row read / /health" "$(ratio "${RPS[item]}" "${RPS[health]}")"
fi
echo "with keepalive (NOT recommended; erratic, since it depends on which"
echo "workers nginx's idle connections happen to pin):"
printf '  %-28s %s\n' "hello-fcgi keepalive / no" "$(ratio "${RPS[hello_ka]}" "${RPS[hello]}")"
printf '  %-28s %s\n' "/health keepalive / no" "$(ratio "${RPS[health_ka]}" "${RPS[health]}")"
echo

verdict=FAIL
if awk -v a="${RPS[health]}" -v b="${RPS[hello]}" -v t="$target_pct" \
    'BEGIN { exit !(a + 0 > 0 && b + 0 > 0 && 100 * a / b >= t) }' &&
    [ "${NON2XX[health]}" = 0 ] && [ "${ERRS[health]}" = 0 ]; then
    verdict=PASS
fi
echo "target: /health >= ${target_pct} % of hello-fcgi requests/s, recommended" \
    "configuration (no FastCGI keepalive), without errors: $verdict"
verdict_db=PASS
if [ "$with_db" = 1 ]; then
    verdict_db=FAIL
    if awk -v a="${RPS[item]}" -v b="${RPS[pq]}" -v t="$target_db_pct" \
        'BEGIN { exit !(a + 0 > 0 && b + 0 > 0 && 100 * a / b >= t) }' &&
        [ "${NON2XX[item]}" = 0 ] && [ "${ERRS[item]}" = 0 ]; then
        verdict_db=PASS
    fi
    echo "target: keeld 1-row read >= ${target_db_pct} % of hello-pq requests/s," \
        "same ids, recommended configuration, without errors: $verdict_db"
fi
if { [ "$verdict" = FAIL ] || [ "$verdict_db" = FAIL ]; } &&
    [ "${BENCH_STRICT:-0}" = 1 ]; then
    exit 1
fi
exit 0
