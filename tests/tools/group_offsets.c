/* group_offsets.c - print a consumer group's committed offsets and each
 * partition's high watermark, for integration tests that check when
 * `tickpipe process` commits.
 *
 * It asks the group coordinator with OffsetFetch (rd_kafka_committed) and
 * the partition leaders with ListOffsets (rd_kafka_query_watermark_offsets)
 * without joining the group, so it never takes partitions from the members
 * under test.
 *
 * Output, one line per partition: "PARTITION COMMITTED HIGH_WATERMARK",
 * COMMITTED being -1 when the group has no offset for that partition; then
 * a line "total COMMITTED_SUM HIGH_SUM" (a missing offset counts as 0).
 *
 * Usage: group_offsets --brokers LIST --topic NAME --group ID
 * Exit status: 0, 1 when the cluster does not answer, 2 on a usage error.
 */
#include <librdkafka/rdkafka.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f, "Usage: group_offsets --brokers LIST --topic NAME --group ID\n"
               "Prints 'PARTITION COMMITTED HIGH_WATERMARK' per partition, then 'total C H'.\n");
}

int main(int argc, char **argv) {
    const char *brokers = NULL, *topic = NULL, *group = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--brokers") && i + 1 < argc)
            brokers = argv[++i];
        else if (!strcmp(argv[i], "--topic") && i + 1 < argc)
            topic = argv[++i];
        else if (!strcmp(argv[i], "--group") && i + 1 < argc)
            group = argv[++i];
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (!brokers || !topic || !group) {
        usage(stderr);
        return 2;
    }

    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr, sizeof errstr) ||
        rd_kafka_conf_set(conf, "group.id", group, errstr, sizeof errstr) ||
        rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr, sizeof errstr) ||
        rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr)) {
        fprintf(stderr, "group_offsets: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        return 2;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    if (!rk) {
        fprintf(stderr, "group_offsets: %s\n", errstr);
        return 1;
    }

    int rc = 1;
    rd_kafka_topic_partition_list_t *parts = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
    if (e || md->topic_cnt != 1 || md->topics[0].err) {
        fprintf(stderr, "group_offsets: metadata for %s: %s\n", topic,
                rd_kafka_err2str(e ? e : md->topics[0].err));
        goto out;
    }
    int nparts = md->topics[0].partition_cnt;
    parts = rd_kafka_topic_partition_list_new(nparts);
    for (int p = 0; p < nparts; p++) rd_kafka_topic_partition_list_add(parts, topic, p);
    e = rd_kafka_committed(rk, parts, 10000);
    if (e) {
        fprintf(stderr, "group_offsets: committed offsets of group %s: %s\n", group, rd_kafka_err2str(e));
        goto out;
    }
    int64_t csum = 0, hsum = 0;
    for (int i = 0; i < parts->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &parts->elems[i];
        int64_t lo = 0, hi = 0;
        e = rd_kafka_query_watermark_offsets(rk, topic, tp->partition, &lo, &hi, 10000);
        if (e) {
            fprintf(stderr, "group_offsets: watermarks of %s [%d]: %s\n", topic, tp->partition,
                    rd_kafka_err2str(e));
            goto out;
        }
        int64_t c = tp->err ? -1 : tp->offset;
        if (c < 0) c = -1;
        printf("%d %" PRId64 " %" PRId64 "\n", tp->partition, c, hi);
        csum += c < 0 ? 0 : c;
        hsum += hi;
    }
    printf("total %" PRId64 " %" PRId64 "\n", csum, hsum);
    rc = 0;
out:
    if (parts) rd_kafka_topic_partition_list_destroy(parts);
    if (md) rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    return rc;
}
