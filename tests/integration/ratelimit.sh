#!/usr/bin/env bash
# ratelimit.sh - rate limits (API.md 1.7), client addresses and CORS
# (API.md 6) through a
# keeld-test of its own with 4 workers and small limits, behind its own
# nginx, on run.sh's database: the headers and their countdown, exactly
# one 429 for limit + 1 requests spread over every worker, buckets per
# user and per address, login throttling per target email and per
# address, trusted proxies and a spoofed X-Forwarded-For, and workers
# killed with SIGKILL in a loop under load (no bucket is ever left
# locked).  Run by run.sh with its environment; prints "N passed, N failed".
set -u
. "$KEEL_TEST_SRCDIR/tests/harness/lib.sh"
top=$KEEL_TEST_DIR
rd="$top/rl"
mkdir -p "$rd/log"
chmod 755 "$rd"
stop_here() {
    keel_stop_pidfile "$rd/nginx.pid" 10
    keel_stop_pidfile "$rd/keeld.master.pid" 20
}
trap stop_here EXIT
cp "$top/pg.env" "$rd/pg.env"
keel_write_config "$rd" "$rd/keel.sock" "" "$KEEL_TEST_SRCDIR"
sed -i "s/^workers = 2$/workers = 4/" "$rd/keel.conf"
# run.sh lifted the limits in the environment; these win for this keeld.
# The read class gives a token back every 3 s; KEEL_TEST_TIME_SCALE (a
# whole number, 1 by default; the sanitizer step of dev.sh sets it)
# stretches its window for slower builds, so that no token comes back
# between the requests that count one down.
scale=${KEEL_TEST_TIME_SCALE:-1}
start() { # start TRUSTED_PROXIES
    KEEL_RATELIMIT_READ=20/${scale}m KEEL_RATELIMIT_WRITE=5/1m \
        KEEL_RATELIMIT_AUTH=3/1m KEEL_HTTP_TRUSTED_PROXIES="$1" \
        KEEL_HTTP_CORS_ORIGINS="https://app.example, https://admin.example" \
        keel_start_keeld "$KEEL_TEST_KEELD" "$rd"
}
start "127.0.0.1, 10.9.0.0/16" || exit 1
keel_front "$rd" ratelimit.sh || exit 1

hdr() { # hdr FILE NAME: a response header's value
    tr -d '\r' <"$1" | awk -v h="$(echo "$2" | tr 'A-Z' 'a-z')" \
        -F': ' 'tolower($1) == h { print $2 }' | tail -n 1
}
get() { # get NAME XFF [curl args]: headers in $rd/NAME.h, body $rd/NAME.b
    local name=$1 xff=$2
    shift 2
    curl -s -D "$rd/$name.h" -o "$rd/$name.b" -H "X-Forwarded-For: $xff" \
        "$@" "$url/v1/products?limit=1"
}
code() { head -n 1 "$1" | awk '{print $2}'; }

# ---- headers ---------------------------------------------------------------
get h1 198.51.100.1
get h2 198.51.100.1
keel_check "a /v1 answer carries X-RateLimit-Limit" test "$(hdr "$rd/h1.h" X-RateLimit-Limit)" = 20
keel_check "X-RateLimit-Remaining counts down" \
    bash -c "test '$(hdr "$rd/h1.h" X-RateLimit-Remaining)' = 19 && test '$(hdr "$rd/h2.h" X-RateLimit-Remaining)' = 18"
now=$(date +%s)
reset=$(hdr "$rd/h2.h" X-RateLimit-Reset)
keel_check "X-RateLimit-Reset is the Unix time the bucket is full again" \
    bash -c "test $reset -ge $((now + 6 * scale - 2)) && test $reset -le $((now + 6 * scale + 2))"
keel_check "RateLimit-Policy names the class, quota and window" \
    test "$(hdr "$rd/h1.h" RateLimit-Policy)" = "\"read\";q=20;w=$((60 * scale))"
keel_check "RateLimit gives what is left and when it is all back" \
    bash -c "[[ '$(hdr "$rd/h2.h" RateLimit)' =~ ^\\\"read\\\"\;r=18\;t=([0-9]+)\$ ]] && test \${BASH_REMATCH[1]} -ge $((6 * scale - 1)) && test \${BASH_REMATCH[1]} -le $((6 * scale + 1))"
