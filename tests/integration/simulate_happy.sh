#!/usr/bin/env bash
# simulate_happy.sh - `tickpipe simulate` + `tickpipe capture`: the issue's
# done-when command prints exactly 1000 valid trades of the subscribed
# symbols only, with sane prices, volumes, conditions and timestamps, and a
# summary; the same --seed gives every symbol the same trades and another
# seed does not; `tickpipe symbols` works against the simulator's REST
# search; bad flags are usage errors.
source "$TP_SOURCE_DIR/tests/lib/common.sh"

"$TICKPIPE" simulate --help >"$TMP/help.txt" || fail "--help failed"
for flag in --listen --token --rate --batch --seed --ping-interval --replay --speed --loop --drop-every \
  --silent-after --malformed-rate --error-every --tls-cert --tls-key --max-trades --log-level; do
  grep -q -- "$flag" "$TMP/help.txt" || fail "--help does not document $flag"
done
ok "--help documents every flag"

for bad in "--rate -1" "--batch 0" "--malformed-rate 2" "--listen nonsense" "--bogus" "--speed 2" \
  "--tls-cert /etc/hostname"; do
  set +e
  # shellcheck disable=SC2086
  "$TICKPIPE" simulate $bad >/dev/null 2>"$TMP/bad.err"
  rc=$?
  set -e
  [ "$rc" = 2 ] || fail "simulate $bad: exit $rc, want 2 ($(cat "$TMP/bad.err"))"
  grep -q 'tickpipe simulate: ' "$TMP/bad.err" || fail "simulate $bad: no message"
done
ok "bad flags exit 2 with a message"

start_sim sim --rate 5000 --batch 10 --seed 7
"$TICKPIPE" capture --ws-url "ws://127.0.0.1:$SIM_PORT" --token t --symbols AAPL,BINANCE:BTCUSDT \
  --max-trades 1000 --max-reconnects 0 >"$TMP/out.jsonl" 2>"$TMP/cap.err" || fail "capture failed: $(cat "$TMP/cap.err")"
/usr/bin/python3 - "$TMP/out.jsonl" <<'PY' || fail "trades are not right"
import json, sys, time
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1000, len(lines)
now = time.time() * 1000
seen = set()
for l in lines:
    t = json.loads(l)
    assert set(t) == {"s", "p", "t", "v", "c"}, t
    seen.add(t["s"])
    assert abs(t["t"] - now) < 120000, t  # wall-clock milliseconds
    if t["s"] == "AAPL":
        assert 150 < t["p"] < 240, t
        assert t["v"] >= 1 and t["v"] == int(t["v"]), t
        assert isinstance(t["c"], list) and t["c"] and all(isinstance(x, str) for x in t["c"]), t
        assert round(t["p"], 2) == t["p"], t
    elif t["s"] == "BINANCE:BTCUSDT":
        assert 45000 < t["p"] < 80000, t
        assert 0 < t["v"] < 10, t
        assert t["c"] is None, t
    else:
        raise AssertionError("unsubscribed symbol %r" % t["s"])
assert seen == {"AAPL", "BINANCE:BTCUSDT"}, seen
PY
grep -q '^summary: trades=[0-9]* frames=[0-9]* pings=0 errors=0 malformed=0 reconnects=0 .*printed=1000 ' "$TMP/cap.err" \
  || fail "summary: $(grep summary "$TMP/cap.err")"
ok "1000 valid trades of the subscribed symbols and a summary"

# forex: v = 0 price updates, no conditions
"$TICKPIPE" capture --ws-url "ws://127.0.0.1:$SIM_PORT" --token t --symbols OANDA:EUR_USD,MSFT \
  --max-trades 300 --max-reconnects 0 >"$TMP/fx.jsonl" 2>"$TMP/fx.err" || fail "capture failed: $(cat "$TMP/fx.err")"
/usr/bin/python3 - "$TMP/fx.jsonl" <<'PY' || fail "forex/stock trades are not right"
import json, sys
ts = [json.loads(l) for l in open(sys.argv[1])]
assert len(ts) == 300
fx = [t for t in ts if t["s"] == "OANDA:EUR_USD"]
ms = [t for t in ts if t["s"] == "MSFT"]
assert fx and ms and len(fx) + len(ms) == 300
assert all(t["v"] == 0 and t["c"] is None and 0.9 < t["p"] < 1.3 for t in fx), fx[:3]
assert all(300 < t["p"] < 550 and t["v"] > 0 for t in ms), ms[:3]
PY
ok "forex price updates have v=0 and no conditions"

