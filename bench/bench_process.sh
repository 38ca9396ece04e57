#!/usr/bin/env bash
# bench_process.sh - Kafka (librdkafka mock cluster pre-loaded with N trades
# in Avro records) -> tickpipe process -> the null store and -> SQLite;
# trades/s from partition assignment to the last record, CPU seconds and peak RSS (GNU
# time), and p50/p99 latency from a trade's receipt to durable (the
# process's own histogram, 8 buckets per octave). Beside it, in the same
# run: kcat consuming the same topic to /dev/null (the ceiling of the Kafka
# leg) and sqlite3 .import of the same trades (the store's bulk load).
# Env: BENCH_PROCESS_TRADES (default 1000000), BENCH_PROCESS_PER_RECORD (10).
# Run with bench/run.sh process, or directly with TICKPIPE and TP_TOOLS_DIR set.
set -euo pipefail
: "${TICKPIPE:?}" "${TP_TOOLS_DIR:?}"
N=${BENCH_PROCESS_TRADES:-1000000}
PER=${BENCH_PROCESS_PER_RECORD:-10}
RECORDS=$((N / PER))
PARTS=16 # the mock cluster keeps about 5 MB per partition: room for 1M trades
TMP=$(mktemp -d "${TMPDIR:-/tmp}/tickpipe-bench.XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$TMP"; }
trap cleanup EXIT
[ -x /usr/bin/time ] || { echo "bench_process: /usr/bin/time missing (apt-get install time)" >&2; exit 1; }
command -v kcat >/dev/null || { echo "bench_process: kcat missing" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "bench_process: sqlite3 missing" >&2; exit 1; }
gtime() { sed -n "s/^[[:space:]]*$2: //p" "$1"; }
now_ns() { date +%s%N; }

"$TP_TOOLS_DIR/mock_kafka" --topic "market:$PARTS" --bootstrap-file "$TMP/boot" >/dev/null 2>"$TMP/mock.log" &
pids+=($!)
for _ in $(seq 100); do [ -s "$TMP/boot" ] && break; sleep 0.1; done
BS=$(cat "$TMP/boot")
"$TP_TOOLS_DIR/gen_trades" --brokers "$BS" --topic market --records "$RECORDS" --per-record "$PER" --symbols 200 \
  --step-ms 1 --oracle "$TMP/oracle.csv" 2>/dev/null
got=$(kcat -b "$BS" -C -t market -e -q -f 'x\n' | wc -l)
[ "$got" = "$RECORDS" ] || { echo "bench_process: the mock cluster holds $got of $RECORDS records" >&2; exit 1; }

# Reference: kcat reads every record of the topic. Its start-up (metadata,
# connections: the time to read one record) is subtracted, as tickpipe's
# rate counts from its first record.
best_kcat=0
kcat_cpu=
for _ in 1 2; do
  t0=$(now_ns)
  kcat -b "$BS" -C -t market -e -q -o beginning -c 1 >/dev/null
  t1=$(now_ns)
  /usr/bin/time -v -o "$TMP/time.kcat" kcat -b "$BS" -C -t market -e -q -o beginning >/dev/null
  t2=$(now_ns)
  r=$((N * 1000000000 / ((t2 - t1) - (t1 - t0))))
  if [ "$r" -gt "$best_kcat" ]; then
    best_kcat=$r
    kcat_cpu=$(awk -v u="$(gtime "$TMP/time.kcat" "User time (seconds)")" \
      -v s="$(gtime "$TMP/time.kcat" "System time (seconds)")" 'BEGIN { print u + s }')
  fi
done

# Reference: sqlite3 .import of the same trades into the same table.
sqlite3 "$TMP/ref.db" <<EOF >/dev/null
PRAGMA journal_mode=WAL;
CREATE TABLE t (symbol TEXT, price REAL, volume REAL, ts INTEGER);
EOF
t0=$(now_ns)
sqlite3 "$TMP/ref.db" ".mode csv" ".import $TMP/oracle.csv t"
t1=$(now_ns)
import_rate=$((N * 1000000000 / (t1 - t0)))

