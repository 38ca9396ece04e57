#!/usr/bin/env bash
# run_pipeline.sh - `tickpipe run` on its embedded defaults (built-in
# simulator, SQLite, HTTP): the dashboard address is printed, REST and
# /metrics answer while it runs, SIGINT drains and exits 0, and every trade
# the feed delivered is in the store exactly once (the store's own query is
# the oracle). A second run on the same store adds rows instead of
# overwriting the first run's (ids differ between runs). --max-trades stops
# by itself with exactly that many trades stored.
source "$TP_SOURCE_DIR/tests/lib/common.sh"
command -v sqlite3 >/dev/null || fail "sqlite3 CLI missing (scripts/install-deps.sh --test installs it)"
db="$TMP/data/tickpipe.db"

start_run() { # start_run NAME ARGS...: run in the background, wait for the dashboard line
  local name=$1; shift
  : >"$TMP/$name.log"
  "$TICKPIPE" run --store "sqlite:$db" --http 127.0.0.1:0 --symbols AAPL,MSFT,BINANCE:BTCUSDT \
    --sim-rate 400 --sim-batch 10 --emit-interval 0.2 "$@" >"$TMP/$name.out" 2>"$TMP/$name.log" &
  eval "PID_$name=$!"
  on_exit "kill -9 $! 2>/dev/null"
  wait_for 30 grep -q 'dashboard at http://127.0.0.1:[0-9]*/' "$TMP/$name.log"
  port=$(sed -n 's|.*dashboard at http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$TMP/$name.log" | head -1)
}
stop_run() { # stop_run NAME: SIGINT, expect exit 0
  local pid; eval "pid=\$PID_$1"
  kill -INT "$pid"
  local rc=0; wait "$pid" || rc=$?
  [ "$rc" = 0 ] || fail "run exited $rc after SIGINT: $(tail -20 "$TMP/$1.log")"
}
sq() { sqlite3 -batch -noheader "$db" "$1"; }
summary_field() { sed -n "s/.*summary: .*\\b$2=\\([0-9]*\\).*/\\1/p" "$TMP/$1.log" | tail -1; }

# --- run 1: live, with HTTP -------------------------------------------------
start_run r1
ok "dashboard address printed (port $port)"
wait_for 30 curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" # 200 once the feed is connected
wait_for 30 bash -c "curl -fsS 'http://127.0.0.1:$port/api/symbols' | grep -q BINANCE:BTCUSDT"
# AAPL too before reading its trades (the symbols arrive in any order)
wait_for 30 bash -c "curl -fsS 'http://127.0.0.1:$port/api/symbols' | grep -q '\"AAPL\"'"
curl -fsS "http://127.0.0.1:$port/api/trades?symbol=AAPL&limit=5" >"$TMP/trades.json" || fail "/api/trades"
/usr/bin/python3 - "$TMP/trades.json" <<'PY' || fail "bad /api/trades answer: $(head -c 400 "$TMP/trades.json")"
import json, sys
d = json.load(open(sys.argv[1]))
rows = d["trades"] if isinstance(d, dict) else d
assert 1 <= len(rows) <= 5, len(rows)
for r in rows:
    sym = r.get("symbol", r.get("s"))
    assert sym == "AAPL", r
PY
ok "REST answers with stored trades"
curl -fsS "http://127.0.0.1:$port/api/candles?symbol=AAPL&interval=1s" | grep '[0-9]' >/dev/null || fail "/api/candles empty"
curl -fsS "http://127.0.0.1:$port/metrics" >"$TMP/metrics.txt" || fail "/metrics"
grep -q '^tickpipe_ingest_trades_total{connection="0"} [1-9]' "$TMP/metrics.txt" || fail "no ingest counter in /metrics"
ok "/metrics counts ingested trades"
sleep 2
stop_run r1
ok "SIGINT drained and exited 0"

received=$(summary_field r1 trades)
stored=$(summary_field r1 stored)
[ -n "$received" ] && [ "$received" -gt 0 ] || fail "no trades received: $(grep summary "$TMP/r1.log")"
[ "$received" = "$stored" ] || fail "received $received trades but stored $stored"
n1=$(sq "SELECT count(*) FROM trades")
u1=$(sq "SELECT count(DISTINCT uuid) FROM trades")
[ "$n1" = "$received" ] || fail "store holds $n1 trades, the feed delivered $received"
[ "$u1" = "$n1" ] || fail "duplicate ids: $u1 distinct of $n1"
ok "every delivered trade stored once ($n1)"
[ "$(sq "SELECT count(*) FROM trades WHERE symbol NOT IN ('AAPL','MSFT','BINANCE:BTCUSDT')")" = 0 ] \
  || fail "trades of unsubscribed symbols"
nc=$(sq "SELECT count(*) FROM candles WHERE symbol='AAPL'")
[ "$nc" -gt 0 ] || fail "no candles"
na=$(sq "SELECT count(*) FROM running_averages_15_sec WHERE symbol='AAPL'")
[ "$na" -gt 0 ] || fail "no running averages"
ok "candles ($nc) and running averages ($na) stored"
# Every stored 1 s candle agrees with the trades it covers (the store's own
# aggregate is the oracle); the drain made every window final.
bad=$(sq "SELECT count(*) FROM candles c WHERE c.interval_s = 1 AND c.trade_count <>
  (SELECT count(*) FROM trades t WHERE t.symbol = c.symbol
     AND t.trade_timestamp >= c.start_ms AND t.trade_timestamp < c.start_ms + 1000)" 2>&1) || true
[ "$bad" = 0 ] || fail "candle trade counts disagree with stored trades: $bad"
ok "1 s candles agree with the stored trades"

# --- run 2: --max-trades, no HTTP, same store -------------------------------
"$TICKPIPE" run --store "sqlite:$db" --no-http --symbols AAPL --sim-rate 2000 --max-trades 500 \
  >"$TMP/r2.out" 2>"$TMP/r2.log" || fail "run --max-trades failed: $(tail -5 "$TMP/r2.log")"
n2=$(sq "SELECT count(*) FROM trades")
[ "$n2" = $((n1 + 500)) ] || fail "after a second run of 500 trades the store holds $n2, want $((n1 + 500))"
ok "second run added exactly 500 trades (ids do not collide across runs)"

# --- a bad flag and a bad store ---------------------------------------------
rc=0; "$TICKPIPE" run --sim-rate nope >/dev/null 2>"$TMP/bad.log" || rc=$?
[ "$rc" = 2 ] || fail "bad flag exit $rc"
grep -q -- '--sim-rate' "$TMP/bad.log" || fail "bad flag not named"
rc=0; "$TICKPIPE" run --store "nosuch:x" --no-http >/dev/null 2>"$TMP/bad2.log" || rc=$?
[ "$rc" = 2 ] || fail "unknown store: exit $rc, want 2 (usage error)"
grep -q "store URL 'nosuch:x' names no store" "$TMP/bad2.log" || fail "unknown store not explained: $(cat "$TMP/bad2.log")"
rc=0; "$TICKPIPE" run --store "sqlite:$TMP/bad3.db" --http 'no-port' >/dev/null 2>"$TMP/bad3.log" || rc=$?
[ "$rc" = 2 ] || fail "bad --http: exit $rc, want 2 (usage error)"
grep -q -- "--http 'no-port': expected ADDR:PORT" "$TMP/bad3.log" || fail "bad --http not explained: $(cat "$TMP/bad3.log")"
# a store that is down at start: exit 1 at once, saying which store and why
rc=0; "$TICKPIPE" run --store "postgresql://nobody@127.0.0.1:1/x" --no-http >/dev/null 2>"$TMP/bad4.log" || rc=$?
[ "$rc" = 1 ] || fail "store down at start: exit $rc, want 1"
grep -q 'PostgreSQL at 127.0.0.1:1: cannot connect' "$TMP/bad4.log" || fail "store down not explained: $(cat "$TMP/bad4.log")"
# the HTTP port taken by another program: exit 1, naming the port
/usr/bin/python3 -c 'import socket,time
s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(120)' >"$TMP/busy.port" &
busy_pid=$!
on_exit "kill $busy_pid 2>/dev/null"
for _ in $(seq 100); do [ -s "$TMP/busy.port" ] && break; sleep 0.1; done
busy=$(cat "$TMP/busy.port")
[ -n "$busy" ] || fail "could not hold a port for the port-in-use check"
rc=0; "$TICKPIPE" run --store "sqlite:$TMP/bad5.db" --http "127.0.0.1:$busy" >/dev/null 2>"$TMP/bad5.log" || rc=$?
kill "$busy_pid" 2>/dev/null || true
[ "$rc" = 1 ] || fail "port in use: exit $rc, want 1"
grep -q "cannot listen on 127.0.0.1:$busy: Address already in use" "$TMP/bad5.log" || fail "port in use not explained: $(cat "$TMP/bad5.log")"
ok "bad flag, unknown store, bad --http (2), store down and port in use (1) rejected with clear errors"
