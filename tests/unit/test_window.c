/* test_window.c - event-time windows against a naive oracle.
 *
 * The oracle recomputes every window from the full list of trades: for each
 * trade in arrival order it knows the watermark the trade met (newest event
 * time before it minus the lateness), decides per window whether the trade
 * is folded, and aggregates by brute force. It shares no code with
 * window.c. Crafted streams check boundaries, one-trade windows, gaps, v = 0
 * updates, late trades, out-of-order trades, expiry and the emit interval. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "process/window.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BASE 1699999980000LL /* a multiple of 60 s */

typedef struct tr {
    const char *sym;
    double p, v;
    int64_t ts;
} tr;

static tp_trade mk(const tr *x) {
    tp_trade t;
    memset(&t, 0, sizeof t);
    t.symbol = (tp_str){x->sym, (uint32_t)strlen(x->sym)};
    t.price = x->p;
    t.volume = x->v;
    t.ts_ms = x->ts;
    t.ncond = TP_COND_NULL;
    return t;
}

/* ---- oracle ---- */
typedef struct okey {
    char sym[16];
    int kind; /* 0 avg, 1 candle 1s, 60 candle 1m */
    int64_t start;
} okey;

typedef struct oval {
    okey k;
    int64_t count, count_v;
    double sum_pv, sum_v, open, high, low, close;
    int64_t open_ts, close_ts;
    int seen; /* emitted final by the code under test */
} oval;

typedef struct oracle {
    oval *v;
    size_t n, cap;
    size_t late;
} oracle;

static oval *oget(oracle *o, const char *sym, int kind, int64_t start) {
    for (size_t i = 0; i < o->n; i++)
        if (!strcmp(o->v[i].k.sym, sym) && o->v[i].k.kind == kind && o->v[i].k.start == start)
            return &o->v[i];
    if (o->n == o->cap) {
        o->cap = o->cap ? o->cap * 2 : 64;
        o->v = realloc(o->v, o->cap * sizeof(oval));
        assert_non_null(o->v);
    }
    oval *x = &o->v[o->n++];
    memset(x, 0, sizeof *x);
    snprintf(x->k.sym, sizeof x->k.sym, "%s", sym);
    x->k.kind = kind;
    x->k.start = start;
    return x;
}

/* Brute force: windows of size `size` starting at multiples of `slide`. */
static void oracle_build(oracle *o, const tr *t, size_t n, int64_t lateness, int64_t floor_ms) {
    memset(o, 0, sizeof *o);
    int64_t maxts = INT64_MIN;
    for (size_t i = 0; i < n; i++) {
        int64_t wm = maxts == INT64_MIN ? INT64_MIN : maxts - lateness;
        const struct {
            int kind;
            int64_t size, slide;
        } fams[3] = {{0, 15000, 5000}, {1, 1000, 1000}, {60, 60000, 60000}};
        int any_final = 0; /* one decision per trade: late if any of its windows is final */
        for (int f = 0; f < 3; f++) {
            /* all starts s (multiples of slide) with s <= ts < s + size, by scanning */
            for (int64_t s = (t[i].ts / 1000) * 1000 - 70000; s <= t[i].ts; s += 1000) {
                if (s % fams[f].slide != 0 || !(s <= t[i].ts && t[i].ts < s + fams[f].size)) continue;
                if (s + fams[f].size <= wm) any_final = 1;
            }
        }
        if (any_final) {
            o->late++;
        } else {
            for (int f = 0; f < 3; f++) {
                for (int64_t s = (t[i].ts / 1000) * 1000 - 70000; s <= t[i].ts; s += 1000) {
                    if (s % fams[f].slide != 0 || !(s <= t[i].ts && t[i].ts < s + fams[f].size)) continue;
                    if (s + fams[f].size <= wm || s < floor_ms) continue;
                    if (fams[f].kind == 0 && !(t[i].v > 0)) continue;
                    oval *x = oget(o, t[i].sym, fams[f].kind, s);
                    if (x->count == 0 || t[i].ts < x->open_ts) x->open = t[i].p, x->open_ts = t[i].ts;
                    if (x->count == 0 || t[i].ts >= x->close_ts) x->close = t[i].p, x->close_ts = t[i].ts;
                    if (x->count == 0 || t[i].p > x->high) x->high = t[i].p;
                    if (x->count == 0 || t[i].p < x->low) x->low = t[i].p;
                    x->count++;
                    if (t[i].v > 0) {
                        x->count_v++;
                        x->sum_v += t[i].v;
                        x->sum_pv += t[i].p * t[i].v;
                    }
                }
            }
        }
        if (t[i].ts > maxts) maxts = t[i].ts;
    }
}

