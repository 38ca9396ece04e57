#!/usr/bin/env bash
# produce_kafka.sh - feed -> tickpipe produce -> librdkafka mock cluster ->
# kcat -> Python avro with the reference schema. Every trade the feed sent
# arrives exactly once, bit-exact, one message per symbol per frame, each
# symbol on one partition in feed order; the summary agrees.
source "$TP_SOURCE_DIR/tests/lib/common.sh"
command -v kcat >/dev/null || fail "kcat is not installed (scripts/install-deps.sh --test)"
schema="$TP_SOURCE_DIR/tests/fixtures/reference-trades.avsc"
syms='AAPL,MSFT,BINANCE:BTCUSDT,OANDA:EUR_USD,ÜBER,株:7203'

bg mock "$TP_TOOLS_DIR/mock_kafka" --brokers 1 --topic market:3 --bootstrap-file "$TMP/boot"
wait_for 20 test -s "$TMP/boot"
boot=$(cat "$TMP/boot")

/usr/bin/python3 "$TP_SOURCE_DIR/tests/integration/produce_feed.py" 6 400 7 "$TMP/want.json" >"$TMP/port" 2>"$TMP/feed.err" &
feed=$!
on_exit "kill $feed 2>/dev/null; wait $feed 2>/dev/null"
wait_for 20 test -s "$TMP/port"
total=$(/usr/bin/python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["trades"]))' "$TMP/want.json")

timeout 120 "$TICKPIPE" produce --ws-url "ws://127.0.0.1:$(cat "$TMP/port")" --token t --symbols "$syms" \
  --brokers "$boot" --topic market --max-trades "$total" --max-reconnects 0 --progress 1 2>"$TMP/produce.log" \
  || fail "produce exited $?: $(tail -5 "$TMP/produce.log")"
grep -q "summary: trades=$total .*accepted_trades=$total delivered_trades=$total .*failed_trades=0 undelivered_trades=0 " "$TMP/produce.log" \
  || fail "summary: $(grep summary "$TMP/produce.log")"
ok "produce delivered $total trades (summary)"

kcat -C -b "$boot" -t market -e -q -f '%p %o %T %K %S\n%k%s\n' >"$TMP/kcat.out" 2>"$TMP/kcat.err" \
  || fail "kcat: $(cat "$TMP/kcat.err")"
/usr/bin/python3 "$TP_SOURCE_DIR/tests/lib/produce_check.py" "$schema" "$TMP/kcat.out" "$TMP/want.json" \
  || fail "topic content differs from the feed"
