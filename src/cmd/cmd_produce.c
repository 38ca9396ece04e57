/* cmd_produce.c - `tickpipe produce`: Finnhub feed -> Avro -> Kafka.
 *
 * The source (feed/source.h) hands over one parsed frame at a time. Each
 * frame becomes one Kafka message per symbol in it: a FinnhubProducer
 * `message` record (type "trade") holding that symbol's trades in their
 * order in the frame, keyed by the symbol (so one symbol stays on one
 * partition, in order) and stamped with the frame's receive time.
 *
 * Grouping uses a small open-addressing table rebuilt per frame and a
 * counting sort of trade indices, so a frame costs O(trades) with no
 * allocation once the arrays have grown to the largest frame seen; the
 * Avro bytes go into one reused buffer that librdkafka copies.
 *
 * Backpressure: when librdkafka's queue is full, tp_producer_send blocks
 * inside the source's callback, so the source stops reading; nothing is
 * dropped. Stopping (SIGINT/SIGTERM, --duration, --max-trades, end of a
 * replay) ends the source, then the producer is flushed for at most
 * --flush-timeout seconds and the summary says how many trades, if any,
 * were not delivered. A second SIGINT/SIGTERM stops waiting at once. */
#include "cmd/commands.h"

#include "codec/avro_trades.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "feed/source.h"
#include "kafka/kafka_conf.h"
#include "kafka/producer.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static tp_source *volatile g_produce_src;
static tp_producer *volatile g_produce_prod;

static void on_signal(int sig) {
    (void)sig;
    tp_source *s = g_produce_src;
    if (s) tp_source_stop(s);
    tp_producer *p = g_produce_prod;
    if (p) tp_producer_interrupt(p);
}

static void usage(FILE *f) {
    fprintf(
        f, "Usage: tickpipe produce [OPTIONS]\n"
           "\n"
           "Read trades from a Finnhub-compatible WebSocket feed (or a recording) and send\n"
           "them to Kafka as Avro (schema FinnhubProducer.message, schemas/trades.avsc): one\n"
           "message per symbol per received frame, key = the symbol, timestamp = the frame's\n"
           "receive time. Idempotent producer, acks=all. While the cluster is away, messages\n"
           "wait in a bounded queue; when it is full the feed is not read (nothing is dropped).\n"
           "SIGINT/SIGTERM stop, flush (see --flush-timeout) and report what was not\n"
           "delivered; a second signal stops waiting. A progress line goes to stderr every\n"
           "--progress seconds and a summary on exit.\n"
           "\n"
           "Feed:\n"
           "  --ws-url URL          WebSocket URL (env FINNHUB_WS_URL; default wss://ws.finnhub.io)\n"
           "  --token TOKEN         API token, sent as ?token= (env FINNHUB_API_TOKEN); never logged\n"
           "  --symbols LIST        symbols to subscribe: AAPL,BINANCE:BTCUSDT or a JSON list\n"
           "                        (env FINNHUB_STOCKS_TICKERS)\n"
           "  --validate            check each symbol with the REST symbol search first and skip\n"
           "                        unknown ones (env FINNHUB_VALIDATE_TICKERS=1)\n"
           "  --rest-url URL        REST base URL (env FINNHUB_REST_URL; default https://finnhub.io/api/v1)\n"
           "  --max-frame BYTES     reject messages larger than this (default 1048576)\n"
           "  --stale-timeout S     reconnect after S seconds without any message (default 90; 0 = off)\n"
           "  --max-reconnects N    give up (exit 1) after N reconnects (default: never)\n"
           "  --replay FILE         read frames from a recording (`capture --record`) instead of\n"
           "                        the network; the token and symbols are then not needed\n"
           "  --speed X             replay speed: 1 = as recorded, 0 = as fast as possible (default 0)\n"
           "\n"
           "Kafka:\n"
           "  --brokers LIST        bootstrap servers host:port,... (default KAFKA_SERVER:KAFKA_PORT,\n"
           "                        else localhost:9092)\n"
           "  --topic NAME          topic (env KAFKA_TOPIC_NAME; default market)\n"
           "  --compression CODEC   none, gzip, snappy, lz4 or zstd (default lz4)\n"
           "  --linger-ms MS        wait up to MS ms to batch messages (default 5)\n"
           "  -X KEY=VALUE          any librdkafka property, applied last (repeatable), e.g.\n"
           "                        -X message.timeout.ms=60000 (default 0: wait for the cluster\n"
           "                        forever), -X queue.buffering.max.kbytes=16384\n"
           "  --create-topic        create the topic first (an existing topic is fine)\n"
           "  --partitions N        partitions for --create-topic (default 1)\n"
           "  --replication-factor R  replication factor for --create-topic (default 1)\n"
           "  --min-insync-replicas N  min.insync.replicas of a topic --create-topic makes (default:\n"
           "                        the cluster's); with acks=all a write needs N live replicas\n"
           "  --connect-timeout S   give up at start if the brokers do not answer or the topic is\n"
           "                        not there within S seconds (default 10)\n"
           "  --flush-timeout S     at exit, wait at most S seconds for deliveries (default 30)\n"
           "\n"
           "Stopping and output:\n"
           "  --max-trades N        stop after N trades (exactly N trades are produced)\n"
           "  --duration S          stop after S seconds\n"
           "  --progress S          progress line every S seconds (default 5; 0 = off)\n"
           "  --log-level LEVEL     error, warn, info (default) or debug (env TICKPIPE_LOG)\n"
           "  -h, --help            this help\n"
           "\n"
           "Exit status: 0 when every trade read was delivered, 1 on a runtime failure (brokers\n"
           "unreachable, topic missing, undelivered trades, fatal feed error), 2 on a usage error.\n"
           "\n"
           "Example:\n"
           "  tickpipe produce --ws-url ws://127.0.0.1:8765 --token t \\\n"
           "      --symbols AAPL,BINANCE:BTCUSDT --brokers 127.0.0.1:9092 --topic market\n");
}

