/* finnhub_json.h - parse one Finnhub WebSocket frame.
 *
 * Finnhub sends JSON text frames:
 *   {"data":[{"c":["1","12"],"p":7296.89,"s":"BINANCE:BTCUSDT","t":1575526691134,"v":0.011467}],"type":"trade"}
 *   {"type":"ping"}
 *   {"type":"error","msg":"Subscribing to too many symbols"}
 * and may add message types. tp_finnhub_parse() is the hot path of every
 * ingest: it appends the trades of a frame to a batch with no per-trade
 * allocation (strings land in the batch arena). tp_finnhub_parse_ref()
 * (tests/lib/finnhub_json_ref.h, built only into the tests, fuzz targets and
 * benchmarks) is a straightforward jansson implementation kept as the test
 * oracle; both must agree on every input (differential fuzzing in fuzz/).
 *
 * Rules (both parsers):
 * - The frame must be one JSON object, nothing but whitespace after it.
 * - "type" must be a string. "trade" needs "data", an array of objects, each
 *   with "s" string, "p" number, "t" integral number (exponent form allowed,
 *   e.g. 1.7e12), "v" number; "c" missing, null, or an array whose items
 *   are strings or null. Unknown keys are ignored; a repeated key: last wins.
 * - "error": info->text is "msg" (empty if missing). Any other type:
 *   TP_MSG_UNKNOWN with info->text = the type.
 * - JSON is strict RFC 8259 as jansson reads it: valid UTF-8, no raw NUL or
 *   control characters in strings, no \u0000, paired surrogates, 64-bit
 *   integers (a token without '.'/exponent out of range is an error), reals
 *   that overflow a double are an error, at most 2048 levels of nesting.
 * - On any violation: TP_EPARSE, err says what and at which byte offset, and
 *   the batch is left exactly as before the call.
 * Thread-safety: none needed; touches only its arguments. */
#ifndef TP_FINNHUB_JSON_H
#define TP_FINNHUB_JSON_H

#include "feed/feed.h" /* tp_msg_info, tp_msg_type */
#include "core/trade.h"

int tp_finnhub_parse(const char *frame, size_t len, tp_batch *out, tp_msg_info *info, char *err,
                     size_t errlen);

/* Write one trade as a JSON line {"s":..,"p":..,"t":..,"v":..,"c":..} (no
 * newline, NUL-terminated) into out; returns bytes written (excluding NUL)
 * or -1 if out is too small. p and v are the shortest of %.15g/%.16g/%.17g
 * that reads back as the same double, always in real form ("100.0",
 * "-0.0"); a non-finite value is written as null. Strings are escaped as
 * JSON requires; invalid UTF-8 bytes become U+FFFD. */
int tp_finnhub_trade_json(const tp_trade *t, char *out, size_t outlen);

#endif
