#!/usr/bin/env bash
# simulate_tokens.sh - tokens and connections: a wrong or missing token gets
# "Invalid API key" and a close that capture reports in plain words (exit 1
# after a bounded number of reconnects); the right token works; a second
# connection with a token in use closes the first, which reports that the
# key is in use elsewhere; another token does not disturb it.
source "$TP_SOURCE_DIR/tests/lib/common.sh"

start_sim sim --token right --rate 200

set +e
"$TICKPIPE" capture --ws-url "ws://127.0.0.1:$SIM_PORT" --token wrong --symbols AAPL --max-reconnects 2 \
  >"$TMP/wrong.jsonl" 2>"$TMP/wrong.err"
rc=$?
set -e
[ "$rc" = 1 ] || fail "capture with a wrong token: exit $rc, want 1: $(cat "$TMP/wrong.err")"
grep -q 'API token was rejected' "$TMP/wrong.err" || fail "not reported in plain words: $(cat "$TMP/wrong.err")"
grep -q 'Invalid API key' "$TMP/wrong.err" || fail "the server's words are not quoted"
[ "$(summary_field "$TMP/wrong.err" reconnects)" = 2 ] || fail "reconnects: $(grep summary "$TMP/wrong.err")"
[ ! -s "$TMP/wrong.jsonl" ] || fail "trades with a wrong token"
! grep -q 'wrong' "$TMP/wrong.err" || fail "the token appears in the log"
ok "a wrong token is rejected and reported, exit 1 after 2 reconnects"

# no token at all in the URL: a raw handshake (capture refuses to connect without one)
/usr/bin/python3 - "$SIM_PORT" <<'PY' || fail "a connection without a token was not rejected"
import base64, os, socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
key = base64.b64encode(os.urandom(16)).decode()
s.sendall(("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % key).encode())
buf = b""
while b"\r\n\r\n" not in buf:
    buf += s.recv(4096)
assert b" 101 " in buf.split(b"\r\n")[0], buf
buf = buf.split(b"\r\n\r\n", 1)[1]
frames = []
while True:
    while len(buf) < 2:
        d = s.recv(4096)
        if not d: raise SystemExit("closed without a close frame: %r" % frames)
        buf += d
    op, n = buf[0] & 15, buf[1] & 127
    h = 2
    if n == 126: n, h = struct.unpack(">H", buf[2:4])[0], 4
    while len(buf) < h + n: buf += s.recv(4096)
    frames.append((op, buf[h:h + n])); buf = buf[h + n:]
    if op == 8: break
assert frames[0] == (1, b'{"type":"error","msg":"Invalid API key"}'), frames
code = struct.unpack(">H", frames[-1][1][:2])[0]
assert code == 1008 and frames[-1][1][2:] == b"Invalid API key", frames[-1]
PY
ok "no token: an error message, then close 1008 \"Invalid API key\""

# one connection per token
bg first "$TICKPIPE" capture --ws-url "ws://127.0.0.1:$SIM_PORT" --token right --symbols AAPL --max-reconnects 0
wait_for 20 grep -q '"s":"AAPL"' "$TMP/first.log"
"$TICKPIPE" capture --ws-url "ws://127.0.0.1:$SIM_PORT" --token right --symbols MSFT --max-trades 100 \
  --max-reconnects 0 >"$TMP/second.jsonl" 2>"$TMP/second.err" || fail "second capture failed: $(cat "$TMP/second.err")"
[ "$(grep -c '"s":"MSFT"' "$TMP/second.jsonl")" = 100 ] || fail "second capture got no trades"
set +e
wait "$PID_first"
rc=$?
set -e
[ "$rc" = 1 ] || fail "the first capture: exit $rc, want 1: $(tail -5 "$TMP/first.log")"
grep -q 'API key is in use elsewhere' "$TMP/first.log" || fail "key in use not reported: $(tail -5 "$TMP/first.log")"
ok "a second connection with the same token closes the first, which reports the key in use"
kill -TERM "$PID_sim"
wait "$PID_sim" || fail "simulate did not exit 0 on SIGTERM"
grep -q 'stopped: connections=6 rejected=4 kicked=1 ' "$TMP/sim.log" || fail "simulate counters: $(tail -1 "$TMP/sim.log")"
ok "simulate counted 4 rejected connections and 1 kicked"
