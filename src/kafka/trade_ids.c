/* trade_ids.c - see trade_ids.h. */
#include "kafka/trade_ids.h"

#include "core/err.h"

int tp_trade_ids_encode(const tp_trade *t, const uint32_t *idx, size_t n, tp_buf *out) {
    int any = 0;
    for (size_t i = 0; i < n && !any; i++) any = t[idx ? idx[i] : i].trade_id != 0;
    if (!any) return 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t v = (uint64_t)t[idx ? idx[i] : i].trade_id;
        unsigned char be[8];
        for (int k = 0; k < 8; k++) be[k] = (unsigned char)(v >> (56 - 8 * k));
        if (tp_buf_append(out, be, sizeof be)) return TP_ENOMEM;
    }
    return 1;
}

int tp_trade_ids_apply(const void *val, size_t len, tp_trade *t, size_t n, char *err, size_t errlen) {
    if (len % 8 || len / 8 != n)
        return tp_seterr(err, errlen, TP_EPARSE,
                         "the " TP_TRADE_IDS_HEADER " header holds %zu bytes, not 8 for each of the record's %zu "
                         "trades",
                         len, n);
    const unsigned char *p = val;
    for (size_t i = 0; i < n; i++, p += 8) {
        uint64_t v = 0;
        for (int k = 0; k < 8; k++) v = v << 8 | p[k];
        t[i].trade_id = (int64_t)v;
    }
    return 0;
}
