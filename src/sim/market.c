/* market.c - the simulator's synthetic market (see market.h).
 *
 * Prices follow a mean-reverting random walk in log space around the
 * symbol's level (x <- x*(1-k) + sigma*z), so a benchmark that draws
 * millions of trades still sees sane prices, and are printed with the
 * symbol's quote decimals. Volumes: whole shares for stocks (odd lots and
 * round lots), a notional between $5 and $50,000 for crypto, 0 for forex
 * (Finnhub's price updates). Conditions: a stock trade carries Finnhub-style
 * condition codes, a crypto trade "c":null, a forex update no "c" at all, so
 * a client meets all three shapes.
 *
 * Formatting is by hand into the caller's buffer: this is the simulator's
 * hot path (a million trades per second), where snprintf's %f would cost
 * more than everything else together. */
#include "sim/market.h"

#include "core/json_str.h"
#include "feed/market_hours.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const tp_market_info k_known[] = {
    {"AAPL", "AAPL", "APPLE INC", "Common Stock", TP_ASSET_STOCK, 190.0, 2, 0},
    {"MSFT", "MSFT", "MICROSOFT CORP", "Common Stock", TP_ASSET_STOCK, 415.0, 2, 0},
    {"AMZN", "AMZN", "AMAZON.COM INC", "Common Stock", TP_ASSET_STOCK, 185.0, 2, 0},
    {"GOOGL", "GOOGL", "ALPHABET INC-CL A", "Common Stock", TP_ASSET_STOCK, 170.0, 2, 0},
    {"GOOG", "GOOG", "ALPHABET INC-CL C", "Common Stock", TP_ASSET_STOCK, 172.0, 2, 0},
    {"TSLA", "TSLA", "TESLA INC", "Common Stock", TP_ASSET_STOCK, 240.0, 2, 0},
    {"NVDA", "NVDA", "NVIDIA CORP", "Common Stock", TP_ASSET_STOCK, 120.0, 2, 0},
    {"META", "META", "META PLATFORMS INC-CLASS A", "Common Stock", TP_ASSET_STOCK, 500.0, 2, 0},
    {"NFLX", "NFLX", "NETFLIX INC", "Common Stock", TP_ASSET_STOCK, 650.0, 2, 0},
    {"AMD", "AMD", "ADVANCED MICRO DEVICES", "Common Stock", TP_ASSET_STOCK, 160.0, 2, 0},
    {"INTC", "INTC", "INTEL CORP", "Common Stock", TP_ASSET_STOCK, 30.0, 2, 0},
    {"IBM", "IBM", "INTL BUSINESS MACHINES CORP", "Common Stock", TP_ASSET_STOCK, 190.0, 2, 0},
    {"ORCL", "ORCL", "ORACLE CORP", "Common Stock", TP_ASSET_STOCK, 140.0, 2, 0},
    {"JPM", "JPM", "JPMORGAN CHASE & CO", "Common Stock", TP_ASSET_STOCK, 200.0, 2, 0},
    {"V", "V", "VISA INC-CLASS A SHARES", "Common Stock", TP_ASSET_STOCK, 275.0, 2, 0},
    {"BAC", "BAC", "BANK OF AMERICA CORP", "Common Stock", TP_ASSET_STOCK, 38.0, 2, 0},
    {"WMT", "WMT", "WALMART INC", "Common Stock", TP_ASSET_STOCK, 68.0, 2, 0},
    {"DIS", "DIS", "WALT DISNEY CO/THE", "Common Stock", TP_ASSET_STOCK, 95.0, 2, 0},
    {"KO", "KO", "COCA-COLA CO/THE", "Common Stock", TP_ASSET_STOCK, 62.0, 2, 0},
    {"XOM", "XOM", "EXXON MOBIL CORP", "Common Stock", TP_ASSET_STOCK, 115.0, 2, 0},
    {"SPY", "SPY", "SPDR S&P 500 ETF TRUST", "ETP", TP_ASSET_STOCK, 550.0, 2, 0},
    {"QQQ", "QQQ", "INVESCO QQQ TRUST SERIES 1", "ETP", TP_ASSET_STOCK, 470.0, 2, 0},
    {"BINANCE:BTCUSDT", "BTC/USDT", "Binance BTCUSDT", "Crypto", TP_ASSET_CRYPTO, 60000.0, 2, 5},
    {"BINANCE:ETHUSDT", "ETH/USDT", "Binance ETHUSDT", "Crypto", TP_ASSET_CRYPTO, 3000.0, 2, 4},
    {"BINANCE:BNBUSDT", "BNB/USDT", "Binance BNBUSDT", "Crypto", TP_ASSET_CRYPTO, 580.0, 2, 3},
    {"BINANCE:SOLUSDT", "SOL/USDT", "Binance SOLUSDT", "Crypto", TP_ASSET_CRYPTO, 150.0, 2, 2},
    {"BINANCE:XRPUSDT", "XRP/USDT", "Binance XRPUSDT", "Crypto", TP_ASSET_CRYPTO, 0.55, 4, 0},
    {"BINANCE:DOGEUSDT", "DOGE/USDT", "Binance DOGEUSDT", "Crypto", TP_ASSET_CRYPTO, 0.12, 5, 0},
    {"BINANCE:ADAUSDT", "ADA/USDT", "Binance ADAUSDT", "Crypto", TP_ASSET_CRYPTO, 0.40, 4, 1},
    {"BINANCE:ETHBTC", "ETH/BTC", "Binance ETHBTC", "Crypto", TP_ASSET_CRYPTO, 0.05, 5, 4},
    {"COINBASE:BTC-USD", "BTC-USD", "Coinbase BTC-USD", "Crypto", TP_ASSET_CRYPTO, 60000.0, 2, 8},
    {"COINBASE:ETH-USD", "ETH-USD", "Coinbase ETH-USD", "Crypto", TP_ASSET_CRYPTO, 3000.0, 2, 8},
    {"OANDA:EUR_USD", "EUR/USD", "Oanda EUR/USD", "Forex", TP_ASSET_FOREX, 1.08, 5, 0},
    {"OANDA:GBP_USD", "GBP/USD", "Oanda GBP/USD", "Forex", TP_ASSET_FOREX, 1.27, 5, 0},
    {"OANDA:USD_JPY", "USD/JPY", "Oanda USD/JPY", "Forex", TP_ASSET_FOREX, 150.0, 3, 0},
    {"OANDA:AUD_USD", "AUD/USD", "Oanda AUD/USD", "Forex", TP_ASSET_FOREX, 0.66, 5, 0},
    {"OANDA:USD_CHF", "USD/CHF", "Oanda USD/CHF", "Forex", TP_ASSET_FOREX, 0.88, 5, 0},
    {"OANDA:USD_CAD", "USD/CAD", "Oanda USD/CAD", "Forex", TP_ASSET_FOREX, 1.36, 5, 0},
    {"OANDA:EUR_GBP", "EUR/GBP", "Oanda EUR/GBP", "Forex", TP_ASSET_FOREX, 0.85, 5, 0},
    {"OANDA:XAU_USD", "XAU/USD", "Oanda Gold", "Forex", TP_ASSET_FOREX, 2350.0, 3, 0},
};

