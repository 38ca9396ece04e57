/* consumer.c - see consumer.h for the offset, floor and rebalance design.
 *
 * Partition state lives in an array indexed by partition number (one
 * topic). The "first record that may still matter" list per partition is a
 * plain array used as a queue: pushes at the back when a record's newest
 * event time is the largest yet, pops at the front when a commit's floor
 * has passed an entry, compaction when the dead head is half the array. */
#include "kafka/consumer.h"

#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "core/metrics.h"
#include "kafka/topic.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MOD "consumer"
#define FLOOR_PREFIX "tickpipe:floor="

typedef struct mono_entry {
    int64_t offset, ts;
} mono_entry;

typedef struct part {
    int assigned;
    int eof;
    int64_t eof_offset;  /* the partition's end offset when eof was reported */
    int64_t eof_us;      /* tp_mono_us when eof was reported */
    int64_t next_offset; /* -1 until a record was consumed since assignment */
    int64_t floor;       /* from the previous owner's commit; INT64_MIN = none */
    int64_t max_ts;      /* newest event time consumed; INT64_MIN = none */
    int64_t committed_offset, committed_floor;
    mono_entry *q;
    size_t head, n, cap; /* live entries are q[head..n) */
} part;

struct tp_consumer {
    tp_consumer_config cfg;
    rd_kafka_t *rk;
    rd_kafka_t *dlq;
    char topic[256];
    char dlq_topic[256];
    part *parts;
    size_t nparts;
    tp_consumer_stats st;
    int64_t last_error_us; /* tp_mono_us of the last consumer error (0: none) */
    uint64_t dlq_failed;
    tp_counter *m_records, *m_dlq, *m_dlq_failed, *m_commits, *m_commit_errors, *m_rebalances, *m_errors;
    tp_gauge *m_assigned;
    /* tickpipe_kafka_consumer_lag{topic,partition}, by partition: set for
     * the partitions assigned now, absent for the others */
    tp_gauge **m_lag;
    size_t nlag;
    int64_t lag_next_us; /* tp_mono_us() of the next update */
};

static part *get_part(tp_consumer *c, int32_t p) {
    if (p < 0) return NULL;
    if ((size_t)p >= c->nparts) {
        size_t n = (size_t)p + 1;
        if (n < c->nparts * 2) n = c->nparts * 2;
        part *np = realloc(c->parts, n * sizeof(*np));
        if (!np) return NULL;
        memset(np + c->nparts, 0, (n - c->nparts) * sizeof(*np));
        c->parts = np;
        c->nparts = n;
    }
    return &c->parts[p];
}

static void part_clear(part *p) {
    free(p->q);
    memset(p, 0, sizeof(*p));
    p->next_offset = -1;
    p->floor = INT64_MIN;
    p->max_ts = INT64_MIN;
    p->committed_offset = -1;
    p->committed_floor = INT64_MIN;
}

static int64_t parse_floor(const void *md, size_t len) {
    char buf[64];
    size_t pl = strlen(FLOOR_PREFIX);
    if (!md || len <= pl || len >= sizeof buf) return INT64_MIN;
    memcpy(buf, md, len);
    buf[len] = '\0';
    if (strncmp(buf, FLOOR_PREFIX, pl)) return INT64_MIN;
    char *end;
    long long v = strtoll(buf + pl, &end, 10);
    if (*end) return INT64_MIN;
    return (int64_t)v;
}

