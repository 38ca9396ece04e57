/* http_store.c - the store worker: the only thread of the HTTP side that
 * talks to a store (see http_internal.h).
 *
 * It owns the reader tp_sink (opened lazily, reopened with backoff after an
 * error) and does two kinds of work, one at a time:
 *   - /api/ requests: the service thread parses the request line and hands
 *     a tp_http_job over (at most TP_HTTP_REST_QUEUE wait; more get 503 at
 *     once); the worker runs tp_http_api() and hands the job back, waking
 *     the service thread, which sends the answer if the browser is still
 *     there;
 *   - in serve (poll_store_ms > 0), every poll interval while a browser is
 *     connected: the tailer reads the per-symbol counts, then the rows of
 *     the symbols that changed since the last pass (from a lookback before
 *     the newest row seen, since windows and late trades change rows that
 *     far back), and queues the new ones as /ws messages.
 * A store that hangs therefore delays only REST answers and the tail; the
 * service thread keeps answering /healthz, /metrics and the dashboard's
 * files and keeps pushing. The worker publishes the store's health
 * (store_ok, store_err, stored_total) under wlock for the stats message.
 *
 * The waits use CLOCK_MONOTONIC, so a wall-clock step neither fires nor
 * starves the poll. */
#include "http/http_internal.h"

#include "core/config.h"
#include "core/err.h"
#include "core/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MOD "http"
#define TAIL_LOOKBACK_MS 20000 /* windows and late trades change this far back */
#define TAIL_MAX_SYMBOLS 64    /* symbols read per pass */

void tp_http_job_free(tp_http_job *j) {
    if (!j) return;
    for (int i = 0; i < j->nargs; i++) free(j->args[i]);
    tp_http_resp_free(&j->resp);
    free(j);
}

static void set_store_state(tp_http *h, int ok, const char *err) {
    pthread_mutex_lock(&h->wlock);
    h->store_ok = ok;
    if (ok) h->store_opened = 1;
    if (err) snprintf(h->store_err, sizeof h->store_err, "%s", err);
    pthread_mutex_unlock(&h->wlock);
}

/* ---- the tailer [worker] ---- */

typedef struct tail_ctx {
    tp_http *h;
    tp_http_tail_sym *ps;
    json_t *arr;
    int64_t newest, newest_upd, newest_start;
    int64_t total; /* sum of per-symbol counts */
    int push;      /* 0 on the baseline pass */
} tail_ctx;

static int tail_on_symbol(void *ud, const tp_symbol_info *si) {
    tail_ctx *tc = ud;
    tp_http *h = tc->h;
    tc->total += si->trade_count;
    tp_http_tail_sym *ps = NULL;
    for (size_t i = 0; i < h->nsyms; i++)
        if (strlen(h->syms[i].symbol) == si->symbol.len &&
            !memcmp(h->syms[i].symbol, si->symbol.ptr, si->symbol.len))
            ps = &h->syms[i];
    if (!ps) {
        tp_http_tail_sym *n = realloc(h->syms, (h->nsyms + 1) * sizeof *n);
        if (!n) return 1;
        h->syms = n;
        ps = &h->syms[h->nsyms];
        memset(ps, 0, sizeof *ps);
        ps->symbol = strndup(si->symbol.ptr, si->symbol.len);
        if (!ps->symbol) return 1;
        ps->trade_count = -1; /* changed */
        /* a symbol that appears after start: push its rows from now on */
        if (h->tail_baseline_done) ps->max_ts = si->last_ts_ms - TAIL_LOOKBACK_MS;
        h->nsyms++;
    }
    ps->trade_count = si->trade_count;
    ps->last_ts = si->last_ts_ms;
    return 0;
}

static int tail_on_trade(void *ud, const tp_trade *t, int64_t ingest_ms) {
    tail_ctx *tc = ud;
    if (t->ts_ms > tc->newest) tc->newest = t->ts_ms;
    if (ingest_ms > tc->newest_upd) tc->newest_upd = ingest_ms;
    if (tc->push && ingest_ms > tc->ps->trade_ingest) {
        json_t *r = tp_http_trade_json(t, ingest_ms);
        if (r) json_array_append_new(tc->arr, r);
    }
    return 0;
}

