/* trade_ids.c - see trade_ids.h. */
#include "kafka/trade_ids.h"

#include "core/err.h"

#include <inttypes.h>
#include <stdio.h>

int tp_trade_ids_encode(const tp_trade *t, const uint32_t *idx, size_t n, tp_buf *out) {
    int any = 0;
    for (size_t i = 0; i < n && !any; i++) any = t[idx ? idx[i] : i].trade_id != 0;
    if (!any) return 0;
    for (size_t i = 0; i < n; i++) {
        char num[24];
        int len = snprintf(num, sizeof num, "%s%" PRId64, i ? "," : "", t[idx ? idx[i] : i].trade_id);
        if (tp_buf_append(out, num, (size_t)len)) return TP_ENOMEM;
    }
    return 1;
}

/* One item: an optional '-' and 1-19 digits within int64. */
static int parse_item(const char *p, size_t len, int64_t *out) {
    int neg = len && p[0] == '-';
    if (len <= (size_t)neg || len - (size_t)neg > 19) return -1;
    uint64_t x = 0;
    for (size_t i = (size_t)neg; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') return -1;
        x = x * 10 + (uint64_t)(p[i] - '0'); /* 19 digits: no overflow of uint64 */
    }
    if (x > (uint64_t)INT64_MAX + (uint64_t)neg) return -1;
    *out = neg ? (int64_t)(0 - x) : (int64_t)x;
    return 0;
}

int tp_trade_ids_apply(const void *val, size_t len, tp_trade *t, size_t n, char *err, size_t errlen) {
    const char *p = val;
    size_t items = len ? 1 : 0;
    for (size_t i = 0; i < len; i++) items += p[i] == ',';
    if (items != n)
        return tp_seterr(err, errlen, TP_EPARSE,
                         "the " TP_TRADE_IDS_HEADER " header lists %zu ids, the record holds %zu trades",
                         items, n);
    for (size_t i = 0, start = 0; i < n; i++) {
        size_t end = start;
        while (end < len && p[end] != ',') end++;
        int64_t v;
        if (parse_item(p + start, end - start, &v))
            return tp_seterr(err, errlen, TP_EPARSE,
                             "the " TP_TRADE_IDS_HEADER " header's id %zu is not a decimal 64-bit integer",
                             i + 1);
        start = end + 1;
    }
    for (size_t i = 0, start = 0; i < n; i++) { /* all valid: set them */
        size_t end = start;
        while (end < len && p[end] != ',') end++;
        parse_item(p + start, end - start, &t[i].trade_id);
        start = end + 1;
    }
    return 0;
}
