/* rest.h - Finnhub's REST symbol search, through libcurl.
 *
 * GET {base_url}/search?q=QUERY&token=TOKEN answers
 *   {"count":N,"result":[{"description":..,"displaySymbol":..,"symbol":..,"type":..}]}
 * Used by `tickpipe symbols QUERY` and by ticker validation
 * (FINNHUB_VALIDATE_TICKERS=1) before the feed subscribes.
 *
 * Errors come back in plain words in err: the HTTP status (401/403 = token
 * rejected, 429 = rate limited), an answer that is not the JSON above, or the
 * network failure, with the URL redacted (the token never reaches err).
 * Thread-safety: each call is independent (one curl easy handle per call);
 * libcurl's global init is done once, thread-safely. */
#ifndef TP_REST_H
#define TP_REST_H

#include <stddef.h>

typedef struct tp_rest_symbol {
    const char *symbol, *display_symbol, *type, *description; /* never NULL ("" if absent) */
} tp_rest_symbol;

/* Called once per result, in the server's order; the strings are valid only
 * during the call. Return nonzero to stop early (not an error). */
typedef int (*tp_rest_symbol_fn)(void *ud, const tp_rest_symbol *sym);

/* Search; *count (if non-NULL) gets the number of results delivered.
 * timeout_ms 0 = 10 s. Returns 0, TP_EINVAL (bad arguments), TP_EUNAVAIL
 * (network error or 5xx), TP_EREFUSED (401/403/4xx), TP_EPARSE (bad body). */
int tp_rest_search(const char *base_url, const char *token, const char *query, long timeout_ms,
                   tp_rest_symbol_fn fn, void *ud, size_t *count, char *err, size_t errlen);

/* Parse a search answer (the JSON above); what names its source in errors.
 * Items that are not objects are skipped; missing fields read as "".
 * Returns 0 or TP_EPARSE. Exposed for tests and the fuzz target. */
int tp_rest_parse_search(const char *body, size_t len, const char *what, tp_rest_symbol_fn fn, void *ud,
                         size_t *count, char *err, size_t errlen);

/* Does a search for symbol return a result whose "symbol" is exactly it?
 * *exists = 1/0 on success; on failure returns the tp_rest_search error. */
int tp_rest_symbol_exists(const char *base_url, const char *token, const char *symbol, int *exists, char *err,
                          size_t errlen);

#endif
