/* handoff.h - a bounded queue of trade batches from one producer thread
 * (the feed) to one consumer thread (the pipeline), as `tickpipe run`
 * uses it.
 *
 * The bound is in trades, not batches, because frames vary from one trade
 * to hundreds. tp_handoff_put copies a batch (the feed's batch is reused
 * after its callback returns) and blocks while the queue holds max_trades
 * or more: that is the backpressure that makes the feed stop reading while
 * the store is slow. Batches are recycled through a free list, so a steady
 * stream allocates nothing once warm.
 *
 * Ending: the producer calls tp_handoff_close when it has nothing more;
 * the consumer then drains what is queued and tp_handoff_take reports
 * done. tp_handoff_stop_waiting (a drain was asked for) lets a blocked or
 * later put through past the bound, so the feed's last frames are still
 * stored. tp_handoff_abort (the consumer gave up) makes every put return
 * at once without queueing.
 *
 * Ownership and threads: the creator owns the queue and frees it after
 * both sides are done. put/close from the producer thread, take/release
 * from the consumer thread, stop_waiting/abort/trades from any thread (not
 * from a signal handler: they lock). */
#ifndef TP_HANDOFF_H
#define TP_HANDOFF_H

#include "core/metrics.h"
#include "core/trade.h"

#include <stddef.h>
#include <stdint.h>

typedef struct tp_handoff tp_handoff;

/* m_full counts puts that had to wait; m_depth follows the queued trades
 * (either may be NULL). 0 or TP_ENOMEM. */
int tp_handoff_new(size_t max_trades, tp_counter *m_full, tp_gauge *m_depth, tp_handoff **out);
void tp_handoff_free(tp_handoff *q);

/* Queue a copy of the first `take` trades of b (take <= b->n) with its
 * receive time and origin; a non-NULL topic replaces the origin's topic.
 * 0 when queued; 1 when the queue was aborted (nothing queued);
 * TP_ENOMEM. */
int tp_handoff_put(tp_handoff *q, const tp_batch *b, size_t take, const char *topic);
void tp_handoff_close(tp_handoff *q);

/* The oldest queued batch, waiting up to wait_ms (monotonic) for one; NULL
 * on timeout or when closed and empty (*done = 1 then). Give the batch
 * back with tp_handoff_release once its trades are used. */
tp_batch *tp_handoff_take(tp_handoff *q, int64_t wait_ms, int *done);
void tp_handoff_release(tp_handoff *q, tp_batch *b);

void tp_handoff_stop_waiting(tp_handoff *q);
void tp_handoff_abort(tp_handoff *q);
int tp_handoff_aborted(tp_handoff *q);
size_t tp_handoff_trades(tp_handoff *q); /* queued now */

#endif
