/* consume.c - see consume.h. */
#include "process/consume.h"

#include "codec/avro_trades.h"
#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "kafka/gap_record.h"
#include "kafka/headers.h"
#include "kafka/trade_ids.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MOD "process"

void tp_consume_init(tp_consume *c) {
    memset(c, 0, sizeof *c);
    tp_batch_init(&c->batch);
    c->m_trades =
        tp_metrics_counter("tickpipe_consume_trades_total", NULL, "Trades decoded from Kafka records");
    c->m_decode_errors = tp_metrics_counter("tickpipe_consume_decode_errors_total", NULL,
                                            "Kafka records that did not decode (dead-lettered and skipped)");
    c->m_gaps = tp_metrics_counter("tickpipe_consume_gaps_total", NULL,
                                   "Feed-gap control records read from Kafka (stored, not trades)");
    tp_trade_limits_default(&c->limits);
    tp_rejects_init(&c->rejects, "process");
}

void tp_consume_free(tp_consume *c) {
    tp_batch_free(&c->batch);
    free(c->keep);
}

/* The record's receive time: the tp-recv-ms header of a replayed record,
 * else its timestamp, else now. */
static int64_t record_recv_ms(tp_consumer_record *rec) {
    const void *v;
    size_t len;
    if (!tp_consumer_record_header(rec, TP_RECV_HEADER, &v, &len) && len > 0 && len < 21) {
        char buf[24];
        memcpy(buf, v, len);
        buf[len] = '\0';
        char *end;
        long long ms = strtoll(buf, &end, 10);
        if (*end == '\0' && end != buf) return ms;
    }
    return rec->timestamp_ms >= 0 ? rec->timestamp_ms : tp_now_ms();
}

/* The door: mark each trade of b kept or not; returns how many were
 * rejected (then reason names them) or -1 on out of memory. */
static long check_record(tp_consume *pr, tp_consumer_record *rec, char *reason, size_t rlen) {
    tp_batch *b = &pr->batch;
    if (b->n > pr->keep_cap) {
        unsigned char *k = realloc(pr->keep, b->n);
        if (!k) return -1;
        pr->keep = k;
        pr->keep_cap = b->n;
    }
    int64_t recv = record_recv_ms(rec);
    long nbad = 0;
    size_t off = (size_t)snprintf(reason, rlen, "trade checks:");
    char where[300];
    tp_symbol_cache seen = {0}; /* a record holds one symbol */
    for (size_t i = 0; i < b->n; i++) {
        const tp_trade *t = &b->trades[i];
        tp_reject why = tp_symbol_cache_check(&seen, t, recv, &pr->limits, NULL, NULL);
        pr->keep[i] = why == TP_REJECT_NONE;
        if (!why) continue;
        snprintf(where, sizeof where, "%s [%d] offset %" PRId64 " trade %zu", rec->topic, rec->partition,
                 rec->offset, i);
        tp_rejects_note(&pr->rejects, why, &b->trades[i], recv, where);
        if (off < rlen)
            off += (size_t)snprintf(reason + off, rlen - off, "%s trade %zu: %s", nbad ? ";" : "", i,
                                    tp_reject_name(why));
        nbad++;
    }
    return nbad;
}

int tp_consume_on_revoke(void *ud, int64_t *open_since) {
    tp_consume *pr = ud;
    tp_pipeline_advance(pr->pipe, tp_consumer_input_watermark(pr->cons));
    int rc = tp_pipeline_flush(pr->pipe, 1);
    *open_since = tp_pipeline_open_since(pr->pipe);
    return rc;
}

void tp_consume_on_reset(void *ud) {
    tp_consume *pr = ud;
    if (tp_pipeline_reset_windows(pr->pipe))
        tp_warn(MOD, "window state kept: rows are still pending (the store did not take them)");
}

