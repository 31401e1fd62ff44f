#!/bin/sh
# logrotate.sh - examples/logrotate/keel parses, and a simulated forced
# rotation (logrotate -d: debug, nothing is renamed and no script runs)
# considers the log files and would run the SIGUSR1 postrotate script.
#
# Run twice, with a state file in a temporary directory: once as shipped
# (/var/log/keel/*.log, missing here: missingok), once with the directory
# pointed at a temporary one holding a log file.  Any "error:" line or a
# non-zero status fails.  The copy is made mode 0644: run as root,
# logrotate ignores configuration files that group or others can write.
#
# Skipped (77) when logrotate is not installed (Debian package logrotate).
set -u

srcdir=${top_srcdir:-.}
conf="$srcdir/examples/logrotate/keel"

command -v logrotate >/dev/null 2>&1 || {
    echo "logrotate: logrotate is not installed: skipped (apt-get install logrotate)" >&2
    exit 77
}

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
status=0

run() { # name config [logrotate options]
    name=$1 cf=$2
    shift 2
    chmod 0644 "$cf"
    logrotate -d "$@" -s "$tmp/state" "$cf" > "$tmp/$name.out" 2>&1
    rc=$?
    if [ $rc -ne 0 ] || grep -q '^error:' "$tmp/$name.out"; then
        cat "$tmp/$name.out" >&2
        echo "logrotate: $name: logrotate -d failed (status $rc)" >&2
        status=1
        return 1
    fi
    echo "logrotate: $name: ok"
}

cp "$conf" "$tmp/keel" || exit 1
run shipped "$tmp/keel"

mkdir "$tmp/log" && echo '{"msg":"test"}' > "$tmp/log/keeld.log"
sed "s|/var/log/keel/|$tmp/log/|" "$conf" > "$tmp/keel-tmp" || exit 1
if run forced "$tmp/keel-tmp" -f; then
    for want in "renaming $tmp/log/keeld.log to $tmp/log/keeld.log.1" \
        'running postrotate script' 'kill -s USR1 --kill-whom=main'; do
        if ! grep -qF -- "$want" "$tmp/forced.out"; then
            cat "$tmp/forced.out" >&2
            echo "logrotate: forced: expected '$want'" >&2
            status=1
        fi
    done
    if [ ! -f "$tmp/log/keeld.log" ] || [ -e "$tmp/log/keeld.log.1" ]; then
        echo "logrotate: -d changed the log directory" >&2
        status=1
    fi
fi

# The postrotate script is valid sh.
sed -n '/^[ \t]*postrotate/,/^[ \t]*endscript/p' "$conf" |
    sed '1d;$d' > "$tmp/postrotate.sh"
if ! sh -n "$tmp/postrotate.sh"; then
    echo "logrotate: the postrotate script is not valid sh" >&2
    status=1
fi
exit $status
