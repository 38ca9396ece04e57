/* http_push.c - live push fan-out to /ws clients (see http_internal.h).
 *
 * Two hand-offs reach the service thread, both under tp_http.lock and both
 * bounded (the oldest entry goes when full, counted in
 * tickpipe_http_ws_dropped_total):
 *   - rows from publishers (the pipeline in `run`): tp_http_publish_*()
 *     copies the rows into one tp_http_rows and returns; the caller never
 *     formats JSON and never waits on a browser;
 *   - ready messages from the store tailer (serve).
 * Either one wakes the service thread with lws_cancel_service(); the
 * service thread then serialises the rows (one message per symbol, its
 * newest TP_HTTP_PUSH_MAX_ROWS rows) and puts every message on each client
 * queue whose symbol filter it passes. A client queue is bounded too and
 * drops its oldest message, so a slow browser costs a fixed amount of
 * memory and never slows the pipeline.
 *
 * The stats message (pipeline health, once a second and at connect) is
 * built here as well, on the service thread. */
#include "http/http_internal.h"

#include "core/config.h"
#include "core/err.h"
#include "core/log.h"

#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { ROWS_TRADES, ROWS_CANDLES, ROWS_AVERAGES };

struct tp_http_rows {
    tp_http_rows *next;
    int kind;
    int64_t ingest_ms; /* trades: when they were made durable */
    size_t n;
    void *rows; /* kind's row type, n of them, in b (trades: b.trades) */
    tp_batch b; /* owns the copies */
};

/* ---- messages ---- */

tp_http_msg *tp_http_msg_new(const char *sym, size_t symlen, json_t *j) {
    char *text = json_dumps(j, TP_HTTP_JSON_FLAGS);
    json_decref(j);
    if (!text) return NULL;
    size_t len = strlen(text);
    tp_http_msg *m = malloc(sizeof *m + LWS_PRE + len);
    if (!m) {
        free(text);
        return NULL;
    }
    m->refs = 1;
    m->sym = sym ? strndup(sym, symlen) : NULL;
    m->len = len;
    memcpy(m->buf + LWS_PRE, text, len);
    free(text);
    if (sym && !m->sym) {
        free(m);
        return NULL;
    }
    return m;
}

void tp_http_msg_unref(tp_http_msg *m) {
    if (m && --m->refs == 0) {
        free(m->sym);
        free(m);
    }
}

/* ---- client queues [svc] ---- */

void tp_http_client_push(tp_http *h, tp_http_client *c, tp_http_msg *m) {
    if (m->sym && c->filter[0] && strcmp(c->filter, m->sym) != 0) return;
    if (c->n == TP_HTTP_CLIENT_QUEUE) { /* slow browser: drop the oldest */
        tp_http_msg_unref(c->q[c->head]);
        c->head = (c->head + 1) % TP_HTTP_CLIENT_QUEUE;
        c->n--;
        tp_counter_add(h->m_ws_dropped, 1);
    }
    m->refs++;
    c->q[(c->head + c->n) % TP_HTTP_CLIENT_QUEUE] = m;
    c->n++;
    lws_callback_on_writable(c->wsi);
}

void tp_http_broadcast(tp_http *h, tp_http_msg *m) {
    for (tp_http_client *c = h->clients; c; c = c->next) tp_http_client_push(h, c, m);
}

/* ---- rows to messages [svc] ---- */

static void rows_free(tp_http_rows *r) {
    if (!r) return;
    tp_batch_free(&r->b);
    free(r);
}

static size_t row_size(int kind) {
    return kind == ROWS_TRADES    ? sizeof(tp_trade)
           : kind == ROWS_CANDLES ? sizeof(tp_candle)
                                  : sizeof(tp_average);
}

static const tp_str *row_symbol(int kind, const void *row) {
    return kind == ROWS_TRADES    ? &((const tp_trade *)row)->symbol
           : kind == ROWS_CANDLES ? &((const tp_candle *)row)->symbol
                                  : &((const tp_average *)row)->symbol;
}

