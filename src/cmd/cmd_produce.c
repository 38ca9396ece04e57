/* cmd_produce.c - `tickpipe produce`: Finnhub feed -> Avro -> Kafka.
 *
 * The source (feed/source.h) hands over one parsed frame at a time. Each
 * frame becomes one Kafka message per symbol in it: a FinnhubProducer
 * `message` record (type "trade") holding that symbol's trades in their
 * order in the frame, keyed by the symbol (so one symbol stays on one
 * partition, in order) and stamped with the frame's receive time; a
 * replayed frame with the time it is replayed (see send_group).
 *
 * Grouping is feed/symbol_groups.h (O(trades) per frame, no allocation
 * once grown); the Avro bytes go into one reused buffer that librdkafka
 * copies.
 *
 * Gaps: the source's gap hook (called before the batch holding the
 * symbol's first trade after the hole) sends the gap as a control record
 * (kafka/gap_record.h) keyed by the symbol, so process reads it in order
 * with the symbol's trades.
 *
 * Backpressure: when librdkafka's queue is full, tp_producer_send blocks
 * inside the source's callback, so the source stops reading; nothing is
 * dropped. Stopping (SIGINT/SIGTERM or --duration through core/shutdown.h,
 * --max-trades, end of a replay) ends the source, then the producer is
 * flushed for at most --flush-timeout seconds and the summary says how many
 * trades, if any, were not delivered. A second SIGINT/SIGTERM stops
 * waiting at once.
 *
 * --metrics: an HTTP endpoint with /metrics, /healthz (live while produce
 * runs) and /readyz (every feed connection subscribed), nothing else. */
#include "cmd/commands.h"

#include "cmd/feed_config.h"
#include "cmd/flags.h"
#include "codec/avro_trades.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/listen.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/shutdown.h"
#include "core/ticker.h"
#include "feed/source.h"
#include "feed/symbol_groups.h"
#include "http/http.h"
#include "kafka/gap_record.h"
#include "kafka/headers.h"
#include "kafka/producer.h"
#include "kafka/trade_ids.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct produce_state {
    tp_producer *prod;
    tp_source *src;
    tp_buf buf;
    tp_buf ids; /* a record's venue trade ids, the tp-trade-ids header */
    tp_symbol_groups groups;
    uint64_t max_trades, taken;
    uint64_t unsent_trades, unsent_messages; /* never queued (stop while the queue was full, fatal) */
    int failed;                              /* a send failed for good: stop */
    int replay;                              /* frames come from a recording */
    uint64_t gaps_sent, gaps_unsent;
    const char *dlq;               /* --dlq-topic; "" = none */
    tp_buf dlq_buf;                /* a rejected trade's record */
    uint64_t dlq_sent, dlq_unsent; /* rejected trades copied / not */
    char err[512];
    tp_producer_stats prev; /* progress: the last line's counters */
    int64_t prev_us;
} produce_state;

/* Encode and queue group g; 0, or the error that stops the frame. */
static int send_group(produce_state *st, const tp_batch *b, size_t g) {
    const uint32_t *idx = st->groups.order + st->groups.start[g];
    uint32_t cnt = st->groups.count[g];
    const tp_str sym = b->trades[idx[0]].symbol;
    tp_buf_reset(&st->buf);
    int rc = tp_avro_encode(b->trades, idx, cnt, "trade", &st->buf);
    if (rc) {
        snprintf(st->err, sizeof st->err, "cannot encode %u trade(s) of %.*s as Avro: %s", cnt, (int)sym.len,
                 sym.ptr, tp_strerror(rc));
        return rc;
    }
    /* the venue's trade ids travel beside the Avro value (kafka/trade_ids.h) */
    tp_buf_reset(&st->ids);
    int have_ids = tp_trade_ids_encode(b->trades, idx, cnt, &st->ids);
    if (have_ids < 0) {
        snprintf(st->err, sizeof st->err, "out of memory writing the trade ids of %.*s", (int)sym.len,
                 sym.ptr);
        return have_ids;
    }
    tp_producer_header h[2];
    size_t nh = 0;
    char recv[24];
    /* A replay writes new records now: stamped with the recorded receive
     * time, they would be as old as the recording, and the broker ages its
     * idempotent-producer state (producer.id.expiration.ms, 1 day) and its
     * retention by record timestamps, so a recording older than a day
     * would lose its duplicate protection at the next broker restart.
     * So 0 (librdkafka's clock, now), and the recorded receive time
     * travels in a header, for process's door (core/trade_check.h). */
    if (st->replay) {
        int n = snprintf(recv, sizeof recv, "%lld", (long long)b->recv_ms);
        h[nh++] = (tp_producer_header){TP_RECV_HEADER, recv, (size_t)n};
    }
    if (have_ids) h[nh++] = (tp_producer_header){TP_TRADE_IDS_HEADER, st->ids.p, st->ids.len};
    if (nh)
        return tp_producer_send_headers(st->prod, sym.ptr, sym.len, st->buf.p, st->buf.len,
                                        st->replay ? 0 : b->recv_ms, cnt, h, nh, st->err, sizeof st->err);
    return tp_producer_send(st->prod, sym.ptr, sym.len, st->buf.p, st->buf.len, b->recv_ms, cnt, st->err,
                            sizeof st->err);
}

