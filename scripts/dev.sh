#!/usr/bin/env bash
# dev.sh - one command to set up, run and test keel on Debian/Ubuntu.
#
#   ./scripts/dev.sh run     install what is missing, build, start keeld
#                            behind a private nginx on 127.0.0.1:${KEEL_PORT:-8080}
#   ./scripts/dev.sh stop    stop what `run` started
#   ./scripts/dev.sh run realworld
#                            the same for RealWorld's Conduit API
#                            (examples/realworld) on ${KEEL_PORT:-8081}
#   ./scripts/dev.sh stop realworld
#   ./scripts/dev.sh check   install, build (warnings are errors), make check,
#                            make distcheck, then the reliability steps
#   ./scripts/dev.sh check --long
#                            the same with the long reliability runs
#   ./scripts/dev.sh check-step NAME [--long]
#                            install, build, and one reliability step only
#
# Everything it starts lives under .run/ and is stopped by pid; it never
# touches a system nginx, Apache or PostgreSQL.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
run_dir="$root/.run"

packages=(
    build-essential autoconf automake pkg-config
    libfcgi-dev libpq-dev libjson-c-dev libjwt-dev libargon2-dev
    libcunit1-dev libcurl4-openssl-dev libssl-dev libsystemd-dev postgresql
    nginx apache2 curl clang-format mandoc spawn-fcgi systemd logrotate wrk
    openssl prometheus dpkg-dev debhelper
    clang libclang-rt-14-dev sqlmap jq
)

say() { printf '==> %s\n' "$*"; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

install_deps() {
    local missing=() p
    for p in "${packages[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
                grep -q 'install ok installed'; then
            missing+=("$p")
        fi
    done
    # Node runs the OpenAPI lint, docs and contract test (tools/node); a
    # node from elsewhere (nodesource, nvm) is as good as Debian's.
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        missing+=(nodejs npm)
    fi
    if [ ${#missing[@]} -eq 0 ]; then
        node_tools
        return 0
    fi
    say "installing: ${missing[*]}"
    # Installing nginx or apache2 would start their system services; keel
    # only ever runs private instances, so keep the services down.
    local policy=/usr/sbin/policy-rc.d created=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
        as_root chmod 755 "$policy"
        created=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "${missing[@]}"
    [ "$created" = 1 ] && as_root rm -f "$policy"
    node_tools
    return 0
}

# The pinned node tools (tools/node/package-lock.json): npm ci when they
# are not installed or the lock changed since they were.
node_tools() {
    local dir="$root/tools/node" stamp="$root/tools/node/node_modules/.keel-lock"
    local want
    want=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
    if [ -d "$dir/node_modules" ] &&
       [ "$(cat "$stamp" 2>/dev/null || true)" = "$want" ]; then
        return 0
    fi
    say "npm ci (tools/node)"
    npm ci --prefix "$dir" --no-audit --no-fund
    echo "$want" > "$stamp"
}

build() {
    local configure_args=("$@")
    if [ ! -x configure ] || [ configure.ac -nt configure ] ||
       [ Makefile.am -nt configure ]; then
        say "autoreconf"
        autoreconf -fi
    fi
    if [ ! -f Makefile ] || [ configure -nt Makefile ] ||
       [ "$(cat .configure-args 2>/dev/null || true)" != "${configure_args[*]:-}" ]; then
        say "configure ${configure_args[*]:-}"
        ./configure "${configure_args[@]}"
        echo "${configure_args[*]:-}" > .configure-args
    fi
    say "make"
    make -j"$(nproc)"
}

# shellcheck source=../tests/harness/lib.sh
. "$root/tests/harness/lib.sh"

# stop_dir DIR: stop what run (or run realworld) started in DIR.
stop_dir() {
    keel_stop_pidfile "$1/nginx.pid" 10
    keel_stop_pidfile "$1/keeld.master.pid" 35
    keel_pg_stop "$1"
}

stop() {
    case "${1:-}" in
    "") stop_dir "$run_dir" ;;
    realworld) stop_dir "$run_dir/realworld" ;;
    *) echo "usage: $0 stop [realworld]" >&2; exit 2 ;;
    esac
}