static void assign_parts(tp_consumer *c, rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts) {
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
    for (int attempt = 0; attempt < 5; attempt++) {
        e = rd_kafka_committed(rk, parts, 10000);
        if (!e) break;
        tp_warn(MOD, "reading committed offsets failed (%s), retrying", rd_kafka_err2str(e));
    }
    if (e)
        tp_error(MOD,
                 "cannot read committed offsets (%s): windows of the assigned partitions may be rebuilt "
                 "from a partial replay",
                 rd_kafka_err2str(e));
    for (int i = 0; i < parts->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &parts->elems[i];
        part *p = get_part(c, tp->partition);
        if (!p) continue;
        part_clear(p);
        p->assigned = 1;
        p->floor = parse_floor(tp->metadata, tp->metadata_size);
        p->committed_offset = tp->offset;
        p->committed_floor = p->floor;
        char fl[32] = "none";
        if (p->floor != INT64_MIN) snprintf(fl, sizeof fl, "%" PRId64, p->floor);
        if (tp->offset >= 0)
            tp_info(MOD, "assigned %s [%d]: resuming at committed offset %" PRId64 " (window floor %s)",
                    tp->topic, tp->partition, tp->offset, fl);
        else
            tp_info(MOD, "assigned %s [%d]: no committed offset, starting per auto.offset.reset", tp->topic,
                    tp->partition);
    }
    c->st.assigned += (size_t)parts->cnt;
    if (!c->st.first_assign_us) c->st.first_assign_us = tp_mono_us();
    tp_gauge_set(c->m_assigned, (int64_t)c->st.assigned);
    e = rd_kafka_assign(rk, parts);
    if (e) tp_error(MOD, "assign failed: %s", rd_kafka_err2str(e));
}

static int commit_now(tp_consumer *c, int64_t open_since, char *err, size_t errlen);

/* The lag gauge of partition p (registered the first time), NULL if out
 * of memory. */
static tp_gauge *lag_gauge(tp_consumer *c, int32_t p) {
    if (p < 0) return NULL;
    if ((size_t)p >= c->nlag) {
        size_t n = (size_t)p + 1;
        tp_gauge **ng = realloc(c->m_lag, n * sizeof(*ng));
        if (!ng) return NULL;
        memset(ng + c->nlag, 0, (n - c->nlag) * sizeof(*ng));
        c->m_lag = ng;
        c->nlag = n;
    }
    if (!c->m_lag[p]) {
        char l[320];
        snprintf(l, sizeof l, "topic=\"%s\",partition=\"%d\"", c->topic, p);
        c->m_lag[p] = tp_metrics_gauge(
            "tickpipe_kafka_consumer_lag", l,
            "Records in the partition after this member's position (the next record it hands on): the "
            "partition's high watermark as last fetched minus the position; only for partitions assigned "
            "to this member");
        tp_gauge_clear(c->m_lag[p]);
    }
    return c->m_lag[p];
}

/* Every assigned partition's lag from librdkafka's cached high watermark
 * (no round trip); the position is the next record to hand on, else where
 * consumption starts (the committed offset, or the log start). */
static void update_lag(tp_consumer *c) {
    for (size_t i = 0; i < c->nparts; i++) {
        const part *p = &c->parts[i];
        if (!p->assigned) continue;
        tp_gauge *g = lag_gauge(c, (int32_t)i);
        int64_t lo = -1, hi = -1;
        if (!g || rd_kafka_get_watermark_offsets(c->rk, c->topic, (int32_t)i, &lo, &hi) || hi < 0)
            continue; /* nothing fetched yet: unknown, left as it was */
        int64_t pos = p->next_offset >= 0        ? p->next_offset
                      : p->eof                   ? p->eof_offset
                      : p->committed_offset >= 0 ? p->committed_offset
                                                 : lo;
        if (pos < 0) continue;
        tp_gauge_set(g, hi > pos ? hi - pos : 0);
    }
}

