#!/usr/bin/env bash
# archive_parquet.sh - `tickpipe archive` over a SQLite store whose rows
# span two UTC days (http_seed's fixed minute on 2023-11-14, and 60,000
# trades of BULK written with sqlite3 from 2023-11-14T23:50Z to
# 2023-11-15T00:10Z; a feed gap that crosses midnight; two candles and an
# average marked not final). Checked with DuckDB and pyarrow
# (tests/lib/pyenv.sh) against the sqlite3 CLI's answer:
#   - the Hive layout: table=T/date=D/part-FROM-TO.parquet, one file per
#     table and day, no temporary file left (a crashed run's .tmp is
#     replaced by the day's file);
#   - DuckDB's count(*) over DIR/table=trades/**/*.parquet equals the
#     store's trades; each day file equals the store's rows of that day,
#     every value (tests/lib/export_check.py), final candles and averages
#     only; the midnight gap once, in the day it starts;
#   - a second run writes nothing (every day already there) and changes no
#     byte;
#   - a day archived before keeps its file when the store lost rows since.
source "$(dirname "$0")/../lib/common.sh"
need sqlite3:sqlite3
PY=$(bash "$TP_SOURCE_DIR/tests/lib/pyenv.sh") || fail "cannot build the pyarrow/DuckDB venv (tests/lib/pyenv.sh)"
CHECK="$TP_SOURCE_DIR/tests/lib/export_check.py"

DB="$TMP/store.db"
"$TP_TOOLS_DIR/http_seed" "sqlite:$DB" fixed >"$TMP/seed.log" 2>&1 || fail "http_seed: $(cat "$TMP/seed.log")"
D14=1699920000000 D15=1700006400000 D16=1700092800000 # 2023-11-14, -15, -16 00:00Z
sqlite3 "$DB" "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 59999)
  INSERT INTO trades (uuid, symbol, trade_conditions, price, volume, trade_timestamp, ingest_timestamp)
  SELECT printf('%08x-0000-4000-8000-%012x', i, i), 'BULK', CASE i % 3 WHEN 0 THEN NULL ELSE '[\"1\"]' END,
         50 + (i % 97) / 3.0, i % 5, $D15 - 600000 + i * 20, $D15 + i FROM n;
  INSERT INTO feed_gaps (symbol, from_ms, to_ms, reason, detected_at, connection) VALUES
    ('BULK', $D15 - 1000, $D15 + 2000, 'reconnect', $D15 + 2001, 0),
    ('AAPL', 1700000010400, 1700000020700, 'silence', 1700000020705, 1);
  UPDATE candles SET final = 0 WHERE symbol = 'AAPL' AND interval_s = 1 AND start_ms IN (1700000058000, 1700000059000);
  UPDATE running_averages_15_sec SET final = 0 WHERE symbol = 'AAPL' AND window_start = (SELECT max(window_start)
    FROM running_averages_15_sec WHERE symbol = 'AAPL')" || fail "cannot seed with sqlite3"

AR="$TMP/arch"
mkdir -p "$AR/table=trades/date=2023-11-15"
echo "half a file" >"$AR/table=trades/date=2023-11-15/.part-$D15-$D16.parquet.tmp" # a crashed run's
"$TICKPIPE" archive --store "sqlite:$DB" --archive "file:$AR" --from 2023-11-13T00:00:00Z --to $D16 \
  2>"$TMP/a1.err" || fail "archive: $(cat "$TMP/a1.err")"
grep -q "5 files published" "$TMP/a1.err" || fail "first run: $(cat "$TMP/a1.err")"
grep -q "3 not final yet" "$TMP/a1.err" || fail "not-final rows not reported: $(cat "$TMP/a1.err")"
(cd "$AR" && find . -type f | sort) >"$TMP/files"
cat >"$TMP/want" <<EOW
./table=averages/date=2023-11-14/part-$D14-$D15.parquet
./table=candles/date=2023-11-14/part-$D14-$D15.parquet
./table=gaps/date=2023-11-14/part-$D14-$D15.parquet
./table=trades/date=2023-11-14/part-$D14-$D15.parquet
./table=trades/date=2023-11-15/part-$D15-$D16.parquet
EOW
diff "$TMP/want" "$TMP/files" >&2 || fail "archive layout differs (above)"
ok "Hive layout: one file per table and day, the crashed run's .tmp gone"

