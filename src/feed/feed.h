/* feed.h - what the WebSocket source (source.h) needs to know about a
 * market-data feed, as one table of operations per feed.
 *
 * The source's core (connect, reconnect with backoff, the silence
 * watchdog, resubscribe, reassembly, replay, counting) knows no feed: it
 * asks the feed's tp_feed_ops for the request path of a connection (where
 * the token goes), the message that subscribes a symbol, how to parse a
 * message into trades, what an error or close text means, and whether a
 * symbol exists. Finnhub (finnhub.c) is the first entry of the one list of
 * feeds, cmake/feeds.cmake, which generates the table; docs/architecture.md
 * shows how to add another.
 *
 * Ownership and threads: entries are static const data; every operation is
 * a pure function of its arguments (no state), callable from any thread. */
#ifndef TP_FEED_H
#define TP_FEED_H

#include "core/trade.h"

#include <stddef.h>

/* The generic kinds of a feed's messages, whatever the venue writes. */
typedef enum tp_msg_type {
    TP_MSG_TRADE,     /* trades (appended to the batch) */
    TP_MSG_PING,      /* the server's keep-alive in a data message (Finnhub's {"type":"ping"}) */
    TP_MSG_ERROR,     /* the server reports an error: text */
    TP_MSG_UNKNOWN,   /* a message type this feed does not know: text = its name */
    TP_MSG_HEARTBEAT, /* a venue's heartbeat (Coinbase, Kraken): the connection is alive */
    TP_MSG_CONTROL,   /* an answer to a request of ours (subscription acknowledged, status) */
} tp_msg_type;

typedef struct tp_msg_info {
    tp_msg_type type;
    tp_str text;    /* error msg or unknown type name, in the batch arena */
    size_t ntrades; /* trades appended by this call */
    int snapshot;   /* the trades are a venue's snapshot of recent trades (Kraken), not live ones */
} tp_msg_info;

/* What a server error or close text means. */
typedef enum tp_feed_reason {
    TP_FEED_REASON_OTHER = 0,
    TP_FEED_REASON_KEY_IN_USE,    /* another connection uses the same key */
    TP_FEED_REASON_BAD_TOKEN,     /* the token was rejected */
    TP_FEED_REASON_SLOW_CONSUMER, /* the venue dropped us for reading too slowly (Coinbase ErrSlowConsume) */
    TP_FEED_REASON_RATE_LIMIT,    /* we sent too many messages or connections (Coinbase ErrSlowRead) */
} tp_feed_reason;

typedef struct tp_feed_ops {
    const char *name;        /* "finnhub": --feed NAME */
    const char *default_url; /* the WebSocket URL when none is given */
    const char *default_rest_url;
    /* The request path of a connection: the URL's path (without the
     * leading '/', may hold a query) plus the token however the feed wants
     * it. 0, or TP_EINVAL ("too long") / TP_ENOMEM with err. */
    int (*connect_path)(const char *url_path, const char *token, char *out, size_t outlen, char *err,
                        size_t errlen);
    /* The text message that subscribes (subscribe = 1) or unsubscribes a
     * symbol; its length, or -1 if it does not fit outlen. */
    int (*subscribe_msg)(const char *symbol, int subscribe, char *out, size_t outlen);
    /* One whole message into trades appended to b, with its kind in info;
     * 0, or nonzero with err for a malformed message (b is left as it was). */
    int (*parse)(const char *msg, size_t len, tp_batch *b, tp_msg_info *info, char *err, size_t errlen);
    /* What a server error message or close reason says. */
    tp_feed_reason (*classify)(const char *text, size_t len);
    /* The words for a reason in logs (what happened and the fix); NULL for
     * TP_FEED_REASON_OTHER. */
    const char *(*reason_words)(tp_feed_reason r);
    /* Does the symbol exist (--validate)? NULL when the feed cannot tell:
     * symbols are then subscribed unchecked. 0 with *exists, or an error
     * (TP_EREFUSED for a rejected token). */
    int (*symbol_exists)(const char *rest_url, const char *token, const char *symbol, int *exists, char *err,
                         size_t errlen);
    /* After a close for KEY_IN_USE, wait at least this long before
     * reconnecting, so two clients sharing a key do not evict each other in
     * a tight loop. */
    int key_in_use_min_delay_ms;

    /* --- Venues beyond Finnhub (zero = the Finnhub behaviour) */
    int needs_token;        /* 1: a connection needs a token (Finnhub); 0: public data */
    const char *token_env;  /* the environment variable holding the token, or NULL */
    const char *sym_prefix; /* "BINANCE:": stored symbols are PREFIX + the venue's name, as
                               Finnhub writes the same venue's symbols; NULL for Finnhub */
    /* A user's symbol (with or without sym_prefix, any case the venue
     * allows) into the stored form ("btcusdt" -> "BINANCE:BTCUSDT"),
     * NUL-terminated in out. 0, or TP_EINVAL with err ("not a Binance
     * symbol: ..."). NULL: symbols are taken as given. */
    int (*normalize_symbol)(const char *in, char *out, size_t outlen, char *err, size_t errlen);
    /* One text message that subscribes (subscribe = 1) or unsubscribes n
     * stored symbols at once, written in the venue's names; its length, or
     * -1 if it does not fit outlen. NULL: one subscribe_msg per symbol. At
     * most max_symbols_per_msg symbols per call (0 = no limit). */
    int (*subscribe_many)(const char *const *symbols, size_t n, int subscribe, char *out, size_t outlen);
    int max_symbols_per_msg;
    double max_msgs_per_s;     /* messages a client may send a second (Binance: 5); 0 = no limit */
    int64_t lifetime_ms;       /* the venue closes a connection this long after it opened (Binance:
                                  24 h); 0 = no limit. Hand over to a new connection before. */
    int subscribe_deadline_ms; /* the venue closes a connection not subscribed within this (Coinbase:
                                  5000); 0 = none */
    int64_t heartbeat_ms;      /* the venue's own heartbeat or ping period when subscribed; 0 = none */
} tp_feed_ops;

extern const tp_feed_ops tp_feed_finnhub;

/* The feed named `name`, or NULL. */
const tp_feed_ops *tp_feed_find(const char *name);
/* The first feed of the list (cmake/feeds.cmake): the default. */
const tp_feed_ops *tp_feed_default(void);
/* The feeds of this build, "finnhub, ..." (static text, for help), read
 * from the table. */
const char *tp_feed_names(void);

#endif
