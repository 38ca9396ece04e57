#!/usr/bin/env bash
# simulate_protocol.sh - the simulator's WebSocket protocol seen by a raw
# client (sim_protocol.py: unsubscribe, error messages for bad client
# messages, batch limit, pings), and --max-trades: simulate sends exactly N
# trades and exits 0 by itself once its client has gone.
source "$TP_SOURCE_DIR/tests/lib/common.sh"

start_sim proto --rate 2000 --batch 4 --ping-interval 0.1
/usr/bin/python3 "$TP_SOURCE_DIR/tests/integration/sim_protocol.py" "$SIM_PORT" 4 || fail "protocol check failed"

start_sim max --rate 0 --batch 7 --max-trades 1000
"$TICKPIPE" capture --ws-url "ws://127.0.0.1:$SIM_PORT" --token t --symbols AAPL,MSFT --max-reconnects 0 \
  --stale-timeout 2 >"$TMP/max.jsonl" 2>"$TMP/max.err" &
cap=$!
on_exit "kill $cap 2>/dev/null"
lines() { [ "$(wc -l <"$TMP/max.jsonl")" -ge 1000 ]; }
wait_for 30 lines
kill -TERM "$cap"
wait "$cap" || true
wait "$PID_max" || fail "simulate --max-trades did not exit 0: $(tail -3 "$TMP/max.log")"
grep -q 'stopped: .* trades=1000 ' "$TMP/max.log" || fail "simulate counters: $(tail -1 "$TMP/max.log")"
sleep 0.2
[ "$(wc -l <"$TMP/max.jsonl")" = 1000 ] || fail "more than 1000 trades were sent"
ok "--max-trades 1000: exactly 1000 trades, then simulate exits by itself when its client has gone"
