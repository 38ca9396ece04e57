/* pipeline.c - the processing stage: batches in, rows durable in a store.
 *
 * Design. The pipeline owns one unit of work, the rows added since the last
 * successful store commit:
 *  - trades, deep-copied into a tp_batch of its own (caller batches are
 *    reused, and a unit may outlive many of them while the store is down);
 *  - window rows (averages and candles) collected from tp_windows_emit(),
 *    copied because the window module frees a final window as soon as it is
 *    emitted. Rows are upserts, so a window emitted twice in one unit keeps
 *    only its latest version (a small hash index keyed by the window's
 *    identity): the store sees each window once per unit.
 * All strings of the unit live in the batch's arena, so dropping the unit
 * after a commit is one tp_batch_reset().
 *
 * Flush = emit windows, write trades, averages, candles, commit. The store
 * protocol (sink.h) says any failure loses the store's unit, so a retry
 * re-sends the whole pending unit; writes are idempotent, so that is safe.
 * Retries back off from 100 ms doubling to 30 s, sleeping in short slices so
 * tp_pipeline_stop() (an atomic flag, async-signal-safe) ends them quickly.
 *
 * Ids: trade ids hash (topic, partition, offset, index) through id.h; the
 * topic's two key hashes are cached because batches of one topic repeat. */
#include "process/pipeline.h"

#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "core/metrics.h"
#include "process/id.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MOD "pipeline"
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 30000

typedef struct row_index {
    uint32_t *slot; /* row index + 1; 0 = empty */
    size_t cap;     /* power of two */
} row_index;

typedef struct pipe_metrics {
    tp_counter *trades, *late, *skipped, *flushes, *commits, *errors, *rows_trades, *rows_candles,
        *rows_averages;
    tp_gauge *watermark, *symbols, *open_windows, *pending;
    tp_histogram *commit_latency, *durable_latency;
} pipe_metrics;

struct tp_pipeline {
    tp_pipeline_config cfg;
    tp_sink *sink;
    tp_windows *win;
    tp_batch pend; /* pending trades; its arena also holds window-row symbols */
    tp_average *avg;
    size_t navg, cap_avg;
    tp_candle *cand;
    size_t ncand, cap_cand;
    row_index avg_ix, cand_ix;
    int64_t last_flush_ms;
    int64_t last_emit_wm; /* watermark at the last emit: a change may finalise windows */
    char topic[128];      /* topic of the cached key hashes */
    uint64_t topic_k1, topic_k2;
    int have_topic;
    uint64_t skipped_seen; /* the window module's skipped count already in st */
    _Atomic int stop;
    tp_pipeline_stats st;
    uint64_t lat_hist[TP_PIPELINE_LAT_BUCKETS];
    pipe_metrics m;
};

void tp_pipeline_config_default(tp_pipeline_config *c) {
    memset(c, 0, sizeof(*c));
    c->store_url = "sqlite:data/tickpipe.db";
    tp_window_config_default(&c->win);
    c->flush_interval_ms = 200;
    c->flush_max_trades = 20000;
}

static void id_from_keys(uint64_t k1, uint64_t k2, const tp_origin *o, uint32_t index, uint8_t out[16]) {
    uint64_t a = ((uint64_t)(uint32_t)o->partition << 32) | index;
    tp_id_make(k1, k2, a, (uint64_t)o->offset, out);
}

void tp_trade_id(const tp_origin *o, uint32_t index, uint8_t out[16]) {
    size_t len = strnlen(o->topic, sizeof o->topic);
    id_from_keys(tp_id_hash_bytes(o->topic, len, TP_ID_SEED1), tp_id_hash_bytes(o->topic, len, TP_ID_SEED2),
                 o, index, out);
}

