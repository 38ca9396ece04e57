/* test_market_hours.c - the simulator's market hours (sim/market.h): US
 * hours against instants whose answers came from Python's zoneinfo
 * (America/New_York from the IANA database, an independent implementation
 * of the DST rules), around both DST changes of several years; a market
 * with hours on keeps stocks closed when the market clock says so and
 * crypto and forex always open; and the --market-time parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "feed/market_hours.h"
#include "sim/market.h"

#include <stdint.h>

static void test_us_hours(void **st) {
    (void)st;
    static const struct {
        int64_t ms;
        int open;
    } k[] = {
        {1796653800000LL, 1}, /* 2026-12-07 14:30 Mon UTC: 09:30 EST */
        {1796653740000LL, 0}, /* 2026-12-07 14:29 Mon UTC */
        {1796677140000LL, 1}, /* 2026-12-07 20:59 Mon UTC */
        {1796677200000LL, 0}, /* 2026-12-07 21:00 Mon UTC: 16:00 EST */
        {1783344600000LL, 1}, /* 2026-07-06 13:30 Mon UTC: 09:30 EDT */
        {1783344540000LL, 0}, /* 2026-07-06 13:29 Mon UTC */
        {1783367940000LL, 1}, /* 2026-07-06 19:59 Mon UTC */
        {1783368000000LL, 0}, /* 2026-07-06 20:00 Mon UTC */
        {1796482800000LL, 0}, /* 2026-12-05 15:00 Sat UTC */
        {1796569200000LL, 0}, /* 2026-12-06 15:00 Sun UTC */
        {1772807400000LL, 1}, /* 2026-03-06 14:30 Fri UTC: the last EST Friday */
        {1772803800000LL, 0}, /* 2026-03-06 13:30 Fri UTC */
        {1773063000000LL, 1}, /* 2026-03-09 13:30 Mon UTC: the first EDT Monday */
        {1773066540000LL, 1}, /* 2026-03-09 14:29 Mon UTC */
        {1793367000000LL, 1}, /* 2026-10-30 13:30 Fri UTC: the last EDT Friday */
        {1793626200000LL, 0}, /* 2026-11-02 13:30 Mon UTC: the first EST Monday */
        {1793629800000LL, 1}, /* 2026-11-02 14:30 Mon UTC */
        {1709218800000LL, 1}, /* 2024-02-29 15:00 Thu UTC */
        {1741613400000LL, 1}, /* 2025-03-10 13:30 Mon UTC */
        {1919770200000LL, 1}, /* 2030-11-01 13:30 Fri UTC */
        {1920033000000LL, 1}, /* 2030-11-04 14:30 Mon UTC */
        {946652400000LL, 1},  /* 1999-12-31 15:00 Fri UTC */
        {1767279600000LL, 1}, /* 2026-01-01 15:00 Thu UTC (holidays are not modelled) */
    };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        if (tp_market_us_open(k[i].ms) != k[i].open)
            fail_msg("case %zu (%lld ms): want %d", i, (long long)k[i].ms, k[i].open);
        /* the last millisecond before a boundary is on the other side of it */
        if (k[i].open && tp_market_us_open(k[i].ms - 60000) && !tp_market_us_open(k[i].ms - 1))
            fail_msg("case %zu: closed 1 ms before an open minute", i);
    }
}