# run realworld: RealWorld's Conduit API (examples/realworld/conduitd) on
# its own private PostgreSQL in .run/realworld, behind its own nginx on
# 127.0.0.1:${KEEL_PORT:-8081}, so that it can run beside keel's.
run_realworld() {
    local port=${KEEL_PORT:-8081} dir="$run_dir/realworld"
    install_deps
    build
    make examples/realworld/conduitd
    stop_dir "$dir"
    mkdir -p "$dir/log"
    chmod 755 "$run_dir" "$dir"
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "dev.sh: port $port is in use; set KEEL_PORT" >&2
        exit 1
    fi
    keel_pg_start "$dir"
    # conduitd's own migrations (examples/realworld/sql/migrations).
    keel_write_config "$dir" "$dir/keel.sock" "" "$root/examples/realworld"
    "$root/keelctl" -c "$dir/keel.conf" migrate up
    keel_start_keeld "$root/examples/realworld/conduitd" "$dir"
    KEEL_NGINX_ERRORS="$root/examples/realworld/conduit-errors.conf" \
        keel_nginx_conf "$dir" "$port" "$dir/keel.sock" "$root"
    keel_start_nginx "$dir"
    if ! keel_wait_for keel_http_ok "http://127.0.0.1:$port/health"; then
        echo "dev.sh: /health did not answer; logs in $dir/log" >&2
        exit 1
    fi
    cat <<TXT

Conduit (RealWorld API) is running on http://127.0.0.1:$port/api (conduitd master pid $(cat "$dir/keeld.master.pid")).

  curl -s http://127.0.0.1:$port/api/users -H 'Content-Type: application/json' \\
      -d '{"user":{"username":"jake","email":"jake@example.org","password":"jakejake"}}'
  curl -s http://127.0.0.1:$port/api/articles
  curl -s http://127.0.0.1:$port/api/tags

  # Any RealWorld front end: point its API URL at http://127.0.0.1:$port/api

PostgreSQL: $(. "$dir/pg.env"; echo "psql -h $PGHOST -p $PGPORT -U $PGUSER $PGDATABASE")

Config: $dir/keel.conf   Logs: $dir/log/   Stop: ./scripts/dev.sh stop realworld
TXT
}

run() {
    case "${1:-}" in
    "") ;;
    realworld) run_realworld; return ;;
    *) echo "usage: $0 run [realworld]" >&2; exit 2 ;;
    esac
    local port=${KEEL_PORT:-8080}
    install_deps
    build
    stop
    mkdir -p "$run_dir/log"
    chmod 755 "$run_dir"
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "dev.sh: port $port is in use; set KEEL_PORT" >&2
        exit 1
    fi
    # A private cluster in .run/pg (kept across runs, fsync on).
    keel_pg_start "$run_dir"
    keel_write_config "$run_dir" "$run_dir/keel.sock" "" "$root"
    "$root/keelctl" -c "$run_dir/keel.conf" migrate up
    # An admin account, made once; its password is printed only then.
    local admin_note=""
    if [ ! -f "$run_dir/admin-created" ]; then
        local pw
        pw=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
        printf '%s\n' "$pw" | "$root/keelctl" -c "$run_dir/keel.conf" \
            user create --email admin@example.org --name Admin --role admin
        touch "$run_dir/admin-created"
        admin_note="Admin account (shown this once): admin@example.org / $pw"
    fi
    keel_start_keeld "$root/keeld" "$run_dir"
    keel_nginx_conf "$run_dir" "$port" "$run_dir/keel.sock" "$root"
    keel_start_nginx "$run_dir"
    if ! keel_wait_for keel_http_ok "http://127.0.0.1:$port/health"; then
        echo "dev.sh: /health did not answer; logs in $run_dir/log" >&2
        exit 1
    fi
    cat <<TXT

keel is running on http://127.0.0.1:$port (keeld master pid $(cat "$run_dir/keeld.master.pid")).

  curl -i http://127.0.0.1:$port/health
  curl -i http://127.0.0.1:$port/ready
  curl -i http://127.0.0.1:$port/v1/nothing-here      # the error envelope

  # Log in as the admin (password below, shown once), then use the token:
  TOKEN=\$(curl -s http://127.0.0.1:$port/v1/auth/login \\
      -H 'Content-Type: application/json' \\
      -d '{"email":"admin@example.org","password":"<admin password>"}' |
      sed -n 's/.*"access_token":"\\([^"]*\\)".*/\\1/p')
  curl -s -H "Authorization: Bearer \$TOKEN" http://127.0.0.1:$port/v1/auth/me
  curl -s -H "Authorization: Bearer \$TOKEN" \\
      'http://127.0.0.1:$port/v1/users?limit=5&sort=email&fields=id,email,roles'
  curl -s -H "Authorization: Bearer \$TOKEN" http://127.0.0.1:$port/v1/roles
  curl -s -H "Authorization: Bearer \$TOKEN" \\
      'http://127.0.0.1:$port/v1/audit-events?limit=5'

