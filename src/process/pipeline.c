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
 * topic's two key hashes are cached because batches of one topic repeat.
 *
 * Restarts. Whatever stopped the previous writer (a clean stop, kill -9, a
 * power loss), the store holds whole units: trades with the window rows
 * computed from them, and every window that holds a stored trade has a
 * row (a window's first emit does not wait for the emit interval). A
 * window can still change if it is not final in the store, and all those
 * start at or after the floor = min(the oldest non-final row, the oldest
 * window not final at the watermark of the stored trades). The rebuild
 * reads the stored trades from the floor back, folds them (watermark held,
 * since they come symbol by symbol), seals the windows the store has as
 * final so they stay as they are, and sets the floor per symbol so nothing
 * is folded into the complete windows before it. The first flush then
 * writes the rebuilt windows whole. With dedupe_rebuilt the ids read back
 * are kept until the watermark has passed every window they are in, so a
 * Kafka record re-delivered after a crash is stored again (idempotent) but
 * not folded twice.
 *
 * Gaps. tp_pipeline_add_gap puts the gap in the unit (feed_gaps) and marks
 * the windows it overlaps incomplete wherever they are: open ones in the
 * window module (emitted again), rows of the pending unit in place, and
 * rows already durable by reading them back from the store at the next
 * flush and writing them again with incomplete = 1 (upserts; a window the
 * window module still holds is left to it, so an older version never
 * replaces a newer one). A rebuild also reads the symbol's stored gaps, so
 * windows rebuilt after a restart stay incomplete. */
#include "process/pipeline.h"

#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/trade_check.h"
#include "feed/dedupe.h"
#include "process/id.h"
#include "sink/store_forms.h"

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

/* Ids of trades folded from the store (dedupe_rebuilt); all-zero = empty. */
typedef struct id_set {
    uint8_t (*slot)[16];
    size_t cap, n; /* cap a power of two */
    int64_t max_ts;
} id_set;

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
    int64_t oldest_pending_us; /* monotonic time the oldest pending trade was added */
    int64_t last_commit_us;    /* how long the last successful unit took to write and commit */
    int64_t last_emit_wm;      /* watermark at the last emit: a change may finalise windows */
    char topic[128];           /* topic of the cached key hashes */
    uint64_t topic_k1, topic_k2;
    int have_topic;
    uint64_t skipped_seen; /* the window module's skipped count already in st */
    _Atomic int stop;
    _Atomic int64_t stop_at_us; /* tp_pipeline_stop_at; 0 = none */
    tp_pipeline_stats st;
    uint64_t lat_hist[TP_PIPELINE_LAT_BUCKETS];
    pipe_metrics m;
    id_set ids;
    tp_batch scratch;       /* rebuild: trades read back, folded in chunks */
    int64_t next_retain_us; /* monotonic time of the next retention step */
    tp_counter *m_retained; /* rows deleted by retention */
    tp_gap_row *gaps;       /* feed gaps of the unit (symbols in pend's arena) */
    size_t ngaps, cap_gaps;
    size_t gaps_resolved; /* gaps[0..gaps_resolved) had their stored windows re-marked */
    int store_gaps;       /* the store keeps feed gaps (write_gaps) */
    tp_counter *m_gaps;
    tp_dedupe *venue;      /* (symbol, venue trade id) added since start or reset; NULL until one */
    tp_counter *m_repeats; /* venue trades added again: not stored or folded twice */
};

