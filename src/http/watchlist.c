/* watchlist.c - GET /api/watchlist: every symbol with its last price, its
 * day so far and a sparkline, for the dashboard's watchlist.
 *
 * For each stored symbol (query_symbols): the 1 min candles of the UTC day
 * of its last trade (query_candles, one query a symbol) give the day's
 * open (the open of its first candle), high, low, volume and trade count,
 * the change from the day's open to the last price and the closes of the
 * last SPARK candles for a sparkline; its 1 s candles of the last minute of
 * the wall clock (a second query) give the trades a second. Every store
 * answers the same, through its reader operations. */
#include "http/http_internal.h"

#include "core/err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS 86400000
#define SPARK 60
#define RATE_MS 60000

typedef struct sym_row {
    char *symbol;
    size_t len;
    int64_t trade_count, last_ts;
    double last_price;
} sym_row;

typedef struct sym_list {
    sym_row *v;
    size_t n, cap;
    int oom;
} sym_list;

static int on_symbol(void *ud, const tp_symbol_info *s) {
    sym_list *l = ud;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        sym_row *v = realloc(l->v, cap * sizeof *v);
        if (!v) return l->oom = 1;
        l->v = v;
        l->cap = cap;
    }
    char *copy = malloc((size_t)s->symbol.len + 1);
    if (!copy) return l->oom = 1;
    memcpy(copy, s->symbol.ptr, s->symbol.len);
    copy[s->symbol.len] = '\0';
    l->v[l->n++] = (sym_row){copy, s->symbol.len, s->trade_count, s->last_ts_ms, s->last_price};
    return 0;
}

typedef struct day {
    int have;
    double open, high, low, volume;
    int64_t trades;
    int incomplete;
    int64_t spark_t[SPARK];
    double spark_c[SPARK];
    size_t spark_n, spark_at; /* a ring of the newest SPARK closes */
} day;

static int on_candle(void *ud, const tp_candle *c) {
    day *d = ud;
    if (!d->have) {
        d->have = 1;
        d->open = c->open;
        d->high = c->high;
        d->low = c->low;
    }
    if (c->high > d->high) d->high = c->high;
    if (c->low < d->low) d->low = c->low;
    d->volume += c->volume;
    d->trades += c->trade_count;
    d->incomplete |= c->incomplete != 0;
    d->spark_t[d->spark_at] = c->start_ms;
    d->spark_c[d->spark_at] = c->close;
    d->spark_at = (d->spark_at + 1) % SPARK;
    if (d->spark_n < SPARK) d->spark_n++;
    return 0;
}

static int on_second(void *ud, const tp_candle *c) {
    *(int64_t *)ud += c->trade_count;
    return 0;
}

static json_t *num(double v) {
    return isfinite(v) ? json_real(v) : json_null();
}

int tp_http_watchlist(tp_sink *sink, int64_t now_ms, json_t *arr, char *err, size_t errlen) {
    sym_list l = {0};
    int rc = tp_sink_query_symbols(sink, on_symbol, &l, err, errlen);
    if (!rc && l.oom) rc = TP_ENOMEM, snprintf(err, errlen, "out of memory listing the symbols");
    for (size_t i = 0; !rc && i < l.n; i++) {
        sym_row *s = &l.v[i];
        int64_t day_start =
            s->last_ts >= 0 ? s->last_ts / DAY_MS * DAY_MS : -((-s->last_ts + DAY_MS - 1) / DAY_MS) * DAY_MS;
        tp_query q = {.symbol = s->symbol,
                      .from_ms = day_start ? day_start : 1,
                      .to_ms = day_start + DAY_MS,
                      .limit = DAY_MS / 60000,
                      .interval_s = 60};
        day d;
        memset(&d, 0, sizeof d);
        rc = tp_sink_query_candles(sink, &q, on_candle, &d, err, errlen);
        if (rc) break;
        int64_t recent = 0;
        tp_query q1 = {
            .symbol = s->symbol, .from_ms = now_ms - RATE_MS, .limit = RATE_MS / 1000 + 1, .interval_s = 1};
        rc = tp_sink_query_candles(sink, &q1, on_second, &recent, err, errlen);
        if (rc) break;
        json_t *spark = json_array();
        for (size_t k = 0; spark && k < d.spark_n; k++) {
            size_t at = (d.spark_at + SPARK - d.spark_n + k) % SPARK;
            json_array_append_new(spark, json_pack("[I,o]", (json_int_t)d.spark_t[at], num(d.spark_c[at])));
        }
        double change = d.have ? s->last_price - d.open : NAN;
        double pct = d.have && d.open != 0 ? 100.0 * change / d.open : NAN;
        json_t *o = json_pack("{s:s%,s:o,s:I,s:I,s:I,s:o,s:o,s:o,s:o,s:I,s:o,s:o,s:o,s:b,s:o}", "symbol",
                              s->symbol, s->len, "last_price", num(s->last_price), "last_ts",
                              (json_int_t)s->last_ts, "trade_count", (json_int_t)s->trade_count, "day_start",
                              (json_int_t)day_start, "day_open", d.have ? num(d.open) : json_null(),
                              "day_high", d.have ? num(d.high) : json_null(), "day_low",
                              d.have ? num(d.low) : json_null(), "day_volume", num(d.volume),
                              "day_trade_count", (json_int_t)d.trades, "change", num(change), "change_pct",
                              num(pct), "trades_per_s", json_real((double)recent / (RATE_MS / 1000)),
                              "incomplete", d.incomplete, "sparkline", spark ? spark : json_array());
        if (!o || json_array_append_new(arr, o)) {
            rc = TP_ENOMEM;
            snprintf(err, errlen, "out of memory building the watchlist");
        }
    }
    for (size_t i = 0; i < l.n; i++) free(l.v[i].symbol);
    free(l.v);
    return rc;
}
