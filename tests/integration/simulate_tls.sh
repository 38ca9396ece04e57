#!/usr/bin/env bash
# simulate_tls.sh - `simulate --tls-cert/--tls-key`: wss:// and https:// on
# one port with a throwaway self-signed certificate. capture verifies the
# server against the CA store (here the certificate itself through
# SSL_CERT_FILE) and gets trades; without that trust it refuses to connect;
# the REST search answers over https.
source "$TP_SOURCE_DIR/tests/lib/common.sh"
command -v openssl >/dev/null || fail "openssl is needed to make a test certificate"

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/key.pem" -out "$TMP/cert.pem" -days 2 \
  -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
start_sim sim --tls-cert "$TMP/cert.pem" --tls-key "$TMP/key.pem" --rate 1000
grep -q "listening on wss://127.0.0.1:$SIM_PORT" "$TMP/sim.log" || fail "ready line: $(cat "$TMP/sim.log")"

SSL_CERT_FILE="$TMP/cert.pem" "$TICKPIPE" capture --ws-url "wss://localhost:$SIM_PORT" --token t \
  --symbols AAPL,OANDA:USD_JPY --max-trades 200 --max-reconnects 0 >"$TMP/out.jsonl" 2>"$TMP/cap.err" \
  || fail "capture over wss failed: $(cat "$TMP/cap.err")"
/usr/bin/python3 - "$TMP/out.jsonl" <<'PY' || fail "trades over wss are not right"
import json, sys
ts = [json.loads(l) for l in open(sys.argv[1])]
assert len(ts) == 200 and {t["s"] for t in ts} == {"AAPL", "OANDA:USD_JPY"}
assert all(130 < t["p"] < 170 for t in ts if t["s"] == "OANDA:USD_JPY")
PY
ok "capture over wss:// with the certificate trusted: 200 trades"

set +e
"$TICKPIPE" capture --ws-url "wss://localhost:$SIM_PORT" --token t --symbols AAPL --max-trades 1 \
  --max-reconnects 0 >/dev/null 2>"$TMP/untrusted.err"
rc=$?
set -e
[ "$rc" = 1 ] || fail "an untrusted certificate was accepted (exit $rc)"
ok "an untrusted certificate is refused"

curl -fsS --cacert "$TMP/cert.pem" "https://localhost:$SIM_PORT/api/v1/search?q=USD_JPY&token=t" >"$TMP/s.json" \
  || fail "https search failed"
grep -q '"symbol":"OANDA:USD_JPY"' "$TMP/s.json" || fail "https search: $(cat "$TMP/s.json")"
ok "REST search over https://"
