#!/usr/bin/env bash
# hashgate.sh - the cap on concurrent password hashing (DESIGN.md 1)
# through a keeld-test of its own with 4 workers behind its own nginx, on
# run.sh's database: with one hashing slot and no wait, concurrent logins
# are partly refused with 503 SERVICE_UNAVAILABLE and Retry-After (never a
# 500, never counted as failed logins, the reason in the log); with a wait they all succeed; and
# workers killed with SIGKILL while they hash never leave the slot taken.
# Run by run.sh with its environment; prints "N passed, N failed".
set -u
. "$KEEL_TEST_SRCDIR/tests/harness/lib.sh"
top=$KEEL_TEST_DIR
hd="$top/hashgate"
mkdir -p "$hd/log"
chmod 755 "$hd"
stop_here() {
    keel_stop_pidfile "$hd/nginx.pid" 10
    keel_stop_pidfile "$hd/keeld.master.pid" 20
}
trap stop_here EXIT
set -a
. "$top/pg.env"
set +a
pgbin=$(keel_pg_bin)
cp "$top/pg.env" "$hd/pg.env"
keel_write_config "$hd" "$hd/keel.sock" "" "$KEEL_TEST_SRCDIR"
sed -i "s/^workers = 2$/workers = 4/" "$hd/keel.conf"
start() { # start WAIT: one hashing slot, waiting at most WAIT for it
    KEEL_AUTH_HASH_CONCURRENCY=1 KEEL_AUTH_HASH_WAIT="$1" \
        keel_start_keeld "$KEEL_TEST_KEELD" "$hd"
}
restart() {
    keel_stop_pidfile "$hd/keeld.master.pid" 20
    start "$1" || return 1
    keel_wait_for keel_http_ok "$url/health"
}
start 0 || exit 1
keel_front "$hd" hashgate.sh || exit 1

pw='correct horse battery staple'
email="gate-$$-$RANDOM@example.org"
code() { head -n 1 "$1" | awk '{print $2}'; }
hdr() { # hdr FILE NAME: a response header's value
    tr -d '\r' <"$1" | awk -v h="$(echo "$2" | tr 'A-Z' 'a-z')" \
        -F': ' 'tolower($1) == h { print $2 }' | tail -n 1
}
logins() { # logins TAG N PASSWORD: N logins at once, $hd/TAG-i.{h,b}
    local i pids=()
    for i in $(seq 1 "$2"); do
        curl -s -m 20 -D "$hd/$1-$i.h" -o "$hd/$1-$i.b" \
            -H 'Content-Type: application/json' \
            -d "{\"email\":\"$email\",\"password\":\"$3\"}" \
            "$url/v1/auth/login" &
        pids+=($!)
    done
    wait "${pids[@]}" # not keeld or nginx, children of this shell too
}
count() { # count TAG N STATUS
    local i n=0
    for i in $(seq 1 "$2"); do
        [ "$(code "$hd/$1-$i.h")" = "$3" ] && n=$((n + 1))
    done
    echo "$n"
}

st=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    -d "{\"email\":\"$email\",\"password\":\"$pw\",\"name\":\"Gate\"}" \
    "$url/v1/auth/register")
keel_check "register a user" test "$st" = 201

# ---- one slot, no wait: the excess is refused fast ---------------------------
logins ok 12 "$pw"
n200=$(count ok 12 200)
n503=$(count ok 12 503)
keel_check "12 logins at once on 4 workers: each 200 or 503 ($n200 + $n503)" \
    test $((n200 + n503)) = 12
keel_check "at least one got the slot" test "$n200" -ge 1
keel_check "at least one was refused (one slot for 4 workers)" test "$n503" -ge 1
refused=$(for i in $(seq 1 12); do
    [ "$(code "$hd/ok-$i.h")" = 503 ] && echo "$i"
done | head -n 1)
keel_check "the refusal is the generic SERVICE_UNAVAILABLE envelope" \
    grep -q '"code":"SERVICE_UNAVAILABLE","message":"Service temporarily unavailable"' "$hd/ok-$refused.b"
rid=$(sed -n 's/.*"request_id":"\([^"]*\)".*/\1/p' "$hd/ok-$refused.b")
keel_check "and the log says why, under its request id" \
    grep -q "\"request_id\":\"$rid\".*every password-hashing slot busy" "$hd/log/keeld.log"
keel_check "the refusal says Retry-After" test "$(hdr "$hd/ok-$refused.h" Retry-After)" = 1

# Wrong passwords: only the checks that ran count as failed logins.
logins bad 8 'wrong password, clearly'
n401=$(count bad 8 401)
n503=$(count bad 8 503)
failures=$("$pgbin/psql" -Atq -c "SELECT coalesce(sum(failures), 0) FROM login_failures WHERE email = '$email'")
keel_check "8 wrong passwords at once: 401 or 503 ($n401 + $n503)" \
    test $((n401 + n503)) = 8
keel_check "some of them refused" test "$n503" -ge 1
keel_check "failed logins counted = 401s answered ($failures = $n401)" \
    test "$failures" = "$n401"
"$pgbin/psql" -Atq -c "DELETE FROM login_failures WHERE email = '$email'"

# ---- one slot, a wait: the burst is served in turn ---------------------------
restart 10s
logins wait 8 "$pw"
keel_check "with hash_wait = 10s, 8 logins at once all succeed" \
    test "$(count wait 8 200)" = 8

# ---- workers killed while they hash never keep the slot -----------------------
# The victim is the worker on the CPU: the one hashing, holding the slot
# (the others wait for it asleep).  A slot it kept would refuse or stall
# every later login.
master=$(cat "$hd/keeld.master.pid")
killed=0
for round in $(seq 1 8); do
    logins kill 4 "$pw" &
    lp=$!
    victim=
    for try in $(seq 1 50); do
        victim=$(ps -L -o pid=,stat= --ppid "$master" | awk '$2 ~ /^R/ { print $1; exit }')
        [ -n "$victim" ] && break
        sleep 0.005
    done
    if [ -n "$victim" ] && kill -KILL "$victim" 2>/dev/null; then
        killed=$((killed + 1))
    fi
    wait "$lp"
done
keel_check "8 workers killed with SIGKILL while hashing ($killed)" test "$killed" -ge 6
keel_wait_for keel_http_ok "$url/health"
ok=0
for i in 1 2 3 4 5 6; do
    st=$(curl -s -o /dev/null -w '%{http_code}' -m 10 -H 'Content-Type: application/json' \
        -d "{\"email\":\"$email\",\"password\":\"$pw\"}" "$url/v1/auth/login")
    [ "$st" = 200 ] && ok=$((ok + 1))
done
keel_check "afterwards 6 logins one after another all succeed ($ok)" test "$ok" = 6

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
