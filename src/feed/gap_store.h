/* gap_store.h - feed gaps (feed/gaps.h) into the store's feed_gaps table.
 *
 * `run` opens one of these on its store URL, beside the pipeline's own
 * handle, and sets tp_gap_store_write as the source's gap hook: gaps are
 * rare (one per symbol per reconnect), so each is written and committed at
 * once from the feed thread; a failure is retried once (the store
 * reconnects itself), then logged and counted, and the stream goes on (the
 * gap is still in the log and the gaps= count).
 *
 * Ownership and threads: the caller owns it; tp_gap_store_write from one
 * thread at a time (the source serialises its hooks). */
#ifndef TP_GAP_STORE_H
#define TP_GAP_STORE_H

#include "feed/gaps.h"

#include <stddef.h>
#include <stdint.h>

typedef struct tp_gap_store tp_gap_store;

/* 0; TP_ESTATE when the store keeps no feed gaps (err says which); or the
 * store's open error. */
int tp_gap_store_open(const char *store_url, tp_gap_store **out, char *err, size_t errlen);
/* A tp_gap_fn: ud is the tp_gap_store. */
void tp_gap_store_write(void *ud, const tp_feed_gap *g);
uint64_t tp_gap_store_failed(const tp_gap_store *g);
void tp_gap_store_close(tp_gap_store *g);

#endif
