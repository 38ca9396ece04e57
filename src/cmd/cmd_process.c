/* cmd_process.c - `tickpipe process`: Kafka consumer group -> Avro decode
 * -> windows -> store, offsets committed only once the store has the rows.
 *
 * One thread runs the loop: poll a record, decode it (a record that does
 * not decode is logged, counted, copied to the dead-letter topic and
 * skipped), hand its trades to the pipeline, and when a flush is due make
 * the unit durable and then commit offsets (kafka/consumer.h explains which
 * offsets and why a restart rebuilds windows exactly). The watermark follows
 * the slowest partition. Rebalances run inside the poll: the consumer calls
 * back here to flush before partitions go and to drop window state after.
 * The first SIGINT/SIGTERM (or --duration, --max-trades) ends the loop and
 * the last unit is flushed and committed (exit 0). A store that is down is
 * retried for at most --drain-timeout from that first stop (the deadline is
 * the pipeline's, so a flush already retrying inside the loop gives up
 * too), and a second signal stops retrying at once: exit 1, saying how many
 * trades are not durable (their offsets stay uncommitted, so the next start
 * reads them again). Retention (--retain-*) runs in the pipeline between
 * units, as in run.
 *
 * The Kafka part of a stop (the last offset commit, leaving the group)
 * waits in librdkafka for a coordinator, and nothing interrupts that wait
 * when every broker is gone; a guard thread bounds it: past the drain
 * deadline plus a few seconds (2 s after a second signal) the process
 * exits 1 without it. Nothing is lost: the store has every trade it took,
 * and offsets not committed only mean those records are read again (the
 * store keeps each trade once) at the next start. */
#include "cmd/commands.h"

#include "codec/avro_trades.h"
#include "cmd/flags.h"
#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "core/shutdown.h"
#include "kafka/consumer.h"
#include "process/consume.h"
#include "process/pipeline.h"
#include "http/http.h"
#include "core/listen.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MOD "process"
#define CLOSE_GRACE_US 5000000    /* the Kafka part's time past the drain deadline */
#define GIVE_UP_GRACE_US 2000000  /* ... and after a second signal */
#define REACH_TIMEOUT_US 10000000 /* for a broker to answer at start (produce's too) */

/* The bound on the stop's Kafka part (see the top). */
typedef struct close_guard {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* CLOCK_MONOTONIC */
    int done, started;
    int64_t deadline_us; /* tp_mono_us; INT64_MAX until the loop has ended */
    pthread_t th;
} close_guard;

typedef struct proc {
    tp_consume c;
    _Atomic int stop;
    _Atomic int drain_armed;
    int64_t drain_us;                 /* --drain-timeout */
    _Atomic int64_t stop_deadline_us; /* the drain's, once armed */
    close_guard guard;
} proc;

/* The drain's deadline, from the first stop of any kind. */
static void arm_drain(proc *pr) {
    if (!pr->c.pipe || atomic_exchange(&pr->drain_armed, 1)) return;
    int64_t at = tp_mono_us() + pr->drain_us;
    atomic_store(&pr->stop_deadline_us, at);
    tp_pipeline_stop_at(pr->c.pipe, at);
}

static void *guard_main(void *arg) {
    close_guard *g = arg;
    pthread_mutex_lock(&g->mu);
    while (!g->done) {
        int64_t left = g->deadline_us - tp_mono_us();
        if (left <= 0) break;
        struct timespec ts;
        tp_mono_deadline(&ts, (left + 999) / 1000);
        pthread_cond_timedwait(&g->cv, &g->mu, &ts);
    }
    int done = g->done;
    pthread_mutex_unlock(&g->mu);
    if (!done) {
        tp_error(MOD, "Kafka did not let go in time at the stop (are the brokers gone?): exiting without the "
                      "last offset commit; the next start reads those records again");
        fflush(stderr);
        _exit(1);
    }
    return NULL;
}

