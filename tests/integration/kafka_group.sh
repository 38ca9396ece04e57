#!/usr/bin/env bash
# kafka_group.sh - three tickpipe process members (static membership,
# --member-id) over a topic of six partitions on Apache Kafka. One member is
# killed with -9 mid-stream and restarted under the same id: the other two
# keep storing and are never rebalanced (no partition revoked from them),
# the restarted member gets its own partitions back and resumes within 10 s
# (measured and printed), and in the end every trade is stored exactly once
# and candles and averages equal the oracle (tests/lib/process.sh).
source "$TP_SOURCE_DIR/tests/lib/common.sh"
source "$TP_SOURCE_DIR/tests/lib/process.sh"

start_kafka market:6 market.dlq:1
# A session long enough to cover the restart: the broker keeps the dead
# member's partitions for it instead of rebalancing the group.
member() {
  bg "$1" "$TICKPIPE" process --brokers "$BS" --topic market --group g3 --member-id "$2" \
    --store "sqlite:$TMP/t.db" -X session.timeout.ms=30000 --flush-interval 100 --progress-interval 0.2
}
# holds N: the member's latest progress line says it holds N partitions.
holds() { [ "$(grep -o '[0-9]* partitions$' "$TMP/$1.log" | tail -1)" = "$2 partitions" ]; }
# trades_of NAME: the member's latest running total.
trades_of() { grep -o 'total [0-9]* trades' "$TMP/$1.log" | tail -1 | awk '{print $2}'; }
revokes() { grep -c 'partition(s) revoked' "$TMP/$1.log" || true; }

member m1 m1
member m2 m2
member m3 m3
for m in m1 m2 m3; do wait_for 90 holds "$m" 2; done
grep -q "topic market: 6 partition(s), replication factor 1" "$TMP/m1.log" || fail "m1 did not report the layout"
ok "three static members hold two partitions each"

# 24 symbols cover all six partitions; 6000 records at 300/s: 20 s
bg gen "$GEN" --brokers "$BS" --topic market --records 6000 --per-record 2 --symbols 24 --rate 300 \
  --step-ms 5 --oracle "$TMP/oracle.csv"
wait_for 60 stored_ge "$TMP/t.db" 3000
r1=$(revokes m1) r3=$(revokes m3)
kill -9 "$PID_m2"
wait "$PID_m2" 2>/dev/null || true
t_kill=$(date +%s.%N)
a1=$(trades_of m1) a3=$(trades_of m3)
member m2b m2
t_start=$(date +%s.%N)
wait_for 60 grep -q "resuming at committed offset" "$TMP/m2b.log"
t_assigned=$(date +%s.%N)
wait_for 60 eval '[ "$(trades_of m2b)" -gt 0 ] 2>/dev/null'
t_resumed=$(date +%s.%N)
resume=$(awk -v a="$t_resumed" -v b="$t_kill" 'BEGIN { printf "%.3f", a - b }')
awk -v k="$t_kill" -v a="$t_assigned" -v r="$resume" -v s="$t_start" 'BEGIN {
  printf "  resume after kill -9: partitions back %.2f s, trades flowing %.2f s after the kill (restart %.2f s after it)\n",
    a - k, r, s - k }'
echo "$resume" >"$TMP/resume_s"
awk -v r="$resume" 'BEGIN { exit !(r <= 10) }' || fail "the restarted member resumed after $resume s (> 10 s)"
# the survivors go on storing while the stream lasts
wait_for 20 eval '[ "$(trades_of m1)" -gt "$a1" ] && [ "$(trades_of m3)" -gt "$a3" ]'
holds m2b 2 || fail "the restarted member does not hold its two partitions"
ok "kill -9 + restart of one member: resumed in $(printf %.2f "$resume") s, the others kept going"

wait "$PID_gen" || fail "generator failed"
total=$(wc -l <"$TMP/oracle.csv")
wait_for 120 stored_eq "$TMP/t.db" "$total"
[ "$(revokes m1)" = "$r1" ] && [ "$(revokes m3)" = "$r3" ] || fail "the survivors were rebalanced"
for m in m1 m2b m3; do holds "$m" 2 || fail "$m does not hold two partitions at the end"; done
ok "no rebalance of the survivors; each member holds two partitions"
kill -TERM "$PID_m1" "$PID_m2b" "$PID_m3"
for p in "$PID_m1" "$PID_m2b" "$PID_m3"; do wait "$p" || fail "a member exited with $? on SIGTERM"; done
check_store "$TMP/t.db" "$TMP/oracle.csv"
ok "every trade once, windows equal the oracle"
