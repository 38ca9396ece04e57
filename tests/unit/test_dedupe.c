/* test_dedupe.c - repeated-message detection (feed/dedupe.h): a repeat
 * within the horizon is dropped and one after it kept; equal trades inside
 * one message, and in messages that are not equal as a whole, are kept;
 * every field of a trade counts; and a long random stream against a brute
 * force model (a list of the last `capacity` distinct messages and their
 * times), which exercises the ring's eviction and the set's deletions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "feed/dedupe.h"

#include <stdlib.h>
#include <string.h>

static tp_trade mk(const char *sym, int64_t ts, double p, double v) {
    tp_trade t;
    memset(&t, 0, sizeof t);
    t.symbol.ptr = sym;
    t.symbol.len = (uint32_t)strlen(sym);
    t.ts_ms = ts;
    t.price = p;
    t.volume = v;
    t.ncond = TP_COND_NULL;
    return t;
}

static void test_repeat_and_horizon(void **state) {
    (void)state;
    tp_dedupe *d;
    assert_int_equal(tp_dedupe_new(64, 2000, &d), 0);
    tp_trade a[2] = {mk("AAPL", 1000, 190.5, 3), mk("MSFT", 1001, 410.25, 1)};
    assert_int_equal(tp_dedupe_check(d, a, 2, 10000), 0);
    assert_int_equal(tp_dedupe_check(d, a, 2, 10001), 1); /* again: a repeat */
    assert_int_equal(tp_dedupe_check(d, a, 2, 12000), 1); /* a third time, at the horizon */
    assert_int_equal(tp_dedupe_check(d, a, 2, 12001), 0); /* past it: kept, remembered again */
    assert_int_equal(tp_dedupe_check(d, a, 2, 12500), 1);
    /* the same trades from another parse (other pointers) are the same message */
    char sym[] = "AAPL", sym2[] = "MSFT";
    tp_trade b[2] = {mk(sym, 1000, 190.5, 3), mk(sym2, 1001, 410.25, 1)};
    assert_int_equal(tp_dedupe_check(d, b, 2, 12600), 1);
    assert_int_equal(tp_dedupe_check(d, b, 0, 12600), 0); /* an empty message is never a repeat */
    tp_dedupe_free(d);
}

static void test_equal_trades_are_kept(void **state) {
    (void)state;
    tp_dedupe *d;
    assert_int_equal(tp_dedupe_new(64, 5000, &d), 0);
    tp_trade t = mk("AAPL", 1000, 190.5, 3);
    tp_trade two[2] = {t, t};
    /* two equal trades in one message: one message, nothing dropped */
    assert_int_equal(tp_dedupe_check(d, two, 2, 1), 0);
    /* the same trade in a message that is not a repeat as a whole */
    assert_int_equal(tp_dedupe_check(d, &t, 1, 2), 0);
    tp_trade other[2] = {t, mk("MSFT", 1000, 410, 1)};
    assert_int_equal(tp_dedupe_check(d, other, 2, 3), 0);
    tp_trade swapped[2] = {other[1], other[0]}; /* order matters */
    assert_int_equal(tp_dedupe_check(d, swapped, 2, 4), 0);
    tp_trade three[3] = {t, t, t};
    assert_int_equal(tp_dedupe_check(d, three, 3, 5), 0);
    /* whole repeats of each are dropped */
    assert_int_equal(tp_dedupe_check(d, two, 2, 6), 1);
    assert_int_equal(tp_dedupe_check(d, &t, 1, 7), 1);
    assert_int_equal(tp_dedupe_check(d, three, 3, 8), 1);
    tp_dedupe_free(d);
}

static void test_every_field_counts(void **state) {
    (void)state;
    tp_str c1[1] = {{"12", 2}}, c2[1] = {{"13", 2}}, cnull[1] = {{NULL, 0}}, cempty[1] = {{"", 0}};
    tp_trade base = mk("AAPL", 1000, 190.5, 3);
    tp_trade v[12];
    for (int i = 0; i < 12; i++) v[i] = base;
    v[1].symbol = (tp_str){"AAPM", 4};
    v[2].ts_ms = 1001;
    v[3].price = 190.50000000000003;
    v[4].volume = 3.0000000000000004;
    v[5].ncond = 0; /* [] is not null */
    v[6].ncond = 1, v[6].cond = c1;
    v[7].ncond = 1, v[7].cond = c2;
    v[8].ncond = 1, v[8].cond = cnull;  /* [null] */
    v[9].ncond = 1, v[9].cond = cempty; /* [""] */
    v[10].symbol = (tp_str){"AAP", 3};
    v[11].volume = 0;
    for (int i = 0; i < 12; i++)
        for (int j = 0; j < i; j++) assert_true(tp_dedupe_hash(&v[i], 1) != tp_dedupe_hash(&v[j], 1));
    /* recv_ms and id are not part of a message's content */
    tp_trade w = base;
    w.recv_ms = 99;
    w.id[0] = 7;
    assert_true(tp_dedupe_hash(&w, 1) == tp_dedupe_hash(&base, 1));
}

