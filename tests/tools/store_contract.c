/* store_contract.c - the store contract suite, run unchanged against every
 * store (sink.h is the contract).
 *
 *   store_contract check URL [--large N]
 *       Every check below against the store at URL; exits 1 with a message
 *       naming the first mismatch. Symbols carry a per-run prefix, so the
 *       store need not be empty. On success prints one summary line,
 *       "rows trades=.. null_cond=.. empty_cond=.. averages=.. candles=..",
 *       the rows this run added, for the caller to compare against the
 *       database's own count (the oracle).
 *   store_contract write URL PREFIX N UNIT
 *       Writes N trades of symbol PREFIX in units of UNIT rows, retrying a
 *       failed unit (re-sending all of it, as sink.h says callers do) until
 *       it is durable; prints "committed K" after each commit. Used by the
 *       kill-and-restart tests: the server (or this writer) dies mid-stream.
 *   store_contract count URL SYMBOL
 *       Prints the number of distinct trades of SYMBOL and checks that their
 *       ids are exactly 0..n-1 of the write mode's sequence. */
#include "core/log.h"
#include "core/trade.h"
#include "sink/sink.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *g_url;
static char g_url_safe[512]; /* for messages: password masked */
static char g_err[1024];

static void failf(int line, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "store_contract [%s] FAIL (line %d): ", g_url_safe, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}
#define CHECK(cond, ...)                                                                                     \
    do {                                                                                                     \
        if (!(cond)) failf(__LINE__, __VA_ARGS__);                                                           \
    } while (0)
#define OK(call) CHECK((call) == 0, "%s: %s", #call, g_err)

