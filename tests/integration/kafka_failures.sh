#!/usr/bin/env bash
# kafka_failures.sh - broker loss on a three-node Apache Kafka cluster
# (tests/lib/kafka.sh), topic of 6 partitions with replication factor 3 and
# min.insync.replicas=2, produce with acks=all, two process members:
#   0. produce --create-topic makes that layout (checked with kcat -L and
#      the topic's config); a second --create-topic leaves it alone and
#      reports it
#   1. kill -9 of the leader of the busiest partition mid-stream, restarted
#   2. one broker stopped while process runs, started again later
#   3. a rolling restart of all three, each back in sync before the next
#   4. all three brokers stopped (SIGTERM to all at once) mid-stream, down
#      for 30 s, then started
# After each phase: every trade produced is in the store exactly once and
# the candles and 15 s averages equal those recomputed from the recordings
# (tests/lib/process.sh check_store, sqlite3's own queries), and produce
# delivered every trade (its summary). Both members run through every
# failure, and neither counts a trade late. At the end the store also equals the
# topic record for record (e2e_check.py, Python avro), so the cluster holds
# no trade twice either.
#
# At the end the topic's own log is checked too (kafka_seq_breaks, Kafka's
# DumpLogSegments): per partition and producer, sequence numbers run from 0
# without a gap or a repeat.
#
# Two causes of loss and duplicates found here, both from a broker that
# has no state for a producer and so accepts any sequence number:
# - The recordings' receive times lie days in the past, and produce used to
#   stamp replayed records with them. Kafka ages a producer's state by
#   record timestamp (producer.id.expiration.ms, 1 day): each broker
#   dropped it when it restarted, and a batch retried across the 30 s
#   outage was appended again (the same producer, epoch and sequences at
#   two offsets). produce now stamps replayed records with the send time.
# - A new producer's first batch to a partition that failed on a moving
#   leader (a topic just created, a broker stopping) could be overtaken by
#   the next batch in flight; librdkafka 2.0.2 then reported the first as
#   delivered though it was never written (a partition starting at
#   sequence 1). produce now keeps one request in flight.
source "$TP_SOURCE_DIR/tests/lib/common.sh"
source "$TP_SOURCE_DIR/tests/lib/process.sh"
SYMS='AAPL,TSLA,MSFT,NVDA,IBM,INTC,BINANCE:BTCUSDT,OANDA:EUR_USD'
DB="$TMP/t.db"
t0=$SECONDS

kafka_start 3
kafka_topic market.dlq 1 3 2

# recording N: the next N trades, 4 ms of event (and replay) time apart,
# appended to the oracle; sets REC.
next_ms=1795608000000 seq_no=0
recording() {
  seq_no=$((seq_no + 1))
  REC="$TMP/rec$seq_no"
  /usr/bin/python3 "$TP_SOURCE_DIR/tests/lib/e2e_recording.py" "$REC" "$next_ms" "$1" 4 "$seq_no" "$SYMS" \
    "$REC.csv" || fail "cannot write a recording"
  cat "$REC.csv" >>"$TMP/oracle.csv"
  next_ms=$((next_ms + $1 * 4 + 4))
}
# produce NAME [FLAGS...]: replay $REC in real time (speed 1), in the background;
# at the end of the recording it waits up to 180 s for deliveries (the
# 30 s outage falls into that wait).
produce() {
  local name=$1
  shift
  bg "$name" "$TICKPIPE" produce --replay "$REC" --speed 1 --brokers "$BS" --topic market --progress-interval 1 \
    --flush-timeout 180 "$@"
}
produced() {
  local pid n
  pid=$(eval echo "\$PID_$1")
  n=$(wc -l <"$REC.csv")
  wait "$pid" || fail "produce $1 exited with $?: $(tail -3 "$TMP/$1.log")"
  grep -q "summary: trades=$n .*delivered_trades=$n .*undelivered_trades=0 " "$TMP/$1.log" ||
    fail "produce $1: $(grep summary "$TMP/$1.log")"
}
# store_matches: check_store passes (in a subshell without the exit trap,
# retried: the members upsert open windows at each flush, --emit-interval 0,
# so the last ones land a moment after the last trade).
store_matches() { (trap - EXIT; check_store "$DB" "$TMP/oracle.csv") >"$TMP/check.out" 2>&1; }
phase_check() {
  local total
  total=$(wc -l <"$TMP/oracle.csv")
  wait_for 180 stored_eq "$DB" "$total"
  local i
  for ((i = 0; i < 30; i++)); do store_matches && break; sleep 1; done
  store_matches || { cat "$TMP/check.out"; fail "$1: the store differs from the oracle"; }
  grep -E 'stored|diff' "$TMP/check.out" | tr -s ' \n' ' '; echo
  ok "$1: $total trades stored exactly once, candles and averages equal the oracle ($((SECONDS - t0)) s)"
}
member() {
  bg "$1" "$TICKPIPE" process --brokers "$BS" --topic market --group gf --member-id "$1" --store "sqlite:$DB" \
    -X session.timeout.ms=30000 --flush-interval 100 --emit-interval 0 --progress-interval 1
}
# busiest_partition: the partition with the highest end offset.
busiest_partition() {
  "$TP_TOOLS_DIR/group_offsets" --brokers "$BS" --topic market --group gf |
    awk '$1 != "total" && $3 > max {max = $3; p = $1} END {print p}'
}
# in_sync: every partition of market has all three replicas in sync.
in_sync() {
  kcat -L -b "$BS" -t market -m 5 2>/dev/null | grep -c 'isrs: [0-9],[0-9],[0-9]$' | grep -qx 6
}

