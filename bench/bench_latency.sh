#!/usr/bin/env bash
# bench_latency.sh - receipt -> durable latency of `tickpipe run` on SQLite
# (built-in simulator, synchronous=FULL: every commit is fsynced) at fixed
# feed rates. Per rate: run for BENCH_LATENCY_SECONDS, read the
# tickpipe_store_durable_latency_seconds histogram from /metrics (coarse
# Prometheus buckets: the share of samples within 10 ms and 25 ms) and the
# run's own per-trade histogram from its summary line (8 buckets per octave,
# +-9%: p50, p99, p99.9), plus the commits made and trades stored. Beside
# it a headless WebSocket client on /ws (tests/lib/ws_client.py) takes, for
# every trade of one symbol pushed to it, its receipt time minus the trade's
# event time, which the simulator stamps when it sends the frame: the feed
# send -> browser push latency (one clock: simulator and client share the
# machine). Prints RESULT lines for bench/summary.sh.
# Env: BENCH_LATENCY_RATES (default "1000 10000 100000"),
# BENCH_LATENCY_SECONDS (default 15), BENCH_LATENCY_STORE (default a SQLite
# file in a temp dir; any store URL).
# Run with bench/run.sh latency, or directly with TICKPIPE set.
set -euo pipefail
: "${TICKPIPE:?}"
RATES=${BENCH_LATENCY_RATES:-"1000 10000 100000"}
SECS=${BENCH_LATENCY_SECONDS:-15}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/tickpipe-bench.XXXXXX")
pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
field() { sed -n "s/^summary: .*\b$2=\([0-9-]*\).*/\1/p" "$1" | tail -1; }

: "${TP_SOURCE_DIR:=$(cd "$(dirname "$0")/.." && pwd)}"
results=
echo "| feed rate (trades/s) | stored | commits | durable p50 ms | p99 ms | p99.9 ms | <= 10 ms | <= 25 ms | push p50 ms | push p99 ms | push p99.9 ms |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for rate in $RATES; do
  store=${BENCH_LATENCY_STORE:-sqlite:$TMP/lat-$rate.db}
  "$TICKPIPE" run --store "$store" --http 127.0.0.1:0 --sim-rate "$rate" --sim-batch 20 \
    --symbols AAPL,MSFT,AMZN,NVDA,TSLA,BINANCE:BTCUSDT,BINANCE:ETHUSDT,OANDA:EUR_USD \
    >/dev/null 2>"$TMP/run.log" &
  pid=$!
  port=
  for _ in $(seq 300); do
    port=$(sed -n 's|.*dashboard at http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$TMP/run.log" | head -1)
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { echo "bench_latency: run did not start: $(cat "$TMP/run.log")" >&2; exit 1; }
  # the client reads for the run's time, less a second of start-up
  /usr/bin/python3 "$TP_SOURCE_DIR/tests/lib/ws_client.py" 127.0.0.1 "$port" AAPL \
    "latency:$(awk -v s="$SECS" 'BEGIN { print (s > 2 ? s - 1 : s) }')" >"$TMP/push.json" 2>"$TMP/push.err" &
  cpid=$!
  sleep "$SECS"
  wait "$cpid" || echo "bench_latency: the /ws client failed: $(cat "$TMP/push.err")" >&2
  push=$(/usr/bin/python3 -c 'import json,sys
try: d = json.load(open(sys.argv[1]))
except Exception: d = {}
print(" | ".join(str(d.get(k) if d.get(k) is not None else "-") for k in ("p50_ms", "p99_ms", "p999_ms")))' "$TMP/push.json")
  curl -fsS "http://127.0.0.1:$port/metrics" >"$TMP/metrics.txt"
  kill -INT "$pid"
  wait "$pid" || { echo "bench_latency: run failed: $(tail -5 "$TMP/run.log")" >&2; exit 1; }
  pid=
  share=$(awk '/^tickpipe_store_durable_latency_seconds_bucket/ {
      match($0, /le="[^"]*"/); le = substr($0, RSTART + 4, RLENGTH - 5); v[le] = $NF }
    /^tickpipe_store_durable_latency_seconds_count/ { n = $NF }
    END { if (n > 0) printf "%.1f%% | %.1f%%", 100 * v["0.01"] / n, 100 * v["0.025"] / n; else printf "- | -" }' \
    "$TMP/metrics.txt")
  echo "| $rate | $(field "$TMP/run.log" stored) | $(field "$TMP/run.log" flushes) | $(field "$TMP/run.log" durable_p50_ms) |" \
    "$(field "$TMP/run.log" durable_p99_ms) | $(field "$TMP/run.log" durable_p999_ms) | $share | $push |"
  d99=$(field "$TMP/run.log" durable_p99_ms)
  p99=$(echo "$push" | awk -F' [|] ' '{ print $2 }')
  if [ "$rate" = 10000 ]; then
    results+="RESULT|run on SQLite, receipt -> durable p99 at $rate trades/s|${d99:--}|ms|-|-|value <= 20"$'\n'
    results+="RESULT|run on SQLite, feed send -> browser push p99 at $rate trades/s|${p99:--}|ms|-|-|value <= 50"$'\n'
  else
    results+="RESULT|run on SQLite, receipt -> durable p99 at $rate trades/s|${d99:--}|ms|-|-|-"$'\n'
    results+="RESULT|run on SQLite, feed send -> browser push p99 at $rate trades/s|${p99:--}|ms|-|-|-"$'\n'
  fi
done
printf '%s' "$results"
