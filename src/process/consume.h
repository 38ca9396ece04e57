/* consume.h - Kafka records into the pipeline, offsets committed only after
 * the store has the rows: the body of `tickpipe process`.
 *
 * tp_consume_record decodes one record (one that does not decode is
 * logged, counted, copied to the dead-letter topic and skipped, so it never
 * stalls a partition), stamps the batch with its topic/partition/offset
 * (the trade ids derive from them) and adds it to the pipeline from the
 * partition's floor. A feed-gap control record (kafka/gap_record.h: type
 * "gap", the gap in its headers) is not a trade and not a dead letter: it
 * goes to tp_pipeline_add_gap. tp_consume_flush_commit advances the watermark to the
 * consumer's (the slowest partition), flushes, and commits once durable.
 * The revoke/reset callbacks are what the consumer calls around a
 * rebalance (kafka/consumer.h explains why this rebuilds windows exactly).
 *
 * Ownership and threads: the caller owns the tp_consume and the pipeline
 * and consumer it points to; everything runs on the consuming thread. */
#ifndef TP_CONSUME_H
#define TP_CONSUME_H

#include "core/metrics.h"
#include "core/trade.h"
#include "core/trade_check.h"
#include "kafka/consumer.h"
#include "process/pipeline.h"

#include <stdint.h>

typedef struct tp_consume {
    tp_pipeline *pipe;
    tp_consumer *cons;
    tp_batch batch;
    uint64_t records, trades, decode_errors, commit_errors;
    uint64_t gaps;             /* gap control records taken */
    int64_t first_us, last_us; /* monotonic times of the first and latest record */
    int failed;                /* out of memory: the caller should stop */
    /* Group commit makes units durable back to back; offsets (a broker
     * round trip) are committed at most this often (0 = every flush) and
     * always on a forced flush. */
    int64_t offsets_interval_ms, last_offsets_ms;
    tp_counter *m_trades, *m_decode_errors, *m_gaps;
    /* The door (core/trade_check.h): trades outside these bounds of their
     * record's receive time (header tp-recv-ms, else the record timestamp)
     * or with a bad symbol, price or volume are not stored; the record is
     * copied to the dead-letter topic with the reasons. */
    tp_trade_limits limits;
    tp_rejects rejects;
    unsigned char *keep; /* per trade of the current record */
    size_t keep_cap;
    uint64_t rejected_records;
} tp_consume;

/* Also registers the metrics. pipe and cons are set by the caller. */
void tp_consume_init(tp_consume *c);
void tp_consume_free(tp_consume *c);

void tp_consume_record(tp_consume *c, tp_consumer_record *rec);
/* 0, TP_ESTATE (stopped while the store was down: nothing committed), or
 * the commit's error (rows durable, commit retried with the next flush). */
int tp_consume_flush_commit(tp_consume *c, int force);
/* The last flush and commit before exit: 0 when everything consumed is
 * durable (a failed commit only means a replay on restart), 1 otherwise,
 * said in the log. */
int tp_consume_drain(tp_consume *c);

/* tp_consumer_config callbacks; ud is the tp_consume. */
int tp_consume_on_revoke(void *ud, int64_t *open_since);
void tp_consume_on_reset(void *ud);

/* Log lines: progress since the previous one (*prev keeps the counters),
 * and the summary at exit. start_us is when consuming began (monotonic);
 * cs are the consumer's counters, taken before tp_consumer_close. */
typedef struct tp_consume_progress {
    int64_t last_us;
    uint64_t last_trades, last_records;
} tp_consume_progress;
void tp_consume_log_progress(tp_consume *c, tp_consume_progress *prev, int64_t now_us);
void tp_consume_log_summary(tp_consume *c, int64_t start_us, const tp_consumer_stats *cs);

#endif
