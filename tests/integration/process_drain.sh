#!/usr/bin/env bash
# process_drain.sh - bounded shutdown and retention in `tickpipe process`.
#  1. bad --drain-timeout / --retain-* values are usage errors (exit 2), and
#     --help names both;
#  2. retention (off by default in process: it may replay a topic's
#     history): trades of the last 90 s, kept 60 s: the old
#     ones go while process runs, the recent ones stay, and the windows
#     after the cut equal what the stored trades give (window_oracle.py);
#  3. the PostgreSQL store killed mid-stream: SIGTERM gives up after
#     --drain-timeout 3, exit 1 naming the timeout and the trades not durable;
#  4. with --drain-timeout 60 a second SIGTERM gives up at once, exit 1;
#  5. once the store is back a new process stores every trade of both
#     streams exactly once (the offsets of the lost units were not committed)
#     and SIGTERM exits 0;
#  6. every broker hung: SIGTERM still ends process within the drain
#     timeout and a few seconds (its last offset commit and group leave
#     would wait for the brokers), exit 0 or 1, every trade it took stored.
source "$TP_SOURCE_DIR/tests/lib/common.sh"
source "$TP_SOURCE_DIR/tests/lib/process.sh"
source "$TP_SOURCE_DIR/tests/lib/postgres.sh"
oracle="$TP_SOURCE_DIR/tests/lib/window_oracle.py"

# 1. usage
for bad in "--drain-timeout -1" "--retain-trades soon" "--retain-averages -5"; do
  rc=0; "$TICKPIPE" process $bad 2>"$TMP/usage.log" || rc=$?
  [ "$rc" = 2 ] || fail "process $bad exited $rc, not 2: $(cat "$TMP/usage.log")"
  grep -q -- "${bad%% *}" "$TMP/usage.log" || fail "the usage error does not name ${bad%% *}: $(cat "$TMP/usage.log")"
done
for f in "--drain-timeout S" "--retain-trades S" "--retain-candles-1s S" "--retain-candles-1m S" "--retain-averages S"; do
  "$TICKPIPE" process --help | grep -q -- "$f" || fail "$f missing from process --help"
done
ok "bad drain/retention values are usage errors (2); the flags are in process --help"

start_kafka old:2 market:3 market.dlq:1
gone() { ! kill -0 "$1" 2>/dev/null; }
now_ms() { date +%s%3N; }

# 2. retention
# Every trade is older than the retention 60 s after the generator ends, and
# the test must see a retention step and stop process before then: process's
# start, group join and backlog must fit in that time, on a loaded machine
# too (with 30 s of trades kept 20 s, about 18 s were left for it). A step
# runs every quarter of the retention (15 s).
db="$TMP/ret.db"
start=$(($(now_ms) - 90000))
"$GEN" --brokers "$BS" --topic old --records 3000 --per-record 4 --symbols 4 --rate 2000 --start-ms "$start" \
  --step-ms 30 --oracle "$TMP/old.csv" >"$TMP/gen_old.log" 2>&1 || fail "generator failed: $(cat "$TMP/gen_old.log")"
bg ret "$TICKPIPE" process --brokers "$BS" --topic old --group ret --store "sqlite:$db" "${KX[@]}" \
  --allowed-lateness 1 --retain-trades 60s --retain-candles-1s 60s --retain-averages 60s --retain-candles-1m 60s
oldest_ok() { # the oldest stored trade within 60 s (+ 18 s for the steps) of now
  local o; o=$(sqlite3 -batch -noheader "$db" "SELECT min(trade_timestamp) FROM trades" 2>/dev/null)
  [ -n "$o" ] && [ "$o" -ge $(($(now_ms) - 78000)) ]
}
wait_for 60 grep -q "assigned old" "$TMP/ret.log"
wait_for 90 oldest_ok
kill -TERM "$PID_ret"
rc=0; wait "$PID_ret" || rc=$?
[ "$rc" = 0 ] || fail "process with retention exited $rc: $(tail -5 "$TMP/ret.log")"
stop=$(now_ms)
kept=$(db_count "$db")
total=$(wc -l <"$TMP/old.csv")
[ "$kept" -gt 0 ] && [ "$kept" -lt "$total" ] || fail "retention kept $kept of $total trades"
# every trade newer than the cut of the last step is still there
newest=$((start + 2999 * 30))
cut=$((stop - 60000 + 1000))
want=$(awk -F, -v c="$cut" '$4 >= c' "$TMP/old.csv" | wc -l)
have=$(sqlite3 -batch -noheader "$db" "SELECT count(*) FROM trades WHERE trade_timestamp >= $cut")
[ "$have" = "$want" ] || fail "trades newer than the cut: $have stored, $want generated"
since=$(((cut + 4999) / 5000 * 5000))
/usr/bin/python3 "$oracle" sqlite "$db" --since "$since" >"$TMP/oracle.out" ||
  fail "windows after the cut: $(cat "$TMP/oracle.out")"
grep -q "oracle: [1-9][0-9]* trades" "$TMP/oracle.out" || fail "no window after the cut to compare: $(cat "$TMP/oracle.out")"
ok "process retention: $kept of $total trades kept (newest event time $(((stop - newest) / 1000)) s ago, kept 60 s), recent windows exact ($(cat "$TMP/oracle.out"))"

