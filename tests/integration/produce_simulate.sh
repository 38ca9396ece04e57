#!/usr/bin/env bash
# produce_simulate.sh - tickpipe simulate -> capture --record, then the
# recording -> produce --replay -> Apache Kafka -> kcat -> Python avro with
# the reference schema: every trade of the recording (parsed by Python's
# json, an oracle independent of tickpipe's parser) arrives once, exact, in
# per-symbol order. Then simulate -> produce live: the delivered count
# matches --max-trades and every message decodes with the reference schema.
source "$TP_SOURCE_DIR/tests/lib/common.sh"
command -v kcat >/dev/null || fail "kcat is not installed (scripts/install-deps.sh --test)"
schema="$TP_SOURCE_DIR/tests/fixtures/reference-trades.avsc"
syms='AAPL,MSFT,BINANCE:BTCUSDT,OANDA:EUR_USD'

port=$(free_port)
bg sim "$TICKPIPE" simulate --listen "127.0.0.1:$port" --rate 20000 --batch 20 --seed 5
wait_port "$port"
"$TICKPIPE" capture --ws-url "ws://127.0.0.1:$port" --token t --symbols "$syms" --record "$TMP/rec" \
  --max-trades 3000 --max-reconnects 0 2>"$TMP/capture.log" || fail "capture: $(tail -3 "$TMP/capture.log")"
total=$(/usr/bin/python3 "$TP_SOURCE_DIR/tests/lib/record_expected.py" "$TMP/rec" "$TMP/want.json")
[ "$total" -ge 3000 ] || fail "the recording holds $total trades"

source "$TP_SOURCE_DIR/tests/lib/kafka.sh"
kafka_start 1
kafka_topic market 4
boot=$BS
from_ms=$(date +%s%3N)
timeout 120 "$TICKPIPE" produce --replay "$TMP/rec" --brokers "$boot" --progress-interval 0 2>"$TMP/produce.log" \
  || fail "produce --replay exited $?: $(tail -3 "$TMP/produce.log")"
to_ms=$(date +%s%3N)
grep -q "summary: trades=$total .*delivered_trades=$total .*undelivered_trades=0 " "$TMP/produce.log" \
  || fail "summary: $(grep summary "$TMP/produce.log")"
kcat -C -b "$boot" -t market -e -q -f '%p %o %T %K %S\n%k%s\n' >"$TMP/kcat.out" 2>"$TMP/kcat.err" \
  || fail "kcat: $(cat "$TMP/kcat.err")"
# replayed records carry the time produce sent them (not the recorded one)
/usr/bin/python3 "$TP_SOURCE_DIR/tests/lib/produce_check.py" "$schema" "$TMP/kcat.out" "$TMP/want.json" \
  "$from_ms" "$to_ms" || fail "topic content differs from the recording"
ok "recording of simulate replayed through produce: $total trades exact"

# Live: simulate -> produce, into another topic it creates.
timeout 120 "$TICKPIPE" produce --ws-url "ws://127.0.0.1:$port" --token t --symbols "$syms" --brokers "$boot" \
  --topic live --create-topic --partitions 2 --max-trades 5000 --max-reconnects 0 --progress-interval 0 2>"$TMP/live.log" \
  || fail "produce live exited $?: $(tail -3 "$TMP/live.log")"
grep -q "summary: trades=5000 .*delivered_trades=5000 .*undelivered_trades=0 " "$TMP/live.log" \
  || fail "live summary: $(grep summary "$TMP/live.log")"
kcat -C -b "$boot" -t live -e -q -f '%p %o %T %K %S\n%k%s\n' >"$TMP/live.out" 2>"$TMP/kcat2.err" \
  || fail "kcat: $(cat "$TMP/kcat2.err")"
/usr/bin/python3 - "$schema" "$TMP/live.out" "$syms" <<'PY' || fail "live topic content wrong"
import os, sys
sys.path.insert(0, os.path.join(os.environ["TP_SOURCE_DIR"], "tests", "lib"))
import avro_exact
from produce_check import read_kcat
schema = avro_exact.load_schema(sys.argv[1])
want_syms = set(sys.argv[3].split(","))
n, last_t = 0, {}
parts = {}
for p, o, ts, key, val in sorted(read_kcat(sys.argv[2]), key=lambda m: (m[0], m[1])):
    rec = avro_exact.decode(schema, val)
    assert rec["type"] == "trade"
    for t in rec["data"]:
        assert t["s"] == key.decode(), (t["s"], key)
        assert t["s"] in want_syms, t["s"]
        assert t["t"] >= last_t.get(t["s"], 0), ("event time went back for", t["s"])
        last_t[t["s"]] = t["t"]
        n += 1
    parts.setdefault(key, set()).add(p)
assert n == 5000, n
assert all(len(v) == 1 for v in parts.values()), parts
print("ok - live: 5000 trades decode with the reference schema, one partition per symbol")
PY
