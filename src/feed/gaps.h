/* gaps.h - the holes in a connection's stream, per symbol.
 *
 * Finnhub keeps no history for a WebSocket client: trades sent while a
 * connection was down (or silent) are gone. The tracker remembers, per
 * subscribed symbol, the newest event time seen on the connection; when
 * the connection drops or falls silent, every symbol that had traded gets
 * an open gap from that time, with the reason; the first trade of the
 * symbol after recovery closes it, and the gap (symbol, from_ms = last
 * event before, to_ms = first event after, reason, detected_at,
 * connection) is reported. A symbol that had not traded before the
 * disconnect has no known start, so no gap is reported for it; a symbol
 * that never trades again keeps its gap open (not reported).
 *
 * Trades with the venue's own trade id (tp_trade.trade_id != 0, consecutive
 * per symbol) make the hole exact. Per symbol the tracker also keeps the
 * highest id seen; a trade whose id is above it by more than one is a gap
 * whose missing ids are known: from_trade_id = highest + 1, to_trade_id =
 * the trade's id - 1, with the times as above. Such a gap is reported
 * whether or not the connection dropped (reason "id_jump" when it did not,
 * else the drop's reason); and after a drop, when the first newer trade's
 * id is the highest + 1 (a reconnect, a venue snapshot or a connection
 * handover that lost nothing), no gap is reported at all. Ids at or below
 * the highest (a snapshot, a reconnect overlap, a repeat) are never a gap
 * and leave the state as it is (an open gap stays open for the first newer
 * trade). The feed hands each symbol's trades in id order (venues send
 * them so; a feed whose snapshot comes newest first reverses it); a late
 * trade that fills a reported hole does not withdraw it.
 *
 * Cost: a symbol lookup per trade in an open-addressing table of twice the
 * subscription's size (built once); no allocation after tp_gaps_new.
 *
 * Ownership and threads: the caller owns it; one thread (the source's). */
#ifndef TP_GAPS_H
#define TP_GAPS_H

#include "core/trade.h"

#include <stddef.h>
#include <stdint.h>

typedef enum tp_gap_reason {
    TP_GAP_RECONNECT = 0, /* the connection closed or failed */
    TP_GAP_SILENCE,       /* the silence watchdog dropped it */
    TP_GAP_KEY_IN_USE,    /* closed because the key is in use elsewhere */
    TP_GAP_SERVER_ERROR,  /* closed after a server error (e.g. a rejected token) */
    TP_GAP_ID_JUMP,       /* the venue's trade ids jumped on a live connection */
} tp_gap_reason;
#define TP_GAP_REASON_LAST TP_GAP_ID_JUMP

/* "reconnect", "silence", "key_in_use", "server_error", "id_jump" */
const char *tp_gap_reason_name(tp_gap_reason r);

typedef struct tp_feed_gap {
    const char *symbol; /* NUL-terminated; valid during the callback */
    int64_t from_ms;    /* event time of the symbol's last trade before */
    int64_t to_ms;      /* event time of its first trade after */
    tp_gap_reason reason;
    int64_t detected_at_ms; /* receive time of that first trade */
    int connection;         /* the connection's index (0 for a single one) */
    /* The missing venue trade ids, first and last (inclusive), when the
     * symbol's trades carry ids; 0 and 0 when not known. */
    int64_t from_trade_id, to_trade_id;
} tp_feed_gap;

typedef void (*tp_gap_fn)(void *ud, const tp_feed_gap *g);

typedef struct tp_gaps tp_gaps;

/* A tracker for these symbols (copied). 0 or TP_ENOMEM. */
int tp_gaps_new(const char *const *symbols, size_t n, int connection, tp_gaps **out);
void tp_gaps_free(tp_gaps *g);
/* 1 if symbol is one of the connection's symbols, else 0. */
int tp_gaps_has(tp_gaps *g, tp_str symbol);
/* The connection went down: open a gap for every symbol seen so far that
 * has none open (a second drop before recovery keeps the first reason). */
void tp_gaps_disconnect(tp_gaps *g, tp_gap_reason r);
/* The highest venue trade id seen for symbol (0: none yet) and the
 * symbol's index in the list given to tp_gaps_new: 0, or -1 for a symbol
 * not in the list. (A connection handover asks whether its successor's
 * trades continue the stream.) */
int tp_gaps_last_id(tp_gaps *g, tp_str symbol, int64_t *last_id, size_t *index);
/* Trades arrived (recv_ms): update the newest event times, and report
 * through fn every gap they close. Returns the number reported. */
size_t tp_gaps_trades(tp_gaps *g, const tp_trade *t, size_t n, int64_t recv_ms, tp_gap_fn fn, void *ud);

#endif