PostgreSQL: $(. "$run_dir/pg.env"; echo "psql -h $PGHOST -p $PGPORT -U $PGUSER $PGDATABASE")

Config: $run_dir/keel.conf   Logs: $run_dir/log/   Stop: ./scripts/dev.sh stop
${admin_note}
TXT
}

# A second build of the same sources in _build/NAME/keel, from a copy
# of the distributed tree (make distdir: what a tarball holds), so that the
# in-tree build stays as it is.  Its configure arguments follow NAME.
side_build() {
    local name=$1 dir
    shift
    dir="$root/_build/$name"
    rm -rf "$dir"
    mkdir -p "$dir"
    make -s --no-print-directory distdir distdir="$dir/keel" >/dev/null
    say "configure ($name) $*"
    (cd "$dir/keel" && ./configure "$@" >"$dir/configure.log" 2>&1) ||
        { tail -n 30 "$dir/configure.log" >&2; return 1; }
    say "make ($name)"
    make -C "$dir/keel" -j"$(nproc)" >"$dir/make.log" 2>&1 ||
        { tail -n 30 "$dir/make.log" >&2; return 1; }
}

# The reliability steps (issue #12), in order: `check` runs each function
# check_NAME after make check and distcheck; KEEL_LONG=1 (check --long)
# asks each for its long version.  A step prints its own closing line.
check_steps=(
    fault
    soak
    fuzz
    sqlmap
    realworld
    sanitizers
)

# Faults under a mixed load with nothing lost: workers killed, PostgreSQL
# restarted, the log's disk full (tests/reliability/fault.sh, ~2 min).
check_fault() {
    "$root/tests/reliability/fault.sh" "$root"
}

# 120 000 mixed requests (1 000 000 with --long): memory per worker and
# no 5xx (tests/reliability/soak.sh, ~4 min; --long ~30 min).
check_soak() {
    "$root/tests/reliability/soak.sh" "$root"
}

# Item 2 of #12: the libFuzzer targets (tests/fuzz) built by clang with
# ASan and UBSan, each run for 60 s (300 s with --long) from its seeds.
check_fuzz() {
    local seconds=60
    [ "${KEEL_LONG:-0}" = 1 ] && seconds=300
    side_build fuzz CC=clang --enable-fuzzing --enable-werror || return 1
    make -C "$root/_build/fuzz/keel" --no-print-directory fuzz \
        FUZZ_SECONDS="$seconds" FUZZ_OUT="$root/_build/fuzz/out"
}

# The injection scan (scripts/security-scan.sh): sqlmap against the
# endpoints that take query parameters or JSON, and its negative control
# in keeld-test; reduced (~3 minutes), or every endpoint with --long.
check_sqlmap() {
    make -s tests/integration/keeld-test
    if [ "$KEEL_LONG" = 1 ]; then
        "$root/scripts/security-scan.sh" --full
    else
        "$root/scripts/security-scan.sh" --reduced
    fi
}

