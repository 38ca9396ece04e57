#!/usr/bin/env bash
# store_postgresql.sh - the store contract suite against a real PostgreSQL
# (started here on a free loopback port), psql as oracle, the server killed
# mid-stream and restarted while a writer retries, and a server that is
# down reported clearly without the password.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/store_oracle.sh"
. "$(dirname "$0")/../lib/store_gaps.sh"
. "$(dirname "$0")/../lib/postgres.sh"
SC="$TP_TOOLS_DIR/store_contract"
pg_start
URL="$PG_URL"

"$SC" check "$URL" --large 100000 | tee "$TMP/check.out"
summary_vars "$TMP/check.out"
like="$(printf '%s' "$prefix" | sed "s/'/''/g")%"
expect_eq "schema_version (psql)" 3 "$(psql_q "SELECT max(version) FROM schema_version")"
expect_eq "trades (psql)" "$trades" "$(psql_q "SELECT count(*) FROM trades WHERE symbol LIKE '$like'")"
expect_eq "null conditions (psql)" "$null_cond" \
  "$(psql_q "SELECT count(*) FROM trades WHERE symbol LIKE '$like' AND trade_conditions IS NULL")"
expect_eq "empty conditions (psql)" "$empty_cond" \
  "$(psql_q "SELECT count(*) FROM trades WHERE symbol LIKE '$like' AND trade_conditions = '[]'::jsonb")"
expect_eq "averages (psql)" "$averages" \
  "$(psql_q "SELECT count(*) FROM running_averages_15_sec WHERE symbol LIKE '$like'")"
expect_eq "candles (psql)" "$candles" "$(psql_q "SELECT count(*) FROM candles WHERE symbol LIKE '$like'")"
expect_eq "conditions as jsonb (psql)" '|[]|["1", "12"]|[null, "", "quote\" back\\ tab\t nl\n", "ünï😀"]' \
  "$(psql_q "SELECT string_agg(coalesce(trade_conditions::text, ''), '|' ORDER BY trade_timestamp) FROM trades
        WHERE symbol = '${prefix}RT' AND trade_timestamp < (
          SELECT min(trade_timestamp) + interval '4 ms' FROM trades WHERE symbol = '${prefix}RT')")"
# millisecond times are exact timestamptz values
expect_eq "trade_timestamp milliseconds (psql)" 0 \
  "$(psql_q "SELECT count(*) FROM trades WHERE symbol LIKE '$like'
             AND extract(microseconds FROM trade_timestamp)::int8 % 1000 <> 0")"
expect_eq "feed_gaps rows and spans (psql)" "$gaps|$gap_span" \
  "$(psql_q "SELECT count(*), sum(to_ms - from_ms) FROM feed_gaps WHERE symbol LIKE '$like'")"
expect_eq "feed_gaps trade-id ranges (psql)" "$gap_ids|$gap_id_span" \
  "$(psql_q "SELECT count(from_trade_id), sum(to_trade_id - from_trade_id) FROM feed_gaps WHERE symbol LIKE '$like'")"
ok "contract suite and psql oracle"

gaps_oracle() { # store_gaps.sh's oracle: psql
  case $1 in
  gaps) psql_q "SELECT symbol, from_ms, to_ms, reason, connection, detected_at FROM feed_gaps
                WHERE symbol IN ('GAPA', 'GAPB')" | tr '|' ' ' ;;
  trades) psql_q "SELECT (extract(epoch FROM trade_timestamp) * 1000)::int8 FROM trades WHERE symbol = '$2'" ;;
  esac
}
store_gaps_run "$URL" gaps_oracle

# The server killed (-9) mid-stream and restarted: the writer retries, nothing is lost.
N=150000
"$SC" write "$URL" RESTART "$N" 2000 >"$TMP/w.out" 2>"$TMP/w.err" &
wpid=$!
on_exit "kill -9 $wpid 2>/dev/null"
wait_for 60 grep -q "committed 20000" "$TMP/w.out"
pg_kill
wait_for 30 grep -q "retrying" "$TMP/w.err"
# The first failure reads as the connection going away ("is the server
# running" hint), or, when the backend outlives its postmaster long enough
# to say so, as the server's own FATAL: both name the server and the cause.
grep -m1 retrying "$TMP/w.err" | grep -qE "is the server running|terminating connection due to unexpected postmaster exit" ||
  fail "unclear error: $(grep -m1 retrying "$TMP/w.err")"
grep -m1 retrying "$TMP/w.err" | grep -q "PostgreSQL at 127.0.0.1:" || fail "the error does not name the server: $(grep -m1 retrying "$TMP/w.err")"
pg_restart
wait "$wpid" || fail "writer failed: $(tail -3 "$TMP/w.err")"
grep -q "^done $N" "$TMP/w.out" || fail "writer did not finish"
expect_eq "trades after server kill and restart (psql)" "$N" "$(psql_q "SELECT count(*) FROM trades WHERE symbol = 'RESTART'")"
expect_eq "trades after server kill and restart (store)" "$N" "$("$SC" count "$URL" RESTART)"
ok "server killed mid-stream and restarted: $N trades, each once ($(grep -m1 retrying "$TMP/w.err" | cut -c1-150))"

# A server that is down: a clear error, no password anywhere.
pg_stop
if "$SC" check "$URL" >"$TMP/down.out" 2>&1; then fail "check succeeded with the server down"; fi
grep -q "PostgreSQL at 127.0.0.1:$PG_PORT" "$TMP/down.out" || fail "error does not name the server: $(cat "$TMP/down.out")"
grep -q "is the server running" "$TMP/down.out" || fail "error gives no hint: $(cat "$TMP/down.out")"
if grep -q "$PG_PASSWORD" "$TMP/down.out" "$TMP/w.err"; then fail "the password was printed"; fi
ok "server down: $(grep -m1 -o 'PostgreSQL at.*' "$TMP/down.out" | cut -c1-150)"
