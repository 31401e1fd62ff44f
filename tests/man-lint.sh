#!/bin/sh
# man-lint.sh - the manual pages, as generated into the build tree from
# man/*.in, pass `mandoc -Tlint` without a message of level WARNING or
# higher (WARNING, ERROR, UNSUPPORTED, BADARG).
#
# Level STYLE is not checked (-W warning hides it): its messages depend on
# the machine, above all "referenced manual not found" for every Xr to a
# page that is not installed here (keeld(8), keelctl(8) and keel.conf(5)
# themselves before `make install`, nginx(8), logrotate(8), ...), along
# with "outdated mandoc.db lacks ... entry" notes on standard error.  The
# pages had no other STYLE message when this test was written; check with
# `mandoc -Tlint -W style man/*.[58]` after editing them.
#
# Skipped (77) when mandoc is not installed (Debian package mandoc).
set -u

builddir=${top_builddir:-.}
pages="man/keeld.8 man/keelctl.8 man/keel.conf.5"

if ! command -v mandoc >/dev/null 2>&1; then
    echo "man-lint: mandoc is not installed: skipped (apt-get install mandoc)" >&2
    exit 77
fi

status=0
for p in $pages; do
    f="$builddir/$p"
    if [ ! -f "$f" ]; then
        echo "man-lint: $f is missing (make $p)" >&2
        status=1
        continue
    fi
    # mandoc exits non-zero for messages at the -W level or higher; any
    # output at all is a failure too, in case a version exits 0 on some.
    out=$(mandoc -Tlint -W warning "$f" 2>&1)
    rc=$?
    if [ $rc -ne 0 ] || [ -n "$out" ]; then
        printf '%s\n' "$out" >&2
        echo "man-lint: $p: mandoc -Tlint -W warning failed (status $rc)" >&2
        status=1
    else
        echo "man-lint: $p: ok"
    fi
done
exit $status
