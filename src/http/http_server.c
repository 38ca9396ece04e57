/* http_server.c - the HTTP server of `serve` and `run` (see http.h).
 *
 * One libwebsockets context with one vhost and one protocol whose callback
 * handles both roles: plain HTTP requests (LWS_CALLBACK_HTTP, answered with
 * a body we write ourselves in LWS_CALLBACK_HTTP_WRITEABLE, 16 KB at a time;
 * the dashboard's files are in memory, not on disk) and WebSocket clients on
 * /ws (browsers connect without a subprotocol, so lws binds them to this
 * first protocol; other paths are refused at FILTER_PROTOCOL_CONNECTION).
 *
 * Live push. A message is one JSON text shared, refcounted, by every client
 * queue it is on. Other threads (the pipeline in `run`) build messages in
 * tp_http_publish_*() and append them to `pending` under a mutex, then wake
 * the server with lws_cancel_service(); the server thread drains pending in
 * LWS_CALLBACK_EVENT_WAIT_CANCELLED into the client queues. Every queue is
 * bounded and drops its oldest message when full, so a slow browser costs a
 * fixed amount of memory and never slows the pipeline; messages are
 * per symbol, so a client that sent {"symbol":"X"} gets only X's rows (and
 * the stats). In `serve` a timer polls the store for rows newer than the
 * last poll instead (only while a browser is connected). A one-second timer
 * pushes pipeline health ("stats").
 *
 * Threads: everything but tp_http_publish_*() runs on the server thread;
 * the only state shared with publishers is `pending` (mutex) and a few
 * atomics. */
#include "http/http.h"
#include "http/http_internal.h"

#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "core/metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libwebsockets.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MOD "http"
#define CLIENT_QUEUE 256   /* messages per browser before the oldest is dropped */
#define PENDING_QUEUE 4096 /* messages from publishers not yet given to browsers */
#define PUSH_MAX_ROWS 200  /* rows per symbol per message (the newest) */
#define WS_RX_MAX 1024     /* a browser's message, e.g. {"symbol":"AAPL"} */
#define BODY_CHUNK 16384
#define POLL_LOOKBACK_MS 20000 /* windows and late trades change this far back */
#define POLL_MAX_SYMBOLS 64

/* ---- messages ---- */

typedef struct msg {
    int refs;            /* server thread only, once published */
    char *sym;           /* NULL = for every client (stats) */
    size_t len;          /* JSON text length */
    unsigned char buf[]; /* LWS_PRE bytes of headroom, then the JSON text */
} msg;

