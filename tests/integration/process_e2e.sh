#!/usr/bin/env bash
# process_e2e.sh - tickpipe simulate -> tickpipe produce -> Apache Kafka ->
# tickpipe process -> SQLite. The oracle is the topic itself, decoded with
# Python's avro package and the reference schema: every trade in it is in
# the store once, with its conditions (null, [] and lists stay distinct),
# and candles and averages equal those recomputed from it.
source "$TP_SOURCE_DIR/tests/lib/common.sh"
source "$TP_SOURCE_DIR/tests/lib/process.sh"
schema="$TP_SOURCE_DIR/tests/fixtures/reference-trades.avsc"
N=6000

start_kafka market:3 market.dlq:1
bg sim "$TICKPIPE" simulate --listen 127.0.0.1:0 --rate 3000 --batch 20 --seed 3 --ping-interval 1
wait_for 20 grep -q "listening on ws://" "$TMP/sim.log"
url=$(grep -o "ws://[0-9.:]*" "$TMP/sim.log" | head -1)
bg proc "$TICKPIPE" process --brokers "$BS" --topic market --store "sqlite:$TMP/t.db" "${KX[@]}" \
  --progress-interval 1
timeout 120 "$TICKPIPE" produce --ws-url "$url" --token t --symbols AAPL,MSFT,BINANCE:BTCUSDT,OANDA:EUR_USD \
  --brokers "$BS" --topic market --max-trades "$N" --progress-interval 0 2>"$TMP/produce.log" ||
  fail "produce exited $?: $(tail -3 "$TMP/produce.log")"
wait_for 60 stored_eq "$TMP/t.db" "$N"
kill -TERM "$PID_proc"
wait "$PID_proc" || fail "process exited with $?"
grep -q " 0 bad records" "$TMP/proc.log" || fail "bad records"
kcat -C -b "$BS" -t market -e -q -f '%p %o %T %K %S\n%k%s\n' >"$TMP/kcat.out" || fail "kcat"
/usr/bin/python3 "$TP_SOURCE_DIR/tests/lib/process_topic_oracle.py" "$schema" "$TMP/kcat.out" "$TMP/oracle.csv"
[ "$(wc -l <"$TMP/oracle.csv")" = "$N" ] || fail "the topic holds $(wc -l <"$TMP/oracle.csv") trades, produce sent $N"
/usr/bin/python3 "$TP_SOURCE_DIR/tests/lib/process_topic_oracle.py" "$schema" "$TMP/kcat.out" --check "$TMP/t.db" ||
  fail "store differs from the topic"
ok "every trade of the topic stored once, conditions included"
late=$(grep summary: "$TMP/proc.log" | sed -n 's/.*durable, \([0-9]*\) late.*/\1/p')
[ "$late" = 0 ] || fail "$late late trades in a live in-order feed"
check_store "$TMP/t.db" "$TMP/oracle.csv"
ok "candles and averages equal the oracle (v = 0 updates move prices, not volume figures)"