/* the model: the last cap distinct messages (key, time), oldest first */
typedef struct model {
    int key[16];
    int64_t t[16];
    size_t n, cap;
    int64_t horizon;
} model;

static int model_check(model *m, int key, int64_t now) {
    while (m->n && now - m->t[0] > m->horizon) {
        memmove(m->key, m->key + 1, (m->n - 1) * sizeof m->key[0]);
        memmove(m->t, m->t + 1, (m->n - 1) * sizeof m->t[0]);
        m->n--;
    }
    for (size_t i = 0; i < m->n; i++)
        if (m->key[i] == key) return 1;
    if (m->n == m->cap) {
        memmove(m->key, m->key + 1, (m->n - 1) * sizeof m->key[0]);
        memmove(m->t, m->t + 1, (m->n - 1) * sizeof m->t[0]);
        m->n--;
    }
    m->key[m->n] = key;
    m->t[m->n++] = now;
    return 0;
}

static void test_against_model(void **state) {
    (void)state;
    tp_dedupe *d;
    assert_int_equal(tp_dedupe_new(16, 50, &d), 0);
    model m = {.cap = 16, .horizon = 50};
    static const char *const syms[] = {"A", "B", "C", "D", "E"};
    unsigned seed = 12345;
    int64_t now = 0;
    size_t repeats = 0;
    for (int i = 0; i < 200000; i++) {
        seed = seed * 1103515245u + 12345u;
        int key = (int)((seed >> 8) % 40); /* 40 messages: repeats, evictions, expiries */
        now += (seed >> 20) % 4;
        tp_trade t[2] = {mk(syms[key % 5], key / 5, 100.0 + key, 1), mk(syms[(key + 1) % 5], 7, 1, 1)};
        size_t n = 1 + (size_t)(key % 2);
        int want = model_check(&m, key, now);
        assert_int_equal(tp_dedupe_check(d, t, n, now), want);
        assert_true(tp_dedupe_size(d) <= 16);
        repeats += (size_t)want;
    }
    assert_true(repeats > 10000 && repeats < 190000); /* both branches were exercised */
    tp_dedupe_free(d);
}

static tp_trade mki(const char *sym, int64_t id) {
    tp_trade t = mk(sym, 1000 + id, 100.0, 1);
    t.trade_id = id;
    return t;
}

/* Ids of t[0..n), for exact comparisons. */
static void ids_of(const tp_trade *t, size_t n, int64_t *out) {
    for (size_t i = 0; i < n; i++) out[i] = t[i].trade_id;
}

