/* test_rollup.c - candles of any interval folded from stored ones
 * (http/rollup.h): interval parsing and naming, exact folding (open,
 * close, high, low, sums, VWAP, incomplete), the final rule, alignment,
 * the widened query and the trim of a cut answer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "http/rollup.h"

#include <math.h>
#include <string.h>

static tp_candle part(int64_t start_ms, int iv, double o, double h, double l, double c, double v, double vwap,
                      int64_t n, int64_t upd, int final, int inc) {
    tp_candle x;
    memset(&x, 0, sizeof x);
    x.symbol = (tp_str){"AAPL", 4};
    x.interval_s = iv;
    x.start_ms = start_ms;
    x.open = o, x.high = h, x.low = l, x.close = c, x.volume = v, x.vwap = vwap;
    x.trade_count = n, x.updated_ms = upd, x.final = final, x.incomplete = inc;
    return x;
}

static void test_parse_interval(void **st) {
    (void)st;
    int64_t s;
    assert_int_equal(tp_rollup_parse_interval("5m", &s), 0);
    assert_int_equal(s, 300);
    assert_int_equal(tp_rollup_parse_interval("1d", &s), 0);
    assert_int_equal(s, 86400);
    assert_int_equal(tp_rollup_parse_interval("4h", &s), 0);
    assert_int_equal(s, 14400);
    assert_int_equal(tp_rollup_parse_interval("90s", &s), 0);
    assert_int_equal(s, 90);
    assert_int_equal(tp_rollup_parse_interval("7d", &s), 0);
    assert_int_equal(s, 7 * 86400);
    const char *bad[] = {"",    "m",   "0m", "5",       "5x",           "5mm", "-1m",
                         " 5m", "5 m", "8d", "604801s", "99999999999d", "1M"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s = -7;
        assert_int_equal(tp_rollup_parse_interval(bad[i], &s), -1);
        assert_int_equal(s, -7);
    }
    char b[24];
    assert_string_equal(tp_rollup_interval_text(300, b, sizeof b), "5m");
    assert_string_equal(tp_rollup_interval_text(86400, b, sizeof b), "1d");
    assert_string_equal(tp_rollup_interval_text(90, b, sizeof b), "90s");
    assert_string_equal(tp_rollup_interval_text(5400, b, sizeof b), "90m");
    assert_string_equal(tp_rollup_interval_text(7200, b, sizeof b), "2h");
    assert_int_equal(tp_rollup_base(300), 60);
    assert_int_equal(tp_rollup_base(90), 1);
    assert_int_equal(tp_rollup_base(15), 1);
}

/* 5 m from 1 min parts: two buckets; exact sums, VWAP from sums */
static void test_fold(void **st) {
    (void)st;
    tp_rollup r;
    tp_rollup_init(&r, 300);
    const int64_t t0 = 1700000100000; /* 5 m aligned: 1700000100 = 5666667 * 300 */
    tp_candle p[] = {
        part(t0, 60, 10, 12, 9, 11, 2, 10.5, 3, t0 + 70000, 1, 0),
        part(t0 + 120000, 60, 11, 15, 11, 14, 0, NAN, 1, t0 + 190000, 1, 1), /* no volume */
        part(t0 + 240000, 60, 14, 14, 8, 9, 6, 12.25, 4, t0 + 310000, 1, 0),
        part(t0 + 300000, 60, 9, 9.5, 9, 9.25, 1, 9.2, 2, t0 + 370000, 0, 0),
    };
    for (size_t i = 0; i < 4; i++) assert_int_equal(tp_rollup_add(&r, &p[i]), 0);
    tp_rollup_finish(&r);
    assert_int_equal(r.n, 2);
    tp_candle *a = &r.out[0];
    assert_int_equal(a->start_ms, t0);
    assert_int_equal(a->interval_s, 300);
    assert_true(a->open == 10 && a->close == 9 && a->high == 15 && a->low == 8);
    assert_true(a->volume == 8);
    assert_true(a->vwap == (10.5 * 2 + 12.25 * 6) / 8);
    assert_int_equal(a->trade_count, 8);
    assert_int_equal(a->updated_ms, t0 + 310000);
    assert_int_equal(a->incomplete, 1);
    assert_int_equal(a->final, 1); /* every part final, ended before its newest update */
    assert_int_equal(a->symbol.len, 4);
    assert_memory_equal(a->symbol.ptr, "AAPL", 4);
    tp_candle *b = &r.out[1];
    assert_int_equal(b->start_ms, t0 + 300000);
    assert_int_equal(b->final, 0);
    assert_true(b->vwap == 9.2);
    tp_rollup_free(&r);
}

