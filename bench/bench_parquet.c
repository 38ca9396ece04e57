/* bench_parquet.c - the Parquet archive's writer on synthetic trades.
 *   bench_parquet N OUT.parquet
 * Writes N trades (20 symbols, random-walk prices, every fifth with
 * conditions) through the export's row writer (archive/export.h) and
 * prints "rows=N wall_s=.. cpu_s=.. bytes=..". The trades are made before
 * the clock starts. bench_parquet.sh times pyarrow writing the same rows. */
#include "archive/export.h"
#include "core/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(clockid_t c) {
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: bench_parquet N OUT.parquet\n");
        return 2;
    }
    size_t n = strtoull(argv[1], NULL, 10);
    static const char *syms[20] = {"AAPL",
                                   "MSFT",
                                   "AMZN",
                                   "NVDA",
                                   "TSLA",
                                   "GOOG",
                                   "META",
                                   "NFLX",
                                   "AMD",
                                   "INTC",
                                   "BINANCE:BTCUSDT",
                                   "BINANCE:ETHUSDT",
                                   "BINANCE:SOLUSDT",
                                   "OANDA:EUR_USD",
                                   "OANDA:GBP_USD",
                                   "IBM",
                                   "ORCL",
                                   "CRM",
                                   "ADBE",
                                   "QCOM"};
    static const tp_str cond[2] = {{"1", 1}, {"12", 2}};
    tp_trade *t = calloc(n, sizeof *t);
    if (!t) return 1;
    uint64_t rng = 88172645463325252ULL;
    double px[20];
    for (int i = 0; i < 20; i++) px[i] = 100 + i * 10;
    for (size_t i = 0; i < n; i++) {
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        int s = (int)(rng % 20);
        px[s] += ((double)(rng >> 40 & 0xff) - 127.5) / 1000.0;
        t[i].symbol = (tp_str){syms[s], (uint32_t)strlen(syms[s])};
        t[i].price = px[s];
        t[i].volume = (double)(rng >> 20 & 0x3ff);
        t[i].ts_ms = 1700000000000LL + (int64_t)(i / 10);
        t[i].ncond = i % 5 ? TP_COND_NULL : 2;
        t[i].cond = cond;
        memcpy(t[i].id, &rng, 8);
        memcpy(t[i].id + 8, &i, 8);
    }
    FILE *f = fopen(argv[2], "wb");
    if (!f) return 1;
    char err[256];
    tp_rowout *w;
    double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
    if (tp_rowout_open(&w, f, TP_EX_TRADES, TP_EX_PARQUET, err, sizeof err)) goto fail;
    for (size_t i = 0; i < n; i++)
        if (tp_rowout_trade(w, &t[i], t[i].ts_ms + 5, err, sizeof err)) goto fail;
    if (tp_rowout_close(w, err, sizeof err)) goto fail;
    if (fflush(f)) goto fail;
    double w1 = now(CLOCK_MONOTONIC), c1 = now(CLOCK_PROCESS_CPUTIME_ID);
    printf("rows=%zu wall_s=%.4f cpu_s=%.4f bytes=%ld\n", n, w1 - w0, c1 - c0, ftell(f));
    fclose(f);
    free(t);
    return 0;
fail:
    fprintf(stderr, "bench_parquet: %s\n", err);
    return 1;
}
