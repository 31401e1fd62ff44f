#!/bin/sh
# systemd-verify.sh - examples/systemd/keeld.service (made by make from its
# .in) and keeld.socket pass `systemd-analyze verify` without a single
# message, the service keeps the hardening of issue #11 item 4, and its
# Type= is the one this keeld supports (notify with sd_notify, else simple).
#
# verify checks that ExecStart='s program exists, so the units are copied
# to a temporary directory with the configured sbindir's keeld replaced by
# the keeld just built.  It also runs man(1) for each Documentation=man: page:
# MANPATH points at a temporary tree holding the pages built from man/*.in,
# so that a unit naming a page keel does not ship fails.  Works offline:
# systemd need not be PID 1 (it is not in CI containers).
#
# Skipped (77) when systemd-analyze is not installed (Debian: systemd).
set -u

srcdir=${top_srcdir:-.}
builddir=${top_builddir:-.}
keeld=$(cd "$builddir" && pwd)/keeld

command -v systemd-analyze >/dev/null 2>&1 || {
    echo "systemd-verify: systemd-analyze is not installed: skipped" >&2
    exit 77
}
if [ ! -x "$keeld" ]; then
    echo "systemd-verify: $keeld has not been built" >&2
    exit 1
fi

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
status=0

service="$builddir/examples/systemd/keeld.service"
if [ ! -f "$service" ]; then
    echo "systemd-verify: $service has not been made" >&2
    exit 1
fi
eval "$(${MAKE:-make} -s --no-print-directory -C "$builddir" print-install-dirs)" || exit 1
if ! grep -q "^ExecStart=$sbindir/keeld " "$service"; then
    echo "systemd-verify: ExecStart does not run $sbindir/keeld" >&2
    exit 1
fi
sed "s|$sbindir/keeld|$keeld|g" "$service" > "$tmp/keeld.service" || exit 1
cp "$srcdir/examples/systemd/keeld.socket" "$tmp/" || exit 1

mkdir -p "$tmp/man/man5" "$tmp/man/man8"
for p in keeld.8 keelctl.8 keel.conf.5; do
    cp "$builddir/man/$p" "$tmp/man/man${p##*.}/" || exit 1
done
man_opt=
if ! command -v man >/dev/null 2>&1; then
    # Without man(1) every Documentation=man: line would be reported as
    # "Command 'man ...' failed"; only then are the pages not checked.
    echo "systemd-verify: no man(1): Documentation= pages not checked" >&2
    man_opt=--man=no
fi

# SYSTEMD_LOG_COLOR=0: plain text.  Run from the temporary directory so
# that verify loads the copies (a path with a slash names a unit file).
(cd "$tmp" && MANPATH="$tmp/man" SYSTEMD_LOG_COLOR=0 \
    systemd-analyze verify $man_opt ./keeld.socket ./keeld.service) \
    > "$tmp/verify.out" 2>&1
rc=$?
# Messages that come from this machine, not from the units, would be
# filtered here, each by its exact text with a comment saying why.  None
# is needed on Debian 12 (systemd 252) in a container without systemd as
# PID 1, so nothing is filtered.
cp "$tmp/verify.out" "$tmp/complaints"
if [ $rc -ne 0 ] || [ -s "$tmp/complaints" ]; then
    cat "$tmp/complaints" >&2
    echo "systemd-analyze verify: status $rc" >&2
    status=1
else
    echo "systemd-verify: keeld.service, keeld.socket: ok"
fi

# The hardening issue #11 asks for: each line must stay in the service.
for want in 'NoNewPrivileges=yes' 'ProtectSystem=strict' 'ProtectHome=yes' \
    'PrivateTmp=yes' 'PrivateDevices=yes' \
    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' \
    'CapabilityBoundingSet=' 'SystemCallFilter=@system-service' \
    'LogsDirectory=keel' 'KillMode=mixed'; do
    if ! grep -qx -- "$want" "$service"; then
        echo "systemd-verify: keeld.service lacks the line '$want'" >&2
        status=1
    fi
done
want=Type=simple
if "$keeld" --version | grep -qx 'sd_notify: yes'; then want=Type=notify; fi
if ! grep -qx "$want" "$service"; then
    echo "systemd-verify: keeld.service should say $want for this keeld" >&2
    status=1
fi
exit $status
