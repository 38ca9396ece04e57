/* bench_store.c - helper of bench_store.sh: the same trades through
 * tickpipe's sink, or as a file for the store's own bulk loader.
 *
 *   bench_store sink URL N UNIT    write N trades in units of UNIT rows
 *                                  (write + commit), print "rows/s SECONDS"
 *   bench_store file FORMAT N PATH write the same N trades for the bulk
 *                                  loader: FORMAT sqlite (CSV for .import),
 *                                  postgresql (COPY text), clickhouse (TSV)
 *
 * Trades are deterministic (10 symbols, conditions null, [] or a list), so
 * both sides load identical rows. */
#include "core/buf.h"
#include "core/trade.h"
#include "sink/rowfmt.h"
#include "sink/sink.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const k_syms[] = {
    "AAPL",          "MSFT",         "AMZN", "GOOGL", "TSLA", "BINANCE:BTCUSDT", "BINANCE:ETHUSDT",
    "OANDA:EUR_USD", "IC MARKETS:1", "NVDA"};
static const tp_str k_conds[] = {{"1", 1}, {"12", 2}};
#define INGEST 1700000100000LL

static void make_trade(uint64_t k, tp_trade *t) {
    memset(t, 0, sizeof *t);
    const char *s = k_syms[k % 10];
    t->symbol.ptr = s;
    t->symbol.len = (uint32_t)strlen(s);
    t->price = 100 + (double)(k % 10007) / 64;
    t->volume = (double)(k % 13);
    t->ts_ms = 1700000000000LL + (int64_t)(k / 4);
    t->ncond = k % 3 == 0 ? TP_COND_NULL : (int32_t)(k % 3);
    t->cond = k_conds;
    uint64_t x = k * 0x9e3779b97f4a7c15ULL + 1;
    for (int i = 0; i < 16; i++) {
        x ^= x >> 29;
        x *= 0xbf58476d1ce4e5b9ULL;
        t->id[i] = (uint8_t)(x >> 56);
    }
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmd_sink(const char *url, uint64_t n, uint64_t unit) {
    char err[512];
    tp_sink *s;
    if (tp_sink_open(url, &s, err, sizeof err)) {
        fprintf(stderr, "bench_store: %s\n", err);
        return 1;
    }
    tp_trade *t = malloc(sizeof *t * unit);
    if (!t) return 1;
    double t0 = now_s();
    for (uint64_t done = 0; done < n;) {
        uint64_t m = n - done < unit ? n - done : unit;
        for (uint64_t i = 0; i < m; i++) make_trade(done + i, &t[i]);
        if (tp_sink_write_trades(s, t, m, INGEST, err, sizeof err) || tp_sink_commit(s, err, sizeof err)) {
            fprintf(stderr, "bench_store: %s\n", err);
            return 1;
        }
        done += m;
    }
    double dt = now_s() - t0;
    printf("%.0f %.3f\n", (double)n / dt, dt);
    free(t);
    tp_sink_close(s);
    return 0;
}

static void pg_time(int64_t ms, char *out, size_t n) {
    time_t sec = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    size_t o = strftime(out, n, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(out + o, n - o, ".%03d+00", (int)(ms % 1000));
}

static int cmd_file(const char *fmt, uint64_t n, const char *path) {
    FILE *f = fopen(path, "w");
    if (!f) return perror(path), 1;
    tp_buf cond = {0};
    char uuid[37], ts[40], ing[40];
    int sqlite = !strcmp(fmt, "sqlite"), pg = !strcmp(fmt, "postgresql"), ch = !strcmp(fmt, "clickhouse");
    if (!sqlite && !pg && !ch) return fprintf(stderr, "unknown format %s\n", fmt), 1;
    pg_time(INGEST, ing, sizeof ing);
    for (uint64_t k = 0; k < n; k++) {
        tp_trade t;
        make_trade(k, &t);
        tp_uuid_format(t.id, uuid);
        tp_buf_reset(&cond);
        tp_cond_json(&cond, &t);
        int isnull = t.ncond == TP_COND_NULL;
        if (sqlite) {
            /* CSV: the JSON's quotes doubled inside a quoted field */
            fprintf(f, "%s,%s,", uuid, t.symbol.ptr);
            if (!isnull) {
                fputc('"', f);
                for (size_t i = 0; i < cond.len; i++) {
                    if (cond.p[i] == '"') fputc('"', f);
                    fputc(cond.p[i], f);
                }
                fputc('"', f);
            }
            fprintf(f, ",%.17g,%.17g,%" PRId64 ",%lld\n", t.price, t.volume, t.ts_ms, INGEST);
        } else if (pg) {
            pg_time(t.ts_ms, ts, sizeof ts);
            fprintf(f, "%s\t%s\t%.*s\t%.17g\t%.17g\t%s\t%s\n", uuid, t.symbol.ptr, isnull ? 2 : (int)cond.len,
                    isnull ? "\\N" : (const char *)cond.p, t.price, t.volume, ts, ing);
        } else {
            fprintf(f, "%s\t%s\t%.*s\t%.17g\t%.17g\t%" PRId64 "\t%lld\n", uuid, t.symbol.ptr,
                    isnull ? 2 : (int)cond.len, isnull ? "\\N" : (const char *)cond.p, t.price, t.volume,
                    t.ts_ms, INGEST);
        }
    }
    tp_buf_free(&cond);
    return fclose(f) ? 1 : 0;
}

int main(int argc, char **argv) {
    if (argc == 5 && !strcmp(argv[1], "sink"))
        return cmd_sink(argv[2], strtoull(argv[3], NULL, 10), strtoull(argv[4], NULL, 10));
    if (argc == 5 && !strcmp(argv[1], "file")) return cmd_file(argv[2], strtoull(argv[3], NULL, 10), argv[4]);
    fprintf(stderr, "usage: bench_store sink URL N UNIT | file sqlite|postgresql|clickhouse N PATH\n");
    return 2;
}
