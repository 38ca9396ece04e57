#!/usr/bin/env bash
# bench_soak.sh - the long run: TP_SOAK_SECONDS (default 600) at
# TP_SOAK_RATE (default 10,000) trades/s through two pipelines at once,
# each fed by its own `tickpipe simulate --max-trades RATE*SECONDS`:
#   A  simulate -> tickpipe run -> SQLite
#   B  simulate -> tickpipe produce -> Kafka (one real broker,
#      tests/lib/kafka.sh) -> tickpipe process -> SQLite
# Checks, per pipeline: every trade the simulator sent is stored (its
# --max-trades count against SELECT count(*)); the RSS of each tickpipe
# process, sampled every 10 s from /proc, grows at most 1 MB after the first
# minute (the largest sample after 60 s against the sample at 60 s); and
# the p99 receipt -> durable latency of each full minute, from the /metrics
# histogram tickpipe_store_durable_latency_seconds of `run` (A) and of
# `process --metrics` (B), stays within 20% of the first minute's. The p99
# is interpolated within its bucket as Prometheus' histogram_quantile does
# (the buckets are coarse: 100 ms, 250 ms, 1 s, ...); the bucket's upper
# bound is printed beside it. Prints the samples, a table and result lines.
# Not part of the default bench/run.sh: run `bench/run.sh soak`.
set -euo pipefail
: "${TICKPIPE:?run through bench/run.sh}"
. "$TP_SOURCE_DIR/tests/lib/common.sh"
. "$TP_SOURCE_DIR/tests/lib/kafka.sh"
SECS=${TP_SOAK_SECONDS:-600}
RATE=${TP_SOAK_RATE:-10000}
N=$(awk -v r="$RATE" -v s="$SECS" 'BEGIN{printf "%d", r * s}')
SYMS=AAPL,MSFT,AMZN,NVDA,TSLA,GOOGL,META,BINANCE:BTCUSDT,BINANCE:ETHUSDT,OANDA:EUR_USD
# the stream may take longer than SECS on a loaded machine: allow for it
LIMIT=$((SECS * 2 + 300))

kafka_start 1 >&2
kafka_topic market 3 >&2

start_sim simA --rate "$RATE" --max-trades "$N" --log-level warn
PORT_A=$SIM_PORT
start_sim simB --rate "$RATE" --max-trades "$N" --log-level warn
PORT_B=$SIM_PORT
HTTP_A=$(free_port)
HTTP_B=$(free_port)

bg runA "$TICKPIPE" run --token soak-a --ws-url "ws://127.0.0.1:$PORT_A" --symbols "$SYMS" \
  --store "sqlite:$TMP/a.db" --http "127.0.0.1:$HTTP_A" --max-trades "$N" --progress-interval 60
bg processB "$TICKPIPE" process --brokers "$BS" --topic market --group soak --store "sqlite:$TMP/b.db" \
  --dlq-topic "" --max-trades "$N" --progress-interval 60 --metrics "127.0.0.1:$HTTP_B"
bg produceB "$TICKPIPE" produce --token soak-b --ws-url "ws://127.0.0.1:$PORT_B" --symbols "$SYMS" \
  --brokers "$BS" --topic market --max-trades "$N" --progress-interval 60
wait_port "$HTTP_A" 60
wait_port "$HTTP_B" 60

# sample every 10 s until the three processes have exited; the analysis
# reads the samples back
/usr/bin/python3 - "$TMP/samples.json" "http://127.0.0.1:$HTTP_A/metrics" "http://127.0.0.1:$HTTP_B/metrics" "$LIMIT" \
  "run:$PID_runA" "produce:$PID_produceB" "process:$PID_processB" <<'PY' >&2
import json, os, re, signal, sys, time, urllib.request
out, url, url_b, limit = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
pids = dict(a.split(":") for a in sys.argv[5:])
def rss_kb(pid):
    try:
        for line in open("/proc/%s/status" % pid):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None
bucket = re.compile(r'^tickpipe_store_durable_latency_seconds_bucket\{[^}]*le="([^"]+)"[^}]*\}\s+([0-9.e+]+)')
def hist(url):
    try:
        text = urllib.request.urlopen(url, timeout=5).read().decode()
    except Exception:
        return None
    return {m.group(1): float(m.group(2)) for m in map(bucket.match, text.splitlines()) if m}
t0, samples = time.monotonic(), []
while True:
    s = {"t": round(time.monotonic() - t0, 1), "rss_kb": {n: rss_kb(p) for n, p in pids.items()},
         "hist": hist(url), "hist_b": hist(url_b)}
    samples.append(s)
    print("sample t=%5.0f s rss KB %s" % (s["t"], s["rss_kb"]), file=sys.stderr)
    if all(v is None for v in s["rss_kb"].values()):
        break
    if s["t"] > limit:  # stuck: stop them (they drain on SIGTERM) and report what was stored
        print("soak: still running after %.0f s; stopping" % limit, file=sys.stderr)
        for p in pids.values():
            try:
                os.kill(int(p), signal.SIGTERM)
            except OSError:
                pass
    time.sleep(max(0.0, 10 - (time.monotonic() - t0) % 10))
json.dump(samples, open(out, "w"))
PY
rcA=0 rcP=0 rcB=0
wait "$PID_runA" || rcA=$?
wait "$PID_produceB" || rcP=$?
wait "$PID_processB" || rcB=$?
[ "$rcA" = 0 ] || echo "run exited $rcA: $(tail -3 "$TMP/runA.log")" >&2
[ "$rcP" = 0 ] || echo "produce exited $rcP: $(tail -3 "$TMP/produceB.log")" >&2
[ "$rcB" = 0 ] || echo "process exited $rcB: $(tail -3 "$TMP/processB.log")" >&2
storedA=$(sqlite3 "$TMP/a.db" "SELECT count(*) FROM trades" 2>/dev/null || echo 0)
storedB=$(sqlite3 "$TMP/b.db" "SELECT count(*) FROM trades" 2>/dev/null || echo 0)
p99B=$(sed -n 's/.*summary:.* p99 <= \([0-9-]*\) ms.*/\1/p' "$TMP/processB.log" | tail -1)

