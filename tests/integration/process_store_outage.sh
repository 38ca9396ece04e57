#!/usr/bin/env bash
# process_store_outage.sh - the store (a real PostgreSQL) crashes while
# tickpipe process streams into it: the process logs what is wrong, keeps
# retrying with its offsets uncommitted, resumes by itself when the server
# is back, and in the end every trade is stored once and candles and
# averages equal the oracle.
source "$TP_SOURCE_DIR/tests/lib/common.sh"
source "$TP_SOURCE_DIR/tests/lib/process.sh"
. "$TP_SOURCE_DIR/tests/lib/postgres.sh"
pg_start

start_kafka market:3 market.dlq:1
bg proc "$TICKPIPE" process --brokers "$BS" --topic market --store "$PG_URL" "${KX[@]}" --progress-interval 1 \
  --flush-interval 100
# the stream starts once process holds the partitions, so that it is still
# live when the store goes away
wait_for 60 grep -q "assigned market" "$TMP/proc.log"
bg gen "$GEN" --brokers "$BS" --topic market --records 3000 --per-record 5 --symbols 6 --rate 300 \
  --step-ms 50 --oracle "$TMP/oracle.csv"
pg_count() { psql -X -At "$PG_URL" -c "SELECT count(*) FROM trades" 2>/dev/null || echo 0; }
pg_ge() { [ "$(pg_count)" -ge "$1" ]; }
pg_eq() { [ "$(pg_count)" = "$1" ]; }
wait_for 60 pg_ge 2000
pg_kill
wait_for 30 grep -q "store postgresql failed" "$TMP/proc.log"
# a few retries while the server is down: waited for, not slept (a fixed
# sleep on a loaded machine may see none)
wait_for 60 grep -q 'store postgresql failed.* retry 3 ' "$TMP/proc.log"
pg_restart
wait "$PID_gen" || fail "generator failed"
total=$(wc -l <"$TMP/oracle.csv")
wait_for 90 pg_eq "$total"
kill -TERM "$PID_proc"
wait "$PID_proc" || fail "process exited with $?"
grep -q "is writable again after" "$TMP/proc.log" || fail "no recovery line"
grep "store postgresql failed" "$TMP/proc.log" | head -2
ok "store outage: clear log lines, recovered by itself"
# Compare through a SQLite copy of the rows, with the same queries as the
# other process tests (times as epoch ms; PostgreSQL prints doubles exactly).
ms() { echo "(extract(epoch from $1) * 1000)::bigint"; }
psql -X -At -F ',' "$PG_URL" -c "SELECT uuid, symbol, price, volume, $(ms trade_timestamp) FROM trades" >"$TMP/t.csv"
psql -X -At -F ',' "$PG_URL" -c "SELECT symbol, interval_s, $(ms start_time), open, high, low, close, volume,
  coalesce(vwap::text, 'null'), trade_count FROM candles" >"$TMP/c.csv"
psql -X -At -F ',' "$PG_URL" -c "SELECT symbol, $(ms window_start), $(ms window_end), price_volume_multiply,
  trade_count FROM running_averages_15_sec" >"$TMP/a.csv"
sqlite3 -batch "$TMP/t.db" <<SQL
CREATE TABLE trades (uuid TEXT, symbol TEXT, price REAL, volume REAL, trade_timestamp INTEGER);
CREATE TABLE candles (symbol TEXT, interval_s INTEGER, start_ms INTEGER, open REAL, high REAL, low REAL,
  close REAL, volume REAL, vwap REAL, trade_count INTEGER);
CREATE TABLE running_averages_15_sec (symbol TEXT, window_start INTEGER, window_end INTEGER,
  price_volume_multiply REAL, trade_count INTEGER);
.mode csv
.import $TMP/t.csv trades
.import $TMP/c.csv candles
.import $TMP/a.csv running_averages_15_sec
UPDATE candles SET vwap = NULL WHERE vwap = 'null';
SQL
check_store "$TMP/t.db" "$TMP/oracle.csv"
ok "after the outage: every trade once, windows equal the oracle"
