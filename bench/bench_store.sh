#!/usr/bin/env bash
# bench_store.sh - rows/s into each store through tickpipe's sink, beside the
# store's own bulk load of the same rows in the same run:
#   SQLite      sqlite3 .import (CSV) into the same schema, same pragmas (WAL, synchronous=FULL)
#   PostgreSQL  psql \copy into the same schema in another database of the same server
#   ClickHouse  clickhouse-client INSERT ... FORMAT TabSeparated from a file, same schema
# tickpipe writes in units of BENCH_STORE_UNIT rows (write + commit, as the
# processor's flushes do); the bulk loads are one load each. Best of
# BENCH_RUNS runs, each into empty tables. Prints a Markdown table.
# Environment: BENCH_STORE_ROWS (default 500000), BENCH_STORE_UNIT (20000),
# BENCH_RUNS (2), BENCH_STORES (default "sqlite postgresql clickhouse").
. "$TP_SOURCE_DIR/tests/lib/common.sh"
N=${BENCH_STORE_ROWS:-500000}
UNIT=${BENCH_STORE_UNIT:-20000}
RUNS=${BENCH_RUNS:-2}
STORES=${BENCH_STORES:-sqlite postgresql clickhouse}
BS="${TP_BENCH_DIR:-$TP_BINARY_DIR/bench}/bench_store"
SQL="$TP_SOURCE_DIR/sql"
[ -x "$BS" ] || fail "bench_store helper not built ($BS)"

