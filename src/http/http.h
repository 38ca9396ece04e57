/* http.h - the HTTP side of `tickpipe serve` and `tickpipe run`.
 *
 * One libwebsockets server on one port serves:
 *   /            the dashboard (embedded assets: page, script, lightweight-charts)
 *   /api/...     REST queries over the store (symbols, trades, candles, averages)
 *   /ws          live push of trades, candles, averages and pipeline health
 *   /metrics     Prometheus text format (tp_metrics_render)
 *   /healthz     "ok", or what cfg->health says (liveness)
 *   /readyz      readiness: what cfg->ready says, else whether the store
 *                can be read
 * (with cfg->metrics_only the last three only: an endpoint for a stage
 * without a store)
 *
 * REST queries run on a store worker thread with its own reader tp_sink on
 * cfg->store_url (a tp_sink is used by one thread at a time), never on the
 * server thread: a slow or hung store delays only /api/ answers and serve's
 * live tail, not /healthz, /metrics, the dashboard's files or /ws pushes.
 *
 * Live push: in `run` the pipeline calls tp_http_publish_*() after rows are
 * durable; the calls are thread-safe, copy the rows (only while a browser
 * is connected) and return: the server thread turns them into JSON. The
 * oldest queued updates are dropped for a slow browser (a browser that
 * falls behind re-reads through REST on reconnect). In `serve`
 * (cfg->poll_store_ms > 0) the store worker tails the store for new rows
 * and pushes them, so serve beside produce/process is live too.
 *
 * Threading: tp_http_start() runs the server in a background thread;
 * tp_http_stop() stops it, joins and frees. */
#ifndef TP_HTTP_H
#define TP_HTTP_H

#include "core/trade.h"
#include "sink/sink.h"

#include <stddef.h>
#include <stdint.h>

/* What /healthz answers: write one short line into out and return 0 for
 * healthy (200) or nonzero for unhealthy (503). Called on the server
 * thread for every /healthz request, so it must not block: read atomics or
 * state kept by the caller, never a store or a broker. A line starting
 * with '{' is sent as application/json and also goes into the /ws stats
 * message as "health" (the dashboard's health row shows its problems). */
typedef int (*tp_http_health_fn)(void *ud, char *out, size_t outlen);

typedef struct tp_http_config {
    const char *listen;       /* "127.0.0.1:8080"; port 0 = pick a free one */
    const char *store_url;    /* store queried by the REST API */
    int64_t poll_store_ms;    /* serve: poll the store for new rows; 0 = off (run pushes) */
    int max_limit;            /* REST row limit cap; default 5000 */
    tp_http_health_fn health; /* NULL: /healthz is always 200 "ok" */
    void *health_ud;
    /* /readyz, the readiness probe, same contract as health. NULL (serve):
     * ready once the store worker has opened the store and its last access
     * succeeded (the worker checks with one cheap read every 2 s). /healthz stays
     * the liveness answer. */
    tp_http_health_fn ready;
    void *ready_ud;
    /* Only /metrics, /healthz and /readyz (produce --metrics): no store,
     * no dashboard, no /ws; anything else is 404. /readyz is cfg->ready,
     * or 200 without it. */
    int metrics_only;
} tp_http_config;

void tp_http_config_default(tp_http_config *c);

typedef struct tp_http tp_http;
int tp_http_start(const tp_http_config *cfg, tp_http **out, char *err, size_t errlen);
int tp_http_port(const tp_http *h); /* the port actually bound */
void tp_http_stop(tp_http *h);

/* Thread-safe live push (see above). NULL h is a no-op. */
void tp_http_publish_trades(tp_http *h, const tp_trade *t, size_t n);
void tp_http_publish_candles(tp_http *h, const tp_candle *c, size_t n);
void tp_http_publish_averages(tp_http *h, const tp_average *a, size_t n);

#endif
