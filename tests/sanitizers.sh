#!/usr/bin/env bash
# sanitizers.sh BUILD - the canary of the sanitizer step (scripts/dev.sh
# check_sanitizers): proves that a fault in any keel process of the
# sanitized build BUILD (configure --enable-sanitizers) is reported to a
# file, so that "no report file" after make check means "no fault".
# A private PostgreSQL, BUILD's keeld-test (master, 2 request workers, 1
# job worker) behind a private nginx, all stopped by pid.  Checks: every
# program links the sanitizer runtime and every keeld process runs with
# it; a use after free in a request worker, a signed overflow in another
# and a use after free in a job worker each leave one report naming the
# function, from that worker, and the master serves on; a leak in the
# master (a preloaded canary library that leaks at start) is reported when
# the master exits, and one in keelctl when keelctl exits.
# Prints "N passed, N failed"; exits 1 when a check failed.
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:?usage: sanitizers.sh BUILD}" && pwd)
# shellcheck source=harness/lib.sh
. "$src/tests/harness/lib.sh"
export PATH="$PATH:/usr/sbin:/sbin"
keel_lift_rate_limits

dir=$(mktemp -d /tmp/keel-san.XXXXXX)
chmod 755 "$dir"
mkdir -p "$dir/log" "$dir/reports"
chmod 1777 "$dir/reports"
stop_all() {
    keel_stop_pidfile "$dir/nginx.pid" 10
    keel_stop_pidfile "$dir/keeld.master.pid" 30
    keel_pg_stop "$dir"
    if [ "$fail" = 0 ] && [ -z "${KEEL_KEEP_TEST_DIR:-}" ]; then
        rm -rf "$dir"
    else
        echo "sanitizers.sh: test directory kept: $dir" >&2
    fi
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# This run's reports, apart from the make check run's.
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:log_path=$dir/reports/asan:log_exe_name=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$dir/reports/ubsan:log_exe_name=1"
unset LSAN_OPTIONS

# ---- the programs --------------------------------------------------------
# clang links the runtime into each program (no libasan.so to look for).
sanitized() { nm "$1" 2>/dev/null | grep -q ' __asan_init$' &&
    nm "$1" | grep -q ' __ubsan_handle_add_overflow_abort$'; }
progs=0 bad=""
for p in "$build/keeld" "$build/keelctl" "$build"/tests/integration/keeld-test \
    "$build"/tests/unit/test_* "$build"/tests/integration/test_*; do
    case $p in *.o | *.log | *.trs | *.c) continue ;; esac
    [ -x "$p" ] || continue
    progs=$((progs + 1))
    sanitized "$p" || bad="$bad ${p#"$build"/}"
done
keel_check "every program links ASan and UBSan ($progs programs)" \
    test -z "$bad" -a "$progs" -ge 20
[ -n "$bad" ] && echo "    not sanitized:$bad"

# ---- the leak canary -----------------------------------------------------
# A library that leaks one block when it is loaded; the pointer is kept
# only XOR-masked, so no scan of memory finds it.
cat >"$dir/leak-canary.c" <<'C'
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
uintptr_t keel_leak_canary_hidden;
__attribute__((constructor, noinline)) void
keel_leak_canary(void)
{
    char *p = malloc(4242);
    if (p != NULL)
        memset(p, 1, 4242);
    keel_leak_canary_hidden = (uintptr_t)p ^ (uintptr_t)0x5a5a5a5a5a5a5a5aULL;
}
C
cc -shared -fPIC -g -O0 -fno-omit-frame-pointer -o "$dir/leak-canary.so" \
    "$dir/leak-canary.c" || exit 1

