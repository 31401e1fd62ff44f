#!/usr/bin/env bash
# jobs.sh - events, webhooks and email through real job workers: a second
# keeld-test (two job workers, its own database, webhooks and SMTP set up)
# behind its own nginx, with loopback HTTP and SMTP receivers
# (tests/harness/sink).  Run by run.sh with its environment; prints
# "N passed, N failed".
set -u
. "$KEEL_TEST_SRCDIR/tests/harness/lib.sh"
top=$KEEL_TEST_DIR
hd="$top/hooks"
keelctl=$KEEL_TEST_KEELCTL
sink=$KEEL_TEST_SINK
secret="jobs-test-secret-0123456789abcdef-0123"
mkdir -p "$hd/log"
chmod 755 "$hd"
stop_here() {
    keel_stop_pidfile "$hd/nginx.pid" 10
    keel_stop_pidfile "$hd/keeld.master.pid" 20
    for s in flaky dead slow fan orders smtp; do
        keel_stop_pidfile "$hd/$s.pid" 5
    done
}
trap stop_here EXIT
set -a
. "$top/pg.env"
set +a
pgbin=$(keel_pg_bin)
sql() { "$pgbin/psql" -d keel_hooks -Atq -c "$1"; }

start_sink() { # start_sink NAME MODE ARGS...: DIR $hd/NAME, port in $port
    mkdir -p "$hd/$1"
    "$sink" "$2" "$hd/$1" "${@:3}" >>"$hd/log/sink.log" 2>&1 &
    echo $! >"$hd/$1.pid"
    keel_wait_for test -s "$hd/$1/port" || return 1
    port=$(cat "$hd/$1/port")
}
start_sink flaky http --fail 2 || exit 1
p_flaky=$port
start_sink dead http --status 500 || exit 1
p_dead=$port
start_sink slow http --delay 3000 || exit 1
p_slow=$port
start_sink fan http || exit 1
p_fan=$port
start_sink orders http || exit 1
p_orders=$port
start_sink smtp smtp --fail 1 || exit 1
p_smtp=$port

# ---- the second instance ----------------------------------------------------
"$pgbin/createdb" keel_hooks || exit 1
cp "$top/pg.env" "$hd/pg.env"
keel_write_config "$hd" "$hd/keel.sock" "" "$KEEL_TEST_SRCDIR"
sed -i "s/^workers = 2$/workers = 1/" "$hd/keel.conf"
sed -i "s|dbname=keel |dbname=keel_hooks |" "$hd/keel.conf"
sed -i "/^\[mail\]/,\$d" "$hd/keel.conf"
cat >>"$hd/keel.conf" <<CONF
[mail]
transport = smtp
from = "Keel <keel@example.org>"
smtp_url = smtp://127.0.0.1:$p_smtp
smtp_tls = off

[jobs]
workers = 2
lease = 5s
backoff_base = 500ms
backoff_cap = 2s
poll_interval = 1s
dead_degrades = on

[webhooks]
subscribers = test.flaky http://127.0.0.1:$p_flaky/hooks/flaky, \
test.dead http://127.0.0.1:$p_dead/hook, test.slow http://127.0.0.1:$p_slow/, \
fan.* http://127.0.0.1:$p_fan/a, fan.* http://127.0.0.1:$p_fan/b, \
order.* http://127.0.0.1:$p_orders/orders
secret = $secret
connect_timeout = 1s
timeout = 1s
max_attempts = 3
CONF
# keel.conf has no line continuations: join the subscribers line.
sed -i -e ':a' -e '/\\$/N; s/\\\n//; ta' "$hd/keel.conf"
"$keelctl" -c "$hd/keel.conf" migrate up >"$hd/log/migrate.log" 2>&1 || {
    cat "$hd/log/migrate.log" >&2
    exit 1
}
KEEL_AUTH_REQUIRE_VERIFIED_EMAIL=on \
    keel_start_keeld "$KEEL_TEST_KEELD" "$hd" || exit 1
keel_front "$hd" jobs.sh || exit 1

