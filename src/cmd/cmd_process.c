/* cmd_process.c - `tickpipe process`: Kafka consumer group -> Avro decode
 * -> windows -> store, offsets committed only once the store has the rows.
 *
 * One thread runs the loop: poll a record, decode it (a record that does
 * not decode is logged, counted, copied to the dead-letter topic and
 * skipped), hand its trades to the pipeline, and when a flush is due make
 * the unit durable and then commit offsets (kafka/consumer.h explains which
 * offsets and why a restart rebuilds windows exactly). The watermark follows
 * the slowest partition. Rebalances run inside the poll: the consumer calls
 * back here to flush before partitions go and to drop window state after.
 * SIGINT/SIGTERM end the loop; the last unit is flushed and committed and
 * the process exits 0. */
#include "cmd/commands.h"

#include "codec/avro_trades.h"
#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "core/metrics.h"
#include "kafka/consumer.h"
#include "process/pipeline.h"

#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MOD "process"

static volatile sig_atomic_t g_process_stop;
static tp_pipeline *volatile g_process_pipe;

static void on_signal(int sig) {
    (void)sig;
    g_process_stop = 1;
    tp_pipeline *p = g_process_pipe;
    if (p) tp_pipeline_stop(p);
}

static void usage(FILE *f) {
    fprintf(f,
            "Usage: tickpipe process [OPTIONS]\n"
            "\n"
            "Consume Avro trade messages from Kafka in a consumer group, compute event-time\n"
            "windows (15 s running averages sliding by 5 s, 1 s and 1 min candles) and write\n"
            "trades and windows to a store. Offsets are committed only after the store has\n"
            "made the rows durable; a restart or rebalance resumes from them and rebuilds the\n"
            "open windows, so every trade is stored exactly once and no window is counted\n"
            "twice. Start more processes with the same --group to split the partitions.\n"
            "SIGINT/SIGTERM drain, flush, commit and exit 0.\n"
            "\n"
            "Kafka:\n"
            "  --brokers LIST        bootstrap brokers host:port,... (default from KAFKA_SERVER and\n"
            "                        KAFKA_PORT, else localhost:9092)\n"
            "  --topic NAME          topic to consume (env KAFKA_TOPIC_NAME; default market)\n"
            "  --group ID            consumer group (default tickpipe-processor)\n"
            "  --member-id ID|host   static group membership (group.instance.id; env\n"
            "                        TICKPIPE_MEMBER_ID): a member restarted under the same id\n"
            "                        gets its partitions back at once, without a rebalance.\n"
            "                        \"host\" = the host name. Unique per live member.\n"
            "  --dlq-topic NAME      dead-letter topic for records that do not decode\n"
            "                        (default market.dlq; \"\" = log and skip only)\n"
            "  -X KEY=VALUE          any librdkafka property (repeatable; applied last)\n"
            "\n"
            "Store and windows:\n"
            "  --store URL           sqlite:PATH, postgresql://..., clickhouse://..., null:\n"
            "                        (env TICKPIPE_STORE; default sqlite:data/tickpipe.db)\n"
            "  --allowed-lateness S  event-time lateness before a window is final (default 15)\n"
            "  --emit-interval S     upsert open windows at most this often (default 1)\n"
            "  --idle-expiry S       forget a symbol idle this long in event time (default 600)\n"
            "  --flush-interval MS   make pending rows durable at least this often (default 200)\n"
            "  --flush-max-trades N  ... or when this many trades are pending (default 20000)\n"
            "\n"
            "Running:\n"
            "  --max-trades N        stop after N trades (tests, benchmarks)\n"
            "  --duration S          stop after S seconds\n"
            "  --progress-interval S progress line every S seconds (default 5; 0 = off)\n"
            "  --log-level LEVEL     error, warn, info (default) or debug (env TICKPIPE_LOG)\n"
            "  -h, --help            this help\n"
            "\n"
            "Exit status: 0 after a clean stop (everything consumed is durable and committed),\n"
            "1 on a fatal error or when stopped while the store was down, 2 on a usage error.\n"
            "\n"
            "Example:\n"
            "  tickpipe process --brokers 127.0.0.1:9092 --topic market --store sqlite:data/tickpipe.db\n");
}

