#!/usr/bin/env bash
# process_binance.sh - a venue that numbers its trades over the distributed
# path: simulate --feed binance (forced drops and repeated messages) ->
# produce --feed binance -> Apache Kafka (3 partitions) -> process ->
# SQLite. Every trade the simulator sent is stored exactly once, each with
# the id of (symbol, venue trade id) that tests/lib/venue_ids.py computes
# (tests/lib/venue_holes.py walks the ids sent, less the simulator's holes);
# the topic's records carry the ids in tp-trade-ids and its gap records the
# holes' exact id ranges; the Avro values stay readable with the reference
# schema. Then the topic is read again by a second group into the same
# store (a second instance, a replay): nothing is stored twice.
source "$TP_SOURCE_DIR/tests/lib/common.sh"
source "$TP_SOURCE_DIR/tests/lib/process.sh"
IDS="$TP_SOURCE_DIR/tests/lib/venue_holes.py"
schema="$TP_SOURCE_DIR/tests/fixtures/reference-trades.avsc"
SYMS=BTCUSDT,ETHUSDT,SOLUSDT
N=2400

start_kafka market:3 market.dlq:1
start_sim sim --feed binance --rate 600 --max-trades $N --drop-every 0.9 --repeat-rate 0.2 \
  --holes-log "$TMP/sim.holes"
bg prod "$TICKPIPE" produce --feed binance --ws-url "ws://127.0.0.1:$SIM_PORT/ws" --symbols "$SYMS" \
  --brokers "$BS" --topic market --max-trades $N --max-reconnects 50 --progress-interval 1
wait "$PID_prod" || fail "produce exited with $?: $(tail -5 "$TMP/prod.log")"
grep -q "summary: trades=$N .*delivered_trades=$N .*undelivered_trades=0 " "$TMP/prod.log" ||
  fail "produce: $(grep summary "$TMP/prod.log")"
wait "$PID_sim" || true
repeats=$(sed -n 's/.*stopped: .* repeats=\([0-9]*\).*/\1/p' "$TMP/sim.log")
drops=$(sed -n 's/.*stopped: .* drops=\([0-9]*\) .*/\1/p' "$TMP/sim.log")
[ "${repeats:-0}" -gt 0 ] && [ "${drops:-0}" -gt 0 ] || fail "the faults did not happen: repeats=$repeats drops=$drops"

# the topic: ids in headers, one per trade; gap records with the holes' id ranges
kcat -C -b "$BS" -t market -e -q -f '%k\t%h\n' >"$TMP/topic.txt" 2>"$TMP/kcat.err" || fail "kcat: $(cat "$TMP/kcat.err")"
/usr/bin/python3 - "$TMP/topic.txt" "$TMP/sim.holes" <<'PY' || fail "the topic's ids or gap records"
import json, sys
ids, gaps = [], set()
for line in open(sys.argv[1]):
    key, head = line.rstrip("\n").split("\t", 1)
    kv = {}
    for part in head.split(","):
        if "=" in part:
            k, v = part.split("=", 1)
            kv[k] = v
    if "tp-trade-ids" in kv:
        ids.append(kv["tp-trade-ids"])
    if "tp-gap-from-trade-id" in kv:
        gaps.add((key, int(kv["tp-gap-from-trade-id"]), int(kv["tp-gap-to-trade-id"])))
assert ids, "no record carries tp-trade-ids"
holes = {(h["symbol"], h["from_id"], h["to_id"]) for h in map(json.loads, open(sys.argv[2]))}
missing = holes - gaps
assert gaps and not missing, ("holes without a gap record", sorted(missing)[:5], "gap records", sorted(gaps)[:5])
print(f"ok - {len(ids)} records carry tp-trade-ids; {len(gaps)} gap records hold the holes' id ranges")
PY

run_process() { # NAME GROUP
  bg "$1" "$TICKPIPE" process --brokers "$BS" --topic market --group "$2" --store "sqlite:$TMP/t.db" "${KX[@]}" \
    --progress-interval 0
}
run_process proc g1
wait_for 120 stored_eq "$TMP/t.db" $N
sql -separator ' ' "$TMP/t.db" 'SELECT symbol, uuid FROM trades' >"$TMP/t.uuids"
/usr/bin/python3 "$IDS" "$TMP/sim.holes" "$TMP/t.uuids" >"$TMP/t.check" ||
  fail "the stored ids are not the venue ids of the trades sent"
ok "$N trades stored once through $drops drops and $repeats repeated messages, each with its venue id: $(tr '\n' ' ' <"$TMP/t.check")"

# a second group reads the whole topic again into the same store, and
# stops by itself once it has taken all N trades
bg proc2 "$TICKPIPE" process --brokers "$BS" --topic market --group g2 --store "sqlite:$TMP/t.db" "${KX[@]}" \
  --progress-interval 0 --max-trades $N
wait_for 180 grep -q "summary:" "$TMP/proc2.log"
wait "$PID_proc2" || fail "the second process exited with $?: $(tail -3 "$TMP/proc2.log")"
kill -TERM "$PID_proc"
wait "$PID_proc" || fail "process exited with $?"
grep -qE "summary: [1-9][0-9]* records, $N trades" "$TMP/proc2.log" ||
  fail "the second group did not read every trade: $(grep summary "$TMP/proc2.log")"
[ "$(db_count "$TMP/t.db")" = $N ] || fail "the second reading stored more: $(db_count "$TMP/t.db"), want $N"
ok "a second group over the same topic and store: still $N trades, none twice"
