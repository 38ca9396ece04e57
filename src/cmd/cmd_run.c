/* cmd_run.c - `tickpipe run`: the whole pipeline in one process.
 *
 *   feed (a public feed such as Binance, Finnhub with a token, else the
 *   built-in simulator on loopback,
 *   read through the same WebSocket client)
 *     -> source thread -> bounded hand-off queue -> pipeline thread:
 *        ids, windows, store, durable (process/feed_stage.h)
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
#include "core/listen.h"
#include "core/log.h"
#include "core/shutdown.h"
#include "feed/source.h"
#include "http/http.h"
#include "process/feed_stage.h"
#include "process/pipeline.h"
#include "sim/personality.h"
#include "sim/sim.h"
#include "sink/sink.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct run_state {
    tp_feed_stage fs;
    tp_http *http;
    tp_sim *sim;
    tp_shutdown *sd;
    char ws_url[256], rest_url[256];
    tp_health *health; /* /healthz: feed, store, queue */
} run_state;

/* /healthz, on the HTTP thread: the report kept by the pipeline and the
 * feed stage's loop. */
static int run_health(void *ud, char *out, size_t outlen) {
    return tp_health_report(((run_state *)ud)->health, out, outlen);
}

/* /readyz: the feed connected (the store was opened and the windows rebuilt
 * before the HTTP server started). */
static int run_ready(void *ud, char *out, size_t outlen) {
    return tp_health_ready(((run_state *)ud)->health, out, outlen);
}

static void on_durable(void *ud, const tp_trade *t, size_t nt, const tp_candle *c, size_t nc,
                       const tp_average *a, size_t na) {
    run_state *r = ud;
    if (!r->http) return;
    if (nt) tp_http_publish_trades(r->http, t, nt);
    if (nc) tp_http_publish_candles(r->http, c, nc);
    if (na) tp_http_publish_averages(r->http, a, na);
}

/* The feed: a feed of public data (no token needed), a feed with its token
 * (or a recording), else the simulator. */
static int start_feed(run_state *r, const tp_api_flags *api, const tp_run_flags *rf, tp_source_config *scfg) {
    char err[512], red[300];
    (void)api;
    if (scfg->token || scfg->replay_path || !scfg->feed->needs_token) {
        if (!scfg->url) scfg->url = scfg->feed->default_url;
        if (!scfg->rest_url) scfg->rest_url = scfg->feed->default_rest_url;
        tp_log_redact(scfg->replay_path ? scfg->replay_path : scfg->url, red, sizeof red);
        if (!scfg->replay_path && !scfg->feed->needs_token)
            tp_info("run", "no token needed for %s; connecting to %s (public market data, %zu symbols)",
                    scfg->feed->name, red, scfg->nsymbols);
        else
            tp_info("run", "feed: %s (%zu symbols)", red, scfg->nsymbols);
        return -1;
    }
    /* the built-in simulator speaks the feed's protocol (sim/personality.h) */
    if (!tp_sim_personality_find(scfg->feed->name))
        return tp_cmd_usage_error(&tp_spec_run,
                                  "no token for %s (give --token or set %s), and no built-in "
                                  "simulator speaks it",
                                  scfg->feed->name,
                                  scfg->feed->token_env ? scfg->feed->token_env : "FINNHUB_API_TOKEN");
    tp_sim_config sc;
    tp_sim_config_default(&sc);
    sc.feed = scfg->feed->name;
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
    char rate[48];
    if (rf->sim_rate > 0)
        snprintf(rate, sizeof rate, "%.0f trades/s", rf->sim_rate);
    else
        snprintf(rate, sizeof rate, "as fast as run takes them");
    tp_info("run", "no FINNHUB_API_TOKEN: using the built-in simulator at %s (%s, %zu symbols)", r->ws_url,
            rate, scfg->nsymbols);
    return -1;
}

