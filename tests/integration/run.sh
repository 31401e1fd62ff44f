#!/usr/bin/env bash
# run.sh - the integration suites: real nginx and Apache in front of
# keeld-test (keeld plus test-only routes), all private to one temporary
# directory, on free loopback ports, stopped by pid whatever happens.
set -u

src=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${top_builddir:-.}
src=$(cd "$src" && pwd)
build=$(cd "$build" && pwd)
# shellcheck source=../harness/lib.sh
. "$src/tests/harness/lib.sh"

for tool in nginx apache2 curl spawn-fcgi systemd-socket-activate; do
    if ! command -v "$tool" >/dev/null 2>&1 &&
       ! [ -x "/usr/sbin/$tool" ]; then
        echo "run.sh: $tool is missing (scripts/dev.sh installs it)" >&2
        exit 1   # a failure, never a skip
    fi
done
export PATH="$PATH:/usr/sbin:/sbin"
keel_lift_rate_limits

dir=$(mktemp -d /tmp/keel-it.XXXXXX)
stop_all() {
    keel_stack_stop "$dir"
    keel_stack_remove "$dir" run.sh
}
trap stop_all EXIT
trap 'exit 130' INT TERM

sock="$dir/keel.sock"
# A short lease, so that the kill -9 test sees a job claimed again soon;
# a short refresh grace window, so that reuse after it is seen soon.
KEEL_AUTH_REFRESH_REUSE_GRACE=1s \
    keel_stack_start "$dir" "$build/tests/integration/keeld-test" "$src" \
    "max_requests = 100" "request_timeout = 2s" "shutdown_timeout = 10s" \
    "" "[jobs]" "workers = 1" "lease = 2s" || exit 1
apache_port=$(keel_free_port) || exit 1
keel_apache_conf "$dir" "$apache_port" "$sock"
keel_start_apache "$dir" || exit 1

export KEEL_TEST_URL=$url
export KEEL_TEST_APACHE_URL="http://127.0.0.1:$apache_port"
export KEEL_TEST_DIR="$dir"
export KEEL_TEST_KEELD="$build/tests/integration/keeld-test"
export KEEL_TEST_KEELCTL="$build/keelctl"
export KEEL_TEST_SINK="$build/tests/harness/sink"
export KEEL_TEST_SRCDIR="$src"
export KEEL_TEST_BUILDDIR="$build"
KEEL_TEST_PGURL=$(. "$dir/pg.env" &&
    echo "host=$PGHOST port=$PGPORT dbname=$PGDATABASE user=$PGUSER")
export KEEL_TEST_PGURL
# test_jobs drives the queue by hand: a database of its own, where no job
# worker of keeld-test competes for its jobs.
(set -a; . "$dir/pg.env"; "$(keel_pg_bin)/createdb" keel_queue) || exit 1
sed "s|dbname=keel |dbname=keel_queue |" "$dir/keel.conf" >"$dir/queue.conf"
"$build/keelctl" -c "$dir/queue.conf" migrate up >>"$dir/log/migrate.log" 2>&1 || exit 1
export KEEL_TEST_PGURL_QUEUE="${KEEL_TEST_PGURL/dbname=keel /dbname=keel_queue }"
# test_plans fills a database of its own with 100 000 posts.
(set -a; . "$dir/pg.env"; "$(keel_pg_bin)/createdb" keel_plans) || exit 1
sed "s|dbname=keel |dbname=keel_plans |" "$dir/keel.conf" >"$dir/plans.conf"
"$build/keelctl" -c "$dir/plans.conf" migrate up >>"$dir/log/migrate.log" 2>&1 || exit 1
export KEEL_TEST_PGURL_PLANS="${KEEL_TEST_PGURL/dbname=keel /dbname=keel_plans }"
if ! keel_wait_for keel_http_ok "$KEEL_TEST_URL/health" ||
   ! keel_wait_for keel_http_ok "$KEEL_TEST_APACHE_URL/health"; then
    echo "run.sh: the stack did not come up" >&2
    cat "$dir"/log/* >&2
    exit 1
fi

# The contract test (tests/contract.mjs): the document as keeld-test serves
# it, fetched now (test_process stops keeld at the end), and a record of
# every response the CUnit suites receive.
tools=${KEEL_NODE_TOOLS:-${abs_top_srcdir:-$src}/tools/node}
contract=1
if ! command -v node >/dev/null 2>&1 || [ ! -d "$tools/node_modules/ajv" ]; then
    contract=0
fi
if ! curl -sf -o "$dir/openapi.json" "$KEEL_TEST_URL/v1/openapi.json"; then
    echo "run.sh: GET /v1/openapi.json failed" >&2
    exit 1
fi
export KEEL_TEST_RECORD="$dir/responses.jsonl"
: >"$KEEL_TEST_RECORD"

status=0
nsuites=0
# skipped SUITE: SUITE (shell or C) is in KEEL_SKIP_SUITES, left out on
# purpose and said so with KEEL_SKIP_REASON (the sanitizer step of dev.sh
# leaves out deb.sh).
skipped() {
    case " ${KEEL_SKIP_SUITES:-} " in *" $1 "*) ;; *) return 1 ;; esac
    echo "run.sh: $1 SKIPPED: ${KEEL_SKIP_REASON:-KEEL_SKIP_SUITES}"
}
# The shell suites, each with the log worth showing when it fails.
shell_suites=(
    database.sh:log/keeld.log
    cache.sh:cache/log/nginx-error.log
    ratelimit.sh:rl/log/keeld.log
    hashgate.sh:hashgate/log/keeld.log
    metrics.sh:metrics/log/keeld.log
    daemon.sh:daemon/log/keeld.log
    install.sh:install/log/*.log
    deb.sh:deb/log/*.log
    jobs.sh:hooks/log/keeld.log
)
for entry in "${shell_suites[@]}"; do
    echo "== ${entry%%:*}"
    skipped "${entry%%:*}" && continue
    if ! "$src/tests/integration/${entry%%:*}"; then
        status=1
        # shellcheck disable=SC2086 # the log may be a glob
        tail -n 30 "$dir"/${entry#*:} >&2 2>/dev/null
    fi
done
# The process suite runs last: its final test stops keeld.
for suite in test_http test_apache test_listen test_fcgi_abuse test_jobs test_plans test_auth test_access test_posts test_products test_orders test_process; do
    echo "== $suite"
    skipped "$suite" && continue
    nsuites=$((nsuites + 1))
    if ! "$build/tests/integration/$suite"; then
        status=1
        echo "== $suite FAILED; keeld log tail:" >&2
        tail -n 40 "$dir/log/keeld.log" >&2
        tail -n 20 "$dir/log/nginx-error.log" "$dir/log/apache-error.log" \
            >&2 2>/dev/null
    fi
done
echo "== contract"
if [ "$nsuites" = 0 ]; then
    echo "run.sh: contract: no suite ran"
elif [ ! -s "$KEEL_TEST_RECORD" ]; then
    # The suites record through client.c: none recorded is a broken record.
    echo "run.sh: contract: no responses were recorded" >&2
    status=1
elif [ "$contract" = 1 ]; then
    KEEL_CONTRACT_SKIP=/test/ node "$src/tests/contract.mjs" "$dir/openapi.json" "$KEEL_TEST_RECORD" \
        "$tools" || status=1
elif [ "${KEEL_REQUIRE_NODE_TOOLS:-0}" = 1 ]; then
    echo "run.sh: contract: no node or no $tools/node_modules" >&2
    status=1
else
    echo "run.sh: contract: skipped (no node tools: npm ci --prefix tools/node)"
fi
exit $status
