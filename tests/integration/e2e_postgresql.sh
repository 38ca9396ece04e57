#!/usr/bin/env bash
# e2e_postgresql.sh - the distributed path into a real PostgreSQL server
# (tests/lib/postgres.sh): simulate -> produce -> Apache Kafka (3 partitions)
# -> two tickpipe process in one group (one killed -9 mid-stream and
# restarted) -> postgresql://; checked against the topic decoded with
# Python avro (every trade once, exact), candles against the stored trades
# (psql), and tickpipe serve over the same store.
# Then a store outage: PostgreSQL stopped while process runs and more trades
# are produced; process logs the failure and retries, commits no offset while
# the server is down, and once it is back every trade is stored exactly once.
source "$TP_SOURCE_DIR/tests/lib/common.sh"
source "$TP_SOURCE_DIR/tests/lib/postgres.sh"
source "$TP_SOURCE_DIR/tests/lib/e2e.sh"

pg_start
STORE_URL="$PG_URL"
# shortest text that reads back to the same double
export PGOPTIONS='-c extra_float_digits=3'
store_count() { psql_q "SELECT count(*) FROM trades" 2>/dev/null || echo 0; }
store_dump() {
  psql -X -A -t -q -v ON_ERROR_STOP=1 -F $'\t' "$PG_ADMIN_URL" -c "SELECT uuid, symbol, price, volume,
      (extract(epoch FROM trade_timestamp) * 1000)::bigint, coalesce(trade_conditions::text, '\N')
    FROM trades" >"$1" || fail "psql: cannot read the trades"
}
store_candles() {
  psql -X -A -t -q -v ON_ERROR_STOP=1 -F ' ' "$PG_ADMIN_URL" -c "
    WITH b AS (
      SELECT symbol, iv, (extract(epoch FROM trade_timestamp) * 1000)::bigint / (iv * 1000) * (iv * 1000) AS start,
             count(*) AS n, sum(volume) AS v, max(price) AS hi, min(price) AS lo
      FROM trades, (VALUES (1), (60)) AS i(iv) GROUP BY 1, 2, 3)
    SELECT (SELECT count(*) FROM b), (SELECT count(*) FROM candles),
      (SELECT count(*) FROM b LEFT JOIN candles c
         ON c.symbol = b.symbol AND c.interval_s = b.iv
        AND (extract(epoch FROM c.start_time) * 1000)::bigint = b.start
       WHERE c.symbol IS NULL OR c.trade_count <> b.n OR c.high <> b.hi OR c.low <> b.lo
          OR abs(c.volume - b.v) > 1e-9 * greatest(1, b.v))"
}

n=12000
e2e_run "$n"

# --- the store goes away while process runs --------------------------------
# Recorded trades after phase one's in event time: 2000 trades 100 ms apart
# (200 s, so windows close and process's committed offsets move forward: it
# commits the first record of a window still open), produced before the
# member starts so it reads them as a backlog; then, while the server is
# down, 2000 more 5 ms apart (10 s, less than the allowed lateness).
t0=$(psql_q "SELECT (extract(epoch FROM max(trade_timestamp)) * 1000)::bigint / 60000 * 60000 + 60000 FROM trades")
e2e_recording "$TMP/before.rec" "$t0" 2000 100 1
e2e_recording "$TMP/during.rec" $((t0 + 200000)) 2000 5 2
e2e_replay prod2 "$TMP/before.rec"
e2e_produced prod2 2000
e2e_proc procc
wait_for 60 stored_eq $((n + 2000))
# Phase one's trades are dated now and the watermark never passes the wall
# clock, so its last minute window closes (and the offsets move) only once
# the wall clock passes that minute's end and --allowed-lateness (15 s):
# up to 75 s after phase one's last trade.
wait_for 180 committed_gt 0
c0=$(committed_total)
echo "  committed offsets before the outage: $c0"
pg_stop
echo "  PostgreSQL stopped"
e2e_replay prod3 "$TMP/during.rec"
e2e_produced prod3 2000
wait_for 40 grep -q 'store postgresql failed' "$TMP/procc.log"
group_offsets >"$TMP/offsets.down1" || fail "group_offsets: $(cat "$TMP/offsets.down1")"
# two more failed attempts
wait_for 40 grep -q 'store postgresql failed.* retry 3 ' "$TMP/procc.log"
group_offsets >"$TMP/offsets.down2" || fail "group_offsets: $(cat "$TMP/offsets.down2")"
grep 'store postgresql failed' "$TMP/procc.log" | head -1 | sed 's/^/  log: /'
read -r _ c1 h1 < <(grep '^total' "$TMP/offsets.down1")
read -r _ c2 h2 < <(grep '^total' "$TMP/offsets.down2")
echo "  while down: committed $c1 -> $c2, end of partitions $h1 -> $h2"
[ "$c1" = "$c2" ] || fail "offsets were committed while the store was down ($c1 -> $c2)"
diff <(awk '{print $1, $2}' "$TMP/offsets.down1") <(awk '{print $1, $2}' "$TMP/offsets.down2") >/dev/null ||
  fail "a partition's committed offset moved while the store was down"
[ "$c2" -ge "$c0" ] && [ "$c2" -gt 0 ] || fail "committed offsets went back ($c0 -> $c2)"
[ "$h2" -gt "$c2" ] || fail "nothing was produced during the outage: nothing tested"
pg_restart
echo "  PostgreSQL restarted"
wait_for 60 stored_eq $((n + 4000))
wait_for 30 grep -q 'store postgresql is writable again' "$TMP/procc.log"
e2e_stop procc
offsets_sane || fail "committed offsets: $(cat "$TMP/offsets")"
read -r _ c3 _ < <(grep '^total' "$TMP/offsets")
echo "  committed offsets after the recovery: $c3"
[ "$c3" -ge "$c2" ] || fail "committed offsets went back ($c2 -> $c3)"
! grep -Eq 'total [0-9]+ trades, [0-9]+ durable, [1-9][0-9]* late' "$TMP/procc.log" ||
  fail "trades counted late: $(grep -Eo '[0-9]+ late' "$TMP/procc.log" | tail -1)"
e2e_check_store
ok "PostgreSQL stopped mid-stream and restarted: no commit while down, every trade stored exactly once, candles agree"
