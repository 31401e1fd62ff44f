#!/bin/bash
# bench/realworld.sh [BUILDDIR] - the second application on the core costs
# what the first does: RealWorld's Conduit API (examples/realworld/
# conduitd) beside keel's own posts (keeld-test), each behind its own
# private nginx and PostgreSQL (fsync off), measured with wrk on loopback
# in one run:
#
#   (a) GET /v1/posts?limit=20         keel: a page of posts, exact total
#   (b) GET /api/articles?limit=20     Conduit: a page of articles with
#                                      authors, tags, favorites counts and
#                                      articlesCount
#   (c) GET /v1/posts/{id}             keel: one post
#   (d) GET /api/articles/{slug}       Conduit: one article
#
# Both hold 1 000 items by 20 authors, two tags each; requests are
# anonymous.  Each case runs twice, in the order keel, Conduit and then
# Conduit, keel, and the two figures are averaged (the machine drifts).
# Target: (b) and (d) within 10 % of (a) and (c) (same core, same cost).
#
# Bounded (BENCH_DURATION seconds per run, default 10), every process
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
items=1000
authors=20
bench_init realworld
make -C "$builddir" tests/integration/keeld-test keelctl \
    examples/realworld/conduitd >&2 || die "build failed"

# keel: 1 000 published public posts by 20 authors.
bench_stack
keel=$url
(
    set -a
    . "$tmp/pg.env"
    "$(keel_pg_bin)/psql" -q -v ON_ERROR_STOP=1 -v items=$items \
        -v authors=$authors >"$tmp/log/seed.log" 2>&1 <<'SQL'
INSERT INTO users (email, name, password_hash)
    SELECT 'author' || g || '@example.org', 'Author ' || g, 'x'
    FROM generate_series(1, :authors) g;
INSERT INTO posts (author_id, title, body, status, visibility, tags,
                   published_at, created_at)
    SELECT u.id, 'Post number ' || g, repeat('Some text. ', 40), 'published',
           'public', ARRAY['t' || (g % 50), 'u' || (g % 7)],
           now() - g * interval '5 min', now() - g * interval '5 min'
    FROM generate_series(1, :items) g
    JOIN users u ON u.email = 'author' || (g % :authors + 1) || '@example.org';
VACUUM ANALYZE users;
VACUUM ANALYZE posts;
SQL
) || die "seeding posts failed: $(cat "$tmp/log/seed.log")"
id=$(curl -fsS "$keel/v1/posts?limit=1&fields=id" |
    sed 's/.*"id":"\([^"]*\)".*/\1/')

# Conduit: the same through its own API, as its clients write.
bench_stack "$tmp/rw" "$builddir/examples/realworld/conduitd" \
    "$srcdir/examples/realworld" "$srcdir/examples/realworld/conduit-errors.conf"
rw=$url
json() { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p"; }
slug=
for a in $(seq "$authors"); do
    tok=$(curl -fsS -H 'Content-Type: application/json' "$rw/api/users" \
        -d "{\"user\":{\"username\":\"author$a\",\"email\":\"author$a@example.org\",\"password\":\"bench password $a\"}}" |
        json token)
    [ -n "$tok" ] || die "registering author$a failed"
    for n in $(seq $((items / authors))); do
        g=$(((n - 1) * authors + a))
        slug=$(curl -fsS -H 'Content-Type: application/json' \
            -H "Authorization: Token $tok" "$rw/api/articles" \
            -d "{\"article\":{\"title\":\"Article number $g\",\"description\":\"About $g\",\"body\":\"$(printf 'Some text. %.0s' $(seq 40))\",\"tagList\":[\"t$((g % 50))\",\"u$((g % 7))\"]}}" |
            json slug) || die "creating article $g failed"
    done
done
[ -n "$slug" ] || die "no slug"
(
    set -a
    . "$tmp/rw/pg.env"
    "$(keel_pg_bin)/psql" -q -c 'VACUUM ANALYZE' >>"$tmp/log/seed.log" 2>&1
) || die "VACUUM failed"

# pair A B: the two rates, each the mean of a run before and after the
# other's (A B B A), printed as "A B".
pair() {
    local a1 b1 b2 a2
    a1=$(bench_rps "$1")
    b1=$(bench_rps "$2")
    b2=$(bench_rps "$2")
    a2=$(bench_rps "$1")
    echo $(((a1 + a2) / 2)) $(((b1 + b2) / 2))
}
read -r list_keel list_rw < <(pair "$keel/v1/posts?limit=20" "$rw/api/articles?limit=20")
read -r one_keel one_rw < <(pair "$keel/v1/posts/$id" "$rw/api/articles/$slug")

pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", 100 * a / b }'; }
echo "bench/realworld.sh: $(date -u +%Y-%m-%dT%H:%MZ), $workers workers each, wrk -t2 -c$conns, ${duration}s per run, 2 runs per case, $items items"
printf '%-40s %8s\n' "(a) keel GET /v1/posts?limit=20" "$list_keel"
printf '%-40s %8s  %6s %% of (a)\n' "(b) Conduit GET /api/articles?limit=20" "$list_rw" "$(pct "$list_rw" "$list_keel")"
printf '%-40s %8s\n' "(c) keel GET /v1/posts/{id}" "$one_keel"
printf '%-40s %8s  %6s %% of (c)\n' "(d) Conduit GET /api/articles/{slug}" "$one_rw" "$(pct "$one_rw" "$one_keel")"
echo "target: (b) and (d) at least 90 % of (a) and (c)"
