/* feed_stage.c - see feed_stage.h. */
#include "process/feed_stage.h"

#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "core/metrics.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MOD "run"

int tp_feed_stage_init(tp_feed_stage *fs, size_t queue_trades, uint64_t max_trades) {
    memset(fs, 0, sizeof *fs);
    fs->max_trades = max_trades;
    fs->queue_trades = queue_trades;
    fs->drain_us = 30000000;
    fs->flush_interval_ms = 200;
    pthread_mutex_init(&fs->gap_mu, NULL);
    snprintf(fs->origin_topic, sizeof fs->origin_topic, "feed:%llx-%llx-%x", (unsigned long long)tp_now_ms(),
             (unsigned long long)tp_mono_us(), (unsigned)getpid());
    return tp_handoff_new(
        queue_trades,
        tp_metrics_counter("tickpipe_run_queue_full_total", NULL,
                           "Times the feed waited for processing (backpressure)"),
        tp_metrics_gauge("tickpipe_run_queue_trades", NULL, "Trades waiting to be processed"), &fs->q);
}

void tp_feed_stage_free(tp_feed_stage *fs) {
    tp_handoff_free(fs->q);
    fs->q = NULL;
    for (size_t i = 0; i < fs->ngap_q; i++) free((char *)fs->gap_q[i].symbol.ptr);
    free(fs->gap_q);
    fs->gap_q = NULL;
    fs->ngap_q = fs->cap_gap_q = 0;
    pthread_mutex_destroy(&fs->gap_mu);
}

int tp_feed_stage_on_batch(void *ud, tp_batch *b) {
    tp_feed_stage *fs = ud;
    size_t take = b->n;
    if (fs->max_trades) {
        uint64_t acc = atomic_load(&fs->accepted);
        if (acc >= fs->max_trades) return 1;
        if (acc + take > fs->max_trades) take = (size_t)(fs->max_trades - acc);
    }
    int rc = tp_handoff_put(fs->q, b, take, fs->origin_topic);
    if (rc < 0) tp_error(MOD, "out of memory queueing %zu trades; stopping", take);
    if (rc) return 1;
    uint64_t acc = atomic_fetch_add(&fs->accepted, take) + take;
    return fs->max_trades && acc >= fs->max_trades;
}

void tp_feed_stage_gap(void *ud, const tp_feed_gap *g) {
    tp_feed_stage *fs = ud;
    size_t len = strlen(g->symbol);
    char *sym = malloc(len + 1);
    if (!sym) {
        tp_error(MOD, "out of memory keeping the gap in %s; it is logged only", g->symbol);
        return;
    }
    memcpy(sym, g->symbol, len + 1);
    pthread_mutex_lock(&fs->gap_mu);
    if (fs->ngap_q == fs->cap_gap_q) {
        size_t cap = fs->cap_gap_q ? fs->cap_gap_q * 2 : 16;
        tp_gap_row *q = realloc(fs->gap_q, cap * sizeof *q);
        if (q) {
            fs->gap_q = q;
            fs->cap_gap_q = cap;
        }
    }
    int kept = fs->ngap_q < fs->cap_gap_q;
    if (kept)
        fs->gap_q[fs->ngap_q++] = (tp_gap_row){.symbol = {sym, (uint32_t)len},
                                               .from_ms = g->from_ms,
                                               .to_ms = g->to_ms,
                                               .reason = tp_gap_reason_name(g->reason),
                                               .detected_at_ms = g->detected_at_ms,
                                               .connection = g->connection,
                                               .from_trade_id = g->from_trade_id,
                                               .to_trade_id = g->to_trade_id};
    pthread_mutex_unlock(&fs->gap_mu);
    if (!kept) {
        free(sym);
        tp_error(MOD, "out of memory keeping the gap in %s; it is logged only", g->symbol);
    }
}

/* The loop's thread: the queued gaps into the pipeline. */
static void take_gaps(tp_feed_stage *fs) {
    pthread_mutex_lock(&fs->gap_mu);
    for (size_t i = 0; i < fs->ngap_q; i++) {
        if (tp_pipeline_add_gap(fs->pipe, &fs->gap_q[i]))
            tp_error(MOD, "out of memory adding the gap in %.*s", (int)fs->gap_q[i].symbol.len,
                     fs->gap_q[i].symbol.ptr);
        free((char *)fs->gap_q[i].symbol.ptr);
    }
    fs->ngap_q = 0;
    pthread_mutex_unlock(&fs->gap_mu);
}

typedef struct feed_thread {
    tp_feed_stage *fs;
    int rc;
    char err[512];
} feed_thread;

static void *source_main(void *arg) {
    feed_thread *ft = arg;
    tp_feed_stage *fs = ft->fs;
    ft->rc = tp_source_run(fs->src, ft->err, sizeof ft->err);
    if (ft->rc) tp_error(MOD, "feed stopped: %s", ft->err);
    if (atomic_load(&fs->draining) && !tp_handoff_aborted(fs->q))
        tp_info(MOD,
                "stopping: the feed is closed; storing the %zu queued trades and the open windows "
                "(a second Ctrl-C gives up on rows the store has not accepted)",
                tp_handoff_trades(fs->q));
    tp_handoff_close(fs->q);
    return NULL;
}

