/* source_group.c - see source_group.h. */
#include "feed/source_group.h"

#include "core/err.h"
#include "core/log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MOD "source"

typedef struct member {
    struct tp_source_group *g;
    tp_source *src;
    size_t index;
    pthread_t thread;
    int started;
    int rc;
    char err[1024];
} member;

struct tp_source_group {
    member *m;
    size_t n;
    tp_source_batch_fn on_batch;
    void *ud;
    tp_source_frame_fn on_frame;
    void *frame_ud;
    tp_gap_fn on_gap;
    tp_source_reject_fn on_reject;
    void *reject_ud;
    void *gap_ud;
    pthread_mutex_t lock; /* serialises the callbacks */
    _Atomic int stopping;
};

int tp_source_plan(size_t nsymbols, size_t ntokens, size_t limit, size_t *nconn, char *err, size_t errlen) {
    if (ntokens == 0) ntokens = 1;
    size_t need = limit ? (nsymbols + limit - 1) / limit : 1;
    if (need == 0) need = 1;
    if (need > ntokens)
        return tp_seterr(
            err, errlen, TP_EINVAL,
            "%zu symbols need %zu connections of at most %zu symbols (--max-symbols-per-connection), "
            "and Finnhub allows one connection per API token, but %zu token%s given: give more "
            "tokens (--token A,B,C or FINNHUB_API_TOKENS), fewer symbols, or a higher limit if your "
            "plan allows it",
            nsymbols, need, limit, ntokens, ntokens == 1 ? " was" : "s were");
    *nconn = need;
    return 0;
}

/* The connections the tokens allow: one per token for a feed that needs
 * one, any number for public data. */
static size_t token_budget(const tp_source_config *cfg) {
    return cfg->feed && !cfg->feed->needs_token ? SIZE_MAX : cfg->ntokens;
}

int tp_source_group_needed(const tp_source_config *cfg) {
    if (cfg->replay_path) return 0;
    size_t n = 1;
    if (tp_source_plan(cfg->nsymbols, token_budget(cfg), cfg->max_symbols_per_connection, &n, NULL, 0))
        return 1;
    return n > 1;
}

static int on_batch(void *ud, tp_batch *b) {
    member *m = ud;
    tp_source_group *g = m->g;
    b->origin.partition = (int32_t)m->index;
    pthread_mutex_lock(&g->lock);
    int stop = g->on_batch ? g->on_batch(g->ud, b) : 0;
    pthread_mutex_unlock(&g->lock);
    return stop;
}

static void on_frame(void *ud, const char *frame, size_t len, int64_t recv_ms) {
    member *m = ud;
    tp_source_group *g = m->g;
    pthread_mutex_lock(&g->lock);
    if (g->on_frame) g->on_frame(g->frame_ud, frame, len, recv_ms);
    pthread_mutex_unlock(&g->lock);
}

int tp_source_group_new(const tp_source_config *cfg, tp_source_batch_fn fn, void *ud, tp_source_group **out,
                        char *err, size_t errlen) {
    size_t nconn;
    int rc = tp_source_plan(cfg->nsymbols, token_budget(cfg), cfg->max_symbols_per_connection, &nconn, err,
                            errlen);
    if (rc) return rc;
    tp_source_group *g = calloc(1, sizeof *g);
    if (!g) return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    g->m = calloc(nconn, sizeof *g->m);
    if (!g->m) {
        free(g);
        return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    }
    pthread_mutex_init(&g->lock, NULL);
    g->on_batch = fn;
    g->ud = ud;
    for (size_t i = 0; i < nconn; i++) {
        /* an even spread: connection i gets symbols [i*n/c, (i+1)*n/c) */
        size_t lo = i * cfg->nsymbols / nconn, hi = (i + 1) * cfg->nsymbols / nconn;
        tp_source_config c = *cfg;
        c.symbols = cfg->symbols + lo;
        c.nsymbols = hi - lo;
        c.token = cfg->ntokens > i ? cfg->tokens[i] : cfg->token;
        c.tokens = NULL;
        c.ntokens = 0;
        c.max_symbols_per_connection = 0; /* one connection each */
        c.connection_index = (int)i;
        g->m[i].g = g;
        g->m[i].index = i;
        rc = tp_source_new(&c, on_batch, &g->m[i], &g->m[i].src, err, errlen);
        if (rc) {
            tp_source_group_free(g);
            return rc;
        }
        g->n = i + 1;
    }
    tp_info(MOD, "%zu symbols over %zu connections (%sat most %zu symbols each)", cfg->nsymbols, nconn,
            token_budget(cfg) == SIZE_MAX ? "" : "one per token, ",
            cfg->max_symbols_per_connection ? cfg->max_symbols_per_connection : cfg->nsymbols);
    *out = g;
    return 0;
}

