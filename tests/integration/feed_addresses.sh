#!/usr/bin/env bash
# feed_addresses.sh - the feed tries every address of the server's name:
# localhost is ::1 and then 127.0.0.1 (a standard Debian /etc/hosts), the
# simulator listens on 127.0.0.1 only; capture connects (ws:// and wss://)
# and says which address it went on to; an address that drops connections
# is given up after 2 s. A name none of whose addresses listens is an error
# naming each address.
source "$TP_SOURCE_DIR/tests/lib/common.sh"

start_sim sim --rate 1000
with_localhost_v6_first "$TICKPIPE" capture --ws-url "ws://localhost:$SIM_PORT" --token t --symbols AAPL \
  --max-trades 20 --max-reconnects 0 >"$TMP/out.jsonl" 2>"$TMP/cap.err" \
  || fail "capture to localhost (::1 first, listening on 127.0.0.1): $(cat "$TMP/cap.err")"
[ "$(grep -c '"s":"AAPL"' "$TMP/out.jsonl")" = 20 ] || fail "trades: $(cat "$TMP/out.jsonl")"
grep -q "at ::1 (.*); trying 127.0.0.1" "$TMP/cap.err" || fail "no fallback logged: $(cat "$TMP/cap.err")"
grep -q "reconnects=0" "$TMP/cap.err" || fail "the fallback counted as a reconnect: $(cat "$TMP/cap.err")"
ok "ws://localhost: ::1 refused, 127.0.0.1 connected, 20 trades, no reconnect"

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/key.pem" -out "$TMP/cert.pem" -days 2 \
  -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
start_sim tls --tls-cert "$TMP/cert.pem" --tls-key "$TMP/key.pem" --rate 1000
SSL_CERT_FILE="$TMP/cert.pem" with_localhost_v6_first "$TICKPIPE" capture --ws-url "wss://localhost:$SIM_PORT" \
  --token t --symbols AAPL --max-trades 20 --max-reconnects 0 >"$TMP/tls.jsonl" 2>"$TMP/tls.err" \
  || fail "capture over wss to localhost: $(cat "$TMP/tls.err")"
[ "$(grep -c '"s":"AAPL"' "$TMP/tls.jsonl")" = 20 ] || fail "wss trades: $(cat "$TMP/tls.jsonl")"
ok "wss://localhost: the certificate checked against the name after the fallback, 20 trades"

# An address that takes no connection at all (SYNs dropped: a firewall, a
# dead route) is given up after 2 s for the next. Here ::1 on the
# simulator's port with a full accept queue, where the kernel drops SYNs.
if /usr/bin/python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
  bg hole /usr/bin/python3 -c '
import socket, sys, time
port = int(sys.argv[1])
ls = socket.socket(socket.AF_INET6)
ls.bind(("::1", port))
ls.listen(0)
held = []
for _ in range(8):  # fill the accept queue: later SYNs are dropped
    c = socket.socket(socket.AF_INET6)
    c.setblocking(False)
    c.connect_ex(("::1", port))
    held.append(c)
time.sleep(0.5)
probe = socket.socket(socket.AF_INET6)
probe.settimeout(1)
try:
    probe.connect(("::1", port))
    print("the queue took another connection", flush=True)
except socket.timeout:
    print("holding", flush=True)
time.sleep(600)' "$SIM_PORT"
  wait_for 10 grep -q "holding\|took another" "$TMP/hole.log"
  grep -q holding "$TMP/hole.log" || fail "could not make ::1 drop connections: $(cat "$TMP/hole.log")"
  t0=$(date +%s%N)
  SSL_CERT_FILE="$TMP/cert.pem" with_localhost_v6_first "$TICKPIPE" capture --ws-url "wss://localhost:$SIM_PORT" \
    --token t --symbols AAPL --max-trades 5 --max-reconnects 0 >"$TMP/hole.jsonl" 2>"$TMP/hole.err" \
    || fail "capture past an address that drops connections: $(cat "$TMP/hole.err")"
  ms=$((($(date +%s%N) - t0) / 1000000))
  grep -q "at ::1 (no answer within 2 s); trying 127.0.0.1" "$TMP/hole.err" || fail "no 2 s fallback: $(cat "$TMP/hole.err")"
  [ "$(grep -c '"s":"AAPL"' "$TMP/hole.jsonl")" = 5 ] || fail "trades after the fallback: $(cat "$TMP/hole.jsonl")"
  [ "$ms" -ge 1900 ] && [ "$ms" -lt 5000 ] || fail "the fallback took $ms ms, want 2 s and a little"
  ok "an address that drops connections: given up after 2 s, connected at the next ($ms ms in all)"
else
  echo "no IPv6 loopback here: the dropped-connection case is not run"
fi

port=$(free_port)
set +e
with_localhost_v6_first "$TICKPIPE" capture --ws-url "ws://localhost:$port" --token t --symbols AAPL \
  --max-trades 1 --max-reconnects 0 >/dev/null 2>"$TMP/none.err"
rc=$?
set -e
[ "$rc" = 1 ] || fail "nothing listening: exit $rc: $(cat "$TMP/none.err")"
grep -q "cannot connect to any address of localhost: ::1: .*; 127.0.0.1: " "$TMP/none.err" \
  || fail "the error does not name each address: $(cat "$TMP/none.err")"
ok "nothing listening on any address: exit 1 naming ::1 and 127.0.0.1"