# reports_of PID: the report files of process PID (none: empty).
reports_of() { ls "$dir"/reports/*."$1" 2>/dev/null; }
# report_done PID: PID's report is written to its end (it is written in
# parts, the symbolized stack last).
report_done() {
    local f
    f=$(reports_of "$1")
    # shellcheck disable=SC2086 # one file or a few
    [ -n "$f" ] && grep -q '^SUMMARY: ' $f
}
report_has() { # report_has PID TEXT...: PID's reports hold every TEXT
    local f pid=$1 t
    shift
    f=$(reports_of "$pid")
    [ -n "$f" ] || return 1
    for t in "$@"; do
        # shellcheck disable=SC2086 # one file or a few
        grep -q -- "$t" $f || return 1
    done
}
children() { ps -o pid= --ppid "$1" | tr -d ' '; }

# ---- the server ------------------------------------------------------------
keel_pg_start "$dir" fast || exit 1
keel_write_config "$dir" "$dir/keel.sock" "request_timeout = 10s" "$src"
printf '\n[jobs]\nworkers = 1\npoll_interval = 1s\n' >>"$dir/keel.conf"
"$build/keelctl" -c "$dir/keel.conf" migrate up >"$dir/log/migrate.log" 2>&1 || {
    cat "$dir/log/migrate.log" >&2
    exit 1
}
keel_check "keelctl migrate up leaves no report" \
    test -z "$(ls "$dir/reports")"
LD_PRELOAD="$dir/leak-canary.so" \
    keel_start_keeld "$build/tests/integration/keeld-test" "$dir" || exit 1
port=$(keel_free_port) || exit 1
keel_nginx_conf "$dir" "$port" "$dir/keel.sock" "$src"
keel_start_nginx "$dir" || exit 1
url="http://127.0.0.1:$port"
KEEL_WAIT=30 keel_wait_for keel_http_ok "$url/health" || {
    cat "$dir"/log/* >&2
    exit 1
}
master=$(cat "$dir/keeld.master.pid")
# Every worker up: 2 request workers and 1 job worker.
KEEL_WAIT=30 keel_wait_for bash -c "test \$(ps -o pid= --ppid $master | wc -l) -ge 3"
procs="$master $(children "$master" | tr '\n' ' ')"
n=0 m=0
for p in $procs; do
    n=$((n + 1))
    # The sanitized program, with ASan's shadow memory mapped (x86-64: it
    # ends at 0x10007fff8000).
    [ "$(readlink "/proc/$p/exe")" = "$build/tests/integration/keeld-test" ] &&
        grep -q -- '-10007fff8000 ' "/proc/$p/maps" 2>/dev/null && m=$((m + 1))
done
keel_check "master and its $((n - 1)) workers run the sanitized keeld-test ($m of $n)" \
    test "$n" -ge 4 -a "$m" = "$n"
keel_check "serving /health leaves no report" test -z "$(ls "$dir/reports")"

# ---- faults in request workers ----------------------------------------------
fault() { # fault KIND CHECK-TEXT: ?fault=KIND in a worker, its report
    local before after code p victim="" i
    before=$(children "$master" | tr '\n' ' ')
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 \
        "$url/test/sanitizer?fault=$1")
    for i in $(seq 1 200); do
        for p in $before; do
            if report_done "$p"; then victim=$p; fi
        done
        [ -n "$victim" ] && break
        sleep 0.1
    done
    keel_check "?fault=$1: the answer is not a 200 ($code)" test "$code" != 200
    keel_check "?fault=$1: a request worker's report names $2 and the function" \
        report_has "${victim:-none}" "$2" "sanitizer_fault" "test_sanitizer"
    keel_check "?fault=$1: the reporting process was a worker, not the master" \
        test -n "$victim" -a "$victim" != "$master"
    KEEL_WAIT=30 keel_wait_for keel_http_ok "$url/health"
    keel_check "?fault=$1: the master still serves (/health 200)" keel_http_ok "$url/health"
}
fault heap "heap-use-after-free"
fault ub "signed integer overflow"

# ---- a fault in the job worker ------------------------------------------------
# The workers now, but not a faulted one the master has not reaped yet.
jobpids=""
for p in $(children "$master"); do
    [ -z "$(reports_of "$p")" ] && jobpids="$jobpids $p"
done
(set -a; . "$dir/pg.env"; "$(keel_pg_bin)/psql" -Atq \
    -c "INSERT INTO jobs (type) VALUES ('test.sanitizer'); NOTIFY keel_jobs;") >/dev/null
jobvictim=""
for i in $(seq 1 300); do
    for p in $jobpids; do
        if report_done "$p"; then
            jobvictim=$p
        fi
    done
    [ -n "$jobvictim" ] && break
    sleep 0.1
done
keel_check "a job worker's use after free is reported, naming job_sanitizer" \
    report_has "${jobvictim:-none}" "heap-use-after-free" "job_sanitizer"

# ---- leaks at exit ---------------------------------------------------------------
keel_check "no leak report while the master runs" \
    test -z "$(reports_of "$master")"
keel_stop_pidfile "$dir/keeld.master.pid" 30
keel_wait_for report_done "$master"
keel_check "the master's leak is reported at its exit, naming the canary" \
    report_has "$master" "detected memory leaks" "4242 byte" "keel_leak_canary"
keel_check "no worker reported a leak (they leave with _exit)" \
    bash -c "! grep -l 'detected memory leaks' '$dir'/reports/* | grep -v '\\.$master\$'"
LD_PRELOAD="$dir/leak-canary.so" "$build/keelctl" version >/dev/null &
kpid=$!
wait "$kpid"
keel_check "keelctl's leak is reported at its exit" \
    report_has "$kpid" "detected memory leaks" "keel_leak_canary"


echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
