#!/usr/bin/env bash
# process_restart_servers.sh - process_restart.sh's kill -9 and restart on
# ClickHouse and Cassandra (one Kafka node, one topic per store): after the
# restarted process has stored the whole stream and stopped cleanly, every
# generated trade is stored exactly once (count and distinct ids equal the
# generator's oracle) and every candle and average equals what the stored
# trades give (tests/lib/window_oracle.py, reading through clickhouse-client
# with FINAL and python3-cassandra), i.e. the windows open at the crash were
# rebuilt without counting a re-delivered trade twice.
# TP_RESTART_STORES (default "ch cass") picks the stores.
source "$TP_SOURCE_DIR/tests/lib/common.sh"
source "$TP_SOURCE_DIR/tests/lib/process.sh"
source "$TP_SOURCE_DIR/tests/lib/clickhouse.sh"
source "$TP_SOURCE_DIR/tests/lib/cassandra.sh"
oracle="$TP_SOURCE_DIR/tests/lib/window_oracle.py"
stores=${TP_RESTART_STORES:-ch cass}

start_kafka market_ch:3 market_cass:3 market.dlq:1
ids() { /usr/bin/python3 "$oracle" "$1" "$2" --ids 2>/dev/null || echo "0 0"; }
count_ge() { [ "$(ids "$1" "$2" | cut -d' ' -f1)" -ge "$3" ]; }
count_eq() { [ "$(ids "$1" "$2" | cut -d' ' -f1)" = "$3" ]; }

# one KIND URL WHERE
one() {
  local kind=$1 url=$2 where=$3
  bg "${kind}1" "$TICKPIPE" process --brokers "$BS" --topic "market_$kind" --group "g_$kind" --store "$url" \
    "${KX[@]}" --flush-interval 50 --progress-interval 1
  # the stream starts once process holds the partitions, so that the kill
  # comes mid-stream: 4000 records at 200/s, about 20 s of stream and 200 s
  # of event time (1 min windows complete before the kill); every 7th
  # record 3 s out of order
  wait_for 60 grep -q "assigned market_$kind" "$TMP/${kind}1.log"
  bg "gen_$kind" "$GEN" --brokers "$BS" --topic "market_$kind" --records 4000 --per-record 5 --symbols 6 \
    --rate 200 --step-ms 50 --jitter-every 7 --jitter-ms 3000 --oracle "$TMP/$kind.csv"
  wait_for 120 count_ge "$kind" "$where" 4000
  local pid; pid=$(eval echo "\$PID_${kind}1")
  kill -9 "$pid"
  wait "$pid" 2>/dev/null || true
  local before; before=$(ids "$kind" "$where" | cut -d' ' -f1)
  bg "${kind}2" "$TICKPIPE" process --brokers "$BS" --topic "market_$kind" --group "g_$kind" --store "$url" \
    "${KX[@]}" --flush-interval 50 --progress-interval 1
  wait "$(eval echo "\$PID_gen_$kind")" || fail "$kind: generator failed"
  local total; total=$(wc -l <"$TMP/$kind.csv")
  [ "$before" -lt "$total" ] || fail "$kind: the stream ended before the kill: nothing tested"
  wait_for 180 count_eq "$kind" "$where" "$total"
  pid=$(eval echo "\$PID_${kind}2")
  kill -TERM "$pid"
  wait "$pid" || fail "$kind: the restarted process exited with $?: $(tail -5 "$TMP/${kind}2.log")"
  grep -q "resuming at committed offset" "$TMP/${kind}2.log" || fail "$kind: the restart did not resume from committed offsets"
  [ "$(ids "$kind" "$where")" = "$total $total" ] || fail "$kind: $(ids "$kind" "$where") trades/ids stored, $total generated"
  /usr/bin/python3 "$oracle" "$kind" "$where" >"$TMP/oracle.out" || fail "$kind: $(cat "$TMP/oracle.out")"
  ok "$kind: kill -9 at $before of $total trades and restart: every trade once, windows equal the trades ($(cat "$TMP/oracle.out"))"
}

for s in $stores; do
  case $s in
    ch) ch_start; one ch "$CH_URL" "$CH_TCP_PORT:tp:$CH_PASSWORD:tickpipe" ;;
    cass) cass_start; one cass "$CASS_URL" "$CASS_PORT/tp_test" ;;
    *) fail "TP_RESTART_STORES: unknown store '$s' (ch, cass)" ;;
  esac
done