/* The source's door hook: a rejected trade goes to the dead-letter topic
 * as one Avro record (trades.avsc) with the reason in headers. */
static void on_reject(void *ud, const tp_trade *t, tp_reject why, int64_t recv_ms) {
    produce_state *st = ud;
    if (!*st->dlq || st->failed) return;
    uint32_t idx = 0;
    tp_buf_reset(&st->dlq_buf);
    char err[512], recv[24], reason[200];
    int rc = tp_avro_encode(t, &idx, 1, "trade", &st->dlq_buf);
    if (!rc) {
        int n = snprintf(recv, sizeof recv, "%lld", (long long)recv_ms);
        const char *name = tp_reject_name(why);
        int rn = snprintf(reason, sizeof reason, "trade checks: %s: %s", name, tp_reject_text(why));
        tp_producer_header h[3] = {{TP_ERROR_HEADER, reason, (size_t)rn},
                                   {TP_REJECT_HEADER, name, strlen(name)},
                                   {TP_RECV_HEADER, recv, (size_t)n}};
        size_t keylen = t->symbol.len > 256 ? 256 : t->symbol.len;
        rc = tp_producer_send_side(st->prod, st->dlq, t->symbol.ptr, keylen, st->dlq_buf.p, st->dlq_buf.len,
                                   h, 3, err, sizeof err);
    } else {
        snprintf(err, sizeof err, "cannot encode it: %s", tp_strerror(rc));
    }
    if (rc) {
        if (st->dlq_unsent++ < 10)
            tp_warn("produce", "a rejected trade was not copied to the dead-letter topic %s: %s", st->dlq,
                    err);
        return;
    }
    st->dlq_sent++;
}

/* The source's gap hook (its thread): the gap as a control record. A gap
 * that cannot be queued is logged and counted; the trades go on. */
static void on_gap(void *ud, const tp_feed_gap *g) {
    produce_state *st = ud;
    if (st->failed) return;
    tp_gap_record_buf hb;
    tp_gap_header gh[TP_GAP_RECORD_NHEADERS + TP_GAP_RECORD_NID_HEADERS];
    tp_gap_record_headers(g, &hb, gh);
    size_t ngh = TP_GAP_RECORD_NHEADERS + tp_gap_record_id_headers(g, &hb, gh + TP_GAP_RECORD_NHEADERS);
    tp_producer_header ph[TP_GAP_RECORD_NHEADERS + TP_GAP_RECORD_NID_HEADERS];
    for (size_t i = 0; i < ngh; i++)
        ph[i] = (tp_producer_header){gh[i].name, gh[i].value, strlen(gh[i].value)};
    tp_buf_reset(&st->buf);
    char err[512];
    int rc = tp_avro_encode(NULL, NULL, 0, TP_GAP_RECORD_TYPE, &st->buf);
    if (!rc)
        rc = tp_producer_send_headers(st->prod, g->symbol, strlen(g->symbol), st->buf.p, st->buf.len,
                                      st->replay ? 0 : g->detected_at_ms, 0, ph, ngh, err,
                                      sizeof err); /* a replay: stamped now, as in send_group */
    else
        snprintf(err, sizeof err, "%s", tp_strerror(rc));
    if (rc) {
        st->gaps_unsent++;
        tp_warn("produce", "the gap in %s (%lld..%lld ms) is not on Kafka: %s", g->symbol,
                (long long)g->from_ms, (long long)g->to_ms, err);
        return;
    }
    st->gaps_sent++;
}

