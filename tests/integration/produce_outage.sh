#!/usr/bin/env bash
# produce_outage.sh - the cluster goes away mid-stream and comes back:
# nothing is lost, nothing is duplicated, per-symbol order holds. Then a
# stop (SIGTERM) while the cluster is away: produce flushes for
# --flush-timeout, says how many trades were not delivered, exits 1.
#
# This test keeps librdkafka's mock cluster (tests/tools/mock_kafka) on
# purpose: it takes every broker down and up again on a signal within
# milliseconds, at an exact point of the stream, which makes both parts
# deterministic and quick. Losing real brokers (a leader killed -9, all
# brokers stopped for 30 s, a rolling restart) is kafka_failures.sh, on
# Apache Kafka.
source "$TP_SOURCE_DIR/tests/lib/common.sh"
command -v kcat >/dev/null || fail "kcat is not installed (scripts/install-deps.sh --test)"
schema="$TP_SOURCE_DIR/tests/fixtures/reference-trades.avsc"
syms='AAPL,MSFT,BINANCE:BTCUSDT,OANDA:EUR_USD,ÜBER,株:7203'

bg mock "$TP_TOOLS_DIR/mock_kafka" --brokers 1 --topic market:3 --bootstrap-file "$TMP/boot"
wait_for 20 test -s "$TMP/boot"
boot=$(cat "$TMP/boot")

# Part 1: 300 frames, the brokers go down after the first 100.
/usr/bin/python3 "$TP_SOURCE_DIR/tests/integration/produce_feed.py" 6 300 11 "$TMP/want.json" 100 "$TMP/paused" "$TMP/go" \
  >"$TMP/port" 2>"$TMP/feed.err" &
feed=$!
on_exit "kill $feed 2>/dev/null; wait $feed 2>/dev/null"
wait_for 20 test -s "$TMP/port"
total=$(/usr/bin/python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["trades"]))' "$TMP/want.json")

timeout 120 "$TICKPIPE" produce --ws-url "ws://127.0.0.1:$(cat "$TMP/port")" --token t --symbols "$syms" \
  --brokers "$boot" --max-trades "$total" --max-reconnects 0 --progress-interval 1 2>"$TMP/produce.log" &
prod=$!
on_exit "kill $prod 2>/dev/null; wait $prod 2>/dev/null"
wait_for 30 test -e "$TMP/paused"
kill -USR1 "$PID_mock"
wait_for 10 grep -q "broker(s) down" "$TMP/mock.log"
touch "$TMP/go"   # the rest of the feed arrives while the cluster is away
sleep 3
kill -USR2 "$PID_mock"
wait "$prod" || fail "produce exited $? after the outage: $(tail -5 "$TMP/produce.log")"
grep -q "summary: trades=$total .*accepted_trades=$total delivered_trades=$total .*failed_trades=0 undelivered_trades=0 " "$TMP/produce.log" \
  || fail "summary: $(grep summary "$TMP/produce.log")"
grep -q "WARN  \[kafka\]" "$TMP/produce.log" || fail "the outage was not noticed: $(cat "$TMP/produce.log")"
kcat -C -b "$boot" -t market -e -q -f '%p %o %T %K %S\n%k%s\n' >"$TMP/kcat.out" 2>"$TMP/kcat.err" \
  || fail "kcat: $(cat "$TMP/kcat.err")"
/usr/bin/python3 "$TP_SOURCE_DIR/tests/lib/produce_check.py" "$schema" "$TMP/kcat.out" "$TMP/want.json" \
  || fail "topic content differs from the feed after the outage"
ok "brokers down for 3 s mid-stream: all $total trades delivered once, in order"

# Part 2: stop while the cluster is away (it goes after 10 of 50 frames)
# and the queue (20 messages) is full: the feed is blocked, not dropped.
/usr/bin/python3 "$TP_SOURCE_DIR/tests/integration/produce_feed.py" 6 50 12 "$TMP/want2.json" 10 "$TMP/paused2" "$TMP/go2" \
  >"$TMP/port2" 2>"$TMP/feed2.err" &
feed2=$!
on_exit "kill $feed2 2>/dev/null; wait $feed2 2>/dev/null"
wait_for 20 test -s "$TMP/port2"
total2=$(/usr/bin/python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["trades"]))' "$TMP/want2.json")
bg mock2 "$TP_TOOLS_DIR/mock_kafka" --brokers 1 --topic market:3 --bootstrap-file "$TMP/boot2"
wait_for 20 test -s "$TMP/boot2"
"$TICKPIPE" produce --ws-url "ws://127.0.0.1:$(cat "$TMP/port2")" --token t --symbols "$syms" \
  --brokers "$(cat "$TMP/boot2")" --max-reconnects 0 --flush-timeout 1 --progress-interval 0.2 \
  -X queue.buffering.max.messages=20 2>"$TMP/produce2.log" &
prod2=$!
on_exit "kill $prod2 2>/dev/null; wait $prod2 2>/dev/null"
wait_for 20 test -e "$TMP/paused2"
kill -USR1 "$PID_mock2"
wait_for 20 grep -q "broker(s) down" "$TMP/mock2.log"
from=$(($(wc -l <"$TMP/produce2.log") + 1))
touch "$TMP/go2"
# wait until produce's queue is full and the feed is held back
blocked() { tail -n +"$from" "$TMP/produce2.log" | grep "queue_full_waits=[1-9]" >/dev/null; }
wait_for 30 blocked
kill -TERM "$prod2"
rc=0; wait "$prod2" || rc=$?
[ "$rc" = 1 ] || fail "produce exited $rc, want 1 when trades were not delivered: $(tail -3 "$TMP/produce2.log")"
grep -q "trade(s) NOT delivered" "$TMP/produce2.log" || fail "no undelivered report: $(tail -3 "$TMP/produce2.log")"
sum=$(grep '^summary:' "$TMP/produce2.log")
field() { sed -n "s/.* $1=\([0-9]*\) .*/\1/p" <<<"$sum"; }
a=$(field accepted_trades) d=$(field delivered_trades) f=$(field failed_trades) u=$(field undelivered_trades)
[ "$(field queue_full_waits)" -gt 0 ] || fail "the 20-message queue never filled: $sum"
[ $((d + f + u)) = "$a" ] || fail "delivered $d + failed $f + undelivered $u != accepted $a: $sum"
[ "$u" -gt 0 ] || fail "nothing reported undelivered although the cluster was down: $sum"
[ "$a" -le "$total2" ] || fail "accepted $a trades, the feed sent $total2"
ok "SIGTERM with the cluster away and the queue full: $u of $a trades reported undelivered, exit 1"
