#!/usr/bin/env bash
# feed_coinbase.sh - the Coinbase feed against the simulator's Coinbase
# personality (simulate --feed coinbase), no token anywhere:
#  1. the simulator's own oracle: a recording of what it sent has every
#     trade id of each product from 1 up, less exactly the id ranges of the
#     holes it logged after forced drops, and a last_match re-sent the
#     latest trade after each reconnect;
#  2. run stores every trade the simulator sent exactly once, through
#     drops (--drop-every), repeated messages (--repeat-rate) and the
#     last_match of every subscribe (a repeat, neither stored twice nor a
#     gap), and its gap rows are exactly the simulator's holes, by id range;
#  2b. cut messages (--malformed-rate) are counted malformed, none unknown;
#  3. heartbeats (one a second per product) keep a quiet connection alive
#     with --stale-timeout 3 (and a subscribed client outlives the 5 s
#     subscribe deadline);
#  4. the simulator closes a client that does not subscribe within 5 s;
#  5. symbols in the wrong form are a usage error naming the feed.
source "$TP_SOURCE_DIR/tests/lib/common.sh"
need sqlite3:sqlite3
IDS="$TP_SOURCE_DIR/tests/lib/venue_holes.py"
SYMS=BTC-USD,eth-usd,COINBASE:SOL-USD

# 1. the oracle
start_sim oracle --feed coinbase --rate 600 --drop-every 0.7 --repeat-rate 0.2 --holes-log "$TMP/oracle.holes"
timeout 120 "$TICKPIPE" capture --feed coinbase --ws-url "ws://127.0.0.1:$SIM_PORT/" --symbols "$SYMS" \
  --max-trades 1500 --max-reconnects 20 --record "$TMP/oracle.rec" >/dev/null 2>"$TMP/oracle.err" \
  || fail "capture failed: $(tail -5 "$TMP/oracle.err")"
/usr/bin/python3 "$IDS" "$TMP/oracle.holes" "$TMP/oracle.rec" >"$TMP/oracle.ids" \
  || fail "the simulator's trade ids are not consecutive less its holes"
[ "$(wc -l <"$TMP/oracle.ids")" = 3 ] || fail "not three products: $(cat "$TMP/oracle.ids")"
/usr/bin/python3 - "$TMP/oracle.rec" <<'PY' || fail "no last_match repeating a trade sent before"
import json, sys
raw = open(sys.argv[1], "rb").read()
pos, seen, repeats = 7, {}, 0
while pos < len(raw):
    nl = raw.index(b"\n", pos)
    n = int(raw[pos:nl].split()[1])
    m = json.loads(raw[nl + 1:nl + 1 + n])
    pos = nl + 1 + n + 1
    if m.get("type") in ("match", "last_match"):
        key = (m["product_id"], m["trade_id"])
        if m["type"] == "last_match":
            # the product's latest trade already sent, the same trade as its match
            assert seen.get(key) == (m["price"], m["size"], m["time"]), m
            assert key[1] == max(i for p, i in seen if p == key[0]), m
            repeats += 1
        else:
            seen[key] = (m["price"], m["size"], m["time"])
    elif m.get("type") == "heartbeat":
        assert m["last_trade_id"] >= 0 and m["sequence"] > 0, m
assert repeats > 0
print(repeats)
PY
ok "simulate --feed coinbase: ids consecutive per product, less exactly the logged holes ($(wc -l <"$TMP/oracle.holes") holes); last_match repeats the latest trade sent"

# 2. run stores each trade once; gap rows = holes by id range
N=3000
start_sim drops --feed coinbase --rate 800 --max-trades $N --drop-every 0.8 --repeat-rate 0.2 \
  --holes-log "$TMP/drops.holes"
bg run "$TICKPIPE" run --feed coinbase --ws-url "ws://127.0.0.1:$SIM_PORT/" --symbols "$SYMS" \
  --store "sqlite:$TMP/run.db" --no-http --max-reconnects 50