# run_process STORE GROUP: sets RATE P50 P99 CPU RSS
run_process() {
  /usr/bin/time -v -o "$TMP/time" "$TICKPIPE" process --brokers "$BS" --topic market --group "$2" --store "$1" \
    --dlq-topic "" --max-trades "$N" --progress-interval 0 -X session.timeout.ms=6000 2>"$TMP/proc.log" ||
    { echo "process failed: $(tail -3 "$TMP/proc.log")" >&2; exit 1; }
  local s
  s=$(grep "summary:" "$TMP/proc.log")
  RATE=$(echo "$s" | sed -n "s/.*(\([0-9]*\) trades\/s from partition assignment.*/\1/p")
  P50=$(echo "$s" | sed -n 's/.*p50 <= \([0-9-]*\) ms.*/\1/p')
  P99=$(echo "$s" | sed -n 's/.*p99 <= \([0-9-]*\) ms.*/\1/p')
  local u sy
  u=$(gtime "$TMP/time" "User time (seconds)")
  sy=$(gtime "$TMP/time" "System time (seconds)")
  CPU=$(awk -v u="$u" -v s="$sy" 'BEGIN { print u + s }')
  RSS=$(($(gtime "$TMP/time" "Maximum resident set size (kbytes)") / 1024))
  echo "$s" | grep -q "$N durable" || { echo "not every trade durable: $s" >&2; exit 1; }
}

echo "Kafka -> process: $N trades in $RECORDS Avro records ($PER per record), 200 symbols, $PARTS partitions,"
echo "librdkafka mock cluster, $(date -u +%F), $(nproc) cores"
echo
echo "| path | trades/s | vs reference | CPU s | peak RSS MB | latency p50 / p99 (receipt -> durable) |"
echo "| --- | --- | --- | --- | --- | --- |"
echo "| kcat -C to /dev/null (reference, Kafka leg) | $best_kcat | 100% | $kcat_cpu | | |"
run_process null: bench-null-$$
null_rate=$RATE null_cpu=$CPU
echo "| tickpipe process -> null store | $RATE | $((RATE * 100 / best_kcat))% of kcat | $CPU | $RSS | $P50 ms / $P99 ms |"
echo "| sqlite3 .import of the same trades (reference, store) | $import_rate | 100% | | | |"
run_process "sqlite:$TMP/bench.db" bench-sqlite-$$
echo "| tickpipe process -> SQLite (trades + windows) | $RATE | $((RATE * 100 / import_rate))% of .import | $CPU | $RSS | $P50 ms / $P99 ms |"
stored=$(sqlite3 "$TMP/bench.db" "SELECT count(*) FROM trades")
[ "$stored" = "$N" ] || { echo "bench_process: SQLite holds $stored of $N trades" >&2; exit 1; }
sq_rate=$RATE sq_cpu=$CPU sq_p99=$P99 sq_rss=$RSS
# Reference for process -> SQLite: the SQLite sink alone (bench_store, units
# of 20,000 rows as process flushes), the same number of trades, this run.
sink_out=$("${TP_BENCH_DIR:-$(dirname "$TICKPIPE")/bench}/bench_store" sink "sqlite:$TMP/sink.db" "$N" 20000 2>/dev/null) ||
  { echo "bench_process: bench_store sink failed" >&2; exit 1; }
sink_rate=${sink_out%% *}
echo "| bench_store sink -> SQLite, trades only (reference, the sink alone) | $sink_rate | 100% | | | |"
echo "| tickpipe process -> SQLite, vs the sink alone | $sq_rate | $((sq_rate * 100 / sink_rate))% of the sink | | | |"
echo
echo "Targets: 1,000,000 trades/s into the null store; into SQLite at least 80% of the SQLite sink's own rate."
echo
echo "RESULT|process -> null store|$null_rate|trades/s|$best_kcat (kcat -C to /dev/null)|$(awk -v a="$null_rate" -v b="$best_kcat" 'BEGIN{printf "%.2f", a/b}')|value >= 1000000"
echo "RESULT|process -> null store CPU|$(awk -v c="$null_cpu" -v n="$N" 'BEGIN{printf "%.2f", c/n*1e6}')|CPU s per M trades|$(awk -v c="$kcat_cpu" -v n="$N" 'BEGIN{printf "%.2f", c/n*1e6}') (kcat -C)|-|-"
echo "RESULT|process -> SQLite|$sq_rate|trades/s|$sink_rate (bench_store SQLite sink alone)|$(awk -v a="$sq_rate" -v b="$sink_rate" 'BEGIN{printf "%.2f", a/b}')|ratio >= 0.80"
echo "RESULT|process -> SQLite CPU|$(awk -v c="$sq_cpu" -v n="$N" 'BEGIN{printf "%.2f", c/n*1e6}')|CPU s per M trades|-|-|-"
echo "RESULT|process -> SQLite p99 receipt -> durable|$sq_p99|ms|-|-|-"
echo "RESULT|process -> SQLite peak RSS|$sq_rss|MB|-|-|-"