static void *member_main(void *ud) {
    member *m = ud;
    m->rc = tp_source_run(m->src, m->err, sizeof m->err);
    /* one connection ending ends the group */
    tp_source_group_stop(m->g);
    return NULL;
}

int tp_source_group_run(tp_source_group *g, char *err, size_t errlen) {
    for (size_t i = 0; i < g->n; i++) {
        if (pthread_create(&g->m[i].thread, NULL, member_main, &g->m[i])) {
            g->m[i].rc = tp_seterr(g->m[i].err, sizeof g->m[i].err, TP_ENOMEM, "cannot start a feed thread");
            tp_source_group_stop(g);
            break;
        }
        g->m[i].started = 1;
    }
    int rc = 0;
    for (size_t i = 0; i < g->n; i++) {
        if (g->m[i].started) pthread_join(g->m[i].thread, NULL);
        g->m[i].started = 0;
        if (g->m[i].rc && !rc) {
            rc = g->m[i].rc;
            tp_seterr(err, errlen, rc, "connection %zu of %zu: %s", i + 1, g->n, g->m[i].err);
        }
    }
    return rc;
}

void tp_source_group_stop(tp_source_group *g) {
    atomic_store(&g->stopping, 1);
    for (size_t i = 0; i < g->n; i++) tp_source_stop(g->m[i].src);
}

void tp_source_group_get_stats(const tp_source_group *g, tp_source_stats *o) {
    memset(o, 0, sizeof *o);
    for (size_t i = 0; i < g->n; i++) {
        tp_source_stats s;
        tp_source_get_stats(g->m[i].src, &s);
        o->frames += s.frames;
        o->trades += s.trades;
        o->pings += s.pings;
        o->errors += s.errors;
        o->unknown += s.unknown;
        o->malformed += s.malformed;
        o->oversize += s.oversize;
        o->reconnects += s.reconnects;
        o->bytes += s.bytes;
        o->duplicates += s.duplicates;
        o->duplicate_trades += s.duplicate_trades;
        o->gaps += s.gaps;
        o->handovers += s.handovers;
        for (int k = 0; k < TP_REJECT_N; k++) o->rejected[k] += s.rejected[k];
    }
}

static void on_gap(void *ud, const tp_feed_gap *gap) {
    tp_source_group *g = ud; /* called from inside on_batch's caller: the lock is not held yet */
    pthread_mutex_lock(&g->lock);
    if (g->on_gap) g->on_gap(g->gap_ud, gap);
    pthread_mutex_unlock(&g->lock);
}

void tp_source_group_set_gap_hook(tp_source_group *g, tp_gap_fn fn, void *ud) {
    g->on_gap = fn;
    g->gap_ud = ud;
    for (size_t i = 0; i < g->n; i++) tp_source_set_gap_hook(g->m[i].src, fn ? on_gap : NULL, g);
}

static void on_reject(void *ud, const tp_trade *t, tp_reject why, int64_t recv_ms) {
    tp_source_group *g = ud; /* as on_gap: called before the batch, without the lock */
    pthread_mutex_lock(&g->lock);
    if (g->on_reject) g->on_reject(g->reject_ud, t, why, recv_ms);
    pthread_mutex_unlock(&g->lock);
}

void tp_source_group_set_reject_hook(tp_source_group *g, tp_source_reject_fn fn, void *ud) {
    g->on_reject = fn;
    g->reject_ud = ud;
    for (size_t i = 0; i < g->n; i++) tp_source_set_reject_hook(g->m[i].src, fn ? on_reject : NULL, g);
}

void tp_source_group_set_frame_hook(tp_source_group *g, tp_source_frame_fn fn, void *ud) {
    g->on_frame = fn;
    g->frame_ud = ud;
    for (size_t i = 0; i < g->n; i++) tp_source_set_frame_hook(g->m[i].src, fn ? on_frame : NULL, &g->m[i]);
}

size_t tp_source_group_size(const tp_source_group *g) {
    return g->n;
}

void tp_source_group_free(tp_source_group *g) {
    if (!g) return;
    for (size_t i = 0; i < g->n; i++) tp_source_free(g->m[i].src);
    pthread_mutex_destroy(&g->lock);
    free(g->m);
    free(g);
}
