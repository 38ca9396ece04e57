/* null.c - the store that keeps nothing (`null:`).
 *
 * Writes succeed at once and are only counted. It exists so benchmarks can
 * measure the processor without a database, and so a user can run the
 * pipeline for its metrics alone. It is the one write-only store (no
 * reader operations): serve refuses it, and the REST API over it answers
 * 501, since there is nothing to read back. */
#include "sink/sink.h"

#include "core/err.h"

#include <stdlib.h>

typedef struct null_store {
    uint64_t trades, averages, candles, commits;
} null_store;

static int null_open(const char *url, void **state, char *err, size_t errlen) {
    (void)url;
    null_store *s = calloc(1, sizeof *s);
    if (!s) return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    *state = s;
    return 0;
}

static int null_write_trades(void *state, const tp_trade *t, size_t n, int64_t ingest_ms, char *err,
                             size_t errlen) {
    (void)t, (void)ingest_ms, (void)err, (void)errlen;
    ((null_store *)state)->trades += n;
    return 0;
}

static int null_write_averages(void *state, const tp_average *a, size_t n, char *err, size_t errlen) {
    (void)a, (void)err, (void)errlen;
    ((null_store *)state)->averages += n;
    return 0;
}

static int null_write_candles(void *state, const tp_candle *c, size_t n, char *err, size_t errlen) {
    (void)c, (void)err, (void)errlen;
    ((null_store *)state)->candles += n;
    return 0;
}

static int null_commit(void *state, char *err, size_t errlen) {
    (void)err, (void)errlen;
    ((null_store *)state)->commits++;
    return 0;
}

static void null_close(void *state) {
    free(state);
}

const tp_sink_ops tp_sink_null_ops = {
    .scheme = "null",
    .alias = NULL,
    .open = null_open,
    .write_trades = null_write_trades,
    .write_averages = null_write_averages,
    .write_candles = null_write_candles,
    .commit = null_commit,
    .close = null_close,
    .reader = NULL, /* write-only: there is nothing to read back */
};