curl -s -D "$rd/health.h" -o /dev/null "$url/health"
keel_check "operational endpoints are not limited (no headers)" \
    bash -c "! grep -qi '^x-ratelimit' '$rd/health.h'"
curl -s -D "$rd/nf.h" -o /dev/null -H 'X-Forwarded-For: 198.51.100.1' "$url/v1/nothing-here"
keel_check "an unknown /v1 path is counted and says so" \
    bash -c "test '$(code "$rd/nf.h")' = 404 && test '$(hdr "$rd/nf.h" X-RateLimit-Remaining)' = 17"

# ---- CORS ------------------------------------------------------------------------
pre() { # pre NAME ORIGIN: a preflight of GET /v1/products, headers in $rd/NAME.h
    curl -s -D "$rd/$1.h" -o /dev/null -X OPTIONS -H "Origin: $2" \
        -H 'Access-Control-Request-Method: GET' \
        -H 'Access-Control-Request-Headers: authorization' "$url/v1/products"
}
pre pre-ok https://app.example
keel_check "a preflight from an allowed origin: 204 with that origin" \
    bash -c "test '$(code "$rd/pre-ok.h")' = 204 && test '$(hdr "$rd/pre-ok.h" Access-Control-Allow-Origin)' = https://app.example"
keel_check "its methods, the request headers keel reads, and a max age" \
    bash -c "[[ '$(hdr "$rd/pre-ok.h" Access-Control-Allow-Methods)' == *GET*POST* && '$(hdr "$rd/pre-ok.h" Access-Control-Allow-Headers)' == *Authorization*Idempotency-Key* ]] && test '$(hdr "$rd/pre-ok.h" Access-Control-Max-Age)' = 600"
keel_check "Vary: Origin, and no credentials unless configured" \
    bash -c "[[ '$(hdr "$rd/pre-ok.h" Vary)' == *Origin* ]] && ! grep -qi '^access-control-allow-credentials' '$rd/pre-ok.h'"
pre pre-bad https://evil.example
keel_check "a preflight from another origin gets no CORS headers" \
    bash -c "test '$(code "$rd/pre-bad.h")' = 204 && ! grep -qi '^access-control-' '$rd/pre-bad.h'"
get cors-ok 198.51.100.9 -H 'Origin: https://admin.example'
keel_check "an allowed origin's request: Allow-Origin and Expose-Headers" \
    bash -c "test '$(hdr "$rd/cors-ok.h" Access-Control-Allow-Origin)' = https://admin.example && [[ '$(hdr "$rd/cors-ok.h" Access-Control-Expose-Headers)' == *RateLimit* ]]"
get cors-bad 198.51.100.9 -H 'Origin: https://app.example.evil.example'
keel_check "another origin's request: no Allow-Origin, still Vary: Origin" \
    bash -c "! grep -qi '^access-control-allow-origin' '$rd/cors-bad.h' && [[ '$(hdr "$rd/cors-bad.h" Vary)' == *Origin* ]]"
curl -s -D "$rd/cors-p.h" -o /dev/null -H 'Origin: https://app.example' \
    -H 'X-Forwarded-For: 198.51.100.9' "$url/v1/products?limit=1"
keel_check "Vary keeps what the resource said (Authorization, Origin)" \
    test "$(hdr "$rd/cors-p.h" Vary)" = "Authorization, Origin"

# ---- one limit across every worker -------------------------------------------
# 21 requests from one address, 8 at a time: exactly one is refused, and
# the 20 others see each remaining count from 19 to 0 exactly once.
seq 1 21 | xargs -P 8 -I{} curl -s -o "$rd/w{}.b" -D "$rd/w{}.h" \
    -H 'X-Forwarded-For: 198.51.100.2' "$url/v1/products?limit=1"
n429=0
last429=""
: >"$rd/remaining"
for i in $(seq 1 21); do
    c=$(code "$rd/w$i.h")
    if [ "$c" = 429 ]; then
        n429=$((n429 + 1))
        last429="$rd/w$i.h"
    else
        hdr "$rd/w$i.h" X-RateLimit-Remaining >>"$rd/remaining"
    fi
