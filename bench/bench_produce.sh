#!/usr/bin/env bash
# bench_produce.sh - feed -> tickpipe produce -> librdkafka mock cluster,
# at 1 and 50 trades per frame; trades/s, CPU seconds per million trades and
# peak RSS (GNU time), beside kcat producing the same Avro messages (taken
# back from the topic) with the same producer settings, in the same run.
# The feed is `tickpipe simulate` (unlimited rate); where simulate is not
# built, a generated recording replayed with `produce --replay`.
# Env: TRADES_B50 (default 2000000), TRADES_B1 (default 500000).
# Run with bench/run.sh produce, or directly with TICKPIPE etc. set.
set -euo pipefail
: "${TICKPIPE:?}" "${TP_TOOLS_DIR:?}"
TRADES_B50=${TRADES_B50:-2000000}
TRADES_B1=${TRADES_B1:-500000}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/tickpipe-bench.XXXXXX")
pids=()
# pids are GNU time processes: stop the program each one runs, then it.
cleanup() {
  for p in "${pids[@]}"; do
    kill $(pgrep -P "$p") "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  rm -rf "$TMP"
}
trap cleanup EXIT
[ -x /usr/bin/time ] || { echo "bench_produce: /usr/bin/time missing (apt-get install time)" >&2; exit 1; }
command -v kcat >/dev/null || { echo "bench_produce: kcat missing" >&2; exit 1; }
SYMS='AAPL,MSFT,AMZN,NVDA,TSLA,GOOGL,META,BINANCE:BTCUSDT,BINANCE:ETHUSDT,OANDA:EUR_USD'
source "$(dirname "${BASH_SOURCE[0]}")/kafka_lib.sh"

have_simulate=0
if "$TICKPIPE" simulate --help >/dev/null 2>&1; then have_simulate=1; fi

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }
# gtime FILE KEY: a field of GNU time -v output
gtime() { sed -n "s/^[[:space:]]*$2: //p" "$1"; }

