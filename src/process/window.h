/* window.h - event-time windows over trades, with a watermark.
 *
 * Two families of windows per symbol:
 *  - running averages: mean of price*volume over [start, start+15 s), a
 *    window starting every 5 s (so each trade is in 3 windows);
 *  - candles: OHLCV buckets of 1 s and 1 min.
 * The watermark is max(event time seen) - allowed_lateness. A window is
 * final once watermark >= its end; a trade whose every window is final is
 * late: counted, not folded (the caller still stores the trade itself).
 * Open windows are emitted as they change, at most every emit_interval
 * (upserts), and once more, final, when the watermark passes them.
 * State is bounded: windows are freed once final and emitted, and a symbol
 * with no trade for idle_expiry (event time: its last trade is that far
 * behind the newest event time seen) and no open window is forgotten.
 *
 * Exact rules (tests hold the code to them):
 *  - open = price of the trade with the smallest (event time, id), close =
 *    price with the largest (equal ids: the first / the last folded), so the
 *    order trades are folded in does not matter; high/low over every
 *    update, v = 0 included;
 *  - a window is emitted the first time with the emit that follows its
 *    first trade, whatever the emit interval (so a unit that stores a trade
 *    stores a row of each of its windows);
 *  - volume, VWAP (sum p*v / sum v) and the average of p*v use trades with
 *    v > 0 only; an average window with no such trade is never emitted;
 *  - one decision per trade: it is late (counted, folded nowhere) when the
 *    first of its windows to end (its 1 s candle) is final, else it is
 *    folded into every one of its windows, so it is in all or in none;
 *  - trades with a non-finite price or volume, or v < 0, are not folded
 *    (skipped);
 *  - with clock_bound, an event time past the wall clock counts as the
 *    wall clock for the watermark.
 *
 * Threading: one tp_windows per processing thread. */
#ifndef TP_WINDOW_H
#define TP_WINDOW_H

#include "core/trade.h"
#include "sink/sink.h"

#include <stddef.h>
#include <stdint.h>

typedef struct tp_window_config {
    int64_t allowed_lateness_ms; /* default 15000 */
    int64_t emit_interval_ms;    /* default 1000; 0 = emit on every call */
    int64_t idle_expiry_ms;      /* default 600000 */
    int64_t avg_size_ms;         /* default 15000 */
    int64_t avg_slide_ms;        /* default 5000 */
    /* 0 (default): every folded trade moves the watermark. 1: only
     * tp_windows_advance() does; the pipeline uses this to drive the
     * watermark from the slowest input partition. */
    int external_watermark;
    /* 1: the watermark never passes the wall clock (minus the lateness): a
     * trade (or an advance) dated later is folded as any other, but counts
     * as dated now for the watermark and for idle expiry, so one trade
     * from a fast clock cannot make the trades on time late. 0 (the
     * default here): event time alone; run and process set it. */
    int clock_bound;
    /* The pipeline's restart rebuild leaves out stored trades (and open
     * window rows) dated more than this after the wall clock: rows written
     * before the door (core/trade_check.h) existed. 0 = keep them. */
    int64_t max_ahead_ms;
} tp_window_config;

void tp_window_config_default(tp_window_config *c);

typedef struct tp_windows tp_windows;

tp_windows *tp_windows_new(const tp_window_config *cfg); /* NULL on OOM */
void tp_windows_free(tp_windows *w);

/* Fold n trades in; *late gets the number not folded because late. Trades
 * need not be in order. Returns 0 or TP_ENOMEM. */
int tp_windows_add(tp_windows *w, const tp_trade *t, size_t n, size_t *late);

/* Collect what changed: every open window updated since the last emit (if
 * now_ms - last emit >= emit_interval, or force) and every window that
 * became final. The arrays stay valid until the next call to any tp_windows
 * function. `now_ms` also stamps ingest/updated times. */
int tp_windows_emit(tp_windows *w, int64_t now_ms, int force, const tp_average **avg, size_t *navg,
                    const tp_candle **candles, size_t *ncandles);

