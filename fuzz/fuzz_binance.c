/* fuzz_binance.c - the Binance feed's message parser (feed/binance.c).
 *
 * Any input: parse returns 0 or an error with the batch left as it was
 * (one trade already in it, untouched); on success, the kind and trades
 * are consistent: a trade message adds exactly one trade, with a
 * "BINANCE:" symbol of letters and digits, finite price and volume at
 * least 0, a positive trade id and time; other kinds add none. */
#include "feed/feed.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((noreturn)) static void die(const char *what) {
    fprintf(stderr, "fuzz_binance: %s\n", what);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const tp_feed_ops *f;
    if (!f && !(f = tp_feed_find("binance"))) die("no binance feed");
    tp_batch b;
    tp_batch_init(&b);
    tp_trade *first = tp_batch_add(&b);
    first->symbol.ptr = tp_batch_strdup(&b, "X", 1);
    first->symbol.len = 1;
    first->price = 7;
    tp_msg_info info;
    char err[256];
    int rc = f->parse((const char *)data, size, &b, &info, err, sizeof err);
    if (rc) {
        if (b.n != 1 || b.trades[0].price != 7 || b.trades[0].symbol.len != 1) die("batch changed on error");
        if (!err[0]) die("error without words");
    } else if (info.type == TP_MSG_TRADE) {
        if (b.n != 2 || info.ntrades != 1) die("a trade message adds one trade");
        const tp_trade *t = &b.trades[1];
        if (t->symbol.len <= 8 || memcmp(t->symbol.ptr, "BINANCE:", 8)) die("symbol without prefix");
        for (uint32_t i = 8; i < t->symbol.len; i++)
            if (!isalnum((unsigned char)t->symbol.ptr[i])) die("symbol character");
        if (!isfinite(t->price) || !isfinite(t->volume) || t->price < 0 || t->volume < 0)
            die("price or volume");
        if (t->trade_id <= 0 || t->ts_ms <= 0) die("trade id or time");
    } else {
        if (b.n != 1) die("a non-trade message adds trades");
        if ((info.type == TP_MSG_ERROR || info.type == TP_MSG_UNKNOWN) && !info.text.ptr) die("no text");
    }
    tp_batch_free(&b);
    return 0;
}
