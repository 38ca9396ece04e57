/* rollup.h - candles of any interval, rolled up from the stored ones.
 *
 * The stores keep 1 s and 1 min candles (process/window.h). A candle of
 * another interval is folded from them in tickpipe, the same way for every
 * store: from the 1 s candles when the interval is under a minute or not a
 * whole number of minutes, else from the 1 min candles. Buckets are aligned
 * to whole multiples of the interval since the epoch, in UTC (a day candle
 * starts at UTC midnight; a 7d candle on a Thursday, as the epoch did), or,
 * for whole days with a time zone (tp_rollup_set_tz), to that zone's
 * midnights: a day there is 23 or 25 hours long when its clocks change.
 *
 * A rolled-up candle: open of its first stored part, close of its last,
 * the highest high, the lowest low, the sums of volume and trade count,
 * VWAP as sum(vwap * volume) / sum(volume) over the parts that have
 * volume (NAN when none has), updated the newest part's, incomplete if any
 * part is. Final when every part is final and nothing more can join it:
 * its end is before the newest part's update time, or a later stored part
 * of the symbol is final (the window's watermark has passed it).
 *
 * Thread-safety: none needed; a tp_rollup belongs to one caller. */
#ifndef TP_ROLLUP_H
#define TP_ROLLUP_H

#include "core/tz.h"
#include "sink/sink.h"

#include <stddef.h>
#include <stdint.h>

/* The most seconds an interval may have (7 days). */
#define TP_ROLLUP_MAX_S (7 * 86400)

/* Parse an interval: a whole number and a unit, s, m, h or d ("5m",
 * "90s", "1d"), from 1 s to 7 d. 0 with *seconds, or -1. */
int tp_rollup_parse_interval(const char *text, int64_t *seconds);
/* The canonical text of an interval ("5m", "90s", "1h", "1d"): the largest
 * unit that divides it. Returns out. */
const char *tp_rollup_interval_text(int64_t seconds, char *out, size_t outlen);
/* The stored interval (1 or 60 s) an interval is folded from. */
int tp_rollup_base(int64_t seconds);

typedef struct tp_rollup {
    int64_t interval_ms;
    int base_s;
    tp_candle *out; /* finished buckets, oldest first; symbols point into sym */
    size_t n, cap;
    char *sym; /* the symbol, copied once */
    /* the bucket being folded */
    int have;
    tp_candle cur;
    double pv; /* sum of vwap * volume over parts with volume */
    int all_final, any_final;
    /* per finished bucket: did any part come out final */
    unsigned char *any_final_of;
    size_t rows; /* stored candles folded */
    int oom;
    const tp_tz *tz; /* day buckets at this zone's midnight; NULL = UTC */
} tp_rollup;

void tp_rollup_init(tp_rollup *r, int64_t seconds);
/* Align day buckets (the interval a whole number of days) to tz's
 * midnights; tz must outlive r. */
void tp_rollup_set_tz(tp_rollup *r, const tp_tz *tz);
/* The start of the bucket holding ms, and of the one after it. */
int64_t tp_rollup_bucket(const tp_rollup *r, int64_t ms);
int64_t tp_rollup_next(const tp_rollup *r, int64_t start);
/* Fold one stored candle (oldest first): a tp_candle_row_fn. Returns 0,
 * or 1 on out of memory (r->oom set). */
int tp_rollup_add(void *r, const tp_candle *c);
/* Finish: close the last bucket and settle which buckets are final. */
void tp_rollup_finish(tp_rollup *r);
void tp_rollup_free(tp_rollup *r);

/* The stored-candle query for `limit` rolled-up candles over q's range:
 * the range widened to whole buckets, the limit enough stored candles for
 * limit + 1 buckets (a bucket holds at most interval / base of them),
 * capped at max_rows (the bucket count is lowered to fit). Fills base. */
void tp_rollup_query(const tp_rollup *r, const tp_query *q, int max_rows, tp_query *base);
/* After the query: keep the newest `limit` buckets; when the stored rows
 * were cut by the query's limit, drop the oldest bucket too if it may be
 * short of parts. */
void tp_rollup_trim(tp_rollup *r, const tp_query *base, int limit);

#endif
