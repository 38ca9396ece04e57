/* test_trade_check.c - the door's rules (core/trade_check.h), edge by edge. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/trade_check.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#define RECV 1765000000000LL

static tp_trade mk(const char *sym, size_t len, double p, double v, int64_t ts) {
    tp_trade t;
    memset(&t, 0, sizeof t);
    t.symbol = (tp_str){sym, (uint32_t)len};
    t.price = p;
    t.volume = v;
    t.ts_ms = ts;
    t.ncond = TP_COND_NULL;
    return t;
}

static tp_reject chk_sym(const char *s, size_t len) {
    tp_trade_limits l;
    tp_trade_limits_default(&l);
    tp_trade t = mk(s, len, 1.0, 1.0, RECV);
    return tp_trade_check(&t, RECV, &l);
}

static void test_symbols(void **state) {
    (void)state;
    assert_int_equal(chk_sym("AAPL", 4), TP_REJECT_NONE);
    assert_int_equal(chk_sym("BINANCE:BTCUSDT", 15), TP_REJECT_NONE);
    assert_int_equal(chk_sym("OANDA:EUR_USD", 13), TP_REJECT_NONE);
    assert_int_equal(chk_sym("\xc3\x89TF:\xe2\x82\xac", 8), TP_REJECT_NONE); /* UTF-8 letters */
    assert_int_equal(chk_sym("", 0), TP_REJECT_SYMBOL_EMPTY);
    assert_int_equal(chk_sym(NULL, 0), TP_REJECT_SYMBOL_EMPTY);
    char big[10001];
    memset(big, 'A', sizeof big);
    assert_int_equal(chk_sym(big, TP_SYMBOL_MAX), TP_REJECT_NONE);
    assert_int_equal(chk_sym(big, TP_SYMBOL_MAX + 1), TP_REJECT_SYMBOL_LONG);
    assert_int_equal(chk_sym(big, 10000), TP_REJECT_SYMBOL_LONG);
    assert_int_equal(chk_sym("AA\nPL", 5), TP_REJECT_SYMBOL_CHARS);
    assert_int_equal(chk_sym("AAPL\r", 5), TP_REJECT_SYMBOL_CHARS);
    assert_int_equal(chk_sym("AA\0PL", 5), TP_REJECT_SYMBOL_CHARS);
    assert_int_equal(chk_sym("IC MARKETS:1", 12), TP_REJECT_NONE); /* Finnhub's forex venues */
    assert_int_equal(chk_sym(" AAPL", 5), TP_REJECT_SYMBOL_CHARS);
    assert_int_equal(chk_sym("AAPL ", 5), TP_REJECT_SYMBOL_CHARS);
    assert_int_equal(chk_sym(" ", 1), TP_REJECT_SYMBOL_CHARS);
    assert_int_equal(chk_sym("AAPL\x7f", 5), TP_REJECT_SYMBOL_CHARS);
    assert_int_equal(chk_sym("\x1b[31m", 5), TP_REJECT_SYMBOL_CHARS);
    assert_int_equal(chk_sym("A\xff", 2), TP_REJECT_SYMBOL_CHARS);         /* not UTF-8 */
    assert_int_equal(chk_sym("A\xc0\xaf", 3), TP_REJECT_SYMBOL_CHARS);     /* overlong '/' */
    assert_int_equal(chk_sym("A\xc2\x85", 3), TP_REJECT_SYMBOL_CHARS);     /* C1 control NEL */
    assert_int_equal(chk_sym("A\xed\xa0\x80", 4), TP_REJECT_SYMBOL_CHARS); /* surrogate */
    assert_int_equal(chk_sym("A\xe2\x82", 3), TP_REJECT_SYMBOL_CHARS);     /* cut short */
    assert_int_equal(chk_sym("A\xe2\x80\xa8", 4), TP_REJECT_SYMBOL_CHARS); /* line separator */
    assert_int_equal(tp_symbol_check("MSFT", 4), TP_REJECT_NONE);
    assert_int_equal(tp_symbol_check("", 0), TP_REJECT_SYMBOL_EMPTY);
}

static tp_reject chk(double p, double v, int64_t ts, const tp_trade_limits *l) {
    tp_trade t = mk("AAPL", 4, p, v, ts);
    return tp_trade_check(&t, RECV, l);
}

