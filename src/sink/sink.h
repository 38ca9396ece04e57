/* sink.h - one interface for every serving store.
 *
 * A store is one file in sink/ that defines a `const tp_sink_ops` named
 * tp_sink_<name>_ops, one entry in cmake/stores.cmake (name, source, DDL
 * file), its DDL file in sql/ and its test server script: the store
 * table, the embedded DDL (tp_sql_<name>) and the CMake option
 * TP_STORE_<NAME> all come from that list (Fluent Bit's output plugins are
 * the model). A store has writer operations and, optionally, reader
 * operations (tp_sink_reader_ops) for serve and the dashboard. Stores are chosen by URL:
 *   sqlite:PATH                       embedded default (sqlite:data/tickpipe.db)
 *   postgresql://user:pw@host/db      libpq URI (postgres:// too)
 *   clickhouse://host:8123/db?user=u&password=p   HTTP interface
 *   cassandra://user:pw@host:9042,host2/keyspace  CQL native protocol
 *   null:                             discards writes (benchmarks)
 *
 * Write protocol: write_* calls add rows to the current unit of work;
 * commit() makes every row written since the previous successful commit
 * durable. Only after commit() returns 0 may Kafka offsets be committed.
 * If any call fails the unit is lost: the caller reconnects by simply
 * calling again (the store reconnects itself) and re-sends everything since
 * the last successful commit. Every write is idempotent (same id = same
 * row), so re-sending is always safe.
 *
 * Tables (see sql/): trades (uuid, symbol, trade_conditions, price, volume,
 * trade_timestamp, ingest_timestamp; key includes the id so two trades of a
 * symbol in one millisecond are both kept), running_averages_15_sec,
 * candles. Created at open when missing; a schema_version table drives
 * migrations.
 *
 * Threading: a tp_sink is used by one thread at a time. Readers (serve)
 * open their own tp_sink on the same URL. The table functions are pure and
 * may be called from any thread. */
#ifndef TP_SINK_H
#define TP_SINK_H

#include "core/trade.h"

#include <stddef.h>
#include <stdint.h>

/* Per symbol, average of price*volume over a 15 s window sliding by 5 s. */
typedef struct tp_average {
    tp_str symbol;
    int64_t window_start_ms, window_end_ms; /* [start, end) */
    double price_volume_multiply;           /* mean of p*v over trades with v > 0 */
    int64_t trade_count;                    /* trades folded in (v > 0) */
    int64_t ingest_ms;                      /* when this version was computed */
    uint8_t id[16];                         /* deterministic from symbol+window */
    int final;                              /* 1 once the watermark passed window_end */
    int incomplete;                         /* 1: its range overlaps a feed gap of its symbol */
} tp_average;

/* OHLCV bucket. v = 0 price updates move open/high/low/close but not
 * volume/vwap. */
typedef struct tp_candle {
    tp_str symbol;
    int32_t interval_s; /* 1 or 60 */
    int64_t start_ms;   /* bucket start, aligned to interval */
    double open, high, low, close;
    double volume;
    double vwap;         /* NAN when volume == 0 (stored as NULL) */
    int64_t trade_count; /* every update folded in, v = 0 included */
    int64_t updated_ms;  /* ingest time of this version */
    int final;
    int incomplete; /* 1: its range overlaps a feed gap of its symbol (window.h) */
} tp_candle;

typedef struct tp_symbol_info {
    tp_str symbol;
    int64_t trade_count;
    double last_price;
    int64_t last_ts_ms;
} tp_symbol_info;

typedef struct tp_query {
    const char *symbol; /* required except for symbols */
    int64_t from_ms;    /* inclusive; 0 = no bound */
    int64_t to_ms;      /* exclusive; 0 = no bound */
    int limit;          /* the LATEST `limit` rows in range, returned oldest first */
    int interval_s;     /* candles: 1 or 60 */
} tp_query;

/* A hole in a symbol's feed (feed/gaps.h): no trades between from_ms and
 * to_ms (the event times of its last trade before and first after) on a
 * connection that dropped or fell silent, or whose venue trade ids jumped.
 * Table feed_gaps, key (symbol, from_ms, connection); from_trade_id and
 * to_trade_id (columns of those names, NULL when 0) are the missing venue
 * trade ids, inclusive, when the venue numbers its trades. */
typedef struct tp_gap_row {
    tp_str symbol;
    int64_t from_ms, to_ms;
    const char *reason; /* "reconnect", "silence", "key_in_use", "server_error", "id_jump" */
    int64_t detected_at_ms;
    int32_t connection;
    int64_t from_trade_id, to_trade_id; /* 0, 0 = not known (no venue ids) */
} tp_gap_row;

/* Row callbacks: return 0 to go on, nonzero to stop early (not an error).
 * Pointers in the row are valid only during the call. */
