/* finnhub_compare.h - run the hand-written Finnhub parser and the jansson
 * reference on the same frame and describe the first difference, if any.
 * Shared by the unit tests and the differential fuzz target (header-only,
 * static functions). Doubles are compared bit for bit. */
#ifndef TP_FINNHUB_COMPARE_H
#define TP_FINNHUB_COMPARE_H

#include "finnhub_json_ref.h"
#include "core/err.h"

#include <stdio.h>
#include <string.h>

static int tp_cmp_str(tp_str a, tp_str b) {
    if ((a.ptr == NULL) != (b.ptr == NULL)) return 0;
    if (a.len != b.len) return 0;
    return a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0;
}

static int tp_cmp_double(double a, double b) {
    return memcmp(&a, &b, sizeof a) == 0;
}

/* NULL when the two trades are equal, else which field differs. */
static const char *tp_cmp_trade(const tp_trade *a, const tp_trade *b) {
    if (!tp_cmp_str(a->symbol, b->symbol)) return "symbol";
    if (!tp_cmp_double(a->price, b->price)) return "price";
    if (!tp_cmp_double(a->volume, b->volume)) return "volume";
    if (a->ts_ms != b->ts_ms) return "ts_ms";
    if (a->ncond != b->ncond) return "ncond";
    for (int32_t i = 0; i < a->ncond; i++)
        if (!tp_cmp_str(a->cond[i], b->cond[i])) return "cond item";
    return NULL;
}

typedef struct tp_parse_result {
    int rc;
    tp_msg_info info;
    char err[256];
} tp_parse_result;

/* Parse frame with both parsers into two batches (which may already hold
 * trades); NULL when they agree, else a description in why. On error each
 * batch must be left exactly as before (trade count and arena fill). */
static const char *tp_finnhub_compare(const char *frame, size_t len, tp_batch *bh, tp_batch *br,
                                      tp_parse_result *rh, tp_parse_result *rr, char *why, size_t whylen) {
    size_t nh0 = bh->n, nr0 = br->n;
    tp_batch_mark mh = tp_batch_get_mark(bh), mr = tp_batch_get_mark(br);
    rh->rc = tp_finnhub_parse(frame, len, bh, &rh->info, rh->err, sizeof rh->err);
    rr->rc = tp_finnhub_parse_ref(frame, len, br, &rr->info, rr->err, sizeof rr->err);
    if (rh->rc != rr->rc) {
        snprintf(why, whylen, "return code %d (%s) vs reference %d (%s)", rh->rc, rh->rc ? rh->err : "ok",
                 rr->rc, rr->rc ? rr->err : "ok");
        return why;
    }
    if (rh->rc) {
        tp_batch_mark a = tp_batch_get_mark(bh);
        if (bh->n != nh0 || a.head != mh.head || a.used != mh.used) {
            snprintf(why, whylen, "batch changed by a rejected frame");
            return why;
        }
        tp_batch_mark b = tp_batch_get_mark(br);
        if (br->n != nr0 || b.head != mr.head || b.used != mr.used) {
            snprintf(why, whylen, "reference batch changed by a rejected frame");
            return why;
        }
        if (!rh->err[0]) {
            snprintf(why, whylen, "error without a message");
            return why;
        }
    }
    if (rh->info.type != rr->info.type) {
        snprintf(why, whylen, "type %d vs reference %d", rh->info.type, rr->info.type);
        return why;
    }
    if (!tp_cmp_str(rh->info.text, rr->info.text)) {
        snprintf(why, whylen, "text differs");
        return why;
    }
    if (rh->info.ntrades != rr->info.ntrades || bh->n - nh0 != br->n - nr0) {
        snprintf(why, whylen, "ntrades %zu vs reference %zu", rh->info.ntrades, rr->info.ntrades);
        return why;
    }
    for (size_t i = 0; i < rh->info.ntrades; i++) {
        const char *f = tp_cmp_trade(&bh->trades[nh0 + i], &br->trades[nr0 + i]);
        if (f) {
            snprintf(why, whylen, "trade %zu: %s differs", i, f);
            return why;
        }
    }
    return NULL;
}

#endif