static void near(double a, double b) {
    if (isnan(a) || isnan(b)) {
        assert_true(isnan(a) && isnan(b));
        return;
    }
    double d = fabs(a - b), m = fmax(1.0, fmax(fabs(a), fabs(b)));
    if (d > 1e-9 * m) fail_msg("%.17g != %.17g", a, b);
}

/* Check emitted rows against the oracle; final rows mark the oracle entry. */
static void check_emitted(oracle *o, const tp_average *a, size_t na, const tp_candle *c, size_t nc) {
    for (size_t i = 0; i < na; i++) {
        char sym[16];
        snprintf(sym, sizeof sym, "%.*s", (int)a[i].symbol.len, a[i].symbol.ptr);
        oval *x = NULL;
        for (size_t j = 0; j < o->n; j++)
            if (!strcmp(o->v[j].k.sym, sym) && o->v[j].k.kind == 0 && o->v[j].k.start == a[i].window_start_ms)
                x = &o->v[j];
        if (!x) fail_msg("unexpected average %s@%lld", sym, (long long)a[i].window_start_ms);
        assert_int_equal(a[i].window_end_ms, a[i].window_start_ms + 15000);
        if (a[i].final) {
            assert_int_equal(x->seen, 0); /* final exactly once */
            x->seen = 1;
            assert_int_equal(a[i].trade_count, x->count_v);
            near(a[i].price_volume_multiply, x->sum_pv / (double)x->count_v);
        }
    }
    for (size_t i = 0; i < nc; i++) {
        char sym[16];
        snprintf(sym, sizeof sym, "%.*s", (int)c[i].symbol.len, c[i].symbol.ptr);
        oval *x = NULL;
        for (size_t j = 0; j < o->n; j++)
            if (!strcmp(o->v[j].k.sym, sym) && o->v[j].k.kind == c[i].interval_s &&
                o->v[j].k.start == c[i].start_ms)
                x = &o->v[j];
        if (!x) fail_msg("unexpected candle %s/%d@%lld", sym, c[i].interval_s, (long long)c[i].start_ms);
        if (c[i].final) {
            assert_int_equal(x->seen, 0);
            x->seen = 1;
            assert_int_equal(c[i].trade_count, x->count);
            near(c[i].open, x->open);
            near(c[i].high, x->high);
            near(c[i].low, x->low);
            near(c[i].close, x->close);
            near(c[i].volume, x->sum_v);
            near(c[i].vwap, x->sum_v > 0 ? x->sum_pv / x->sum_v : NAN);
        }
    }
}

/* Feed trades in chunks, emitting after each, then close everything and
 * require every oracle window emitted final exactly once. */
static void run_stream(const tr *t, size_t n, size_t chunk, int64_t floor_ms) {
    tp_window_config cfg;
    tp_window_config_default(&cfg);
    cfg.emit_interval_ms = 0;
    tp_windows *w = tp_windows_new(&cfg);
    assert_non_null(w);
    oracle o;
    oracle_build(&o, t, n, cfg.allowed_lateness_ms, floor_ms);
    size_t late_total = 0;
    tp_trade *tt = calloc(n ? n : 1, sizeof *tt);
    for (size_t i = 0; i < n; i++) tt[i] = mk(&t[i]);
    const tp_average *a;
    const tp_candle *c;
    size_t na, nc;
    for (size_t i = 0; i < n; i += chunk) {
        size_t m = n - i < chunk ? n - i : chunk, late = 0;
        assert_int_equal(tp_windows_add_since(w, tt + i, m, floor_ms, &late), 0);
        late_total += late;
        assert_int_equal(tp_windows_emit(w, (int64_t)i, 0, &a, &na, &c, &nc), 0);
        check_emitted(&o, a, na, c, nc);
    }
    assert_int_equal(late_total, o.late);
    tp_windows_advance(w, INT64_MAX / 2);
    assert_int_equal(tp_windows_emit(w, 1 << 30, 1, &a, &na, &c, &nc), 0);
    check_emitted(&o, a, na, c, nc);
    for (size_t j = 0; j < o.n; j++)
        if (!o.v[j].seen)
            fail_msg("window %s/%d@%lld never emitted final", o.v[j].k.sym, o.v[j].k.kind,
                     (long long)o.v[j].k.start);
    tp_windows_stats st;
    tp_windows_get_stats(w, &st);
    assert_int_equal(st.open_windows, 0);
    free(o.v);
    free(tt);
    tp_windows_free(w);
}

