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
 * Trades that carry the venue's own trade id (tp_trade.trade_id != 0:
 * Binance, Coinbase, Kraken number each symbol's trades consecutively) need
 * no horizon and no content comparison: a trade is a repeat when its
 * (symbol, trade_id) was seen before, and only that trade is dropped, so a
 * message mixing new and repeated trades keeps the new ones. Per symbol the
 * set keeps the highest id seen and a bitmap of the TP_DEDUPE_ID_WINDOW ids
 * at and below it: an id above the highest is new; an id inside the window
 * is new exactly when its bit is clear (a late trade filling a hole is
 * kept); an id below the window is taken as a repeat (too old to tell:
 * venues resend only recent trades, e.g. Kraken's snapshot of the last 50
 * or a reconnect overlap). Memory: one entry of about 550 bytes per symbol
 * that has sent an id, kept for the life of the set.
 *
 * Ownership and threads: the caller owns the tp_dedupe; one thread at a
 * time (the thread running the connection's tp_source). */
#ifndef TP_DEDUPE_H
#define TP_DEDUPE_H

#include "core/trade.h"

#include <stddef.h>
#include <stdint.h>

typedef struct tp_dedupe tp_dedupe;

#define TP_DEDUPE_ID_WINDOW 4096 /* ids remembered below a symbol's highest */
enum { TP_DEDUPE_ID_NEW = 0, TP_DEDUPE_ID_SEEN = 1, TP_DEDUPE_ID_TOO_OLD = 2 };

/* A set remembering up to `capacity` messages (rounded up to a power of
 * two, at least 16) for horizon_ms of receive time; horizon_ms <= 0 turns
 * the content comparison off (every message without ids is kept) but not
 * the dedupe by trade id. 0 or TP_ENOMEM. */
int tp_dedupe_new(size_t capacity, int64_t horizon_ms, tp_dedupe **out);
void tp_dedupe_free(tp_dedupe *d);

/* The hash of a message's trades (symbol, ts_ms, price, volume, conditions
 * of each, in order; recv_ms and id are not part of it). Pure. */
uint64_t tp_dedupe_hash(const tp_trade *t, size_t n);

/* 1 if t[0..n) repeats a message seen within the horizon before recv_ms
 * (drop it), else 0 (the message is remembered). An empty message is never
 * a repeat. */
int tp_dedupe_check(tp_dedupe *d, const tp_trade *t, size_t n, int64_t recv_ms);

/* By trade id: 0 if (symbol, trade_id) is new (it is remembered), 1 if
 * it was seen before (a repeat), 2 if it is below the symbol's window (too
 * old to tell: the feed drops it as a repeat, process keeps it and lets
 * the store's upsert decide), -1 when out of memory (keep the trade).
 * trade_id 0 is never a repeat here (it means "no id"): 0. */
int tp_dedupe_id_check(tp_dedupe *d, tp_str symbol, int64_t trade_id);

/* The whole per-message step, in place: removes the repeats from
 * t[0..*n) keeping the order of the others, and returns how many it
 * removed (*n shrinks by that much). Trades with trade_id != 0 are decided
 * one by one by tp_dedupe_id_check; the trades with trade_id == 0 are
 * taken together, in order, as one message for the content comparison
 * (tp_dedupe_check), so a message without ids behaves exactly as before.
 * The caller counts a duplicate message when *n falls to 0 from above 0. */
size_t tp_dedupe_filter(tp_dedupe *d, tp_trade *t, size_t *n, int64_t recv_ms);

/* Symbols with trade-id state (for tests). */
size_t tp_dedupe_id_symbols(const tp_dedupe *d);

/* Messages remembered now (for tests). */
size_t tp_dedupe_size(const tp_dedupe *d);

#endif
