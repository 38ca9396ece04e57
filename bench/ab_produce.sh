#!/usr/bin/env bash
# bench/ab_produce.sh OLD NEW [ROUNDS] - CPU seconds per million trades of
# `tickpipe produce` for two builds in the same run: each round runs OLD
# then NEW (and alternates the order every round, so neither always gets
# the warmer or the quieter moment), each fed by its own `tickpipe
# simulate --rate 0` into librdkafka's mock cluster, at 50 and at 1 trades
# per message. Prints every run and the median per build with the ratio
# NEW / OLD, and RESULT lines (bench/README.md, "Result lines"). CPU time
# (GNU time: user + system of the produce process) is steadier than rates
# on a shared machine, but contention inflates it too: compare the ratio.
# Env: TP_TOOLS_DIR (mock_kafka; default build-bench/tests), TRADES_B50
# (1000000), TRADES_B1 (300000).
set -euo pipefail
cd "$(dirname "$0")/.."
OLD=${1:?usage: bench/ab_produce.sh OLD_TICKPIPE NEW_TICKPIPE [ROUNDS]}
NEW=${2:?usage: bench/ab_produce.sh OLD_TICKPIPE NEW_TICKPIPE [ROUNDS]}
ROUNDS=${3:-3}
TP_TOOLS_DIR=${TP_TOOLS_DIR:-$PWD/build-bench/tests}
TRADES_B50=${TRADES_B50:-1000000}
TRADES_B1=${TRADES_B1:-300000}
[ -x /usr/bin/time ] || { echo "ab_produce: /usr/bin/time missing (apt-get install time)" >&2; exit 1; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/tickpipe-ab.XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$TMP"; }
trap cleanup EXIT
SYMS='AAPL,MSFT,AMZN,NVDA,TSLA,GOOGL,META,BINANCE:BTCUSDT,BINANCE:ETHUSDT,OANDA:EUR_USD'
gtime() { sed -n "s/^[[:space:]]*$2: //p" "$1"; }

# one BIN BATCH TRADES: prints produce's CPU s per M trades
one() {
  local bin=$1 batch=$2 n=$3 port boot
  rm -f "$TMP/boot" "$TMP/sim.log"
  "$TP_TOOLS_DIR/mock_kafka" --topic market:3 --bootstrap-file "$TMP/boot" >/dev/null 2>"$TMP/mock.log" &
  local mock=$!
  pids+=("$mock")
  for _ in $(seq 100); do [ -s "$TMP/boot" ] && break; sleep 0.1; done
  boot=$(cat "$TMP/boot")
  "$bin" simulate --listen 127.0.0.1:0 --rate 0 --batch "$batch" --seed 1 --log-level info 2>"$TMP/sim.log" &
  local sim=$!
  pids+=("$sim")
  for _ in $(seq 100); do
    port=$(sed -n 's|^simulate: listening on ws://.*:\([0-9][0-9]*\)$|\1|p' "$TMP/sim.log" 2>/dev/null || true)
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { echo "ab_produce: simulate did not start: $(cat "$TMP/sim.log")" >&2; exit 1; }
  /usr/bin/time -v -o "$TMP/time" "$bin" produce --ws-url "ws://127.0.0.1:$port" --token bench --symbols "$SYMS" \
    --brokers "$boot" --topic market --max-trades "$n" --progress-interval 0 --log-level warn \
    2>"$TMP/produce.log" || { echo "ab_produce: produce failed: $(tail -3 "$TMP/produce.log")" >&2; exit 1; }
  kill "$sim" "$mock" 2>/dev/null || true
  wait "$sim" "$mock" 2>/dev/null || true
  local delivered
  delivered=$(sed -n 's/.* delivered_trades=\([0-9]*\) .*/\1/p' "$TMP/produce.log")
  [ "$delivered" = "$n" ] || { echo "ab_produce: produce delivered $delivered of $n trades" >&2; exit 1; }
  awk -v u="$(gtime "$TMP/time" 'User time (seconds)')" -v s="$(gtime "$TMP/time" 'System time (seconds)')" \
    -v n="$n" 'BEGIN{printf "%.3f\n", (u + s) / n * 1e6}'
}

median() { sort -n | awk '{a[NR]=$1} END{print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

echo "## produce CPU, two builds in the same run ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
echo
echo "| trades/message | round | old CPU s/M trades | new CPU s/M trades |"
echo "| --- | --- | --- | --- |"
for batch in 50 1; do
  n=$TRADES_B50
  [ "$batch" = 1 ] && n=$TRADES_B1
  : >"$TMP/old.$batch"
  : >"$TMP/new.$batch"
  for r in $(seq "$ROUNDS"); do
    if [ $((r % 2)) = 1 ]; then
      o=$(one "$OLD" "$batch" "$n"); w=$(one "$NEW" "$batch" "$n")
    else
      w=$(one "$NEW" "$batch" "$n"); o=$(one "$OLD" "$batch" "$n")
    fi
    echo "$o" >>"$TMP/old.$batch"
    echo "$w" >>"$TMP/new.$batch"
    echo "| $batch | $r | $o | $w |"
  done
done
echo
for batch in 50 1; do
  o=$(median <"$TMP/old.$batch")
  w=$(median <"$TMP/new.$batch")
  target=0.40
  [ "$batch" = 1 ] && target=1.00
  ratio=$(awk -v a="$w" -v b="$o" 'BEGIN{printf "%.2f", a / b}')
  echo "median at $batch trades/message: old $o, new $w CPU s per M trades (new/old $ratio, target $target)"
  echo "RESULT|produce CPU, $batch trades/message, median of $ROUNDS|$w|CPU s per M trades|$o (the previous build, same run)|$ratio|value <= $target"
done