static void test_random_streams(void **state) {
    (void)state;
    const char *syms[] = {"AAPL", "MSFT", "BINANCE:BTCUSDT", "IC MARKETS:1"};
    size_t n = 3000;
    tr *t = calloc(n, sizeof *t);
    uint64_t r = 42;
    int64_t now = BASE;
    for (size_t i = 0; i < n; i++) {
        r = r * 6364136223846793005ULL + 1442695040888963407ULL;
        now += (int64_t)((r >> 33) % 300);     /* gaps up to 0.3 s */
        if ((r >> 20) % 97 == 0) now += 70000; /* a big gap now and then */
        int64_t jitter = (int64_t)((r >> 40) % 4000);
        if ((r >> 13) % 50 == 0) jitter += 40000 + (int64_t)((r >> 7) % 60000); /* late or partly late */
        t[i].sym = syms[(r >> 50) % 4];
        t[i].ts = now - jitter;
        if (i % 3 == 0) t[i].ts -= t[i].ts % 500; /* land on window boundaries */
        t[i].p = 100.0 + (double)((r >> 24) % 1000) / 100.0;
        t[i].v = (r >> 45) % 5 == 0 ? 0.0 : (double)((r >> 30) % 100) / 10.0;
    }
    run_stream(t, n, 1, INT64_MIN);
    run_stream(t, n, 37, INT64_MIN);
    run_stream(t, n, n, INT64_MIN);
    run_stream(t, n, 50, BASE + 200000);
    free(t);
}

/* The crafted cases below assert literal values, not only the oracle. */
typedef struct emitted {
    tp_average a[256];
    size_t na;
    tp_candle c[256];
    size_t nc;
} emitted;

static void collect(tp_windows *w, int64_t now, int force, emitted *e) {
    const tp_average *a;
    const tp_candle *c;
    size_t na, nc;
    assert_int_equal(tp_windows_emit(w, now, force, &a, &na, &c, &nc), 0);
    assert_true(na <= 256 && nc <= 256);
    if (na) memcpy(e->a, a, na * sizeof *a);
    e->na = na;
    if (nc) memcpy(e->c, c, nc * sizeof *c);
    e->nc = nc;
}

static const tp_candle *find_candle(const emitted *e, int iv, int64_t start) {
    for (size_t i = 0; i < e->nc; i++)
        if (e->c[i].interval_s == iv && e->c[i].start_ms == start) return &e->c[i];
    return NULL;
}
static const tp_average *find_avg(const emitted *e, int64_t start) {
    for (size_t i = 0; i < e->na; i++)
        if (e->a[i].window_start_ms == start) return &e->a[i];
    return NULL;
}

static void add(tp_windows *w, const tr *t, size_t n, size_t *late) {
    tp_trade tt[16];
    assert_true(n <= 16);
    for (size_t i = 0; i < n; i++) tt[i] = mk(&t[i]);
    size_t l = 0;
    assert_int_equal(tp_windows_add(w, tt, n, &l), 0);
    if (late) *late = l;
}

