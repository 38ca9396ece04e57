/* fuzz_trade_ids.c - the tp-trade-ids header (kafka/trade_ids.h) on
 * arbitrary bytes: the first byte is the record's trade count (0-255), the
 * rest the header value. It is accepted exactly when its length is 8 x the
 * count; an accepted value encoded again from the trades is the same
 * bytes (or, when every id is 0, no header at all); a refused one leaves
 * the trades untouched. Any disagreement aborts. */
#include "kafka/trade_ids.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    size_t n = data[0];
    const uint8_t *val = data + 1;
    size_t len = size - 1;
    tp_trade t[256];
    memset(t, 0, sizeof t);
    for (size_t i = 0; i < n; i++) t[i].trade_id = 0x5a5a5a5a;
    char err[256];
    int rc = tp_trade_ids_apply(val, len, t, n, err, sizeof err);
    if ((rc == 0) != (len == 8 * n)) abort();
    if (rc) {
        for (size_t i = 0; i < n; i++)
            if (t[i].trade_id != 0x5a5a5a5a) abort();
        if (!err[0]) abort();
        return 0;
    }
    tp_buf b = {0};
    int any = tp_trade_ids_encode(t, NULL, n, &b);
    if (any < 0) abort(); /* out of memory */
    if (any ? b.len != len || memcmp(b.p, val, len) : b.len != 0) abort();
    if (!any)
        for (size_t i = 0; i < len; i++)
            if (val[i]) abort();
    tp_buf_free(&b);
    return 0;
}
