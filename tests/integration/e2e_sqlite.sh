#!/usr/bin/env bash
# e2e_sqlite.sh - the distributed path into SQLite: tickpipe simulate ->
# produce -> Apache Kafka (3 partitions) -> two tickpipe process in one group
# (one killed -9 mid-stream and restarted) -> sqlite:PATH; every trade of
# the topic (read back with kcat, decoded with Python avro and the reference
# schema) stored exactly once with exact values (sqlite3's ieee754 functions),
# candles agree with the stored trades, committed offsets reach the end of
# every partition, and tickpipe serve answers with the same rows.
source "$TP_SOURCE_DIR/tests/lib/common.sh"
source "$TP_SOURCE_DIR/tests/lib/e2e.sh"
command -v sqlite3 >/dev/null || fail "sqlite3 CLI missing (scripts/install-deps.sh --test installs it)"

DB="$TMP/e2e.db"
STORE_URL="sqlite:$DB"
sq() { sqlite3 -batch -noheader "$DB" "$@"; }
store_count() { sq "SELECT count(*) FROM trades" 2>/dev/null || echo 0; }
store_dump() {
  sq -separator $'\t' "SELECT uuid, symbol,
      ieee754_mantissa(price) || '*2^' || ieee754_exponent(price),
      ieee754_mantissa(volume) || '*2^' || ieee754_exponent(volume),
      trade_timestamp, ifnull(trade_conditions, '\N') FROM trades" >"$1"
}
store_candles() {
  sq -separator ' ' "
    CREATE TEMP TABLE b AS
      SELECT symbol, iv, (trade_timestamp / (iv * 1000)) * iv * 1000 AS start,
             count(*) AS n, sum(volume) AS v, max(price) AS hi, min(price) AS lo
      FROM trades, (SELECT 1 AS iv UNION ALL SELECT 60) GROUP BY 1, 2, 3;
    SELECT (SELECT count(*) FROM b), (SELECT count(*) FROM candles),
      (SELECT count(*) FROM b LEFT JOIN candles c
         ON c.symbol = b.symbol AND c.interval_s = b.iv AND c.start_ms = b.start
       WHERE c.symbol IS NULL OR c.trade_count <> b.n OR c.high <> b.hi OR c.low <> b.lo
          OR abs(c.volume - b.v) > 1e-9 * max(1, b.v));"
}

e2e_run 12000
