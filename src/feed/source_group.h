/* source_group.h - many symbols over many connections: one tp_source
 * (source.h) per connection, run together behind one tp_source.
 *
 * Finnhub allows one WebSocket connection per API key and a limited number
 * of symbols per connection (50 on the free plan). With several tokens or
 * more symbols than one connection may carry, tp_source_new (source.c)
 * builds a group: the symbols are spread evenly over as many connections
 * as needed, ceil(symbols / limit), each with its own token, so each has
 * its own watchdog, backoff and reconnect; a connection's problems (a
 * silence, a key in use) touch no other. Each connection runs in its own
 * thread; their on_batch and frame-hook calls are serialised by one mutex,
 * so the caller's callbacks see one thread at a time, as with a single
 * connection. Batches carry origin.partition = the connection's index
 * (from 0), so the (partition, frame sequence) pairs that ids derive from
 * stay unique across connections.
 *
 * The group ends when any connection ends (a stop, on_batch asking to
 * stop, a fatal error): the others are stopped, and the first error is
 * returned. Stats are the sums over the connections.
 *
 * Ownership and threads: as for tp_source (source.h); the functions other
 * than tp_source_plan are called by source.c only. */
#ifndef TP_SOURCE_GROUP_H
#define TP_SOURCE_GROUP_H

#include "feed/source.h"

#include <stddef.h>

/* How many connections nsymbols need with ntokens tokens (0 counts as 1)
 * and at most limit symbols per connection (0 = no limit): *nconn, or
 * TP_EINVAL with err naming the fix when the tokens are too few. Pure. */
int tp_source_plan(size_t nsymbols, size_t ntokens, size_t limit, size_t *nconn, char *err, size_t errlen);

/* Does cfg need a group (more than one connection)? */
int tp_source_group_needed(const tp_source_config *cfg);

typedef struct tp_source_group tp_source_group;
int tp_source_group_new(const tp_source_config *cfg, tp_source_batch_fn fn, void *ud, tp_source_group **out,
                        char *err, size_t errlen);
int tp_source_group_run(tp_source_group *g, char *err, size_t errlen);
void tp_source_group_stop(tp_source_group *g); /* any thread, not a signal handler */
void tp_source_group_get_stats(const tp_source_group *g, tp_source_stats *out);
void tp_source_group_set_gap_hook(tp_source_group *g, tp_gap_fn fn, void *ud);
void tp_source_group_set_reject_hook(tp_source_group *g, tp_source_reject_fn fn, void *ud);
void tp_source_group_set_frame_hook(tp_source_group *g, tp_source_frame_fn fn, void *ud);
size_t tp_source_group_size(const tp_source_group *g);
void tp_source_group_free(tp_source_group *g);

#endif