static json_t *row_json(const tp_http_rows *r, const void *row) {
    return r->kind == ROWS_TRADES    ? tp_http_trade_json(row, r->ingest_ms)
           : r->kind == ROWS_CANDLES ? tp_http_candle_json(row)
                                     : tp_http_average_json(row);
}

/* One message per symbol holding its newest TP_HTTP_PUSH_MAX_ROWS rows,
 * each broadcast. */
static void serialise_rows(tp_http *h, const tp_http_rows *r) {
    static const char *const k_type[] = {"trades", "candles", "averages"};
    unsigned char *done = calloc(r->n ? r->n : 1, 1);
    if (!done) return;
    const char *base = r->rows;
    size_t stride = row_size(r->kind);
    for (size_t i = 0; i < r->n; i++) {
        if (done[i]) continue;
        tp_str s = *row_symbol(r->kind, base + i * stride);
        size_t total = 0;
        for (size_t j = i; j < r->n; j++)
            if (!done[j] && tp_str_eq(s, *row_symbol(r->kind, base + j * stride))) total++;
        size_t skip = total > TP_HTTP_PUSH_MAX_ROWS ? total - TP_HTTP_PUSH_MAX_ROWS : 0, k = 0;
        json_t *arr = json_array();
        for (size_t j = i; j < r->n; j++) {
            if (done[j] || !tp_str_eq(s, *row_symbol(r->kind, base + j * stride))) continue;
            done[j] = 1;
            if (k++ < skip) continue;
            json_t *o = row_json(r, base + j * stride);
            if (o) json_array_append_new(arr, o);
        }
        json_t *o =
            json_pack("{s:s,s:o,s:o}", "type", k_type[r->kind], "symbol", tp_http_str(s), "data", arr);
        tp_http_msg *m = o && s.ptr ? tp_http_msg_new(s.ptr, s.len, o) : NULL;
        if (!m) json_decref(o);
        if (m) {
            tp_http_broadcast(h, m);
            tp_http_msg_unref(m);
        }
    }
    free(done);
}

void tp_http_drain_pending(tp_http *h) {
    for (;;) {
        tp_http_msg *batch[64];
        size_t n = 0;
        pthread_mutex_lock(&h->lock);
        while (h->pn && n < 64) {
            batch[n++] = h->pending[h->phead];
            h->phead = (h->phead + 1) % TP_HTTP_PENDING_QUEUE;
            h->pn--;
        }
        tp_http_rows *rows = h->rows_head;
        if (rows) {
            h->rows_head = rows->next;
            if (!h->rows_head) h->rows_tail = NULL;
            h->nrows--;
        }
        pthread_mutex_unlock(&h->lock);
        if (!n && !rows) return;
        for (size_t i = 0; i < n; i++) {
            tp_http_broadcast(h, batch[i]);
            tp_http_msg_unref(batch[i]);
        }
        if (rows && h->clients) serialise_rows(h, rows);
        rows_free(rows);
    }
}

void tp_http_push_free(tp_http *h) {
    while (h->pn) {
        tp_http_msg_unref(h->pending[h->phead]);
        h->phead = (h->phead + 1) % TP_HTTP_PENDING_QUEUE;
        h->pn--;
    }
    while (h->rows_head) {
        tp_http_rows *r = h->rows_head;
        h->rows_head = r->next;
        rows_free(r);
    }
    h->rows_tail = NULL;
    h->nrows = 0;
}

/* ---- hand-offs (any thread) ---- */

void tp_http_wake(tp_http *h) {
    pthread_mutex_lock(&h->lock);
    if (h->ctx_alive) lws_cancel_service(h->ctx);
    pthread_mutex_unlock(&h->lock);
}

void tp_http_enqueue_msg(tp_http *h, tp_http_msg *m) {
    if (!m) return;
    tp_http_msg *dropped = NULL;
    pthread_mutex_lock(&h->lock);
    if (h->pn == TP_HTTP_PENDING_QUEUE) {
        dropped = h->pending[h->phead];
        h->phead = (h->phead + 1) % TP_HTTP_PENDING_QUEUE;
        h->pn--;
    }
    h->pending[(h->phead + h->pn) % TP_HTTP_PENDING_QUEUE] = m;
    h->pn++;
    if (h->ctx_alive) lws_cancel_service(h->ctx);
    pthread_mutex_unlock(&h->lock);
    if (dropped) {
        /* not yet seen by the service thread, so no other reference exists */
        tp_http_msg_unref(dropped);
        tp_counter_add(h->m_ws_dropped, 1);
    }
}

