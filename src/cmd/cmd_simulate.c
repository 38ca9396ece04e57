/* cmd_simulate.c - `tickpipe simulate`: the Finnhub-compatible feed
 * (sim/sim.h) on a local port, for development without a Finnhub token, for
 * demos outside market hours, and for every test and benchmark.
 *
 * Flags become a tp_sim_config; the server runs in this thread until
 * SIGINT/SIGTERM (or --max-trades and every client gone). The line
 * "simulate: listening on ws://HOST:PORT" on stderr tells scripts the port
 * that was bound (with --listen HOST:0 the kernel picks a free one). */
#include "cmd/commands.h"

#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "sim/sim.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile int g_sim_stop;

static void on_signal(int sig) {
    (void)sig;
    g_sim_stop = 1;
}

typedef struct ready_info {
    const char *host;
    int tls;
} ready_info;

static void on_ready(void *ud, int port) {
    ready_info *r = ud;
    const char *h = r->host;
    int v6 = strchr(h, ':') != NULL;
    fprintf(stderr, "simulate: listening on %s://%s%s%s:%d\n", r->tls ? "wss" : "ws", v6 ? "[" : "", h,
            v6 ? "]" : "", port);
    fprintf(stderr, "simulate: REST symbol search on %s://%s%s%s:%d/api/v1/search?q=QUERY&token=TOKEN\n",
            r->tls ? "https" : "http", v6 ? "[" : "", h, v6 ? "]" : "", port);
    fflush(stderr);
}

static void usage(FILE *f) {
    fprintf(f, "Usage: tickpipe simulate [OPTIONS]\n"
               "\n"
               "Serve a Finnhub-compatible WebSocket feed (as wss://ws.finnhub.io) and Finnhub's REST\n"
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
               "token: a new connection with a token in use closes the older one with an error.\n"
               "\n"
               "Server:\n"
               "  --listen HOST:PORT    address to listen on (default 127.0.0.1:8765; port 0 = a free\n"
               "                        port, printed on the ready line)\n"
               "  --token TOKEN         accept only this token (default: any non-empty token)\n"
               "  --tls-cert FILE       serve wss:// and https:// with this PEM certificate ...\n"
               "  --tls-key FILE        ... and this PEM private key (both or neither)\n"
               "  --ping-interval S     seconds between pings (default 60; 0 = no pings)\n"
               "\n"
               "Synthetic market:\n"
               "  --rate N              trades per second per connection, over all its subscribed\n"
               "                        symbols (default 50; 0 = as fast as the client reads)\n"
               "  --batch N             at most N trades per message (default 10)\n"
               "  --seed N              random seed (default 1): the same seed gives every symbol the\n"
               "                        same sequence of prices, volumes and conditions\n"
               "  --max-trades N        stop after sending N trades in total, and exit once every\n"
               "                        client has disconnected (for benchmarks; default: no limit)\n"
               "\n"
               "Replay:\n"
               "  --replay FILE         send the trades of a recording instead of the synthetic market\n"
               "                        (each connection replays from the start once its subscriptions\n"
               "                        have settled, 0.1 s after its last subscribe; trades of symbols\n"
               "                        it did not subscribe are left out, recorded pings and errors too)\n"
               "  --speed X             replay speed: 1 = as recorded (default), 2 = twice as fast,\n"
               "                        0 = as fast as the client reads\n"
               "  --loop                start the recording again at its end\n"
               "\n"
               "Fault injection (for tests; 0 = off):\n"
               "  --drop-every S        close each connection S seconds after it opened\n"
               "  --silent-after S      send nothing at all (no trades, no pings) on a connection\n"
               "                        S seconds after it opened, but keep it open\n"
               "  --malformed-rate F    replace this fraction (0..1) of messages with malformed ones\n"
               "  --error-every S       send {\"type\":\"error\",\"msg\":...} every S seconds\n"
               "\n"
               "Other:\n"
               "  --log-level LEVEL     error, warn, info (default) or debug (env TICKPIPE_LOG)\n"
               "  -h, --help            this help\n"
               "\n"
               "Ready line on stderr: \"simulate: listening on ws://HOST:PORT\". SIGINT/SIGTERM stop\n"
               "cleanly and print the server's counters. Exit status: 0 on a clean stop, 1 when the\n"
               "server cannot start (address in use, a recording that is not one), 2 on a usage\n"
               "error (a bad flag or value, a file that cannot be read).\n"
               "\n"
               "Example:\n"
               "  tickpipe simulate &\n"
               "  tickpipe capture --ws-url ws://127.0.0.1:8765 --token t \\\n"
               "      --symbols AAPL,BINANCE:BTCUSDT --max-trades 1000\n");
}

enum {
    OPT_LISTEN = 256,
    OPT_TOKEN,
    OPT_RATE,
    OPT_BATCH,
    OPT_SEED,
    OPT_PING,
    OPT_REPLAY,
    OPT_SPEED,
    OPT_LOOP,
    OPT_DROP,
    OPT_SILENT,
    OPT_MALFORMED,
    OPT_ERROR,
    OPT_TLS_CERT,
    OPT_TLS_KEY,
    OPT_MAX_TRADES,
    OPT_LOG_LEVEL,
};

