/* topic.c - see topic.h.
 *
 * The replication factor is read from the metadata (the replica list of
 * partition 0: Kafka gives every partition of a topic the same count unless
 * someone reassigned replicas by hand), min.insync.replicas from
 * DescribeConfigs, which reports the broker default when the topic has no
 * override of its own. */
#include "kafka/topic.h"

#include "core/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int describe_min_isr(rd_kafka_t *rk, const char *topic, int timeout_ms) {
    int v = -1;
    char e[256];
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
    rd_kafka_ConfigResource_t *res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic);
    if (!q || !o || !res) goto out;
    rd_kafka_AdminOptions_set_request_timeout(o, timeout_ms, e, sizeof e);
    rd_kafka_DescribeConfigs(rk, &res, 1, o, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms + 500);
    if (ev && !rd_kafka_event_error(ev)) {
        size_t n = 0;
        const rd_kafka_ConfigResource_t **rs =
            rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev), &n);
        if (n == 1 && !rd_kafka_ConfigResource_error(rs[0])) {
            size_t ne = 0;
            const rd_kafka_ConfigEntry_t **ents = rd_kafka_ConfigResource_configs(rs[0], &ne);
            for (size_t i = 0; i < ne; i++) {
                const char *val = rd_kafka_ConfigEntry_value(ents[i]);
                if (!strcmp(rd_kafka_ConfigEntry_name(ents[i]), "min.insync.replicas") && val) v = atoi(val);
            }
        }
    }
    if (ev) rd_kafka_event_destroy(ev);
out:
    if (res) rd_kafka_ConfigResource_destroy(res);
    if (o) rd_kafka_AdminOptions_destroy(o);
    if (q) rd_kafka_queue_destroy(q);
    return v;
}

int tp_kafka_topic_describe(rd_kafka_t *rk, const char *topic, int timeout_ms, tp_kafka_topic_layout *out,
                            char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    out->min_insync = -1;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    if (!rkt)
        return tp_seterr(err, errlen, TP_EINVAL, "topic %s: %s", topic,
                         rd_kafka_err2str(rd_kafka_last_error()));
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms);
    rd_kafka_topic_destroy(rkt);
    if (e)
        return tp_seterr(err, errlen, TP_EUNAVAIL, "metadata for topic %s: %s", topic, rd_kafka_err2str(e));
    int rc = 0;
    if (md->topic_cnt != 1 || md->topics[0].err || md->topics[0].partition_cnt == 0) {
        rc = tp_seterr(err, errlen, TP_EREFUSED, "topic %s: %s", topic,
                       md->topic_cnt == 1 && md->topics[0].err ? rd_kafka_err2str(md->topics[0].err)
                                                               : "no partitions");
    } else {
        const rd_kafka_metadata_topic_t *t = &md->topics[0];
        out->partitions = t->partition_cnt;
        out->replication_factor = t->partitions[0].replica_cnt;
        for (int i = 0; i < t->partition_cnt; i++)
            if (t->partitions[i].leader < 0) out->offline++;
    }
    rd_kafka_metadata_destroy(md);
    if (!rc) out->min_insync = describe_min_isr(rk, topic, timeout_ms);
    return rc;
}

const char *tp_kafka_topic_layout_str(const tp_kafka_topic_layout *l, char *buf, size_t len) {
    char isr[48] = "";
    if (l->min_insync >= 0) snprintf(isr, sizeof isr, ", min.insync.replicas %d", l->min_insync);
    char off[48] = "";
    if (l->offline) snprintf(off, sizeof off, ", %d without a leader now", l->offline);
    snprintf(buf, len, "%d partition(s), replication factor %d%s%s", l->partitions, l->replication_factor,
             isr, off);
    return buf;
}