static int start_pipeline(run_state *r, const tp_store_flags *sf, const tp_windows_flags *wf,
                          const tp_durable_flags *rf, int64_t max_ahead_ms, const tp_feed_ops *feed) {
    char err[512];
    tp_pipeline_config pcfg;
    tp_flags_pipeline_config(&pcfg, sf, wf, rf, max_ahead_ms);
    /* a venue that numbers its trades sends again, after a restart, trades
     * run has stored (Kraken's snapshot, Coinbase's last_match): their ids
     * are the venue's, so the rebuild's read-back ids keep them from being
     * folded twice. Finnhub's trades have no id of their own. */
    pcfg.dedupe_rebuilt = feed && feed->sym_prefix != NULL;
    pcfg.on_durable = on_durable;
    pcfg.on_durable_ud = r;
    pcfg.health = r->health;
    int rc = tp_pipeline_new(&pcfg, &r->fs.pipe, err, sizeof err);
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
    hcfg.health = run_health;
    hcfg.health_ud = r;
    hcfg.ready = run_ready;
    hcfg.ready_ud = r;
    int rc = tp_http_start(&hcfg, &r->http, err, sizeof err);
    if (rc) /* a bad address is a usage error, as in serve */
        return rc == TP_EINVAL ? tp_cmd_usage_error(&tp_spec_run, "%s", err)
                               : tp_cmd_fail(&tp_spec_run, "%s", err);
    tp_listen_url("http", hf->listen, tp_http_port(r->http), url, sizeof url);
    fprintf(stderr, "tickpipe: dashboard at %s/\n", url);
    return -1;
}

static int summary(run_state *r, int prc, int feed_rc) {
    tp_pipeline_stats ps;
    tp_pipeline_get_stats(r->fs.pipe, &ps);
    tp_source_stats ss;
    tp_source_get_stats(r->fs.src, &ss);
    uint64_t rejected = 0;
    for (int i = 1; i < TP_REJECT_N; i++) rejected += ss.rejected[i];
    if (rejected) {
        char by[256];
        tp_rejects_format_counts(ss.rejected, by, sizeof by);
        fprintf(stderr, "rejected at the door (never stored): %s\n", by);
    }
    fprintf(stderr,
            "summary: trades=%llu stored=%llu late=%llu rejected=%llu frames=%llu pings=%llu errors=%llu "
            "malformed=%llu "
            "reconnects=%llu duplicates=%llu gaps=%llu store_errors=%llu flushes=%llu durable_p50_ms=%lld "
            "durable_p99_ms=%lld durable_p999_ms=%lld handovers=%llu\n",
            (unsigned long long)ss.trades, (unsigned long long)ps.trades, (unsigned long long)ps.late,
            (unsigned long long)rejected, (unsigned long long)ss.frames, (unsigned long long)ss.pings,
            (unsigned long long)ss.errors, (unsigned long long)ss.malformed,
            (unsigned long long)ss.reconnects, (unsigned long long)ss.duplicates, (unsigned long long)ss.gaps,
            (unsigned long long)ps.store_errors, (unsigned long long)ps.flushes,
            (long long)tp_pipeline_latency_quantile_ms(&ps, 0.5),
            (long long)tp_pipeline_latency_quantile_ms(&ps, 0.99),
            (long long)tp_pipeline_latency_quantile_ms(&ps, 0.999), (unsigned long long)ss.handovers);
    if (prc)
        return tp_cmd_fail(&tp_spec_run,
                           "%s: %zu trades received were not stored (the store did not take them in time; "
                           "see the store errors above)",
                           tp_shutdown_signals(r->sd) >= 2 ? "gave up on a second signal"
                                                           : "the drain timed out (--drain-timeout)",
                           tp_handoff_trades(r->fs.q) + ps.pending);
    if (feed_rc && !tp_shutdown_requested(r->sd) && !r->fs.max_trades)
        return 1; /* the feed failed on its own */
    return 0;
}

static void on_drain(void *ud) {
    tp_feed_stage_drain(&((run_state *)ud)->fs);
}