static void revoke_parts(tp_consumer *c, rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts) {
    int lost = rd_kafka_assignment_lost(rk);
    int64_t open_since = INT64_MAX;
    int rc = c->cfg.on_revoke ? c->cfg.on_revoke(c->cfg.ud, &open_since) : 0;
    if (lost) {
        tp_warn(MOD, "%d partition(s) lost (another member owns them now): not committing", parts->cnt);
    } else if (rc) {
        tp_error(MOD,
                 "partitions revoked but the store did not take the pending rows: offsets not committed, "
                 "the next owner re-reads them");
    } else {
        char e[512];
        if (commit_now(c, open_since, e, sizeof e)) tp_error(MOD, "commit before revoke failed: %s", e);
    }
    rd_kafka_assign(rk, NULL);
    for (size_t i = 0; i < c->nparts; i++) part_clear(&c->parts[i]);
    for (size_t i = 0; i < c->nlag; i++)
        if (c->m_lag[i]) tp_gauge_clear(c->m_lag[i]); /* another member's now */
    c->st.assigned = 0;
    tp_gauge_set(c->m_assigned, 0);
    if (c->cfg.on_reset) c->cfg.on_reset(c->cfg.ud);
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *parts,
                         void *opaque) {
    tp_consumer *c = opaque;
    c->st.rebalances++;
    tp_counter_add(c->m_rebalances, 1);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        assign_parts(c, rk, parts);
    } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        tp_info(MOD, "rebalance: %d partition(s) revoked; making pending rows durable and committing",
                parts->cnt);
        revoke_parts(c, rk, parts);
    } else {
        tp_error(MOD, "rebalance error: %s", rd_kafka_err2str(err));
        rd_kafka_assign(rk, NULL);
    }
}

/* The dead-letter producer gets the user's -X properties too, so that
 * security and connection settings apply; consumer-only ones among them
 * would make librdkafka warn once per property: those lines are dropped. */
static void dlq_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
    (void)rk;
    if (!strcmp(fac, "CONFWARN") && strstr(buf, "consumer property")) return;
    tp_log_level l = level <= 3 ? TP_LOG_ERROR : level == 4 ? TP_LOG_WARN : TP_LOG_DEBUG;
    if (tp_log_enabled(l)) tp_log(l, "kafka", "dead-letter producer: %s: %s", fac, buf);
}

static void dlq_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    tp_consumer *c = opaque;
    if (m->err) {
        c->dlq_failed++;
        tp_counter_add(c->m_dlq_failed, 1);
        tp_error(MOD, "dead-letter copy to %s failed: %s", c->dlq_topic, rd_kafka_err2str(m->err));
    }
}

/* "group.instance.id=ID" for --member-id: "host" is the host name, so that
 * one member per machine (or per pod of a StatefulSet, whose host names are
 * stable) needs no per-machine configuration. */
static int member_id_kv(const char *id, char *kv, size_t len, char *err, size_t errlen) {
    char host[256];
    if (!strcmp(id, "host")) {
        if (gethostname(host, sizeof host) || !host[0])
            return tp_seterr(err, errlen, TP_EINVAL, "--member-id host: cannot read the host name: %s",
                             strerror(errno));
        host[sizeof host - 1] = '\0';
        id = host;
    }
    if (strlen(id) > 249)
        return tp_seterr(err, errlen, TP_EINVAL, "--member-id: at most 249 bytes (Kafka's limit)");
    snprintf(kv, len, "group.instance.id=%s", id);
    return 0;
}

/* Say what the topic looks like (produce does the same), bounded: a
 * cluster that is away only makes this line say so. */
static void log_layout(tp_consumer *c) {
    tp_kafka_topic_layout l;
    char e[256], buf[160];
    if (tp_kafka_topic_describe(c->rk, c->topic, 2000, &l, e, sizeof e))
        tp_info(MOD, "topic %s: layout not known yet (%s)", c->topic, e);
    else
        tp_info(MOD, "topic %s: %s", c->topic, tp_kafka_topic_layout_str(&l, buf, sizeof buf));
}

