#!/usr/bin/env bash
# run_drain.sh - bounded shutdown of `tickpipe run`: with its PostgreSQL
# store killed, SIGTERM drains for at most --drain-timeout and exits 1
# saying how many received trades were not stored (and that number is the
# difference between what the feed delivered and what the store holds); a
# second SIGTERM gives up at once; with the store up SIGTERM exits 0 with
# every received trade stored; a bad --drain-timeout is a usage error (2).
source "$TP_SOURCE_DIR/tests/lib/common.sh"
source "$TP_SOURCE_DIR/tests/lib/postgres.sh"

rc=0; "$TICKPIPE" run --drain-timeout -1 --no-http 2>"$TMP/usage.log" || rc=$?
[ "$rc" = 2 ] || fail "--drain-timeout -1 exited $rc, not 2: $(cat "$TMP/usage.log")"
grep -q -- "--drain-timeout" "$TMP/usage.log" || fail "the usage error does not name the flag: $(cat "$TMP/usage.log")"
"$TICKPIPE" run --help | grep -q -- "--drain-timeout S" || fail "--drain-timeout missing from --help"
ok "bad --drain-timeout is a usage error (2), the flag is in --help"

pg_start
count() { psql_q "SELECT count(*) FROM trades" 2>/dev/null || echo 0; }
above() { [ "$(count)" -ge "$1" ]; }
start_run() { # start_run NAME ARGS...
  local name=$1; shift
  "$TICKPIPE" run --store "$PG_URL" --no-http --symbols AAPL,MSFT --sim-rate 500 "$@" \
    >/dev/null 2>"$TMP/$name.log" &
  eval "PID_$name=$!"
  on_exit "kill -9 $! 2>/dev/null"
}
field() { sed -n "s/^summary: .*\b$2=\([0-9]*\).*/\1/p" "$TMP/$1.log" | tail -1; }
gone() { ! kill -0 "$1" 2>/dev/null; }

# 1. store up: SIGTERM drains everything, exit 0
start_run up
wait_for 60 above 200
kill -TERM "$PID_up"
rc=0; wait "$PID_up" || rc=$?
[ "$rc" = 0 ] || fail "SIGTERM with the store up exited $rc: $(tail -5 "$TMP/up.log")"
[ "$(field up trades)" = "$(count)" ] || fail "received $(field up trades), stored $(count)"
ok "store up: SIGTERM stored all $(count) received trades and exited 0"

# 2. store killed: SIGTERM, exit 1 within the drain timeout, the loss counted
before=$(count)
start_run down --drain-timeout 3
wait_for 60 above $((before + 200))
pg_kill
wait_for 60 grep -q "store postgresql failed" "$TMP/down.log"
t0=$(date +%s%N)
kill -TERM "$PID_down"
rc=0; wait "$PID_down" || rc=$?
el=$((($(date +%s%N) - t0) / 1000000))
[ "$rc" = 1 ] || fail "SIGTERM with the store down exited $rc, not 1: $(tail -5 "$TMP/down.log")"
[ "$el" -ge 2500 ] && [ "$el" -le 10000 ] || fail "the drain took $el ms with --drain-timeout 3"
lost=$(sed -n 's/.*the drain timed out (--drain-timeout): \([0-9]*\) trades received were not stored.*/\1/p' "$TMP/down.log")
[ -n "$lost" ] || fail "no count of unstored trades: $(tail -5 "$TMP/down.log")"
pg_restart
stored=$(($(count) - before))
[ "$((stored + lost))" = "$(field down trades)" ] ||
  fail "received $(field down trades), stored $stored, reported lost $lost: they do not add up"
ok "store down: SIGTERM gave up after $el ms (--drain-timeout 3), exit 1, $lost of $(field down trades) trades reported not stored"

# 3. a second SIGTERM gives up at once (drain timeout 60 s)
before=$(count)
start_run twice --drain-timeout 60
wait_for 60 above $((before + 200))
pg_kill
wait_for 60 grep -q "store postgresql failed" "$TMP/twice.log"
kill -TERM "$PID_twice"
wait_for 20 grep -q "stopping: the feed is closed" "$TMP/twice.log"
t0=$(date +%s%N)
kill -TERM "$PID_twice"
wait_for 10 gone "$PID_twice"
rc=0; wait "$PID_twice" || rc=$?
el=$((($(date +%s%N) - t0) / 1000000))
[ "$rc" = 1 ] || fail "two SIGTERMs exited $rc, not 1"
grep -q "gave up on a second signal: [0-9]* trades received were not stored" "$TMP/twice.log" ||
  fail "no give-up line: $(tail -5 "$TMP/twice.log")"
ok "a second SIGTERM gave up after $el ms (drain timeout 60 s), exit 1"