/* Advance the watermark without trades (e.g. idle feed, end of input):
 * the watermark becomes max(current, event_ms - allowed_lateness). */
void tp_windows_advance(tp_windows *w, int64_t event_ms);

int64_t tp_windows_watermark(const tp_windows *w); /* INT64_MIN before any trade */

/* Smallest window start among windows not yet final (INT64_MAX if none):
 * the processor keeps Kafka offsets of trades at or after this replayable,
 * so a restart rebuilds open windows fully. Once a watermark exists it is
 * also at most the start of the earliest window that a trade not yet seen
 * could still open (a window whose end is past the watermark), so a record
 * arriving later is covered too. */
int64_t tp_windows_open_since(const tp_windows *w);

/* Like tp_windows_add, but trades are not folded into any window that
 * starts before floor_ms: an earlier run already completed and stored those
 * windows (floor_ms is the open_since that run committed). Such trades are
 * not late either. floor_ms = INT64_MIN is tp_windows_add. */
int tp_windows_add_since(tp_windows *w, const tp_trade *t, size_t n, int64_t floor_ms, size_t *late);

/* tp_windows_open_since() as it would be at `watermark` with no window
 * held: the start of the oldest window that is not final at it. */
int64_t tp_windows_floor_at(const tp_windows *w, int64_t watermark);

/* Restart support (the pipeline's rebuild from the store).
 * hold = 1: folded trades no longer move the watermark (stored trades are
 * read back symbol by symbol, not in event-time order); hold = 0 ends it.
 * tp_windows_seal: the window of `symbol` of family interval_s (1 or 60:
 * candles; 0: the running averages) starting at start_ms is final in the
 * store: trades are not folded into it and it is never emitted (a final
 * window stays as it is). Returns 0, TP_EINVAL (bad family) or TP_ENOMEM. */
void tp_windows_hold(tp_windows *w, int hold);
/* Trades of `symbol` are no longer folded into windows starting before
 * floor_ms (complete in the store). Creates the symbol's state. */
int tp_windows_set_floor(tp_windows *w, tp_str symbol, int64_t floor_ms);
/* 1 if the symbol has state (seen, rebuilt or given a floor), else 0. */
int tp_windows_known(tp_windows *w, tp_str symbol);
int tp_windows_seal(tp_windows *w, tp_str symbol, int interval_s, int64_t start_ms);

/* Feed gaps. A window [start, end) overlaps the gap [from_ms, to_ms] (the
 * event times of the symbol's last trade before and first after the hole)
 * when start <= to_ms and from_ms < end: it may miss trades, so it is
 * emitted with incomplete = 1. Both ends count because a lost trade can
 * share the millisecond of the trade before or after it. */
int tp_window_overlaps_gap(int64_t start_ms, int64_t end_ms, int64_t from_ms, int64_t to_ms);
/* A gap of symbol: its open windows that overlap it are marked incomplete
 * (and emitted again if they were already), and so is every window opened
 * later that overlaps it (kept until the watermark makes that impossible).
 * Windows already final and freed are the caller's (the pipeline re-writes
 * them from the store). 0 or TP_ENOMEM. */
int tp_windows_gap(tp_windows *w, tp_str symbol, int64_t from_ms, int64_t to_ms);
/* 1 if the window (interval_s 1/60: candles, 0: averages) is held open
 * here (it will be emitted again), 0 if not held or sealed. */
int tp_windows_is_open(const tp_windows *w, tp_str symbol, int interval_s, int64_t start_ms);

typedef struct tp_windows_stats {
    size_t symbols;       /* symbols with state */
    size_t open_windows;  /* windows held (all families) */
    uint64_t expired;     /* symbols forgotten after idle_expiry */
    uint64_t skipped;     /* non-finite price/volume or v < 0: not folded */
    int64_t max_event_ms; /* highest event time seen (INT64_MIN before any) */
} tp_windows_stats;
void tp_windows_get_stats(const tp_windows *w, tp_windows_stats *out);

#endif