typedef struct produce_state {
    tp_producer *prod;
    tp_buf buf;
    /* per-frame grouping, grown to the largest frame seen */
    uint32_t *gid, *order, *gcount, *gstart, *gfirst, *htab;
    size_t cap, hcap;
    uint64_t max_trades, taken;
    uint64_t unsent_trades, unsent_messages; /* never queued (stop while the queue was full, fatal) */
    int failed;                              /* a send failed for good: stop */
    char err[512];
} produce_state;

static int grow(produce_state *st, size_t n) {
    if (n <= st->cap) return 0;
    size_t cap = st->cap ? st->cap : 64;
    while (cap < n) cap *= 2;
    size_t hcap = cap * 2;
    uint32_t *a[6];
    size_t sizes[6] = {cap, cap, cap, cap, cap, hcap};
    for (int i = 0; i < 6; i++) {
        a[i] = malloc(sizes[i] * sizeof(uint32_t));
        if (!a[i]) {
            while (i--) free(a[i]);
            return -1;
        }
    }
    free(st->gid);
    free(st->order);
    free(st->gcount);
    free(st->gstart);
    free(st->gfirst);
    free(st->htab);
    st->gid = a[0];
    st->order = a[1];
    st->gcount = a[2];
    st->gstart = a[3];
    st->gfirst = a[4];
    st->htab = a[5];
    st->cap = cap;
    st->hcap = hcap;
    return 0;
}

static uint32_t hash_str(tp_str s) {
    uint32_t h = 2166136261u;
    for (uint32_t i = 0; i < s.len; i++) h = (h ^ (uint8_t)s.ptr[i]) * 16777619u;
    return h;
}

/* Group trades[0..n) by symbol: returns the number of groups; order[] holds
 * trade indices group after group (groups in order of first appearance,
 * trades in frame order), gstart/gcount delimit each group. */
