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
 * The first SIGINT/SIGTERM (or --duration) ends the loop and the last unit
 * is flushed and committed (exit 0); a second one stops retrying a store
 * that is down (exit 1: those offsets stay uncommitted). */
#include "cmd/commands.h"

#include "codec/avro_trades.h"
#include "cmd/flags.h"
#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/shutdown.h"
#include "kafka/consumer.h"
#include "process/pipeline.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MOD "process"

typedef struct consumer_flags {
    const char *group, *dlq, *member_id;
} consumer_flags;

static const tp_opt k_consumer[] = {
    {.name = "group",
     .arg = "ID",
     .def = "tickpipe-processor",
     .help = "consumer group; processes with the same group split the partitions",
     .type = TP_OPT_STR,
     .off = offsetof(consumer_flags, group),
     .min = 1},
    {.name = "dlq-topic",
     .arg = "NAME",
     .def = "market.dlq",
     .help = "dead-letter topic for records that do not decode; \"\" = log and skip only",
     .type = TP_OPT_STR,
     .off = offsetof(consumer_flags, dlq)},
    {.name = "member-id",
     .arg = "ID",
     .env = "TICKPIPE_MEMBER_ID",
     .def_doc = "none",
     .help = "static membership (group.instance.id; \"host\" = the host name; none = dynamic): a member "
             "restarted under its id gets its partitions back at once, without a rebalance; unique per "
             "live member",
     .type = TP_OPT_STR,
     .off = offsetof(consumer_flags, member_id)},
    {0},
};
static const tp_opt_group k_consumer_group = {"consumer", "Consumer group", k_consumer};

const tp_cmd_spec tp_spec_process = {
    .name = "process",
    .synopsis = "[OPTIONS]",
    .about = "Consume Avro trade messages from Kafka in a consumer group, compute event-time\n"
             "windows (15 s running averages sliding by 5 s, 1 s and 1 min candles) and write\n"
             "trades and windows to a store. Offsets are committed only after the store has\n"
             "made the rows durable; a restart or rebalance resumes from them and rebuilds the\n"
             "open windows, so every trade is stored exactly once and no window is counted\n"
             "twice. Start more processes with the same --group to split the partitions.\n"
             "SIGINT/SIGTERM drain, flush, commit and exit 0; a second signal gives up on a\n"
             "store that is down.\n",
    .epilog = "Kafka security from the environment (applied before -X, so a password need not be\n"
              "on the command line): KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_MECHANISM,\n"
              "KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD, KAFKA_SSL_CA_LOCATION.\n"
              "\n"
              "Exit status: 0 after a clean stop (everything consumed is durable and committed),\n"
              "1 on a fatal error or when stopped while the store was down, 2 on a usage error.\n"
              "\n"
              "Example:\n"
              "  tickpipe process --brokers 127.0.0.1:9092 --topic market --store sqlite:data/tickpipe.db\n",
    .groups = {&tp_flags_kafka, &k_consumer_group, &tp_flags_store, &tp_flags_windows, &tp_flags_stop,
               &tp_flags_progress, &tp_flags_log},
};

