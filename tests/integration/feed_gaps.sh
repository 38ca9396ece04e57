#!/usr/bin/env bash
# feed_gaps.sh - the holes a connection's drops and silences leave are
# reported per symbol, against the trades themselves as the oracle: each
# gap's from/to are the event times of two consecutive trades of that
# symbol in capture's output (its last before and first after), every
# reconnect yields at most one gap per symbol, and their count matches the
# summary's gaps=. The reason says reconnect for a closed connection and
# silence for the watchdog; a stream without drops reports no gap.
source "$TP_SOURCE_DIR/tests/lib/common.sh"

check_gaps() { # JSONL ERR REASON
  /usr/bin/python3 - "$@" <<'PY'
import json, re, sys
out, err, reason = sys.argv[1:4]
per = {}
for l in open(out):
    t = json.loads(l)
    per.setdefault(t["s"], []).append(t["t"])
log = open(err).read()
gaps = re.findall(r"gap in (\S+) on connection (\d+): no trades between (\d+) and (\d+) ms \((\w+);", log)
rec = int(re.findall(r"summary: .*\breconnects=(\d+)", log)[-1])
n = int(re.findall(r"summary: .*\bgaps=(\d+)", log)[-1])
assert rec >= 1 and gaps, (rec, len(gaps))
assert len(gaps) == n, (len(gaps), n)
for sym, conn, f, t, r in gaps:
    f, t = int(f), int(t)
    assert r == reason, (r, reason)
    ts = per[sym]
    pairs = [(ts[i], ts[i + 1]) for i in range(len(ts) - 1)]
    assert (f, t) in pairs, (sym, f, t)  # consecutive trades of the symbol
    assert t - f >= 200, (sym, f, t)     # a reconnect takes at least the 250 ms backoff
for sym in per:
    k = sum(1 for g in gaps if g[0] == sym)
    assert rec - 1 <= k <= rec, (sym, k, rec)
print(f"ok: {len(gaps)} gaps over {rec} reconnects")
PY
}

start_sim drop --rate 400 --drop-every 0.7
timeout 120 "$TICKPIPE" capture --ws-url "ws://127.0.0.1:$SIM_PORT" --token t --symbols AAPL,MSFT --max-trades 1200 \
  --max-reconnects 20 >"$TMP/drop.jsonl" 2>"$TMP/drop.err" || fail "capture failed: $(tail -5 "$TMP/drop.err")"
check_gaps "$TMP/drop.jsonl" "$TMP/drop.err" reconnect || fail "gaps after drops are not right"
ok "--drop-every: a reconnect gap per symbol, bounded by consecutive trades"

start_sim silent --rate 300 --silent-after 0.6 --ping-interval 0
timeout 120 "$TICKPIPE" capture --ws-url "ws://127.0.0.1:$SIM_PORT" --token t --symbols AAPL,MSFT --max-trades 500 \
  --stale-timeout 0.5 --max-reconnects 20 >"$TMP/silent.jsonl" 2>"$TMP/silent.err" \
  || fail "capture failed: $(tail -5 "$TMP/silent.err")"
check_gaps "$TMP/silent.jsonl" "$TMP/silent.err" silence || fail "gaps after silences are not right"
ok "--silent-after: silence gaps"

start_sim calm --rate 1000
timeout 60 "$TICKPIPE" capture --ws-url "ws://127.0.0.1:$SIM_PORT" --token t --symbols AAPL,MSFT --max-trades 1000 \
  --max-reconnects 0 >/dev/null 2>"$TMP/calm.err" || fail "capture failed: $(tail -5 "$TMP/calm.err")"
[ "$(summary_field "$TMP/calm.err" gaps)" = 0 ] || fail "gaps without a drop: $(grep gap "$TMP/calm.err")"
ok "no drop, no gap"