enum {
    OPT_BROKERS = 256,
    OPT_TOPIC,
    OPT_GROUP,
    OPT_DLQ,
    OPT_STORE,
    OPT_LATENESS,
    OPT_EMIT,
    OPT_IDLE,
    OPT_FLUSH_MS,
    OPT_FLUSH_N,
    OPT_MAX_TRADES,
    OPT_DURATION,
    OPT_PROGRESS,
    OPT_LOG_LEVEL,
    OPT_MEMBER_ID,
};

typedef struct proc {
    tp_pipeline *pipe;
    tp_consumer *cons;
    tp_batch batch;
    uint64_t records, trades, decode_errors, commit_errors;
    int64_t first_us, last_us; /* monotonic times of the first and latest record */
    tp_counter *m_trades, *m_decode_errors;
} proc;

static int on_revoke(void *ud, int64_t *open_since) {
    proc *pr = ud;
    tp_pipeline_advance(pr->pipe, tp_consumer_input_watermark(pr->cons));
    int rc = tp_pipeline_flush(pr->pipe, 1);
    *open_since = tp_pipeline_open_since(pr->pipe);
    return rc;
}

static void on_reset(void *ud) {
    proc *pr = ud;
    if (tp_pipeline_reset_windows(pr->pipe))
        tp_warn(MOD, "window state kept: rows are still pending (the store did not take them)");
}

/* Flush and, when durable, commit. Returns 0 or the flush/commit error. */
static int flush_and_commit(proc *pr, int force) {
    int64_t in_wm = tp_consumer_input_watermark(pr->cons);
    if (in_wm != INT64_MIN) tp_pipeline_advance(pr->pipe, in_wm);
    int rc = tp_pipeline_flush(pr->pipe, force);
    if (rc) return rc;
    char err[512];
    rc = tp_consumer_commit(pr->cons, tp_pipeline_open_since(pr->pipe), err, sizeof err);
    if (rc) {
        pr->commit_errors++;
        tp_warn(MOD, "%s (rows are durable; the commit is retried with the next flush)", err);
    }
    return rc;
}

static void handle_record(proc *pr, tp_consumer_record *rec) {
    tp_batch *b = &pr->batch;
    tp_batch_reset(b);
    char type[32], err[256];
    pr->records++;
    pr->last_us = tp_mono_us();
    if (!pr->first_us) pr->first_us = pr->last_us;
    int rc = tp_avro_decode(rec->payload, rec->len, b, type, sizeof type, err, sizeof err);
    if (rc) {
        pr->decode_errors++;
        tp_counter_add(pr->m_decode_errors, 1);
        char sample[100];
        tp_log_sample(rec->payload, rec->len, 32, sample, sizeof sample);
        tp_warn(MOD,
                "record %s [%d] offset %" PRId64 " (%zu bytes) does not decode: %s; copied to the "
                "dead-letter topic and skipped (first bytes: %s)",
                rec->topic, rec->partition, rec->offset, rec->len, err, sample);
        char reason[300];
        snprintf(reason, sizeof reason, "avro decode: %s", err);
        tp_consumer_dlq(pr->cons, rec, reason);
        tp_consumer_done(pr->cons, rec, INT64_MIN);
        return;
    }
    snprintf(b->origin.topic, sizeof b->origin.topic, "%s", rec->topic);
    b->origin.partition = rec->partition;
    b->origin.offset = rec->offset;
    int64_t now = tp_now_ms(), max_ts = INT64_MIN;
    b->recv_ms = now;
    for (size_t i = 0; i < b->n; i++) {
        b->trades[i].recv_ms = now;
        if (b->trades[i].ts_ms > max_ts) max_ts = b->trades[i].ts_ms;
    }
    rc = tp_pipeline_add_since(pr->pipe, b, rec->floor_ms);
    if (rc) {
        tp_error(MOD, "out of memory adding %zu trades", b->n);
        g_process_stop = 1;
    }
    pr->trades += b->n;
    tp_counter_add(pr->m_trades, b->n);
    tp_consumer_done(pr->cons, rec, max_ts);
}

