#!/usr/bin/env bash
# store_clickhouse.sh - the store contract suite against a real ClickHouse
# (started here on free loopback ports), clickhouse-client as oracle, the
# server killed mid-stream and restarted while a writer retries, and a
# server that is down reported clearly without the password.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/store_oracle.sh"
. "$(dirname "$0")/../lib/clickhouse.sh"
. "$(dirname "$0")/../lib/store_gaps.sh"
SC="$TP_TOOLS_DIR/store_contract"
ch_start
URL="$CH_URL"

"$SC" check "$URL" --large 100000 | tee "$TMP/check.out"
summary_vars "$TMP/check.out"
like="$(printf '%s' "$prefix" | sed "s/'/\\\\'/g")%"
expect_eq "schema_version (clickhouse-client)" 3 "$(ch_q "SELECT max(version) FROM tickpipe.schema_version")"
expect_eq "trades (clickhouse-client)" "$trades" \
  "$(ch_q "SELECT count() FROM tickpipe.trades FINAL WHERE symbol LIKE '$like'")"
expect_eq "distinct trade ids (clickhouse-client)" "$trades" \
  "$(ch_q "SELECT uniqExact(uuid) FROM tickpipe.trades WHERE symbol LIKE '$like'")"
expect_eq "null conditions (clickhouse-client)" "$null_cond" \
  "$(ch_q "SELECT count() FROM tickpipe.trades FINAL WHERE symbol LIKE '$like' AND isNull(trade_conditions)")"
expect_eq "empty conditions (clickhouse-client)" "$empty_cond" \
  "$(ch_q "SELECT count() FROM tickpipe.trades FINAL WHERE symbol LIKE '$like' AND trade_conditions = '[]'")"
expect_eq "averages (clickhouse-client)" "$averages" \
  "$(ch_q "SELECT count() FROM tickpipe.running_averages_15_sec FINAL WHERE symbol LIKE '$like'")"
expect_eq "candles (clickhouse-client)" "$candles" \
  "$(ch_q "SELECT count() FROM tickpipe.candles FINAL WHERE symbol LIKE '$like'")"
expect_eq "final candles win after OPTIMIZE FINAL (clickhouse-client)" "1	13	170" \
  "$(ch_q "OPTIMIZE TABLE tickpipe.candles FINAL" && ch_q "SELECT final, high, volume FROM tickpipe.candles
          WHERE symbol = '${prefix}C😀' AND interval_s = 1 ORDER BY start_ms LIMIT 1")"
expect_eq "DateTime column beside the ms (clickhouse-client)" 0 \
  "$(ch_q "SELECT count() FROM tickpipe.trades WHERE symbol LIKE '$like'
           AND toInt64(trade_time) != intDiv(trade_timestamp, 1000)")"
expect_eq "feed_gaps rows and spans (clickhouse-client)" "$gaps	$gap_span" \
  "$(ch_q "SELECT count(), sum(to_ms - from_ms) FROM tickpipe.feed_gaps FINAL WHERE symbol LIKE '$like'")"
expect_eq "feed_gaps trade-id ranges (clickhouse-client)" "$gap_ids	$gap_id_span" \
  "$(ch_q "SELECT count(from_trade_id), sum(assumeNotNull(to_trade_id) - assumeNotNull(from_trade_id))
           FROM tickpipe.feed_gaps FINAL WHERE symbol LIKE '$like' AND from_trade_id IS NOT NULL")"
ok "contract suite and clickhouse-client oracle"

# A database of schema version 1 made before feed_gaps existed (the table
# dropped) gains the table at the next open.
ch_q "DROP TABLE tickpipe.feed_gaps" >/dev/null
"$SC" check "$URL" --large 0 >"$TMP/old.out" 2>&1 || fail "contract suite after feed_gaps was dropped: $(tail -2 "$TMP/old.out")"
grep -q 'ok - feed gaps' "$TMP/old.out" || fail "no gap checks after feed_gaps was dropped"
ok "feed_gaps created in a database of schema version 1 that lacked it"

# Members of a group migrate a fresh store at once: one finds version 1
# recorded while another has already added version 2's and 3's columns
# (18.16 has no ADD COLUMN IF NOT EXISTS). Made here for sure: the columns
# in place, schema_version saying 1.
ch_q "DROP TABLE tickpipe.schema_version" >/dev/null
ch_q "CREATE TABLE tickpipe.schema_version (version UInt32) ENGINE = Log" >/dev/null
ch_q "INSERT INTO tickpipe.schema_version VALUES (1)" >/dev/null
"$SC" check "$URL" --large 0 >"$TMP/mig.out" 2>&1 || fail "open with version 2's columns already added: $(tail -2 "$TMP/mig.out")"
expect_eq "schema_version after the racing migration (clickhouse-client)" 3 \
  "$(ch_q "SELECT max(version) FROM tickpipe.schema_version")"
ok "a migration whose columns another member added first completes"

gaps_oracle() { # store_gaps.sh's oracle: clickhouse-client (FINAL: one row per key)
  case $1 in
  gaps) ch_q "SELECT symbol, from_ms, to_ms, reason, connection, detected_at FROM tp_gaps.feed_gaps FINAL
              WHERE symbol IN ('GAPA', 'GAPB')" | tr '\t' ' ' ;;
  trades) ch_q "SELECT trade_timestamp FROM tp_gaps.trades FINAL WHERE symbol = '$2'" ;;
  esac
}
store_gaps_run "clickhouse://127.0.0.1:$CH_HTTP_PORT/tp_gaps?user=tp&password=$CH_PASSWORD" gaps_oracle

