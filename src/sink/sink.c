/* sink.c - the store table and the dispatch over it.
 *
 * A store is chosen by the scheme of its URL ("sqlite:", "postgresql://",
 * ...). Each store file defines one `const tp_sink_ops`; adding a store is
 * that file plus one line in k_stores below. The wrapper holds the ops and
 * the store's own state, so callers never see which store they talk to. */
#include "sink/sink.h"

#include "core/err.h"
#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const tp_sink_ops tp_sink_null_ops;
extern const tp_sink_ops tp_sink_sqlite_ops;
extern const tp_sink_ops tp_sink_postgresql_ops;
extern const tp_sink_ops tp_sink_clickhouse_ops;
extern const tp_sink_ops tp_sink_cassandra_ops;

static const tp_sink_ops *const k_stores[] = {
    &tp_sink_sqlite_ops,    &tp_sink_postgresql_ops, &tp_sink_clickhouse_ops,
    &tp_sink_cassandra_ops, &tp_sink_null_ops,
};

struct tp_sink {
    const tp_sink_ops *ops;
    void *state;
};

static const tp_sink_ops *find_store(const char *url, size_t scheme_len) {
    for (size_t i = 0; i < sizeof k_stores / sizeof k_stores[0]; i++) {
        const tp_sink_ops *o = k_stores[i];
        if (strlen(o->scheme) == scheme_len && !strncmp(o->scheme, url, scheme_len)) return o;
        if (o->alias && strlen(o->alias) == scheme_len && !strncmp(o->alias, url, scheme_len)) return o;
    }
    return NULL;
}

static const tp_sink_ops *resolve(const char *url, char *err, size_t errlen) {
    if (!url || !*url) {
        tp_seterr(err, errlen, TP_EINVAL,
                  "no store URL; use sqlite:PATH, postgresql://USER@HOST/DB or clickhouse://HOST:8123/DB");
        return NULL;
    }
    const char *colon = strchr(url, ':');
    const tp_sink_ops *ops = colon ? find_store(url, (size_t)(colon - url)) : NULL;
    if (!ops) {
        char safe[512], known[256] = "";
        tp_log_redact(url, safe, sizeof safe);
        size_t o = 0;
        for (size_t i = 0; i < sizeof k_stores / sizeof k_stores[0] && o < sizeof known; i++)
            o += (size_t)snprintf(known + o, sizeof known - o, "%s%s:", i ? ", " : "", k_stores[i]->scheme);
        tp_seterr(err, errlen, TP_EINVAL, "store URL '%s' names no store this build knows; use one of %s",
                  safe, known);
    }
    return ops;
}

int tp_sink_check_url(const char *url, char *err, size_t errlen) {
    return resolve(url, err, errlen) ? 0 : TP_EINVAL;
}

int tp_sink_open(const char *url, tp_sink **out, char *err, size_t errlen) {
    *out = NULL;
    const tp_sink_ops *ops = resolve(url, err, errlen);
    if (!ops) return TP_EINVAL;
    tp_sink *s = calloc(1, sizeof *s);
    if (!s) return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    s->ops = ops;
    int rc = ops->open(url, &s->state, err, errlen);
    if (rc) {
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}

const char *tp_sink_scheme(const tp_sink *s) {
    return s->ops->scheme;
}

int tp_sink_write_trades(tp_sink *s, const tp_trade *t, size_t n, int64_t ingest_ms, char *err,
                         size_t errlen) {
    if (!n) return 0;
    return s->ops->write_trades(s->state, t, n, ingest_ms, err, errlen);
}

int tp_sink_write_averages(tp_sink *s, const tp_average *a, size_t n, char *err, size_t errlen) {
    if (!n) return 0;
    return s->ops->write_averages(s->state, a, n, err, errlen);
}

int tp_sink_write_candles(tp_sink *s, const tp_candle *c, size_t n, char *err, size_t errlen) {
    if (!n) return 0;
    return s->ops->write_candles(s->state, c, n, err, errlen);
}

int tp_sink_commit(tp_sink *s, char *err, size_t errlen) {
    return s->ops->commit(s->state, err, errlen);
}

int tp_sink_query_symbols(tp_sink *s, tp_symbol_row_fn fn, void *ud, char *err, size_t errlen) {
    return s->ops->query_symbols(s->state, fn, ud, err, errlen);
}

int tp_sink_query_trades(tp_sink *s, const tp_query *q, tp_trade_row_fn fn, void *ud, char *err,
                         size_t errlen) {
    return s->ops->query_trades(s->state, q, fn, ud, err, errlen);
}

int tp_sink_query_candles(tp_sink *s, const tp_query *q, tp_candle_row_fn fn, void *ud, char *err,
                          size_t errlen) {
    return s->ops->query_candles(s->state, q, fn, ud, err, errlen);
}

int tp_sink_query_averages(tp_sink *s, const tp_query *q, tp_average_row_fn fn, void *ud, char *err,
                           size_t errlen) {
    return s->ops->query_averages(s->state, q, fn, ud, err, errlen);
}

void tp_sink_close(tp_sink *s) {
    if (!s) return;
    s->ops->close(s->state);
    free(s);
}

void tp_uuid_format(const uint8_t id[16], char out[37]) {
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out[o++] = '-';
        out[o++] = hex[id[i] >> 4];
        out[o++] = hex[id[i] & 15];
    }
    out[o] = '\0';
}
