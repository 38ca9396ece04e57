-- tickpipe schema for PostgreSQL, version 1.
-- Run by tickpipe at open when the database has no schema yet (see
-- src/sink/postgresql.c), inside a transaction holding an advisory lock.
--
-- Times are timestamptz (millisecond values, UTC), which Grafana's
-- PostgreSQL data source uses directly as time columns. Column names follow
-- the reference schema (trades, running_averages_15_sec), plus our own.
-- trade_conditions is jsonb: NULL when the trade carried no conditions,
-- '[]' when it carried an empty list.

-- Later versions are the migrations in src/sink/postgresql.c (k_migrations):
--   2: running_averages_15_sec and candles gain
--      incomplete smallint NOT NULL DEFAULT 0  -- 1: the window overlaps a feed gap

CREATE TABLE IF NOT EXISTS trades (
    uuid             uuid             NOT NULL,  -- deterministic from (topic, partition, offset, index)
    symbol           text             NOT NULL,
    trade_conditions jsonb,                      -- JSON array or NULL
    price            double precision NOT NULL,
    volume           double precision NOT NULL,  -- 0 for forex/crypto price updates
    trade_timestamp  timestamptz      NOT NULL,  -- event time
    ingest_timestamp timestamptz      NOT NULL,  -- when tickpipe processed it
    -- The key includes the id: two trades of one symbol in one millisecond
    -- are both kept; (symbol, time) first for the dashboard's reads.
    PRIMARY KEY (symbol, trade_timestamp, uuid)
);

CREATE TABLE IF NOT EXISTS running_averages_15_sec (
    uuid                  uuid             NOT NULL,  -- deterministic from (symbol, window_start)
    symbol                text             NOT NULL,
    window_start          timestamptz      NOT NULL,  -- inclusive
    window_end            timestamptz      NOT NULL,  -- exclusive (window_start + 15 s)
    price_volume_multiply double precision NOT NULL,  -- mean of price*volume over trades with volume > 0
    trade_count           bigint           NOT NULL,
    ingest_timestamp      timestamptz      NOT NULL,  -- when this version was computed
    final                 boolean          NOT NULL,  -- true once the watermark passed window_end
    PRIMARY KEY (symbol, window_start)
);

CREATE TABLE IF NOT EXISTS candles (
    symbol      text             NOT NULL,
    interval_s  integer          NOT NULL,  -- 1 or 60
    start_time  timestamptz      NOT NULL,  -- bucket start
    open        double precision NOT NULL,
    high        double precision NOT NULL,
    low         double precision NOT NULL,
    close       double precision NOT NULL,
    volume      double precision NOT NULL,
    vwap        double precision,           -- NULL when volume = 0
    trade_count bigint           NOT NULL,
    updated_at  timestamptz      NOT NULL,  -- ingest time of this version
    final       boolean          NOT NULL,
    PRIMARY KEY (symbol, interval_s, start_time)
);
