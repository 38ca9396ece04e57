/* cmd_run.c - `tickpipe run`: the whole pipeline in one process.
 *
 *   feed (Finnhub with a token, else the built-in simulator on loopback,
 *   read through the same WebSocket client)
 *     -> source thread -> bounded hand-off queue (core/handoff.h)
 *     -> pipeline thread: ids, windows, store, durable
 *     -> HTTP: dashboard, REST, live push (/ws), /metrics
 *
 * Ids: a live feed has no Kafka offsets, so each run stamps its batches
 * with origin topic "feed:<run nonce>" and the frame sequence number; ids
 * are unique across runs and still deterministic within one.
 *
 * Stopping (core/shutdown.h): the first SIGINT/SIGTERM, --duration or
 * --max-trades stop the source; the pipeline thread drains the queue,
 * flushes every open window and commits, then the HTTP server and the
 * simulator stop. A second signal while a store is unreachable abandons
 * the pending rows (said in plain words) instead of waiting forever. */
#include "cmd/commands.h"

#include "cmd/feed_config.h"
#include "cmd/flags.h"
#include "core/config.h"
#include "core/err.h"
#include "core/handoff.h"
#include "core/listen.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/shutdown.h"
#include "feed/source.h"
#include "http/http.h"
#include "process/pipeline.h"
#include "sim/sim.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RUN_QUEUE_TRADES 200000

typedef struct run_flags {
    double sim_rate;
    int64_t sim_batch, sim_seed;
    int no_http;
} run_flags;

static const tp_opt k_run[] = {
    {.name = "sim-rate",
     .arg = "N",
     .def = "200",
     .unit = "trades/s",
     .help = "simulator: trades/s in total",
     .type = TP_OPT_NUM,
     .off = offsetof(run_flags, sim_rate),
     .min = 0.001,
     .max = 1e9},
    {.name = "sim-batch",
     .arg = "N",
     .def = "20",
     .help = "simulator: trades per message at most",
     .type = TP_OPT_INT,
     .off = offsetof(run_flags, sim_batch),
     .min = 1,
     .max = 10000},
    {.name = "sim-seed",
     .arg = "N",
     .def = "-1",
     .def_doc = "from the clock",
     .help = "simulator: random seed (the same seed gives the same market); -1 = from the clock",
     .type = TP_OPT_INT,
     .off = offsetof(run_flags, sim_seed),
     .min = -1,
     .max = 9e18},
    {.name = "no-http",
     .help = "run without the HTTP server",
     .type = TP_OPT_SWITCH,
     .off = offsetof(run_flags, no_http)},
    {0},
};
static const tp_opt_group k_run_group = {"run", "Built-in simulator and HTTP switch", k_run};

static const tp_opt_default k_run_defaults[] = {
    {"symbols", "AAPL,MSFT,AMZN,NVDA,TSLA,BINANCE:BTCUSDT,BINANCE:ETHUSDT,OANDA:EUR_USD", NULL},
    {"ws-url", NULL, "wss://ws.finnhub.io; the built-in simulator without a token"},
    {"rest-url", NULL, "https://finnhub.io/api/v1; the simulator's without a token"},
    {"progress-interval", "10", NULL},
    {NULL, NULL, NULL},
};

const tp_cmd_spec tp_spec_run = {
    .name = "run",
    .synopsis = "[OPTIONS]",
    .about = "Run the whole pipeline in one process: the feed, processing and windows\n"
             "(15-second running averages, 1-second and 1-minute candles), the store, and\n"
             "the web dashboard with its REST API, live push and /metrics.\n"
             "With a Finnhub API token the feed is Finnhub; without one tickpipe starts its\n"
             "built-in simulator on loopback and reads it through the same WebSocket client.\n"
             "Ctrl-C (SIGINT) or SIGTERM drains, flushes the store and exits; a second one\n"
             "gives up on rows a store that is down has not taken.\n",
    .epilog = "Exit status: 0 after a clean drain, 1 on a runtime failure (store unreachable at\n"
              "start, rows not stored at exit, port in use), 2 on a usage error (bad flag, store\n"
              "URL or --http address). A rejected token is logged on every attempt and retried\n"
              "with backoff (capped at 60 s), like any other feed failure.\n",
    .groups = {&tp_flags_api, &tp_flags_feed, &k_run_group, &tp_flags_store, &tp_flags_windows,
               &tp_flags_http, &tp_flags_stop, &tp_flags_progress, &tp_flags_log},
    .defaults = k_run_defaults,
};