void tp_pipeline_config_default(tp_pipeline_config *c) {
    memset(c, 0, sizeof(*c));
    c->store_url = TP_STORE_DEFAULT_URL;
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

void tp_trade_venue_id(tp_str symbol, int64_t trade_id, uint8_t out[16]) {
    const char *p = symbol.ptr ? symbol.ptr : "";
    tp_id_make(tp_id_hash_bytes(p, symbol.len, TP_ID_SEED_VENUE1),
               tp_id_hash_bytes(p, symbol.len, TP_ID_SEED_VENUE2), (uint64_t)trade_id, TP_ID_VENUE_TAG, out);
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
    m->watermark = tp_metrics_gauge_scaled("tickpipe_window_watermark_timestamp_seconds", NULL,
                                           "Event-time watermark: trades before it are late (absent before "
                                           "the first trade)",
                                           1000);
    tp_gauge_clear(m->watermark);
    m->symbols = tp_metrics_gauge("tickpipe_window_symbols", NULL, "Symbols with window state");
    m->open_windows = tp_metrics_gauge("tickpipe_window_open", NULL, "Windows held open");
    m->pending =
        tp_metrics_gauge("tickpipe_store_pending_trades", NULL, "Trades waiting for the next commit");
    m->commit_latency =
        tp_metrics_histogram("tickpipe_store_flush_seconds", NULL,
                             "One observation per unit of work: the seconds to write and commit it");
    m->durable_latency = tp_metrics_histogram(
        "tickpipe_store_durable_latency_seconds", NULL,
        "One observation per 64 trades made durable: the seconds from the trade's receipt to its row "
        "being durable");
}

/* ---- restart: rebuilding open windows from the store ---- */

static uint64_t id_hash(const uint8_t id[16]) {
    uint64_t a, b;
    memcpy(&a, id, 8);
    memcpy(&b, id + 8, 8);
    return tp_id_mix64(a ^ tp_id_mix64(b));
}

static const uint8_t k_zero_id[16];

static int idset_has(const id_set *s, const uint8_t id[16]) {
    if (!s->n) return 0;
    for (size_t h = id_hash(id) & (s->cap - 1); memcmp(s->slot[h], k_zero_id, 16); h = (h + 1) & (s->cap - 1))
        if (!memcmp(s->slot[h], id, 16)) return 1;
    return 0;
}

static int idset_add(id_set *s, const uint8_t id[16], int64_t ts) {
    if (!memcmp(id, k_zero_id, 16)) return 0; /* no id: cannot be re-delivered as the same */
    if ((s->n + 1) * 2 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4096;
        uint8_t(*slot)[16] = calloc(cap, 16);
        if (!slot) return TP_ENOMEM;
        for (size_t i = 0; i < s->cap; i++) {
            if (!memcmp(s->slot[i], k_zero_id, 16)) continue;
            size_t h = id_hash(s->slot[i]) & (cap - 1);
            while (memcmp(slot[h], k_zero_id, 16)) h = (h + 1) & (cap - 1);
            memcpy(slot[h], s->slot[i], 16);
        }
        free(s->slot);
        s->slot = slot;
        s->cap = cap;
    }
    size_t h = id_hash(id) & (s->cap - 1);
    for (; memcmp(s->slot[h], k_zero_id, 16); h = (h + 1) & (s->cap - 1))
        if (!memcmp(s->slot[h], id, 16)) return 0;
    memcpy(s->slot[h], id, 16);
    s->n++;
    if (ts > s->max_ts) s->max_ts = ts;
    return 0;
}

static void idset_clear(id_set *s) {
    free(s->slot);
    memset(s, 0, sizeof *s);
    s->max_ts = INT64_MIN;
}

typedef struct rb_ctx {
    tp_pipeline *p;
    int64_t floor;    /* trades fold into windows starting here or later */
    int64_t min_open; /* oldest non-final window row seen */
    int64_t limit;    /* rows starting later are ignored: dated past the wall clock's bound */
    uint64_t trades;
    int rc;
} rb_ctx;

static int rb_fold(rb_ctx *x) {
    tp_pipeline *p = x->p;
    if (!p->scratch.n) return 0;
    size_t late = 0;
    int rc = tp_windows_add_since(p->win, p->scratch.trades, p->scratch.n, x->floor, &late);
    for (size_t i = 0; i < p->scratch.n && !rc && p->cfg.dedupe_rebuilt; i++)
        rc = idset_add(&p->ids, p->scratch.trades[i].id, p->scratch.trades[i].ts_ms);
    x->trades += p->scratch.n;
    tp_batch_reset(&p->scratch);
    return rc;
}

static int rb_on_trade(void *ud, const tp_trade *t, int64_t ingest_ms) {
    (void)ingest_ms;
    rb_ctx *x = ud;
    if (t->ts_ms > x->limit) return 0; /* stored before the door: reported at start, left out */
    if (!tp_batch_copy_trade(&x->p->scratch, t)) {
        x->rc = TP_ENOMEM;
        return 1;
    }
    if (x->p->scratch.n >= 4096 && (x->rc = rb_fold(x))) return 1;
    return 0;
}

static int rb_open_candle(void *ud, const tp_candle *c) {
    rb_ctx *x = ud;
    if (!c->final && c->start_ms < x->min_open && c->start_ms <= x->limit) x->min_open = c->start_ms;
    return 0;
}

static int rb_open_average(void *ud, const tp_average *a) {
    rb_ctx *x = ud;
    if (!a->final && a->window_start_ms < x->min_open && a->window_start_ms <= x->limit)
        x->min_open = a->window_start_ms;
    return 0;
}

static int rb_seal_candle(void *ud, const tp_candle *c) {
    rb_ctx *x = ud;
    if (c->final && (x->rc = tp_windows_seal(x->p->win, c->symbol, c->interval_s, c->start_ms))) return 1;
    return 0;
}

static int rb_seal_average(void *ud, const tp_average *a) {
    rb_ctx *x = ud;
    if (a->final && (x->rc = tp_windows_seal(x->p->win, a->symbol, 0, a->window_start_ms))) return 1;
    return 0;
}

static int rb_on_gap(void *ud, const tp_gap_row *g) {
    rb_ctx *x = ud;
    return (x->rc = tp_windows_gap(x->p->win, g->symbol, g->from_ms, g->to_ms)) != 0;
}

/* The oldest non-final rows of a symbol are looked for page by page from
 * the newest rows of each family back. A window becomes final when the
 * watermark passes its end, so a writer's open windows are the newest ones
 * of a symbol: the walk stops at the first page that holds no open row (or
 * is not full). It used to read only the newest 1,000 rows, which missed an
 * open window behind more than that (a watermark held back by a slow
 * partition for minutes of 1 s candles), and the rebuild then left it stale. */
#define RB_PAGE 1000

typedef struct rb_page {
    rb_ctx *x;
    size_t n;
    int64_t oldest;
    int open;
} rb_page;

static int rb_page_candle(void *ud, const tp_candle *c) {
    rb_page *pg = ud;
    pg->n++;
    if (c->start_ms < pg->oldest) pg->oldest = c->start_ms;
    if (!c->final) pg->open = 1;
    return rb_open_candle(pg->x, c);
}

static int rb_page_average(void *ud, const tp_average *a) {
    rb_page *pg = ud;
    pg->n++;
    if (a->window_start_ms < pg->oldest) pg->oldest = a->window_start_ms;
    if (!a->final) pg->open = 1;
    return rb_open_average(pg->x, a);
}

/* interval_s 1 or 60: candles; 0: averages. */
static int rb_find_open(tp_pipeline *p, const char *name, int interval_s, rb_ctx *x, char *err,
                        size_t errlen) {
    tp_query q = {.symbol = name, .limit = RB_PAGE, .interval_s = interval_s};
    for (;;) {
        rb_page pg = {.x = x, .oldest = INT64_MAX};
        int rc = interval_s ? tp_sink_query_candles(p->sink, &q, rb_page_candle, &pg, err, errlen)
                            : tp_sink_query_averages(p->sink, &q, rb_page_average, &pg, err, errlen);
        if (rc) return rc;
        if (pg.n < RB_PAGE || !pg.open || pg.oldest == INT64_MAX) return 0;
        q.to_ms = pg.oldest; /* exclusive: the page before this one */
    }
}

/* Rebuild one symbol's windows from the store. floor_hint: the oldest
 * window not final at the stored trades' watermark (INT64_MAX: none). */
static int rebuild_symbol(tp_pipeline *p, const char *name, int64_t floor_hint, uint64_t *ntrades, char *err,
                          size_t errlen) {
    tp_str sym = {name, (uint32_t)strlen(name)};
    rb_ctx x = {.p = p, .floor = floor_hint, .min_open = INT64_MAX, .limit = INT64_MAX};
    if (p->cfg.win.max_ahead_ms > 0) x.limit = tp_now_ms() + p->cfg.win.max_ahead_ms;
    int rc = rb_find_open(p, name, 1, &x, err, errlen);
    if (!rc) rc = rb_find_open(p, name, 60, &x, err, errlen);
    if (!rc) rc = rb_find_open(p, name, 0, &x, err, errlen);
    if (rc) return rc;
    tp_query q;
    if (x.min_open < x.floor) x.floor = x.min_open;
    if (x.floor == INT64_MAX) return tp_windows_set_floor(p->win, sym, INT64_MIN); /* nothing open */
    q = (tp_query){.symbol = name, .from_ms = x.floor, .interval_s = 1};
    rc = tp_sink_query_candles(p->sink, &q, rb_seal_candle, &x, err, errlen);
    q.interval_s = 60;
    if (!rc && !x.rc) rc = tp_sink_query_candles(p->sink, &q, rb_seal_candle, &x, err, errlen);
    if (!rc && !x.rc) rc = tp_sink_query_averages(p->sink, &q, rb_seal_average, &x, err, errlen);
    if (!rc && !x.rc) rc = tp_sink_query_trades(p->sink, &q, rb_on_trade, &x, err, errlen);
    if (!rc && !x.rc) x.rc = rb_fold(&x);
    tp_batch_reset(&p->scratch);
    if (!rc && x.rc) rc = tp_seterr(err, errlen, x.rc, "out of memory rebuilding the windows of %s", name);
    if (!rc) rc = tp_windows_set_floor(p->win, sym, x.floor);
    if (!rc && tp_sink_can_query_gaps(p->sink)) {
        /* the stored gaps of the windows that can still change */
        q = (tp_query){.symbol = name, .from_ms = x.floor == INT64_MIN ? 0 : x.floor - 60000};
        x.rc = 0;
        rc = tp_sink_query_gaps(p->sink, &q, rb_on_gap, &x, err, errlen);
        if (!rc && x.rc)
            rc = tp_seterr(err, errlen, x.rc, "out of memory rebuilding the windows of %s", name);
    }
    if (!rc) {
        p->st.rebuilt_symbols++;
        p->st.rebuilt_trades += x.trades;
        if (ntrades) *ntrades = x.trades;
    }
    return rc;
}

typedef struct rb_latest {
    tp_batch names; /* arena for the symbol names */
    const char **name;
    int64_t *last_ts;
    size_t n, cap;
    int rc;
} rb_latest;

static int rb_on_latest(void *ud, const tp_symbol_info *si) {
    rb_latest *l = ud;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        const char **nn = realloc(l->name, cap * sizeof *nn);
        if (nn) l->name = nn;
        int64_t *nt = nn ? realloc(l->last_ts, cap * sizeof *nt) : NULL;
        if (nt) l->last_ts = nt;
        if (!nn || !nt) {
            l->rc = TP_ENOMEM;
            return 1;
        }
        l->cap = cap;
    }
    const char *s = tp_batch_strdup(&l->names, si->symbol.ptr, si->symbol.len);
    if (!s) {
        l->rc = TP_ENOMEM;
        return 1;
    }
    l->name[l->n] = s;
    l->last_ts[l->n++] = si->last_ts_ms;
    return 0;
}

