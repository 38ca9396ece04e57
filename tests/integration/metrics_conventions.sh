#!/usr/bin/env bash
# metrics_conventions.sh - /metrics of run (--http), produce (--metrics) and
# process (--metrics) as an operator's Prometheus sees them: each passes
# `promtool check metrics` (names, units, HELP/TYPE), and the series alerts
# are built on exist with sane values: tickpipe_build_info = 1 with a
# version and commit, process_start_time_seconds within a minute of now,
# the other process_* metrics, each symbol's last-trade timestamp within
# seconds of now (run and produce), the consumer lag of both partitions in
# process (>= 0 while trades flow, 0 once process has stored everything
# produce delivered), the watermark as a timestamp in seconds. produce's
# endpoint serves /metrics, /healthz and /readyz only.
source "$TP_SOURCE_DIR/tests/lib/common.sh"
source "$TP_SOURCE_DIR/tests/lib/process.sh"
command -v promtool >/dev/null || fail "promtool missing (apt-get install prometheus)"

start_kafka market:2 market.dlq:1
start_sim sim --rate 200 --batch 5 --seed 7 --ping-interval 1
url="ws://127.0.0.1:$SIM_PORT"
syms=AAPL,MSFT,BINANCE:BTCUSDT

bg proc "$TICKPIPE" process --brokers "$BS" --topic market --store "sqlite:$TMP/t.db" "${KX[@]}" \
  --metrics 127.0.0.1:0 --progress-interval 0
bg prod "$TICKPIPE" produce --ws-url "$url" --token t --symbols "$syms" --brokers "$BS" --topic market \
  --metrics 127.0.0.1:0 --progress-interval 0
bg run "$TICKPIPE" run --ws-url "$url" --token t --symbols "$syms" --store "sqlite:$TMP/run.db" \
  --http 127.0.0.1:0 --progress-interval 0
endpoint() { grep -o 'http://127.0.0.1:[0-9]*' "$TMP/$1.log" | head -1; }
wait_for 60 grep -q 'metrics at' "$TMP/proc.log"
wait_for 60 grep -q 'metrics at' "$TMP/prod.log"
wait_for 60 grep -q 'dashboard at' "$TMP/run.log"
P_URL=$(endpoint proc) Q_URL=$(endpoint prod) R_URL=$(endpoint run)

