#!/usr/bin/env bash
# metrics.sh - GET /metrics (API.md 2) and what the logs tell (issue #10)
# through a keeld-test of its own with 4 workers behind its own nginx, on
# run.sh's database: promtool accepts the exposition; counters match the
# requests this suite sent, summed over every worker, and survive a
# worker's death; histograms, gauges, rate-limit refusals, database errors
# and jobs are counted; /metrics answers only the allowed addresses; the
# access log carries trace and span ids (a new trace when the caller sent
# none) and the user; Server-Timing splits a request's time; slow queries
# are logged with their request id and never their parameters.
# Run by run.sh with its environment; prints "N passed, N failed".
set -u
. "$KEEL_TEST_SRCDIR/tests/harness/lib.sh"
top=$KEEL_TEST_DIR
md="$top/metrics"
mkdir -p "$md/log"
chmod 755 "$md"
stop_here() {
    keel_stop_pidfile "$md/sink.pid" 5
    keel_stop_pidfile "$md/nginx.pid" 10
    keel_stop_pidfile "$md/keeld.master.pid" 20
}
trap stop_here EXIT
set -a
. "$top/pg.env"
set +a
pgbin=$(keel_pg_bin)
cp "$top/pg.env" "$md/pg.env"
keel_write_config "$md" "$md/keel.sock" "" "$KEEL_TEST_SRCDIR"
sed -i "s/^workers = 2$/workers = 4/" "$md/keel.conf"
# A database of its own: no other keeld's job workers take its jobs.
"$pgbin/createdb" keel_metrics || exit 1
sed -i "s|dbname=keel |dbname=keel_metrics |" "$md/keel.conf"
"$KEEL_TEST_KEELCTL" -c "$md/keel.conf" migrate up >"$md/log/migrate.log" 2>&1 || {
    cat "$md/log/migrate.log" >&2
    exit 1
}
start() { # start [VAR=VALUE...]: this suite's keeld, with more settings
    (
        export KEEL_HTTP_TRUSTED_PROXIES=127.0.0.1 KEEL_RATELIMIT_AUTH=2/1m
        export KEEL_HTTP_SERVER_TIMING=on KEEL_LOG_SLOW_QUERY=0.001ms
        for kv in "$@"; do export "${kv?}"; done
        keel_start_keeld "$KEEL_TEST_KEELD" "$md"
    )
}
restart() {
    keel_stop_pidfile "$md/keeld.master.pid" 20
    start "$@" || return 1
    keel_wait_for keel_http_ok "$url/health"
}
start || exit 1
keel_front "$md" metrics.sh || exit 1
promtool=$(command -v promtool || echo /usr/bin/promtool)

scrape() { curl -s -D "$md/m.h" -o "$md/m.txt" "$@" "$url/metrics"; }
value() { # value 'SERIES': its value in the last scrape, "" when absent
    awk -v s="$1" '$1 == s { print $2 }' "$md/m.txt"
}
hdr() { # hdr FILE NAME
    tr -d '\r' <"$1" | awk -v h="$(echo "$2" | tr 'A-Z' 'a-z')" \
        -F': ' 'tolower($1) == h { print $2 }' | tail -n 1
}
code() { head -n 1 "$1" | awk '{print $2}'; }

# ---- counts over 4 workers -------------------------------------------------
pids=()
for i in $(seq 1 4); do
    (for j in $(seq 1 10); do
        curl -s -o /dev/null "$url/v1/products?limit=1"
    done) &
    pids+=($!)
done
for i in 1 2 3 4 5; do curl -s -o /dev/null "$url/v1/no-such-thing"; done
wait "${pids[@]}"
workers=$(grep '"path":"/v1/products"' "$md/log/keeld.log" | sed -n 's/.*"pid":\([0-9]*\).*/\1/p' | sort -u | wc -l)
scrape
keel_check "GET /metrics is 200 text/plain version 0.0.4" \
    bash -c "test '$(code "$md/m.h")' = 200 && grep -qi '^content-type: text/plain; version=0.0.4; charset=utf-8' '$md/m.h'"
keel_check "promtool check metrics accepts it" "$promtool" check metrics <"$md/m.txt"
keel_check "40 product reads over $workers workers: counted 40" \
    test "$(value 'keel_http_requests_total{method="GET",route="/v1/products",status="200"}')" = 40
keel_check "the answers were spread over more than one worker" test "$workers" -ge 2
keel_check "5 unknown paths: route \"none\", 404, 5" \
    test "$(value 'keel_http_requests_total{method="GET",route="none",status="404"}')" = 5
keel_check "the duration histogram counts the same 40" \
    test "$(value 'keel_http_request_duration_seconds_count{route="/v1/products"}')" = 40
