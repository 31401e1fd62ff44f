#!/bin/bash
# bench/orders.sh [BUILDDIR] - what placing orders costs, measured with wrk
# on loopback through one private nginx into keeld-test and a private
# PostgreSQL (fsync off) holding 100 products with ample stock, each rate
# printed beside pgbench's on the same cluster in the same run:
#
#   (a) POST /v1/orders              3 distinct random products of the 100,
#                                    quantity 1 each, as one of 16 users
#                                    (bearer tokens from /v1/auth/login)
#   (b) pgbench TPC-B-like           -M prepared, as many clients as (a)
#                                    has connections, scale = clients
#   (c) GET /v1/products/{id}        anonymous, one of the 100 at random
#   (d) pgbench -S -M prepared -c8   PostgreSQL's own one-row rate
#
# (a) is printed as a share of (b), (c) as a share of (d), with p99
# latencies.  Every answer of (a) should be 201 and of (c) 200: the rates
# count those only; other answers are counted and shown by status, not
# fatal.  After (a) the database must agree with wrk: no
# product's stock below zero, the stock taken equal to the quantities
# ordered, and as many orders as 201s seen plus at most the requests still
# in flight when wrk stopped (wrk never reads their answers, but keeld
# commits them); otherwise the script exits 1 after the table.  The job
# workers are off (bench_stack): an order's queued jobs are inserted,
# never run.
#
# Bounded (BENCH_DURATION seconds per case, default 10; about a minute in
# all), every process stopped by its pid, never part of `make check`.
#   BENCH_CONNECTIONS (default 16): wrk connections for (a) and (c), and
#   pgbench clients for (b); BENCH_PGBENCH_SCALE (default: that number);
#   BENCH_KEEP=1 keeps the directory (wrk output and logs in it).
set -euo pipefail

srcdir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
builddir=$(cd "${1:-$PWD}" && pwd)
# shellcheck source=../tests/harness/lib.sh
. "$srcdir/tests/harness/lib.sh"
# shellcheck source=lib.sh
. "$srcdir/bench/lib.sh"

duration=${BENCH_DURATION:-10}
conns=${BENCH_CONNECTIONS:-16}
scale=${BENCH_PGBENCH_SCALE:-$conns}
nproducts=100
nusers=16
stock=100000000
for v in duration conns scale; do
    case ${!v} in
    '' | *[!0-9]* | 0*) die "$v must be a positive integer, got '${!v}'" ;;
    esac
done
bench_init orders
make -C "$builddir" tests/integration/keeld-test keelctl >&2 ||
    die "build failed"
bench_stack
pg_bin=$(keel_pg_bin) || die "PostgreSQL not found"

# sql ARGS...: psql on the keel database, unaligned, quiet.
sql() {
    (
        set -a
        # shellcheck source=/dev/null
        . "$tmp/pg.env"
        "$pg_bin/psql" -X -Atq -v ON_ERROR_STOP=1 "$@"
    )
}

# ---- data -----------------------------------------------------------------
sql >"$tmp/log/seed.log" 2>&1 <<SQL || die "seeding failed: $(cat "$tmp/log/seed.log")"
INSERT INTO products (sku, name, description, category, price_cents,
                      currency, stock)
    SELECT 'BENCH-' || g, 'Bench product ' || g, 'For bench/orders.sh',
           'bench', 100 + g * 37, 'EUR', $stock
    FROM generate_series(1, $nproducts) g;
