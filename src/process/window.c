/* window.c - event-time windows (see window.h for the rules).
 *
 * Design. State is a hash map from symbol to a small record (open
 * addressing, linear probing, symbols owned by the record). Each record
 * keeps, per window family (15 s/5 s averages, 1 s candles, 1 min candles),
 * an array of its open windows sorted by start. The arrays stay tiny: a
 * window is dropped as soon as it has been emitted final, and the watermark
 * (newest event time minus the allowed lateness) bounds how far back an
 * open window can start, so a symbol holds about lateness/size + 2 windows
 * per family. Trades mostly arrive in order, so the window a trade belongs
 * to is almost always the last one of the array: the search runs backwards.
 *
 * All families share one window struct: candles use OHLC + sums, averages
 * use only the sums of the v > 0 trades. One add touches the symbol's record
 * (the previous symbol is cached: feeds send runs of one symbol), computes
 * the window starts arithmetically and updates a few doubles; nothing is
 * allocated except when a window or symbol is new.
 *
 * Emission walks every symbol: final windows are emitted and freed; dirty
 * open ones are emitted when the emit interval has passed. Idle symbols are
 * expired at the start of an emit, before anything is collected, so the
 * returned rows never point into freed records.
 *
 * Gaps (tp_windows_gap) are rare: a symbol keeps the few it had recently in
 * a small array, a new window looks at it only when it is not empty, and
 * the open windows a gap overlaps are marked and emitted again. A gap is
 * forgotten once no window that could still open can overlap it. */
#include "process/window.h"

#include "core/config.h"
#include "core/err.h"
#include "process/id.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { FAM_AVG = 0, FAM_C1S, FAM_C1M, NFAM };

typedef struct win {
    int64_t start;
    int64_t count;   /* updates folded (candles: all; averages: v > 0 only) */
    double sum_pv;   /* sum of price*volume over v > 0 */
    double sum_v;    /* sum of volume over v > 0 */
    int64_t count_v; /* trades with v > 0 */
    double open, high, low, close;
    int64_t open_ts, close_ts;
    uint8_t open_id[16], close_id[16]; /* tie-break of open/close on equal times */
    int dirty;
    int emitted;    /* emitted at least once (a new window goes out with its first unit) */
    int sealed;     /* final in the store already (restart): folded into, emitted never */
    int incomplete; /* overlaps a gap of its symbol */
} win;

typedef struct fam_list {
    win *w;
    size_t n, cap;
} fam_list;

typedef struct sym {
    char *name;
    uint32_t len;
    uint64_t hash;
    int64_t last_ts; /* newest event time of this symbol */
    int64_t floor;   /* windows starting before it are complete in the store */
    fam_list fam[NFAM];
    int64_t (*gaps)[2]; /* recent feed gaps [from, to]; usually none */
    size_t ngaps, cap_gaps;
} sym;

typedef struct family {
    int64_t size, slide;
} family;

struct tp_windows {
    tp_window_config cfg;
    family fams[NFAM];
    sym **slots;
    size_t cap, count;
    sym *last; /* lookup cache */
    int64_t max_ts, watermark;
    int64_t last_emit_ms;
    int emitted_once;
    int hold; /* tp_windows_hold: folding does not move the watermark */
    uint64_t expired, skipped;
    tp_average *avg;
    size_t navg, cap_avg;
    tp_candle *cand;
    size_t ncand, cap_cand;
};

void tp_window_config_default(tp_window_config *c) {
    memset(c, 0, sizeof *c);
    c->allowed_lateness_ms = 15000;
    c->emit_interval_ms = 1000;
    c->idle_expiry_ms = 600000;
    c->avg_size_ms = 15000;
    c->avg_slide_ms = 5000;
    c->external_watermark = 0;
}

/* Floor division (event times may be negative in tests). */
static int64_t floordiv(int64_t a, int64_t b) {
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) q--;
    return q;
}

static int64_t sat_sub(int64_t a, int64_t b) {
    if (b > 0 && a < INT64_MIN + b) return INT64_MIN;
    return a - b;
}