/* The stored symbols a rebuild can use: rows no query can reach (a symbol
 * the door would reject, stored before it existed) are skipped with a
 * warning, and a symbol's newest trade dated past the wall clock's bound
 * (cfg.win.max_ahead_ms) does not move the watermark. Returns the newest
 * usable event time (INT64_MIN: none). */
static int64_t rb_usable(tp_pipeline *p, rb_latest *l) {
    int64_t max_ts = INT64_MIN, limit = INT64_MAX, newest_bad = INT64_MIN;
    if (p->cfg.win.max_ahead_ms > 0) limit = tp_now_ms() + p->cfg.win.max_ahead_ms;
    size_t kept = 0, bad_symbols = 0, future = 0;
    for (size_t i = 0; i < l->n; i++) {
        tp_reject why = tp_symbol_check(l->name[i], strlen(l->name[i]));
        if (why) {
            char sample[80];
            tp_log_sample(l->name[i], strlen(l->name[i]), 40, sample, sizeof sample);
            if (++bad_symbols <= 10)
                tp_warn(MOD, "store %s: skipping the stored rows of symbol \"%s\" (%s): not rebuilt",
                        tp_sink_scheme(p->sink), sample, tp_reject_text(why));
            continue;
        }
        if (l->last_ts[i] > limit) {
            future++;
            if (l->last_ts[i] > newest_bad) newest_bad = l->last_ts[i];
        } else if (l->last_ts[i] > max_ts) {
            max_ts = l->last_ts[i];
        }
        l->name[kept] = l->name[i];
        l->last_ts[kept++] = l->last_ts[i];
    }
    l->n = kept;
    if (bad_symbols)
        tp_warn(MOD, "store %s: %zu stored symbol(s) fail the trade checks and were skipped",
                tp_sink_scheme(p->sink), bad_symbols);
    if (future)
        tp_warn(MOD,
                "store %s: %zu symbol(s) have stored trades dated after now + %lld ms (the newest at %lld): "
                "those trades are ignored for the watermark and not folded into windows",
                tp_sink_scheme(p->sink), future, (long long)p->cfg.win.max_ahead_ms, (long long)newest_bad);
    return max_ts;
}