/usr/bin/python3 - "$TMP/samples.json" "$N" "$storedA" "$storedB" "${p99B:--}" "$SECS" "$RATE" <<'PY'
import json, sys, time
samples = json.load(open(sys.argv[1]))
n, sa, sb, p99b, secs, rate = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6], sys.argv[7]
import os
print("## soak: %s trades/s for %s s through run and produce -> Kafka -> process (%s; %d cores, load %s at the end)" %
      (rate, secs, time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), os.cpu_count(), " ".join("%.1f" % x for x in os.getloadavg())))
print()
def growth(name):
    pts = [(s["t"], s["rss_kb"][name]) for s in samples if s["rss_kb"].get(name) is not None]
    late = [kb for t, kb in pts if t >= 60]
    if len(late) < 2:
        return None, None, None, len(pts)
    return (late[0], max(late), (max(late) - late[0]) / 1024.0, len(pts))
# per-minute p99 from the cumulative histogram: the difference of two
# scrapes a minute apart, interpolated within the bucket (histogram_quantile)
def p99(h0, h1):
    les = sorted((float(k) if k != "+Inf" else float("inf"), k) for k in h1)
    tot = h1["+Inf"] - (h0 or {}).get("+Inf", 0)
    if tot <= 0:
        return None, None, 0
    lo, below = 0.0, 0.0
    for v, k in les:
        c = h1[k] - (h0 or {}).get(k, 0)
        if c >= 0.99 * tot:
            if v == float("inf"):
                return lo * 1000, v, int(tot)
            est = lo + (v - lo) * ((0.99 * tot - below) / (c - below) if c > below else 1.0)
            return est * 1000, v * 1000, int(tot)
        lo, below = v, c
    return None, None, int(tot)
def per_minute(key):
    hs = [(s["t"], s.get(key)) for s in samples if s.get(key)]
    minutes, prev, m = [], None, 1
    for t, h in hs:
        if t >= 60 * m:
            q, ub, cnt = p99(prev, h)
            if cnt:
                minutes.append((m, q, ub, cnt))
            prev, m = h, m + 1
    return minutes
print("| pipeline | trades sent (simulate --max-trades) | trades stored | RSS at 60 s MB | largest RSS after 60 s MB | growth MB | samples |")
print("| --- | --- | --- | --- | --- | --- | --- |")
res = []
for name, stored, label in (("run", sa, "A run"), ("produce", None, "B produce"), ("process", sb, "B process")):
    a, b, g, k = growth(name)
    fmt = lambda x: "%.1f" % (x / 1024.0) if x is not None else "-"
    print("| %s | %s | %s | %s | %s | %s | %d |" % (label, n if stored is not None else "-", stored if stored is not None else "-",
          fmt(a), fmt(b), "%.2f" % g if g is not None else "-", k))
    res.append("RESULT|soak %s RSS growth after the first minute|%s|MB|%s (RSS at 60 s, MB)|-|value <= 1" %
               (label, "%.2f" % g if g is not None else "-", fmt(a)))
print()
worst = {}
firsts = {}
for label, key in (("A (run)", "hist"), ("B (process)", "hist_b")):
    minutes = per_minute(key)
    print("Pipeline %s, p99 receipt -> durable per minute (/metrics histogram; interpolated, bucket bound beside):" % label)
    print()
    print("| minute | samples (one per 64 trades made durable) | p99 ms | bucket bound ms | vs minute 1 |")
    print("| --- | --- | --- | --- | --- |")
    first = minutes[0][1] if minutes and minutes[0][1] else None
    w = None
    for m, q, ub, cnt in minutes:
        r = q / first if first and q is not None else None
        if r is not None and m > 1:
            w = r if w is None else max(w, r)
        print("| %d | %d | %s | %s | %s |" % (m, cnt, "%.1f" % q if q is not None else "-",
              "%.0f" % ub if ub is not None else "-", "%.2f" % r if r is not None else "-"))
    print()
    worst[label], firsts[label] = w, first
print("Pipeline B: p99 receipt -> durable over the whole run %s ms (process's summary)." % p99b)
print()
print("Targets: trades stored = trades sent; RSS growth after the first minute <= 1 MB; each minute's p99 within 20% of the first minute's.")
print()
print("RESULT|soak A (run) trades stored|%d|trades|%d (sent by the simulator)|%.4f|ratio >= 1" % (sa, n, sa / n))
print("RESULT|soak B (produce -> Kafka -> process) trades stored|%d|trades|%d (sent by the simulator)|%.4f|ratio >= 1" % (sb, n, sb / n))
for r in res:
    print(r)  # a growth of "-" (too few samples) is a bad line in the summary, never "met"
for label in ("A (run)", "B (process)"):
    first, w = firsts[label], worst[label]
    if first and w is not None:
        print("RESULT|soak %s worst minute p99 against minute 1|%.1f|ms|%.1f (minute 1 p99, ms)|%.2f|ratio <= 1.20" %
              (label, w * first, first, w))
    else:
        print("RESULT|soak %s worst minute p99 against minute 1|0|ms|- (fewer than two full minutes)|-|ratio <= 1.20" % label)
PY
[ "$rcA$rcP$rcB" = 000 ] || exit 1
