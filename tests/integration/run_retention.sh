#!/usr/bin/env bash
# run_retention.sh - short retention on every store (SQLite, PostgreSQL,
# ClickHouse, Cassandra): `tickpipe run` with trades and 1 s candles kept
# 6 s, averages 20 s, 1 min candles 30 s. While it runs and after it stops:
# no row is older than its retention (plus the time between two steps; on
# ClickHouse also the mutation's lag, see ch_retain), recent rows stay (every
# window starting after the trade cutoff equals what the trades give, by
# tests/lib/window_oracle.py), and the SQLite file stops growing (its size
# in the second half of the run stays within 25% of the first). Prints the
# bytes per kept trade of each store. (PostgreSQL's tables stop growing once
# autovacuum has run, which takes longer than this test.) Cassandra's rows
# expire by TTL, read back through its own Python driver. TP_RETENTION_STORES
# (default "sqlite pg ch cass") picks stores.
source "$TP_SOURCE_DIR/tests/lib/common.sh"
source "$TP_SOURCE_DIR/tests/lib/stores.sh"
stores_use TP_RETENTION_STORES "sqlite pg ch cass"
oracle="$TP_SOURCE_DIR/tests/lib/window_oracle.py"
command -v sqlite3 >/dev/null || fail "sqlite3 CLI missing (scripts/install-deps.sh --test installs it)"

# q KIND WHERE SQL_SQLITE SQL_PG
q() { if [ "$1" = sqlite ]; then sqlite3 -batch -noheader "$2" "$3"; else psql -X -A -t -q "$2" -c "$4"; fi; }
ms() { echo "(extract(epoch from $1)*1000)::int8"; }
oldest() { # oldest trade, 1 s candle, 1 min candle, average (epoch ms; x = none)
  case $1 in ch | cass) /usr/bin/python3 "$oracle" "$1" "$2" --oldest | cut -d' ' -f1-4; return ;; esac
  q "$1" "$2" "SELECT (SELECT min(trade_timestamp) FROM trades) || ' ' || ifnull((SELECT min(start_ms) FROM candles WHERE interval_s = 1), 'x')
      || ' ' || ifnull((SELECT min(start_ms) FROM candles WHERE interval_s = 60), 'x') || ' ' || ifnull((SELECT min(window_start) FROM running_averages_15_sec), 'x')" \
    "SELECT (SELECT $(ms 'min(trade_timestamp)') FROM trades) || ' ' || coalesce((SELECT $(ms 'min(start_time)') FROM candles WHERE interval_s = 1)::text, 'x')
      || ' ' || coalesce((SELECT $(ms 'min(start_time)') FROM candles WHERE interval_s = 60)::text, 'x') || ' ' || coalesce((SELECT $(ms 'min(window_start)') FROM running_averages_15_sec)::text, 'x')"
}
count() {
  case $1 in ch | cass) /usr/bin/python3 "$oracle" "$1" "$2" --oldest | cut -d' ' -f5; return ;; esac
  q "$1" "$2" "SELECT count(*) FROM trades" "SELECT count(*) FROM trades" 2>/dev/null || echo 0
}
# Trades and 1 s candles are kept RT s. Cassandra expires rows by TTL, on
# its own clock, also while the oracle reads them: it keeps them longer, so
# that the windows checked after the stop still have all their trades when
# they are read (the oracle's --alive).
rt_of() { [ "$1" = cass ] && echo 12 || echo 6; }
check_ages() { # check_ages KIND WHERE NOW_MS: nothing older than retention + slack
  local now=$3 o t c1 c60 av slack=3000 rt; rt=$(($(rt_of "$1") * 1000))
  # ClickHouse deletes by mutation once a tenth of a table has expired
  # (0.6 s of trades here), the mutation runs in the background
  [ "$1" = ch ] && slack=5000
  read -r t c1 c60 av <<<"$(oldest "$1" "$2")"
  [ "$t" -ge $((now - rt - slack)) ] || fail "$1: a trade $(((now - t) / 1000)) s old is kept (retention $rt ms)"
  [ "$c1" = x ] || [ "$c1" -ge $((now - rt - slack)) ] || fail "$1: a 1 s candle $(((now - c1) / 1000)) s old ($rt ms)"
  [ "$c60" = x ] || [ "$c60" -ge $((now - 30000 - 60000 - slack)) ] || fail "$1: a 1 min candle too old"
  [ "$av" = x ] || [ "$av" -ge $((now - 20000 - slack)) ] || fail "$1: an average $(((now - av) / 1000)) s old (20 s)"
}
size_of() {
  case $1 in
    sqlite) stat -c %s "$2" ;;
    pg) psql -X -A -t -q "$2" -c "SELECT pg_total_relation_size('trades')" ;;
    ch) ch_q "SELECT sum(bytes_on_disk) FROM system.parts WHERE database = 'tickpipe' AND table = 'trades' AND active" ;;
    cass) echo 0 ;; # no size from the driver: expiry is checked by the ages
  esac
}
# Two feed gaps of a symbol that never trades, written by the database's
# own client once the run has made the tables: one that ended an hour
# before T0 and one that ends an hour after. (Cassandra expires gaps by the
# TTL tickpipe writes them with, which rows written here would not have.)
gap_put() { # gap_put KIND WHERE T0
  local a=$(($3 - 3600000)) b=$(($3 + 3600000)) v="'reconnect', $3, 0"
  case $1 in
  sqlite) [ -s "$2" ] && sqlite3 -cmd ".timeout 5000" "$2" "INSERT OR IGNORE INTO feed_gaps (symbol, from_ms, to_ms, reason, detected_at, connection) VALUES ('RETGAP', $((a - 1000)), $a, $v), ('RETGAP', $((b - 1000)), $b, $v)" ;;
  pg) psql -X -q "$2" -c "INSERT INTO feed_gaps (symbol, from_ms, to_ms, reason, detected_at, connection) VALUES ('RETGAP', $((a - 1000)), $a, $v), ('RETGAP', $((b - 1000)), $b, $v) ON CONFLICT DO NOTHING" ;;
  ch) ch_q "INSERT INTO tickpipe.feed_gaps (symbol, from_ms, to_ms, reason, detected_at, connection) VALUES ('RETGAP', $((a - 1000)), $a, $v), ('RETGAP', $((b - 1000)), $b, $v)" ;;
  esac
} 2>/dev/null
gap_ends() { # the to_ms of RETGAP's gaps, one per line
  case $1 in
  sqlite) sqlite3 -cmd ".timeout 5000" "$2" "SELECT to_ms FROM feed_gaps WHERE symbol = 'RETGAP' ORDER BY to_ms" ;;
  pg) psql -X -A -t -q "$2" -c "SELECT to_ms FROM feed_gaps WHERE symbol = 'RETGAP' ORDER BY to_ms" ;;
  ch) ch_q "SELECT to_ms FROM tickpipe.feed_gaps FINAL WHERE symbol = 'RETGAP' ORDER BY to_ms" ;;
  esac
}
now_ms() { date +%s%3N; }
past() { [ "$(now_ms)" -ge "$1" ]; }