static void test_boundaries_one_trade_gaps(void **state) {
    (void)state;
    tp_window_config cfg;
    tp_window_config_default(&cfg);
    tp_windows *w = tp_windows_new(&cfg);
    tr t[] = {
        {"X", 10.0, 2.0, BASE + 999},   /* last ms of second 0 */
        {"X", 11.0, 1.0, BASE + 1000},  /* first ms of second 1 */
        {"X", 12.0, 3.0, BASE + 5000},  /* starts an average window */
        {"X", 50.0, 1.0, BASE + 600000} /* a 10 min gap */
    };
    add(w, t, 4, NULL);
    emitted e;
    tp_windows_advance(w, BASE + 10000000);
    collect(w, 0, 1, &e);
    const tp_candle *c0 = find_candle(&e, 1, BASE), *c1 = find_candle(&e, 1, BASE + 1000);
    assert_non_null(c0);
    assert_non_null(c1);
    assert_true(c0->final && c1->final);
    /* one-trade candles */
    assert_true(c0->open == 10.0 && c0->high == 10.0 && c0->low == 10.0 && c0->close == 10.0);
    assert_true(c0->volume == 2.0 && c0->vwap == 10.0 && c0->trade_count == 1);
    assert_true(c1->open == 11.0 && c1->volume == 1.0 && c1->trade_count == 1);
    assert_null(find_candle(&e, 1, BASE + 2000)); /* gaps emit nothing */
    const tp_candle *m0 = find_candle(&e, 60, BASE);
    assert_non_null(m0);
    assert_true(m0->open == 10.0 && m0->close == 12.0 && m0->high == 12.0 && m0->low == 10.0);
    assert_true(m0->volume == 6.0 && m0->trade_count == 3);
    near(m0->vwap, (20.0 + 11.0 + 36.0) / 6.0);
    /* averages: BASE+999 and +1000 are in windows starting -10 s, -5 s, 0;
     * BASE+5000 in -5 s (no: -5 s ends at +10 s, so yes), 0 and +5 s */
    const tp_average *a0 = find_avg(&e, BASE), *am5 = find_avg(&e, BASE - 5000),
                     *am10 = find_avg(&e, BASE - 10000), *a5 = find_avg(&e, BASE + 5000),
                     *a10 = find_avg(&e, BASE + 10000);
    assert_non_null(a0);
    assert_non_null(am5);
    assert_non_null(am10);
    assert_non_null(a5);
    assert_null(a10);
    assert_int_equal(a0->trade_count, 3);
    near(a0->price_volume_multiply, (20.0 + 11.0 + 36.0) / 3.0);
    assert_int_equal(am10->trade_count, 2);
    near(am10->price_volume_multiply, (20.0 + 11.0) / 2.0);
    assert_int_equal(a5->trade_count, 1);
    near(a5->price_volume_multiply, 36.0);
    assert_int_equal(a0->window_end_ms, BASE + 15000);
    /* rows of windows: 4 trades -> 1 s: 4, 1 min: 2, averages: 3 + 3 (second
     * trade shares all three with the first; +5000 adds one; +600000 three) */
    assert_int_equal(e.nc, 6);
    assert_int_equal(e.na, 3 + 1 + 3);
    tp_windows_free(w);
}

static void test_zero_volume_updates(void **state) {
    (void)state;
    tp_windows *w = tp_windows_new(NULL);
    tr t[] = {{"FX", 1.10, 0.0, BASE + 100}, {"FX", 1.30, 0.0, BASE + 200}, {"FX", 1.05, 0.0, BASE + 300}};
    add(w, t, 3, NULL);
    emitted e;
    collect(w, 0, 1, &e);
    assert_int_equal(e.na, 0); /* no v > 0 trade: no average */
    const tp_candle *c = find_candle(&e, 1, BASE);
    assert_non_null(c);
    assert_false(c->final);
    assert_true(c->open == 1.10 && c->high == 1.30 && c->low == 1.05 && c->close == 1.05);
    assert_true(c->volume == 0.0 && isnan(c->vwap) && c->trade_count == 3);
    /* a real trade then moves volume; the v=0 updates still count as updates */
    tr t2[] = {{"FX", 1.20, 4.0, BASE + 400}};
    add(w, t2, 1, NULL);
    collect(w, 1, 1, &e);
    c = find_candle(&e, 1, BASE);
    assert_non_null(c);
    assert_true(c->volume == 4.0 && c->vwap == 1.20 && c->trade_count == 4 && c->close == 1.20);
    const tp_average *a = find_avg(&e, BASE);
    assert_non_null(a);
    assert_int_equal(a->trade_count, 1);
    near(a->price_volume_multiply, 4.8);
    tp_windows_free(w);
}

