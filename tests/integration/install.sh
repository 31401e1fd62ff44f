#!/usr/bin/env bash
# install.sh - the package as a sysadmin installs it (issue #11): make
# install into a DESTDIR puts each file where the GNU layout says; the
# installed keelctl migrates run.sh's PostgreSQL (a database of its own)
# from the installed migrations, and the installed keeld, configured from
# the installed keel.conf (with environment overrides), serves /ready
# through nginx; a second install keeps an edited keel.conf and puts the
# new one beside it as keel.conf.dist; make uninstall removes every file.
# Run by run.sh with its environment; prints "N passed, N failed".
set -u
. "$KEEL_TEST_SRCDIR/tests/harness/lib.sh"
top=$KEEL_TEST_DIR
build=$KEEL_TEST_BUILDDIR
id="$top/install"
dest="$id/destdir"
mkdir -p "$id/log"
chmod 755 "$id"
stop_here() {
    keel_stop_pidfile "$id/nginx.pid" 10
    keel_stop_pidfile "$id/keeld.master.pid" 20
}
trap stop_here EXIT
set -a
. "$top/pg.env"
set +a
pgbin=$(keel_pg_bin)

make -s --no-print-directory -C "$build" print-install-dirs >"$id/dirs" || exit 1
. "$id/dirs"
# The API reference is installed once rendered (make docs, node tools).
tools=${KEEL_NODE_TOOLS:-$KEEL_TEST_SRCDIR/tools/node}
docs=0
if [ -x "$tools/node_modules/.bin/redocly" ]; then
    make -C "$build" docs >"$id/log/docs.log" 2>&1 && docs=1
    keel_check "make docs renders the API reference" test "$docs" = 1
elif [ "${KEEL_REQUIRE_NODE_TOOLS:-0}" = 1 ]; then
    keel_check "the node tools for make docs are installed" false
else
    echo "install.sh: no node tools; the API reference is not checked"
fi
make -C "$build" install DESTDIR="$dest" >"$id/log/install.log" 2>&1
keel_check "make install DESTDIR=... succeeds" test $? = 0
keel_check "keeld in \$sbindir ($sbindir)" test -x "$dest$sbindir/keeld"
keel_check "keelctl in \$bindir ($bindir)" test -x "$dest$bindir/keelctl"
keel_check "keel.conf in \$sysconfdir/keel" test -f "$dest$sysconfdir/keel/keel.conf"
keel_check "the nginx snippets beside it" test -f "$dest$sysconfdir/keel/keel-fastcgi.conf"
keel_check "every migration in \$pkgdatadir/sql/migrations" \
    test "$(ls "$dest$pkgdatadir/sql/migrations" | wc -l)" = "$(ls "$KEEL_TEST_SRCDIR/sql/migrations" | wc -l)"
keel_check "README and NEWS in \$docdir" test -f "$dest$docdir/README.md"
keel_check "the examples in \$docdir/examples" \
    test -f "$dest$docdir/examples/systemd/keeld.socket"
keel_check "keeld.service among them, naming the installed keeld and keel.conf" \
    grep -qx "ExecStart=$sbindir/keeld --foreground --config $sysconfdir/keel/keel.conf" \
    "$dest$docdir/examples/systemd/keeld.service"
if [ "$docs" = 1 ]; then
    keel_check "the HTML API reference in \$docdir" \
        grep -q '<html' "$dest$docdir/api.html"
fi
keel_check "man pages in \$mandir" \
    bash -c "test -f '$dest$mandir/man8/keeld.8' && test -f '$dest$mandir/man8/keelctl.8' && test -f '$dest$mandir/man5/keel.conf.5'"
keel_check "the installed programs run" \
    bash -c "'$dest$sbindir/keeld' --version && '$dest$bindir/keelctl' version >/dev/null"

# The installed keel.conf as shipped, with what this machine differs in
# from the environment (as a unit's Environment= or an env file would).
"$pgbin/createdb" keel_install || exit 1
export KEEL_CONFIG="$dest$sysconfdir/keel/keel.conf"
export KEEL_DATABASE_URL="host=$PGHOST port=$PGPORT dbname=keel_install user=$PGUSER"
export KEEL_DATABASE_MIGRATIONS_DIR="$dest$pkgdatadir/sql/migrations"
export KEEL_AUTH_JWT_SECRET="install-test-secret-0123456789abcdef"
export KEEL_SERVER_LISTEN="$id/keel.sock"
export KEEL_LOG_FILE="$id/log/keeld.log"
export KEEL_MAIL_SPOOL_DIR="$id/spool"
mkdir -p "$id/spool"
"$dest$bindir/keelctl" migrate up >"$id/log/migrate.log" 2>&1
keel_check "the installed keelctl applies the installed migrations" test $? = 0
keel_check "every one of them" \
    test "$("$pgbin/psql" -d keel_install -Atq -c 'SELECT count(*) FROM schema_migrations')" = "$(ls "$KEEL_TEST_SRCDIR"/sql/migrations/*.up.sql | wc -l)"
"$dest$sbindir/keeld" --foreground >>"$id/log/keeld.stderr" 2>&1 &
echo $! >"$id/keeld.master.pid"
keel_wait_for test -S "$id/keel.sock"
keel_front "$id" install.sh || exit 1
keel_check "the installed keeld answers /ready through nginx" \
    test "$(curl -s -o /dev/null -w '%{http_code}' "$url/ready")" = 200
keel_stop_pidfile "$id/keeld.master.pid" 20

echo "# edited by the operator" >>"$dest$sysconfdir/keel/keel.conf"
make -C "$build" install DESTDIR="$dest" >>"$id/log/install.log" 2>&1
keel_check "a second install keeps the edited keel.conf" \
    grep -q '^# edited by the operator' "$dest$sysconfdir/keel/keel.conf"
keel_check "and puts the new one beside it as keel.conf.dist" \
    cmp -s "$KEEL_TEST_SRCDIR/conf/keel.conf" "$dest$sysconfdir/keel/keel.conf.dist"
make -C "$build" uninstall DESTDIR="$dest" >"$id/log/uninstall.log" 2>&1
keel_check "make uninstall succeeds" test $? = 0
left=$(find "$dest" -type f ! -path "$dest$sysconfdir/keel/keel.conf" | wc -l)
keel_check "and removes every file but the operator's edited keel.conf ($left left)" \
    test "$left" = 0

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
