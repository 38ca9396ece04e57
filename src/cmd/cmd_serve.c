/* cmd_serve.c - `tickpipe serve`: the dashboard, REST API, live push and
 * metrics over any store, without the pipeline (what a deployment runs
 * beside produce and process).
 *
 * The HTTP server runs on its own thread (http/http.h); this thread only
 * waits for SIGINT/SIGTERM. Live updates come from polling the store
 * (--poll-interval), since nothing in this process writes it. */
#include "cmd/commands.h"

#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "http/http.h"
#include "sink/sink.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t g_serve_stop;

static void on_signal(int sig) {
    (void)sig;
    g_serve_stop = 1;
}

static void usage(FILE *f) {
    fprintf(f,
            "Usage: tickpipe serve [OPTIONS]\n"
            "\n"
            "Serve the dashboard, the REST API, live WebSocket updates and Prometheus metrics\n"
            "over a store that `tickpipe process` (or `tickpipe run`) writes. New rows are\n"
            "found by polling the store and pushed to connected browsers. SIGINT/SIGTERM stop.\n"
            "\n"
            "Options:\n"
            "  --store URL           store to read (env TICKPIPE_STORE; default sqlite:data/tickpipe.db):\n"
            "                        sqlite:PATH, postgresql://USER:PW@HOST/DB,\n"
            "                        clickhouse://HOST:8123/DB?user=U&password=P\n"
            "  --http ADDR:PORT      listen address (env TICKPIPE_HTTP; default 127.0.0.1:8080; port 0\n"
            "                        picks a free port, printed at start; 0.0.0.0:PORT listens on\n"
            "                        every address)\n"
            "  --poll-interval MS    how often to look for new rows to push live, in milliseconds\n"
            "                        (default 1000; 0 = no live updates, REST only)\n"
            "  --max-limit N         largest limit= a REST query may ask for (default 5000)\n"
            "  --log-level LEVEL     error, warn, info (default) or debug (env TICKPIPE_LOG)\n"
            "  -h, --help            this help\n"
            "\n"
            "Endpoints:\n"
            "  /                     the dashboard\n"
            "  /api/symbols          symbols with trade count, last price and time\n"
            "  /api/trades?symbol=S&from=MS&to=MS&limit=N\n"
            "  /api/candles?symbol=S&interval=1s|1m&from=MS&to=MS&limit=N\n"
            "  /api/averages?symbol=S&from=MS&to=MS&limit=N\n"
            "  /ws                   live trades, candles, averages and health (JSON messages)\n"
            "  /metrics              Prometheus text format\n"
            "  /healthz              \"ok\"\n"
            "\n"
            "Exit status: 0 on a clean stop, 1 if the server cannot start, 2 on a usage error.\n"
            "\n"
            "Example:\n"
            "  tickpipe serve --store postgresql://tickpipe@localhost/tickpipe --http 0.0.0.0:8080\n");
}

int tp_cmd_serve(int argc, char **argv) {
    enum { O_STORE = 1000, O_HTTP, O_POLL, O_MAXLIMIT, O_LOG };
    static const struct option opts[] = {
        {"store", required_argument, NULL, O_STORE},
        {"http", required_argument, NULL, O_HTTP},
        {"poll-interval", required_argument, NULL, O_POLL},
        {"max-limit", required_argument, NULL, O_MAXLIMIT},
        {"log-level", required_argument, NULL, O_LOG},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *store = NULL, *listen = NULL, *log_level = NULL;
    int64_t poll_ms = 1000, max_limit = 5000;
    char err[512];
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_STORE: store = optarg; break;
        case O_HTTP: listen = optarg; break;
        case O_POLL:
            if (tp_cfg_parse_i64(optarg, "--poll-interval", 0, 3600000, &poll_ms, err, sizeof err)) {
                fprintf(stderr, "tickpipe serve: %s\n", err);
                return 2;
            }
            break;
        case O_MAXLIMIT:
            if (tp_cfg_parse_i64(optarg, "--max-limit", 1, 1000000, &max_limit, err, sizeof err)) {
                fprintf(stderr, "tickpipe serve: %s\n", err);
                return 2;
            }
            break;
        case O_LOG: log_level = optarg; break;
        case 'h': usage(stdout); return 0;
        default: fprintf(stderr, "Try 'tickpipe serve --help'.\n"); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "tickpipe serve: unexpected argument '%s'\nTry 'tickpipe serve --help'.\n",
                argv[optind]);
        return 2;
    }
    log_level = tp_cfg_str(log_level, "TICKPIPE_LOG", NULL);
    if (log_level) {
        int lvl = tp_log_level_parse(log_level);
        if (lvl < 0) {
            fprintf(stderr, "tickpipe serve: --log-level '%s': use error, warn, info or debug\n", log_level);
            return 2;
        }
        tp_log_set_level((tp_log_level)lvl);
    }

    tp_http_config cfg;
    tp_http_config_default(&cfg);
    listen = tp_cfg_str(listen, "TICKPIPE_HTTP", "127.0.0.1:8080");
    cfg.listen = listen;
    cfg.store_url = tp_cfg_str(store, "TICKPIPE_STORE", "sqlite:data/tickpipe.db");
    cfg.poll_store_ms = poll_ms;
    cfg.max_limit = (int)max_limit;
    if (tp_sink_check_reader_url(cfg.store_url, err, sizeof err)) {
        fprintf(stderr, "tickpipe serve: %s\n", err);
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    tp_http *h = NULL;
    int rc = tp_http_start(&cfg, &h, err, sizeof err);
    if (rc) {
        fprintf(stderr, "tickpipe serve: %s\n", err);
        return rc == TP_EINVAL ? 2 : 1;
    }
    char safe[512];
    tp_log_redact(cfg.store_url, safe, sizeof safe);
    char host[128];
    snprintf(host, sizeof host, "%s", listen);
    char *colon = strrchr(host, ':');
    if (colon) *colon = '\0';
    if (!host[0] || !strcmp(host, "0.0.0.0") || !strcmp(host, "*")) snprintf(host, sizeof host, "127.0.0.1");
    fprintf(stderr, "tickpipe serve: dashboard at http://%s:%d/ (store %s)\n", host, tp_http_port(h), safe);
    while (!g_serve_stop) usleep(100 * 1000);
    tp_info("serve", "stopping");
    tp_http_stop(h);
    return 0;
}