static void test_late_and_out_of_order(void **state) {
    (void)state;
    tp_windows *w = tp_windows_new(NULL); /* lateness 15 s */
    tr t[] = {
        {"S", 5.0, 1.0, BASE + 120500},
        {"S", 4.0, 1.0, BASE + 120100}, /* out of order, same second: becomes open */
        {"S", 6.0, 1.0, BASE + 120900},
    };
    add(w, t, 3, NULL);
    assert_int_equal(tp_windows_watermark(w), BASE + 105900); /* newest - 15 s */
    size_t late = 0;
    tr fully_late[] = {{"S", 99.0, 1.0, BASE + 30000}}; /* every window ended by +105900 */
    add(w, fully_late, 1, &late);
    assert_int_equal(late, 1);
    /* +100000: its 1 s candle and the average starting +90000 are final,
     * the 1 min candle [+60000, +120000) and averages +95000/+100000 are
     * not: a trade is in all of its windows or in none, so it is late and
     * the open ones do not get it either */
    tr partly[] = {{"S", 7.0, 2.0, BASE + 100000}};
    late = 0;
    add(w, partly, 1, &late);
    assert_int_equal(late, 1);
    /* +105900 exactly: its 1 s candle [+105000, +106000) ends after the
     * watermark, so every one of its windows is open: folded everywhere */
    tr edge[] = {{"S", 8.0, 3.0, BASE + 105900}};
    late = 0;
    add(w, edge, 1, &late);
    assert_int_equal(late, 0);
    emitted e;
    collect(w, 0, 1, &e);
    assert_null(find_candle(&e, 1, BASE + 100000));
    assert_null(find_candle(&e, 1, BASE + 30000));
    assert_null(find_avg(&e, BASE + 90000));
    assert_non_null(find_avg(&e, BASE + 95000)); /* [+95000, +110000): the +105900 trade only */
    assert_int_equal(find_avg(&e, BASE + 95000)->trade_count, 1);
    const tp_candle *m = find_candle(&e, 60, BASE + 60000);
    assert_non_null(m);
    assert_true(m->open == 8.0 && m->close == 8.0 && m->volume == 3.0 && m->trade_count == 1);
    const tp_candle *one = find_candle(&e, 1, BASE + 105000);
    assert_non_null(one);
    assert_int_equal(one->trade_count, 1);
    assert_non_null(find_avg(&e, BASE + 100000));
    assert_int_equal(find_avg(&e, BASE + 100000)->trade_count, 1);
    const tp_candle *c = find_candle(&e, 1, BASE + 120000);
    assert_non_null(c);
    assert_true(c->open == 4.0 && c->close == 6.0 && c->high == 6.0 && c->low == 4.0 && c->trade_count == 3);
    /* same timestamp: open keeps the first, close takes the last */
    tr same[] = {
        {"T", 1.0, 1.0, BASE + 121000}, {"T", 2.0, 1.0, BASE + 121000}, {"T", 3.0, 1.0, BASE + 121000}};
    add(w, same, 3, NULL);
    collect(w, 1, 1, &e);
    c = find_candle(&e, 1, BASE + 121000);
    for (size_t i = 0; i < e.nc; i++)
        if (e.c[i].interval_s == 1 && e.c[i].start_ms == BASE + 121000 && e.c[i].symbol.ptr[0] == 'T')
            c = &e.c[i];
    assert_non_null(c);
    assert_true(c->open == 1.0 && c->close == 3.0);
    tp_windows_free(w);
}

static void test_watermark_on_boundary(void **state) {
    (void)state;
    tp_windows *w = tp_windows_new(NULL);
    tr a[] = {{"W", 1.0, 1.0, BASE + 16000}}; /* watermark exactly BASE+1000 */
    add(w, a, 1, NULL);
    tr b[] = {{"W", 2.0, 1.0, BASE + 999}, {"W", 3.0, 1.0, BASE + 1000}};
    size_t late = 9;
    add(w, b, 2, &late);
    assert_int_equal(late, 1); /* +999: its 1 s candle ended at the watermark: late everywhere */
    emitted e;
    collect(w, 0, 1, &e);
    assert_null(find_candle(&e, 1, BASE)); /* ended at the watermark: final, not folded */
    const tp_candle *c = find_candle(&e, 1, BASE + 1000);
    assert_non_null(c);
    assert_int_equal(c->trade_count, 1);
    assert_int_equal(find_candle(&e, 60, BASE)->trade_count, 2); /* +1000 and +16000, not +999 */
    /* [-10000, +5000) ends after the watermark: +1000 folded, +999 late */
    assert_int_equal(find_avg(&e, BASE - 10000)->trade_count, 1);
    tp_windows_free(w);
}

