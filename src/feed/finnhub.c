/* finnhub.c - Finnhub's WebSocket feed as a tp_feed_ops (feed.h).
 *
 * wss://ws.finnhub.io?token=TOKEN; one {"type":"subscribe","symbol":S}
 * per symbol; messages parsed by codec/finnhub_json.h; symbols checked
 * with the REST symbol search (feed/rest.h). Finnhub words its errors
 * loosely ("Invalid API key", "API key in use by another connection", a
 * bare 401), so classify looks for the phrases seen in practice, case
 * insensitively, key-in-use first (its texts also name the key). */
#include "feed/feed.h"

#include "codec/finnhub_json.h"
#include "core/err.h"
#include "core/json_str.h"
#include "feed/rest.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int ci_contains(const char *hay, size_t len, const char *needle) {
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++) {
        size_t j = 0;
        while (j < n && tolower((unsigned char)hay[i + j]) == needle[j]) j++;
        if (j == n) return 1;
    }
    return 0;
}

static tp_feed_reason finnhub_classify(const char *msg, size_t len) {
    static const char *const in_use[] = {"in use",
                                         "elsewhere",
                                         "another connection",
                                         "already connected",
                                         "one connection",
                                         "concurrent connection",
                                         "connected from another"};
    static const char *const bad_token[] = {"token",        "api key",      "apikey",    "api_key",
                                            "unauthorized", "unauthorised", "forbidden", "not authorized",
                                            "401",          "403"};
    if (!msg) return TP_FEED_REASON_OTHER;
    for (size_t i = 0; i < sizeof in_use / sizeof in_use[0]; i++)
        if (ci_contains(msg, len, in_use[i])) return TP_FEED_REASON_KEY_IN_USE;
    for (size_t i = 0; i < sizeof bad_token / sizeof bad_token[0]; i++)
        if (ci_contains(msg, len, bad_token[i])) return TP_FEED_REASON_BAD_TOKEN;
    return TP_FEED_REASON_OTHER;
}

static const char *finnhub_reason_words(tp_feed_reason r) {
    switch (r) {
    case TP_FEED_REASON_KEY_IN_USE:
        return "the API key is in use elsewhere: Finnhub allows one connection per key, and another client "
               "connected with this one (stop the other client or use another key)";
    case TP_FEED_REASON_BAD_TOKEN:
        return "the API token was rejected by the server (check FINNHUB_API_TOKEN or --token)";
    default: return NULL;
    }
}

/* path + "?token=" (or "&token=") + the token percent-encoded */
static int finnhub_connect_path(const char *path, const char *token, char *out, size_t outlen, char *err,
                                size_t errlen) {
    char *tok = NULL;
    if (token && *token) {
        size_t tl = strlen(token);
        tok = malloc(tl * 3 + 1);
        if (!tok) return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
        size_t o = 0;
        for (size_t i = 0; i < tl; i++) {
            unsigned char c = (unsigned char)token[i];
            if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
                tok[o++] = (char)c;
            else
                o += (size_t)sprintf(tok + o, "%%%02X", c);
        }
        tok[o] = '\0';
    }
    int n = snprintf(out, outlen, "/%s%s%s%s", path, tok ? (strchr(path, '?') ? "&" : "?") : "",
                     tok ? "token=" : "", tok ? tok : "");
    free(tok);
    if (n < 0 || (size_t)n >= outlen)
        return tp_seterr(err, errlen, TP_EINVAL, "the WebSocket URL is too long");
    return 0;
}

/* {"type":"subscribe","symbol":"S"}, S escaped by the JSON string writer */
static int finnhub_subscribe_msg(const char *sym, int subscribe, char *out, size_t outlen) {
    int n = snprintf(out, outlen, "{\"type\":\"%s\",\"symbol\":\"", subscribe ? "subscribe" : "unsubscribe");
    if (n < 0 || (size_t)n >= outlen) return -1;
    size_t o = (size_t)n;
    size_t need = tp_json_escape_to(out + o, outlen - o, sym, strlen(sym), 0);
    if (need + 3 > outlen - o) return -1; /* no half message */
    o += need;
    memcpy(out + o, "\"}", 3);
    return (int)o + 2;
}

const tp_feed_ops tp_feed_finnhub = {
    .name = "finnhub",
    .default_url = "wss://ws.finnhub.io",
    .default_rest_url = "https://finnhub.io/api/v1",
    .connect_path = finnhub_connect_path,
    .subscribe_msg = finnhub_subscribe_msg,
    .parse = tp_finnhub_parse,
    .classify = finnhub_classify,
    .reason_words = finnhub_reason_words,
    .symbol_exists = tp_rest_symbol_exists,
    .key_in_use_min_delay_ms = 10000,
    .needs_token = 1,
    .token_env = "FINNHUB_API_TOKEN",
};