/* final: every part final AND (ended by the newest update, or a later part final) */
static void test_final_rule(void **st) {
    (void)st;
    const int64_t d = 86400000, t0 = 20000 * d;
    /* day 1: last trade at noon, final at noon + 1 min; nothing more that day */
    tp_candle day1 = part(t0 + d / 2, 60, 1, 1, 1, 1, 1, 1, 1, t0 + d / 2 + 60000, 1, 0);
    tp_rollup r;
    tp_rollup_init(&r, 86400);
    tp_rollup_add(&r, &day1);
    tp_rollup_finish(&r);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.out[0].final, 0); /* more trades could still come that day */
    tp_rollup_free(&r);
    /* day 2 has a final part: day 1 can take nothing more */
    tp_candle day2 = part(t0 + d + 1000 * 60, 60, 2, 2, 2, 2, 1, 2, 1, t0 + d + 120000, 1, 0);
    tp_rollup_init(&r, 86400);
    tp_rollup_add(&r, &day1);
    tp_rollup_add(&r, &day2);
    tp_rollup_finish(&r);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.out[0].final, 1);
    assert_int_equal(r.out[1].final, 0);
    tp_rollup_free(&r);
    /* a part not final keeps the bucket open whatever comes later */
    tp_candle open1 = day1;
    open1.final = 0;
    tp_rollup_init(&r, 86400);
    tp_rollup_add(&r, &open1);
    tp_rollup_add(&r, &day2);
    tp_rollup_finish(&r);
    assert_int_equal(r.out[0].final, 0);
    tp_rollup_free(&r);
}

/* buckets align to multiples of the interval since the epoch, negative too */
static void test_alignment(void **st) {
    (void)st;
    tp_rollup r;
    tp_rollup_init(&r, 15);
    tp_candle a = part(-1000, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0);
    tp_candle b = part(14000, 1, 2, 2, 2, 2, 1, 2, 1, 0, 0, 0);
    tp_candle c = part(15000, 1, 3, 3, 3, 3, 1, 3, 1, 0, 0, 0);
    tp_rollup_add(&r, &a);
    tp_rollup_add(&r, &b);
    tp_rollup_add(&r, &c);
    tp_rollup_finish(&r);
    assert_int_equal(r.n, 3);
    assert_int_equal(r.out[0].start_ms, -15000);
    assert_int_equal(r.out[1].start_ms, 0);
    assert_int_equal(r.out[2].start_ms, 15000);
    tp_rollup_free(&r);
}

static void test_query_and_trim(void **st) {
    (void)st;
    tp_rollup r;
    tp_rollup_init(&r, 300);
    tp_query q = {.symbol = "AAPL", .from_ms = 1000, .to_ms = 600001, .limit = 3, .interval_s = 300};
    tp_query base;
    tp_rollup_query(&r, &q, 500000, &base);
    assert_int_equal(base.interval_s, 60);
    assert_int_equal(base.from_ms, 0);    /* widened to whole buckets */
    assert_int_equal(base.to_ms, 900000); /* 600001 -> the end of its bucket */
    assert_int_equal(base.limit, (3 + 1) * 5);
    /* a limit too large for the row cap is lowered */
    tp_rollup r2;
    tp_rollup_init(&r2, 86400);
    q.limit = 1000;
    tp_rollup_query(&r2, &q, 500000, &base);
    assert_int_equal(base.limit, (500000 / 1440) * 1440);
    tp_rollup_free(&r2);
    /* an interval whose two buckets pass the cap on their own: the cap holds */
    tp_rollup r3;
    tp_rollup_init(&r3, 604799); /* whole seconds: from the 1 s candles */
    q.limit = 1;
    tp_rollup_query(&r3, &q, 500000, &base);
    assert_int_equal(base.interval_s, 1);
    assert_int_equal(base.limit, 500000);
    tp_rollup_free(&r3);
    /* trim: a cut answer (rows == limit) loses its oldest, maybe short, bucket */
    q.limit = 2;
    tp_rollup_query(&r, &q, 500000, &base); /* base.limit = 15 */
    for (int i = 0; i < 15; i++) {
        tp_candle c = part(60000 * (int64_t)(i + 2), 60, i, i, i, i, 1, i, 1, 0, 0, 0);
        tp_rollup_add(&r, &c);
    }
    tp_rollup_finish(&r);
    assert_int_equal(r.n, 4); /* minutes 2-4, 5-9, 10-14, 15-16 */
    tp_rollup_trim(&r, &base, 2);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.out[0].start_ms, 600000);
    assert_int_equal(r.out[1].start_ms, 900000);
    assert_int_equal(r.out[1].trade_count, 2);
    tp_rollup_free(&r);
    /* not cut: every bucket is whole, the oldest stays */
    tp_rollup_init(&r, 300);
    q.limit = 5;
    tp_rollup_query(&r, &q, 500000, &base);
    tp_candle c = part(60000, 60, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0);
    tp_rollup_add(&r, &c);
    tp_rollup_finish(&r);
    tp_rollup_trim(&r, &base, 5);
    assert_int_equal(r.n, 1);
    tp_rollup_free(&r);
}