const tp_market_info *tp_market_known(size_t *n) {
    *n = sizeof k_known / sizeof k_known[0];
    return k_known;
}

struct tp_market {
    uint64_t seed;
    tp_market_sym **syms;
    size_t n, cap;
    int hours;               /* market hours on */
    int64_t clock_offset_ms; /* added to the wall clock for them */
};

tp_market *tp_market_new(uint64_t seed) {
    tp_market *m = calloc(1, sizeof *m);
    if (m) m->seed = seed;
    return m;
}

void tp_market_free(tp_market *m) {
    if (!m) return;
    for (size_t i = 0; i < m->n; i++) {
        free(m->syms[i]->name);
        free(m->syms[i]->json);
        free(m->syms[i]->recent);
        free(m->syms[i]);
    }
    free(m->syms);
    free(m);
}

/* ---- market hours ---- */

int tp_market_us_open(int64_t utc_ms) {
    return tp_market_hours_us_open(utc_ms); /* the calendar tickpipe's feed side uses too */
}

int tp_market_parse_time(const char *t, int64_t *ms) {
    if (!t || !*t) return -1;
    char *end;
    if (strspn(t, "0123456789") == strlen(t)) {
        *ms = (int64_t)strtoll(t, &end, 10);
        return 0;
    }
    int y, mo, d, hh, mm, ss = 0, n = 0;
    if (sscanf(t, "%4d-%2d-%2dT%2d:%2d%n", &y, &mo, &d, &hh, &mm, &n) != 5) return -1;
    const char *rest = t + n;
    if (*rest == ':') {
        int k = 0;
        if (sscanf(rest, ":%2d%n", &ss, &k) != 1) return -1;
        rest += k;
    }
    if (strcmp(rest, "Z") || mo < 1 || mo > 12 || d < 1 || d > 31 || hh > 23 || mm > 59 || ss > 59 ||
        y < 1970)
        return -1;
    *ms = ((tp_days_from_civil(y, mo, d) * 24 + hh) * 60 + mm) * 60000 + (int64_t)ss * 1000;
    return 0;
}