typedef struct progress {
    int64_t last_us;
    uint64_t last_trades;
} progress;

static void progress_line(tp_feed_stage *fs, progress *pg) {
    int64_t now = tp_mono_us();
    if (fs->progress_ms <= 0 || now - pg->last_us < fs->progress_ms * 1000) return;
    tp_pipeline_stats ps;
    tp_pipeline_get_stats(fs->pipe, &ps);
    tp_source_stats ss;
    tp_source_get_stats(fs->src, &ss);
    double secs = (double)(now - pg->last_us) / 1e6;
    tp_info(
        MOD,
        "%.0f trades/s, %llu trades stored, %llu late, %llu reconnects, %llu handovers, %llu store errors",
        (double)(ps.trades - pg->last_trades) / secs, (unsigned long long)ps.trades,
        (unsigned long long)ps.late, (unsigned long long)ss.reconnects, (unsigned long long)ss.handovers,
        (unsigned long long)ps.store_errors);
    pg->last_trades = ps.trades;
    pg->last_us = now;
}

/* The drain's deadline, from the first stop. */
static void arm_drain(tp_feed_stage *fs) {
    if (!fs->pipe || atomic_exchange(&fs->drain_armed, 1)) return;
    tp_pipeline_stop_at(fs->pipe, tp_mono_us() + fs->drain_us);
}

/* Feed and queue health (the store's is set by the pipeline itself). */
static void poll_health(tp_feed_stage *fs) {
    int64_t now = tp_mono_us();
    if (!fs->health || now - fs->health_at_us < 100000) return;
    fs->health_at_us = now;
    double connected = 1, connections = 1;
    /* every connection subscribed (several run with more symbols than one
     * connection may carry) */
    if (fs->live_feed && tp_metrics_value("tickpipe_ingest_connected", NULL, &connected) == 0 &&
        tp_metrics_value("tickpipe_ingest_connections", NULL, &connections) == 0)
        tp_health_set(
            fs->health, TP_HEALTH_FEED, connected > 0 && connected >= connections,
            "not connected to the feed on every connection (reconnecting with backoff; see the log)");
    size_t queued = tp_handoff_trades(fs->q);
    char detail[200];
    snprintf(detail, sizeof detail,
             "the hand-off queue is full (%zu trades): the store takes rows slower than the feed sends them",
             queued);
    tp_health_set(fs->health, TP_HEALTH_QUEUE, queued < fs->queue_trades, detail);
}

/* The caller's thread: take queued batches, add, flush when due. */
static int pipeline_loop(tp_feed_stage *fs) {
    progress pg = {.last_us = tp_mono_us()};
    int64_t idle_ms = fs->flush_interval_ms > 0 ? fs->flush_interval_ms : 200;
    for (;;) {
        int done = 0;
        int64_t due_us = tp_pipeline_flush_in_us(fs->pipe); /* group commit: wait no longer */
        tp_batch *b = tp_handoff_take(fs->q, due_us >= 0 ? (due_us + 999) / 1000 : idle_ms, &done);
        take_gaps(fs); /* before b: a gap is queued before the batch that closes it */
        if (b) {
            if (tp_pipeline_add(fs->pipe, b))
                tp_error(MOD, "out of memory adding %zu trades to the pipeline", b->n);
            tp_handoff_release(fs->q, b);
        }
        if (done) break;
        if (fs->max_trades && atomic_load(&fs->accepted) >= fs->max_trades) arm_drain(fs);
        if (atomic_load(&fs->drain_armed) && tp_pipeline_stopped(fs->pipe)) goto give_up; /* timed out */
        if (tp_pipeline_flush_due(fs->pipe, tp_now_ms()) && tp_pipeline_flush(fs->pipe, 0))
            goto give_up; /* stopped while the store was failing */
        tp_pipeline_retain(fs->pipe);
        progress_line(fs, &pg);
        poll_health(fs);
    }
    arm_drain(fs);
    take_gaps(fs);
    if (!tp_pipeline_flush(fs->pipe, 1)) return 0;
give_up:
    tp_handoff_abort(fs->q);
    tp_source_stop(fs->src);
    return 1;
}

int tp_feed_stage_run(tp_feed_stage *fs, int *feed_rc) {
    feed_thread ft = {.fs = fs};
    pthread_t th;
    *feed_rc = 0;
    if (pthread_create(&th, NULL, source_main, &ft)) {
        tp_error(MOD, "cannot start the feed thread");
        return 1;
    }
    int prc = pipeline_loop(fs);
    pthread_join(th, NULL);
    *feed_rc = ft.rc;
    return prc;
}

void tp_feed_stage_drain(tp_feed_stage *fs) {
    atomic_store(&fs->draining, 1);
    arm_drain(fs);
    tp_handoff_stop_waiting(fs->q);
    tp_source_stop(fs->src);
}