stored() { sqlite3 "$TMP/run.db" 'SELECT count(*) FROM trades' 2>/dev/null || echo 0; }
stored_at_least() { [ "$(stored)" -ge "$1" ]; }
wait_for 120 stored_at_least $N
kill -INT "$PID_run"
wait "$PID_run" || fail "run failed: $(tail -5 "$TMP/run.log")"
wait "$PID_drops" || true
sent=$(sed -n 's/.*stopped: .* trades=\([0-9]*\) .*/\1/p' "$TMP/drops.log")
repeats=$(sed -n 's/.*stopped: .* repeats=\([0-9]*\).*/\1/p' "$TMP/drops.log")
drops=$(sed -n 's/.*stopped: .* drops=\([0-9]*\) .*/\1/p' "$TMP/drops.log")
[ "$sent" = $N ] && [ "$repeats" -gt 0 ] && [ "$drops" -gt 0 ] \
  || fail "the faults did not happen: sent=$sent repeats=$repeats drops=$drops"
[ "$(stored)" = $N ] || fail "stored $(stored) trades, the simulator sent $N"
[ "$(sqlite3 "$TMP/run.db" "SELECT count(*) FROM trades WHERE symbol NOT IN ('COINBASE:BTC-USD','COINBASE:ETH-USD','COINBASE:SOL-USD')")" = 0 ] \
  || fail "symbols not in the stored form: $(sqlite3 "$TMP/run.db" 'SELECT DISTINCT symbol FROM trades')"
sqlite3 -separator ' ' "$TMP/run.db" 'SELECT symbol, uuid FROM trades' >"$TMP/run.uuids"
/usr/bin/python3 "$IDS" "$TMP/drops.holes" "$TMP/run.uuids" >"$TMP/run.uuid.check" ||
  fail "the stored ids are not the venue ids of the trades sent"
ok "every stored id is the venue id of one trade id sent, each once: $(tr '\n' ' ' <"$TMP/run.uuid.check")"
sqlite3 -separator ' ' "$TMP/run.db" 'SELECT symbol, from_trade_id, to_trade_id FROM feed_gaps' | sort >"$TMP/run.gaps"
/usr/bin/python3 -c 'import json, sys
for l in open(sys.argv[1]): h = json.loads(l); print(h["symbol"], h["from_id"], h["to_id"])' "$TMP/drops.holes" \
  | sort >"$TMP/want.gaps"
[ -s "$TMP/want.gaps" ] && diff "$TMP/want.gaps" "$TMP/run.gaps" >"$TMP/gaps.diff" \
  || fail "the gap rows are not the simulator's holes by id range: $(head -10 "$TMP/gaps.diff")"
/usr/bin/python3 "$TP_SOURCE_DIR/tests/lib/holes_check.py" "$TMP/drops.holes" "$TMP/run.log" >/dev/null \
  || fail "run's gaps are not the simulator's holes"
dups=$(sed -n 's/.* duplicates=\([0-9]*\) .*/\1/p' "$TMP/run.log" | tail -1)
[ "${dups:-0}" -gt 0 ] || fail "run counted no repeated message: $(grep -m1 'duplicates=' "$TMP/run.log")"
grep -q 'no token needed for coinbase; connecting to ws://127.0.0.1' "$TMP/run.log" \
  || fail "run did not say it needs no token: $(head -3 "$TMP/run.log")"
ok "run --feed coinbase stored all $N trades once through $drops drops, $repeats repeats and the last_match of each subscribe ($dups repeated messages dropped); $(wc -l <"$TMP/run.gaps") gap rows = the holes by id range"

# 2b. malformed messages (--malformed-rate, a cut message): each one is
# counted malformed, none unknown, and the rest arrive
start_sim bad --feed coinbase --rate 800 --malformed-rate 0.1
timeout 60 "$TICKPIPE" capture --feed coinbase --ws-url "ws://127.0.0.1:$SIM_PORT/" --symbols BTC-USD \
  --max-trades 500 >/dev/null 2>"$TMP/bad.err" || fail "capture failed: $(tail -5 "$TMP/bad.err")"
