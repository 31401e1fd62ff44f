#!/usr/bin/env bash
# deb.sh - the Debian package (issue #11): `dpkg-buildpackage -us -uc -b`
# builds keel's .deb in a temporary copy of the distributed tree (`make
# distdir` into this suite's directory: the source tree, read-only in
# distcheck, and the build tree stay as they are); `dpkg -i` installs it:
# a keel system user, /etc/keel/keel.conf as a conffile, the programs,
# the man pages, the logrotate file and the systemd units, neither enabled
# nor started, and no database touched.  The installed keelctl migrates a
# database of its own in run.sh's PostgreSQL and the installed keeld,
# started as root, running as keel, answers /ready through nginx; `dpkg
# --purge keel` then leaves nothing of the package but the keel user
# (Debian policy).
# It needs root, dpkg-buildpackage and debhelper (scripts/dev.sh installs
# them; CI runs as root), and skips with one line otherwise, or when a
# keel package or /etc/keel is already on this machine (an operator's
# installation is never touched).
# Run by run.sh with its environment; prints "N passed, N failed".
set -u
. "$KEEL_TEST_SRCDIR/tests/harness/lib.sh"
top=$KEEL_TEST_DIR
build=$KEEL_TEST_BUILDDIR
id="$top/deb"
mkdir -p "$id/log"
chmod 755 "$id"

skip() {
    echo "deb.sh: SKIPPED, the package is not tested: $*"
    echo "$pass passed, $fail failed"
    exit 0
}
[ "$(id -u)" = 0 ] || skip "not root (dpkg -i needs root)"
for tool in dpkg-buildpackage dh dpkg-checkbuilddeps; do
    command -v "$tool" >/dev/null 2>&1 ||
        skip "no $tool (apt-get install dpkg-dev debhelper; scripts/dev.sh does)"
done
status=$(dpkg-query -W -f='${db:Status-Status}' keel 2>/dev/null)
if [ -n "$status" ] && [ "$status" != not-installed ]; then
    skip "a keel package is already on this machine ($status)"
fi
[ -e /etc/keel ] && skip "/etc/keel exists already"

installed=0
stop_here() {
    keel_stop_pidfile "$id/nginx.pid" 10
    keel_stop_pidfile "$id/keeld.master.pid" 20
    if [ "$installed" = 1 ]; then
        dpkg --purge keel >>"$id/log/purge.log" 2>&1
    fi
    rm -rf "$id/src"
}
trap stop_here EXIT

# ---- build ---------------------------------------------------------------
# The distributed files only (EXTRA_DIST has debian/): what the tarball
# has, without a build in it.  make's variables from `make check` (its
# MAKEFLAGS) must not reach the package build.
nomake() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES -u DESTDIR "$@"; }
tree="$id/src/keel"
mkdir -p "$id/src"
nomake make -C "$build" distdir distdir="$tree" >"$id/log/distdir.log" 2>&1
keel_check "make distdir copies the distributed tree" test -x "$tree/debian/rules"
(cd "$tree" &&
    DEB_BUILD_OPTIONS="nocheck parallel=2" nomake timeout 900 \
        dpkg-buildpackage -us -uc -b) >"$id/log/build.log" 2>&1
keel_check "dpkg-buildpackage -us -uc -b succeeds" test $? = 0
deb=$(ls "$id"/src/keel_*.deb 2>/dev/null | head -n 1)
keel_check "and makes keel_*.deb" test -n "$deb"
if [ -z "$deb" ]; then
    tail -n 40 "$id/log/build.log"
    echo "$pass passed, $fail failed"
    exit 1
fi

# ---- install -------------------------------------------------------------
installed=1
if ! DEBIAN_FRONTEND=noninteractive dpkg -i "$deb" >"$id/log/dpkg-i.log" 2>&1; then
    # Only missing dependencies: let apt bring them.
    DEBIAN_FRONTEND=noninteractive apt-get install -f -y -q \
        --no-install-recommends >>"$id/log/dpkg-i.log" 2>&1
