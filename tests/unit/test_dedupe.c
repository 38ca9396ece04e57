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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_repeat_and_horizon),
        cmocka_unit_test(test_equal_trades_are_kept),
        cmocka_unit_test(test_every_field_counts),
        cmocka_unit_test(test_against_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
