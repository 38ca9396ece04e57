/* topic.h - a Kafka topic's layout, as tickpipe reports it at start.
 *
 * `produce` and `process` work on whatever partitioning a topic has; they
 * say what it is (partitions, replication factor, min.insync.replicas) so
 * a user sees at once whether a broker loss can stop writes (RF 1, or
 * min.insync.replicas equal to RF) before it happens.
 *
 * Ownership: plain values, nothing to free. Threading: call from the
 * thread that owns rk (the admin request is served on a private queue). */
#ifndef TP_KAFKA_TOPIC_H
#define TP_KAFKA_TOPIC_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

typedef struct tp_kafka_topic_layout {
    int partitions;         /* 0 when the topic was not found */
    int replication_factor; /* replicas of partition 0 */
    int min_insync;         /* the topic's min.insync.replicas; -1 when unknown */
    int offline;            /* partitions without a leader right now */
} tp_kafka_topic_layout;

/* Fill out from one metadata request and one DescribeConfigs request, each
 * bounded by timeout_ms. Returns 0; TP_EUNAVAIL when no metadata came (out
 * then holds zeros), TP_EREFUSED when the topic does not exist. A failed
 * DescribeConfigs (an ACL, an old broker) only leaves min_insync at -1. */
int tp_kafka_topic_describe(rd_kafka_t *rk, const char *topic, int timeout_ms, tp_kafka_topic_layout *out,
                            char *err, size_t errlen);

/* "6 partitions, replication factor 3, min.insync.replicas 2" into buf. */
const char *tp_kafka_topic_layout_str(const tp_kafka_topic_layout *l, char *buf, size_t len);

#endif