static void on_give_up(void *ud) {
    tp_pipeline_stop(((run_state *)ud)->fs.pipe); /* stop retrying the store */
}

/* Feed thread + pipeline loop, until the drain is done. */
static int stream(run_state *r) {
    tp_shutdown_ops ops = {.drain = on_drain, .give_up = on_give_up, .ud = r};
    tp_shutdown_arm(r->sd, &ops);
    int feed_rc = 0;
    int prc = tp_feed_stage_run(&r->fs, &feed_rc);
    tp_shutdown_arm(r->sd, NULL);
    return summary(r, prc, feed_rc);
}

static int run_main(run_state *r, tp_cmd_args *a, tp_source_config *scfg) {
    char err[512];
    if (tp_health_new(&r->health) ||
        tp_feed_stage_init(&r->fs, (size_t)a->run.queue_trades, (uint64_t)a->stop.max_trades)) {
        tp_health_free(r->health);
        return tp_cmd_fail(&tp_spec_run, "out of memory");
    }
    r->fs.drain_us = a->durable.drain_ms * 1000;
    r->fs.health = r->health;
    r->fs.live_feed = !scfg->replay_path;
    tp_health_set(r->health, TP_HEALTH_FEED, !r->fs.live_feed, "not connected to the feed yet");
    r->fs.flush_interval_ms = a->windows.flush_interval_ms;
    r->fs.progress_ms = a->progress.interval_ms;
    int status = start_feed(r, &a->api, &a->run, scfg);
    if (status < 0)
        status = start_pipeline(r, &a->store, &a->windows, &a->durable, a->checks.max_ahead_ms, scfg->feed);
    if (status < 0 && !a->run.no_http) status = start_http(r, &a->http, a->store.store);
    if (status < 0 && tp_source_new(scfg, tp_feed_stage_on_batch, &r->fs, &r->fs.src, err, sizeof err))
        status = tp_cmd_fail(&tp_spec_run, "%s", err);
    /* gaps go through the pipeline: feed_gaps in the same unit, windows marked */
    if (status < 0) tp_source_set_gap_hook(r->fs.src, tp_feed_stage_gap, &r->fs);
    if (status < 0) status = stream(r);
    if (r->http) tp_http_stop(r->http);
    if (r->fs.src) tp_source_free(r->fs.src);
    if (r->fs.pipe) tp_pipeline_free(r->fs.pipe);
    if (r->sim) tp_sim_stop(r->sim);
    tp_feed_stage_free(&r->fs);
    tp_health_free(r->health);
    return status;
}

int tp_cmd_run(tp_cmd_args *a, int argc, char **argv, int first_arg) {
    tp_source_config scfg;
    tp_symbols syms;
    int status = tp_feed_config(&tp_spec_run, &a->api, &a->feed, &a->checks, 0, &scfg, &syms);
    if (status >= 0) return status;
    if (!a->feed.replay && syms.n == 0) status = tp_cmd_usage_error(&tp_spec_run, "no symbols to subscribe");
    /* every flag is checked before anything starts or is written (the
     * simulator, the store's file) */
    char err[512];
    tp_listen_addr la;
    if (status < 0 && tp_sink_check_url(a->store.store, err, sizeof err))
        status = tp_cmd_usage_error(&tp_spec_run, "%s", err);
    if (status < 0 && !a->run.no_http &&
        tp_listen_parse(a->http.listen ? a->http.listen : "127.0.0.1:8080", "--http", "127.0.0.1:8080", &la,
                        err, sizeof err))
        status = tp_cmd_usage_error(&tp_spec_run, "%s", err);
    run_state r;
    memset(&r, 0, sizeof r);
    if (status < 0 && tp_shutdown_start(a->stop.duration_ms, &r.sd, err, sizeof err))
        status = tp_cmd_fail(&tp_spec_run, "%s", err);
    if (status < 0) status = run_main(&r, a, &scfg);
    tp_shutdown_end(r.sd);
    tp_symbols_free(&syms);
    return status;
}
