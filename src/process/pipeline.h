/* pipeline.h - the processing stage shared by `process` and `run`:
 * batches in, ids assigned, windows folded, rows written to a store and made
 * durable.
 *
 * tp_pipeline_add() copies the trades of a batch into the pending unit of
 * work, gives each an id derived from (b->origin, index) (tp_trade_id), or
 * from (symbol, venue trade id) when it has one (tp_trade_venue_id), and
 * folds it into the windows. tp_pipeline_flush() writes pending trades and
 * window updates to the store and commits; on a store failure it logs
 * clearly, keeps everything pending and retries with backoff (up to 30 s
 * between attempts) until it succeeds or tp_pipeline_stop() is called.
 * When flush returns 0, everything added before it is durable: the caller
 * may then commit its Kafka offsets. After tp_pipeline_stop() a flush still
 * makes one attempt (the drain at exit), it only stops retrying.
 * Failed units are re-sent whole, window rows included: a window the window
 * module emitted final and freed stays pending here until it is durable.
 *
 * Threading: one thread drives a tp_pipeline; tp_pipeline_stop() may be
 * called from any thread or a signal handler. */
#ifndef TP_PIPELINE_H
#define TP_PIPELINE_H

#include "core/metrics.h"
#include "core/trade.h"
#include "process/health.h"
#include "process/window.h"
#include "sink/sink.h"

typedef struct tp_pipeline_config {
    const char *store_url;
    tp_window_config win;
    int64_t flush_interval_ms; /* longest a trade waits for its flush; default 200 */
    size_t flush_max_trades;   /* flush once a unit holds this many; default 20000 */
    /* Optional: called from tp_pipeline_flush() after a successful commit
     * with the rows that just became durable (run's live dashboard push).
     * Pointers are valid only during the call. */
    void (*on_durable)(void *ud, const tp_trade *t, size_t nt, const tp_candle *c, size_t nc,
                       const tp_average *a, size_t na);
    void *on_durable_ud;
    /* Restart exactness: the windows a previous run (or another command)
     * left open in the store are rebuilt from the stored trades, so every
     * stored candle and average equals what the stored trades give.
     * TP_REBUILD_ALL (default): at tp_pipeline_new, every symbol in the
     * store (run). TP_REBUILD_LAZY: a symbol the first time a trade of it
     * arrives after start or tp_pipeline_reset_windows (process: only the
     * symbols of the partitions this member owns). TP_REBUILD_OFF: never.
     * A window final in the store stays as it is. */
    int rebuild;
    /* With rebuild: remember the ids of the trades read back and do not
     * fold them again when they are added (Kafka re-delivers records whose
     * trades are already durable). Off for a live feed: its ids are new. */
    int dedupe_rebuilt;
    /* Optional: the store part is set failing (with the error) when a flush
     * attempt fails and ok when one succeeds. */
    tp_health *health;
    /* How long the store keeps rows (0 = forever, the default). Enforced
     * between units in small steps (at most 2,000 rows per table each, a
     * step every 200 ms while there is a backlog of expired rows, else every
     * 30 s) through the store's retain op; a store without one keeps all. */
    tp_retention retention;
} tp_pipeline_config;

enum { TP_REBUILD_ALL = 0, TP_REBUILD_LAZY = 1, TP_REBUILD_OFF = 2 };

void tp_pipeline_config_default(tp_pipeline_config *c);

/* Deterministic 128-bit id (UUID v8 layout) of trade `index` of the record at
 * (topic, partition, offset): processing the same record twice yields the
 * same ids. */
void tp_trade_id(const tp_origin *o, uint32_t index, uint8_t out[16]);

/* The id of a trade that carries its venue's own trade id (trade_id != 0):
 * from (symbol, trade_id) only, the symbol naming the venue by its prefix
 * (BINANCE:BTCUSDT, COINBASE:BTC-USD, KRAKEN:...). Wherever the trade came
 * from (two tickpipe instances, a restart, a replayed recording, the feed
 * or Kafka), it gets the same id, so the store's upsert on the id keeps it
 * once. tp_pipeline_add uses it for every trade with trade_id != 0, and
 * drops a trade whose (symbol, trade_id) it was given before (since start
 * or tp_pipeline_reset_windows; feed/dedupe.h's window): the first copy
 * is stored and folded, the repeat neither (stats venue_repeats). */
void tp_trade_venue_id(tp_str symbol, int64_t trade_id, uint8_t out[16]);

