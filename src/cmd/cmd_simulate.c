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
#include "sim/sim.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct sim_flags {
    const char *listen, *token, *tls_cert, *tls_key, *replay;
    int64_t ping_ms, batch, seed, max_trades, drop_ms, silent_ms, error_ms;
    double rate, speed, malformed;
    int loop;
} sim_flags;

#define SIM_TIME(n, a, d, h, f)                                                                              \
    {                                                                                                        \
        .name = n, .arg = a, .def = d, .unit = "s", .help = h, .type = TP_OPT_TIME,                          \
        .off = offsetof(sim_flags, f), .max = 1e9                                                            \
    }

static const tp_opt k_server[] = {
    {.name = "listen",
     .arg = "HOST:PORT",
     .def = "127.0.0.1:8765",
     .help =
         "address to listen on; port 0 = a free port (the ready line tells which); 0.0.0.0:PORT or :PORT = "
         "every address",
     .type = TP_OPT_STR,
     .off = offsetof(sim_flags, listen),
     .min = 1},
    {.name = "token",
     .arg = "TOKEN",
     .def_doc = "any non-empty token",
     .help = "accept only this token (WebSocket and REST)",
     .type = TP_OPT_STR,
     .off = offsetof(sim_flags, token),
     .min = 1},
    {.name = "tls-cert",
     .arg = "FILE",
     .help = "serve wss:// and https:// with this PEM certificate ...",
     .type = TP_OPT_STR,
     .off = offsetof(sim_flags, tls_cert)},
    {.name = "tls-key",
     .arg = "FILE",
     .help = "... and this PEM private key (both or neither)",
     .type = TP_OPT_STR,
     .off = offsetof(sim_flags, tls_key)},
    {.name = "ping-interval",
     .arg = "S",
     .def = "60",
     .unit = "s",
     .help = "time between {\"type\":\"ping\"} messages; 0 = no pings",
     .type = TP_OPT_TIME,
     .off = offsetof(sim_flags, ping_ms),
     .max = 86400},
    {0},
};

static const tp_opt k_market[] = {
    {.name = "rate",
     .arg = "N",
     .def = "50",
     .unit = "trades/s",
     .help = "trades per second per connection, over all its subscribed symbols; 0 = as fast as the client "
             "reads (its socket paces the server); a client more than 1 s behind loses the backlog",
     .type = TP_OPT_NUM,
     .off = offsetof(sim_flags, rate),
     .max = 1e9},
    {.name = "batch",
     .arg = "N",
     .def = "10",
     .help = "at most N trades per message",
     .type = TP_OPT_INT,
     .off = offsetof(sim_flags, batch),
     .min = 1,
     .max = 100000},
    {.name = "seed",
     .arg = "N",
     .def = "1",
     .help = "random seed of the market (and of the fault injection): the same seed gives every symbol the "
             "same prices, volumes and conditions",
     .type = TP_OPT_INT,
     .off = offsetof(sim_flags, seed),
     .max = 9e18},
    {.name = "max-trades",
     .arg = "N",
     .def_doc = "no limit",
     .help = "stop sending after N trades in total and exit once every client has gone (benchmarks)",
     .type = TP_OPT_INT,
     .off = offsetof(sim_flags, max_trades),
     .min = 1,
     .max = 9e18},
    {0},
};

static const tp_opt k_replay[] = {
    {.name = "replay",
     .arg = "FILE",
     .help = "send the trades of a recording (capture --record) instead of the synthetic market; each "
             "connection replays from the start 0.1 s after its last subscribe, only its symbols",
     .type = TP_OPT_STR,
     .off = offsetof(sim_flags, replay)},
    {.name = "speed",
     .arg = "X",
     .def = "1",
     .help = "replay speed: 1 = as recorded, 2 = twice as fast, 0 = as fast as the client reads",
     .type = TP_OPT_NUM,
     .off = offsetof(sim_flags, speed),
     .max = 1e6},
    {.name = "loop",
     .help = "start the recording again at its end",
     .type = TP_OPT_SWITCH,
     .off = offsetof(sim_flags, loop)},
    {0},
};