static void fmt_ts(int64_t ms, char *out, size_t n) {
    if (ms == INT64_MIN)
        snprintf(out, n, "none");
    else
        snprintf(out, n, "%" PRId64, ms);
}

int tp_cmd_process(int argc, char **argv) {
    static const struct option opts[] = {
        {"brokers", required_argument, NULL, OPT_BROKERS},
        {"topic", required_argument, NULL, OPT_TOPIC},
        {"group", required_argument, NULL, OPT_GROUP},
        {"member-id", required_argument, NULL, OPT_MEMBER_ID},
        {"dlq-topic", required_argument, NULL, OPT_DLQ},
        {"store", required_argument, NULL, OPT_STORE},
        {"allowed-lateness", required_argument, NULL, OPT_LATENESS},
        {"emit-interval", required_argument, NULL, OPT_EMIT},
        {"idle-expiry", required_argument, NULL, OPT_IDLE},
        {"flush-interval", required_argument, NULL, OPT_FLUSH_MS},
        {"flush-max-trades", required_argument, NULL, OPT_FLUSH_N},
        {"max-trades", required_argument, NULL, OPT_MAX_TRADES},
        {"duration", required_argument, NULL, OPT_DURATION},
        {"progress-interval", required_argument, NULL, OPT_PROGRESS},
        {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *f_brokers = NULL, *f_topic = NULL, *f_store = NULL, *group = "tickpipe-processor",
               *dlq = "market.dlq", *member_id = getenv("TICKPIPE_MEMBER_ID");
    double lateness = 15, emit = 1, idle = 600, duration = 0, progress = 5;
    int64_t flush_ms = 200, flush_n = 20000, max_trades = 0;
    tp_kafka_props props = {0};
    char err[512];
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
        case OPT_BROKERS: f_brokers = optarg; break;
        case OPT_TOPIC: f_topic = optarg; break;
        case OPT_GROUP:
            group = optarg;
            if (!*group) rc = tp_seterr(err, sizeof err, TP_EINVAL, "--group must not be empty");
            break;
        case OPT_DLQ: dlq = optarg; break;
        case OPT_MEMBER_ID: member_id = optarg; break;
        case OPT_STORE: f_store = optarg; break;
        case OPT_LATENESS:
            rc = tp_cfg_parse_double(optarg, "--allowed-lateness", 0, 86400, &lateness, err, sizeof err);
            break;
        case OPT_EMIT:
            rc = tp_cfg_parse_double(optarg, "--emit-interval", 0, 3600, &emit, err, sizeof err);
            break;
        case OPT_IDLE:
            rc = tp_cfg_parse_double(optarg, "--idle-expiry", 0, 1e7, &idle, err, sizeof err);
            break;
        case OPT_FLUSH_MS:
            rc = tp_cfg_parse_i64(optarg, "--flush-interval", 1, 3600000, &flush_ms, err, sizeof err);
            break;
        case OPT_FLUSH_N:
            rc = tp_cfg_parse_i64(optarg, "--flush-max-trades", 1, 100000000, &flush_n, err, sizeof err);
            break;
        case OPT_MAX_TRADES:
            rc = tp_cfg_parse_i64(optarg, "--max-trades", 1, INT64_MAX, &max_trades, err, sizeof err);
            break;
        case OPT_DURATION:
            rc = tp_cfg_parse_double(optarg, "--duration", 0.001, 1e9, &duration, err, sizeof err);
            break;
        case OPT_PROGRESS:
            rc = tp_cfg_parse_double(optarg, "--progress-interval", 0, 86400, &progress, err, sizeof err);
            break;
        case OPT_LOG_LEVEL: rc = tp_cfg_log_level(optarg, err, sizeof err); break;
        default:
            fprintf(stderr,
                    "tickpipe process: unknown or incomplete option '%s'; see 'tickpipe process --help'\n",
                    argv[optind - 1]);
            tp_kafka_props_free(&props);
            return 2;
        }
        if (rc) {
            fprintf(stderr, "tickpipe process: %s\n", err);
            tp_kafka_props_free(&props);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "tickpipe process: unexpected argument '%s'; see 'tickpipe process --help'\n",
                argv[optind]);
        tp_kafka_props_free(&props);
        return 2;
    }
    if (tp_avro_schema_check(tp_avro_schema_json, err, sizeof err)) {
        fprintf(stderr, "tickpipe process: the built-in Avro schema is unusable: %s\n", err);
        tp_kafka_props_free(&props);
        return 1;
    }

    char brokers[1024];
    tp_cfg_brokers(f_brokers, brokers, sizeof brokers);
    const char *topic = tp_cfg_str(f_topic, "KAFKA_TOPIC_NAME", "market");
    const char *store = tp_cfg_str(f_store, "TICKPIPE_STORE", "sqlite:data/tickpipe.db");

    proc pr;
    memset(&pr, 0, sizeof pr);
    tp_batch_init(&pr.batch);
    pr.m_trades =
        tp_metrics_counter("tickpipe_consume_trades_total", NULL, "Trades decoded from Kafka records");
    pr.m_decode_errors = tp_metrics_counter("tickpipe_consume_decode_errors_total", NULL,
                                            "Kafka records that did not decode (dead-lettered and skipped)");

    tp_pipeline_config pc;
    tp_pipeline_config_default(&pc);
    pc.store_url = store;
    pc.win.allowed_lateness_ms = (int64_t)(lateness * 1000.0);
    pc.win.emit_interval_ms = (int64_t)(emit * 1000.0);
    pc.win.idle_expiry_ms = (int64_t)(idle * 1000.0);
    pc.win.external_watermark = 1;
    pc.flush_interval_ms = flush_ms;
    pc.flush_max_trades = (size_t)flush_n;
    int rc = tp_pipeline_new(&pc, &pr.pipe, err, sizeof err);
    if (rc) {
        fprintf(stderr, "tickpipe process: %s\n", err);
        tp_batch_free(&pr.batch);
        tp_kafka_props_free(&props);
        return rc == TP_EINVAL ? 2 : 1;
    }

    tp_consumer_config cc = {
        .brokers = brokers,
        .topic = topic,
        .group = group,
        .dlq_topic = dlq,
        .member_id = member_id,
        .props = &props,
        .on_revoke = on_revoke,
        .on_reset = on_reset,
        .ud = &pr,
    };
    rc = tp_consumer_new(&cc, &pr.cons, err, sizeof err);
    if (rc) {
        fprintf(stderr, "tickpipe process: %s\n", err);
        tp_pipeline_free(pr.pipe);
        tp_batch_free(&pr.batch);
        tp_kafka_props_free(&props);
        return rc == TP_EINVAL ? 2 : 1;
    }

    g_process_stop = 0;
    g_process_pipe = pr.pipe;
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    char safe_store[512];
    tp_log_redact(store, safe_store, sizeof safe_store);
    tp_info(MOD, "consuming %s from %s as group %s into %s (dead letters: %s)", topic, brokers, group,
            safe_store, *dlq ? dlq : "off");

    int64_t start = tp_now_ms(), next_progress = start + (int64_t)(progress * 1000.0);
    uint64_t last_trades = 0, last_records = 0;
    int64_t last_progress = start, last_err_log = 0;
    uint64_t suppressed = 0;
    while (!g_process_stop) {
        tp_consumer_record rec;
        rc = tp_consumer_poll(pr.cons, 100, &rec, err, sizeof err);
        if (rc == 0) {
            handle_record(&pr, &rec);
            if (max_trades && pr.trades >= (uint64_t)max_trades) g_process_stop = 1;
        } else if (rc != TP_EAGAIN) {
            int64_t t = tp_now_ms();
            if (t - last_err_log >= 5000) {
                tp_warn(MOD, "Kafka: %s%s", err, suppressed ? " (and more since the last report)" : "");
                last_err_log = t;
                suppressed = 0;
            } else {
                suppressed++;
            }
        }
        int64_t now = tp_now_ms();
        int64_t in_wm = tp_consumer_input_watermark(pr.cons);
        if (in_wm != INT64_MIN) tp_pipeline_advance(pr.pipe, in_wm);
        if (tp_pipeline_flush_due(pr.pipe, now)) {
            int frc = flush_and_commit(&pr, 0);
            if (frc == TP_ESTATE) break; /* stopped while the store was down */
        }
        if (duration > 0 && now - start >= (int64_t)(duration * 1000.0)) g_process_stop = 1;
        if (progress > 0 && now >= next_progress) {
            tp_pipeline_stats ps;
            tp_pipeline_get_stats(pr.pipe, &ps);
            tp_consumer_stats cs;
            tp_consumer_get_stats(pr.cons, &cs);
            double dt = (double)(now - last_progress) / 1000.0;
            char wm[32];
            fmt_ts(ps.watermark_ms, wm, sizeof wm);
            tp_info(MOD,
                    "%.0f trades/s, %.0f records/s; total %" PRIu64 " trades, %" PRIu64 " durable, %" PRIu64
                    " late, %" PRIu64 " bad records, %" PRIu64
                    " store errors; watermark %s; %zu pending; %zu "
                    "partitions",
                    dt > 0 ? (double)(pr.trades - last_trades) / dt : 0.0,
                    dt > 0 ? (double)(pr.records - last_records) / dt : 0.0, pr.trades, ps.rows_trades,
                    ps.late, pr.decode_errors, ps.store_errors, wm, ps.pending, cs.assigned);
            last_trades = pr.trades;
            last_records = pr.records;
            last_progress = now;
            next_progress = now + (int64_t)(progress * 1000.0);
        }
    }

    /* Drain: make everything consumed durable, commit, leave the group. */
    int exit_code = 0;
    rc = flush_and_commit(&pr, 1);
    if (rc == TP_ESTATE) {
        tp_pipeline_stats ps;
        tp_pipeline_get_stats(pr.pipe, &ps);
        tp_error(MOD,
                 "stopped with %zu trades not durable (the store is down); their offsets are not committed "
                 "and they will be processed again on the next start",
                 ps.pending);
        exit_code = 1;
    } else if (rc) {
        exit_code = rc == TP_EUNAVAIL ? 0 : 1; /* a failed offset commit only means replay on restart */
    }
    int64_t elapsed = tp_now_ms() - start;
    tp_consumer_stats cst;
    tp_consumer_get_stats(pr.cons, &cst);
    tp_consumer_close(pr.cons);
    /* From the first assignment (fetching starts there) to the last record:
     * the time spent joining the group is not processing. */
    int64_t from_us = cst.first_assign_us ? cst.first_assign_us : pr.first_us;
    double busy_s = pr.last_us > from_us ? (double)(pr.last_us - from_us) / 1e6 : 0.0;
    tp_pipeline_stats ps;
    tp_pipeline_get_stats(pr.pipe, &ps);
    int64_t p50 = tp_pipeline_latency_quantile_ms(&ps, 0.5), p99 = tp_pipeline_latency_quantile_ms(&ps, 0.99);
    tp_info(MOD,
            "summary: %" PRIu64 " records, %" PRIu64 " trades in %.3f s (%.0f trades/s from partition "
            "assignment to the last record); %" PRIu64 " durable, %" PRIu64 " late, %" PRIu64
            " skipped; %" PRIu64 " bad records; %" PRIu64 " flushes, %" PRIu64 " store errors; %" PRIu64
            " candle rows, %" PRIu64 " average rows; latency receipt->durable p50 <= %" PRId64
            " ms, p99 <= %" PRId64 " ms",
            pr.records, pr.trades, (double)elapsed / 1000.0, busy_s > 0 ? (double)pr.trades / busy_s : 0.0,
            ps.rows_trades, ps.late, ps.skipped, pr.decode_errors, ps.flushes, ps.store_errors,
            ps.rows_candles, ps.rows_averages, p50, p99);
    g_process_pipe = NULL;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    tp_pipeline_free(pr.pipe);
    tp_batch_free(&pr.batch);
    tp_kafka_props_free(&props);
    return exit_code;
}