static void metrics_init(pipe_metrics *m) {
    m->trades =
        tp_metrics_counter("tickpipe_window_trades_total", NULL, "Trades added to the processing stage");
    m->late = tp_metrics_counter("tickpipe_window_late_total", NULL,
                                 "Trades behind the watermark: stored, not folded into a closed window");
    m->skipped =
        tp_metrics_counter("tickpipe_window_skipped_total", NULL,
                           "Trades with a non-finite price/volume or negative volume: stored, not folded");
    m->flushes = tp_metrics_counter("tickpipe_store_flushes_total", NULL, "Units of work made durable");
    m->commits = tp_metrics_counter("tickpipe_store_commits_total", NULL, "Successful store commits");
    m->errors =
        tp_metrics_counter("tickpipe_store_errors_total", NULL, "Failed store writes or commits (retried)");
    m->rows_trades = tp_metrics_counter("tickpipe_store_rows_total", "table=\"trades\"", "Rows made durable");
    m->rows_candles =
        tp_metrics_counter("tickpipe_store_rows_total", "table=\"candles\"", "Rows made durable");
    m->rows_averages = tp_metrics_counter("tickpipe_store_rows_total", "table=\"running_averages_15_sec\"",
                                          "Rows made durable");
    m->watermark = tp_metrics_gauge("tickpipe_window_watermark_ms", NULL, "Event-time watermark, epoch ms");
    m->symbols = tp_metrics_gauge("tickpipe_window_symbols", NULL, "Symbols with window state");
    m->open_windows = tp_metrics_gauge("tickpipe_window_open", NULL, "Windows held open");
    m->pending =
        tp_metrics_gauge("tickpipe_store_pending_trades", NULL, "Trades waiting for the next commit");
    m->commit_latency = tp_metrics_histogram("tickpipe_store_flush_seconds", NULL,
                                             "Time to write and commit one unit of work");
    m->durable_latency = tp_metrics_histogram("tickpipe_store_durable_latency_seconds", NULL,
                                              "Time from a trade's receipt to its row being durable");
}

int tp_pipeline_new(const tp_pipeline_config *cfg, tp_pipeline **out, char *err, size_t errlen) {
    *out = NULL;
    tp_pipeline *p = calloc(1, sizeof(*p));
    if (!p) return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    if (cfg)
        p->cfg = *cfg;
    else
        tp_pipeline_config_default(&p->cfg);
    if (p->cfg.flush_interval_ms <= 0) p->cfg.flush_interval_ms = 200;
    if (!p->cfg.flush_max_trades) p->cfg.flush_max_trades = 20000;
    tp_batch_init(&p->pend);
    p->win = tp_windows_new(&p->cfg.win);
    if (!p->win) {
        free(p);
        return tp_seterr(err, errlen, TP_EINVAL,
                         "bad window configuration (sizes must be > 0, lateness/intervals >= 0)");
    }
    int rc = tp_sink_open(p->cfg.store_url, &p->sink, err, errlen);
    if (rc) {
        tp_windows_free(p->win);
        tp_batch_free(&p->pend);
        free(p);
        return rc;
    }
    p->cfg.store_url = NULL; /* the caller's string need not outlive us */
    p->last_flush_ms = tp_now_ms();
    p->last_emit_wm = INT64_MIN;
    p->st.watermark_ms = INT64_MIN;
    metrics_init(&p->m);
    *out = p;
    return 0;
}

void tp_pipeline_free(tp_pipeline *p) {
    if (!p) return;
    tp_sink_close(p->sink);
    tp_windows_free(p->win);
    tp_batch_free(&p->pend);
    free(p->avg);
    free(p->cand);
    free(p->avg_ix.slot);
    free(p->cand_ix.slot);
    free(p);
}

void tp_pipeline_stop(tp_pipeline *p) {
    atomic_store(&p->stop, 1);
}

static int stopped(const tp_pipeline *p) {
    return atomic_load(&((tp_pipeline *)p)->stop);
}

/* ---- adding ---- */

int tp_pipeline_add_since(tp_pipeline *p, const tp_batch *b, int64_t floor_ms) {
    if (!b->n) return 0;
    const tp_origin *o = &b->origin;
    if (!p->have_topic || strncmp(p->topic, o->topic, sizeof p->topic)) {
        size_t len = strnlen(o->topic, sizeof o->topic);
        memcpy(p->topic, o->topic, len);
        p->topic[len < sizeof p->topic ? len : sizeof p->topic - 1] = '\0';
        p->topic_k1 = tp_id_hash_bytes(o->topic, len, TP_ID_SEED1);
        p->topic_k2 = tp_id_hash_bytes(o->topic, len, TP_ID_SEED2);
        p->have_topic = 1;
    }
    tp_batch_mark mark = tp_batch_get_mark(&p->pend);
    size_t first = p->pend.n;
    for (size_t i = 0; i < b->n; i++) {
        tp_trade *t = tp_batch_copy_trade(&p->pend, &b->trades[i]);
        if (!t) {
            tp_batch_rewind(&p->pend, mark);
            return TP_ENOMEM;
        }
        if (!t->recv_ms) t->recv_ms = b->recv_ms;
        id_from_keys(p->topic_k1, p->topic_k2, o, (uint32_t)i, t->id);
    }
    size_t late = 0;
    int rc = tp_windows_add_since(p->win, &p->pend.trades[first], b->n, floor_ms, &late);
    if (rc) {
        /* Windows may hold part of the batch; the trades stay pending so the
         * store still gets them. Out of memory is fatal for the caller. */
        return rc;
    }
    p->st.trades += b->n;
    p->st.late += late;
    tp_counter_add(p->m.trades, b->n);
    if (late) tp_counter_add(p->m.late, late);
    tp_gauge_set(p->m.pending, (int64_t)p->pend.n);
    return 0;
}

