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

#include <stddef.h>
#include <stdint.h>

/* Called by client_msg for each symbol a client (un)subscribes, with the
 * name the market knows it by ("BINANCE:BTCUSDT"). */
typedef void (*tp_sim_sub_fn)(void *ud, int subscribe, const char *market_name);

typedef struct tp_sim_personality {
    const char *name;  /* as --feed NAME */
    int needs_token;   /* ?token= checked, one connection per token (Finnhub) */
    int ws_ping;       /* keep-alive as WebSocket ping frames, not {"type":"ping"} */
    double lifetime_s; /* the venue closes a connection this long after it opened; 0 = never */
    /* One client message: each symbol to (un)subscribe goes to fn; the
     * answer (acknowledgement or error) is written to out, NUL-terminated;
     * its length, 0 for none. NULL: the Finnhub protocol of sim.c. */
    size_t (*client_msg)(const char *data, size_t len, tp_sim_sub_fn fn, void *ud, char *out, size_t cap);
    /* One trade as one message, from the Finnhub trade object the market
     * wrote (obj, with "p", "s", "t", "v") and the symbol's trade id; its
     * length (at most objlen + 160). NULL: Finnhub's batched frames. */
    size_t (*trade_msg)(const char *obj, size_t objlen, int64_t trade_id, char *out);
} tp_sim_personality;

/* The personality named name (NULL = the first, Finnhub's), or NULL. */
const tp_sim_personality *tp_sim_personality_find(const char *name);
/* "finnhub, binance" (static text, for help). */
const char *tp_sim_personality_names(void);

#endif
