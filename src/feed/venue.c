/* venue.c - shared pieces of the crypto venues' feeds (venue.h). */
#include "feed/venue.h"

#include "core/err.h"
#include "core/iso_time.h"
#include "core/json_str.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
