#!/bin/bash
# run.sh - start keeld under spawn-fcgi.
#
# spawn-fcgi creates the listening socket, sets its owner and mode, and
# execs keeld with that socket on fd 0 (the FastCGI convention).  keeld sees
# a listening socket on fd 0 and uses it instead of binding keel.conf's
# `listen` (the listen, socket_* and backlog keys are then ignored).
#
# -n ("no fork") makes spawn-fcgi exec keeld in its own process instead of
# forking it off: whatever runs this script (runit, daemontools, s6,
# supervisord, a systemd unit, a container entrypoint) then supervises
# keeld's master directly and gets its exit status.  keeld runs with
# --foreground for the same reason; it forks and supervises its workers
# itself, so spawn-fcgi's -F (several copies) is neither needed nor wanted.
#
# Every variable below can be overridden from the environment, e.g.
#     KEEL_SOCKET=/run/api/api.sock KEEL_CONF=/etc/keel/keel.conf ./run.sh
#
# Run as root to let spawn-fcgi give the socket to the web server's user
# and group and drop keeld to KEEL_USER; as another user both steps are
# skipped (spawn-fcgi ignores -U/-G/-u/-g unless run by root) and the
# socket belongs to that user.
#
# Signals: spawn-fcgi is gone once keeld runs (exec), so signals sent to
# this script's pid reach keeld's master: TERM = graceful stop, HUP =
# reload keel.conf, USR1 = reopen log files.  With -n keeld also keeps
# this script's stdout and stderr (without -n spawn-fcgi points them at
# /dev/null), so the supervisor captures keel's log when keel.conf [log]
# file is "".

set -euo pipefail

KEELD=${KEELD:-/usr/local/sbin/keeld}
KEEL_CONF=${KEEL_CONF:-/usr/local/etc/keel/keel.conf}
KEEL_SOCKET=${KEEL_SOCKET:-/run/keel/keel.sock}
# 0660 plus the web server's user/group: only nginx/Apache can connect.
KEEL_SOCKET_MODE=${KEEL_SOCKET_MODE:-0660}
KEEL_SOCKET_USER=${KEEL_SOCKET_USER:-www-data}
KEEL_SOCKET_GROUP=${KEEL_SOCKET_GROUP:-www-data}
# The user keeld runs as (root only); never root itself.
KEEL_USER=${KEEL_USER:-keel}
KEEL_GROUP=${KEEL_GROUP:-keel}
# Kernel accept queue; same default as keel.conf's backlog.
KEEL_BACKLOG=${KEEL_BACKLOG:-511}
SPAWN_FCGI=${SPAWN_FCGI:-spawn-fcgi}

die() {
    echo "run.sh: $*" >&2
    exit 1
}

command -v "$SPAWN_FCGI" >/dev/null 2>&1 ||
    die "spawn-fcgi not found (Debian/Ubuntu: apt-get install spawn-fcgi)"
[ -x "$KEELD" ] || die "$KEELD is not executable (set KEELD=...)"
[ -r "$KEEL_CONF" ] || die "cannot read $KEEL_CONF (set KEEL_CONF=...)"

# Refuse a bad keel.conf before touching the socket: keeld prints
# "file:line: message".
"$KEELD" --check-config --config "$KEEL_CONF" >/dev/null

args=(-n -s "$KEEL_SOCKET" -M "$KEEL_SOCKET_MODE" -b "$KEEL_BACKLOG")
sockdir=$(dirname -- "$KEEL_SOCKET")
if [ "$(id -u)" = 0 ]; then
    args+=(-U "$KEEL_SOCKET_USER" -G "$KEEL_SOCKET_GROUP"
        -u "$KEEL_USER" -g "$KEEL_GROUP")
    # The web server must be able to reach the socket inside the directory.
    install -d -m 0755 "$sockdir"
else
    mkdir -p -- "$sockdir"
fi

# spawn-fcgi refuses to start when a live server already answers on the
# socket, and removes a stale socket file otherwise.
exec "$SPAWN_FCGI" "${args[@]}" -- \
    "$KEELD" --foreground --config "$KEEL_CONF"
