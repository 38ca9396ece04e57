/* producer.c - see producer.h.
 *
 * librdkafka does the real work on its own threads; this file owns the
 * policy around it. Delivery reports and errors are served by a small
 * poller thread of ours (rd_kafka_poll in a loop), so they are counted
 * even while the feed is quiet or blocked; the counters are atomics and
 * the fatal-error text is published through an atomic flag.
 *
 * The start-up check loops over short metadata requests instead of one
 * long one so that librdkafka's error events (connection refused, name not
 * resolved) are served in between: when the deadline passes, the error can
 * say why the brokers did not answer, not only that they did not. */
#include "kafka/producer.h"

#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "core/metrics.h"
#include "kafka/topic.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct producer_metrics {
    tp_counter *messages, *trades, *bytes, *delivered_messages, *delivered_trades, *failed_messages,
        *failed_trades, *queue_full;
    tp_gauge *queue_depth;
} producer_metrics;

struct tp_producer {
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt;
    char *topic, *brokers;
    int drain_timeout_ms;
    int closing;                    /* purging at free: failures are expected, not news */
    int existed;                    /* --create-topic found the topic there already */
    int64_t unknown_grace_until_ms; /* until then "unknown topic" is metadata still propagating */
    volatile sig_atomic_t interrupts;
    _Atomic uint64_t messages, trades, bytes, delivered_messages, delivered_trades, failed_messages,
        failed_trades, queue_full;
    char last_error[512]; /* librdkafka's latest error event, for start-up diagnostics */
    int64_t last_error_log_ms;
    uint64_t errors_suppressed;
    char fatal[512];
    _Atomic int has_fatal; /* set after fatal[] is written */
    pthread_mutex_t errmu; /* error_cb may run in the poller and in flush */
    pthread_t poller;
    int poller_started;
    _Atomic int poller_stop;
    producer_metrics m;
};

void tp_producer_config_default(tp_producer_config *c) {
    memset(c, 0, sizeof *c);
    c->compression = "lz4";
    c->linger_ms = 5;
    c->connect_timeout_ms = 10000;
    c->partitions = 1;
    c->replication_factor = 1;
    c->drain_timeout_ms = 10000;
}

static void add(_Atomic uint64_t *local, tp_counter *global, uint64_t n) {
    atomic_fetch_add_explicit(local, n, memory_order_relaxed);
    tp_counter_add(global, n);
}

static uint64_t get(const _Atomic uint64_t *v) {
    return atomic_load_explicit(v, memory_order_relaxed);
}

static void register_metrics(producer_metrics *m) {
    m->messages = tp_metrics_counter("tickpipe_produce_messages_total", NULL,
                                     "Kafka messages handed to librdkafka (one per symbol per frame)");
    m->trades = tp_metrics_counter("tickpipe_produce_trades_total", NULL, "Trades handed to librdkafka");
    m->bytes = tp_metrics_counter("tickpipe_produce_bytes_total", NULL, "Avro bytes handed to librdkafka");
    m->delivered_messages = tp_metrics_counter("tickpipe_produce_delivered_messages_total", NULL,
                                               "Kafka messages acknowledged by the cluster");
    m->delivered_trades = tp_metrics_counter("tickpipe_produce_delivered_trades_total", NULL,
                                             "Trades acknowledged by the cluster");
    m->failed_messages = tp_metrics_counter("tickpipe_produce_failed_messages_total", NULL,
                                            "Kafka messages that failed permanently");
    m->failed_trades = tp_metrics_counter("tickpipe_produce_failed_trades_total", NULL,
                                          "Trades in messages that failed permanently");
    m->queue_full = tp_metrics_counter("tickpipe_produce_queue_full_total", NULL,
                                       "Times the producer queue was full and the feed had to wait");
    m->queue_depth = tp_metrics_gauge("tickpipe_produce_queue_depth", NULL,
                                      "Messages waiting in the producer queue or in flight");
}