tp_windows *tp_windows_new(const tp_window_config *cfg) {
    tp_window_config c;
    if (cfg)
        c = *cfg;
    else
        tp_window_config_default(&c);
    if (c.avg_size_ms <= 0 || c.avg_slide_ms <= 0 || c.allowed_lateness_ms < 0 || c.emit_interval_ms < 0 ||
        c.idle_expiry_ms < 0)
        return NULL;
    tp_windows *w = calloc(1, sizeof(*w));
    if (!w) return NULL;
    w->cfg = c;
    w->fams[FAM_AVG] = (family){c.avg_size_ms, c.avg_slide_ms};
    w->fams[FAM_C1S] = (family){1000, 1000};
    w->fams[FAM_C1M] = (family){60000, 60000};
    w->cap = 64;
    w->slots = calloc(w->cap, sizeof(sym *));
    if (!w->slots) {
        free(w);
        return NULL;
    }
    w->max_ts = INT64_MIN;
    w->watermark = INT64_MIN;
    return w;
}

static void sym_free(sym *s) {
    for (int f = 0; f < NFAM; f++) free(s->fam[f].w);
    free(s->gaps);
    free(s->name);
    free(s);
}

void tp_windows_free(tp_windows *w) {
    if (!w) return;
    for (size_t i = 0; i < w->cap; i++)
        if (w->slots[i]) sym_free(w->slots[i]);
    free(w->slots);
    free(w->avg);
    free(w->cand);
    free(w);
}

static void table_put(sym **slots, size_t cap, sym *s) {
    size_t i = s->hash & (cap - 1);
    while (slots[i]) i = (i + 1) & (cap - 1);
    slots[i] = s;
}

static int table_grow(tp_windows *w) {
    size_t cap = w->cap * 2;
    sym **slots = calloc(cap, sizeof(sym *));
    if (!slots) return TP_ENOMEM;
    for (size_t i = 0; i < w->cap; i++)
        if (w->slots[i]) table_put(slots, cap, w->slots[i]);
    free(w->slots);
    w->slots = slots;
    w->cap = cap;
    return 0;
}

static sym *sym_get(tp_windows *w, tp_str name) {
    if (w->last && tp_str_eq((tp_str){w->last->name, w->last->len}, name)) return w->last;
    uint64_t h = tp_id_hash_bytes(name.ptr, name.len, TP_ID_SEED1);
    size_t i = h & (w->cap - 1);
    while (w->slots[i]) {
        sym *s = w->slots[i];
        if (s->hash == h && s->len == name.len && memcmp(s->name, name.ptr, name.len) == 0) {
            w->last = s;
            return s;
        }
        i = (i + 1) & (w->cap - 1);
    }
    if ((w->count + 1) * 4 > w->cap * 3) { /* load factor 0.75 */
        if (table_grow(w)) return NULL;
    }
    sym *s = calloc(1, sizeof(*s));
    if (!s) return NULL;
    s->name = malloc(name.len + 1);
    if (!s->name) {
        free(s);
        return NULL;
    }
    if (name.len) memcpy(s->name, name.ptr, name.len);
    s->name[name.len] = '\0';
    s->len = name.len;
    s->hash = h;
    s->last_ts = INT64_MIN;
    s->floor = INT64_MIN;
    table_put(w->slots, w->cap, s);
    w->count++;
    w->last = s;
    return s;
}

int tp_window_overlaps_gap(int64_t start_ms, int64_t end_ms, int64_t from_ms, int64_t to_ms) {
    return start_ms <= to_ms && from_ms < end_ms;
}

static int sym_gap_overlaps(const sym *s, int64_t start, int64_t end) {
    for (size_t i = 0; i < s->ngaps; i++)
        if (tp_window_overlaps_gap(start, end, s->gaps[i][0], s->gaps[i][1])) return 1;
    return 0;
}

/* The window of list l starting at start, created if missing (sorted). */
static win *win_get(fam_list *l, int64_t start) {
    size_t i = l->n;
    while (i > 0 && l->w[i - 1].start > start) i--;
    if (i > 0 && l->w[i - 1].start == start) return &l->w[i - 1];
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        win *nw = realloc(l->w, cap * sizeof(win));
        if (!nw) return NULL;
        l->w = nw;
        l->cap = cap;
    }
    memmove(&l->w[i + 1], &l->w[i], (l->n - i) * sizeof(win));
    l->n++;
    win *x = &l->w[i];
    memset(x, 0, sizeof(*x));
    x->start = start;
    return x;
}