typedef struct run_state {
    tp_handoff *q;
    tp_source *src;
    tp_pipeline *pipe;
    tp_http *http;
    tp_sim *sim;
    tp_shutdown *sd;
    char origin_topic[64];
    uint64_t max_trades;
    _Atomic uint64_t accepted;
    char ws_url[256], rest_url[256];
} run_state;

/* Source thread: queue a copy of the frame's trades (blocks while full). */
static int on_batch(void *ud, tp_batch *b) {
    run_state *r = ud;
    size_t take = b->n;
    if (r->max_trades) {
        uint64_t acc = atomic_load(&r->accepted);
        if (acc >= r->max_trades) return 1;
        if (acc + take > r->max_trades) take = (size_t)(r->max_trades - acc);
    }
    int rc = tp_handoff_put(r->q, b, take, r->origin_topic);
    if (rc < 0) tp_error("run", "out of memory queueing %zu trades; stopping", take);
    if (rc) return 1;
    uint64_t acc = atomic_fetch_add(&r->accepted, take) + take;
    return r->max_trades && acc >= r->max_trades;
}

static void *source_thread(void *arg) {
    run_state *r = arg;
    static char err[512];
    int rc = tp_source_run(r->src, err, sizeof err);
    if (rc) tp_error("run", "feed stopped: %s", err);
    if (tp_shutdown_signals(r->sd) == 1 && !tp_handoff_aborted(r->q))
        tp_info("run",
                "stopping: the feed is closed; storing the %zu queued trades and the open windows "
                "(a second Ctrl-C gives up on rows the store has not accepted)",
                tp_handoff_trades(r->q));
    tp_handoff_close(r->q);
    return (void *)(intptr_t)rc;
}

static void on_durable(void *ud, const tp_trade *t, size_t nt, const tp_candle *c, size_t nc,
                       const tp_average *a, size_t na) {
    run_state *r = ud;
    if (!r->http) return;
    if (nt) tp_http_publish_trades(r->http, t, nt);
    if (nc) tp_http_publish_candles(r->http, c, nc);
    if (na) tp_http_publish_averages(r->http, a, na);
}

typedef struct progress {
    int64_t interval_us, last_us;
    uint64_t last_trades;
} progress;

static void progress_line(run_state *r, progress *pg) {
    int64_t now = tp_mono_us();
    if (pg->interval_us <= 0 || now - pg->last_us < pg->interval_us) return;
    tp_pipeline_stats ps;
    tp_pipeline_get_stats(r->pipe, &ps);
    tp_source_stats ss;
    tp_source_get_stats(r->src, &ss);
    double secs = (double)(now - pg->last_us) / 1e6;
    tp_info("run", "%.0f trades/s, %llu trades stored, %llu late, %llu reconnects, %llu store errors",
            (double)(ps.trades - pg->last_trades) / secs, (unsigned long long)ps.trades,
            (unsigned long long)ps.late, (unsigned long long)ss.reconnects,
            (unsigned long long)ps.store_errors);
    pg->last_trades = ps.trades;
    pg->last_us = now;
}

/* Pipeline thread (the caller's): take queued batches, add, flush when due.
 * Returns 0 after a clean drain, 1 if rows could not be made durable. */
static int pipeline_loop(run_state *r, int64_t flush_interval_ms, int64_t progress_ms) {
    progress pg = {.interval_us = progress_ms * 1000, .last_us = tp_mono_us()};
    for (;;) {
        int done = 0;
        tp_batch *b = tp_handoff_take(r->q, flush_interval_ms > 0 ? flush_interval_ms : 200, &done);
        if (b) {
            if (tp_pipeline_add(r->pipe, b))
                tp_error("run", "out of memory adding %zu trades to the pipeline", b->n);
            tp_handoff_release(r->q, b);
        }
        if (done) break;
        if (tp_pipeline_flush_due(r->pipe, tp_now_ms()) && tp_pipeline_flush(r->pipe, 0)) {
            /* stopped while the store was failing: give up */
            tp_handoff_abort(r->q);
            tp_source_stop(r->src);
            return 1;
        }
        progress_line(r, &pg);
    }
    return tp_pipeline_flush(r->pipe, 1) ? 1 : 0;
}