event() { # event JSON [CURL ARGS...]: POST /test/events, body in $hd/body
    curl -s -o "$hd/body" -w '%{http_code}' --max-time 10 \
        -H 'Content-Type: application/json' "${@:2}" -d "$1" "$url/test/events"
}
count() { ls "$hd/$1" | grep -c "\.$2\$"; }
wait_count() { # wait_count SINK EXT N SECONDS
    local i
    for i in $(seq 1 $(($4 * 20))); do
        [ "$(count "$1" "$2")" -ge "$3" ] && return 0
        sleep 0.05
    done
    return 1
}
wait_sql() { # wait_sql SQL EXPECTED SECONDS
    local i
    for i in $(seq 1 $(($3 * 10))); do
        [ "$(sql "$1")" = "$2" ] && return 0
        sleep 0.1
    done
    return 1
}
header() { grep -i "^$2:" "$1" | head -n 1 | cut -d' ' -f2- | tr -d '\r'; }
body_of() { sed '1,/^\r$/d' "$1"; }
# verify FILE: X-Keel-Signature is HMAC-SHA256(secret, "t.body"), by openssl.
verify() {
    local sig t v1 want
    sig=$(header "$1" x-keel-signature)
    t=${sig#t=}
    t=${t%%,*}
    v1=${sig##*,v1=}
    want=$(printf '%s.%s' "$t" "$(body_of "$1")" |
        openssl dgst -sha256 -hmac "$secret" | awk '{print $NF}')
    [ -n "$v1" ] && [ "$v1" = "$want" ] &&
        [ $(($(date +%s) - t)) -lt 60 ]
}

keel_check "/health is healthy while no job is dead" \
    bash -c "curl -s '$url/health' | grep -q '^{\"status\":\"healthy\"'"

# ---- events and transactions --------------------------------------------------
code=$(event '{"type":"test.flaky","aggregate_id":"rb-1","data":{"n":1},"rollback":true}')
keel_check "an event recorded in a rolled-back transaction is accepted" \
    bash -c "test $code = 201 && grep -q '\"deliveries\":1' '$hd/body'"
keel_check "leaves no event row" test "$(sql "SELECT count(*) FROM events WHERE aggregate_id = 'rb-1'")" = 0
keel_check "and no delivery job" \
    test "$(sql "SELECT count(*) FROM jobs WHERE payload->'event'->>'aggregate_id' = 'rb-1'")" = 0

tp=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
code=$(event '{"type":"test.flaky","aggregate_id":"ok-1","data":{"n":2,"s":"é/\""}}' -H "traceparent: $tp")
keel_check "a committed event queues one delivery per matching subscriber" \
    bash -c "test $code = 201 && grep -q '\"deliveries\":1' '$hd/body'"
event_id=$(sed 's/.*"id":"\([0-9a-f-]*\)".*/\1/' "$hd/body")
keel_check "the event is stored with its data" \
    test "$(sql "SELECT type || ' ' || aggregate_type || ' ' || (data->>'n') FROM events WHERE public_id = '$event_id'")" = "test.flaky test 2"
job_id=$(sql "SELECT public_id FROM jobs WHERE payload->'event'->>'id' = '$event_id'")

# ---- webhooks ---------------------------------------------------------------
keel_check "a receiver that fails twice gets the third attempt" wait_count flaky req 3 10
keel_check "and the job succeeds on attempt 3" \
    wait_sql "SELECT status || ' ' || attempts FROM jobs WHERE public_id = '$job_id'" "succeeded 3" 5
sleep 0.3
keel_check "no fourth request" test "$(count flaky req)" = 3
same=1
for f in "$hd"/flaky/*.req; do
    [ "$(header "$f" x-keel-delivery)" = "$job_id" ] || same=0
done
keel_check "X-Keel-Delivery is the same on every attempt (the job's id)" test "$same" = 1
good=1
for f in "$hd"/flaky/*.req; do verify "$f" || good=0; done
keel_check "every attempt carries a valid X-Keel-Signature" test "$good" = 1
sed -i 's/"n":2/"n":3/' "$hd/flaky/0003.req"
fails() { ! "$@"; }
keel_check "(a changed body fails the same check)" fails verify "$hd/flaky/0003.req"
f1="$hd/flaky/0001.req"
keel_check "POST to the subscriber's path" grep -q '^POST /hooks/flaky HTTP/1.1' "$f1"
keel_check "X-Keel-Event names the type" test "$(header "$f1" x-keel-event)" = test.flaky
keel_check "Content-Type is JSON" test "$(header "$f1" content-type)" = application/json
keel_check "the body is the event" \
    bash -c "body=\$(sed '1,/^\r\$/d' '$f1'); [[ \$body == *'\"id\":\"$event_id\"'* && \$body == *'\"type\":\"test.flaky\"'* && \$body == *'\"aggregate_id\":\"ok-1\"'* && \$body == *'\"created_at\":\"'*'Z\"'* ]]"
t1=$(header "$hd/flaky/0001.req" received-ms)
t2=$(header "$hd/flaky/0002.req" received-ms)
t3=$(header "$hd/flaky/0003.req" received-ms)
# base 500 ms, doubled per attempt, jitter down to half of that.
keel_check "back-off before attempt 2 (>= 250 ms)" test $((t2 - t1)) -ge 240
keel_check "back-off before attempt 3 (>= 500 ms)" test $((t3 - t2)) -ge 490
tp1=$(header "$f1" traceparent)
keel_check "traceparent passes the trace on, with a new span" \
    bash -c "[[ '$tp1' == 00-4bf92f3577b34da6a3ce929d0e0e4736-*-01 && '$tp1' != '$tp' ]]"
keel_check "the job's last_error was cleared on success" \
    test -z "$(sql "SELECT last_error FROM jobs WHERE public_id = '$job_id'")"

event '{"type":"test.dead","aggregate_id":"dead-1"}' >/dev/null
dead_job=$(sql "SELECT public_id FROM jobs WHERE payload->'event'->>'aggregate_id' = 'dead-1'")
keel_check "a receiver that always fails: dead after max_attempts (3)" \
    wait_sql "SELECT status || ' ' || attempts FROM jobs WHERE public_id = '$dead_job'" "dead 3" 12
keel_check "having been tried 3 times" test "$(count dead req)" = 3
keel_check "with dead_degrades = on, a dead job makes /health degraded" \
    bash -c "curl -s '$url/health' | grep -q '^{\"status\":\"degraded\".*\"jobs\":{\"status\":\"up\",\"queued\":[0-9]*,\"dead\":1}'"
keel_check "last_error keeps the status and a short excerpt of the answer" \
    test "$(sql "SELECT last_error FROM jobs WHERE public_id = '$dead_job'")" = "HTTP 500: sink says 500"
"$keelctl" -c "$hd/keel.conf" jobs retry "$dead_job" >/dev/null
keel_check "keelctl jobs retry re-queues it: it is delivered again" wait_count dead req 4 5

event '{"type":"test.slow","aggregate_id":"slow-1"}' >/dev/null
slow_job=$(sql "SELECT public_id FROM jobs WHERE payload->'event'->>'aggregate_id' = 'slow-1'")
keel_check "a receiver slower than [webhooks] timeout fails the attempt" \
    wait_sql "SELECT status FROM jobs WHERE public_id = '$slow_job' AND attempts >= 1 AND status <> 'running'" failed 5
keel_check "with a timeout as the reason" \
    bash -c "\"$pgbin/psql\" -d keel_hooks -Atc \"SELECT last_error FROM jobs WHERE public_id = '$slow_job'\" | grep -qi 'timed out'"

code=$(event '{"type":"fan.out","aggregate_id":"fan-1"}')
keel_check "prefix.* subscribers: one delivery each" grep -q '"deliveries":2' "$hd/body"
keel_check "both are delivered" wait_count fan req 2 5
keel_check "to their own paths" \
    bash -c "grep -l '^POST /a ' '$hd'/fan/*.req >/dev/null && grep -l '^POST /b ' '$hd'/fan/*.req >/dev/null"
event '{"type":"other.thing","aggregate_id":"none-1"}' >/dev/null
keel_check "an event no one subscribes to queues nothing" grep -q '"deliveries":0' "$hd/body"

# A payload naming a URL that is not a configured subscriber (as a
# tampered or stale job would) is never fetched: dead at once.
sql "INSERT INTO jobs (type, payload) VALUES ('webhook.deliver', json_build_object('url', 'http://127.0.0.1:$p_fan/evil', 'event', json_build_object('type', 'fan.out'))); NOTIFY keel_jobs;"
keel_check "a delivery to an unsubscribed URL is dead at once" \
    wait_sql "SELECT status || ' ' || attempts || ' ' || last_error FROM jobs WHERE payload->>'url' LIKE '%/evil'" \
    "dead 1 url is not a configured webhook subscriber" 5
keel_check "and nothing was sent" bash -c "! grep -l '^POST /evil ' '$hd'/fan/*.req >/dev/null 2>&1"

# ---- email over SMTP -----------------------------------------------------------
sql "BEGIN; INSERT INTO jobs (type, payload) VALUES ('email.send', json_build_object('to', 'ada@example.org', 'subject', 'Hello', 'text', E'First line\\n.hidden dot\\nlast')); NOTIFY keel_jobs; COMMIT;"
mail_job=$(sql "SELECT public_id FROM jobs WHERE type = 'email.send' ORDER BY id DESC LIMIT 1")
keel_check "SMTP: a 451 answer is retried, the second attempt is taken" wait_count smtp eml 1 6
keel_check "the job succeeds on attempt 2" \
    wait_sql "SELECT status || ' ' || attempts FROM jobs WHERE public_id = '$mail_job'" "succeeded 2" 5
m="$hd/smtp/0001.eml"
keel_check "envelope sender is the bare [mail] from address" grep -q '^mail-from: <keel@example.org>' "$m"
keel_check "envelope recipient" grep -q '^rcpt-to: <ada@example.org>' "$m"
keel_check "headers" bash -c "grep -q \$'^From: Keel <keel@example.org>\r\$' '$m' && grep -q \$'^Message-ID: <$mail_job@keel>\r\$' '$m'"
keel_check "a body line starting with a dot survives (dot-stuffing)" grep -q $'^.hidden dot\r$' "$m"
sql "INSERT INTO jobs (type, payload) VALUES ('email.send', json_build_object('to', 'reject@example.org', 'subject', 'x', 'text', 'y')); NOTIFY keel_jobs;"
keel_check "a recipient refused with 550 is dead at once" \
    wait_sql "SELECT status || ' ' || attempts FROM jobs WHERE payload->>'to' = 'reject@example.org'" "dead 1" 5
keel_check "with the reply code in last_error" \
    bash -c "\"$pgbin/psql\" -d keel_hooks -Atc \"SELECT last_error FROM jobs WHERE payload->>'to' = 'reject@example.org'\" | grep -q 550"

# ---- require_verified_email = on (this instance) ------------------------------
post() { curl -s -o "$hd/body" -w '%{http_code}' --max-time 10 \
    -H 'Content-Type: application/json' -d "$2" "$url$1"; }
creds='{"email":"unverified@example.org","password":"a long enough password"}'
keel_check "register (the verification email goes out over SMTP)" \
    test "$(post /v1/auth/register '{"email":"unverified@example.org","password":"a long enough password","name":"U"}')" = 201
keel_check "login before verifying: 403 FORBIDDEN" \
    bash -c "test \"\$(curl -s -o '$hd/body' -w '%{http_code}' -H 'Content-Type: application/json' -d '$creds' '$url/v1/auth/login')\" = 403 && grep -q '\"code\":\"FORBIDDEN\"' '$hd/body'"
token=""
for i in $(seq 1 50); do
    token=$(grep -ho 'token=[A-Za-z0-9_-]*' "$hd"/smtp/*.eml 2>/dev/null | head -n 1 | cut -d= -f2)
    [ -n "$token" ] && break
    sleep 0.1
done
keel_check "the verification email arrives with a 43-character token" test "${#token}" = 43
keel_check "verify-email consumes it" \
    test "$(post /v1/auth/verify-email "{\"token\":\"$token\"}")" = 200
keel_check "then login succeeds" test "$(post /v1/auth/login "$creds")" = 200

# ---- an order's events reach their subscriber ---------------------------------
access=$(sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p' "$hd/body")
product=$(sql "INSERT INTO products (sku, name, category, price_cents, currency, stock) VALUES ('hook-1', 'Hooked', 'hooks', 1999, 'EUR', 3) RETURNING public_id")
code=$(curl -s -o "$hd/body" -w '%{http_code}' --max-time 10 \
    -H 'Content-Type: application/json' -H "Authorization: Bearer $access" \
    -d "{\"items\":[{\"product_id\":\"$product\",\"quantity\":2}]}" "$url/v1/orders")
order=$(sed -n 's/^{"data":{"id":"\([0-9a-f-]*\)".*/\1/p' "$hd/body")
keel_check "an order is placed (201)" bash -c "test $code = 201 && test -n '$order'"
keel_check "its order.created event reaches the order.* subscriber" wait_count orders req 1 10
o1="$hd/orders/0001.req"
keel_check "X-Keel-Event: order.created" test "$(header "$o1" x-keel-event)" = order.created
keel_check "the delivery carries a valid X-Keel-Signature" verify "$o1"
keel_check "the body is the event, with the order as its data" \
    bash -c "body=\$(sed '1,/^\r\$/d' '$o1'); [[ \$body == *'\"aggregate_id\":\"$order\"'* && \$body == *'\"total_cents\":3998'* && \$body == *'\"status\":\"pending\"'* ]]"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X PATCH \
    -H 'Content-Type: application/json' -H "Authorization: Bearer $access" \
    -d '{"status":"cancelled"}' "$url/v1/orders/$order")
keel_check "the owner cancels it (200)" test "$code" = 200
keel_check "order.cancelled is delivered too" wait_count orders req 2 10
keel_check "as X-Keel-Event: order.cancelled" \
    test "$(header "$hd/orders/0002.req" x-keel-event)" = order.cancelled

# ---- expired idempotency keys are purged by a periodic job --------------------
keel_check "job workers queue the purge job by themselves, and it runs" \
    wait_sql "SELECT count(*) > 0 FROM jobs WHERE type = 'idempotency.purge' AND idempotency_key LIKE 'periodic:idempotency.purge:%' AND status = 'succeeded'" t 10
uid=$(sql "SELECT id FROM users WHERE email = 'unverified@example.org'")
sql "INSERT INTO idempotency_keys (user_id, key, request_hash, status, body, expires_at) VALUES ($uid, 'old', sha256('x'::bytea), 201, '{}', now() - interval '1 minute'), ($uid, 'live', sha256('y'::bytea), 201, '{}', now() + interval '1 hour')"
sql "INSERT INTO jobs (type) VALUES ('idempotency.purge'); NOTIFY keel_jobs;"
keel_check "the purge job deletes expired keys and keeps live ones" \
    wait_sql "SELECT string_agg(key, ',' ORDER BY key) FROM idempotency_keys WHERE user_id = $uid" live 10

# ---- two job workers, 200 jobs ---------------------------------------------------
keel_check "every failing delivery ends dead, nothing is left running" \
    wait_sql "SELECT count(*) FROM jobs WHERE status NOT IN ('succeeded', 'dead')" 0 20
# 10 ms each, so that both workers are busy at once.
sql "BEGIN; INSERT INTO jobs (type, payload) SELECT 'test.touch', json_build_object('path', '$hd/many', 'n', g, 'ms', 10) FROM generate_series(1, 200) g; NOTIFY keel_jobs; COMMIT;"
keel_check "200 jobs with 2 workers all succeed" \
    wait_sql "SELECT count(*) FROM jobs WHERE type = 'test.touch' AND status = 'succeeded'" 200 30
keel_check "each ran exactly once" \
    bash -c "test \$(wc -l <'$hd/many') = 200 && test \$(cut -d' ' -f1 '$hd/many' | sort -u | wc -l) = 200 && ! grep -qv 'attempt 1\$' '$hd/many'"
keel_check "both job workers took part" \
    test "$(grep '"msg":"job"' "$hd/log/keeld.log" | grep '"type":"test.touch"' |
        sed 's/.*"pid":\([0-9]*\).*/\1/' | sort -u | wc -l)" = 2

