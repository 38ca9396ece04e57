#!/usr/bin/env bash
# produce_errors.sh - what goes wrong before any trade moves gets a clear
# error and a nonzero exit, never a hang: brokers that do not answer (a
# closed port, an unresolvable name), a missing topic the cluster may not
# create, bad flags and values (exit 2). --help documents every flag.
source "$TP_SOURCE_DIR/tests/lib/common.sh"
feed=(--ws-url ws://127.0.0.1:9 --token t --symbols AAPL --max-reconnects 0 --progress-interval 0)

# A port nothing listens on. `timeout` only guards against a hang; the
# assertion is the exit status and the message.
port=$(free_port)
rc=0; timeout 60 "$TICKPIPE" produce "${feed[@]}" --brokers "127.0.0.1:$port" --connect-timeout 2 2>"$TMP/e1" || rc=$?
[ "$rc" = 1 ] || fail "closed port: exit $rc, want 1: $(cat "$TMP/e1")"
grep -q "cannot reach the Kafka brokers 127.0.0.1:$port within 2 s: .*Connection refused.*check --brokers" "$TMP/e1" \
  || fail "closed port: unclear error: $(cat "$TMP/e1")"
ok "closed broker port: clear error, exit 1"

rc=0; timeout 60 "$TICKPIPE" produce "${feed[@]}" --brokers no-such-host.invalid:9092 --connect-timeout 2 2>"$TMP/e2" || rc=$?
[ "$rc" = 1 ] || fail "bad host: exit $rc, want 1: $(cat "$TMP/e2")"
grep -q "cannot reach the Kafka brokers no-such-host.invalid:9092 .*resolve" "$TMP/e2" \
  || fail "bad host: unclear error: $(cat "$TMP/e2")"
ok "unresolvable broker name: clear error, exit 1"

# KAFKA_SERVER / KAFKA_PORT are used when --brokers is not given.
rc=0; KAFKA_SERVER=127.0.0.1 KAFKA_PORT=$port timeout 60 "$TICKPIPE" produce "${feed[@]}" --connect-timeout 1 \
  2>"$TMP/e3" || rc=$?
[ "$rc" = 1 ] && grep -q "cannot reach the Kafka brokers 127.0.0.1:$port " "$TMP/e3" \
  || fail "KAFKA_SERVER/KAFKA_PORT not used: $(cat "$TMP/e3")"
ok "KAFKA_SERVER and KAFKA_PORT give the brokers"

source "$TP_SOURCE_DIR/tests/lib/kafka.sh"
kafka_start 1
kafka_topic market 2
boot=$BS
rc=0; KAFKA_TOPIC_NAME=nosuch timeout 60 "$TICKPIPE" produce "${feed[@]}" --brokers "$boot" \
  -X allow.auto.create.topics=false 2>"$TMP/e4" || rc=$?
[ "$rc" = 1 ] || fail "missing topic: exit $rc, want 1: $(cat "$TMP/e4")"
grep -q "topic nosuch does not exist on $boot .*--create-topic" "$TMP/e4" \
  || fail "missing topic: unclear error: $(cat "$TMP/e4")"
ok "missing topic (KAFKA_TOPIC_NAME) without auto-creation: clear error, exit 1"

# --create-topic asking for more replicas than the cluster has brokers:
# Kafka's own refusal, named, exit 1, in bounded time.
rc=0; timeout 60 "$TICKPIPE" produce "${feed[@]}" --brokers "$boot" --topic newt --create-topic --partitions 4 \
  --replication-factor 3 --connect-timeout 5 2>"$TMP/e8" || rc=$?
[ "$rc" = 1 ] || fail "--create-topic RF 3 on one broker: exit $rc, want 1: $(cat "$TMP/e8")"
grep -q "cannot create topic newt (4 partitions, replication factor 3.*broker" "$TMP/e8" \
  || fail "--create-topic RF 3: unclear error: $(cat "$TMP/e8")"
ok "--create-topic with more replicas than brokers: Kafka's refusal named, exit 1"

rc=0; timeout 60 "$TICKPIPE" produce "${feed[@]}" --brokers "$boot" -X no.such.property=1 2>"$TMP/e5" || rc=$?
[ "$rc" = 2 ] && grep -q "no.such.property" "$TMP/e5" || fail "bad -X: exit $rc: $(cat "$TMP/e5")"
ok "unknown -X property: exit 2, named"

for bad in "--bogus" "--compression brotli" "--partitions 0" "--max-trades -1" "-X novalue" "--linger-ms x" "extra"; do
  rc=0; "$TICKPIPE" produce $bad 2>"$TMP/e6" || rc=$?
  [ "$rc" = 2 ] || fail "'$bad': exit $rc, want 2"
  [ -s "$TMP/e6" ] || fail "'$bad': no message"
done
rc=0; env -u FINNHUB_API_TOKEN "$TICKPIPE" produce --symbols AAPL 2>"$TMP/e7" || rc=$?
[ "$rc" = 2 ] && grep -q "no API token" "$TMP/e7" || fail "missing token: exit $rc: $(cat "$TMP/e7")"
ok "bad flags and a missing token: exit 2 with a message"

"$TICKPIPE" produce --help >"$TMP/help" || fail "--help failed"
for f in --ws-url --token --symbols --validate --rest-url --max-frame --stale-timeout --max-reconnects --replay \
  --speed --brokers --topic --compression --linger-ms -X --create-topic --partitions --replication-factor \
  --min-insync-replicas --connect-timeout --flush-timeout --max-trades --duration --progress --log-level FINNHUB_API_TOKEN \
  FINNHUB_STOCKS_TICKERS FINNHUB_VALIDATE_TICKERS FINNHUB_WS_URL KAFKA_SERVER KAFKA_PORT KAFKA_TOPIC_NAME; do
  grep -q -- "$f" "$TMP/help" || fail "--help does not mention $f"
done
ok "--help documents every flag and variable"
