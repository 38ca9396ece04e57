#!/usr/bin/env bash
# feed_binance.sh - the Binance feed against the simulator's Binance
# personality (simulate --feed binance), no token anywhere:
#  1. the simulator's own oracle: a recording of what it sent has every
#     trade id of each symbol from 1 up, less exactly the id ranges of the
#     holes it logged after forced drops (and repeats are repeats);
#  2. run stores every trade the simulator sent exactly once, through
#     drops (--drop-every) and repeated messages (--repeat-rate), and
#     reports as gaps exactly the simulator's holes;
#  2b. WebSocket pings (the venue's keep-alive) feed the silence watchdog:
#     trades 5 s apart with --stale-timeout 1 keep one connection;
#  3. --lifetime closes connections as the venue does after 24 h, and run
#     goes on storing every trade;
#  4. symbols in the wrong form are a usage error naming the feed.
source "$TP_SOURCE_DIR/tests/lib/common.sh"
need sqlite3:sqlite3
IDS="$TP_SOURCE_DIR/tests/lib/venue_holes.py"
SYMS=BTCUSDT,ethusdt,BINANCE:SOLUSDT

# 1. the oracle
start_sim oracle --feed binance --rate 600 --drop-every 0.7 --repeat-rate 0.2 --holes-log "$TMP/oracle.holes"
timeout 120 "$TICKPIPE" capture --feed binance --ws-url "ws://127.0.0.1:$SIM_PORT/ws" --symbols "$SYMS" \
  --max-trades 1500 --max-reconnects 20 --record "$TMP/oracle.rec" >/dev/null 2>"$TMP/oracle.err" \
  || fail "capture failed: $(tail -5 "$TMP/oracle.err")"
/usr/bin/python3 "$IDS" "$TMP/oracle.holes" "$TMP/oracle.rec" >"$TMP/oracle.ids" \
  || fail "the simulator's trade ids are not consecutive less its holes"
[ "$(wc -l <"$TMP/oracle.ids")" = 3 ] || fail "not three symbols: $(cat "$TMP/oracle.ids")"
ok "simulate --feed binance: ids consecutive per symbol, less exactly the logged holes ($(wc -l <"$TMP/oracle.holes") holes)"

# 2. run stores each trade once
N=3000
start_sim drops --feed binance --rate 800 --max-trades $N --drop-every 0.8 --repeat-rate 0.2 --ping-interval 0.3 \
  --holes-log "$TMP/drops.holes"
bg run "$TICKPIPE" run --feed binance --ws-url "ws://127.0.0.1:$SIM_PORT/ws" --symbols "$SYMS" \
  --store "sqlite:$TMP/run.db" --no-http --max-reconnects 50
stored() { sqlite3 "$TMP/run.db" 'SELECT count(*) FROM trades' 2>/dev/null || echo 0; }
stored_at_least() { [ "$(stored)" -ge "$1" ]; }
wait_for 120 stored_at_least $N
kill -INT "$PID_run"
wait "$PID_run" || fail "run failed: $(tail -5 "$TMP/run.log")"
wait "$PID_drops" || true
grep -q '^simulate: .*stopped\|stopped: connections=' "$TMP/drops.log" || fail "no simulator summary: $(tail -3 "$TMP/drops.log")"
sent=$(sed -n 's/.*stopped: .* trades=\([0-9]*\) .*/\1/p' "$TMP/drops.log")
repeats=$(sed -n 's/.*stopped: .* repeats=\([0-9]*\).*/\1/p' "$TMP/drops.log")
drops=$(sed -n 's/.*stopped: .* drops=\([0-9]*\) .*/\1/p' "$TMP/drops.log")
[ "$sent" = $N ] && [ "$repeats" -gt 0 ] && [ "$drops" -gt 0 ] \
  || fail "the faults did not happen: sent=$sent repeats=$repeats drops=$drops"
