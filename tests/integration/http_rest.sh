#!/usr/bin/env bash
# http_rest.sh - `tickpipe serve` over a SQLite store seeded through tp_sink
# (tests/tools/http_seed.c): every REST endpoint checked row by row against
# the database's own answer (sqlite3 CLI), bad parameters -> 400 JSON,
# unknown paths -> 404 JSON, the limit cap, a store that cannot be opened ->
# 503 JSON while the rest keeps serving, /metrics through promtool with the
# request counters matching what this test sent, /healthz, /ws live push
# with a symbol filter while a writer appends rows; HEAD of the GET
# endpoints: their status and headers without a body.
source "$(dirname "$0")/../lib/common.sh"
PY=/usr/bin/python3
command -v sqlite3 >/dev/null || fail "sqlite3 CLI missing (apt-get install sqlite3)"
command -v promtool >/dev/null || fail "promtool missing (apt-get install prometheus)"

DB="$TMP/store.db"
"$TP_TOOLS_DIR/http_seed" "sqlite:$DB" fixed >"$TMP/seed.log" || fail "seeding the store failed: $(cat "$TMP/seed.log")"
[ "$(sqlite3 "$DB" 'SELECT count(*) FROM trades')" = 780 ] || fail "seed did not write 780 trades"

# serve on a free port (port 0); URL=the address from its banner
start_serve() { # NAME ARGS...
  local name=$1; shift
  bg "$name" "$TICKPIPE" serve --http 127.0.0.1:0 "$@"
  wait_for 20 grep -q 'dashboard at' "$TMP/$name.log"
  URL=$(grep -o 'http://127.0.0.1:[0-9]*' "$TMP/$name.log" | head -1)
}
start_serve serve --store "sqlite:$DB" --max-limit 100 --poll-interval 200
BASE=$URL
ok "serve listening at $BASE"

get() { # PATH -> body in $TMP/body, status echoed
  curl -s -o "$TMP/body" -w '%{http_code}' "$BASE$1"
}

# ---- every endpoint against the database's own query ----
cat >"$TMP/check.py" <<'EOF'
import json, sqlite3, subprocess, sys, urllib.request, urllib.parse
base, db = sys.argv[1], sys.argv[2]
def get(path):
    with urllib.request.urlopen(base + path) as r:
        assert r.headers["Content-Type"].startswith("application/json"), r.headers["Content-Type"]
        return json.load(r)
def oracle(sql, *args):
    # the sqlite3 CLI, not Python's module: its own JSON output
    q = sql
    for a in args:
        q = q.replace("?", "'" + str(a).replace("'", "''") + "'", 1)
    out = subprocess.run(["sqlite3", "-json", db, q], capture_output=True, text=True, check=True).stdout
    return json.loads(out) if out.strip() else []
def close(a, b):
    if a is None or b is None: return a is b
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))
checked = 0
def eq(what, a, b):
    global checked
    ok = close(a, b) if isinstance(a, float) or isinstance(b, float) else a == b
    if not ok:
        sys.exit(f"FAIL: {what}: api={a!r} db={b!r}")
    checked += 1

# symbols
api = get("/api/symbols")
db_syms = oracle("SELECT symbol, count(*) AS n, max(trade_timestamp) AS last FROM trades GROUP BY symbol")
eq("symbol count", api["count"], len(db_syms))
by = {s["symbol"]: s for s in api["symbols"]}
for s in db_syms:
    a = by[s["symbol"]]
    eq(s["symbol"] + " trade_count", a["trade_count"], s["n"])
    eq(s["symbol"] + " last_ts", a["last_ts"], s["last"])
    lp = oracle("SELECT price FROM trades WHERE symbol=? AND trade_timestamp=?", s["symbol"], s["last"])[0]["price"]
    eq(s["symbol"] + " last_price", a["last_price"], lp)
assert "\u00c4TSCH.DE" in by, "unicode symbol missing"

def trades_q(sym, frm=None, to=None, limit=None):
    where, args = "symbol=?", [sym]
    if frm: where += f" AND trade_timestamp >= {int(frm)}"
    if to: where += f" AND trade_timestamp < {int(to)}"
    rows = oracle(f"SELECT uuid, price, volume, trade_timestamp AS ts, trade_conditions AS c, ingest_timestamp AS it "
                  f"FROM trades WHERE {where} ORDER BY trade_timestamp DESC, uuid DESC LIMIT {limit or 100}", *args)
    return rows[::-1]

