#!/usr/bin/env bash
# process_burst.sh - a burst after a quiet spell: process is idle at the end
# of all 3 partitions, then 200 s of event time arrives at once (a replay at
# full speed, as after an outage). A partition that was at its end must hold
# the watermark back again as soon as records wait in it, so no in-order
# trade is counted late and the 1 s candles hold every trade (the store's
# own query is the oracle).
source "$TP_SOURCE_DIR/tests/lib/common.sh"
syms=AAPL,MSFT,AMZN,NVDA,TSLA,META,GOOGL,NFLX
source "$TP_SOURCE_DIR/tests/lib/kafka.sh"
kafka_start 1
kafka_topic market 3
boot=$BS
/usr/bin/python3 "$TP_SOURCE_DIR/tests/lib/e2e_recording.py" "$TMP/rec" 1795608000000 2000 100 1 "$syms"

"$TICKPIPE" process --brokers "$boot" --store "sqlite:$TMP/t.db" --progress-interval 1 >"$TMP/proc.log" 2>&1 &
proc=$!
on_exit "kill -9 $proc 2>/dev/null"
wait_for 30 grep -q 'assigned' "$TMP/proc.log"
sleep 2 # idle at the end of every partition
"$TICKPIPE" produce --replay "$TMP/rec" --speed 0 --brokers "$boot" >"$TMP/prod.log" 2>&1 ||
  fail "produce failed: $(tail -5 "$TMP/prod.log")"
wait_for 60 grep -q 'total 2000 trades, 2000 durable' "$TMP/proc.log"
kill -INT "$proc"
wait "$proc" || fail "process exited $? after SIGINT"
grep -q 'summary: .* 2000 durable, 0 late' "$TMP/proc.log" || fail "late trades: $(grep summary "$TMP/proc.log")"
n=$(sqlite3 "$TMP/t.db" "SELECT count(*) FROM trades")
c=$(sqlite3 "$TMP/t.db" "SELECT sum(trade_count) FROM candles WHERE interval_s = 1")
[ "$n" = 2000 ] || fail "$n trades stored"
[ "$c" = 2000 ] || fail "1 s candles hold $c of 2000 trades"
ok "a burst after idling: 0 late, candles hold all 2000 trades"