[ "$(stored)" = $N ] || fail "stored $(stored) trades, the simulator sent $N"
[ "$(sqlite3 "$TMP/run.db" "SELECT count(*) FROM trades WHERE symbol NOT IN ('BINANCE:BTCUSDT','BINANCE:ETHUSDT','BINANCE:SOLUSDT')")" = 0 ] \
  || fail "symbols not in the stored form: $(sqlite3 "$TMP/run.db" 'SELECT DISTINCT symbol FROM trades')"
# with the venue's trade id stored, the exact set: ids consecutive less the holes
if sqlite3 "$TMP/run.db" 'PRAGMA table_info(trades)' | grep -q '|trade_id|'; then
  sqlite3 -separator ' ' "$TMP/run.db" 'SELECT symbol, trade_id FROM trades' >"$TMP/run.ids"
  /usr/bin/python3 "$IDS" "$TMP/drops.holes" "$TMP/run.ids" >/dev/null || fail "stored ids are not the ones sent"
  ok "the stored trade ids are exactly the ids sent"
fi
# each stored uuid is the venue id of (symbol, trade id) of exactly the ids sent
sqlite3 -separator ' ' "$TMP/run.db" 'SELECT symbol, uuid FROM trades' >"$TMP/run.uuids"
/usr/bin/python3 "$IDS" "$TMP/drops.holes" "$TMP/run.uuids" >"$TMP/run.uuid.check" ||
  fail "the stored ids are not the venue ids of the trades sent"
ok "every stored id is the venue id of one trade id sent, each once: $(tr '\n' ' ' <"$TMP/run.uuid.check")"
/usr/bin/python3 "$TP_SOURCE_DIR/tests/lib/holes_check.py" "$TMP/drops.holes" "$TMP/run.log" \
  || fail "run's gaps are not the simulator's holes"
pings=$(sed -n 's/.*stopped: .* pings=\([0-9]*\) .*/\1/p' "$TMP/drops.log")
[ "${pings:-0}" -gt 0 ] || fail "no WebSocket ping sent: $(tail -1 "$TMP/drops.log")"
grep -q 'no token needed for binance; connecting to ws://127.0.0.1' "$TMP/run.log" \
  || fail "run did not say it needs no token: $(head -3 "$TMP/run.log")"
ok "run --feed binance stored all $N trades once through $drops drops and $repeats repeats; gaps = holes; $pings pings"

# 2b. pings keep a quiet connection alive (--stale-timeout 1, a trade every 5 s)
start_sim quiet --feed binance --rate 0.2 --ping-interval 0.3
bg runq "$TICKPIPE" run --feed binance --ws-url "ws://127.0.0.1:$SIM_PORT/ws" --symbols BTCUSDT \
  --store "sqlite:$TMP/quiet.db" --no-http --stale-timeout 1
qstored_at_least() { [ "$(sqlite3 "$TMP/quiet.db" 'SELECT count(*) FROM trades' 2>/dev/null || echo 0)" -ge "$1" ]; }
wait_for 60 qstored_at_least 2
kill -INT "$PID_runq"
wait "$PID_runq" || fail "run failed: $(tail -5 "$TMP/runq.log")"
[ "$(summary_field "$TMP/runq.log" reconnects)" = 0 ] && ! grep -q 'no message from' "$TMP/runq.log" \
  || fail "the pings did not keep the connection: $(grep -m3 'no message from\|summary' "$TMP/runq.log")"
ok "WebSocket pings feed the silence watchdog: no reconnect with trades 5 s apart and --stale-timeout 1"

# 2b'. malformed messages (--malformed-rate): each one is counted malformed,
# none unknown, and the rest arrive
start_sim bad --feed binance --rate 800 --malformed-rate 0.1
timeout 60 "$TICKPIPE" capture --feed binance --ws-url "ws://127.0.0.1:$SIM_PORT/ws" --symbols BTCUSDT \
  --max-trades 500 >/dev/null 2>"$TMP/bad.err" || fail "capture failed: $(tail -5 "$TMP/bad.err")"
