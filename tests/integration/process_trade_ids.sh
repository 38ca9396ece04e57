#!/usr/bin/env bash
# process_trade_ids.sh - venue trade ids over Kafka: records written with
# kcat (Avro values encoded by Python's avro with the reference schema, the
# ids in the tp-trade-ids header) -> process -> SQLite. The same venue
# trades in a later record (a second instance, a replay) are stored once,
# with the ids tests/lib/venue_ids.py computes from (symbol, trade id); a
# record without the header keeps its Kafka-coordinate ids; a header with
# the wrong count is dead-lettered with the reason and none of its trades
# is stored; the Avro values stay readable with the reference schema.
source "$TP_SOURCE_DIR/tests/lib/common.sh"
source "$TP_SOURCE_DIR/tests/lib/process.sh"
schema="$TP_SOURCE_DIR/tests/fixtures/reference-trades.avsc"

start_kafka market:1 market.dlq:1
now=$(($(date +%s) * 1000))
# one Avro message per file; trade id 5000 + k is at now + k with price 100 + k
/usr/bin/python3 - "$schema" "$TMP" "$now" <<'PY'
import io, sys
import avro.io, avro.schema
parse = getattr(avro.schema, "parse", None) or avro.schema.Parse
schema = parse(open(sys.argv[1]).read())
tmp, now = sys.argv[2], int(sys.argv[3])
def rec(name, sym, ks):
    data = [{"c": None, "p": 100.0 + k, "s": sym, "t": now + k, "v": 1.0} for k in ks]
    b = io.BytesIO()
    avro.io.DatumWriter(schema).write({"data": data, "type": "trade"}, avro.io.BinaryEncoder(b))
    open(f"{tmp}/{name}.avro", "wb").write(b.getvalue())
rec("a", "BINANCE:BTCUSDT", [0, 1, 2])
rec("c", "BINANCE:BTCUSDT", [2, 3])
rec("d", "AAPL", [90])
PY
put() { kcat -P -b "$BS" -t market -k "$1" "${@:3}" "$TMP/$2.avro" || fail "kcat -P $2"; }
put BINANCE:BTCUSDT a -H tp-trade-ids=5000,5001,5002
put BINANCE:BTCUSDT a -H tp-trade-ids=5000,5001,5002 # the same trades again, at another offset
put BINANCE:BTCUSDT c -H tp-trade-ids=5002,5003      # 5002 a third time, 5003 new
put BINANCE:BTCUSDT c -H tp-trade-ids=5004           # wrong count: dead-lettered
put AAPL d                                           # no ids: as before
bg proc "$TICKPIPE" process --brokers "$BS" --topic market --store "sqlite:$TMP/t.db" "${KX[@]}" \
  --progress-interval 0
wait_for 60 stored_eq "$TMP/t.db" 5
wait_for 30 grep -q "has a bad tp-trade-ids header" "$TMP/proc.log"
kill -TERM "$PID_proc"
wait "$PID_proc" || fail "process exited with $?"
grep -q "summary: 5 records, 9 trades .* 5 durable, .* 1 bad records;" "$TMP/proc.log" ||
  fail "process summary: $(grep summary: "$TMP/proc.log")"
grep -q "market \[0\] offset 3 ([0-9]* bytes) has a bad tp-trade-ids header: the tp-trade-ids header lists 1 ids, the record holds 2 trades" \
  "$TMP/proc.log" || fail "no clear log line: $(grep -m3 offset "$TMP/proc.log")"
[ "$(kcat -C -b "$BS" -t market.dlq -e -q -f '%h\n' |
  grep -c 'tickpipe.error=trade ids: the tp-trade-ids header lists 1 ids, the record holds 2 trades')" = 1 ] ||
  fail "the dead letter: $(kcat -C -b "$BS" -t market.dlq -e -q -f '%h\n')"
ok "a header with the wrong count: dead-lettered with the reason"

# every venue trade once, each with the id of (symbol, trade id)
want=$(/usr/bin/python3 "$TP_SOURCE_DIR/tests/lib/venue_ids.py" BINANCE:BTCUSDT 5000 5001 5002 5003 | sort)
got=$(sql "$TMP/t.db" "SELECT uuid FROM trades WHERE symbol = 'BINANCE:BTCUSDT' ORDER BY uuid")
[ "$got" = "$want" ] || fail "stored ids: got $(echo $got), want $(echo $want)"
expect() { [ "$2" = "$3" ] || fail "$1: got '$3', want '$2'"; }
expect "prices by id" "5000|100.0,5001|101.0,5002|102.0,5003|103.0" "$(
  for id in 5000 5001 5002 5003; do
    u=$(/usr/bin/python3 "$TP_SOURCE_DIR/tests/lib/venue_ids.py" BINANCE:BTCUSDT $id)
    printf '%s|%s\n' "$id" "$(sql "$TMP/t.db" "SELECT price FROM trades WHERE uuid = '$u'")"
  done | paste -sd,)"
ok "4 venue trades from 3 records (8 trades), each stored once with the id of (symbol, trade id)"
# the repeats were not folded either: the 1 s candles count each trade once
expect "candle trade counts" 4 "$(sql "$TMP/t.db" "SELECT sum(trade_count) FROM candles
  WHERE symbol = 'BINANCE:BTCUSDT' AND interval_s = 60")"
expect "AAPL without ids" 1 "$(sql "$TMP/t.db" "SELECT count(*) FROM trades WHERE symbol = 'AAPL'
  AND length(uuid) = 36 AND substr(uuid, 15, 1) = '8'")"
ok "a record without the header stored as before"
# the values on the topic decode with the reference schema, as Finnhub's did
kcat -C -b "$BS" -t market -e -q -D '' -o 0 -c 1 >"$TMP/first.bin"
/usr/bin/python3 - "$schema" "$TMP/first.bin" <<'PY' || fail "the record does not decode with the reference schema"
import io, sys
import avro.io, avro.schema
parse = getattr(avro.schema, "parse", None) or avro.schema.Parse
schema = parse(open(sys.argv[1]).read())
m = avro.io.DatumReader(schema).read(avro.io.BinaryDecoder(io.BytesIO(open(sys.argv[2], "rb").read())))
assert [d["p"] for d in m["data"]] == [100.0, 101.0, 102.0], m
PY
ok "records readable with the reference trades.avsc"