/* TP_REBUILD_ALL: every symbol of the store, at open. */
static int rebuild_all(tp_pipeline *p, char *err, size_t errlen) {
    rb_latest l = {0};
    tp_batch_init(&l.names);
    int64_t t0 = tp_now_ms();
    int rc = tp_sink_query_latest(p->sink, rb_on_latest, &l, err, errlen);
    if (!rc && l.rc) rc = tp_seterr(err, errlen, l.rc, "out of memory listing the stored symbols");
    int64_t max_ts = rc ? INT64_MIN : rb_usable(p, &l);
    if (!rc && l.n) {
        int64_t wm = max_ts == INT64_MIN ? INT64_MIN : max_ts - p->cfg.win.allowed_lateness_ms;
        int64_t hint = max_ts == INT64_MIN ? INT64_MAX : tp_windows_floor_at(p->win, wm);
        tp_windows_hold(p->win, 1);
        for (size_t i = 0; i < l.n && !rc; i++) {
            rc = rebuild_symbol(p, l.name[i], hint, NULL, err, errlen);
            if (rc == TP_EINVAL || rc == TP_EPARSE) {
                /* a row this store cannot give back: skip the symbol, never stop the start */
                tp_warn(MOD, "store %s: cannot rebuild the windows of %s (%s): skipped",
                        tp_sink_scheme(p->sink), l.name[i], err);
                rc = 0;
            }
        }
        tp_windows_hold(p->win, 0);
        if (!rc && !p->cfg.win.external_watermark && max_ts != INT64_MIN) tp_windows_advance(p->win, max_ts);
        tp_windows_stats ws;
        tp_windows_get_stats(p->win, &ws);
        if (!rc)
            tp_info(MOD,
                    "store %s: rebuilt %zu open windows of %zu symbols from %llu stored trades in %.1f s "
                    "(newest stored trade at %lld)",
                    tp_sink_scheme(p->sink), ws.open_windows, l.n, (unsigned long long)p->st.rebuilt_trades,
                    (double)(tp_now_ms() - t0) / 1000.0, (long long)max_ts);
    }
    free(l.name);
    free(l.last_ts);
    tp_batch_free(&l.names);
    return rc;
}

static int last_trade_ts(void *ud, const tp_trade *t, int64_t ingest_ms) {
    (void)ingest_ms;
    *(int64_t *)ud = t->ts_ms;
    return 0;
}

static void sleep_ms(int64_t ms);
static int stopped(const tp_pipeline *p);
static void retain_step(tp_pipeline *p);

/* TP_REBUILD_LAZY: the first trade of a symbol (since start or reset)
 * rebuilds that symbol. A store that fails is retried with backoff, as a
 * flush is: folding without the stored trades would not be exact. */
