/* feed_config.c - see feed_config.h. */
#include "cmd/feed_config.h"

#include "core/err.h"
#include "core/options.h"
#include "feed/source_group.h"

#include <stdlib.h>
#include <string.h>

/* Append the comma-separated tokens of text to list (owned copies), skipping
 * empty items and repeats of the tokens from index `from` on: one token twice would make two connections
 * evict each other. 0 or TP_ENOMEM. */
static int add_tokens(tp_symbols *list, size_t from, const char *text) {
    for (const char *p = text; p && *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        while (len && (*p == ' ' || *p == '\t')) p++, len--;
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t')) len--;
        int dup = len == 0;
        for (size_t i = from; !dup && i < list->n; i++)
            dup = strlen(list->items[i]) == len && !memcmp(list->items[i], p, len);
        if (!dup) {
            char **ni = realloc(list->items, (list->n + 1) * sizeof *ni);
            if (!ni) return TP_ENOMEM;
            list->items = ni;
            if (!(list->items[list->n] = strndup(p, len))) return TP_ENOMEM;
            list->n++;
        }
        p = e ? e + 1 : p + strlen(p);
    }
    return 0;
}

int tp_feed_tokens(const tp_feed_ops *f, const tp_api_flags *api, tp_symbols *out) {
    size_t n0 = out->n;
    if (tp_api_tokens(api, out)) return TP_ENOMEM;
    /* a feed's own variable, when it is not Finnhub's (read by --token) */
    if (out->n == n0 && f && f->token_env && strcmp(f->token_env, "FINNHUB_API_TOKEN") &&
        add_tokens(out, n0, getenv(f->token_env)))
        return TP_ENOMEM;
    return 0;
}

int tp_api_tokens(const tp_api_flags *api, tp_symbols *out) {
    size_t n0 = out->n;
    for (size_t i = 0; i < api->token.n; i++)
        if (add_tokens(out, n0, api->token.arg[i])) return TP_ENOMEM;
    if (out->n == n0 && add_tokens(out, n0, getenv("FINNHUB_API_TOKENS"))) return TP_ENOMEM;
    return 0;
}

/* Each symbol into the feed's stored form (normalize_symbol), in place,
 * dropping the repeats that makes ("btcusdt,BTCUSDT"). 0, or the exit
 * status of the usage error naming the feed. */
static int normalize_symbols(const tp_cmd_spec *spec, const tp_feed_ops *f, tp_symbols *syms) {
    if (!f->normalize_symbol) return 0;
    size_t o = 0;
    for (size_t i = 0; i < syms->n; i++) {
        char out[256], err[300];
        if (f->normalize_symbol(syms->items[i], out, sizeof out, err, sizeof err)) {
            for (size_t j = i; j < syms->n; j++) free(syms->items[j]);
            syms->n = o;
            return tp_cmd_usage_error(spec, "--feed %s: %s", f->name, err);
        }
        int dup = 0;
        for (size_t j = 0; j < o && !dup; j++) dup = !strcmp(syms->items[j], out);
        char *n = dup ? NULL : strdup(out);
        free(syms->items[i]);
        if (dup) continue;
        if (!n) {
            for (size_t j = i + 1; j < syms->n; j++) free(syms->items[j]);
            syms->n = o;
            return tp_cmd_fail(spec, "out of memory");
        }
        syms->items[o++] = n;
    }
    syms->n = o;
    return 0;
}

int tp_feed_config(const tp_cmd_spec *spec, const tp_api_flags *api, const tp_feed_flags *feed,
                   const tp_checks_flags *checks, int need, tp_source_config *cfg, tp_symbols *syms) {
    char err[512];
    tp_source_config_default(cfg);
    memset(syms, 0, sizeof *syms);
    cfg->feed = tp_feed_find(feed->name);
    if (!cfg->feed)
        return tp_cmd_usage_error(spec, "--feed '%s' is not one of %s", feed->name, tp_feed_names());
    cfg->url = feed->ws_url;
    cfg->rest_url = api->rest_url;
    cfg->validate = feed->validate;
    cfg->max_frame_bytes = (size_t)feed->max_frame;
    cfg->stale_timeout_ms = feed->stale_timeout_ms;
    cfg->dedupe_horizon_ms = feed->dedupe_horizon_ms;
    cfg->max_reconnects = (int)feed->max_reconnects;
    cfg->lifetime_ms = feed->connection_lifetime_ms;
    cfg->handover_before_ms = feed->handover_before_ms;
    cfg->replay_path = feed->replay;
    cfg->replay_speed = feed->speed;
    if (checks) { /* capture shows what the feed sends: no door */
        cfg->limits = (tp_trade_limits){checks->max_age_ms, checks->max_ahead_ms};
        cfg->check_subscribed = 1; /* the source leaves it out in a replay */
    }
    if (feed->symbols && tp_symbols_parse(feed->symbols, syms, err, sizeof err))
        return tp_cmd_usage_error(spec, "%s", err);
    int st = normalize_symbols(spec, cfg->feed, syms);
    if (st) {
        tp_symbols_free(syms);
        return st;
    }
    /* the tokens go after the symbols in syms, which owns both; a feed of
     * public data takes none */
    size_t nsym = syms->n;
    if (cfg->feed->needs_token && tp_feed_tokens(cfg->feed, api, syms)) {
        tp_symbols_free(syms);
        return tp_cmd_fail(spec, "out of memory");
    }
    cfg->symbols = (const char *const *)syms->items;
    cfg->nsymbols = nsym;
    cfg->ntokens = syms->n - nsym;
    cfg->tokens = cfg->ntokens ? (const char *const *)syms->items + nsym : NULL;
    cfg->token = cfg->ntokens ? cfg->tokens[0] : NULL;
    cfg->max_symbols_per_connection = cfg->ntokens || !cfg->feed->needs_token ? (size_t)feed->max_symbols : 0;
    if (feed->replay) return -1;
    if ((need & TP_FEED_NEED_TOKEN) && cfg->feed->needs_token && !cfg->ntokens) {
        const char *env = cfg->feed->token_env ? cfg->feed->token_env : "FINNHUB_API_TOKEN";
        tp_symbols_free(syms);
        return tp_cmd_usage_error(spec,
                                  "no API token for %s: give --token or set %s "
                                  "(any token works with `tickpipe simulate`)",
                                  cfg->feed->name, env);
    }
    if ((need & TP_FEED_NEED_SYMBOLS) && nsym == 0) {
        tp_symbols_free(syms);
        return tp_cmd_usage_error(spec, "no symbols: give --symbols or set FINNHUB_STOCKS_TICKERS "
                                        "(e.g. AAPL,BINANCE:BTCUSDT)");
    }
    size_t nconn;
    if (tp_source_plan(nsym, cfg->ntokens, cfg->max_symbols_per_connection, &nconn, err, sizeof err)) {
        tp_symbols_free(syms);
        return tp_cmd_usage_error(spec, "%s", err);
    }
    return -1;
}