keel_check "its +Inf bucket is its count" \
    test "$(value 'keel_http_request_duration_seconds_bucket{route="/v1/products",le="+Inf"}')" = 40
keel_check "buckets never decrease" bash -c "grep '^keel_http_request_duration_seconds_bucket{route=\"/v1/products\"' '$md/m.txt' | awk '{ if (\$2 < last) exit 1; last = \$2 }'"
keel_check "no raw path is a label" bash -c "! grep -q 'no-such-thing' '$md/m.txt'"
keel_check "the scrape itself is in flight" test "$(value keel_http_requests_in_flight)" -ge 1
keel_check "resident memory of each of the 4 request workers" \
    test "$(grep -c '^keel_process_resident_memory_bytes{worker="[0-9]*",kind="request"} [1-9]' "$md/m.txt")" = 4
keel_check "pool connections by state, max = 4 workers x 1" \
    test "$(value 'keel_db_pool_connections{state="max"}')" = 4
keel_check "queue depth by status from the database" \
    test -n "$(value 'keel_jobs_queue_depth{status="dead"}')"
version=$(curl -s "$url/health" | sed -n 's/.*"version":"\([^"]*\)".*/\1/p')
keel_check "keel_build_info carries the version /health reports ($version)" \
    test "$(value "keel_build_info{version=\"$version\"}")" = 1

# ---- refusals, database errors, jobs -------------------------------------------
email="metrics-$$-$RANDOM@example.org"
reg() {
    curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
        -d "{\"email\":\"$email\",\"password\":\"correct horse battery\",\"name\":\"M\"}" \
        "$url/v1/auth/register"
}
first=$(reg)
again=$(reg)
third=$(reg)
scrape
keel_check "register, the same email again, then the auth limit: 201 409 429 ($first $again $third)" \
    test "$first $again $third" = "201 409 429"
keel_check "the 429 is counted for class auth" \
    test "$(value 'keel_ratelimit_rejected_total{class="auth"}')" = 1
keel_check "the unique violation is a class-23 database error" \
    test "$(value 'keel_db_errors_total{sqlstate_class="23"}')" -ge 1
# An email job whose payload cannot work is dead at its first run.
"$pgbin/psql" -d keel_metrics -Atq -c "INSERT INTO jobs (type, payload, max_attempts) VALUES ('email.send', '{\"to\": 1}', 3); SELECT pg_notify('keel_jobs', '')" >/dev/null
keel_wait_for bash -c "curl -s '$url/metrics' | grep -q '^keel_jobs_total{type=\"email.send\",result=\"dead\"} 1\$'"
keel_check "a job that ran is counted by type and result" \
    bash -c "curl -s '$url/metrics' | grep -q '^keel_jobs_total{type=\"email.send\",result=\"dead\"} 1\$'"

# ---- counters outlive a worker -------------------------------------------------
master=$(cat "$md/keeld.master.pid")
victim=$(grep '"path":"/v1/products"' "$md/log/keeld.log" | sed -n 's/.*"pid":\([0-9]*\).*/\1/p' | head -n 1)
kill -KILL "$victim"
keel_wait_for bash -c "curl -s '$url/metrics' | grep -q '^keel_worker_restarts_total{reason=\"crashed\"} 1'"
scrape
keel_check "a worker killed with SIGKILL is a restart for reason crashed" \
    test "$(value 'keel_worker_restarts_total{reason="crashed"}')" = 1
keel_check "and its requests are still counted (40)" \
    test "$(value 'keel_http_requests_total{method="GET",route="/v1/products",status="200"}')" = 40
# Its replacement may still be starting: once it is, 4 series again,
# and none for the dead worker (a 5th).
four_series() {
    scrape
    test "$(grep -c '^keel_process_resident_memory_bytes{worker="[0-9]*",kind="request"}' "$md/m.txt")" = 4
}
keel_wait_for four_series
keel_check "and it has no memory series any more" \
    bash -c "test \$(grep -c '^keel_process_resident_memory_bytes{worker=\"[0-9]*\",kind=\"request\"}' '$md/m.txt') = 4"

# ---- who may scrape ---------------------------------------------------------------
scrape -H 'X-Forwarded-For: 203.0.113.9'
keel_check "from an address outside [metrics] allow: 404 NOT_FOUND" \
    bash -c "test '$(code "$md/m.h")' = 404 && grep -q '\"code\":\"NOT_FOUND\"' '$md/m.txt'"

# ---- logs -----------------------------------------------------------------------------
tp=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
curl -s -o /dev/null -H "traceparent: $tp" -H 'X-Request-Id: metrics-trace-1' "$url/v1/products?limit=1"
curl -s -o /dev/null -H 'X-Request-Id: metrics-trace-2' "$url/v1/products?limit=1"
# A second account (the first one's email is out of auth requests).
email2="metrics2-$$-$RANDOM@example.org"
curl -s -o /dev/null -H 'Content-Type: application/json' -H 'X-Forwarded-For: 198.51.100.8' \
    -d "{\"email\":\"$email2\",\"password\":\"correct horse battery\",\"name\":\"M\"}" \
    "$url/v1/auth/register"