typedef struct proc {
    tp_pipeline *pipe;
    tp_consumer *cons;
    tp_batch batch;
    uint64_t records, trades, decode_errors, commit_errors;
    int64_t first_us, last_us; /* monotonic times of the first and latest record */
    int64_t start_us;
    tp_counter *m_trades, *m_decode_errors;
    _Atomic int stop;
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
        atomic_store(&pr->stop, 1);
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

/* Every --progress-interval: rates since the last line and totals. */
typedef struct progress {
    int64_t interval_us, next_us, last_us;
    uint64_t last_trades, last_records;
} progress;

static void progress_line(proc *pr, progress *pg, int64_t now_us) {
    tp_pipeline_stats ps;
    tp_pipeline_get_stats(pr->pipe, &ps);
    tp_consumer_stats cs;
    tp_consumer_get_stats(pr->cons, &cs);
    double dt = (double)(now_us - pg->last_us) / 1e6;
    char wm[32];
    fmt_ts(ps.watermark_ms, wm, sizeof wm);
    tp_info(MOD,
            "%.0f trades/s, %.0f records/s; total %" PRIu64 " trades, %" PRIu64 " durable, %" PRIu64
            " late, %" PRIu64 " bad records, %" PRIu64 " store errors; watermark %s; %zu pending; %zu "
            "partitions",
            dt > 0 ? (double)(pr->trades - pg->last_trades) / dt : 0.0,
            dt > 0 ? (double)(pr->records - pg->last_records) / dt : 0.0, pr->trades, ps.rows_trades, ps.late,
            pr->decode_errors, ps.store_errors, wm, ps.pending, cs.assigned);
    pg->last_trades = pr->trades;
    pg->last_records = pr->records;
    pg->last_us = now_us;
    pg->next_us = now_us + pg->interval_us;
}

/* Poll, add, flush when due, until a drain is asked for. */
static void consume_loop(proc *pr, int64_t max_trades, int64_t progress_ms) {
    progress pg = {.interval_us = progress_ms * 1000, .last_us = pr->start_us};
    pg.next_us = pr->start_us + pg.interval_us;
    int64_t last_err_us = INT64_MIN / 2;
    uint64_t suppressed = 0;
    char err[512];
    while (!atomic_load(&pr->stop)) {
        tp_consumer_record rec;
        int rc = tp_consumer_poll(pr->cons, 100, &rec, err, sizeof err);
        if (rc == 0) {
            handle_record(pr, &rec);
            if (max_trades && pr->trades >= (uint64_t)max_trades) atomic_store(&pr->stop, 1);
        } else if (rc != TP_EAGAIN) {
            if (tp_mono_us() - last_err_us >= 5000000) { /* one line per 5 s while Kafka is failing */
                tp_warn(MOD, "Kafka: %s%s", err, suppressed ? " (and more since the last report)" : "");
                last_err_us = tp_mono_us();
                suppressed = 0;
            } else {
                suppressed++;
            }
        }
        int64_t in_wm = tp_consumer_input_watermark(pr->cons);
        if (in_wm != INT64_MIN) tp_pipeline_advance(pr->pipe, in_wm);
        if (tp_pipeline_flush_due(pr->pipe, tp_now_ms()) && flush_and_commit(pr, 0) == TP_ESTATE)
            break; /* stopped while the store was down */
        int64_t now = tp_mono_us();
        if (progress_ms > 0 && now >= pg.next_us) progress_line(pr, &pg, now);
    }
}

/* Drain: make everything consumed durable, commit, leave the group. */
static int drain(proc *pr) {
    int rc = flush_and_commit(pr, 1);
    if (rc == TP_ESTATE) {
        tp_pipeline_stats ps;
        tp_pipeline_get_stats(pr->pipe, &ps);
        tp_error(MOD,
                 "stopped with %zu trades not durable (the store is down); their offsets are not committed "
                 "and they will be processed again on the next start",
                 ps.pending);
        return 1;
    }
    if (rc) return rc == TP_EUNAVAIL ? 0 : 1; /* a failed offset commit only means replay on restart */
    return 0;
}

static void summary(proc *pr) {
    tp_consumer_stats cst;
    tp_consumer_get_stats(pr->cons, &cst);
    /* From the first assignment (fetching starts there) to the last record:
     * the time spent joining the group is not processing. */
    int64_t from_us = cst.first_assign_us ? cst.first_assign_us : pr->first_us;
    double busy_s = pr->last_us > from_us ? (double)(pr->last_us - from_us) / 1e6 : 0.0;
    double elapsed = (double)(tp_mono_us() - pr->start_us) / 1e6;
    tp_pipeline_stats ps;
    tp_pipeline_get_stats(pr->pipe, &ps);
    int64_t p50 = tp_pipeline_latency_quantile_ms(&ps, 0.5), p99 = tp_pipeline_latency_quantile_ms(&ps, 0.99);
    tp_info(MOD,
            "summary: %" PRIu64 " records, %" PRIu64 " trades in %.3f s (%.0f trades/s from partition "
            "assignment to the last record); %" PRIu64 " durable, %" PRIu64 " late, %" PRIu64
            " skipped; %" PRIu64 " bad records; %" PRIu64 " flushes, %" PRIu64 " store errors; %" PRIu64
            " candle rows, %" PRIu64 " average rows; latency receipt->durable p50 <= %" PRId64
            " ms, p99 <= %" PRId64 " ms",
            pr->records, pr->trades, elapsed, busy_s > 0 ? (double)pr->trades / busy_s : 0.0, ps.rows_trades,
            ps.late, ps.skipped, pr->decode_errors, ps.flushes, ps.store_errors, ps.rows_candles,
            ps.rows_averages, p50, p99);
}

static void on_drain(void *ud) {
    atomic_store(&((proc *)ud)->stop, 1);
}

static void on_give_up(void *ud) {
    tp_pipeline_stop(((proc *)ud)->pipe);
}

/* The pipeline and the consumer; an exit status on failure, else -1. */
static int open_stages(proc *pr, const tp_kafka_flags *kf, const consumer_flags *cf, const tp_store_flags *sf,
                       const tp_windows_flags *wf, const char *brokers) {
    char err[512];
    tp_pipeline_config pc;
    tp_pipeline_config_default(&pc);
    pc.store_url = sf->store;
    pc.win.allowed_lateness_ms = wf->allowed_lateness_ms;
    pc.win.emit_interval_ms = wf->emit_interval_ms;
    pc.win.idle_expiry_ms = wf->idle_expiry_ms;
    pc.win.external_watermark = 1;
    pc.flush_interval_ms = wf->flush_interval_ms;
    pc.flush_max_trades = (size_t)wf->flush_max_trades;
    pc.rebuild = TP_REBUILD_LAZY; /* only the symbols of the partitions this member gets */
    pc.dedupe_rebuilt = 1;        /* re-delivered records hold trades the store has */
    int rc = tp_pipeline_new(&pc, &pr->pipe, err, sizeof err);
    if (rc)
        return rc == TP_EINVAL ? tp_cmd_usage_error(&tp_spec_process, "%s", err)
                               : tp_cmd_fail(&tp_spec_process, "%s", err);
    tp_consumer_config cc = {
        .brokers = brokers,
        .topic = kf->topic,
        .group = cf->group,
        .dlq_topic = cf->dlq,
        .member_id = cf->member_id,
        .props = &kf->props,
        .on_revoke = on_revoke,
        .on_reset = on_reset,
        .ud = pr,
    };
    rc = tp_consumer_new(&cc, &pr->cons, err, sizeof err);
    if (rc)
        return rc == TP_EINVAL ? tp_cmd_usage_error(&tp_spec_process, "%s", err)
                               : tp_cmd_fail(&tp_spec_process, "%s", err);
    return -1;
}

static int process_main(proc *pr, tp_kafka_flags *kf, const consumer_flags *cf, const tp_store_flags *sf,
                        const tp_windows_flags *wf, const tp_stop_flags *stop, const tp_progress_flags *pg) {
    char err[512], brokers[1024];
    if (tp_avro_schema_check(tp_avro_schema_json, err, sizeof err))
        return tp_cmd_fail(&tp_spec_process, "the built-in Avro schema is unusable: %s", err);
    tp_cfg_brokers(kf->brokers, brokers, sizeof brokers);
    tp_shutdown *sd = NULL;
    if (tp_shutdown_start(stop->duration_ms, &sd, err, sizeof err))
        return tp_cmd_fail(&tp_spec_process, "%s", err);
    int status = open_stages(pr, kf, cf, sf, wf, brokers);
    if (status < 0) {
        tp_shutdown_ops ops = {.drain = on_drain, .give_up = on_give_up, .ud = pr};
        tp_shutdown_arm(sd, &ops);
        char safe_store[512];
        tp_log_redact(sf->store, safe_store, sizeof safe_store);
        tp_info(MOD, "consuming %s from %s as group %s into %s (dead letters: %s)", kf->topic, brokers,
                cf->group, safe_store, *cf->dlq ? cf->dlq : "off");
        pr->start_us = tp_mono_us();
        consume_loop(pr, stop->max_trades, pg->interval_ms);
        status = drain(pr);
        tp_consumer_close(pr->cons);
        summary(pr);
    }
    tp_shutdown_end(sd);
    return status;
}

int tp_cmd_process(int argc, char **argv) {
    tp_kafka_flags kf = {0};
    consumer_flags cf;
    tp_store_flags sf;
    tp_windows_flags wf;
    tp_stop_flags stop;
    tp_progress_flags pg;
    tp_log_flags lg;
    void *const vals[] = {&kf, &cf, &sf, &wf, &stop, &pg, &lg};
    int status = tp_cmd_parse(&tp_spec_process, vals, argc, argv, NULL);
    if (status < 0) {
        proc pr;
        memset(&pr, 0, sizeof pr);
        tp_batch_init(&pr.batch);
        pr.m_trades =
            tp_metrics_counter("tickpipe_consume_trades_total", NULL, "Trades decoded from Kafka records");
        pr.m_decode_errors =
            tp_metrics_counter("tickpipe_consume_decode_errors_total", NULL,
                               "Kafka records that did not decode (dead-lettered and skipped)");
        status = process_main(&pr, &kf, &cf, &sf, &wf, &stop, &pg);
        if (pr.pipe) tp_pipeline_free(pr.pipe);
        tp_batch_free(&pr.batch);
    }
    tp_kafka_props_free(&kf.props);
    return status;
}
