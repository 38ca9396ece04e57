/* fuzz_trade_ids.c - the tp-trade-ids header (kafka/trade_ids.h) on
 * arbitrary bytes: the first byte is the record's trade count (0-255), the
 * rest the header value. An accepted value lists one id per trade (count
 * - 1 commas); its ids encoded again parse to the same ids, in no more
 * bytes (the encoding is the canonical form); a refused value leaves the
 * trades untouched and says why. Any disagreement aborts. */
#include "kafka/trade_ids.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    size_t n = data[0];
    const char *val = (const char *)data + 1;
    size_t len = size - 1;
    static tp_trade t[256], u[256];
    memset(t, 0, sizeof t);
    for (size_t i = 0; i < n; i++) t[i].trade_id = 0x5a5a5a5a;
    char err[256] = "";
    if (tp_trade_ids_apply(val, len, t, n, err, sizeof err)) {
        for (size_t i = 0; i < n; i++)
            if (t[i].trade_id != 0x5a5a5a5a) abort();
        if (!err[0]) abort();
        return 0;
    }
    size_t commas = 0;
    for (size_t i = 0; i < len; i++) commas += val[i] == ',';
    if (n ? commas != n - 1 : len != 0) abort();
    tp_buf b = {0};
    int any = tp_trade_ids_encode(t, NULL, n, &b);
    if (any < 0) abort(); /* out of memory */
    if (any) {
        if (b.len > len) abort();
        memset(u, 0, sizeof u);
        if (tp_trade_ids_apply(b.p, b.len, u, n, err, sizeof err)) abort();
        for (size_t i = 0; i < n; i++)
            if (u[i].trade_id != t[i].trade_id) abort();
    } else {
        for (size_t i = 0; i < n; i++)
            if (t[i].trade_id) abort();
    }
    tp_buf_free(&b);
    return 0;
}