static int rebuild_lazy(tp_pipeline *p, const tp_trade *t, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (tp_windows_known(p->win, t[i].symbol)) continue;
        char *name = malloc(t[i].symbol.len + 1);
        if (!name) return TP_ENOMEM;
        memcpy(name, t[i].symbol.ptr, t[i].symbol.len);
        name[t[i].symbol.len] = '\0';
        char err[512];
        int64_t backoff = BACKOFF_MIN_MS;
        for (;;) {
            int64_t last = INT64_MIN;
            tp_query q = {.symbol = name, .limit = 1};
            int rc = tp_sink_query_trades(p->sink, &q, last_trade_ts, &last, err, sizeof err);
            uint64_t nt = 0;
            if (!rc && p->cfg.win.max_ahead_ms > 0 && last != INT64_MIN &&
                last > tp_now_ms() + p->cfg.win.max_ahead_ms)
                last = tp_now_ms() + p->cfg.win.max_ahead_ms; /* a trade stored before the door existed */
            if (!rc) {
                int64_t hint = last == INT64_MIN
                                   ? INT64_MAX
                                   : tp_windows_floor_at(p->win, last - p->cfg.win.allowed_lateness_ms);
                tp_windows_hold(p->win, 1);
                rc = rebuild_symbol(p, name, hint, &nt, err, sizeof err);
                tp_windows_hold(p->win, 0);
            }
            if (!rc) {
                if (nt)
                    tp_debug(MOD, "rebuilt the open windows of %s from %llu stored trades", name,
                             (unsigned long long)nt);
                break;
            }
            if (rc == TP_ENOMEM || stopped(p)) {
                free(name);
                return rc == TP_ENOMEM ? rc : 0;
            }
            if (rc == TP_EINVAL || rc == TP_EPARSE) {
                /* not the store being away: a retry would give the same; never stall */
                tp_warn(MOD,
                        "store %s: cannot rebuild the windows of %s (%s): going on without its stored rows",
                        tp_sink_scheme(p->sink), name, err);
                rc = tp_windows_set_floor(p->win, t[i].symbol, INT64_MIN);
                if (rc) {
                    free(name);
                    return rc;
                }
                break;
            }
            tp_warn(MOD,
                    "store %s: cannot read back the stored trades of %s to rebuild its windows (%s); retry "
                    "in %.1f s",
                    tp_sink_scheme(p->sink), name, err, (double)backoff / 1000.0);
            for (int64_t slept = 0; slept < backoff && !stopped(p); slept += 50) sleep_ms(50);
            backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
        }
        free(name);
    }
    return 0;
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
    tp_batch_init(&p->scratch);
    idset_clear(&p->ids);
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
    if (!tp_sink_can_read(p->sink)) p->cfg.rebuild = TP_REBUILD_OFF; /* a write-only store */
    if (p->cfg.rebuild == TP_REBUILD_ALL && (rc = rebuild_all(p, err, errlen))) {
        tp_pipeline_free(p);
        return rc;
    }
    p->last_flush_ms = tp_now_ms();
    p->last_emit_wm = INT64_MIN;
    p->st.watermark_ms = INT64_MIN;
    metrics_init(&p->m);
    p->m_retained = tp_metrics_counter("tickpipe_store_retention_deleted_total", NULL,
                                       "Rows deleted because they were older than the retention");
    p->m_gaps = tp_metrics_counter("tickpipe_window_gaps_total", NULL,
                                   "Feed gaps the processing stage took (stored where the store keeps them)");
    p->m_repeats =
        tp_metrics_counter("tickpipe_window_venue_repeats_total", NULL,
                           "Trades whose venue trade id was already added: not stored or folded again");
    p->store_gaps = tp_sink_can_write_gaps(p->sink);
    /* before the first write: a store that expires rows by TTL needs the
     * retention for it, and the others delete what expired while stopped */
    retain_step(p);
    *out = p;
    return 0;
}

void tp_pipeline_free(tp_pipeline *p) {
    if (!p) return;
    tp_sink_close(p->sink);
    tp_windows_free(p->win);
    tp_batch_free(&p->pend);
    tp_batch_free(&p->scratch);
    idset_clear(&p->ids);
    free(p->avg);
    free(p->cand);
    free(p->gaps);
    free(p->avg_ix.slot);
    free(p->cand_ix.slot);
    tp_dedupe_free(p->venue);
    free(p);
}

void tp_pipeline_stop(tp_pipeline *p) {
    atomic_store(&p->stop, 1);
}

void tp_pipeline_stop_at(tp_pipeline *p, int64_t at_us) {
    atomic_store(&p->stop_at_us, at_us > 0 ? at_us : 1);
}

static int stopped(const tp_pipeline *p) {
    tp_pipeline *q = (tp_pipeline *)p;
    if (atomic_load(&q->stop)) return 1;
    int64_t at = atomic_load(&q->stop_at_us);
    return at && tp_mono_us() >= at;
}

int tp_pipeline_stopped(const tp_pipeline *p) {
    return stopped(p);
}

/* ---- adding ---- */

int tp_pipeline_add_since(tp_pipeline *p, const tp_batch *b, int64_t floor_ms) {
    return tp_pipeline_add_masked(p, b, floor_ms, NULL);
}

/* Fold the runs of trades t[0..n) that were not read back from the store
 * (those are counted as deduped). */
/* A venue trade added before (same symbol and venue trade id, since start
 * or the last window reset): its first copy is pending or durable and
 * folded, so this one is neither stored nor folded. Ids below the window
 * (feed/dedupe.h) are kept: the store's upsert on the id drops a repeat,
 * and a trade is never lost on a guess. */
static int venue_repeat(tp_pipeline *p, const tp_trade *t) {
    if (!p->venue && tp_dedupe_new(16, 0, &p->venue)) return 0;
    if (tp_dedupe_id_check(p->venue, t->symbol, t->trade_id) != TP_DEDUPE_ID_SEEN) return 0;
    p->st.venue_repeats++;
    tp_counter_add(p->m_repeats, 1);
    return 1;
}

