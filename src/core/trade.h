/* trade.h - the trade and the batch, the currency of the whole pipeline.
 *
 * A tp_batch holds an array of tp_trade plus an arena that owns every string
 * the trades point to (symbols, trade conditions). A batch is reused: reset()
 * keeps the trade array and the arena's first block, so steady-state parsing
 * allocates nothing per trade or per frame. Arena blocks never move, so
 * pointers into the arena stay valid until the next reset.
 *
 * Ownership: a batch belongs to one thread at a time; hand it over through a
 * queue, never share it. Strings in a tp_trade are NOT NUL-terminated unless
 * stated: always use ptr+len. */
#ifndef TP_TRADE_H
#define TP_TRADE_H

#include <stddef.h>
#include <stdint.h>

typedef struct tp_str {
    const char *ptr; /* NULL means JSON null (for condition items) */
    uint32_t len;
} tp_str;

#define TP_COND_NULL (-1) /* "c" missing or null, distinct from [] */

typedef struct tp_trade {
    tp_str symbol;      /* "s" */
    double price;       /* "p" */
    double volume;      /* "v"; 0 for forex/crypto price updates */
    int64_t ts_ms;      /* "t", event time, epoch ms */
    int32_t ncond;      /* TP_COND_NULL, or number of items in cond */
    const tp_str *cond; /* "c": ncond items; an item with ptr NULL is null */
    int64_t recv_ms;    /* when the frame holding this trade was received */
    uint8_t id[16];     /* deterministic id, set by process/enrich */
    int64_t trade_id;   /* the venue's own trade id (consecutive per symbol on Binance, Coinbase,
                           Kraken); 0 = none (Finnhub) */
} tp_trade;

typedef struct tp_arena_block tp_arena_block;
typedef struct tp_arena {
    tp_arena_block *head; /* current block (newest) */
    tp_arena_block *first;
    size_t block_size;
} tp_arena;

/* Where a batch came from, so ids can be derived from it (see enrich.h). */
typedef struct tp_origin {
    char topic[128];   /* Kafka topic, or "feed" for a live feed */
    int32_t partition; /* Kafka partition, or -1 */
    int64_t offset;    /* Kafka offset, or feed frame sequence number */
} tp_origin;

typedef struct tp_batch {
    tp_trade *trades;
    size_t n, cap;
    size_t max_trades; /* 0 = unlimited; tp_batch_add fails past it */
    tp_arena arena;
    int64_t recv_ms; /* receive time of the (last) frame that filled it */
    tp_origin origin;
} tp_batch;

void tp_batch_init(tp_batch *b);
void tp_batch_reset(tp_batch *b); /* drop trades, keep memory */
void tp_batch_free(tp_batch *b);
/* Append one zeroed trade; NULL on out of memory or past max_trades. */
tp_trade *tp_batch_add(tp_batch *b);
/* Copy len bytes into the arena (NUL-terminated there); NULL on OOM. */
const char *tp_batch_strdup(tp_batch *b, const char *s, size_t len);
/* Raw arena allocation, 8-byte aligned; NULL on OOM. */
void *tp_batch_alloc(tp_batch *b, size_t size);
/* A position in a batch (trade count and arena fill) to roll back to:
 * parsers take a mark before a message and rewind on error, so a rejected
 * message leaves the batch exactly as before (arena blocks added after the
 * mark are freed). */
typedef struct tp_batch_mark {
    size_t n;
    tp_arena_block *head;
    size_t used;
} tp_batch_mark;
tp_batch_mark tp_batch_get_mark(const tp_batch *b);
void tp_batch_rewind(tp_batch *b, tp_batch_mark m);
/* Deep-copy trade src (from any batch) into b. */
tp_trade *tp_batch_copy_trade(tp_batch *b, const tp_trade *src);

static inline int tp_str_eq(tp_str a, tp_str b) {
    if (a.len != b.len) return 0;
    for (uint32_t i = 0; i < a.len; i++)
        if (a.ptr[i] != b.ptr[i]) return 0;
    return 1;
}

#endif