fi
keel_check "dpkg -i installs it" \
    test "$(dpkg-query -W -f='${db:Status-Status}' keel 2>/dev/null)" = installed
keel_check "a keel system user and group" \
    bash -c "getent passwd keel | grep -q ':/nonexistent:' && getent group keel >/dev/null &&
             test \$(id -u keel) -lt 1000"
keel_check "/etc/keel/keel.conf is a conffile" \
    bash -c "dpkg-query -W -f='\${Conffiles}\n' keel | grep -q '^ /etc/keel/keel.conf '"
keel_check "it is the shipped keel.conf (no keel.conf.dist)" \
    bash -c "diff '$KEEL_TEST_SRCDIR/conf/keel.conf' /etc/keel/keel.conf |
               grep '^[<>]' | sort | tr '\n' '|' |
               grep -qx '< pid_file = \"\"|> pid_file = /run/keeld/keeld.pid|' &&
             ! ls /etc/keel/*.dist 2>/dev/null | grep -q ."
keel_check "readable by root and keel only (it holds secrets)" \
    test "$(stat -c '%U:%G %a' /etc/keel/keel.conf)" = "root:keel 640"
keel_check "the nginx snippets are conffiles too" \
    bash -c "dpkg-query -W -f='\${Conffiles}\n' keel | grep -q '^ /etc/keel/keel-fastcgi.conf '"
keel_check "/usr/sbin/keeld and /usr/bin/keelctl" \
    bash -c "test -x /usr/sbin/keeld && test -x /usr/bin/keelctl && /usr/sbin/keeld --version >/dev/null"
keel_check "the man pages, with Debian's paths" \
    bash -c "test -f /usr/share/man/man8/keelctl.8.gz && test -f /usr/share/man/man5/keel.conf.5.gz &&
             zgrep -q /etc/keel/keel.conf /usr/share/man/man8/keeld.8.gz"
keel_check "every migration in /usr/share/keel/sql/migrations" \
    test "$(ls /usr/share/keel/sql/migrations | wc -l)" = "$(ls "$KEEL_TEST_SRCDIR/sql/migrations" | wc -l)"
keel_check "/etc/logrotate.d/keel" test -f /etc/logrotate.d/keel
keel_check "/var/log/keel belongs to keel" \
    test "$(stat -c '%U:%G %a' /var/log/keel)" = "keel:keel 750"
keel_check "the systemd units, running /usr/sbin/keeld with /etc/keel/keel.conf" \
    bash -c "test -f /lib/systemd/system/keeld.socket &&
             grep -qx 'ExecStart=/usr/sbin/keeld --foreground --config /etc/keel/keel.conf' /lib/systemd/system/keeld.service"
keel_check "Type=notify (built with libsystemd), the pid file in its RuntimeDirectory" \
    bash -c "grep -qx 'Type=notify' /lib/systemd/system/keeld.service &&
             grep -qx 'RuntimeDirectory=keeld' /lib/systemd/system/keeld.service &&
             /usr/sbin/keeld --version | grep -q 'sd_notify: yes'"
keel_check "neither enabled" \
    test -z "$(find /etc/systemd/system -name 'keeld.*' 2>/dev/null)"
keel_check "nor started" \
    bash -c "! systemctl is-active --quiet keeld.service keeld.socket 2>/dev/null &&
             test -z \"\$(ps -u keel -o pid= 2>/dev/null)\""
keel_check "no maintainer script touches a database" \
    bash -c "cat /var/lib/dpkg/info/keel.*inst /var/lib/dpkg/info/keel.*rm 2>/dev/null |
             grep -v '^[[:space:]]*#' | grep -q . &&
             ! cat /var/lib/dpkg/info/keel.*inst /var/lib/dpkg/info/keel.*rm |
             grep -v '^[[:space:]]*#' | grep -Eq 'keelctl|psql|pg_|createdb|dropdb|migrat'"

# ---- the installed programs ----------------------------------------------
# /etc/keel/keel.conf as shipped, with this machine's differences in the
# environment (as an EnvironmentFile would give them).
set -a
. "$top/pg.env"
set +a
"$(keel_pg_bin)/createdb" keel_deb || exit 1
unset KEEL_CONFIG KEEL_DATABASE_MIGRATIONS_DIR
export KEEL_DATABASE_URL="host=$PGHOST port=$PGPORT dbname=keel_deb user=$PGUSER"
export KEEL_AUTH_JWT_SECRET="deb-test-secret-0123456789abcdef0123"
export KEEL_SERVER_LISTEN="$id/keel.sock"
export KEEL_SERVER_PID_FILE="$id/keeld.pid"
export KEEL_LOG_FILE="$id/log/keeld.log"
export KEEL_MAIL_SPOOL_DIR="$id/spool"
/usr/bin/keelctl migrate up >"$id/log/migrate.log" 2>&1
keel_check "the installed keelctl applies the installed migrations" test $? = 0
keel_check "every one of them" \
    test "$("$(keel_pg_bin)/psql" -d keel_deb -Atq -c 'SELECT count(*) FROM schema_migrations')" = "$(ls "$KEEL_TEST_SRCDIR"/sql/migrations/*.up.sql | wc -l)"
# Started as root, keeld binds the socket and opens its log, then runs as
# keel, which writes the mail spool and connects to PostgreSQL.  The
# harness's cluster has its socket in its data directory, which only
# postgres may enter: keel gets a hard link to that socket (the same
# socket, another name) in a directory it can search.
install -d -o keel -g keel -m 0750 "$id/spool"
mkdir -p "$id/pgsock"
ln "$PGHOST/.s.PGSQL.$PGPORT" "$id/pgsock/" || exit 1
export KEEL_DATABASE_URL="host=$id/pgsock port=$PGPORT dbname=keel_deb user=$PGUSER"
KEEL_SERVER_USER=keel KEEL_SERVER_ALLOW_ROOT=off \
    /usr/sbin/keeld --foreground >>"$id/log/keeld.stderr" 2>&1 &
echo $! >"$id/keeld.master.pid"
keel_wait_for test -S "$id/keel.sock"
keel_front "$id" deb.sh || exit 1
keel_check "the installed keeld answers /ready through nginx" \
    test "$(curl -s -o /dev/null -w '%{http_code}' "$url/ready")" = 200
master=$(cat "$id/keeld.master.pid")
keel_check "it runs as keel" test "$(ps -o user= -p "$master")" = keel
keel_check "the installed keelctl status reads its scoreboard" \
    bash -c "/usr/bin/keelctl status | grep -q 'request workers'"
keel_stop_pidfile "$id/nginx.pid" 10
keel_stop_pidfile "$id/keeld.master.pid" 20

# ---- purge ---------------------------------------------------------------
dpkg -L keel >"$id/files"
dpkg --purge keel >"$id/log/purge.log" 2>&1
keel_check "dpkg --purge keel succeeds" test $? = 0
installed=0
keel_check "dpkg no longer knows it" bash -c "! dpkg -L keel >/dev/null 2>&1"
left=$(while read -r f; do
    if [ -e "$f" ] && { [ ! -d "$f" ] || [[ "$f" == *keel* ]]; }; then echo "$f"; fi
done <"$id/files")
keel_check "none of its files or directories is left${left:+: $(echo $left)}" test -z "$left"
keel_check "/etc/keel, /var/log/keel and /var/spool/keel are gone" \
    bash -c "! test -e /etc/keel && ! test -e /var/log/keel && ! test -e /var/spool/keel"
keel_check "the keel user stays (Debian policy)" bash -c "getent passwd keel >/dev/null"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
