/* http_internal.h - pieces shared by the HTTP server's files (not an API).
 *
 * The HTTP side is three parts on two threads:
 *
 *   http_server.c  server and routing (the libwebsockets service thread):
 *                  the context, HTTP requests and their bodies, /ws
 *                  clients, /metrics, /healthz; hands /api/ requests to
 *                  the store worker and sends the answers it gets back
 *   http_push.c    live push fan-out: refcounted messages, per-client
 *                  bounded queues, the pending queues other threads fill
 *                  (rows from the pipeline, messages from the tailer), the
 *                  JSON form of pushed rows, the one-second stats message
 *   http_store.c   the store worker thread: owns the reader tp_sink, runs
 *                  every REST query (http_rest.c) and, in serve, tails the
 *                  store for new rows. Nothing that waits on a store runs
 *                  on the service thread, so a slow or hung store never
 *                  stalls /healthz, /metrics or /ws pushes.
 *   http_rest.c    query-string validation, the /api/ handlers and the JSON
 *                  form of each row type (the same objects go out on /ws)
 *   http_assets.c  the embedded dashboard files
 *
 * Threads and ownership: fields marked [svc] belong to the service
 * thread, [worker] to the store worker; [lock] fields are guarded by
 * tp_http.lock, [wlock] by tp_http.wlock; [atomic] ones by themselves.
 * Publishers (tp_http_publish_*) touch only [lock] and [atomic] fields. */
#ifndef TP_HTTP_INTERNAL_H
#define TP_HTTP_INTERNAL_H

#include "core/metrics.h"
#include "core/trade.h"
#include "http/http.h"
#include "sink/sink.h"

#include <jansson.h>
#include <libwebsockets.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define TP_HTTP_MAX_SYMBOL 64 /* bytes; longer symbol= values get 400 */
#define TP_HTTP_MAX_ARGS 16
#define TP_HTTP_CLIENT_QUEUE 256   /* messages per browser before the oldest is dropped */
#define TP_HTTP_PENDING_QUEUE 4096 /* messages from the tailer not yet given to browsers */
#define TP_HTTP_PENDING_ROWS 256   /* row hand-offs from publishers not yet serialised */
#define TP_HTTP_PUSH_MAX_ROWS 200  /* rows per symbol per message (the newest) */
#define TP_HTTP_WS_RX_MAX 1024     /* a browser's message, e.g. {"symbol":"AAPL"} */
#define TP_HTTP_MAX_WS_CLIENTS 256 /* more are refused at the upgrade */
#define TP_HTTP_REST_QUEUE 64      /* /api/ requests waiting for the store worker; more get 503 */

/* A response built by a handler; body is malloc'd (or static when
 * body_static is set). */
typedef struct tp_http_resp {
    int status;
    const char *ctype;
    char *body;
    size_t len;
    int body_static;
} tp_http_resp;

/* The reader store, opened lazily [worker]. */
typedef struct tp_http_store {
    const char *url;
    tp_sink *sink;
    int64_t failed_at_ms; /* last failed open (monotonic ms) */
    int64_t backoff_ms;   /* wait before the next try: 1 s, doubling to 30 s (an open can block) */
    char last_err[256];
} tp_http_store;

/* Make sure st->sink is open; 0, or fills resp with a 503 JSON error. */
int tp_http_store_ready(tp_http_store *st, tp_http_resp *r);
/* Drop the reader after a query error, so the next request reopens it. */
void tp_http_store_reset(tp_http_store *st);

/* Check an /api/... request without a store: 0 if it names an endpoint
 * with valid parameters, else -1 with r filled (404 or 400). Pure; the
 * server thread answers bad requests with it at once. */
int tp_http_api_check(int max_limit, const char *path, char **args, int nargs, tp_http_resp *r);
/* Route an /api/... request. args are "name=value" strings (URL-decoded). */
void tp_http_api(tp_http_store *st, int max_limit, const char *path, char **args, int nargs, tp_http_resp *r);