static size_t group_by_symbol(produce_state *st, const tp_trade *t, size_t n) {
    /* a table twice the frame's size, not the largest frame's */
    size_t hsize = 16;
    while (hsize < 2 * n) hsize *= 2;
    if (hsize > st->hcap) hsize = st->hcap;
    memset(st->htab, 0, hsize * sizeof(uint32_t));
    size_t mask = hsize - 1, ng = 0;
    for (size_t i = 0; i < n; i++) {
        size_t h = hash_str(t[i].symbol) & mask;
        for (;;) {
            uint32_t g1 = st->htab[h];
            if (!g1) {
                st->htab[h] = (uint32_t)(ng + 1);
                st->gfirst[ng] = (uint32_t)i;
                st->gcount[ng] = 0;
                st->gid[i] = (uint32_t)ng++;
                break;
            }
            if (tp_str_eq(t[st->gfirst[g1 - 1]].symbol, t[i].symbol)) {
                st->gid[i] = g1 - 1;
                break;
            }
            h = (h + 1) & mask;
        }
        st->gcount[st->gid[i]]++;
    }
    uint32_t pos = 0;
    for (size_t g = 0; g < ng; g++) {
        st->gstart[g] = pos;
        pos += st->gcount[g];
    }
    /* gfirst is no longer needed for lookups: reuse it as the fill cursor. */
    for (size_t g = 0; g < ng; g++) st->gfirst[g] = st->gstart[g];
    for (size_t i = 0; i < n; i++) st->order[st->gfirst[st->gid[i]]++] = (uint32_t)i;
    return ng;
}

static int on_batch(void *ud, tp_batch *b) {
    produce_state *st = ud;
    size_t n = b->n;
    if (st->max_trades && st->taken + n > st->max_trades) n = (size_t)(st->max_trades - st->taken);
    if (n == 0) return st->max_trades && st->taken >= st->max_trades;
    if (grow(st, n)) {
        snprintf(st->err, sizeof st->err, "out of memory grouping a frame of %zu trades", n);
        st->failed = 1;
        st->unsent_trades += n;
        return 1;
    }
    size_t ng = group_by_symbol(st, b->trades, n);
    for (size_t g = 0; g < ng; g++) {
        const uint32_t *idx = st->order + st->gstart[g];
        uint32_t cnt = st->gcount[g];
        tp_buf_reset(&st->buf);
        int rc = tp_avro_encode(b->trades, idx, cnt, "trade", &st->buf);
        const tp_str sym = b->trades[idx[0]].symbol;
        if (!rc)
            rc = tp_producer_send(st->prod, sym.ptr, sym.len, st->buf.p, st->buf.len, b->recv_ms, cnt,
                                  st->err, sizeof st->err);
        else
            snprintf(st->err, sizeof st->err, "cannot encode %u trade(s) of %.*s as Avro: %s", cnt,
                     (int)sym.len, sym.ptr, tp_strerror(rc));
        if (rc == TP_EINVAL) {
            /* This one message can never be delivered (too large): say so, keep going. */
            tp_error("produce", "%s; %u trade(s) skipped", st->err, cnt);
            st->unsent_trades += cnt;
            st->unsent_messages++;
            continue;
        }
        if (rc) {
            for (size_t k = g; k < ng; k++) st->unsent_trades += st->gcount[k];
            st->unsent_messages += ng - g;
            if (rc != TP_EAGAIN) st->failed = 1;
            st->taken += n;
            return 1;
        }
    }
    st->taken += n;
    return st->max_trades && st->taken >= st->max_trades;
}

/* ---- progress line, from its own thread so it also appears while the
 * feed is quiet or blocked on a full queue ---- */
typedef struct progress {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
    double interval_s;
    tp_source *src;
    tp_producer *prod;
} progress;

static void *progress_main(void *arg) {
    progress *pg = arg;
    tp_producer_stats prev = {0};
    int64_t prev_us = tp_mono_us();
    pthread_mutex_lock(&pg->mu);
    while (!pg->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        double whole = (double)(time_t)pg->interval_s;
        ts.tv_sec += (time_t)pg->interval_s;
        ts.tv_nsec += (long)((pg->interval_s - whole) * 1e9);
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        while (!pg->stop && pthread_cond_timedwait(&pg->cv, &pg->mu, &ts) != ETIMEDOUT) {
        }
        if (pg->stop) break;
        tp_producer_stats s;
        tp_producer_get_stats(pg->prod, &s);
        tp_source_stats ss;
        tp_source_get_stats(pg->src, &ss);
        int64_t now = tp_mono_us();
        double dt = (double)(now - prev_us) / 1e6;
        if (dt <= 0) dt = 1e-9;
        tp_info("produce",
                "trades/s=%.0f messages/s=%.0f queue=%d queue_full_waits=%llu delivered_trades=%llu "
                "failed_trades=%llu feed_errors=%llu malformed=%llu reconnects=%llu",
                (double)(s.trades - prev.trades) / dt, (double)(s.messages - prev.messages) / dt,
                tp_producer_queue_depth(pg->prod), (unsigned long long)s.queue_full,
                (unsigned long long)s.delivered_trades, (unsigned long long)s.failed_trades,
                (unsigned long long)(ss.errors + ss.oversize), (unsigned long long)ss.malformed,
                (unsigned long long)ss.reconnects);
        prev = s;
        prev_us = now;
    }
    pthread_mutex_unlock(&pg->mu);
    return NULL;
}

