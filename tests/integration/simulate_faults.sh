#!/usr/bin/env bash
# simulate_faults.sh - each fault flag of `tickpipe simulate` against
# `tickpipe capture`: a dropped connection is reconnected and resubscribed
# and trades continue; a silent one trips the watchdog; malformed frames are
# counted and skipped while every printed trade stays valid; injected error
# messages are counted without a reconnect; pings arrive at --ping-interval.
source "$TP_SOURCE_DIR/tests/lib/common.sh"

valid_trades() { # FILE N SYMBOLS...
  /usr/bin/python3 - "$@" <<'PY'
import json, sys
path, n, syms = sys.argv[1], int(sys.argv[2]), set(sys.argv[3:])
lines = open(path).read().splitlines()
assert len(lines) == n, (len(lines), n)
for l in lines:
    t = json.loads(l)
    assert t["s"] in syms and t["p"] > 0 and t["t"] > 1.6e12, t
PY
}

# --drop-every: reconnects, resubscribes (both symbols keep coming), trades continue
start_sim drop --rate 400 --drop-every 0.7
"$TICKPIPE" capture --ws-url "ws://127.0.0.1:$SIM_PORT" --token t --symbols AAPL,MSFT --max-trades 1000 \
  --max-reconnects 20 >"$TMP/drop.jsonl" 2>"$TMP/drop.err" || fail "capture failed: $(cat "$TMP/drop.err")"
valid_trades "$TMP/drop.jsonl" 1000 AAPL MSFT || fail "trades after drops are not right"
r=$(summary_field "$TMP/drop.err" reconnects)
[ "${r:-0}" -ge 1 ] || fail "no reconnect: $(grep summary "$TMP/drop.err")"
grep -q 'simulated connection drop' "$TMP/drop.err" || fail "the drop is not reported: $(cat "$TMP/drop.err")"
# both symbols after the last reconnect: the resubscription covered both
tail -200 "$TMP/drop.jsonl" | grep -q '"s":"AAPL"' && tail -200 "$TMP/drop.jsonl" | grep -q '"s":"MSFT"' \
  || fail "not every symbol resubscribed"
ok "--drop-every: $r reconnects, every symbol resubscribed, 1000 trades"

# --silent-after: the client's watchdog fires and it reconnects
start_sim silent --rate 200 --silent-after 0.5 --ping-interval 0.2
"$TICKPIPE" capture --ws-url "ws://127.0.0.1:$SIM_PORT" --token t --symbols AAPL --max-trades 250 \
  --stale-timeout 0.5 --max-reconnects 20 >"$TMP/silent.jsonl" 2>"$TMP/silent.err" \
  || fail "capture failed: $(cat "$TMP/silent.err")"
valid_trades "$TMP/silent.jsonl" 250 AAPL || fail "trades around silences are not right"
grep -q 'stale-timeout' "$TMP/silent.err" || fail "watchdog did not fire: $(cat "$TMP/silent.err")"
r=$(summary_field "$TMP/silent.err" reconnects)
[ "${r:-0}" -ge 1 ] || fail "no reconnect after silence"
p=$(summary_field "$TMP/silent.err" pings)
[ "${p:-0}" -ge 1 ] || fail "no pings before the silence"
ok "--silent-after: the watchdog fired, $r reconnects, $p pings before the silences"

# --malformed-rate: counted and skipped, the rest intact
start_sim bad --rate 0 --batch 5 --malformed-rate 0.3
"$TICKPIPE" capture --ws-url "ws://127.0.0.1:$SIM_PORT" --token t --symbols AAPL,BINANCE:BTCUSDT \
  --max-trades 3000 --max-reconnects 0 >"$TMP/bad.jsonl" 2>"$TMP/bad.err" || fail "capture failed: $(cat "$TMP/bad.err")"
valid_trades "$TMP/bad.jsonl" 3000 AAPL BINANCE:BTCUSDT || fail "trades among malformed frames are not right"
m=$(summary_field "$TMP/bad.err" malformed)
f=$(summary_field "$TMP/bad.err" frames)
# 3000 trades in frames of 5 need >= 600 good frames; at 30% bad, expect ~260 bad ones
[ "${m:-0}" -ge 100 ] && [ "$m" -lt "$f" ] || fail "malformed=$m of frames=$f"
grep -q 'skipping malformed frame' "$TMP/bad.err" || fail "malformed frames not logged"
[ "$(summary_field "$TMP/bad.err" reconnects)" = 0 ] || fail "malformed frames caused a reconnect"
ok "--malformed-rate: $m of $f frames malformed, counted and skipped"

# --error-every: errors counted, connection kept
start_sim err --rate 100 --error-every 0.3
"$TICKPIPE" capture --ws-url "ws://127.0.0.1:$SIM_PORT" --token t --symbols AAPL --max-trades 150 \
  --max-reconnects 0 >"$TMP/err.jsonl" 2>"$TMP/err.err" || fail "capture failed: $(cat "$TMP/err.err")"
valid_trades "$TMP/err.jsonl" 150 AAPL || fail "trades between errors are not right"
e=$(summary_field "$TMP/err.err" errors)
[ "${e:-0}" -ge 2 ] || fail "errors=$e"
grep -q 'Simulated server error' "$TMP/err.err" || fail "the error message is not logged"
[ "$(summary_field "$TMP/err.err" reconnects)" = 0 ] || fail "an error message caused a reconnect"
ok "--error-every: $e error messages counted, no reconnect"

# the simulator's own counters agree
kill -TERM "$PID_err"
wait "$PID_err" || fail "simulate did not exit 0 on SIGTERM"
grep -q "stopped: connections=1 rejected=0 kicked=0 trades=" "$TMP/err.log" || fail "simulate summary: $(tail -2 "$TMP/err.log")"
ok "SIGTERM stops simulate cleanly with its counters"
