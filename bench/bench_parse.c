/* bench_parse.c - Finnhub frame parsing speed: the hand-written parser
 * against the jansson reference on the same frames, in the same run.
 *
 * Frames look like the live feed's: 50-trade frames (about 3.5 KB) and
 * 1-trade frames, with varied symbols, prices, volumes and conditions.
 * Each parser parses the frame set repeatedly for about SECONDS seconds
 * (argv[1], default 1.5) into a reused batch; the output is a Markdown
 * table with trades/s, MB/s and the ratio. Before timing, both parsers'
 * results are compared on every frame, so a fast wrong parser cannot win.
 * Exit status 1 if they disagree. */
#include "../tests/lib/finnhub_json_ref.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NFRAMES 64

typedef int (*parse_fn)(const char *, size_t, tp_batch *, tp_msg_info *, char *, size_t);

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng = 88172645463325252ULL;
static uint64_t next_rand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static size_t make_frame(char *out, size_t cap, int ntrades, int64_t *ts) {
    static const char *syms[] = {"BINANCE:BTCUSDT", "AAPL", "MSFT", "OANDA:EUR_USD",
                                 "BINANCE:ETHUSDT", "AMZN"};
    static const char *conds[] = {"[\"1\",\"12\"]", "[\"1\"]", "null", "[]", "[\"12\",\"37\",\"41\"]"};
    size_t n = (size_t)snprintf(out, cap, "{\"data\":[");
    for (int i = 0; i < ntrades; i++) {
        int s = (int)(next_rand() % 6);
        double p = 100.0 + (double)(next_rand() % 10000000) / 100.0;
        double v = s == 3 ? 0 : (double)(next_rand() % 1000000) / 1e4;
        n += (size_t)snprintf(out + n, cap - n, "%s{\"c\":%s,\"p\":%.2f,\"s\":\"%s\",\"t\":%lld,\"v\":%.6g}",
                              i ? "," : "", conds[next_rand() % 5], p, syms[s], (long long)(*ts)++, v);
    }
    n += (size_t)snprintf(out + n, cap - n, "],\"type\":\"trade\"}");
    return n;
}

static int same(const tp_batch *a, const tp_batch *b) {
    if (a->n != b->n) return 0;
    for (size_t i = 0; i < a->n; i++) {
        const tp_trade *x = &a->trades[i], *y = &b->trades[i];
        if (x->symbol.len != y->symbol.len || memcmp(x->symbol.ptr, y->symbol.ptr, x->symbol.len) ||
            memcmp(&x->price, &y->price, 8) || memcmp(&x->volume, &y->volume, 8) || x->ts_ms != y->ts_ms ||
            x->ncond != y->ncond)
            return 0;
        for (int32_t k = 0; k < x->ncond; k++)
            if (x->cond[k].len != y->cond[k].len || memcmp(x->cond[k].ptr, y->cond[k].ptr, x->cond[k].len))
                return 0;
    }
    return 1;
}

typedef struct result {
    double trades_s, mb_s;
} result;

static result run(parse_fn fn, char **frames, size_t *lens, double secs) {
    tp_batch b;
    tp_batch_init(&b);
    tp_msg_info info;
    char err[256];
    uint64_t trades = 0, bytes = 0;
    double t0 = now_s(), t;
    do {
        for (int r = 0; r < 16; r++) {
            for (int i = 0; i < NFRAMES; i++) {
                tp_batch_reset(&b);
                if (fn(frames[i], lens[i], &b, &info, err, sizeof err)) {
                    fprintf(stderr, "bench_parse: frame %d rejected: %s\n", i, err);
                    exit(1);
                }
                trades += info.ntrades;
                bytes += lens[i];
            }
        }
        t = now_s() - t0;
    } while (t < secs);
    tp_batch_free(&b);
    result res = {(double)trades / t, (double)bytes / t / 1e6};
    return res;
}

int main(int argc, char **argv) {
    double secs = argc > 1 ? atof(argv[1]) : 1.5;
    int sizes[2] = {50, 1};
    int64_t ts = 1700000000000LL;
    printf("| frames | frame bytes (avg) | parser | trades/s | MB/s | vs jansson |\n");
    printf("| --- | --- | --- | --- | --- | --- |\n");
    for (int si = 0; si < 2; si++) {
        char *frames[NFRAMES];
        size_t lens[NFRAMES], total = 0;
        for (int i = 0; i < NFRAMES; i++) {
            frames[i] = malloc(65536);
            lens[i] = make_frame(frames[i], 65536, sizes[si], &ts);
            total += lens[i];
            tp_batch a, b;
            tp_batch_init(&a);
            tp_batch_init(&b);
            tp_msg_info ia, ib;
            char err[256];
            if (tp_finnhub_parse(frames[i], lens[i], &a, &ia, err, sizeof err) ||
                tp_finnhub_parse_ref(frames[i], lens[i], &b, &ib, err, sizeof err) || !same(&a, &b)) {
                fprintf(stderr, "bench_parse: parsers disagree on frame %d\n", i);
                return 1;
            }
            tp_batch_free(&a);
            tp_batch_free(&b);
        }
        result ref = run(tp_finnhub_parse_ref, frames, lens, secs);
        result hand = run(tp_finnhub_parse, frames, lens, secs);
        printf("| %d trades | %zu | jansson (reference) | %.0f | %.1f | 1.00x |\n", sizes[si],
               total / NFRAMES, ref.trades_s, ref.mb_s);
        printf("| %d trades | %zu | tickpipe | %.0f | %.1f | %.2fx |\n", sizes[si], total / NFRAMES,
               hand.trades_s, hand.mb_s, hand.trades_s / ref.trades_s);
        for (int i = 0; i < NFRAMES; i++) free(frames[i]);
    }
    return 0;
}