/* Move the guard's deadline earlier (or set it); starts the thread once. */
static void guard_at(close_guard *g, int64_t at_us) {
    pthread_mutex_lock(&g->mu);
    if (at_us < g->deadline_us) g->deadline_us = at_us;
    if (!g->started && !g->done) g->started = !pthread_create(&g->th, NULL, guard_main, g);
    pthread_cond_signal(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

static void guard_end(close_guard *g) {
    pthread_mutex_lock(&g->mu);
    g->done = 1;
    int started = g->started;
    g->started = 0; /* joined once */
    pthread_cond_signal(&g->cv);
    pthread_mutex_unlock(&g->mu);
    if (started) pthread_join(g->th, NULL);
}

/* Poll, add, flush when due, until a drain is asked for. */
static void consume_loop(proc *pr, int64_t max_trades, int64_t progress_ms, int64_t start_us) {
    tp_consume *c = &pr->c;
    tp_consume_progress pg = {.last_us = start_us};
    int64_t last_err_us = INT64_MIN / 2;
    uint64_t suppressed = 0;
    char err[512];
    while (!atomic_load(&pr->stop) && !c->failed) {
        tp_consumer_record rec;
        int64_t due_us = tp_pipeline_flush_in_us(c->pipe); /* group commit: wait no longer */
        int rc =
            tp_consumer_poll(c->cons, due_us < 0 ? 100 : (int)((due_us + 999) / 1000), &rec, err, sizeof err);
        if (rc == 0) {
            tp_consume_record(c, &rec);
            if (max_trades && c->trades >= (uint64_t)max_trades) break;
        } else if (rc != TP_EAGAIN) {
            if (tp_mono_us() - last_err_us >= 5000000) { /* one line per 5 s while Kafka is failing */
                tp_warn(MOD, "Kafka: %s%s", err, suppressed ? " (and more since the last report)" : "");
                last_err_us = tp_mono_us();
                suppressed = 0;
            } else {
                suppressed++;
            }
        }
        int64_t in_wm = tp_consumer_input_watermark(c->cons);
        if (in_wm != INT64_MIN) tp_pipeline_advance(c->pipe, in_wm);
        if (tp_pipeline_flush_due(c->pipe, tp_now_ms()) && tp_consume_flush_commit(c, 0) == TP_ESTATE)
            break; /* stopped while the store was down */
        tp_pipeline_retain(c->pipe);
        int64_t now = tp_mono_us();
        if (progress_ms > 0 && now - pg.last_us >= progress_ms * 1000) tp_consume_log_progress(c, &pg, now);
    }
}

static void on_drain(void *ud) {
    proc *pr = ud;
    tp_info(MOD,
            "stopping: storing what was consumed (a store that is down is retried for at most %.1f s, "
            "--drain-timeout; a second signal gives up at once)",
            (double)pr->drain_us / 1e6);
    atomic_store(&pr->stop, 1);
    arm_drain(pr);
    /* from the stop on, not only once the loop ends: the loop itself can be
     * inside a commit that waits for brokers that are gone */
    int64_t at = atomic_load(&pr->stop_deadline_us);
    if (at > 0) guard_at(&pr->guard, at + CLOSE_GRACE_US);
}

static void on_give_up(void *ud) {
    proc *pr = ud;
    tp_pipeline_stop(pr->c.pipe);
    guard_at(&pr->guard, tp_mono_us() + GIVE_UP_GRACE_US);
}
/* The pipeline and the consumer; an exit status on failure, else -1. */
static int open_stages(proc *pr, const tp_kafka_flags *kf, const tp_consumer_flags *cf,
                       const tp_store_flags *sf, const tp_windows_flags *wf, const tp_durable_flags *df,
                       const tp_checks_flags *ck, const char *brokers) {
    char err[512];
    tp_pipeline_config pc;
    tp_flags_pipeline_config(&pc, sf, wf, df, ck->max_ahead_ms);
    pc.win.external_watermark = 1;
    pr->c.limits = (tp_trade_limits){ck->max_age_ms, ck->max_ahead_ms};
    pr->c.offsets_interval_ms = wf->flush_interval_ms;
    pc.rebuild = TP_REBUILD_LAZY; /* only the symbols of the partitions this member gets */
    pc.dedupe_rebuilt = 1;        /* re-delivered records hold trades the store has */
    pr->drain_us = df->drain_ms * 1000;
    int rc = tp_pipeline_new(&pc, &pr->c.pipe, err, sizeof err);
    if (rc)
        return rc == TP_EINVAL ? tp_cmd_usage_error(&tp_spec_process, "%s", err)
                               : tp_cmd_fail(&tp_spec_process, "%s", err);
    tp_consumer_config cc = {
        .brokers = brokers,
        .topic = kf->topic,
        .group = cf->group,
        .dlq_topic = cf->dlq,
        .member_id = cf->member_id,
        .props = &kf->props,
        .partition_idle_ms = cf->partition_idle_ms,
        .on_revoke = tp_consume_on_revoke,
        .on_reset = tp_consume_on_reset,
        .ud = &pr->c,
    };
    rc = tp_consumer_new(&cc, &pr->c.cons, err, sizeof err);
    if (rc)
        return rc == TP_EINVAL ? tp_cmd_usage_error(&tp_spec_process, "%s", err)
                               : tp_cmd_fail(&tp_spec_process, "%s", err);
    return -1;
}

static int process_main(proc *pr, tp_cmd_args *a) {
    tp_kafka_flags *kf = &a->kafka;
    const tp_consumer_flags *cf = &a->consumer;
    const tp_store_flags *sf = &a->store;
    const tp_stop_flags *stop = &a->stop;
    char err[512], brokers[1024];
    if (tp_avro_schema_check(tp_avro_schema_json, err, sizeof err))
        return tp_cmd_fail(&tp_spec_process, "the built-in Avro schema is unusable: %s", err);
    tp_cfg_brokers(kf->brokers, brokers, sizeof brokers);
    tp_shutdown *sd = NULL;
    if (tp_shutdown_start(stop->duration_ms, &sd, err, sizeof err))
        return tp_cmd_fail(&tp_spec_process, "%s", err);
    int64_t since = tp_mono_us();
    int status = open_stages(pr, kf, cf, sf, &a->windows, &a->durable, &a->checks, brokers);
    /* a broker must answer at start (as in produce): with none reachable
     * the consumer would wait quietly for ever, logging librdkafka's errors */
    while (status < 0) {
        if (!tp_consumer_reach(pr->c.cons, 500, err, sizeof err)) break;
        int64_t now = tp_mono_us();
        if (now - since >= REACH_TIMEOUT_US || tp_shutdown_requested(sd)) {
            tp_consumer_close(pr->c.cons);
            pr->c.cons = NULL;
            status = tp_cmd_fail(&tp_spec_process,
                                 "cannot reach the Kafka brokers %s within %.0f s (%s); check --brokers (or "
                                 "KAFKA_SERVER and KAFKA_PORT) and that the cluster is up",
                                 brokers, (double)(now - since) / 1e6, err);
        }
    }
    if (status < 0) {
        tp_shutdown_ops ops = {.drain = on_drain, .give_up = on_give_up, .ud = pr};
        tp_shutdown_arm(sd, &ops);
        char safe_store[512];
        tp_log_redact(sf->store, safe_store, sizeof safe_store);
        tp_info(MOD, "consuming %s from %s as group %s into %s (dead letters: %s)", kf->topic, brokers,
                cf->group, safe_store, *cf->dlq ? cf->dlq : "off");
        /* --metrics: run's HTTP listener, so a long run can be watched (and
         * its latency read per minute) from outside */
        tp_http *http = NULL;
        if (cf->metrics && *cf->metrics) {
            tp_http_config hcfg;
            tp_http_config_default(&hcfg);
            hcfg.listen = cf->metrics;
            hcfg.store_url = sf->store;
            if (tp_http_start(&hcfg, &http, err, sizeof err)) {
                tp_consumer_close(pr->c.cons);
                tp_shutdown_end(sd);
                return tp_cmd_usage_error(&tp_spec_process, "--metrics: %s", err);
            }
            char url[300];
            tp_listen_url("http", cf->metrics, tp_http_port(http), url, sizeof url);
            fprintf(stderr, "tickpipe: metrics at %s/metrics\n", url);
        }
        int64_t start_us = tp_mono_us();
        consume_loop(pr, stop->max_trades, a->progress.interval_ms, start_us);
        arm_drain(pr);
        guard_at(&pr->guard, atomic_load(&pr->stop_deadline_us) + CLOSE_GRACE_US);
        status = tp_consume_drain(&pr->c);
        if (status && tp_pipeline_stopped(pr->c.pipe)) {
            tp_pipeline_stats ps;
            tp_pipeline_get_stats(pr->c.pipe, &ps);
            status = tp_cmd_fail(&tp_spec_process,
                                 "%s: %zu trades consumed are not durable (their offsets are not committed: "
                                 "the next start reads them again)",
                                 tp_shutdown_signals(sd) >= 2 ? "gave up on a second signal"
                                                              : "the drain timed out (--drain-timeout)",
                                 ps.pending);
        }
        tp_consumer_stats cs;
        tp_consumer_get_stats(pr->c.cons, &cs); /* before close frees the consumer */
        tp_consumer_close(pr->c.cons);
        tp_shutdown_arm(sd, NULL); /* no give_up from here on: the guard can go */
        guard_end(&pr->guard);
        tp_consume_log_summary(&pr->c, start_us, &cs);
        tp_http_stop(http);
    }
    tp_shutdown_end(sd);
    return status;
}

int tp_cmd_process(tp_cmd_args *a, int argc, char **argv, int first_arg) {
    proc pr = {0};
    pthread_mutex_init(&pr.guard.mu, NULL);
    tp_cond_init_mono(&pr.guard.cv);
    pr.guard.deadline_us = INT64_MAX;
    tp_consume_init(&pr.c);
    int status = process_main(&pr, a);
    guard_end(&pr.guard); /* no callback runs any more: tp_shutdown_end came first */
    if (pr.c.pipe) tp_pipeline_free(pr.c.pipe);
    tp_consume_free(&pr.c);
    pthread_cond_destroy(&pr.guard.cv);
    pthread_mutex_destroy(&pr.guard.mu);
    return status;
}