static void test_emit_interval_and_final_once(void **state) {
    (void)state;
    tp_window_config cfg;
    tp_window_config_default(&cfg); /* emit every 1000 ms */
    tp_windows *w = tp_windows_new(&cfg);
    tr a[] = {{"E", 1.0, 1.0, BASE + 100}};
    add(w, a, 1, NULL);
    emitted e;
    collect(w, 10000, 0, &e); /* the first emit is always due */
    assert_int_equal(e.nc, 2);
    assert_int_equal(e.na, 3);
    tr b[] = {{"E", 2.0, 1.0, BASE + 200}};
    add(w, b, 1, NULL);
    collect(w, 10500, 0, &e); /* not due yet, nothing final */
    assert_int_equal(e.nc + e.na, 0);
    collect(w, 11000, 0, &e); /* due: the changed windows */
    assert_int_equal(e.nc, 2);
    collect(w, 12000, 0, &e); /* due but nothing changed */
    assert_int_equal(e.nc + e.na, 0);
    /* the watermark passes the 1 s candle: final even if not due */
    tr c[] = {{"E", 3.0, 1.0, BASE + 16500}}; /* watermark BASE+1500 */
    add(w, c, 1, NULL);
    collect(w, 12100, 0, &e);
    /* the final one, and the new 1 s candle of c: a window's first emit
     * does not wait for the interval */
    assert_int_equal(e.nc, 2);
    const tp_candle *fin = find_candle(&e, 1, BASE);
    assert_non_null(fin);
    assert_true(fin->final && fin->close == 2.0 && fin->trade_count == 2);
    const tp_candle *fresh = find_candle(&e, 1, BASE + 16000);
    assert_non_null(fresh);
    assert_false(fresh->final);
    collect(w, 12150, 0, &e); /* nothing new, not due */
    assert_int_equal(e.nc + e.na, 0);
    collect(w, 12200, 1, &e); /* forced: open windows, no second final */
    for (size_t i = 0; i < e.nc; i++) assert_false(e.c[i].final);
    tp_windows_free(w);
}

static void test_expiry_and_bounded_state(void **state) {
    (void)state;
    tp_window_config cfg;
    tp_window_config_default(&cfg);
    cfg.idle_expiry_ms = 120000;
    tp_windows *w = tp_windows_new(&cfg);
    emitted e;
    char names[50][8];
    size_t maxwin = 0;
    for (int i = 0; i < 50; i++) snprintf(names[i], sizeof names[i], "S%d", i);
    /* 50 symbols for an hour, one trade per symbol per 100 ms */
    for (int64_t ts = BASE; ts < BASE + 3600000; ts += 100) {
        tp_trade t[50];
        for (int i = 0; i < 50; i++) {
            tr x = {names[i], 1.0 + i, 1.0, ts};
            t[i] = mk(&x);
        }
        assert_int_equal(tp_windows_add(w, t, 50, NULL), 0);
        if ((ts - BASE) % 1000 == 0) {
            const tp_average *a;
            const tp_candle *c;
            size_t na, nc;
            assert_int_equal(tp_windows_emit(w, ts, 0, &a, &na, &c, &nc), 0);
            tp_windows_stats st;
            tp_windows_get_stats(w, &st);
            if (st.open_windows > maxwin) maxwin = st.open_windows;
        }
    }
    /* per symbol at most: averages (15+15)/5+1, 1 s candles 15+2, 1 min 2 */
    assert_true(maxwin <= 50 * (7 + 17 + 2));
    tp_windows_stats st;
    tp_windows_get_stats(w, &st);
    assert_int_equal(st.symbols, 50);
    /* only one symbol keeps trading; the rest go idle and expire */
    for (int64_t ts = BASE + 3600000; ts < BASE + 3600000 + 300000; ts += 1000) {
        tr x = {"S7", 1.0, 1.0, ts};
        add(w, &x, 1, NULL);
        collect(w, ts, 0, &e);
    }
    tp_windows_get_stats(w, &st);
    assert_int_equal(st.symbols, 1);
    assert_int_equal(st.expired, 49);
    /* an expired symbol comes back cleanly */
    tr back = {"S3", 9.0, 1.0, BASE + 3900000};
    add(w, &back, 1, NULL);
    collect(w, 0, 1, &e);
    int found = 0;
    for (size_t i = 0; i < e.nc; i++)
        if (e.c[i].symbol.len == 2 && !memcmp(e.c[i].symbol.ptr, "S3", 2) && e.c[i].interval_s == 1) {
            assert_int_equal(e.c[i].trade_count, 1);
            found = 1;
        }
    assert_true(found);
    tp_windows_free(w);
}