int tp_pipeline_add(tp_pipeline *p, const tp_batch *b) {
    return tp_pipeline_add_since(p, b, INT64_MIN);
}

void tp_pipeline_advance(tp_pipeline *p, int64_t event_ms) {
    tp_windows_advance(p->win, event_ms);
}

int tp_pipeline_reset_windows(tp_pipeline *p) {
    if (p->pend.n || p->navg || p->ncand) return TP_ESTATE;
    tp_windows *w = tp_windows_new(&p->cfg.win);
    if (!w) return TP_ENOMEM;
    tp_windows_free(p->win);
    p->win = w;
    p->last_emit_wm = INT64_MIN;
    p->skipped_seen = 0;
    return 0;
}

int tp_pipeline_flush_due(const tp_pipeline *p, int64_t now_ms) {
    if (p->pend.n >= p->cfg.flush_max_trades) return 1;
    if (now_ms - p->last_flush_ms < p->cfg.flush_interval_ms) return 0;
    /* Interval elapsed: worth a flush if there is anything to write or the
     * watermark moved (windows may have become final). */
    return p->pend.n > 0 || p->navg > 0 || p->ncand > 0 || tp_windows_watermark(p->win) != p->last_emit_wm;
}

int64_t tp_pipeline_open_since(const tp_pipeline *p) {
    return tp_windows_open_since(p->win);
}

int64_t tp_pipeline_watermark(const tp_pipeline *p) {
    return tp_windows_watermark(p->win);
}

/* ---- pending window rows, deduplicated by window identity ---- */

static uint64_t avg_key(const tp_average *a) {
    uint64_t h = 0;
    for (int i = 0; i < 8; i++) h = (h << 8) | a->id[i];
    return tp_id_mix64(h);
}

static uint64_t cand_key(const tp_candle *c) {
    return tp_id_hash_bytes(c->symbol.ptr, c->symbol.len,
                            (uint64_t)c->start_ms * 131 + (uint64_t)c->interval_s);
}

static int index_grow(row_index *ix, size_t need, const void *rows, size_t rowsize,
                      uint64_t (*key)(const void *)) {
    if (ix->cap && need * 2 <= ix->cap) return 0;
    size_t cap = ix->cap ? ix->cap : 256;
    while (need * 2 > cap) cap *= 2;
    uint32_t *slot = calloc(cap, sizeof(uint32_t));
    if (!slot) return TP_ENOMEM;
    for (size_t i = 0; i + 1 < need; i++) {
        size_t h = key((const char *)rows + i * rowsize) & (cap - 1);
        while (slot[h]) h = (h + 1) & (cap - 1);
        slot[h] = (uint32_t)(i + 1);
    }
    free(ix->slot);
    ix->slot = slot;
    ix->cap = cap;
    return 0;
}

static uint64_t avg_key_v(const void *r) {
    return avg_key(r);
}
static uint64_t cand_key_v(const void *r) {
    return cand_key(r);
}

static int merge_average(tp_pipeline *p, const tp_average *a) {
    if (p->navg == p->cap_avg) {
        size_t cap = p->cap_avg ? p->cap_avg * 2 : 256;
        tp_average *n = realloc(p->avg, cap * sizeof(*n));
        if (!n) return TP_ENOMEM;
        p->avg = n;
        p->cap_avg = cap;
    }
    if (index_grow(&p->avg_ix, p->navg + 1, p->avg, sizeof(tp_average), avg_key_v)) return TP_ENOMEM;
    size_t mask = p->avg_ix.cap - 1, h = avg_key(a) & mask;
    for (; p->avg_ix.slot[h]; h = (h + 1) & mask) {
        tp_average *x = &p->avg[p->avg_ix.slot[h] - 1];
        if (!memcmp(x->id, a->id, 16)) {
            tp_str sym = x->symbol;
            *x = *a;
            x->symbol = sym;
            return 0;
        }
    }
    const char *s = tp_batch_strdup(&p->pend, a->symbol.ptr, a->symbol.len);
    if (!s) return TP_ENOMEM;
    tp_average *x = &p->avg[p->navg++];
    *x = *a;
    x->symbol.ptr = s;
    p->avg_ix.slot[h] = (uint32_t)p->navg;
    return 0;
}