static int fold_runs(tp_pipeline *p, const tp_trade *t, size_t n, int64_t floor_ms, size_t *late) {
    int rc = 0;
    for (size_t i = 0; i < n && !rc;) {
        if (idset_has(&p->ids, t[i].id)) {
            p->st.deduped++;
            i++;
            continue;
        }
        size_t j = i + 1, l = 0;
        while (j < n && !idset_has(&p->ids, t[j].id)) j++;
        rc = tp_windows_add_since(p->win, &t[i], j - i, floor_ms, &l);
        *late += l;
        i = j;
    }
    return rc;
}

int tp_pipeline_add_masked(tp_pipeline *p, const tp_batch *b, int64_t floor_ms, const unsigned char *keep) {
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
    size_t first = p->pend.n, added = 0;
    for (size_t i = 0; i < b->n; i++) {
        if (keep && !keep[i]) continue;
        if (b->trades[i].trade_id && venue_repeat(p, &b->trades[i])) continue;
        tp_trade *t = tp_batch_copy_trade(&p->pend, &b->trades[i]);
        if (!t) {
            tp_batch_rewind(&p->pend, mark);
            return TP_ENOMEM;
        }
        if (!t->recv_ms) t->recv_ms = b->recv_ms;
        /* a venue's own trade id names the trade wherever it came from;
         * else the id keeps the trade's index in its record, masked or not */
        if (t->trade_id)
            tp_trade_venue_id(t->symbol, t->trade_id, t->id);
        else
            id_from_keys(p->topic_k1, p->topic_k2, o, (uint32_t)i, t->id);
        added++;
    }
    if (!added) return 0;
    int rc = 0;
    const tp_trade *t = &p->pend.trades[first];
    if (p->cfg.rebuild == TP_REBUILD_LAZY) rc = rebuild_lazy(p, t, added);
    size_t late = 0;
    if (!rc && !p->ids.n)
        rc = tp_windows_add_since(p->win, t, added, floor_ms, &late);
    else if (!rc)
        rc = fold_runs(p, t, added, floor_ms, &late); /* skip the trades read back from the store */
    if (rc) {
        /* Windows may hold part of the batch; the trades stay pending so the
         * store still gets them. Out of memory is fatal for the caller. */
        return rc;
    }
    if (!first) p->oldest_pending_us = tp_mono_us();
    p->st.trades += added;
    p->st.late += late;
    tp_counter_add(p->m.trades, added);
    if (late) tp_counter_add(p->m.late, late);
    tp_gauge_set(p->m.pending, (int64_t)p->pend.n);
    return 0;
}

/* Mark the pending window rows of g's symbol that overlap it. */
static void mark_pending(tp_pipeline *p, const tp_gap_row *g) {
    for (size_t i = 0; i < p->ncand; i++) {
        tp_candle *c = &p->cand[i];
        if (tp_str_eq(c->symbol, g->symbol) &&
            tp_window_overlaps_gap(c->start_ms, c->start_ms + (int64_t)c->interval_s * 1000, g->from_ms,
                                   g->to_ms))
            c->incomplete = 1;
    }
    for (size_t i = 0; i < p->navg; i++) {
        tp_average *a = &p->avg[i];
        if (tp_str_eq(a->symbol, g->symbol) &&
            tp_window_overlaps_gap(a->window_start_ms, a->window_end_ms, g->from_ms, g->to_ms))
            a->incomplete = 1;
    }
}

static int merge_average(tp_pipeline *p, const tp_average *a);
static int merge_candle(tp_pipeline *p, const tp_candle *c);

typedef struct remark_ctx {
    tp_pipeline *p;
    const tp_gap_row *g;
    int64_t now_ms;
    int rc;
} remark_ctx;

/* A stored window row: if it overlaps the gap and nothing newer of it is
 * pending or held open, write it again marked incomplete. */
static int remark_candle(void *ud, const tp_candle *c) {
    remark_ctx *x = ud;
    if (c->incomplete || !tp_window_overlaps_gap(c->start_ms, c->start_ms + (int64_t)c->interval_s * 1000,
                                                 x->g->from_ms, x->g->to_ms))
        return 0;
    for (size_t i = 0; i < x->p->ncand; i++) {
        const tp_candle *y = &x->p->cand[i];
        if (y->start_ms == c->start_ms && y->interval_s == c->interval_s && tp_str_eq(y->symbol, c->symbol))
            return 0; /* pending: marked by mark_pending */
    }
    if (tp_windows_is_open(x->p->win, c->symbol, c->interval_s, c->start_ms)) return 0;
    tp_candle m = *c;
    m.incomplete = 1;
    m.updated_ms = x->now_ms;
    return (x->rc = merge_candle(x->p, &m)) != 0;
}

static int remark_average(void *ud, const tp_average *a) {
    remark_ctx *x = ud;
    if (a->incomplete ||
        !tp_window_overlaps_gap(a->window_start_ms, a->window_end_ms, x->g->from_ms, x->g->to_ms))
        return 0;
    for (size_t i = 0; i < x->p->navg; i++)
        if (!memcmp(x->p->avg[i].id, a->id, 16)) return 0;
    if (tp_windows_is_open(x->p->win, a->symbol, 0, a->window_start_ms)) return 0;
    tp_average m = *a;
    m.incomplete = 1;
    m.ingest_ms = x->now_ms;
    return (x->rc = merge_average(x->p, &m)) != 0;
}