# 3. store down: the drain gives up after --drain-timeout
pg_start
pg_count() { psql -X -At "$PG_URL" -c "SELECT count(*) FROM trades" 2>/dev/null || echo 0; }
pg_ge() { [ "$(pg_count)" -ge "$1" ]; }
pg_eq() { [ "$(pg_count)" = "$1" ]; }
proc() { bg "$1" "$TICKPIPE" process --brokers "$BS" --topic market --store "$PG_URL" "${KX[@]}" \
  --flush-interval 100 "${@:2}"; }
proc p1 --drain-timeout 3
wait_for 60 grep -q "assigned market" "$TMP/p1.log"
bg gen1 "$GEN" --brokers "$BS" --topic market --records 3000 --per-record 5 --symbols 6 --rate 300 \
  --step-ms 50 --oracle "$TMP/m1.csv"
wait_for 60 pg_ge 1000
pg_kill
wait_for 30 grep -q "store postgresql failed" "$TMP/p1.log"
t0=$(date +%s%N)
kill -TERM "$PID_p1"
rc=0; wait "$PID_p1" || rc=$?
el=$((($(date +%s%N) - t0) / 1000000))
[ "$rc" = 1 ] || fail "SIGTERM with the store down exited $rc, not 1: $(tail -5 "$TMP/p1.log")"
[ "$el" -ge 2500 ] && [ "$el" -le 15000 ] || fail "the drain took $el ms with --drain-timeout 3"
grep -q "the drain timed out (--drain-timeout): [0-9]* trades consumed are not durable" "$TMP/p1.log" ||
  fail "no drain-timeout line: $(tail -5 "$TMP/p1.log")"
ok "store down: SIGTERM gave up after $el ms (--drain-timeout 3), exit 1: $(grep -o '[0-9]* trades consumed are not durable' "$TMP/p1.log")"
wait "$PID_gen1" || fail "generator failed"

# 4. a second SIGTERM gives up at once
pg_restart
proc p2 --drain-timeout 60
n1=$(wc -l <"$TMP/m1.csv")
wait_for 90 pg_eq "$n1"
bg gen2 "$GEN" --brokers "$BS" --topic market --records 3000 --per-record 5 --symbols 6 --rate 300 \
  --step-ms 50 --start-ms 1700000151000 --seed 7 --oracle "$TMP/m2.csv"
wait_for 60 pg_ge $((n1 + 1000))
pg_kill
wait_for 30 grep -q "store postgresql failed" "$TMP/p2.log"
t0=$(date +%s%N)
kill -TERM "$PID_p2"
# two SIGTERMs pending at once are one: the second after the first was taken
wait_for 20 grep -q "stopping: storing what was consumed" "$TMP/p2.log"
kill -TERM "$PID_p2"
wait_for 20 gone "$PID_p2"
rc=0; wait "$PID_p2" || rc=$?
el=$((($(date +%s%N) - t0) / 1000000))
[ "$rc" = 1 ] || fail "two SIGTERMs exited $rc, not 1: $(tail -5 "$TMP/p2.log")"
grep -q "gave up on a second signal: [0-9]* trades consumed are not durable" "$TMP/p2.log" ||
  fail "no give-up line: $(tail -5 "$TMP/p2.log")"
ok "a second SIGTERM gave up after $el ms (drain timeout 60 s), exit 1"
wait "$PID_gen2" || fail "generator failed"

# 5. nothing lost: the uncommitted records are read again
pg_restart
proc p3
n=$((n1 + $(wc -l <"$TMP/m2.csv")))
wait_for 120 pg_eq "$n"
kill -TERM "$PID_p3"
rc=0; wait "$PID_p3" || rc=$?
[ "$rc" = 0 ] || fail "process with the store up exited $rc on SIGTERM: $(tail -5 "$TMP/p3.log")"
d=$(psql -X -At "$PG_URL" -c "SELECT count(DISTINCT uuid) FROM trades")
[ "$d" = "$n" ] || fail "$n trades stored under $d distinct ids"
ok "after both give-ups every one of the $n trades is stored once; SIGTERM with the store up exits 0"

# 6. the brokers hung before the stop (SIGSTOP: connections stay open and
# nothing answers, as in a network partition): the last offset commit
# would wait for librdkafka's request timeout, the guard ends it
proc p4 --group gone --drain-timeout 3
wait_for 60 grep -q "assigned market" "$TMP/p4.log"
for pid in "${KAFKA_PID[@]}"; do [ -z "$pid" ] || kill -STOP "$pid"; done
on_exit 'for pid in "${KAFKA_PID[@]}"; do [ -z "$pid" ] || kill -CONT "$pid" 2>/dev/null; done'
t0=$(date +%s%N)
kill -TERM "$PID_p4"
wait_for 40 gone "$PID_p4"
rc=0; wait "$PID_p4" || rc=$?
el=$((($(date +%s%N) - t0) / 1000000))
for pid in "${KAFKA_PID[@]}"; do [ -z "$pid" ] || kill -CONT "$pid"; done
[ "$rc" = 0 ] || [ "$rc" = 1 ] || fail "process with the brokers hung exited $rc on SIGTERM: $(tail -5 "$TMP/p4.log")"
[ "$rc" = 0 ] || grep -q "Kafka did not let go in time" "$TMP/p4.log" || fail "exit 1 without saying why: $(tail -5 "$TMP/p4.log")"
d=$(psql -X -At "$PG_URL" -c "SELECT count(DISTINCT uuid) FROM trades")
[ "$d" = "$n" ] || fail "$n trades stored under $d distinct ids after the brokers hung"
ok "every broker hung: SIGTERM ended process in $el ms (drain timeout 3 s), exit $rc, nothing lost"
