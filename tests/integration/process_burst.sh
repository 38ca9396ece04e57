#!/usr/bin/env bash
# process_burst.sh - a burst after a quiet spell: process is at the end of
# all 3 partitions, then 200 s of event time arrives at once (a replay at
# full speed, as after an outage). The spell is shorter than
# --partition-idle (60 s here: produce's start alone can take seconds on a
# loaded machine), so every partition at its end still holds the watermark
# back: records that reach one partition after another's (still in the
# producer) are not passed, no in-order trade is counted late and the 1 s
# candles hold every trade (the store's own query is the oracle). With the
# old rule (a partition at its end idle at once, unless librdkafka's cached
# high watermark showed records waiting) a fresh machine counted 87 of
# 2,000 late.
source "$TP_SOURCE_DIR/tests/lib/common.sh"
syms=AAPL,MSFT,AMZN,NVDA,TSLA,META,GOOGL,NFLX
source "$TP_SOURCE_DIR/tests/lib/kafka.sh"
kafka_start 1
kafka_topic market 3
boot=$BS
/usr/bin/python3 "$TP_SOURCE_DIR/tests/lib/e2e_recording.py" "$TMP/rec" 1795608000000 2000 100 1 "$syms"

"$TICKPIPE" process --brokers "$boot" --store "sqlite:$TMP/t.db" --progress-interval 1 --partition-idle 60 \
  >"$TMP/proc.log" 2>&1 &
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