static void test_open_since_floor_ids(void **state) {
    (void)state;
    tp_windows *w = tp_windows_new(NULL);
    assert_int_equal(tp_windows_open_since(w), INT64_MAX);
    assert_int_equal(tp_windows_watermark(w), INT64_MIN);
    tr a[] = {{"A", 1.0, 1.0, BASE + 70500}};
    add(w, a, 1, NULL);
    /* watermark +55500: a trade could still open the minute starting at
     * BASE (it ends after the watermark) */
    assert_int_equal(tp_windows_open_since(w), BASE);
    tp_windows_advance(w, BASE + 75000);                      /* watermark +60000 */
    assert_int_equal(tp_windows_open_since(w), BASE + 50000); /* average [50000, 65000) */
    emitted e;
    collect(w, 0, 1, &e);
    uint8_t id1[16];
    const tp_average *x = find_avg(&e, BASE + 60000);
    assert_non_null(x);
    memcpy(id1, x->id, 16);
    assert_int_equal(id1[6] >> 4, 8);
    assert_int_equal(id1[8] >> 6, 2);
    assert_memory_not_equal(find_avg(&e, BASE + 65000)->id, id1, 16);
    tp_windows_free(w);
    /* a second instance gives the same id; floor suppresses older windows */
    w = tp_windows_new(NULL);
    tp_trade t = mk(&a[0]);
    size_t late = 9;
    assert_int_equal(tp_windows_add_since(w, &t, 1, BASE + 65000, &late), 0);
    assert_int_equal(late, 0);
    collect(w, 0, 1, &e);
    assert_int_equal(e.na, 2); /* +65000 and +70000; +60000 starts before the floor */
    assert_int_equal(e.nc, 1); /* 1 s candle +70000; the minute started at +60000 */
    assert_non_null(find_avg(&e, BASE + 65000));
    assert_non_null(find_avg(&e, BASE + 70000));
    assert_int_equal(e.c[0].interval_s, 1);
    tp_trade t2 = t;
    t2.ts_ms = BASE + 60000;
    tp_windows_add_since(w, &t2, 1, BASE + 65000, &late);
    assert_int_equal(late, 0); /* before the floor is not late */
    tp_windows_free(w);
    w = tp_windows_new(NULL);
    tp_windows_add(w, &t, 1, NULL);
    collect(w, 0, 1, &e);
    assert_memory_equal(find_avg(&e, BASE + 60000)->id, id1, 16);
    tp_windows_free(w);
}

static void test_bad_values_skipped(void **state) {
    (void)state;
    tp_windows *w = tp_windows_new(NULL);
    tr t[] = {
        {"B", NAN, 1.0, BASE}, {"B", 1.0, -1.0, BASE}, {"B", INFINITY, 1.0, BASE}, {"B", 2.0, 1.0, BASE}};
    add(w, t, 4, NULL);
    emitted e;
    collect(w, 0, 1, &e);
    const tp_candle *c = find_candle(&e, 1, BASE);
    assert_non_null(c);
    assert_int_equal(c->trade_count, 1);
    tp_windows_stats st;
    tp_windows_get_stats(w, &st);
    assert_int_equal(st.skipped, 3);
    tp_windows_free(w);
}

/* Gaps: the overlap rule at its edges, open windows marked and emitted
 * again, windows opened later marked, other symbols untouched, and the gap
 * forgotten once no window that can still open overlaps it. */