/* Order of (ts, id): the open is the smallest, the close the largest, so a
 * candle rebuilt from the store after a restart (trades read back in key
 * order) equals the one folded in arrival order. Equal ids (all zero in
 * tests) fall back to arrival order: open keeps the first, close takes the
 * last. */
static int ts_id_cmp(int64_t ts_a, const uint8_t *id_a, int64_t ts_b, const uint8_t *id_b) {
    if (ts_a != ts_b) return ts_a < ts_b ? -1 : 1;
    return memcmp(id_a, id_b, 16);
}

static void fold_candle(win *x, const tp_trade *t) {
    if (x->count == 0) {
        x->open = x->high = x->low = x->close = t->price;
        x->open_ts = x->close_ts = t->ts_ms;
        memcpy(x->open_id, t->id, 16);
        memcpy(x->close_id, t->id, 16);
    } else {
        if (t->price > x->high) x->high = t->price;
        if (t->price < x->low) x->low = t->price;
        if (ts_id_cmp(t->ts_ms, t->id, x->open_ts, x->open_id) < 0) {
            x->open = t->price;
            x->open_ts = t->ts_ms;
            memcpy(x->open_id, t->id, 16);
        }
        if (ts_id_cmp(t->ts_ms, t->id, x->close_ts, x->close_id) >= 0) {
            x->close = t->price;
            x->close_ts = t->ts_ms;
            memcpy(x->close_id, t->id, 16);
        }
    }
    x->count++;
    if (t->volume > 0) {
        x->sum_v += t->volume;
        x->sum_pv += t->price * t->volume;
        x->count_v++;
    }
    x->dirty = 1;
}

static void fold_avg(win *x, const tp_trade *t) {
    x->count++;
    x->count_v++;
    x->sum_v += t->volume;
    x->sum_pv += t->price * t->volume;
    x->dirty = 1;
}

/* end of the first-ending window of family f containing ts: the start is
 * the smallest multiple of the slide above ts - size */
static int64_t first_end(const family *f, int64_t ts) {
    int64_t lo = sat_sub(ts, f->size);
    if (lo == INT64_MIN) return INT64_MIN; /* far out of any watermark's reach */
    return floordiv(lo, f->slide) * f->slide + f->slide + f->size;
}

/* The newest event time that may move the watermark: the wall clock with
 * clock_bound (INT64_MAX without). */
static int64_t clock_limit(const tp_windows *w) {
    return w->cfg.clock_bound ? tp_now_ms() : INT64_MAX;
}

int tp_windows_add_since(tp_windows *w, const tp_trade *t, size_t n, int64_t floor_ms, size_t *late) {
    size_t nlate = 0;
    int rc = 0;
    int64_t limit = clock_limit(w);
    for (size_t k = 0; k < n; k++) {
        const tp_trade *tr = &t[k];
        if (!isfinite(tr->price) || !isfinite(tr->volume) || tr->volume < 0) {
            w->skipped++;
            continue;
        }
        int64_t ts = tr->ts_ms;
        int64_t wm = w->watermark;
        /* One decision per trade: it is late, and folded nowhere, as soon
         * as the first of its windows to end is final; otherwise every one
         * of its windows is open and it goes into all of them. */
        int is_late = 0;
        for (int f = 0; f < NFAM; f++)
            if (first_end(&w->fams[f], ts) <= wm) is_late = 1;
        if (is_late) {
            nlate++;
            continue;
        }
        sym *s = sym_get(w, tr->symbol);
        if (!s) {
            rc = TP_ENOMEM;
            break;
        }
        if (ts > s->last_ts) s->last_ts = ts;
        for (int f = 0; f < NFAM; f++) {
            const family *fm = &w->fams[f];
            if (f == FAM_AVG && !(tr->volume > 0)) continue;
            /* windows [m*slide, m*slide+size) containing ts, newest first */
            for (int64_t start = floordiv(ts, fm->slide) * fm->slide; start + fm->size > ts;
                 start -= fm->slide) {
                if (start + fm->size <= wm) break;               /* final: this one and older */
                if (start < floor_ms || start < s->floor) break; /* completed by an earlier run */
                win *x = win_get(&s->fam[f], start);
                if (!x) {
                    rc = TP_ENOMEM;
                    goto out;
                }
                if (x->sealed) continue; /* final in the store: stays as it is */
                /* a new window (nothing folded yet) looks at the gaps known so
                 * far; later gaps mark it themselves (tp_windows_gap) */
                if (s->ngaps && !x->count && sym_gap_overlaps(s, start, start + fm->size)) x->incomplete = 1;
                if (f == FAM_AVG)
                    fold_avg(x, tr);
                else
                    fold_candle(x, tr);
            }
        }
        int64_t wts = ts > limit ? limit : ts; /* no later than the wall clock */
        if (wts > w->max_ts) {
            w->max_ts = wts;
            int64_t nwm = sat_sub(wts, w->cfg.allowed_lateness_ms);
            if (!w->cfg.external_watermark && !w->hold && nwm > w->watermark) w->watermark = nwm;
        }
    }
out:
    if (late) *late = nlate;
    return rc;
}

