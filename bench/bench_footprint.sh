#!/usr/bin/env bash
# bench_footprint.sh - `tickpipe run` fed by `tickpipe simulate` at 10,000
# trades/s into SQLite: peak RSS (GNU time) and the time from start to the
# first stored trade. References in the same run: peak RSS of ws_sink, a
# bare libwebsockets client reading the same stream from the same simulator
# at the same time (what any libwebsockets process costs; it has its own
# token, as the simulator, like Finnhub, closes the older of two connections
# with one token), and the time from starting `sqlite3` to its one inserted
# row being visible, measured by the same poller (the floor of "a process starts and makes a row durable").
# The poller (Python, a read-only SQLite connection, every 2 ms) starts the
# process and reads the clock; figures carry a few ms of polling.
# Env: TP_FOOTPRINT_SECONDS (default 30), TP_FOOTPRINT_RATE (10000).
# Run with bench/run.sh footprint.
set -euo pipefail
: "${TICKPIPE:?run through bench/run.sh}" "${TP_BENCH_DIR:?run through bench/run.sh}"
SECS=${TP_FOOTPRINT_SECONDS:-30}
RATE=${TP_FOOTPRINT_RATE:-10000}
SYMS=AAPL,MSFT,AMZN,NVDA,TSLA,GOOGL,META,BINANCE:BTCUSDT,BINANCE:ETHUSDT,OANDA:EUR_USD
TMP=$(mktemp -d "${TMPDIR:-/tmp}/tickpipe-bench.XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$TMP"; }
trap cleanup EXIT
[ -x /usr/bin/time ] || { echo "bench_footprint: /usr/bin/time missing (apt-get install time)" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "bench_footprint: sqlite3 missing" >&2; exit 1; }
gtime() { sed -n "s/^[[:space:]]*$2: //p" "$1"; }

"$TICKPIPE" simulate --listen 127.0.0.1:0 --rate "$RATE" --batch 20 --log-level info 2>"$TMP/sim.log" &
pids+=($!)
for _ in $(seq 100); do
  # the log may not exist yet (the shell of the & creates it)
  PORT=$(sed -n 's|^simulate: listening on ws://.*:\([0-9][0-9]*\)$|\1|p' "$TMP/sim.log" 2>/dev/null || true)
  [ -n "$PORT" ] && break
  sleep 0.1
done
[ -n "${PORT:-}" ] || { echo "simulate did not start: $(cat "$TMP/sim.log")" >&2; exit 1; }

# start-to-first-row poller: ARGV = DB TIMEOUT CMD...; prints seconds
cat >"$TMP/first_row.py" <<'PY'
import os, sqlite3, subprocess, sys, time
db, timeout, cmd = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
t0 = time.monotonic()
p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(db + ".log", "w"))
while True:
    dt = time.monotonic() - t0
    if dt > timeout:
        sys.exit("no stored trade after %.0f s" % timeout)
    if os.path.exists(db):
        try:
            c = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=0.01)
            if c.execute("SELECT 1 FROM trades LIMIT 1").fetchone():
                print("%.4f" % dt)
                break
        except sqlite3.Error:
            pass
        finally:
            try:
                c.close()
            except Exception:
                pass
    time.sleep(0.002)
sys.stdout.flush()
if p.wait() != 0:
    sys.exit("%s exited %d: %s" % (cmd[0], p.returncode, open(db + ".log").read()[-500:]))
PY

# reference: sqlite3 starts, creates the table and inserts one row
ref_start=$(/usr/bin/python3 "$TMP/first_row.py" "$TMP/ref.db" 30 sqlite3 "$TMP/ref.db" \
  "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE trades (symbol TEXT, price REAL); INSERT INTO trades VALUES ('AAPL', 1);")

# reference client and tickpipe run on the same stream, at the same time
/usr/bin/time -v -o "$TMP/time.sink" "$TP_BENCH_DIR/ws_sink" client "ws://127.0.0.1:$PORT/?token=reference" "$SYMS" \
  $((RATE * SECS)) >"$TMP/sink.out" 2>"$TMP/sink.err" &
sinkpid=$!
pids+=("$sinkpid")
run_start=$(/usr/bin/python3 "$TMP/first_row.py" "$TMP/run.db" 60 /usr/bin/time -v -o "$TMP/time.run" \
  "$TICKPIPE" run --token t --ws-url "ws://127.0.0.1:$PORT" --symbols "$SYMS" --store "sqlite:$TMP/run.db" \
  --http 127.0.0.1:0 --duration "$SECS" --progress-interval 0 --log-level warn)
wait "$sinkpid" || { echo "ws_sink failed: $(cat "$TMP/sink.err"); simulate: $(tail -5 "$TMP/sim.log")" >&2; exit 1; }
stored=$(sqlite3 "$TMP/run.db" "SELECT count(*) FROM trades")
run_rss=$(awk -v k="$(gtime "$TMP/time.run" 'Maximum resident set size (kbytes)')" 'BEGIN{printf "%.1f", k / 1024}')
sink_rss=$(awk -v k="$(gtime "$TMP/time.sink" 'Maximum resident set size (kbytes)')" 'BEGIN{printf "%.1f", k / 1024}')
run_cpu=$(awk -v u="$(gtime "$TMP/time.run" 'User time (seconds)')" -v s="$(gtime "$TMP/time.run" 'System time (seconds)')" 'BEGIN{print u+s}')
ms() { awk -v s="$1" 'BEGIN{printf "%.0f", s * 1000}'; }

echo "## footprint: simulate at $RATE trades/s -> tickpipe run -> SQLite, $SECS s ($(date -u +%F), $(nproc) cores)"
echo
echo "| figure | tickpipe run | reference (same run) | ratio |"
echo "| --- | --- | --- | --- |"
echo "| peak RSS MB | $run_rss | $sink_rss (ws_sink, bare libwebsockets client, same stream) | $(awk -v a="$run_rss" -v b="$sink_rss" 'BEGIN{printf "%.2f", a/b}') |"
echo "| start to first stored trade, ms | $(ms "$run_start") | $(ms "$ref_start") (sqlite3: start, insert one row) | $(awk -v a="$run_start" -v b="$ref_start" 'BEGIN{printf "%.2f", a/b}') |"
echo "| trades stored / CPU s | $stored / $run_cpu | | |"
echo
echo "Targets (figures to hold): peak RSS <= 24 MB, start to first stored trade <= 100 ms."
echo
echo "RESULT|tickpipe run peak RSS at $RATE trades/s|$run_rss|MB|$sink_rss (ws_sink, bare libwebsockets client)|$(awk -v a="$run_rss" -v b="$sink_rss" 'BEGIN{printf "%.2f", a/b}')|value <= 24"
echo "RESULT|tickpipe run start to first stored trade|$(ms "$run_start")|ms|$(ms "$ref_start") (sqlite3 start + one row)|$(awk -v a="$run_start" -v b="$ref_start" 'BEGIN{printf "%.2f", a/b}')|value <= 100"
echo "RESULT|tickpipe run CPU at $RATE trades/s|$(awk -v c="$run_cpu" -v n="$stored" 'BEGIN{printf "%.2f", (n > 0 ? c / n * 1e6 : 0)}')|CPU s per M trades|-|-|-"