typedef int (*tp_trade_row_fn)(void *ud, const tp_trade *t, int64_t ingest_ms);
typedef int (*tp_candle_row_fn)(void *ud, const tp_candle *c);
typedef int (*tp_average_row_fn)(void *ud, const tp_average *a);
typedef int (*tp_symbol_row_fn)(void *ud, const tp_symbol_info *s);
typedef int (*tp_gap_row_fn)(void *ud, const tp_gap_row *g);

/* How long rows are kept (by event time: trade_timestamp, candle start,
 * window start, against the wall clock); 0 = forever. */
typedef struct tp_retention {
    int64_t trades_ms, candles_1s_ms, candles_1m_ms, averages_ms;
    int64_t gaps_ms; /* feed_gaps rows, by the gap's end (to_ms) */
} tp_retention;

/* Reader operations: what `serve` and the dashboard's REST API and live
 * polling need. Optional as a whole: a write-only store leaves
 * tp_sink_ops.reader NULL; a store that gives the struct gives all four. */
typedef struct tp_sink_reader_ops {
    int (*query_symbols)(void *state, tp_symbol_row_fn fn, void *ud, char *err, size_t errlen);
    int (*query_trades)(void *state, const tp_query *q, tp_trade_row_fn fn, void *ud, char *err,
                        size_t errlen);
    int (*query_candles)(void *state, const tp_query *q, tp_candle_row_fn fn, void *ud, char *err,
                         size_t errlen);
    int (*query_averages)(void *state, const tp_query *q, tp_average_row_fn fn, void *ud, char *err,
                          size_t errlen);
} tp_sink_reader_ops;

/* The rules every network store's URL (SCHEME://[USER[:PASSWORD]@]HOST...)
 * is held to before its own parser sees it, so that no parser guesses
 * where a password ends: every '%' starts a %XX escape; no space, control
 * character or '#'; at most one '@' before the host, none after it in the
 * path and none in a parameter's name (a raw '@', '/' or '?' in a
 * password). 0, or TP_EINVAL with err saying which rule, as "<store> store
 * URL: ...". The message never quotes the URL. */
int tp_sink_url_syntax(const char *url, const char *store, char *err, size_t errlen);

/* One store. The writer operations (open .. close) are required; every
 * other member is optional and NULL means "not supported". The table
 * check (tp_sink_check_ops) runs on every entry before it is used.
 *
 * Adding an optional operation `frob`:
 *   1. a member `int (*frob)(void *state, ..., char *err, size_t errlen);`
 *      at the end of this struct (designated initializers in the stores
 *      keep compiling; stores without it get NULL);
 *   2. `int tp_sink_frob(tp_sink *s, ...)` in sink.c that returns
 *      TP_ESTATE with "the X store cannot frob" when the member is NULL,
 *      and `int tp_sink_can_frob(const tp_sink *s)` for callers that
 *      choose a path up front;
 *   3. if frob only makes sense together with another member, say so in
 *      tp_sink_check_ops, and cover it in tests/unit/test_sink.c. */
typedef struct tp_sink_ops {
    const char *scheme; /* "sqlite", "postgresql", "clickhouse", "null" */
    const char *alias;  /* another accepted scheme ("postgres"), or NULL */
    /* writer: required */
    int (*open)(const char *url, void **state, char *err, size_t errlen);
    int (*write_trades)(void *state, const tp_trade *t, size_t n, int64_t ingest_ms, char *err,
                        size_t errlen);
    int (*write_averages)(void *state, const tp_average *a, size_t n, char *err, size_t errlen);
    int (*write_candles)(void *state, const tp_candle *c, size_t n, char *err, size_t errlen);
    int (*commit)(void *state, char *err, size_t errlen);
    void (*close)(void *state);
    /* reader: optional (NULL = write-only store) */
    const tp_sink_reader_ops *reader;
    /* optional: is url well formed for this store? Opens and connects
     * nothing; 0 or TP_EINVAL naming the rule. tp_sink_check_url runs it,
     * so a bad URL is a usage error at start, not an error at open. */
    int (*check_url)(const char *url, char *err, size_t errlen);
    /* optional, with reader: every symbol with stored trades and the event time of its newest trade
     * (trade_count -1, last_price NAN), without counting rows: a restart's
     * first question, asked of a store that may hold days of trades. */
    int (*query_latest)(void *state, tp_symbol_row_fn fn, void *ud, char *err, size_t errlen);
    /* optional: feed gaps (tp_gap_row), part of the unit of work like the
     * other writes (idempotent on the key; of two rows of one key, in one
     * unit or not, the one with the smallest detected_at_ms is kept) ... */
    int (*write_gaps)(void *state, const tp_gap_row *g, size_t n, char *err, size_t errlen);
    /* ... and, with reader, the gaps of q->symbol that overlap [from, to),
     * oldest first, at most q->limit (0 = all) */
    int (*query_gaps)(void *state, const tp_query *q, tp_gap_row_fn fn, void *ud, char *err, size_t errlen);
    /* optional: one small step of retention: delete at most max_rows rows
     * of each table that are older than r says at now_ms, in a transaction
     * of its own (never inside a unit of work), and give space back where
     * the store can; *deleted gets the rows deleted (max_rows per table
     * means: call again soon). A store that expires rows by its own means
     * (Cassandra's TTL) takes r for the writes that follow: the pipeline
     * calls retain once before its first write. */
    int (*retain)(void *state, const tp_retention *r, int64_t now_ms, int max_rows, uint64_t *deleted,
                  char *err, size_t errlen);
} tp_sink_ops;

