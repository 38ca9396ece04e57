/* venue_write.h - a venue's own messages, written from tickpipe's trades,
 * exactly in the shape each venue's documentation shows (for the
 * simulator's personalities and for tests: parse(write(t)) == t).
 *
 * Every writer returns the message's length (NUL-terminated in out), or -1
 * if it does not fit outlen or a value cannot be written (a price that is
 * not finite and > 0, a size < 0, a trade id <= 0, a time outside years
 * 0001-9999). Fields tickpipe does not keep are written with fixed values:
 * Coinbase's maker/taker order ids derive from the trade id and its side
 * is "sell"; Kraken's side is "buy" and ord_type "limit". A stored symbol
 * is written without its venue prefix ("COINBASE:BTC-USD" -> "BTC-USD"). */
#ifndef TP_FEED_VENUE_WRITE_H
#define TP_FEED_VENUE_WRITE_H

#include "core/trade.h"

#include <stddef.h>
#include <stdint.h>

/* Coinbase Exchange `matches` channel: one trade as a "match" message (or
 * "last_match" when last is 1) with the given sequence number. */
int tp_coinbase_match_json(const tp_trade *t, int64_t sequence, int last, char *out, size_t outlen);
/* Coinbase `heartbeat`: product (stored or venue form), sequence, last
 * trade id, time. */
int tp_coinbase_heartbeat_json(const char *product, int64_t sequence, int64_t last_trade_id, int64_t time_ms,
                               char *out, size_t outlen);
/* Coinbase `subscriptions` answer listing the products on the matches and
 * heartbeat channels. */
int tp_coinbase_subscriptions_json(const char *const *products, size_t n, char *out, size_t outlen);

/* Kraken WebSocket v2 `trade` channel: n trades as one "snapshot"
 * (snapshot = 1) or "update" message. */
int tp_kraken_trade_json(const tp_trade *t, size_t n, int snapshot, char *out, size_t outlen);
/* Kraken v2 heartbeat: {"channel":"heartbeat"}. */
int tp_kraken_heartbeat_json(char *out, size_t outlen);
/* Kraken v2 answer to a trade subscribe (subscribe = 1) or unsubscribe of
 * one symbol: success, or failure with error text when error != NULL. */
int tp_kraken_subscribe_ack_json(const char *symbol, int subscribe, const char *error, char *out,
                                 size_t outlen);

#endif