/* Delivery report: one per message, from rd_kafka_poll in the owner thread. */
static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    tp_producer *p = opaque;
    uint64_t ntrades = (uint64_t)(uintptr_t)m->_private;
    if (!m->err) {
        add(&p->delivered_messages, p->m.delivered_messages, 1);
        add(&p->delivered_trades, p->m.delivered_trades, ntrades);
        return;
    }
    add(&p->failed_messages, p->m.failed_messages, 1);
    add(&p->failed_trades, p->m.failed_trades, ntrades);
    uint64_t nfailed = get(&p->failed_messages);
    if (p->closing) return;
    if (nfailed <= 20 || nfailed % 1000 == 0)
        tp_error("produce",
                 "%llu trade(s) of %.*s were not delivered to topic %s: %s (%llu message(s) failed so far)",
                 (unsigned long long)ntrades, (int)m->key_len, m->key ? (const char *)m->key : "", p->topic,
                 rd_kafka_err2str(m->err), (unsigned long long)nfailed);
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
    tp_producer *p = opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        if (atomic_load(&p->has_fatal)) return;
        char buf[400];
        rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, buf, sizeof buf);
        snprintf(p->fatal, sizeof p->fatal, "%s: %s", rd_kafka_err2name(orig), buf);
        atomic_store(&p->has_fatal, 1);
        tp_error("produce", "fatal producer error: %s", p->fatal);
        return;
    }
    pthread_mutex_lock(&p->errmu);
    snprintf(p->last_error, sizeof p->last_error, "%s", reason);
    /* Connection errors repeat every retry while a broker is away: one line
     * per 5 s is enough to say so. */
    int64_t now = tp_now_ms();
    if (now - p->last_error_log_ms >= 5000) {
        if (p->errors_suppressed)
            tp_warn("kafka", "%s (%s) [and %llu similar message(s)]", reason,
                    rd_kafka_err2name((rd_kafka_resp_err_t)err), (unsigned long long)p->errors_suppressed);
        else
            tp_warn("kafka", "%s (%s)", reason, rd_kafka_err2name((rd_kafka_resp_err_t)err));
        p->last_error_log_ms = now;
        p->errors_suppressed = 0;
    } else {
        p->errors_suppressed++;
    }
    pthread_mutex_unlock(&p->errmu);
}

static int64_t remaining_ms(int64_t deadline) {
    int64_t r = deadline - tp_now_ms();
    return r > 0 ? r : 0;
}

