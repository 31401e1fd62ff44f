#!/usr/bin/env bash
# fault.sh [BUILDDIR] - fault injection with nothing lost (issue #12, item
# 4).  A private PostgreSQL (fsync on), keeld (4 request workers of one
# thread) with its log on a 64 MiB tmpfs mounted here, and nginx, under the
# mixed load of mixed.lua (wrk -t2 -c6, 5 ms between a connection's
# requests, from before the first fault to 3 s
# after the last), while three faults strike
# in turn:
#
#   (a) kill -9 of a random request worker (one that has lived 2 s, so
#       that the master's crash-loop back-off is not what is measured),
#       once a second, 10 times;
#   (b) PostgreSQL stopped in fast mode (pg_ctl stop -m fast), left down
#       for 3 s, started again;
#   (c) the log's filesystem filled up with a file for 5 s, then the file
#       removed.
#
# What must hold, each one a check:
#   - after each fault the server answers again within 2 s (/ready is 200
#     within 2 s of each kill, and the master has a new worker ready, by
#     its own log, within 5 s; /ready is 200 no later than 2 s
#     after PostgreSQL accepts again, and no 503 comes later than that;
#     /ready stays 200 while the log's disk is full), always under the
#     same master and without a worker dying of the full disk;
#   - every order a client got 201 for exists afterwards with its 2 items;
#     no order lacks items; for each product, initial stock minus the
#     quantities of the orders that exist is its stock;
#   - no 5xx but 503, and a 503 only (1) during the PostgreSQL outage
#     (from the restart to 2 s after PostgreSQL accepts again) or (2) for
#     a request in flight in a worker killed with SIGKILL: nginx sees the
#     connection close without an answer (upstream status 502, answered
#     503 by conf/keel-errors.conf), at most one per kill (threads = 1);
#   - log lines resume once the space is back: a request made then is in
#     the log as a whole JSON line, and so is every line after it; the
#     lines lost are reported (lines glued in the instant space returns
#     are counted, not checked: see below).
#
# Needs root (or sudo) for the tmpfs mount.  Bounded: about 2 minutes;
# every process stopped by its pid and the tmpfs unmounted on exit.
# Prints "N passed, N failed"; exit 1 on any failure.
set -u
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$(cd "${1:-$PWD}" && pwd)
# shellcheck source=../harness/lib.sh
. "$src/tests/harness/lib.sh"
# shellcheck source=lib.sh
. "$src/tests/reliability/lib.sh"

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi
}
now() { date +%s.%N; }
# elapsed T0: seconds since T0, 3 decimals
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
ready() { curl -fsS -o /dev/null --max-time 2 "$url/ready"; }
restarts() { # restarts REASON: the master's count of restarts for REASON
    rel_status | sed -n "s/.* $1 \([0-9]*\).*/\1/p"
}

rel_init fault
logfs=$dir/logfs
mkdir -p "$logfs"
as_root mount -t tmpfs -o size=64m,mode=0755 keel-fault-logfs "$logfs" ||
    rel_die "cannot mount a tmpfs on $logfs (needs root)"
rel_cleanup_hook() {
    cp "$logfs/keeld.log" "$dir/log/keeld.log" 2>/dev/null
    mountpoint -q "$logfs" && as_root umount "$logfs"
}
REL_LOG_FILE=$logfs/keeld.log rel_stack
four_workers() { [ "$(rel_workers | wc -l)" = 4 ]; }
keel_wait_for four_workers ||
    rel_die "keeld has not 4 request workers"
master0=$master

# Long enough for every phase on a loaded machine; stopped after (c).
rel_wrk fault 240 6 "$dir/acked." 0 5
t_load=$(now)
sleep 4

