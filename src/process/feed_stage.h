/* feed_stage.h - a live feed through the pipeline in one process, as
 * `tickpipe run` does it:
 *
 *   source thread: tp_source_run -> tp_feed_stage_on_batch -> hand-off queue
 *   caller's thread: queue -> tp_pipeline_add -> flush when due
 *
 * The queue (core/handoff.h) is bounded in trades, so a slow store makes
 * the source stop reading instead of growing memory. Batches are stamped
 * with origin topic "feed:<nonce>" (the nonce is per stage: two runs on one
 * store never share trade ids) and the frame sequence number. --max-trades
 * is enforced exactly, trades past it are not queued.
 *
 * Ending: tp_feed_stage_drain (from any thread) stops the source and lets
 * its last frames past the bound; the loop then takes what is queued,
 * flushes every open window and returns, within drain_us (then it gives up
 * and returns 1, the unstored trades still counted in the queue and the
 * pipeline's pending).
 * Group commit: the loop waits for input no longer than
 * tp_pipeline_flush_in_us() says. When a flush fails after
 * tp_pipeline_stop (the caller gave up on the store) the loop aborts the
 * queue and returns 1.
 *
 * Gaps: tp_feed_stage_gap is the source's gap hook (its thread); the gaps
 * wait in a small locked list and the loop hands them to
 * tp_pipeline_add_gap before the batch it took (the hook runs before the
 * batch holding the symbol's first trade after the hole is queued, so that
 * batch never overtakes its gap).
 *
 * Ownership and threads: the caller owns the stage and the source and
 * pipeline it points to (set src and pipe before tp_feed_stage_run; make
 * the source with tp_feed_stage_on_batch and the stage as ud). */
#ifndef TP_FEED_STAGE_H
#define TP_FEED_STAGE_H

#include "core/handoff.h"
#include "feed/source.h"
#include "process/health.h"
#include "process/pipeline.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

typedef struct tp_feed_stage {
    tp_handoff *q;
    tp_source *src;
    tp_pipeline *pipe;
    char origin_topic[64];
    uint64_t max_trades; /* 0 = no limit */
    _Atomic uint64_t accepted;
    _Atomic int draining;
    int64_t flush_interval_ms, progress_ms; /* progress_ms 0 = no progress lines */
    /* The drain lasts at most drain_us from the first stop (drain, the
     * feed ending, max_trades); then the pipeline gives up on the store. */
    int64_t drain_us;
    _Atomic int drain_armed;
    /* Optional: feed (the connection gauge, when live_feed) and queue
     * health, polled by the loop at most every 100 ms. */
    tp_health *health;
    int live_feed;
    size_t queue_trades;
    int64_t health_at_us;
    /* gaps from the source thread, taken by the loop (under gap_mu) */
    pthread_mutex_t gap_mu;
    tp_gap_row *gap_q;
    size_t ngap_q, cap_gap_q;
} tp_feed_stage;

/* 0 or TP_ENOMEM. */
int tp_feed_stage_init(tp_feed_stage *fs, size_t queue_trades, uint64_t max_trades);
void tp_feed_stage_free(tp_feed_stage *fs);

/* The source's batch callback (ud = the stage). */
int tp_feed_stage_on_batch(void *ud, tp_batch *b);
/* The source's gap hook (ud = the stage; tp_gap_fn). */
void tp_feed_stage_gap(void *ud, const tp_feed_gap *g);
/* Run both sides until the feed ends and the queue is drained. Returns 0
 * after a clean drain, 1 if rows could not be made durable; *feed_rc is
 * tp_source_run's result. */
int tp_feed_stage_run(tp_feed_stage *fs, int *feed_rc);
void tp_feed_stage_drain(tp_feed_stage *fs);

#endif
