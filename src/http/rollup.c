/* rollup.c - candles of any interval from the stored 1 s and 1 min ones
 * (rollup.h). */
#include "http/rollup.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tp_rollup_parse_interval(const char *text, int64_t *seconds) {
    int64_t n = 0;
    size_t i = 0;
    if (!text) return -1;
    for (; text[i] >= '0' && text[i] <= '9'; i++) {
        n = n * 10 + (text[i] - '0');
        if (n > TP_ROLLUP_MAX_S) return -1;
    }
    if (!i || n == 0 || text[i] == '\0' || text[i + 1] != '\0') return -1;
    int64_t unit;
    switch (text[i]) {
    case 's': unit = 1; break;
    case 'm': unit = 60; break;
    case 'h': unit = 3600; break;
    case 'd': unit = 86400; break;
    default: return -1;
    }
    if (n > TP_ROLLUP_MAX_S / unit) return -1;
    *seconds = n * unit;
    return 0;
}

const char *tp_rollup_interval_text(int64_t s, char *out, size_t outlen) {
    static const struct {
        int64_t unit;
        char c;
    } units[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
    for (size_t i = 0; i < 4; i++)
        if (s % units[i].unit == 0) {
            snprintf(out, outlen, "%lld%c", (long long)(s / units[i].unit), units[i].c);
            break;
        }
    return out;
}

int tp_rollup_base(int64_t seconds) {
    return seconds % 60 == 0 ? 60 : 1;
}

void tp_rollup_init(tp_rollup *r, int64_t seconds) {
    memset(r, 0, sizeof *r);
    r->interval_ms = seconds * 1000;
    r->base_s = tp_rollup_base(seconds);
}

static int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

void tp_rollup_set_tz(tp_rollup *r, const tp_tz *tz) {
    r->tz = tz;
}

int64_t tp_rollup_bucket(const tp_rollup *r, int64_t ms) {
    if (!r->tz) return floor_div(ms, r->interval_ms) * r->interval_ms;
    /* the local bucket, then back to UTC with the offset of its own start
     * (a clock change between midnight and ms moves it by that hour) */
    int64_t off = (int64_t)tp_tz_offset(r->tz, ms) * 1000;
    int64_t local = floor_div(ms + off, r->interval_ms) * r->interval_ms;
    int64_t s = local - off, off2 = (int64_t)tp_tz_offset(r->tz, s) * 1000;
    if (off2 != off) s = local - off2;
    return s;
}

int64_t tp_rollup_next(const tp_rollup *r, int64_t start) {
    if (!r->tz) return start + r->interval_ms;
    /* past a 25-hour day's end, not past a 23-hour day's next one */
    return tp_rollup_bucket(r, start + r->interval_ms + 3 * 3600000);
}

/* Close the bucket being folded into the output. */
static int flush(tp_rollup *r) {
    if (!r->have) return 0;
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        tp_candle *o = realloc(r->out, cap * sizeof *o);
        if (!o) return -1;
        r->out = o;
        unsigned char *a = realloc(r->any_final_of, cap);
        if (!a) return -1;
        r->any_final_of = a;
        r->cap = cap;
    }
    tp_candle *c = &r->cur;
    c->vwap = c->volume > 0 ? r->pv / c->volume : NAN;
    c->final = r->all_final;
    r->any_final_of[r->n] = (unsigned char)r->any_final;
    r->out[r->n++] = *c;
    r->have = 0;
    return 0;
}

int tp_rollup_add(void *ud, const tp_candle *c) {
    tp_rollup *r = ud;
    if (r->oom) return 1;
    if (!r->sym) {
        r->sym = malloc((size_t)c->symbol.len + 1);
        if (!r->sym) return r->oom = 1;
        memcpy(r->sym, c->symbol.ptr, c->symbol.len);
        r->sym[c->symbol.len] = '\0';
    }
    r->rows++;
    int64_t start = tp_rollup_bucket(r, c->start_ms);
    if (r->have && start != r->cur.start_ms && flush(r)) return r->oom = 1;
    int has_v = c->volume > 0 && isfinite(c->vwap);
    if (!r->have) {
        r->have = 1;
        r->cur = *c;
        r->cur.symbol = (tp_str){r->sym, c->symbol.len};
        r->cur.interval_s = (int32_t)(r->interval_ms / 1000);
        r->cur.start_ms = start;
        r->cur.incomplete = c->incomplete != 0;
        r->pv = has_v ? c->vwap * c->volume : 0;
        r->all_final = c->final != 0;
        r->any_final = c->final != 0;
        return 0;
    }
    tp_candle *b = &r->cur;
    if (c->high > b->high) b->high = c->high;
    if (c->low < b->low) b->low = c->low;
    b->close = c->close;
    b->volume += c->volume;
    if (has_v) r->pv += c->vwap * c->volume;
    b->trade_count += c->trade_count;
    if (c->updated_ms > b->updated_ms) b->updated_ms = c->updated_ms;
    b->incomplete |= c->incomplete != 0;
    r->all_final &= c->final != 0;
    r->any_final |= c->final != 0;
    return 0;
}

void tp_rollup_finish(tp_rollup *r) {
    if (!r->oom && flush(r)) r->oom = 1;
    /* newest first: a final part later than a bucket means the watermark
     * has passed it, so no trade can join it any more */
    int later_final = 0;
    for (size_t i = r->n; i-- > 0;) {
        tp_candle *c = &r->out[i];
        int ended = tp_rollup_next(r, c->start_ms) <= c->updated_ms;
        c->final = c->final && (ended || later_final);
        later_final |= r->any_final_of[i];
    }
}

void tp_rollup_free(tp_rollup *r) {
    free(r->out);
    free(r->any_final_of);
    free(r->sym);
    memset(r, 0, sizeof *r);
}

void tp_rollup_query(const tp_rollup *r, const tp_query *q, int max_rows, tp_query *base) {
    *base = *q;
    base->interval_s = r->base_s;
    if (q->from_ms) base->from_ms = tp_rollup_bucket(r, q->from_ms);
    if (q->to_ms) {
        int64_t t = tp_rollup_bucket(r, q->to_ms);
        base->to_ms = t < q->to_ms ? tp_rollup_next(r, t) : t;
    }
    /* stored candles a bucket may hold: a 25-hour day holds an hour more */
    int64_t ratio = (r->interval_ms + (r->tz ? 3600000 : 0)) / 1000 / r->base_s;
    int64_t buckets = q->limit > 0 ? q->limit : 1;
    if ((buckets + 1) * ratio > max_rows) buckets = max_rows / ratio - 1;
    if (buckets < 1) buckets = 1;
    int64_t rows = (buckets + 1) * ratio;
    /* an interval whose two buckets already pass the cap: the cap holds,
     * and the trim leaves out the bucket it cut short */
    base->limit = (int)(rows > max_rows ? max_rows : rows);
}

void tp_rollup_trim(tp_rollup *r, const tp_query *base, int limit) {
    size_t drop = 0;
    if (base->limit > 0 && r->rows >= (size_t)base->limit && r->n > 0) drop = 1;
    if (r->n - drop > (size_t)limit) drop = r->n - (size_t)limit;
    if (drop) {
        memmove(r->out, r->out + drop, (r->n - drop) * sizeof *r->out);
        r->n -= drop;
    }
}
