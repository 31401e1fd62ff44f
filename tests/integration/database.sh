#!/usr/bin/env bash
# database.sh - the database layer against the real private PostgreSQL of
# run.sh: migrations (up, down to zero, up again gives the same schema;
# concurrent runs apply each migration once; a changed applied migration
# is refused) and faults (PostgreSQL stopped while keeld runs, then back).
# Run by run.sh with its environment; prints "N passed, N failed".
set -u
. "$KEEL_TEST_SRCDIR/tests/harness/lib.sh"
dir=$KEEL_TEST_DIR
url=$KEEL_TEST_URL
keelctl=$KEEL_TEST_KEELCTL
set -a
. "$dir/pg.env"
set +a
pgbin=$(keel_pg_bin)

# ---- migrations, on a database of their own ------------------------------
mdir="$dir/migr"
mkdir -p "$mdir"
cp "$KEEL_TEST_SRCDIR"/sql/migrations/*.sql "$mdir/"
sed -e "s|^url = .*|url = \"host=$PGHOST port=$PGPORT dbname=keel_migr user=keel\"|" \
    -e "s|^migrations_dir = .*|migrations_dir = $mdir|" \
    "$dir/keel.conf" >"$dir/migr.conf"
"$pgbin/createdb" keel_migr
kc() { "$keelctl" -c "$dir/migr.conf" "$@"; }
# Comments and pg_dump's random \restrict keys differ between any two dumps.
dump() {
    "$pgbin/pg_dump" --schema-only --no-owner keel_migr |
        grep -v -e '^--' -e '^\\restrict' -e '^\\unrestrict'
}
quiet() { "$@" >/dev/null 2>&1; }

keel_check "migrate up applies every migration" quiet kc migrate up
dump >"$dir/schema1.sql"
keel_check "status lists them applied" \
    bash -c "\"$keelctl\" -c \"$dir/migr.conf\" migrate status | grep -q '^applied *0001_auth'"
keel_check "up again applies nothing" \
    bash -c "\"$keelctl\" -c \"$dir/migr.conf\" migrate up | grep -q 'nothing to apply'"
n=$(ls "$mdir"/*.up.sql | wc -l)
keel_check "down to zero reverts each" quiet kc migrate down "$n"
keel_check "no table but schema_migrations is left" \
    test "$("$pgbin/psql" -d keel_migr -Atc \
        "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'")" = 0
keel_check "up again" quiet kc migrate up
dump >"$dir/schema2.sql"
keel_check "up, down, up leaves an identical schema" cmp -s "$dir/schema1.sql" "$dir/schema2.sql"

# Two concurrent runs from zero: the advisory lock lets each apply once.
kc migrate down "$n" >/dev/null
kc migrate up >"$dir/m1.out" 2>&1 &
p1=$!
kc migrate up >"$dir/m2.out" 2>&1 &
p2=$!
wait $p1; s1=$?
wait $p2; s2=$?
keel_check "concurrent runs both succeed" test "$s1$s2" = 00
keel_check "each migration applied exactly once" \
    test "$(cat "$dir/m1.out" "$dir/m2.out" | grep -c '^applied ')" = "$n"
keel_check "schema_migrations has one row per migration" \
    test "$("$pgbin/psql" -d keel_migr -Atc 'SELECT count(*) FROM schema_migrations')" = "$n"

# A run waits for another's lock longer than statement_timeout (5 s here)
# instead of being cancelled by it.
"$pgbin/psql" -d keel_migr -q -c "SELECT pg_advisory_lock(1801807212), pg_sleep(6)" >/dev/null 2>&1 &
lockpid=$!
sleep 0.5
t0=$(date +%s)
kc migrate status >/dev/null 2>&1
s3=$?
t1=$(date +%s)
wait $lockpid
keel_check "a run waits out another's lock past statement_timeout" test "$s3" = 0
keel_check "(it did wait)" test $((t1 - t0)) -ge 4

# A migration edited after it was applied is refused, and nothing runs.
echo "-- edited" >>"$mdir/0001_auth.up.sql"
kc migrate up >"$dir/m3.out" 2>&1
keel_check "a changed applied migration is refused (exit 1)" test $? = 1
keel_check "with a message naming it" grep -q "0001_auth was changed after it was applied" "$dir/m3.out"
keel_check "bad usage exits 2" bash -c "\"$keelctl\" -c \"$dir/migr.conf\" migrate sideways 2>/dev/null; test \$? = 2"

# ---- keelctl user create -------------------------------------------------
kcu() { "$keelctl" -c "$dir/keel.conf" user create "$@"; }
printf 'a long enough password\n' | kcu --email Ops@Example.org --name Ops \
    --role admin >"$dir/u1.out" 2>&1
keel_check "user create with a password on stdin" test $? = 0
keel_check "prints the new user's id" grep -Eq '^created user [0-9a-f-]{36} <Ops@Example.org>, roles: user, admin$' "$dir/u1.out"
keel_check "the password is stored as an argon2id hash, never in clear" \
    test "$("$pgbin/psql" -Atc "SELECT password_hash LIKE '\$argon2id\$v=19\$m=19456,t=2,p=1\$%' AND position('long enough' in password_hash) = 0 FROM users WHERE email = 'Ops@Example.org'")" = t
keel_check "with the roles user and admin" \
    test "$("$pgbin/psql" -Atc "SELECT string_agg(r.name, ',' ORDER BY r.name) FROM users u JOIN user_roles ur ON ur.user_id = u.id JOIN roles r ON r.id = ur.role_id WHERE u.email = 'Ops@Example.org'")" = admin,user
printf 'a long enough password\n' | kcu --email ops@example.ORG --name Twin >"$dir/u2.out" 2>&1
keel_check "the same email in another case is refused (exit 1)" test $? = 1
keel_check "saying the email exists" grep -q 'exists' "$dir/u2.out"
printf 'short\n' | kcu --email s@example.org --name S >/dev/null 2>&1
keel_check "a short password is refused (exit 2)" test $? = 2
printf 'a long enough password\n' | kcu --email r@example.org --name R --role wizard >/dev/null 2>&1
keel_check "an unknown role is refused (exit 1)" test $? = 1
keel_check "and leaves no user behind" \
    test "$("$pgbin/psql" -Atc "SELECT count(*) FROM users WHERE email = 'r@example.org'")" = 0
kcu --email x@example.org >/dev/null 2>&1 </dev/null
keel_check "missing --name is a usage error (exit 2)" test $? = 2

# ---- job workers ------------------------------------------------------------
sql() { "$pgbin/psql" -Atq -c "$1"; }
enqueue() { # enqueue TYPE PATH: as an application would, NOTIFY at commit
    sql "BEGIN; INSERT INTO jobs (type, payload) VALUES ('$1', json_build_object('path', '$2')); NOTIFY keel_jobs; COMMIT;"
}
wait_file() { # wait_file PATH SECONDS
    local i
    for i in $(seq 1 $(($2 * 20))); do
        [ -s "$1" ] && return 0
        sleep 0.05
    done
    return 1
}
jobpid() { sql "SELECT substr(locked_by, 5) FROM jobs WHERE status = 'running' AND type = '$1' LIMIT 1"; }

t0=$(date +%s%N)
enqueue test.touch "$dir/job1"
keel_check "a committed job runs promptly (woken by NOTIFY)" wait_file "$dir/job1" 2
t1=$(date +%s%N)
keel_check "(within a second)" test $(( (t1 - t0) / 1000000 )) -lt 1000
sleep 0.2
keel_check "and is recorded as succeeded" \
    test "$(sql "SELECT status || ' ' || attempts FROM jobs WHERE payload->>'path' = '$dir/job1'")" = "succeeded 1"
sql "INSERT INTO jobs (type, payload, max_attempts) VALUES ('test.nosuch', '{}', 1); NOTIFY keel_jobs;"
sleep 1.2
keel_check "a job with no handler fails and, at max_attempts, is dead" \
    test "$(sql "SELECT status FROM jobs WHERE type = 'test.nosuch'")" = dead
keel_check "with the reason kept" \
    test "$(sql "SELECT last_error FROM jobs WHERE type = 'test.nosuch'")" = "no handler for job type test.nosuch"

kj() { "$keelctl" -c "$dir/keel.conf" jobs "$@"; }
dead_id=$(sql "SELECT public_id FROM jobs WHERE type = 'test.nosuch'")
keel_check "keelctl jobs list --status dead shows it" \
    bash -c "\"$keelctl\" -c \"$dir/keel.conf\" jobs list --status dead | grep -q '^$dead_id  test.nosuch *dead *1/1'"
status_of() { curl -s -o "$dir/body" -w '%{http_code}' --max-time 10 "$url$1"; }
status_of /health >/dev/null
keel_check "/health counts the dead job" grep -q '"jobs":{"status":"up","queued":[0-9]*,"dead":1}' "$dir/body"
keel_check "keelctl jobs retry re-queues it" bash -c "\"$keelctl\" -c \"$dir/keel.conf\" jobs retry $dead_id | grep -q '^re-queued $dead_id'"
kj retry 00000000-0000-4000-8000-000000000000 >/dev/null 2>&1
keel_check "retry of an unknown job exits 1" test $? = 1
kj retry 42 >/dev/null 2>&1
keel_check "retry of a malformed id exits 2" test $? = 2
kj list --status sideways >/dev/null 2>&1
keel_check "list with an unknown status exits 2" test $? = 2

# email.send, file transport.
sql "BEGIN; INSERT INTO jobs (type, payload) VALUES ('email.send', json_build_object('to', 'ada@example.org', 'subject', 'Grüße', 'text', E'Hello\\nworld')); NOTIFY keel_jobs; COMMIT;"
mail_id=$(sql "SELECT public_id FROM jobs WHERE type = 'email.send' ORDER BY id DESC LIMIT 1")
keel_check "an email job writes one .eml into the spool" wait_file "$dir/mail/$mail_id.eml" 3
keel_check "with the RFC 5322 headers" bash -c "grep -q \$'^To: ada@example.org\r\$' '$dir/mail/$mail_id.eml' && grep -q \$'^From: keel@localhost\r\$' '$dir/mail/$mail_id.eml' && grep -q '^Subject: =?UTF-8?B?R3LDvMOfZQ==?=' '$dir/mail/$mail_id.eml' && grep -q '^Message-ID: <$mail_id@keel>' '$dir/mail/$mail_id.eml'"
keel_check "and the body with CRLF line ends" bash -c "tail -c 16 '$dir/mail/$mail_id.eml' | od -c | tr -s ' ' | grep -q 'w o r l d \\\\r \\\\n'"
keel_check "no partial file is left in the spool's tmp" test -z "$(ls -A "$dir/mail/tmp")"
sql "INSERT INTO jobs (type, payload, max_attempts) VALUES ('email.send', json_build_object('to', 'x@example.org', 'subject', E'a\\r\\nBcc: evil@example.org', 'text', 't'), 1); NOTIFY keel_jobs;"
sleep 1.2
keel_check "a header injection is refused (the job is dead)" \
    test "$(sql "SELECT status FROM jobs WHERE payload->>'to' = 'x@example.org'")" = dead
keel_check "and writes nothing" test "$(ls "$dir/mail" | grep -c eml)" = 1

# kill -9 of the job worker while it runs a job: claimed again after the
# lease (2 s here) by the respawned worker, and completed.
enqueue test.sleep_touch "$dir/job2"
victim=""
for i in $(seq 1 40); do
    victim=$(jobpid test.sleep_touch)
    [ -n "$victim" ] && break
    sleep 0.05
done
keel_check "the job is running in a job worker" test -n "$victim"
[ -n "$victim" ] && kill -KILL "$victim"
keel_check "a killed job worker's job completes after its lease" wait_file "$dir/job2" 8
sleep 0.3
keel_check "on its second attempt" \
    test "$(sql "SELECT status || ' ' || attempts FROM jobs WHERE payload->>'path' = '$dir/job2'")" = "succeeded 2"
keel_check "the master logged the job worker's death" \
    grep -q '"kind":"job"' "$dir/log/keeld.log"

# ---- faults: PostgreSQL goes away under a running keeld ------------------
status_of() { curl -s -o "$dir/body" -w '%{http_code}' --max-time 10 "$url$1"; }
keel_check "ready while the database answers" test "$(status_of /ready)" = 200
status_of /health >/dev/null
keel_check "health reports the database up with its latency" \
    grep -q '"database":{"status":"up","latency_ms":' "$dir/body"

keel_pg_stop "$dir"
t0=$(date +%s%N)
code=$(status_of /ready)
t1=$(date +%s%N)
keel_check "/ready is 503 once PostgreSQL is down" test "$code" = 503
keel_check "with the SERVICE_UNAVAILABLE envelope" grep -q '"code":"SERVICE_UNAVAILABLE"' "$dir/body"
keel_check "answered within the acquire and connect timeouts (< 6 s)" \
    test $(( (t1 - t0) / 1000000 )) -lt 6000
keel_check "Retry-After is sent" bash -c "curl -s -D - -o /dev/null '$url/ready' | grep -qi '^retry-after: '"
code=$(status_of /health)
keel_check "/health stays 200, degraded" bash -c "test $code = 200 && grep -q '\"status\":\"degraded\"' '$dir/body' && grep -q '\"database\":{\"status\":\"down\"}' '$dir/body'"
code=$(status_of '/test/db-sleep?ms=0')
keel_check "database-backed requests answer 503, not 500" test "$code" = 503

keel_pg_start "$dir" fast >/dev/null
# Each worker reconnects on its own, after at most its back-off (1 s).
ok=0
for i in $(seq 1 100); do
    if [ "$(status_of /ready)" = 200 ]; then ok=1; break; fi
    sleep 0.1
done
keel_check "after PostgreSQL is back, /ready is 200 without restarting keeld" test "$ok" = 1
sleep 5.5
good=0
for i in $(seq 1 10); do
    [ "$(status_of '/test/db-sleep?ms=0')" = 200 ] && good=$((good + 1))
done
keel_check "and every worker serves database requests again" test "$good" = 10

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
