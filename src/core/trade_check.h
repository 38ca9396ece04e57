/* trade_check.h - the one validation of a trade at the door.
 *
 * Every trade a feed delivers (run, produce) and every trade read from
 * Kafka (process) passes tp_trade_check() before it is stored, windowed or
 * forwarded. A trade that fails is never stored as a trade: it is counted
 * by reason (tickpipe_trades_rejected_total{stage,reason}), logged with a
 * rate limit, and on the Kafka path copied to the dead-letter topic with
 * the reason. The rules:
 *  - symbol: 1 to TP_SYMBOL_MAX bytes of printable UTF-8 (no control
 *    character, C0 or C1, no DEL, no invalid or overlong UTF-8), with no
 *    space at either end (one inside is Finnhub's: "IC MARKETS:1");
 *  - price: finite and > 0;
 *  - volume: finite and >= 0 (0 is a price update: forex, some crypto);
 *  - event time: at most max_age_ms behind and max_ahead_ms ahead of the
 *    time the trade was received (0 = that side unbounded);
 *  - subscribed: checked by the feed, which knows its subscriptions.
 * Pure functions; the counters are the caller's. */
#ifndef TP_TRADE_CHECK_H
#define TP_TRADE_CHECK_H

#include "core/metrics.h"
#include "core/trade.h"

#include <stddef.h>
#include <stdint.h>

#define TP_SYMBOL_MAX 64

typedef enum tp_reject {
    TP_REJECT_NONE = 0,
    TP_REJECT_SYMBOL_EMPTY,
    TP_REJECT_SYMBOL_LONG,
    TP_REJECT_SYMBOL_CHARS,
    TP_REJECT_UNSUBSCRIBED,
    TP_REJECT_PRICE,
    TP_REJECT_VOLUME,
    TP_REJECT_TIME_PAST,
    TP_REJECT_TIME_FUTURE,
    TP_REJECT_N
} tp_reject;

/* "symbol_empty", "symbol_too_long", "symbol_characters", "unsubscribed",
 * "price", "volume", "time_past", "time_future" (the metric's label). */
const char *tp_reject_name(tp_reject r);
/* A sentence for logs and dead-letter headers, e.g. "the price is not a
 * finite number > 0". */
const char *tp_reject_text(tp_reject r);

typedef struct tp_trade_limits {
    int64_t max_age_ms;   /* default 86400000 (1 day); 0 = no bound */
    int64_t max_ahead_ms; /* default 60000 (1 minute); 0 = no bound */
} tp_trade_limits;

#define TP_TRADE_MAX_AGE_MS_DEFAULT 86400000
#define TP_TRADE_MAX_AHEAD_MS_DEFAULT 60000

void tp_trade_limits_default(tp_trade_limits *l);

/* TP_REJECT_NONE if t passes every rule but the subscription one. */
tp_reject tp_trade_check(const tp_trade *t, int64_t recv_ms, const tp_trade_limits *l);
/* Only the price, volume and time rules (a caller that has checked this
 * symbol already, e.g. for the trade before it). */
tp_reject tp_trade_check_values(const tp_trade *t, int64_t recv_ms, const tp_trade_limits *l);
/* Only the symbol rules (a stored row read back, a gap record). */
tp_reject tp_symbol_check(const char *p, size_t len);

/* The door over one run of trades (a frame, a Kafka record), for the feed
 * and process alike: feeds send runs of one symbol, so a trade whose symbol
 * is the last one that passed needs only the value rules. Zero it before
 * each run; it points into the trades' symbols, so it must not outlive
 * them. */
typedef struct tp_symbol_cache {
    tp_str ok; /* the symbol of the last trade that passed, or {NULL, 0} */
} tp_symbol_cache;

/* Whether a symbol is one the caller takes (the feed: subscribed). */
typedef int (*tp_symbol_pred)(void *ud, tp_str symbol);

/* tp_trade_check(t) with the cache: for the cache's symbol only the value
 * rules; for another, the symbol rules, then (given `wanted`) a symbol it
 * says no to is TP_REJECT_UNSUBSCRIBED, then the value rules. A trade that
 * passes makes its symbol the cache's. */
tp_reject tp_symbol_cache_check(tp_symbol_cache *c, const tp_trade *t, int64_t recv_ms,
                                const tp_trade_limits *l, tp_symbol_pred wanted, void *ud);

/* Rejection counts of one stage, with their metrics and a log rate limit. */
typedef struct tp_rejects {
    const char *stage;               /* "feed" or "process": the metric's label and the log's module */
    _Atomic uint64_t n[TP_REJECT_N]; /* read from any thread */
    tp_counter *m[TP_REJECT_N];
    uint64_t logged;         /* lines written */
    int64_t window_start_ms; /* log rate limit: 10 lines a minute, then one summary */
    uint64_t window_lines, window_quiet;
} tp_rejects;

void tp_rejects_init(tp_rejects *r, const char *stage);
/* Count one rejected trade and log it (rate-limited); where says where it
 * came from ("connection 0", "market [3] offset 42"). */
void tp_rejects_note(tp_rejects *r, tp_reject why, const tp_trade *t, int64_t recv_ms, const char *where);
uint64_t tp_rejects_total(const tp_rejects *r);
/* "3 rejected (price 2, time_future 1)" or "0 rejected" into out. */
void tp_rejects_format(const tp_rejects *r, char *out, size_t outlen);
/* The same from counts by reason (n[TP_REJECT_N], index 0 unused). */
void tp_rejects_format_counts(const uint64_t *n, char *out, size_t outlen);

#endif