static int on_batch(void *ud, tp_batch *b) {
    produce_state *st = ud;
    size_t n = b->n;
    if (st->max_trades && st->taken + n > st->max_trades) n = (size_t)(st->max_trades - st->taken);
    if (n == 0) return st->max_trades && st->taken >= st->max_trades;
    if (tp_symbol_groups_build(&st->groups, b->trades, n)) {
        snprintf(st->err, sizeof st->err, "out of memory grouping a frame of %zu trades", n);
        st->failed = 1;
        st->unsent_trades += n;
        return 1;
    }
    size_t ng = st->groups.n;
    for (size_t g = 0; g < ng; g++) {
        int rc = send_group(st, b, g);
        if (rc == TP_EINVAL) {
            /* This one message can never be delivered (too large): say so, keep going. */
            tp_error("produce", "%s; %u trade(s) skipped", st->err, st->groups.count[g]);
            st->unsent_trades += st->groups.count[g];
            st->unsent_messages++;
        } else if (rc) {
            for (size_t k = g; k < ng; k++) st->unsent_trades += st->groups.count[k];
            st->unsent_messages += ng - g;
            if (rc != TP_EAGAIN) st->failed = 1;
            st->taken += n;
            return 1;
        }
    }
    st->taken += n;
    return st->max_trades && st->taken >= st->max_trades;
}

/* On the ticker's thread: only counters that may be read from anywhere. */
static void progress_line(void *ud) {
    produce_state *st = ud;
    tp_producer_stats s;
    tp_producer_get_stats(st->prod, &s);
    tp_source_stats ss;
    tp_source_get_stats(st->src, &ss);
    int64_t now = tp_mono_us();
    double dt = (double)(now - st->prev_us) / 1e6;
    if (dt <= 0) dt = 1e-9;
    tp_info("produce",
            "trades/s=%.0f messages/s=%.0f queue=%d queue_full_waits=%llu delivered_trades=%llu "
            "failed_trades=%llu feed_errors=%llu malformed=%llu reconnects=%llu",
            (double)(s.trades - st->prev.trades) / dt, (double)(s.messages - st->prev.messages) / dt,
            tp_producer_queue_depth(st->prod), (unsigned long long)s.queue_full,
            (unsigned long long)s.delivered_trades, (unsigned long long)s.failed_trades,
            (unsigned long long)(ss.errors + ss.oversize), (unsigned long long)ss.malformed,
            (unsigned long long)ss.reconnects);
    st->prev = s;
    st->prev_us = now;
}

/* What was not delivered, and the summary line; returns the exit status. */
static int report(produce_state *st, int status, double flush_s, uint64_t left_msgs, uint64_t left_trades,
                  double secs) {
    tp_producer_stats ps;
    tp_producer_get_stats(st->prod, &ps);
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
    tp_source_get_stats(st->src, &ss);
    uint64_t rejected = 0;
    for (int i = 1; i < TP_REJECT_N; i++) rejected += ss.rejected[i];
    if (rejected) {
        char by[256];
        tp_rejects_format_counts(ss.rejected, by, sizeof by);
        fprintf(stderr,
                "rejected at the door (not sent as trades): %s; %llu copied to the dead-letter topic%s%s\n",
                by, (unsigned long long)st->dlq_sent, *st->dlq ? " " : "", st->dlq);
    }
    fprintf(stderr,
            "summary: trades=%llu messages=%llu bytes=%llu accepted_trades=%llu delivered_trades=%llu "
            "delivered_messages=%llu failed_trades=%llu undelivered_trades=%llu queue_full_waits=%llu "
            "feed_trades=%llu frames=%llu pings=%llu errors=%llu malformed=%llu reconnects=%llu unknown=%llu "
            "oversize=%llu duplicates=%llu gaps=%llu gap_records=%llu rejected=%llu dead_letters=%llu "
            "seconds=%.3f "
            "trades_per_s=%.0f handovers=%llu\n",
            (unsigned long long)ps.trades, (unsigned long long)ps.messages, (unsigned long long)ps.bytes,
            (unsigned long long)st->taken, (unsigned long long)ps.delivered_trades,
            (unsigned long long)ps.delivered_messages, (unsigned long long)ps.failed_trades,
            (unsigned long long)(left_trades + st->unsent_trades), (unsigned long long)ps.queue_full,
            (unsigned long long)ss.trades, (unsigned long long)ss.frames, (unsigned long long)ss.pings,
            (unsigned long long)ss.errors, (unsigned long long)ss.malformed,
            (unsigned long long)ss.reconnects, (unsigned long long)ss.unknown,
            (unsigned long long)ss.oversize, (unsigned long long)ss.duplicates, (unsigned long long)ss.gaps,
            (unsigned long long)st->gaps_sent, (unsigned long long)rejected, (unsigned long long)st->dlq_sent,
            secs, secs > 0 ? (double)ps.delivered_trades / secs : 0.0, (unsigned long long)ss.handovers);
    return status;
}

