/* source.h - the WebSocket feed source (used by capture, produce, run).
 *
 * Connects to a feed's WebSocket (Finnhub's wss://ws.finnhub.io, or the
 * simulator on ws://127.0.0.1:8765), subscribes every symbol, parses each
 * frame into a tp_batch with no per-trade allocation and hands the batch to
 * on_batch. What is particular to a feed (the token in the URL, the
 * subscribe message, the frame parser, the wording of its errors, symbol
 * validation) comes from its tp_feed_ops (feed.h); this module knows none. Pings, error messages, unknown
 * types and malformed frames are counted (and logged, rate-limited); a silent connection is dropped after
 * stale_timeout_ms; every disconnect is followed by a reconnect with
 * exponential backoff and jitter (capped at 60 s) that resubscribes every
 * symbol; before a venue's connection lifetime (lifetime_ms below) the
 * connection is handed over to a successor without a gap. With replay_path set, frames come from a recording
 * (record.h) instead of the network, through the same parser and callback.
 *
 * Backpressure: on_batch may block (e.g. while a Kafka queue is full); the
 * source reads nothing meanwhile, and time spent inside on_batch does not
 * count towards the silence watchdog.
 *
 * Threading: tp_source_run() blocks in the calling thread until
 * tp_source_stop() (callable from any thread or a signal handler), a fatal
 * error, on_batch returning nonzero, or the end of a replay. */
#ifndef TP_SOURCE_H
#define TP_SOURCE_H

#include "feed/feed.h"
#include "feed/gaps.h"
#include "core/trade.h"
#include "core/trade_check.h"
#include <stddef.h>
#include <stdint.h>

typedef struct tp_source_config {
    const tp_feed_ops *feed;    /* the feed's protocol; NULL = Finnhub */
    const char *url;            /* ws:// or wss://; default the feed's default_url */
    const char *token;          /* appended as ?token=; never logged */
    const char *const *symbols; /* nsymbols symbols to subscribe */
    size_t nsymbols;
    size_t max_frame_bytes;   /* frames larger are rejected; default 1 MiB */
    int64_t stale_timeout_ms; /* default 90000; 0 = off */
    int validate;             /* FINNHUB_VALIDATE_TICKERS: check via REST first */
    const char *rest_url;     /* default the feed's default_rest_url */
    const char *replay_path;  /* read a recording instead of the network */
    double replay_speed;      /* 0 = as fast as possible, 1 = real time */
    int max_reconnects;       /* -1 = forever (default); tests use small values */
    /* Drop a trade message that exactly repeats one received within this
     * many ms on this connection (feed/dedupe.h); 0 = off (the default
     * here; the commands default to --dedupe-horizon 2 s). */
    int64_t dedupe_horizon_ms;
    /* Many symbols (feed/source_group.h): with more than one token, or
     * more symbols than max_symbols_per_connection (0 = no limit), the
     * symbols are spread over ceil(nsymbols / limit) connections, one per
     * token (tokens[i]; ntokens 0 = just `token`). Too few tokens is
     * TP_EINVAL from tp_source_new (check first with tp_source_plan). */
    const char *const *tokens;
    size_t ntokens;
    size_t max_symbols_per_connection;
    int connection_index; /* in gap reports; set by the group */
    /* The door (core/trade_check.h): every trade is checked against these
     * bounds (zero: unbounded, the default here; the commands default to
     * --max-trade-age 1 d, --max-trade-ahead 1 min) and, with
     * check_subscribed (not in a replay), against the symbols subscribed on
     * its connection. A trade that fails is removed from its batch before
     * dedupe, gaps and on_batch, counted by reason and logged. */
    tp_trade_limits limits;
    int check_subscribed;
    /* The venue closes a connection this long after it opened: 0 = the
     * feed's lifetime_ms (Binance: 24 h), -1 = none. A connection opens its
     * successor handover_before_ms before (0 = a fifth of the lifetime, at
     * most 5 min), subscribes it, and closes the old one once the
     * successor's trades continue every symbol's stream (or after half of
     * handover_before_ms): no trade lost or doubled, no reconnect, no gap
     * (source.c, "handover"). */
    int64_t lifetime_ms;
    int64_t handover_before_ms;
} tp_source_config;