VACUUM ANALYZE products;
SQL
mapfile -t ids < <(sql -c "SELECT public_id FROM products
                           WHERE sku LIKE 'BENCH-%' ORDER BY id")
[ "${#ids[@]}" = "$nproducts" ] || die "expected $nproducts products, got ${#ids[@]}"

# The users, over the API as a client would: register, then log in.
password="bench password 0123"
tokens=()
for i in $(seq "$nusers"); do
    email=bench$i@example.org
    curl -fsS -o /dev/null -H 'Content-Type: application/json' \
        -d "{\"email\":\"$email\",\"password\":\"$password\",\"name\":\"Bench $i\"}" \
        "$url/v1/auth/register" || die "register $email failed"
    token=$(curl -fsS -H 'Content-Type: application/json' \
        -d "{\"email\":\"$email\",\"password\":\"$password\"}" \
        "$url/v1/auth/login" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
    [ -n "$token" ] || die "login $email failed"
    tokens+=("$token")
done

# One order and one product read by hand first: a run of wrong answers
# says little.
code=$(curl -sS -o "$tmp/log/first-order.json" -w '%{http_code}' \
    -H 'Content-Type: application/json' -H "Authorization: Bearer ${tokens[0]}" \
    -d "{\"items\":[{\"product_id\":\"${ids[0]}\",\"quantity\":1},{\"product_id\":\"${ids[1]}\",\"quantity\":1},{\"product_id\":\"${ids[2]}\",\"quantity\":1}]}" \
    "$url/v1/orders") || die "POST /v1/orders failed"
[ "$code" = 201 ] ||
    die "POST /v1/orders: $code, not 201: $(cat "$tmp/log/first-order.json")"
code=$(curl -sS -o "$tmp/log/first-product.json" -w '%{http_code}' \
    "$url/v1/products/${ids[0]}") || die "GET /v1/products/{id} failed"
[ "$code" = 200 ] ||
    die "GET /v1/products/{id}: $code, not 200: $(cat "$tmp/log/first-product.json")"
orders_before=$(sql -c "SELECT count(*) FROM orders")

# ---- the wrk script ---------------------------------------------------------
# wrk ... -s load.lua URL -- post|get STATUS: POST an order to the URL, or
# GET the URL's path followed by a product id; every answer but STATUS is
# counted by status.  done() prints one line for this script to read:
#   bench-result REQUESTS SECONDS P99_MS OTHER_STATUS SOCKET_ERRORS TIMEOUTS
{
    echo "-- Generated by bench/orders.sh."
    echo "local ids = {"
    printf '    "%s",\n' "${ids[@]}"
    echo "}"
    echo "local tokens = {"
    printf '    "%s",\n' "${tokens[@]}"
    echo "}"
    cat <<'LUA'
local threads = {}
local n = 0
local headers = {}
local mode, expect, path

function setup(thread)
    n = n + 1
    thread:set("tid", n)
    table.insert(threads, thread)
end

function init(args)
    math.randomseed(os.time() * 1000 + (tid or 0))
    mode = args[1] or "get"
    expect = tonumber(args[2]) or 200
    path = wrk.path
    other = 0
    codes = {}
    if mode == "post" then
        headers["Content-Type"] = "application/json"
    end
end

local item = '{"product_id":"%s","quantity":1}'
local body = '{"items":[' .. item .. ',' .. item .. ',' .. item .. ']}'

function request()
    if mode ~= "post" then
        return wrk.format("GET", path .. ids[math.random(#ids)])
    end
    local a = math.random(#ids)
    local b, c
    repeat b = math.random(#ids) until b ~= a
    repeat c = math.random(#ids) until c ~= a and c ~= b
    headers["Authorization"] = "Bearer " .. tokens[math.random(#tokens)]
    return wrk.format("POST", path, headers,
                      string.format(body, ids[a], ids[b], ids[c]))
end

function response(status, hdrs, resp)
    if status ~= expect then
        other = other + 1
        codes[status] = (codes[status] or 0) + 1
        if not sample then
            sample = status .. " " .. string.sub(resp or "", 1, 300)
        end
    end
end

function done(summary, latency, requests)
    local total, all, s = 0, {}, nil
    for _, t in ipairs(threads) do
        total = total + (t:get("other") or 0)
        for k, v in pairs(t:get("codes") or {}) do
            all[k] = (all[k] or 0) + v
        end
        s = s or t:get("sample")
    end
    local e = summary.errors
    io.write(string.format("bench-result %d %.6f %.2f %d %d %d\n",
        summary.requests, summary.duration / 1e6,
        latency:percentile(99) / 1000, total,
        e.connect + e.read + e.write + e.timeout, e.timeout))
    local list = ""
    for k, v in pairs(all) do
        list = list .. " " .. k .. "x" .. v
    end
    io.write("bench-statuses" .. list .. "\n")
    if s then
        io.write("bench-sample " .. (string.gsub(s, "\n", " ")) .. "\n")
    end
end
LUA
} >"$tmp/load.lua"

# run_wrk NAME URL MODE STATUS: one wrk run; prints "rate p99_ms other
# socket_errors timeouts requests statuses": rate counts the answers with
# STATUS only (wrk's Requests/sec counts every answer), other the rest,
# statuses lists theirs (404x12,409x3) or is "-".
run_wrk() {
    local name=$1 out=$tmp/log/wrk-$1.txt
    echo "bench: $name: wrk -t2 -c$conns -d${duration}s -s load.lua $2 -- $3 $4" >&2
    timeout $((duration + 30)) wrk -t2 -c"$conns" -d"${duration}s" \
        -s "$tmp/load.lua" "$2" -- "$3" "$4" >"$out" 2>&1 ||
        die "wrk failed: $(cat "$out")"
    grep -q '^bench-result ' "$out" || die "no result from wrk: $(cat "$out")"
    if grep -q '^bench-sample ' "$out"; then
        echo "bench: $name: answers other than $4:$(sed -n 's/^bench-statuses//p' "$out");" \
            "e.g. $(sed -n 's/^bench-sample //p' "$out")" >&2
    fi
    awk '/^bench-result / {
            printf "%.0f %.2f %d %d %d %d", ($2 - $5) / $3, $4, $5, $6, $7, $2 }
         /^bench-statuses/ { sub(/^bench-statuses */, ""); st = $0 }
         END { gsub(/ /, ",", st); print " " (st == "" ? "-" : st) }' "$out"
}

# pgbench_tpcb: TPS, p99 ms and failed transactions of TPC-B-like
# transactions on a scratch database, 10 % of them logged for the p99.
pgbench_tpcb() {
    local out=$tmp/log/pgbench-tpcb.txt tps p99 failed
    (
        set -a
        # shellcheck source=/dev/null
        . "$tmp/pg.env"
        "$pg_bin/createdb" bench_tpcb &&
            timeout 120 "$pg_bin/pgbench" -i -s "$scale" -q bench_tpcb \
                >"$tmp/log/pgbench-tpcb-init.log" 2>&1 &&
            echo "bench: tpcb: pgbench -M prepared -c$conns -j2 -T$duration (scale $scale)" >&2 &&
            timeout $((duration + 30)) "$pg_bin/pgbench" -n -M prepared \
                -c"$conns" -j2 -T"$duration" -l --sampling-rate=0.1 \
                --log-prefix="$tmp/log/tpcb" bench_tpcb >"$out" 2>&1
    ) || die "pgbench TPC-B-like failed (see $tmp/log/pgbench-tpcb*)"
    tps=$(awk '/^tps = / { printf "%.0f", $3; exit }' "$out")
    [ -n "$tps" ] || die "no TPS from pgbench: $(cat "$out")"
    # Per-transaction log lines: client, transaction, latency in us, ...
    p99=$(cat "$tmp/log/tpcb".* 2>/dev/null | awk '{ print $3 }' | sort -n |
        awk '{ v[NR] = $1 } END {
            if (NR == 0) { print "n/a"; exit }
            i = int(NR * 0.99 + 0.999); if (i > NR) i = NR
            printf "%.2f", v[i] / 1000 }')
    failed=$(awk '/^number of failed transactions:/ { print $5; exit }' "$out")
    echo "$tps $p99 ${failed:-0}"
}

# ---- measuring --------------------------------------------------------------
read -r orps op99 oother oerrs otmo oreqs ostatuses < <(
    run_wrk orders "$url/v1/orders" post 201)
sleep 1 # the requests wrk left in flight finish
read -r min_stock orders taken items < <(sql -F ' ' -c "
    SELECT (SELECT min(stock) FROM products WHERE sku LIKE 'BENCH-%'),
           (SELECT count(*) FROM orders) - $orders_before,
           (SELECT $nproducts::bigint * $stock - sum(stock) FROM products
            WHERE sku LIKE 'BENCH-%'),
           (SELECT coalesce(sum(quantity), 0) FROM order_items)")
read -r ttps tp99 tfailed < <(pgbench_tpcb)
read -r grps gp99 gother gerrs gtmo _ gstatuses < <(
    run_wrk products "$url/v1/products/" get 200)
pgs=$(bench_pgbench_select)

# ---- report -----------------------------------------------------------------
created=$((oreqs - oother))
inflight=$((orders - created))
share() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", 100 * a / b }'; }
row() { printf '%-46s %8s %8s  %s\n' "$@"; }
echo "bench/orders.sh: $(date -u +%Y-%m-%dT%H:%MZ), $workers workers, wrk -t2 -c$conns, ${duration}s each, $nproducts products, $nusers users"
row "" "per s" "p99 ms" "other answers, errors"
row "(a) POST /v1/orders, 3 items, bearer" "$orps" "$op99" \
    "$oother non-201 ($ostatuses), $oerrs socket errors ($otmo timeouts)"
row "(b) pgbench TPC-B-like -M prepared -c$conns -j2" "$ttps" "$tp99" \
    "$tfailed failed (scale $scale)"
row "(c) GET /v1/products/{id}, anonymous" "$grps" "$gp99" \
    "$gother non-200 ($gstatuses), $gerrs socket errors ($gtmo timeouts)"
row "(d) pgbench -S -M prepared -c8 -j2" "$pgs" "-" "-"
echo "orders/s: $(share "$orps" "$ttps") % of (b)'s TPS; product reads/s: $(share "$grps" "$pgs") % of (d)'s"

status=0
check() { # check OK DESCRIPTION
    if [ "$1" = 1 ]; then
        echo "check: $2: ok"
    else
        echo "check: $2: FAILED"
        status=1
    fi
}
check "$([ "$min_stock" -ge 0 ] && echo 1)" "min(stock) $min_stock >= 0"
check "$([ "$taken" = "$items" ] && echo 1)" \
    "stock taken $taken = quantities ordered $items"
check "$([ "$inflight" -ge 0 ] && [ "$inflight" -le $((conns + otmo)) ] && echo 1)" \
    "orders $orders = 201s $created + $inflight in flight when wrk stopped (0..$((conns + otmo)))"
exit "$status"