/* The feed: Finnhub (or a recording) with a token, else the simulator. */
static int start_feed(run_state *r, const tp_api_flags *api, const run_flags *rf, tp_source_config *scfg) {
    char err[512], red[300];
    if ((api->token && *api->token) || scfg->replay_path) {
        if (!scfg->url) scfg->url = "wss://ws.finnhub.io";
        if (!scfg->rest_url) scfg->rest_url = "https://finnhub.io/api/v1";
        tp_log_redact(scfg->replay_path ? scfg->replay_path : scfg->url, red, sizeof red);
        tp_info("run", "feed: %s (%zu symbols)", red, scfg->nsymbols);
        return -1;
    }
    tp_sim_config sc;
    tp_sim_config_default(&sc);
    sc.listen = "127.0.0.1:0";
    sc.token = "tickpipe-local";
    sc.rate = rf->sim_rate;
    sc.batch = (int)rf->sim_batch;
    sc.seed = rf->sim_seed >= 0 ? (uint64_t)rf->sim_seed : (uint64_t)tp_now_ms();
    if (tp_sim_start(&sc, &r->sim, err, sizeof err))
        return tp_cmd_fail(&tp_spec_run, "cannot start the built-in simulator: %s", err);
    snprintf(r->ws_url, sizeof r->ws_url, "ws://127.0.0.1:%d", tp_sim_port(r->sim));
    snprintf(r->rest_url, sizeof r->rest_url, "http://127.0.0.1:%d/api/v1", tp_sim_port(r->sim));
    if (!scfg->url) scfg->url = r->ws_url;
    if (!scfg->rest_url) scfg->rest_url = r->rest_url;
    scfg->token = sc.token;
    tp_info("run", "no FINNHUB_API_TOKEN: using the built-in simulator at %s (%.0f trades/s, %zu symbols)",
            r->ws_url, rf->sim_rate, scfg->nsymbols);
    return -1;
}

static int start_pipeline(run_state *r, const tp_store_flags *sf, const tp_windows_flags *wf) {
    char err[512];
    tp_pipeline_config pcfg;
    tp_pipeline_config_default(&pcfg);
    tp_cfg_sqlite_dir(sf->store);
    pcfg.store_url = sf->store;
    pcfg.win.allowed_lateness_ms = wf->allowed_lateness_ms;
    pcfg.win.emit_interval_ms = wf->emit_interval_ms;
    pcfg.win.idle_expiry_ms = wf->idle_expiry_ms;
    pcfg.flush_interval_ms = wf->flush_interval_ms;
    pcfg.flush_max_trades = (size_t)wf->flush_max_trades;
    pcfg.on_durable = on_durable;
    pcfg.on_durable_ud = r;
    int rc = tp_pipeline_new(&pcfg, &r->pipe, err, sizeof err);
    if (rc) /* a bad URL is a usage error */
        return rc == TP_EINVAL ? tp_cmd_usage_error(&tp_spec_run, "%s", err)
                               : tp_cmd_fail(&tp_spec_run, "%s", err);
    return -1;
}

static int start_http(run_state *r, const tp_http_flags *hf, const char *store) {
    char err[512], url[300];
    tp_http_config hcfg;
    tp_http_config_default(&hcfg);
    hcfg.listen = hf->listen;
    hcfg.store_url = store;
    hcfg.max_limit = (int)hf->max_limit;
    int rc = tp_http_start(&hcfg, &r->http, err, sizeof err);
    if (rc) /* a bad address is a usage error, as in serve */
        return rc == TP_EINVAL ? tp_cmd_usage_error(&tp_spec_run, "%s", err)
                               : tp_cmd_fail(&tp_spec_run, "%s", err);
    tp_listen_url("http", hf->listen, tp_http_port(r->http), url, sizeof url);
    fprintf(stderr, "tickpipe: dashboard at %s/\n", url);
    return -1;
}

static int summary(run_state *r, int prc, void *src_rc) {
    tp_pipeline_stats ps;
    tp_pipeline_get_stats(r->pipe, &ps);
    tp_source_stats ss;
    tp_source_get_stats(r->src, &ss);
    fprintf(stderr,
            "summary: trades=%llu stored=%llu late=%llu frames=%llu pings=%llu errors=%llu malformed=%llu "
            "reconnects=%llu store_errors=%llu\n",
            (unsigned long long)ss.trades, (unsigned long long)ps.trades, (unsigned long long)ps.late,
            (unsigned long long)ss.frames, (unsigned long long)ss.pings, (unsigned long long)ss.errors,
            (unsigned long long)ss.malformed, (unsigned long long)ss.reconnects,
            (unsigned long long)ps.store_errors);
    if (prc)
        return tp_cmd_fail(&tp_spec_run,
                           "stopped before the store accepted the last rows: up to %zu queued trades and the "
                           "pending unit of work were not stored",
                           tp_handoff_trades(r->q));
    if (src_rc && !tp_shutdown_requested(r->sd) && !r->max_trades) return 1; /* the feed failed on its own */
    return 0;
}