/* The durable windows of the unit's new gaps, re-marked (part of a write
 * attempt: a failed read fails the attempt, which is retried whole). */
static int resolve_gaps(tp_pipeline *p, int64_t now_ms, char *err, size_t errlen) {
    if (p->gaps_resolved == p->ngaps || !tp_sink_can_read(p->sink)) return 0;
    for (size_t i = p->gaps_resolved; i < p->ngaps; i++) {
        const tp_gap_row *g = &p->gaps[i];
        char sym[256];
        if (g->symbol.len >= sizeof sym) continue;
        memcpy(sym, g->symbol.ptr, g->symbol.len);
        sym[g->symbol.len] = '\0';
        remark_ctx x = {.p = p, .g = g, .now_ms = now_ms};
        /* windows that may overlap: starting after from - size, at or before to */
        tp_query q = {.symbol = sym, .from_ms = g->from_ms - 999, .to_ms = g->to_ms + 1, .interval_s = 1};
        int rc = tp_sink_query_candles(p->sink, &q, remark_candle, &x, err, errlen);
        q.from_ms = g->from_ms - 59999;
        q.interval_s = 60;
        if (!rc && !x.rc) rc = tp_sink_query_candles(p->sink, &q, remark_candle, &x, err, errlen);
        q.from_ms = g->from_ms - p->cfg.win.avg_size_ms + 1;
        if (!rc && !x.rc) rc = tp_sink_query_averages(p->sink, &q, remark_average, &x, err, errlen);
        if (!rc && x.rc) rc = tp_seterr(err, errlen, x.rc, "out of memory marking the windows of a gap");
        if (rc) return rc;
    }
    p->gaps_resolved = p->ngaps;
    return 0;
}

int tp_pipeline_add_gap(tp_pipeline *p, const tp_gap_row *g) {
    if (p->ngaps == p->cap_gaps) {
        size_t cap = p->cap_gaps ? p->cap_gaps * 2 : 16;
        tp_gap_row *n = realloc(p->gaps, cap * sizeof *n);
        if (!n) return TP_ENOMEM;
        p->gaps = n;
        p->cap_gaps = cap;
    }
    const char *sym = tp_batch_strdup(&p->pend, g->symbol.ptr, g->symbol.len);
    if (!sym) return TP_ENOMEM;
    tp_gap_row *x = &p->gaps[p->ngaps++];
    *x = *g;
    x->symbol.ptr = sym;
    if (p->cfg.rebuild == TP_REBUILD_LAZY) {
        /* the gap usually comes before the symbol's first trade after it:
         * rebuild the symbol now, as that trade would */
        tp_trade t;
        memset(&t, 0, sizeof t);
        t.symbol = x->symbol;
        int rc = rebuild_lazy(p, &t, 1);
        if (rc) return rc;
    }
    int rc = tp_windows_gap(p->win, x->symbol, x->from_ms, x->to_ms);
    if (rc) return rc;
    mark_pending(p, x);
    if (!p->store_gaps && !p->st.gaps)
        tp_info(MOD,
                "the %s store keeps no feed gaps: they are logged and counted, and the windows they "
                "overlap marked incomplete",
                tp_sink_scheme(p->sink));
    p->st.gaps++;
    tp_counter_add(p->m_gaps, 1);
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
    /* the rebuild's read-back ids (dedupe_rebuilt) take over for trades
     * already durable; the venue ids seen start again */
    tp_dedupe_free(p->venue);
    p->venue = NULL;
    return 0;
}

/* The least a unit collects for, even after a commit that took less (the
 * null store, a fast server): every flush also looks over every open
 * window for rows to emit, and a flush per record made that scan most of
 * process's CPU (6x slower into the null store); 1 ms adds at most that to
 * receipt -> durable. */
#define GROUP_COMMIT_MIN_US 1000

int64_t tp_pipeline_flush_in_us(const tp_pipeline *p) {
    if (!p->pend.n) return -1;
    if (p->pend.n >= p->cfg.flush_max_trades) return 0;
    /* As long as the previous commit took (at least GROUP_COMMIT_MIN_US), at
     * most the flush interval: what a committer running beside the reader
     * would have collected meanwhile. */
    int64_t wait = !p->last_commit_us                        ? 0 /* the first unit: at once */
                   : p->last_commit_us > GROUP_COMMIT_MIN_US ? p->last_commit_us
                                                             : GROUP_COMMIT_MIN_US;
    if (wait > p->cfg.flush_interval_ms * 1000) wait = p->cfg.flush_interval_ms * 1000;
    int64_t left = p->oldest_pending_us + wait - tp_mono_us();
    return left > 0 ? left : 0;
}

int tp_pipeline_flush_due(const tp_pipeline *p, int64_t now_ms) {
    if (tp_pipeline_flush_in_us(p) == 0) return 1;
    if (now_ms - p->last_flush_ms < p->cfg.flush_interval_ms) return 0;
    /* Interval elapsed: worth a flush if there is anything to write or the
     * watermark moved (windows may have become final). */
    return p->pend.n > 0 || p->navg > 0 || p->ncand > 0 || p->ngaps > 0 ||
           tp_windows_watermark(p->win) != p->last_emit_wm;
}

