-- tickpipe schema for SQLite, version 1.
-- Run by tickpipe at open when the database has no schema yet (see
-- src/sink/sqlite.c); readable here for anyone querying the file directly.
--
-- Times are INTEGER epoch milliseconds (UTC). Column names follow the
-- reference schema (trades, running_averages_15_sec), plus our own.
-- trade_conditions is a JSON text array, or NULL when the trade carried no
-- conditions: NULL, '[]' and '["1","12"]' are different values.

-- Later versions are the migrations in src/sink/sqlite.c (k_migrations):
--   2: running_averages_15_sec and candles gain
--      incomplete INTEGER NOT NULL DEFAULT 0  -- 1: the window overlaps a feed gap

CREATE TABLE IF NOT EXISTS trades (
    uuid             TEXT    NOT NULL,  -- deterministic id from (topic, partition, offset, index)
    symbol           TEXT    NOT NULL,
    trade_conditions TEXT,              -- JSON array or NULL
    price            REAL    NOT NULL,
    volume           REAL    NOT NULL,  -- 0 for forex/crypto price updates
    trade_timestamp  INTEGER NOT NULL,  -- event time, epoch ms
    ingest_timestamp INTEGER NOT NULL,  -- when tickpipe processed it, epoch ms
    -- The key includes the id: two trades of one symbol in one millisecond
    -- are both kept. Clustered by (symbol, time) for the dashboard's reads.
    PRIMARY KEY (symbol, trade_timestamp, uuid)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS running_averages_15_sec (
    uuid                  TEXT    NOT NULL,  -- deterministic from (symbol, window_start)
    symbol                TEXT    NOT NULL,
    window_start          INTEGER NOT NULL,  -- epoch ms, inclusive
    window_end            INTEGER NOT NULL,  -- epoch ms, exclusive (window_start + 15000)
    price_volume_multiply REAL    NOT NULL,  -- mean of price*volume over trades with volume > 0
    trade_count           INTEGER NOT NULL,
    ingest_timestamp      INTEGER NOT NULL,  -- when this version was computed, epoch ms
    final                 INTEGER NOT NULL,  -- 1 once the watermark passed window_end
    PRIMARY KEY (symbol, window_start)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS candles (
    symbol      TEXT    NOT NULL,
    interval_s  INTEGER NOT NULL,  -- 1 or 60
    start_ms    INTEGER NOT NULL,  -- bucket start, epoch ms
    open        REAL    NOT NULL,
    high        REAL    NOT NULL,
    low         REAL    NOT NULL,
    close       REAL    NOT NULL,
    volume      REAL    NOT NULL,
    vwap        REAL,              -- NULL when volume = 0
    trade_count INTEGER NOT NULL,
    updated_ms  INTEGER NOT NULL,  -- ingest time of this version, epoch ms
    final       INTEGER NOT NULL,
    PRIMARY KEY (symbol, interval_s, start_ms)
) WITHOUT ROWID;