static int merge_candle(tp_pipeline *p, const tp_candle *c) {
    if (p->ncand == p->cap_cand) {
        size_t cap = p->cap_cand ? p->cap_cand * 2 : 256;
        tp_candle *n = realloc(p->cand, cap * sizeof(*n));
        if (!n) return TP_ENOMEM;
        p->cand = n;
        p->cap_cand = cap;
    }
    if (index_grow(&p->cand_ix, p->ncand + 1, p->cand, sizeof(tp_candle), cand_key_v)) return TP_ENOMEM;
    size_t mask = p->cand_ix.cap - 1, h = cand_key(c) & mask;
    for (; p->cand_ix.slot[h]; h = (h + 1) & mask) {
        tp_candle *x = &p->cand[p->cand_ix.slot[h] - 1];
        if (x->start_ms == c->start_ms && x->interval_s == c->interval_s && tp_str_eq(x->symbol, c->symbol)) {
            tp_str sym = x->symbol;
            *x = *c;
            x->symbol = sym;
            return 0;
        }
    }
    const char *s = tp_batch_strdup(&p->pend, c->symbol.ptr, c->symbol.len);
    if (!s) return TP_ENOMEM;
    tp_candle *x = &p->cand[p->ncand++];
    *x = *c;
    x->symbol.ptr = s;
    p->cand_ix.slot[h] = (uint32_t)p->ncand;
    return 0;
}

static int collect_windows(tp_pipeline *p, int64_t now_ms, int force) {
    const tp_average *a;
    const tp_candle *c;
    size_t na, nc;
    int rc = tp_windows_emit(p->win, now_ms, force, &a, &na, &c, &nc);
    /* Rows returned are valid even when rc != 0 (the failed one is kept in
     * the window module for the next emit). */
    for (size_t i = 0; i < na && !rc; i++) rc = merge_average(p, &a[i]);
    for (size_t i = 0; i < nc && !rc; i++) rc = merge_candle(p, &c[i]);
    p->last_emit_wm = tp_windows_watermark(p->win);
    return rc;
}

/* ---- flushing ---- */

