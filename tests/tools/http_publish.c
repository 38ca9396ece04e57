/* http_publish.c - the `run` side of the HTTP server for tests: starts
 * tp_http over a store (default null:) without polling and publishes rows
 * from a second thread, as the pipeline's on_durable hook does.
 *
 *   http_publish [STORE_URL]
 * Prints "port N" on stdout once listening; then every 10 ms publishes 50
 * trades (ids counting up from 1 per symbol, ts = now), one 1 s candle and
 * one average for each of AAPL and MSFT, until SIGTERM; then stops the
 * server and exits 0. */
#include "core/config.h"
#include "http/http.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t g_stop;
static void on_term(int sig) {
    (void)sig;
    g_stop = 1;
}

int main(int argc, char **argv) {
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    signal(SIGPIPE, SIG_IGN);
    tp_http_config cfg;
    tp_http_config_default(&cfg);
    cfg.listen = "127.0.0.1:0";
    cfg.store_url = argc > 1 ? argv[1] : "null:";
    char err[256];
    tp_http *h;
    if (tp_http_start(&cfg, &h, err, sizeof err)) {
        fprintf(stderr, "http_publish: %s\n", err);
        return 1;
    }
    printf("port %d\n", tp_http_port(h));
    fflush(stdout);
    static const char *const syms[] = {"AAPL", "MSFT"};
    uint64_t seq[2] = {0, 0};
    tp_trade t[50];
    while (!g_stop) {
        int64_t now = tp_now_ms();
        for (int k = 0; k < 2; k++) {
            memset(t, 0, sizeof t);
            for (int i = 0; i < 50; i++) {
                t[i].symbol = (tp_str){syms[k], (uint32_t)strlen(syms[k])};
                t[i].price = 100.0 * (k + 1) + (double)(seq[k] % 100) / 100.0;
                t[i].volume = 1;
                t[i].ts_ms = now;
                t[i].ncond = TP_COND_NULL;
                seq[k]++;
                for (int b = 0; b < 8; b++) t[i].id[15 - b] = (uint8_t)(seq[k] >> (8 * b));
                t[i].id[0] = (uint8_t)k;
            }
            tp_http_publish_trades(h, t, 50);
            tp_candle c = {.symbol = t[0].symbol,
                           .interval_s = 1,
                           .start_ms = now / 1000 * 1000,
                           .open = 1,
                           .high = 2,
                           .low = 0.5,
                           .close = 1.5,
                           .volume = 50,
                           .vwap = 1.2,
                           .trade_count = 50,
                           .updated_ms = now};
            tp_http_publish_candles(h, &c, 1);
            tp_average a = {.symbol = t[0].symbol,
                            .window_start_ms = now / 5000 * 5000,
                            .window_end_ms = now / 5000 * 5000 + 15000,
                            .price_volume_multiply = 123.5,
                            .trade_count = 50,
                            .ingest_ms = now};
            tp_http_publish_averages(h, &a, 1);
        }
        usleep(10 * 1000);
    }
    tp_http_stop(h);
    return 0;
}