int tp_windows_add(tp_windows *w, const tp_trade *t, size_t n, size_t *late) {
    return tp_windows_add_since(w, t, n, INT64_MIN, late);
}

void tp_windows_advance(tp_windows *w, int64_t event_ms) {
    int64_t limit = clock_limit(w);
    if (event_ms > limit) event_ms = limit;
    int64_t nwm = sat_sub(event_ms, w->cfg.allowed_lateness_ms);
    if (nwm > w->watermark) w->watermark = nwm;
    if (event_ms > w->max_ts) w->max_ts = event_ms;
}

int64_t tp_windows_watermark(const tp_windows *w) {
    return w->watermark;
}

int64_t tp_windows_floor_at(const tp_windows *w, int64_t watermark) {
    int64_t m = INT64_MAX;
    if (watermark == INT64_MIN) return m;
    for (int f = 0; f < NFAM; f++) {
        const family *fm = &w->fams[f];
        /* earliest start s = k*slide with s + size > watermark */
        int64_t s = (floordiv(watermark - fm->size, fm->slide) + 1) * fm->slide;
        if (s < m) m = s;
    }
    return m;
}

int64_t tp_windows_open_since(const tp_windows *w) {
    int64_t m = tp_windows_floor_at(w, w->watermark);
    for (size_t i = 0; i < w->cap; i++) {
        const sym *s = w->slots[i];
        if (!s) continue;
        for (int f = 0; f < NFAM; f++)
            for (size_t j = 0; j < s->fam[f].n; j++) {
                if (s->fam[f].w[j].sealed) continue; /* final already */
                if (s->fam[f].w[j].start < m) m = s->fam[f].w[j].start;
                break;
            }
    }
    return m;
}

int tp_windows_set_floor(tp_windows *w, tp_str symbol, int64_t floor_ms) {
    sym *s = sym_get(w, symbol);
    if (!s) return TP_ENOMEM;
    s->floor = floor_ms;
    return 0;
}

int tp_windows_known(tp_windows *w, tp_str symbol) {
    if (w->last && tp_str_eq((tp_str){w->last->name, w->last->len}, symbol)) return 1;
    uint64_t h = tp_id_hash_bytes(symbol.ptr, symbol.len, TP_ID_SEED1);
    for (size_t i = h & (w->cap - 1); w->slots[i]; i = (i + 1) & (w->cap - 1)) {
        const sym *s = w->slots[i];
        if (s->hash == h && s->len == symbol.len && !memcmp(s->name, symbol.ptr, symbol.len)) return 1;
    }
    return 0;
}

void tp_windows_hold(tp_windows *w, int hold) {
    w->hold = hold;
}

int tp_windows_seal(tp_windows *w, tp_str symbol, int interval_s, int64_t start_ms) {
    int f = interval_s == 0 ? FAM_AVG : interval_s == 1 ? FAM_C1S : interval_s == 60 ? FAM_C1M : -1;
    if (f < 0) return TP_EINVAL;
    if (start_ms + w->fams[f].size <= w->watermark) return 0; /* final here too: nothing to guard */
    sym *s = sym_get(w, symbol);
    if (!s) return TP_ENOMEM;
    win *x = win_get(&s->fam[f], start_ms);
    if (!x) return TP_ENOMEM;
    memset(x, 0, sizeof(*x));
    x->start = start_ms;
    x->sealed = 1;
    return 0;
}

/* Remove slot i from the linear-probing table by backward shift, so no
 * probe chain gets a hole (no tombstones). */
