#!/usr/bin/env bash
# feed_connection_metrics.sh - /metrics gives the feed counters per
# connection (label connection="N"): run with two tokens and one symbol per
# connection against a simulator that drops every connection each 1.5 s;
# each connection's trades, pings and reconnects are its own series, each
# family has one HELP line, and the two trade series add up to the
# summary's trades once the run is over (the last scrape before its end is
# at most the total).
source "$TP_SOURCE_DIR/tests/lib/common.sh"
start_sim sim --rate 100 --ping-interval 0.5 --drop-every 1.5
bg run "$TICKPIPE" run --ws-url "ws://127.0.0.1:$SIM_PORT" --token ta,tb --symbols SYMA,SYMB \
  --max-symbols-per-connection 1 --store "sqlite:$TMP/m.db" --http 127.0.0.1:0 --duration 120
wait_for 30 grep -q 'dashboard at' "$TMP/run.log"
base=$(grep -o 'http://127.0.0.1:[0-9]*' "$TMP/run.log" | head -1)
both() { # every series wanted is on /metrics with a value > 0
  curl -fsS "$base/metrics" >"$TMP/metrics.txt" 2>/dev/null || return 1
  for c in 0 1; do
    for m in trades pings reconnects; do
      grep -q "^tickpipe_ingest_${m}_total{connection=\"$c\"} [1-9]" "$TMP/metrics.txt" || return 1
    done
  done
}
wait_for 30 both
[ "$(grep -c '^# HELP tickpipe_ingest_trades_total ' "$TMP/metrics.txt")" = 1 ] || fail "HELP printed more than once"
[ "$(grep -c '^tickpipe_ingest_trades_total' "$TMP/metrics.txt")" = 2 ] ||
  fail "want exactly two trade series: $(grep '^tickpipe_ingest_trades_total' "$TMP/metrics.txt")"
scraped=$(awk '/^tickpipe_ingest_trades_total\{/ {s += $2} END {print s}' "$TMP/metrics.txt")
# Stopped once every series is there, not by a short --duration (it was 8 s)
# that a slow start on a loaded machine could use up before the first
# reconnects; --duration 120 only bounds a run left behind.
kill -TERM "$PID_run"
wait "$PID_run" || fail "run failed: $(tail -5 "$TMP/run.log")"
total=$(summary_field "$TMP/run.log" trades)
[ "$scraped" -le "$total" ] || fail "the per-connection trades ($scraped) exceed the run's total ($total)"
ok "per-connection feed counters on /metrics: $(grep '^tickpipe_ingest_reconnects_total' "$TMP/metrics.txt" | tr '\n' ' ')"