static uint64_t mix64(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

/* Deterministic id of trade i of a run with nonce n. */
static void make_id(uint64_t nonce, uint64_t i, uint8_t out[16]) {
    uint64_t hi = mix64(nonce * 31 + i), lo = mix64(hi ^ (i * 0x9e3779b97f4a7c15ULL) ^ nonce);
    for (int k = 0; k < 8; k++) {
        out[k] = (uint8_t)(hi >> (56 - 8 * k));
        out[8 + k] = (uint8_t)(lo >> (56 - 8 * k));
    }
}

static tp_str s_of(tp_batch *b, const char *s) {
    tp_str r = {tp_batch_strdup(b, s, strlen(s)), (uint32_t)strlen(s)};
    return r;
}

static tp_trade *add_trade(tp_batch *b, const char *sym, double p, double v, int64_t ts, uint64_t nonce,
                           uint64_t idx) {
    tp_trade *t = tp_batch_add(b);
    CHECK(t, "out of memory");
    t->symbol = s_of(b, sym);
    t->price = p;
    t->volume = v;
    t->ts_ms = ts;
    t->ncond = TP_COND_NULL;
    make_id(nonce, idx, t->id);
    return t;
}

static void set_cond(tp_batch *b, tp_trade *t, int n, const char *const *items) {
    tp_str *c = n ? tp_batch_alloc(b, sizeof(tp_str) * (size_t)n) : NULL;
    for (int i = 0; i < n; i++) {
        if (items[i]) {
            c[i] = s_of(b, items[i]);
        } else {
            c[i].ptr = NULL;
            c[i].len = 0;
        }
    }
    t->ncond = n;
    t->cond = c;
}

/* ---- collecting query results ---- */

typedef struct trades_out {
    tp_batch b;
    int64_t *ingest;
    size_t cap;
    int stop_after; /* 0 = never */
} trades_out;

static int on_trade(void *ud, const tp_trade *t, int64_t ingest_ms) {
    trades_out *o = ud;
    CHECK(tp_batch_copy_trade(&o->b, t), "out of memory");
    if (o->b.n > o->cap) {
        o->cap = o->b.n * 2;
        o->ingest = realloc(o->ingest, o->cap * sizeof *o->ingest);
    }
    o->ingest[o->b.n - 1] = ingest_ms;
    return o->stop_after && (int)o->b.n >= o->stop_after;
}

static void trades_query(tp_sink *s, const char *sym, int64_t from, int64_t to, int limit, trades_out *o) {
    tp_batch_reset(&o->b);
    tp_query q = {.symbol = sym, .from_ms = from, .to_ms = to, .limit = limit};
    OK(tp_sink_query_trades(s, &q, on_trade, o, g_err, sizeof g_err));
}

typedef struct candles_out {
    tp_candle c[64];
    char sym[64][64];
    size_t n;
} candles_out;

static int on_candle(void *ud, const tp_candle *c) {
    candles_out *o = ud;
    CHECK(o->n < 64, "too many candles returned");
    o->c[o->n] = *c;
    CHECK(c->symbol.len < 64, "symbol too long");
    memcpy(o->sym[o->n], c->symbol.ptr, c->symbol.len);
    o->sym[o->n][c->symbol.len] = 0;
    o->c[o->n].symbol.ptr = o->sym[o->n];
    o->n++;
    return 0;
}

typedef struct averages_out {
    tp_average a[64];
    char sym[64][64];
    size_t n;
} averages_out;

static int on_average(void *ud, const tp_average *a) {
    averages_out *o = ud;
    CHECK(o->n < 64, "too many averages returned");
    o->a[o->n] = *a;
    CHECK(a->symbol.len < 64, "symbol too long");
    memcpy(o->sym[o->n], a->symbol.ptr, a->symbol.len);
    o->sym[o->n][a->symbol.len] = 0;
    o->a[o->n].symbol.ptr = o->sym[o->n];
    o->n++;
    return 0;
}

typedef struct symbols_out {
    const char *prefix;
    char sym[256][64];
    tp_symbol_info info[256];
    size_t n, total;
} symbols_out;

static int on_symbol(void *ud, const tp_symbol_info *s) {
    symbols_out *o = ud;
    o->total++;
    size_t pl = strlen(o->prefix);
    if (s->symbol.len < pl || memcmp(s->symbol.ptr, o->prefix, pl)) return 0;
    CHECK(o->n < 256 && s->symbol.len < 64, "too many symbols");
    memcpy(o->sym[o->n], s->symbol.ptr, s->symbol.len);
    o->sym[o->n][s->symbol.len] = 0;
    o->info[o->n] = *s;
    o->info[o->n].symbol.ptr = o->sym[o->n];
    o->n++;
    return 0;
}

static const tp_symbol_info *find_symbol(const symbols_out *o, const char *sym) {
    for (size_t i = 0; i < o->n; i++)
        if (!strcmp(o->sym[i], sym)) return &o->info[i];
    return NULL;
}

static void symbols_query(tp_sink *s, const char *prefix, symbols_out *o) {
    memset(o, 0, sizeof *o);
    o->prefix = prefix;
    OK(tp_sink_query_symbols(s, on_symbol, o, g_err, sizeof g_err));
}

/* ---- comparisons ---- */

static void uuid_of(const uint8_t id[16], char out[37]) {
    tp_uuid_format(id, out);
}

static void same_trade(const tp_trade *want, const tp_trade *got, const char *ctx) {
    char u[37];
    uuid_of(want->id, u);
    CHECK(!memcmp(want->id, got->id, 16), "%s: trade id differs (want %s)", ctx, u);
    CHECK(tp_str_eq(want->symbol, got->symbol), "%s: trade %s symbol '%.*s' != '%.*s'", ctx, u,
          (int)got->symbol.len, got->symbol.ptr, (int)want->symbol.len, want->symbol.ptr);
    CHECK(want->price == got->price, "%s: trade %s price %.17g != %.17g", ctx, u, got->price, want->price);
    CHECK(want->volume == got->volume, "%s: trade %s volume %.17g != %.17g", ctx, u, got->volume,
          want->volume);
    CHECK(want->ts_ms == got->ts_ms, "%s: trade %s ts %" PRId64 " != %" PRId64, ctx, u, got->ts_ms,
          want->ts_ms);
    CHECK(want->ncond == got->ncond, "%s: trade %s has %d conditions, want %d (-1 = null)", ctx, u,
          got->ncond, want->ncond);
    for (int32_t i = 0; i < want->ncond; i++) {
        const tp_str *a = &want->cond[i], *b = &got->cond[i];
        CHECK(!a->ptr == !b->ptr, "%s: trade %s condition %d null-ness differs", ctx, u, i);
        if (a->ptr)
            CHECK(tp_str_eq(*a, *b), "%s: trade %s condition %d '%.*s' != '%.*s'", ctx, u, i, (int)b->len,
                  b->ptr, (int)a->len, a->ptr);
    }
}

static int cmp_trade_order(const void *x, const void *y) {
    const tp_trade *a = x, *b = y;
    if (a->ts_ms != b->ts_ms) return a->ts_ms < b->ts_ms ? -1 : 1;
    char ua[37], ub[37];
    uuid_of(a->id, ua);
    uuid_of(b->id, ub);
    return strcmp(ua, ub);
}

static void same_candle(const tp_candle *w, const tp_candle *g, const char *ctx) {
    CHECK(tp_str_eq(w->symbol, g->symbol), "%s: candle symbol differs", ctx);
    CHECK(w->interval_s == g->interval_s && w->start_ms == g->start_ms,
          "%s: candle key (%d, %" PRId64 ") != (%d, %" PRId64 ")", ctx, g->interval_s, g->start_ms,
          w->interval_s, w->start_ms);
    CHECK(w->open == g->open && w->high == g->high && w->low == g->low && w->close == g->close,
          "%s: candle %" PRId64 " OHLC (%g %g %g %g) != (%g %g %g %g)", ctx, w->start_ms, g->open, g->high,
          g->low, g->close, w->open, w->high, w->low, w->close);
    CHECK(w->volume == g->volume, "%s: candle volume %.17g != %.17g", ctx, g->volume, w->volume);
    CHECK((isnan(w->vwap) && isnan(g->vwap)) || w->vwap == g->vwap, "%s: candle vwap %.17g != %.17g", ctx,
          g->vwap, w->vwap);
    CHECK(w->trade_count == g->trade_count, "%s: candle trade_count %" PRId64 " != %" PRId64, ctx,
          g->trade_count, w->trade_count);
    CHECK(w->updated_ms == g->updated_ms, "%s: candle updated_ms %" PRId64 " != %" PRId64, ctx, g->updated_ms,
          w->updated_ms);
    CHECK(!!w->final == !!g->final, "%s: candle final %d != %d", ctx, g->final, w->final);
}

static void same_average(const tp_average *w, const tp_average *g, const char *ctx) {
    CHECK(tp_str_eq(w->symbol, g->symbol), "%s: average symbol differs", ctx);
    CHECK(!memcmp(w->id, g->id, 16), "%s: average id differs", ctx);
    CHECK(w->window_start_ms == g->window_start_ms && w->window_end_ms == g->window_end_ms,
          "%s: average window [%" PRId64 ",%" PRId64 ") != [%" PRId64 ",%" PRId64 ")", ctx,
          g->window_start_ms, g->window_end_ms, w->window_start_ms, w->window_end_ms);
    CHECK(w->price_volume_multiply == g->price_volume_multiply, "%s: average %.17g != %.17g", ctx,
          g->price_volume_multiply, w->price_volume_multiply);
    CHECK(w->trade_count == g->trade_count, "%s: average trade_count %" PRId64 " != %" PRId64, ctx,
          g->trade_count, w->trade_count);
    CHECK(w->ingest_ms == g->ingest_ms, "%s: average ingest_ms differs", ctx);
    CHECK(!!w->final == !!g->final, "%s: average final %d != %d", ctx, g->final, w->final);
}

/* ---- the checks ---- */

typedef struct run {
    char pfx[32];
    uint64_t nonce;
    int64_t t0;
    size_t trades, null_cond, empty_cond, averages, candles;
    size_t gaps;         /* feed_gaps keys this run wrote */
    int64_t gap_span;    /* sum of to_ms - from_ms over the rows that must be kept */
    size_t gap_ids;      /* kept rows with venue trade ids */
    int64_t gap_id_span; /* their sum of to_trade_id - from_trade_id */
} run;

static void sym_name(const run *r, const char *suffix, char *out, size_t n) {
    snprintf(out, n, "%s%s", r->pfx, suffix);
}

static void count_conds(run *r, const tp_batch *b) {
    for (size_t i = 0; i < b->n; i++) {
        if (b->trades[i].ncond == TP_COND_NULL) r->null_cond++;
        if (b->trades[i].ncond == 0) r->empty_cond++;
    }
}

/* Round trip of every field, every shape of conditions, unicode; then the
 * same batch again changes nothing; same-millisecond trades both kept;
 * an uncommitted unit is invisible to a second reader and lost on close. */
static void check_round_trip(run *r) {
    tp_sink *w, *rd;
    OK(tp_sink_open(g_url, &w, g_err, sizeof g_err));
    OK(tp_sink_open(g_url, &rd, g_err, sizeof g_err));
    char sym[64], usym[64];
    sym_name(r, "RT", sym, sizeof sym);
    sym_name(r, "Ü:ÉTH😀\"q'\\", usym, sizeof usym);

    tp_batch b;
    tp_batch_init(&b);
    int64_t t0 = r->t0;
    tp_trade *t;
    add_trade(&b, sym, 189.98, 100, t0, r->nonce, 1); /* c null */
    t = add_trade(&b, sym, 0.1 + 0.2, 0, t0 + 1, r->nonce, 2);
    set_cond(&b, t, 0, NULL); /* c [] */
    t = add_trade(&b, sym, 123456.78901234567, 1e-9, t0 + 2, r->nonce, 3);
    set_cond(&b, t, 2, (const char *const[]){"1", "12"});
    t = add_trade(&b, sym, 5e-324, 1.7976931348623157e308, t0 + 3, r->nonce, 4);
    set_cond(&b, t, 4, (const char *const[]){NULL, "", "quote\" back\\ tab\t nl\n", "ünï😀"});
    /* two trades of one symbol in one millisecond: both kept */
    add_trade(&b, sym, 10, 1, t0 + 4, r->nonce, 5);
    add_trade(&b, sym, 10, 1, t0 + 4, r->nonce, 6);
    t = add_trade(&b, usym, 42.5, 3, t0 + 5, r->nonce, 7);
    set_cond(&b, t, 1, (const char *const[]){"T"});
    int64_t ingest = t0 + 1000;

    /* Uncommitted: not visible to another handle; closed without commit:
     * gone (the caller re-sends after a failure). */
    tp_sink *tmp;
    OK(tp_sink_open(g_url, &tmp, g_err, sizeof g_err));
    OK(tp_sink_write_trades(tmp, b.trades, b.n, ingest, g_err, sizeof g_err));
    trades_out o;
    memset(&o, 0, sizeof o);
    tp_batch_init(&o.b);
    trades_query(rd, sym, 0, 0, 0, &o);
    CHECK(o.b.n == 0, "uncommitted rows visible to a second reader (%zu rows)", o.b.n);
    tp_sink_close(tmp);
    trades_query(rd, sym, 0, 0, 0, &o);
    CHECK(o.b.n == 0, "rows of a unit closed without commit are visible (%zu rows)", o.b.n);

    OK(tp_sink_write_trades(w, b.trades, b.n, ingest, g_err, sizeof g_err));
    OK(tp_sink_commit(w, g_err, sizeof g_err));
    r->trades += b.n;
    count_conds(r, &b);

    for (int pass = 0; pass < 2; pass++) {
        const char *ctx = pass ? "after re-writing the batch" : "round trip";
        trades_query(rd, sym, 0, 0, 0, &o);
        CHECK(o.b.n == b.n - 1, "%s: %zu trades of %s, want %zu", ctx, o.b.n, sym, b.n - 1);
        /* expected order: time, then id text */
        tp_trade want[8];
        memcpy(want, b.trades, (b.n - 1) * sizeof *want);
        qsort(want, b.n - 1, sizeof *want, cmp_trade_order);
        for (size_t i = 0; i < o.b.n; i++) {
            same_trade(&want[i], &o.b.trades[i], ctx);
            CHECK(o.ingest[i] == ingest, "%s: ingest_timestamp %" PRId64 " != %" PRId64, ctx, o.ingest[i],
                  ingest);
        }
        trades_query(rd, usym, 0, 0, 0, &o);
        CHECK(o.b.n == 1, "%s: unicode symbol: %zu trades, want 1", ctx, o.b.n);
        same_trade(&b.trades[b.n - 1], &o.b.trades[0], ctx);
        if (!pass) {
            /* the same batch again, twice, and in two halves: nothing changes */
            OK(tp_sink_write_trades(w, b.trades, b.n, ingest, g_err, sizeof g_err));
            OK(tp_sink_commit(w, g_err, sizeof g_err));
            OK(tp_sink_write_trades(w, b.trades, 3, ingest, g_err, sizeof g_err));
            OK(tp_sink_write_trades(w, b.trades + 3, b.n - 3, ingest, g_err, sizeof g_err));
            OK(tp_sink_commit(w, g_err, sizeof g_err));
        }
    }
    symbols_out so;
    symbols_query(rd, r->pfx, &so);
    const tp_symbol_info *si = find_symbol(&so, usym);
    CHECK(si && si->trade_count == 1 && si->last_price == 42.5 && si->last_ts_ms == t0 + 5,
          "symbols: unicode symbol missing or wrong");
    si = find_symbol(&so, sym);
    CHECK(si, "symbols: %s missing", sym);
    CHECK(si->trade_count == (int64_t)b.n - 1, "symbols: %s count %" PRId64 ", want %zu", sym,
          si->trade_count, b.n - 1);
    CHECK(si->last_ts_ms == t0 + 4 && si->last_price == 10, "symbols: %s last %" PRId64 "/%g", sym,
          si->last_ts_ms, si->last_price);
    /* commit with nothing pending is fine */
    OK(tp_sink_commit(w, g_err, sizeof g_err));
    tp_batch_free(&o.b);
    free(o.ingest);
    tp_batch_free(&b);
    tp_sink_close(w);
    tp_sink_close(rd);
    printf(
        "ok - round trip, null/[]/list conditions, unicode, re-write changes nothing, same-ms trades kept\n");
}

/* Queries: limit = the latest rows, oldest first; from inclusive, to
 * exclusive; an unknown symbol has no rows; early stop from the callback. */
static void check_queries(run *r) {
    tp_sink *s;
    OK(tp_sink_open(g_url, &s, g_err, sizeof g_err));
    char sym[64], other[64];
    sym_name(r, "Q", sym, sizeof sym);
    sym_name(r, "Q2", other, sizeof other);
    tp_batch b;
    tp_batch_init(&b);
    /* 50 trades, 10 ms apart, written out of order */
    for (int i = 49; i >= 0; i--)
        add_trade(&b, sym, 100 + i, i, r->t0 + 10 * i, r->nonce, 1000 + (uint64_t)i);
    add_trade(&b, other, 1, 1, r->t0, r->nonce, 2000);
    OK(tp_sink_write_trades(s, b.trades, b.n, r->t0, g_err, sizeof g_err));
    OK(tp_sink_commit(s, g_err, sizeof g_err));
    r->trades += b.n;
    count_conds(r, &b);

    trades_out o;
    memset(&o, 0, sizeof o);
    tp_batch_init(&o.b);
    struct {
        int64_t from, to;
        int limit;
        int first, n; /* expected: indices first..first+n-1 */
    } cases[] = {
        {0, 0, 0, 0, 50},
        {0, 0, 5, 45, 5},                      /* latest 5, oldest first */
        {r->t0 + 100, 0, 0, 10, 40},           /* from inclusive */
        {0, r->t0 + 100, 0, 0, 10},            /* to exclusive */
        {r->t0 + 100, r->t0 + 200, 0, 10, 10}, /* both */
        {r->t0 + 100, r->t0 + 200, 3, 17, 3},  /* latest 3 in range */
        {r->t0 + 101, r->t0 + 109, 0, 0, 0},   /* empty range */
        {r->t0 + 490, 0, 100, 49, 1},          /* limit above the count */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        trades_query(s, sym, cases[c].from, cases[c].to, cases[c].limit, &o);
        CHECK((int)o.b.n == cases[c].n,
              "query case %zu (from %" PRId64 " to %" PRId64 " limit %d): %zu rows, want %d", c,
              cases[c].from, cases[c].to, cases[c].limit, o.b.n, cases[c].n);
        for (size_t i = 0; i < o.b.n; i++) {
            int k = cases[c].first + (int)i;
            CHECK(o.b.trades[i].ts_ms == r->t0 + 10 * k && o.b.trades[i].price == 100 + k,
                  "query case %zu row %zu: ts %" PRId64 " price %g, want ts %" PRId64 " price %d", c, i,
                  o.b.trades[i].ts_ms, o.b.trades[i].price, r->t0 + 10 * k, 100 + k);
        }
    }
    trades_query(s, "NO-SUCH-SYMBOL-\xe2\x9c\x93", 0, 0, 0, &o);
    CHECK(o.b.n == 0, "unknown symbol returned %zu rows", o.b.n);
    tp_batch_reset(&o.b);
    o.stop_after = 2;
    tp_query q = {.symbol = sym};
    OK(tp_sink_query_trades(s, &q, on_trade, &o, g_err, sizeof g_err));
    CHECK(o.b.n == 2, "callback asked to stop after 2 rows, got %zu", o.b.n);
    symbols_out so;
    symbols_query(s, r->pfx, &so);
    const tp_symbol_info *si = find_symbol(&so, sym);
    CHECK(si && si->trade_count == 50 && si->last_price == 149 && si->last_ts_ms == r->t0 + 490,
          "symbols: %s wrong", sym);
    si = find_symbol(&so, other);
    CHECK(si && si->trade_count == 1 && si->last_price == 1, "symbols: %s wrong", other);
    tp_batch_free(&o.b);
    free(o.ingest);
    tp_batch_free(&b);
    tp_sink_close(s);
    printf(
        "ok - trade queries: limit (latest, oldest first), from/to, unknown symbol, early stop, symbols\n");
}

/* A unit re-sent after a failure holds rows already stored and new ones:
 * every row ends up stored once, the new ones included. */
static void check_mixed_resend(run *r) {
    tp_sink *s;
    OK(tp_sink_open(g_url, &s, g_err, sizeof g_err));
    char sym[64];
    sym_name(r, "MIX", sym, sizeof sym);
    tp_batch b;
    tp_batch_init(&b);
    for (int i = 0; i < 20; i++) add_trade(&b, sym, 1 + i, 1, r->t0 + i, r->nonce, 3000 + (uint64_t)i);
    OK(tp_sink_write_trades(s, b.trades + 5, 10, r->t0, g_err, sizeof g_err)); /* 5..14 stored */
    OK(tp_sink_commit(s, g_err, sizeof g_err));
    OK(tp_sink_write_trades(s, b.trades, 20, r->t0, g_err, sizeof g_err)); /* 0..19, 10 of them stored */
    OK(tp_sink_write_trades(s, b.trades + 18, 2, r->t0, g_err,
                            sizeof g_err)); /* duplicates within the unit */
    OK(tp_sink_commit(s, g_err, sizeof g_err));
    trades_out o;
    memset(&o, 0, sizeof o);
    tp_batch_init(&o.b);
    trades_query(s, sym, 0, 0, 0, &o);
    CHECK(o.b.n == 20, "re-sent unit with old and new rows: %zu trades, want 20", o.b.n);
    for (size_t i = 0; i < 20; i++) same_trade(&b.trades[i], &o.b.trades[i], "re-sent unit");
    r->trades += 20;
    count_conds(r, &b);
    tp_batch_free(&o.b);
    free(o.ingest);
    tp_batch_free(&b);
    tp_sink_close(s);
    printf("ok - a re-sent unit mixing stored and new rows: each row once\n");
}

/* Bytes a store may refuse (invalid UTF-8, NUL in a condition) must not
 * make the unit fail on every retry: the commit succeeds and the trade
 * next to them is stored exactly. (Stores that cannot keep such bytes may
 * replace them, so the odd trade's own values are not compared.) */
static void check_bad_bytes(run *r) {
    tp_sink *s;
    OK(tp_sink_open(g_url, &s, g_err, sizeof g_err));
    char odd[64], good[64];
    sym_name(r, "BAD\xff\xfe\xc3(", odd, sizeof odd);
    sym_name(r, "GOOD", good, sizeof good);
    tp_batch b;
    tp_batch_init(&b);
    tp_trade *t = add_trade(&b, odd, 1, 1, r->t0, r->nonce, 4000);
    static const char nul_item[] = {'a', 0, 'b'};
    tp_str *c = tp_batch_alloc(&b, 2 * sizeof *c);
    c[0].ptr = tp_batch_strdup(&b, nul_item, 3);
    c[0].len = 3;
    c[1] = s_of(&b, "\xed\xa0\x80x"); /* a UTF-16 surrogate in UTF-8: invalid */
    t->ncond = 2;
    t->cond = c;
    add_trade(&b, good, 2, 2, r->t0, r->nonce, 4001);
    OK(tp_sink_write_trades(s, b.trades, b.n, r->t0, g_err, sizeof g_err));
    OK(tp_sink_commit(s, g_err, sizeof g_err));
    trades_out o;
    memset(&o, 0, sizeof o);
    tp_batch_init(&o.b);
    trades_query(s, good, 0, 0, 0, &o);
    CHECK(o.b.n == 1, "the trade beside one with bad bytes: %zu rows, want 1", o.b.n);
    same_trade(&b.trades[1], &o.b.trades[0], "beside bad bytes");
    r->trades += 2;
    count_conds(r, &b);
    tp_batch_free(&o.b);
    free(o.ingest);
    tp_batch_free(&b);
    tp_sink_close(s);
    printf("ok - invalid UTF-8 and NUL bytes do not make the unit fail\n");
}

static tp_candle candle(const char *sym, int iv, int64_t start, double o, double h, double l, double c,
                        double v, double vwap, int64_t n, int64_t upd, int fin) {
    tp_candle k = {{sym, (uint32_t)strlen(sym)}, iv, start, o, h, l, c, v, vwap, n, upd, fin, 0};
    return k;
}

static void candles_query(tp_sink *s, const char *sym, int iv, int64_t from, int64_t to, int limit,
                          candles_out *o) {
    o->n = 0;
    tp_query q = {.symbol = sym, .from_ms = from, .to_ms = to, .limit = limit, .interval_s = iv};
    OK(tp_sink_query_candles(s, &q, on_candle, o, g_err, sizeof g_err));
}

/* Candles: upsert of the open bucket, final wins over non-final, NaN vwap
 * as NULL, intervals kept apart, range and limit. */
static void check_candles(run *r) {
    tp_sink *s, *rd;
    OK(tp_sink_open(g_url, &s, g_err, sizeof g_err));
    OK(tp_sink_open(g_url, &rd, g_err, sizeof g_err));
    char sym[64];
    sym_name(r, "C😀", sym, sizeof sym);
    int64_t m0 = (r->t0 / 60000) * 60000;
    tp_candle v1[] = {
        candle(sym, 1, m0, 10, 11, 9, 10.5, 100, 10.25, 3, m0 + 1, 0),
        candle(sym, 1, m0 + 1000, 10.5, 10.5, 10.5, 10.5, 0, NAN, 1, m0 + 2, 0),
        candle(sym, 60, m0, 10, 11, 9, 10.5, 100, 10.25, 4, m0 + 3, 0),
    };
    OK(tp_sink_write_candles(s, v1, 3, g_err, sizeof g_err));
    OK(tp_sink_commit(s, g_err, sizeof g_err));
    candles_out o;
    candles_query(rd, sym, 1, 0, 0, 0, &o);
    CHECK(o.n == 2, "1 s candles: %zu, want 2", o.n);
    same_candle(&v1[0], &o.c[0], "candle v1");
    same_candle(&v1[1], &o.c[1], "candle v1 (no volume: vwap null)");
    candles_query(rd, sym, 60, 0, 0, 0, &o);
    CHECK(o.n == 1, "1 min candles: %zu, want 1", o.n);
    same_candle(&v1[2], &o.c[0], "1 min candle");

    /* the open bucket changes: replaced; then final: replaced; then a late
     * non-final version: ignored; a final again: replaced */
    tp_candle v2 = candle(sym, 1, m0, 10, 12, 8, 11, 150, 10.5, 5, m0 + 10, 0);
    tp_candle v3 = candle(sym, 1, m0, 10, 12, 8, 11.5, 160, 10.75, 6, m0 + 20, 1);
    tp_candle v4 = candle(sym, 1, m0, 1, 1, 1, 1, 1, 1, 1, m0 + 30, 0);
    tp_candle v5 = candle(sym, 1, m0, 10, 13, 8, 11.5, 170, 10.8, 7, m0 + 40, 1);
    OK(tp_sink_write_candles(s, &v2, 1, g_err, sizeof g_err));
    OK(tp_sink_commit(s, g_err, sizeof g_err));
    candles_query(rd, sym, 1, m0, m0 + 1, 0, &o);
    CHECK(o.n == 1, "candle upsert: %zu rows, want 1", o.n);
    same_candle(&v2, &o.c[0], "open candle updated");
    /* two versions in one unit: the last written wins */
    OK(tp_sink_write_candles(s, &v2, 1, g_err, sizeof g_err));
    OK(tp_sink_write_candles(s, &v3, 1, g_err, sizeof g_err));
    OK(tp_sink_commit(s, g_err, sizeof g_err));
    candles_query(rd, sym, 1, m0, m0 + 1, 0, &o);
    CHECK(o.n == 1, "candle final: %zu rows", o.n);
    same_candle(&v3, &o.c[0], "final candle");
    OK(tp_sink_write_candles(s, &v4, 1, g_err, sizeof g_err));
    OK(tp_sink_commit(s, g_err, sizeof g_err));
    candles_query(rd, sym, 1, m0, m0 + 1, 0, &o);
    CHECK(o.n == 1, "candle after late non-final: %zu rows", o.n);
    same_candle(&v3, &o.c[0], "a non-final version must not replace a final one");
    OK(tp_sink_write_candles(s, &v5, 1, g_err, sizeof g_err));
    OK(tp_sink_commit(s, g_err, sizeof g_err));
    candles_query(rd, sym, 1, m0, m0 + 1, 0, &o);
    same_candle(&v5, &o.c[0], "final replaced by a newer final");

    /* range and limit over 20 one-second buckets */
    char sym2[64];
    sym_name(r, "CR", sym2, sizeof sym2);
    tp_candle many[20];
    for (int i = 0; i < 20; i++)
        many[i] = candle(sym2, 1, m0 + 1000 * i, i, i + 1, i - 1, i + 0.5, 10, i + 0.25, 2, m0, i < 19);
    OK(tp_sink_write_candles(s, many, 20, g_err, sizeof g_err));
    OK(tp_sink_commit(s, g_err, sizeof g_err));
    candles_query(rd, sym2, 1, 0, 0, 5, &o);
    CHECK(o.n == 5 && o.c[0].start_ms == m0 + 15000 && o.c[4].start_ms == m0 + 19000,
          "candles limit 5: want the latest 5 oldest first");
    for (size_t i = 0; i < o.n; i++) same_candle(&many[15 + i], &o.c[i], "candle limit");
    candles_query(rd, sym2, 1, m0 + 3000, m0 + 7000, 0, &o);
    CHECK(o.n == 4 && o.c[0].start_ms == m0 + 3000, "candles range: %zu rows, want 4 from +3000", o.n);
    candles_query(rd, sym2, 60, 0, 0, 0, &o);
    CHECK(o.n == 0, "1 min candles of a symbol with only 1 s candles: %zu", o.n);
    r->candles += 3 + 20;
    tp_sink_close(s);
    tp_sink_close(rd);
    printf("ok - candles: upsert, final semantics, null vwap, intervals, range, limit\n");
}

static tp_average average(const run *r, const char *sym, int64_t start, double pv, int64_t n, int64_t ingest,
                          int fin) {
    tp_average a = {{sym, (uint32_t)strlen(sym)}, start, start + 15000, pv, n, ingest, {0}, fin, 0};
    make_id(r->nonce ^ 0xa5a5, (uint64_t)start, a.id);
    return a;
}

static void averages_query(tp_sink *s, const char *sym, int64_t from, int64_t to, int limit,
                           averages_out *o) {
    o->n = 0;
    tp_query q = {.symbol = sym, .from_ms = from, .to_ms = to, .limit = limit};
    OK(tp_sink_query_averages(s, &q, on_average, o, g_err, sizeof g_err));
}

static void check_averages(run *r) {
    tp_sink *s, *rd;
    OK(tp_sink_open(g_url, &s, g_err, sizeof g_err));
    OK(tp_sink_open(g_url, &rd, g_err, sizeof g_err));
    char sym[64];
    sym_name(r, "A", sym, sizeof sym);
    int64_t w0 = (r->t0 / 5000) * 5000;
    tp_average a[12];
    for (int i = 0; i < 12; i++) a[i] = average(r, sym, w0 + 5000 * i, 1000.5 + i, 3 + i, w0 + 1, i < 10);
    OK(tp_sink_write_averages(s, a, 12, g_err, sizeof g_err));
    OK(tp_sink_commit(s, g_err, sizeof g_err));
    averages_out o;
    averages_query(rd, sym, 0, 0, 0, &o);
    CHECK(o.n == 12, "averages: %zu rows, want 12", o.n);
    for (int i = 0; i < 12; i++) same_average(&a[i], &o.a[i], "average round trip");
    averages_query(rd, sym, 0, 0, 4, &o);
    CHECK(o.n == 4, "averages limit 4: %zu", o.n);
    for (int i = 0; i < 4; i++) same_average(&a[8 + i], &o.a[i], "averages limit (latest, oldest first)");
    averages_query(rd, sym, w0 + 10000, w0 + 25000, 0, &o);
    CHECK(o.n == 3 && o.a[0].window_start_ms == w0 + 10000, "averages range: %zu rows", o.n);
    /* open window updated; final one not replaced by non-final */
    tp_average up = average(r, sym, w0 + 55000, 2000.25, 40, w0 + 2, 0);
    tp_average late = average(r, sym, w0, 1, 1, w0 + 3, 0);
    tp_average fin = average(r, sym, w0 + 55000, 2100.75, 41, w0 + 4, 1);
    OK(tp_sink_write_averages(s, &up, 1, g_err, sizeof g_err));
    OK(tp_sink_write_averages(s, &late, 1, g_err, sizeof g_err));
    OK(tp_sink_commit(s, g_err, sizeof g_err));
    averages_query(rd, sym, w0, w0 + 1, 0, &o);
    CHECK(o.n == 1, "averages: %zu rows at w0", o.n);
    same_average(&a[0], &o.a[0], "a non-final average must not replace a final one");
    averages_query(rd, sym, w0 + 55000, 0, 0, &o);
    CHECK(o.n == 1, "averages: %zu rows at w0+55000", o.n);
    same_average(&up, &o.a[0], "open average updated");
    OK(tp_sink_write_averages(s, &fin, 1, g_err, sizeof g_err));
    OK(tp_sink_commit(s, g_err, sizeof g_err));
    averages_query(rd, sym, w0 + 55000, 0, 0, &o);
    same_average(&fin, &o.a[0], "average made final");
    r->averages += 12;
    tp_sink_close(s);
    tp_sink_close(rd);
    printf("ok - averages: round trip, upsert, final semantics, range, limit\n");
}

/* ---- feed gaps ---- */

typedef struct gaps_out {
    tp_gap_row g[32];
    char sym[32][64], reason[32][32];
    size_t n;
} gaps_out;

static int on_gap(void *ud, const tp_gap_row *g) {
    gaps_out *o = ud;
    CHECK(o->n < 32, "too many gaps returned");
    CHECK(g->symbol.len < 64 && g->reason && strlen(g->reason) < 32, "gap symbol or reason too long");
    o->g[o->n] = *g;
    memcpy(o->sym[o->n], g->symbol.ptr, g->symbol.len);
    o->sym[o->n][g->symbol.len] = 0;
    snprintf(o->reason[o->n], sizeof o->reason[o->n], "%s", g->reason);
    o->g[o->n].symbol.ptr = o->sym[o->n];
    o->g[o->n].reason = o->reason[o->n];
    o->n++;
    return 0;
}

static void gaps_query(tp_sink *s, const char *sym, int64_t from, int64_t to, int limit, gaps_out *o) {
    o->n = 0;
    tp_query q = {.symbol = sym, .from_ms = from, .to_ms = to, .limit = limit};
    OK(tp_sink_query_gaps(s, &q, on_gap, o, g_err, sizeof g_err));
}

/* A gap with the missing venue trade ids [from_id, to_id] (0, 0 = none). */
static tp_gap_row gapi(const char *sym, int64_t from, int64_t to, const char *reason, int64_t det, int conn,
                       int64_t from_id, int64_t to_id) {
    tp_gap_row g = {{sym, (uint32_t)strlen(sym)}, from, to, reason, det, conn, from_id, to_id};
    return g;
}
static tp_gap_row gap(const char *sym, int64_t from, int64_t to, const char *reason, int64_t det, int conn) {
    return gapi(sym, from, to, reason, det, conn, 0, 0);
}

static void same_gap(const tp_gap_row *w, const tp_gap_row *g, const char *ctx) {
    CHECK(tp_str_eq(w->symbol, g->symbol), "%s: gap symbol '%.*s' != '%.*s'", ctx, (int)g->symbol.len,
          g->symbol.ptr, (int)w->symbol.len, w->symbol.ptr);
    CHECK(w->from_ms == g->from_ms && w->connection == g->connection,
          "%s: gap key (%" PRId64 ", %d) != (%" PRId64 ", %d)", ctx, g->from_ms, (int)g->connection,
          w->from_ms, (int)w->connection);
    CHECK(w->to_ms == g->to_ms, "%s: gap %" PRId64 " to_ms %" PRId64 " != %" PRId64, ctx, w->from_ms,
          g->to_ms, w->to_ms);
    CHECK(!strcmp(w->reason, g->reason), "%s: gap %" PRId64 " reason '%s' != '%s'", ctx, w->from_ms,
          g->reason, w->reason);
    CHECK(w->detected_at_ms == g->detected_at_ms, "%s: gap %" PRId64 " detected_at %" PRId64 " != %" PRId64,
          ctx, w->from_ms, g->detected_at_ms, w->detected_at_ms);
    CHECK(w->from_trade_id == g->from_trade_id && w->to_trade_id == g->to_trade_id,
          "%s: gap %" PRId64 " trade ids %" PRId64 "..%" PRId64 " != %" PRId64 "..%" PRId64, ctx, w->from_ms,
          g->from_trade_id, g->to_trade_id, w->from_trade_id, w->to_trade_id);
}

/* Feed gaps, in every store that keeps them: invisible until commit and
 * lost without one; keyed by (symbol, from_ms, connection) with the
 * earliest detection kept whatever order versions arrive in (across units
 * and inside one); the rows of a symbol that overlap [from, to), ordered
 * by (from_ms, connection), limit = the latest rows, oldest first. */
static void check_gaps(run *r) {
    tp_sink *w, *rd, *tmp;
    OK(tp_sink_open(g_url, &w, g_err, sizeof g_err));
    if (!tp_sink_can_write_gaps(w)) {
        printf("ok - # the %s store keeps no feed gaps\n", tp_sink_scheme(w));
        tp_sink_close(w);
        return;
    }
    CHECK(tp_sink_can_query_gaps(w), "a store that writes gaps must query them");
    OK(tp_sink_open(g_url, &rd, g_err, sizeof g_err));
    char sym[64], usym[64];
    sym_name(r, "G", sym, sizeof sym);
    sym_name(r, "GÜ😀'", usym, sizeof usym);
    int64_t t = r->t0;
    tp_gap_row g[] = {
        gap(sym, t + 1000, t + 3000, "reconnect", t + 3100, 0),
        gap(sym, t + 1000, t + 2500, "silence", t + 2600, 1), /* same from_ms, another connection */
        gapi(sym, t + 10000, t + 12000, "key_in_use", t + 12050, 0, 1001, 1042), /* venue ids known */
        gap(sym, t + 20000, t + 20500, "server_error", t + 20501, 2),
        gapi(usym, t + 1000, t + 9000, "id_jump", t + 9001, 0, 7, 7),
        gapi(usym, t + 9000, t + 9500, "id_jump", t + 9501, 0, 9, 8000000000000000000),
    };
    size_t ng = sizeof g / sizeof g[0];
    gaps_out o;

    OK(tp_sink_open(g_url, &tmp, g_err, sizeof g_err));
    OK(tp_sink_write_gaps(tmp, g, ng, g_err, sizeof g_err));
    gaps_query(rd, sym, 0, 0, 0, &o);
    CHECK(o.n == 0, "uncommitted gaps visible to a second reader (%zu rows)", o.n);
    tp_sink_close(tmp);
    gaps_query(rd, sym, 0, 0, 0, &o);
    CHECK(o.n == 0, "gaps of a unit closed without commit are visible (%zu rows)", o.n);

    /* written with trades in one unit, then the same rows again */
    tp_batch b;
    tp_batch_init(&b);
    add_trade(&b, sym, 10, 1, t + 1000, r->nonce, 5000);
    OK(tp_sink_write_trades(w, b.trades, b.n, t, g_err, sizeof g_err));
    OK(tp_sink_write_gaps(w, g, ng, g_err, sizeof g_err));
    OK(tp_sink_commit(w, g_err, sizeof g_err));
    r->trades += b.n;
    count_conds(r, &b);
    tp_batch_free(&b);
    for (int pass = 0; pass < 2; pass++) {
        const char *ctx = pass ? "gaps after re-writing them" : "gaps round trip";
        gaps_query(rd, sym, 0, 0, 0, &o);
        CHECK(o.n == 4, "%s: %zu rows, want 4", ctx, o.n);
        same_gap(&g[0], &o.g[0], ctx);
        same_gap(&g[1], &o.g[1], ctx);
        same_gap(&g[2], &o.g[2], ctx);
        same_gap(&g[3], &o.g[3], ctx);
        gaps_query(rd, usym, 0, 0, 0, &o);
        CHECK(o.n == 2, "%s: unicode symbol: %zu rows, want 2", ctx, o.n);
        same_gap(&g[4], &o.g[0], ctx);
        same_gap(&g[5], &o.g[1], ctx);
        if (!pass) {
            OK(tp_sink_write_gaps(w, g, ng, g_err, sizeof g_err));
            OK(tp_sink_commit(w, g_err, sizeof g_err));
        }
    }

    /* overlap with [from, to): from bounds to_ms (inclusive), to bounds from_ms (exclusive) */
    struct {
        int64_t from, to;
        int limit;
        int want[4], n;
    } cases[] = {
        {t + 2800, t + 10001, 0, {0, 2}, 2},
        {t + 3000, t + 10000, 0, {0}, 1},
        {t + 3001, t + 10000, 0, {0}, 0},
        {t + 2500, 0, 0, {0, 1, 2, 3}, 4},
        {0, t + 1001, 0, {0, 1}, 2},
        {0, 0, 2, {2, 3}, 2},    /* the latest 2, oldest first */
        {0, 0, 3, {1, 2, 3}, 3}, /* ties on from_ms: by connection */
        {t + 2000, t + 15000, 1, {2}, 1},
        {t + 30000, 0, 0, {0}, 0},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        gaps_query(rd, sym, cases[c].from, cases[c].to, cases[c].limit, &o);
        CHECK((int)o.n == cases[c].n,
              "gaps query case %zu (from %" PRId64 " to %" PRId64 " limit %d): %zu rows, want %d", c,
              cases[c].from, cases[c].to, cases[c].limit, o.n, cases[c].n);
        for (int i = 0; i < cases[c].n; i++) same_gap(&g[cases[c].want[i]], &o.g[i], "gaps query");
    }
    char none[64];
    sym_name(r, "GNONE", none, sizeof none);
    gaps_query(rd, none, 0, 0, 0, &o);
    CHECK(o.n == 0, "gaps of a symbol with none: %zu rows", o.n);

    /* The same key again: a later detection changes nothing, an earlier
     * one replaces the row; two versions in one unit, in either order: the
     * earliest detection. */
    tp_gap_row later = gap(sym, t + 1000, t + 4000, "silence", t + 5000, 0);
    OK(tp_sink_write_gaps(w, &later, 1, g_err, sizeof g_err));
    OK(tp_sink_commit(w, g_err, sizeof g_err));
    gaps_query(rd, sym, 0, t + 1001, 0, &o);
    CHECK(o.n == 2, "gaps after a later detection of a key: %zu rows, want 2", o.n);
    same_gap(&g[0], &o.g[0], "a later detection of a gap must not replace the earlier one");
    tp_gap_row earlier = gap(sym, t + 1000, t + 2900, "silence", t + 3050, 0);
    OK(tp_sink_write_gaps(w, &earlier, 1, g_err, sizeof g_err));
    OK(tp_sink_commit(w, g_err, sizeof g_err));
    gaps_query(rd, sym, 0, t + 1001, 0, &o);
    CHECK(o.n == 2, "gaps after an earlier detection of a key: %zu rows, want 2", o.n);
    same_gap(&earlier, &o.g[0], "an earlier detection of a gap replaces the row");
    same_gap(&g[1], &o.g[1], "the other connection's gap is untouched");
    /* the trade ids go with the row that wins, and a loser's never show */
    tp_gap_row k3_late = gapi(sym, t + 10000, t + 13000, "reconnect", t + 13000, 0, 1001, 1099);
    tp_gap_row k3_early = gapi(sym, t + 10000, t + 11000, "silence", t + 11500, 0, 1001, 1020);
    tp_gap_row k4_early = gap(sym, t + 20000, t + 20400, "reconnect", t + 20450, 2);
    tp_gap_row k4_late = gapi(sym, t + 20000, t + 21000, "silence", t + 21001, 2, 55, 60);
    tp_gap_row unit[] = {k3_late, k3_early, k4_early, k4_late};
    OK(tp_sink_write_gaps(w, unit, 4, g_err, sizeof g_err));
    OK(tp_sink_commit(w, g_err, sizeof g_err));
    gaps_query(rd, sym, t + 5000, 0, 0, &o);
    CHECK(o.n == 2, "gaps after two versions in one unit: %zu rows, want 2", o.n);
    same_gap(&k3_early, &o.g[0], "two versions in one unit (later first): the earliest detection");
    same_gap(&k4_early, &o.g[1], "two versions in one unit (earlier first): the earliest detection");
    /* kept: earlier, g[1], k3_early, k4_early, g[4], g[5] */
    r->gaps += 6;
    r->gap_span += (earlier.to_ms - earlier.from_ms) + (g[1].to_ms - g[1].from_ms) +
                   (k3_early.to_ms - k3_early.from_ms) + (k4_early.to_ms - k4_early.from_ms) +
                   (g[4].to_ms - g[4].from_ms) + (g[5].to_ms - g[5].from_ms);
    r->gap_ids += 3; /* k3_early, g[4], g[5] */
    r->gap_id_span += (k3_early.to_trade_id - k3_early.from_trade_id) +
                      (g[4].to_trade_id - g[4].from_trade_id) + (g[5].to_trade_id - g[5].from_trade_id);
    tp_sink_close(w);
    tp_sink_close(rd);
    printf("ok - feed gaps: invisible until commit, re-write, earliest detection wins, overlap range, "
           "limit, order\n");
}

/* A large unit written in chunks while a second handle reads: the reader
 * sees nothing of it until commit, then all of it. */
static void check_large(run *r, size_t n) {
    tp_sink *w, *rd;
    OK(tp_sink_open(g_url, &w, g_err, sizeof g_err));
    OK(tp_sink_open(g_url, &rd, g_err, sizeof g_err));
    enum { NSYM = 8, CHUNK = 5000 };
    char syms[NSYM][64];
    for (int k = 0; k < NSYM; k++) {
        char suf[16];
        snprintf(suf, sizeof suf, "L%d", k);
        sym_name(r, suf, syms[k], sizeof syms[k]);
    }
    tp_batch b;
    tp_batch_init(&b);
    static const char *const conds[] = {"1", "12", "24"};
    symbols_out so;
    for (size_t done = 0; done < n;) {
        tp_batch_reset(&b);
        size_t m = n - done < CHUNK ? n - done : CHUNK;
        for (size_t i = 0; i < m; i++) {
            size_t k = done + i;
            /* several trades share each millisecond */
            tp_trade *t = add_trade(&b, syms[k % NSYM], 100 + (double)(k % 1000) / 8, (double)(k % 7),
                                    r->t0 + (int64_t)(k / 3), r->nonce, 100000 + k);
            if (k % 3) set_cond(&b, t, (int)(k % 4), conds);
        }
        OK(tp_sink_write_trades(w, b.trades, b.n, r->t0, g_err, sizeof g_err));
        count_conds(r, &b);
        done += m;
        symbols_query(rd, syms[0], &so);
        CHECK(so.n == 0, "reader sees %zu rows of an uncommitted large unit",
              so.n ? (size_t)so.info[0].trade_count : 0);
    }
    OK(tp_sink_commit(w, g_err, sizeof g_err));
    r->trades += n;
    int64_t total = 0;
    symbols_query(rd, r->pfx, &so);
    for (int k = 0; k < NSYM; k++) {
        const tp_symbol_info *si = find_symbol(&so, syms[k]);
        size_t want = n / NSYM + ((size_t)k < n % NSYM);
        CHECK(si && si->trade_count == (int64_t)want, "large batch: %s has %" PRId64 " trades, want %zu",
              syms[k], si ? si->trade_count : -1, want);
        total += si->trade_count;
    }
    CHECK(total == (int64_t)n, "large batch: %" PRId64 " trades stored, want %zu", total, n);
    /* the whole symbol back through query_trades, in order */
    trades_out o;
    memset(&o, 0, sizeof o);
    tp_batch_init(&o.b);
    trades_query(rd, syms[1], 0, 0, 0, &o);
    CHECK(o.b.n == n / NSYM + (1 < n % NSYM), "large batch: query_trades returned %zu", o.b.n);
    for (size_t i = 1; i < o.b.n; i++)
        CHECK(cmp_trade_order(&o.b.trades[i - 1], &o.b.trades[i]) < 0,
              "large batch: rows out of order at %zu", i);
    tp_batch_free(&o.b);
    free(o.ingest);
    tp_batch_free(&b);
    tp_sink_close(w);
    tp_sink_close(rd);
    printf("ok - large batch of %zu trades in one unit, invisible until commit, every row back\n", n);
}

static int cmd_check(int argc, char **argv) {
    size_t large = 100000;
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--large") && i + 1 < argc)
            large = (size_t)strtoull(argv[++i], NULL, 10);
        else
            failf(__LINE__, "unknown argument %s", argv[i]);
    }
    run r;
    memset(&r, 0, sizeof r);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    r.nonce = mix64((uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32) ^ (uint64_t)ts.tv_sec);
    snprintf(r.pfx, sizeof r.pfx, "CT%08x:", (unsigned)(r.nonce & 0xffffffffu));
    r.t0 = 1700000000000LL + (int64_t)(r.nonce % 1000000) * 1000;
    check_round_trip(&r);
    check_queries(&r);
    check_mixed_resend(&r);
    check_bad_bytes(&r);
    check_candles(&r);
    check_averages(&r);
    check_gaps(&r);
    if (large) check_large(&r, large);
    printf("rows trades=%zu null_cond=%zu empty_cond=%zu averages=%zu candles=%zu gaps=%zu gap_span=%" PRId64
           " gap_ids=%zu gap_id_span=%" PRId64 " prefix=%s\n",
           r.trades, r.null_cond, r.empty_cond, r.averages, r.candles, r.gaps, r.gap_span, r.gap_ids,
           r.gap_id_span, r.pfx);
    return 0;
}

