/* venue.c - shared pieces of the crypto venues' feeds (venue.h). */
#include "feed/venue.h"

#include "core/err.h"
#include "core/json_str.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
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
static int digits(const char *s, int n, int *v) {
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
    if (digits(s, 4, &Y) || s[4] != '-' || digits(s + 5, 2, &M) || s[7] != '-' || digits(s + 8, 2, &D) ||
        (s[10] != 'T' && s[10] != 't') || digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) ||
        s[16] != ':' || digits(s + 17, 2, &sec))
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
        if (digits(s + i + 1, 2, &oh) || s[i + 3] != ':' || digits(s + i + 4, 2, &om) || oh > 23 || om > 59)
            return -1;
        off_min = (int64_t)oh * 60 + om;
        if (s[i] == '-') off_min = -off_min;
        i += 6;
    } else {
        return -1;
    }
    int64_t days = days_from_civil(Y, M, D);
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
    civil_from_days(days, &y, &m, &d);
    int n = snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%03d000Z", (int)y, m, d, (int)(rem / 3600),
                     (int)(rem / 60 % 60), (int)(rem % 60), frac);
    if (n < 0 || (size_t)n >= outlen) return -1;
    return n;
}

int tp_decimal_str_to_double(const char *s, size_t n, double *out) {
    if (!s || n == 0 || n > 64) return -1;
    size_t i = 0, d0;
    while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    if (i == 0) return -1;
    if (i < n) {
        if (s[i] != '.') return -1;
        d0 = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
        if (i == d0 || i != n) return -1;
    }
    char buf[72];
    memcpy(buf, s, n);
    buf[n] = '\0';
    /* the grammar above is locale-proof except for the decimal point:
       tickpipe runs in the C locale, where strtod reads '.' */
    char *end;
    double v = strtod(buf, &end);
    if (end != buf + n || !isfinite(v) || v >= 1e40) return -1;
    *out = v;
    return 0;
}

int tp_double_to_decimal_str(double x, char *out, size_t outlen) {
    if (!isfinite(x) || x < 0 || x >= 1e40) return -1;
    char buf[160];
    for (int prec = 0; prec <= 70; prec++) {
        int n = snprintf(buf, sizeof buf, "%.*f", prec, x);
        if (n < 0 || (size_t)n >= sizeof buf) return -1;
        if (n > 64) return -1;
        if (strtod(buf, NULL) == x) {
            if ((size_t)n >= outlen) return -1;
            memcpy(out, buf, (size_t)n + 1);
            return n;
        }
    }
    return -1;
}

int tp_double_to_json_number(double x, char *out, size_t outlen) {
    if (!isfinite(x)) return -1;
    char buf[40];
    int n = -1;
    for (int prec = 1; prec <= 17; prec++) {
        n = snprintf(buf, sizeof buf, "%.*g", prec, x);
        if (strtod(buf, NULL) == x) break;
    }
    if (n < 0 || (size_t)n + 3 > sizeof buf) return -1;
    if (!strpbrk(buf, ".eE")) {
        memcpy(buf + n, ".0", 3);
        n += 2;
    }
    if ((size_t)n >= outlen) return -1;
    memcpy(out, buf, (size_t)n + 1);
    return n;
}

json_t *tp_venue_json_load(const char *msg, size_t len, int *ints_as_real, char *err, size_t errlen) {
    *ints_as_real = 0;
    const char *nul = memchr(msg, '\0', len);
    if (nul) {
        tp_seterr(err, errlen, TP_EPARSE, "invalid JSON at byte %zu: NUL byte", (size_t)(nul - msg));
        return NULL;
    }
    json_error_t je;
    json_t *root = json_loadb(msg, len, JSON_REJECT_DUPLICATES, &je);
    if (!root && json_error_code(&je) == json_error_numeric_overflow) {
        root = json_loadb(msg, len, JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, &je);
        if (root) *ints_as_real = 1;
    }
    if (!root) tp_seterr(err, errlen, TP_EPARSE, "invalid JSON at byte %d: %s", je.position, je.text);
    return root;
}

int tp_venue_ci_contains(const char *hay, size_t len, const char *needle) {
    size_t n = strlen(needle);
    if (!hay) return 0;
    for (size_t i = 0; i + n <= len; i++) {
        size_t j = 0;
        while (j < n && tolower((unsigned char)hay[i + j]) == needle[j]) j++;
        if (j == n) return 1;
    }
    return 0;
}

int tp_venue_symbol_list(const char *const *symbols, size_t n, const char *prefix, char *out, size_t outlen,
                         size_t *o) {
    size_t pl = prefix ? strlen(prefix) : 0;
    for (size_t i = 0; i < n; i++) {
        const char *s = symbols[i];
        if (pl && !strncmp(s, prefix, pl)) s += pl;
        size_t need = 3 + (i ? 1 : 0);
        if (*o + need > outlen) return -1;
        if (i) out[(*o)++] = ',';
        out[(*o)++] = '"';
        size_t e = tp_json_escape_to(out + *o, outlen - *o, s, strlen(s), 0);
        if (e + 2 > outlen - *o) return -1;
        *o += e;
        out[(*o)++] = '"';
    }
    return 0;
}

int tp_venue_put(char *out, size_t outlen, size_t *o, const char *fmt, ...) {
    if (*o >= outlen) return -1;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out + *o, outlen - *o, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= outlen - *o) return -1;
    *o += (size_t)n;
    return 0;
}

int tp_venue_put_esc(char *out, size_t outlen, size_t *o, const char *s, size_t n) {
    if (*o >= outlen) return -1;
    size_t e = tp_json_escape_to(out + *o, outlen - *o, s, n, 0);
    if (e >= outlen - *o) return -1;
    *o += e;
    return 0;
}

const char *tp_venue_strip(const char *s, size_t *n, const char *prefix) {
    size_t pl = strlen(prefix);
    if (*n >= pl && !memcmp(s, prefix, pl)) {
        *n -= pl;
        return s + pl;
    }
    return s;
}
