#!/usr/bin/env bash
# export_parquet.sh - `tickpipe export` of every table (trades, candles,
# averages, gaps) in every format (parquet, csv, jsonl) from a SQLite store,
# judged by tests/lib/export_check.py: the sqlite3 CLI's own answer against
# what pyarrow AND DuckDB read from the Parquet file (every value, the
# Parquet and Arrow/DuckDB types, each row group's statistics min, max and
# null_count against its data, zstd, the symbol dictionary), and against the
# CSV and JSON lines. The store: http_seed's fixed data (every shape of
# trade conditions, a v = 0 symbol, a non-ASCII one), feed_gaps rows
# written with sqlite3, and 150,000 trades of BULK, three per millisecond,
# written with sqlite3: more than one query page (the export reads the
# store in time windows, the reader answering the latest rows of a range)
# and more than one Parquet row group. Then --symbol, --from, --to, a file
# left unpublished on error, and usage errors.
# The oracles come from tests/lib/pyenv.sh (a venv with pinned pyarrow and
# DuckDB wheels; built on first use).
source "$(dirname "$0")/../lib/common.sh"
need sqlite3:sqlite3
PY=$(bash "$TP_SOURCE_DIR/tests/lib/pyenv.sh") || fail "cannot build the pyarrow/DuckDB venv (tests/lib/pyenv.sh)"
CHECK="$TP_SOURCE_DIR/tests/lib/export_check.py"

DB="$TMP/store.db"
"$TP_TOOLS_DIR/http_seed" "sqlite:$DB" fixed >"$TMP/seed.log" 2>&1 || fail "http_seed: $(cat "$TMP/seed.log")"
B=1700000000000 # http_seed's fixed minute starts here
sqlite3 "$DB" "INSERT INTO feed_gaps (symbol, from_ms, to_ms, reason, detected_at, connection) VALUES
  ('AAPL', $((B + 10400)), $((B + 20700)), 'reconnect', $((B + 20705)), 0),
  ('AAPL', $((B + 40250)), $((B + 43000)), 'silence', $((B + 43002)), 1),
  ('AAPL', $((B - 500000)), $((B - 400000)), 'reconnect', $((B - 399990)), 0),
  ('BINANCE:BTCUSDT', $((B + 20000)), $((B + 30600)), 'key_in_use', $((B + 30601)), 0),
  ('BULK', $((B + 100000)), $((B + 100500)), 'server_error', $((B + 100501)), 3)" ||
  fail "cannot write feed_gaps with sqlite3"
sqlite3 "$DB" "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 149999)
  INSERT INTO trades (uuid, symbol, trade_conditions, price, volume, trade_timestamp, ingest_timestamp)
  SELECT printf('%08x-0000-4000-8000-%012x', i, i * 7919), 'BULK',
         CASE i % 5 WHEN 0 THEN NULL WHEN 1 THEN '[]' WHEN 2 THEN '[\"1\",\"x\"]' ELSE '[\"12\"]' END,
         100 + (i % 1000) / 7.0, i % 7, $B + 90000 + i / 3, $B + 200000 + i FROM n" ||
  fail "cannot write the BULK trades with sqlite3"

export_all() { # DIR [export flags...]: every table in every format into DIR
  local dir=$1 t f
  shift
  mkdir -p "$dir"
  for t in trades candles averages gaps; do
    for f in parquet csv jsonl; do
      "$TICKPIPE" export --store "sqlite:$DB" --table "$t" --format "$f" --out "$dir/$t.$f" "$@" \
        2>"$dir/$t.$f.err" || fail "export --table $t --format $f $*: $(cat "$dir/$t.$f.err")"
    done
  done
}

export_all "$TMP/all"
for t in trades candles averages gaps; do
  "$PY" "$CHECK" "$DB" "$TMP/all" "$t" || fail "export of $t differs from the store"
done
grep -q "^tickpipe export: 150780 trades rows to $TMP/all/trades.parquet" "$TMP/all/trades.parquet.err" ||
  fail "export did not report its row count: $(cat "$TMP/all/trades.parquet.err")"