/* ---- kill-and-restart helpers ---- */

static void seq_trade(tp_batch *b, const char *sym, uint64_t k) {
    tp_trade *t = add_trade(b, sym, 50 + (double)(k % 100), 1 + (double)(k % 5),
                            1700000000000LL + (int64_t)k / 2, 0x5eed, k);
    if (k % 2) set_cond(b, t, 1, (const char *const[]){"1"});
}

static int cmd_write(int argc, char **argv) {
    if (argc != 6) failf(__LINE__, "usage: store_contract write URL SYMBOL N UNIT");
    const char *sym = argv[3];
    uint64_t n = strtoull(argv[4], NULL, 10), unit = strtoull(argv[5], NULL, 10);
    tp_sink *s = NULL;
    tp_batch b;
    tp_batch_init(&b);
    unsigned failures = 0;
    for (uint64_t done = 0; done < n;) {
        tp_batch_reset(&b);
        uint64_t m = n - done < unit ? n - done : unit;
        for (uint64_t i = 0; i < m; i++) seq_trade(&b, sym, done + i);
        /* sink.h: on failure the unit is lost; call again (the store
         * reconnects) and re-send everything since the last commit. */
        for (;;) {
            int rc = s ? 0 : tp_sink_open(g_url, &s, g_err, sizeof g_err);
            /* half now, half later: a unit made of several writes */
            if (!rc) rc = tp_sink_write_trades(s, b.trades, b.n / 2, 1, g_err, sizeof g_err);
            if (!rc) rc = tp_sink_write_trades(s, b.trades + b.n / 2, b.n - b.n / 2, 1, g_err, sizeof g_err);
            if (!rc) rc = tp_sink_commit(s, g_err, sizeof g_err);
            if (!rc) break;
            if (failures++ % 20 == 0) fprintf(stderr, "store_contract write: retrying: %s\n", g_err);
            if (failures > 3000)
                failf(__LINE__, "store still failing after %u attempts: %s", failures, g_err);
            usleep(100000);
        }
        done += m;
        printf("committed %" PRIu64 "\n", done);
        fflush(stdout);
    }
    printf("done %" PRIu64 " failures %u\n", n, failures);
    tp_batch_free(&b);
    tp_sink_close(s);
    return 0;
}

