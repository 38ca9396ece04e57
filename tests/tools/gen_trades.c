/* gen_trades.c - produce a deterministic stream of Avro trade records to
 * Kafka, and write the oracle: every trade produced, one CSV line each.
 *
 * Used by the process integration tests and bench/bench_process.sh. Record
 * i belongs to symbol i % nsymbols (key = symbol, so one symbol stays in one
 * partition, as `tickpipe produce` does) and holds --per-record trades.
 * Event times rise by --step-ms per record from --start-ms, so the stream
 * is in order overall; prices follow a seeded random walk; every 7th trade
 * has v = 0 (a price update); conditions take every shape (null, [], a list
 * with a null item). --poison-every M also sends a garbage record (not Avro)
 * after every M-th record; those are not in the oracle.
 *
 * Oracle line: symbol,price,volume,ts_ms (%.17g numbers: exact doubles).
 *
 * Usage: gen_trades --brokers B --topic T --records N [--per-record K]
 *        [--symbols N] [--seed S] [--start-ms T] [--step-ms D]
 *        [--poison-every M] [--rate RECORDS_PER_S] [--oracle FILE]
 *        [--jitter-every N --jitter-ms J]  (every N-th record J ms in the past)
 * The oracle is written as records are produced (flushed at the end). */
#include "codec/avro_trades.h"
#include "core/buf.h"
#include "core/trade.h"

#include <librdkafka/rdkafka.h>

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *k_symbols[] = {"AAPL", "MSFT", "AMZN", "BINANCE:BTCUSDT", "OANDA:EUR_USD", "TSLA",
                                  "NVDA", "GOOG", "META", "BINANCE:ETHUSDT", "IC MARKETS:1",  "Ä€ÜNICODE"};
#define NSYM_NAMED (sizeof k_symbols / sizeof k_symbols[0])
#define NSYM_MAX 1000 /* past the named ones: SYM0012, SYM0013, ... */

static uint64_t rng_state;
static uint64_t rng(void) {
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static long long dr_fail;
static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk, (void)opaque;
    if (m->err) {
        dr_fail++;
        fprintf(stderr, "gen_trades: delivery failed: %s\n", rd_kafka_err2str(m->err));
    }
}

static int produce(rd_kafka_t *rk, const char *topic, const void *key, size_t klen, const void *val,
                   size_t vlen) {
    for (;;) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key, klen),
            RD_KAFKA_V_VALUE((void *)(uintptr_t)val, vlen), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(rk, 50);
            continue;
        }
        if (e) {
            fprintf(stderr, "gen_trades: produce: %s\n", rd_kafka_err2str(e));
            return -1;
        }
        return 0;
    }
}