size_t tp_pipeline_pending(const tp_pipeline *p) {
    return p->pend.n;
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
    /* reads first: no store has a unit open yet */
    int rc = resolve_gaps(p, now_ms, err, errlen);
    if (!rc && p->ngaps && p->store_gaps) rc = tp_sink_write_gaps(p->sink, p->gaps, p->ngaps, err, errlen);
    if (!rc) rc = tp_sink_write_trades(p->sink, p->pend.trades, p->pend.n, now_ms, err, errlen);
    if (!rc) rc = tp_sink_write_averages(p->sink, p->avg, p->navg, err, errlen);
    if (!rc) rc = tp_sink_write_candles(p->sink, p->cand, p->ncand, err, errlen);
    if (!rc) rc = tp_sink_commit(p->sink, err, errlen);
    return rc;
}

#define RETAIN_ROWS 2000

/* One step of retention, between units (the store has no unit open). */
static void retain_step(tp_pipeline *p) {
    const tp_retention *r = &p->cfg.retention;
    if (r->trades_ms <= 0 && r->candles_1s_ms <= 0 && r->candles_1m_ms <= 0 && r->averages_ms <= 0 &&
        r->gaps_ms <= 0)
        return;
    int64_t now = tp_mono_us();
    if (now < p->next_retain_us) return;
    uint64_t deleted = 0;
    char err[512] = "";
    int rc = tp_sink_retain(p->sink, r, tp_now_ms(), RETAIN_ROWS, &deleted, err, sizeof err);
    if (rc) {
        tp_warn(MOD, "store %s: retention step failed (%s); tried again in 60 s", tp_sink_scheme(p->sink),
                err[0] ? err : tp_strerror(rc));
        p->next_retain_us = now + 60000000;
        return;
    }
    if (deleted) tp_counter_add(p->m_retained, deleted);
    /* with a backlog soon again; else every 30 s, or a quarter of the
     * shortest retention if that is sooner (short retention in tests) */
    int64_t idle_us = 30000000;
    const int64_t keep[] = {r->trades_ms, r->candles_1s_ms, r->candles_1m_ms, r->averages_ms, r->gaps_ms};
    for (int i = 0; i < 5; i++)
        if (keep[i] > 0 && keep[i] * 250 < idle_us) idle_us = keep[i] * 250;
    p->next_retain_us = now + (deleted >= RETAIN_ROWS || idle_us < 200000 ? 200000 : idle_us);
}

void tp_pipeline_retain(tp_pipeline *p) {
    retain_step(p);
}

static void after_commit(tp_pipeline *p, int64_t t0_us) {
    int64_t now = tp_now_ms();
    tp_histogram_observe_us(p->m.commit_latency, (uint64_t)(tp_mono_us() - t0_us));
    int64_t prev_recv = INT64_MIN;
    size_t bucket = 0;
    for (size_t i = 0; i < p->pend.n; i++) {
        int64_t r = p->pend.trades[i].recv_ms;
        if (r != prev_recv) { /* trades of one record share it: one log2 per record */
            bucket = tp_loghist_bucket(now - r);
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
    p->ngaps = p->gaps_resolved = 0;
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
                 tp_windows_watermark(p->win) == INT64_MIN ? TP_GAUGE_ABSENT : tp_windows_watermark(p->win));
    if (ws.skipped > p->skipped_seen) {
        tp_counter_add(p->m.skipped, ws.skipped - p->skipped_seen);
        p->st.skipped += ws.skipped - p->skipped_seen;
        p->skipped_seen = ws.skipped;
    }
    /* every window holding a trade read back is final: no fold can reach it */
    if (p->ids.n && tp_windows_watermark(p->win) != INT64_MIN &&
        tp_windows_floor_at(p->win, tp_windows_watermark(p->win)) > p->ids.max_ts)
        idset_clear(&p->ids);
    if (!p->pend.n && !p->navg && !p->ncand && !p->ngaps) {
        retain_step(p);
        return 0;
    }

    int64_t backoff = BACKOFF_MIN_MS;
    int64_t first_fail_ms = 0;
    unsigned attempt = 0;
    char err[512];
    for (;;) {
        int64_t t0 = tp_mono_us();
        err[0] = '\0';
        rc = write_unit(p, tp_now_ms(), err, sizeof err);
        if (!rc) {
            p->last_commit_us = tp_mono_us() - t0;
            if (p->last_commit_us < 1) p->last_commit_us = 1; /* 0: no commit yet */
            if (attempt) tp_health_set(p->cfg.health, TP_HEALTH_STORE, 1, NULL);
            if (attempt)
                tp_info(
                    MOD,
                    "store %s is writable again after %u failed attempt%s (%.1f s); %zu trades made durable",
                    tp_sink_scheme(p->sink), attempt, attempt == 1 ? "" : "s",
                    (double)(tp_now_ms() - first_fail_ms) / 1000.0, p->pend.n);
            after_commit(p, t0);
            tp_gauge_set(p->m.pending, 0);
            retain_step(p);
            return 0;
        }
        if (!attempt) first_fail_ms = tp_now_ms();
        if (p->cfg.health) {
            char detail[600];
            snprintf(detail, sizeof detail, "%s: %s", tp_strerror(rc), err[0] ? err : "no detail");
            tp_health_set(p->cfg.health, TP_HEALTH_STORE, 0, detail);
        }
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
    return tp_loghist_quantile(s->latency_hist, q);
}