/* By trade id: each trade on its own, per symbol, no horizon. */
static void test_trade_ids(void **state) {
    (void)state;
    tp_dedupe *d;
    assert_int_equal(tp_dedupe_new(16, 2000, &d), 0);
    assert_int_equal(tp_dedupe_id_check(d, (tp_str){"BINANCE:BTCUSDT", 15}, 100), 0);
    assert_int_equal(tp_dedupe_id_check(d, (tp_str){"BINANCE:BTCUSDT", 15}, 100), 1);
    assert_int_equal(tp_dedupe_id_check(d, (tp_str){"BINANCE:ETHUSDT", 15}, 100), 0); /* other symbol */
    assert_int_equal(tp_dedupe_id_check(d, (tp_str){"BINANCE:BTCUSDT", 15}, 105), 0); /* jump */
    assert_int_equal(tp_dedupe_id_check(d, (tp_str){"BINANCE:BTCUSDT", 15}, 103), 0); /* late, fills */
    assert_int_equal(tp_dedupe_id_check(d, (tp_str){"BINANCE:BTCUSDT", 15}, 103), 1);
    assert_int_equal(tp_dedupe_id_check(d, (tp_str){"BINANCE:BTCUSDT", 15}, 105), 1);
    assert_int_equal(tp_dedupe_id_check(d, (tp_str){"BINANCE:BTCUSDT", 15}, 104), 0);
    assert_int_equal(tp_dedupe_id_check(d, (tp_str){"BINANCE:BTCUSDT", 15}, 101), 0);
    assert_int_equal(tp_dedupe_id_check(d, (tp_str){"BINANCE:BTCUSDT", 15}, 99), 0); /* below first: unseen */
    assert_int_equal(tp_dedupe_id_check(d, (tp_str){"BINANCE:BTCUSDT", 15}, 0), 0);  /* no id */
    /* the window: 4096 ids at and below the highest */
    int64_t top = 105 + TP_DEDUPE_ID_WINDOW;
    assert_int_equal(tp_dedupe_id_check(d, (tp_str){"BINANCE:BTCUSDT", 15}, top), 0);
    assert_int_equal(tp_dedupe_id_check(d, (tp_str){"BINANCE:BTCUSDT", 15}, 105), TP_DEDUPE_ID_TOO_OLD);
    assert_int_equal(tp_dedupe_id_check(d, (tp_str){"BINANCE:BTCUSDT", 15}, 1), TP_DEDUPE_ID_TOO_OLD);
    assert_int_equal(tp_dedupe_id_check(d, (tp_str){"BINANCE:BTCUSDT", 15}, 106),
                     0); /* bottom of the window, unseen */
    assert_int_equal(tp_dedupe_id_check(d, (tp_str){"BINANCE:BTCUSDT", 15}, 106), 1);
    assert_int_equal(tp_dedupe_id_check(d, (tp_str){"BINANCE:BTCUSDT", 15}, top - 1), 0);
    /* a big jump clears the window: nothing below the new highest was seen */
    assert_int_equal(tp_dedupe_id_check(d, (tp_str){"BINANCE:BTCUSDT", 15}, top + 10 * TP_DEDUPE_ID_WINDOW),
                     0);
    assert_int_equal(
        tp_dedupe_id_check(d, (tp_str){"BINANCE:BTCUSDT", 15}, top + 10 * TP_DEDUPE_ID_WINDOW - 1), 0);
    assert_int_equal(
        tp_dedupe_id_check(d, (tp_str){"BINANCE:BTCUSDT", 15}, top + 9 * TP_DEDUPE_ID_WINDOW + 1), 0);
    assert_int_equal(tp_dedupe_id_check(d, (tp_str){"BINANCE:BTCUSDT", 15}, top + 9 * TP_DEDUPE_ID_WINDOW),
                     TP_DEDUPE_ID_TOO_OLD);
    assert_int_equal(tp_dedupe_id_symbols(d), 2);
    tp_dedupe_free(d);
}

/* tp_dedupe_filter: a message mixing new and repeated trades keeps the new
 * ones, in order; messages without ids behave as tp_dedupe_check. */
