# e2e.sh - the distributed path end to end, shared by e2e_sqlite.sh,
# e2e_postgresql.sh and e2e_clickhouse.sh. Source after common.sh and the
# store's own helper; the test then defines, for its store:
#   STORE_URL           the store URL given to process and serve
#   store_count         print the number of trades stored (0 if no table yet)
#   store_dump FILE     the trades as TSV for e2e_check.py (uuid, symbol,
#                       price, volume, epoch ms, conditions JSON or \N),
#                       exact, through the database's own client
#   store_candles       print "BUCKETS CANDLES MISMATCHES" where BUCKETS are
#                       the (symbol, 1 s / 1 min bucket) groups of the stored
#                       trades, CANDLES the candle rows, MISMATCHES the
#                       buckets whose candle's trade count, volume, high or
#                       low differ from the trades' own (computed by the
#                       database from the trades table)
#
# e2e_run then runs: tickpipe simulate (fixed seed) -> tickpipe produce
# --max-trades -> Apache Kafka (one KRaft node, tests/lib/kafka.sh; topic
# with 3 partitions) -> two
# tickpipe process in one consumer group -> the store; kill -9 of one
# member mid-stream and a restart; then checks against the topic itself
# (kcat + Python avro with the reference schema), the group's committed
# offsets, the store's candles, and `tickpipe serve` over the store.

command -v kcat >/dev/null || fail "kcat missing (scripts/install-deps.sh --test installs it)"
E2E_SCHEMA="$TP_SOURCE_DIR/tests/fixtures/reference-trades.avsc"
E2E_CHECK=(/usr/bin/python3 "$TP_SOURCE_DIR/tests/lib/e2e_check.py")
# keyed by symbol, these land on all 3 partitions (librdkafka's CRC32 partitioner)
E2E_SYMS='AAPL,TSLA,MSFT,NVDA,IBM,INTC,BINANCE:BTCUSDT,OANDA:EUR_USD'
E2E_GROUP=e2e
# A short session timeout: a member killed with -9 is noticed in seconds.
E2E_KX=(-X session.timeout.ms=6000 -X heartbeat.interval.ms=500)
E2E_PRODUCED=0

source "$TP_SOURCE_DIR/tests/lib/kafka.sh"
# e2e_start_kafka: one Kafka node with the topics; sets BS (bootstrap servers).
e2e_start_kafka() {
  kafka_start 1
  kafka_topic market 3
  kafka_topic market.dlq 1
}

# e2e_start_sim [RATE]: simulate on a free port (port 0, read from its ready line);
# sets SIM_URL. RATE trades/s (default 3000) in frames of up to 10.
e2e_start_sim() {
  bg sim "$TICKPIPE" simulate --listen 127.0.0.1:0 --seed 42 --rate "${1:-3000}" --batch 10 --ping-interval 0
  wait_for 20 grep -q '^simulate: listening on ws://' "$TMP/sim.log"
  SIM_URL=$(sed -n 's|^simulate: listening on \(ws://[^ ]*\).*|\1|p' "$TMP/sim.log" | head -1)
}

# e2e_proc NAME: a process member of the group, log in $TMP/NAME.log.
e2e_proc() {
  bg "$1" "$TICKPIPE" process --brokers "$BS" --topic market --group "$E2E_GROUP" --store "$STORE_URL" \
    "${E2E_KX[@]}" --flush-interval 100 --progress-interval 1
}

# e2e_produce NAME N: produce N more trades from the simulator, in the
# background (wait with e2e_produced NAME N).
e2e_produce() {
  bg "$1" "$TICKPIPE" produce --ws-url "$SIM_URL" --token t --symbols "$E2E_SYMS" --brokers "$BS" \
    --topic market --max-trades "$2" --max-reconnects 0 --progress 1
}
# e2e_replay NAME FILE N: produce a recording (N trades) as fast as it goes,
# in the background (wait with e2e_produced NAME N).
e2e_replay() {
  bg "$1" "$TICKPIPE" produce --replay "$2" --speed 0 --brokers "$BS" --topic market --progress 1
}
# e2e_recording FILE START_MS N STEP_MS SEED: N trades of E2E_SYMS, STEP_MS
# of event time apart (tests/lib/e2e_recording.py).
e2e_recording() {
  /usr/bin/python3 "$TP_SOURCE_DIR/tests/lib/e2e_recording.py" "$1" "$2" "$3" "$4" "$5" "$E2E_SYMS" ||
    fail "cannot write the recording $1"
}
e2e_produced() {
  local pid
  pid=$(eval echo "\$PID_$1")
  wait "$pid" || fail "produce $1 exited with $?: $(tail -3 "$TMP/$1.log")"
  grep -q "summary: trades=$2 .*delivered_trades=$2 .*undelivered_trades=0 " "$TMP/$1.log" ||
    fail "produce $1: $(grep summary "$TMP/$1.log")"
  E2E_PRODUCED=$((E2E_PRODUCED + $2))
}

# e2e_stop NAME: SIGTERM a process member; it must drain and exit 0.
e2e_stop() {
  local pid
  pid=$(eval echo "\$PID_$1")
  kill -TERM "$pid"
  wait "$pid" || fail "process $1 exited with $? on SIGTERM: $(tail -3 "$TMP/$1.log")"
}

# has_assignment NAME: the member's log shows a partition assigned.
has_assignment() { grep -qs '\[consumer\] assigned market ' "$TMP/$1.log"; }