# The server killed (-9) mid-stream and restarted: the writer retries, nothing is lost.
N=150000
"$SC" write "$URL" RESTART "$N" 2000 >"$TMP/w.out" 2>"$TMP/w.err" &
wpid=$!
on_exit "kill -9 $wpid 2>/dev/null"
wait_for 60 grep -q "committed 20000" "$TMP/w.out"
ch_kill
wait_for 30 grep -q "retrying" "$TMP/w.err"
grep -m1 retrying "$TMP/w.err" | grep -q "is the server running" || fail "unclear error: $(grep -m1 retrying "$TMP/w.err")"
ch_restart
wait "$wpid" || fail "writer failed: $(tail -3 "$TMP/w.err")"
grep -q "^done $N" "$TMP/w.out" || fail "writer did not finish"
expect_eq "trades after server kill and restart (clickhouse-client)" "$N" \
  "$(ch_q "SELECT count() FROM tickpipe.trades FINAL WHERE symbol = 'RESTART'")"
expect_eq "trades after server kill and restart (store)" "$N" "$("$SC" count "$URL" RESTART)"
ok "server killed mid-stream and restarted: $N trades, each once ($(grep -m1 retrying "$TMP/w.err" | cut -c1-150))"

# Wrong password: refused, clearly. Server down: a clear error. No password anywhere.
if "$SC" check "clickhouse://127.0.0.1:$CH_HTTP_PORT/tickpipe?user=tp&password=wrong-pw" >"$TMP/auth.out" 2>&1; then
  fail "check succeeded with a wrong password"
fi
grep -q "ClickHouse at 127.0.0.1:$CH_HTTP_PORT: HTTP" "$TMP/auth.out" || fail "unclear auth error: $(cat "$TMP/auth.out")"
# A database name that breaks the rule given as ?database= (it used to skip
# the check and reach CREATE DATABASE as it was): a usage error, exit 2,
# naming the rule, in every command that takes a store; nothing reaches
# the server (clickhouse-client sees no new database).
bad="clickhouse://127.0.0.1:$CH_HTTP_PORT/tickpipe?user=tp&password=$CH_PASSWORD&database=tp_evil%20ENGINE%20%3D%20Memory"
for cmd in serve process run; do
  rc=0; timeout 60 "$TICKPIPE" "$cmd" --store "$bad" >"$TMP/baddb.out" 2>&1 </dev/null || rc=$?
  [ "$rc" = 2 ] || fail "$cmd with a bad ?database=: exit $rc: $(tail -2 "$TMP/baddb.out")"
  grep -q "ClickHouse database name 'tp_evil ENGINE = Memory': a name is letters, digits and _ only" \
    "$TMP/baddb.out" || fail "$cmd: the rule is not named: $(tail -2 "$TMP/baddb.out")"
  if grep -q -e "$CH_PASSWORD" "$TMP/baddb.out"; then fail "$cmd printed the password"; fi
done
expect_eq "databases named tp_evil (clickhouse-client)" 0 \
  "$(ch_q "SELECT count() FROM system.databases WHERE name LIKE 'tp_evil%'")"
ok "bad ?database= is a usage error (exit 2) in serve, process and run; no database created"

# Feed gaps: a run with forced drops; exactly the candles and averages that
# overlap a gap (the run's logged gaps, which run_gaps.sh holds to the
# simulator's holes) are incomplete, as clickhouse-client reads them. A
# database of its own: run rebuilds its windows from every stored trade.
GURL="${URL/\/tickpipe\?//tickpipe_gaps?}"
start_sim gapsim --rate 600 --batch 4 --drop-every 3
timeout 120 "$TICKPIPE" run --ws-url "ws://127.0.0.1:$SIM_PORT" --token t --symbols AAPL,MSFT --store "$GURL" \
  --no-http --max-trades 3000 --max-reconnects 40 --allowed-lateness 1 >/dev/null 2>"$TMP/gaprun.err" ||
  fail "run failed: $(tail -5 "$TMP/gaprun.err")"
ch_q "SELECT symbol, interval_s, start_ms, incomplete FROM tickpipe_gaps.candles FINAL
      WHERE symbol IN ('AAPL', 'MSFT') FORMAT CSV" >"$TMP/gc.csv"
ch_q "SELECT symbol, window_start, window_end, incomplete FROM tickpipe_gaps.running_averages_15_sec FINAL
      WHERE symbol IN ('AAPL', 'MSFT') FORMAT CSV" >"$TMP/ga.csv"
/usr/bin/python3 "$TP_SOURCE_DIR/tests/lib/incomplete_check.py" "$TMP/gaprun.err" "$TMP/gc.csv" "$TMP/ga.csv" ||
  fail "ClickHouse: incomplete windows are not right"
ok "run into ClickHouse: exactly the windows overlapping a gap are incomplete"

ch_stop
if "$SC" check "$URL" >"$TMP/down.out" 2>&1; then fail "check succeeded with the server down"; fi
grep -q "ClickHouse at 127.0.0.1:$CH_HTTP_PORT" "$TMP/down.out" || fail "error does not name the server: $(cat "$TMP/down.out")"
grep -q "is the server running" "$TMP/down.out" || fail "error gives no hint: $(cat "$TMP/down.out")"
if grep -q -e "$CH_PASSWORD" -e wrong-pw "$TMP/down.out" "$TMP/w.err" "$TMP/auth.out"; then fail "a password was printed"; fi
ok "wrong password: $(grep -m1 -o 'ClickHouse at.*' "$TMP/auth.out" | cut -c1-120)"
ok "server down: $(grep -m1 -o 'ClickHouse at.*' "$TMP/down.out" | cut -c1-120)"