static void test_trading(void **st) {
    (void)st;
    tp_market *m = tp_market_new(1);
    assert_non_null(m);
    tp_market_sym *stock = tp_market_get(m, "AAPL", 4), *crypto = tp_market_get(m, "BINANCE:BTCUSDT", 15),
                  *fx = tp_market_get(m, "OANDA:EUR_USD", 13), *other = tp_market_get(m, "ZZZQ", 4);
    assert_non_null(stock);
    int64_t sat = 1796482800000LL, mon = 1796653800000LL;
    /* hours off: everything trades */
    assert_int_equal(tp_market_trading(m, stock, sat), 1);
    tp_market_set_hours(m, 1, 0);
    assert_int_equal(tp_market_trading(m, stock, sat), 0);
    assert_int_equal(tp_market_trading(m, other, sat), 0); /* an unknown name without a prefix is a stock */
    assert_int_equal(tp_market_trading(m, crypto, sat), 1);
    assert_int_equal(tp_market_trading(m, fx, sat), 1);
    assert_int_equal(tp_market_trading(m, stock, mon), 1);
    /* the market clock moved: Saturday's wall clock reads Monday's open */
    tp_market_set_hours(m, 1, mon - sat);
    assert_int_equal(tp_market_trading(m, stock, sat), 1);
    tp_market_free(m);
}

/* feed/market_hours.h: was a gap's symbol expected to trade in (from, to)? */
static void test_expected(void **st) {
    (void)st;
    const int64_t open = 1796653800000LL; /* Mon 2026-12-07 09:30 EST */
    const int64_t close = open + 390 * 60000LL;
    const int64_t sat = 1796482800000LL;
    assert_int_equal(tp_market_hours_is_stock("AAPL", 4), 1);
    assert_int_equal(tp_market_hours_is_stock("BINANCE:BTCUSDT", 15), 0);
    assert_int_equal(tp_market_hours_expected("AAPL", 4, open + 1000, open + 5000), 1);
    assert_int_equal(tp_market_hours_expected("AAPL", 4, sat, sat + 3600000), 0);
    assert_int_equal(tp_market_hours_expected("BINANCE:BTCUSDT", 15, sat, sat + 3600000), 1);
    /* overnight: the last trade at the close, the first at the next open: nothing expected between */
    assert_int_equal(tp_market_hours_expected("AAPL", 4, close - 1, open + 86400000LL), 0);
    assert_int_equal(tp_market_hours_expected("AAPL", 4, close - 2, open + 86400000LL), 1);
    assert_int_equal(tp_market_hours_expected("AAPL", 4, close - 1, open + 86400000LL + 1), 1);
    /* Saturday to Monday's open: closed all along; to the minute after it: open */
    assert_int_equal(tp_market_hours_expected("AAPL", 4, sat, open), 0);
    assert_int_equal(tp_market_hours_expected("AAPL", 4, sat, open + 60000), 1);
    assert_int_equal(tp_market_hours_expected("AAPL", 4, sat, sat + 8 * 86400000LL), 1);
    assert_int_equal(tp_market_hours_expected("AAPL", 4, open + 5, open + 6),
                     0); /* nothing strictly between */
}

static void test_parse_time(void **st) {
    (void)st;
    int64_t ms = 0;
    assert_int_equal(tp_market_parse_time("2026-12-07T14:30:00Z", &ms), 0);
    assert_int_equal(ms, 1796653800000LL);
    assert_int_equal(tp_market_parse_time("2026-12-07T14:30Z", &ms), 0);
    assert_int_equal(ms, 1796653800000LL);
    assert_int_equal(tp_market_parse_time("2026-12-07T14:30:07Z", &ms), 0);
    assert_int_equal(ms, 1796653807000LL);
    assert_int_equal(tp_market_parse_time("1796653800000", &ms), 0);
    assert_int_equal(ms, 1796653800000LL);
    static const char *const bad[] = {"",
                                      "2026-12-07",
                                      "2026-12-07T14:30:00",
                                      "2026-12-07T14:30:00+01:00",
                                      "2026-13-07T14:30Z",
                                      "2026-12-07T25:00Z",
                                      "12x",
                                      "2026-12-07T14:30:00Zjunk"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (!tp_market_parse_time(bad[i], &ms)) fail_msg("'%s' accepted", bad[i]);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_us_hours),
        cmocka_unit_test(test_trading),
        cmocka_unit_test(test_expected),
        cmocka_unit_test(test_parse_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