static void table_del(sym **slots, size_t cap, size_t i) {
    size_t mask = cap - 1, j = i;
    slots[i] = NULL;
    for (;;) {
        j = (j + 1) & mask;
        if (!slots[j]) return;
        size_t k = slots[j]->hash & mask; /* home slot of the entry at j */
        /* the entry may move to i unless its home lies cyclically in (i, j] */
        int home_between = (i <= j) ? (i < k && k <= j) : (i < k || k <= j);
        if (!home_between) {
            slots[i] = slots[j];
            slots[j] = NULL;
            i = j;
        }
    }
}

static void expire_idle(tp_windows *w) {
    if (w->max_ts == INT64_MIN) return;
    int64_t horizon = sat_sub(w->max_ts, w->cfg.idle_expiry_ms);
    for (size_t i = 0; i < w->cap; i++) {
        for (;;) { /* a shifted entry may land in slot i: look at it too */
            sym *s = w->slots[i];
            if (!s || s->last_ts > horizon) break;
            if (s->fam[FAM_AVG].n || s->fam[FAM_C1S].n || s->fam[FAM_C1M].n) break;
            if (w->last == s) w->last = NULL;
            table_del(w->slots, w->cap, i);
            sym_free(s);
            w->count--;
            w->expired++;
        }
    }
}

static int push_avg(tp_windows *w, const sym *s, const win *x, int64_t now_ms, int final) {
    if (w->navg == w->cap_avg) {
        size_t cap = w->cap_avg ? w->cap_avg * 2 : 64;
        tp_average *a = realloc(w->avg, cap * sizeof(*a));
        if (!a) return TP_ENOMEM;
        w->avg = a;
        w->cap_avg = cap;
    }
    tp_average *a = &w->avg[w->navg++];
    memset(a, 0, sizeof(*a));
    a->symbol = (tp_str){s->name, s->len};
    a->window_start_ms = x->start;
    a->window_end_ms = x->start + w->fams[FAM_AVG].size;
    a->price_volume_multiply = x->sum_pv / (double)x->count_v;
    a->trade_count = x->count_v;
    a->ingest_ms = now_ms;
    tp_id_make(s->hash, tp_id_hash_bytes(s->name, s->len, TP_ID_SEED2), (uint64_t)x->start,
               0x6176673135ULL /* "avg15" */, a->id);
    a->final = final;
    a->incomplete = x->incomplete;
    return 0;
}

static int push_candle(tp_windows *w, const sym *s, const win *x, int interval_s, int64_t now_ms, int final) {
    if (w->ncand == w->cap_cand) {
        size_t cap = w->cap_cand ? w->cap_cand * 2 : 64;
        tp_candle *c = realloc(w->cand, cap * sizeof(*c));
        if (!c) return TP_ENOMEM;
        w->cand = c;
        w->cap_cand = cap;
    }
    tp_candle *c = &w->cand[w->ncand++];
    memset(c, 0, sizeof(*c));
    c->symbol = (tp_str){s->name, s->len};
    c->interval_s = interval_s;
    c->start_ms = x->start;
    c->open = x->open;
    c->high = x->high;
    c->low = x->low;
    c->close = x->close;
    c->volume = x->sum_v;
    c->vwap = x->sum_v > 0 ? x->sum_pv / x->sum_v : NAN;
    c->trade_count = x->count;
    c->updated_ms = now_ms;
    c->final = final;
    c->incomplete = x->incomplete;
    return 0;
}

int tp_windows_gap(tp_windows *w, tp_str symbol, int64_t from_ms, int64_t to_ms) {
    sym *s = sym_get(w, symbol);
    if (!s) return TP_ENOMEM;
    if (s->ngaps == s->cap_gaps) {
        size_t cap = s->cap_gaps ? s->cap_gaps * 2 : 2;
        int64_t(*g)[2] = realloc(s->gaps, cap * sizeof *g);
        if (!g) return TP_ENOMEM;
        s->gaps = g;
        s->cap_gaps = cap;
    }
    s->gaps[s->ngaps][0] = from_ms;
    s->gaps[s->ngaps][1] = to_ms;
    s->ngaps++;
    if (to_ms > s->last_ts) s->last_ts = to_ms; /* not idle: windows may still open over it */
    for (int f = 0; f < NFAM; f++)
        for (size_t j = 0; j < s->fam[f].n; j++) {
            win *x = &s->fam[f].w[j];
            if (x->sealed || x->incomplete ||
                !tp_window_overlaps_gap(x->start, x->start + w->fams[f].size, from_ms, to_ms))
                continue;
            x->incomplete = 1;
            if (x->emitted) x->dirty = 1; /* the store has it complete: emit it again */
        }
    return 0;
}

