/* producer.h - the Kafka producer used by `tickpipe produce`.
 *
 * A thin layer over librdkafka that fixes the delivery semantics tickpipe
 * promises and turns librdkafka's many failure modes into plain errors:
 *
 * - Idempotent (enable.idempotence, acks=all): retries never duplicate or
 *   reorder messages of a partition, so per-symbol order survives a broker
 *   outage. Compression (default lz4) and linger.ms batch small messages.
 * - message.timeout.ms defaults to 0 (wait for the broker forever): while
 *   the cluster is away messages wait in librdkafka's bounded queue; when
 *   the queue is full tp_producer_send blocks (serving delivery reports)
 *   until there is room again, so the caller stops reading its input rather
 *   than dropping anything. -X message.timeout.ms=N restores a deadline.
 * - tp_producer_new is bounded in time (connect_timeout_ms): it checks that
 *   the brokers answer and that the topic exists (creating it first with
 *   the admin API when asked: partitions, replication factor and
 *   min.insync.replicas; an existing topic is left as it is), logs the
 *   topic's layout (kafka/topic.h), and fails with an error that names the
 *   brokers, the topic and librdkafka's last connection error. It never
 *   hangs on a wrong address.
 * - Delivery reports are counted in messages and in trades (the caller says
 *   how many trades each message holds); a permanent failure is logged with
 *   the message key (the symbol) and its trade count.
 *
 * Metrics (core/metrics.h): tickpipe_produce_messages_total,
 * _trades_total, _bytes_total, _delivered_messages_total,
 * _delivered_trades_total, _failed_messages_total, _failed_trades_total,
 * _queue_full_total, and the gauge tickpipe_produce_queue_depth.
 *
 * Threading: one thread owns the producer (new, send, poll, flush, free);
 * delivery reports are served by the producer's own poller thread.
 * tp_producer_interrupt is async-signal-safe and may be called from any
 * thread; tp_producer_get_stats and tp_producer_queue_depth may be called
 * from any thread (e.g. a progress logger). */
#ifndef TP_PRODUCER_H
#define TP_PRODUCER_H

#include "kafka/kafka_conf.h"

#include <stddef.h>
#include <stdint.h>

typedef struct tp_producer_config {
    const char *brokers;         /* "host:port,..." (required) */
    const char *topic;           /* required */
    const char *compression;     /* none, gzip, snappy, lz4 (default), zstd */
    int linger_ms;               /* default 5 */
    const tp_kafka_props *props; /* -X key=value, applied last; may be NULL */
    int connect_timeout_ms;      /* bound on the start-up checks; default 10000 */
    int create_topic;            /* create the topic with the admin API first */
    int partitions;              /* for create_topic; default 1 */
    int replication_factor;      /* for create_topic; default 1 */
    int min_insync_replicas;     /* for create_topic; 0 = the cluster's default */
    int drain_timeout_ms;        /* how long an interrupted send still waits for room; default 10000 */
} tp_producer_config;

void tp_producer_config_default(tp_producer_config *c);

typedef struct tp_producer_stats {
    uint64_t messages, trades, bytes;              /* handed to librdkafka (dead letters too) */
    uint64_t delivered_messages, delivered_trades; /* acknowledged by the cluster */
    uint64_t failed_messages, failed_trades;       /* permanently failed */
    uint64_t queue_full;                           /* times send had to wait for room */
} tp_producer_stats;

typedef struct tp_producer tp_producer;

/* Create the producer, wait (at most connect_timeout_ms, plus as much again
 * for topic creation) until the brokers answer, create the topic if asked,
 * and check that it exists. TP_EUNAVAIL when the brokers cannot be reached,
 * TP_EREFUSED when the topic is missing or cannot be created, TP_EINVAL on
 * a bad property; err says which and what to do. */
int tp_producer_new(const tp_producer_config *cfg, tp_producer **out, char *err, size_t errlen);

/* Queue one message (the bytes are copied): key = the symbol, timestamp =
 * ts_ms (0 = now), ntrades = the trades it holds (for delivery counts).
 * Blocks while librdkafka's queue is full, serving delivery reports.
 * Returns 0 once queued; TP_EAGAIN if interrupted (tp_producer_interrupt)
 * and the queue stayed full for the drain timeout; TP_EREFUSED after a
 * fatal producer error; TP_EINVAL for a message the cluster can never take
 * (too large). The message is not queued when nonzero is returned. */
int tp_producer_send(tp_producer *p, const void *key, size_t keylen, const void *val, size_t len,
                     int64_t ts_ms, uint32_t ntrades, char *err, size_t errlen);

/* As tp_producer_send, with record headers (copied): control records such
 * as a feed gap (kafka/gap_record.h) travel with ntrades = 0. */
typedef struct tp_producer_header {
    const char *name; /* NUL-terminated */
    const void *value;
    size_t len;
} tp_producer_header;
int tp_producer_send_headers(tp_producer *p, const void *key, size_t keylen, const void *val, size_t len,
                             int64_t ts_ms, uint32_t ntrades, const tp_producer_header *h, size_t nh,
                             char *err, size_t errlen);

/* Queue one message with headers to another topic (the dead letters):
 * never blocks (TP_EAGAIN when the queue is full), carries no trades, is
 * counted in messages (so tp_producer_flush waits for it) and is delivered
 * with the same guarantees. */
int tp_producer_send_side(tp_producer *p, const char *topic, const void *key, size_t keylen, const void *val,
                          size_t len, const tp_producer_header *h, size_t nh, char *err, size_t errlen);

/* Serve delivery reports and errors, waiting at most timeout_ms. */
void tp_producer_poll(tp_producer *p, int timeout_ms);

/* Ask a blocked send to give up after drain_timeout_ms more milliseconds of
 * a full queue, and a flush to stop early: the first call gives the configured
 * timeouts, a second call makes both return at once. Async-signal-safe. */
void tp_producer_interrupt(tp_producer *p);

/* Wait at most timeout_ms for every queued message to be delivered (or to
 * fail). Returns 0 when nothing is left; TP_EAGAIN otherwise, with the
 * number of messages and trades still undelivered in the out-params (may
 * be NULL). */
int tp_producer_flush(tp_producer *p, int timeout_ms, uint64_t *left_messages, uint64_t *left_trades);

/* Messages waiting in librdkafka (queued, in flight, or delivery reports
 * not yet served). Any thread. */
int tp_producer_queue_depth(tp_producer *p);
void tp_producer_get_stats(tp_producer *p, tp_producer_stats *out);
/* Text of the fatal error, or NULL if none. */
const char *tp_producer_fatal(tp_producer *p);
void tp_producer_free(tp_producer *p);

#endif