# ---- (a) kill -9 a request worker every second ------------------------------
kills=()
worst_ready=0
deadline=$(($(date +%s) + 60))
while [ ${#kills[@]} -lt 10 ] && [ "$(date +%s)" -lt "$deadline" ]; do
    t1=$(now)
    victim=$(for p in $(rel_workers); do
        [ "$(ps -o etimes= -p "$p" 2>/dev/null | tr -d ' ')" -ge 2 ] 2>/dev/null &&
            echo "$p"
    done | shuf -n 1)
    [ -n "$victim" ] || { sleep 0.2; continue; }
    kill -KILL "$victim"
    t0=$(now)
    kills+=("$t0")
    KEEL_WAIT=10 keel_wait_for ready
    took=$(elapsed "$t0")
    echo "fault: kill ${#kills[@]}: worker $victim; /ready 200 after ${took}s"
    le "$took" "$worst_ready" || worst_ready=$took
    rest=$(awk -v t="$(elapsed "$t1")" 'BEGIN { d = 1 - t; print (d > 0 ? d : 0) }')
    sleep "$rest"
done
master_a=$(cat "$dir/keeld.master.pid")
sleep 3

# ---- (b) restart PostgreSQL, fast mode -------------------------------------------
t_pg_down=$(now)
keel_as_pg "$pg_bin/pg_ctl" -D "$dir/pg" -m fast -w -t 60 stop \
    >"$dir/log/pg_restart.log" 2>&1 || rel_die "pg_ctl stop failed"
# Down long enough for the workers' reconnect back-off to grow.
sleep 3
keel_pg_start "$dir" || rel_die "PostgreSQL did not start again"
t_pg_up=$(now)
KEEL_WAIT=10 keel_wait_for ready
pg_ready=$(elapsed "$t_pg_up")
echo "fault: PostgreSQL down for $(awk -v a="$t_pg_down" -v b="$t_pg_up" 'BEGIN { printf "%.2f", b - a }')s; /ready 200 ${pg_ready}s after it accepted"
sleep 4

# ---- (c) the log's filesystem full -------------------------------------------------
crashed_before=$(restarts crashed)
workers_before=$(rel_workers | sort)
t_full=$(now)
dd if=/dev/zero of="$logfs/filler" bs=16k >/dev/null 2>&1
avail=$(df --output=avail -k "$logfs" | tail -n 1 | tr -d ' ')
t0=$(now)
KEEL_WAIT=10 keel_wait_for ready
full_ready=$(elapsed "$t0")
sleep 1
log_size_1=$(stat -c %s "$logfs/keeld.log")
sleep 4
log_size_full=$(stat -c %s "$logfs/keeld.log")
workers_full=$(rel_workers | sort)
rm -f "$logfs/filler"
t_freed=$(now)
marker="fault-marker-$$-$RANDOM"
curl -s -o /dev/null -H "X-Request-Id: $marker" "$url/v1/products?limit=1"
KEEL_WAIT=2 keel_wait_for grep -q "$marker" "$logfs/keeld.log"
marker_after=$(elapsed "$t_freed")
echo "fault: log disk full for $(elapsed "$t_full")s (${avail} KiB free); marker logged ${marker_after}s after space returned"

sleep 3
rel_wrk_wait fault stop || exit 1
sleep 2 # the requests wrk left in flight finish
master_end=$(cat "$dir/keeld.master.pid")

# ---- checks --------------------------------------------------------------------------
echo "fault: checks"
# The master's own times: from each "worker exited" (signal 9) to the next
# "worker ready" in keeld's log.
read -r nexits worst_spawn < <(
    grep -E '"msg":"worker (exited|ready)' "$logfs/keeld.log" | awk '
        { match($0, /T[0-9:.]+Z/); split(substr($0, RSTART + 1, RLENGTH - 2), t, ":")
          s = t[1] * 3600 + t[2] * 60 + t[3] }
        /"msg":"worker exited"/ && /"signal":9/ { ex[++n] = s; next }
        /"msg":"worker ready/ { rd[++m] = s }
        END {
            worst = 0
            for (i = 1; i <= n; i++) {
                d = -1
                for (j = 1; j <= m; j++) if (rd[j] >= ex[i]) { d = rd[j] - ex[i]; break }
                if (d < 0) d = 999
                if (d > worst) worst = d
            }
            printf "%d %.3f\n", n, worst
        }')
ten_kills() { [ "${#kills[@]}" = 10 ] && [ "$nexits" = 10 ]; }
keel_check "10 workers killed with SIGKILL (the master logged $nexits)" ten_kills
# 5 s, not 2: the server answers meanwhile (3 workers are left; the next
# check), and a fork's start takes ~2 s on a machine loaded to 20.
keel_check "each replaced by a ready worker within 5 s (slowest ${worst_spawn}s)" \
    le "$worst_spawn" 5
keel_check "/ready 200 within 2 s after each kill (slowest ${worst_ready}s)" \
    le "$worst_ready" 2
keel_check "/ready 200 within 2 s after PostgreSQL accepted again (${pg_ready}s)" \
    le "$pg_ready" 2
full_answers() { [ "$avail" -lt 64 ] && le "$full_ready" 2; }
keel_check "/ready 200 within 2 s with the log's disk full (${full_ready}s, ${avail} KiB free)" \
    full_answers
keel_check "no worker died of the full disk (crashed restarts $crashed_before, then $(restarts crashed))" \
    bash -c "[ '$crashed_before' = '$(restarts crashed)' ] && [ '$workers_before' = '$workers_full' ]"
keel_check "the same master throughout ($master0)" \
    bash -c "[ $master0 = $master_a ] && [ $master0 = $master_end ] && kill -0 $master0"
keel_check "logs resumed: a request made after space returned was logged within 2 s (${marker_after}s)" \
    grep -q "$marker" "$logfs/keeld.log"
keel_check "its line and every later one are whole JSON objects" \
    bash -c "grep -q '$marker' '$logfs/keeld.log' && sed -n '/$marker/,\$p' '$logfs/keeld.log' | node -e '
        const lines = require(\"fs\").readFileSync(0, \"utf8\").split(\"\\n\");
        for (const l of lines) if (l !== \"\") JSON.parse(l);'"
# Not a check: a line cut short by the full disk is taken back at once
# (src/core/log.c untear; tests/unit/test_log.c checks it), but in the
# instant space returns another process may append before that, and the
# two are then glued.  Only a lock around every write would close that
# window; the count is printed for the record.
echo "fault: lines holding parts of two: $(grep -c '{\"ts\":.*{\"ts\":' "$logfs/keeld.log")"
keel_check "the lines lost to the full disk were reported once space returned" \
    grep -q 'log line(s) lost: No space left on device"' "$logfs/keeld.log"
keel_check "the disk was full: the log did not grow for 4 s under load ($log_size_1 -> $log_size_full bytes)" \
    test "$log_size_1" = "$log_size_full"

# The orders: every 201 the clients saw, in the database.
cat "$dir"/acked.* 2>/dev/null | awk '$1 == 201 { print $2 }' >"$dir/acked.ids"
nacked=$(wc -l <"$dir/acked.ids")
read -r missing short bare drift norders < <(
    {
        echo "CREATE TEMP TABLE acked (id uuid);"
        echo "COPY acked FROM STDIN;"
        cat "$dir/acked.ids"
        echo '\.'
        cat <<SQL
SELECT (SELECT count(*) FROM acked a
         WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.public_id = a.id)),
       (SELECT count(*) FROM acked a JOIN orders o ON o.public_id = a.id
         WHERE (SELECT count(*) FROM order_items i
                 WHERE i.order_id = o.id) <> 2),
       (SELECT count(*) FROM orders o
         WHERE NOT EXISTS (SELECT 1 FROM order_items i
                            WHERE i.order_id = o.id)),
       (SELECT count(*) FROM products p
         WHERE p.sku LIKE 'REL-%'
           AND p.stock <> $stock - (SELECT coalesce(sum(quantity), 0)
                                      FROM order_items i
                                     WHERE i.product_id = p.id)),
       (SELECT count(*) FROM orders);
SQL
    } | rel_sql -F ' '
)
echo "fault: $nacked orders acknowledged with 201, $norders in the database"
keel_check "clients got 201 for orders ($nacked)" test "$nacked" -ge 50
keel_check "every acknowledged order exists ($missing missing)" test "$missing" = 0
keel_check "with its 2 items ($short without)" test "$short" = 0
keel_check "no order without items ($bare)" test "$bare" = 0
keel_check "stock accounted for every product ($drift off)" test "$drift" = 0
keel_check "at least as many orders as 201s ($norders >= $nacked)" \
    test "$norders" -ge "$nacked"

# The answers, from nginx's log: MSEC STATUS UPSTREAM_STATUS METHOD URI.
printf '%s\n' "${kills[@]}" >"$dir/kills.txt"
read -r total other503 killed5xx outage5xx stray5xx < <(
    awk -v from="$t_load" -v down="$t_pg_down" -v up="$t_pg_up" '
        FNR == NR { kill[++nk] = $1; next }
        $1 < from { next }
        { total++ }
        $2 ~ /^5/ && $2 != 503 { other++ }
        $2 == 503 {
            if ($1 >= down && $1 <= up + 2) { outage++; next }
            if ($3 ~ /502$/)
                for (i = 1; i <= nk; i++)
                    if ($1 >= kill[i] - 0.5 && $1 <= kill[i] + 2) { killed++; next }
            stray++
            print "fault: a 503 outside the faults: " $0 > "/dev/stderr"
        }
        END { printf "%d %d %d %d %d\n", total, other, killed, outage, stray }
    ' "$dir/kills.txt" "$dir/log/access.log"
)
echo "fault: nginx answered $total requests: $outage5xx 503 during the outage, $killed5xx for killed workers, $stray5xx other 503, $other503 other 5xx"
echo "fault: wrk: $(sed -n 's/^mixed-result //p' "$dir/log/wrk-fault.txt")"
keel_check "requests answered under load ($total)" test "$total" -ge 1000
keel_check "no 5xx but 503 ($other503)" test "$other503" = 0
keel_check "no 503 outside the outage or a killed worker's request ($stray5xx)" \
    test "$stray5xx" = 0
keel_check "at most one failed request per kill ($killed5xx for ${#kills[@]} kills)" \
    test "$killed5xx" -le "${#kills[@]}"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
