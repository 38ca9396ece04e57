#!/usr/bin/env bash
# e2e_clickhouse.sh - the distributed path into a real ClickHouse server
# (tests/lib/clickhouse.sh): simulate -> produce -> Apache Kafka (3 partitions)
# -> two tickpipe process in one group (one killed -9 mid-stream and
# restarted) -> clickhouse://; checked against the topic decoded with
# Python avro (every trade once, exact), candles against the stored trades
# (clickhouse-client, reading with FINAL as the schema says), and tickpipe
# serve over the same store.
source "$TP_SOURCE_DIR/tests/lib/common.sh"
source "$TP_SOURCE_DIR/tests/lib/clickhouse.sh"
source "$TP_SOURCE_DIR/tests/lib/e2e.sh"

ch_start
STORE_URL="$CH_URL"
store_count() { ch_q "SELECT count() FROM tickpipe.trades FINAL" 2>/dev/null || echo 0; }
# ClickHouse prints Float64 as the shortest text that reads back the same;
# a NULL as \N in TSV.
store_dump() {
  ch_q "SELECT uuid, symbol, price, volume, trade_timestamp, trade_conditions
        FROM tickpipe.trades FINAL FORMAT TabSeparated" >"$1" || fail "clickhouse-client: cannot read the trades"
}
store_candles() {
  ch_q "SELECT count(), (SELECT count() FROM tickpipe.candles FINAL),
          sum(c_n != n OR abs(c_v - v) > 1e-9 * greatest(1, v) OR c_hi != hi OR c_lo != lo)
        FROM (
          SELECT symbol, interval_s, start_ms, count() AS n, sum(volume) AS v, max(price) AS hi, min(price) AS lo
          FROM (SELECT symbol, volume, price, iv AS interval_s,
                       intDiv(trade_timestamp, iv * 1000) * iv * 1000 AS start_ms
                FROM tickpipe.trades FINAL ARRAY JOIN [toInt32(1), toInt32(60)] AS iv)
          GROUP BY symbol, interval_s, start_ms)
        ANY LEFT JOIN (
          SELECT symbol, interval_s, start_ms, trade_count AS c_n, volume AS c_v, high AS c_hi, low AS c_lo
          FROM tickpipe.candles FINAL)
        USING (symbol, interval_s, start_ms)
        FORMAT TabSeparated" | tr '\t' ' '
}

e2e_run 12000