int tp_consumer_new(const tp_consumer_config *cfg, tp_consumer **out, char *err, size_t errlen) {
    *out = NULL;
    tp_consumer *c = calloc(1, sizeof(*c));
    if (!c) return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    c->cfg = *cfg;
    snprintf(c->topic, sizeof c->topic, "%s", cfg->topic);
    snprintf(c->dlq_topic, sizeof c->dlq_topic, "%s", cfg->dlq_topic ? cfg->dlq_topic : "");
    c->cfg.topic = c->topic;
    c->cfg.dlq_topic = c->dlq_topic;
    c->m_records = tp_metrics_counter("tickpipe_consume_records_total", NULL, "Kafka records consumed");
    c->m_dlq =
        tp_metrics_counter("tickpipe_consume_dlq_total", NULL, "Records copied to the dead-letter topic");
    c->m_dlq_failed = tp_metrics_counter("tickpipe_consume_dlq_failed_total", NULL,
                                         "Dead-letter copies that failed to deliver");
    c->m_commits = tp_metrics_counter("tickpipe_consume_commits_total", NULL, "Offset commits");
    c->m_commit_errors =
        tp_metrics_counter("tickpipe_consume_commit_errors_total", NULL, "Failed offset commits");
    c->m_rebalances = tp_metrics_counter("tickpipe_consume_rebalances_total", NULL, "Group rebalance events");
    c->m_errors =
        tp_metrics_counter("tickpipe_consume_errors_total", NULL, "Consumer errors reported by librdkafka");
    c->m_assigned = tp_metrics_gauge("tickpipe_consume_assigned_partitions", NULL, "Partitions assigned");

    char group_kv[300], member_kv[300] = "";
    snprintf(group_kv, sizeof group_kv, "group.id=%s", cfg->group);
    if (cfg->member_id && *cfg->member_id) {
        int rc = member_id_kv(cfg->member_id, member_kv, sizeof member_kv, err, errlen);
        if (rc) {
            free(c);
            return rc;
        }
    }
    const char *defaults[] = {group_kv,
                              "enable.auto.commit=false",
                              "enable.auto.offset.store=false",
                              "auto.offset.reset=earliest",
                              "enable.partition.eof=true",
                              "partition.assignment.strategy=range,roundrobin",
                              member_kv[0] ? member_kv : NULL,
                              NULL};
    rd_kafka_conf_t *conf = tp_kafka_conf_new(cfg->brokers, defaults, cfg->props, err, errlen);
    if (!conf) {
        free(c);
        return TP_EINVAL;
    }
    /* The rebalance callback assigns eagerly (rd_kafka_assign), which
     * librdkafka refuses under a cooperative protocol: the member would
     * then own nothing. Say so at start instead. */
    char strat[128] = "";
    size_t strat_len = sizeof strat;
    if (rd_kafka_conf_get(conf, "partition.assignment.strategy", strat, &strat_len) == RD_KAFKA_CONF_OK &&
        strstr(strat, "cooperative")) {
        rd_kafka_conf_destroy(conf);
        free(c);
        return tp_seterr(err, errlen, TP_EINVAL,
                         "-X partition.assignment.strategy=%s: cooperative rebalancing is not supported "
                         "(process rebuilds windows on eager rebalances); use range or roundrobin, and "
                         "--member-id for restarts without a rebalance",
                         strat);
    }
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    rd_kafka_conf_set_opaque(conf, c);
    char e[512];
    c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, e, sizeof e);
    if (!c->rk) {
        rd_kafka_conf_destroy(conf);
        free(c);
        return tp_seterr(err, errlen, TP_EINVAL, "cannot create the Kafka consumer: %s", e);
    }
    rd_kafka_poll_set_consumer(c->rk);

    if (c->dlq_topic[0]) {
        /* in flight one at a time, as produce's (see producer.c) */
        const char *pdefaults[] = {"acks=all", "enable.idempotence=true",
                                   "max.in.flight.requests.per.connection=1", "linger.ms=5", NULL};
        rd_kafka_conf_t *pconf = tp_kafka_conf_new(cfg->brokers, pdefaults, cfg->props, err, errlen);
        if (!pconf) {
            tp_consumer_close(c);
            return TP_EINVAL;
        }
        rd_kafka_conf_set_dr_msg_cb(pconf, dlq_dr_cb);
        rd_kafka_conf_set_log_cb(pconf, dlq_log_cb);
        rd_kafka_conf_set_opaque(pconf, c);
        c->dlq = rd_kafka_new(RD_KAFKA_PRODUCER, pconf, e, sizeof e);
        if (!c->dlq) {
            rd_kafka_conf_destroy(pconf);
            tp_consumer_close(c);
            return tp_seterr(err, errlen, TP_EINVAL, "cannot create the dead-letter producer: %s", e);
        }
    }

    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, c->topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t se = rd_kafka_subscribe(c->rk, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    if (se) {
        tp_consumer_close(c);
        return tp_seterr(err, errlen, TP_EINVAL, "cannot subscribe to topic '%s': %s", cfg->topic,
                         rd_kafka_err2str(se));
    }
    if (member_kv[0]) tp_info(MOD, "static group member %s", member_kv + strlen("group.instance.id="));
    log_layout(c);
    *out = c;
    return 0;
}