static msg *msg_new(const char *sym, size_t symlen, json_t *j) {
    char *text = json_dumps(j, TP_HTTP_JSON_FLAGS);
    json_decref(j);
    if (!text) return NULL;
    size_t len = strlen(text);
    msg *m = malloc(sizeof *m + LWS_PRE + len);
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

static void msg_unref(msg *m) {
    if (m && --m->refs == 0) {
        free(m->sym);
        free(m);
    }
}

/* ---- per-connection state: an HTTP request or a /ws client ---- */

enum { ROUTE_PAGE, ROUTE_ASSET, ROUTE_API, ROUTE_METRICS, ROUTE_HEALTHZ, ROUTE_OTHER, ROUTE_N };
static const char *const k_route_label[ROUTE_N] = {"/", "asset", "api", "/metrics", "/healthz", "other"};

typedef struct client {
    struct client *next, *prev;
    struct lws *wsi;
    msg *q[CLIENT_QUEUE];
    size_t head, n;
    char filter[TP_HTTP_MAX_SYMBOL + 1]; /* "" = every symbol */
    char rx[WS_RX_MAX];
    size_t rxlen;
    int rx_too_big;
} client;

typedef struct pss {
    int is_ws;
    /* HTTP */
    tp_http_resp resp;
    size_t off;
    char route_label[24];
    int64_t start_us;
    /* WebSocket */
    client c;
} pss;

/* ---- the server ---- */

typedef struct poll_sym {
    char *symbol;
    int64_t trade_count, last_ts;
    int64_t max_ts;       /* newest trade ts seen */
    int64_t trade_ingest; /* newest trade ingest time pushed */
    int64_t candle_upd[2], candle_start[2];
    int64_t avg_upd, avg_start;
} poll_sym;

struct tp_http {
    tp_http_config cfg;
    char *listen, *store_url;
    struct lws_context *ctx;
    pthread_t thread;
    int thread_started;
    atomic_int stop;
    int port;

    pthread_mutex_t lock; /* guards pending */
    msg *pending[PENDING_QUEUE];
    size_t phead, pn;
    uint64_t pending_dropped;

    atomic_int nclients;
    client *clients;
    tp_http_store store;

    lws_sorted_usec_list_t sul_stats, sul_poll;
    /* health */
    _Atomic uint64_t rows_seen; /* trades published (run) */
    _Atomic int64_t lag_ms;     /* now - newest trade ts, at its arrival */
    _Atomic int64_t lag_at_ms;
    uint64_t prev_stored, prev_ingest; /* samples of the previous second */
    int64_t prev_stored_at, prev_ingest_at;
    double rate_stored, rate_ingest; /* per second; < 0 = not known yet */
    int64_t stored_total;            /* serve: sum of the store's per-symbol counts */
    int64_t stored_at_ms;            /* serve: when stored_total was read */
    int store_ok;

    poll_sym *syms;
    size_t nsyms;
    int poll_baseline_done, rebaseline;

    tp_counter *m_ws_msgs, *m_ws_dropped, *m_store_errors;
    tp_gauge *m_ws_clients;
};

static void count_request(const char *route, int code, int64_t us) {
    char labels[96];
    snprintf(labels, sizeof labels, "route=\"%s\",code=\"%d\"", route, code);
    tp_counter_add(
        tp_metrics_counter("tickpipe_http_requests_total", labels, "HTTP requests by route and status"), 1);
    snprintf(labels, sizeof labels, "route=\"%s\"", route);
    tp_histogram_observe_us(tp_metrics_histogram("tickpipe_http_request_duration_seconds", labels,
                                                 "HTTP request latency, from request to last byte written"),
                            us > 0 ? (uint64_t)us : 0);
}

/* ---- client queues (server thread) ---- */

static void client_push(tp_http *h, client *c, msg *m) {
    if (m->sym && c->filter[0] && strcmp(c->filter, m->sym) != 0) return;
    if (c->n == CLIENT_QUEUE) { /* slow browser: drop the oldest */
        msg_unref(c->q[c->head]);
        c->head = (c->head + 1) % CLIENT_QUEUE;
        c->n--;
        tp_counter_add(h->m_ws_dropped, 1);
    }
    m->refs++;
    c->q[(c->head + c->n) % CLIENT_QUEUE] = m;
    c->n++;
    lws_callback_on_writable(c->wsi);
}

static void broadcast(tp_http *h, msg *m) {
    for (client *c = h->clients; c; c = c->next) client_push(h, c, m);
}

static void drain_pending(tp_http *h) {
    for (;;) {
        msg *batch[64];
        size_t n = 0;
        pthread_mutex_lock(&h->lock);
        while (h->pn && n < 64) {
            batch[n++] = h->pending[h->phead];
            h->phead = (h->phead + 1) % PENDING_QUEUE;
            h->pn--;
        }
        pthread_mutex_unlock(&h->lock);
        if (!n) return;
        for (size_t i = 0; i < n; i++) {
            broadcast(h, batch[i]);
            msg_unref(batch[i]);
        }
    }
}

/* Any thread. Takes ownership of m. */
static void enqueue_pending(tp_http *h, msg *m) {
    if (!m) return;
    msg *dropped = NULL;
    pthread_mutex_lock(&h->lock);
    if (h->pn == PENDING_QUEUE) {
        dropped = h->pending[h->phead];
        h->phead = (h->phead + 1) % PENDING_QUEUE;
        h->pn--;
    }
    h->pending[(h->phead + h->pn) % PENDING_QUEUE] = m;
    h->pn++;
    pthread_mutex_unlock(&h->lock);
    if (dropped) {
        /* Not yet seen by the server thread, so no other reference exists. */
        msg_unref(dropped);
        tp_counter_add(h->m_ws_dropped, 1);
    }
}

/* ---- stats ---- */

static msg *stats_msg(tp_http *h) {
    int64_t now = tp_now_ms();
    double ingest = 0, v;
    int have_ingest = tp_metrics_value("tickpipe_ingest_trades_total", NULL, &v) == 0;
    if (have_ingest) ingest = v;
    uint64_t stored = h->cfg.poll_store_ms > 0 ? (uint64_t)h->stored_total : atomic_load(&h->rows_seen);
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string("stats"));
    json_object_set_new(o, "ts", json_integer(now));
    json_object_set_new(o, "mode", json_string(h->cfg.poll_store_ms > 0 ? "serve" : "run"));
    json_object_set_new(o, "clients", json_integer(atomic_load(&h->nclients)));
    json_object_set_new(o, "stored_trades", json_integer((json_int_t)stored));
    if (have_ingest) json_object_set_new(o, "ingest_trades", json_integer((json_int_t)ingest));
    json_object_set_new(o, "trades_per_s", h->rate_stored >= 0 ? json_real(h->rate_stored) : json_null());
    if (have_ingest && h->rate_ingest >= 0) json_object_set_new(o, "ingest_per_s", json_real(h->rate_ingest));
    int64_t lag_at = atomic_load(&h->lag_at_ms);
    json_object_set_new(o, "lag_ms",
                        lag_at && now - lag_at < 5000 ? json_integer(atomic_load(&h->lag_ms)) : json_null());
    json_object_set_new(o, "errors", json_integer((json_int_t)tp_metrics_sum_suffix("_errors_total")));
    json_object_set_new(o, "store", json_string(h->store_ok ? "ok" : "unavailable"));
    if (h->store.last_err[0] && !h->store_ok)
        json_object_set_new(o, "store_error", json_string(h->store.last_err));
    json_object_set_new(o, "dropped", json_integer((json_int_t)tp_counter_get(h->m_ws_dropped)));
    return msg_new(NULL, 0, o);
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

static void on_stats_timer(lws_sorted_usec_list_t *sul) {
    tp_http *h = lws_container_of(sul, tp_http, sul_stats);
    int64_t now = tp_now_ms();
    if (h->cfg.poll_store_ms > 0)
        h->rate_stored = rate((uint64_t)h->stored_total, h->stored_at_ms, &h->prev_stored, &h->prev_stored_at,
                              h->rate_stored);
    else
        h->rate_stored =
            rate(atomic_load(&h->rows_seen), now, &h->prev_stored, &h->prev_stored_at, h->rate_stored);
    double v;
    if (tp_metrics_value("tickpipe_ingest_trades_total", NULL, &v) == 0)
        h->rate_ingest = rate((uint64_t)v, now, &h->prev_ingest, &h->prev_ingest_at, h->rate_ingest);
    if (h->clients) {
        msg *m = stats_msg(h);
        if (m) {
            broadcast(h, m);
            msg_unref(m);
        }
    }
    lws_sul_schedule(h->ctx, 0, &h->sul_stats, on_stats_timer, LWS_US_PER_SEC);
}

/* ---- publishing rows (any thread) ---- */

static void note_lag(tp_http *h, int64_t newest_ts) {
    int64_t now = tp_now_ms();
    atomic_store(&h->lag_ms, now - newest_ts);
    atomic_store(&h->lag_at_ms, now);
}

typedef json_t *(*row_json_fn)(const void *row, const void *extra);
static json_t *trade_row(const void *row, const void *extra) {
    return tp_http_trade_json(row, extra ? *(const int64_t *)extra : 0);
}
static json_t *candle_row(const void *row, const void *extra) {
    (void)extra;
    return tp_http_candle_json(row);
}
static json_t *average_row(const void *row, const void *extra) {
    (void)extra;
    return tp_http_average_json(row);
}

/* Group rows by symbol (symbol_of gives each row's), one message per
 * symbol holding its newest PUSH_MAX_ROWS rows. */
static void publish_rows(tp_http *h, const char *type, const void *rows, size_t n, size_t stride,
                         const tp_str *(*symbol_of)(const void *), row_json_fn fn, const void *extra) {
    unsigned char *done = calloc(n, 1);
    if (!done) return;
    const char *base = rows;
    for (size_t i = 0; i < n; i++) {
        if (done[i]) continue;
        tp_str s = *symbol_of(base + i * stride);
        size_t total = 0;
        for (size_t j = i; j < n; j++)
            if (!done[j] && tp_str_eq(s, *symbol_of(base + j * stride))) total++;
        size_t skip = total > PUSH_MAX_ROWS ? total - PUSH_MAX_ROWS : 0, k = 0;
        json_t *arr = json_array();
        for (size_t j = i; j < n; j++) {
            if (done[j] || !tp_str_eq(s, *symbol_of(base + j * stride))) continue;
            done[j] = 1;
            if (k++ < skip) continue;
            json_t *r = fn(base + j * stride, extra);
            if (r) json_array_append_new(arr, r);
        }
        json_t *o = json_pack("{s:s,s:o,s:o}", "type", type, "symbol", tp_http_str(s), "data", arr);
        if (o && s.ptr)
            enqueue_pending(h, msg_new(s.ptr, s.len, o));
        else
            json_decref(o);
    }
    free(done);
    lws_cancel_service(h->ctx);
}

static const tp_str *trade_sym(const void *r) {
    return &((const tp_trade *)r)->symbol;
}
static const tp_str *candle_sym(const void *r) {
    return &((const tp_candle *)r)->symbol;
}
static const tp_str *average_sym(const void *r) {
    return &((const tp_average *)r)->symbol;
}

void tp_http_publish_trades(tp_http *h, const tp_trade *t, size_t n) {
    if (!h || !n) return;
    int64_t newest = t[0].ts_ms;
    for (size_t i = 1; i < n; i++)
        if (t[i].ts_ms > newest) newest = t[i].ts_ms;
    note_lag(h, newest);
    atomic_fetch_add(&h->rows_seen, n);
    if (!atomic_load(&h->nclients)) return;
    int64_t now = tp_now_ms();
    publish_rows(h, "trades", t, n, sizeof *t, trade_sym, trade_row, &now);
}

void tp_http_publish_candles(tp_http *h, const tp_candle *c, size_t n) {
    if (!h || !n || !atomic_load(&h->nclients)) return;
    publish_rows(h, "candles", c, n, sizeof *c, candle_sym, candle_row, NULL);
}

void tp_http_publish_averages(tp_http *h, const tp_average *a, size_t n) {
    if (!h || !n || !atomic_load(&h->nclients)) return;
    publish_rows(h, "averages", a, n, sizeof *a, average_sym, average_row, NULL);
}

/* ---- serve: polling the store (server thread) ---- */

typedef struct poll_ctx {
    tp_http *h;
    poll_sym *ps;
    json_t *arr;
    int64_t newest, newest_upd, newest_start;
    int interval;
    int push; /* 0 on the baseline pass */
} poll_ctx;

static int poll_on_symbol(void *ud, const tp_symbol_info *si) {
    poll_ctx *pc = ud;
    tp_http *h = pc->h;
    h->stored_total += si->trade_count;
    poll_sym *ps = NULL;
    for (size_t i = 0; i < h->nsyms; i++)
        if (strlen(h->syms[i].symbol) == si->symbol.len &&
            !memcmp(h->syms[i].symbol, si->symbol.ptr, si->symbol.len))
            ps = &h->syms[i];
    if (!ps) {
        poll_sym *n = realloc(h->syms, (h->nsyms + 1) * sizeof *n);
        if (!n) return 1;
        h->syms = n;
        ps = &h->syms[h->nsyms];
        memset(ps, 0, sizeof *ps);
        ps->symbol = strndup(si->symbol.ptr, si->symbol.len);
        if (!ps->symbol) return 1;
        ps->trade_count = -1; /* changed */
        /* a symbol that appears after start: push its rows from now on */
        if (h->poll_baseline_done) ps->max_ts = si->last_ts_ms - POLL_LOOKBACK_MS;
        h->nsyms++;
    }
    ps->trade_count = si->trade_count;
    ps->last_ts = si->last_ts_ms;
    return 0;
}

static int poll_on_trade(void *ud, const tp_trade *t, int64_t ingest_ms) {
    poll_ctx *pc = ud;
    if (t->ts_ms > pc->newest) pc->newest = t->ts_ms;
    if (ingest_ms > pc->newest_upd) pc->newest_upd = ingest_ms;
    if (pc->push && ingest_ms > pc->ps->trade_ingest) {
        json_t *r = tp_http_trade_json(t, ingest_ms);
        if (r) json_array_append_new(pc->arr, r);
    }
    return 0;
}

static int poll_on_candle(void *ud, const tp_candle *c) {
    poll_ctx *pc = ud;
    int k = c->interval_s == 1 ? 0 : 1;
    if (c->updated_ms > pc->newest_upd) pc->newest_upd = c->updated_ms;
    if (c->start_ms > pc->newest_start) pc->newest_start = c->start_ms;
    if (pc->push && c->updated_ms > pc->ps->candle_upd[k]) {
        json_t *r = tp_http_candle_json(c);
        if (r) json_array_append_new(pc->arr, r);
    }
    return 0;
}

static int poll_on_average(void *ud, const tp_average *a) {
    poll_ctx *pc = ud;
    if (a->ingest_ms > pc->newest_upd) pc->newest_upd = a->ingest_ms;
    if (a->window_start_ms > pc->newest_start) pc->newest_start = a->window_start_ms;
    if (pc->push && a->ingest_ms > pc->ps->avg_upd) {
        json_t *r = tp_http_average_json(a);
        if (r) json_array_append_new(pc->arr, r);
    }
    return 0;
}

static void poll_push(tp_http *h, const char *type, poll_sym *ps, json_t *arr) {
    if (!json_array_size(arr)) {
        json_decref(arr);
        return;
    }
    json_t *o = json_pack("{s:s,s:s,s:o}", "type", type, "symbol", ps->symbol, "data", arr);
    msg *m = o ? msg_new(ps->symbol, strlen(ps->symbol), o) : NULL;
    if (m) {
        broadcast(h, m);
        msg_unref(m);
    }
}

static int poll_symbol(tp_http *h, poll_sym *ps, int push, char *err, size_t errlen) {
    tp_sink *s = h->store.sink;
    poll_ctx pc = {.h = h, .ps = ps, .push = push};
    int64_t from = ps->max_ts > POLL_LOOKBACK_MS ? ps->max_ts - POLL_LOOKBACK_MS : 0;

    tp_query q = {.symbol = ps->symbol, .from_ms = from, .limit = PUSH_MAX_ROWS * 5};
    pc.arr = json_array();
    pc.newest = ps->max_ts;
    pc.newest_upd = ps->trade_ingest;
    int rc = tp_sink_query_trades(s, &q, poll_on_trade, &pc, err, errlen);
    if (rc) {
        json_decref(pc.arr);
        return rc;
    }
    /* rows go out in store order (oldest first), as REST gives them */
    poll_push(h, "trades", ps, pc.arr);
    if (pc.newest > ps->max_ts && push) note_lag(h, pc.newest);
    ps->max_ts = pc.newest;
    ps->trade_ingest = pc.newest_upd;

    for (int k = 0; k < 2; k++) {
        int iv = k == 0 ? 1 : 60;
        int64_t cfrom = ps->candle_start[k] > POLL_LOOKBACK_MS ? ps->candle_start[k] - POLL_LOOKBACK_MS : 0;
        tp_query cq = {.symbol = ps->symbol, .from_ms = cfrom, .limit = PUSH_MAX_ROWS, .interval_s = iv};
        pc.arr = json_array();
        pc.newest_upd = ps->candle_upd[k];
        pc.newest_start = ps->candle_start[k];
        rc = tp_sink_query_candles(s, &cq, poll_on_candle, &pc, err, errlen);
        if (rc) {
            json_decref(pc.arr);
            return rc;
        }
        poll_push(h, "candles", ps, pc.arr);
        ps->candle_upd[k] = pc.newest_upd;
        ps->candle_start[k] = pc.newest_start;
    }

    int64_t afrom = ps->avg_start > POLL_LOOKBACK_MS ? ps->avg_start - POLL_LOOKBACK_MS : 0;
    tp_query aq = {.symbol = ps->symbol, .from_ms = afrom, .limit = PUSH_MAX_ROWS};
    pc.arr = json_array();
    pc.newest_upd = ps->avg_upd;
    pc.newest_start = ps->avg_start;
    rc = tp_sink_query_averages(s, &aq, poll_on_average, &pc, err, errlen);
    if (rc) {
        json_decref(pc.arr);
        return rc;
    }
    poll_push(h, "averages", ps, pc.arr);
    ps->avg_upd = pc.newest_upd;
    ps->avg_start = pc.newest_start;
    return 0;
}

static void poll_store(tp_http *h) {
    tp_http_resp r = {0};
    if (tp_http_store_ready(&h->store, &r)) {
        free(r.body);
        h->store_ok = 0;
        return;
    }
    char err[256] = "";
    int64_t *counts = NULL, *lasts = NULL;
    size_t n0 = h->nsyms;
    counts = malloc((n0 + 1) * sizeof *counts);
    lasts = malloc((n0 + 1) * sizeof *lasts);
    if (!counts || !lasts) goto out;
    /* What the symbols looked like before this pass, to poll only changed ones. */
    for (size_t i = 0; i < n0; i++) counts[i] = h->syms[i].trade_count, lasts[i] = h->syms[i].last_ts;
    poll_ctx pc = {.h = h};
    int64_t prev_total = h->stored_total;
    h->stored_total = 0;
    int rc = tp_sink_query_symbols(h->store.sink, poll_on_symbol, &pc, err, sizeof err);
    if (rc) {
        h->stored_total = prev_total;
        goto fail;
    }
    h->stored_at_ms = tp_now_ms();
    int polled = 0;
    for (size_t i = 0; i < h->nsyms && polled < POLL_MAX_SYMBOLS; i++) {
        poll_sym *ps = &h->syms[i];
        int changed = i >= n0 || ps->trade_count != counts[i] || ps->last_ts != lasts[i];
        if (!changed && h->poll_baseline_done) continue;
        polled++;
        rc = poll_symbol(h, ps, h->poll_baseline_done && !h->rebaseline, err, sizeof err);
        if (rc) goto fail;
    }
    h->poll_baseline_done = 1;
    h->rebaseline = 0;
    h->store_ok = 1;
    goto out;
fail:
    tp_counter_add(h->m_store_errors, 1);
    tp_warn(MOD, "polling the store failed (will retry): %s", err);
    snprintf(h->store.last_err, sizeof h->store.last_err, "%s", err);
    tp_http_store_reset(&h->store);
    h->store_ok = 0;
out:
    free(counts);
    free(lasts);
}

static void on_poll_timer(lws_sorted_usec_list_t *sul) {
    tp_http *h = lws_container_of(sul, tp_http, sul_poll);
    /* Nobody watching: do nothing; the first browser to connect gets a new
     * baseline (it has just read the current rows through REST). */
    if (h->clients)
        poll_store(h);
    else
        h->rebaseline = 1;
    lws_sul_schedule(h->ctx, 0, &h->sul_poll, on_poll_timer, h->cfg.poll_store_ms * LWS_US_PER_MS);
}

/* ---- HTTP requests ---- */

static int send_response(struct lws *wsi, pss *p) {
    unsigned char hdr[LWS_PRE + 1024], *start = hdr + LWS_PRE, *pp = start, *end = hdr + sizeof hdr - 1;
    if (lws_add_http_common_headers(wsi, (unsigned)p->resp.status, p->resp.ctype, p->resp.len, &pp, end))
        return 1;
    static const char k_nocache[] = "no-cache";
    static const char k_nosniff[] = "nosniff";
    if (lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
                                    (const unsigned char *)k_nocache, (int)strlen(k_nocache), &pp, end) ||
        lws_add_http_header_by_name(wsi, (const unsigned char *)"x-content-type-options:",
                                    (const unsigned char *)k_nosniff, (int)strlen(k_nosniff), &pp, end))
        return 1;
    if (lws_finalize_write_http_header(wsi, start, &pp, end)) return 1;
    p->off = 0;
    lws_callback_on_writable(wsi);
    return 0;
}

