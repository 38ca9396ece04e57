/* test_pipeline.c - the processing stage over the null store.
 *
 * The on_durable hook is the window into what the pipeline made durable:
 * the tests check the trades it hands over (copies with deterministic ids),
 * the candles and averages (against values computed by hand here), that each
 * window appears once per unit, flush_due, late counting and the stats.
 * Store failures are tested in test_pipeline_fault.c (a fake store). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/config.h"
#include "core/err.h"
#include "process/pipeline.h"
#include "sink/sink.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BASE 1699999980000LL /* a multiple of 60 s */

typedef struct seen {
    size_t calls;
    size_t ntrades;
    uint8_t ids[256][16];
    char syms[256][16];
    double prices[256];
    int32_t ncond[256];
    char cond0[256][16];
    tp_candle cand[256];
    char cand_sym[256][16];
    size_t ncand;
    tp_average avg[256];
    char avg_sym[256][16];
    size_t navg;
} seen;

static void on_durable(void *ud, const tp_trade *t, size_t nt, const tp_candle *c, size_t nc,
                       const tp_average *a, size_t na) {
    seen *s = ud;
    s->calls++;
    for (size_t i = 0; i < nt && s->ntrades < 256; i++, s->ntrades++) {
        memcpy(s->ids[s->ntrades], t[i].id, 16);
        snprintf(s->syms[s->ntrades], 16, "%.*s", (int)t[i].symbol.len, t[i].symbol.ptr);
        s->prices[s->ntrades] = t[i].price;
        s->ncond[s->ntrades] = t[i].ncond;
        s->cond0[s->ntrades][0] = '\0';
        if (t[i].ncond > 0 && t[i].cond[0].ptr)
            snprintf(s->cond0[s->ntrades], 16, "%.*s", (int)t[i].cond[0].len, t[i].cond[0].ptr);
    }
    s->ncand = s->navg = 0;
    for (size_t i = 0; i < nc && i < 256; i++) {
        s->cand[i] = c[i];
        snprintf(s->cand_sym[i], 16, "%.*s", (int)c[i].symbol.len, c[i].symbol.ptr);
        s->cand[i].symbol.ptr = NULL;
        s->ncand++;
    }
    for (size_t i = 0; i < na && i < 256; i++) {
        s->avg[i] = a[i];
        snprintf(s->avg_sym[i], 16, "%.*s", (int)a[i].symbol.len, a[i].symbol.ptr);
        s->avg[i].symbol.ptr = NULL;
        s->navg++;
    }
}

static tp_pipeline *mkpipe(seen *s, int64_t lateness) {
    tp_pipeline_config c;
    tp_pipeline_config_default(&c);
    c.store_url = "null:";
    c.win.allowed_lateness_ms = lateness;
    c.win.emit_interval_ms = 0;
    c.on_durable = on_durable;
    c.on_durable_ud = s;
    tp_pipeline *p = NULL;
    char err[256];
    int rc = tp_pipeline_new(&c, &p, err, sizeof err);
    if (rc) fprintf(stderr, "%s\n", err);
    assert_int_equal(rc, 0);
    return p;
}

static void add(tp_batch *b, const char *sym, double p, double v, int64_t ts) {
    tp_trade *t = tp_batch_add(b);
    assert_non_null(t);
    t->symbol = (tp_str){tp_batch_strdup(b, sym, strlen(sym)), (uint32_t)strlen(sym)};
    t->price = p;
    t->volume = v;
    t->ts_ms = ts;
    t->ncond = TP_COND_NULL;
    t->recv_ms = tp_now_ms();
}

static void set_origin(tp_batch *b, const char *topic, int32_t part, int64_t off) {
    snprintf(b->origin.topic, sizeof b->origin.topic, "%s", topic);
    b->origin.partition = part;
    b->origin.offset = off;
}

/* A pipeline config over a fresh SQLite file /tmp/tp-test-TAG-PID.db
 * (path and url are the caller's, 64 and 80 bytes). */
static void sqlite_cfg(tp_pipeline_config *c, seen *s, const char *tag, char *path, char *url) {
    snprintf(path, 64, "/tmp/tp-test-%s-%d.db", tag, (int)getpid());
    snprintf(url, 80, "sqlite:%s", path);
    unlink(path);
    tp_pipeline_config_default(c);
    c->store_url = url;
    c->win.emit_interval_ms = 0;
    c->on_durable = on_durable;
    c->on_durable_ud = s;
}