# value NAME_AND_LABELS FILE: the sample's value ('' when absent)
value() { awk -v k="$1" '$1 == k {print $2}' "$2"; }
scrape() { curl -fsS "$1/metrics" >"$TMP/$2.txt" 2>/dev/null; }
# every symbol has a last trade on connection 0 (run and produce)
have_last_trades() {
  scrape "$1" "$2" || return 1
  local s
  for s in ${syms//,/ }; do
    [ -n "$(value "tickpipe_ingest_last_trade_timestamp_seconds{connection=\"0\",symbol=\"$s\"}" "$TMP/$2.txt")" ] ||
      return 1
  done
}
# both partitions have a lag in process, and a trade is stored
have_lag() {
  scrape "$P_URL" proc || return 1
  [ -n "$(value 'tickpipe_kafka_consumer_lag{topic="market",partition="0"}' "$TMP/proc.txt")" ] &&
    [ -n "$(value 'tickpipe_kafka_consumer_lag{topic="market",partition="1"}' "$TMP/proc.txt")" ] &&
    [ -n "$(value tickpipe_window_watermark_timestamp_seconds "$TMP/proc.txt")" ]
}
wait_for 60 have_last_trades "$Q_URL" prod
wait_for 60 have_last_trades "$R_URL" run
wait_for 60 have_lag

now=$(date +%s)
# near VALUE LO HI: LO <= VALUE <= HI (decimals allowed)
near() { awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN {exit !(v != "" && v + 0 >= lo && v + 0 <= hi)}'; }
for f in run prod proc; do
  promtool check metrics <"$TMP/$f.txt" >"$TMP/promtool-$f.txt" 2>&1 ||
    fail "promtool rejects $f's /metrics: $(head -5 "$TMP/promtool-$f.txt")"
  grep -q '^tickpipe_build_info{version="[0-9][^"]*",commit="[^"][^"]*"} 1$' "$TMP/$f.txt" ||
    fail "$f: no tickpipe_build_info = 1: $(grep build_info "$TMP/$f.txt")"
  st=$(value process_start_time_seconds "$TMP/$f.txt")
  near "$st" $((now - 60)) $((now + 1)) || fail "$f: process_start_time_seconds $st is not within a minute of $now"
  for m in process_cpu_seconds_total process_resident_memory_bytes process_virtual_memory_bytes \
    process_open_fds process_max_fds; do
    near "$(value $m "$TMP/$f.txt")" 0 1e15 || fail "$f: $m missing or negative"
  done
  near "$(value process_resident_memory_bytes "$TMP/$f.txt")" 1000000 1e12 || fail "$f: resident memory implausible"
  near "$(value process_open_fds "$TMP/$f.txt")" 3 100000 || fail "$f: open fds implausible"
  # every histogram's HELP says what one observation is
  for h in $(awk '$1 == "#" && $2 == "TYPE" && $4 == "histogram" {print $3}' "$TMP/$f.txt"); do
    grep -q "^# HELP $h One observation per " "$TMP/$f.txt" || fail "$f: the HELP of $h does not say what one observation is"
  done
  ! grep -q '_ms[{ ]' "$TMP/$f.txt" || fail "$f: a metric in ms: $(grep '_ms[{ ]' "$TMP/$f.txt" | head -1)"
done
ok "run, produce and process pass promtool; build_info = 1, process_* sane, histograms say what they observe"

for f in run prod; do
  for s in ${syms//,/ }; do
    t=$(value "tickpipe_ingest_last_trade_timestamp_seconds{connection=\"0\",symbol=\"$s\"}" "$TMP/$f.txt")
    near "$t" $((now - 10)) $((now + 1)) || fail "$f: the last $s trade at $t is not within 10 s of $now"
  done
done
n=$(grep -c '^tickpipe_ingest_last_trade_timestamp_seconds{' "$TMP/prod.txt")
[ "$n" = 3 ] || fail "produce has $n last-trade series, want one per subscribed symbol (3)"
ok "last-trade timestamps of every symbol within seconds of now (run and produce)"

for p in 0 1; do
  l=$(value "tickpipe_kafka_consumer_lag{topic=\"market\",partition=\"$p\"}" "$TMP/proc.txt")
  near "$l" 0 1e12 || fail "partition $p: consumer lag '$l' is not >= 0"
done
wm=$(value tickpipe_window_watermark_timestamp_seconds "$TMP/proc.txt")
near "$wm" $((now - 60)) $((now + 1)) || fail "the watermark $wm is not a recent timestamp in seconds"
ok "process: consumer lag of both partitions >= 0, watermark in seconds ($wm)"

# produce's endpoint: probes and metrics, nothing else
[ "$(curl -s -o /dev/null -w '%{http_code}' "$Q_URL/healthz")" = 200 ] || fail "produce /healthz"
wait_for 20 sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' '$Q_URL/readyz')\" = 200 ]"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$Q_URL/api/symbols")" = 404 ] || fail "produce answers /api/"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$Q_URL/")" = 404 ] || fail "produce serves a dashboard"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$P_URL/healthz")" = 200 ] || fail "process /healthz"
wait_for 20 sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' '$P_URL/readyz')\" = 200 ]"
ok "produce serves /metrics, /healthz and /readyz only; process /healthz and /readyz are 200"

# Stop produce: once process has stored what it delivered, no lag is left.
kill -TERM "$PID_prod"
wait "$PID_prod" || fail "produce exited $?: $(tail -3 "$TMP/prod.log")"
delivered=$(summary_field "$TMP/prod.log" delivered_trades)
[ "${delivered:-0}" -gt 0 ] || fail "produce delivered nothing"
wait_for 60 stored_eq "$TMP/t.db" "$delivered"
no_lag() {
  scrape "$P_URL" proc || return 1
  [ "$(value 'tickpipe_kafka_consumer_lag{topic="market",partition="0"}' "$TMP/proc.txt")" = 0 ] &&
    [ "$(value 'tickpipe_kafka_consumer_lag{topic="market",partition="1"}' "$TMP/proc.txt")" = 0 ]
}
wait_for 30 no_lag
ok "every delivered trade ($delivered) stored and the lag of both partitions is 0"
