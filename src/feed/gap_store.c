/* gap_store.c - see gap_store.h. */
#include "feed/gap_store.h"

#include "core/err.h"
#include "core/log.h"
#include "sink/sink.h"

#include <stdlib.h>
#include <string.h>

struct tp_gap_store {
    tp_sink *sink;
    uint64_t failed;
};

int tp_gap_store_open(const char *store_url, tp_gap_store **out, char *err, size_t errlen) {
    tp_gap_store *g = calloc(1, sizeof *g);
    if (!g) return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    int rc = tp_sink_open(store_url, &g->sink, err, errlen);
    if (!rc && !tp_sink_can_write_gaps(g->sink))
        rc = tp_seterr(err, errlen, TP_ESTATE, "the %s store does not keep feed gaps",
                       tp_sink_scheme(g->sink));
    if (rc) {
        tp_gap_store_close(g);
        return rc;
    }
    *out = g;
    return 0;
}

void tp_gap_store_write(void *ud, const tp_feed_gap *gap) {
    tp_gap_store *g = ud;
    tp_gap_row row = {
        .symbol = {gap->symbol, (uint32_t)strlen(gap->symbol)},
        .from_ms = gap->from_ms,
        .to_ms = gap->to_ms,
        .reason = tp_gap_reason_name(gap->reason),
        .detected_at_ms = gap->detected_at_ms,
        .connection = gap->connection,
    };
    char err[512];
    for (int attempt = 0; attempt < 2; attempt++)
        if (!tp_sink_write_gaps(g->sink, &row, 1, err, sizeof err) &&
            !tp_sink_commit(g->sink, err, sizeof err))
            return;
    g->failed++;
    tp_warn("gaps", "cannot store the gap in %s (%lld..%lld ms): %s", gap->symbol, (long long)gap->from_ms,
            (long long)gap->to_ms, err);
}

uint64_t tp_gap_store_failed(const tp_gap_store *g) {
    return g->failed;
}

void tp_gap_store_close(tp_gap_store *g) {
    if (!g) return;
    tp_sink_close(g->sink);
    free(g);
}