static void test_gaps_mark_windows(void **state) {
    (void)state;
    /* [start, end) against [from, to]: both gap ends count, the window end does not */
    assert_true(tp_window_overlaps_gap(1000, 2000, 1999, 3000));
    assert_false(tp_window_overlaps_gap(1000, 2000, 2000, 3000));
    assert_true(tp_window_overlaps_gap(1000, 2000, 0, 1000));
    assert_false(tp_window_overlaps_gap(1000, 2000, 0, 999));
    assert_true(tp_window_overlaps_gap(1000, 2000, 1500, 1500));

    tp_window_config cfg;
    tp_window_config_default(&cfg);
    cfg.emit_interval_ms = 0;
    tp_windows *w = tp_windows_new(&cfg);
    tr a[] = {{"G", 1.0, 1.0, BASE + 100}, {"G", 2.0, 1.0, BASE + 1200}, {"H", 3.0, 1.0, BASE + 1300}};
    add(w, a, 3, NULL);
    emitted e;
    collect(w, 0, 0, &e);
    assert_int_equal(find_candle(&e, 1, BASE + 1000)->incomplete, 0);
    assert_int_equal(tp_windows_gap(w, (tp_str){"G", 1}, BASE + 1200, BASE + 2500), 0);
    assert_true(tp_windows_is_open(w, (tp_str){"G", 1}, 1, BASE + 1000));
    assert_false(tp_windows_is_open(w, (tp_str){"G", 1}, 1, BASE + 7000));
    collect(w, 0, 0, &e); /* the marked ones go out again; only they changed */
    const tp_candle *c = find_candle(&e, 1, BASE + 1000);
    assert_non_null(c);
    assert_int_equal(c->incomplete, 1);
    assert_int_equal(c->trade_count, 1);
    assert_null(find_candle(&e, 1, BASE)); /* ends at 1000, before the gap */
    assert_int_equal(find_candle(&e, 60, BASE)->incomplete, 1);
    assert_int_equal(find_avg(&e, BASE)->incomplete, 1);
    for (size_t i = 0; i < e.nc; i++) assert_int_equal(e.c[i].symbol.ptr[0], 'G');
    tr b[] = {{"G", 4.0, 1.0, BASE + 2500}, {"G", 5.0, 1.0, BASE + 3100}, {"H", 6.0, 1.0, BASE + 2600}};
    add(w, b, 3, NULL);
    collect(w, 0, 0, &e);
    assert_int_equal(find_candle(&e, 1, BASE + 2000)->incomplete, 1); /* opened after the gap */
    assert_int_equal(find_candle(&e, 1, BASE + 3000)->incomplete, 0);
    for (size_t i = 0; i < e.nc; i++)
        if (e.c[i].symbol.ptr[0] == 'H') assert_int_equal(e.c[i].incomplete, 0);
    /* far later: complete again */
    tr z[] = {{"G", 7.0, 1.0, BASE + 200000}};
    add(w, z, 1, NULL);
    collect(w, 0, 0, &e);
    tr y[] = {{"G", 8.0, 1.0, BASE + 200500}};
    add(w, y, 1, NULL);
    collect(w, 0, 0, &e);
    assert_int_equal(find_candle(&e, 1, BASE + 200000)->incomplete, 0);
    tp_windows_free(w);
}

/* With clock_bound a trade dated past the wall clock is folded but counts
 * as dated now for the watermark: the trades on time after it are not
 * late. An advance past the clock is clamped too. */
static void test_watermark_bounded_by_clock(void **state) {
    (void)state;
    tp_window_config c;
    tp_window_config_default(&c);
    c.clock_bound = 1;
    tp_windows *w = tp_windows_new(&c);
    int64_t now = (int64_t)time(NULL) * 1000;
    int64_t t0 = now - now % 60000 - 60000;
    tr good[] = {{"G", 1.0, 1.0, t0}};
    add(w, good, 1, NULL);
    assert_int_equal(tp_windows_watermark(w), t0 - 15000);
    tr bad[] = {{"B", 2.0, 1.0, now + 10LL * 365 * 86400000}, {"G", 3.0, 1.0, now + 3600000}};
    size_t late = 7;
    add(w, bad, 2, &late);
    assert_int_equal(late, 0);
    int64_t after = (int64_t)time(NULL) * 1000 + 1000;
    assert_true(tp_windows_watermark(w) <= after - 15000); /* not ten years on */
    tp_windows_stats st;
    tp_windows_get_stats(w, &st);
    assert_int_equal(st.skipped, 0);
    assert_true(st.max_event_ms <= after);
    assert_int_equal(tp_windows_known(w, (tp_str){"B", 1}), 1); /* folded: it passed the door */
    tr next[] = {{"G", 4.0, 1.0, now - 1000}};
    late = 7;
    add(w, next, 1, &late);
    assert_int_equal(late, 0); /* on time: not late */
    tp_windows_advance(w, INT64_MAX);
    assert_true(tp_windows_watermark(w) <= (int64_t)time(NULL) * 1000 + 1000 - 15000);
    tp_windows_free(w);

    /* without the bound the ten-year trade makes the trade on time late */
    tp_window_config_default(&c);
    w = tp_windows_new(&c);
    add(w, bad, 1, NULL);
    late = 0;
    add(w, next, 1, &late);
    assert_int_equal(late, 1);
    tp_windows_free(w);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_watermark_bounded_by_clock),
        cmocka_unit_test(test_random_streams),
        cmocka_unit_test(test_boundaries_one_trade_gaps),
        cmocka_unit_test(test_zero_volume_updates),
        cmocka_unit_test(test_late_and_out_of_order),
        cmocka_unit_test(test_watermark_on_boundary),
        cmocka_unit_test(test_emit_interval_and_final_once),
        cmocka_unit_test(test_expiry_and_bounded_state),
        cmocka_unit_test(test_open_since_floor_ids),
        cmocka_unit_test(test_bad_values_skipped),
        cmocka_unit_test(test_gaps_mark_windows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