stored_eq() { [ "$(store_count)" = "$1" ]; }
stored_ge() { [ "$(store_count)" -ge "$1" ]; }
# delivered_ge NAME N: produce NAME's last progress line counts N or more delivered trades.
delivered_ge() {
  local d
  d=$(sed -n 's/.*delivered_trades=\([0-9]*\).*/\1/p' "$TMP/$1.log" | tail -1)
  [ "${d:-0}" -ge "$2" ]
}

# group_offsets: "PARTITION COMMITTED HWM" lines and "total C H".
group_offsets() { "$TP_TOOLS_DIR/group_offsets" --brokers "$BS" --topic market --group "$E2E_GROUP"; }
# committed_total: the sum of the group's committed offsets.
committed_total() { group_offsets | awk '$1 == "total" {print $2}'; }
committed_gt() { [ "$(committed_total)" -gt "$1" ]; }
# offsets_sane: every partition holding records has a committed offset, at
# most its high watermark. (process commits the first record of a window
# still open, so on a short stream the offset stays behind the end.)
offsets_sane() {
  group_offsets >"$TMP/offsets" 2>&1 &&
    awk '$1 != "total" && $3 > 0 && ($2 < 0 || $2 > $3) {bad=1} END {exit bad}' "$TMP/offsets"
}

# e2e_check_store: every trade in the topic stored exactly once, exact;
# candles agree with the stored trades.
e2e_check_store() {
  kcat -C -b "$BS" -t market -e -q -f '%p %o %T %K %S\n%k%s\n' >"$TMP/kcat.out" 2>"$TMP/kcat.err" ||
    fail "kcat: $(cat "$TMP/kcat.err")"
  store_dump "$TMP/store.tsv"
  "${E2E_CHECK[@]}" trades "$E2E_SCHEMA" "$TMP/kcat.out" "$TMP/store.tsv" || fail "store differs from the topic"
  [ "$(wc -l <"$TMP/store.tsv")" = "$E2E_PRODUCED" ] || fail "store holds $(wc -l <"$TMP/store.tsv"), produced $E2E_PRODUCED"
  local c buckets candles mism
  c=$(store_candles)
  read -r buckets candles mism <<<"$c"
  echo "  candles: $buckets buckets of stored trades, $candles candle rows, $mism mismatches"
  [ "$buckets" -gt 0 ] && [ "$buckets" = "$candles" ] || fail "candles: $candles rows for $buckets buckets of trades"
  [ "$mism" = 0 ] || fail "$mism candles disagree with the stored trades (count, volume, high or low)"
}

# e2e_check_serve: tickpipe serve over the store answers with the rows.
e2e_check_serve() {
  bg serve "$TICKPIPE" serve --store "$STORE_URL" --http 127.0.0.1:0 --poll-interval 0
  wait_for 20 grep -q 'http://127.0.0.1:[0-9]' "$TMP/serve.log"
  local url
  url=$(grep -o 'http://127.0.0.1:[0-9]*' "$TMP/serve.log" | head -1)
  "${E2E_CHECK[@]}" serve "$url" "$TMP/store.tsv" || fail "serve's answers differ from the store"
  kill -TERM "$PID_serve"
  wait "$PID_serve" || fail "serve exited with $? on SIGTERM"
}

# e2e_run N: the whole scenario with N trades.
e2e_run() {
  local n=$1 before
  e2e_start_kafka
  # Paced so the stream lasts about 15 s: the kill below must land while
  # trades are still arriving, however long a store count takes (a real
  # broker delivers 12,000 trades at full speed before one count returns).
  e2e_start_sim $((n / 15 > 200 ? n / 15 : 200))
  e2e_proc proca
  e2e_proc procb
  # both members hold partitions: the group has settled
  wait_for 120 has_assignment proca
  wait_for 120 has_assignment procb
  e2e_produce prod1 "$n"
  # kill -9 one member mid-stream, restart it. Mid-stream is judged by the
  # producer (its progress line, read from a local file), not by a store
  # count, which can take seconds on a loaded machine.
  wait_for 120 delivered_ge prod1 $((n / 3))
  kill -9 "$PID_proca"
  kill -0 "$PID_prod1" 2>/dev/null || fail "the stream ended before the kill: nothing tested"
  wait "$PID_proca" 2>/dev/null || true
  before=$(store_count)
  echo "  killed one member mid-stream ($before of $n trades stored just after)"
  e2e_proc proca2
  e2e_produced prod1 "$n"
  wait_for 180 stored_eq "$n"
  e2e_stop proca2
  e2e_stop procb
  offsets_sane || fail "committed offsets: $(cat "$TMP/offsets")"
  sed 's/^/  offsets (partition committed end): /' "$TMP/offsets"
  grep -q "resuming at committed offset" "$TMP/proca2.log" "$TMP/procb.log" ||
    fail "after the kill no member resumed from committed offsets"
  for m in proca procb; do
    # no `cat | grep -q`: grep quitting at the first match kills cat with
    # SIGPIPE, which pipefail turns into a failure when the logs are long
    grep -Eqs 'total [1-9][0-9]* trades' "$TMP/$m"*.log || fail "member $m stored nothing: the group did not split the work"
  done
  # nothing was dead-lettered: every record produced decoded
  local dlq
  dlq=$(kcat -C -b "$BS" -t market.dlq -e -q -f '%o\n' 2>"$TMP/kcat-dlq.err") || fail "kcat: $(cat "$TMP/kcat-dlq.err")"
  [ -z "$dlq" ] || fail "$(echo "$dlq" | wc -l) records in the dead-letter topic"
  e2e_check_store
  ok "simulate -> produce -> 3 partitions -> 2 process members (one killed -9, restarted) -> store: $n trades exactly once"
  e2e_check_serve
  ok "serve over the store: /api/symbols and /api/trades equal the store's rows"
}
