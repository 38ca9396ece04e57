#!/usr/bin/env bash
# process_dlq.sh - a poison record (garbage bytes produced with kcat) lands
# in the dead-letter topic with its source position, and every trade
# around it is stored.
source "$TP_SOURCE_DIR/tests/lib/common.sh"
source "$TP_SOURCE_DIR/tests/lib/process.sh"

start_kafka market:1 market.dlq:1
"$GEN" --brokers "$BS" --topic market --records 100 --per-record 3 --symbols 3 --oracle "$TMP/o1.csv"
printf 'garbage\xff\xfe\x00not avro' >"$TMP/poison.bin"
kcat -b "$BS" -P -t market -k AAPL "$TMP/poison.bin"
"$GEN" --brokers "$BS" --topic market --records 100 --per-record 3 --symbols 3 --seed 2 \
  --start-ms 1700000001000 --oracle "$TMP/o2.csv"
cat "$TMP/o1.csv" "$TMP/o2.csv" >"$TMP/oracle.csv"
total=$(wc -l <"$TMP/oracle.csv")
bg proc "$TICKPIPE" process --brokers "$BS" --topic market --store "sqlite:$TMP/t.db" "${KX[@]}"
wait_for 60 stored_eq "$TMP/t.db" "$total"
kill -TERM "$PID_proc"
wait "$PID_proc" || fail "process exited with $?"
grep -q "market \[0\] offset 100 (18 bytes) does not decode" "$TMP/proc.log" || { cat "$TMP/proc.log"; fail "no clear log line"; }
grep -q "1 bad records" "$TMP/proc.log" || fail "bad record not counted"
kcat -b "$BS" -C -t market.dlq -e -q -f '%k|%h\n' >"$TMP/dlq.txt"
kcat -b "$BS" -C -t market.dlq -e -q -D '' >"$TMP/dlq.bin"
cat "$TMP/dlq.txt"
[ "$(wc -l <"$TMP/dlq.txt")" = 1 ] || fail "expected one dead letter"
grep -q "^AAPL|.*tickpipe.source.topic=market,tickpipe.source.partition=0,tickpipe.source.offset=100," "$TMP/dlq.txt" ||
  fail "dead letter headers"
cmp "$TMP/poison.bin" "$TMP/dlq.bin" || fail "dead letter payload differs from the poison record"
ok "poison record in the dead-letter topic, byte for byte"
check_store "$TMP/t.db" "$TMP/oracle.csv"
ok "every trade around it stored"