typedef struct tp_sink tp_sink;

/* Open the store named by url (creating its schema if missing). Errors name
 * the store and say how to fix it ("is the server running?"). */
int tp_sink_open(const char *url, tp_sink **out, char *err, size_t errlen);
const char *tp_sink_scheme(const tp_sink *s);
/* Does url name a store this build knows, and is it well formed for that
 * store (its check_url)? 0, or TP_EINVAL with err saying which schemes
 * exist or which rule the URL breaks. Opens nothing (for flag checks at
 * start-up). */
int tp_sink_check_url(const char *url, char *err, size_t errlen);
/* As tp_sink_check_url, and the store must have reader operations (serve):
 * TP_EINVAL naming the stores that do, for a write-only one. */
int tp_sink_check_reader_url(const char *url, char *err, size_t errlen);
/* 1 if the store can be queried (has reader operations), else 0. */
int tp_sink_can_read(const tp_sink *s);
int tp_sink_write_trades(tp_sink *s, const tp_trade *t, size_t n, int64_t ingest_ms, char *err,
                         size_t errlen);
int tp_sink_write_averages(tp_sink *s, const tp_average *a, size_t n, char *err, size_t errlen);
int tp_sink_write_candles(tp_sink *s, const tp_candle *c, size_t n, char *err, size_t errlen);
int tp_sink_commit(tp_sink *s, char *err, size_t errlen);
int tp_sink_query_symbols(tp_sink *s, tp_symbol_row_fn fn, void *ud, char *err, size_t errlen);
/* Feed gaps: TP_ESTATE "the X store cannot store feed gaps" when the store
 * lacks the op; tp_sink_can_write_gaps / can_query_gaps choose up front. */
int tp_sink_write_gaps(tp_sink *s, const tp_gap_row *g, size_t n, char *err, size_t errlen);
int tp_sink_query_gaps(tp_sink *s, const tp_query *q, tp_gap_row_fn fn, void *ud, char *err, size_t errlen);
int tp_sink_can_write_gaps(const tp_sink *s);
int tp_sink_can_query_gaps(const tp_sink *s);
int tp_sink_query_trades(tp_sink *s, const tp_query *q, tp_trade_row_fn fn, void *ud, char *err,
                         size_t errlen);
int tp_sink_query_candles(tp_sink *s, const tp_query *q, tp_candle_row_fn fn, void *ud, char *err,
                          size_t errlen);
int tp_sink_query_averages(tp_sink *s, const tp_query *q, tp_average_row_fn fn, void *ud, char *err,
                           size_t errlen);
/* query_latest if the store has it, else the reader's query_symbols (same
 * answer, slower); a write-only store answers TP_ESTATE. */
int tp_sink_query_latest(tp_sink *s, tp_symbol_row_fn fn, void *ud, char *err, size_t errlen);
/* retain if the store has it (*deleted = 0 and 0 otherwise: such a store
 * keeps everything, or enforces retention by its own means). */
int tp_sink_retain(tp_sink *s, const tp_retention *r, int64_t now_ms, int max_rows, uint64_t *deleted,
                   char *err, size_t errlen);
int tp_sink_can_retain(const tp_sink *s);
void tp_sink_close(tp_sink *s);

/* The store table, for help texts and checks. tp_sink_schemes() is the
 * schemes this build knows as "sqlite:, postgresql:, ..." (static text);
 * tp_sink_table() gives the entries themselves (*n of them). */
const char *tp_sink_schemes(void);
const tp_sink_ops *const *tp_sink_table(size_t *n);
/* Is ops a well-formed entry: a scheme of [a-z0-9+.-], every writer
 * operation, and either no reader or a full one? 0, or TP_EINVAL saying
 * what is missing. */
int tp_sink_check_ops(const tp_sink_ops *ops, char *err, size_t errlen);

/* Format a 16-byte id as a UUID string (36 chars + NUL). */
void tp_uuid_format(const uint8_t id[16], char out[37]);

#endif