int tp_windows_is_open(const tp_windows *w, tp_str symbol, int interval_s, int64_t start_ms) {
    int f = interval_s == 0 ? FAM_AVG : interval_s == 1 ? FAM_C1S : interval_s == 60 ? FAM_C1M : -1;
    if (f < 0) return 0;
    uint64_t h = tp_id_hash_bytes(symbol.ptr, symbol.len, TP_ID_SEED1);
    for (size_t i = h & (w->cap - 1); w->slots[i]; i = (i + 1) & (w->cap - 1)) {
        const sym *s = w->slots[i];
        if (s->hash != h || s->len != symbol.len || memcmp(s->name, symbol.ptr, symbol.len)) continue;
        for (size_t j = 0; j < s->fam[f].n; j++)
            if (s->fam[f].w[j].start == start_ms) return !s->fam[f].w[j].sealed;
        return 0;
    }
    return 0;
}

/* Forget the gaps no window that can still open overlaps: one that opens
 * ends after the watermark, so it starts after watermark - size. */
static void prune_gaps(tp_windows *w, sym *s) {
    int64_t horizon =
        sat_sub(w->watermark, w->fams[FAM_C1M].size > w->fams[FAM_AVG].size ? w->fams[FAM_C1M].size
                                                                            : w->fams[FAM_AVG].size);
    size_t keep = 0;
    for (size_t i = 0; i < s->ngaps; i++)
        if (s->gaps[i][1] >= horizon) {
            s->gaps[keep][0] = s->gaps[i][0];
            s->gaps[keep][1] = s->gaps[i][1];
            keep++;
        }
    s->ngaps = keep;
}

int tp_windows_emit(tp_windows *w, int64_t now_ms, int force, const tp_average **avg, size_t *navg,
                    const tp_candle **candles, size_t *ncandles) {
    expire_idle(w);
    w->navg = w->ncand = 0;
    int due = force || w->cfg.emit_interval_ms == 0 || !w->emitted_once ||
              now_ms - w->last_emit_ms >= w->cfg.emit_interval_ms;
    int rc = 0;
    for (size_t i = 0; i < w->cap && rc == 0; i++) {
        sym *s = w->slots[i];
        if (!s) continue;
        if (s->ngaps) prune_gaps(w, s);
        for (int f = 0; f < NFAM && rc == 0; f++) {
            fam_list *l = &s->fam[f];
            int64_t size = w->fams[f].size;
            size_t keep = 0;
            for (size_t j = 0; j < l->n; j++) {
                win *x = &l->w[j];
                int final = x->start + size <= w->watermark;
                if (x->sealed) {
                    if (!final) l->w[keep++] = *x; /* dropped, never emitted, once final */
                    continue;
                }
                /* A window never emitted goes out with the unit holding its
                 * first trade: then every window with a durable trade has a
                 * row, which is what a restart looks for (oldest non-final). */
                if (rc == 0 && (final || (x->dirty && (due || !x->emitted)))) {
                    if (f == FAM_AVG)
                        rc = push_avg(w, s, x, now_ms, final);
                    else
                        rc = push_candle(w, s, x, f == FAM_C1S ? 1 : 60, now_ms, final);
                    if (rc == 0) {
                        x->dirty = 0;
                        x->emitted = 1;
                    } else
                        final = 0; /* keep it; the next emit retries */
                }
                if (!final) l->w[keep++] = *x;
            }
            l->n = keep;
        }
    }
    if (due && rc == 0) {
        w->last_emit_ms = now_ms;
        w->emitted_once = 1;
    }
    *avg = w->avg;
    *navg = w->navg;
    *candles = w->cand;
    *ncandles = w->ncand;
    return rc;
}

void tp_windows_get_stats(const tp_windows *w, tp_windows_stats *out) {
    memset(out, 0, sizeof(*out));
    out->symbols = w->count;
    for (size_t i = 0; i < w->cap; i++) {
        const sym *s = w->slots[i];
        if (!s) continue;
        for (int f = 0; f < NFAM; f++) out->open_windows += s->fam[f].n;
    }
    out->expired = w->expired;
    out->skipped = w->skipped;
    out->max_event_ms = w->max_ts;
}
