#!/usr/bin/env bash
# process_gaps.sh - feed gaps over Kafka: simulate (forced drops, holes
# log) -> produce -> Apache Kafka -> process -> SQLite. The simulator's
# holes log is the oracle of the feed_gaps rows process stores; the topic,
# decoded with Python's avro and the reference schema, holds one gap
# control record per gap, readable as a trades message without trades, in
# order on its symbol's partition; none is a trade or a dead letter; and
# exactly the windows that overlap a gap are incomplete (recomputed from the
# stored gaps: sqlite3 and Python). A zero allowed lateness makes windows
# final before their gap arrives, so those are marked in the store again.
source "$TP_SOURCE_DIR/tests/lib/common.sh"
source "$TP_SOURCE_DIR/tests/lib/process.sh"
schema="$TP_SOURCE_DIR/tests/fixtures/reference-trades.avsc"
N=3000

start_kafka market:3 market.dlq:1
# A gap record of a version process does not know (v9): dead-lettered with
# the reason, not stored, the partition goes on. Avro {"data":[],"type":"gap"}.
printf '\000\006gap' >"$TMP/bad.avro"
kcat -P -b "$BS" -t market -k AAPL -H tp-gap=v9 -H tp-gap-symbol=AAPL "$TMP/bad.avro" || fail "kcat -P"
start_sim sim --rate 600 --batch 5 --drop-every 2.5 --ping-interval 1 --holes-log "$TMP/holes.jsonl"
bg proc "$TICKPIPE" process --brokers "$BS" --topic market --store "sqlite:$TMP/t.db" "${KX[@]}" \
  --progress-interval 0 --allowed-lateness 0
timeout 120 "$TICKPIPE" produce --ws-url "ws://127.0.0.1:$SIM_PORT" --token t --symbols AAPL,MSFT,BINANCE:BTCUSDT \
  --brokers "$BS" --topic market --max-trades "$N" --max-reconnects 50 --progress-interval 0 2>"$TMP/produce.log" ||
  fail "produce exited $?: $(tail -3 "$TMP/produce.log")"
gaps=$(summary_field "$TMP/produce.log" gaps)
recs=$(summary_field "$TMP/produce.log" gap_records)
[ "${gaps:-0}" -ge 3 ] && [ "$recs" = "$gaps" ] || fail "produce: gaps=$gaps gap_records=$recs"
wait_for 60 stored_eq "$TMP/t.db" "$N"
wait_for 30 eval '[ "$(sql "$TMP/t.db" "select count(*) from feed_gaps" 2>/dev/null)" = "$gaps" ]'
kill -TERM "$PID_proc"
wait "$PID_proc" || fail "process exited with $?"
grep -q " 1 bad records; $gaps gaps;" "$TMP/proc.log" || fail "process summary: $(grep summary: "$TMP/proc.log")"
grep -q "is a gap record without a valid gap: tp-gap header 'v9' is not a version this build knows" "$TMP/proc.log" ||
  fail "the v9 gap record: $(grep -m3 'offset' "$TMP/proc.log")"
[ "$(kcat -C -b "$BS" -t market.dlq -e -q -f '%h\n' | grep -c 'tickpipe.error=gap record')" = 1 ] ||
  fail "the v9 gap record is not on the dead-letter topic"
ok "produce sent $gaps gap records; process stored them, none a trade or a bad record; a v9 one dead-lettered"

sqlite3 -json "$TMP/t.db" "select symbol, from_ms, to_ms, reason, connection from feed_gaps" |
  /usr/bin/python3 -c 'import json,sys; [print(json.dumps(r)) for r in json.load(sys.stdin)]' >"$TMP/rows.jsonl"
max_ts=$(sql "$TMP/t.db" "select max(trade_timestamp) from trades")
/usr/bin/python3 "$TP_SOURCE_DIR/tests/lib/holes_check.py" "$TMP/holes.jsonl" "$TMP/rows.jsonl" "$max_ts" ||
  fail "the feed_gaps rows are not the simulator's holes"
ok "feed_gaps rows from Kafka = the simulator's holes"
sql -csv "$TMP/t.db" "select symbol, from_ms, to_ms from feed_gaps" >"$TMP/g.csv"
sql -csv "$TMP/t.db" "select symbol, interval_s, start_ms, incomplete from candles" >"$TMP/c.csv"
sql -csv "$TMP/t.db" "select symbol, window_start, window_end, incomplete from running_averages_15_sec" >"$TMP/a.csv"
/usr/bin/python3 "$TP_SOURCE_DIR/tests/lib/incomplete_check.py" "$TMP/g.csv" "$TMP/c.csv" "$TMP/a.csv" ||
  fail "process: incomplete windows are not right"
ok "process: exactly the windows overlapping a gap are incomplete"

kcat -C -b "$BS" -t market -e -q -f '%p %o %T %K %S %h\n%k%s\n' >"$TMP/kcat.out" || fail "kcat"
/usr/bin/python3 "$TP_SOURCE_DIR/tests/lib/gap_topic_check.py" "$schema" "$TMP/kcat.out" "$TMP/rows.jsonl" ||
  fail "the gap records on the topic are not right"
kcat -C -b "$BS" -t market -e -q -f '%p %o %T %K %S\n%k%s\n' >"$TMP/kcat2.out" || fail "kcat"
/usr/bin/python3 "$TP_SOURCE_DIR/tests/lib/process_topic_oracle.py" "$schema" "$TMP/kcat2.out" --check "$TMP/t.db" ||
  fail "store differs from the topic"
ok "gap records decode with trades.avsc, in order with their symbol's trades"