done
keel_check "limit + 1 requests over 4 workers: exactly one 429" test "$n429" = 1
keel_check "and the others counted down 19..0, each once" \
    test "$(sort -n "$rd/remaining" | tr '\n' ' ')" = "$(seq 0 19 | tr '\n' ' ')"
workers=$(grep '"msg":"access"' "$rd/log/keeld.log" |
    grep '"client_ip":"198.51.100.2"' | sed 's/.*"pid":\([0-9]*\).*/\1/' |
    sort -u | wc -l)
keel_check "the requests were served by more than one worker ($workers)" test "$workers" -ge 2
after=$(hdr "$last429" Retry-After)
keel_check "429 has Retry-After (one request's worth: $((3 * scale)) s) and RateLimit r=0" \
    bash -c "test '$after' -ge 1 && test '$after' -le $((3 * scale)) && [[ '$(hdr "$last429" RateLimit)' == '\"read\";r=0;'* ]]"
# (The refused answer itself: a later request could find a refilled token
# on a slow machine, one comes back every 3 s.)
keel_check "the envelope is 429 RATE_LIMITED" \
    grep -q '"code":"RATE_LIMITED"' "${last429%.h}.b"
get other 198.51.100.3
keel_check "another address has a bucket of its own" test "$(code "$rd/other.h")" = 200

