#!/usr/bin/env bash
# bruno.sh [FOLDER...] - run RealWorld's Bruno suite against conduitd behind
# a private nginx and PostgreSQL (tests/harness/lib.sh), one folder at a
# time as the suite's own run-api-tests-bruno.sh does (default: every
# folder, then conduitd's own checks, checks.sh, and two checks of nginx's
# own errors in Conduit's body, conduit-errors.conf; "checks" names these
# alone).  Exits non-zero when any request, assertion or check fails; the
# last line says "N passed, N failed" (folders of the suite and the nginx
# checks).
#
# The pinned runner is tools/bruno (npm ci --prefix tools/bruno, or
# $KEEL_BRUNO_TOOLS); the suite is $REALWORLD_SPEC/bruno (default
# examples/realworld/spec, vendored with its MIT licence).
# Everything listens on loopback only.
set -u

src=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${top_builddir:-.}
src=$(cd "$src" && pwd)
build=$(cd "$build" && pwd)
# shellcheck source=../../tests/harness/lib.sh
. "$src/tests/harness/lib.sh"
# shellcheck source=checks.sh
. "$src/examples/realworld/checks.sh"

spec=${REALWORLD_SPEC:-$src/examples/realworld/spec}
tools=${KEEL_BRUNO_TOOLS:-$src/tools/bruno}
bru="$tools/node_modules/.bin/bru"
for need in "$bru" "$build/examples/realworld/conduitd" "$build/keelctl"; do
    if [ ! -x "$need" ]; then
        echo "bruno.sh: $need is missing (make; npm ci --prefix tools/bruno)" >&2
        exit 1   # a failure, never a skip
    fi
done
if [ ! -d "$spec/bruno" ]; then
    echo "bruno.sh: no RealWorld suite in $spec/bruno (set REALWORLD_SPEC)" >&2
    exit 1
fi
export PATH="$PATH:/usr/sbin:/sbin"
keel_lift_rate_limits

dir=$(mktemp -d /tmp/keel-rw.XXXXXX)
stop_all() {
    keel_stack_stop "$dir"
    keel_stack_remove "$dir" bruno.sh
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# conduitd with its own migrations (examples/realworld/sql/migrations),
# nginx's own errors in Conduit's body.
KEEL_NGINX_ERRORS="$src/examples/realworld/conduit-errors.conf" \
    keel_stack_start "$dir" "$build/examples/realworld/conduitd" \
    "$src/examples/realworld" "request_timeout = 10s" || exit 1

# The collection is copied: the runner may write beside it.
cp -r "$spec/bruno" "$dir/bruno"
folders=()
checks=0
for f in "$@"; do
    if [ "$f" = checks ]; then checks=1; else folders+=("$f"); fi
done
if [ $# -eq 0 ]; then
    checks=1
    for f in "$dir"/bruno/*/; do
        f=${f%/}
        [ "${f##*/}" = environments ] || folders+=("${f##*/}")
    done
fi
# The runner's summary table in one line: "Requests 20 (20 Passed), ...".
summary() {
    sed -n 's/^│ *\(Requests\|Tests\|Assertions\) *│ *\(.*[^ ]\) *│$/\1 \2/p' "$1" |
        paste -sd, | sed 's/,/, /g'
}
for f in "${folders[@]}"; do
    echo "== $f"
    # Bounded: a folder is a few dozen requests on loopback.
    if (cd "$dir/bruno" && timeout 300 "$bru" run "$f" --env local \
            --env-var "host=$url" --sandbox safe) >"$dir/log/bru-$f.log" 2>&1; then
        keel_check "$f: $(summary "$dir/log/bru-$f.log")" true
    else
        cat "$dir/log/bru-$f.log"
        keel_check "$f (bru exit status non-zero)" false
    fi
done
if [ "$checks" = 1 ]; then
    echo "== conduitd's own checks (checks.sh)"
    rw_checks "$url"
    echo "conduitd's own checks: $rw_pass passed, $rw_fail failed"
    # nginx's own answers speak Conduit too (conduit-errors.conf): a path
    # nginx refuses, then the API with conduitd stopped (so: last).
    echo "== nginx's errors (conduit-errors.conf)"
    body=$(curl -s -o - -w ' %{http_code}' "$url/api/%zz")
    keel_check "nginx's 400 in Conduit's error body ($body)" \
        test "$body" = '{"errors":{"body":["malformed request"]}} 400'
    keel_stop_pidfile "$dir/keeld.master.pid" 20
    body=$(curl -s -o - -w ' %{http_code}' "$url/api/tags")
    keel_check "nginx's 503 in Conduit's error body when conduitd is down ($body)" \
        test "$body" = '{"errors":{"body":["service temporarily unavailable"]}} 503'
fi
if [ "$fail" -gt 0 ] || [ "$rw_fail" -gt 0 ]; then
    echo "bruno.sh: conduitd's log:" >&2
    grep -v '"msg":"access"' "$dir/log/keeld.log" | tail -n 20 >&2
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$rw_fail" -eq 0 ]