static void on_drain(void *ud) {
    produce_state *st = ud;
    tp_source_stop(st->src);
    tp_producer_interrupt(st->prod);
}

static void on_give_up(void *ud) {
    tp_producer_interrupt(((produce_state *)ud)->prod);
}

/* Read the feed until it stops, flush, report. */
static int stream(produce_state *st, tp_shutdown *sd, const tp_producer_flags *pf, int64_t progress_ms) {
    tp_shutdown_ops ops = {.drain = on_drain, .give_up = on_give_up, .ud = st};
    tp_shutdown_arm(sd, &ops);
    tp_ticker tk;
    st->prev_us = tp_mono_us();
    tp_ticker_start(&tk, progress_ms, progress_line, st);
    int64_t t0 = tp_mono_us();
    char rerr[512] = "";
    int run_rc = tp_source_run(st->src, rerr, sizeof rerr);
    tp_producer_stats ps;
    tp_producer_get_stats(st->prod, &ps);
    if (ps.messages > ps.delivered_messages + ps.failed_messages)
        tp_info("produce", "flushing %llu message(s) (at most %.0f s)",
                (unsigned long long)(ps.messages - ps.delivered_messages - ps.failed_messages),
                (double)pf->flush_ms / 1000.0);
    uint64_t left_msgs = 0, left_trades = 0;
    tp_producer_flush(st->prod, (int)pf->flush_ms, &left_msgs, &left_trades);
    tp_ticker_stop(&tk);
    tp_shutdown_arm(sd, NULL);
    int status = 0;
    if (run_rc) status = tp_cmd_fail(&tp_spec_produce, "%s", rerr);
    if (st->failed) status = tp_cmd_fail(&tp_spec_produce, "%s", st->err);
    return report(st, status, (double)pf->flush_ms / 1000.0, left_msgs, left_trades,
                  (double)(tp_mono_us() - t0) / 1e6);
}

/* /readyz (HTTP thread): every feed connection subscribed; a replay is
 * ready from the start. */
static int produce_ready(void *ud, char *out, size_t outlen) {
    const produce_state *st = ud;
    double connected = 0, connections = 0;
    if (st->replay) return snprintf(out, outlen, "{\"status\":\"ready\"}"), 0;
    if (tp_metrics_value("tickpipe_ingest_connected", NULL, &connected) == 0 &&
        tp_metrics_value("tickpipe_ingest_connections", NULL, &connections) == 0 && connections > 0 &&
        connected >= connections)
        return snprintf(out, outlen, "{\"status\":\"ready\"}"), 0;
    snprintf(out, outlen, "{\"status\":\"not ready\",\"feed\":\"%.0f of %.0f connections subscribed\"}",
             connected, connections);
    return 1;
}

