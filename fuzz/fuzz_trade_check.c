/* fuzz_trade_check.c - the door (core/trade_check.h) on arbitrary trades.
 *
 * The input's first 32 bytes are the price, volume, event and receive
 * times (raw doubles and integers: NaN, infinities, INT64_MIN included),
 * the rest the symbol's bytes. The verdict must agree with an independent
 * restatement of the rules: the value rules by plain comparisons, and the
 * symbol rule by mbrtowc(3) in the C.UTF-8 locale (glibc's UTF-8 decoder)
 * with the printable-character rule and RFC 3629's range restated on the
 * code points. */
#include "core/trade_check.h"

#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

static int symbol_ok(const uint8_t *p, size_t len) {
    if (len == 0 || len > TP_SYMBOL_MAX || p[0] == ' ' || p[len - 1] == ' ') return 0;
    mbstate_t st;
    memset(&st, 0, sizeof st);
    for (size_t i = 0; i < len;) {
        wchar_t wc;
        size_t n = mbrtowc(&wc, (const char *)p + i, len - i, &st);
        if (n == (size_t)-1 || n == (size_t)-2 || n == 0) return 0;
        uint32_t cp = (uint32_t)wc;
        if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp == 0x2028 || cp == 0x2029) return 0;
        if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return 0; /* RFC 3629 (glibc takes up to 2^31) */
        i += n;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int init;
    if (!init) {
        if (!setlocale(LC_CTYPE, "C.UTF-8")) abort();
        init = 1;
    }
    if (size < 32) return 0;
    double price, volume;
    int64_t ts, recv;
    memcpy(&price, data, 8);
    memcpy(&volume, data + 8, 8);
    memcpy(&ts, data + 16, 8);
    memcpy(&recv, data + 24, 8);
    recv = recv % 4102444800000LL; /* a receive time is a clock reading: 0 .. year 2100 */
    if (recv < 0) recv = -recv;
    const uint8_t *sym = data + 32;
    size_t len = size - 32;
    tp_trade t;
    memset(&t, 0, sizeof t);
    t.symbol = (tp_str){(const char *)sym, (uint32_t)len};
    t.price = price;
    t.volume = volume;
    t.ts_ms = ts;
    tp_trade_limits l;
    tp_trade_limits_default(&l);
    tp_reject got = tp_trade_check(&t, recv, &l);
    int want_sym = symbol_ok(sym, len);
    if ((tp_symbol_check((const char *)sym, len) == TP_REJECT_NONE) != want_sym) {
        fprintf(stderr, "symbol verdict differs from mbrtowc's (%zu bytes)\n", len);
        abort();
    }
    tp_reject want = TP_REJECT_NONE;
    if (!want_sym)
        want = len == 0              ? TP_REJECT_SYMBOL_EMPTY
               : len > TP_SYMBOL_MAX ? TP_REJECT_SYMBOL_LONG
                                     : TP_REJECT_SYMBOL_CHARS;
    else if (!(isfinite(price) && price > 0))
        want = TP_REJECT_PRICE;
    else if (!(isfinite(volume) && volume >= 0))
        want = TP_REJECT_VOLUME;
    else if ((__int128)ts < (__int128)recv - l.max_age_ms)
        want = TP_REJECT_TIME_PAST;
    else if ((__int128)ts > (__int128)recv + l.max_ahead_ms)
        want = TP_REJECT_TIME_FUTURE;
    if (got != want) {
        fprintf(stderr, "verdict %s, want %s\n", tp_reject_name(got), tp_reject_name(want));
        abort();
    }
    return 0;
}
