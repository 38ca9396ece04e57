/* feed_config.h - the Finnhub account and feed option groups (cmd/flags.h)
 * turned into a tp_source_config, with the checks capture, produce and run
 * share: a token unless replaying, the symbol list parsed, at least one
 * symbol. Main thread of a command. */
#ifndef TP_CMD_FEED_CONFIG_H
#define TP_CMD_FEED_CONFIG_H

#include "cmd/flags.h"
#include "feed/source.h"

enum {
    TP_FEED_NEED_TOKEN = 1,   /* a token is required unless --replay */
    TP_FEED_NEED_SYMBOLS = 2, /* at least one symbol unless --replay */
};

/* Fill cfg (pointing into api, feed and syms; syms owns the parsed list:
 * free it with tp_symbols_free). Returns -1 to go on, else the exit status
 * after printing the usage error. */
int tp_feed_config(const tp_cmd_spec *spec, const tp_api_flags *api, const tp_feed_flags *feed, int need,
                   tp_source_config *cfg, tp_symbols *syms);

#endif