for sym in by:
    for frm, to, limit in [(None, None, None), (None, None, 7), (1700000010000, 1700000020000, 100),
                           (1700000050000, None, 3), (None, 1700000000500, 100)]:
        params = {"symbol": sym}
        if frm: params["from"] = frm
        if to: params["to"] = to
        if limit: params["limit"] = limit
        api = get("/api/trades?" + urllib.parse.urlencode(params))
        want = trades_q(sym, frm, to, limit)
        eq(f"{sym} {params} count", api["count"], len(want))
        eq(f"{sym} symbol echo", api["symbol"], sym)
        got_ids = sorted(t["id"] for t in api["trades"])
        eq(f"{sym} {params} ids", got_ids, sorted(r["uuid"] for r in want))
        ts = [t["ts"] for t in api["trades"]]
        eq(f"{sym} {params} oldest first", ts, sorted(ts))
        w = {r["uuid"]: r for r in want}
        for t in api["trades"]:
            r = w[t["id"]]
            eq("price", t["price"], r["price"]); eq("volume", t["volume"], r["volume"])
            eq("ts", t["ts"], r["ts"]); eq("ingest_ts", t["ingest_ts"], r["it"])
            eq("symbol", t["symbol"], sym)
            eq("conditions", t["conditions"], None if r["c"] is None else json.loads(r["c"]))
# every shape of conditions made it through
shapes = {json.dumps(t["conditions"]) for t in get("/api/trades?symbol=AAPL&limit=8")["trades"]}
eq("condition shapes", sorted(shapes), sorted(["null", "[]", '["1"]', '["1", "12", null]']))

for sym in by:
    for iv, secs in [("1s", 1), ("1m", 60)]:
        for extra in ["", "&limit=5", "&from=1700000030000&to=1700000040000"]:
            api = get(f"/api/candles?symbol={urllib.parse.quote(sym)}&interval={iv}{extra}")
            eq("interval echo", api["interval"], iv)
            where = f"symbol=? AND interval_s={secs}"
            lim = 100
            if "from" in extra: where += " AND start_ms >= 1700000030000 AND start_ms < 1700000040000"
            if "limit" in extra: lim = 5
            want = oracle(f"SELECT * FROM candles WHERE {where} ORDER BY start_ms DESC LIMIT {lim}", sym)[::-1]
            eq(f"{sym} {iv}{extra} candle count", api["count"], len(want))
            assert want or extra, f"no {iv} candles for {sym} in the oracle"
            for a, r in zip(api["candles"], want):
                eq("start", a["start"], r["start_ms"])
                for k in ["open", "high", "low", "close", "volume", "vwap"]: eq(k, a[k], r[k])
                eq("count", a["count"], r["trade_count"]); eq("final", a["final"], bool(r["final"]))
                eq("interval", a["interval"], secs); eq("updated", a["updated"], r["updated_ms"])
    for extra in ["", "&limit=2"]:
        api = get(f"/api/averages?symbol={urllib.parse.quote(sym)}{extra}")
        lim = 2 if extra else 100
        want = oracle(f"SELECT * FROM running_averages_15_sec WHERE symbol=? ORDER BY window_start DESC LIMIT {lim}", sym)[::-1]
        assert want or sym == "OANDA:EUR_USD", f"no averages for {sym}"
        eq(f"{sym} averages count", api["count"], len(want))
        for a, r in zip(api["averages"], want):
            for k in ["window_start", "window_end", "price_volume_multiply", "trade_count"]: eq(k, a[k], r[k])
            eq("final", a["final"], bool(r["final"]))

