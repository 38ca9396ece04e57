-- tickpipe schema for ClickHouse, version 1 (works on 18.16 and later).
-- Run by tickpipe at open when the database has no schema yet (see
-- src/sink/clickhouse.c), one statement at a time, in the database named by
-- the store URL.
--
-- ClickHouse 18.16 has no DateTime64, so times are Int64 epoch
-- milliseconds under the reference names, with a second-resolution
-- DateTime column beside them (MATERIALIZED: computed on insert, not in
-- SELECT *) for time filters and Grafana's ClickHouse data source.
-- trade_conditions is a JSON text array, or NULL when the trade carried no
-- conditions (ClickHouse has no nullable arrays).
--
-- ClickHouse has no unique keys: rows are made idempotent by
-- ReplacingMergeTree, which keeps one row per sorting key (the one with the
-- highest `version`, else the last inserted) when parts merge; tickpipe's
-- queries read with FINAL so duplicates not merged yet are never seen.
-- For candles and averages version = final * 2^62 + ingest time, so a
-- final row always wins over a non-final one and a later one over an
-- earlier one. In your own queries use FINAL (or argMax by version).

CREATE TABLE IF NOT EXISTS trades (
    uuid             String,            -- deterministic from (topic, partition, offset, index)
    symbol           String,
    trade_conditions Nullable(String),  -- JSON array or NULL
    price            Float64,
    volume           Float64,           -- 0 for forex/crypto price updates
    trade_timestamp  Int64,             -- event time, epoch ms
    ingest_timestamp Int64,             -- when tickpipe processed it, epoch ms
    trade_time       DateTime MATERIALIZED toDateTime(intDiv(trade_timestamp, 1000))
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(toDateTime(intDiv(trade_timestamp, 1000)))
-- the key includes the id: two trades of one symbol in one millisecond are both kept
ORDER BY (symbol, trade_timestamp, uuid);

CREATE TABLE IF NOT EXISTS running_averages_15_sec (
    uuid                  String,   -- deterministic from (symbol, window_start)
    symbol                String,
    window_start          Int64,    -- epoch ms, inclusive
    window_end            Int64,    -- epoch ms, exclusive (window_start + 15000)
    price_volume_multiply Float64,  -- mean of price*volume over trades with volume > 0
    trade_count           Int64,
    ingest_timestamp      Int64,    -- when this version was computed, epoch ms
    final                 UInt8,    -- 1 once the watermark passed window_end
    version               UInt64,   -- final * 2^62 + ingest_timestamp
    window_time           DateTime MATERIALIZED toDateTime(intDiv(window_start, 1000))
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(toDateTime(intDiv(window_start, 1000)))
ORDER BY (symbol, window_start);

CREATE TABLE IF NOT EXISTS candles (
    symbol      String,
    interval_s  Int32,              -- 1 or 60
    start_ms    Int64,              -- bucket start, epoch ms
    open        Float64,
    high        Float64,
    low         Float64,
    close       Float64,
    volume      Float64,
    vwap        Nullable(Float64),  -- NULL when volume = 0
    trade_count Int64,
    updated_ms  Int64,              -- ingest time of this version, epoch ms
    final       UInt8,
    version     UInt64,             -- final * 2^62 + updated_ms
    start_time  DateTime MATERIALIZED toDateTime(intDiv(start_ms, 1000))
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(toDateTime(intDiv(start_ms, 1000)))
ORDER BY (symbol, interval_s, start_ms);

-- The holes in a symbol's feed (README, "Gaps"): no trades between from_ms
-- and to_ms on one connection. This statement also runs at every open, so
-- a database made before the table existed gains it. One row per (symbol,
-- from_ms, connection); version = 2^62 - detected_at, so of two rows of one
-- key the earliest detection is kept, as in the other stores. Read with
-- FINAL, or argMax(..., version) grouped by the key as tickpipe does.
CREATE TABLE IF NOT EXISTS feed_gaps (
    symbol      String,
    from_ms     Int64,   -- event time of the symbol's last trade before the hole, epoch ms
    to_ms       Int64,   -- event time of its first trade after, epoch ms
    reason      String,  -- reconnect, silence, key_in_use, server_error, id_jump
    detected_at Int64,   -- when that first trade was received, epoch ms
    connection  Int32,   -- the feed connection's index
    version     UInt64,  -- 2^62 - detected_at
    from_time   DateTime MATERIALIZED toDateTime(intDiv(from_ms, 1000)),
    from_trade_id Nullable(Int64), -- first missing venue trade id (NULL without venue ids)
    to_trade_id   Nullable(Int64)  -- last missing venue trade id
) ENGINE = ReplacingMergeTree(version)
ORDER BY (symbol, from_ms, connection);
