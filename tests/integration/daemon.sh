#!/usr/bin/env bash
# daemon.sh - daemon habits (issue #11): started as root, keeld binds
# its socket, maps its shared memory and becomes [server] user before any
# worker exists; it refuses root workers unless allow_root, a root or
# unknown user, and (not as root) a user it cannot become.  keelctl
# reload and stop find the master through [server] pid_file; requests
# past slow_request_threshold are logged where they are; crashes past
# emergency_restart_threshold replace every worker.  Its own
# keeld-test and nginx, on run.sh's database.  Run by run.sh with its
# environment; prints "N passed, N failed".
set -u
. "$KEEL_TEST_SRCDIR/tests/harness/lib.sh"
top=$KEEL_TEST_DIR
pd="$top/daemon"
mkdir -p "$pd/log"
chmod 755 "$pd"
stop_here() {
    keel_stop_pidfile "$pd/nginx.pid" 10
    keel_stop_pidfile "$pd/keeld.master.pid" 20
}
trap stop_here EXIT
cp "$top/pg.env" "$pd/pg.env"
keel_write_config "$pd" "$pd/keel.sock" "" "$KEEL_TEST_SRCDIR"
export KEEL_SERVER_PID_FILE="$pd/keeld.pid"
keelctl() { "$KEEL_TEST_KEELCTL" -c "$pd/keel.conf" "$@"; }
refused() { # refused WHY VAR=VALUE...: keeld exits 1 at once, saying WHY
    local rc
    : >"$pd/log/refused.log"
    (
        for kv in "${@:2}"; do export "${kv?}"; done
        KEEL_LOG_FILE="$pd/log/refused.log" timeout 20 \
            "$KEEL_TEST_KEELD" --foreground --config "$pd/keel.conf" \
            >>"$pd/log/keeld.stderr" 2>&1
    )
    rc=$?
    [ "$rc" = 1 ] && grep -q "$1" "$pd/log/refused.log"
}
uid_of() { ps -o uid= -p "$1" | tr -d ' '; }

if [ "$(id -u)" = 0 ]; then
    nobody=$(id -u nobody)
    keel_check "as root without a user: refused unless allow_root" \
        refused "set \[server\] user" KEEL_SERVER_ALLOW_ROOT=off
    keel_check "user = root: refused" \
        refused "is root: name an unprivileged account" KEEL_SERVER_USER=root
    keel_check "an unknown user: refused" \
        refused "no such user" KEEL_SERVER_USER=no-such-user-here
    keel_check "an unknown group: refused" \
        refused "no such group" KEEL_SERVER_USER=nobody \
        KEEL_SERVER_GROUP=no-such-group-here
    (
        export KEEL_SERVER_USER=nobody
        keel_start_keeld "$KEEL_TEST_KEELD" "$pd"
    ) || exit 1
    keel_front "$pd" daemon.sh || exit 1
    master=$(cat "$pd/keeld.master.pid")
    keel_wait_for bash -c "test \$(ps -o pid= --ppid $master | wc -l) -ge 2"
    workers=$(ps -o pid= --ppid "$master" | tr -d ' ')
    keel_check "the master runs as nobody" test "$(uid_of "$master")" = "$nobody"
    all_nobody=1
    for w in $workers; do
        [ "$(uid_of "$w")" = "$nobody" ] || all_nobody=0
    done
    keel_check "every worker runs as nobody ($(echo $workers | wc -w) of them)" \
        test "$all_nobody" = 1
    keel_check "and it serves through nginx" keel_http_ok "$url/health"
    keel_check "the log says whom it became" \
        grep -q '"msg":"running as nobody' "$pd/log/keeld.log"
    keel_check "/metrics still reads each worker's memory" \
        bash -c "curl -s '$url/metrics' | grep -q '^keel_process_resident_memory_bytes{worker=\"[0-9]*\",kind=\"request\"} [1-9]'"
    keel_check "keelctl reload finds the master through the pid file" \
        bash -c "'$KEEL_TEST_KEELCTL' -c '$pd/keel.conf' reload | grep -q reloading"
    keel_wait_for bash -c "grep -q 'configuration reloaded' '$pd/log/keeld.log'"
    keel_wait_for bash -c "test -z \"\$(ps -o pid= -p $(echo $workers | tr ' ' ',') 2>/dev/null)\""
    fresh=$(ps -o pid= --ppid "$master" | tr -d ' ' | head -n 1)
    keel_check "its new workers run as nobody too" \
        bash -c "test -n '$fresh' && test \"\$(ps -o uid= -p $fresh | tr -d ' ')\" = $nobody && ! echo '$workers' | grep -qx '$fresh'"
    keel_check "keelctl stop stops it and waits" \
        bash -c "\"$KEEL_TEST_KEELCTL\" -c '$pd/keel.conf' stop | grep -q stopped && ! kill -0 $master 2>/dev/null"
else
    keel_check "not root: a user keeld cannot become is refused" \
        refused "only root can switch" KEEL_SERVER_USER=nobody