# ---- buckets per user ----------------------------------------------------------
post() { # post NAME PATH BODY XFF [curl args]
    local name=$1 path=$2 body=$3 xff=$4
    shift 4
    curl -s -D "$rd/$name.h" -o "$rd/$name.b" -H 'Content-Type: application/json' \
        -H "X-Forwarded-For: $xff" "$@" -d "$body" "$url$path"
}
pw="rate limit password 0123"
register() { # register EMAIL XFF
    post reg /v1/auth/register "{\"email\":\"$1\",\"password\":\"$pw\",\"name\":\"R\"}" "$2"
    code "$rd/reg.h"
}
login() { # login EMAIL XFF [PASSWORD]: the status; the token in $rd/login.b
    post login /v1/auth/login "{\"email\":\"$1\",\"password\":\"${3:-$pw}\"}" "$2"
    code "$rd/login.h"
}
token() { sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p' "$rd/login.b"; }
ua="rl-a-$$@example.org"
ub="rl-b-$$@example.org"
keel_check "register two users (auth class, 3 per address)" \
    bash -c "test $(register "$ua" 192.0.2.10) = 201 && test $(register "$ub" 192.0.2.11) = 201"
login "$ua" 192.0.2.12 >/dev/null
ta=$(token)
login "$ub" 192.0.2.13 >/dev/null
tb=$(token)
keel_check "they log in" bash -c "test -n '$ta' && test -n '$tb'"
codes=""
for i in 1 2 3 4 5 6; do
    post write /v1/posts '{"title":"Rate","body":"x"}' 192.0.2.20 \
        -H "Authorization: Bearer $ta"
    codes="$codes $(code "$rd/write.h")"
    [ "$i" = 1 ] && first_policy=$(hdr "$rd/write.h" RateLimit-Policy)
done
keel_check "a user's writes: 5 answered, the 6th 429 ($codes)" \
    test "$codes" = " 201 201 201 201 201 429"
keel_check "under the write class" test "$first_policy" = '"write";q=5;w=60'
post write /v1/posts '{"title":"Rate","body":"x"}' 192.0.2.20 \
    -H "Authorization: Bearer $tb"
keel_check "another user from the same address is not held back" \
    test "$(code "$rd/write.h")" = 201
get anon 192.0.2.20
keel_check "nor the address itself, anonymously" test "$(code "$rd/anon.h")" = 200

# ---- login throttling ------------------------------------------------------------
# Per target email, from any number of addresses: 3 in all (its sign-up
# was one), then 429.
uv="rl-v-$$@example.org"
register "$uv" 203.0.113.50 >/dev/null
codes=""
for ip in 203.0.113.1 203.0.113.2 203.0.113.3; do
    codes="$codes $(login "$uv" "$ip" "wrong password 0123")"
done
keel_check "requests for one email from 4 addresses: the 4th is 429 ($codes)" \
    test "$codes" = " 401 401 429"
keel_check "even with the right password" test "$(login "$uv" 203.0.113.5)" = 429
# Per address, whatever the email: 3, then 429.
codes=""
for i in 1 2 3 4; do
    codes="$codes $(login "nobody-$i-$$@example.org" 203.0.113.9 "wrong password 0123")"
done
keel_check "logins for 4 emails from one address: the 4th is 429 ($codes)" \
    test "$codes" = " 401 401 401 429"
keel_check "the other user logs in from elsewhere meanwhile" test "$(login "$ub" 203.0.113.10)" = 200

# ---- trusted proxies ------------------------------------------------------------
get chain "6.6.6.6, 198.51.100.77, 10.9.1.1"
keel_check "the right-most untrusted X-Forwarded-For entry is the client" \
    bash -c "grep '\"msg\":\"access\"' '$rd/log/keeld.log' | tail -n 1 | grep -q '\"client_ip\":\"198.51.100.77\"'"
keel_stop_pidfile "$rd/keeld.master.pid" 20
start "10.9.0.0/16" || exit 1
keel_wait_for keel_http_ok "$url/health"
# nginx (127.0.0.1) is no longer trusted: 21 requests, each claiming a
# new address, share 127.0.0.1's bucket (with buckets per claimed address
# none would be refused).  At least one 429, not exactly one: a token
# comes back every 3 s, which a loaded machine may take.
seq 1 21 | xargs -P 8 -I{} curl -s -o /dev/null -D "$rd/spoof{}.h" \
    -H 'X-Forwarded-For: 203.0.113.{}' "$url/v1/products?limit=1"
n429=0
for i in $(seq 1 21); do
    [ "$(code "$rd/spoof$i.h")" = 429 ] && n429=$((n429 + 1))
done
keel_check "a spoofed X-Forwarded-For from an untrusted peer is ignored ($n429 refused)" \
    test "$n429" -ge 1
keel_check "the log shows the peer's own address" \
    bash -c "grep '\"msg\":\"access\"' '$rd/log/keeld.log' | tail -n 1 | grep -q '\"client_ip\":\"127.0.0.1\"'"

# ---- SIGKILL under load ----------------------------------------------------------
keel_stop_pidfile "$rd/keeld.master.pid" 20
start "127.0.0.1" || exit 1
keel_wait_for keel_http_ok "$url/health"
master=$(cat "$rd/keeld.master.pid")
load() { # 4 loops of requests from 40 addresses for $1 seconds
    local end=$((SECONDS + $1)) k
    for k in 1 2 3 4; do
        (while [ $SECONDS -lt $end ]; do
            curl -s -o /dev/null -m 2 -H "X-Forwarded-For: 198.18.$k.$((RANDOM % 10))" \
                "$url/v1/products?limit=1"
        done) &
    done
    wait
}
load 8 &
loadpid=$!
killed=0
for i in $(seq 1 12); do
    sleep 0.5
    victim=$(ps -o pid= --ppid "$master" | shuf -n 1 | tr -d ' ')
    if [ -n "$victim" ] && kill -KILL "$victim" 2>/dev/null; then
        killed=$((killed + 1))
    fi
done
wait "$loadpid"
keel_check "12 SIGKILLs of workers under load ($killed sent)" test "$killed" -ge 10
ok=0
for i in $(seq 1 50); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' -m 2 -H 'X-Forwarded-For: 198.51.100.200' "$url/v1/products?limit=1")" = 200 ]; then
        ok=1
        break
    fi
    sleep 0.1
done
keel_check "the server answers afterwards" test "$ok" = 1
# Every worker still takes from the buckets: 20 more from a fresh address,
# then exactly one refusal.
seq 1 21 | xargs -P 8 -I{} curl -s -o /dev/null -m 5 -D "$rd/k{}.h" \
    -H 'X-Forwarded-For: 198.51.100.201' "$url/v1/products?limit=1"
n200=0
n429=0
for i in $(seq 1 21); do
    case $(code "$rd/k$i.h") in
    200) n200=$((n200 + 1)) ;;
    429) n429=$((n429 + 1)) ;;
    esac
done
keel_check "and the limiter still counts exactly (21 at once: 20 answered, one 429)" \
    bash -c "test $n200 = 20 && test $n429 = 1"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
