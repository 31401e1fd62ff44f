#!/usr/bin/env bash
# run.sh - run each libFuzzer target for FUZZ_SECONDS seconds (make fuzz).
#
#   FUZZ_SECONDS=60 FUZZ_OUT=dir tests/fuzz/run.sh CORPUS_DIR TARGET...
#
# Each target starts from a scratch copy of CORPUS_DIR/<target>/ (the
# checked-in seeds and every past crash input, which are replayed first),
# so the checked-in corpus never grows.  A crash, a leak, a sanitizer report,
# a broken property, a hang past -timeout or memory past -rss_limit_mb fails
# the target; its input is kept in FUZZ_OUT/<target>/artifacts/ and the end
# of its log printed.  One line per target with the figures, then
# "N passed, N failed".
set -u
corpus=${1:?usage: run.sh CORPUS_DIR TARGET...}
shift
seconds=${FUZZ_SECONDS:-60}
out=${FUZZ_OUT:-$PWD/fuzz-out}
# Per input: far above any real input's cost, even on a loaded machine.
timeout_s=${FUZZ_TIMEOUT:-25}
rss_mb=${FUZZ_RSS_MB:-2048}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

stat() { sed -n "s/^stat::$1: *//p" "$2" | tail -n 1; }

passed=0
failed=0
for target in "$@"; do
    name=$(basename "$target")
    dir="$out/$name"
    rm -rf "$dir"
    mkdir -p "$dir/corpus" "$dir/artifacts"
    if ! ls "$corpus/$name"/* >/dev/null 2>&1; then
        echo "$name: FAIL: no seeds in $corpus/$name" >&2
        failed=$((failed + 1))
        continue
    fi
    cp "$corpus/$name"/* "$dir/corpus/"
    seeds=$(ls "$dir/corpus" | wc -l)
    started=$(date +%s)
    # libFuzzer stops between inputs; the outer bound only catches a
    # runner that never returns.
    timeout -k 10 $((seconds + 300)) "$target" \
        -max_total_time="$seconds" -timeout="$timeout_s" \
        -rss_limit_mb="$rss_mb" -print_final_stats=1 \
        -artifact_prefix="$dir/artifacts/" "$dir/corpus" >"$dir/log" 2>&1
    rc=$?
    took=$(($(date +%s) - started))
    last=$(grep -E '^#[0-9]+' "$dir/log" | tail -n 1)
    cov=$(printf '%s\n' "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
    ft=$(printf '%s\n' "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
    figures="${took} s, $(stat number_of_executed_units "$dir/log") runs,"
    figures="$figures $(stat average_exec_per_sec "$dir/log") exec/s,"
    figures="$figures cov ${cov:-?}, ft ${ft:-?},"
    figures="$figures corpus $seeds -> $(ls "$dir/corpus" | wc -l),"
    figures="$figures peak rss $(stat peak_rss_mb "$dir/log") MB"
    if [ "$rc" = 0 ] && [ -z "$(ls "$dir/artifacts")" ]; then
        echo "$name: PASS: $figures"
        passed=$((passed + 1))
    else
        echo "$name: FAIL (exit $rc): $figures" >&2
        grep -E 'ERROR|SUMMARY|property broken|Test unit written' \
            "$dir/log" >&2 || true
        tail -n 40 "$dir/log" >&2
        ls -l "$dir/artifacts" >&2
        failed=$((failed + 1))
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
