/* market.h - the simulator's synthetic market (internal to src/sim/).
 *
 * A table of symbols, each with an asset class (stock, crypto, forex), a
 * price level, the decimals its prices and volumes are quoted in, and its
 * own random-number stream seeded from (seed, symbol). The k-th trade of a
 * symbol is therefore a function of the seed, the symbol and k only: two
 * runs with the same seed give every symbol the same price path, however the
 * trades of different symbols interleave in frames.
 *
 * Symbols tickpipe knows (tp_market_known) come with realistic levels and
 * the descriptions served by the REST symbol search; any other symbol gets a
 * level derived from its name (crypto for "BINANCE:..." and other exchange
 * prefixes, forex for "OANDA:..."/"FXCM:...", a stock otherwise).
 *
 * Market hours (opt-in, tp_market_set_hours): stocks then trade only while
 * their market is open, US hours 09:30-16:00 America/New_York on weekdays
 * (tp_market_us_open; exchange holidays are not modelled), and crypto and
 * forex around the clock. The clock they are judged by may be moved (a fixed
 * offset from the wall clock), so a test can start the market at any hour.
 *
 * Threading: a tp_market belongs to the simulator's service thread; the
 * time functions are pure and may be called from any thread. */
#ifndef TP_SIM_MARKET_H
#define TP_SIM_MARKET_H

#include <stddef.h>
#include <stdint.h>

typedef enum tp_asset { TP_ASSET_STOCK, TP_ASSET_CRYPTO, TP_ASSET_FOREX } tp_asset;

typedef struct tp_market_info {
    const char *symbol, *display, *description, *type; /* type as Finnhub's search: "Common Stock", ... */
    tp_asset asset;
    double price; /* typical level */
    int pdec;     /* decimals of the price */
    int vdec;     /* decimals of the volume (crypto); stocks trade whole shares, forex has none */
} tp_market_info;

/* The built-in symbol list, in the order the search returns them. */
const tp_market_info *tp_market_known(size_t *n);

typedef struct tp_market_sym {
    char *name; /* NUL-terminated, as subscribed */
    char *json; /* the name JSON-escaped, without quotes */
    size_t json_len;
    tp_asset asset;
    double base;  /* price level */
    double x;     /* log deviation from base (mean-reverting walk) */
    double sigma; /* per-trade volatility */
    int pdec, vdec;
    uint64_t rng;
    uint64_t trades; /* trades generated so far */
    void *recent;    /* sim.c: the trades last sent, for a venue's snapshot (freed with the market) */
} tp_market_sym;

typedef struct tp_market tp_market;

tp_market *tp_market_new(uint64_t seed);
void tp_market_free(tp_market *m);
/* The state of symbol name[0..len), created on first use; NULL on OOM or
 * an empty name. Pointers stay valid until tp_market_free. */
tp_market_sym *tp_market_get(tp_market *m, const char *name, size_t len);

/* Market hours on (1) or off (0, the default: every symbol always trades).
 * clock_offset_ms is added to the wall clock before hours are judged. */
void tp_market_set_hours(tp_market *m, int on, int64_t clock_offset_ms);
/* Does s trade at wall-clock time now_ms? Always 1 with hours off. */
int tp_market_trading(const tp_market *m, const tp_market_sym *s, int64_t now_ms);
/* Is the US stock market open at utc_ms: Monday to Friday, 09:30 to 16:00
 * New York time (UTC-5, UTC-4 from the second Sunday of March to the first
 * Sunday of November, each at 02:00 local, as the US has done since 2007)? */
int tp_market_us_open(int64_t utc_ms);
/* "2026-12-07T14:30:00Z" (seconds optional, Z required: UTC) or epoch
 * milliseconds, into *ms. 0, or -1 for anything else. */
int tp_market_parse_time(const char *text, int64_t *ms);

/* Upper bound of the bytes one trade of s takes in a frame. */
size_t tp_market_trade_max(const tp_market_sym *s);
/* Advance s by one trade and write it as a Finnhub trade object
 * {"c":[..],"p":..,"s":"..","t":ts_ms,"v":..} at out (room for
 * tp_market_trade_max bytes). Returns the bytes written. No allocation. */
size_t tp_market_trade_json(tp_market_sym *s, int64_t ts_ms, char *out);

/* Small deterministic PRNG (splitmix64) shared by the simulator. */
static inline uint64_t tp_sim_rand(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
/* Uniform in [0, 1). */
static inline double tp_sim_rand01(uint64_t *state) {
    return (double)(tp_sim_rand(state) >> 11) * (1.0 / 9007199254740992.0);
}

#endif