int tp_cmd_simulate(int argc, char **argv) {
    static const struct option opts[] = {
        {"listen", required_argument, NULL, OPT_LISTEN},
        {"token", required_argument, NULL, OPT_TOKEN},
        {"rate", required_argument, NULL, OPT_RATE},
        {"batch", required_argument, NULL, OPT_BATCH},
        {"seed", required_argument, NULL, OPT_SEED},
        {"ping-interval", required_argument, NULL, OPT_PING},
        {"replay", required_argument, NULL, OPT_REPLAY},
        {"speed", required_argument, NULL, OPT_SPEED},
        {"loop", no_argument, NULL, OPT_LOOP},
        {"drop-every", required_argument, NULL, OPT_DROP},
        {"silent-after", required_argument, NULL, OPT_SILENT},
        {"malformed-rate", required_argument, NULL, OPT_MALFORMED},
        {"error-every", required_argument, NULL, OPT_ERROR},
        {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
        {"tls-key", required_argument, NULL, OPT_TLS_KEY},
        {"max-trades", required_argument, NULL, OPT_MAX_TRADES},
        {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    tp_sim_config cfg;
    tp_sim_config_default(&cfg);
    char err[512];
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int rc = 0;
        int64_t i64 = 0;
        switch (c) {
        case 'h': usage(stdout); return 0;
        case OPT_LISTEN: cfg.listen = optarg; break;
        case OPT_TOKEN:
            if (!*optarg) rc = tp_seterr(err, sizeof err, TP_EINVAL, "--token must not be empty");
            cfg.token = optarg;
            break;
        case OPT_RATE: rc = tp_cfg_parse_double(optarg, "--rate", 0, 1e9, &cfg.rate, err, sizeof err); break;
        case OPT_BATCH:
            rc = tp_cfg_parse_i64(optarg, "--batch", 1, 100000, &i64, err, sizeof err);
            cfg.batch = (int)i64;
            break;
        case OPT_SEED:
            rc = tp_cfg_parse_i64(optarg, "--seed", 0, INT64_MAX, &i64, err, sizeof err);
            cfg.seed = (uint64_t)i64;
            break;
        case OPT_PING:
            rc = tp_cfg_parse_double(optarg, "--ping-interval", 0, 86400, &cfg.ping_interval_s, err,
                                     sizeof err);
            break;
        case OPT_REPLAY: cfg.replay_path = optarg; break;
        case OPT_SPEED:
            rc = tp_cfg_parse_double(optarg, "--speed", 0, 1e6, &cfg.replay_speed, err, sizeof err);
            break;
        case OPT_LOOP: cfg.replay_loop = 1; break;
        case OPT_DROP:
            rc = tp_cfg_parse_double(optarg, "--drop-every", 0, 1e9, &cfg.drop_every_s, err, sizeof err);
            break;
        case OPT_SILENT:
            rc = tp_cfg_parse_double(optarg, "--silent-after", 0, 1e9, &cfg.silent_after_s, err, sizeof err);
            break;
        case OPT_MALFORMED:
            rc = tp_cfg_parse_double(optarg, "--malformed-rate", 0, 1, &cfg.malformed_rate, err, sizeof err);
            break;
        case OPT_ERROR:
            rc = tp_cfg_parse_double(optarg, "--error-every", 0, 1e9, &cfg.error_every_s, err, sizeof err);
            break;
        case OPT_TLS_CERT: cfg.tls_cert = optarg; break;
        case OPT_TLS_KEY: cfg.tls_key = optarg; break;
        case OPT_MAX_TRADES:
            rc = tp_cfg_parse_i64(optarg, "--max-trades", 1, INT64_MAX, &i64, err, sizeof err);
            cfg.max_trades = (uint64_t)i64;
            break;
        case OPT_LOG_LEVEL: rc = tp_cfg_log_level(optarg, err, sizeof err); break;
        default:
            fprintf(stderr,
                    "tickpipe simulate: unknown or incomplete option '%s'; see 'tickpipe simulate --help'\n",
                    argv[optind - 1]);
            return 2;
        }
        if (rc) {
            fprintf(stderr, "tickpipe simulate: %s\n", err);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "tickpipe simulate: unexpected argument '%s'; see 'tickpipe simulate --help'\n",
                argv[optind]);
        return 2;
    }
    if ((cfg.tls_cert != NULL) != (cfg.tls_key != NULL)) {
        fprintf(stderr, "tickpipe simulate: TLS needs both --tls-cert and --tls-key\n");
        return 2;
    }
    if (!cfg.replay_path && (cfg.replay_loop || cfg.replay_speed != 1)) {
        fprintf(stderr, "tickpipe simulate: --speed and --loop apply to --replay only\n");
        return 2;
    }

    /* the host part as given, for the ready line */
    char host[256] = "0.0.0.0";
    const char *colon = strrchr(cfg.listen, ':');
    if (colon && colon != cfg.listen) {
        size_t hl = (size_t)(colon - cfg.listen);
        const char *h = cfg.listen;
        if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
            h++;
            hl -= 2;
        }
        if (hl < sizeof host && !(hl == 1 && h[0] == '*')) {
            memcpy(host, h, hl);
            host[hl] = '\0';
        }
    }
    ready_info ri = {host, cfg.tls_cert != NULL};
    cfg.on_ready = on_ready;
    cfg.ready_ud = &ri;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    g_sim_stop = 0;
    int rc = tp_sim_serve(&cfg, &g_sim_stop, err, sizeof err);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    if (rc) {
        fprintf(stderr, "tickpipe simulate: %s\n", err);
        return rc == TP_EINVAL ? 2 : 1;
    }
    return 0;
}
