/* cmd_simulate.c - `tickpipe simulate`: the Finnhub-compatible feed
 * (sim/sim.h) on a local port, for development without a Finnhub token, for
 * demos outside market hours, and for every test and benchmark.
 *
 * Flags (tables below, core/options.h) become a tp_sim_config; the server
 * runs in this thread until SIGINT/SIGTERM (core/shutdown.h) or
 * --max-trades and every client gone. The line
 * "simulate: listening on ws://HOST:PORT" on stderr tells scripts the port
 * that was bound (with --listen HOST:0 the kernel picks a free one). */
#include "cmd/commands.h"

#include "cmd/flags.h"
#include "core/config.h"
#include "core/err.h"
#include "core/listen.h"
#include "core/log.h"
#include "core/shutdown.h"
#include "sim/market.h"
#include "sim/sim.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct ready_info {
    char url[300];
    char rest[300];
    const char *listen;
    int tls;
} ready_info;

static void on_ready(void *ud, int port) {
    ready_info *r = ud;
    tp_listen_url(r->tls ? "wss" : "ws", r->listen, port, r->url, sizeof r->url);
    tp_listen_url(r->tls ? "https" : "http", r->listen, port, r->rest, sizeof r->rest);
    fprintf(stderr, "simulate: listening on %s\n", r->url);
    fprintf(stderr, "simulate: REST symbol search on %s/api/v1/search?q=QUERY&token=TOKEN\n", r->rest);
    fflush(stderr);
}

static void stop_serving(void *ud) {
    __atomic_store_n((volatile int *)ud, 1, __ATOMIC_RELEASE); /* read by the server thread */
}

static void to_config(const tp_sim_flags *f, tp_sim_config *cfg) {
    tp_sim_config_default(cfg);
    cfg->listen = f->listen;
    cfg->token = f->token;
    cfg->tls_cert = f->tls_cert;
    cfg->tls_key = f->tls_key;
    cfg->ping_interval_s = (double)f->ping_ms / 1000.0;
    cfg->rate = f->rate;
    cfg->batch = (int)f->batch;
    cfg->seed = (uint64_t)f->seed;
    cfg->max_trades = (uint64_t)f->max_trades;
    cfg->replay_path = f->replay;
    cfg->replay_speed = f->speed;
    cfg->replay_loop = f->loop;
    cfg->replay_raw = f->replay_raw;
    cfg->drop_every_s = (double)f->drop_ms / 1000.0;
    cfg->silent_after_s = (double)f->silent_ms / 1000.0;
    cfg->malformed_rate = f->malformed;
    cfg->repeat_rate = f->repeat;
    cfg->max_symbols = (size_t)f->max_symbols;
    cfg->error_every_s = (double)f->error_ms / 1000.0;
    cfg->holes_log = f->holes_log;
    cfg->market_hours = f->market_hours;
    cfg->feed = f->feed;
    cfg->lifetime_s = f->lifetime_ms > 0 ? (double)f->lifetime_ms / 1000.0 : -1;
}

int tp_cmd_simulate(tp_cmd_args *a, int argc, char **argv, int first_arg) {
    const tp_cmd_spec *spec = &tp_spec_simulate;
    if ((a->sim.tls_cert != NULL) != (a->sim.tls_key != NULL))
        return tp_cmd_usage_error(spec, "TLS needs both --tls-cert and --tls-key");
    if (!a->sim.replay && (a->sim.loop || a->sim.speed != 1))
        return tp_cmd_usage_error(spec, "--speed and --loop apply to --replay only");
    tp_sim_config cfg;
    to_config(&a->sim, &cfg);
    if (a->sim.market_time && !a->sim.market_hours)
        return tp_cmd_usage_error(spec, "--market-time applies to --market-hours only");
    if (a->sim.market_time && tp_market_parse_time(a->sim.market_time, &cfg.market_time_ms))
        return tp_cmd_usage_error(spec,
                                  "--market-time %s: give a UTC time as 2026-12-07T14:30:00Z or epoch ms",
                                  a->sim.market_time);
    ready_info ri = {.listen = a->sim.listen, .tls = a->sim.tls_cert != NULL};
    cfg.on_ready = on_ready;
    cfg.ready_ud = &ri;

    char err[512];
    tp_shutdown *sd = NULL;
    if (tp_shutdown_start(0, &sd, err, sizeof err)) return tp_cmd_fail(spec, "%s", err);
    volatile int stop = 0;
    tp_shutdown_ops ops = {.drain = stop_serving, .ud = (void *)&stop};
    tp_shutdown_arm(sd, &ops);
    int rc = tp_sim_serve(&cfg, &stop, err, sizeof err);
    tp_shutdown_end(sd);
    if (rc) return rc == TP_EINVAL ? tp_cmd_usage_error(spec, "%s", err) : tp_cmd_fail(spec, "%s", err);
    return 0;
}