/* Remove a SQLite file and its WAL and shared-memory files. */
static void rm_sqlite(const char *path) {
    char side[80];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

static const tp_candle *find_candle(const seen *s, const char *sym, int iv, int64_t start) {
    const tp_candle *r = NULL;
    for (size_t i = 0; i < s->ncand; i++)
        if (!strcmp(s->cand_sym[i], sym) && s->cand[i].interval_s == iv && s->cand[i].start_ms == start) {
            assert_null(r); /* once per unit */
            r = &s->cand[i];
        }
    return r;
}

static const tp_average *find_avg(const seen *s, const char *sym, int64_t start) {
    const tp_average *r = NULL;
    for (size_t i = 0; i < s->navg; i++)
        if (!strcmp(s->avg_sym[i], sym) && s->avg[i].window_start_ms == start) {
            assert_null(r);
            r = &s->avg[i];
        }
    return r;
}

static int cmp_id16(const void *a, const void *b) {
    return memcmp(a, b, 16);
}

static void test_trade_id(void **state) {
    (void)state;
    tp_origin o = {"market", 3, 12345};
    uint8_t a[16], b[16], c[16];
    tp_trade_id(&o, 0, a);
    tp_trade_id(&o, 0, b);
    assert_memory_equal(a, b, 16);
    assert_int_equal(a[6] >> 4, 8);      /* version 8 */
    assert_int_equal(a[8] & 0xc0, 0x80); /* RFC 4122 variant */
    /* every input changes the id */
    tp_trade_id(&o, 1, c);
    assert_memory_not_equal(a, c, 16);
    tp_origin o2 = o;
    o2.offset = 12346;
    tp_trade_id(&o2, 0, c);
    assert_memory_not_equal(a, c, 16);
    o2 = o;
    o2.partition = 4;
    tp_trade_id(&o2, 0, c);
    assert_memory_not_equal(a, c, 16);
    o2 = o;
    snprintf(o2.topic, sizeof o2.topic, "market2");
    tp_trade_id(&o2, 0, c);
    assert_memory_not_equal(a, c, 16);
    /* partition/index must not alias: (p, i) vs swapped */
    tp_origin o3 = {"market", 0, 7};
    tp_origin o4 = {"market", 1, 7};
    tp_trade_id(&o3, 1, a);
    tp_trade_id(&o4, 0, b);
    assert_memory_not_equal(a, b, 16);
}

/* A trade with its venue's id: the id comes from (symbol, trade id) only. */
static void test_trade_venue_id(void **state) {
    (void)state;
    uint8_t a[16], b[16], c[16];
    tp_trade_venue_id((tp_str){"BINANCE:BTCUSDT", 15}, 3275620000, a);
    char sym[] = "BINANCE:BTCUSDT"; /* other bytes, same symbol */
    tp_trade_venue_id((tp_str){sym, 15}, 3275620000, b);
    assert_memory_equal(a, b, 16);
    /* pinned: a stored id must never change (the stores dedupe on it) */
    static const uint8_t want[16] = {0x8b, 0x20, 0xe5, 0x6f, 0xc1, 0xa4, 0x83, 0x19,
                                     0xa3, 0xa5, 0x53, 0x64, 0xd4, 0xb6, 0xf0, 0x8d};
    assert_memory_equal(a, want, 16);
    assert_int_equal(a[6] >> 4, 8);      /* version 8 */
    assert_int_equal(a[8] & 0xc0, 0x80); /* RFC 4122 variant */
    tp_trade_venue_id((tp_str){"BINANCE:BTCUSDT", 15}, 3275620001, c);
    assert_memory_not_equal(a, c, 16);
    tp_trade_venue_id((tp_str){"BINANCE:ETHUSDT", 15}, 3275620000, c);
    assert_memory_not_equal(a, c, 16);
    tp_trade_venue_id((tp_str){"COINBASE:BTCUSDT", 16}, 3275620000, c); /* another venue */
    assert_memory_not_equal(a, c, 16);
    tp_trade_venue_id((tp_str){"BINANCE:BTCUSDT", 15}, -3275620000, c);
    assert_memory_not_equal(a, c, 16);
    /* never the id of Kafka coordinates that share the numbers */
    tp_origin o = {"BINANCE:BTCUSDT", 0, 3275620000};
    tp_trade_id(&o, 0, c);
    assert_memory_not_equal(a, c, 16);
    /* a grid of symbols x consecutive ids: all distinct */
    enum { NS = 8, NID = 4096 };
    uint8_t(*ids)[16] = malloc((size_t)NS * NID * 16);
    assert_non_null(ids);
    for (int si = 0; si < NS; si++) {
        char name[32];
        int len = snprintf(name, sizeof name, "KRAKEN:XBT/USD%d", si);
        for (int k = 0; k < NID; k++)
            tp_trade_venue_id((tp_str){name, (uint32_t)len}, 1 + k, ids[si * NID + k]);
    }
    qsort(ids, (size_t)NS * NID, 16, cmp_id16);
    for (size_t i = 1; i < (size_t)NS * NID; i++) assert_memory_not_equal(ids[i - 1], ids[i], 16);
    free(ids);
}

static size_t g_rows;
static int count_row(void *ud, const tp_trade *t, int64_t ingest_ms) {
    (void)ud, (void)t, (void)ingest_ms;
    g_rows++;
    return 0;
}
static size_t stored(const char *url, const char *sym) {
    tp_sink *k;
    char err[256];
    assert_int_equal(tp_sink_open(url, &k, err, sizeof err), 0);
    tp_query q = {.symbol = sym};
    g_rows = 0;
    assert_int_equal(tp_sink_query_trades(k, &q, count_row, NULL, err, sizeof err), 0);
    tp_sink_close(k);
    return g_rows;
}

static void add_venue(tp_batch *b, const char *sym, int64_t trade_id, double p, int64_t ts) {
    add(b, sym, p, 1, ts);
    b->trades[b->n - 1].trade_id = trade_id;
}

/* The same venue trade from anywhere (another record, another topic, a
 * restart) is stored once: its id is the same, the store's upsert keeps one
 * row. Trades without a venue id keep their origin ids. */
static void test_venue_trade_stored_once(void **state) {
    (void)state;
    char path[64], url[80];
    seen *s = calloc(1, sizeof *s);
    tp_pipeline_config c;
    sqlite_cfg(&c, s, "venue-ids", path, url);
    c.dedupe_rebuilt = 1;
    tp_pipeline *p = NULL;
    char err[256];
    assert_int_equal(tp_pipeline_new(&c, &p, err, sizeof err), 0);
    tp_batch b;
    tp_batch_init(&b);
    set_origin(&b, "trades", 0, 10);
    add_venue(&b, "BINANCE:BTCUSDT", 500, 100.0, BASE + 100);
    add_venue(&b, "BINANCE:BTCUSDT", 501, 101.0, BASE + 200);
    add(&b, "AAPL", 10.0, 1, BASE + 300); /* no venue id */
    assert_int_equal(tp_pipeline_add(p, &b), 0);
    assert_int_equal(tp_pipeline_flush(p, 0), 0);
    uint8_t id[16];
    tp_trade_venue_id((tp_str){"BINANCE:BTCUSDT", 15}, 500, id);
    assert_memory_equal(s->ids[0], id, 16);
    tp_trade_venue_id((tp_str){"BINANCE:BTCUSDT", 15}, 501, id);
    assert_memory_equal(s->ids[1], id, 16);
    tp_origin o = {"trades", 0, 10};
    tp_trade_id(&o, 2, id);
    assert_memory_equal(s->ids[2], id, 16);
    /* the same trades again from another record of another topic (a
     * second instance, a replayed recording), with one new */
    tp_batch_reset(&b);
    set_origin(&b, "trades-replay", 3, 77);
    add_venue(&b, "BINANCE:BTCUSDT", 501, 101.0, BASE + 200);
    add_venue(&b, "BINANCE:BTCUSDT", 502, 102.0, BASE + 250);
    add_venue(&b, "BINANCE:BTCUSDT", 500, 100.0, BASE + 100);
    s->ntrades = 0;
    memset(s->ids, 0, sizeof s->ids);
    assert_int_equal(tp_pipeline_add(p, &b), 0);
    assert_int_equal(tp_pipeline_flush(p, 0), 0);
    tp_pipeline_stats st;
    tp_pipeline_get_stats(p, &st);
    assert_int_equal(st.venue_repeats, 2); /* 501 and 500: neither stored nor folded again */
    assert_int_equal(s->ntrades, 1);       /* only 502 was written */
    tp_trade_venue_id((tp_str){"BINANCE:BTCUSDT", 15}, 502, id);
    assert_memory_equal(s->ids[0], id, 16);
    const tp_candle *m1 = find_candle(s, "BINANCE:BTCUSDT", 60, BASE);
    assert_non_null(m1);
    assert_int_equal(m1->trade_count, 3);
    tp_pipeline_free(p);
    assert_int_equal(stored(url, "BINANCE:BTCUSDT"), 3);
    assert_int_equal(stored(url, "AAPL"), 1);

    /* a restart: the rebuild reads the stored trades back; the same venue
     * trades again are neither stored nor folded twice */
    memset(s, 0, sizeof *s);
    assert_int_equal(tp_pipeline_new(&c, &p, err, sizeof err), 0);
    tp_batch_reset(&b);
    set_origin(&b, "feed", -1, 0);
    add_venue(&b, "BINANCE:BTCUSDT", 500, 100.0, BASE + 100);
    add_venue(&b, "BINANCE:BTCUSDT", 502, 102.0, BASE + 250);
    add_venue(&b, "BINANCE:BTCUSDT", 503, 103.0, BASE + 5000);
    assert_int_equal(tp_pipeline_add(p, &b), 0);
    assert_int_equal(tp_pipeline_flush(p, 0), 0);
    tp_pipeline_free(p);
    assert_int_equal(stored(url, "BINANCE:BTCUSDT"), 4);
    const tp_candle *m = find_candle(s, "BINANCE:BTCUSDT", 60, BASE);
    assert_non_null(m);
    assert_int_equal(m->trade_count, 4); /* 500..503, each once */
    assert_true(m->volume == 4.0);
    tp_batch_free(&b);
    free(s);
    rm_sqlite(path);
}

static void test_bad_store(void **state) {
    (void)state;
    tp_pipeline_config c;
    tp_pipeline_config_default(&c);
    c.store_url = "nosuchstore:x";
    tp_pipeline *p = (tp_pipeline *)1;
    char err[256] = "";
    assert_int_equal(tp_pipeline_new(&c, &p, err, sizeof err), TP_EINVAL);
    assert_null(p);
    assert_non_null(strstr(err, "nosuchstore"));
}

static void test_trades_copied_with_ids(void **state) {
    (void)state;
    seen *s = calloc(1, sizeof *s);
    tp_pipeline *p = mkpipe(s, 15000);
    tp_batch b;
    tp_batch_init(&b);
    set_origin(&b, "market", 2, 100);
    add(&b, "AAPL", 10.0, 1, BASE + 10);
    add(&b, "AAPL", 11.0, 2, BASE + 20);
    tp_trade *t = tp_batch_add(&b);
    t->symbol = (tp_str){tp_batch_strdup(&b, "MSFT", 4), 4};
    t->price = 300;
    t->volume = 5;
    t->ts_ms = BASE + 30;
    tp_str *cond = tp_batch_alloc(&b, sizeof(tp_str));
    cond[0] = (tp_str){tp_batch_strdup(&b, "12", 2), 2};
    t->cond = cond;
    t->ncond = 1;
    assert_int_equal(tp_pipeline_add(p, &b), 0);
    /* the caller reuses its batch: the pipeline must hold copies */
    tp_batch_reset(&b);
    set_origin(&b, "market", 2, 101);
    add(&b, "XXXX", 99.0, 1, BASE + 40);
    memset(b.trades[0].id, 0xee, 16);
    assert_int_equal(tp_pipeline_add(p, &b), 0);
    tp_batch_reset(&b);
    add(&b, "ZZZZ", 1.0, 1, BASE + 50); /* overwrite arena contents */

    assert_int_equal(tp_pipeline_flush(p, 1), 0);
    assert_int_equal(s->calls, 1);
    assert_int_equal(s->ntrades, 4);
    assert_string_equal(s->syms[0], "AAPL");
    assert_string_equal(s->syms[2], "MSFT");
    assert_string_equal(s->syms[3], "XXXX");
    assert_true(s->prices[1] == 11.0);
    assert_int_equal(s->ncond[0], TP_COND_NULL);
    assert_int_equal(s->ncond[2], 1);
    assert_string_equal(s->cond0[2], "12");
    uint8_t id[16];
    tp_origin o = {"market", 2, 100};
    for (uint32_t i = 0; i < 3; i++) {
        tp_trade_id(&o, i, id);
        assert_memory_equal(s->ids[i], id, 16);
    }
    o.offset = 101;
    tp_trade_id(&o, 0, id); /* the id the caller had set is replaced */
    assert_memory_equal(s->ids[3], id, 16);

    tp_pipeline_stats st;
    tp_pipeline_get_stats(p, &st);
    assert_int_equal(st.trades, 4);
    assert_int_equal(st.flushes, 1);
    assert_int_equal(st.rows_trades, 4);
    assert_int_equal(st.pending, 0);
    assert_int_equal(st.store_errors, 0);
    assert_true(tp_pipeline_latency_quantile_ms(&st, 0.5) >= 0);

    /* nothing pending: flush succeeds without calling the hook again */
    s->calls = 0;
    assert_int_equal(tp_pipeline_flush(p, 0), 0);
    assert_int_equal(s->calls, 0);

    tp_batch_free(&b);
    tp_pipeline_free(p);
    free(s);
}

static void test_candles_and_averages(void **state) {
    (void)state;
    seen *s = calloc(1, sizeof *s);
    tp_pipeline *p = mkpipe(s, 1000);
    tp_batch b;
    tp_batch_init(&b);
    set_origin(&b, "market", 0, 0);
    /* bucket [BASE, BASE+1000): out of order, a v = 0 update */
    add(&b, "AAPL", 10.0, 2, BASE + 500);
    add(&b, "AAPL", 12.0, 1, BASE + 100); /* earliest: open */
    add(&b, "AAPL", 15.0, 0, BASE + 600); /* v = 0: moves high, not volume */
    add(&b, "AAPL", 9.0, 3, BASE + 900);  /* latest: close, low */
    add(&b, "BTC", 100.0, 0.5, BASE + 200);
    assert_int_equal(tp_pipeline_add(p, &b), 0);
    assert_int_equal(tp_pipeline_flush(p, 1), 0);

    const tp_candle *c = find_candle(s, "AAPL", 1, BASE);
    assert_non_null(c);
    assert_true(c->open == 12.0);
    assert_true(c->high == 15.0);
    assert_true(c->low == 9.0);
    assert_true(c->close == 9.0);
    assert_true(c->volume == 6.0);
    assert_true(fabs(c->vwap - (10.0 * 2 + 12.0 + 9.0 * 3) / 6.0) < 1e-12);
    assert_int_equal(c->trade_count, 4);
    assert_int_equal(c->final, 0);
    const tp_candle *m = find_candle(s, "AAPL", 60, BASE);
    assert_non_null(m);
    assert_true(m->volume == 6.0);
    /* averages: windows [BASE-10s, BASE+5s), [BASE-5s, ...), [BASE, ...) */
    for (int k = 0; k < 3; k++) {
        const tp_average *a = find_avg(s, "AAPL", BASE - 10000 + k * 5000);
        assert_non_null(a);
        assert_int_equal(a->window_end_ms - a->window_start_ms, 15000);
        assert_int_equal(a->trade_count, 3);
        assert_true(fabs(a->price_volume_multiply - (20.0 + 12.0 + 27.0) / 3.0) < 1e-12);
    }
    assert_int_equal(s->navg, 6); /* 3 per symbol */
    assert_int_equal(s->ncand, 4);

    /* a trade 5 s later moves the watermark past the 1 s bucket: it becomes
     * final in the next unit, beside the new trade's open bucket */
    tp_batch_reset(&b);
    set_origin(&b, "market", 0, 1);
    add(&b, "AAPL", 20.0, 1, BASE + 5000);
    assert_int_equal(tp_pipeline_add(p, &b), 0);
    assert_int_equal(tp_pipeline_flush(p, 0), 0);
    c = find_candle(s, "AAPL", 1, BASE);
    assert_non_null(c);
    assert_int_equal(c->final, 1);
    assert_true(c->close == 9.0);
    c = find_candle(s, "AAPL", 1, BASE + 5000);
    assert_non_null(c);
    assert_int_equal(c->final, 0);
    assert_true(c->open == 20.0);
    m = find_candle(s, "AAPL", 60, BASE);
    assert_non_null(m);
    assert_true(m->close == 20.0);
    assert_true(m->volume == 7.0);

    /* late: behind the watermark for every window (BASE+5000-1000 = wm; a
     * trade at BASE-70 s is in no open window) -> counted, still stored */
    tp_batch_reset(&b);
    set_origin(&b, "market", 0, 2);
    add(&b, "AAPL", 1.0, 1, BASE - 70000);
    size_t before = s->ntrades;
    assert_int_equal(tp_pipeline_add(p, &b), 0);
    assert_int_equal(tp_pipeline_flush(p, 1), 0);
    assert_int_equal(s->ntrades, before + 1);
    tp_pipeline_stats st;
    tp_pipeline_get_stats(p, &st);
    assert_int_equal(st.late, 1);
    assert_int_equal(st.watermark_ms, BASE + 4000);
    assert_null(find_candle(s, "AAPL", 1, BASE - 70000));

    tp_batch_free(&b);
    tp_pipeline_free(p);
    free(s);
}

static void test_flush_due(void **state) {
    (void)state;
    seen *s = calloc(1, sizeof *s);
    tp_pipeline_config c;
    tp_pipeline_config_default(&c);
    c.store_url = "null:";
    c.flush_max_trades = 3;
    c.flush_interval_ms = 1000000;
    tp_pipeline *p = NULL;
    char err[256];
    assert_int_equal(tp_pipeline_new(&c, &p, err, sizeof err), 0);
    int64_t now = tp_now_ms();
    assert_int_equal(tp_pipeline_flush_due(p, now), 0);
    assert_int_equal(tp_pipeline_flush_in_us(p), -1); /* nothing pending */
    tp_batch b;
    tp_batch_init(&b);
    set_origin(&b, "market", 0, 0);
    add(&b, "A", 1, 1, BASE);
    add(&b, "A", 1, 1, BASE + 1);
    assert_int_equal(tp_pipeline_add(p, &b), 0);
    assert_int_equal(tp_pipeline_pending(p), 2);
    /* group commit: no commit before this one, so it is due at once, long
     * before the interval */
    assert_int_equal(tp_pipeline_flush_in_us(p), 0);
    assert_int_equal(tp_pipeline_flush_due(p, now), 1);
    assert_int_equal(tp_pipeline_flush(p, 0), 0);
    assert_int_equal(tp_pipeline_pending(p), 0);
    assert_int_equal(tp_pipeline_flush_due(p, tp_now_ms()), 0);
    /* after a commit the next unit waits at most as long as that commit
     * took (the null store: microseconds), never the interval */
    set_origin(&b, "market", 0, 1);
    assert_int_equal(tp_pipeline_add(p, &b), 0);
    int64_t in = tp_pipeline_flush_in_us(p);
    assert_true(in >= 0 && in < 1000000);
    set_origin(&b, "market", 0, 2);
    assert_int_equal(tp_pipeline_add(p, &b), 0);
    assert_int_equal(tp_pipeline_flush_in_us(p), 0); /* 4 >= 3: full */
    assert_int_equal(tp_pipeline_flush_due(p, now), 1);
    assert_int_equal(tp_pipeline_flush(p, 0), 0);
    assert_int_equal(tp_pipeline_flush_due(p, tp_now_ms()), 0);
    tp_pipeline_stats st;
    tp_pipeline_get_stats(p, &st);
    assert_int_equal(st.rows_trades, 6);
    tp_batch_free(&b);
    tp_pipeline_free(p);
    free(s);
}

/* A restart: windows before the floor were completed by the earlier run. */
static void test_add_since_floor(void **state) {
    (void)state;
    seen *s = calloc(1, sizeof *s);
    tp_pipeline *p = mkpipe(s, 15000);
    tp_batch b;
    tp_batch_init(&b);
    set_origin(&b, "market", 0, 0);
    add(&b, "AAPL", 10.0, 1, BASE + 500);   /* 1 s bucket BASE: before floor */
    add(&b, "AAPL", 11.0, 1, BASE + 61000); /* 1 s bucket BASE+61000 */
    assert_int_equal(tp_pipeline_add_since(p, &b, BASE + 60000), 0);
    assert_int_equal(tp_pipeline_flush(p, 1), 0);
    assert_int_equal(s->ntrades, 2); /* both stored */
    assert_null(find_candle(s, "AAPL", 1, BASE));
    assert_null(find_candle(s, "AAPL", 60, BASE));
    const tp_candle *c = find_candle(s, "AAPL", 60, BASE + 60000);
    assert_non_null(c);
    assert_int_equal(c->trade_count, 1);
    tp_pipeline_stats st;
    tp_pipeline_get_stats(p, &st);
    assert_int_equal(st.late, 0);
    assert_true(tp_pipeline_open_since(p) <= BASE + 60000);
    tp_batch_free(&b);
    tp_pipeline_free(p);
    free(s);
}

/* External watermark: only tp_pipeline_advance moves it. */
static void test_external_watermark(void **state) {
    (void)state;
    seen *s = calloc(1, sizeof *s);
    tp_pipeline_config c;
    tp_pipeline_config_default(&c);
    c.store_url = "null:";
    c.win.allowed_lateness_ms = 1000;
    c.win.external_watermark = 1;
    c.on_durable = on_durable;
    c.on_durable_ud = s;
    tp_pipeline *p = NULL;
    char err[256];
    assert_int_equal(tp_pipeline_new(&c, &p, err, sizeof err), 0);
    tp_batch b;
    tp_batch_init(&b);
    set_origin(&b, "market", 0, 0);
    add(&b, "A", 1, 1, BASE);
    add(&b, "A", 2, 1, BASE + 10000);
    assert_int_equal(tp_pipeline_add(p, &b), 0);
    assert_int_equal(tp_pipeline_watermark(p), INT64_MIN);
    assert_int_equal(tp_pipeline_flush(p, 0), 0);
    const tp_candle *k = find_candle(s, "A", 1, BASE);
    assert_non_null(k);
    assert_int_equal(k->final, 0);
    tp_pipeline_advance(p, BASE + 5000);
    assert_int_equal(tp_pipeline_watermark(p), BASE + 4000);
    assert_int_equal(tp_pipeline_flush_due(p, tp_now_ms() + 1000), 1); /* watermark moved */
    assert_int_equal(tp_pipeline_flush(p, 0), 0);
    k = find_candle(s, "A", 1, BASE);
    assert_non_null(k);
    assert_int_equal(k->final, 1);
    tp_batch_free(&b);
    tp_pipeline_free(p);
    free(s);
}

static void test_latency_quantiles(void **state) {
    (void)state;
    tp_pipeline_stats st;
    memset(&st, 0, sizeof st);
    assert_int_equal(tp_pipeline_latency_quantile_ms(&st, 0.5), -1);
    st.latency_hist[0] = 50; /* 0 ms */
    st.latency_hist[8] = 49; /* (1.8, 2] ms */
    st.latency_hist[80] = 1; /* (724, 1024] ms */
    assert_int_equal(tp_pipeline_latency_quantile_ms(&st, 0.5), 0);
    assert_int_equal(tp_pipeline_latency_quantile_ms(&st, 0.51), 2);
    assert_int_equal(tp_pipeline_latency_quantile_ms(&st, 0.99), 2);
    assert_int_equal(tp_pipeline_latency_quantile_ms(&st, 1.0), 1024);
    st.latency_hist[0] = 0;
    st.latency_hist[8] = 0;
    st.latency_hist[53] = 1; /* 2^(53/8) = 98.7: (91, 98] ms */
    assert_int_equal(tp_pipeline_latency_quantile_ms(&st, 0.5), 98);
}

/* Gaps mark exactly the windows they overlap incomplete: held open ones
 * (emitted again), and ones already final and durable (read back from the
 * store and written again), on a real SQLite file. */
static int count_inc(void *ud, const tp_candle *c) {
    int *n = ud;
    n[0]++;
    n[1] += c->incomplete;
    return 0;
}

static void test_gap_marks_windows(void **state) {
    (void)state;
    char path[64], url[80];
    snprintf(path, sizeof path, "/tmp/tp-test-gaps-%d.db", (int)getpid());
    snprintf(url, sizeof url, "sqlite:%s", path);
    unlink(path);
    seen *s = calloc(1, sizeof *s);
    tp_pipeline_config c;
    tp_pipeline_config_default(&c);
    c.store_url = url;
    c.win.allowed_lateness_ms = 0;
    c.win.emit_interval_ms = 0;
    c.on_durable = on_durable;
    c.on_durable_ud = s;
    c.rebuild = TP_REBUILD_OFF;
    tp_pipeline *p = NULL;
    char err[256];
    assert_int_equal(tp_pipeline_new(&c, &p, err, sizeof err), 0);
    tp_batch b;
    tp_batch_init(&b);
    set_origin(&b, "market", 0, 0);
    add(&b, "AAPL", 10.0, 1, BASE + 100);
    add(&b, "AAPL", 11.0, 1, BASE + 1500);
    add(&b, "MSFT", 50.0, 1, BASE + 3000); /* watermark: AAPL's 1 s candles are final */
    assert_int_equal(tp_pipeline_add(p, &b), 0);
    assert_int_equal(tp_pipeline_flush(p, 0), 0);
    const tp_candle *k = find_candle(s, "AAPL", 1, BASE + 1000);
    assert_non_null(k);
    assert_int_equal(k->final, 1);
    assert_int_equal(k->incomplete, 0);

    /* AAPL had no trades between 1500 and 3500 */
    tp_gap_row g = {
        .symbol = {"AAPL", 4}, .from_ms = BASE + 1500, .to_ms = BASE + 3500, .reason = "reconnect"};
    assert_int_equal(tp_pipeline_add_gap(p, &g), 0);
    assert_int_equal(tp_pipeline_flush(p, 0), 0);
    k = find_candle(s, "AAPL", 1, BASE + 1000); /* final, freed: read back, written again */
    assert_non_null(k);
    assert_int_equal(k->incomplete, 1);
    assert_int_equal(k->final, 1);
    assert_true(k->close == 11.0);
    assert_null(find_candle(s, "AAPL", 1, BASE));          /* ends before the gap: left alone */
    const tp_candle *m = find_candle(s, "AAPL", 60, BASE); /* open: emitted again */
    assert_non_null(m);
    assert_int_equal(m->incomplete, 1);
    assert_int_equal(m->trade_count, 2);
    for (int j = 0; j < 3; j++) {
        const tp_average *a = find_avg(s, "AAPL", BASE - 10000 + j * 5000);
        assert_non_null(a);
        assert_int_equal(a->incomplete, 1);
    }
    assert_null(find_candle(s, "MSFT", 60, BASE)); /* another symbol */

    /* a window opened after the gap, overlapping it */
    tp_batch_reset(&b);
    set_origin(&b, "market", 0, 1);
    add(&b, "AAPL", 12.0, 1, BASE + 3500);
    add(&b, "AAPL", 13.0, 1, BASE + 4200);
    assert_int_equal(tp_pipeline_add(p, &b), 0);
    assert_int_equal(tp_pipeline_flush(p, 1), 0);
    k = find_candle(s, "AAPL", 1, BASE + 3000);
    assert_non_null(k);
    assert_int_equal(k->incomplete, 1);
    k = find_candle(s, "AAPL", 1, BASE + 4000);
    assert_non_null(k);
    assert_int_equal(k->incomplete, 0);
    tp_pipeline_stats st;
    tp_pipeline_get_stats(p, &st);
    assert_int_equal(st.gaps, 1);
    tp_batch_free(&b);
    tp_pipeline_free(p);

    /* the store: 1 s candles of AAPL 0, 1000, 3000, 4000; incomplete 1000, 3000 */
    tp_sink *sk;
    assert_int_equal(tp_sink_open(url, &sk, err, sizeof err), 0);
    int n[2] = {0, 0};
    tp_query q = {.symbol = "AAPL", .interval_s = 1};
    assert_int_equal(tp_sink_query_candles(sk, &q, count_inc, n, err, sizeof err), 0);
    assert_int_equal(n[0], 4);
    assert_int_equal(n[1], 2);
    tp_sink_close(sk);
    free(s);
    rm_sqlite(path);
}

/* After a restart the rebuilt windows stay incomplete: the rebuild reads
 * the symbol's stored gaps (SQLite keeps them). */
static void test_gap_survives_rebuild(void **state) {
    (void)state;
    char path[64], url[80];
    seen *s = calloc(1, sizeof *s);
    tp_pipeline_config c;
    sqlite_cfg(&c, s, "gaps-rb", path, url);
    tp_pipeline *p = NULL;
    char err[256];
    assert_int_equal(tp_pipeline_new(&c, &p, err, sizeof err), 0);
    tp_batch b;
    tp_batch_init(&b);
    set_origin(&b, "feed:a", 0, 0);
    add(&b, "AAPL", 10.0, 1, BASE + 100);
    tp_gap_row g = {.symbol = {"AAPL", 4}, .from_ms = BASE + 100, .to_ms = BASE + 1100, .reason = "silence"};
    assert_int_equal(tp_pipeline_add(p, &b), 0);
    assert_int_equal(tp_pipeline_add_gap(p, &g), 0);
    tp_batch_reset(&b);
    add(&b, "AAPL", 11.0, 1, BASE + 1100);
    assert_int_equal(tp_pipeline_add(p, &b), 0);
    assert_int_equal(tp_pipeline_flush(p, 0), 0); /* windows stay open (15 s lateness) */
    tp_pipeline_free(p);

    /* restart: the 1 min candle is rebuilt from the stored trades, with its gap */
    memset(s, 0, sizeof *s);
    assert_int_equal(tp_pipeline_new(&c, &p, err, sizeof err), 0);
    tp_batch_reset(&b);
    set_origin(&b, "feed:b", 0, 0);
    add(&b, "AAPL", 12.0, 1, BASE + 5000);
    assert_int_equal(tp_pipeline_add(p, &b), 0);
    assert_int_equal(tp_pipeline_flush(p, 0), 0);
    const tp_candle *m = find_candle(s, "AAPL", 60, BASE);
    assert_non_null(m);
    assert_int_equal(m->trade_count, 3);
    assert_int_equal(m->incomplete, 1);
    const tp_candle *k = find_candle(s, "AAPL", 1, BASE + 5000);
    assert_non_null(k);
    assert_int_equal(k->incomplete, 0);
    tp_batch_free(&b);
    tp_pipeline_free(p);
    free(s);
    rm_sqlite(path);
}

/* Trades masked out at the door are not stored or folded; the others keep
 * the id of their index in the record. */
static void test_add_masked_keeps_ids(void **state) {
    (void)state;
    seen *s = calloc(1, sizeof *s);
    tp_pipeline *p = mkpipe(s, 15000);
    tp_batch b;
    tp_batch_init(&b);
    set_origin(&b, "market", 1, 7);
    add(&b, "AAPL", 10.0, 1, BASE + 10);
    add(&b, "", -1.0, 1, BASE + 20);
    add(&b, "AAPL", 12.0, 1, BASE + 30);
    const unsigned char keep[3] = {1, 0, 1};
    assert_int_equal(tp_pipeline_add_masked(p, &b, INT64_MIN, keep), 0);
    const unsigned char none[3] = {0, 0, 0};
    assert_int_equal(tp_pipeline_add_masked(p, &b, INT64_MIN, none), 0);
    assert_int_equal(tp_pipeline_flush(p, 1), 0);
    assert_int_equal(s->ntrades, 2);
    uint8_t id[16];
    tp_origin o = {"market", 1, 7};
    tp_trade_id(&o, 0, id);
    assert_memory_equal(s->ids[0], id, 16);
    tp_trade_id(&o, 2, id);
    assert_memory_equal(s->ids[1], id, 16);
    const tp_candle *c = find_candle(s, "AAPL", 1, BASE);
    assert_non_null(c);
    assert_int_equal(c->trade_count, 2);
    assert_true(c->open == 10.0 && c->close == 12.0);
    tp_pipeline_stats st;
    tp_pipeline_get_stats(p, &st);
    assert_int_equal(st.trades, 2);
    tp_batch_free(&b);
    tp_pipeline_free(p);
    free(s);
}

/* A store holding rows from before the door (an empty symbol, a trade ten
 * years ahead) starts normally: the empty symbol is skipped, the future
 * trade is ignored for the watermark, and new trades are not late. */
static void test_poisoned_store_starts(void **state) {
    (void)state;
    char path[64], url[80];
    seen *s = calloc(1, sizeof *s);
    tp_pipeline_config c;
    sqlite_cfg(&c, s, "poison", path, url);
    tp_pipeline *p = NULL;
    char err[256];
    assert_int_equal(tp_pipeline_new(&c, &p, err, sizeof err), 0);
    int64_t now = tp_now_ms();
    tp_batch b;
    tp_batch_init(&b);
    set_origin(&b, "feed:a", 0, 0);
    add(&b, "AAPL", 10.0, 1, now - 2000);
    add(&b, "", 1.0, 1, now - 2000);
    add(&b, "AAPL", 11.0, 1, now + 10LL * 365 * 86400000);
    assert_int_equal(tp_pipeline_add(p, &b), 0);
    assert_int_equal(tp_pipeline_flush(p, 1), 0);
    tp_pipeline_free(p);

    c.win.max_ahead_ms = 60000;
    c.win.clock_bound = 1;
    memset(s, 0, sizeof *s);
    int rc = tp_pipeline_new(&c, &p, err, sizeof err);
    if (rc) fail_msg("restart on a poisoned store: %s", err);
    /* the watermark comes from the good trade, not the one ten years ahead */
    assert_true(tp_pipeline_watermark(p) <= now + 60000);
    tp_batch_reset(&b);
    set_origin(&b, "feed:b", 0, 0);
    add(&b, "AAPL", 12.0, 1, now);
    assert_int_equal(tp_pipeline_add(p, &b), 0);
    assert_int_equal(tp_pipeline_flush(p, 1), 0);
    tp_pipeline_stats st;
    tp_pipeline_get_stats(p, &st);
    assert_int_equal(st.late, 0);
    int64_t sec = now - now % 1000;
    const tp_candle *k = find_candle(s, "AAPL", 1, sec);
    if (!k)
        for (size_t i = 0; i < s->ncand; i++)
            fprintf(stderr, "candle %s %d %lld (want %lld) n=%lld\n", s->cand_sym[i], s->cand[i].interval_s,
                    (long long)s->cand[i].start_ms, (long long)sec, (long long)s->cand[i].trade_count);
    assert_non_null(k);
    assert_true(k->close == 12.0);
    tp_batch_free(&b);
    tp_pipeline_free(p);
    free(s);
    rm_sqlite(path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trade_id),
        cmocka_unit_test(test_trade_venue_id),
        cmocka_unit_test(test_venue_trade_stored_once),
        cmocka_unit_test(test_bad_store),
        cmocka_unit_test(test_trades_copied_with_ids),
        cmocka_unit_test(test_candles_and_averages),
        cmocka_unit_test(test_flush_due),
        cmocka_unit_test(test_add_since_floor),
        cmocka_unit_test(test_external_watermark),
        cmocka_unit_test(test_latency_quantiles),
        cmocka_unit_test(test_gap_marks_windows),
        cmocka_unit_test(test_gap_survives_rebuild),
        cmocka_unit_test(test_add_masked_keeps_ids),
        cmocka_unit_test(test_poisoned_store_starts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