static int open_producer(tp_kafka_flags *kf, const tp_producer_flags *pf, tp_producer **prod) {
    char brokers[1024], err[600];
    tp_cfg_brokers(kf->brokers, brokers, sizeof brokers);
    tp_producer_config pc;
    tp_producer_config_default(&pc);
    pc.brokers = brokers;
    pc.topic = kf->topic;
    pc.compression = pf->compression;
    pc.linger_ms = (int)pf->linger_ms;
    pc.props = &kf->props;
    pc.connect_timeout_ms = (int)pf->connect_ms;
    pc.create_topic = pf->create_topic;
    pc.partitions = (int)pf->partitions;
    pc.replication_factor = (int)pf->rf;
    pc.min_insync_replicas = (int)pf->min_isr;
    pc.drain_timeout_ms = (int)pf->flush_ms;
    tp_info("produce", "connecting to Kafka at %s, topic %s", brokers, pc.topic);
    int rc = tp_producer_new(&pc, prod, err, sizeof err);
    if (rc)
        return rc == TP_EINVAL ? tp_cmd_usage_error(&tp_spec_produce, "%s", err)
                               : tp_cmd_fail(&tp_spec_produce, "%s", err);
    return -1;
}

/* --metrics: -1 and *out (NULL when off), or the exit status. */
static int start_http(const tp_producer_flags *pf, produce_state *st, tp_http **out) {
    *out = NULL;
    if (!pf->metrics || !*pf->metrics) return -1;
    tp_http_config hcfg;
    tp_http_config_default(&hcfg);
    hcfg.listen = pf->metrics;
    hcfg.store_url = NULL;
    hcfg.metrics_only = 1;
    hcfg.ready = produce_ready;
    hcfg.ready_ud = st;
    char err[512];
    if (tp_http_start(&hcfg, out, err, sizeof err))
        return tp_cmd_usage_error(&tp_spec_produce, "--metrics: %s", err);
    char url[300];
    tp_listen_url("http", pf->metrics, tp_http_port(*out), url, sizeof url);
    fprintf(stderr, "tickpipe: metrics at %s/metrics\n", url);
    return -1;
}

static int produce_main(tp_source_config *cfg, tp_kafka_flags *kf, const tp_producer_flags *pf,
                        const tp_stop_flags *stop, int64_t progress_ms) {
    char err[600];
    if (tp_avro_schema_check(tp_avro_schema_json, err, sizeof err))
        return tp_cmd_fail(&tp_spec_produce, "the built-in Avro schema is not usable: %s", err);
    produce_state *st = calloc(1, sizeof *st);
    tp_shutdown *sd = NULL;
    if (!st) return tp_cmd_fail(&tp_spec_produce, "out of memory");
    tp_symbol_groups_init(&st->groups);
    st->max_trades = (uint64_t)stop->max_trades;
    st->replay = cfg->replay_path != NULL;
    st->dlq = pf->dlq ? pf->dlq : "";
    int status = tp_shutdown_start(stop->duration_ms, &sd, err, sizeof err)
                     ? tp_cmd_fail(&tp_spec_produce, "%s", err)
                     : open_producer(kf, pf, &st->prod);
    if (status < 0 && tp_source_new(cfg, on_batch, st, &st->src, err, sizeof err))
        status = tp_cmd_usage_error(&tp_spec_produce, "%s", err);
    if (status < 0) tp_source_set_gap_hook(st->src, on_gap, st);
    tp_http *http = NULL;
    if (status < 0) status = start_http(pf, st, &http);
    if (status < 0) tp_source_set_reject_hook(st->src, on_reject, st);
    if (status < 0) status = stream(st, sd, pf, progress_ms);
    tp_http_stop(http);
    tp_shutdown_end(sd);
    if (st->src) tp_source_free(st->src);
    if (st->prod) tp_producer_free(st->prod);
    tp_buf_free(&st->buf);
    tp_buf_free(&st->ids);
    tp_buf_free(&st->dlq_buf);
    tp_symbol_groups_free(&st->groups);
    free(st);
    return status;
}

int tp_cmd_produce(tp_cmd_args *a, int argc, char **argv, int first_arg) {
    tp_source_config cfg;
    tp_symbols syms = {0};
    int status = tp_feed_config(&tp_spec_produce, &a->api, &a->feed, &a->checks,
                                TP_FEED_NEED_TOKEN | TP_FEED_NEED_SYMBOLS, &cfg, &syms);
    if (status < 0) status = produce_main(&cfg, &a->kafka, &a->producer, &a->stop, a->progress.interval_ms);
    tp_symbols_free(&syms);
    return status;
}
