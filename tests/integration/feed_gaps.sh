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

# run into SQLite: the feed_gaps rows against the stored trades (sqlite3 is
# the oracle): each row's from/to are stored trades of its symbol with no
# stored trade of that symbol between them, and there are as many rows as
# the run's gaps=
command -v sqlite3 >/dev/null || fail "sqlite3 CLI missing (scripts/install-deps.sh --test installs it)"
start_sim rundrop --rate 400 --drop-every 0.7
db="$TMP/gaps.db"
timeout 120 "$TICKPIPE" run --ws-url "ws://127.0.0.1:$SIM_PORT" --token t --symbols AAPL,MSFT --store "sqlite:$db" \
  --no-http --max-trades 1200 --max-reconnects 20 >"$TMP/run.out" 2>"$TMP/run.err" \
  || fail "run failed: $(tail -5 "$TMP/run.err")"
n=$(sed -n 's/^summary: .*\bgaps=\([0-9]*\).*/\1/p' "$TMP/run.err")
rows=$(sqlite3 -batch -noheader "$db" "select count(*) from feed_gaps where reason = 'reconnect' and connection = 0")
[ "${n:-0}" -ge 2 ] && [ "$rows" = "$n" ] || fail "feed_gaps rows=$rows, run gaps=$n"
bad=$(sqlite3 -batch -noheader "$db" "select count(*) from feed_gaps g where
  not exists (select 1 from trades t where t.symbol = g.symbol and t.trade_timestamp = g.from_ms)
  or not exists (select 1 from trades t where t.symbol = g.symbol and t.trade_timestamp = g.to_ms)
  or exists (select 1 from trades t where t.symbol = g.symbol and t.trade_timestamp > g.from_ms
             and t.trade_timestamp < g.to_ms)
  or g.detected_at < g.to_ms")
[ "$bad" = 0 ] || fail "$bad feed_gaps rows do not match the stored trades: $(sqlite3 "$db" 'select * from feed_gaps')"
ok "run: $rows feed_gaps rows in SQLite, each bounded by consecutive stored trades"

# REST: /api/gaps lists the same rows (sqlite3 again the oracle)
bg serve "$TICKPIPE" serve --http 127.0.0.1:0 --store "sqlite:$db" --poll-interval 0
wait_for 20 grep -q 'dashboard at' "$TMP/serve.log"
URL=$(grep -o 'http://127.0.0.1:[0-9]*' "$TMP/serve.log" | head -1)
curl -fsS "$URL/api/gaps?symbol=AAPL" >"$TMP/gaps.json" || fail "/api/gaps"
sqlite3 -batch -noheader -separator ' ' "$db" \
  "select from_ms, to_ms, reason, connection from feed_gaps where symbol = 'AAPL' order by from_ms" >"$TMP/want.txt"
/usr/bin/python3 - "$TMP/gaps.json" "$TMP/want.txt" <<'PY' || fail "/api/gaps: $(head -c 400 "$TMP/gaps.json")"
import json, sys
d = json.load(open(sys.argv[1]))
want = [l.split() for l in open(sys.argv[2]) if l.strip()]
got = [[str(g["from"]), str(g["to"]), g["reason"], str(g["connection"])] for g in d["gaps"]]
assert d["symbol"] == "AAPL" and d["count"] == len(want) >= 1 and got == want, (got, want)
PY
first_to=$(head -1 "$TMP/want.txt" | cut -d' ' -f2)
n1=$(curl -fsS "$URL/api/gaps?symbol=AAPL&from=$((first_to + 1))" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])')
[ "$n1" = $(($(wc -l <"$TMP/want.txt") - 1)) ] || fail "from= does not bound the gaps: $n1"
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/gaps")
[ "$code" = 400 ] || fail "/api/gaps without a symbol: HTTP $code"
ok "/api/gaps lists the stored gaps of a symbol and range"
# a gap of a venue that numbers its trades carries the missing ids; the
# others have none (the fields are absent)
sqlite3 -batch "$db" "INSERT INTO feed_gaps VALUES ('BINANCE:BTCUSDT', 1000, 2000, 'id_jump', 2001, 0, 503, 509)" ||
  fail "inserting a gap row with trade ids"
curl -fsS "$URL/api/gaps?symbol=BINANCE:BTCUSDT" >"$TMP/idgaps.json" || fail "/api/gaps BINANCE:BTCUSDT"
/usr/bin/python3 - "$TMP/idgaps.json" "$TMP/gaps.json" <<'PY' || fail "/api/gaps trade ids: $(head -c 400 "$TMP/idgaps.json")"
import json, sys
g = json.load(open(sys.argv[1]))["gaps"]
assert len(g) == 1 and g[0]["from_trade_id"] == 503 and g[0]["to_trade_id"] == 509 and g[0]["reason"] == "id_jump", g
assert all("from_trade_id" not in x and "to_trade_id" not in x for x in json.load(open(sys.argv[2]))["gaps"])
PY
ok "/api/gaps gives a gap's missing venue trade ids when known"