int main(int argc, char **argv) {
    const char *brokers = NULL, *topic = "market", *oracle_path = NULL;
    long long nrec = 1000, per = 5, nsym = 6, seed = 1, poison = 0;
    long long start_ms = 1700000000000LL, step = 10;
    long long jitter_every = 0, jitter_ms = 0;
    double rate = 0; /* records per second; 0 = as fast as possible */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            fprintf(stderr, "gen_trades: %s needs a value\n", a);
            return 2;
        }
        i++;
        if (!strcmp(a, "--brokers"))
            brokers = v;
        else if (!strcmp(a, "--topic"))
            topic = v;
        else if (!strcmp(a, "--records"))
            nrec = atoll(v);
        else if (!strcmp(a, "--per-record"))
            per = atoll(v);
        else if (!strcmp(a, "--symbols"))
            nsym = atoll(v);
        else if (!strcmp(a, "--seed"))
            seed = atoll(v);
        else if (!strcmp(a, "--start-ms"))
            start_ms = atoll(v);
        else if (!strcmp(a, "--step-ms"))
            step = atoll(v);
        else if (!strcmp(a, "--poison-every"))
            poison = atoll(v);
        else if (!strcmp(a, "--jitter-every"))
            jitter_every = atoll(v);
        else if (!strcmp(a, "--jitter-ms"))
            jitter_ms = atoll(v);
        else if (!strcmp(a, "--rate"))
            rate = atof(v);
        else if (!strcmp(a, "--oracle"))
            oracle_path = v;
        else {
            fprintf(stderr, "gen_trades: unknown option %s\n", a);
            return 2;
        }
    }
    if (!brokers || nrec < 0 || per < 1 || nsym < 1 || nsym > (long long)NSYM_MAX) {
        fprintf(stderr,
                "usage: gen_trades --brokers B [--topic T] [--records N] [--per-record K] [--symbols 1..%zu] "
                "[--seed S] [--start-ms T] [--step-ms D] [--poison-every M] [--oracle FILE]\n",
                (size_t)NSYM_MAX);
        return 2;
    }
    rng_state = (uint64_t)seed;
    FILE *oracle = NULL;
    if (oracle_path && !(oracle = fopen(oracle_path, "w"))) {
        perror(oracle_path);
        return 1;
    }
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr, sizeof errstr) ||
        rd_kafka_conf_set(conf, "linger.ms", "20", errstr, sizeof errstr) ||
        rd_kafka_conf_set(conf, "queue.buffering.max.messages", "1000000", errstr, sizeof errstr) ||
        rd_kafka_conf_set(conf, "enable.idempotence", "true", errstr, sizeof errstr) ||
        rd_kafka_conf_set(conf, "batch.num.messages", "10000", errstr, sizeof errstr)) {
        fprintf(stderr, "gen_trades: %s\n", errstr);
        return 1;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!rk) {
        fprintf(stderr, "gen_trades: %s\n", errstr);
        return 1;
    }
    static double price[NSYM_MAX];
    static char names[NSYM_MAX][16];
    for (size_t s = 0; s < NSYM_MAX; s++) {
        price[s] = 10.0 + 37.0 * (double)(s % 50);
        snprintf(names[s], sizeof names[s], "%s", s < NSYM_NAMED ? k_symbols[s] : "");
        if (s >= NSYM_NAMED) snprintf(names[s], sizeof names[s], "SYM%04zu", s);
    }
    tp_trade *tr = calloc((size_t)per, sizeof *tr);
    tp_str cond_items[3] = {{"1", 1}, {NULL, 0}, {"12", 2}};
    tp_buf buf = {0};
    long long trades = 0;
    struct timespec t0 = {0, 0};
    for (long long i = 0; i < nrec; i++) {
        size_t s = (size_t)(i % nsym);
        const char *sym = names[s];
        int64_t ts = start_ms + i * step;
        if (jitter_every && i % jitter_every == jitter_every - 1) ts -= jitter_ms; /* out of order */
        for (long long k = 0; k < per; k++) {
            tp_trade *t = &tr[k];
            memset(t, 0, sizeof *t);
            t->symbol = (tp_str){sym, (uint32_t)strlen(sym)};
            price[s] += ((double)(rng() % 2001) - 1000.0) / 1000.0 * 0.01 * price[s] / 10.0;
            if (price[s] < 0.01) price[s] = 0.01;
            t->price = (double)(int64_t)(price[s] * 10000.0) / 10000.0;
            t->volume = (trades + k) % 7 == 3 ? 0.0 : (double)(1 + rng() % 500) / 4.0;
            t->ts_ms = ts + (k % 3); /* a few trades share a millisecond */
            switch ((trades + k) % 3) {
            case 0: t->ncond = TP_COND_NULL; break;
            case 1: t->ncond = 0; break;
            default: t->ncond = 3; t->cond = cond_items;
            }
            if (oracle) fprintf(oracle, "%s,%.17g,%.17g,%" PRId64 "\n", sym, t->price, t->volume, t->ts_ms);
        }
        trades += per;
        tp_buf_reset(&buf);
        if (tp_avro_encode(tr, NULL, (size_t)per, "trade", &buf)) {
            fprintf(stderr, "gen_trades: encode failed\n");
            return 1;
        }
        if (produce(rk, topic, sym, strlen(sym), buf.p, buf.len)) return 1;
        if (poison && (i + 1) % poison == 0) {
            static const char junk[] = "\xff\xfe this is not avro \x01\x02";
            if (produce(rk, topic, sym, strlen(sym), junk, sizeof junk - 1)) return 1;
        }
        rd_kafka_poll(rk, 0);
        if (rate > 0) { /* pace: record i is due at t0 + i / rate */
            if (i == 0) clock_gettime(CLOCK_MONOTONIC, &t0);
            double due = (double)(i + 1) / rate;
            for (;;) {
                struct timespec now;
                clock_gettime(CLOCK_MONOTONIC, &now);
                double el = (double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) / 1e9;
                if (el >= due) break;
                rd_kafka_poll(rk, (int)((due - el) * 1000) + 1);
            }
        }
    }
    while (rd_kafka_outq_len(rk) > 0) rd_kafka_poll(rk, 100);
    if (oracle && fclose(oracle)) {
        perror(oracle_path);
        return 1;
    }
    rd_kafka_destroy(rk);
    tp_buf_free(&buf);
    free(tr);
    if (dr_fail) return 1;
    fprintf(stderr, "gen_trades: %lld records, %lld trades to %s\n", nrec, trades, topic);
    return 0;
}