cycle() { # cycle KIND URL WHERE
  local kind=$1 url=$2 where=$3 rt; rt=$(rt_of "$1")
  "$TICKPIPE" run --store "$url" --no-http --symbols AAPL,MSFT,BINANCE:BTCUSDT,OANDA:EUR_USD --sim-rate 2000 \
    --allowed-lateness 2 --retain-trades "${rt}s" --retain-candles-1s "${rt}s" --retain-averages 20s --retain-candles-1m 30s --retain-gaps 20s \
    >/dev/null 2>"$TMP/$kind.log" &
  local pid=$! t0
  on_exit "kill -9 $pid 2>/dev/null"
  t0=$(now_ms)
  [ "$kind" = cass ] || wait_for 60 gap_put "$kind" "$where" "$t0"
  wait_for 30 past $((t0 + 12000))
  check_ages "$kind" "$where" "$(now_ms)"
  local s1 s2
  s1=$(size_of "$kind" "$where")
  wait_for 30 past $((t0 + 24000))
  check_ages "$kind" "$where" "$(now_ms)"
  s2=$(size_of "$kind" "$where")
  local n; n=$(count "$kind" "$where")
  kill -TERM "$pid"
  local rc=0; wait "$pid" || rc=$?
  [ "$rc" = 0 ] || fail "$kind: run exited $rc: $(tail -5 "$TMP/$kind.log")"
  local stop; stop=$(now_ms)
  check_ages "$kind" "$where" "$stop"
  if [ "$kind" != cass ]; then
    # the gap that ended an hour ago went; the one that ends in an hour stays
    local gaps; gaps=$(gap_ends "$kind" "$where")
    [ "$gaps" = "$((t0 + 3600000))" ] || fail "$kind: feed gaps left after retention (--retain-gaps 20s): '$gaps'"
  fi
  [ "$n" -gt 2000 ] || fail "$kind: only $n trades kept: recent rows were deleted too"
  # the windows after the cutoff of the last step are whole
  # no step deleted anything at or after stop - 6 s
  local since=$(((stop - 5000 + 4999) / 5000 * 5000))
  local alive=(); [ "$kind" = cass ] && alive=(--alive $((rt * 1000)))
  /usr/bin/python3 "$oracle" "$kind" "$where" --since "$since" "${alive[@]}" >"$TMP/oracle.out" ||
    fail "$kind: windows after the retention cutoff: $(cat "$TMP/oracle.out")"
  # (a stop slower than 5 s, its last commit on a loaded machine, leaves
  # no trade after that cutoff: the ages above are still checked)
  grep -q "oracle: 0 trades" "$TMP/oracle.out" && echo "# $kind: the stop took over 5 s; no window after the last cutoff to compare"
  if [ "$kind" = sqlite ]; then
    [ "$s2" -le $((s1 * 5 / 4 + 65536)) ] || fail "sqlite: the file grew from $s1 to $s2 bytes with retention"
  fi
  [ "$kind" = cass ] || echo "# $kind: $n trades kept; $([ "$kind" = sqlite ] && echo "the whole file" || echo "the trades table with its index") $s1 -> $s2 bytes, $(((s2 + n - 1) / n)) bytes per kept trade"
  ok "$kind: retention keeps every table bounded (trades and 1 s candles $rt s, averages and gaps 20 s), recent windows exact ($(cat "$TMP/oracle.out"))"
}

each_store cycle ret.db