static void test_filter(void **state) {
    (void)state;
    tp_dedupe *d;
    assert_int_equal(tp_dedupe_new(16, 2000, &d), 0);
    tp_trade m1[3] = {mki("KRAKEN:XBTUSD", 1), mki("KRAKEN:XBTUSD", 2), mki("KRAKEN:ETHUSD", 1)};
    size_t n = 3;
    assert_int_equal(tp_dedupe_filter(d, m1, &n, 100), 0);
    assert_int_equal(n, 3);
    /* a snapshot overlapping what was delivered, then one new trade each */
    tp_trade m2[5] = {mki("KRAKEN:XBTUSD", 1), mki("KRAKEN:XBTUSD", 2), mki("KRAKEN:XBTUSD", 3),
                      mki("KRAKEN:ETHUSD", 1), mki("KRAKEN:ETHUSD", 2)};
    n = 5;
    assert_int_equal(tp_dedupe_filter(d, m2, &n, 100000), 3); /* far past the horizon: ids need none */
    assert_int_equal(n, 2);
    int64_t got[5];
    ids_of(m2, n, got);
    assert_int_equal(got[0], 3);
    assert_int_equal(got[1], 2);
    assert_string_equal(m2[0].symbol.ptr, "KRAKEN:XBTUSD");
    assert_string_equal(m2[1].symbol.ptr, "KRAKEN:ETHUSD");
    /* all repeated: all dropped */
    tp_trade m3[2] = {mki("KRAKEN:XBTUSD", 3), mki("KRAKEN:XBTUSD", 2)};
    n = 2;
    assert_int_equal(tp_dedupe_filter(d, m3, &n, 100001), 2);
    assert_int_equal(n, 0);
    /* equal content, different ids: both kept (no content comparison) */
    tp_trade m4[1] = {mki("KRAKEN:XBTUSD", 4)}, m5[1] = {mki("KRAKEN:XBTUSD", 5)};
    m5[0].ts_ms = m4[0].ts_ms;
    n = 1;
    assert_int_equal(tp_dedupe_filter(d, m4, &n, 100002), 0);
    n = 1;
    assert_int_equal(tp_dedupe_filter(d, m5, &n, 100002), 0);
    /* no ids: the whole message, by content, within the horizon */
    tp_trade f[2] = {mk("AAPL", 1000, 190.5, 3), mk("MSFT", 1001, 410.25, 1)};
    n = 2;
    assert_int_equal(tp_dedupe_filter(d, f, &n, 200000), 0);
    assert_int_equal(n, 2);
    n = 2;
    assert_int_equal(tp_dedupe_filter(d, f, &n, 201000), 2);
    assert_int_equal(n, 0);
    n = 2;
    assert_int_equal(tp_dedupe_filter(d, f, &n, 204000), 0); /* past the horizon */
    assert_int_equal(n, 2);
    /* the same hash as tp_dedupe_check: a message checked one way is a repeat the other way */
    assert_int_equal(tp_dedupe_check(d, f, 2, 204001), 1);
    /* a mixed message: the id-less trades as one message, the others by id */
    tp_trade x[3] = {mk("AAPL", 1000, 190.5, 3), mki("KRAKEN:XBTUSD", 5), mk("MSFT", 1001, 410.25, 1)};
    n = 3;
    assert_int_equal(tp_dedupe_filter(d, x, &n, 204002), 3); /* AAPL+MSFT repeat f, id 5 was seen */
    assert_int_equal(n, 0);
    tp_trade y[2] = {mk("AAPL", 1000, 190.5, 3), mki("KRAKEN:XBTUSD", 6)};
    n = 2;
    assert_int_equal(tp_dedupe_filter(d, y, &n, 204003), 0);
    assert_int_equal(n, 2);
    tp_dedupe_free(d);
    /* horizon 0: content comparison off, ids still deduped */
    assert_int_equal(tp_dedupe_new(16, 0, &d), 0);
    n = 2;
    assert_int_equal(tp_dedupe_filter(d, f, &n, 1), 0);
    n = 2;
    assert_int_equal(tp_dedupe_filter(d, f, &n, 1), 0);
    assert_int_equal(tp_dedupe_check(d, f, 2, 1), 0);
    tp_trade z[2] = {mki("COINBASE:BTC-USD", 7), mki("COINBASE:BTC-USD", 7)};
    n = 2;
    assert_int_equal(tp_dedupe_filter(d, z, &n, 1), 1); /* a repeat inside one message too */
    assert_int_equal(n, 1);
    assert_int_equal(z[0].trade_id, 7);
    tp_dedupe_free(d);
}

/* Random ids near a moving top against a brute-force set of seen ids. */
static void test_ids_against_model(void **state) {
    (void)state;
    tp_dedupe *d;
    assert_int_equal(tp_dedupe_new(16, 0, &d), 0);
    enum { SPAN = 3 * TP_DEDUPE_ID_WINDOW };
    static unsigned char seen[2][SPAN + 64];
    memset(seen, 0, sizeof seen);
    int64_t max[2] = {0, 0};
    int started[2] = {0, 0};
    unsigned seed = 777;
    size_t dups = 0, fresh = 0, old = 0;
    for (int i = 0; i < 200000; i++) {
        seed = seed * 1103515245u + 12345u;
        int s = (int)((seed >> 4) & 1);
        int64_t base = (int64_t)i * SPAN / 200000;
        int64_t id = 1 + base + (int64_t)((seed >> 8) % 64) - 16;
        if ((seed >> 20) % 50 == 0) id -= TP_DEDUPE_ID_WINDOW + 1000; /* now and then a very old one */
        if (id < 1) id = 1;
        int want;
        if (!started[s] || id > max[s])
            want = 0;
        else if (max[s] - id >= TP_DEDUPE_ID_WINDOW)
            want = TP_DEDUPE_ID_TOO_OLD;
        else
            want = seen[s][id];
        if (!want) {
            seen[s][id] = 1;
            if (!started[s] || id > max[s]) max[s] = id;
            started[s] = 1;
        }
        assert_int_equal(tp_dedupe_id_check(d, (tp_str){s ? "B" : "A", 1}, id), want);
        if (want == TP_DEDUPE_ID_TOO_OLD) old++;
        if (want)
            dups++;
        else
            fresh++;
    }
    assert_true(dups > 10000 && fresh > 10000 && old > 100);
    tp_dedupe_free(d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_repeat_and_horizon), cmocka_unit_test(test_equal_trades_are_kept),
        cmocka_unit_test(test_every_field_counts), cmocka_unit_test(test_against_model),
        cmocka_unit_test(test_trade_ids),          cmocka_unit_test(test_filter),
        cmocka_unit_test(test_ids_against_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