login=$(curl -s -H 'Content-Type: application/json' -H 'X-Forwarded-For: 198.51.100.7' \
    -d "{\"email\":\"$email2\",\"password\":\"correct horse battery\"}" "$url/v1/auth/login")
token=$(echo "$login" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
me=$(curl -s -D "$md/me.h" -H "Authorization: Bearer $token" -H 'X-Request-Id: metrics-me-1' "$url/v1/auth/me")
uid=$(echo "$me" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p' | head -n 1)
sleep 0.3
for rid in metrics-trace-1 metrics-trace-2 metrics-me-1; do
    grep "\"msg\":\"access\".*\"request_id\":\"$rid\"" "$md/log/keeld.log" |
        tail -n 1 >"$md/$rid.line"
done
keel_check "the caller's trace id is kept in the access log" \
    grep -q '"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"[0-9a-f]\{16\}","parent_id":"00f067aa0ba902b7"' "$md/metrics-trace-1.line"
keel_check "without traceparent, a new trace id and a span id" \
    grep -q '"trace_id":"[0-9a-f]\{32\}","span_id":"[0-9a-f]\{16\}","user_id"' "$md/metrics-trace-2.line"
keel_check "an authenticated request logs its user id ($uid)" \
    grep -q "\"user_id\":\"$uid\"" "$md/metrics-me-1.line"
st=$(hdr "$md/me.h" Server-Timing)
keel_check "Server-Timing splits auth, db and total ($st)" \
    bash -c "[[ '$st' =~ ^auth\;dur=[0-9.]+,\ db\;dur=[0-9.]+,\ total\;dur=[0-9.]+\$ ]]"
keel_check "a slow query is logged with its request id and first words" \
    grep -q '"msg":"slow query".*"request_id":"metrics-me-1","statement":"[A-Z]' "$md/log/keeld.log"
keel_check "no slow-query line holds a parameter value" \
    bash -c "! grep '\"msg\":\"slow query\"' '$md/log/keeld.log' | grep -q -e '$email2' -e '$uid'"

# ---- syslog -------------------------------------------------------------------------
start_sink() {
    rm -f "$md/syslog/port"
    mkdir -p "$md/syslog"
    "$KEEL_TEST_SINK" syslog "$md/syslog" >>"$md/log/sink.log" 2>&1 &
    echo $! >"$md/sink.pid"
    keel_wait_for test -s "$md/syslog/port"
}
start_sink
restart "KEEL_LOG_FILE=syslog:$md/syslog/log.sock"
curl -s -o /dev/null -H 'X-Request-Id: metrics-syslog-1' "$url/v1/products?limit=1"
keel_wait_for bash -c "grep -l 'metrics-syslog-1' '$md'/syslog/*.msg"
keel_check "[log] file = syslog:SOCKET: an access line as daemon.info (<30>)" \
    bash -c "grep -h '\"msg\":\"access\".*metrics-syslog-1' '$md'/syslog/*.msg | grep -q '^<30>[A-Z][a-z][a-z] [ 0-9][0-9] [0-9:]\{8\} keel\[[0-9]*\]: {'"
keel_check "a warning as daemon.warning (<28>): the slow-query line" \
    bash -c "grep -h '\"msg\":\"slow query\".*metrics-syslog-1' '$md'/syslog/*.msg | grep -q '^<28>'"
keel_check "nothing goes to the log file meanwhile" \
    bash -c "! grep -q metrics-syslog-1 '$md/log/keeld.log'"
# The daemon restarts (a new socket at the same path): lines follow it.
keel_stop_pidfile "$md/sink.pid" 5
rm -rf "$md/syslog"
start_sink
curl -s -o /dev/null -H 'X-Request-Id: metrics-syslog-2' "$url/v1/products?limit=1"
keel_wait_for bash -c "grep -l 'metrics-syslog-2' '$md'/syslog/*.msg"
keel_check "after the syslog daemon restarts, lines reach the new socket" \
    bash -c "grep -q 'metrics-syslog-2' '$md'/syslog/*.msg"

# ---- off ---------------------------------------------------------------------------------
restart KEEL_METRICS_ENABLED=off KEEL_HTTP_SERVER_TIMING=off
scrape
keel_check "[metrics] enabled = off: 404" test "$(code "$md/m.h")" = 404
curl -s -D "$md/me2.h" -o /dev/null -H "Authorization: Bearer $token" "$url/v1/auth/me"
keel_check "Server-Timing only when enabled" test -z "$(hdr "$md/me2.h" Server-Timing)"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
