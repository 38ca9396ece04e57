#!/usr/bin/env bash
# feed_holes.sh - the simulator's holes log (simulate --holes-log) is the
# oracle of the gaps: after forced drops and silences, the gaps capture
# reports are exactly the holes the simulator made (symbol, from, to,
# reason), and a stream without faults has no hole.
source "$TP_SOURCE_DIR/tests/lib/common.sh"

max_ts() { /usr/bin/python3 -c 'import json,sys; print(max(json.loads(l)["t"] for l in open(sys.argv[1])))' "$1"; }

start_sim drop --rate 400 --drop-every 0.7 --holes-log "$TMP/drop.holes"
timeout 120 "$TICKPIPE" capture --ws-url "ws://127.0.0.1:$SIM_PORT" --token t --symbols AAPL,MSFT,BINANCE:BTCUSDT \
  --max-trades 1500 --max-reconnects 20 >"$TMP/drop.jsonl" 2>"$TMP/drop.err" || fail "capture failed: $(tail -5 "$TMP/drop.err")"
/usr/bin/python3 "$TP_SOURCE_DIR/tests/lib/holes_check.py" "$TMP/drop.holes" "$TMP/drop.err" "$(max_ts "$TMP/drop.jsonl")" \
  || fail "capture's gaps after drops are not the simulator's holes"
ok "--drop-every: capture's gaps are the simulator's holes"

start_sim silent --rate 300 --silent-after 0.6 --ping-interval 0 --holes-log "$TMP/silent.holes"
timeout 120 "$TICKPIPE" capture --ws-url "ws://127.0.0.1:$SIM_PORT" --token t --symbols AAPL,MSFT --max-trades 500 \
  --stale-timeout 0.5 --max-reconnects 20 >"$TMP/silent.jsonl" 2>"$TMP/silent.err" \
  || fail "capture failed: $(tail -5 "$TMP/silent.err")"
/usr/bin/python3 "$TP_SOURCE_DIR/tests/lib/holes_check.py" "$TMP/silent.holes" "$TMP/silent.err" "$(max_ts "$TMP/silent.jsonl")" \
  || fail "capture's gaps after silences are not the simulator's holes"
grep -q '"reason":"silence"' "$TMP/silent.holes" || fail "no silence hole: $(head -3 "$TMP/silent.holes")"
ok "--silent-after: the holes say silence, and match"

start_sim calm --rate 1000 --holes-log "$TMP/calm.holes"
timeout 60 "$TICKPIPE" capture --ws-url "ws://127.0.0.1:$SIM_PORT" --token t --symbols AAPL --max-trades 500 \
  --max-reconnects 0 >/dev/null 2>"$TMP/calm.err" || fail "capture failed: $(tail -5 "$TMP/calm.err")"
[ ! -s "$TMP/calm.holes" ] || fail "holes without a fault: $(head -3 "$TMP/calm.holes")"
ok "no fault, no hole"

code=0
"$TICKPIPE" simulate --listen 127.0.0.1:0 --holes-log /nonexistent/dir/h.jsonl 2>"$TMP/bad.err" || code=$?
[ "$code" != 0 ] && grep -q 'holes log' "$TMP/bad.err" || fail "unwritable holes log: rc=$code $(cat "$TMP/bad.err")"
ok "an unwritable holes log is a clear error"
