#!/usr/bin/env bash
# check-format.sh - every C file of the tree is formatted by .clang-format
# (STYLE.md rule 10).  Skipped (exit 77) only where clang-format is absent;
# scripts/dev.sh installs it, so CI always runs it.
set -u
src=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
cf=$(command -v clang-format || true)
if [ -z "$cf" ]; then
    echo "check-format: clang-format not installed: SKIP" >&2
    exit 77
fi
cd "$src" || exit 1
bad=0
for f in $(find src tests bench examples -name '*.[ch]' 2>/dev/null | sort); do
    if ! "$cf" --style=file --dry-run -Werror "$f" >/dev/null 2>&1; then
        echo "check-format: $f is not formatted (clang-format -i $f)" >&2
        bad=1
    fi
done
[ "$bad" = 0 ] && echo "check-format: all C files formatted"
exit $bad
