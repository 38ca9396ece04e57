#!/usr/bin/env bash
# process_hostile.sh - the door on the Kafka path. Hostile trades mixed with
# good ones (tests/lib/hostile_feed.py) from the simulator's raw replay go
# through produce -> Apache Kafka: produce sends only the good ones as
# trades and copies each bad one to the dead-letter topic as an Avro record
# (read back with Python's avro, the reason in its headers). A record
# written by another producer (Python avro + kcat) with a NaN price, an
# infinite volume, an empty symbol, a trade an hour ahead of its record and
# a good trade is stored in part by process: the good trade only, the
# record copied whole to the dead letters naming each bad trade. Every
# good trade is stored once (sqlite3's multiset against the generator's
# oracle), and every candle and average equals the recomputation.
source "$TP_SOURCE_DIR/tests/lib/common.sh"
source "$TP_SOURCE_DIR/tests/lib/process.sh"
SYMS=AAPL,MSFT,BINANCE:BTCUSDT
GOOD=500

start_kafka market:2 market.dlq:1
now=$(date +%s%3N)
/usr/bin/python3 "$TP_SOURCE_DIR/tests/lib/hostile_feed.py" "$TMP/h.rec" "$now" $GOOD 11 "$SYMS" \
  "$TMP/oracle.csv" "$TMP/expect.json"
start_sim sim --replay "$TMP/h.rec" --speed 0 --replay-raw
timeout 120 "$TICKPIPE" produce --ws-url "ws://127.0.0.1:$SIM_PORT" --token t --symbols "$SYMS" --brokers "$BS" \
  --topic market --max-trades $GOOD --progress-interval 0 >"$TMP/produce.out" 2>"$TMP/produce.err" ||
  fail "produce failed: $(tail -5 "$TMP/produce.err")"
grep '^summary:\|^rejected' "$TMP/produce.err"
total=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["total_rejected"])' "$TMP/expect.json")
[ "$(summary_field "$TMP/produce.err" delivered_trades)" = $GOOD ] || fail "produce delivered $(summary_field "$TMP/produce.err" delivered_trades) trades"
[ "$(summary_field "$TMP/produce.err" rejected)" = "$total" ] || fail "produce rejected $(summary_field "$TMP/produce.err" rejected), want $total"
[ "$(summary_field "$TMP/produce.err" dead_letters)" = "$total" ] || fail "dead letters: $(summary_field "$TMP/produce.err" dead_letters)"

# another producer's record: one good trade among bad ones
good_t=$((now - 500))
/usr/bin/python3 - "$TP_SOURCE_DIR/tests/fixtures/reference-trades.avsc" "$TMP/mixed.bin" "$now" "$good_t" <<'PY'
import io, sys
import avro.io, avro.schema
parse = getattr(avro.schema, "parse", None) or avro.schema.Parse
schema = parse(open(sys.argv[1]).read())
now, good_t = int(sys.argv[3]), int(sys.argv[4])
trades = [
    {"c": None, "p": float("nan"), "s": "AAPL", "t": now, "v": 1.0},
    {"c": ["1"], "p": 222.25, "s": "MSFT", "t": good_t, "v": 7.0},
    {"c": None, "p": 10.0, "s": "MSFT", "t": now, "v": float("inf")},
    {"c": None, "p": 10.0, "s": "", "t": now, "v": 1.0},
    {"c": None, "p": 10.0, "s": "MSFT", "t": now + 3600000, "v": 1.0},
]
buf = io.BytesIO()
avro.io.DatumWriter(schema).write({"data": trades, "type": "trade"}, avro.io.BinaryEncoder(buf))
open(sys.argv[2], "wb").write(buf.getvalue())
PY
kcat -b "$BS" -P -t market -k MSFT "$TMP/mixed.bin"
printf 'MSFT,222.25,7,%s\n' "$good_t" >>"$TMP/oracle.csv"

bg proc "$TICKPIPE" process --brokers "$BS" --topic market --store "sqlite:$TMP/t.db" --allowed-lateness 1 \
  --partition-idle 1 "${KX[@]}"
wait_for 90 stored_eq "$TMP/t.db" $((GOOD + 1))
kill -TERM "$PID_proc"
wait "$PID_proc" || fail "process exited with $?: $(tail -5 "$TMP/proc.log")"
grep 'summary:' "$TMP/proc.log"
grep -q " 0 late, " "$TMP/proc.log" || fail "late trades: $(grep summary: "$TMP/proc.log")"
grep -q "4 rejected (symbol_empty 1, price 1, volume 1, time_future 1) (in 1 records, dead-lettered)" "$TMP/proc.log" ||
  fail "process's rejections: $(grep summary: "$TMP/proc.log")"
check_store "$TMP/t.db" "$TMP/oracle.csv"
ok "every good trade stored once; windows equal the trades"

# the dead letters: produce's, one Avro record per rejected trade with its
# reason; process's, the record whole naming the bad trades
kcat -b "$BS" -C -t market.dlq -e -q -f '%h\n' >"$TMP/dlq.h"
[ "$(wc -l <"$TMP/dlq.h")" = $((total + 1)) ] || fail "dead letters: $(wc -l <"$TMP/dlq.h"), want $((total + 1))"
/usr/bin/python3 - "$TMP/dlq.h" "$TMP/expect.json" <<'PY' || fail "produce's dead letters by reason"
import json, re, sys
want = json.load(open(sys.argv[2]))["rejected"]
got = {}
for line in open(sys.argv[1]):
    m = re.search(r"(?:^|,)tp-reject=([a-z_]+)", line)
    if m:
        got[m.group(1)] = got.get(m.group(1), 0) + 1
        assert "tickpipe.error=trade checks: " + m.group(1) + ": " in line, line
        assert re.search(r"tp-recv-ms=\d{13}", line), line
assert got == want, (got, want)
PY
grep -q "tickpipe.source.topic=market,.*tickpipe.error=trade checks: trade 0: price; trade 2: volume; trade 3: symbol_empty; trade 4: time_future" "$TMP/dlq.h" ||
  fail "process's dead letter: $(grep tickpipe.source "$TMP/dlq.h")"
# produce's dead letters are trades.avsc messages holding the bad trade
/usr/bin/python3 - "$TP_SOURCE_DIR/tests/fixtures/reference-trades.avsc" "$BS" "$total" <<'PY' || fail "dead letters do not decode with trades.avsc"
import io, subprocess, sys
sys.path.insert(0, __import__("os").environ["TP_SOURCE_DIR"] + "/tests/lib")
import avro_exact
schema = avro_exact.load_schema(sys.argv[1])
n = 0
for off in range(int(sys.argv[3])):
    payload = subprocess.run(["kcat", "-b", sys.argv[2], "-C", "-t", "market.dlq", "-o", str(off), "-c", "1", "-e", "-q",
                              "-f", "%s"], capture_output=True, check=True).stdout
    rec = avro_exact.decode(schema, payload)
    assert rec["type"] == "trade" and len(rec["data"]) == 1, rec
    n += 1
assert n == int(sys.argv[3])
PY
ok "produce: $total bad trades dead-lettered as trades.avsc records with their reasons; process: a mixed record stored in part and dead-lettered whole"
