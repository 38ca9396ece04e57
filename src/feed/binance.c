/* binance.c - Binance spot trade streams as a tp_feed_ops (feed.h).
 *
 * Public market data: no token. wss://stream.binance.com:9443/ws, then
 * live subscriptions, {"method":"SUBSCRIBE","params":["btcusdt@trade",...],
 * "id":N} (at most 1024 streams a connection, 5 client messages a second,
 * pongs included), answered {"result":null,"id":N}; an error answer is
 * {"code":C,"msg":"..."} (older servers: {"error":{"code":C,"msg":".."}}).
 * A trade event:
 *
 *   {"e":"trade","E":1672515782136,"s":"BNBBTC","t":12345,"p":"0.001",
 *    "q":"100","T":1672515782136,"m":true,"M":true}
 *
 * alone on /ws or wrapped {"stream":"bnbbtc@trade","data":{...}} on a
 * combined stream. It becomes one tp_trade: symbol "BINANCE:BNBBTC" (the
 * way Finnhub names the same venue's symbols), price p and volume q read
 * from their decimal strings, ts_ms = T (the trade time), trade_id = t
 * (consecutive per symbol). The server pings at the WebSocket level every
 * 20 s (the source answers with a pong) and closes a connection after
 * 24 h. Messages are parsed with jansson: one trade a message, so the
 * parse is a small part of a frame's cost. */
#include "feed/feed.h"

#include "core/err.h"

#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PREFIX "BINANCE:"
#define PREFIX_LEN 8
#define MAX_SYMBOL 32

/* Binance's symbols are upper-case letters and digits (BTCUSDT, 1INCHUSDT). */
static int venue_symbol_ok(const char *s, size_t n) {
    if (n == 0 || n > MAX_SYMBOL) return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i])) return 0;
    return 1;
}

static int binance_normalize(const char *in, char *out, size_t outlen, char *err, size_t errlen) {
    const char *s = in ? in : "";
    if (!strncasecmp(s, PREFIX, PREFIX_LEN)) s += PREFIX_LEN;
    size_t n = strlen(s);
    if (!venue_symbol_ok(s, n))
        return tp_seterr(err, errlen, TP_EINVAL,
                         "not a Binance symbol: '%.80s' (letters and digits, at most %d, e.g. BTCUSDT or "
                         "BINANCE:BTCUSDT)",
                         in ? in : "", MAX_SYMBOL);
    if (PREFIX_LEN + n + 1 > outlen) return tp_seterr(err, errlen, TP_EINVAL, "symbol too long: '%.80s'", in);
    memcpy(out, PREFIX, PREFIX_LEN);
    for (size_t i = 0; i < n; i++) out[PREFIX_LEN + i] = (char)toupper((unsigned char)s[i]);
    out[PREFIX_LEN + n] = '\0';
    return 0;
}

/* "BINANCE:BTCUSDT" -> "btcusdt@trade" appended at out[o]; the new length,
 * or -1 if it does not fit (or the symbol is not a stored Binance one). */
static int put_stream(const char *sym, char *out, size_t outlen, size_t o) {
    if (!strncmp(sym, PREFIX, PREFIX_LEN)) sym += PREFIX_LEN;
    size_t n = strlen(sym);
    if (!venue_symbol_ok(sym, n) || o + n + 6 + 2 >= outlen) return -1;
    out[o++] = '"';
    for (size_t i = 0; i < n; i++) out[o++] = (char)tolower((unsigned char)sym[i]);
    memcpy(out + o, "@trade\"", 7);
    return (int)(o + 7);
}

static int binance_subscribe_many(const char *const *syms, size_t n, int subscribe, char *out,
                                  size_t outlen) {
    int w = snprintf(out, outlen, "{\"method\":\"%s\",\"params\":[", subscribe ? "SUBSCRIBE" : "UNSUBSCRIBE");
    if (w < 0 || (size_t)w >= outlen) return -1;
    size_t o = (size_t)w;
    for (size_t i = 0; i < n; i++) {
        if (i) {
            if (o + 1 >= outlen) return -1;
            out[o++] = ',';
        }
        int r = put_stream(syms[i], out, outlen, o);
        if (r < 0) return -1;
        o = (size_t)r;
    }
    /* the id is echoed in the answer; 1 for subscriptions, 2 for removals */
    w = snprintf(out + o, outlen - o, "],\"id\":%d}", subscribe ? 1 : 2);
    if (w < 0 || (size_t)w >= outlen - o) return -1;
    return (int)(o + (size_t)w);
}

