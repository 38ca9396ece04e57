/* avro_fixtures.h - messages covering every shape the Avro codec must keep
 * apart (c null / [] / strings / null items, unicode, extreme numbers),
 * shared by tests/unit/test_avro.c and tests/tools/avro_dump.c. */
#ifndef TP_AVRO_FIXTURES_H
#define TP_AVRO_FIXTURES_H

#include "core/trade.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#define S(lit) ((tp_str){lit, (uint32_t)(sizeof(lit) - 1)})
#define SNULL ((tp_str){NULL, 0})

static const tp_str fx_cond_a[] = {S("1"), S("12")};
static const tp_str fx_cond_b[] = {SNULL};
static const tp_str fx_cond_c[] = {S("a"), SNULL, S(""), S("\xc3\xa9t\xc3\xa9"), SNULL};
static const tp_str fx_cond_d[] = {S("x\0y")}; /* embedded NUL */

typedef struct fx_msg {
    const char *name;
    const char *type;
    size_t n;
    tp_trade trades[6];
} fx_msg;

#define TR(sym, p, t, v, nc, c)                                                                              \
    { .symbol = sym, .price = p, .ts_ms = t, .volume = v, .ncond = nc, .cond = c }

static const fx_msg fx_msgs[] = {
    {"one_trade_c_strings",
     "trade",
     1,
     {TR(S("BINANCE:BTCUSDT"), 7296.89, 1575526691134, 0.011467, 2, fx_cond_a)}},
    {"c_null", "trade", 1, {TR(S("AAPL"), 189.5, 1700000000000, 100, TP_COND_NULL, NULL)}},
    {"c_empty", "trade", 1, {TR(S("MSFT"), 1.0, 1, 0, 0, NULL)}},
    {"c_null_item", "trade", 1, {TR(S("IBM"), 2.5, 2, 3, 1, fx_cond_b)}},
    {"c_mixed", "trade", 1, {TR(S("OANDA:EUR_USD"), 1.0855, 3, 0, 5, fx_cond_c)}},
    {"c_embedded_nul", "trade", 1, {TR(S("NUL"), 1.0, 4, 1, 1, fx_cond_d)}},
    {"unicode_symbols",
     "trade",
     3,
     {TR(S("\xe6\xa0\xaa:7203"), 1.0, 5, 1, TP_COND_NULL, NULL),
      TR(S("\xf0\x9f\x9a\x80MOON"), 2.0, 6, 2, 0, NULL), TR(S(""), 0, 0, 0, TP_COND_NULL, NULL)}},
    {"extreme_numbers",
     "trade",
     6,
     {TR(S("MAX"), DBL_MAX, INT64_MAX, -DBL_MAX, TP_COND_NULL, NULL),
      TR(S("MIN"), DBL_MIN, INT64_MIN, 4.9406564584124654e-324, 0, NULL),
      TR(S("ZERO"), -0.0, 0, 0.0, 0, NULL), TR(S("NEG"), -1.5, -1, -1e-300, 0, NULL),
      TR(S("INF"), INFINITY, 63, -INFINITY, 0, NULL), TR(S("NAN"), NAN, 64, 0.1, 0, NULL)}},
    {"mixed_shapes",
     "trade",
     4,
     {TR(S("A"), 1, 10, 1, TP_COND_NULL, NULL), TR(S("B"), 2, 20, 2, 0, NULL),
      TR(S("C"), 3, 30, 3, 2, fx_cond_a), TR(S("D"), 4, 40, 4, 5, fx_cond_c)}},
    {.name = "no_trades_ping", .type = "ping", .n = 0},
    {.name = "no_trades_empty_type", .type = "", .n = 0},
    {"unicode_type", "\xc3\xa9v\xc3\xa9nement", 1, {TR(S("X"), 1, 1, 1, TP_COND_NULL, NULL)}},
};
#define FX_NMSGS (sizeof(fx_msgs) / sizeof(fx_msgs[0]))

/* Deterministic pseudo-random large batch (xorshift), every shape of c. */
static inline uint64_t fx_rand(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static inline void fx_big_batch(tp_batch *b, size_t n, uint64_t seed) {
    static const char *syms[] = {"AAPL", "MSFT", "BINANCE:BTCUSDT", "OANDA:EUR_USD", "\xe6\xa0\xaa:7203"};
    for (size_t i = 0; i < n; i++) {
        tp_trade *t = tp_batch_add(b);
        const char *sym = syms[fx_rand(&seed) % 5];
        t->symbol.ptr = tp_batch_strdup(b, sym, strlen(sym));
        t->symbol.len = (uint32_t)strlen(sym);
        t->price = (double)(fx_rand(&seed) % 10000000) / 100.0;
        t->volume = (double)(fx_rand(&seed) % 1000) / 7.0;
        t->ts_ms = 1700000000000 + (int64_t)i;
        int shape = (int)(fx_rand(&seed) % 4);
        if (shape == 0) {
            t->ncond = TP_COND_NULL;
        } else if (shape == 1) {
            t->ncond = 0;
        } else {
            int nc = 1 + (int)(fx_rand(&seed) % 4);
            tp_str *c = tp_batch_alloc(b, sizeof(tp_str) * (size_t)nc);
            for (int k = 0; k < nc; k++) {
                if (fx_rand(&seed) % 5 == 0) {
                    c[k] = (tp_str){NULL, 0};
                } else {
                    char tmp[16];
                    int l = snprintf(tmp, sizeof tmp, "%u", (unsigned)(fx_rand(&seed) % 100));
                    c[k] = (tp_str){tp_batch_strdup(b, tmp, (size_t)l), (uint32_t)l};
                }
            }
            t->ncond = nc;
            t->cond = c;
        }
    }
}

#endif