/* Messages a connection remembers for --dedupe-horizon (about 130 KiB). */
#define TP_SOURCE_DEDUPE_MESSAGES 4096

void tp_source_config_default(tp_source_config *c);

/* Called once per frame that carried trades. b->origin.topic is "feed",
 * b->origin.partition -1, b->origin.offset the frame sequence number (from 0
 * per tp_source), b->recv_ms the receive time. The batch is reset after the
 * call returns; copy what must outlive it. Return nonzero to stop. */
typedef int (*tp_source_batch_fn)(void *ud, tp_batch *b);

typedef struct tp_source_stats {
    uint64_t frames, trades, pings, errors, unknown, malformed, oversize;
    uint64_t reconnects, bytes;
    uint64_t duplicates, duplicate_trades; /* messages (and their trades) dropped as exact repeats */
    uint64_t gaps;                         /* holes reported (feed/gaps.h) */
    uint64_t handovers;                    /* connections handed over before the venue's lifetime */
    uint64_t rejected[TP_REJECT_N];        /* trades removed at the door, by reason */
} tp_source_stats;

typedef struct tp_source tp_source;

int tp_source_new(const tp_source_config *cfg, tp_source_batch_fn fn, void *ud, tp_source **out, char *err,
                  size_t errlen);
/* 0 on clean stop / end of replay; nonzero with err set on a fatal error
 * (bad URL, reconnect limit reached, token rejected with max_reconnects). */
int tp_source_run(tp_source *s, char *err, size_t errlen);
void tp_source_stop(tp_source *s); /* any thread (takes a short lock: not from a signal handler) */
void tp_source_get_stats(const tp_source *s, tp_source_stats *out);
void tp_source_free(tp_source *s);

/* --- Extensions (compatible additions) ---------------------------------- */

/* Called with every complete frame (pings and errors included) before it is
 * parsed, from the thread running tp_source_run; used by `capture --record`.
 * The bytes are valid only during the call. Set before tp_source_run. */
typedef void (*tp_source_frame_fn)(void *ud, const char *frame, size_t len, int64_t recv_ms);
void tp_source_set_frame_hook(tp_source *s, tp_source_frame_fn fn, void *ud);

/* Called with every gap a connection closes (feed/gaps.h: a symbol's last
 * trade before a disconnect or silence and its first after), from the
 * thread running the connection (serialised with on_batch for a group),
 * before the batch holding that first trade goes to on_batch. Each gap is
 * also logged and counted (gaps=, tickpipe_ingest_gaps_total). Set before
 * tp_source_run. */
void tp_source_set_gap_hook(tp_source *s, tp_gap_fn fn, void *ud);

/* Called with every trade rejected at the door (see tp_source_config),
 * from the thread running the connection (serialised with on_batch for a
 * group); produce copies them to its dead-letter topic. The trade is valid
 * only during the call. Set before tp_source_run. */
typedef void (*tp_source_reject_fn)(void *ud, const tp_trade *t, tp_reject why, int64_t recv_ms);
void tp_source_set_reject_hook(tp_source *s, tp_source_reject_fn fn, void *ud);

/* Feed one piece of a WebSocket message to the source's frame handling
 * (reassembly, size limit, parsing, counting, on_batch); last != 0 says the
 * message ends with this piece. This is what the network loop and the
 * replay call; tests call it directly without a socket. Returns 1 if
 * on_batch asked to stop, else 0. Only from the thread owning the source. */
int tp_source_feed(tp_source *s, const void *data, size_t len, int last, int64_t recv_ms);

/* Reconnect delay in ms for the attempt-th consecutive failure (0-based):
 * exponential from 500 ms, capped at 60 s, with jitter drawn from rnd (the
 * result lies in [base/2, base]). Pure; exposed for tests. */
int64_t tp_source_backoff_ms(int attempt, uint64_t rnd);

#endif
