#!/usr/bin/env bash
# bench_kafka.sh - produce and process against Apache Kafka itself
# (tests/lib/kafka.sh), beside kcat on the same broker in the same run:
#   produce: a recording (frames of 50 trades) replayed as fast as it goes,
#            against kcat -P sending produce's own messages (taken back from
#            the topic) with the same settings (idempotence, acks=all, lz4,
#            linger.ms=5); on one node, then on three nodes with
#            replication factor 3 and min.insync.replicas=2
#   process: the topic into the null store, against kcat -C reading it
#   resume:  three process members over six partitions, one killed -9 and
#            restarted: seconds until it stores again, static membership
#            (--member-id) against a dynamic member (librdkafka's default
#            session.timeout.ms, 45 s)
# Env: BENCH_KAFKA_TRADES (default 1000000).
# Run with bench/run.sh kafka.
set -euo pipefail
source "$TP_SOURCE_DIR/tests/lib/common.sh"
source "$TP_SOURCE_DIR/tests/lib/process.sh"
source "$TP_SOURCE_DIR/bench/kafka_lib.sh"
N=${BENCH_KAFKA_TRADES:-1000000}
KAFKA_HEAP="-Xmx1g -Xms256m"

bench_recording "$N" 50 "$TMP/rec" 1

now() { date +%s.%N; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
end_offsets() { # sum of the high watermarks of topic $1
  "$TP_TOOLS_DIR/group_offsets" --brokers "$BS" --topic "$1" --group none | awk '$1 == "total" {print $3}'
}

# bench_produce LABEL: produce the recording into market, kcat the same
# messages into ref; prints a table row.
bench_produce() {
  local t s_prod msgs s_kcat
  t=$(now)
  "$TICKPIPE" produce --replay "$TMP/rec" --speed 0 --brokers "$BS" --topic market --progress-interval 0 \
    --log-level warn 2>"$TMP/prod.log" || fail "produce: $(tail -3 "$TMP/prod.log")"
  s_prod=$(echo "$(now) - $t" | bc)
  grep -q "delivered_trades=$N " "$TMP/prod.log" || fail "produce: $(grep summary "$TMP/prod.log")"
  msgs=$(sed -n 's/.* messages=\([0-9]*\) .*/\1/p' "$TMP/prod.log")
  kcat -C -b "$BS" -t market -e -q -f '%k\t%s|TPMSG|' >"$TMP/msgs" 2>/dev/null
  t=$(now)
  kcat -P -b "$BS" -t ref -K '\t' -D '|TPMSG|' "${BENCH_KCAT_PRODUCER_X[@]}" <"$TMP/msgs" 2>"$TMP/kcat.log" || fail "kcat -P"
  s_kcat=$(echo "$(now) - $t" | bc)
  [ "$(end_offsets ref)" = "$msgs" ] || fail "kcat delivered $(end_offsets ref) of $msgs messages"
  echo "| produce, $1 | $N trades, $msgs messages | $(rate "$N" "$s_prod") trades/s, $(rate "$msgs" "$s_prod") msg/s | $(rate "$msgs" "$s_kcat") msg/s | $(ratio "$s_kcat" "$s_prod") |"
}

# bench_process: the market topic into null:, kcat -C reading it.
bench_process() {
  local t s_proc s_kcat msgs tps
  msgs=$(end_offsets market)
  t=$(now)
  "$TICKPIPE" process --brokers "$BS" --topic market --group "bench$RANDOM" --store null: --max-trades "$N" \
    --progress-interval 0 --log-level info >"$TMP/proc.log" 2>&1 || fail "process: $(tail -3 "$TMP/proc.log")"
  s_proc=$(echo "$(now) - $t" | bc)
  tps=$(sed -n 's/.*trades in [0-9.]* s (\([0-9]*\) trades\/s from partition.*/\1/p' "$TMP/proc.log")
  t=$(now)
  kcat -C -b "$BS" -t market -e -q -o beginning >/dev/null 2>&1 || fail "kcat -C"
  s_kcat=$(echo "$(now) - $t" | bc)
  echo "| process -> null:, $1 | $N trades, $msgs messages | $tps trades/s from assignment ($(rate "$N" "$s_proc") over the whole run, joining included) | $(rate "$N" "$s_kcat") trades/s ($(rate "$msgs" "$s_kcat") msg/s) | $(ratio "$tps" "$(rate "$N" "$s_kcat")") |"
}

# resume STATIC(0|1): RESUME_S = seconds from kill -9 of one of three
# members to its restarted successor storing trades again.
resume() {
  local g="r$1$RANDOM" ids=(a b c) m t_kill
  kafka_topic "$g" 6
  for m in "${ids[@]}"; do
    local extra=()
    [ "$1" = 1 ] && extra=(--member-id "$g-$m")
    bg "$g$m" "$TICKPIPE" process --brokers "$BS" --topic "$g" --group "$g" "${extra[@]}" --dlq-topic "" \
      --store "sqlite:$TMP/$g.db" --flush-interval 100 --progress-interval 0.2
  done
  for m in "${ids[@]}"; do wait_for 120 grep -q "assigned $g" "$TMP/$g$m.log"; done
  bg "gen$g" "$GEN" --brokers "$BS" --topic "$g" --records 40000 --per-record 2 --symbols 24 --rate 400 --step-ms 5
  sleep 5 # the stream under way, all members busy
  kill -9 "$(eval echo "\$PID_$g${ids[1]}")" || true
  t_kill=$(now)
  local extra=()
  [ "$1" = 1 ] && extra=(--member-id "$g-${ids[1]}")
  bg "$g${ids[1]}2" "$TICKPIPE" process --brokers "$BS" --topic "$g" --group "$g" "${extra[@]}" --dlq-topic "" \
    --store "sqlite:$TMP/$g.db" --flush-interval 100 --progress-interval 0.2
  wait_for 180 eval "grep -o 'total [0-9]* trades' '$TMP/$g${ids[1]}2.log' | grep -qv 'total 0 '"
  RESUME_S=$(echo "$(now) - $t_kill" | bc)
  kill "$(eval echo "\$PID_gen$g")" 2>/dev/null || true
  # the members go before the cluster does (a member stopped after its
  # brokers waits for them up to its drain timeout)
  for m in a c b2; do kill -TERM "$(eval echo "\$PID_$g$m")" 2>/dev/null || true; done
  for m in a c b2; do wait "$(eval echo "\$PID_$g$m")" 2>/dev/null || true; done
}

echo "Apache Kafka $KAFKA_VERSION (KRaft), $(date -u +%F), $(nproc) cores; tickpipe and kcat on the same broker(s) in the same run"
echo
echo "| run | data | tickpipe | kcat | tickpipe/kcat |"
echo "| --- | --- | --- | --- | --- |"
kafka_start 1
kafka_topic market 3
kafka_topic ref 3
bench_produce "1 node"
bench_process "1 node"
resume 1
s_static=$RESUME_S
resume 0
s_dynamic=$RESUME_S
kafka_destroy
kafka_start 3
kafka_topic market 3 3 2
kafka_topic ref 3 3 2
bench_produce "3 nodes, RF 3, min.insync.replicas 2, acks=all"
bench_process "3 nodes"
echo
echo "Resume after kill -9 of one of three members (6 partitions, 1 node): static membership $(printf %.1f "$s_static") s, dynamic member $(printf %.1f "$s_dynamic") s (session.timeout.ms 45 s)"
