#!/usr/bin/env bash
# simulate_replay.sh - record then replay: `capture --record` writes the raw
# frames of a live simulator; `simulate --replay` sends them again, and a
# capture of the replay prints exactly the trades of the first capture (at
# --speed 0 and at --speed 50); a client that subscribes fewer symbols
# gets just their trades; --loop starts over at the end; capture --replay
# reads the same recording offline; a file that is not a recording is a
# clear error.
source "$TP_SOURCE_DIR/tests/lib/common.sh"
SYMS=AAPL,BINANCE:BTCUSDT,OANDA:EUR_USD

start_sim live --rate 2000 --batch 8 --ping-interval 0.2 --error-every 0.25
"$TICKPIPE" capture --ws-url "ws://127.0.0.1:$SIM_PORT" --token t --symbols "$SYMS" --max-trades 1500 \
  --max-reconnects 0 --record "$TMP/rec.tprec" --print >"$TMP/orig.jsonl" 2>"$TMP/orig.err" \
  || fail "recording capture failed: $(cat "$TMP/orig.err")"
[ "$(wc -l <"$TMP/orig.jsonl")" = 1500 ] || fail "the recording capture printed $(wc -l <"$TMP/orig.jsonl") lines"
head -c 7 "$TMP/rec.tprec" | grep -q '^TPREC1$' || fail "not a recording"
grep -q '{"type":"ping"}' "$TMP/rec.tprec" || fail "pings are not in the recording"
ok "capture --record wrote the frames (pings included)"

replay_capture() { # PORT OUT SYMBOLS N
  "$TICKPIPE" capture --ws-url "ws://127.0.0.1:$1" --token t --symbols "$3" --max-trades "$4" \
    --max-reconnects 0 >"$2" 2>>"$TMP/replay.err" || fail "replay capture failed: $(cat "$TMP/replay.err")"
}

start_sim r0 --replay "$TMP/rec.tprec" --speed 0
replay_capture "$SIM_PORT" "$TMP/r0.jsonl" "$SYMS" 1500
cmp "$TMP/orig.jsonl" "$TMP/r0.jsonl" || fail "replay at speed 0 differs"
ok "replay at --speed 0 gives the same 1500 trades"

start_sim r50 --replay "$TMP/rec.tprec" --speed 50
replay_capture "$SIM_PORT" "$TMP/r50.jsonl" "$SYMS" 1500
cmp "$TMP/orig.jsonl" "$TMP/r50.jsonl" || fail "replay at speed 50 differs"
ok "replay at --speed 50 gives the same trades"

# a client subscribing fewer symbols gets exactly their trades, in order
grep -v '"s":"AAPL"' "$TMP/orig.jsonl" >"$TMP/want_sub.jsonl"
n=$(wc -l <"$TMP/want_sub.jsonl")
replay_capture "$SIM_PORT" "$TMP/r_sub.jsonl" BINANCE:BTCUSDT,OANDA:EUR_USD "$n"
cmp "$TMP/want_sub.jsonl" "$TMP/r_sub.jsonl" || fail "the filtered replay differs"
ok "a replay to a client with fewer subscriptions carries exactly their $n trades"

# --loop: the recording again after its end (the recording may hold a few
# trades past the 1500 printed: it ends with the whole last frame)
total=$("$TICKPIPE" capture --replay "$TMP/rec.tprec" 2>"$TMP/offline.err" | tee "$TMP/offline.jsonl" | wc -l)
[ "$total" -ge 1500 ] || fail "capture --replay printed $total trades"
head -1500 "$TMP/offline.jsonl" | cmp - "$TMP/orig.jsonl" || fail "capture --replay differs"
ok "capture --replay reads the recording offline ($total trades)"
start_sim loop --replay "$TMP/rec.tprec" --speed 0 --loop
# each pass repeats the last one trade for trade within a second: the
# dedupe would rightly take pass two for a repeat, so it is off here
"$TICKPIPE" capture --ws-url "ws://127.0.0.1:$SIM_PORT" --token t --symbols "$SYMS" --max-trades $((total * 2 + 10)) \
  --max-reconnects 0 --dedupe-horizon 0 >"$TMP/loop.jsonl" 2>>"$TMP/replay.err" || fail "loop capture failed: $(cat "$TMP/replay.err")"
cat "$TMP/offline.jsonl" "$TMP/offline.jsonl" | cmp - <(head -$((total * 2)) "$TMP/loop.jsonl") || fail "--loop differs"
head -10 "$TMP/offline.jsonl" | cmp - <(tail -10 "$TMP/loop.jsonl") || fail "the third pass differs"
ok "--loop replays the recording again from its start"

printf 'hello\n' >"$TMP/not.tprec"
set +e
"$TICKPIPE" simulate --listen 127.0.0.1:0 --replay "$TMP/not.tprec" >/dev/null 2>"$TMP/not.err"
rc=$?
set -e
[ "$rc" != 0 ] && grep -q 'not a tickpipe recording' "$TMP/not.err" || fail "bad recording: exit $rc: $(cat "$TMP/not.err")"
ok "a file that is not a recording is refused at start"