run_one() { # BATCH TRADES
  local batch=$1 n=$2 boot port feedpid=""
  rm -f "$TMP/boot"
  rm -f "$TMP/time.sim" "$TMP/time.mock"
  /usr/bin/time -v -o "$TMP/time.mock" "$TP_TOOLS_DIR/mock_kafka" --topic market:3 --topic ref:3 \
    --bootstrap-file "$TMP/boot" >/dev/null 2>"$TMP/mock.log" &
  local mock=$!
  pids+=("$mock")
  for _ in $(seq 100); do [ -s "$TMP/boot" ] && break; sleep 0.1; done
  boot=$(cat "$TMP/boot")
  local feed_args=()
  if [ "$have_simulate" = 1 ]; then
    port=$(free_port)
    /usr/bin/time -v -o "$TMP/time.sim" "$TICKPIPE" simulate --listen "127.0.0.1:$port" --rate 0 \
      --batch "$batch" --seed 1 >/dev/null 2>"$TMP/sim.log" &
    feedpid=$!
    pids+=("$feedpid")
    wait_port "$port" || { echo "simulate did not start: $(cat "$TMP/sim.log")" >&2; exit 1; }
    feed_args=(--ws-url "ws://127.0.0.1:$port" --token bench --symbols "$SYMS")
    feed_name="simulate --batch $batch"
  else
    bench_recording "$n" "$batch" "$TMP/rec"
    feed_args=(--replay "$TMP/rec")
    feed_name="recording, $batch/frame"
  fi
  /usr/bin/time -v -o "$TMP/time.produce" "$TICKPIPE" produce "${feed_args[@]}" --brokers "$boot" --topic market \
    --max-trades "$n" --progress 0 --log-level warn 2>"$TMP/produce.log" \
    || { echo "produce failed: $(tail -3 "$TMP/produce.log")" >&2; exit 1; }
  # stop the feed itself (the child of GNU time), so time reports its usage
  if [ -n "$feedpid" ]; then kill $(pgrep -P "$feedpid") 2>/dev/null || true; wait "$feedpid" 2>/dev/null || true; fi
  local sum secs msgs delivered
  sum=$(grep '^summary:' "$TMP/produce.log")
  secs=$(sed 's/.* seconds=\([0-9.]*\).*/\1/' <<<"$sum")
  msgs=$(sed 's/.* messages=\([0-9]*\) .*/\1/' <<<"$sum")
  delivered=$(sed 's/.* delivered_trades=\([0-9]*\) .*/\1/' <<<"$sum")
  [ "$delivered" = "$n" ] || { echo "produce delivered $delivered of $n trades" >&2; exit 1; }
  local cpu rss scpu=0
  [ -s "$TMP/time.sim" ] && scpu=$(awk -v u="$(gtime "$TMP/time.sim" 'User time (seconds)')" -v s="$(gtime "$TMP/time.sim" 'System time (seconds)')" 'BEGIN{print u+s}')
  cpu=$(awk -v u="$(gtime "$TMP/time.produce" 'User time (seconds)')" -v s="$(gtime "$TMP/time.produce" 'System time (seconds)')" 'BEGIN{print u+s}')
  rss=$(gtime "$TMP/time.produce" 'Maximum resident set size (kbytes)')

  # kcat: the same number of produce's own messages, pre-encoded. The mock
  # cluster keeps only the newest 100,000 message sets per partition, so
  # what is read back is a sample, repeated to the full count.
  kcat -C -b "$boot" -t market -e -q -f '%k\t%s|TPMSG|' >"$TMP/sample" 2>/dev/null
  /usr/bin/python3 - "$TMP/sample" "$msgs" "$TMP/msgs" <<'PY'
import sys
sample = [m for m in open(sys.argv[1], "rb").read().split(b"|TPMSG|") if m]
n = int(sys.argv[2])
with open(sys.argv[3], "wb") as f:
    f.write(b"".join(sample[i % len(sample)] + b"|TPMSG|" for i in range(n)))
PY
  /usr/bin/time -v -o "$TMP/time.kcat" kcat -P -b "$boot" -t ref -K '\t' -D '|TPMSG|' "${BENCH_KCAT_PRODUCER_X[@]}" \
    <"$TMP/msgs" 2>"$TMP/kcat.log" || { echo "kcat failed: $(cat "$TMP/kcat.log")" >&2; exit 1; }
  local refn
  refn=$(kcat -C -b "$boot" -t ref -o end -e 2>&1 | sed -n 's/.*Reached end of topic ref \[[0-9]*\] at offset \([0-9]*\).*/\1/p' | awk '{s+=$1} END{print s}')
  [ "$refn" = "$msgs" ] || { echo "kcat delivered $refn of $msgs messages" >&2; exit 1; }
  local ksecs kcpu krss
  ksecs=$(gtime "$TMP/time.kcat" 'Elapsed (wall clock) time (h:mm:ss or m:ss)' | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  kcpu=$(awk -v u="$(gtime "$TMP/time.kcat" 'User time (seconds)')" -v s="$(gtime "$TMP/time.kcat" 'System time (seconds)')" 'BEGIN{print u+s}')
  krss=$(gtime "$TMP/time.kcat" 'Maximum resident set size (kbytes)')
  kill $(pgrep -P "$mock") 2>/dev/null || true
  wait "$mock" 2>/dev/null || true
  local mcpu
  mcpu=$(awk -v u="$(gtime "$TMP/time.mock" 'User time (seconds)')" -v s="$(gtime "$TMP/time.mock" 'System time (seconds)')" 'BEGIN{print u+s}')
  awk -v feed="$feed_name" -v n="$n" -v m="$msgs" -v s="$secs" -v c="$cpu" -v r="$rss" -v ks="$ksecs" -v kc="$kcpu" -v kr="$krss" -v sc="$scpu" -v mc="$mcpu" 'BEGIN{
    tps = n / s; kmps = m / (ks > 0 ? ks : 1e-9); ktps = kmps * n / m
    printf "| %s | %d | %d | %.0f | %.2f | %.1f | %.2f / %.2f | %.0f msg/s (= %.0f trades/s), %.2f CPU s/M trades, %.1f MB | %.2f |\n",
      feed, n, m, tps, c / n * 1e6, r / 1024, sc / n * 1e6, mc / n * 1e6, kmps, ktps, kc / n * 1e6, kr / 1024, tps / ktps }' >>"$TMP/rows"
  # result lines for the summary (format: bench/README.md, "Result lines")
  local target_cpu
  target_cpu=$([ "$batch" = 50 ] && echo 0.40 || echo 1.00)
  awk -v b="$batch" -v n="$n" -v m="$msgs" -v s="$secs" -v c="$cpu" -v r="$rss" -v ks="$ksecs" -v kc="$kcpu" -v kr="$krss" \
    -v sc="$scpu" -v mc="$mcpu" -v tc="$target_cpu" 'BEGIN{
    tps = n / s; ktps = m / (ks > 0 ? ks : 1e-9) * n / m; cpm = c / n * 1e6; kcpm = kc / n * 1e6
    printf "RESULT|produce CPU, %d trades/message|%.2f|CPU s per M trades|%.2f (kcat -P, the same messages)|%.2f|value <= %s\n", b, cpm, kcpm, cpm / kcpm, tc
    printf "RESULT|produce rate, %d trades/message|%.0f|trades/s|%.0f (kcat -P, the same messages)|%.2f|-\n", b, tps, ktps, tps / ktps
    printf "RESULT|produce peak RSS, %d trades/message|%.1f|MB|%.1f (kcat -P)|%.2f|value <= 64\n", b, r / 1024, kr / 1024, r / kr
    printf "RESULT|feed CPU beside produce (simulate --batch %d)|%.2f|CPU s per M trades|-|-|-\n", b, sc / n * 1e6
    printf "RESULT|mock cluster CPU beside produce, %d trades/message|%.2f|CPU s per M trades|-|-|-\n", b, mc / n * 1e6 }' >>"$TMP/results"
}

echo "## produce: feed -> tickpipe produce -> mock cluster ($(date -u +%F), $(nproc) cores)"
echo
echo "| feed | trades | messages | produce trades/s | produce CPU s per M trades | produce peak RSS MB | feed / mock cluster CPU s per M trades | kcat, same messages | produce/kcat |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
: >"$TMP/rows"
: >"$TMP/results"
run_one 50 "$TRADES_B50"
run_one 1 "$TRADES_B1"
cat "$TMP/rows"
echo
echo "Targets: produce CPU at most 0.40 s per million trades at 50 per frame and 1.00 at 1 per frame, peak RSS <= 64 MB."
echo
cat "$TMP/results"