now() { date +%s.%N; }
rate() { awk -v n="$N" -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", n / (b - a) }'; }
best() { tr ' ' '\n' | sort -n | tail -1; }
rows_table=()
results=()
report() { # STORE SINK_RATES REF_RATES REFNAME
  local s r
  s=$(best <<<"$2"); r=$(best <<<"$3")
  rows_table+=("| $1 | $N | $s | $r ($4) | $(awk -v s="$s" -v r="$r" 'BEGIN { printf "%.0f%%", 100 * s / r }') |")
  results+=("RESULT|store write, $1 (units of $UNIT)|$s|rows/s|$r ($4)|$(awk -v s="$s" -v r="$r" 'BEGIN { printf "%.2f", s / r }')|ratio >= 0.70")
}
check_count() { [ "$2" = "$N" ] || fail "$1: $2 rows loaded, want $N"; }

bench_sqlite() {
  "$BS" file sqlite "$N" "$TMP/trades.csv"
  local sink="" ref="" i out t0 t1
  for ((i = 0; i < RUNS; i++)); do
    rm -f "$TMP"/ref.db* "$TMP"/tp.db*
    sqlite3 "$TMP/ref.db" "PRAGMA journal_mode=WAL;" >/dev/null
    sqlite3 "$TMP/ref.db" <"$SQL/sqlite.sql"
    t0=$(now)
    sqlite3 -cmd "PRAGMA synchronous=FULL" "$TMP/ref.db" ".import --csv $TMP/trades.csv trades"
    t1=$(now)
    ref+=" $(rate "$t0" "$t1")"
    check_count "sqlite3 .import" "$(sqlite3 "$TMP/ref.db" "SELECT count(*) FROM trades")"
    out=$("$BS" sink "sqlite:$TMP/tp.db" "$N" "$UNIT" 2>/dev/null)
    sink+=" ${out%% *}"
    check_count "tickpipe sqlite" "$(sqlite3 "$TMP/tp.db" "SELECT count(*) FROM trades")"
  done
  report SQLite "$sink" "$ref" "sqlite3 .import"
}

bench_postgresql() {
  . "$TP_SOURCE_DIR/tests/lib/postgres.sh"
  pg_start
  "$BS" file postgresql "$N" "$TMP/trades.pgtxt"
  chmod 644 "$TMP/trades.pgtxt"
  psql -X -q "postgresql://postgres@127.0.0.1:$PG_PORT/postgres" -c "CREATE DATABASE ref OWNER tp" >/dev/null
  local ref_url="postgresql://tp:$PG_PASSWORD@127.0.0.1:$PG_PORT/ref"
  psql -X -q -v ON_ERROR_STOP=1 "$ref_url" -f "$SQL/postgresql.sql" >/dev/null
  "$BS" sink "$PG_URL" 1 1 >/dev/null 2>&1 # creates the schema
  local sink="" ref="" resend="" i out t0 t1
  for ((i = 0; i < RUNS; i++)); do
    psql -X -q "$ref_url" -c "TRUNCATE trades" && psql -X -q "$PG_URL" -c "TRUNCATE trades"
    t0=$(now)
    psql -X -q -v ON_ERROR_STOP=1 "$ref_url" -c "\\copy trades FROM '$TMP/trades.pgtxt'"
    t1=$(now)
    ref+=" $(rate "$t0" "$t1")"
    check_count "psql \\copy" "$(psql -X -A -t "$ref_url" -c "SELECT count(*) FROM trades")"
    out=$("$BS" sink "$PG_URL" "$N" "$UNIT" 2>/dev/null)
    sink+=" ${out%% *}"
    check_count "tickpipe postgresql" "$(psql -X -A -t "$PG_URL" -c "SELECT count(*) FROM trades")"
    # the same rows again: every unit conflicts, so each takes the merge path
    out=$("$BS" sink "$PG_URL" "$N" "$UNIT" 2>/dev/null)
    resend+=" ${out%% *}"
    check_count "tickpipe postgresql re-send" "$(psql -X -A -t "$PG_URL" -c "SELECT count(*) FROM trades")"
  done
  report PostgreSQL "$sink" "$ref" "psql \\copy"
  report "PostgreSQL, re-sent units (all rows stored already)" "$resend" "$ref" "psql \\copy"
}

bench_clickhouse() {
  . "$TP_SOURCE_DIR/tests/lib/clickhouse.sh"
  ch_start
  "$BS" file clickhouse "$N" "$TMP/trades.tsv"
  local sink="" ref="" i out t0 t1
  for ((i = 0; i < RUNS; i++)); do
    ch_q "CREATE DATABASE ref$i"
    clickhouse-client --host 127.0.0.1 --port "$CH_TCP_PORT" --user tp --password "$CH_PASSWORD" \
      --database "ref$i" --multiquery <"$SQL/clickhouse.sql"
    t0=$(now)
    clickhouse-client --host 127.0.0.1 --port "$CH_TCP_PORT" --user tp --password "$CH_PASSWORD" \
      --database "ref$i" -q "INSERT INTO trades (uuid, symbol, trade_conditions, price, volume,
        trade_timestamp, ingest_timestamp) FORMAT TabSeparated" <"$TMP/trades.tsv"
    t1=$(now)
    ref+=" $(rate "$t0" "$t1")"
    check_count "clickhouse-client" "$(ch_q "SELECT count() FROM ref$i.trades")"
    local url="clickhouse://127.0.0.1:$CH_HTTP_PORT/tp$i?user=tp&password=$CH_PASSWORD"
    out=$("$BS" sink "$url" "$N" "$UNIT" 2>/dev/null)
    sink+=" ${out%% *}"
    check_count "tickpipe clickhouse" "$(ch_q "SELECT count() FROM tp$i.trades FINAL")"
  done
  report ClickHouse "$sink" "$ref" "clickhouse-client TSV"
}

for s in $STORES; do "bench_$s" >&2; done
echo "Store write throughput, $N trades, tickpipe units of $UNIT rows, best of $RUNS ($(date -u +%Y-%m-%d), $(nproc) cores)"
echo
echo "| store | rows | tickpipe sink rows/s | bulk load rows/s | ratio |"
echo "| --- | --- | --- | --- | --- |"
printf '%s\n' "${rows_table[@]}"
echo
printf '%s\n' "${results[@]}"