# sanitizers: the whole make check again on a build with AddressSanitizer,
# LeakSanitizer and UndefinedBehaviorSanitizer (--enable-sanitizers), in
# _build/asan.  Every keel program in it is sanitized: the unit suites,
# keeld-test's master and the request and job workers it forks (through
# nginx and Apache), keelctl, the installed keeld of install.sh.  Each
# process writes its reports to a file of its own in _build/asan/reports
# (workers' stderr goes to keeld's log or nowhere); the step fails on any
# report file, on any failed test, and when the canary (tests/sanitizers.sh:
# faults put on purpose in a request worker, a job worker, the master and
# keelctl) is not caught.  deb.sh builds its own package without
# sanitizers: skipped here (KEEL_SKIP_SUITES, said in the log).
check_sanitizers() {
    local dir="$root/_build/asan" reports t0=$SECONDS status=0 n=0
    local canary="not run" ok=0 bad=0
    reports="$dir/reports"
    # clang: its one runtime writes UBSan's reports to log_path as well;
    # GCC's separate libubsan ignores log_path beside libasan (the reports
    # of a worker would go to its stderr, /dev/null under a daemon).
    side_build asan CC=clang --enable-sanitizers --enable-werror || {
        echo "sanitizers: 0 passed, 1 failed (the build failed)"
        return 1
    }
    # The test programs (keeld-test), then the canary: it proves that a
    # fault would be reported.
    make -C "$dir/keel" -j"$(nproc)" check TESTS= >"$dir/make-check-progs.log" 2>&1 || {
        tail -n 30 "$dir/make-check-progs.log" >&2
        echo "sanitizers: 0 passed, 1 failed (the test programs did not build)"
        return 1
    }
    say "sanitizer canary (tests/sanitizers.sh)"
    bash "$root/tests/sanitizers.sh" "$dir/keel" >"$dir/canary.log" 2>&1 ||
        status=1
    canary=$(tail -n 1 "$dir/canary.log")
    [ "$status" = 0 ] || cat "$dir/canary.log" >&2
    mkdir -p "$reports"
    # keeld may run as another user (daemon.sh: nobody).
    chmod 1777 "$reports"
    # One report file per process, named PREFIX.PROGRAM.PID; clang's one
    # runtime takes UBSAN_OPTIONS' log_path for ASan's reports too.
    export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:log_path=$reports/asan:log_exe_name=1"
    export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$reports/ubsan:log_exe_name=1"
    export LSAN_OPTIONS="suppressions=$root/tests/lsan.supp:print_suppressions=0"
    # Slower programs: ratelimit.sh and daemon.sh stretch the windows they
    # time against (KEEL_TEST_TIME_SCALE).
    export KEEL_TEST_TIME_SCALE=5
    export KEEL_SKIP_SUITES="deb.sh"
    export KEEL_SKIP_REASON="in the sanitizer run: dpkg-buildpackage builds its own .deb without sanitizers"
    say "make check (sanitizers)"
    make -C "$dir/keel" check -j1 >"$dir/check.log" 2>&1 || status=1
    unset ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS KEEL_SKIP_SUITES KEEL_SKIP_REASON \
        KEEL_TEST_TIME_SCALE
    n=$(find "$reports" -type f | wc -l)
    if [ "$n" -gt 0 ]; then
        echo "sanitizers: $n report(s) in $reports:" >&2
        find "$reports" -type f -exec head -n 40 {} + >&2
        status=1
    fi
    if grep -q '^# FAIL: *0$' "$dir/keel/test-suite.log" 2>/dev/null &&
       grep -q '^# ERROR: *0$' "$dir/keel/test-suite.log"; then
        :
    else
        status=1
        tail -n 60 "$dir/check.log" >&2
        cat "$dir/keel/test-suite.log" >&2 2>/dev/null || true
    fi
    ok=$(grep -h -E '^ +tests +[0-9]' "$dir"/keel/tests/unit/*.log \
        "$dir"/keel/tests/integration/*.log 2>/dev/null |
        awk '{s+=$4} END {print s+0}')
    bad=$(grep -h -E '^ +tests +[0-9]' "$dir"/keel/tests/unit/*.log \
        "$dir"/keel/tests/integration/*.log 2>/dev/null |
        awk '{s+=$5} END {print s+0}')
    ok=$((ok + $(grep -h -E '^[0-9]+ passed, [0-9]+ failed$' \
        "$dir"/keel/tests/integration/run.sh.log | awk '{s+=$1} END {print s+0}')))
    bad=$((bad + $(grep -h -E '^[0-9]+ passed, [0-9]+ failed$' \
        "$dir"/keel/tests/integration/run.sh.log | awk '{s+=$3} END {print s+0}')))
    echo "sanitizers: canary: $canary; make check: $(grep -E '^# (PASS|FAIL|ERROR):' \
        "$dir/keel/test-suite.log" 2>/dev/null | tr -s ' ' | tr '\n' ' ')"
    echo "sanitizers: $n report(s); $((SECONDS - t0)) s"
    if [[ "$canary" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
        ok=$((ok + BASH_REMATCH[1]))
        bad=$((bad + BASH_REMATCH[2]))
    fi
    [ "$status" = 0 ] || bad=$((bad > 0 ? bad : 1))
    echo "$ok passed, $bad failed"
    return "$status"
}

# RealWorld's Conduit on libkeel (#13): the Bruno suite against
# examples/realworld/conduitd behind nginx and PostgreSQL, through the
# pinned runner in tools/bruno (npm ci when its lock changed): all 13
# folders, failing on any failed request or assertion.
check_realworld() {
    local dir="$root/tools/bruno" stamp="$root/tools/bruno/node_modules/.keel-lock"
    local want
    want=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
    if [ ! -d "$dir/node_modules" ] ||
       [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
        say "npm ci (tools/bruno)"
        npm ci --prefix "$dir" --no-audit --no-fund || return 1
        echo "$want" > "$stamp"
    fi
    make examples/realworld/conduitd keelctl >/dev/null || return 1
    bash examples/realworld/bruno.sh
}

check_args() {
    KEEL_LONG=0
    case "${1:-}" in
    --long) KEEL_LONG=1 ;;
    "") ;;
    *)
        echo "usage: $0 check [--long]" >&2
        exit 2
        ;;
    esac
    export KEEL_LONG
}

check_step() {
    local name=${1:-}
    shift || true
    if ! printf '%s\n' "${check_steps[@]}" | grep -qx -- "$name"; then
        echo "usage: $0 check-step NAME [--long]; NAME: ${check_steps[*]}" >&2
        exit 2
    fi
    check_args "$@"
    install_deps
    export KEEL_NODE_TOOLS="$root/tools/node" KEEL_REQUIRE_NODE_TOOLS=1
    build --enable-werror
    say "$name"
    "check_$name"
}

# failed_tests LABEL DIR: each test program of the make check tree DIR
# that failed, with the lines of its log naming the failed suites and
# assertions (CUnit's "FAILED" and "file:line - ...", the harness's
# "FAIL:", run.sh's "== suite FAILED").
failed_tests() {
    local trs
    while IFS= read -r trs; do
        grep -qE '^:test-result: (FAIL|ERROR|XPASS)' "$trs" || continue
        echo "  $1: ${trs%.trs}"
        grep -E 'FAILED|FAIL:|^ +[0-9]+\. .*:[0-9]+ +- |^run\.sh: |^== ' \
            "${trs%.trs}.log" 2>/dev/null | grep -vE '^== [A-Za-z0-9_.-]+$' |
            head -n 40 | sed 's/^/    /'
    done < <(find "$2" -name '*.trs' 2>/dev/null | sort)
}

check() {
    check_args "$@"
    install_deps
    # The lint and contract tests find the tools by absolute path (also in
    # distcheck's unpacked tarball) and must not skip when they are missing.
    export KEEL_NODE_TOOLS="$root/tools/node" KEEL_REQUIRE_NODE_TOOLS=1
    build --enable-werror
    say "make check"
    local status=0
    make check -j1 || status=$?
    # The package as a sysadmin gets it: tarball, VPATH build, make check
    # inside it, install and uninstall.  KEEL_DISTCHECK=0 skips it locally.
    if [ "$status" = 0 ] && [ "${KEEL_DISTCHECK:-1}" != 0 ]; then
        say "make distcheck"
        make distcheck DISTCHECK_CONFIGURE_FLAGS=--enable-werror \
            >distcheck.log 2>&1 || { status=$?; tail -n 60 distcheck.log >&2; }
        rm -f keel-*.tar.gz
    fi
    local step steps_failed=()
    for step in "${check_steps[@]}"; do
        say "$step"
        "check_$step" || steps_failed+=("$step")
    done
    if [ ${#steps_failed[@]} -gt 0 ]; then
        echo "dev.sh: reliability steps failed: ${steps_failed[*]}" >&2
        status=1
    fi
    # Plain closing lines for whoever reads only the end: what failed,
    # where, and the lines of its log that say so.
    local log=test-suite.log pass fail
    pass=$(grep -E '^# PASS:' "$log" | awk '{print $3}' || echo 0)
    fail=$(grep -E '^# (FAIL|ERROR|XPASS):' "$log" | awk '{s+=$3} END {print s+0}')
    if [ "$status" != 0 ]; then
        echo "dev.sh: what failed:" >&2
        failed_tests make-check . >&2
        # distcheck leaves its unpacked tree behind when it fails.
        for d in keel-*/_build/sub; do
            [ -d "$d" ] && failed_tests distcheck "$d" >&2
        done
        [ ${#steps_failed[@]} -eq 0 ] ||
            echo "  steps: ${steps_failed[*]} (their output is above)" >&2
    fi
    echo "automake: ${pass:-0} test programs passed, ${fail:-0} failed"
    # The closing line counts CUnit tests across every suite.
    grep -h -E '^ +tests +[0-9]' tests/unit/*.log tests/integration/*.log 2>/dev/null |
        awk '{ok+=$4; bad+=$5} END {printf "%d passed, %d failed\n", ok, bad}'
    return "$status"
}

case "${1:-}" in
run) shift; run "$@" ;;
stop) shift; stop "$@" ;;
check) shift; check "$@" ;;
check-step) shift; check_step "$@" ;;
build) install_deps; build ;;
*)
    echo "usage: $0 run [realworld]|stop [realworld]|check [--long]|check-step NAME|build" >&2
    exit 2
    ;;
esac