static int binance_subscribe_msg(const char *sym, int subscribe, char *out, size_t outlen) {
    return binance_subscribe_many(&sym, 1, subscribe, out, outlen);
}

/* The URL's path as it is: the token has no place (public data). */
static int binance_connect_path(const char *path, const char *token, char *out, size_t outlen, char *err,
                                size_t errlen) {
    (void)token;
    int n = snprintf(out, outlen, "/%s", path);
    if (n < 0 || (size_t)n >= outlen)
        return tp_seterr(err, errlen, TP_EINVAL, "the WebSocket URL is too long");
    return 0;
}

static tp_feed_reason binance_classify(const char *text, size_t len) {
    (void)text, (void)len;
    return TP_FEED_REASON_OTHER; /* no account, no key to be in use or rejected */
}

static const char *binance_reason_words(tp_feed_reason r) {
    (void)r;
    return NULL;
}

/* A decimal string as Binance writes prices and quantities ("0.00100000"):
 * digits, at most one '.', digits on both sides of it; finite. */
static int decimal(json_t *v, double *out) {
    const char *s = json_string_value(v);
    if (!s) return -1;
    size_t n = json_string_length(v), i = 0, dig = 0, frac = 0;
    int dot = 0;
    if (n == 0 || n > 64) return -1;
    for (; i < n; i++) {
        if (isdigit((unsigned char)s[i])) {
            dig++;
            if (dot) frac++;
        } else if (s[i] == '.' && !dot && dig) {
            dot = 1;
        } else {
            return -1;
        }
    }
    if (dot && !frac) return -1;
    char *end;
    double d = strtod(s, &end);
    if (end != s + n || !isfinite(d)) return -1;
    *out = d;
    return 0;
}

static int pos_int(json_t *v, int64_t *out) {
    if (!json_is_integer(v) || json_integer_value(v) <= 0) return -1;
    *out = (int64_t)json_integer_value(v);
    return 0;
}

static const char *arena_text(tp_batch *b, const char *s) {
    return tp_batch_strdup(b, s, strlen(s));
}

static int set_text(tp_batch *b, tp_msg_info *info, tp_msg_type type, const char *text, char *err,
                    size_t errlen) {
    info->type = type;
    info->text.ptr = arena_text(b, text);
    if (!info->text.ptr) return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    info->text.len = (uint32_t)strlen(text);
    return 0;
}

static int parse_trade(json_t *o, tp_batch *b, tp_msg_info *info, char *err, size_t errlen) {
    json_t *s = json_object_get(o, "s");
    const char *sym = json_string_value(s);
    size_t sl = sym ? json_string_length(s) : 0;
    if (!sym || !venue_symbol_ok(sym, sl))
        return tp_seterr(err, errlen, TP_EINVAL, "trade: \"s\" is not a Binance symbol");
    int64_t id, ts;
    double price, qty;
    if (pos_int(json_object_get(o, "t"), &id))
        return tp_seterr(err, errlen, TP_EINVAL, "trade: \"t\" (trade id) is not a positive integer");
    if (pos_int(json_object_get(o, "T"), &ts))
        return tp_seterr(err, errlen, TP_EINVAL, "trade: \"T\" (trade time) is not a positive integer");
    if (decimal(json_object_get(o, "p"), &price))
        return tp_seterr(err, errlen, TP_EINVAL, "trade: \"p\" (price) is not a decimal string");
    if (decimal(json_object_get(o, "q"), &qty))
        return tp_seterr(err, errlen, TP_EINVAL, "trade: \"q\" (quantity) is not a decimal string");
    char name[PREFIX_LEN + MAX_SYMBOL + 1];
    memcpy(name, PREFIX, PREFIX_LEN);
    memcpy(name + PREFIX_LEN, sym, sl);
    tp_trade *t = tp_batch_add(b);
    const char *stored = t ? tp_batch_strdup(b, name, PREFIX_LEN + sl) : NULL;
    if (!stored) return tp_seterr(err, errlen, TP_ENOMEM, "out of memory (or too many trades)");
    t->symbol.ptr = stored;
    t->symbol.len = (uint32_t)(PREFIX_LEN + sl);
    t->price = price;
    t->volume = qty;
    t->ts_ms = ts;
    t->ncond = TP_COND_NULL;
    t->cond = NULL;
    t->trade_id = id;
    info->type = TP_MSG_TRADE;
    info->ntrades = 1;
    return 0;
}