# 0. --create-topic for real
recording 2000
produce p0 --create-topic --partitions 6 --replication-factor 3 --min-insync-replicas 2
produced p0
grep -q "created topic market (6 partitions, replication factor 3, min.insync.replicas 2)" "$TMP/p0.log" ||
  fail "create: $(grep -i topic "$TMP/p0.log")"
kcat -L -b "$BS" -t market >"$TMP/layout"
grep -q 'topic "market" with 6 partitions' "$TMP/layout" || fail "layout: $(cat "$TMP/layout")"
[ "$(grep -c 'replicas: [0-9],[0-9],[0-9],' "$TMP/layout")" = 6 ] || fail "replicas: $(cat "$TMP/layout")"
[ "$("$TP_TOOLS_DIR/kafka_admin" --brokers "$BS" config market min.insync.replicas)" = 2 ] ||
  fail "min.insync.replicas is not 2"
ok "--create-topic: 6 partitions, 3 replicas each, min.insync.replicas=2 (kcat -L, DescribeConfigs)"
member m1
member m2
phase_check "before any failure"
recording 1000
produce p0b --create-topic --partitions 2 --replication-factor 1
produced p0b
grep -q "topic market already exists; left as it is" "$TMP/p0b.log" &&
  grep -q "topic market: 6 partition(s), replication factor 3, min.insync.replicas 2" "$TMP/p0b.log" &&
  grep -q "exists with a layout other than --create-topic asked for" "$TMP/p0b.log" ||
  fail "existing topic: $(grep -i topic "$TMP/p0b.log")"
kcat -L -b "$BS" -t market | grep -q 'topic "market" with 6 partitions' || fail "the existing topic was changed"
ok "--create-topic on an existing topic: left alone, its layout reported"

# 1. kill -9 the leader of the busiest partition mid-stream
recording 3000
produce p1
wait_for 60 stored_ge "$DB" "$(($(wc -l <"$TMP/oracle.csv") - 2000))"
busy=$(busiest_partition)
leader=$(kafka_leader market "$busy")
[ -n "$leader" ] && [ "$leader" -ge 1 ] || fail "no leader for partition $busy"
kafka_kill9 "$leader"
echo "  killed node $leader (leader of partition $busy) with -9"
wait_for 60 eval '[ "$(kafka_leader market "$busy")" != "$leader" ] && [ "$(kafka_leader market "$busy")" != -1 ]'
echo "  partition $busy led by node $(kafka_leader market "$busy") now"
produced p1
kafka_restart "$leader"
kafka_wait_brokers 3
phase_check "leader killed -9 mid-stream"

# 2. a broker taken away while process runs (and brought back)
recording 3000
produce p2
away=$(((leader % 3) + 1))
before=$(db_count "$DB")
kafka_stop "$away"
echo "  node $away stopped"
wait_for 60 stored_ge "$DB" $((before + 1000))
kafka_restart "$away"
produced p2
kafka_wait_brokers 3
phase_check "one broker away while process ran"

# 3. rolling restart, each node back in sync before the next
wait_for 120 in_sync
recording 6000
produce p3
for id in 1 2 3; do
  kafka_stop "$id"
  kafka_restart "$id"
  kafka_wait_brokers 3
  wait_for 120 in_sync
  echo "  node $id restarted and in sync"
done
produced p3
phase_check "rolling restart"

# 4. every broker down for 30 s mid-stream (stopped at once, with produce
# requests in flight), then all started again
wait_for 120 in_sync
recording 3000
produce p4
wait_for 60 stored_ge "$DB" "$(($(wc -l <"$TMP/oracle.csv") - 2500))"
kafka_stop_all
echo "  all brokers stopped"
sleep 30 # the outage itself
for id in 1 2 3; do kafka_restart "$id"; done
kafka_wait_brokers 3
produced p4
phase_check "all brokers down for 30 s"
kill -TERM "$PID_m1" "$PID_m2"
wait "$PID_m1" || fail "m1 exited with $?"
wait "$PID_m2" || fail "m2 exited with $?"
# no trade was late: records a failover delayed (a producer retrying, a
# leader moving) held the watermark back (--partition-idle), so every trade
# is in all of its windows, final ones included
for m in m1 m2; do
  grep -q "summary: .* 0 late, " "$TMP/$m.log" || fail "$m counted late trades: $(grep summary: "$TMP/$m.log")"
done
check_store "$DB" "$TMP/oracle.csv"
# the topic itself: every record once (the store equals it record for
# record, and the store equals the oracle)
kcat -C -b "$BS" -t market -e -q -f '%p %o %T %K %S\n%k%s\n' >"$TMP/kcat.out" 2>"$TMP/kcat.err" ||
  fail "kcat: $(cat "$TMP/kcat.err")"
sqlite3 -batch -noheader -separator $'\t' "$DB" "SELECT uuid, symbol,
    ieee754_mantissa(price) || '*2^' || ieee754_exponent(price),
    ieee754_mantissa(volume) || '*2^' || ieee754_exponent(volume),
    trade_timestamp, ifnull(trade_conditions, '\N') FROM trades" >"$TMP/store.tsv"
/usr/bin/python3 "$TP_SOURCE_DIR/tests/lib/e2e_check.py" trades "$TP_SOURCE_DIR/tests/fixtures/reference-trades.avsc" \
  "$TMP/kcat.out" "$TMP/store.tsv" || fail "the store differs from the topic"
breaks=$(kafka_seq_breaks market 1)
[ -z "$breaks" ] || fail "producer sequences in the topic's log are not whole: $breaks"
ok "after SIGTERM: the store equals the topic record for record, producer sequences whole; whole test $((SECONDS - t0)) s"