static int tail_on_candle(void *ud, const tp_candle *c) {
    tail_ctx *tc = ud;
    int k = c->interval_s == 1 ? 0 : 1;
    if (c->updated_ms > tc->newest_upd) tc->newest_upd = c->updated_ms;
    if (c->start_ms > tc->newest_start) tc->newest_start = c->start_ms;
    if (tc->push && c->updated_ms > tc->ps->candle_upd[k]) {
        json_t *r = tp_http_candle_json(c);
        if (r) json_array_append_new(tc->arr, r);
    }
    return 0;
}

static int tail_on_average(void *ud, const tp_average *a) {
    tail_ctx *tc = ud;
    if (a->ingest_ms > tc->newest_upd) tc->newest_upd = a->ingest_ms;
    if (a->window_start_ms > tc->newest_start) tc->newest_start = a->window_start_ms;
    if (tc->push && a->ingest_ms > tc->ps->avg_upd) {
        json_t *r = tp_http_average_json(a);
        if (r) json_array_append_new(tc->arr, r);
    }
    return 0;
}

/* Queue arr (stolen) as one /ws message of type for ps's symbol. */
static void tail_push(tp_http *h, const char *type, tp_http_tail_sym *ps, json_t *arr) {
    if (!json_array_size(arr)) {
        json_decref(arr);
        return;
    }
    json_t *o = json_pack("{s:s,s:s,s:o}", "type", type, "symbol", ps->symbol, "data", arr);
    tp_http_enqueue_msg(h, o ? tp_http_msg_new(ps->symbol, strlen(ps->symbol), o) : NULL);
}

static int64_t lookback(int64_t t) {
    return t > TAIL_LOOKBACK_MS ? t - TAIL_LOOKBACK_MS : 0;
}

static int tail_symbol(tp_http *h, tp_http_tail_sym *ps, int push, char *err, size_t errlen) {
    tp_sink *s = h->store.sink;
    tail_ctx tc = {.h = h, .ps = ps, .push = push};

    tp_query q = {.symbol = ps->symbol, .from_ms = lookback(ps->max_ts), .limit = TP_HTTP_PUSH_MAX_ROWS * 5};
    tc.arr = json_array();
    tc.newest = ps->max_ts;
    tc.newest_upd = ps->trade_ingest;
    int rc = tp_sink_query_trades(s, &q, tail_on_trade, &tc, err, errlen);
    if (rc) {
        json_decref(tc.arr);
        return rc;
    }
    /* rows go out in store order (oldest first), as REST gives them */
    tail_push(h, "trades", ps, tc.arr);
    if (tc.newest > ps->max_ts && push) tp_http_note_lag(h, tc.newest);
    ps->max_ts = tc.newest;
    ps->trade_ingest = tc.newest_upd;

    for (int k = 0; k < 2; k++) {
        tp_query cq = {.symbol = ps->symbol,
                       .from_ms = lookback(ps->candle_start[k]),
                       .limit = TP_HTTP_PUSH_MAX_ROWS,
                       .interval_s = k == 0 ? 1 : 60};
        tc.arr = json_array();
        tc.newest_upd = ps->candle_upd[k];
        tc.newest_start = ps->candle_start[k];
        rc = tp_sink_query_candles(s, &cq, tail_on_candle, &tc, err, errlen);
        if (rc) {
            json_decref(tc.arr);
            return rc;
        }
        tail_push(h, "candles", ps, tc.arr);
        ps->candle_upd[k] = tc.newest_upd;
        ps->candle_start[k] = tc.newest_start;
    }

    tp_query aq = {.symbol = ps->symbol, .from_ms = lookback(ps->avg_start), .limit = TP_HTTP_PUSH_MAX_ROWS};
    tc.arr = json_array();
    tc.newest_upd = ps->avg_upd;
    tc.newest_start = ps->avg_start;
    rc = tp_sink_query_averages(s, &aq, tail_on_average, &tc, err, errlen);
    if (rc) {
        json_decref(tc.arr);
        return rc;
    }
    tail_push(h, "averages", ps, tc.arr);
    ps->avg_upd = tc.newest_upd;
    ps->avg_start = tc.newest_start;
    return 0;
}