void tp_market_set_hours(tp_market *m, int on, int64_t clock_offset_ms) {
    m->hours = on;
    m->clock_offset_ms = clock_offset_ms;
}

int tp_market_trading(const tp_market *m, const tp_market_sym *s, int64_t now_ms) {
    if (!m->hours || s->asset != TP_ASSET_STOCK) return 1;
    return tp_market_us_open(now_ms + m->clock_offset_ms);
}

static uint64_t fnv1a(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static int has_prefix(const char *s, size_t n, const char *p) {
    size_t pl = strlen(p);
    return n >= pl && strncasecmp(s, p, pl) == 0;
}

/* A level for a symbol tickpipe does not know, stable for its name. */
static void guess_profile(tp_market_sym *s, uint64_t h) {
    size_t n = strlen(s->name);
    double u = (double)(h >> 11) * (1.0 / 9007199254740992.0);
    if (has_prefix(s->name, n, "OANDA:") || has_prefix(s->name, n, "FXCM:") ||
        has_prefix(s->name, n, "FOREX:") || has_prefix(s->name, n, "FXPRO:") ||
        has_prefix(s->name, n, "IC MARKETS:")) {
        s->asset = TP_ASSET_FOREX;
        s->base = 0.5 + 1.5 * u;
        s->pdec = 5;
        s->vdec = 0;
    } else if (memchr(s->name, ':', n)) {
        s->asset = TP_ASSET_CRYPTO;
        s->base = exp(log(0.1) + u * (log(50000.0) - log(0.1)));
        s->pdec = s->base >= 1000 ? 2 : s->base >= 1 ? 4 : 6;
        s->vdec = s->base >= 1000 ? 5 : s->base >= 1 ? 3 : 1;
    } else {
        s->asset = TP_ASSET_STOCK;
        s->base = exp(log(5.0) + u * (log(800.0) - log(5.0)));
        s->pdec = 2;
        s->vdec = 0;
    }
}

static char *json_escape(const char *s, size_t n, size_t *outlen) {
    char *o = malloc(n * TP_JSON_ESCAPE_MAX + 1);
    if (!o) return NULL;
    *outlen = tp_json_escape_to(o, n * TP_JSON_ESCAPE_MAX, s, n, 0);
    o[*outlen] = '\0';
    return o;
}

tp_market_sym *tp_market_get(tp_market *m, const char *name, size_t len) {
    if (!len) return NULL;
    for (size_t i = 0; i < m->n; i++)
        if (strlen(m->syms[i]->name) == len && memcmp(m->syms[i]->name, name, len) == 0) return m->syms[i];
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 32;
        tp_market_sym **ns = realloc(m->syms, cap * sizeof *ns);
        if (!ns) return NULL;
        m->syms = ns;
        m->cap = cap;
    }
    tp_market_sym *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->name = strndup(name, len);
    s->json = json_escape(name, len, &s->json_len);
    if (!s->name || !s->json) {
        free(s->name);
        free(s->json);
        free(s);
        return NULL;
    }
    uint64_t h = fnv1a(name, len);
    s->rng = m->seed ^ h;
    const tp_market_info *known = NULL;
    for (size_t i = 0; i < sizeof k_known / sizeof k_known[0]; i++)
        if (strlen(k_known[i].symbol) == len && memcmp(k_known[i].symbol, name, len) == 0)
            known = &k_known[i];
    if (known) {
        s->asset = known->asset;
        s->base = known->price;
        s->pdec = known->pdec;
        s->vdec = known->vdec;
    } else {
        guess_profile(s, h);
    }
    s->sigma = s->asset == TP_ASSET_FOREX ? 3e-5 : s->asset == TP_ASSET_CRYPTO ? 2.5e-4 : 1.5e-4;
    /* start somewhere around the level, not exactly on it */
    s->x = (tp_sim_rand01(&s->rng) - 0.5) * 0.02;
    m->syms[m->n++] = s;
    return s;
}

size_t tp_market_trade_max(const tp_market_sym *s) {
    return s->json_len + 160;
}