static void sleep_ms(int64_t ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* One attempt: write the whole pending unit and commit. */
static int write_unit(tp_pipeline *p, int64_t now_ms, char *err, size_t errlen) {
    int rc = tp_sink_write_trades(p->sink, p->pend.trades, p->pend.n, now_ms, err, errlen);
    if (!rc) rc = tp_sink_write_averages(p->sink, p->avg, p->navg, err, errlen);
    if (!rc) rc = tp_sink_write_candles(p->sink, p->cand, p->ncand, err, errlen);
    if (!rc) rc = tp_sink_commit(p->sink, err, errlen);
    return rc;
}

static size_t lat_bucket(int64_t ms) {
    if (ms <= 0) return 0;
    size_t k = (size_t)ceil(8.0 * log2((double)ms));
    if (k == 0) k = 1; /* 1 ms */
    return k < TP_PIPELINE_LAT_BUCKETS ? k : TP_PIPELINE_LAT_BUCKETS - 1;
}

static void after_commit(tp_pipeline *p, int64_t t0_us) {
    int64_t now = tp_now_ms();
    tp_histogram_observe_us(p->m.commit_latency, (uint64_t)(tp_mono_us() - t0_us));
    int64_t prev_recv = INT64_MIN;
    size_t bucket = 0;
    for (size_t i = 0; i < p->pend.n; i++) {
        int64_t r = p->pend.trades[i].recv_ms;
        if (r != prev_recv) { /* trades of one record share it: one log2 per record */
            bucket = lat_bucket(now - r);
            prev_recv = r;
        }
        p->lat_hist[bucket]++;
    }
    /* The shared histogram gets one sample per 64 trades: enough for its
     * quantiles, cheap on the hot path. */
    for (size_t i = 0; i < p->pend.n; i += 64) {
        int64_t d = now - p->pend.trades[i].recv_ms;
        tp_histogram_observe_us(p->m.durable_latency, (uint64_t)(d > 0 ? d : 0) * 1000);
    }
    if (p->cfg.on_durable)
        p->cfg.on_durable(p->cfg.on_durable_ud, p->pend.trades, p->pend.n, p->cand, p->ncand, p->avg,
                          p->navg);
    tp_counter_add(p->m.flushes, 1);
    tp_counter_add(p->m.commits, 1);
    tp_counter_add(p->m.rows_trades, p->pend.n);
    tp_counter_add(p->m.rows_candles, p->ncand);
    tp_counter_add(p->m.rows_averages, p->navg);
    p->st.flushes++;
    p->st.rows_trades += p->pend.n;
    p->st.rows_candles += p->ncand;
    p->st.rows_averages += p->navg;
    tp_batch_reset(&p->pend);
    p->navg = p->ncand = 0;
    if (p->avg_ix.slot) memset(p->avg_ix.slot, 0, p->avg_ix.cap * sizeof(uint32_t));
    if (p->cand_ix.slot) memset(p->cand_ix.slot, 0, p->cand_ix.cap * sizeof(uint32_t));
}

int tp_pipeline_flush(tp_pipeline *p, int force) {
    int64_t now = tp_now_ms();
    p->last_flush_ms = now;
    int rc = collect_windows(p, now, force);
    if (rc) {
        tp_error(MOD, "collecting window rows failed: %s", tp_strerror(rc));
        return rc;
    }
    tp_windows_stats ws;
    tp_windows_get_stats(p->win, &ws);
    tp_gauge_set(p->m.symbols, (int64_t)ws.symbols);
    tp_gauge_set(p->m.open_windows, (int64_t)ws.open_windows);
    tp_gauge_set(p->m.watermark,
                 tp_windows_watermark(p->win) == INT64_MIN ? 0 : tp_windows_watermark(p->win));
    if (ws.skipped > p->skipped_seen) {
        tp_counter_add(p->m.skipped, ws.skipped - p->skipped_seen);
        p->st.skipped += ws.skipped - p->skipped_seen;
        p->skipped_seen = ws.skipped;
    }
    if (!p->pend.n && !p->navg && !p->ncand) return 0;

    int64_t backoff = BACKOFF_MIN_MS;
    int64_t first_fail_ms = 0;
    unsigned attempt = 0;
    char err[512];
    for (;;) {
        int64_t t0 = tp_mono_us();
        err[0] = '\0';
        rc = write_unit(p, tp_now_ms(), err, sizeof err);
        if (!rc) {
            if (attempt)
                tp_info(
                    MOD,
                    "store %s is writable again after %u failed attempt%s (%.1f s); %zu trades made durable",
                    tp_sink_scheme(p->sink), attempt, attempt == 1 ? "" : "s",
                    (double)(tp_now_ms() - first_fail_ms) / 1000.0, p->pend.n);
            after_commit(p, t0);
            tp_gauge_set(p->m.pending, 0);
            return 0;
        }
        if (!attempt) first_fail_ms = tp_now_ms();
        attempt++;
        p->st.store_errors++;
        tp_counter_add(p->m.errors, 1);
        tp_warn(MOD,
                "store %s failed (%s: %s); %zu trades, %zu candles, %zu averages kept pending (Kafka "
                "offsets, if any, not committed); retry %u in %.1f s",
                tp_sink_scheme(p->sink), tp_strerror(rc), err[0] ? err : "no detail", p->pend.n, p->ncand,
                p->navg, attempt, (double)backoff / 1000.0);
        for (int64_t slept = 0; slept < backoff; slept += 50) {
            if (stopped(p)) {
                tp_warn(MOD,
                        "stopping with %zu trades not durable (the store never recovered): read from Kafka, "
                        "their offsets stay uncommitted and they will be re-read; from a live feed, they "
                        "are not stored",
                        p->pend.n);
                return TP_ESTATE;
            }
            sleep_ms(backoff - slept < 50 ? backoff - slept : 50);
        }
        if (stopped(p)) return TP_ESTATE;
        backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
    }
}

void tp_pipeline_get_stats(const tp_pipeline *p, tp_pipeline_stats *out) {
    *out = p->st;
    out->watermark_ms = tp_windows_watermark(p->win);
    out->pending = p->pend.n;
    memcpy(out->latency_hist, p->lat_hist, sizeof out->latency_hist);
}

int64_t tp_pipeline_latency_quantile_ms(const tp_pipeline_stats *s, double q) {
    uint64_t total = 0;
    for (size_t i = 0; i < TP_PIPELINE_LAT_BUCKETS; i++) total += s->latency_hist[i];
    if (!total) return -1;
    uint64_t want = (uint64_t)ceil(q * (double)total), acc = 0;
    if (!want) want = 1;
    for (size_t i = 0; i < TP_PIPELINE_LAT_BUCKETS; i++) {
        acc += s->latency_hist[i];
        if (acc >= want) return (int64_t)floor(exp2((double)i / 8.0) + 1e-9) * (i > 0);
    }
    return (int64_t)floor(exp2((double)(TP_PIPELINE_LAT_BUCKETS - 1) / 8.0));
}
