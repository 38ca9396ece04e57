/* feed_config.h - the Finnhub account and feed option groups (cmd/flags.h)
 * turned into a tp_source_config, with the checks capture, produce and run
 * share: a token unless replaying or the feed needs none (needs_token),
 * the symbol list parsed and put in the feed's form, at least one
 * symbol; the trade checks (--max-trade-age, --max-trade-ahead, subscribed
 * symbols) of the source's door, none with checks NULL (capture shows what
 * the feed sends). Main thread of a command. */
#ifndef TP_CMD_FEED_CONFIG_H
#define TP_CMD_FEED_CONFIG_H

#include "cmd/flags.h"
#include "feed/source.h"

enum {
    TP_FEED_NEED_TOKEN = 1,   /* a token is required unless --replay */
    TP_FEED_NEED_SYMBOLS = 2, /* at least one symbol unless --replay */
};

/* Fill cfg (pointing into api, feed and syms; syms owns the parsed symbols
 * and, after them, the tokens: free it with tp_symbols_free). Several
 * tokens or more symbols than --max-symbols-per-connection make a source
 * of several connections (feed/source_group.h); too few tokens for the
 * symbols is a usage error. Returns -1 to go on, else the exit status
 * after printing the usage error. */
int tp_feed_config(const tp_cmd_spec *spec, const tp_api_flags *api, const tp_feed_flags *feed,
                   const tp_checks_flags *checks, int need, tp_source_config *cfg, tp_symbols *syms);

/* The tokens of --token (repeated, each maybe a comma list) or
 * FINNHUB_API_TOKEN, else FINNHUB_API_TOKENS, without empty items and
 * repeats, appended to out (owned copies). 0 or TP_ENOMEM. */
int tp_api_tokens(const tp_api_flags *api, tp_symbols *out);
/* The tokens of feed f: tp_api_tokens, else f's own variable (token_env)
 * when it is not FINNHUB_API_TOKEN. 0 or TP_ENOMEM. */
int tp_feed_tokens(const tp_feed_ops *f, const tp_api_flags *api, tp_symbols *out);

#endif
