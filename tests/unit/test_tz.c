/* test_tz.c - time zones from TZif files (core/tz.h) against glibc's own
 * reading of the same files (localtime_r's tm_gmtoff with TZ set; this test
 * is single-threaded): random instants from 1970 to 2100 in zones with DST
 * north and south, half-hour and 45-minute offsets, and a footer-only zone
 * (no transitions: every offset from the POSIX TZ string). Bad names and
 * bad files are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/err.h"
#include "core/tz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t g_x = 0x9E3779B97F4A7C15ULL;
static uint64_t rnd(void) {
    g_x ^= g_x >> 12, g_x ^= g_x << 25, g_x ^= g_x >> 27;
    return g_x * 2685821657736338717ULL;
}

static long glibc_offset(const char *zone, time_t t) {
    setenv("TZ", zone, 1);
    tzset();
    struct tm tm;
    localtime_r(&t, &tm);
    return tm.tm_gmtoff;
}

static void against_glibc(const char *zone, int64_t from_s, int64_t to_s, int n) {
    char err[256];
    tp_tz *z;
    if (tp_tz_open(zone, &z, err, sizeof err)) fail_msg("%s: %s", zone, err);
    char tzval[128];
    snprintf(tzval, sizeof tzval, ":%s", zone);
    for (int i = 0; i < n; i++) {
        int64_t t = from_s + (int64_t)(rnd() % (uint64_t)(to_s - from_s));
        long want = glibc_offset(tzval, (time_t)t);
        int32_t got = tp_tz_offset(z, t * 1000 + (int64_t)(rnd() % 1000));
        if (got != want) fail_msg("%s at %lld: %d, glibc %ld", zone, (long long)t, got, want);
    }
    tp_tz_free(z);
}

static void test_zones(void **st) {
    (void)st;
    const char *zones[] = {
        "America/New_York", "Europe/London",    "Asia/Kolkata",   "Australia/Lord_Howe", "America/Santiago",
        "Pacific/Chatham",  "America/St_Johns", "Asia/Kathmandu", "Europe/Berlin",       "UTC",
        "Etc/GMT+5",        "Australia/Sydney"};
    for (size_t i = 0; i < sizeof zones / sizeof zones[0]; i++) {
        against_glibc(zones[i], 0, 4102444800LL, 20000); /* 1970 to 2100: past 2037, the footer's years */
        /* every quarter hour of 2024 and of 2040, so every transition itself */
        against_glibc(zones[i], 1704067200LL, 1735689600LL, 5000);
        against_glibc(zones[i], 2208988800LL, 2240611200LL, 5000);
    }
}

/* a zone with no transitions at all: every offset from its footer */
static void test_footer_only(void **st) {
    (void)st;
    static const char tzs[] = "\nEST5EDT,M3.2.0,M11.1.0\n";
    unsigned char f[200];
    memset(f, 0, sizeof f);
    /* version 1 header with no data, then version 2 header: one type (EST), 4 chars of names */
    memcpy(f, "TZif2", 5);
    memcpy(f + 44, "TZif2", 5);
    f[44 + 39] = 1; /* typecnt */
    f[44 + 43] = 4; /* charcnt */
    unsigned char *d = f + 88;
    int32_t est = -18000;
    d[0] = (unsigned char)((uint32_t)est >> 24), d[1] = (unsigned char)((uint32_t)est >> 16),
    d[2] = (unsigned char)((uint32_t)est >> 8), d[3] = (unsigned char)est;
    memcpy(d + 6, "EST", 4);
    memcpy(d + 10, tzs, sizeof tzs - 1);
    size_t len = 88 + 10 + sizeof tzs - 1;
    tp_tz *z;
    char err[128];
    if (tp_tz_parse(f, len, &z, err, sizeof err)) fail_msg("%s", err);
    for (int i = 0; i < 20000; i++) {
        int64_t t = 1199145600LL +
                    (int64_t)(rnd() % (4102444800ULL - 1199145600ULL)); /* 2008-2100: today's US rules */
        long want = glibc_offset(":America/New_York", (time_t)t);
        if (tp_tz_offset(z, t * 1000) != want)
            fail_msg("footer at %lld: %d, want %ld", (long long)t, tp_tz_offset(z, t * 1000), want);
    }
    tp_tz_free(z);
    /* truncations and garbage are refused, never read past */
    for (size_t cut = 0; cut < len - sizeof tzs + 1; cut++) {
        tp_tz *y = NULL;
        if (!tp_tz_parse(f, cut, &y, err, sizeof err)) fail_msg("accepted %zu bytes", cut);
        assert_null(y);
    }
    unsigned char bad[sizeof f];
    memcpy(bad, f, sizeof f);
    memcpy(bad + 98, "\nEST5EDT,M13.2.0,M11.1.0\n", 25);
    assert_int_equal(tp_tz_parse(bad, 98 + 25, &z, err, sizeof err), TP_EINVAL);
}

static void test_names(void **st) {
    (void)st;
    const char *bad[] = {"",
                         "../etc/passwd",
                         "America/../../etc/passwd",
                         "/etc/localtime",
                         "America/",
                         "America//New_York",
                         "America/New York",
                         "Nowhere/Special",
                         "America/New_York\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tp_tz *z = NULL;
        char err[256];
        if (tp_tz_open(bad[i], &z, err, sizeof err) != TP_EINVAL) fail_msg("accepted '%s'", bad[i]);
        assert_null(z);
        assert_true(strlen(err) > 10);
    }
}

/* a leap-second zone (right/...) would put midnights up to 27 s off: refused */
static void test_leap_zone(void **st) {
    (void)st;
    FILE *f = fopen("/usr/share/zoneinfo/right/UTC", "rb");
    if (!f) skip(); /* not every tzdata ships the right/ tree */
    fclose(f);
    tp_tz *z = NULL;
    char err[256];
    assert_int_equal(tp_tz_open("right/UTC", &z, err, sizeof err), TP_EINVAL);
    assert_null(z);
    assert_non_null(strstr(err, "leap-second"));
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_zones), cmocka_unit_test(test_footer_only),
                                       cmocka_unit_test(test_names), cmocka_unit_test(test_leap_zone)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