static void tail_store(tp_http *h) {
    tp_http_resp r = {0};
    if (tp_http_store_ready(&h->store, &r)) {
        tp_http_resp_free(&r);
        set_store_state(h, 0, h->store.last_err);
        return;
    }
    if (!tp_sink_can_read(h->store.sink)) return; /* serve refuses such stores; run never tails */
    char err[256] = "";
    size_t n0 = h->nsyms;
    int64_t *counts = malloc((n0 + 1) * sizeof *counts), *lasts = malloc((n0 + 1) * sizeof *lasts);
    if (!counts || !lasts) goto out;
    /* what the symbols looked like before this pass, to read only changed ones */
    for (size_t i = 0; i < n0; i++) counts[i] = h->syms[i].trade_count, lasts[i] = h->syms[i].last_ts;
    tail_ctx tc = {.h = h};
    int rc = tp_sink_query_symbols(h->store.sink, tail_on_symbol, &tc, err, sizeof err);
    if (rc) goto fail;
    pthread_mutex_lock(&h->wlock);
    h->stored_total = tc.total;
    h->stored_at_ms = tp_mono_us() / 1000; /* for the rate only */
    pthread_mutex_unlock(&h->wlock);
    int read = 0;
    for (size_t i = 0; i < h->nsyms && read < TAIL_MAX_SYMBOLS; i++) {
        tp_http_tail_sym *ps = &h->syms[i];
        int changed = i >= n0 || ps->trade_count != counts[i] || ps->last_ts != lasts[i];
        if (!changed && h->tail_baseline_done) continue;
        read++;
        rc = tail_symbol(h, ps, h->tail_baseline_done && !h->rebaseline, err, sizeof err);
        if (rc) goto fail;
    }
    h->tail_baseline_done = 1;
    h->rebaseline = 0;
    set_store_state(h, 1, NULL);
    goto out;
fail:
    tp_counter_add(h->m_store_errors, 1);
    tp_warn(MOD, "reading the store for live updates failed (will retry): %s", err);
    snprintf(h->store.last_err, sizeof h->store.last_err, "%s", err);
    tp_http_store_reset(&h->store);
    set_store_state(h, 0, err);
out:
    free(counts);
    free(lasts);
}

/* ---- REST [worker] ---- */

static void run_job(tp_http *h, tp_http_job *j) {
    tp_http_api(&h->store, h->cfg.max_limit, j->path, j->args, j->nargs, &j->resp);
    if (j->resp.status == 500 || j->resp.status == 503) {
        tp_counter_add(h->m_store_errors, 1);
        set_store_state(h, 0, h->store.last_err[0] ? h->store.last_err : NULL);
    } else if (j->resp.status == 200) {
        set_store_state(h, 1, NULL);
    }
}

/* ---- the thread ---- */

static void deadline_after(struct timespec *ts, int64_t ms) {
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000;
    if (ts->tv_nsec >= 1000000000) ts->tv_sec++, ts->tv_nsec -= 1000000000;
}

static int due(const struct timespec *at) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > at->tv_sec || (now.tv_sec == at->tv_sec && now.tv_nsec >= at->tv_nsec);
}

static int no_row(void *ud, const tp_trade *t, int64_t ingest_ms) {
    (void)ud, (void)t, (void)ingest_ms;
    return 1;
}

/* Readiness without cfg.ready (serve), every 2 s: open the store if it is
 * not, then one round trip that costs an index lookup in every store (the
 * newest trade of a symbol that does not exist), so /readyz says whether
 * the store can be read now, not when a browser last asked. */
static void probe_store(tp_http *h) {
    tp_http_resp r;
    memset(&r, 0, sizeof r);
    char err[256] = "";
    int rc = tp_http_store_ready(&h->store, &r);
    if (rc) {
        snprintf(err, sizeof err, "%s", h->store.last_err);
    } else {
        tp_query q = {.symbol = "tickpipe-readyz-probe", .limit = 1};
        rc = tp_sink_query_trades(h->store.sink, &q, no_row, NULL, err, sizeof err);
        if (rc) {
            snprintf(h->store.last_err, sizeof h->store.last_err, "%s", err);
            tp_http_store_reset(&h->store); /* reopened by the next probe or request */
        }
    }
    set_store_state(h, rc == 0, rc ? err : NULL);
    tp_http_resp_free(&r);
}

static int probing(const tp_http *h) {
    return !h->cfg.ready;
}