/* ---------------------------------------------------------- formatting */

static size_t put_u64(char *o, uint64_t v) {
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++) o[i] = tmp[n - 1 - i];
    return n;
}

static const uint64_t k_pow10[] = {1,       10,       100,       1000,       10000,      100000,
                                   1000000, 10000000, 100000000, 1000000000, 10000000000};

/* v / 10^dec as a JSON number, trailing zeros of the fraction dropped. */
static size_t put_fixed(char *o, uint64_t v, int dec) {
    uint64_t p = k_pow10[dec];
    size_t n = put_u64(o, v / p);
    uint64_t frac = v % p;
    if (!frac) return n;
    o[n++] = '.';
    for (int d = dec - 1; d >= 0 && frac; d--) {
        uint64_t q = k_pow10[d];
        o[n++] = (char)('0' + frac / q);
        frac %= q;
    }
    return n;
}

#define PUT(lit)                                                                                             \
    do {                                                                                                     \
        memcpy(o, lit, sizeof lit - 1);                                                                      \
        o += sizeof lit - 1;                                                                                 \
    } while (0)

static const char *const k_conds[] = {
    "[\"1\"]",        "[\"1\"]",        "[\"1\"]",
    "[\"1\"]",        "[\"1\"]",        "[\"1\"]",
    "[\"1\",\"12\"]", "[\"1\",\"24\"]", "[\"1\",\"8\",\"24\",\"12\"]",
    "[\"1\",\"12\"]",
};

size_t tp_market_trade_json(tp_market_sym *s, int64_t ts_ms, char *out) {
    char *o = out;
    uint64_t r1 = tp_sim_rand(&s->rng), r2 = tp_sim_rand(&s->rng);
    /* z ~ N(0,1) approximately: the sum of four uniforms, centred and scaled */
    double z = ((double)(r1 & 0xffff) + (double)((r1 >> 16) & 0xffff) + (double)((r1 >> 32) & 0xffff) +
                (double)(r1 >> 48)) *
                   (1.0 / 65536.0) -
               2.0;
    s->x = s->x * (1.0 - 2e-5) + s->sigma * 1.7320508 * z;
    double price = s->base * exp(s->x);
    uint64_t pscaled = (uint64_t)(price * (double)k_pow10[s->pdec] + 0.5);
    if (!pscaled) pscaled = 1;
    s->trades++;

    o[0] = '{';
    o++;
    if (s->asset == TP_ASSET_STOCK) {
        uint64_t v;
        if ((r2 & 1) == 0)
            v = 1 + ((r2 >> 8) % 99); /* odd lot */
        else if ((r2 & 62) == 2)
            v = 1000 + ((r2 >> 8) % 9000);
        else
            v = 100 * (1 + ((r2 >> 8) % 5));
        PUT("\"c\":");
        const char *c =
            v < 100 ? "[\"1\",\"37\"]" : k_conds[(r2 >> 40) % (sizeof k_conds / sizeof k_conds[0])];
        size_t cl = strlen(c);
        memcpy(o, c, cl);
        o += cl;
        PUT(",\"p\":");
        o += put_fixed(o, pscaled, s->pdec);
        PUT(",\"s\":\"");
        memcpy(o, s->json, s->json_len);
        o += s->json_len;
        PUT("\",\"t\":");
        o += put_u64(o, (uint64_t)(ts_ms < 0 ? 0 : ts_ms));
        PUT(",\"v\":");
        o += put_u64(o, v);
    } else {
        if (s->asset == TP_ASSET_CRYPTO) PUT("\"c\":null,");
        PUT("\"p\":");
        o += put_fixed(o, pscaled, s->pdec);
        PUT(",\"s\":\"");
        memcpy(o, s->json, s->json_len);
        o += s->json_len;
        PUT("\",\"t\":");
        o += put_u64(o, (uint64_t)(ts_ms < 0 ? 0 : ts_ms));
        PUT(",\"v\":");
        if (s->asset == TP_ASSET_FOREX) {
            *o++ = '0';
        } else {
            /* log-uniform notional between $5 and $50,000 */
            double notional = exp(1.6094379 + (double)(r2 >> 11) * (1.0 / 9007199254740992.0) * 9.2103404);
            uint64_t vs = (uint64_t)(notional / price * (double)k_pow10[s->vdec] + 0.5);
            if (!vs) vs = 1;
            o += put_fixed(o, vs, s->vdec);
        }
    }
    *o++ = '}';
    return (size_t)(o - out);
}
