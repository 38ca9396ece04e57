/* cmd_serve.c - `tickpipe serve`: the dashboard, REST API, live push and
 * metrics over any store, without the pipeline (what a deployment runs
 * beside produce and process).
 *
 * The HTTP server runs on its own thread (http/http.h); this thread only
 * waits for SIGINT/SIGTERM (core/shutdown.h). Live updates come from polling the store
 * (--poll-interval), since nothing in this process writes it. */
#include "cmd/commands.h"

#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "http/http.h"
#include "sink/sink.h"

#include "cmd/flags.h"
#include "core/listen.h"
#include "core/shutdown.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct serve_flags {
    int64_t poll_ms;
} serve_flags;

static const tp_opt k_serve[] = {
    {.name = "poll-interval",
     .arg = "MS",
     .def = "1000",
     .unit = "ms",
     .help = "how often to look in the store for new rows to push live; 0 = no live updates, REST only",
     .type = TP_OPT_TIME,
     .off = offsetof(serve_flags, poll_ms),
     .max = 3600000},
    {0},
};
static const tp_opt_group k_serve_group = {"serve", "Live updates", k_serve};

const tp_cmd_spec tp_spec_serve = {
    .name = "serve",
    .synopsis = "[OPTIONS]",
    .about = "Serve the dashboard, the REST API, live WebSocket updates and Prometheus metrics\n"
             "over a store that `tickpipe process` (or `tickpipe run`) writes. New rows are\n"
             "found by polling the store and pushed to connected browsers. SIGINT/SIGTERM stop.\n",
    .epilog = "Endpoints:\n"
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
              "  tickpipe serve --store postgresql://tickpipe@localhost/tickpipe --http 0.0.0.0:8080\n",
    .groups = {&tp_flags_store, &tp_flags_http, &k_serve_group, &tp_flags_log},
};

int tp_cmd_serve(int argc, char **argv) {
    tp_store_flags sto;
    tp_http_flags hf;
    serve_flags sf;
    tp_log_flags lg;
    void *const vals[] = {&sto, &hf, &sf, &lg};
    int st = tp_cmd_parse(&tp_spec_serve, vals, argc, argv, NULL);
    if (st >= 0) return st;
    char err[512];
    tp_http_config cfg;
    tp_http_config_default(&cfg);
    cfg.listen = hf.listen;
    cfg.store_url = sto.store;
    cfg.poll_store_ms = sf.poll_ms;
    cfg.max_limit = (int)hf.max_limit;
    if (tp_sink_check_reader_url(cfg.store_url, err, sizeof err))
        return tp_cmd_usage_error(&tp_spec_serve, "%s", err);
    tp_shutdown *sd = NULL;
    if (tp_shutdown_start(0, &sd, err, sizeof err)) return tp_cmd_fail(&tp_spec_serve, "%s", err);

    tp_http *h = NULL;
    int rc = tp_http_start(&cfg, &h, err, sizeof err);
    if (rc) {
        tp_shutdown_end(sd);
        return rc == TP_EINVAL ? tp_cmd_usage_error(&tp_spec_serve, "%s", err)
                               : tp_cmd_fail(&tp_spec_serve, "%s", err);
    }
    char safe[512], url[300];
    tp_log_redact(cfg.store_url, safe, sizeof safe);
    tp_listen_url("http", cfg.listen, tp_http_port(h), url, sizeof url);
    fprintf(stderr, "tickpipe serve: dashboard at %s/ (store %s)\n", url, safe);
    tp_shutdown_wait(sd, -1);
    tp_info("serve", "stopping");
    tp_http_stop(h);
    tp_shutdown_end(sd);
    return 0;
}