# --seed: per-symbol sequences depend on the seed only
seq() { # PORT OUT
  "$TICKPIPE" capture --ws-url "ws://127.0.0.1:$1" --token t --symbols AAPL,BINANCE:ETHUSDT --max-trades 400 \
    --max-reconnects 0 >"$2" 2>>"$TMP/seq.err" || fail "capture failed: $(cat "$TMP/seq.err")"
}
start_sim simA --rate 2000 --batch 7 --seed 42
seq "$SIM_PORT" "$TMP/a.jsonl"
start_sim simB --rate 3000 --batch 3 --seed 42
seq "$SIM_PORT" "$TMP/b.jsonl"
start_sim simC --rate 2000 --batch 7 --seed 43
seq "$SIM_PORT" "$TMP/c.jsonl"
/usr/bin/python3 - "$TMP/a.jsonl" "$TMP/b.jsonl" "$TMP/c.jsonl" <<'PY' || fail "--seed does not make symbols reproducible"
import json, sys
def per_symbol(path):
    d = {}
    for l in open(path):
        t = json.loads(l)
        d.setdefault(t["s"], []).append((t["p"], t["v"], t["c"]))
    return d
a, b, c = (per_symbol(p) for p in sys.argv[1:4])
for s in ("AAPL", "BINANCE:ETHUSDT"):
    n = min(len(a[s]), len(b[s]))
    assert n >= 50, (s, n)
    assert a[s][:n] == b[s][:n], s
    m = min(len(a[s]), len(c[s]))
    assert a[s][:m] != c[s][:m], s
PY
ok "the same seed gives every symbol the same trades (whatever the batching); another seed differs"

# REST symbol search through `tickpipe symbols`
FINNHUB_REST_URL="http://127.0.0.1:$SIM_PORT/api/v1" "$TICKPIPE" symbols --token t apple >"$TMP/sym.txt" 2>&1 \
  || fail "symbols failed: $(cat "$TMP/sym.txt")"
grep -q 'AAPL' "$TMP/sym.txt" && grep -q 'APPLE INC' "$TMP/sym.txt" || fail "symbols output: $(cat "$TMP/sym.txt")"
FINNHUB_REST_URL="http://127.0.0.1:$SIM_PORT/api/v1" "$TICKPIPE" symbols --token t BINANCE:BTCUSDT >"$TMP/sym2.txt" 2>&1 \
  || fail "symbols failed: $(cat "$TMP/sym2.txt")"
grep -q 'BTC/USDT' "$TMP/sym2.txt" || fail "symbols output: $(cat "$TMP/sym2.txt")"
curl -fsS "http://127.0.0.1:$SIM_PORT/api/v1/search?q=micro&token=t" >"$TMP/search.json"
/usr/bin/python3 - "$TMP/search.json" <<'PY' || fail "search answer: $(cat "$TMP/search.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["count"] == len(d["result"]) >= 2, d
for r in d["result"]:
    assert set(r) == {"description", "displaySymbol", "symbol", "type"}, r
syms = [r["symbol"] for r in d["result"]]
assert "MSFT" in syms and "AMD" in syms, syms
PY
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SIM_PORT/api/v1/search?q=apple")
[ "$code" = 401 ] || fail "search without a token: HTTP $code, want 401"
# validation against the simulator: an unknown ticker is skipped, a known one kept
FINNHUB_VALIDATE_TICKERS=1 FINNHUB_REST_URL="http://127.0.0.1:$SIM_PORT/api/v1" "$TICKPIPE" capture \
  --ws-url "ws://127.0.0.1:$SIM_PORT" --token t --symbols AAPL,NOSUCHTICKER --max-trades 50 --max-reconnects 0 \
  >"$TMP/v.jsonl" 2>"$TMP/v.err" || fail "validated capture failed: $(cat "$TMP/v.err")"
grep -q 'skipping ticker NOSUCHTICKER' "$TMP/v.err" || fail "unknown ticker not skipped: $(cat "$TMP/v.err")"
[ "$(grep -c '"s":"AAPL"' "$TMP/v.jsonl")" = 50 ] || fail "validated capture: $(head -3 "$TMP/v.jsonl")"
ok "REST symbol search: tickpipe symbols, the JSON shape, 401 without a token, ticker validation"
