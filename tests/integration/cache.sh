#!/usr/bin/env bash
# cache.sh - conf/keel-cache.conf as shipped, in a second private nginx in
# front of run.sh's keeld: an anonymous product GET is stored and served
# from the cache (same body, its own X-Request-Id); requests with
# credentials never touch the cache but still get 304 from keel; HEAD and
# GET are kept apart; writes are never cached.  Run by run.sh with its
# environment;
# prints "N passed, N failed".
set -u
. "$KEEL_TEST_SRCDIR/tests/harness/lib.sh"
src=$KEEL_TEST_SRCDIR
dir=$KEEL_TEST_DIR/cache
sock=$KEEL_TEST_DIR/keel.sock
set -a
. "$KEEL_TEST_DIR/pg.env"
set +a
pgbin=$(keel_pg_bin)
mkdir -p "$dir/cache"
port=$(keel_free_port) || exit 1
keel_nginx_conf "$dir" "$port" "$sock" "$src" \
    "fastcgi_cache_path $dir/cache levels=1:2 keys_zone=keel:1m max_size=16m inactive=1m use_temp_path=off;
    include $src/conf/keel-cache-maps.conf;" \
    "include $src/conf/keel-cache.conf;"
stop() { keel_stop_pidfile "$dir/nginx.pid" 10; }
trap stop EXIT
keel_start_nginx "$dir" || exit 1
url="http://127.0.0.1:$port"
keel_wait_for keel_http_ok "$url/v1/products" || {
    cat "$dir/log/"* >&2
    exit 1
}

# A product of this run, straight into the database.
sku="cache-$$"
id=$("$pgbin/psql" -Atq -c "INSERT INTO products (sku, name, category,
    price_cents, currency, stock) VALUES ('$sku', 'Cached', 'cache-$$', 100,
    'EUR', 3) RETURNING public_id" | head -n 1)
get() { # get NAME [curl args...]: headers in $dir/NAME.h, body in $dir/NAME.b
    local name=$1
    shift
    curl -s -D "$dir/$name.h" -o "$dir/$name.b" "$@" "$url/v1/products/$id"
}
hdr() { # hdr NAME HEADER: the header's value
    tr -d '\r' <"$dir/$1.h" | awk -v h="$(echo "$2" | tr 'A-Z' 'a-z')" \
        -F': ' 'tolower($1) == h { print $2 }' | tail -n 1
}

get one
keel_check "the first anonymous GET is a MISS" test "$(hdr one X-Cache-Status)" = MISS
keel_check "with keel's public Cache-Control" bash -c "grep -qi '^cache-control: public, max-age=60' '$dir/one.h'"
get two -H 'X-Request-Id: client-rid-1'
keel_check "the second is a HIT" test "$(hdr two X-Cache-Status)" = HIT
keel_check "with the same body" cmp -s "$dir/one.b" "$dir/two.b"
keel_check "and the client's X-Request-Id, not the stored one" \
    test "$(hdr two X-Request-Id)" = client-rid-1
get three
keel_check "a hit without one gets a request id of its own" \
    bash -c "test -n '$(hdr three X-Request-Id)' && test '$(hdr three X-Request-Id)' != '$(hdr one X-Request-Id)'"
keel_check "exactly one X-Request-Id on a hit" \
    test "$(grep -ci '^x-request-id:' "$dir/three.h")" = 1
get bad -H 'X-Request-Id: not valid!'
keel_check "an invalid client id is not echoed from the cache" \
    bash -c "test '$(hdr bad X-Request-Id)' != 'not valid!'"
get token -H 'Authorization: Bearer x.y.z'
keel_check "a request with credentials bypasses the cache" \
    test "$(hdr token X-Cache-Status)" = BYPASS
keel_check "and reaches keel (401 for a bad token)" \
    bash -c "head -n 1 '$dir/token.h' | grep -q ' 401'"
# A user's token, through run.sh's own nginx.
email="cache-$$@example.org"
curl -s -o /dev/null -H 'Content-Type: application/json' \
    -d "{\"email\":\"$email\",\"password\":\"cache password 0123\",\"name\":\"C\"}" \
    "$KEEL_TEST_URL/v1/auth/register"
token=$(curl -s -H 'Content-Type: application/json' \
    -d "{\"email\":\"$email\",\"password\":\"cache password 0123\"}" \
    "$KEEL_TEST_URL/v1/auth/login" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
etag=$(hdr one ETag)
get cond -H "Authorization: Bearer $token" -H "If-None-Match: $etag"
keel_check "with credentials, If-None-Match still reaches keel: 304" \
    bash -c "head -n 1 '$dir/cond.h' | grep -q ' 304' && test '$(hdr cond X-Cache-Status)' = BYPASS"
get cond2 -H "Authorization: Bearer $token"
keel_check "and a token's answer is no-store" \
    bash -c "grep -qi '^cache-control: no-store' '$dir/cond2.h'"
curl -s -I -o /dev/null "$url/v1/products?category=head-$$"
curl -s -D "$dir/afterhead.h" -o "$dir/afterhead.b" \
    "$url/v1/products?category=head-$$"
keel_check "a GET after a HEAD of the same URL gets its body" \
    grep -q '"data"' "$dir/afterhead.b"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST \
    -H 'Content-Type: application/json' -d '{}' "$url/v1/products")
keel_check "writes are not cached (POST reaches keel: 401)" test "$code" = 401
"$pgbin/psql" -q -c "UPDATE products SET name = 'Changed', version = version + 1
    WHERE public_id = '$id'"
get four
keel_check "within max-age the cache still answers" \
    bash -c "test '$(hdr four X-Cache-Status)' = HIT && grep -q Cached '$dir/four.b'"
curl -s -D "$dir/list.h" -o /dev/null "$url/v1/products?category=cache-$$"
curl -s -D "$dir/list2.h" -o "$dir/list2.b" "$url/v1/products?category=cache-$$"
keel_check "lists are cached too" test "$(hdr list2 X-Cache-Status)" = HIT
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