static int create_topic(tp_producer *p, const tp_producer_config *cfg, int64_t deadline, char *err,
                        size_t errlen) {
    char e[512];
    int rc = 0;
    rd_kafka_NewTopic_t *nt =
        rd_kafka_NewTopic_new(cfg->topic, cfg->partitions, cfg->replication_factor, e, sizeof e);
    if (!nt) return tp_seterr(err, errlen, TP_EINVAL, "cannot create topic %s: %s", cfg->topic, e);
    char isr[16] = "default";
    if (cfg->min_insync_replicas > 0) {
        snprintf(isr, sizeof isr, "%d", cfg->min_insync_replicas);
        if (rd_kafka_NewTopic_set_config(nt, "min.insync.replicas", isr)) {
            rd_kafka_NewTopic_destroy(nt);
            return tp_seterr(err, errlen, TP_EINVAL, "cannot create topic %s: bad min.insync.replicas",
                             cfg->topic);
        }
    }
    rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(p->rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    int t = (int)remaining_ms(deadline);
    if (t < 1) t = 1;
    rd_kafka_AdminOptions_set_request_timeout(o, t, e, sizeof e);
    rd_kafka_AdminOptions_set_operation_timeout(o, t, e, sizeof e);
    rd_kafka_queue_t *q = rd_kafka_queue_new(p->rk);
    rd_kafka_CreateTopics(p->rk, &nt, 1, o, q);
    rd_kafka_event_t *ev = NULL;
    while (!ev && remaining_ms(deadline + 1000) > 0) {
        ev = rd_kafka_queue_poll(q, 200);
        rd_kafka_poll(p->rk, 0);
    }
    if (!ev) {
        rc = tp_seterr(err, errlen, TP_EUNAVAIL,
                       "cannot create topic %s: the Kafka brokers %s did not answer within %d s%s%s",
                       cfg->topic, p->brokers, (cfg->connect_timeout_ms + 999) / 1000,
                       p->last_error[0] ? ": " : "", p->last_error);
    } else if (rd_kafka_event_error(ev)) {
        rc = tp_seterr(
            err, errlen, TP_EUNAVAIL,
            "cannot create topic %s on %s: %s; create it with the cluster's own tools, or leave out "
            "--create-topic if the cluster creates topics on first use",
            cfg->topic, p->brokers, rd_kafka_event_error_string(ev));
    } else {
        size_t n = 0;
        const rd_kafka_topic_result_t **res =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
        rd_kafka_resp_err_t te = n ? rd_kafka_topic_result_error(res[0]) : RD_KAFKA_RESP_ERR_NO_ERROR;
        if (te == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
            /* an existing topic is the operator's: never altered, only
             * described (check_topic logs its layout) */
            tp_info("produce", "topic %s already exists; left as it is", cfg->topic);
            p->existed = 1;
        } else if (te) {
            const char *es = rd_kafka_topic_result_error_string(res[0]);
            rc = tp_seterr(
                err, errlen, TP_EREFUSED,
                "cannot create topic %s (%d partitions, replication factor %d, min.insync.replicas "
                "%s): %s",
                cfg->topic, cfg->partitions, cfg->replication_factor, isr, es ? es : rd_kafka_err2str(te));
        } else {
            tp_info("produce",
                    "created topic %s (%d partitions, replication factor %d, min.insync.replicas %s)",
                    cfg->topic, cfg->partitions, cfg->replication_factor, isr);
        }
    }
    if (ev) rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_NewTopic_destroy(nt);
    return rc;
}

/* Log the topic's layout, and say when an existing topic differs from what
 * --create-topic asked for (it is not changed: adding partitions moves keys
 * to other partitions, which breaks per-symbol order for the readers). */
static void report_layout(tp_producer *p, const tp_producer_config *cfg, int64_t left_ms) {
    tp_kafka_topic_layout l;
    char e[256], buf[160];
    int t = left_ms < 3000 ? (int)(left_ms > 500 ? left_ms : 500) : 3000;
    int rc;
    /* a new topic may not have reached the broker asked yet: a few tries */
    for (int i = 0;
         (rc = tp_kafka_topic_describe(p->rk, cfg->topic, t, &l, e, sizeof e)) == TP_EREFUSED && i < 20;
         i++) {
        struct timespec d = {0, 100 * 1000000L};
        nanosleep(&d, NULL);
    }
    if (rc) {
        tp_info("produce", "topic %s: layout unknown (%s)", cfg->topic, e);
        return;
    }
    tp_info("produce", "topic %s: %s", cfg->topic, tp_kafka_topic_layout_str(&l, buf, sizeof buf));
    if (p->existed &&
        (l.partitions != cfg->partitions || l.replication_factor != cfg->replication_factor ||
         (cfg->min_insync_replicas > 0 && l.min_insync >= 0 && l.min_insync != cfg->min_insync_replicas)))
        tp_warn("produce",
                "topic %s exists with a layout other than --create-topic asked for (%d partition(s), "
                "replication factor %d); it is used as it is (change it with the cluster's own tools, "
                "e.g. kafka-topics.sh --alter)",
                cfg->topic, cfg->partitions, cfg->replication_factor);
    if (l.replication_factor > 1 && l.min_insync >= l.replication_factor)
        tp_warn("produce",
                "topic %s: min.insync.replicas %d = replication factor: with acks=all, losing one broker "
                "stops every write until it is back",
                cfg->topic, l.min_insync);
}

/* Wait until the brokers answer a metadata request for the topic and it
 * has partitions. A topic a broker creates on first use answers
 * LEADER_NOT_AVAILABLE (or briefly UNKNOWN_TOPIC) before it is ready. */
static int check_topic(tp_producer *p, const tp_producer_config *cfg, int64_t deadline, char *err,
                       size_t errlen) {
    int answered = 0, unknown = 0;
    rd_kafka_resp_err_t last_topic_err = RD_KAFKA_RESP_ERR_NO_ERROR;
    /* With -X allow.auto.create.topics=false the topic must exist already:
     * ask for every topic (a request that never creates one), since some
     * brokers create a topic named in a metadata request whatever the
     * client says. */
    char ac[16] = "true";
    size_t acl = sizeof ac;
    rd_kafka_conf_get(rd_kafka_conf(p->rk), "allow.auto.create.topics", ac, &acl);
    int all_topics = strcmp(ac, "false") == 0;
    /* A topic handle makes librdkafka ask for that topic's metadata, which
     * is what may create it: only take one when creation is allowed. */
    if (!all_topics && !p->rkt && !(p->rkt = rd_kafka_topic_new(p->rk, cfg->topic, NULL)))
        return tp_seterr(err, errlen, TP_EINVAL, "topic %s: %s", cfg->topic,
                         rd_kafka_err2str(rd_kafka_last_error()));
    for (;;) {
        int64_t left = remaining_ms(deadline);
        if (left <= 0) break;
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_resp_err_t e = rd_kafka_metadata(p->rk, all_topics, all_topics ? NULL : p->rkt, &md,
                                                  (int)(left < 1000 ? left : 1000));
        rd_kafka_poll(p->rk, 0);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
            answered = 1;
            rd_kafka_resp_err_t te = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
            int parts = 0;
            for (int i = 0; i < md->topic_cnt; i++) {
                if (strcmp(md->topics[i].topic, cfg->topic) == 0) {
                    te = md->topics[i].err;
                    parts = md->topics[i].partition_cnt;
                }
            }
            rd_kafka_metadata_destroy(md);
            if (!te && parts > 0) {
                report_layout(p, cfg, left);
                return 0;
            }
            last_topic_err = te;
            if (te == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART && (all_topics || ++unknown >= 3)) break;
            if (te == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED || te == RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION)
                break;
        }
        rd_kafka_poll(p->rk, (int)(remaining_ms(deadline) < 200 ? remaining_ms(deadline) : 200));
    }
    if (!answered)
        return tp_seterr(
            err, errlen, TP_EUNAVAIL,
            "cannot reach the Kafka brokers %s within %d s%s%s; check --brokers (or KAFKA_SERVER and "
            "KAFKA_PORT) and that the cluster is up",
            p->brokers, (cfg->connect_timeout_ms + 999) / 1000, p->last_error[0] ? ": " : "", p->last_error);
    if (last_topic_err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
        return tp_seterr(err, errlen, TP_EREFUSED,
                         "topic %s does not exist on %s%s; create it, or run with "
                         "--create-topic [--partitions N --replication-factor R]",
                         cfg->topic, p->brokers,
                         all_topics ? " (allow.auto.create.topics=false)"
                                    : " and the cluster did not create it");
    return tp_seterr(err, errlen, TP_EREFUSED, "topic %s on %s is not usable: %s", cfg->topic, p->brokers,
                     last_topic_err ? rd_kafka_err2str(last_topic_err) : "no partitions");
}

static void *poller_main(void *arg) {
    tp_producer *p = arg;
    /* Serve whatever has piled up, then sleep: blocking in rd_kafka_poll
     * would be woken for every delivery report, and those wake-ups cost
     * more than the reports themselves at hundreds of thousands a second. */
    struct timespec nap = {0, 5 * 1000000L};
    while (!atomic_load(&p->poller_stop)) {
        rd_kafka_poll(p->rk, 0);
        tp_gauge_set(p->m.queue_depth, rd_kafka_outq_len(p->rk));
        nanosleep(&nap, NULL);
    }
    return NULL;
}

int tp_producer_new(const tp_producer_config *cfg, tp_producer **out, char *err, size_t errlen) {
    *out = NULL;
    if (!cfg->brokers || !*cfg->brokers) return tp_seterr(err, errlen, TP_EINVAL, "no Kafka brokers given");
    if (!cfg->topic || !*cfg->topic) return tp_seterr(err, errlen, TP_EINVAL, "no Kafka topic given");
    tp_producer *p = calloc(1, sizeof *p);
    if (!p) return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    p->topic = strdup(cfg->topic);
    p->brokers = strdup(cfg->brokers);
    p->drain_timeout_ms = cfg->drain_timeout_ms;
    pthread_mutex_init(&p->errmu, NULL);
    if (!p->topic || !p->brokers) {
        tp_producer_free(p);
        return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    }
    register_metrics(&p->m);

    char linger[48], comp[64];
    snprintf(linger, sizeof linger, "linger.ms=%d", cfg->linger_ms);
    snprintf(comp, sizeof comp, "compression.codec=%s", cfg->compression ? cfg->compression : "lz4");
    /* One request in flight per broker: with more, a new producer's first
     * batch to a partition can fail on a leader in motion (a new topic, a
     * broker stopping) while the next one, already on its way, is accepted
     * first; a broker that knows nothing of the producer takes any
     * sequence, and librdkafka 2.0.2 then reports the earlier batch as
     * delivered without it ever being written (seen: a partition whose
     * first batch carries sequence 1, the acknowledged sequence 0
     * missing). In order, a failed batch is retried before the next. */
    const char *defaults[] = {"enable.idempotence=true",
                              "acks=all",
                              "max.in.flight.requests.per.connection=1",
                              linger,
                              comp,
                              "message.timeout.ms=0",
                              "queue.buffering.max.kbytes=16384",
                              "queue.buffering.max.messages=100000",
                              "log.connection.close=false",
                              NULL};
    rd_kafka_conf_t *conf = tp_kafka_conf_new(cfg->brokers, defaults, cfg->props, err, errlen);
    if (!conf) {
        tp_producer_free(p);
        return TP_EINVAL;
    }
    rd_kafka_conf_set_opaque(conf, p);
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    char e[512];
    p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof e);
    if (!p->rk) {
        rd_kafka_conf_destroy(conf);
        tp_producer_free(p);
        return tp_seterr(err, errlen, TP_EINVAL, "cannot create the Kafka producer: %s", e);
    }
    int64_t deadline = tp_now_ms() + (cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : 10000);
    int rc = 0;
    if (cfg->create_topic) {
        rc = create_topic(p, cfg, deadline, err, errlen);
        deadline = tp_now_ms() + (cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : 10000);
    }
    if (!rc) rc = check_topic(p, cfg, deadline, err, errlen);
    if (!rc && !p->rkt && !(p->rkt = rd_kafka_topic_new(p->rk, cfg->topic, NULL)))
        rc = tp_seterr(err, errlen, TP_EINVAL, "topic %s: %s", cfg->topic,
                       rd_kafka_err2str(rd_kafka_last_error()));
    /* the start-up check saw the topic: for a while, a broker that says
     * otherwise has not caught up yet (see tp_producer_send) */
    p->unknown_grace_until_ms = tp_now_ms() + 30000;
    if (!rc && pthread_create(&p->poller, NULL, poller_main, p))
        rc = tp_seterr(err, errlen, TP_ENOMEM, "cannot start the producer's poller thread");
    else if (!rc)
        p->poller_started = 1;
    if (rc) {
        tp_producer_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

int tp_producer_send(tp_producer *p, const void *key, size_t keylen, const void *val, size_t len,
                     int64_t ts_ms, uint32_t ntrades, char *err, size_t errlen) {
    return tp_producer_send_headers(p, key, keylen, val, len, ts_ms, ntrades, NULL, 0, err, errlen);
}

int tp_producer_send_side(tp_producer *p, const char *topic, const void *key, size_t keylen, const void *val,
                          size_t len, const tp_producer_header *h, size_t nh, char *err, size_t errlen) {
    rd_kafka_headers_t *hdrs = rd_kafka_headers_new(nh ? nh : 1);
    if (!hdrs) return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    for (size_t i = 0; i < nh; i++) rd_kafka_header_add(hdrs, h[i].name, -1, h[i].value, (ssize_t)h[i].len);
    rd_kafka_resp_err_t e =
        rd_kafka_producev(p->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                          RD_KAFKA_V_KEY((void *)key, keylen), RD_KAFKA_V_VALUE((void *)val, len),
                          RD_KAFKA_V_OPAQUE((void *)(uintptr_t)0), RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
    if (e) {
        rd_kafka_headers_destroy(hdrs);
        return tp_seterr(err, errlen, e == RD_KAFKA_RESP_ERR__QUEUE_FULL ? TP_EAGAIN : TP_EREFUSED,
                         "cannot queue a message for %s: %s", topic, rd_kafka_err2str(e));
    }
    /* counted, so a flush waits for its delivery too */
    add(&p->messages, p->m.messages, 1);
    add(&p->bytes, p->m.bytes, len);
    return 0;
}

int tp_producer_send_headers(tp_producer *p, const void *key, size_t keylen, const void *val, size_t len,
                             int64_t ts_ms, uint32_t ntrades, const tp_producer_header *h, size_t nh,
                             char *err, size_t errlen) {
    int64_t give_up = 0;
    int waited = 0;
    for (;;) {
        if (atomic_load(&p->has_fatal))
            return tp_seterr(err, errlen, TP_EREFUSED, "producer failed: %s", p->fatal);
        rd_kafka_resp_err_t e;
        if (nh) {
            /* librdkafka owns the headers once the message is queued; a
             * refused attempt leaves them to us */
            rd_kafka_headers_t *hdrs = rd_kafka_headers_new(nh);
            if (!hdrs) return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
            for (size_t i = 0; i < nh; i++)
                rd_kafka_header_add(hdrs, h[i].name, -1, h[i].value, (ssize_t)h[i].len);
            e = rd_kafka_producev(p->rk, RD_KAFKA_V_RKT(p->rkt), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                  RD_KAFKA_V_KEY((void *)key, keylen), RD_KAFKA_V_VALUE((void *)val, len),
                                  RD_KAFKA_V_TIMESTAMP(ts_ms), RD_KAFKA_V_OPAQUE((void *)(uintptr_t)ntrades),
                                  RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
            if (e) rd_kafka_headers_destroy(hdrs);
        } else {
            e = rd_kafka_producev(p->rk, RD_KAFKA_V_RKT(p->rkt), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                  RD_KAFKA_V_KEY((void *)key, keylen), RD_KAFKA_V_VALUE((void *)val, len),
                                  RD_KAFKA_V_TIMESTAMP(ts_ms), RD_KAFKA_V_OPAQUE((void *)(uintptr_t)ntrades),
                                  RD_KAFKA_V_END);
        }
        if (!e) break;
        if (e == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC && tp_now_ms() < p->unknown_grace_until_ms &&
            p->interrupts == 0) {
            /* A topic created a moment ago is not known to every broker
             * yet: the one that answered librdkafka's last metadata request
             * said "no such topic". Ask again (bounded) instead of failing. */
            const struct rd_kafka_metadata *md = NULL;
            if (!rd_kafka_metadata(p->rk, 0, p->rkt, &md, 500)) rd_kafka_metadata_destroy(md);
            struct timespec ts = {0, 50 * 1000000L};
            nanosleep(&ts, NULL);
            continue;
        }
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            if (e == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE)
                return tp_seterr(err, errlen, TP_EINVAL,
                                 "a message of %zu bytes for %.*s is larger than message.max.bytes", len,
                                 (int)keylen, (const char *)key);
            if (e == RD_KAFKA_RESP_ERR__FATAL) {
                rd_kafka_poll(p->rk, 0);
                return tp_seterr(err, errlen, TP_EREFUSED, "producer failed: %s",
                                 atomic_load(&p->has_fatal) ? p->fatal : rd_kafka_err2str(e));
            }
            return tp_seterr(err, errlen, TP_EREFUSED, "cannot queue a message for %s: %s", p->topic,
                             rd_kafka_err2str(e));
        }
        /* Backpressure: wait for room, serving delivery reports meanwhile. */
        if (!waited) {
            waited = 1;
            add(&p->queue_full, p->m.queue_full, 1);
        }
        if (p->interrupts >= 2)
            return tp_seterr(err, errlen, TP_EAGAIN, "interrupted while the queue was full");
        if (p->interrupts == 1) {
            if (!give_up) give_up = tp_now_ms() + p->drain_timeout_ms;
            if (tp_now_ms() >= give_up)
                return tp_seterr(err, errlen, TP_EAGAIN,
                                 "the producer queue stayed full for %d ms after stop", p->drain_timeout_ms);
        }
        /* the poller thread serves delivery reports; just wait for room */
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    add(&p->messages, p->m.messages, 1);
    add(&p->trades, p->m.trades, ntrades);
    add(&p->bytes, p->m.bytes, len);
    return 0;
}

void tp_producer_poll(tp_producer *p, int timeout_ms) {
    rd_kafka_poll(p->rk, timeout_ms);
    tp_gauge_set(p->m.queue_depth, rd_kafka_outq_len(p->rk));
}

void tp_producer_interrupt(tp_producer *p) {
    if (p && p->interrupts < 2) p->interrupts++;
}

static void left(tp_producer *p, uint64_t *lm, uint64_t *lt) {
    uint64_t m = get(&p->messages) - get(&p->delivered_messages) - get(&p->failed_messages);
    uint64_t t = get(&p->trades) - get(&p->delivered_trades) - get(&p->failed_trades);
    if (lm) *lm = m;
    if (lt) *lt = t;
}

int tp_producer_flush(tp_producer *p, int timeout_ms, uint64_t *left_messages, uint64_t *left_trades) {
    int64_t deadline = tp_now_ms() + timeout_ms;
    for (;;) {
        uint64_t lm;
        rd_kafka_poll(p->rk, 0);
        left(p, &lm, NULL);
        if (lm == 0 || p->interrupts >= 2 || atomic_load(&p->has_fatal)) break;
        int64_t r = remaining_ms(deadline);
        if (r <= 0) break;
        rd_kafka_flush(p->rk, (int)(r < 100 ? r : 100));
    }
    tp_gauge_set(p->m.queue_depth, rd_kafka_outq_len(p->rk));
    uint64_t lm, lt;
    left(p, &lm, &lt);
    if (left_messages) *left_messages = lm;
    if (left_trades) *left_trades = lt;
    return lm ? TP_EAGAIN : 0;
}

int tp_producer_queue_depth(tp_producer *p) {
    return rd_kafka_outq_len(p->rk);
}

void tp_producer_get_stats(tp_producer *p, tp_producer_stats *s) {
    s->messages = get(&p->messages);
    s->trades = get(&p->trades);
    s->bytes = get(&p->bytes);
    s->delivered_messages = get(&p->delivered_messages);
    s->delivered_trades = get(&p->delivered_trades);
    s->failed_messages = get(&p->failed_messages);
    s->failed_trades = get(&p->failed_trades);
    s->queue_full = get(&p->queue_full);
}

const char *tp_producer_fatal(tp_producer *p) {
    return atomic_load(&p->has_fatal) ? p->fatal : NULL;
}

void tp_producer_free(tp_producer *p) {
    if (!p) return;
    if (p->rkt) rd_kafka_topic_destroy(p->rkt);
    if (p->poller_started) {
        atomic_store(&p->poller_stop, 1);
        pthread_join(p->poller, NULL);
    }
    if (p->rk) {
        /* Undelivered messages are the caller's to report (flush); do not
         * let rd_kafka_destroy wait for a cluster that is away. */
        p->closing = 1;
        rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_poll(p->rk, 0);
        rd_kafka_destroy(p->rk);
    }
    pthread_mutex_destroy(&p->errmu);
    free(p->topic);
    free(p->brokers);
    free(p);
}