/* day candles at New York's midnights: 2024-03-10 is 23 hours long there,
 * 2024-11-03 25; bucket starts and the widened query follow the zone */
static void test_tz_days(void **st) {
    (void)st;
    tp_tz *ny;
    char err[256];
    if (tp_tz_open("America/New_York", &ny, err, sizeof err)) fail_msg("%s", err);
    tp_rollup r;
    tp_rollup_init(&r, 86400);
    tp_rollup_set_tz(&r, ny);
    const int64_t m9 = 1710046800000;  /* 2024-03-10T05:00Z, midnight EST */
    const int64_t m10 = 1710129600000; /* 2024-03-11T04:00Z, midnight EDT: 23 h later */
    const int64_t n3 = 1730606400000;  /* 2024-11-03T04:00Z, midnight EDT */
    const int64_t n4 = 1730696400000;  /* 2024-11-04T05:00Z, midnight EST: 25 h later */
    assert_int_equal(tp_rollup_bucket(&r, m9), m9);
    assert_int_equal(tp_rollup_bucket(&r, m9 + 23 * 3600000 - 1), m9);
    assert_int_equal(tp_rollup_bucket(&r, m10), m10);
    assert_int_equal(tp_rollup_next(&r, m9), m10);
    assert_int_equal(tp_rollup_bucket(&r, n3 + 25 * 3600000 - 1), n3);
    assert_int_equal(tp_rollup_next(&r, n3), n4);
    assert_int_equal(tp_rollup_bucket(&r, m9 - 1), m9 - 24 * 3600000);
    tp_candle a = part(m9 + 22 * 3600000, 60, 1, 2, 1, 2, 1, 1.5, 1, m10 + 60000, 1, 0); /* 22:00 local */
    tp_candle b = part(m10 + 60000, 60, 3, 3, 3, 3, 1, 3, 1, m10 + 120000, 1, 0);
    tp_rollup_add(&r, &a);
    tp_rollup_add(&r, &b);
    tp_rollup_finish(&r);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.out[0].start_ms, m9);
    assert_int_equal(r.out[1].start_ms, m10);
    assert_int_equal(r.out[0].final, 1); /* ended (23 h) before its part's update */
    tp_query q = {.symbol = "X", .from_ms = m9 + 1000, .to_ms = m10 + 1000, .limit = 2, .interval_s = 86400};
    tp_query base;
    tp_rollup_query(&r, &q, 500000, &base);
    assert_int_equal(base.from_ms, m9);
    assert_int_equal(base.to_ms, m10 + 24 * 3600000);
    assert_int_equal(base.limit, 3 * 1500); /* (limit + 1) buckets of up to 25 h of minutes */
    tp_rollup_free(&r);
    tp_tz_free(ny);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_interval), cmocka_unit_test(test_fold),
        cmocka_unit_test(test_final_rule),     cmocka_unit_test(test_alignment),
        cmocka_unit_test(test_query_and_trim), cmocka_unit_test(test_tz_days),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