fi
# ---- slow requests and emergency restarts ------------------------------------
# KEEL_TEST_TIME_SCALE (1 by default; the sanitizer step of dev.sh sets
# it) stretches the slow-request threshold and the slow request, so that
# no other request of this part passes it on a slower build.
scale=${KEEL_TEST_TIME_SCALE:-1}
(
    export KEEL_SERVER_SLOW_REQUEST_THRESHOLD=$((300 * scale))ms
    export KEEL_SERVER_EMERGENCY_RESTART_THRESHOLD=3
    export KEEL_SERVER_EMERGENCY_RESTART_INTERVAL=1m
    keel_start_keeld "$KEEL_TEST_KEELD" "$pd"
) || exit 1
[ -n "${url:-}" ] || keel_front "$pd" daemon.sh || exit 1
keel_wait_for keel_http_ok "$url/health"
curl -s -o /dev/null -H 'X-Request-Id: daemon-slow-1' "$url/test/sleep?ms=$((900 * scale))"
curl -s -o /dev/null -H 'X-Request-Id: daemon-fast-1' "$url/test/sleep?ms=10"
keel_check "a request past slow_request_threshold is logged once, in its phase" \
    bash -c "test \$(grep -c '\"msg\":\"slow request\".*\"request_id\":\"daemon-slow-1\".*\"path\":\"/test/sleep\",\"route\":\"/test/sleep\".*\"phase\":\"processing\"' '$pd/log/keeld.log') = 1"
keel_check "a quick one is not" bash -c "! grep -q 'slow request.*daemon-fast-1' '$pd/log/keeld.log'"
master=$(cat "$pd/keeld.master.pid")
keel_wait_for bash -c "test \$(ps -o pid= --ppid $master | wc -l) -ge 3"
before=$(ps -o pid= --ppid "$master" | tr -d ' ' | sort | tr '\n' ' ')
for i in 1 2 3; do
    curl -s -o /dev/null "$url/test/crash"
    sleep 0.3
done
keel_wait_for grep -q '"msg":"emergency restart: 3 workers crashed' "$pd/log/keeld.log"
keel_check "3 crashes within the interval: an emergency restart" \
    grep -q '"msg":"emergency restart: 3 workers crashed' "$pd/log/keeld.log"
replaced() {
    local p
    for p in $before; do
        kill -0 "$p" 2>/dev/null && return 1
    done
    return 0
}
keel_wait_for replaced
keel_check "every worker from before is replaced" replaced
keel_check "and it serves afterwards" keel_http_ok "$url/health"
# ---- keelctl status ---------------------------------------------------------------
# Once the replacements are all up and the old workers all gone (each of
# them still counts until the master has reaped it, and the emergency
# restart rolls one by one: "N of an older generation being replaced"
# until the last, also one started after the first crash), and one of
# them has answered (a worker shows its pool after a request).
settled() {
    keelctl status >"$pd/status.out" || return 1
    if ! grep -q '^db connections: *[0-9]* busy of [1-9]' "$pd/status.out"; then
        keel_http_ok "$url/health"
        return 1
    fi
    grep -q '^request workers: *2 (configured 2), job workers: 1$' "$pd/status.out" &&
        grep -q '^active threads: *0$' "$pd/status.out" &&
        grep -q '^idle threads: *2$' "$pd/status.out"
}
KEEL_WAIT=$((30 * scale)) keel_wait_for settled || cat "$pd/status.out" >&2
keelctl status >"$pd/status.out"
keel_check "keelctl status reads the running server's scoreboard" test $? = 0
stat() { sed -n "s/^$1: *//p" "$pd/status.out"; }
keel_check "its pid is the master's" test "$(stat pid)" = "$master"
keel_check "accepted requests count every answer, also of replaced workers ($(stat 'accepted requests'))" \
    test "$(stat 'accepted requests')" -ge 5
keel_check "request workers: as configured, with the job workers apart, none being replaced" \
    bash -c "grep -q '^request workers: *2 (configured 2), job workers: 1$' '$pd/status.out'"
keel_check "no thread is busy now, all idle" \
    bash -c "test '$(stat 'active threads')' = 0 && test '$(stat 'idle threads')' = 2"
keel_check "max active threads is at least one" test "$(stat 'max active threads')" -ge 1
# Each slow request logged is counted (under load, more than the one
# sleeping request may pass 300 ms).
keel_check "slow requests: as many as logged ($(stat 'slow requests')), at least the sleeping one" \
    bash -c "n=\$(grep -c '\"msg\":\"slow request\"' '$pd/log/keeld.log'); test \"\$n\" -ge 1 && test '$(stat 'slow requests')' = \"\$n\""
keel_check "restarts by reason: the 3 crashes, and the workers replaced by the emergency restart" \
    bash -c "grep -q '^worker restarts: *crashed 3,.* stopped [1-9]' '$pd/status.out'"
keel_check "a unix socket's queue: not told by the kernel" \
    grep -q '^listen queue: *- ' "$pd/status.out"
# A request that takes a connection, then the pool as it is now: open in
# the worker that served it, and given back (workers publish their pool
# on every tick of their main thread, not only after a request).
keel_http_ok "$url/ready"
pool_now() {
    keelctl status >"$pd/status.out" &&
        grep -q '^db connections: *0 busy of [1-9]' "$pd/status.out"
}
KEEL_WAIT=10 keel_wait_for pool_now || cat "$pd/status.out" >&2
keel_check "database connections of the request workers: open, none busy when idle" \
    grep -q '^db connections: *0 busy of [1-9]' "$pd/status.out"
keelctl stop >/dev/null
keelctl status >/dev/null 2>&1
keel_check "keelctl status with no server running: exit 1" test $? = 1

keelctl stop >/dev/null 2>"$pd/stop.err"
keel_check "keelctl stop with no server running: exit 1" test $? = 1
keel_check "saying why" grep -q -e "is gone" -e "is keeld running" "$pd/stop.err"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
