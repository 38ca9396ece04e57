/* kafka_admin.c - create topics and read topic configs on a real Kafka
 * cluster, for tests/lib/kafka.sh and the tests that check what
 * `tickpipe produce --create-topic` did.
 *
 * Kafka's own kafka-topics tool is a JVM start (seconds) per call; this is
 * a few milliseconds over librdkafka's admin API, and it waits until every
 * partition of a new topic has a leader, so a test can produce at once.
 *
 * Usage:
 *   kafka_admin --brokers B create NAME PARTITIONS RF [--config k=v]...
 *   kafka_admin --brokers B config NAME KEY   prints the topic's value of KEY
 * Exit status: 0, 1 on a cluster error, 2 on a usage error. */
#include <librdkafka/rdkafka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void usage(FILE *f) {
    fprintf(f, "Usage: kafka_admin --brokers B create NAME PARTITIONS RF [--config k=v]...\n"
               "       kafka_admin --brokers B config NAME KEY\n");
}

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Poll q until an event of type want arrives (or 30 s pass). */
static rd_kafka_event_t *wait_event(rd_kafka_queue_t *q, int want) {
    long long end = now_ms() + 30000;
    while (now_ms() < end) {
        rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 500);
        if (!ev) continue;
        if (rd_kafka_event_type(ev) == want) return ev;
        rd_kafka_event_destroy(ev);
    }
    return NULL;
}

/* Until metadata shows every partition of topic with a leader. */
static int wait_leaders(rd_kafka_t *rk, const char *topic, int parts) {
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    long long end = now_ms() + 60000;
    int ok = 0;
    while (!ok && now_ms() < end) {
        const struct rd_kafka_metadata *md = NULL;
        if (!rd_kafka_metadata(rk, 0, rkt, &md, 5000) && md->topic_cnt == 1 && !md->topics[0].err &&
            md->topics[0].partition_cnt == parts) {
            ok = 1;
            for (int i = 0; i < parts; i++)
                if (md->topics[0].partitions[i].err || md->topics[0].partitions[i].leader < 0) ok = 0;
        }
        if (md) rd_kafka_metadata_destroy(md);
        if (!ok) {
            struct timespec d = {0, 100 * 1000 * 1000};
            nanosleep(&d, NULL);
        }
    }
    rd_kafka_topic_destroy(rkt);
    if (!ok) fprintf(stderr, "kafka_admin: topic %s: partitions without a leader after 60 s\n", topic);
    return ok ? 0 : 1;
}

static int create(rd_kafka_t *rk, rd_kafka_queue_t *q, int argc, char **argv) {
    if (argc < 3) return 2;
    const char *name = argv[0];
    int parts = atoi(argv[1]), rf = atoi(argv[2]);
    char e[512];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(name, parts, rf, e, sizeof e);
    if (!nt) {
        fprintf(stderr, "kafka_admin: %s\n", e);
        return 2;
    }
    for (int i = 3; i < argc; i++) {
        char *eq = i + 1 < argc && !strcmp(argv[i], "--config") ? strchr(argv[i + 1], '=') : NULL;
        if (!eq) {
            rd_kafka_NewTopic_destroy(nt);
            return 2;
        }
        *eq = '\0';
        rd_kafka_NewTopic_set_config(nt, argv[i + 1], eq + 1);
        i++;
    }
    rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_event_t *ev = wait_event(q, RD_KAFKA_EVENT_CREATETOPICS_RESULT);
    if (!ev) {
        fprintf(stderr, "kafka_admin: no answer to CreateTopics\n");
        return 1;
    }
    int rc = 0;
    if (rd_kafka_event_error(ev)) {
        fprintf(stderr, "kafka_admin: create %s: %s\n", name, rd_kafka_event_error_string(ev));
        rc = 1;
    } else {
        size_t n = 0;
        const rd_kafka_topic_result_t **r =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
        if (n && rd_kafka_topic_result_error(r[0])) {
            fprintf(stderr, "kafka_admin: create %s: %s\n", name, rd_kafka_topic_result_error_string(r[0]));
            rc = 1;
        }
    }
    rd_kafka_event_destroy(ev);
    return rc ? rc : wait_leaders(rk, name, parts);
}

static int config(rd_kafka_t *rk, rd_kafka_queue_t *q, int argc, char **argv) {
    if (argc != 2) return 2;
    rd_kafka_ConfigResource_t *res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, argv[0]);
    rd_kafka_DescribeConfigs(rk, &res, 1, NULL, q);
    rd_kafka_ConfigResource_destroy(res);
    rd_kafka_event_t *ev = wait_event(q, RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT);
    if (!ev) {
        fprintf(stderr, "kafka_admin: no answer to DescribeConfigs\n");
        return 1;
    }
    int rc = 1;
    size_t n = 0;
    const rd_kafka_ConfigResource_t **rs =
        rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev), &n);
    if (rd_kafka_event_error(ev) || n != 1 || rd_kafka_ConfigResource_error(rs[0])) {
        fprintf(stderr, "kafka_admin: describe %s: %s\n", argv[0],
                rd_kafka_event_error(ev) ? rd_kafka_event_error_string(ev)
                : n == 1                 ? rd_kafka_ConfigResource_error_string(rs[0])
                                         : "no result");
    } else {
        size_t ne = 0;
        const rd_kafka_ConfigEntry_t **ents = rd_kafka_ConfigResource_configs(rs[0], &ne);
        for (size_t i = 0; i < ne; i++) {
            if (strcmp(rd_kafka_ConfigEntry_name(ents[i]), argv[1])) continue;
            const char *v = rd_kafka_ConfigEntry_value(ents[i]);
            printf("%s\n", v ? v : "");
            rc = 0;
        }
        if (rc) fprintf(stderr, "kafka_admin: topic %s has no config %s\n", argv[0], argv[1]);
    }
    rd_kafka_event_destroy(ev);
    return rc;
}

int main(int argc, char **argv) {
    if (argc < 4 || strcmp(argv[1], "--brokers")) {
        usage(stderr);
        return 2;
    }
    char e[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", argv[2], e, sizeof e) ||
        rd_kafka_conf_set(conf, "log_level", "3", e, sizeof e)) {
        fprintf(stderr, "kafka_admin: %s\n", e);
        rd_kafka_conf_destroy(conf);
        return 2;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof e);
    if (!rk) {
        fprintf(stderr, "kafka_admin: %s\n", e);
        return 1;
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    int rc = 2;
    if (!strcmp(argv[3], "create"))
        rc = create(rk, q, argc - 4, argv + 4);
    else if (!strcmp(argv[3], "config"))
        rc = config(rk, q, argc - 4, argv + 4);
    if (rc == 2) usage(stderr);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
    return rc;
}
