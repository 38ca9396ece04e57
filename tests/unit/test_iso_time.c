/* test_iso_time.c - ISO 8601 times (core/iso_time.h): exact values, the
 * strict rules, and a round trip against glibc's timegm/gmtime_r over
 * random instants from 1970 to 9999. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/iso_time.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static int64_t parse(const char *s) {
    int64_t ms = -42;
    return tp_iso_parse(s, strlen(s), &ms) ? -1 : ms;
}

static void test_values(void **st) {
    (void)st;
    assert_int_equal(parse("2023-11-14T22:13:20Z"), 1700000000000);
    assert_int_equal(parse("2023-11-14T22:13:20.123Z"), 1700000000123);
    assert_int_equal(parse("2023-11-14T22:13:20.1239999Z"), 1700000000123); /* truncated */
    assert_int_equal(parse("2023-11-14T22:13:20.5+00:00"), 1700000000500);
    assert_int_equal(parse("2023-11-14T17:13:20-05:00"), 1700000000000);
    assert_int_equal(parse("2023-11-15T03:43:20+05:30"), 1700000000000);
    assert_int_equal(parse("2023-11-14 22:13:20Z"), 1700000000000);
    assert_int_equal(parse("2023-11-14t22:13z"), 1699999980000);
    assert_int_equal(parse("2023-11-14"), 1699920000000);
    assert_int_equal(parse("1970-01-01T00:00:00Z"), 0);
    assert_int_equal(parse("2024-02-29T00:00:00Z"), 1709164800000);
    assert_int_equal(parse("2016-12-31T23:59:60Z"), 1483228799999); /* a leap second */
    assert_int_equal(parse("9999-12-31T23:59:59.999Z"), INT64_C(253402300799999));
    const char *bad[] = {"",
                         "2023",
                         "2023-11",
                         "2023-11-14T",
                         "2023-11-14T22:13:20", /* no zone */
                         "2023-11-14T22:13:20+0500",
                         "2023-02-29",
                         "2023-13-01",
                         "2023-00-10",
                         "2023-04-31",
                         "1969-12-31T23:59:59Z",
                         "2023-11-14T24:00:00Z",
                         "2023-11-14T22:60:00Z",
                         "2023-11-14T22:13:61Z",
                         "2023-11-14T22:13:20.Z",
                         "2023-11-14T22:13:20.1234567890Z",
                         "2023-11-14T22:13:20Zjunk",
                         "2023-11-14T22:13:20+24:00",
                         "20231114T221320Z",
                         "+2023-11-14",
                         "2023-1-14"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (parse(bad[i]) != -1) fail_msg("accepted '%s'", bad[i]);
    }
    /* len bounds the text: no reading past it */
    int64_t ms;
    assert_int_equal(tp_iso_parse("2023-11-14T22:13:20Z", 10, &ms), 0);
    assert_int_equal(ms, 1699920000000);
    char b[40];
    assert_string_equal(tp_iso_format(1700000000123, b, sizeof b), "2023-11-14T22:13:20.123Z");
    assert_string_equal(tp_iso_format(0, b, sizeof b), "1970-01-01T00:00:00.000Z");
    assert_string_equal(tp_iso_format(INT64_C(253402300799999), b, sizeof b), "9999-12-31T23:59:59.999Z");
}

static void test_against_glibc(void **st) {
    (void)st;
    uint64_t x = 0x2545F4914F6CDD1DULL;
    for (int i = 0; i < 200000; i++) {
        x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
        int64_t ms = (int64_t)((x * 2685821657736338717ULL) % UINT64_C(253402300800000));
        time_t t = (time_t)(ms / 1000);
        struct tm tm;
        gmtime_r(&t, &tm);
        char want[96], got[40];
        snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
        tp_iso_format(ms, got, sizeof got);
        if (strcmp(want, got)) fail_msg("%lld: %s, glibc %s", (long long)ms, got, want);
        int64_t back;
        if (tp_iso_parse(got, strlen(got), &back) || back != ms)
            fail_msg("%s read back as %lld", got, (long long)back);
        assert_int_equal((int64_t)timegm(&tm) * 1000 + ms % 1000, ms);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_values), cmocka_unit_test(test_against_glibc)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
