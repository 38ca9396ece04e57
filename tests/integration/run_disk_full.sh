#!/usr/bin/env bash
# run_disk_full.sh - `tickpipe run` on SQLite on a small tmpfs that fills
# up: the log names the store path and says the disk is full, /healthz
# answers 503 naming the store; once space is freed writes resume by
# themselves and every trade the feed delivered is stored (the database's
# own count against the run's summary); with the disk full again, SIGTERM
# exits 1 within --drain-timeout, saying how many trades were not stored.
# Needs root (mount); skipped otherwise.
source "$TP_SOURCE_DIR/tests/lib/common.sh"
PY=/usr/bin/python3
if [ "$(id -u)" != 0 ]; then echo "skipped: mounting a tmpfs needs root"; exit 0; fi
command -v sqlite3 >/dev/null || fail "sqlite3 CLI missing (scripts/install-deps.sh --test installs it)"
mnt="$TMP/small"
mkdir -p "$mnt"
mount -t tmpfs -o size=6m tmpfs "$mnt" || fail "cannot mount a tmpfs on $mnt"
on_exit "umount -l '$mnt'"
db="$mnt/t.db"
count() { sqlite3 -batch -noheader "$db" "SELECT count(*) FROM trades" 2>/dev/null || echo 0; }
above() { [ "$(count)" -ge "$1" ]; }
fill() { dd if=/dev/zero of="$mnt/fill$1" bs=64k 2>/dev/null || true; }

start_run() { # start_run NAME ARGS...
  local name=$1; shift
  "$TICKPIPE" run --store "sqlite:$db" --http 127.0.0.1:0 --symbols AAPL,MSFT,BINANCE:BTCUSDT --sim-rate 1000 \
    --queue-trades 20000 "$@" >/dev/null 2>"$TMP/$name.log" &
  pid=$!
  on_exit "kill -9 $pid 2>/dev/null"
  wait_for 30 grep -q 'dashboard at http://127.0.0.1:[0-9]*/' "$TMP/$name.log"
  port=$(sed -n 's|.*dashboard at http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$TMP/$name.log" | head -1)
}
hcode() { curl -s -o "$TMP/h.json" -w '%{http_code}' "http://127.0.0.1:$port/healthz"; }
health_is() { [ "$(hcode)" = "$1" ]; }
field() { sed -n "s/^summary: .*\b$2=\([0-9]*\).*/\1/p" "$TMP/$1.log" | tail -1; }

# 1. disk full while running: clear error, 503, then recovery, nothing lost
start_run r1
wait_for 60 above 500
fill 1
wait_for 60 grep -q "SQLite $db: .*full" "$TMP/r1.log"
grep -q "free space there; writes resume by themselves" "$TMP/r1.log" || fail "no hint in: $(grep -m1 SQLite "$TMP/r1.log")"
wait_for 30 health_is 503
$PY - "$TMP/h.json" "$db" <<'PY' || fail "/healthz while the disk is full: $(cat "$TMP/h.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["status"] == "failing" and d["store"] == "failing", d
p = [x for x in d["problems"] if x["part"] == "store"][0]
assert sys.argv[2] in p["detail"] and "full" in p["detail"], p
PY
ok "disk full: the log and /healthz name $db and say it is full (503)"
stuck=$(count)
rm -f "$mnt/fill1"
wait_for 90 above $((stuck + 1000))
wait_for 30 health_is 200
ok "space freed: writes resumed by themselves ($stuck -> $(count) trades), /healthz 200"
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
[ "$rc" = 0 ] || fail "SIGTERM after recovery exited $rc: $(tail -5 "$TMP/r1.log")"
[ "$(field r1 trades)" = "$(count)" ] || fail "the feed delivered $(field r1 trades) trades, the store holds $(count)"
ok "every one of the $(count) trades the feed delivered is stored"

# 2. disk full at stop: SIGTERM gives up within the drain timeout, exit 1
before=$(count)
start_run r2 --drain-timeout 3
wait_for 60 above $((before + 300))
fill 2
wait_for 60 health_is 503
t0=$(date +%s%N)
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
el=$((($(date +%s%N) - t0) / 1000000))
[ "$rc" = 1 ] || fail "SIGTERM with the disk full exited $rc, not 1: $(tail -5 "$TMP/r2.log")"
[ "$el" -le 12000 ] || fail "the drain took $el ms with --drain-timeout 3"
grep -q "the drain timed out (--drain-timeout): [0-9]* trades received were not stored" "$TMP/r2.log" ||
  fail "no count of unstored trades: $(tail -3 "$TMP/r2.log")"
ok "disk full at SIGTERM: exit 1 after $el ms (--drain-timeout 3), the unstored trades counted"