kill -INT "$PID_bad"
wait "$PID_bad" || true
sim_bad=$(sed -n 's/.*stopped: .* malformed=\([0-9]*\) .*/\1/p' "$TMP/bad.log")
cap_bad=$(summary_field "$TMP/bad.err" malformed)
[ "${sim_bad:-0}" -gt 0 ] && [ "$cap_bad" -ge 1 ] && [ "$cap_bad" -le "$sim_bad" ] \
  && [ "$(summary_field "$TMP/bad.err" unknown)" = 0 ] && [ "$(summary_field "$TMP/bad.err" trades)" = 500 ] \
  || fail "malformed: simulator $sim_bad, capture $(grep summary "$TMP/bad.err")"
ok "--malformed-rate: $cap_bad malformed messages skipped and counted, none unknown"

# 2c. 1000 symbols on one connection: SUBSCRIBE messages of 200 streams, paced
# to Binance's 5 messages a second less one for pongs (4 a second: the
# five messages take at least a second)
syms=$(/usr/bin/python3 -c 'print(",".join("S%04dUSDT" % i for i in range(1000)))')
start_sim many --feed binance --rate 50 --log-level debug
bg capm "$TICKPIPE" capture --feed binance --ws-url "ws://127.0.0.1:$SIM_PORT/ws" --symbols "$syms" \
  --max-symbols-per-connection 0
subscribed() { [ "$(grep -c 'connection [0-9]* subscribed BINANCE:S[0-9]*USDT$' "$TMP/many.log")" -ge "$1" ]; }
wait_for 60 subscribed 1000
/usr/bin/python3 - "$TMP/many.log" <<'PY' || fail "subscriptions not paced: $(grep -c subscribed "$TMP/many.log") lines"
import datetime, re, sys
ts = [datetime.datetime.fromisoformat(m.group(1).replace("Z", "+00:00")).timestamp()
      for m in re.finditer(r"^(\S+) DEBUG .*connection \d+ subscribed BINANCE:S\d+USDT$", open(sys.argv[1]).read(), re.M)]
assert len(ts) == 1000, len(ts)
span = max(ts) - min(ts)
assert span >= 0.9, span
print("span %.2f s" % span)
PY
ok "1000 symbols subscribed in five paced messages on one connection"

# 3. the venue's connection lifetime
N=1500
start_sim life --feed binance --rate 600 --max-trades $N --lifetime 0.7 --holes-log "$TMP/life.holes"
bg runl "$TICKPIPE" run --feed binance --ws-url "ws://127.0.0.1:$SIM_PORT/ws" --symbols "$SYMS" \
  --store "sqlite:$TMP/life.db" --no-http --max-reconnects 50
lstored() { sqlite3 "$TMP/life.db" 'SELECT count(*) FROM trades' 2>/dev/null || echo 0; }
lstored_at_least() { [ "$(lstored)" -ge "$1" ]; }
wait_for 120 lstored_at_least $N
kill -INT "$PID_runl"
wait "$PID_runl" || fail "run failed: $(tail -5 "$TMP/runl.log")"
[ "$(lstored)" = $N ] || fail "stored $(lstored) trades, the simulator sent $N"
grep -q '"reason":"lifetime"' "$TMP/life.holes" || fail "no lifetime close: $(head -3 "$TMP/life.holes")"
grep -q 'reached its lifetime of 1 s\|reached its lifetime' "$TMP/life.log" || fail "no lifetime in the log"
ok "--lifetime: connections closed as the venue does; every trade stored once"

# 4. usage
code=0
"$TICKPIPE" run --feed binance --symbols BTC-USD --store "sqlite:$TMP/u.db" --no-http 2>"$TMP/u.err" || code=$?
[ "$code" = 2 ] && grep -q 'binance: not a Binance symbol' "$TMP/u.err" \
  || fail "a bad symbol: rc=$code $(cat "$TMP/u.err")"
[ ! -e "$TMP/u.db" ] || fail "a usage error wrote the store"
ok "a symbol not in Binance's form is a usage error naming the feed"
