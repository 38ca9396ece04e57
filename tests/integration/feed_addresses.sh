#!/usr/bin/env bash
# feed_addresses.sh - the feed tries every address of the server's name:
# localhost is ::1 and then 127.0.0.1 (a standard Debian /etc/hosts), the
# simulator listens on 127.0.0.1 only; capture connects (ws:// and wss://)
# and says which address it went on to. A name none of whose addresses
# listens is an error naming each address.
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