/* Flush and, when durable, commit. Returns 0 or the flush/commit error. */
int tp_consume_flush_commit(tp_consume *pr, int force) {
    int64_t in_wm = tp_consumer_input_watermark(pr->cons);
    if (in_wm != INT64_MIN) tp_pipeline_advance(pr->pipe, in_wm);
    int rc = tp_pipeline_flush(pr->pipe, force);
    if (rc) return rc;
    /* a crash re-reads a little more, which the restart rebuild dedupes */
    int64_t now = tp_now_ms();
    if (!force && now - pr->last_offsets_ms < pr->offsets_interval_ms) return 0;
    pr->last_offsets_ms = now;
    char err[512];
    rc = tp_consumer_commit(pr->cons, tp_pipeline_open_since(pr->pipe), err, sizeof err);
    if (rc) {
        pr->commit_errors++;
        tp_warn(MOD, "%s (rows are durable; the commit is retried with the next flush)", err);
    }
    return rc;
}

static int header_of(void *ud, const char *name, const void **val, size_t *len) {
    return tp_consumer_record_header(ud, name, val, len);
}

/* The record goes to the dead letters with the reason "label: err". */
static void dead_letter(tp_consume *pr, tp_consumer_record *rec, const char *what, const char *label,
                        const char *err) {
    pr->decode_errors++;
    tp_counter_add(pr->m_decode_errors, 1);
    char sample[100];
    tp_log_sample(rec->payload, rec->len, 32, sample, sizeof sample);
    tp_warn(MOD,
            "record %s [%d] offset %" PRId64 " (%zu bytes) %s: %s; copied to the "
            "dead-letter topic and skipped (first bytes: %s)",
            rec->topic, rec->partition, rec->offset, rec->len, what, err, sample);
    char reason[300];
    snprintf(reason, sizeof reason, "%s: %s", label, err);
    tp_consumer_dlq(pr->cons, rec, reason);
    tp_consumer_done(pr->cons, rec, INT64_MIN);
}

/* A gap control record: its headers say which gap; no trades. */
static void take_gap(tp_consume *pr, tp_consumer_record *rec) {
    tp_gap_row row;
    char sym[TP_GAP_RECORD_MAX_SYMBOL + 1], err[256];
    if (tp_gap_record_parse(header_of, rec, &row, sym, err, sizeof err)) {
        dead_letter(pr, rec, "is a gap record without a valid gap", "gap record", err);
        return;
    }
    if (tp_pipeline_add_gap(pr->pipe, &row)) {
        tp_error(MOD, "out of memory adding a gap");
        pr->failed = 1;
    }
    pr->gaps++;
    tp_counter_add(pr->m_gaps, 1);
    tp_consumer_done(pr->cons, rec, INT64_MIN);
}

void tp_consume_record(tp_consume *pr, tp_consumer_record *rec) {
    tp_batch *b = &pr->batch;
    tp_batch_reset(b);
    char type[32], err[256];
    pr->records++;
    pr->last_us = tp_mono_us();
    if (!pr->first_us) pr->first_us = pr->last_us;
    int rc = tp_avro_decode(rec->payload, rec->len, b, type, sizeof type, err, sizeof err);
    if (rc) {
        dead_letter(pr, rec, "does not decode", "avro decode", err);
        return;
    }
    if (!b->n && !strcmp(type, TP_GAP_RECORD_TYPE)) {
        take_gap(pr, rec);
        return;
    }
    /* the venue trade ids, when the producer sent them (kafka/trade_ids.h) */
    const void *idv;
    size_t idlen;
    if (!tp_consumer_record_header(rec, TP_TRADE_IDS_HEADER, &idv, &idlen) &&
        tp_trade_ids_apply(idv, idlen, b->trades, b->n, err, sizeof err)) {
        dead_letter(pr, rec, "has a bad " TP_TRADE_IDS_HEADER " header", "trade ids", err);
        return;
    }
    snprintf(b->origin.topic, sizeof b->origin.topic, "%s", rec->topic);
    b->origin.partition = rec->partition;
    b->origin.offset = rec->offset;
    char reason[512];
    long nbad = check_record(pr, rec, reason, sizeof reason);
    if (nbad < 0) {
        tp_error(MOD, "out of memory checking %zu trades", b->n);
        pr->failed = 1;
        return;
    }
    if (nbad) {
        /* the good trades of the record are stored; the record goes to the
         * dead letters whole, saying which trades were left out and why */
        pr->rejected_records++;
        tp_consumer_dlq(pr->cons, rec, reason);
    }
    int64_t now = tp_now_ms(), max_ts = INT64_MIN;
    b->recv_ms = now;
    for (size_t i = 0; i < b->n; i++) {
        b->trades[i].recv_ms = now;
        if (pr->keep[i] && b->trades[i].ts_ms > max_ts) max_ts = b->trades[i].ts_ms;
    }
    rc = tp_pipeline_add_masked(pr->pipe, b, rec->floor_ms, nbad ? pr->keep : NULL);
    if (rc) {
        tp_error(MOD, "out of memory adding %zu trades", b->n);
        pr->failed = 1;
    }
    pr->trades += b->n - (size_t)nbad;
    tp_counter_add(pr->m_trades, b->n - (size_t)nbad);
    tp_consumer_done(pr->cons, rec, max_ts);
}

