#!/bin/bash
# bench/jobs.sh [BUILDDIR] - throughput of the job queue: no-op jobs
# enqueued and completed through keeld's job workers, with 1 and with 2
# job workers, and the machine's pgbench TPS on the same private
# PostgreSQL in the same run.
#
# For each worker count: keeld-test (its job type test.noop does nothing)
# starts with [jobs] workers = N; pgbench with one client then enqueues
# BENCH_JOBS jobs, one transaction each (INSERT + NOTIFY, as job_enqueue
# does), while the workers claim (FOR UPDATE SKIP LOCKED), run and complete
# them.  Jobs/s = jobs / (last completion - first enqueue), from the rows'
# own timestamps.
#
# The ceiling is the same work in SQL alone: pgbench, 2 clients, each
# running a job's three transactions with keel's own statements (insert;
# claim with FOR UPDATE SKIP LOCKED; mark succeeded) on the same jobs
# table, without keel's processes, NOTIFY or LISTEN in between.  Printed
# too: the machine's pgbench simple-update TPS (-N, 2 clients).  The
# cluster is durable (fsync and synchronous_commit on, as in production).
# Target: 2 job workers >= 50 % of the SQL-only ceiling.
#
# Loopback only (PostgreSQL on a unix socket), bounded in time, every
# process stopped by its pid.  Never part of `make check`.
#
# Environment:
#   BENCH_JOBS      jobs per run (default 3000)
#   BENCH_DURATION  seconds of each pgbench TPS run (default 5)
#   BENCH_KEEP=1    keep the temporary directory

set -euo pipefail

srcdir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
builddir=$(cd "${1:-$PWD}" && pwd)
# shellcheck source=../tests/harness/lib.sh
. "$srcdir/tests/harness/lib.sh"
keel_lift_rate_limits

njobs=${BENCH_JOBS:-3000}
duration=${BENCH_DURATION:-5}
die() {
    echo "bench: $*" >&2
    exit 1
}
for v in njobs duration; do
    case ${!v} in
    '' | *[!0-9]* | 0) die "$v must be a positive integer, got '${!v}'" ;;
    esac
done
make -C "$builddir" tests/integration/keeld-test keelctl >&2 ||
    die "build failed"
keeld_test=$builddir/tests/integration/keeld-test
keelctl=$builddir/keelctl
pg_bin=$(keel_pg_bin) || die "PostgreSQL not found (apt-get install postgresql)"
[ -x "$pg_bin/pgbench" ] || die "no pgbench in $pg_bin"

tmp=$(mktemp -d /tmp/keel-jobs-bench.XXXXXX)
chmod 0755 "$tmp"
mkdir -p "$tmp/log"
cleanup() {
    local rc=$?
    set +e
    keel_stop_pidfile "$tmp/keeld.master.pid" 35
    keel_pg_stop "$tmp"
    if [ -n "${BENCH_KEEP:-}" ]; then
        echo "bench: kept $tmp" >&2
    else
        case $tmp in /tmp/keel-jobs-bench.*) rm -rf -- "$tmp" ;; esac
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

keel_pg_start "$tmp" || die "PostgreSQL did not start"
set -a
. "$tmp/pg.env"
set +a
keel_write_config "$tmp" "$tmp/keel.sock" "" "$srcdir"
sed -i 's/^workers = 2$/workers = 1/; s/^level = info$/level = warn/' "$tmp/keel.conf"
"$keelctl" -c "$tmp/keel.conf" migrate up >"$tmp/log/migrate.log" 2>&1 ||
    die "migrate failed: $(cat "$tmp/log/migrate.log")"
"$pg_bin/createdb" bench_pgbench
"$pg_bin/pgbench" -i -s 1 -q bench_pgbench >"$tmp/log/pgbench-init.log" 2>&1 ||
    die "pgbench -i failed"
cat >"$tmp/enqueue.sql" <<'SQL'
BEGIN;
INSERT INTO jobs (type) VALUES ('test.noop');
SELECT pg_notify('keel_jobs', 'test.noop');
COMMIT;
SQL

