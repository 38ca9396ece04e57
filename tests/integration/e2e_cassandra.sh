#!/usr/bin/env bash
# e2e_cassandra.sh - the distributed path into a real Apache Cassandra
# (tests/lib/cassandra.sh): simulate -> produce -> mock Kafka (3 partitions)
# -> two tickpipe process in one group (one killed -9 mid-stream and
# restarted) -> cassandra://; checked against the topic decoded with Python
# avro (every trade once, exact), candles against the stored trades
# (python3-cassandra), and tickpipe serve over the same store.
# Then Cassandra stopped while process runs and more trades are produced:
# process retries, commits no offset while the store is down, and once it is
# back every trade is stored exactly once.
source "$TP_SOURCE_DIR/tests/lib/common.sh"
source "$TP_SOURCE_DIR/tests/lib/cassandra.sh"
source "$TP_SOURCE_DIR/tests/lib/e2e.sh"

t_start=$(date +%s)
cass_start
STORE_URL="$CASS_URL"
ORACLE=(/usr/bin/python3 "$TP_SOURCE_DIR/tests/lib/cassandra_oracle.py" "$CASS_PORT" tp_test)
store_count() { "${ORACLE[@]}" count 2>/dev/null || echo 0; }
store_dump() { "${ORACLE[@]}" dump "$1" || fail "python3-cassandra: cannot read the trades"; }
store_candles() { "${ORACLE[@]}" candles; }

n=12000
e2e_run "$n"

# --- the store goes away while process runs --------------------------------
t0=$(cass_q "SELECT blobAsBigint(timestampAsBlob(max(trade_timestamp))) FROM tp_test.trades")
t0=$((t0 / 60000 * 60000 + 60000))
e2e_recording "$TMP/before.rec" "$t0" 2000 100 1
e2e_recording "$TMP/during.rec" $((t0 + 200000)) 2000 5 2
e2e_replay prod2 "$TMP/before.rec"
e2e_produced prod2 2000
e2e_proc procc
wait_for 120 stored_eq $((n + 2000))
# Phase one's trades are dated now and the watermark never passes the wall
# clock, so its last minute window closes (and the offsets move) only once
# the wall clock passes that minute's end and --allowed-lateness (15 s):
# up to 75 s after phase one's last trade.
wait_for 180 committed_gt 0
c0=$(committed_total)
echo "  committed offsets before the outage: $c0"
cass_stop
echo "  Cassandra stopped"
e2e_replay prod3 "$TMP/during.rec"
e2e_produced prod3 2000
wait_for 60 grep -q 'store cassandra failed' "$TMP/procc.log"
group_offsets >"$TMP/offsets.down1" || fail "group_offsets: $(cat "$TMP/offsets.down1")"
wait_for 60 grep -q 'store cassandra failed.* retry 3 ' "$TMP/procc.log"
group_offsets >"$TMP/offsets.down2" || fail "group_offsets: $(cat "$TMP/offsets.down2")"
grep 'store cassandra failed' "$TMP/procc.log" | head -1 | sed 's/^/  log: /'
read -r _ c1 h1 < <(grep '^total' "$TMP/offsets.down1")
read -r _ c2 h2 < <(grep '^total' "$TMP/offsets.down2")
echo "  while down: committed $c1 -> $c2, end of partitions $h1 -> $h2"
[ "$c1" = "$c2" ] || fail "offsets were committed while the store was down ($c1 -> $c2)"
[ "$c2" -ge "$c0" ] && [ "$c2" -gt 0 ] || fail "committed offsets went back ($c0 -> $c2)"
[ "$h2" -gt "$c2" ] || fail "nothing was produced during the outage: nothing tested"
cass_restart
echo "  Cassandra started again"
wait_for 120 stored_eq $((n + 4000))
wait_for 60 grep -q 'store cassandra is writable again' "$TMP/procc.log"
e2e_stop procc
offsets_sane || fail "committed offsets: $(cat "$TMP/offsets")"
e2e_check_store
ok "Cassandra stopped mid-stream and started again: no commit while down, every trade stored exactly once, candles agree"
ok "e2e_cassandra took $(($(date +%s) - t_start))s"