ngroups=$("$PY" -c 'import sys, pyarrow.parquet as pq; print(pq.ParquetFile(sys.argv[1]).metadata.num_row_groups)' \
  "$TMP/all/trades.parquet")
[ "$ngroups" -ge 2 ] || fail "150,780 trades in $ngroups row group(s): the test meant to cross one"
ok "every table, every format: equal to the store (pyarrow, DuckDB, csv, json)"

# one symbol, a time range (RFC 3339 and epoch ms): the same rows as SQL's
from_ms=$((B + 90000 + 10000)) to_ms=$((B + 90000 + 30000))
from_iso=$(date -u -d "@$((from_ms / 1000))" +%Y-%m-%dT%H:%M:%SZ)
export_all "$TMP/range" --symbol BULK --from "$from_iso" --to "$to_ms"
"$PY" "$CHECK" "$DB" "$TMP/range" trades "symbol = 'BULK' AND trade_timestamp >= $from_ms AND trade_timestamp < $to_ms" ||
  fail "--symbol BULK --from --to: trades differ"
"$PY" "$CHECK" "$DB" "$TMP/range" gaps "symbol = 'BULK' AND to_ms >= $from_ms AND from_ms < $to_ms" ||
  fail "--symbol BULK --from --to: gaps differ"
export_all "$TMP/aapl" --symbol AAPL --from $((B + 20000))
for t in candles averages; do
  col=start_ms
  [ "$t" = averages ] && col=window_start
  "$PY" "$CHECK" "$DB" "$TMP/aapl" "$t" "symbol = 'AAPL' AND $col >= $((B + 20000))" ||
    fail "--symbol AAPL --from: $t differ"
done
ok "--symbol, --from (RFC 3339 and ms), --to select what SQL selects"

# standard output is the same file
"$TICKPIPE" export --store "sqlite:$DB" --table candles --out - >"$TMP/stdout.parquet" 2>/dev/null ||
  fail "export to standard output failed"
cmp -s "$TMP/stdout.parquet" "$TMP/all/candles.parquet" || fail "export to - differs from --out FILE"
ok "--out - writes the same bytes"

# nothing is published on error: a directory where the file would go
mkdir -p "$TMP/blocked/x.parquet"
if "$TICKPIPE" export --store "sqlite:$DB" --table trades --out "$TMP/blocked/x.parquet" 2>"$TMP/blocked.err"; then
  fail "export onto a directory succeeded"
fi
[ ! -e "$TMP/blocked/x.parquet.tmp" ] || fail "a failed export left its .tmp file"
ok "a failed export leaves no file behind: $(head -1 "$TMP/blocked.err")"

# usage errors: exit 2 with the reason
usage() { # WANT_TEXT ARGS...
  local want=$1 rc=0
  shift
  "$TICKPIPE" export "$@" >/dev/null 2>"$TMP/usage.err" || rc=$?
  [ "$rc" = 2 ] || fail "export $*: exit $rc, want 2"
  grep -q -- "$want" "$TMP/usage.err" || fail "export $*: no '$want' in: $(cat "$TMP/usage.err")"
}
usage "give --table" --store "sqlite:$DB"
usage "not one of trades, candles, averages, gaps" --store "sqlite:$DB" --table quotes
usage "not one of parquet, csv, jsonl" --store "sqlite:$DB" --table trades --format xls
usage "neither epoch milliseconds nor an RFC 3339" --store "sqlite:$DB" --table trades --from yesterday
usage "--from must be before --to" --store "sqlite:$DB" --table trades --from 5 --to 5
rc=0
"$TICKPIPE" export --store "sqlite:$TMP/nope.db" --table trades --out "$TMP/n.parquet" 2>"$TMP/nope.err" || rc=$?
[ "$rc" = 1 ] && grep -q "does not exist" "$TMP/nope.err" || fail "a missing SQLite file: rc=$rc $(cat "$TMP/nope.err")"
[ ! -e "$TMP/nope.db" ] || fail "export created the SQLite file it was asked to read"
ok "usage errors exit 2 and say why; a missing store file is not created"
