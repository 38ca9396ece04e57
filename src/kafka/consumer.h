/* consumer.h - a Kafka consumer-group member for `tickpipe process`.
 *
 * It subscribes one topic in a consumer group with automatic commits and
 * offset stores off, and commits only what the caller says is durable.
 *
 * Offsets and restarts. Windows need the trades of every window still open,
 * so the committed offset of a partition is not simply "after the last
 * durable record": it is the first record that may hold a trade of a window
 * that is still open (event time >= the pipeline's open_since, F), or the
 * next record when there is none. F itself is committed with the offset,
 * in the commit's metadata ("tickpipe:floor=F"). A new owner (a restart, or
 * another group member after a rebalance) reads F back and folds the
 * re-delivered trades only into windows starting at or after F: the ones
 * before were completed and stored by the previous owner. Re-delivered
 * trades are stored again under the same ids (idempotent). To find that
 * first record cheaply the consumer keeps, per partition, the records whose
 * newest event time exceeds every earlier record's (a monotonic list:
 * a record dominated by an earlier one with a later event time is never the
 * answer).
 *
 * Watermark input: per partition the newest event time seen; the pipeline's
 * watermark follows the slowest partition that has data and is not at its
 * end (an idle partition does not hold everyone back).
 *
 * Rebalance (eager protocol): before partitions go, on_revoke() lets the
 * caller make everything consumed durable; the consumer then commits and
 * forgets the partitions, and on_reset() lets the caller drop window state
 * (the remaining or new partitions are re-read from their committed
 * offsets, so state is rebuilt exactly as on a restart).
 *
 * Static membership: with a member id (group.instance.id) a member that
 * dies and comes back under the same id within session.timeout.ms gets its
 * own partitions back at once, without a rebalance of the others (they
 * never stop); a dynamic member's successor waits for the session timeout
 * and a rebalance of the whole group. Two live members must never share an
 * id: the broker fences the older one.
 *
 * Dead letters: tp_consumer_dlq() copies a record that could not be decoded
 * to the dead-letter topic (same key and value, headers naming the source
 * topic, partition, offset and the error). Commits wait for those copies to
 * be delivered first.
 *
 * Threading: one thread calls everything; callbacks run inside
 * tp_consumer_poll() and tp_consumer_close() on that thread. */
#ifndef TP_KAFKA_CONSUMER_H
#define TP_KAFKA_CONSUMER_H

#include "kafka/kafka_conf.h"

#include <stddef.h>
#include <stdint.h>

typedef struct tp_consumer_config {
    const char *brokers;
    const char *topic;
    const char *group;
    const char *dlq_topic; /* NULL or "" = no dead-letter copies */
    /* Static membership (group.instance.id): NULL or "" = a dynamic member;
     * "host" = this machine's host name; else the id itself. */
    const char *member_id;
    const tp_kafka_props *props;
    /* A partition at its end stops holding the watermark back only after
     * this long (ms) with no record and no consumer error (a broker or
     * leader away, the group's coordinator lost): records still waiting in
     * a producer during a failover are not passed by the watermark. 0 =
     * idle as soon as it is at its end. */
    int64_t partition_idle_ms;
    /* Make everything consumed so far durable; *open_since gets the
     * pipeline's tp_pipeline_open_since() after it. Return 0, or nonzero if
     * that failed (then nothing is committed). */
    int (*on_revoke)(void *ud, int64_t *open_since);
    /* Partitions changed: drop window state. */
    void (*on_reset)(void *ud);
    void *ud;
} tp_consumer_config;

typedef struct tp_consumer_record {
    const uint8_t *payload;
    size_t len;
    const char *topic;
    int32_t partition;
    int64_t offset;
    int64_t timestamp_ms; /* the message's timestamp, -1 if none */
    int64_t floor_ms;     /* fold only into windows starting at or after this */
    void *msg_;           /* internal */
} tp_consumer_record;

typedef struct tp_consumer_stats {
    uint64_t records, dlq, commits, commit_errors, rebalances;
    size_t assigned;
    int64_t first_assign_us; /* tp_mono_us() of the first assignment; 0 before */
} tp_consumer_stats;

typedef struct tp_consumer tp_consumer;

int tp_consumer_new(const tp_consumer_config *cfg, tp_consumer **out, char *err, size_t errlen);
/* Does a broker answer (a metadata request, at most timeout_ms)? 0, or
 * TP_EUNAVAIL with librdkafka's reason in err. For the start-up check: a
 * consumer whose brokers are all unreachable would otherwise wait quietly
 * for ever. */
int tp_consumer_reach(tp_consumer *c, int timeout_ms, char *err, size_t errlen);
/* Wait up to timeout_ms for the next record: 0 with *rec filled (release
 * it with tp_consumer_done), TP_EAGAIN if none came, or another error code
 * with err set for a consumer error the caller should log (the consumer
 * keeps working). */
int tp_consumer_poll(tp_consumer *c, int timeout_ms, tp_consumer_record *rec, char *err, size_t errlen);
/* The last value of header name of rec (valid until tp_consumer_done):
 * 0 with *val and *len, or -1 when the record has no such header (or one with
 * a null value). */
int tp_consumer_record_header(const tp_consumer_record *rec, const char *name, const void **val, size_t *len);
/* The record has been handed to the pipeline (or dead-lettered); max_ts is
 * the newest event time in it (INT64_MIN if it held no trade). */
void tp_consumer_done(tp_consumer *c, tp_consumer_record *rec, int64_t max_ts);
/* Copy the record to the dead-letter topic (call before tp_consumer_done). */
int tp_consumer_dlq(tp_consumer *c, const tp_consumer_record *rec, const char *reason);
/* The watermark input: the slowest partition that is not idle (see
 * consumer.c and partition_idle_ms); INT64_MIN while one has not
 * delivered yet. */
int64_t tp_consumer_input_watermark(const tp_consumer *c);
/* Everything passed to tp_consumer_done is durable and open_since is the
 * pipeline's tp_pipeline_open_since(): commit synchronously. */
int tp_consumer_commit(tp_consumer *c, int64_t open_since, char *err, size_t errlen);
void tp_consumer_get_stats(const tp_consumer *c, tp_consumer_stats *out);
/* Leave the group (runs on_revoke/commit for the last time) and free. */
void tp_consumer_close(tp_consumer *c);

#endif