# A job's life in SQL alone: the statements of src/jobs/queue.c.  The
# other client may have claimed this client's job; the claim then takes
# the next, or none (claimed = 0).
cat >"$tmp/lifecycle.sql" <<'SQL'
INSERT INTO jobs (type) VALUES ('bench.sql');
WITH c AS (UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_by = 'pgbench', locked_until = now() + interval '5 min', updated_at = now() WHERE id = (SELECT id FROM jobs WHERE (status IN ('queued', 'failed') AND run_at <= now()) OR (status = 'running' AND locked_until < now()) ORDER BY priority DESC, run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id) SELECT coalesce(max(id), 0) AS claimed FROM c \gset
UPDATE jobs SET status = 'succeeded', locked_until = NULL, locked_by = NULL, last_error = NULL, updated_at = now() WHERE id = :claimed;
SQL

tps() { # tps DB ARGS...: pgbench's TPS
    "$pg_bin/pgbench" -n -c 2 -j 2 -T "$duration" "${@:2}" "$1" 2>/dev/null |
        awk '/^tps = / {printf "%.0f", $3}'
}
sql_ceiling() {
    psql -Atq -c "TRUNCATE jobs"
    tps keel -f "$tmp/lifecycle.sql"
}

run_jobs() { # run_jobs WORKERS: prints jobs per second
    local n=$1 i
    psql -Atq -c "TRUNCATE jobs"
    KEEL_JOBS_WORKERS=$n KEEL_JOBS_POLL_INTERVAL=1s \
        keel_start_keeld "$keeld_test" "$tmp" >&2 || die "keeld-test did not start"
    for i in $(seq 1 100); do
        # Each job worker holds a connection whose last statement is LISTEN.
        [ "$(psql -Atq -c "SELECT count(*) FROM pg_stat_activity WHERE query = 'LISTEN keel_jobs'")" -ge "$n" ] && break
        sleep 0.1
    done
    "$pg_bin/pgbench" -n -c 1 -t "$njobs" -f "$tmp/enqueue.sql" keel \
        >"$tmp/log/enqueue-$n.log" 2>&1 || die "enqueue failed"
    for i in $(seq 1 600); do
        [ "$(psql -Atq -c "SELECT count(*) FROM jobs WHERE status <> 'succeeded'")" = 0 ] && break
        sleep 0.1
    done
    [ "$(psql -Atq -c "SELECT count(*) FROM jobs WHERE status = 'succeeded'")" = "$njobs" ] ||
        die "not every job succeeded with $n worker(s)"
    keel_stop_pidfile "$tmp/keeld.master.pid" 35
    : >"$tmp/log/keeld.log"
    psql -Atq -c "SELECT round(count(*) / extract(epoch FROM max(updated_at) - min(created_at)))
                  FROM jobs"
}

echo "bench/jobs.sh: $njobs no-op jobs per run; $(nproc) CPUs; $(date -u +%Y-%m-%dT%H:%MZ)"
n1=$(tps bench_pgbench -N)
c1=$(sql_ceiling)
j1=$(run_jobs 1)
j2=$(run_jobs 2)
c2=$(sql_ceiling)
n2=$(tps bench_pgbench -N)
ceiling=$(( (c1 + c2) / 2 ))
printf '%-44s %8s\n' "pgbench -N -c2 TPS (before, after)" "$n1, $n2"
printf '%-44s %8s\n' "SQL-only job lifecycles/s, 2 clients (b, a)" "$c1, $c2"
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", 100 * a / b }'; }
printf '%-44s %8s  %5s %% of ceiling\n' "jobs/s, 1 job worker" "$j1" "$(pct "$j1" "$ceiling")"
printf '%-44s %8s  %5s %% of ceiling\n' "jobs/s, 2 job workers" "$j2" "$(pct "$j2" "$ceiling")"
ok=$(awk -v a="$j2" -v b="$ceiling" 'BEGIN { print (a >= 0.5 * b) ? "met" : "MISSED" }')
echo "target (2 job workers >= 50 % of the SQL-only ceiling): $ok"