static int error_answer(json_t *o, tp_batch *b, tp_msg_info *info, char *err, size_t errlen) {
    json_t *code = json_object_get(o, "code"), *msg = json_object_get(o, "msg");
    char text[400];
    snprintf(text, sizeof text, "%s (code %lld)", json_is_string(msg) ? json_string_value(msg) : "no message",
             json_is_integer(code) ? (long long)json_integer_value(code) : 0LL);
    return set_text(b, info, TP_MSG_ERROR, text, err, errlen);
}

static int classify_object(json_t *o, tp_batch *b, tp_msg_info *info, char *err, size_t errlen) {
    json_t *e = json_object_get(o, "e");
    if (e) {
        const char *ev = json_string_value(e);
        if (!ev) return tp_seterr(err, errlen, TP_EINVAL, "\"e\" (event type) is not a string");
        if (!strcmp(ev, "trade")) return parse_trade(o, b, info, err, errlen);
        /* the server is about to shut down: the close and reconnect follow */
        if (!strcmp(ev, "serverShutdown")) return set_text(b, info, TP_MSG_CONTROL, ev, err, errlen);
        return set_text(b, info, TP_MSG_UNKNOWN, ev, err, errlen);
    }
    if (json_object_get(o, "result") && json_object_get(o, "id"))
        return set_text(b, info, TP_MSG_CONTROL, "result", err, errlen);
    json_t *inner = json_object_get(o, "error");
    if (json_is_object(inner)) return error_answer(inner, b, info, err, errlen);
    if (json_object_get(o, "code") || json_object_get(o, "msg")) return error_answer(o, b, info, err, errlen);
    return set_text(b, info, TP_MSG_UNKNOWN, "(no event type)", err, errlen);
}

static int binance_parse(const char *msg, size_t len, tp_batch *b, tp_msg_info *info, char *err,
                         size_t errlen) {
    memset(info, 0, sizeof *info);
    tp_batch_mark mark = tp_batch_get_mark(b);
    json_error_t je;
    json_t *root = json_loadb(msg, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) return tp_seterr(err, errlen, TP_EINVAL, "not JSON: %s", je.text);
    int rc;
    if (!json_is_object(root)) {
        rc = tp_seterr(err, errlen, TP_EINVAL, "not a JSON object");
    } else {
        json_t *o = root, *data = json_object_get(root, "data");
        if (data && json_is_string(json_object_get(root, "stream"))) { /* combined stream */
            o = data;
            if (!json_is_object(o)) {
                json_decref(root);
                return tp_seterr(err, errlen, TP_EINVAL, "combined stream: \"data\" is not an object");
            }
        }
        rc = classify_object(o, b, info, err, errlen);
    }
    json_decref(root);
    if (rc) {
        tp_batch_rewind(b, mark);
        memset(info, 0, sizeof *info);
    }
    return rc;
}

const tp_feed_ops tp_feed_binance = {
    .name = "binance",
    .default_url = "wss://stream.binance.com:9443/ws",
    .default_rest_url = "https://api.binance.com/api/v3",
    .connect_path = binance_connect_path,
    .subscribe_msg = binance_subscribe_msg,
    .parse = binance_parse,
    .classify = binance_classify,
    .reason_words = binance_reason_words,
    .symbol_exists = NULL,
    .needs_token = 0,
    .token_env = NULL,
    .sym_prefix = PREFIX,
    .normalize_symbol = binance_normalize,
    .subscribe_many = binance_subscribe_many,
    .max_symbols_per_msg = 200,
    .max_msgs_per_s = 5,
    .lifetime_ms = 24LL * 3600 * 1000,
    .heartbeat_ms = 20000,
};
