/* feed_config.c - see feed_config.h. */
#include "cmd/feed_config.h"

#include "core/options.h"

#include <string.h>

int tp_feed_config(const tp_cmd_spec *spec, const tp_api_flags *api, const tp_feed_flags *feed, int need,
                   tp_source_config *cfg, tp_symbols *syms) {
    char err[512];
    tp_source_config_default(cfg);
    memset(syms, 0, sizeof *syms);
    cfg->feed = tp_feed_find(feed->name);
    if (!cfg->feed)
        return tp_cmd_usage_error(spec, "--feed '%s' is not one of %s", feed->name, tp_feed_names());
    cfg->url = feed->ws_url;
    cfg->token = api->token;
    cfg->rest_url = api->rest_url;
    cfg->validate = feed->validate;
    cfg->max_frame_bytes = (size_t)feed->max_frame;
    cfg->stale_timeout_ms = feed->stale_timeout_ms;
    cfg->dedupe_horizon_ms = feed->dedupe_horizon_ms;
    cfg->max_reconnects = (int)feed->max_reconnects;
    cfg->replay_path = feed->replay;
    cfg->replay_speed = feed->speed;
    if (feed->symbols && tp_symbols_parse(feed->symbols, syms, err, sizeof err))
        return tp_cmd_usage_error(spec, "%s", err);
    cfg->symbols = (const char *const *)syms->items;
    cfg->nsymbols = syms->n;
    if (feed->replay) return -1;
    if ((need & TP_FEED_NEED_TOKEN) && (!api->token || !*api->token)) {
        tp_symbols_free(syms);
        return tp_cmd_usage_error(spec, "no API token: give --token or set FINNHUB_API_TOKEN "
                                        "(any token works with `tickpipe simulate`)");
    }
    if ((need & TP_FEED_NEED_SYMBOLS) && syms->n == 0) {
        tp_symbols_free(syms);
        return tp_cmd_usage_error(spec, "no symbols: give --symbols or set FINNHUB_STOCKS_TICKERS "
                                        "(e.g. AAPL,BINANCE:BTCUSDT)");
    }
    return -1;
}