static void fmt_ts(int64_t ms, char *out, size_t n) {
    if (ms == INT64_MIN)
        snprintf(out, n, "none");
    else
        snprintf(out, n, "%" PRId64, ms);
}

void tp_consume_log_progress(tp_consume *pr, tp_consume_progress *pg, int64_t now_us) {
    tp_pipeline_stats ps;
    tp_pipeline_get_stats(pr->pipe, &ps);
    tp_consumer_stats cs;
    tp_consumer_get_stats(pr->cons, &cs);
    double dt = (double)(now_us - pg->last_us) / 1e6;
    char wm[32];
    fmt_ts(ps.watermark_ms, wm, sizeof wm);
    tp_info(MOD,
            "%.0f trades/s, %.0f records/s; total %" PRIu64 " trades, %" PRIu64 " durable, %" PRIu64
            " late, %" PRIu64 " rejected, %" PRIu64 " bad records, %" PRIu64
            " store errors; watermark %s; %zu pending; %zu partitions",
            dt > 0 ? (double)(pr->trades - pg->last_trades) / dt : 0.0,
            dt > 0 ? (double)(pr->records - pg->last_records) / dt : 0.0, pr->trades, ps.rows_trades, ps.late,
            tp_rejects_total(&pr->rejects), pr->decode_errors, ps.store_errors, wm, ps.pending, cs.assigned);
    pg->last_trades = pr->trades;
    pg->last_records = pr->records;
    pg->last_us = now_us;
}

/* Drain: make everything consumed durable, commit, leave the group. */
int tp_consume_drain(tp_consume *pr) {
    int rc = tp_consume_flush_commit(pr, 1);
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

void tp_consume_log_summary(tp_consume *pr, int64_t start_us, const tp_consumer_stats *cs) {
    tp_consumer_stats cst = *cs;
    /* From the first assignment (fetching starts there) to the last record:
     * the time spent joining the group is not processing. */
    int64_t from_us = cst.first_assign_us ? cst.first_assign_us : pr->first_us;
    double busy_s = pr->last_us > from_us ? (double)(pr->last_us - from_us) / 1e6 : 0.0;
    double elapsed = (double)(tp_mono_us() - start_us) / 1e6;
    tp_pipeline_stats ps;
    tp_pipeline_get_stats(pr->pipe, &ps);
    int64_t p50 = tp_pipeline_latency_quantile_ms(&ps, 0.5), p99 = tp_pipeline_latency_quantile_ms(&ps, 0.99);
    char rej[256];
    tp_rejects_format(&pr->rejects, rej, sizeof rej);
    tp_info(MOD,
            "summary: %" PRIu64 " records, %" PRIu64 " trades in %.3f s (%.0f trades/s from partition "
            "assignment to the last record); %" PRIu64 " durable, %" PRIu64 " late, %" PRIu64
            " skipped; %" PRIu64 " bad records; %" PRIu64 " gaps; %s (in %" PRIu64
            " records, dead-lettered); %" PRIu64 " flushes, %" PRIu64 " store errors; %" PRIu64
            " candle rows, %" PRIu64 " average rows; latency receipt->durable p50 <= %" PRId64
            " ms, p99 <= %" PRId64 " ms",
            pr->records, pr->trades, elapsed, busy_s > 0 ? (double)pr->trades / busy_s : 0.0, ps.rows_trades,
            ps.late, ps.skipped, pr->decode_errors, pr->gaps, rej, pr->rejected_records, ps.flushes,
            ps.store_errors, ps.rows_candles, ps.rows_averages, p50, p99);
}