static void test_values_and_times(void **state) {
    (void)state;
    tp_trade_limits l;
    tp_trade_limits_default(&l);
    assert_int_equal(l.max_age_ms, 86400000);
    assert_int_equal(l.max_ahead_ms, 60000);
    assert_int_equal(chk(1e-9, 0, RECV, &l), TP_REJECT_NONE); /* v = 0: a price update */
    assert_int_equal(chk(0, 1, RECV, &l), TP_REJECT_PRICE);
    assert_int_equal(chk(-5, 1, RECV, &l), TP_REJECT_PRICE);
    assert_int_equal(chk(NAN, 1, RECV, &l), TP_REJECT_PRICE);
    assert_int_equal(chk(INFINITY, 1, RECV, &l), TP_REJECT_PRICE);
    assert_int_equal(chk(1, -1, RECV, &l), TP_REJECT_VOLUME);
    assert_int_equal(chk(1, NAN, RECV, &l), TP_REJECT_VOLUME);
    assert_int_equal(chk(1, -INFINITY, RECV, &l), TP_REJECT_VOLUME);
    assert_int_equal(chk(1, INFINITY, RECV, &l), TP_REJECT_VOLUME);
    /* the bounds are inclusive */
    assert_int_equal(chk(1, 1, RECV - 86400000, &l), TP_REJECT_NONE);
    assert_int_equal(chk(1, 1, RECV - 86400001, &l), TP_REJECT_TIME_PAST);
    assert_int_equal(chk(1, 1, RECV + 60000, &l), TP_REJECT_NONE);
    assert_int_equal(chk(1, 1, RECV + 60001, &l), TP_REJECT_TIME_FUTURE);
    assert_int_equal(chk(1, 1, 0, &l), TP_REJECT_TIME_PAST);
    assert_int_equal(chk(1, 1, -1000, &l), TP_REJECT_TIME_PAST);
    assert_int_equal(chk(1, 1, INT64_MIN, &l), TP_REJECT_TIME_PAST);
    assert_int_equal(chk(1, 1, INT64_MAX, &l), TP_REJECT_TIME_FUTURE);
    assert_int_equal(chk(1, 1, RECV + 10LL * 365 * 86400000, &l), TP_REJECT_TIME_FUTURE);
    /* 0 = that side unbounded; the value rules stay */
    tp_trade_limits open = {0, 0};
    assert_int_equal(chk(1, 1, INT64_MIN, &open), TP_REJECT_NONE);
    assert_int_equal(chk(1, 1, INT64_MAX, &open), TP_REJECT_NONE);
    assert_int_equal(chk(0, 1, RECV, &open), TP_REJECT_PRICE);
    assert_int_equal(chk(1, 1, INT64_MAX, NULL), TP_REJECT_NONE);
}

static void test_names_and_counts(void **state) {
    (void)state;
    assert_string_equal(tp_reject_name(TP_REJECT_TIME_FUTURE), "time_future");
    assert_string_equal(tp_reject_name(TP_REJECT_SYMBOL_EMPTY), "symbol_empty");
    assert_string_equal(tp_reject_name(TP_REJECT_N), "unknown");
    for (int i = 1; i < TP_REJECT_N; i++) assert_true(strlen(tp_reject_text((tp_reject)i)) > 10);
    tp_rejects r;
    tp_rejects_init(&r, "test");
    tp_trade t = mk("", 0, 1, 1, RECV);
    for (int i = 0; i < 25; i++)
        tp_rejects_note(&r, TP_REJECT_SYMBOL_EMPTY, &t, RECV, "here"); /* rate-limited log */
    tp_rejects_note(&r, TP_REJECT_PRICE, &t, RECV, "here");
    tp_rejects_note(&r, TP_REJECT_NONE, &t, RECV, "here"); /* not a rejection */
    assert_int_equal(tp_rejects_total(&r), 26);
    assert_int_equal(r.logged, 10);
    char out[200];
    tp_rejects_format(&r, out, sizeof out);
    assert_string_equal(out, "26 rejected (symbol_empty 25, price 1)");
    uint64_t none[TP_REJECT_N] = {0};
    tp_rejects_format_counts(none, out, sizeof out);
    assert_string_equal(out, "0 rejected");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_symbols),
        cmocka_unit_test(test_values_and_times),
        cmocka_unit_test(test_names_and_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