static void enqueue_rows(tp_http *h, tp_http_rows *r) {
    tp_http_rows *dropped = NULL;
    pthread_mutex_lock(&h->lock);
    if (h->nrows == TP_HTTP_PENDING_ROWS) {
        dropped = h->rows_head;
        h->rows_head = dropped->next;
        if (!h->rows_head) h->rows_tail = NULL;
        h->nrows--;
    }
    if (h->rows_tail)
        h->rows_tail->next = r;
    else
        h->rows_head = r;
    h->rows_tail = r;
    h->nrows++;
    if (h->ctx_alive) lws_cancel_service(h->ctx);
    pthread_mutex_unlock(&h->lock);
    if (dropped) {
        rows_free(dropped);
        tp_counter_add(h->m_ws_dropped, 1);
    }
}

static tp_http_rows *rows_new(int kind, size_t n) {
    tp_http_rows *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->kind = kind;
    tp_batch_init(&r->b);
    if (kind != ROWS_TRADES && !(r->rows = tp_batch_alloc(&r->b, n * row_size(kind)))) {
        rows_free(r);
        return NULL;
    }
    return r;
}

/* Copy a row's symbol into r's arena; 0 or -1. */
static int copy_symbol(tp_http_rows *r, tp_str *s) {
    if (!s->ptr) return 0;
    const char *p = tp_batch_strdup(&r->b, s->ptr, s->len);
    if (!p) return -1;
    s->ptr = p;
    return 0;
}

static int64_t mono_ms(void) {
    return tp_mono_us() / 1000;
}

void tp_http_note_lag(tp_http *h, int64_t newest_ts) {
    atomic_store(&h->lag_ms, tp_now_ms() - newest_ts); /* event time against the wall clock */
    atomic_store(&h->lag_at_ms, mono_ms());
}

void tp_http_publish_trades(tp_http *h, const tp_trade *t, size_t n) {
    if (!h || !n) return;
    int64_t newest = t[0].ts_ms;
    for (size_t i = 1; i < n; i++)
        if (t[i].ts_ms > newest) newest = t[i].ts_ms;
    tp_http_note_lag(h, newest);
    atomic_fetch_add(&h->rows_seen, n);
    if (!atomic_load(&h->nclients)) return;
    tp_http_rows *r = rows_new(ROWS_TRADES, n);
    if (!r) return;
    r->ingest_ms = tp_now_ms();
    for (size_t i = 0; i < n; i++)
        if (!tp_batch_copy_trade(&r->b, &t[i])) {
            rows_free(r);
            return;
        }
    r->rows = r->b.trades;
    r->n = r->b.n;
    enqueue_rows(h, r);
}

/* Candles and averages: copy the rows, then their symbols into the arena. */
static void publish_copies(tp_http *h, int kind, const void *rows, size_t n) {
    if (!h || !n || !atomic_load(&h->nclients)) return;
    tp_http_rows *r = rows_new(kind, n);
    if (!r) return;
    size_t sz = row_size(kind);
    memcpy(r->rows, rows, n * sz);
    for (size_t i = 0; i < n; i++)
        if (copy_symbol(r, (tp_str *)row_symbol(kind, (char *)r->rows + i * sz))) {
            rows_free(r);
            return;
        }
    r->n = n;
    enqueue_rows(h, r);
}

void tp_http_publish_candles(tp_http *h, const tp_candle *c, size_t n) {
    publish_copies(h, ROWS_CANDLES, c, n);
}

void tp_http_publish_averages(tp_http *h, const tp_average *a, size_t n) {
    publish_copies(h, ROWS_AVERAGES, a, n);
}

/* ---- stats [svc] ---- */

