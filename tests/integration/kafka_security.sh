#!/usr/bin/env bash
# kafka_security.sh - SASL_PLAINTEXT with the PLAIN mechanism on Apache
# Kafka (tests/lib/kafka.sh, KAFKA_SASL=1): produce authenticates from the
# environment (KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_MECHANISM,
# KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD), process from -X properties;
# every trade arrives and is stored once with windows equal to the oracle.
# A wrong password is refused by the broker with a clear error and exit 1;
# KAFKA_SSL_CA_LOCATION reaches librdkafka. No log line of any run (at
# debug level, with librdkafka's security and configuration debugging on)
# holds a password.
source "$TP_SOURCE_DIR/tests/lib/common.sh"
source "$TP_SOURCE_DIR/tests/lib/process.sh"

KAFKA_SASL=1 kafka_start 1
kafka_topic market 3
kafka_topic market.dlq 1
SECRET=$KAFKA_SASL_PASSWORD
/usr/bin/python3 "$TP_SOURCE_DIR/tests/lib/e2e_recording.py" "$TMP/rec" 1795608000000 3000 5 7 \
  'AAPL,MSFT,TSLA,NVDA,BINANCE:BTCUSDT,OANDA:EUR_USD' "$TMP/oracle.csv" || fail "recording"
total=$(wc -l <"$TMP/oracle.csv")
# secret_free WORD FILE...: WORD appears in none of the files.
secret_free() {
  local w=$1 f
  shift
  for f in "$@"; do grep -qF -- "$w" "$f" && fail "$f holds the password: $(grep -F -- "$w" "$f" | head -2)"; done
  return 0
}

KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT KAFKA_SASL_MECHANISM=PLAIN KAFKA_SASL_USERNAME=tickpipe \
  KAFKA_SASL_PASSWORD="$SECRET" timeout 120 "$TICKPIPE" produce --replay "$TMP/rec" --brokers "$BS_SASL" \
  --topic market --log-level debug -X debug=security,conf,broker >"$TMP/produce.log" 2>&1 ||
  fail "produce over SASL exited $?: $(tail -5 "$TMP/produce.log")"
grep -q "summary: trades=$total .*delivered_trades=$total .*undelivered_trades=0 " "$TMP/produce.log" ||
  fail "summary: $(grep summary "$TMP/produce.log")"
grep -q "sasl_plaintext://" "$TMP/produce.log" && grep -q "SASL mechanism PLAIN" "$TMP/produce.log" ||
  fail "the debug log does not show a SASL PLAIN connection"
ok "produce authenticated from KAFKA_SECURITY_PROTOCOL / KAFKA_SASL_*: $total trades delivered"

timeout 120 "$TICKPIPE" process --brokers "$BS_SASL" --topic market --store "sqlite:$TMP/t.db" \
  -X security.protocol=SASL_PLAINTEXT -X sasl.mechanisms=PLAIN -X sasl.username=tickpipe \
  -X "sasl.password=$SECRET" --max-trades "$total" --log-level debug -X debug=security,conf >"$TMP/proc.log" 2>&1 ||
  fail "process over SASL exited $?: $(tail -5 "$TMP/proc.log")"
check_store "$TMP/t.db" "$TMP/oracle.csv"
ok "process authenticated with -X sasl.*: every trade once, windows equal the oracle"

rc=0
KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT KAFKA_SASL_MECHANISM=PLAIN KAFKA_SASL_USERNAME=tickpipe \
  KAFKA_SASL_PASSWORD=not-the-password-42 timeout 60 "$TICKPIPE" produce --replay "$TMP/rec" \
  --brokers "$BS_SASL" --topic market --connect-timeout 5 --log-level debug -X debug=security >"$TMP/bad.log" 2>&1 ||
  rc=$?
[ "$rc" = 1 ] || fail "wrong password: exit $rc, want 1: $(tail -5 "$TMP/bad.log")"
grep -qi "authentication" "$TMP/bad.log" || fail "wrong password: no word of authentication: $(tail -5 "$TMP/bad.log")"
secret_free not-the-password-42 "$TMP/bad.log"
ok "wrong password: the broker's refusal named, exit 1, the password not logged"

rc=0
KAFKA_SECURITY_PROTOCOL=SSL KAFKA_SSL_CA_LOCATION="$TMP/no-such-ca.pem" timeout 60 "$TICKPIPE" produce \
  --replay "$TMP/rec" --brokers "$BS" --topic market --connect-timeout 2 >"$TMP/ca.log" 2>&1 || rc=$?
[ "$rc" != 0 ] && grep -q "ssl.ca.location\|no-such-ca.pem" "$TMP/ca.log" ||
  fail "KAFKA_SSL_CA_LOCATION: exit $rc: $(tail -3 "$TMP/ca.log")"
ok "KAFKA_SSL_CA_LOCATION reaches librdkafka (a missing CA file is named, exit $rc)"

rc=0
"$TICKPIPE" process --store null: -X "sasl.passwordtypo$SECRET" >"$TMP/x.log" 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "-X without '=': exit $rc"
secret_free "$SECRET" "$TMP/produce.log" "$TMP/proc.log" "$TMP/x.log"
ok "no log line holds the password (debug level, librdkafka security/conf debugging, a malformed -X)"
