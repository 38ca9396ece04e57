/* market_hours.c - see market_hours.h. */
#include "feed/market_hours.h"

#include "core/iso_time.h"

#include <string.h>

static int64_t year_of_days(int64_t z) {
    int64_t y;
    int m, d;
    tp_civil_from_days(z, &y, &m, &d);
    return y;
}
static int64_t floor_div(int64_t a, int64_t b) {
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}
/* 0 = Sunday .. 6 = Saturday; 1970-01-01 was a Thursday. */
static int weekday(int64_t days) {
    return (int)(((days % 7) + 11) % 7);
}
/* The day of the n-th (1-based) Sunday of month m of year y. */
static int64_t nth_sunday(int64_t y, int m, int n) {
    int64_t first = tp_days_from_civil(y, m, 1);
    return first + (7 - weekday(first)) % 7 + 7 * (n - 1);
}

int tp_market_hours_us_open(int64_t utc_ms) {
    const int64_t h = 3600000;
    int64_t year = year_of_days(floor_div(utc_ms, 86400000));
    /* 02:00 EST = 07:00 UTC, 02:00 EDT = 06:00 UTC */
    int64_t dst_from = nth_sunday(year, 3, 2) * 86400000 + 7 * h;
    int64_t dst_to = nth_sunday(year, 11, 1) * 86400000 + 6 * h;
    int64_t local = utc_ms + (utc_ms >= dst_from && utc_ms < dst_to ? -4 : -5) * h;
    int64_t day = floor_div(local, 86400000);
    int wd = weekday(day);
    int64_t minute = (local - day * 86400000) / 60000;
    return wd >= 1 && wd <= 5 && minute >= 9 * 60 + 30 && minute < 16 * 60;
}

int tp_market_hours_is_stock(const char *symbol, size_t len) {
    return len > 0 && !memchr(symbol, ':', len);
}

/* New York's offsets are whole hours and the session runs from 09:30 to
 * 16:00, so every UTC half hour is open or closed as a whole: the span is
 * judged by the half hours it touches. Any 7 days hold a weekday session. */
int tp_market_hours_expected(const char *symbol, size_t len, int64_t from_ms, int64_t to_ms) {
    if (!tp_market_hours_is_stock(symbol, len)) return 1;
    const int64_t half = 1800000;
    if (to_ms - from_ms > 7 * 86400000LL) return 1;
    if (to_ms <= from_ms + 1) return 0; /* nothing lies strictly between */
    for (int64_t k = floor_div(from_ms + 1, half); k <= floor_div(to_ms - 1, half); k++)
        if (tp_market_hours_us_open(k * half)) return 1;
    return 0;
}