#define TP_PIPELINE_LAT_BUCKETS TP_LOGHIST_BUCKETS
typedef struct tp_pipeline_stats {
    uint64_t trades, late, flushes, store_errors;
    int64_t watermark_ms;
    /* Added after the first fields; callers may ignore them. */
    uint64_t skipped; /* non-finite price/volume or v < 0: stored, not folded */
    size_t pending;   /* trades not yet durable */
    uint64_t rows_trades, rows_candles, rows_averages; /* rows made durable */
    /* Receipt (tp_trade.recv_ms) to durable, per trade, in ms: bucket 0
     * holds 0, bucket k > 0 holds (2^((k-1)/8), 2^(k/8)] (8 per octave,
     * +-9%; the last one everything above ~31 h). */
    uint64_t latency_hist[TP_PIPELINE_LAT_BUCKETS];
    uint64_t rebuilt_symbols, rebuilt_trades; /* read back from the store */
    uint64_t deduped;                         /* added trades not folded: already folded from the store */
    uint64_t gaps;                            /* feed gaps added (tp_pipeline_add_gap) */
    uint64_t venue_repeats; /* added trades whose (symbol, venue trade id) was added before: dropped */
} tp_pipeline_stats;

typedef struct tp_pipeline tp_pipeline;
int tp_pipeline_new(const tp_pipeline_config *cfg, tp_pipeline **out, char *err, size_t errlen);
int tp_pipeline_add(tp_pipeline *p, const tp_batch *b);
/* tp_pipeline_add for a restart: trades are not folded into windows that
 * start before floor_ms, which an earlier run completed and stored (see
 * tp_windows_add_since). INT64_MIN = tp_pipeline_add. */
int tp_pipeline_add_since(tp_pipeline *p, const tp_batch *b, int64_t floor_ms);
/* tp_pipeline_add_since without the trades whose keep[i] is 0 (rejected at
 * the door: core/trade_check.h); the others keep the id of their index in
 * b. keep NULL = every trade. */
int tp_pipeline_add_masked(tp_pipeline *p, const tp_batch *b, int64_t floor_ms, const unsigned char *keep);
/* A feed gap (copied): part of the pending unit, written with the store's
 * write_gaps when it has one (else only counted), and the windows of its
 * symbol that overlap it are marked incomplete. 0 or TP_ENOMEM. */
int tp_pipeline_add_gap(tp_pipeline *p, const tp_gap_row *g);
/* With cfg.win.external_watermark = 1, the caller drives the watermark
 * (Kafka: the slowest assigned partition's newest event time). */
void tp_pipeline_advance(tp_pipeline *p, int64_t event_ms);
int64_t tp_pipeline_watermark(const tp_pipeline *p); /* INT64_MIN before any */
/* Forget all window state (Kafka: partitions were revoked; the next owner
 * rebuilds their windows from the committed offsets). Only with nothing
 * pending (after a successful flush): TP_ESTATE otherwise. */
int tp_pipeline_reset_windows(tp_pipeline *p);
/* Group commit. A flush is due once the oldest pending trade has waited as
 * long as the previous unit took to write and commit (so units grow with
 * the load and the store: a committer beside the reader would have
 * collected as much), at most flush_interval_ms, or once flush_max_trades
 * are pending; also when flush_interval_ms passed since the last flush and
 * window rows are pending or the watermark moved. Callers check after each
 * add and wait for input at most tp_pipeline_flush_in_us().
 * flush_due: 1 if a flush is due, else 0.
 * flush_in_us: microseconds until the pending trades are due (0: now; -1:
 * nothing pending). */
int tp_pipeline_flush_due(const tp_pipeline *p, int64_t now_ms);
int64_t tp_pipeline_flush_in_us(const tp_pipeline *p);
size_t tp_pipeline_pending(const tp_pipeline *p); /* trades added, not yet durable */
/* force: also emit open windows now and final ones regardless of interval.
 * Returns 0 (durable), or TP_ESTATE if stopped before it could succeed. */
int tp_pipeline_flush(tp_pipeline *p, int force);
/* One step of retention (cfg.retention) if one is due. Every flush runs
 * one after its unit; callers also call this when idle, between flushes, so
 * expired rows go while no trade arrives (a closed market). Cheap when no
 * step is due. */
void tp_pipeline_retain(tp_pipeline *p);
int64_t tp_pipeline_open_since(const tp_pipeline *p); /* see tp_windows_open_since */
void tp_pipeline_get_stats(const tp_pipeline *p, tp_pipeline_stats *out);
/* Upper bound (ms) of the latency bucket holding quantile q (0..1) of
 * s->latency_hist; -1 when empty. */
int64_t tp_pipeline_latency_quantile_ms(const tp_pipeline_stats *s, double q);
void tp_pipeline_stop(tp_pipeline *p);
/* As tp_pipeline_stop() from monotonic time at_us (tp_mono_us) on: the
 * drain's deadline. Async-signal-safe. */
void tp_pipeline_stop_at(tp_pipeline *p, int64_t at_us);
int tp_pipeline_stopped(const tp_pipeline *p); /* stop() called or stop_at passed */
void tp_pipeline_free(tp_pipeline *p);         /* does not flush */

#endif