int tp_consumer_reach(tp_consumer *c, int timeout_ms, char *err, size_t errlen) {
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(c->rk, 0, NULL, &md, timeout_ms);
    if (md) rd_kafka_metadata_destroy(md);
    return e ? tp_seterr(err, errlen, TP_EUNAVAIL, "%s", rd_kafka_err2str(e)) : 0;
}

int tp_consumer_poll(tp_consumer *c, int timeout_ms, tp_consumer_record *rec, char *err, size_t errlen) {
    if (c->dlq) rd_kafka_poll(c->dlq, 0);
    int64_t now_us = tp_mono_us();
    if (now_us >= c->lag_next_us) {
        update_lag(c);
        c->lag_next_us = now_us + 1000000;
    }
    rd_kafka_message_t *m = rd_kafka_consumer_poll(c->rk, timeout_ms);
    if (!m) return TP_EAGAIN;
    if (m->err) {
        int rc = TP_EAGAIN;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            part *p = get_part(c, m->partition);
            if (p && p->assigned) {
                p->eof = 1;
                p->eof_offset = m->offset;
                p->eof_us = tp_mono_us();
            }
        } else {
            c->last_error_us = tp_mono_us(); /* no partition is idle for a while */
            tp_counter_add(c->m_errors, 1);
            rc = tp_seterr(err, errlen, TP_EUNAVAIL, "%s%s%s", m->rkt ? rd_kafka_topic_name(m->rkt) : "",
                           m->rkt ? ": " : "", rd_kafka_message_errstr(m));
        }
        rd_kafka_message_destroy(m);
        return rc;
    }
    part *p = get_part(c, m->partition);
    if (!p) {
        rd_kafka_message_destroy(m);
        return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    }
    p->eof = 0;
    rec->payload = m->payload;
    rec->len = m->len;
    rec->topic = rd_kafka_topic_name(m->rkt);
    rec->partition = m->partition;
    rec->offset = m->offset;
    rd_kafka_timestamp_type_t tt;
    rec->timestamp_ms = rd_kafka_message_timestamp(m, &tt);
    rec->floor_ms = p->floor;
    rec->msg_ = m;
    return 0;
}

int tp_consumer_record_header(const tp_consumer_record *rec, const char *name, const void **val,
                              size_t *len) {
    rd_kafka_headers_t *h = NULL;
    if (!rec->msg_ || rd_kafka_message_headers(rec->msg_, &h) || !h) return -1;
    const void *v = NULL;
    size_t n = 0;
    if (rd_kafka_header_get_last(h, name, &v, &n) || !v) return -1;
    *val = v;
    *len = n;
    return 0;
}

void tp_consumer_done(tp_consumer *c, tp_consumer_record *rec, int64_t max_ts) {
    part *p = get_part(c, rec->partition);
    if (p) {
        if (rec->offset + 1 > p->next_offset) p->next_offset = rec->offset + 1;
        if (max_ts != INT64_MIN) {
            if (max_ts > p->max_ts) {
                p->max_ts = max_ts;
                /* the newest event time so far: this record may be the first
                 * one a later floor needs */
                if (p->n == p->cap) {
                    if (p->head > p->cap / 2) {
                        memmove(p->q, p->q + p->head, (p->n - p->head) * sizeof(mono_entry));
                        p->n -= p->head;
                        p->head = 0;
                    } else {
                        size_t cap = p->cap ? p->cap * 2 : 1024;
                        mono_entry *q = realloc(p->q, cap * sizeof(*q));
                        if (q) {
                            p->q = q;
                            p->cap = cap;
                        }
                    }
                }
                if (p->n < p->cap) p->q[p->n++] = (mono_entry){rec->offset, max_ts};
                /* Out of memory: the record cannot be tracked, so this
                 * partition's commits stop advancing (a restart replays more,
                 * never less). */
                else
                    p->committed_floor = INT64_MAX;
            }
        }
    }
    c->st.records++;
    tp_counter_add(c->m_records, 1);
    rd_kafka_message_destroy(rec->msg_);
    rec->msg_ = NULL;
}