static void resp_free(tp_http_resp *r) {
    if (!r->body_static) free(r->body);
    r->body = NULL;
    r->len = 0;
}

static void free_args(char **args, int n) {
    for (int i = 0; i < n; i++) free(args[i]);
}

static int on_http(tp_http *h, struct lws *wsi, pss *p, const char *path) {
    memset(p, 0, sizeof *p);
    p->start_us = tp_mono_us();
    int route = ROUTE_OTHER;
    if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0) {
        snprintf(p->route_label, sizeof p->route_label, "%s", k_route_label[ROUTE_OTHER]);
        tp_http_error(&p->resp, 405, "only GET is supported");
        return send_response(wsi, p);
    }
    char *args[TP_HTTP_MAX_ARGS];
    int nargs = 0, too_many = 0, too_long = 0, oom = 0;
    char frag[1024];
    for (int i = 0;; i++) {
        int n = lws_hdr_copy_fragment(wsi, frag, sizeof frag, WSI_TOKEN_HTTP_URI_ARGS, i);
        if (n < 0) {
            /* -1 both at the end and for a parameter that does not fit:
             * never skip a parameter silently */
            if (lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, i) >= (int)sizeof frag) too_long = 1;
            break;
        }
        if (nargs == TP_HTTP_MAX_ARGS) {
            too_many = 1;
            break;
        }
        args[nargs] = strdup(frag);
        if (!args[nargs]) {
            oom = 1;
            break;
        }
        nargs++;
    }
    const tp_http_asset *a;
    if (too_many) {
        tp_http_error(&p->resp, 400, "too many query parameters");
    } else if (too_long) {
        tp_http_error(&p->resp, 400, "a query parameter is longer than %d bytes", (int)sizeof frag - 1);
    } else if (oom) {
        tp_http_error(&p->resp, 500, "out of memory reading the query parameters");
    } else if (!strncmp(path, "/api/", 5)) {
        route = ROUTE_API;
        tp_http_api(&h->store, h->cfg.max_limit, path, args, nargs, &p->resp);
        if (p->resp.status == 500 || p->resp.status == 503) {
            h->store_ok = 0;
            tp_counter_add(h->m_store_errors, 1);
        } else if (p->resp.status == 200) {
            h->store_ok = 1;
        }
    } else if (!strcmp(path, "/metrics")) {
        route = ROUTE_METRICS;
        size_t len = 0;
        char *text = tp_metrics_render(&len);
        if (text) {
            p->resp = (tp_http_resp){200, "text/plain; version=0.0.4; charset=utf-8", text, len, 0};
        } else {
            tp_http_error(&p->resp, 500, "out of memory rendering metrics");
        }
    } else if (!strcmp(path, "/healthz")) {
        route = ROUTE_HEALTHZ;
        p->resp = (tp_http_resp){200, "text/plain; charset=utf-8", (char *)"ok\n", 3, 1};
    } else if ((a = tp_http_asset_find(path))) {
        route = !strcmp(path, "/") || !strcmp(path, "/index.html") ? ROUTE_PAGE : ROUTE_ASSET;
        p->resp = (tp_http_resp){200, a->ctype, (char *)a->data, a->len, 1};
    } else if (!strcmp(path, "/ws")) {
        tp_http_error(&p->resp, 400, "/ws is a WebSocket endpoint; connect with a WebSocket client");
    } else {
        tp_http_error(&p->resp, 404, "not found: try / (dashboard), /api/symbols, /metrics or /healthz");
    }
    free_args(args, nargs);
    snprintf(p->route_label, sizeof p->route_label, "%s",
             route == ROUTE_API && strlen(path) < sizeof p->route_label ? path : k_route_label[route]);
    if (route == ROUTE_API && p->resp.status == 404) snprintf(p->route_label, sizeof p->route_label, "other");
    return send_response(wsi, p);
}

