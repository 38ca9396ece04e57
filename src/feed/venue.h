/* venue.h - pieces shared by the feeds of the crypto venues (coinbase.c,
 * kraken.c): strict RFC 3339 times, strict decimal strings, strict JSON
 * loading, symbol lists for subscribe messages, and the feed entries.
 *
 * Pure functions on caller memory, any thread. */
#ifndef TP_FEED_VENUE_H
#define TP_FEED_VENUE_H

#include "core/iso_time.h" /* tp_rfc3339_to_ms, tp_ms_to_rfc3339 */
#include "feed/feed.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

extern const tp_feed_ops tp_feed_coinbase;
extern const tp_feed_ops tp_feed_kraken;

/* A venue's decimal string ("400.23", "0.00000015") into the nearest
 * double. Strict: digits, optionally '.' and at least one digit, nothing
 * else (no sign, exponent, spaces, "NaN"), at most 64 characters; the
 * value must be below 1e40. 0, or -1. */
int tp_decimal_str_to_double(const char *s, size_t n, double *out);

/* The shortest plain decimal (no exponent) that reads back as x (>= 0,
 * below 1e40), as tp_decimal_str_to_double accepts it; its length, or -1 if
 * x cannot be written so or out is too small. NUL-terminated. */
int tp_double_to_decimal_str(double x, char *out, size_t outlen);

/* The shortest JSON number that reads back as x (finite), with ".0" added
 * to a whole number so it stays a JSON real; its length or -1. */
int tp_double_to_json_number(double x, char *out, size_t outlen);

/* Load one whole message: a raw NUL byte is rejected (jansson would skip
 * one after a number), duplicate keys are rejected. A message holding an
 * integer beyond int64 (Kraken's status connection_id) is loaded with
 * integers as reals and *ints_as_real set: the caller must not take trade
 * fields from such a message. NULL with err (TP_EPARSE) on failure. */
json_t *tp_venue_json_load(const char *msg, size_t len, int *ints_as_real, char *err, size_t errlen);

/* Does hay[0, len) contain needle (lower case ASCII), case-insensitively? */
int tp_venue_ci_contains(const char *hay, size_t len, const char *needle);

/* Append `"A","B",...` to out at *o: each symbol with `prefix` stripped
 * when it starts with it, JSON-escaped. 0, or -1 if it does not fit. */
int tp_venue_symbol_list(const char *const *symbols, size_t n, const char *prefix, char *out, size_t outlen,
                         size_t *o);

/* Writers' helpers: append printf text, or s[0, n) JSON-escaped, at out +
 * *o; 0, or -1 if it does not fit (out then holds a prefix). */
int tp_venue_put(char *out, size_t outlen, size_t *o, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int tp_venue_put_esc(char *out, size_t outlen, size_t *o, const char *s, size_t n);
/* s[0, *n) without prefix when it starts with it (*n adjusted). */
const char *tp_venue_strip(const char *s, size_t *n, const char *prefix);

#endif
