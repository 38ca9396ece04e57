#!/usr/bin/env bash
# process_group.sh - two tickpipe process in one consumer group split the
# partitions: every trade is stored once, both did work (their summaries),
# and the windows still equal the oracle after the rebalance.
source "$TP_SOURCE_DIR/tests/lib/common.sh"
source "$TP_SOURCE_DIR/tests/lib/process.sh"

start_kafka market:4 market.dlq:1
run() { bg "$1" "$TICKPIPE" process --brokers "$BS" --topic market --group g1 --store "sqlite:$TMP/t.db" \
  "${KX[@]}" --progress-interval 1; }
run a
wait_for 30 grep -q "assigned market" "$TMP/a.log"
run b
wait_for 30 grep -q "assigned market" "$TMP/b.log"
# after the second join both hold partitions
"$GEN" --brokers "$BS" --topic market --records 2000 --per-record 5 --symbols 8 --rate 500 \
  --oracle "$TMP/oracle.csv"
total=$(wc -l <"$TMP/oracle.csv")
wait_for 60 stored_eq "$TMP/t.db" "$total"
kill -TERM "$PID_a" "$PID_b"
wait "$PID_a" || fail "a exited with $?"
wait "$PID_b" || fail "b exited with $?"
ta=$(sed -n 's/.*summary: [0-9]* records, \([0-9]*\) trades.*/\1/p' "$TMP/a.log")
tb=$(sed -n 's/.*summary: [0-9]* records, \([0-9]*\) trades.*/\1/p' "$TMP/b.log")
echo "a processed $ta trades, b $tb"
[ "${ta:-0}" -gt 0 ] && [ "${tb:-0}" -gt 0 ] || fail "one member did no work"
[ $((ta + tb)) -ge "$total" ] || fail "members processed $((ta + tb)) < $total trades"
check_store "$TMP/t.db" "$TMP/oracle.csv"
ok "two members: each trade once, both worked, windows equal the oracle"
