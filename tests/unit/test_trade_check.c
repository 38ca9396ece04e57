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

/* the subscription predicate of the cache tests: AAPL only, counting calls */
static int g_asked;
static int only_aapl(void *ud, tp_str sym) {
    (void)ud;
    g_asked++;
    return sym.len == 4 && !memcmp(sym.ptr, "AAPL", 4);
}

static void test_symbol_cache(void **state) {
    (void)state;
    tp_trade_limits l;
    tp_trade_limits_default(&l);
    tp_symbol_cache c = {0};
    g_asked = 0;
    /* a trade that fails leaves the cache empty */
    tp_trade bad = mk("AAPL", 4, -1, 1, RECV);
    assert_int_equal(tp_symbol_cache_check(&c, &bad, RECV, &l, only_aapl, NULL), TP_REJECT_PRICE);
    assert_null(c.ok.ptr);
    assert_int_equal(g_asked, 1);
    /* one that passes fills it; the next of that symbol (compared by its
     * bytes, not its address) is not asked about again */
    tp_trade a = mk("AAPL", 4, 1, 1, RECV);
    assert_int_equal(tp_symbol_cache_check(&c, &a, RECV, &l, only_aapl, NULL), TP_REJECT_NONE);
    assert_int_equal(g_asked, 2);
    assert_true(c.ok.len == 4 && !memcmp(c.ok.ptr, "AAPL", 4));
    char copy[] = "AAPL";
    tp_trade a2 = mk(copy, 4, 2, 1, RECV);
    assert_int_equal(tp_symbol_cache_check(&c, &a2, RECV, &l, only_aapl, NULL), TP_REJECT_NONE);
    assert_int_equal(g_asked, 2);
    /* the value rules still hold for the cached symbol */
    tp_trade late = mk("AAPL", 4, 1, 1, RECV + 61000);
    assert_int_equal(tp_symbol_cache_check(&c, &late, RECV, &l, only_aapl, NULL), TP_REJECT_TIME_FUTURE);
    tp_trade nan_v = mk(copy, 4, 1, NAN, RECV);
    assert_int_equal(tp_symbol_cache_check(&c, &nan_v, RECV, &l, only_aapl, NULL), TP_REJECT_VOLUME);
    assert_int_equal(g_asked, 2);
    /* another symbol: symbol rules first (not asked), then the predicate,
     * then the values */
    tp_trade ctl = mk("MS\x01T", 4, -1, 1, RECV);
    assert_int_equal(tp_symbol_cache_check(&c, &ctl, RECV, &l, only_aapl, NULL), TP_REJECT_SYMBOL_CHARS);
    assert_int_equal(g_asked, 2);
    tp_trade m = mk("MSFT", 4, -1, 1, RECV);
    assert_int_equal(tp_symbol_cache_check(&c, &m, RECV, &l, only_aapl, NULL), TP_REJECT_UNSUBSCRIBED);
    assert_int_equal(g_asked, 3);
    assert_true(c.ok.len == 4 && !memcmp(c.ok.ptr, "AAPL", 4)); /* still the last that passed */
    /* a prefix of the cached symbol is another symbol */
    tp_trade pre = mk("AAP", 3, 1, 1, RECV);
    assert_int_equal(tp_symbol_cache_check(&c, &pre, RECV, &l, only_aapl, NULL), TP_REJECT_UNSUBSCRIBED);
}

/* Without a predicate the cache gives what tp_trade_check gives, trade by
 * trade, over runs of symbols good and bad. */
static void test_symbol_cache_is_trade_check(void **state) {
    (void)state;
    tp_trade_limits l;
    tp_trade_limits_default(&l);
    static const char *const syms[] = {"AAPL", "AAPL",         "",    "AAPL", " MSFT", "MSFT",
                                       "MSFT", "IC MARKETS:1", "\x7f"};
    static const double prices[] = {1, -1, 0, NAN, 2.5, INFINITY, 3};
    static const int64_t times[] = {RECV, RECV - 86400001LL, RECV + 60001, RECV - 5};
    tp_symbol_cache c = {0};
    int n = 0;
    for (size_t i = 0; i < 200; i++) {
        const char *sym = syms[(i / 3) % (sizeof syms / sizeof syms[0])];
        tp_trade t = mk(sym, strlen(sym), prices[i % 7], i % 11 == 5 ? -1 : 1, times[i % 4]);
        tp_reject want = tp_trade_check(&t, RECV, &l);
        assert_int_equal(tp_symbol_cache_check(&c, &t, RECV, &l, NULL, NULL), want);
        n += want == TP_REJECT_NONE;
    }
    assert_true(n > 10 && n < 190); /* both kinds were seen */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_symbols),
        cmocka_unit_test(test_values_and_times),
        cmocka_unit_test(test_names_and_counts),
        cmocka_unit_test(test_symbol_cache),
        cmocka_unit_test(test_symbol_cache_is_trade_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