static int on_http_writeable(struct lws *wsi, pss *p) {
    if (!p->resp.body && p->resp.len) return -1;
    unsigned char buf[LWS_PRE + BODY_CHUNK];
    size_t left = p->resp.len - p->off, n = left < BODY_CHUNK ? left : BODY_CHUNK;
    int final = n == left;
    memcpy(buf + LWS_PRE, p->resp.body + p->off, n);
    if (lws_write(wsi, buf + LWS_PRE, n, final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n) return -1;
    p->off += n;
    if (!final) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    count_request(p->route_label, p->resp.status, tp_mono_us() - p->start_us);
    resp_free(&p->resp);
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* ---- /ws clients ---- */

/* Live clients at most; more are refused at the upgrade so a flood of
 * browsers cannot take every descriptor from the REST API and /healthz. */
#define TP_HTTP_MAX_WS_CLIENTS 256

static void ws_on_message(client *c) {
    json_error_t je;
    json_t *j = json_loadb(c->rx, c->rxlen, 0, &je);
    json_t *sym = j ? json_object_get(j, "symbol") : NULL;
    if (!j || !json_is_object(j) || (sym && !json_is_string(sym) && !json_is_null(sym))) {
        tp_debug(MOD, "ignoring a /ws message that is not {\"symbol\": \"...\"}");
    } else if (!sym || json_is_null(sym)) {
        c->filter[0] = '\0';
    } else if (json_string_length(sym) <= TP_HTTP_MAX_SYMBOL) {
        snprintf(c->filter, sizeof c->filter, "%s", json_string_value(sym));
    }
    json_decref(j);
}

static int check_ws_path(struct lws *wsi) {
    char uri[64];
    if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) < 0) return 1;
    return strcmp(uri, "/ws") != 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
    struct lws_context *ctx = lws_get_context(wsi);
    tp_http *h = ctx ? lws_context_user(ctx) : NULL;
    pss *p = user;
    switch (reason) {
    case LWS_CALLBACK_HTTP: return on_http(h, wsi, p, in ? (const char *)in : "/");
    case LWS_CALLBACK_HTTP_WRITEABLE:
        if (!p || p->is_ws) return 0;
        return on_http_writeable(wsi, p);
    case LWS_CALLBACK_CLOSED_HTTP:
        if (p && !p->is_ws) resp_free(&p->resp);
        break;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        if (check_ws_path(wsi)) return 1;
        if (h && atomic_load(&h->nclients) >= TP_HTTP_MAX_WS_CLIENTS) {
            /* keep descriptors for REST, /metrics and /healthz */
            static _Atomic unsigned long refused;
            unsigned long n = atomic_fetch_add(&refused, 1);
            if (n % 1000 == 0)
                tp_warn(MOD, "refusing /ws clients: %d are connected, the limit (%lu refused so far)",
                        TP_HTTP_MAX_WS_CLIENTS, n + 1);
            return 1;
        }
        return 0;
    case LWS_CALLBACK_ESTABLISHED: {
        memset(p, 0, sizeof *p);
        p->is_ws = 1;
        client *c = &p->c;
        c->wsi = wsi;
        /* /ws?symbol=S filters from the first message on (a {"symbol":S}
         * message sent after connecting races with pushes already queued) */
        char arg[TP_HTTP_MAX_SYMBOL + 16];
        const char *v = lws_get_urlarg_by_name(wsi, "symbol=", arg, (int)sizeof arg);
        if (v && *v && strlen(v) <= TP_HTTP_MAX_SYMBOL) snprintf(c->filter, sizeof c->filter, "%s", v);
        c->next = h->clients;
        if (h->clients) h->clients->prev = c;
        h->clients = c;
        atomic_fetch_add(&h->nclients, 1);
        tp_gauge_set(h->m_ws_clients, atomic_load(&h->nclients));
        msg *m = stats_msg(h); /* health at once, not in a second */
        if (m) {
            client_push(h, c, m);
            msg_unref(m);
        }
        break;
    }
    case LWS_CALLBACK_RECEIVE: {
        client *c = &p->c;
        if (c->rxlen + len > sizeof c->rx)
            c->rx_too_big = 1;
        else {
            memcpy(c->rx + c->rxlen, in, len);
            c->rxlen += len;
        }
        if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
            if (!c->rx_too_big) ws_on_message(c);
            c->rxlen = 0;
            c->rx_too_big = 0;
        }
        break;
    }
    case LWS_CALLBACK_SERVER_WRITEABLE: {
        client *c = &p->c;
        if (!c->n) break;
        msg *m = c->q[c->head];
        c->head = (c->head + 1) % CLIENT_QUEUE;
        c->n--;
        int w = lws_write(wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT); /* lws keeps any unsent tail */
        msg_unref(m);
        if (w < 0) return -1;
        tp_counter_add(h->m_ws_msgs, 1);
        if (c->n) lws_callback_on_writable(wsi);
        break;
    }
    case LWS_CALLBACK_CLOSED: {
        if (!p || !p->is_ws) break;
        client *c = &p->c;
        if (c->prev)
            c->prev->next = c->next;
        else
            h->clients = c->next;
        if (c->next) c->next->prev = c->prev;
        while (c->n) {
            msg_unref(c->q[c->head]);
            c->head = (c->head + 1) % CLIENT_QUEUE;
            c->n--;
        }
        atomic_fetch_sub(&h->nclients, 1);
        tp_gauge_set(h->m_ws_clients, atomic_load(&h->nclients));
        break;
    }
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        if (h) drain_pending(h);
        break;
    default: break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols k_protocols[] = {
    {"tickpipe", callback, sizeof(pss), WS_RX_MAX, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* ---- lifecycle ---- */

void tp_http_config_default(tp_http_config *c) {
    memset(c, 0, sizeof *c);
    c->listen = "127.0.0.1:8080";
    c->store_url = "sqlite:data/tickpipe.db";
    c->poll_store_ms = 0;
    c->max_limit = 5000;
}

static void lws_log_emit(int level, const char *line) {
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) n--;
    tp_debug("lws", "%.*s", (int)n, line);
}

/* "HOST:PORT", "[V6]:PORT", ":PORT" or "PORT"; host "" / "*" / "0.0.0.0" =
 * every IPv4 address. */
static int parse_listen(const char *s, char *host, size_t hostlen, int *port, char *err, size_t errlen) {
    const char *colon = NULL, *hs = s, *he;
    if (*s == '[') {
        const char *rb = strchr(s, ']');
        if (!rb || rb[1] != ':') goto bad;
        hs = s + 1;
        he = rb;
        colon = rb + 1;
    } else {
        colon = strrchr(s, ':');
        he = colon ? colon : s;
    }
    const char *ps = colon ? colon + 1 : s;
    if (!colon) he = hs;
    int64_t v;
    char perr[128];
    if (tp_cfg_parse_i64(ps, "port", 0, 65535, &v, perr, sizeof perr)) goto bad;
    *port = (int)v;
    size_t hl = (size_t)(he - hs);
    if (hl >= hostlen) goto bad;
    memcpy(host, hs, hl);
    host[hl] = '\0';
    if (!strcmp(host, "localhost")) snprintf(host, hostlen, "127.0.0.1");
    if (!strcmp(host, "*")) host[0] = '\0';
    return 0;
bad:
    return tp_seterr(err, errlen, TP_EINVAL,
                     "--http '%s': expected ADDR:PORT, e.g. 127.0.0.1:8080 (port 0 picks a free one)", s);
}

/* Bind once ourselves for a precise error message (lws only logs one). */
static int probe_bind(const char *host, int port, char *err, size_t errlen) {
    int v6 = strchr(host, ':') != NULL;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t sl;
    if (v6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
            return tp_seterr(err, errlen, TP_EINVAL, "--http: '%s' is not an IP address", host);
        sl = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        if (!*host)
            a->sin_addr.s_addr = htonl(INADDR_ANY);
        else if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
            return tp_seterr(err, errlen, TP_EINVAL, "--http: '%s' is not an IPv4 address (or localhost)",
                             host);
        sl = sizeof *a;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM, 0);
    if (fd < 0) return tp_seterr(err, errlen, TP_EIO, "socket: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    int rc = bind(fd, (struct sockaddr *)&ss, sl);
    int e = errno;
    close(fd);
    if (rc)
        return tp_seterr(err, errlen, TP_EIO, "cannot listen on %s:%d: %s%s", *host ? host : "*", port,
                         strerror(e),
                         e == EADDRINUSE ? " (another program has the port; pick another with --http)" : "");
    return 0;
}

static void *server_main(void *arg) {
    tp_http *h = arg;
    while (!atomic_load(&h->stop))
        if (lws_service(h->ctx, 0) < 0) break;
    return NULL;
}

int tp_http_start(const tp_http_config *cfg, tp_http **out, char *err, size_t errlen) {
    *out = NULL;
    char host[64];
    int port = 0;
    int rc =
        parse_listen(cfg->listen ? cfg->listen : "127.0.0.1:8080", host, sizeof host, &port, err, errlen);
    if (rc) return rc;
    if (cfg->max_limit < 1) return tp_seterr(err, errlen, TP_EINVAL, "max_limit must be at least 1");
    if ((rc = probe_bind(host, port, err, errlen))) return rc;

    tp_http *h = calloc(1, sizeof *h);
    if (!h) return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    h->cfg = *cfg;
    h->listen = strdup(cfg->listen ? cfg->listen : "127.0.0.1:8080");
    h->store_url = strdup(cfg->store_url ? cfg->store_url : "");
    if (!h->listen || !h->store_url) {
        free(h->listen);
        free(h->store_url);
        free(h);
        return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    }
    h->cfg.listen = h->listen;
    h->cfg.store_url = h->store_url;
    h->store.url = h->store_url;
    h->store_ok = 1;
    h->rate_stored = h->rate_ingest = -1;
    pthread_mutex_init(&h->lock, NULL);
    h->m_ws_msgs =
        tp_metrics_counter("tickpipe_http_ws_messages_total", NULL, "messages sent to /ws clients");
    h->m_ws_dropped = tp_metrics_counter("tickpipe_http_ws_dropped_total", NULL,
                                         "live messages dropped for slow /ws clients (oldest first)");
    h->m_store_errors = tp_metrics_counter("tickpipe_http_store_errors_total", NULL,
                                           "store errors seen by the HTTP server (queries and polling)");
    h->m_ws_clients = tp_metrics_gauge("tickpipe_http_ws_clients", NULL, "connected /ws clients");

    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_emit);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = port;
    info.iface = *host ? host : NULL;
    info.protocols = k_protocols;
    info.gid = -1;
    info.uid = -1;
    info.user = h;
    info.options = strchr(host, ':') ? 0 : LWS_SERVER_OPTION_DISABLE_IPV6;
    info.options |= LWS_SERVER_OPTION_VALIDATE_UTF8;
    info.fd_limit_per_thread = 1024;
    h->ctx = lws_create_context(&info);
    if (!h->ctx) {
        tp_http_stop(h);
        return tp_seterr(err, errlen, TP_EIO, "cannot start the HTTP server on %s", cfg->listen);
    }
    struct lws_vhost *vh = lws_get_vhost_by_name(h->ctx, "default");
    h->port = vh ? lws_get_vhost_listen_port(vh) : port;
    lws_sul_schedule(h->ctx, 0, &h->sul_stats, on_stats_timer, LWS_US_PER_SEC);
    if (h->cfg.poll_store_ms > 0) lws_sul_schedule(h->ctx, 0, &h->sul_poll, on_poll_timer, 1);
    if (pthread_create(&h->thread, NULL, server_main, h)) {
        tp_http_stop(h);
        return tp_seterr(err, errlen, TP_EIO, "cannot start the HTTP server thread");
    }
    h->thread_started = 1;
    *out = h;
    return 0;
}

int tp_http_port(const tp_http *h) {
    return h ? h->port : 0;
}

void tp_http_stop(tp_http *h) {
    if (!h) return;
    atomic_store(&h->stop, 1);
    if (h->ctx) lws_cancel_service(h->ctx);
    if (h->thread_started) pthread_join(h->thread, NULL);
    if (h->ctx) {
        lws_sul_cancel(&h->sul_stats);
        lws_sul_cancel(&h->sul_poll);
        lws_context_destroy(h->ctx); /* closes clients: their queues are freed in CLOSED */
    }
    while (h->pn) {
        msg_unref(h->pending[h->phead]);
        h->phead = (h->phead + 1) % PENDING_QUEUE;
        h->pn--;
    }
    tp_http_store_reset(&h->store);
    for (size_t i = 0; i < h->nsyms; i++) free(h->syms[i].symbol);
    free(h->syms);
    pthread_mutex_destroy(&h->lock);
    free(h->listen);
    free(h->store_url);
    free(h);
}