# rolled-up intervals: recomputed here from the stored trades (the sqlite3
# CLI's rows), bucket by bucket: open/close of the first/last trade, high,
# low, sums, VWAP from sums; buckets overlapping [from, to), the newest `limit`
def rollup_want(sym, ms, frm=None, to=None, limit=1000):
    rows = oracle("SELECT price, volume, trade_timestamp AS ts FROM trades WHERE symbol=? ORDER BY trade_timestamp", sym)
    lo = frm // ms * ms if frm else None
    hi = -(-to // ms) * ms if to else None
    b = {}
    for r in rows:
        if (lo is not None and r["ts"] < lo) or (hi is not None and r["ts"] >= hi): continue
        k = r["ts"] // ms * ms
        c = b.setdefault(k, {"open": r["price"], "high": r["price"], "low": r["price"], "volume": 0.0, "pv": 0.0, "n": 0})
        c["high"] = max(c["high"], r["price"]); c["low"] = min(c["low"], r["price"])
        c["close"] = r["price"]; c["volume"] += r["volume"]; c["pv"] += r["price"] * r["volume"]; c["n"] += 1
    return [(k, b[k]) for k in sorted(b)][-limit:]
rolled, finals = 0, set()
for sym in by:
    for iv, ms in [("5s", 5000), ("15s", 15000), ("90s", 90000), ("5m", 300000), ("60m", 3600000), ("1d", 86400000)]:
        for frm, to, limit in [(None, None, None), (None, None, 2), (1700000031000, 1700000044000, None)]:
            q = f"/api/candles?symbol={urllib.parse.quote(sym)}&interval={iv}"
            if frm: q += f"&from={frm}&to={to}"
            if limit: q += f"&limit={limit}"
            api = get(q)
            eq("interval echo", api["interval"], "1h" if iv == "60m" else iv)
            want = rollup_want(sym, ms, frm, to, limit or 1000)
            eq(f"{q} count", api["count"], len(want))
            assert want, f"no trades for {q}"
            for a, (start, w) in zip(api["candles"], want):
                eq(f"{q} start", a["start"], start); eq(f"{q} interval", a["interval"], ms // 1000)
                for k in ["open", "high", "low", "close", "volume"]: eq(f"{q} {k}", a[k], w[k])
                eq(f"{q} count", a["count"], w["n"])
                eq(f"{q} vwap", a["vwap"], w["pv"] / w["volume"] if w["volume"] > 0 else None)
                eq(f"{q} incomplete", a["incomplete"], False)
                # the seed's windows are all final: a bucket is final once it
                # ended by its newest part's update, or a later bucket exists
                biv = 1 if ms < 60000 or ms % 60000 else 60
                upd = oracle(f"SELECT max(updated_ms) AS u FROM candles WHERE symbol=? AND interval_s={biv} "
                             f"AND start_ms >= {start} AND start_ms < {start + ms}", sym)[0]["u"]
                later = oracle(f"SELECT count(*) AS n FROM candles WHERE symbol=? AND interval_s={biv} "
                               f"AND start_ms >= {start + ms}", sym)[0]["n"]
                eq(f"{q} final", a["final"], start + ms <= upd or later > 0)
                finals.add(a["final"])
                rolled += 1
# day candles at a zone's midnight (tz=), recomputed with Python's zoneinfo
import zoneinfo, datetime as _dt
for tzname in ["America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "UTC"]:
    z = zoneinfo.ZoneInfo(tzname)
    for sym in by:
        api = get(f"/api/candles?symbol={urllib.parse.quote(sym)}&interval=1d&tz={tzname}")
        eq("tz echo", api["tz"], tzname)
        rows = oracle("SELECT price, volume, trade_timestamp AS ts FROM trades WHERE symbol=? ORDER BY trade_timestamp", sym)
        b = {}
        for r in rows:
            local = _dt.datetime.fromtimestamp(r["ts"] / 1000, z)
            k = int(_dt.datetime(local.year, local.month, local.day, tzinfo=z).timestamp() * 1000)
            c = b.setdefault(k, {"open": r["price"], "high": r["price"], "low": r["price"], "volume": 0.0, "n": 0})
            c["high"] = max(c["high"], r["price"]); c["low"] = min(c["low"], r["price"])
            c["close"] = r["price"]; c["volume"] += r["volume"]; c["n"] += 1
        want = sorted(b.items())
        eq(f"{sym} tz={tzname} count", api["count"], len(want))
        for a, (start, w) in zip(api["candles"], want):
            eq(f"{sym} tz={tzname} start", a["start"], start)
            for k in ["open", "high", "low", "close", "volume"]: eq(f"{sym} tz={tzname} {k}", a[k], w[k])
            eq(f"{sym} tz={tzname} trades", a["trade_count"], w["n"])
# 22:13 UTC is the next day in Kolkata: its day starts 18:30 UTC the day before
eq("Kolkata midnight", get("/api/candles?symbol=AAPL&interval=1d&tz=Asia/Kolkata")["candles"][0]["start"], 1699986600000)

# ISO 8601 in and out: the same rows as with epoch milliseconds, each time
# field as the text Python's datetime makes of it
import datetime
def iso(ms):
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
time_keys = {"ts", "ingest_ts", "start", "updated", "window_start", "window_end", "from", "to", "detected_at", "last_ts", "day_start"}
def isoed(j):
    if isinstance(j, list): return [isoed(x) for x in j]
    if isinstance(j, dict):
        return {k: (iso(v) if k in time_keys and isinstance(v, int) and not isinstance(v, bool) else
                    [[iso(p[0]), p[1]] for p in v] if k == "sparkline" else isoed(v)) for k, v in j.items()}
    return j
for ms_q, iso_q in [("/api/trades?symbol=AAPL&from=1700000010000&to=1700000020000",
                     "/api/trades?symbol=AAPL&from=2023-11-14T22:13:30Z&to=2023-11-14T17:13:40.000-05:00"),
                    ("/api/candles?symbol=AAPL&interval=1s&from=1700000010500",
                     "/api/candles?symbol=AAPL&interval=1s&from=2023-11-14T22:13:30.5%2B00:00"),
                    ("/api/candles?symbol=AAPL&interval=1d&from=1699920000000", "/api/candles?symbol=AAPL&interval=1d&from=2023-11-14")]:
    a, b = get(ms_q), get(iso_q)
    eq(f"{iso_q} equals {ms_q}", b, a)
    assert a["count"] > 0, ms_q
for q in ["/api/trades?symbol=AAPL&limit=5", "/api/candles?symbol=AAPL&interval=5s&limit=3", "/api/averages?symbol=AAPL&limit=2",
          "/api/symbols", "/api/watchlist"]:
    a = get(q)
    b = get(q + ("&" if "?" in q else "?") + "times=iso")
    eq(f"{q}&times=iso", b, isoed(a))
    assert json.dumps(b) != json.dumps(a), q
# format=csv: the same rows as the JSON answer, read back with Python's csv module
import csv, io
for q in ["/api/trades?symbol=AAPL&limit=50", "/api/candles?symbol=AAPL&interval=5s", "/api/averages?symbol=AAPL",
          "/api/symbols", "/api/watchlist", "/api/gaps?symbol=AAPL", "/api/trades?symbol=AAPL&limit=5&times=iso"]:
    j = get(q)
    key = [k for k, v in j.items() if isinstance(v, list)][0]
    with urllib.request.urlopen(base + q + "&format=csv" if "?" in q else base + q + "?format=csv") as r:
        assert r.headers["Content-Type"].startswith("text/csv"), r.headers["Content-Type"]
        text = r.read().decode("utf-8")
    assert "\r\n" in text or not j[key], q
    rows = list(csv.reader(io.StringIO(text)))
    if not j[key]:
        eq(f"{q} csv of no rows", rows, [])
        continue
    header, body = rows[0], rows[1:]
    eq(f"{q} csv header", header, list(j[key][0].keys()))
    eq(f"{q} csv rows", len(body), len(j[key]))
    for row, obj in zip(body, j[key]):
        for name, cell in zip(header, row):
            v = obj[name]
            if v is None: eq(f"{q} {name} null", cell, "")
            elif isinstance(v, bool): eq(f"{q} {name}", cell, "true" if v else "false")
            elif isinstance(v, (int, float)): eq(f"{q} {name}", float(cell), float(v))
            elif isinstance(v, str): eq(f"{q} {name}", cell, v)
            else: eq(f"{q} {name} json", json.loads(cell), v)

# one name for the trade count on every row; the interval in seconds at the top too
c = get("/api/candles?symbol=AAPL&interval=15m")
eq("interval_s", c["interval_s"], 900)
for row in c["candles"]: eq("candle trade_count", row["trade_count"], row["count"])

# the watchlist: each symbol's UTC day recomputed from its stored trades
wl = get("/api/watchlist")
eq("watchlist count", wl["count"], len(db_syms))
for s in db_syms:
    sym = s["symbol"]
    a = next(x for x in wl["symbols"] if x["symbol"] == sym)
    d0 = s["last"] // 86400000 * 86400000
    day = oracle(f"SELECT price, volume, trade_timestamp AS ts FROM trades WHERE symbol=? AND trade_timestamp >= {d0} "
                 f"AND trade_timestamp < {d0 + 86400000} ORDER BY trade_timestamp", sym)
    eq(f"{sym} day_start", a["day_start"], d0)
    eq(f"{sym} day_open", a["day_open"], day[0]["price"])
    eq(f"{sym} day_high", a["day_high"], max(r["price"] for r in day))
    eq(f"{sym} day_low", a["day_low"], min(r["price"] for r in day))
    eq(f"{sym} day_volume", a["day_volume"], sum(r["volume"] for r in day))
    eq(f"{sym} day_trade_count", a["day_trade_count"], len(day))
    eq(f"{sym} last_price", a["last_price"], day[-1]["price"])
    eq(f"{sym} change", a["change"], day[-1]["price"] - day[0]["price"])
    eq(f"{sym} change_pct", a["change_pct"], 100 * (day[-1]["price"] - day[0]["price"]) / day[0]["price"])
    eq(f"{sym} trades_per_s (2023's trades, none in the last five minutes)", a["trades_per_s"], 0.0)
    minutes = sorted({r["ts"] // 60000 * 60000 for r in day})[-60:]
    closes = [[m, [r for r in day if r["ts"] // 60000 * 60000 == m][-1]["price"]] for m in minutes]
    eq(f"{sym} sparkline", len(a["sparkline"]), len(closes))
    for (t, c), (wt, wc) in zip(a["sparkline"], closes):
        eq(f"{sym} sparkline time", t, wt); eq(f"{sym} sparkline close", c, wc)
assert rolled > 100, rolled
eq("rolled-up candles final and not", finals, {True, False})
print(f"{checked} values equal to the database's ({rolled} rolled-up candles recomputed from the trades)")
EOF
$PY "$TMP/check.py" "$BASE" "$DB" || fail "REST answers differ from the database"
ok "REST answers equal the database's rows"

# ---- bad parameters: 400 with a JSON error naming the problem ----
n400=0
while IFS='|' read -r path want_code want_text; do
  code=$(get "$path")
  [ "$code" = "$want_code" ] || fail "$path: status $code, want $want_code ($(cat "$TMP/body"))"
  $PY -c 'import json,sys; e=json.load(open(sys.argv[1]))["error"]; sys.exit(0 if sys.argv[2] in e else "error text %r lacks %r" % (e, sys.argv[2]))' \
    "$TMP/body" "$want_text" || fail "$path: wrong error JSON: $(cat "$TMP/body")"
  case "$path" in /api/trades*) [ "$want_code" = 400 ] && n400=$((n400 + 1)) ;; esac
done <<'EOF'
/api/trades|400|missing parameter 'symbol'
/api/trades?symbol=|400|symbol must not be empty
/api/trades?symbol=AAPL&limit=0|400|limit
/api/trades?symbol=AAPL&limit=101|400|from 1 to 100
/api/trades?symbol=AAPL&limit=ten|400|limit
/api/trades?symbol=AAPL&from=abc|400|from
/api/trades?symbol=AAPL&from=-5|400|from
/api/trades?symbol=AAPL&from=20&to=10|400|from must be before to
/api/trades?symbol=AAPL&symbol=MSFT|400|given twice
/api/trades?symbol=AAPL&colour=red|400|unknown parameter 'colour'
/api/trades?symbol=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA|400|longer than 64
/api/trades?symbol=%FF%FE|400|UTF-8
/api/trades?symbol=A%01B|400|control character
/api/trades?symbol=AA%0APL|400|control character
/api/trades?symbol=AAPL%0A|400|control character
/api/trades?symbol=AAPL%0D|400|control character
/api/trades?symbol=AAPL%0D%0A|400|control character
/api/trades?symbol=AA%1BPL|400|control character
/api/trades?symbol=AAPL%7F|400|control character
/api/trades?symbol=AAPL&limit=%0A5|400|control character
/api/trades?symbol=AAPL&li%09mit=5|400|parameter name contains a control character
/api/trades?symbol=AAPL&limit=+1|400|digits only
/api/trades?symbol=AAPL&limit=%2B1|400|digits only
/api/trades?symbol=AAPL&limit=%201|400|digits only
/api/trades?symbol=AAPL&limit=1%20|400|digits only
/api/trades?symbol=AAPL&limit=1x|400|digits only
/api/trades?symbol=AAPL&limit=|400|limit: a number is required
/api/trades?symbol=AAPL&from=|400|from (epoch milliseconds): a number is required
/api/trades?symbol=AAPL&from=99999999999999999999|400|digits only
/api/trades?symbol=AAPL&to=9223372036854775808|400|digits only
/api/trades?symbol=AAPL&from=1e3|400|digits only
/api/trades?symbol=AAPL&to=0x10|400|digits only
/api/candles?symbol=AAPL&interval=1s%20|400|not an interval
/api/candles?symbol=AAPL&interval=1s%0A|400|control character
/api/candles?symbol=AAPL&limit=%2B5|400|digits only
/api/averages?symbol=AAPL&limit=-1|400|digits only
/api/gaps?symbol=AAPL&to=%2B5|400|digits only
/api/gaps?symbol=AAPL&from=5%0D|400|control character
/api/candles?symbol=AAPL&interval=5q|400|not an interval
/api/candles?symbol=AAPL&interval=8d|400|from 1s to 7d
/api/candles?symbol=AAPL&interval=|400|not an interval
/api/trades?symbol=AAPL&from=2023-11-14T22:13:20|400|ISO 8601 time with a zone
/api/trades?symbol=AAPL&to=2023-02-30|400|ISO 8601
/api/trades?symbol=AAPL&times=rfc|400|times must be ms
/api/trades?symbol=AAPL&format=xml|400|format must be json
/api/candles?symbol=AAPL&interval=1h&tz=America/New_York|400|tz applies to day candles
/api/candles?symbol=AAPL&interval=1d&tz=Mars/Olympus|400|unknown time zone
/api/candles?symbol=AAPL&interval=1d&tz=../../etc/passwd|400|not a time zone name
/api/trades?symbol=AAPL&tz=UTC|400|unknown parameter
/api/averages?symbol=AAPL&interval=1s|400|unknown parameter 'interval'
/api/symbols?symbol=AAPL|400|unknown parameter 'symbol'
/api/nothing|404|no such endpoint
/no/such/page|404|not found
/ws|400|WebSocket endpoint
EOF
# a parameter too long for the server's buffer is refused, never skipped
long=$(printf '9%.0s' $(seq 1 1100))
for path in "/api/trades?symbol=AAPL&limit=1$long" "/api/trades?symbol=A$long" "/api/trades?symbol=AAPL&x$long=1"; do
  code=$(get "$path")
  [ "$code" = 400 ] && grep -q 'longer than 1023 bytes' "$TMP/body" ||
    fail "over-long parameter (${path:0:40}...): status $code, want 400 ($(head -c 200 "$TMP/body"))"
done
code=$(get "/api/trades?symbol=AAPL&limit=100")
[ "$code" = 200 ] || fail "limit=100 (the cap) refused: $code"
# a decoded %00 never reaches the API (libwebsockets drops the request)
code=$(get "/api/trades?symbol=AAPL%00") || true
[ "$code" != 200 ] || fail "symbol=AAPL%00 was answered 200: $(head -c 200 "$TMP/body")"
# valid numbers still work, leading zeros included: AAPL's rows as the
# database holds them (7 newest of the range, oldest first)
code=$(get "/api/trades?symbol=AAPL&from=1700000000000&to=1700000059750&limit=007")
[ "$code" = 200 ] || fail "a valid request with limit=007 refused: $code $(head -c 200 "$TMP/body")"
want=$(sqlite3 "$DB" "SELECT group_concat(ts) FROM (SELECT ts FROM (SELECT trade_timestamp AS ts, uuid FROM trades
  WHERE symbol='AAPL' AND trade_timestamp >= 1700000000000 AND trade_timestamp < 1700000059750
  ORDER BY trade_timestamp DESC, uuid DESC LIMIT 7) ORDER BY ts, uuid)")
got=$($PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print(",".join(str(t["ts"]) for t in d["trades"]))' "$TMP/body")
[ "$got" = "$want" ] && [ -n "$got" ] || fail "limit=007 from/to: got $got, want $want"
code=$(get "/api/trades?symbol=NOSUCH")
[ "$code" = 200 ] && $PY -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(d["count"] != 0 or d["trades"] != [])' "$TMP/body" ||
  fail "unknown symbol should give an empty list"
code=$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST "$BASE/api/symbols")
[ "$code" = 405 ] || fail "POST should be refused with 405, got $code"
ok "bad parameters get 400 JSON errors, unknown paths 404, the limit cap holds"

# ---- the page and its files ----
for p in / /app.js /style.css /lightweight-charts.js; do
  code=$(get "$p"); [ "$code" = 200 ] || fail "$p: $code"
  cmp -s "$TMP/body" "$TP_SOURCE_DIR/web/${p#/}" 2>/dev/null || [ "$p" = / ] || [ "$p" = /lightweight-charts.js ] ||
    fail "$p differs from web/${p#/}"
done
get / >/dev/null; cmp -s "$TMP/body" "$TP_SOURCE_DIR/web/index.html" || fail "/ is not web/index.html"
get /lightweight-charts.js >/dev/null
cmp -s "$TMP/body" "$TP_SOURCE_DIR/web/node_modules/lightweight-charts/dist/lightweight-charts.standalone.production.js" ||
  fail "/lightweight-charts.js is not the npm bundle"
ok "dashboard files served byte for byte"

# ---- /healthz and /metrics ----
[ "$(curl -s "$BASE/healthz")" = ok ] || fail "/healthz"
curl -s "$BASE/metrics" >"$TMP/metrics.txt"
promtool check metrics <"$TMP/metrics.txt" || fail "promtool rejects /metrics"
got=$(grep '^tickpipe_http_requests_total{route="/api/trades",code="400"}' "$TMP/metrics.txt" | awk '{print $2}')
[ "$got" = "$n400" ] || fail "metrics count $got bad /api/trades requests, this test sent $n400"
grep -q '^tickpipe_http_request_duration_seconds_bucket{route="/api/trades",le="+Inf"}' "$TMP/metrics.txt" ||
  fail "no latency histogram for /api/trades"
ok "/healthz ok; /metrics passes promtool and counts $n400 bad trade requests"

# ---- HEAD: the status and headers a GET gets, no body ----
head_req() { # PATH -> headers in $TMP/head.hdr, status echoed; curl -I sends HEAD
  curl -s -I -o "$TMP/head.hdr" -w '%{http_code}' "$BASE$1"
}
hdr() { # NAME -> that header's value in $TMP/head.hdr
  tr -d '\r' <"$TMP/head.hdr" | awk -v n="$1" 'index(tolower($0), tolower(n) ":") == 1 { sub(/^[^:]*:[ \t]*/, ""); print }'
}
for p in / /app.js /api/symbols "/api/trades?symbol=AAPL&limit=5" "/api/candles?symbol=AAPL&interval=1s&limit=10" \
  "/api/averages?symbol=AAPL" /healthz /readyz; do
  code=$(head_req "$p")
  [ "$code" = 200 ] || fail "HEAD $p: status $code, want 200"
  gcode=$(curl -s -D "$TMP/get.hdr" -o "$TMP/body" -w '%{http_code}' "$BASE$p")
  [ "$gcode" = 200 ] || fail "GET $p after HEAD: status $gcode"
  len=$(hdr content-length)
  size=$(stat -c %s "$TMP/body")
  [ -n "$len" ] && [ "$len" = "$size" ] && [ "$size" -gt 0 ] ||
    fail "HEAD $p: Content-Length '$len', the GET body has $size bytes"
  want=$(tr -d '\r' <"$TMP/get.hdr" | grep -i '^content-type:')
  [ -n "$want" ] && [ "$(tr -d '\r' <"$TMP/head.hdr" | grep -i '^content-type:')" = "$want" ] ||
    fail "HEAD $p: Content-Type differs from GET's ($want): $(cat "$TMP/head.hdr")"
done
code=$(head_req /metrics) # its body grows with every request: the status, type and a length
[ "$code" = 200 ] && hdr content-type | grep -q '^text/plain; version=0.0.4' && [ "$(hdr content-length)" -gt 1000 ] ||
  fail "HEAD /metrics: $code $(cat "$TMP/head.hdr")"
code=$(curl -s --head -o "$TMP/head.hdr" -w '%{http_code}' "$BASE/no/such/page")
[ "$code" = 404 ] && hdr content-type | grep -q '^application/json' || fail "HEAD of an unknown path: $code, want 404 JSON"
code=$(head_req "/api/candles?symbol=AAPL&interval=7q")
[ "$code" = 400 ] || fail "HEAD /api/candles with a bad interval: $code, want 400 as GET gets"
code=$(curl -s -o "$TMP/body" -D "$TMP/head.hdr" -w '%{http_code}' -X POST "$BASE/api/symbols")
[ "$code" = 405 ] && [ "$(hdr allow)" = "GET, HEAD" ] || fail "POST: $code, want 405 with Allow: GET, HEAD"
# on one kept-alive connection a HEAD answer ends at its blank line (no
# body bytes), so the GET after two of them is answered in full right behind
$PY - "${BASE##*:}" <<'PYEOF' || fail "HEAD sent body bytes or broke the connection"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
for method, path, extra in [("HEAD", "/app.js", ""), ("HEAD", "/api/symbols", ""), ("GET", "/healthz", "Connection: close\r\n")]:
    s.sendall(f"{method} {path} HTTP/1.1\r\nHost: t\r\n{extra}\r\n".encode())
data = b""
while True:
    c = s.recv(65536)
    if not c:
        break
    data += c
parts = data.split(b"\r\n\r\n")
assert len(parts) == 4 and parts[3] == b"ok\n", f"want three header blocks, then ok: {data!r}"
for i, p in enumerate(parts[:3]):
    assert p.startswith(b"HTTP/1.1 200"), f"response {i}: {p!r}"
PYEOF
ok "HEAD: GET's status, Content-Type and Content-Length, no body (/, /api/*, /metrics, /healthz, /readyz); 404, 400 as GET; POST 405 allows GET, HEAD"

# ---- /ws: live push from polling, filtered by symbol ----
PORT=${BASE##*:}
$PY "$TP_SOURCE_DIR/tests/lib/ws_client.py" 127.0.0.1 "$PORT" MSFT >"$TMP/ws.out" 2>"$TMP/ws.err" &
WSPID=$!
on_exit "kill $WSPID 2>/dev/null"
bg writer "$TP_TOOLS_DIR/http_seed" "sqlite:$DB" live 60
wait $WSPID || fail "ws client failed: $(cat "$TMP/ws.err")"
kill "$PID_writer" 2>/dev/null; wait "$PID_writer" 2>/dev/null || true
$PY - "$TMP/ws.out" "$DB" <<'EOF' || fail "/ws push wrong"
import json, subprocess, sys
got = json.load(open(sys.argv[1]))
for t in ["trades", "candles", "averages", "stats"]:
    assert got["types"].get(t), f"no {t} message: {got['types']}"
assert list(got["symbols"]) == ["MSFT"], f"filter leaked other symbols: {list(got['symbols'])}"
ids = [t["id"] for t in got["trades"]]
assert len(ids) == len(set(ids)), "a trade was pushed twice"
# every pushed trade is a stored row with the same price
for t in got["trades"]:
    out = subprocess.run(["sqlite3", sys.argv[2], f"SELECT price, trade_timestamp FROM trades WHERE uuid='{t['id']}'"],
                         capture_output=True, text=True, check=True).stdout.strip()
    p, ts = out.split("|")
    assert abs(float(p) - t["price"]) < 1e-9 and int(ts) == t["ts"], (t, out)
print(f"{len(ids)} live MSFT trades, all stored rows")
EOF
ok "/ws pushes new trades, candles, averages and stats, only for the chosen symbol"

# ---- a store that cannot be opened: 503 JSON, the server keeps serving ----
printf 'not a database, but a file of text long enough to have a header SQLite reads\n' >"$TMP/bad.db"
start_serve bad --store "sqlite:$TMP/bad.db" --poll-interval 0
BAD=$URL
code=$(curl -s -o "$TMP/body" -w '%{http_code}' "$BAD/api/symbols")
[ "$code" = 503 ] || fail "unopenable store: status $code, want 503"
$PY -c 'import json,sys; assert "store unavailable" in json.load(open(sys.argv[1]))["error"]' "$TMP/body" ||
  fail "503 body is not a JSON error: $(cat "$TMP/body")"
[ "$(curl -s "$BAD/healthz")" = ok ] || fail "/healthz should still answer"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$BAD/")" = 200 ] || fail "the page should still be served"
ok "a store that cannot be opened gives 503 JSON; page and health still served"

# ---- a store that comes back is used again without a restart ----
printf 'not a database, but a file of text long enough to have a header SQLite reads\n' >"$TMP/later.db"
start_serve later --store "sqlite:$TMP/later.db" --poll-interval 0
LATER=$URL
[ "$(curl -s -o /dev/null -w '%{http_code}' "$LATER/api/symbols")" = 503 ] || fail "unopenable store should give 503"
sqlite3 "$TMP/later.db.new" 'CREATE TABLE t(a); DROP TABLE t' && mv "$TMP/later.db.new" "$TMP/later.db" # a database in its place
store_back() { [ "$(curl -s -o /dev/null -w '%{http_code}' "$LATER/api/symbols")" = 200 ]; }
wait_for 30 store_back
ok "the store is reopened once it can be (no restart)"

# ---- clean stop on SIGTERM ----
kill -TERM "$PID_serve"
wait "$PID_serve" || fail "serve exited with $? on SIGTERM"
ok "serve stops cleanly on SIGTERM"
