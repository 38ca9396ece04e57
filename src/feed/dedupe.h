/* dedupe.h - drop a trade message that repeats one delivered moments ago.
 *
 * Finnhub has been seen delivering the same trade message two and three
 * times on one connection. Its trades carry no id, so a repeat can only be
 * told by its content: a message is an "exact repeat" when its parsed
 * trades are, in order and all of them, equal to those of a message
 * received on the same connection within the horizon: same count, and for
 * each trade the same symbol, event time (ms), price and volume (bit for
 * bit) and conditions. Trades inside one message are never compared with
 * each other, and a message is dropped only whole, so two equal trades in
 * one message are both kept, and so are equal trades in messages that are
 * not equal as a whole.
 *
 * Memory is bounded: a ring of the last `capacity` distinct messages (a
 * 64-bit hash of the trades, the count and the receive time each) and an
 * open-addressing set over the ring's hashes (linear probing, deletion by
 * backward shift: no tombstones, O(1) per message). Entries leave the set
 * when they are older than the horizon or when the ring is full; a full
 * ring only makes the horizon shorter, i.e. drops fewer messages.
 *
 * What it can get wrong (the trade-off): two genuinely distinct messages
 * with the same trades (same symbols, same millisecond, same prices,
 * volumes and conditions) within the horizon look like a repeat, and the
 * second is dropped; and two different messages whose 64-bit hashes
 * collide (about one in 2^64 / capacity per message). The horizon is short
 * (seconds) because repeats come back to back; set it to 0 to keep every
 * message.
 *
 * Ownership and threads: the caller owns the tp_dedupe; one thread at a
 * time (the thread running the connection's tp_source). */
#ifndef TP_DEDUPE_H
#define TP_DEDUPE_H

#include "core/trade.h"

#include <stddef.h>
#include <stdint.h>

typedef struct tp_dedupe tp_dedupe;

/* A set remembering up to `capacity` messages (rounded up to a power of
 * two, at least 16) for horizon_ms of receive time. 0 or TP_ENOMEM. */
int tp_dedupe_new(size_t capacity, int64_t horizon_ms, tp_dedupe **out);
void tp_dedupe_free(tp_dedupe *d);

/* The hash of a message's trades (symbol, ts_ms, price, volume, conditions
 * of each, in order; recv_ms and id are not part of it). Pure. */
uint64_t tp_dedupe_hash(const tp_trade *t, size_t n);

/* 1 if t[0..n) repeats a message seen within the horizon before recv_ms
 * (drop it), else 0 (the message is remembered). An empty message is never
 * a repeat. */
int tp_dedupe_check(tp_dedupe *d, const tp_trade *t, size_t n, int64_t recv_ms);

/* Messages remembered now (for tests). */
size_t tp_dedupe_size(const tp_dedupe *d);

#endif