static void on_drain(void *ud) {
    run_state *r = ud;
    tp_handoff_stop_waiting(r->q);
    tp_source_stop(r->src);
}

static void on_give_up(void *ud) {
    tp_pipeline_stop(((run_state *)ud)->pipe); /* stop retrying the store */
}

/* Feed thread + pipeline loop, until the drain is done. */
static int stream(run_state *r, const tp_windows_flags *wf, int64_t progress_ms) {
    tp_shutdown_ops ops = {.drain = on_drain, .give_up = on_give_up, .ud = r};
    tp_shutdown_arm(r->sd, &ops);
    pthread_t th;
    if (pthread_create(&th, NULL, source_thread, r))
        return tp_cmd_fail(&tp_spec_run, "cannot start the feed thread");
    int prc = pipeline_loop(r, wf->flush_interval_ms, progress_ms);
    void *src_rc = NULL;
    pthread_join(th, &src_rc);
    tp_shutdown_arm(r->sd, NULL);
    return summary(r, prc, src_rc);
}

typedef struct run_args {
    tp_api_flags api;
    tp_feed_flags feed;
    run_flags rf;
    tp_store_flags sf;
    tp_windows_flags wf;
    tp_http_flags hf;
    tp_stop_flags stop;
    tp_progress_flags pg;
    tp_log_flags lg;
} run_args;

static int run_main(run_state *r, run_args *a, tp_source_config *scfg) {
    char err[512];
    r->max_trades = (uint64_t)a->stop.max_trades;
    snprintf(r->origin_topic, sizeof r->origin_topic, "feed:%llx-%llx-%x", (unsigned long long)tp_now_ms(),
             (unsigned long long)tp_mono_us(), (unsigned)getpid());
    if (tp_handoff_new(RUN_QUEUE_TRADES,
                       tp_metrics_counter("tickpipe_run_queue_full_total", NULL,
                                          "Times the feed waited for processing (backpressure)"),
                       tp_metrics_gauge("tickpipe_run_queue_trades", NULL, "Trades waiting to be processed"),
                       &r->q))
        return tp_cmd_fail(&tp_spec_run, "out of memory");
    int status = start_feed(r, &a->api, &a->rf, scfg);
    if (status < 0) status = start_pipeline(r, &a->sf, &a->wf);
    if (status < 0 && !a->rf.no_http) status = start_http(r, &a->hf, a->sf.store);
    if (status < 0 && tp_source_new(scfg, on_batch, r, &r->src, err, sizeof err))
        status = tp_cmd_fail(&tp_spec_run, "%s", err);
    if (status < 0) status = stream(r, &a->wf, a->pg.interval_ms);
    if (r->http) tp_http_stop(r->http);
    if (r->src) tp_source_free(r->src);
    if (r->pipe) tp_pipeline_free(r->pipe);
    if (r->sim) tp_sim_stop(r->sim);
    tp_handoff_free(r->q);
    return status;
}

int tp_cmd_run(int argc, char **argv) {
    run_args a;
    void *const vals[] = {&a.api, &a.feed, &a.rf, &a.sf, &a.wf, &a.hf, &a.stop, &a.pg, &a.lg};
    int status = tp_cmd_parse(&tp_spec_run, vals, argc, argv, NULL);
    if (status >= 0) return status;
    tp_source_config scfg;
    tp_symbols syms;
    status = tp_feed_config(&tp_spec_run, &a.api, &a.feed, 0, &scfg, &syms);
    if (status >= 0) return status;
    if (!a.feed.replay && syms.n == 0) status = tp_cmd_usage_error(&tp_spec_run, "no symbols to subscribe");
    run_state r;
    memset(&r, 0, sizeof r);
    char err[512];
    if (status < 0 && tp_shutdown_start(a.stop.duration_ms, &r.sd, err, sizeof err))
        status = tp_cmd_fail(&tp_spec_run, "%s", err);
    if (status < 0) status = run_main(&r, &a, &scfg);
    tp_shutdown_end(r.sd);
    tp_symbols_free(&syms);
    return status;
}
