/* sim.h - the simulator, Finnhub-compatible unless tp_sim_config.feed
 * names another venue's personality (`tickpipe simulate`, and the
 * in-process feed of `tickpipe run` when there is no API token).
 *
 * A libwebsockets server that behaves like wss://ws.finnhub.io: token
 * check, subscribe/unsubscribe, pings, one connection per token, a random-
 * walk market (or a replayed recording), fault injection, and the REST
 * symbol search /api/v1/search?q=.
 *
 * Threading: every connection is served by one service thread (the caller of
 * tp_sim_serve, or the thread tp_sim_start creates); tp_sim_stop and
 * tp_sim_get_stats may be called from any other thread. The configuration's
 * strings are copied. */
#ifndef TP_SIM_H
#define TP_SIM_H

#include <stddef.h>
#include <stdint.h>

typedef struct tp_sim_config {
    const char *listen; /* "127.0.0.1:8765"; port 0 = pick a free one */
    const char *token;  /* NULL: any non-empty token is accepted */
    double rate;        /* trades/s in total over all subscriptions */
    int batch;          /* max trades per message */
    uint64_t seed;
    double ping_interval_s;
    const char *replay_path; /* replay a recording instead of the market */
    double replay_speed;     /* 0 = as fast as the client reads */
    int replay_loop;
    int replay_raw; /* trade frames go out as recorded, subscribed or not */
    const char *tls_cert, *tls_key;
    /* fault injection (0 = off) */
    double drop_every_s;   /* close the connection every N s */
    double silent_after_s; /* stop sending anything after N s */
    double malformed_rate; /* fraction of frames replaced by garbage */
    double error_every_s;  /* send {"type":"error",...} every N s */
    /* --- Extensions (compatible additions; tp_sim_config_default zeroes them) */
    uint64_t max_trades; /* stop generating after N trades in total; serve returns once
                            every client has gone (0 = no limit) */
    /* Called once from tp_sim_serve/tp_sim_start when listening, with the port. */
    void (*on_ready)(void *ud, int port);
    void *ready_ud;
    double repeat_rate;     /* fraction of trade frames sent a second time, byte for byte */
    size_t max_symbols;     /* per connection, as a Finnhub plan; 0 = 1000 */
    int market_hours;       /* stocks trade only in their market's hours (sim/market.h) */
    int64_t market_time_ms; /* the market clock's time at start, epoch ms; 0 = the wall clock */
    /* Append a JSON line per hole to this file (synthetic market only): a
     * symbol's last trade delivered on a lost connection (from_ms) and its
     * first on the token's next one (to_ms), see sim.c. NULL = off. */
    const char *holes_log;
    /* The venue spoken (sim/personality.h): "finnhub" (NULL) or another
     * feed of cmake/feeds.cmake with a simulator personality. */
    const char *feed;
    /* Close each connection this long after it opened, as the venue does;
     * -1 (the default) = the venue's (Binance: 24 h, Finnhub: never). */
    double lifetime_s;
} tp_sim_config;

void tp_sim_config_default(tp_sim_config *c);

typedef struct tp_sim tp_sim;
/* Start serving in a background thread. */
int tp_sim_start(const tp_sim_config *cfg, tp_sim **out, char *err, size_t errlen);
int tp_sim_port(const tp_sim *s); /* the port actually bound */
void tp_sim_stop(tp_sim *s);      /* stops and joins the thread, frees */

typedef struct tp_sim_stats {
    uint64_t connections; /* WebSocket connections accepted (token or not) */
    uint64_t rejected;    /* closed for a bad or missing token */
    uint64_t kicked;      /* closed because a newer connection used the same token */
    uint64_t trades, frames, pings, errors, malformed, drops, searches;
    uint64_t repeats; /* trade frames sent again (--repeat-rate); not in frames or trades */
} tp_sim_stats;
/* Counters so far; callable from any thread. */
void tp_sim_get_stats(const tp_sim *s, tp_sim_stats *out);

/* A client's control message, {"type":"subscribe"|"unsubscribe","symbol":S}.
 * On (UN)SUBSCRIBE the symbol is copied NUL-terminated into sym; a symbol
 * that is missing, empty, holds a NUL or does not fit symlen is BAD_SYMBOL.
 * Pure; exposed for the fuzz target. */
#define TP_SIM_MAX_SYMBOL 255
typedef enum tp_sim_msg {
    TP_SIM_MSG_SUBSCRIBE = 1,
    TP_SIM_MSG_UNSUBSCRIBE,
    TP_SIM_MSG_INVALID,      /* not JSON, or no string "type" */
    TP_SIM_MSG_UNKNOWN_TYPE, /* a type other than the two */
    TP_SIM_MSG_BAD_SYMBOL,
} tp_sim_msg;
tp_sim_msg tp_sim_parse_client_msg(const char *data, size_t len, char *sym, size_t symlen);

/* The blocking form used by `tickpipe simulate`: serves until *stop != 0. */
int tp_sim_serve(const tp_sim_config *cfg, volatile int *stop, char *err, size_t errlen);

#endif