enum {
    OPT_WS_URL = 256,
    OPT_TOKEN,
    OPT_SYMBOLS,
    OPT_VALIDATE,
    OPT_REST_URL,
    OPT_MAX_FRAME,
    OPT_STALE,
    OPT_MAX_RECONNECTS,
    OPT_REPLAY,
    OPT_SPEED,
    OPT_BROKERS,
    OPT_TOPIC,
    OPT_COMPRESSION,
    OPT_LINGER,
    OPT_CREATE_TOPIC,
    OPT_PARTITIONS,
    OPT_RF,
    OPT_CONNECT_TIMEOUT,
    OPT_FLUSH_TIMEOUT,
    OPT_MAX_TRADES,
    OPT_DURATION,
    OPT_PROGRESS,
    OPT_LOG_LEVEL,
    OPT_MIN_ISR,
};

static int usage_error(const char *msg) {
    fprintf(stderr, "tickpipe produce: %s\n", msg);
    return 2;
}

int tp_cmd_produce(int argc, char **argv) {
    static const struct option opts[] = {
        {"ws-url", required_argument, NULL, OPT_WS_URL},
        {"token", required_argument, NULL, OPT_TOKEN},
        {"symbols", required_argument, NULL, OPT_SYMBOLS},
        {"validate", no_argument, NULL, OPT_VALIDATE},
        {"rest-url", required_argument, NULL, OPT_REST_URL},
        {"max-frame", required_argument, NULL, OPT_MAX_FRAME},
        {"stale-timeout", required_argument, NULL, OPT_STALE},
        {"max-reconnects", required_argument, NULL, OPT_MAX_RECONNECTS},
        {"replay", required_argument, NULL, OPT_REPLAY},
        {"speed", required_argument, NULL, OPT_SPEED},
        {"brokers", required_argument, NULL, OPT_BROKERS},
        {"topic", required_argument, NULL, OPT_TOPIC},
        {"compression", required_argument, NULL, OPT_COMPRESSION},
        {"linger-ms", required_argument, NULL, OPT_LINGER},
        {"create-topic", no_argument, NULL, OPT_CREATE_TOPIC},
        {"partitions", required_argument, NULL, OPT_PARTITIONS},
        {"replication-factor", required_argument, NULL, OPT_RF},
        {"min-insync-replicas", required_argument, NULL, OPT_MIN_ISR},
        {"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
        {"flush-timeout", required_argument, NULL, OPT_FLUSH_TIMEOUT},
        {"max-trades", required_argument, NULL, OPT_MAX_TRADES},
        {"duration", required_argument, NULL, OPT_DURATION},
        {"progress", required_argument, NULL, OPT_PROGRESS},
        {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *f_url = NULL, *f_token = NULL, *f_symbols = NULL, *f_rest = NULL, *f_replay = NULL,
               *f_brokers = NULL, *f_topic = NULL, *f_compression = "lz4";
    int f_validate = 0, f_create = 0;
    int64_t max_frame = 1 << 20, max_reconnects = -1, max_trades = 0, linger = 5, partitions = 1, rf = 1,
            min_isr = 0;
    double stale_s = 90, speed = 0, duration = 0, connect_s = 10, flush_s = 30, progress_s = 5;
    tp_kafka_props props = {0};
    char err[600];
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "hX:", opts, NULL)) != -1) {
        int rc = 0;
        switch (c) {
        case 'h':
            usage(stdout);
            tp_kafka_props_free(&props);
            return 0;
        case 'X': rc = tp_kafka_props_add(&props, optarg, err, sizeof err); break;
        case OPT_WS_URL: f_url = optarg; break;
        case OPT_TOKEN: f_token = optarg; break;
        case OPT_SYMBOLS: f_symbols = optarg; break;
        case OPT_VALIDATE: f_validate = 1; break;
        case OPT_REST_URL: f_rest = optarg; break;
        case OPT_REPLAY: f_replay = optarg; break;
        case OPT_BROKERS: f_brokers = optarg; break;
        case OPT_TOPIC: f_topic = optarg; break;
        case OPT_CREATE_TOPIC: f_create = 1; break;
        case OPT_COMPRESSION:
            f_compression = optarg;
            if (strcmp(optarg, "none") && strcmp(optarg, "gzip") && strcmp(optarg, "snappy") &&
                strcmp(optarg, "lz4") && strcmp(optarg, "zstd"))
                rc = tp_seterr(err, sizeof err, TP_EINVAL,
                               "--compression '%s' is not one of none, gzip, snappy, lz4, zstd", optarg);
            break;
        case OPT_LINGER:
            rc = tp_cfg_parse_i64(optarg, "--linger-ms", 0, 900000, &linger, err, sizeof err);
            break;
        case OPT_PARTITIONS:
            rc = tp_cfg_parse_i64(optarg, "--partitions", 1, 100000, &partitions, err, sizeof err);
            break;
        case OPT_RF:
            rc = tp_cfg_parse_i64(optarg, "--replication-factor", 1, 1000, &rf, err, sizeof err);
            break;
        case OPT_MIN_ISR:
            rc = tp_cfg_parse_i64(optarg, "--min-insync-replicas", 1, 1000, &min_isr, err, sizeof err);
            break;
        case OPT_CONNECT_TIMEOUT:
            rc = tp_cfg_parse_double(optarg, "--connect-timeout", 0.1, 3600, &connect_s, err, sizeof err);
            break;
        case OPT_FLUSH_TIMEOUT:
            rc = tp_cfg_parse_double(optarg, "--flush-timeout", 0, 86400, &flush_s, err, sizeof err);
            break;
        case OPT_MAX_FRAME:
            rc = tp_cfg_parse_i64(optarg, "--max-frame", 64, INT64_C(1) << 32, &max_frame, err, sizeof err);
            break;
        case OPT_STALE:
            rc = tp_cfg_parse_double(optarg, "--stale-timeout", 0, 86400, &stale_s, err, sizeof err);
            break;
        case OPT_MAX_RECONNECTS:
            rc = tp_cfg_parse_i64(optarg, "--max-reconnects", -1, 1000000000, &max_reconnects, err,
                                  sizeof err);
            break;
        case OPT_SPEED: rc = tp_cfg_parse_double(optarg, "--speed", 0, 1e6, &speed, err, sizeof err); break;
        case OPT_MAX_TRADES:
            rc = tp_cfg_parse_i64(optarg, "--max-trades", 1, INT64_MAX, &max_trades, err, sizeof err);
            break;
        case OPT_DURATION:
            rc = tp_cfg_parse_double(optarg, "--duration", 0.001, 1e9, &duration, err, sizeof err);
            break;
        case OPT_PROGRESS:
            rc = tp_cfg_parse_double(optarg, "--progress", 0, 86400, &progress_s, err, sizeof err);
            break;
        case OPT_LOG_LEVEL: rc = tp_cfg_log_level(optarg, err, sizeof err); break;
        default:
            fprintf(stderr,
                    "tickpipe produce: unknown or incomplete option '%s'; see 'tickpipe produce --help'\n",
                    argv[optind - 1]);
            tp_kafka_props_free(&props);
            return 2;
        }
        if (rc) {
            tp_kafka_props_free(&props);
            return usage_error(err);
        }
    }
    if (optind < argc) {
        fprintf(stderr, "tickpipe produce: unexpected argument '%s'; see 'tickpipe produce --help'\n",
                argv[optind]);
        tp_kafka_props_free(&props);
        return 2;
    }

    /* The feed's configuration is checked before anything connects. */
    tp_source_config cfg;
    tp_source_config_default(&cfg);
    cfg.url = tp_cfg_str(f_url, "FINNHUB_WS_URL", "wss://ws.finnhub.io");
    cfg.token = tp_cfg_str(f_token, "FINNHUB_API_TOKEN", NULL);
    cfg.rest_url = tp_cfg_str(f_rest, "FINNHUB_REST_URL", "https://finnhub.io/api/v1");
    cfg.validate = f_validate || tp_cfg_env_flag("FINNHUB_VALIDATE_TICKERS");
    cfg.max_frame_bytes = (size_t)max_frame;
    cfg.stale_timeout_ms = (int64_t)(stale_s * 1000.0);
    cfg.max_reconnects = (int)max_reconnects;
    cfg.replay_path = f_replay;
    cfg.replay_speed = speed;
    tp_symbols syms = {0};
    const char *symtext = tp_cfg_str(f_symbols, "FINNHUB_STOCKS_TICKERS", NULL);
    if (symtext && tp_symbols_parse(symtext, &syms, err, sizeof err)) {
        tp_kafka_props_free(&props);
        return usage_error(err);
    }
    cfg.symbols = (const char *const *)syms.items;
    cfg.nsymbols = syms.n;
    int status = 2;
    tp_producer *prod = NULL;
    tp_source *src = NULL;
    produce_state *st = NULL;
    if (!f_replay && (!cfg.token || !*cfg.token)) {
        fprintf(stderr, "tickpipe produce: no API token: give --token or set FINNHUB_API_TOKEN "
                        "(any token works with `tickpipe simulate`)\n");
        goto out;
    }
    if (!f_replay && syms.n == 0) {
        fprintf(stderr, "tickpipe produce: no symbols: give --symbols or set FINNHUB_STOCKS_TICKERS "
                        "(e.g. AAPL,BINANCE:BTCUSDT)\n");
        goto out;
    }
    status = 1;
    if (tp_avro_schema_check(tp_avro_schema_json, err, sizeof err)) {
        fprintf(stderr, "tickpipe produce: the built-in Avro schema is not usable: %s\n", err);
        goto out;
    }

    char brokers[1024];
    tp_cfg_brokers(f_brokers, brokers, sizeof brokers);
    tp_producer_config pc;
    tp_producer_config_default(&pc);
    pc.brokers = brokers;
    pc.topic = tp_cfg_str(f_topic, "KAFKA_TOPIC_NAME", "market");
    pc.compression = f_compression;
    pc.linger_ms = (int)linger;
    pc.props = &props;
    pc.connect_timeout_ms = (int)(connect_s * 1000.0);
    pc.create_topic = f_create;
    pc.partitions = (int)partitions;
    pc.replication_factor = (int)rf;
    pc.min_insync_replicas = (int)min_isr;
    pc.drain_timeout_ms = (int)(flush_s * 1000.0);
    tp_info("produce", "connecting to Kafka at %s, topic %s", brokers, pc.topic);
    int rc = tp_producer_new(&pc, &prod, err, sizeof err);
    if (rc) {
        fprintf(stderr, "tickpipe produce: %s\n", err);
        status = rc == TP_EINVAL ? 2 : 1;
        goto out;
    }

    st = calloc(1, sizeof *st);
    if (!st) {
        fprintf(stderr, "tickpipe produce: out of memory\n");
        goto out;
    }
    st->prod = prod;
    st->max_trades = (uint64_t)max_trades;
    rc = tp_source_new(&cfg, on_batch, st, &src, err, sizeof err);
    if (rc) {
        fprintf(stderr, "tickpipe produce: %s\n", err);
        status = 2;
        goto out;
    }

    g_produce_src = src;
    g_produce_prod = prod;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGALRM, &sa, NULL);
    if (duration > 0) tp_cfg_alarm_after(duration);
    progress pg = {.interval_s = progress_s, .src = src, .prod = prod};
    int have_progress = 0;
    if (progress_s > 0) {
        pthread_mutex_init(&pg.mu, NULL);
        pthread_cond_init(&pg.cv, NULL);
        have_progress = pthread_create(&pg.thread, NULL, progress_main, &pg) == 0;
    }

    int64_t t0 = tp_mono_us();
    char rerr[512] = "";
    int run_rc = tp_source_run(src, rerr, sizeof rerr);
    int64_t t_read = tp_mono_us();

    tp_cfg_alarm_after(0);

    uint64_t left_msgs = 0, left_trades = 0;
    tp_producer_stats ps;
    tp_producer_get_stats(prod, &ps);
    if (ps.messages > ps.delivered_messages + ps.failed_messages)
        tp_info("produce", "flushing %llu message(s) (at most %.0f s)",
                (unsigned long long)(ps.messages - ps.delivered_messages - ps.failed_messages), flush_s);
    tp_producer_flush(prod, (int)(flush_s * 1000.0), &left_msgs, &left_trades);
    int64_t t_end = tp_mono_us();

    if (have_progress) {
        pthread_mutex_lock(&pg.mu);
        pg.stop = 1;
        pthread_cond_signal(&pg.cv);
        pthread_mutex_unlock(&pg.mu);
        pthread_join(pg.thread, NULL);
    }
    if (progress_s > 0) {
        pthread_mutex_destroy(&pg.mu);
        pthread_cond_destroy(&pg.cv);
    }
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    g_produce_src = NULL;
    g_produce_prod = NULL;

    status = 0;
    if (run_rc) {
        fprintf(stderr, "tickpipe produce: %s\n", rerr);
        status = 1;
    }
    if (st->failed) {
        fprintf(stderr, "tickpipe produce: %s\n", st->err);
        status = 1;
    }
    tp_producer_get_stats(prod, &ps);
    uint64_t lost = left_trades + ps.failed_trades + st->unsent_trades;
    if (lost) {
        fprintf(stderr,
                "tickpipe produce: %llu trade(s) NOT delivered: %llu in %llu message(s) still queued after "
                "the %.0f s flush timeout, %llu in %llu failed message(s), %llu never queued\n",
                (unsigned long long)lost, (unsigned long long)left_trades, (unsigned long long)left_msgs,
                flush_s, (unsigned long long)ps.failed_trades, (unsigned long long)ps.failed_messages,
                (unsigned long long)st->unsent_trades);
        status = 1;
    }
    tp_source_stats ss;
    tp_source_get_stats(src, &ss);
    double secs = (double)(t_end - t0) / 1e6, read_secs = (double)(t_read - t0) / 1e6;
    fprintf(stderr,
            "summary: trades=%llu messages=%llu bytes=%llu accepted_trades=%llu delivered_trades=%llu "
            "delivered_messages=%llu "
            "failed_trades=%llu undelivered_trades=%llu queue_full_waits=%llu feed_trades=%llu frames=%llu "
            "pings=%llu errors=%llu malformed=%llu reconnects=%llu unknown=%llu oversize=%llu seconds=%.3f "
            "trades_per_s=%.0f\n",
            (unsigned long long)ps.trades, (unsigned long long)ps.messages, (unsigned long long)ps.bytes,
            (unsigned long long)st->taken, (unsigned long long)ps.delivered_trades,
            (unsigned long long)ps.delivered_messages, (unsigned long long)ps.failed_trades,
            (unsigned long long)(left_trades + st->unsent_trades), (unsigned long long)ps.queue_full,
            (unsigned long long)ss.trades, (unsigned long long)ss.frames, (unsigned long long)ss.pings,
            (unsigned long long)ss.errors, (unsigned long long)ss.malformed,
            (unsigned long long)ss.reconnects, (unsigned long long)ss.unknown,
            (unsigned long long)ss.oversize, secs, read_secs > 0 ? (double)ps.delivered_trades / secs : 0.0);

out:
    if (src) tp_source_free(src);
    if (prod) tp_producer_free(prod);
    if (st) {
        tp_buf_free(&st->buf);
        free(st->gid);
        free(st->order);
        free(st->gcount);
        free(st->gstart);
        free(st->gfirst);
        free(st->htab);
        free(st);
    }
    tp_symbols_free(&syms);
    tp_kafka_props_free(&props);
    return status;
}
