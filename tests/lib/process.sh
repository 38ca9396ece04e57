# process.sh - helpers for the `tickpipe process` integration tests.
# Source after common.sh. Gives: start_kafka, check_store.
#
# check_store DB ORACLE compares a SQLite store with gen_trades' oracle using
# sqlite3's own queries: the trades (as a multiset of symbol, price, volume,
# time), distinct ids, and candles and 15 s averages recomputed from the
# oracle in SQL (open/close by event time, then trade id on a tie: taken
# from the stored trades, which the multiset check has shown equal the
# generated ones).

source "$TP_SOURCE_DIR/tests/lib/kafka.sh"
GEN="$TP_TOOLS_DIR/gen_trades"
# A short session timeout: a member killed with -9 is noticed in seconds.
KX=(-X session.timeout.ms=6000 -X heartbeat.interval.ms=500)

command -v sqlite3 >/dev/null || fail "sqlite3 CLI missing (scripts/install-deps.sh --test installs it)"
command -v kcat >/dev/null || fail "kcat missing (scripts/install-deps.sh --test installs it)"

# start_kafka TOPIC:PARTS...: one Apache Kafka node (tests/lib/kafka.sh)
# holding these topics; sets BS to the bootstrap servers.
start_kafka() {
  local t
  kafka_start 1
  for t in "$@"; do kafka_topic "${t%%:*}" "${t##*:}"; done
}

sql() { sqlite3 -batch -noheader "$@"; }

# db_count DB: trades stored (0 when the table does not exist yet).
db_count() { sqlite3 -batch -noheader "$1" "SELECT count(*) FROM trades" 2>/dev/null || echo 0; }
# stored_eq DB N / stored_ge DB N: for wait_for (evaluated on every try).
stored_eq() { [ "$(db_count "$1")" = "$2" ]; }
stored_ge() { [ "$(db_count "$1")" -ge "$2" ]; }

check_store() {
  local db=$1 oracle=$2 n
  n=$(wc -l <"$oracle")
  sqlite3 -batch "$TMP/oracle.db" <<EOF
DROP TABLE IF EXISTS expected;
CREATE TABLE expected (symbol TEXT, price REAL, volume REAL, ts INTEGER);
.mode csv
.import $oracle expected
EOF
  local q
  q=$(sql "$TMP/oracle.db" <<EOF
ATTACH '$db' AS s;
SELECT 'stored', count(*), count(DISTINCT uuid) FROM s.trades;
SELECT 'bad-uuid', count(*) FROM s.trades WHERE length(uuid) <> 36 OR substr(uuid, 15, 1) <> '8';
-- multiset difference both ways
SELECT 'missing', count(*) FROM (
  SELECT symbol, price, volume, ts, count(*) c FROM expected GROUP BY 1,2,3,4
  EXCEPT SELECT symbol, price, volume, trade_timestamp, count(*) FROM s.trades GROUP BY 1,2,3,4);
SELECT 'extra', count(*) FROM (
  SELECT symbol, price, volume, trade_timestamp, count(*) FROM s.trades GROUP BY 1,2,3,4
  EXCEPT SELECT symbol, price, volume, ts, count(*) c FROM expected GROUP BY 1,2,3,4);
EOF
)
  echo "$q" | sed 's/^/  /'
  echo "$q" | grep -qx "stored|$n|$n" || fail "store holds $(echo "$q" | grep stored) trades/ids, oracle has $n"
  echo "$q" | grep -qx "bad-uuid|0" || fail "malformed ids"
  echo "$q" | grep -qx "missing|0" || fail "trades missing from the store"
  echo "$q" | grep -qx "extra|0" || fail "trades in the store that were never produced"

  # Candles recomputed from the oracle; open and close on a tie of times go
  # by trade id, so a window rebuilt after a restart equals one folded live.
  local c
  c=$(sql "$TMP/oracle.db" <<EOF
ATTACH '$db' AS s;
CREATE TEMP TABLE want AS
WITH b AS (SELECT expected.rowid AS r, symbol, price, volume, ts, iv, (ts / (iv * 1000)) * iv * 1000 AS start
           FROM expected, (SELECT 1 AS iv UNION ALL SELECT 60))
SELECT symbol, iv, start,
  (SELECT price FROM s.trades t WHERE t.symbol = b.symbol AND t.trade_timestamp >= b.start
     AND t.trade_timestamp < b.start + b.iv * 1000 ORDER BY trade_timestamp, uuid LIMIT 1) AS open,
  max(price) AS high, min(price) AS low,
  (SELECT price FROM s.trades t WHERE t.symbol = b.symbol AND t.trade_timestamp >= b.start
     AND t.trade_timestamp < b.start + b.iv * 1000 ORDER BY trade_timestamp DESC, uuid DESC LIMIT 1) AS close,
  sum(volume) AS volume,
  CASE WHEN sum(volume) > 0 THEN sum(price * volume) / sum(volume) END AS vwap,
  count(*) AS n
FROM b GROUP BY symbol, iv, start;
SELECT 'candles', (SELECT count(*) FROM want), (SELECT count(*) FROM s.candles);
SELECT 'candle-diff', count(*) FROM want w LEFT JOIN s.candles c
  ON c.symbol = w.symbol AND c.interval_s = w.iv AND c.start_ms = w.start
  WHERE c.symbol IS NULL OR c.open <> w.open OR c.close <> w.close OR c.high <> w.high OR c.low <> w.low
     OR abs(c.volume - w.volume) > 1e-9 * max(1, w.volume) OR c.trade_count <> w.n
     OR (w.vwap IS NULL) <> (c.vwap IS NULL) OR abs(coalesce(c.vwap, 0) - coalesce(w.vwap, 0)) > 1e-9 * max(1, abs(coalesce(w.vwap, 0)));
CREATE TEMP TABLE wavg AS
SELECT symbol, (ts / 5000) * 5000 - k * 5000 AS ws, avg(price * volume) AS pv, count(*) AS n
FROM expected, (SELECT 0 AS k UNION ALL SELECT 1 UNION ALL SELECT 2)
WHERE volume > 0 GROUP BY 1, 2;
SELECT 'averages', (SELECT count(*) FROM wavg), (SELECT count(*) FROM s.running_averages_15_sec);
SELECT 'average-diff', count(*) FROM wavg w LEFT JOIN s.running_averages_15_sec a
  ON a.symbol = w.symbol AND a.window_start = w.ws
  WHERE a.symbol IS NULL OR a.window_end <> w.ws + 15000 OR a.trade_count <> w.n
     OR abs(a.price_volume_multiply - w.pv) > 1e-9 * max(1, abs(w.pv));
EOF
)
  echo "$c" | sed 's/^/  /'
  local want got
  want=$(echo "$c" | awk -F'|' '$1=="candles"{print $2}'); got=$(echo "$c" | awk -F'|' '$1=="candles"{print $3}')
  [ "$want" = "$got" ] && [ "$want" -gt 0 ] || fail "candles: $got stored, $want expected"
  echo "$c" | grep -qx "candle-diff|0" || fail "candles differ from the oracle"
  want=$(echo "$c" | awk -F'|' '$1=="averages"{print $2}'); got=$(echo "$c" | awk -F'|' '$1=="averages"{print $3}')
  [ "$want" = "$got" ] && [ "$want" -gt 0 ] || fail "averages: $got stored, $want expected"
  echo "$c" | grep -qx "average-diff|0" || fail "running averages differ from the oracle"
}
