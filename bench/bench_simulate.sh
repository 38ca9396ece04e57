#!/usr/bin/env bash
# bench_simulate.sh - `tickpipe simulate` to one loopback client, --rate 0
# (as fast as the client reads), batch 50 and batch 1.
#
# Client: bench/ws_sink (counts trades, parses nothing), so the server is
# measured. Reference, in the same run: ws_sink's own server sending one
# pre-made frame of the same size over and over (no generation at all),
# i.e. what libwebsockets moves on this machine - the ceiling. Also shown:
# `tickpipe capture` as the client (it parses every frame into trades and
# records it), the figure a real consumer sees.
# Env: TICKPIPE, TP_BENCH_DIR (set by bench/run.sh); N50, N1 trade counts.
set -euo pipefail
: "${TICKPIPE:?run through bench/run.sh}" "${TP_BENCH_DIR:?run through bench/run.sh}"
SINK="$TP_BENCH_DIR/ws_sink"
N50=${N50:-5000000}
N1=${N1:-1000000}
SYMS=AAPL,MSFT,BINANCE:BTCUSDT,OANDA:EUR_USD
TMP=$(mktemp -d "${TMPDIR:-/tmp}/tickpipe-bench.XXXXXX")
pids=()
results=""
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$TMP"; }
trap cleanup EXIT

nsim=0
start_sim() { # BATCH -> PORT
  nsim=$((nsim + 1))
  local log="$TMP/sim$nsim.log" i
  "$TICKPIPE" simulate --listen 127.0.0.1:0 --rate 0 --batch "$1" --log-level warn 2>"$log" &
  pids+=($!)
  for ((i = 0; i < 100; i++)); do
    PORT=$(sed -n 's|^simulate: listening on ws://.*:\([0-9][0-9]*\)$|\1|p' "$log" 2>/dev/null || true)
    [ -n "$PORT" ] && return 0
    sleep 0.1
  done
  echo "simulate did not start: $(cat "$log")" >&2
  exit 1
}
stop_last() { kill "${pids[-1]}" 2>/dev/null || true; wait "${pids[-1]}" 2>/dev/null || true; unset 'pids[-1]'; }
rate_of() { sed -n 's/.*trades_per_s=\([0-9]*\).*/\1/p'; }

# one real frame per batch size, for the reference server
frame_of() { # BATCH OUT
  start_sim "$1"
  "$TICKPIPE" capture --ws-url "ws://127.0.0.1:$PORT" --token t --symbols "$SYMS" --max-trades $(($1 * 3)) \
    --record "$TMP/f.tprec" --log-level error 2>/dev/null
  stop_last
  # the 2nd frame of the recording (lines: magic, header, frame, header, frame)
  awk 'NR==5' "$TMP/f.tprec" >"$2"
}

echo "| batch | client | simulate trades/s | reference trades/s (lws, pre-made frame) | simulate / reference |"
echo "|---|---|---|---|---|"
for b in 50 1; do
  n=$([ "$b" = 50 ] && echo "$N50" || echo "$N1")
  frame_of "$b" "$TMP/frame$b.json"
  start_sim "$b"
  sim=$(timeout 300 "$SINK" client "ws://127.0.0.1:$PORT/?token=t" "$SYMS" "$n" | rate_of)
  stop_last
  "$SINK" serve "$TMP/frame$b.json" >"$TMP/ref$b.port" &
  pids+=($!)
  for ((i = 0; i < 100; i++)); do [ -s "$TMP/ref$b.port" ] && break; sleep 0.1; done
  ref=$(timeout 300 "$SINK" client "ws://127.0.0.1:$(cat "$TMP/ref$b.port")/?token=t" "$SYMS" "$n" | rate_of)
  stop_last
  echo "| $b | ws_sink (counts only) | $sim | $ref | $(awk -v a="$sim" -v b="$ref" 'BEGIN{printf "%.2f", a/b}') |"
  target=$([ "$b" = 50 ] && echo "value >= 1000000" || echo "-")
  results+="RESULT|simulate rate, batch $b, to ws_sink|$sim|trades/s|$ref (ws_sink serve, a pre-made frame)|$(awk -v a="$sim" -v b="$ref" 'BEGIN{printf "%.2f", a/b}')|$target"$'\n'
  start_sim "$b"
  s0=$(date +%s.%N)
  "$TICKPIPE" capture --ws-url "ws://127.0.0.1:$PORT" --token t --symbols "$SYMS" --max-trades "$n" \
    --record /dev/null --log-level error 2>"$TMP/cap.err"
  s1=$(date +%s.%N)
  stop_last
  cap=$(awk -v n="$n" -v a="$s0" -v b="$s1" 'BEGIN{printf "%.0f", n/(b-a)}')
  echo "| $b | tickpipe capture --record /dev/null (parses) | $cap | - | - |"
  results+="RESULT|capture rate (parses), batch $b|$cap|trades/s|-|-|-"$'\n'
done
echo
echo "Target: at least 1,000,000 trades/s at batch 50 to one loopback client."
echo
printf '%s' "$results"