/* Fill r with {"error": msg} and status. */
void tp_http_error(tp_http_resp *r, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Serialize j (stolen) into r with status 200. */
void tp_http_json(tp_http_resp *r, json_t *j);
void tp_http_resp_free(tp_http_resp *r);

/* Row formatters (the same objects in REST answers and /ws messages). */
json_t *tp_http_trade_json(const tp_trade *t, int64_t ingest_ms);
json_t *tp_http_candle_json(const tp_candle *c);
json_t *tp_http_average_json(const tp_average *a);
json_t *tp_http_str(tp_str s); /* a JSON string, or null if not UTF-8 */
#define TP_HTTP_JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

/* Embedded assets. */
typedef struct tp_http_asset {
    const char *path; /* "/", "/app.js", ... */
    const char *ctype;
    const char *data;
    size_t len;
} tp_http_asset;
const tp_http_asset *tp_http_asset_find(const char *path);

/* ---- live push (http_push.c) ---- */

/* One JSON text shared, refcounted, by every client queue it is on. refs
 * is [svc] once the message is published. */
typedef struct tp_http_msg {
    int refs;
    char *sym;           /* NULL = for every client (stats) */
    size_t len;          /* JSON text length */
    unsigned char buf[]; /* LWS_PRE bytes of headroom, then the JSON text */
} tp_http_msg;
/* Serialise j (stolen) into a message for sym (NULL = everyone). */
tp_http_msg *tp_http_msg_new(const char *sym, size_t symlen, json_t *j);
void tp_http_msg_unref(tp_http_msg *m);

/* A /ws client [svc]. */
typedef struct tp_http_client {
    struct tp_http_client *next, *prev;
    struct lws *wsi;
    tp_http_msg *q[TP_HTTP_CLIENT_QUEUE];
    size_t head, n;
    char filter[TP_HTTP_MAX_SYMBOL + 1]; /* "" = every symbol */
    char rx[TP_HTTP_WS_RX_MAX];
    size_t rxlen;
    int rx_too_big;
} tp_http_client;

/* Rows handed over by a publisher, copied (tp_http_publish_*). */
typedef struct tp_http_rows tp_http_rows;

/* A /api/ request on its way to the store worker and back. */
typedef struct tp_http_job {
    struct tp_http_job *next;
    void *pss; /* [svc] the waiting request; NULL once its connection closed */
    char path[32];
    char *args[TP_HTTP_MAX_ARGS];
    int nargs;
    tp_http_resp resp; /* filled by the worker */
} tp_http_job;
void tp_http_job_free(tp_http_job *j);

/* Per-symbol tail state of serve [worker]. */
typedef struct tp_http_tail_sym {
    char *symbol;
    int64_t trade_count, last_ts;
    int64_t max_ts;       /* newest trade ts seen */
    int64_t trade_ingest; /* newest trade ingest time pushed */
    int64_t candle_upd[2], candle_start[2];
    int64_t avg_upd, avg_start;
} tp_http_tail_sym;

struct tp_http {
    tp_http_config cfg;
    char *listen, *store_url;
    struct lws_context *ctx;
    pthread_t thread;
    int thread_started;
    atomic_int stop;
    int port;

    /* push hand-off [lock] */
    pthread_mutex_t lock;
    tp_http_msg *pending[TP_HTTP_PENDING_QUEUE];
    size_t phead, pn;
    tp_http_rows *rows_head, *rows_tail;
    size_t nrows;
    int ctx_alive; /* lws_cancel_service may be called */

    atomic_int nclients;
    tp_http_client *clients;          /* [svc] */
    lws_sorted_usec_list_t sul_stats; /* [svc] */

    /* health [atomic] */
    _Atomic uint64_t rows_seen; /* trades published (run) */
    _Atomic int64_t lag_ms;     /* now - newest trade ts, at its arrival */
    _Atomic int64_t lag_at_ms;  /* monotonic ms */
    /* [svc] */
    uint64_t prev_stored, prev_ingest; /* samples of the previous second */
    int64_t prev_stored_at, prev_ingest_at;
    double rate_stored, rate_ingest; /* per second; < 0 = not known yet */

    /* the store worker: its queue [wlock] */
    pthread_t worker;
    int worker_started;
    pthread_mutex_t wlock;
    pthread_cond_t wcond;
    tp_http_job *jobs_head, *jobs_tail;
    size_t njobs;
    tp_http_job *done_head, *done_tail;
    int wstop;
    /* the store's state as the worker last saw it [wlock] */
    int store_ok;
    int store_opened;     /* the store was opened once (readiness without cfg.ready) */
    int64_t stored_total; /* serve: sum of the store's per-symbol counts */
    int64_t stored_at_ms; /* serve: when stored_total was read (monotonic ms) */
    char store_err[256];
    /* [worker] */
    tp_http_store store;
    tp_http_tail_sym *syms;
    size_t nsyms;
    int tail_baseline_done, rebaseline;

    tp_counter *m_ws_msgs, *m_ws_dropped, *m_store_errors, *m_rest_busy;
    tp_gauge *m_ws_clients;
};

/* [svc] queue m on every client whose filter it passes. */
void tp_http_broadcast(tp_http *h, tp_http_msg *m);
void tp_http_client_push(tp_http *h, tp_http_client *c, tp_http_msg *m);
/* [svc] move every pending message and row hand-off to the clients. */
void tp_http_drain_pending(tp_http *h);
/* Any thread: queue m (owned) for the clients and wake the service thread. */
void tp_http_enqueue_msg(tp_http *h, tp_http_msg *m);
/* Any thread: wake the service thread (no-op once it is stopping). */
void tp_http_wake(tp_http *h);
/* [svc] the stats message, and the once-a-second rate update. */
tp_http_msg *tp_http_stats_msg(tp_http *h);
void tp_http_stats_tick(tp_http *h);
void tp_http_note_lag(tp_http *h, int64_t newest_ts);
/* [svc] at stop: free what is still queued. */
void tp_http_push_free(tp_http *h);

/* ---- the store worker (http_store.c) ---- */

int tp_http_worker_start(tp_http *h, char *err, size_t errlen);
void tp_http_worker_stop(tp_http *h);
/* [svc] hand j to the worker; TP_EAGAIN (j untouched) when its queue is full. */
int tp_http_worker_submit(tp_http *h, tp_http_job *j);
/* [svc] take the answered jobs (a list through ->next), oldest first. */
tp_http_job *tp_http_worker_done(tp_http *h);

/* /api/watchlist (watchlist.c): every symbol's row appended to arr, the
 * day and rate taken at now_ms. 0, or a store error with err. */
int tp_http_watchlist(tp_sink *sink, int64_t now_ms, json_t *arr, char *err, size_t errlen);

#endif