static const tp_opt k_faults[] = {
    SIM_TIME("drop-every", "S", "0",
             "close each connection this long after it opened (close code 1001); 0 = off", drop_ms),
    SIM_TIME("silent-after", "S", "0",
             "send nothing at all (no trades, no pings) on a connection this long after it opened, but keep "
             "it open; 0 = off",
             silent_ms),
    {.name = "malformed-rate",
     .arg = "F",
     .def = "0",
     .help = "replace this fraction (0..1) of messages with malformed ones (truncated JSON, wrong types, not "
             "JSON); their trades are not sent",
     .type = TP_OPT_NUM,
     .off = offsetof(sim_flags, malformed),
     .max = 1},
    SIM_TIME("error-every", "S", "0", "send {\"type\":\"error\",\"msg\":...} this often; 0 = off", error_ms),
    {0},
};

static const tp_opt_group k_server_group = {"sim-server", "Server", k_server};
static const tp_opt_group k_market_group = {"sim-market", "Synthetic market", k_market};
static const tp_opt_group k_replay_group = {"sim-replay", "Replay", k_replay};
static const tp_opt_group k_faults_group = {"sim-faults", "Fault injection (for tests)", k_faults};

const tp_cmd_spec tp_spec_simulate = {
    .name = "simulate",
    .synopsis = "[OPTIONS]",
    .about = "Serve a Finnhub-compatible WebSocket feed (as wss://ws.finnhub.io) and Finnhub's REST\n"
             "symbol search (GET /api/v1/search?q=QUERY&token=TOKEN) on one port: a synthetic market\n"
             "(a random walk per symbol at realistic price levels: stocks such as AAPL, crypto such\n"
             "as BINANCE:BTCUSDT, forex such as OANDA:EUR_USD sent as v=0 price updates) or the\n"
             "replay of a recording made by `tickpipe capture --record`.\n"
             "\n"
             "Clients connect to ws://HOST:PORT?token=TOKEN and send\n"
             "{\"type\":\"subscribe\",\"symbol\":\"AAPL\"} (or \"unsubscribe\"); they get trade messages\n"
             "{\"data\":[{\"c\":[..],\"p\":..,\"s\":..,\"t\":..,\"v\":..}],\"type\":\"trade\"} for the "
             "subscribed\n"
             "symbols only, and {\"type\":\"ping\"} every --ping-interval seconds. A missing or wrong\n"
             "token gets {\"type\":\"error\",\"msg\":\"Invalid API key\"} and a close; one connection per\n"
             "token: a new connection with a token in use closes the older one with an error.\n",
    .epilog = "Ready line on stderr: \"simulate: listening on ws://HOST:PORT\". SIGINT/SIGTERM stop\n"
              "cleanly and print the server's counters. Exit status: 0 on a clean stop, 1 when the\n"
              "server cannot start (address in use, a recording that is not one), 2 on a usage\n"
              "error (a bad flag or value, a file that cannot be read).\n"
              "\n"
              "Example:\n"
              "  tickpipe simulate &\n"
              "  tickpipe capture --ws-url ws://127.0.0.1:8765 --token t \\\n"
              "      --symbols AAPL,BINANCE:BTCUSDT --max-trades 1000\n",
    .groups = {&k_server_group, &k_market_group, &k_replay_group, &k_faults_group, &tp_flags_log},
};

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
    *(volatile int *)ud = 1;
}

static void to_config(const sim_flags *f, tp_sim_config *cfg) {
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
    cfg->drop_every_s = (double)f->drop_ms / 1000.0;
    cfg->silent_after_s = (double)f->silent_ms / 1000.0;
    cfg->malformed_rate = f->malformed;
    cfg->error_every_s = (double)f->error_ms / 1000.0;
}

int tp_cmd_simulate(int argc, char **argv) {
    const tp_cmd_spec *spec = &tp_spec_simulate;
    sim_flags f;
    tp_log_flags lg;
    void *const vals[] = {&f, &f, &f, &f, &lg};
    int st = tp_cmd_parse(spec, vals, argc, argv, NULL);
    if (st >= 0) return st;
    if ((f.tls_cert != NULL) != (f.tls_key != NULL))
        return tp_cmd_usage_error(spec, "TLS needs both --tls-cert and --tls-key");
    if (!f.replay && (f.loop || f.speed != 1))
        return tp_cmd_usage_error(spec, "--speed and --loop apply to --replay only");
    tp_sim_config cfg;
    to_config(&f, &cfg);
    ready_info ri = {.listen = f.listen, .tls = f.tls_cert != NULL};
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
