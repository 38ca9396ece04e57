/* gap_record.c - see gap_record.h. */
#include "kafka/gap_record.h"

#include "core/err.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void tp_gap_record_headers(const tp_feed_gap *g, tp_gap_record_buf *b,
                           tp_gap_header out[TP_GAP_RECORD_NHEADERS]) {
    snprintf(b->from, sizeof b->from, "%" PRId64, g->from_ms);
    snprintf(b->to, sizeof b->to, "%" PRId64, g->to_ms);
    snprintf(b->detected, sizeof b->detected, "%" PRId64, g->detected_at_ms);
    snprintf(b->connection, sizeof b->connection, "%d", g->connection);
    out[0] = (tp_gap_header){"tp-gap", "v1"};
    out[1] = (tp_gap_header){"tp-gap-symbol", g->symbol};
    out[2] = (tp_gap_header){"tp-gap-from-ms", b->from};
    out[3] = (tp_gap_header){"tp-gap-to-ms", b->to};
    out[4] = (tp_gap_header){"tp-gap-reason", tp_gap_reason_name(g->reason)};
    out[5] = (tp_gap_header){"tp-gap-detected-at-ms", b->detected};
    out[6] = (tp_gap_header){"tp-gap-connection", b->connection};
}

size_t tp_gap_record_id_headers(const tp_feed_gap *g, tp_gap_record_buf *b,
                                tp_gap_header out[TP_GAP_RECORD_NID_HEADERS]) {
    if (!g->from_trade_id && !g->to_trade_id) return 0;
    snprintf(b->from_id, sizeof b->from_id, "%" PRId64, g->from_trade_id);
    snprintf(b->to_id, sizeof b->to_id, "%" PRId64, g->to_trade_id);
    out[0] = (tp_gap_header){"tp-gap-from-trade-id", b->from_id};
    out[1] = (tp_gap_header){"tp-gap-to-trade-id", b->to_id};
    return TP_GAP_RECORD_NID_HEADERS;
}

/* A decimal integer of exactly len bytes (no sign but '-', no spaces). */
static int parse_i64(const void *v, size_t len, int64_t *out) {
    const char *p = v;
    if (!len || len > 20) return -1;
    int neg = p[0] == '-';
    if (neg && len == 1) return -1;
    uint64_t x = 0;
    for (size_t i = (size_t)neg; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') return -1;
        uint64_t d = (uint64_t)(p[i] - '0');
        if (x > (UINT64_MAX - d) / 10) return -1;
        x = x * 10 + d;
    }
    if (x > (uint64_t)INT64_MAX) return -1;
    *out = neg ? -(int64_t)x : (int64_t)x;
    return 0;
}

static int num(tp_gap_header_fn get, void *ud, const char *name, int64_t *out, char *err, size_t errlen) {
    const void *v;
    size_t len;
    if (get(ud, name, &v, &len)) return tp_seterr(err, errlen, TP_EPARSE, "no %s header", name);
    if (parse_i64(v, len, out))
        return tp_seterr(err, errlen, TP_EPARSE, "the %s header is not a number", name);
    return 0;
}

int tp_gap_record_parse(tp_gap_header_fn get, void *ud, tp_gap_row *row,
                        char sym[TP_GAP_RECORD_MAX_SYMBOL + 1], char *err, size_t errlen) {
    const void *v;
    size_t len;
    if (get(ud, "tp-gap", &v, &len)) return tp_seterr(err, errlen, TP_EPARSE, "no tp-gap header");
    if (len != 2 || memcmp(v, "v1", 2))
        return tp_seterr(err, errlen, TP_EPARSE,
                         "tp-gap header '%.*s' is not a version this build knows (v1)",
                         (int)(len > 16 ? 16 : len), (const char *)v);
    if (get(ud, "tp-gap-symbol", &v, &len))
        return tp_seterr(err, errlen, TP_EPARSE, "no tp-gap-symbol header");
    if (!len || len > TP_GAP_RECORD_MAX_SYMBOL || memchr(v, '\0', len))
        return tp_seterr(err, errlen, TP_EPARSE,
                         "the tp-gap-symbol header is empty, too long or holds a NUL");
    memcpy(sym, v, len);
    sym[len] = '\0';
    memset(row, 0, sizeof *row);
    row->symbol = (tp_str){sym, (uint32_t)len};
    int64_t conn;
    int rc;
    if ((rc = num(get, ud, "tp-gap-from-ms", &row->from_ms, err, errlen)) ||
        (rc = num(get, ud, "tp-gap-to-ms", &row->to_ms, err, errlen)) ||
        (rc = num(get, ud, "tp-gap-detected-at-ms", &row->detected_at_ms, err, errlen)) ||
        (rc = num(get, ud, "tp-gap-connection", &conn, err, errlen)))
        return rc;
    if (row->to_ms < row->from_ms)
        return tp_seterr(err, errlen, TP_EPARSE, "tp-gap-to-ms is before tp-gap-from-ms");
    if (conn < 0 || conn > INT32_MAX)
        return tp_seterr(err, errlen, TP_EPARSE, "tp-gap-connection is out of range");
    row->connection = (int32_t)conn;
    const void *fv, *tv;
    size_t fl, tl;
    int has_from = !get(ud, "tp-gap-from-trade-id", &fv, &fl),
        has_to = !get(ud, "tp-gap-to-trade-id", &tv, &tl);
    if (has_from != has_to)
        return tp_seterr(err, errlen, TP_EPARSE, "the gap record has %s but not %s",
                         has_from ? "tp-gap-from-trade-id" : "tp-gap-to-trade-id",
                         has_from ? "tp-gap-to-trade-id" : "tp-gap-from-trade-id");
    if (has_from) {
        if ((rc = num(get, ud, "tp-gap-from-trade-id", &row->from_trade_id, err, errlen)) ||
            (rc = num(get, ud, "tp-gap-to-trade-id", &row->to_trade_id, err, errlen)))
            return rc;
        if (row->from_trade_id <= 0 || row->to_trade_id < row->from_trade_id)
            return tp_seterr(err, errlen, TP_EPARSE,
                             "the trade-id range %" PRId64 "..%" PRId64 " is not positive and in order",
                             row->from_trade_id, row->to_trade_id);
    }
    if (get(ud, "tp-gap-reason", &v, &len))
        return tp_seterr(err, errlen, TP_EPARSE, "no tp-gap-reason header");
    for (int r = TP_GAP_RECONNECT; r <= TP_GAP_REASON_LAST; r++) {
        const char *name = tp_gap_reason_name((tp_gap_reason)r);
        if (strlen(name) == len && !memcmp(name, v, len)) {
            row->reason = name;
            return 0;
        }
    }
    return tp_seterr(
        err, errlen, TP_EPARSE,
        "tp-gap-reason '%.*s' is not one of reconnect, silence, key_in_use, server_error, id_jump",
        (int)(len > 32 ? 32 : len), (const char *)v);
}