kill -INT "$PID_bad"
wait "$PID_bad" || true
sim_bad=$(sed -n 's/.*stopped: .* malformed=\([0-9]*\) .*/\1/p' "$TMP/bad.log")
cap_bad=$(summary_field "$TMP/bad.err" malformed)
[ "${sim_bad:-0}" -gt 0 ] && [ "$cap_bad" -ge 1 ] && [ "$cap_bad" -le "$sim_bad" ] \
  && [ "$(summary_field "$TMP/bad.err" unknown)" = 0 ] && [ "$(summary_field "$TMP/bad.err" trades)" = 500 ] \
  || fail "malformed: simulator $sim_bad, capture $(grep summary "$TMP/bad.err")"
ok "--malformed-rate: $cap_bad malformed messages skipped and counted, none unknown"

# 3. heartbeats keep a quiet connection alive (a trade every 5 s, --stale-timeout 3)
start_sim quiet --feed coinbase --rate 0.2
bg runq "$TICKPIPE" run --feed coinbase --ws-url "ws://127.0.0.1:$SIM_PORT/" --symbols BTC-USD \
  --store "sqlite:$TMP/quiet.db" --no-http --stale-timeout 3
qstored_at_least() { [ "$(sqlite3 "$TMP/quiet.db" 'SELECT count(*) FROM trades' 2>/dev/null || echo 0)" -ge "$1" ]; }
wait_for 60 qstored_at_least 2
kill -INT "$PID_runq"
wait "$PID_runq" || fail "run failed: $(tail -5 "$TMP/runq.log")"
kill -INT "$PID_quiet"
wait "$PID_quiet" || true
[ "$(summary_field "$TMP/runq.log" reconnects)" = 0 ] && ! grep -q 'no message from' "$TMP/runq.log" \
  || fail "the heartbeats did not keep the connection: $(grep -m3 'no message from\|summary' "$TMP/runq.log")"
hb=$(sed -n 's/.*stopped: .* pings=\([0-9]*\) .*/\1/p' "$TMP/quiet.log")
[ "$(summary_field "$TMP/runq.log" pings)" -ge 4 ] && [ "${hb:-0}" -ge 4 ] \
  || fail "too few heartbeats: run $(summary_field "$TMP/runq.log" pings), simulator ${hb:-none}"
ok "heartbeats feed the silence watchdog: no reconnect with trades 5 s apart and --stale-timeout 3"

# 4. the subscribe deadline: a client that sends nothing is closed after 5 s
start_sim idle --feed coinbase --rate 10
read -r secs code < <(/usr/bin/python3 "$TP_SOURCE_DIR/tests/lib/ws_idle.py" "$SIM_PORT" /) \
  || fail "the idle client was not closed"
/usr/bin/python3 -c 'import sys; t = float(sys.argv[1]); sys.exit(not 4.9 <= t <= 20)' "$secs" && [ "$code" = 1008 ] \
  || fail "closed after $secs s with code $code, not after 5 s with 1008"
grep -q 'did not subscribe within 5 s; closing it' "$TMP/idle.log" || fail "no deadline in the log: $(tail -3 "$TMP/idle.log")"
ok "a client that does not subscribe within 5 s is closed (after $secs s, code $code)"

# 5. usage
code=0
"$TICKPIPE" run --feed coinbase --symbols BTC/USD --store "sqlite:$TMP/u.db" --no-http 2>"$TMP/u.err" || code=$?
[ "$code" = 2 ] && grep -q 'coinbase: not a Coinbase product' "$TMP/u.err" \
  || fail "a bad symbol: rc=$code $(cat "$TMP/u.err")"
[ ! -e "$TMP/u.db" ] || fail "a usage error wrote the store"
ok "a symbol not in Coinbase's form is a usage error naming the feed"
