#!/usr/bin/env bash
# produce_kafka.sh - feed -> tickpipe produce -> Apache Kafka (one KRaft
# node, tests/lib/kafka.sh) -> kcat -> Python avro with the reference schema. Every trade the feed sent
# arrives exactly once, bit-exact, one message per symbol per frame, each
# symbol on one partition in feed order; the summary agrees.
source "$TP_SOURCE_DIR/tests/lib/common.sh"
command -v kcat >/dev/null || fail "kcat is not installed (scripts/install-deps.sh --test)"
schema="$TP_SOURCE_DIR/tests/fixtures/reference-trades.avsc"
syms='AAPL,MSFT,BINANCE:BTCUSDT,OANDA:EUR_USD,ÜBER,株:7203'

source "$TP_SOURCE_DIR/tests/lib/kafka.sh"
kafka_start 1
kafka_topic market 3
boot=$BS

/usr/bin/python3 "$TP_SOURCE_DIR/tests/integration/produce_feed.py" 6 400 7 "$TMP/want.json" >"$TMP/port" 2>"$TMP/feed.err" &
feed=$!
on_exit "kill $feed 2>/dev/null; wait $feed 2>/dev/null"
wait_for 20 test -s "$TMP/port"
total=$(/usr/bin/python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["trades"]))' "$TMP/want.json")

timeout 120 "$TICKPIPE" produce --ws-url "ws://127.0.0.1:$(cat "$TMP/port")" --token t --symbols "$syms" \
  --brokers "$boot" --topic market --max-trades "$total" --max-reconnects 0 --progress-interval 1 2>"$TMP/produce.log" \
  || fail "produce exited $?: $(tail -5 "$TMP/produce.log")"
grep -q "summary: trades=$total .*accepted_trades=$total delivered_trades=$total .*failed_trades=0 undelivered_trades=0 " "$TMP/produce.log" \
  || fail "summary: $(grep summary "$TMP/produce.log")"
ok "produce delivered $total trades (summary)"

kcat -C -b "$boot" -t market -e -q -f '%p %o %T %K %S\n%k%s\n' >"$TMP/kcat.out" 2>"$TMP/kcat.err" \
  || fail "kcat: $(cat "$TMP/kcat.err")"
/usr/bin/python3 "$TP_SOURCE_DIR/tests/lib/produce_check.py" "$schema" "$TMP/kcat.out" "$TMP/want.json" \
  || fail "topic content differs from the feed"
ok "every trade once, exact, per-symbol order on one partition (Python avro)"

# How the broker stored it (its own log segments, DumpLogSegments): every
# batch compressed with lz4 (the default --compression) and written by an
# idempotent producer: one producer id, sequence numbers without a gap or
# a repeat on each partition.
for p in 0 1 2; do kafka_batches market "$p"; done >"$TMP/batches"
[ -s "$TMP/batches" ] || fail "no record batches in the broker's log"
awk '$6 != "lz4" { print "batch at offset " $1 " compressed with " $6; bad = 1 }
     $3 < 0 { print "batch at offset " $1 " without a producer id (not idempotent)"; bad = 1 }
     { pid[$3] = 1 }
     END { n = 0; for (k in pid) n++; if (n != 1) { print n " producer ids"; bad = 1 }; exit bad }' "$TMP/batches" \
  || fail "broker log: $(head -5 "$TMP/batches")"
for p in 0 1 2; do kafka_batches market "$p" | awk -v p="$p" '
  NR == 1 && $4 != 0 { print "partition " p ": first sequence " $4; bad = 1 }
  NR > 1 && $4 != last + 1 { print "partition " p ": sequence " $4 " after " last; bad = 1 }
  $5 - $4 + 1 != $2 { print "partition " p ": batch of " $2 " with sequences " $4 ".." $5; bad = 1 }
  { last = $5 } END { exit bad }' || fail "sequence numbers on partition $p"; done
ok "broker log: $(wc -l <"$TMP/batches") batches, all lz4, one idempotent producer, gapless sequences"

# --compression zstd reaches the broker as zstd.
kafka_topic zt 1
/usr/bin/python3 "$TP_SOURCE_DIR/tests/integration/produce_feed.py" 2 50 3 "$TMP/want2.json" >"$TMP/port2" 2>"$TMP/feed2.err" &
feed2=$!
on_exit "kill $feed2 2>/dev/null; wait $feed2 2>/dev/null"
wait_for 20 test -s "$TMP/port2"
total2=$(/usr/bin/python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["trades"]))' "$TMP/want2.json")
timeout 120 "$TICKPIPE" produce --ws-url "ws://127.0.0.1:$(cat "$TMP/port2")" --token t --symbols "$syms" \
  --brokers "$boot" --topic zt --compression zstd --max-trades "$total2" --max-reconnects 0 2>"$TMP/produce2.log" \
  || fail "produce zstd exited $?: $(tail -5 "$TMP/produce2.log")"
kafka_batches zt 0 >"$TMP/batches2"
[ -s "$TMP/batches2" ] && awk '$6 != "zstd" {bad = 1} END {exit bad}' "$TMP/batches2" \
  || fail "zstd: $(head -3 "$TMP/batches2")"
ok "--compression zstd: the broker stored zstd batches"
