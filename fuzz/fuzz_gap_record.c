/* fuzz_gap_record.c - the gap control record's header parser on arbitrary
 * headers (kafka/gap_record.h): the input is split at NUL bytes into the
 * values of the seven tp-gap headers and the two trade-id headers in order
 * (a missing piece = a missing header). An accepted record has a NUL-free
 * symbol that fits, to >= from, a known reason, no trade ids or a positive
 * ordered range, and its headers re-made with tp_gap_record_headers and
 * tp_gap_record_id_headers parse to the same row. Any disagreement aborts. */
#include "kafka/gap_record.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NH (TP_GAP_RECORD_NHEADERS + TP_GAP_RECORD_NID_HEADERS)
static const char *const k_names[NH] = {"tp-gap",
                                        "tp-gap-symbol",
                                        "tp-gap-from-ms",
                                        "tp-gap-to-ms",
                                        "tp-gap-reason",
                                        "tp-gap-detected-at-ms",
                                        "tp-gap-connection",
                                        "tp-gap-from-trade-id",
                                        "tp-gap-to-trade-id"};

typedef struct hdrs {
    const void *v[NH];
    size_t len[NH];
} hdrs;

typedef struct made_hdrs {
    tp_gap_header h[NH];
    size_t n;
} made_hdrs;

static int get(void *ud, const char *name, const void **val, size_t *len) {
    hdrs *h = ud;
    for (int i = 0; i < NH; i++)
        if (!strcmp(name, k_names[i]) && h->v[i]) {
            *val = h->v[i];
            *len = h->len[i];
            return 0;
        }
    return -1;
}

static int get_made(void *ud, const char *name, const void **val, size_t *len) {
    const made_hdrs *m = ud;
    for (size_t i = 0; i < m->n; i++)
        if (!strcmp(name, m->h[i].name)) {
            *val = m->h[i].value;
            *len = strlen(m->h[i].value);
            return 0;
        }
    return -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    hdrs h = {0};
    size_t pos = 0;
    for (int i = 0; i < NH && pos <= size; i++) {
        const uint8_t *end = memchr(data + pos, 0, size - pos);
        size_t n = end ? (size_t)(end - (data + pos)) : size - pos;
        h.v[i] = data + pos;
        h.len[i] = n;
        pos += n + 1;
    }
    tp_gap_row row;
    char sym[TP_GAP_RECORD_MAX_SYMBOL + 1], err[256];
    if (tp_gap_record_parse(get, &h, &row, sym, err, sizeof err)) return 0;
    if (!row.symbol.len || row.symbol.len > TP_GAP_RECORD_MAX_SYMBOL || memchr(sym, 0, row.symbol.len) ||
        row.to_ms < row.from_ms || !row.reason || row.connection < 0)
        abort();
    if ((row.from_trade_id || row.to_trade_id) &&
        (row.from_trade_id <= 0 || row.to_trade_id < row.from_trade_id))
        abort();
    tp_feed_gap g = {.symbol = sym,
                     .from_ms = row.from_ms,
                     .to_ms = row.to_ms,
                     .detected_at_ms = row.detected_at_ms,
                     .connection = row.connection,
                     .from_trade_id = row.from_trade_id,
                     .to_trade_id = row.to_trade_id};
    for (int r = TP_GAP_RECONNECT; r <= TP_GAP_REASON_LAST; r++)
        if (!strcmp(tp_gap_reason_name((tp_gap_reason)r), row.reason)) g.reason = (tp_gap_reason)r;
    tp_gap_record_buf b;
    made_hdrs made;
    tp_gap_record_headers(&g, &b, made.h);
    made.n = TP_GAP_RECORD_NHEADERS;
    made.n += tp_gap_record_id_headers(&g, &b, made.h + made.n);
    tp_gap_row again;
    char sym2[TP_GAP_RECORD_MAX_SYMBOL + 1];
    if (tp_gap_record_parse(get_made, &made, &again, sym2, err, sizeof err)) abort();
    if (again.from_trade_id != row.from_trade_id || again.to_trade_id != row.to_trade_id) abort();
    if (again.from_ms != row.from_ms || again.to_ms != row.to_ms ||
        again.detected_at_ms != row.detected_at_ms || again.connection != row.connection ||
        strcmp(again.reason, row.reason) || strcmp(sym, sym2))
        abort();
    return 0;
}
