#!/bin/sh
# man-keys.sh - keel.conf(5) cannot drift from the configuration:
#   1. every key of conf/keel.conf ("key = value" under "[section]"; also
#      "#key = value", a key shown commented out, such as migrations_dir)
#      has an ".It Cm key" entry under the '.Ss "[section]\&"' heading of
#      man/keel.conf.5.in;
#   2. every key the page documents is in conf/keel.conf (no stale entry);
#   3. every key of the table in src/core/config.c (keys[]) is in
#      conf/keel.conf, so a new key reaches the shipped file, and with 1.
#      the page.
# Needs only sh, awk, sort and comm: no build, no units.
set -u

srcdir=${top_srcdir:-.}
conf="$srcdir/conf/keel.conf"
page="$srcdir/man/keel.conf.5.in"
table="$srcdir/src/core/config.c"

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

for f in "$conf" "$page" "$table"; do
    if [ ! -r "$f" ]; then
        echo "man-keys: cannot read $f" >&2
        exit 1
    fi
done

awk '
    /^\[[a-z_]+\][ \t]*$/ { s = $0; gsub(/[][ \t]/, "", s); next }
    s != "" && /^#?[a-z_][a-z0-9_]*[ \t]*=/ {
        k = $0; sub(/^#/, "", k); sub(/[ \t]*=.*/, "", k); print s "." k
    }' "$conf" | sort > "$tmp/conf"

awk '
    /^\.Sh/ { s = ""; next }
    /^\.Ss "\[[a-z_]+\]/ { s = $2; gsub(/[^a-z_]/, "", s); next }
    /^\.Ss/ { s = ""; next }
    s != "" && /^\.It Cm [a-z_][a-z0-9_]*( |$)/ { print s "." $3 }
' "$page" | sort > "$tmp/page"

# keys[] entries begin: { "section", "key", CT_...
sed -n 's/^[ \t]*{ *"\([a-z_]*\)", *"\([a-z0-9_]*\)",.*/\1.\2/p' "$table" |
    sort > "$tmp/table"

status=0
if [ ! -s "$tmp/conf" ] || [ ! -s "$tmp/page" ] || [ ! -s "$tmp/table" ]; then
    echo "man-keys: found no keys in one of the files (format changed?)" >&2
    exit 1
fi
missing=$(comm -23 "$tmp/conf" "$tmp/page")
if [ -n "$missing" ]; then
    echo "man-keys: keys of conf/keel.conf not documented in man/keel.conf.5.in:" >&2
    printf '  %s\n' $missing >&2
    status=1
fi
stale=$(comm -13 "$tmp/conf" "$tmp/page")
if [ -n "$stale" ]; then
    echo "man-keys: keys documented in man/keel.conf.5.in but not in conf/keel.conf:" >&2
    printf '  %s\n' $stale >&2
    status=1
fi
unshipped=$(comm -23 "$tmp/table" "$tmp/conf")
if [ -n "$unshipped" ]; then
    echo "man-keys: keys of src/core/config.c missing from conf/keel.conf:" >&2
    printf '  %s\n' $unshipped >&2
    status=1
fi
[ $status -eq 0 ] &&
    echo "man-keys: $(wc -l < "$tmp/conf") keys, all documented"
exit $status
