/* iso_time.c - ISO 8601 / RFC 3339 times (iso_time.h). Days from the civil
 * date by Howard Hinnant's algorithm, so no time zone or locale is read. */
#include "core/iso_time.h"

#include <stdio.h>

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
int64_t tp_days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void tp_civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int is_leap(int64_t y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* n digits at s into *v; 0, or -1 if any is not a digit */
static int digits_at(const char *s, int n, int *v) {
    int x = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        x = x * 10 + (s[i] - '0');
    }
    *v = x;
    return 0;
}

int tp_rfc3339_to_ms(const char *s, size_t n, int64_t *ms) {
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int Y, M, D, h, mi, sec;
    /* YYYY-MM-DDTHH:MM:SS is 19 characters */
    if (!s || n < 20) return -1;
    if (digits_at(s, 4, &Y) || s[4] != '-' || digits_at(s + 5, 2, &M) || s[7] != '-' ||
        digits_at(s + 8, 2, &D) || (s[10] != 'T' && s[10] != 't') || digits_at(s + 11, 2, &h) ||
        s[13] != ':' || digits_at(s + 14, 2, &mi) || s[16] != ':' || digits_at(s + 17, 2, &sec))
        return -1;
    if (Y < 1 || M < 1 || M > 12 || D < 1) return -1;
    int dim = mdays[M - 1] + (M == 2 && is_leap(Y));
    if (D > dim || h > 23 || mi > 59 || sec > 59) return -1;
    size_t i = 19;
    int64_t frac_ms = 0;
    if (i < n && s[i] == '.') {
        i++;
        size_t f0 = i;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (i - f0 < 3) frac_ms = frac_ms * 10 + (s[i] - '0');
            i++;
        }
        size_t nf = i - f0;
        if (nf == 0 || nf > 9) return -1;
        for (size_t k = nf; k < 3; k++) frac_ms *= 10;
    }
    int64_t off_min = 0;
    if (i + 1 == n && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i + 6 == n && (s[i] == '+' || s[i] == '-')) {
        int oh, om;
        if (digits_at(s + i + 1, 2, &oh) || s[i + 3] != ':' || digits_at(s + i + 4, 2, &om) || oh > 23 ||
            om > 59)
            return -1;
        off_min = (int64_t)oh * 60 + om;
        if (s[i] == '-') off_min = -off_min;
        i += 6;
    } else {
        return -1;
    }
    int64_t days = tp_days_from_civil(Y, M, D);
    int64_t secs = days * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60 + sec - off_min * 60;
    *ms = secs * 1000 + frac_ms;
    return 0;
}

int tp_ms_to_rfc3339(int64_t ms, char *out, size_t outlen) {
    /* 0001-01-01 .. 9999-12-31 */
    if (ms < -62135596800000LL || ms > 253402300799999LL) return -1;
    int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    int frac = (int)(ms - secs * 1000);
    int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    int64_t rem = secs - days * 86400;
    int64_t y;
    int m, d;
    tp_civil_from_days(days, &y, &m, &d);
    int n = snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%03d000Z", (int)y, m, d, (int)(rem / 3600),
                     (int)(rem / 60 % 60), (int)(rem % 60), frac);
    if (n < 0 || (size_t)n >= outlen) return -1;
    return n;
}

/* n digits at s[*i] into *v */
static int digits(const char *s, size_t len, size_t *i, int n, int *v) {
    int x = 0;
    for (int k = 0; k < n; k++, (*i)++) {
        if (*i >= len || s[*i] < '0' || s[*i] > '9') return -1;
        x = x * 10 + (s[*i] - '0');
    }
    *v = x;
    return 0;
}

static int month_days(int y, int m) {
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : d[m - 1];
}

int tp_iso_parse(const char *s, size_t len, int64_t *out) {
    size_t i = 0;
    int y, mo, d, h = 0, mi = 0, sec = 0, msec = 0;
    if (digits(s, len, &i, 4, &y) || i >= len || s[i++] != '-' || digits(s, len, &i, 2, &mo) || i >= len ||
        s[i++] != '-' || digits(s, len, &i, 2, &d))
        return -1;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo)) return -1;
    int64_t off_min = 0;
    if (i < len) {
        if (s[i] != 'T' && s[i] != 't' && s[i] != ' ') return -1;
        i++;
        if (digits(s, len, &i, 2, &h) || i >= len || s[i++] != ':' || digits(s, len, &i, 2, &mi)) return -1;
        if (i < len && s[i] == ':') {
            i++;
            if (digits(s, len, &i, 2, &sec)) return -1;
            if (i < len && (s[i] == '.' || s[i] == ',')) {
                i++;
                int n = 0, scale = 100;
                for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, n++) {
                    if (n < 3) msec += (s[i] - '0') * scale, scale /= 10;
                }
                if (n < 1 || n > 9) return -1;
            }
        }
        if (h > 23 || mi > 59 || sec > 60) return -1;
        if (sec == 60) sec = 59, msec = 999;
        if (i >= len) return -1; /* no zone */
        if (s[i] == 'Z' || s[i] == 'z') {
            i++;
        } else if (s[i] == '+' || s[i] == '-') {
            int sign = s[i++] == '-' ? -1 : 1, oh, om;
            if (digits(s, len, &i, 2, &oh) || i >= len || s[i++] != ':' || digits(s, len, &i, 2, &om))
                return -1;
            if (oh > 23 || om > 59) return -1;
            off_min = sign * (oh * 60 + om);
        } else {
            return -1;
        }
        if (i != len) return -1;
    }
    int64_t days = tp_days_from_civil(y, mo, d);
    int64_t ms = ((days * 24 + h) * 60 + mi - off_min) * 60000 + (int64_t)sec * 1000 + msec;
    if (ms < 0) return -1;
    *out = ms;
    return 0;
}

char *tp_iso_format(int64_t ms, char *out, size_t outlen) {
    int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
    int64_t rem = ms - days * 86400000;
    int64_t y;
    int m, d;
    tp_civil_from_days(days, &y, &m, &d);
    snprintf(out, outlen, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ", (long long)y, m, d, (int)(rem / 3600000),
             (int)(rem / 60000 % 60), (int)(rem / 1000 % 60), (int)(rem % 1000));
    return out;
}
