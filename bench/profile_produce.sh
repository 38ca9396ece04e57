#!/usr/bin/env bash
# bench/profile_produce.sh [BATCH [TRADES]] - where `tickpipe produce` spends
# its instructions: callgrind on produce fed by `tickpipe simulate --rate 0
# --batch BATCH` (default 50) into librdkafka's mock cluster, until TRADES
# (default 200000) are delivered. Instruction counts do not depend on the
# machine's load, unlike rates. Prints the instructions per trade and the
# inclusive top functions; the callgrind file stays in bench/results/.
# Needs a built tree: TICKPIPE and TP_TOOLS_DIR (bench/run.sh sets them), or
# run after `bench/run.sh` with build-bench/ in place.
set -euo pipefail
cd "$(dirname "$0")/.."
BATCH=${1:-50}
N=${2:-200000}
TICKPIPE=${TICKPIPE:-$PWD/build-bench/tickpipe}
TP_TOOLS_DIR=${TP_TOOLS_DIR:-$PWD/build-bench/tests}
command -v valgrind >/dev/null || { echo "profile_produce: valgrind missing (apt-get install valgrind)" >&2; exit 1; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/tickpipe-prof.XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$TMP"; }
trap cleanup EXIT
mkdir -p bench/results
SYMS='AAPL,MSFT,AMZN,NVDA,TSLA,GOOGL,META,BINANCE:BTCUSDT,BINANCE:ETHUSDT,OANDA:EUR_USD'
"$TP_TOOLS_DIR/mock_kafka" --topic market:3 --bootstrap-file "$TMP/boot" >/dev/null 2>"$TMP/mock.log" &
pids+=($!)
for _ in $(seq 100); do [ -s "$TMP/boot" ] && break; sleep 0.1; done
"$TICKPIPE" simulate --listen 127.0.0.1:0 --rate 0 --batch "$BATCH" --seed 1 --log-level warn 2>"$TMP/sim.log" &
pids+=($!)
for _ in $(seq 100); do
  # the log may not exist yet (the shell of the & creates it)
  PORT=$(sed -n 's|^simulate: listening on ws://.*:\([0-9][0-9]*\)$|\1|p' "$TMP/sim.log" 2>/dev/null || true)
  [ -n "$PORT" ] && break
  sleep 0.1
done
out=bench/results/callgrind.produce.b$BATCH
valgrind --tool=callgrind --callgrind-out-file="$out" "$TICKPIPE" produce --ws-url "ws://127.0.0.1:$PORT" \
  --token bench --symbols "$SYMS" --brokers "$(cat "$TMP/boot")" --topic market --max-trades "$N" \
  --progress-interval 0 --log-level warn 2>"$TMP/produce.log" ||
  { echo "produce failed: $(tail -5 "$TMP/produce.log")" >&2; exit 1; }
total=$(callgrind_annotate "$out" 2>/dev/null | sed -n 's/^\([0-9,]*\).*PROGRAM TOTALS.*/\1/p' | tr -d ,)
echo "## callgrind: tickpipe produce, $BATCH trades/message, $N trades"
echo
echo "instructions: $total in total, $((total / N)) per trade (all threads, start-up included)"
echo
echo '```'
callgrind_annotate --inclusive=yes "$out" 2>/dev/null | sed -n '/^Ir/,$p' | sed -n 1,45p
echo '```'
echo
echo "Self cost:"
echo '```'
callgrind_annotate "$out" 2>/dev/null | sed -n '/^Ir/,$p' | sed -n 1,35p
echo '```'