int tp_consumer_dlq(tp_consumer *c, const tp_consumer_record *rec, const char *reason) {
    if (!c->dlq) return 0;
    rd_kafka_message_t *m = rec->msg_;
    char pnum[16], off[24];
    snprintf(pnum, sizeof pnum, "%d", rec->partition);
    snprintf(off, sizeof off, "%" PRId64, rec->offset);
    for (;;) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            c->dlq, RD_KAFKA_V_TOPIC(c->dlq_topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_KEY(m->key, m->key_len), RD_KAFKA_V_VALUE(m->payload, m->len),
            RD_KAFKA_V_HEADER("tickpipe.source.topic", rec->topic, -1),
            RD_KAFKA_V_HEADER("tickpipe.source.partition", pnum, -1),
            RD_KAFKA_V_HEADER("tickpipe.source.offset", off, -1),
            RD_KAFKA_V_HEADER("tickpipe.error", reason ? reason : "", -1), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(c->dlq, 100);
            continue;
        }
        if (e) {
            tp_error(MOD, "cannot copy %s [%d] offset %" PRId64 " to the dead-letter topic %s: %s",
                     rec->topic, rec->partition, rec->offset, c->dlq_topic, rd_kafka_err2str(e));
            return TP_EUNAVAIL;
        }
        break;
    }
    c->st.dlq++;
    tp_counter_add(c->m_dlq, 1);
    return 0;
}

int64_t tp_consumer_input_watermark(const tp_consumer *c) {
    /* A partition still being read (not at its end) holds the watermark
     * back, even before its first record: its backlog may be older than
     * what the other partitions delivered. A partition at its end holds it
     * back too until it has been idle for partition_idle_ms: no record and
     * no consumer error (a broker, leader or coordinator away) meanwhile,
     * so records that a failover delays (a producer retrying, a leader
     * moving) are not passed by the watermark. Then it does not, and when
     * every partition is idle the slowest one's newest event time is used.
     * The limit: a record delayed longer than partition_idle_ms plus the
     * allowed lateness after its partition went quiet is late. */
    int64_t active = INT64_MAX, any = INT64_MAX;
    int64_t now_us = tp_mono_us(), idle_us = c->cfg.partition_idle_ms * 1000;
    for (size_t i = 0; i < c->nparts; i++) {
        const part *p = &c->parts[i];
        if (!p->assigned) continue;
        int idle = p->eof;
        if (idle && idle_us > 0) {
            int64_t quiet_since = p->eof_us > c->last_error_us ? p->eof_us : c->last_error_us;
            if (now_us - quiet_since < idle_us) idle = 0;
        }
        if (idle) {
            /* At its end when last polled, but records may have arrived
             * since (a burst after a quiet spell): librdkafka's cached high
             * watermark, updated by every fetch response before the records
             * are handed out, tells without a round trip. A partition with
             * records waiting holds the watermark back again. */
            int64_t lo = 0, hi = 0;
            if (rd_kafka_get_watermark_offsets(c->rk, c->topic, (int32_t)i, &lo, &hi) ==
                    RD_KAFKA_RESP_ERR_NO_ERROR &&
                hi > p->eof_offset)
                idle = 0;
        }
        if (!idle) {
            if (p->max_ts == INT64_MIN) return INT64_MIN;
            if (p->max_ts < active) active = p->max_ts;
        }
        if (p->max_ts != INT64_MIN && p->max_ts < any) any = p->max_ts;
    }
    if (active != INT64_MAX) return active;
    return any == INT64_MAX ? INT64_MIN : any;
}