tp_http_msg *tp_http_stats_msg(tp_http *h) {
    int64_t now = tp_now_ms();
    double ingest = 0, v;
    int have_ingest = tp_metrics_value("tickpipe_ingest_trades_total", NULL, &v) == 0;
    if (have_ingest) ingest = v;
    int serve = h->cfg.poll_store_ms > 0;
    pthread_mutex_lock(&h->wlock);
    int store_ok = h->store_ok;
    int64_t stored_total = h->stored_total;
    char store_err[sizeof h->store_err];
    memcpy(store_err, h->store_err, sizeof store_err);
    pthread_mutex_unlock(&h->wlock);
    uint64_t stored = serve ? (uint64_t)stored_total : atomic_load(&h->rows_seen);
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string("stats"));
    json_object_set_new(o, "ts", json_integer(now));
    json_object_set_new(o, "mode", json_string(serve ? "serve" : "run"));
    json_object_set_new(o, "clients", json_integer(atomic_load(&h->nclients)));
    json_object_set_new(o, "stored_trades", json_integer((json_int_t)stored));
    if (have_ingest) json_object_set_new(o, "ingest_trades", json_integer((json_int_t)ingest));
    json_object_set_new(o, "trades_per_s", h->rate_stored >= 0 ? json_real(h->rate_stored) : json_null());
    if (have_ingest && h->rate_ingest >= 0) json_object_set_new(o, "ingest_per_s", json_real(h->rate_ingest));
    int64_t lag_at = atomic_load(&h->lag_at_ms);
    json_object_set_new(o, "lag_ms",
                        lag_at && mono_ms() - lag_at < 5000 ? json_integer(atomic_load(&h->lag_ms))
                                                            : json_null());
    json_object_set_new(o, "errors", json_integer((json_int_t)tp_metrics_sum_suffix("_errors_total")));
    json_object_set_new(o, "store", json_string(store_ok ? "ok" : "unavailable"));
    if (store_err[0] && !store_ok) json_object_set_new(o, "store_error", json_string(store_err));
    json_object_set_new(o, "dropped", json_integer((json_int_t)tp_counter_get(h->m_ws_dropped)));
    if (h->cfg.health) { /* what /healthz says, for the dashboard's health row */
        char line[1024] = "";
        h->cfg.health(h->cfg.health_ud, line, sizeof line);
        json_t *hj = line[0] == '{' ? json_loads(line, 0, NULL) : NULL;
        if (hj) json_object_set_new(o, "health", hj);
    }
    return tp_http_msg_new(NULL, 0, o);
}

/* rate of a growing count from two samples at most 5 s apart */
static double rate(uint64_t v, int64_t at, uint64_t *pv, int64_t *pat, double old) {
    double r = old;
    if (*pat && at > *pat && at - *pat <= 5000 && v >= *pv)
        r = (double)(v - *pv) * 1000.0 / (double)(at - *pat);
    else if (at != *pat)
        r = -1;
    *pv = v;
    *pat = at;
    return r;
}

void tp_http_stats_tick(tp_http *h) {
    int64_t now = mono_ms(); /* rates are over intervals: a wall-clock step must not skew them */
    if (h->cfg.poll_store_ms > 0) {
        pthread_mutex_lock(&h->wlock);
        int64_t total = h->stored_total, at = h->stored_at_ms;
        pthread_mutex_unlock(&h->wlock);
        h->rate_stored = rate((uint64_t)total, at, &h->prev_stored, &h->prev_stored_at, h->rate_stored);
    } else {
        h->rate_stored =
            rate(atomic_load(&h->rows_seen), now, &h->prev_stored, &h->prev_stored_at, h->rate_stored);
    }
    double v;
    if (tp_metrics_value("tickpipe_ingest_trades_total", NULL, &v) == 0)
        h->rate_ingest = rate((uint64_t)v, now, &h->prev_ingest, &h->prev_ingest_at, h->rate_ingest);
    if (h->clients) {
        tp_http_msg *m = tp_http_stats_msg(h);
        if (m) {
            tp_http_broadcast(h, m);
            tp_http_msg_unref(m);
        }
    }
}