n=$("$PY" -c 'import duckdb, sys; print(duckdb.sql(f"select count(*) from \"{sys.argv[1]}/table=trades/**/*.parquet\"").fetchone()[0])' "$AR")
want=$(sqlite3 "$DB" "select count(*) from trades")
[ "$n" = "$want" ] && [ "$want" = 60780 ] || fail "duckdb counts $n trades in the archive, the store has $want"
"$PY" - "$AR" <<'PY' || fail "hive partitions do not read back"
import duckdb, sys
r = duckdb.sql(f"select date::varchar, count(*) from read_parquet('{sys.argv[1]}/table=trades/**/*.parquet', hive_partitioning=true) group by 1 order by 1").fetchall()
assert r == [("2023-11-14", 780 + 30000), ("2023-11-15", 30000)], r
PY
for day in "$D14 $D15" "$D15 $D16"; do
  set -- $day
  date=$(date -u -d "@$(($1 / 1000))" +%F)
  "$PY" "$CHECK" "$DB" - trades "trade_timestamp >= $1 AND trade_timestamp < $2" \
    "$AR/table=trades/date=$date/part-$1-$2.parquet" || fail "trades of $date differ"
done
"$PY" "$CHECK" "$DB" - candles "final = 1 AND start_ms >= $D14 AND start_ms < $D15" \
  "$AR/table=candles/date=2023-11-14/part-$D14-$D15.parquet" || fail "candles differ"
"$PY" "$CHECK" "$DB" - averages "final = 1 AND window_start >= $D14 AND window_start < $D15" \
  "$AR/table=averages/date=2023-11-14/part-$D14-$D15.parquet" || fail "averages differ"
"$PY" "$CHECK" "$DB" - gaps "from_ms >= $D14 AND from_ms < $D15" \
  "$AR/table=gaps/date=2023-11-14/part-$D14-$D15.parquet" || fail "gaps differ (the midnight gap once, on its first day)"
ok "the archive holds exactly the store's rows: $want trades, final windows only, each gap once"

sum1=$(cd "$AR" && find . -name '*.parquet' -type f -exec sha256sum {} + | sort)
"$TICKPIPE" archive --store "sqlite:$DB" --archive "file:$AR" --from 2023-11-13T00:00:00Z --to $D16 \
  2>"$TMP/a2.err" || fail "second archive: $(cat "$TMP/a2.err")"
grep -q "0 files published.*5 already there" "$TMP/a2.err" || fail "second run: $(cat "$TMP/a2.err")"
# the store trims a day (retention): the archive keeps the fuller file
sqlite3 "$DB" "DELETE FROM trades WHERE trade_timestamp < $D15"
"$TICKPIPE" archive --store "sqlite:$DB" --archive "file:$AR" --from 2023-11-13T00:00:00Z --to $D16 \
  2>"$TMP/a3.err" || fail "third archive: $(cat "$TMP/a3.err")"
sum2=$(cd "$AR" && find . -name '*.parquet' -type f -exec sha256sum {} + | sort)
[ "$sum1" = "$sum2" ] || fail "a later run changed archived files"
ok "a day is written once: later runs (and a trimmed store) change no byte"

rc=0
"$TICKPIPE" archive --store "sqlite:$DB" --archive "s3://b/p" 2>"$TMP/u.err" || rc=$?
[ "$rc" = 2 ] && grep -q "give file:DIR" "$TMP/u.err" || fail "archive to s3:// rc=$rc: $(cat "$TMP/u.err")"
ok "an archive URL other than file: is a usage error"