# ---- a graceful stop finishes the job in hand ----------------------------------
sql "BEGIN; INSERT INTO jobs (type, payload) VALUES ('test.sleep_touch', json_build_object('path', '$hd/graceful')); NOTIFY keel_jobs; COMMIT;"
keel_check "a 1.5 s job is running" \
    wait_sql "SELECT status FROM jobs WHERE type = 'test.sleep_touch'" running 5
master=$(cat "$hd/keeld.master.pid")
kill -TERM "$master"
for i in $(seq 1 200); do
    keel_pid_alive "$master" || break
    sleep 0.05
done
stopped=yes
keel_pid_alive "$master" && stopped=no
keel_check "SIGTERM: keeld stops after the job worker finished it" \
    bash -c "test $stopped = yes && test -s '$hd/graceful'"
keel_check "the job is recorded succeeded on its first attempt" \
    test "$(sql "SELECT status || ' ' || attempts FROM jobs WHERE type = 'test.sleep_touch'")" = "succeeded 1"

# ---- smtp_tls = required never sends without TLS ------------------------------
before=$(count smtp eml)
KEEL_MAIL_SMTP_TLS=required KEEL_JOBS_WORKERS=1 \
    keel_start_keeld "$KEEL_TEST_KEELD" "$hd" || exit 1
sql "INSERT INTO jobs (type, payload) VALUES ('email.send', json_build_object('to', 'tls@example.org', 'subject', 's', 'text', 't')); NOTIFY keel_jobs;"
keel_check "smtp_tls = required: a server without STARTTLS fails the attempt" \
    wait_sql "SELECT status FROM jobs WHERE payload->>'to' = 'tls@example.org'" failed 5
keel_check "and no message reached it" test "$(count smtp eml)" = "$before"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
