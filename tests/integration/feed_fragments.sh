#!/usr/bin/env bash
# feed_fragments.sh - capture against a raw WebSocket server that sends what
# the simulator never does: a message over continuation frames with a control
# ping in between, messages over --max-frame (fragmented and whole), a frame
# dribbled in 7-byte TCP writes. Exactly the 4 legal trades come out, in
# order, the oversize messages are counted, and both subscriptions were sent.
source "$TP_SOURCE_DIR/tests/lib/common.sh"

/usr/bin/python3 "$TP_SOURCE_DIR/tests/integration/feed_wsserver.py" 2 "$TMP/subs.txt" 5000 >"$TMP/port" 2>"$TMP/server.err" &
srv=$!
on_exit "kill $srv 2>/dev/null; wait $srv 2>/dev/null"
wait_for 20 test -s "$TMP/port"
port=$(cat "$TMP/port")

"$TICKPIPE" capture --ws-url "ws://127.0.0.1:$port" --token sekrit --symbols AAPL,MSFT \
  --max-frame 4096 --max-trades 4 --max-reconnects 0 >"$TMP/out.jsonl" 2>"$TMP/err.log" \
  || fail "capture failed: $(cat "$TMP/err.log")"

cat >"$TMP/want.jsonl" <<'EOF'
{"s":"AAPL","p":101.5,"t":1700000000001,"v":10,"c":["1"]}
{"s":"MSFT","p":300.25,"t":1700000000002,"v":5,"c":["1"]}
{"s":"AAPL","p":102.75,"t":1700000000003,"v":1,"c":["1"]}
{"s":"MSFT","p":301,"t":1700000000004,"v":2,"c":["1"]}
EOF
/usr/bin/python3 - "$TMP/out.jsonl" "$TMP/want.jsonl" <<'EOF' || fail "trades differ: $(cat "$TMP/out.jsonl")"
import json, sys
got = [json.loads(l) for l in open(sys.argv[1])]
want = [json.loads(l) for l in open(sys.argv[2])]
assert got == want, (got, want)
EOF
ok "4 trades, reassembled from continuation frames and 7-byte writes"

grep -q 'summary: trades=4 frames=4 pings=1 errors=0 malformed=0 reconnects=0 unknown=0 oversize=2 ' "$TMP/err.log" \
  || fail "summary wrong: $(grep summary "$TMP/err.log")"
grep -q 'larger than the limit of 4096 bytes' "$TMP/err.log" || fail "oversize not logged"
ok "2 oversize messages rejected and logged, connection kept"

printf '%s\n' '{"type":"subscribe","symbol":"AAPL"}' '{"type":"subscribe","symbol":"MSFT"}' | diff - "$TMP/subs.txt" \
  || fail "subscriptions differ"
ok "subscribed every symbol"
! grep -q sekrit "$TMP/err.log" || fail "the token appears in the log"
ok "token not logged"