static int cmd_count(int argc, char **argv) {
    if (argc != 4) failf(__LINE__, "usage: store_contract count URL SYMBOL");
    tp_sink *s;
    OK(tp_sink_open(g_url, &s, g_err, sizeof g_err));
    trades_out o;
    memset(&o, 0, sizeof o);
    tp_batch_init(&o.b);
    trades_query(s, argv[3], 0, 0, 0, &o);
    /* every trade is one of the write sequence, each exactly once, values exact */
    tp_batch want;
    tp_batch_init(&want);
    for (size_t k = 0; k < o.b.n; k++) seq_trade(&want, argv[3], k);
    if (want.n) qsort(want.trades, want.n, sizeof *want.trades, cmp_trade_order);
    for (size_t i = 0; i < o.b.n; i++) same_trade(&want.trades[i], &o.b.trades[i], "after restart");
    printf("%zu\n", o.b.n);
    tp_batch_free(&want);
    tp_batch_free(&o.b);
    free(o.ingest);
    tp_sink_close(s);
    return 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 3) {
        fprintf(stderr,
                "usage: store_contract check URL [--large N] | write URL SYMBOL N UNIT | count URL SYMBOL\n");
        return 2;
    }
    g_url = argv[2];
    tp_log_redact(g_url, g_url_safe, sizeof g_url_safe);
    if (!strcmp(argv[1], "check")) return cmd_check(argc, argv);
    if (!strcmp(argv[1], "write")) return cmd_write(argc, argv);
    if (!strcmp(argv[1], "count")) return cmd_count(argc, argv);
    fprintf(stderr, "store_contract: unknown mode %s\n", argv[1]);
    return 2;
}
