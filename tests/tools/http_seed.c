/* http_seed.c - writes trades, candles and averages into a store through
 * tp_sink, for the HTTP tests.
 *
 *   http_seed STORE_URL fixed
 *       A fixed data set (deterministic prices, fixed times in 2023, every
 *       shape of trade conditions, a v = 0 forex symbol, a unicode symbol),
 *       windows computed by process/window, all final; then exit.
 *   http_seed STORE_URL live [SECONDS]
 *       Trades stamped with the wall clock for AAPL, BINANCE:BTCUSDT and
 *       MSFT, ten per symbol every 100 ms, with their windows, committed as
 *       they go, until SIGTERM or SECONDS (default 600) pass.
 * Prints "seeded N trades" / "live" on stdout once the first commit is done. */
#include "core/config.h"
#include "core/trade.h"
#include "process/window.h"
#include "sink/sink.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t g_stop;
static void on_term(int sig) {
    (void)sig;
    g_stop = 1;
}

static uint64_t g_rng = 0x9e3779b97f4a7c15ULL;
static double rnd(void) { /* xorshift64*, deterministic */
    g_rng ^= g_rng >> 12;
    g_rng ^= g_rng << 25;
    g_rng ^= g_rng >> 27;
    return (double)((g_rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

static void make_id(uint8_t id[16], uint32_t sym, uint64_t seq) {
    memset(id, 0, 16);
    memcpy(id, &seq, 8);
    memcpy(id + 8, &sym, 4);
    id[6] = (uint8_t)((id[6] & 0x0f) | 0x80);
    id[8] = (uint8_t)((id[8] & 0x3f) | 0x80);
}

static int flush(tp_sink *s, tp_windows *w, tp_batch *b, int64_t now, int force) {
    char err[512];
    const tp_average *avg;
    const tp_candle *cn;
    size_t na, nc, late = 0;
    if (tp_windows_add(w, b->trades, b->n, &late)) return fprintf(stderr, "windows_add failed\n"), 1;
    if (tp_sink_write_trades(s, b->trades, b->n, now, err, sizeof err) ||
        tp_windows_emit(w, now, force, &avg, &na, &cn, &nc) ||
        tp_sink_write_averages(s, avg, na, err, sizeof err) ||
        tp_sink_write_candles(s, cn, nc, err, sizeof err) || tp_sink_commit(s, err, sizeof err)) {
        fprintf(stderr, "http_seed: store write failed: %s\n", err);
        return 1;
    }
    tp_batch_reset(b);
    return 0;
}

static const char *const k_fixed_syms[] = {"AAPL", "BINANCE:BTCUSDT", "OANDA:EUR_USD", "\xc3\x84TSCH.DE"};
static const double k_fixed_price[] = {187.25, 64250.5, 1.0842, 42.0};

static int seed_fixed(tp_sink *s) {
    tp_window_config wc;
    tp_window_config_default(&wc);
    wc.emit_interval_ms = 0;
    tp_windows *w = tp_windows_new(&wc);
    tp_batch b;
    tp_batch_init(&b);
    const int64_t base = 1700000000000LL; /* 2023-11-14T22:13:20Z */
    static const tp_str conds[] = {{"1", 1}, {"12", 2}, {NULL, 0}};
    size_t total = 0;
    for (int i = 0; i < 240; i++) { /* 240 rounds, 250 ms apart: one minute */
        for (uint32_t k = 0; k < 4; k++) {
            if (k == 3 && i % 4) continue; /* the unicode symbol trades once a second */
            tp_trade *t = tp_batch_add(&b);
            t->symbol.ptr = tp_batch_strdup(&b, k_fixed_syms[k], strlen(k_fixed_syms[k]));
            t->symbol.len = (uint32_t)strlen(k_fixed_syms[k]);
            double p = k_fixed_price[k] * (1 + 0.002 * sin(i / 7.0 + k) + 0.0005 * (rnd() - 0.5));
            t->price = round(p * 10000) / 10000;
            t->volume = k == 2 ? 0 : (double)(1 + (int)(rnd() * 100)) / (k == 1 ? 1000.0 : 1.0);
            t->ts_ms = base + i * 250 + k;
            t->recv_ms = t->ts_ms + 5;
            switch (i % 4) {
            case 0: t->ncond = TP_COND_NULL; break;
            case 1: t->ncond = 0; break;
            case 2: t->ncond = 1, t->cond = &conds[0]; break;
            default: t->ncond = 3, t->cond = conds; break;
            }
            make_id(t->id, k, (uint64_t)i);
            total++;
        }
        if (b.n >= 200 && flush(s, w, &b, base + i * 250 + 100, 0)) return 1;
    }
    if (flush(s, w, &b, base + 60000, 0)) return 1;
    tp_windows_advance(w, base + 3600 * 1000); /* every window final */
    if (flush(s, w, &b, base + 120000, 1)) return 1;
    tp_batch_free(&b);
    tp_windows_free(w);
    printf("seeded %zu trades\n", total);
    fflush(stdout);
    return 0;
}

static int seed_live(tp_sink *s, int seconds) {
    static const char *const syms[] = {"AAPL", "BINANCE:BTCUSDT", "MSFT"};
    double price[] = {187.25, 64250.5, 411.1};
    tp_window_config wc;
    tp_window_config_default(&wc);
    wc.emit_interval_ms = 200;
    tp_windows *w = tp_windows_new(&wc);
    tp_batch b;
    tp_batch_init(&b);
    uint64_t seq = (uint64_t)tp_now_ms() * 16;
    int64_t end = tp_now_ms() + (int64_t)seconds * 1000;
    int first = 1;
    while (!g_stop && tp_now_ms() < end) {
        int64_t now = tp_now_ms();
        for (uint32_t k = 0; k < 3; k++) {
            for (int j = 0; j < 10; j++) {
                tp_trade *t = tp_batch_add(&b);
                t->symbol.ptr = syms[k];
                t->symbol.len = (uint32_t)strlen(syms[k]);
                price[k] *= 1 + 0.0004 * (rnd() - 0.5);
                t->price = round(price[k] * 100) / 100;
                t->volume = (double)(1 + (int)(rnd() * 50));
                t->ts_ms = now - 10 + j;
                t->recv_ms = now;
                t->ncond = TP_COND_NULL;
                make_id(t->id, k, seq++);
            }
        }
        if (flush(s, w, &b, now, 0)) return 1;
        if (first) {
            printf("live\n");
            fflush(stdout);
            first = 0;
        }
        usleep(100 * 1000);
    }
    tp_batch_free(&b);
    tp_windows_free(w);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 3 || (strcmp(argv[2], "fixed") && strcmp(argv[2], "live"))) {
        fprintf(stderr, "usage: http_seed STORE_URL fixed | live [SECONDS]\n");
        return 2;
    }
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    char err[512];
    tp_sink *s;
    if (tp_sink_open(argv[1], &s, err, sizeof err)) {
        fprintf(stderr, "http_seed: %s\n", err);
        return 1;
    }
    int rc = !strcmp(argv[2], "fixed") ? seed_fixed(s) : seed_live(s, argc > 3 ? atoi(argv[3]) : 600);
    tp_sink_close(s);
    return rc;
}
