/* personality.h - what makes the simulator speak one venue's protocol
 * (`tickpipe simulate --feed NAME`), internal to src/sim/.
 *
 * sim.c runs the server, the synthetic market, the rate, the faults and the
 * holes log; a personality says how a client subscribes (its messages and
 * the answers), how trades are written, how the connection is kept alive
 * and how long the venue lets it live. Finnhub's personality (finnhub.c)
 * leaves the hooks NULL: sim.c's own Finnhub protocol, byte for byte as
 * before. One file per venue, listed beside its feed in cmake/feeds.cmake,
 * which generates the table. Static const data; the hooks are pure. */
#ifndef TP_SIM_PERSONALITY_H
#define TP_SIM_PERSONALITY_H

#include "core/trade.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Called by client_msg for each symbol a client (un)subscribes, with the
 * name the market knows it by ("BINANCE:BTCUSDT"); subscribe is 0 for an
 * unsubscribe, 1 for a subscribe, 2 for one without the venue's recent
 * trades (recent_msg; Kraken's "snapshot":false). */
typedef void (*tp_sim_sub_fn)(void *ud, int subscribe, const char *market_name);

typedef struct tp_sim_personality {
    const char *name;  /* as --feed NAME */
    int needs_token;   /* ?token= checked, one connection per token (Finnhub) */
    int ws_ping;       /* keep-alive as WebSocket ping frames, not {"type":"ping"} */
    double lifetime_s; /* the venue closes a connection this long after it opened; 0 = never */
    /* One client message: each symbol to (un)subscribe goes to fn; the
     * answer (acknowledgement or error) is written to out, NUL-terminated,
     * several messages one a line (cap is 64 KiB in the simulator);
     * its length, 0 for none. NULL: the Finnhub protocol of sim.c. */
    size_t (*client_msg)(const char *data, size_t len, tp_sim_sub_fn fn, void *ud, char *out, size_t cap);
    /* One trade as one message, from the Finnhub trade object the market
     * wrote (obj, with "p", "s", "t", "v") and the symbol's trade id; its
     * length (at most objlen + 400). NULL: Finnhub's batched frames. */
    size_t (*trade_msg)(const char *obj, size_t objlen, int64_t trade_id, char *out);

    /* --- Venues that say more than trades (Coinbase, Kraken); 0/NULL = none */
    const char *greeting; /* the message a connection gets on opening (Kraken's status) */
    /* The venue closes a connection that has not subscribed this long
     * after it opened (Coinbase: 5 s). */
    double subscribe_deadline_s;
    const char *deadline_error; /* the message sent before that close, or NULL */
    /* recent_msg: the trades of a symbol already sent (to any client),
     * oldest first, at most recent_max of them (Coinbase's last_match: 1,
     * Kraken's snapshot: 50), written when a client subscribes to it, after
     * the answer; its length (0 for none; n may be 0). cap is at least
     * recent_max * 400 + 256. */
    int recent_max;
    size_t (*recent_msg)(const tp_trade *t, size_t n, char *out, size_t cap);
    /* The venue's heartbeat, every heartbeat_s seconds while subscribed:
     * with heartbeat_per_symbol one message per subscribed symbol (market
     * name, the symbol's newest trade id, 0 = none yet), else one message a
     * connection (symbol NULL). Its length, or 0. */
    double heartbeat_s;
    int heartbeat_per_symbol;
    size_t (*heartbeat_msg)(const char *symbol, int64_t last_trade_id, int64_t now_ms, char *out, size_t cap);
} tp_sim_personality;

/* A Finnhub trade object as the market writes it ({"p":..,"s":"..","t":..,
 * "v":..}) into t (symbol pointing into obj), with trade_id. 0, or -1 when
 * a field is missing. */
static inline int tp_sim_trade_from_obj(const char *obj, size_t len, int64_t trade_id, tp_trade *t) {
    static const char *const keys[] = {"\"p\":", "\"s\":\"", "\"t\":", "\"v\":"};
    const char *v[4] = {0};
    for (int k = 0; k < 4; k++) {
        size_t kl = strlen(keys[k]);
        for (size_t i = 0; i + kl < len && !v[k]; i++)
            if (!memcmp(obj + i, keys[k], kl)) v[k] = obj + i + kl;
        if (!v[k]) return -1;
    }
    const char *end = memchr(v[1], '"', len - (size_t)(v[1] - obj));
    if (!end) return -1;
    memset(t, 0, sizeof *t);
    t->symbol.ptr = v[1];
    t->symbol.len = (uint32_t)(end - v[1]);
    t->price = strtod(v[0], NULL);
    t->volume = strtod(v[3], NULL);
    t->ts_ms = strtoll(v[2], NULL, 10);
    t->ncond = TP_COND_NULL;
    t->trade_id = trade_id;
    return 0;
}

/* The personality named name (NULL = the first, Finnhub's), or NULL. */
const tp_sim_personality *tp_sim_personality_find(const char *name);
/* "finnhub, binance" (static text, for help). */
const char *tp_sim_personality_names(void);

#endif