static int commit_now(tp_consumer *c, int64_t open_since, char *err, size_t errlen) {
    if (c->dlq && rd_kafka_outq_len(c->dlq) > 0) {
        rd_kafka_flush(c->dlq, 30000);
        if (rd_kafka_outq_len(c->dlq) > 0)
            return tp_seterr(err, errlen, TP_EUNAVAIL,
                             "dead-letter copies not delivered yet (%d waiting): offsets not committed",
                             rd_kafka_outq_len(c->dlq));
    }
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)c->nparts + 1);
    int64_t *floors = calloc(c->nparts + 1, sizeof(int64_t));
    int64_t *offs = calloc(c->nparts + 1, sizeof(int64_t));
    if (!l || !floors || !offs) {
        if (l) rd_kafka_topic_partition_list_destroy(l);
        free(floors);
        free(offs);
        return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < c->nparts; i++) {
        part *p = &c->parts[i];
        floors[i] = INT64_MIN;
        if (!p->assigned || p->next_offset < 0 || p->committed_floor == INT64_MAX) continue;
        int64_t f = p->floor;
        if (open_since != INT64_MAX && open_since > f) f = open_since;
        if (p->committed_floor > f) f = p->committed_floor; /* never move backwards */
        while (p->head < p->n && p->q[p->head].ts < f) p->head++;
        int64_t o = p->head < p->n ? p->q[p->head].offset : p->next_offset;
        if (p->committed_offset > o) o = p->committed_offset; /* committed data stays committed */
        if (o == p->committed_offset && f == p->committed_floor) continue;
        rd_kafka_topic_partition_t *tp = rd_kafka_topic_partition_list_add(l, c->topic, (int32_t)i);
        tp->offset = o;
        if (f != INT64_MIN) {
            char md[64];
            int n = snprintf(md, sizeof md, FLOOR_PREFIX "%" PRId64, f);
            tp->metadata = malloc((size_t)n);
            if (tp->metadata) {
                memcpy(tp->metadata, md, (size_t)n);
                tp->metadata_size = (size_t)n;
            }
        }
        floors[i] = f;
        offs[i] = o;
    }
    int rc = 0;
    if (l->cnt) {
        rd_kafka_resp_err_t e = rd_kafka_commit(c->rk, l, 0);
        for (int i = 0; !e && i < l->cnt; i++)
            if (l->elems[i].err) e = l->elems[i].err;
        if (e) {
            c->st.commit_errors++;
            tp_counter_add(c->m_commit_errors, 1);
            rc = tp_seterr(err, errlen, TP_EUNAVAIL, "offset commit failed: %s", rd_kafka_err2str(e));
        } else {
            for (int i = 0; i < l->cnt; i++) {
                part *p = &c->parts[l->elems[i].partition];
                p->committed_offset = offs[l->elems[i].partition];
                p->committed_floor = floors[l->elems[i].partition];
            }
            c->st.commits++;
            tp_counter_add(c->m_commits, 1);
        }
    }
    rd_kafka_topic_partition_list_destroy(l);
    free(floors);
    free(offs);
    return rc;
}

int tp_consumer_commit(tp_consumer *c, int64_t open_since, char *err, size_t errlen) {
    return commit_now(c, open_since, err, errlen);
}

void tp_consumer_get_stats(const tp_consumer *c, tp_consumer_stats *out) {
    *out = c->st;
}

void tp_consumer_close(tp_consumer *c) {
    if (!c) return;
    if (c->rk) {
        rd_kafka_consumer_close(c->rk); /* runs the revoke callback: last flush and commit */
        rd_kafka_destroy(c->rk);
    }
    if (c->dlq) {
        rd_kafka_flush(c->dlq, 10000);
        if (rd_kafka_outq_len(c->dlq) > 0)
            tp_error(MOD, "%d dead-letter copies not delivered at exit", rd_kafka_outq_len(c->dlq));
        rd_kafka_destroy(c->dlq);
    }
    for (size_t i = 0; i < c->nparts; i++) free(c->parts[i].q);
    free(c->parts);
    for (size_t i = 0; i < c->nlag; i++)
        if (c->m_lag[i]) tp_gauge_clear(c->m_lag[i]);
    free(c->m_lag);
    free(c);
}