static void *worker_main(void *arg) {
    tp_http *h = arg;
    int tail = h->cfg.poll_store_ms > 0;
    struct timespec next_tail, next_probe;
    deadline_after(&next_tail, 0);
    /* the first probe at once, on this thread: a store that hangs must not
     * hold up the server's start (/readyz says "not opened yet" meanwhile) */
    deadline_after(&next_probe, 0);
    pthread_mutex_lock(&h->wlock);
    for (;;) {
        while (!h->wstop && !h->jobs_head && !(tail && due(&next_tail)) &&
               !(probing(h) && due(&next_probe))) {
            const struct timespec *until = tail ? &next_tail : NULL;
            if (probing(h) && (!until || next_probe.tv_sec < until->tv_sec ||
                               (next_probe.tv_sec == until->tv_sec && next_probe.tv_nsec < until->tv_nsec)))
                until = &next_probe;
            if (until)
                pthread_cond_timedwait(&h->wcond, &h->wlock, until);
            else
                pthread_cond_wait(&h->wcond, &h->wlock);
        }
        if (h->wstop) break;
        if (probing(h) && due(&next_probe)) {
            pthread_mutex_unlock(&h->wlock);
            probe_store(h);
            deadline_after(&next_probe, 2000);
            pthread_mutex_lock(&h->wlock);
            continue;
        }
        /* a due tail pass first, so a stream of requests cannot starve it */
        if (tail && due(&next_tail)) {
            pthread_mutex_unlock(&h->wlock);
            /* nobody watching: do nothing; the first browser to connect gets
             * a new baseline (it has just read the current rows through REST) */
            if (atomic_load(&h->nclients))
                tail_store(h);
            else
                h->rebaseline = 1;
            deadline_after(&next_tail, h->cfg.poll_store_ms);
            pthread_mutex_lock(&h->wlock);
            continue;
        }
        tp_http_job *j = h->jobs_head;
        h->jobs_head = j->next;
        if (!h->jobs_head) h->jobs_tail = NULL;
        h->njobs--;
        pthread_mutex_unlock(&h->wlock);
        j->next = NULL;
        run_job(h, j);
        pthread_mutex_lock(&h->wlock);
        if (h->done_tail)
            h->done_tail->next = j;
        else
            h->done_head = j;
        h->done_tail = j;
        pthread_mutex_unlock(&h->wlock);
        tp_http_wake(h);
        pthread_mutex_lock(&h->wlock);
    }
    pthread_mutex_unlock(&h->wlock);
    return NULL;
}

int tp_http_worker_start(tp_http *h, char *err, size_t errlen) {
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&h->wlock, NULL);
    pthread_cond_init(&h->wcond, &ca);
    pthread_condattr_destroy(&ca);
    h->store_ok = 1;
    if (h->cfg.metrics_only) return 0; /* no store, no worker */
    if (pthread_create(&h->worker, NULL, worker_main, h))
        return tp_seterr(err, errlen, TP_EIO, "cannot start the HTTP store worker thread");
    h->worker_started = 1;
    return 0;
}

void tp_http_worker_stop(tp_http *h) {
    if (h->worker_started) {
        pthread_mutex_lock(&h->wlock);
        h->wstop = 1;
        pthread_cond_signal(&h->wcond);
        pthread_mutex_unlock(&h->wlock);
        pthread_join(h->worker, NULL); /* waits for a query in progress */
        h->worker_started = 0;
    }
    while (h->jobs_head) {
        tp_http_job *j = h->jobs_head;
        h->jobs_head = j->next;
        tp_http_job_free(j);
    }
    while (h->done_head) {
        tp_http_job *j = h->done_head;
        h->done_head = j->next;
        tp_http_job_free(j);
    }
    h->jobs_head = h->jobs_tail = h->done_head = h->done_tail = NULL;
    tp_http_store_reset(&h->store);
    for (size_t i = 0; i < h->nsyms; i++) free(h->syms[i].symbol);
    free(h->syms);
    h->syms = NULL;
    h->nsyms = 0;
    pthread_cond_destroy(&h->wcond);
    pthread_mutex_destroy(&h->wlock);
}

int tp_http_worker_submit(tp_http *h, tp_http_job *j) {
    pthread_mutex_lock(&h->wlock);
    if (h->njobs >= TP_HTTP_REST_QUEUE) {
        pthread_mutex_unlock(&h->wlock);
        return TP_EAGAIN;
    }
    j->next = NULL;
    if (h->jobs_tail)
        h->jobs_tail->next = j;
    else
        h->jobs_head = j;
    h->jobs_tail = j;
    h->njobs++;
    pthread_cond_signal(&h->wcond);
    pthread_mutex_unlock(&h->wlock);
    return 0;
}

tp_http_job *tp_http_worker_done(tp_http *h) {
    pthread_mutex_lock(&h->wlock);
    tp_http_job *j = h->done_head;
    h->done_head = h->done_tail = NULL;
    pthread_mutex_unlock(&h->wlock);
    return j;
}
