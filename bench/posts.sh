#!/bin/bash
# bench/posts.sh [BUILDDIR] - what reading posts costs, measured with wrk on
# loopback through one private nginx into keeld-test and a private
# PostgreSQL (fsync off) holding 100 000 published posts, in one run:
#
#   (a) GET /v1/posts?limit=20             anonymous, page 1 with the exact
#                                           total (a count of every post)
#   (b) ... &count=estimated                the planner's estimate instead
#   (c) (a) with a bearer token             (JWT, revocation, permissions,
#                                           and the author's own posts too)
#   (d) GET /v1/posts?limit=20&cursor=      anonymous, cursor page 1
#   (e) ... &cursor=<70 000 posts deep>     anonymous, a deep cursor page
#   (f) GET /v1/posts/{id}                  anonymous, one post
#   (g) pgbench -S -M prepared -c8          PostgreSQL's own one-row rate
#
# Target: the deep cursor page (e) is at most 1.5x slower than page 1 (d)
# (keyset pagination: a page costs the same wherever it is).  Each rate is
# also printed as a share of (g).
#
# Bounded (BENCH_DURATION seconds per case, default 10), every process
# stopped by its pid, never part of `make check`.
#   BENCH_CONNECTIONS (default 32), BENCH_KEEP=1 keeps the directory.
set -euo pipefail

srcdir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
builddir=$(cd "${1:-$PWD}" && pwd)
# shellcheck source=../tests/harness/lib.sh
. "$srcdir/tests/harness/lib.sh"
# shellcheck source=lib.sh
. "$srcdir/bench/lib.sh"

duration=${BENCH_DURATION:-10}
conns=${BENCH_CONNECTIONS:-32}
bench_init posts
make -C "$builddir" tests/integration/keeld-test keelctl >&2 ||
    die "build failed"
bench_stack

email=bench@example.org
password="bench password 0123"
bench_account "$email" "$password"

# 100 000 published public posts by 1 000 authors over a year.
(
    set -a
    . "$tmp/pg.env"
    "$(keel_pg_bin)/psql" -q -v ON_ERROR_STOP=1 >"$tmp/log/seed.log" 2>&1 <<'SQL'
INSERT INTO users (email, name, password_hash)
    SELECT 'author' || g || '@example.org', 'Author ' || g, 'x'
    FROM generate_series(1, 1000) g;
INSERT INTO posts (author_id, title, body, status, visibility, tags,
                   published_at, created_at)
    SELECT u.id, 'Post number ' || g, repeat('Some text. ', 40), 'published',
           'public', ARRAY['t' || (g % 200)], now() - g * interval '5 min',
           now() - g * interval '5 min'
    FROM generate_series(1, 100000) g
    JOIN users u ON u.email = 'author' || (g % 1000 + 1) || '@example.org';
VACUUM ANALYZE users;
VACUUM ANALYZE posts;
SQL
) || die "seeding failed: $(cat "$tmp/log/seed.log")"

# A cursor 70 000 posts deep, reached as a client would: by following
# next_cursor, 100 posts a page.
cursor=
for _ in $(seq 700); do
    cursor=$(curl -fsS "$url/v1/posts?limit=100&cursor=$cursor" |
        sed 's/.*"next_cursor":"\([^"]*\)".*/\1/')
    [ -n "$cursor" ] || die "no next_cursor"
done
id=$(curl -fsS "$url/v1/posts?limit=1&fields=id" |
    sed 's/.*"id":"\([^"]*\)".*/\1/')

first=$(bench_rps "$url/v1/posts?limit=20")
estimated=$(bench_rps "$url/v1/posts?limit=20&count=estimated")
authed=$(bench_rps -H "Authorization: Bearer $token" "$url/v1/posts?limit=20")
page1=$(bench_rps "$url/v1/posts?limit=20&cursor=")
deep=$(bench_rps "$url/v1/posts?limit=20&cursor=$cursor")
one=$(bench_rps "$url/v1/posts/$id")
pgs=$(bench_pgbench_select)

share() { awk -v a="$1" -v b="$pgs" 'BEGIN { printf "%.1f", 100 * a / b }'; }
line() { printf '%-48s %8s  %5s %% of (g)\n' "$1" "$2" "$(share "$2")"; }
echo "bench/posts.sh: $(date -u +%Y-%m-%dT%H:%MZ), $workers workers, wrk -t2 -c$conns, ${duration}s each, 100 000 posts"
line "(a) GET /v1/posts?limit=20 (exact total)" "$first"
line "(b) ... &count=estimated" "$estimated"
line "(c) (a) with a bearer token" "$authed"
line "(d) GET /v1/posts?limit=20&cursor= (page 1)" "$page1"
line "(e) ... &cursor= 70 000 posts deep" "$deep"
line "(f) GET /v1/posts/{id}" "$one"
printf '%-48s %8s\n' "(g) pgbench -S -M prepared -c8 -j2 TPS" "$pgs"
ratio=$(awk -v d="$page1" -v e="$deep" 'BEGIN { printf "%.2f", d / e }')
echo "deep cursor page: ${ratio}x the time of cursor page 1 (target <= 1.5)"
