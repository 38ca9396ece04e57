/* coinbase.c - Coinbase Exchange's public WebSocket feed as a tp_feed_ops
 * (feed.h): the `matches` channel for trades, with `heartbeat`.
 *
 * From Coinbase's documentation (docs.cdp.coinbase.com, Exchange
 * WebSocket overview, channels, rate limits, errors):
 * - wss://ws-feed.exchange.coinbase.com, no authentication for these
 *   channels; a `subscribe` must arrive within 5 s or the connection is
 *   closed. One message subscribes many products:
 *   {"type":"subscribe","product_ids":["BTC-USD"],"channels":["matches","heartbeat"]},
 *   answered by a `subscriptions` message; `unsubscribe` is the same shape.
 *   Client messages are rate limited: the current rate-limits page says
 *   8 requests a second per IP (bursts up to 20), an earlier version 10
 *   inbound messages a second; tickpipe keeps to 8.
 * - `match` carries trade_id (consecutive per product), sequence,
 *   maker_order_id, taker_order_id, time (ISO 8601, microseconds),
 *   product_id, size and price (decimal strings) and side (the MAKER's
 *   side). The first message after subscribing to `matches` (and only that
 *   one) is a `last_match`: the product's latest trade at subscribe time.
 *   It is a real trade, but one that may already be stored (it repeats
 *   after every reconnect), so it is parsed as a trade and marked
 *   info->snapshot = 1, like Kraken's snapshot: dedupe by trade id drops
 *   it when it is a repeat and stores it when it was missed.
 * - `heartbeat` once a second per product with sequence and last_trade_id.
 * - `error` {"type":"error","message":...,"reason":...}; slow consumers are
 *   disconnected (ErrSlowConsume), so are clients that send too much
 *   (ErrSlowRead) or too big a message ("Message too big").
 * - Unknown message types must be ignored (new ones may appear).
 *
 * Symbols are stored as Finnhub writes Coinbase's: "COINBASE:" + the
 * product id ("COINBASE:BTC-USD"). */
#include "core/err.h"
#include "core/json_str.h"
#include "feed/venue.h"
#include "feed/venue_write.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define CB_PREFIX "COINBASE:"
#define CB_PREFIX_LEN (sizeof CB_PREFIX - 1)
#define CB_MAX_PART 16 /* letters and digits in BASE or QUOTE */

/* "btc-usd", "COINBASE:BTC-USD" -> "COINBASE:BTC-USD" */
static int cb_normalize(const char *in, char *out, size_t outlen, char *err, size_t errlen) {
    const char *s = in ? in : "";
    if (!strncasecmp(s, CB_PREFIX, CB_PREFIX_LEN)) s += CB_PREFIX_LEN;
    size_t n = strlen(s), dash = 0, ndash = 0;
    int ok = n > 0;
    for (size_t i = 0; ok && i < n; i++) {
        if (s[i] == '-') {
            dash = i;
            ndash++;
        } else if (!isalnum((unsigned char)s[i])) {
            ok = 0;
        }
    }
    ok = ok && ndash == 1 && dash > 0 && dash <= CB_MAX_PART && n - dash - 1 > 0 &&
         n - dash - 1 <= CB_MAX_PART;
    if (!ok)
        return tp_seterr(
            err, errlen, TP_EINVAL,
            "not a Coinbase product: \"%s\" (write BASE-QUOTE, e.g. BTC-USD or COINBASE:BTC-USD)",
            in ? in : "");
    if (CB_PREFIX_LEN + n + 1 > outlen)
        return tp_seterr(err, errlen, TP_EINVAL, "symbol too long: \"%s\"", in);
    memcpy(out, CB_PREFIX, CB_PREFIX_LEN);
    for (size_t i = 0; i < n; i++) out[CB_PREFIX_LEN + i] = (char)toupper((unsigned char)s[i]);
    out[CB_PREFIX_LEN + n] = '\0';
    return 0;
}

static int cb_subscribe_many(const char *const *symbols, size_t n, int subscribe, char *out, size_t outlen) {
    size_t o = 0;
    int h =
        snprintf(out, outlen, "{\"type\":\"%s\",\"product_ids\":[", subscribe ? "subscribe" : "unsubscribe");
    if (h < 0 || (size_t)h >= outlen) return -1;
    o = (size_t)h;
    if (tp_venue_symbol_list(symbols, n, CB_PREFIX, out, outlen, &o)) return -1;
    static const char tail[] = "],\"channels\":[\"matches\",\"heartbeat\"]}";
    if (o + sizeof tail > outlen) return -1;
    memcpy(out + o, tail, sizeof tail);
    return (int)(o + sizeof tail - 1);
}

static int cb_subscribe_msg(const char *symbol, int subscribe, char *out, size_t outlen) {
    return cb_subscribe_many(&symbol, 1, subscribe, out, outlen);
}

static int cb_connect_path(const char *path, const char *token, char *out, size_t outlen, char *err,
                           size_t errlen) {
    (void)token; /* public channels: no token */
    int n = snprintf(out, outlen, "/%s", path);
    if (n < 0 || (size_t)n >= outlen)
        return tp_seterr(err, errlen, TP_EINVAL, "the WebSocket URL is too long");
    return 0;
}

static tp_feed_reason cb_classify(const char *text, size_t len) {
    if (tp_venue_ci_contains(text, len, "errslowconsume") || tp_venue_ci_contains(text, len, "slow consume"))
        return TP_FEED_REASON_SLOW_CONSUMER;
    if (tp_venue_ci_contains(text, len, "errslowread") || tp_venue_ci_contains(text, len, "rate limit") ||
        tp_venue_ci_contains(text, len, "too many"))
        return TP_FEED_REASON_RATE_LIMIT;
    return TP_FEED_REASON_OTHER;
}

static const char *cb_reason_words(tp_feed_reason r) {
    switch (r) {
    case TP_FEED_REASON_SLOW_CONSUMER:
        return "Coinbase disconnected a slow consumer (ErrSlowConsume): tickpipe did not read its messages "
               "fast "
               "enough (give it more CPU, or spread the symbols over more connections)";
    case TP_FEED_REASON_RATE_LIMIT:
        return "Coinbase disconnected a client that sent too many messages (ErrSlowRead; about 8 requests a "
               "second per IP are allowed: fewer tickpipe instances or connections per address)";
    case TP_FEED_REASON_KEY_IN_USE:
    case TP_FEED_REASON_BAD_TOKEN: return "Coinbase refused the connection";
    default: return NULL;
    }
}

/* ---- parse */

static int fail(tp_batch *b, tp_batch_mark m, json_t *root, char *err, size_t errlen, const char *what) {
    tp_batch_rewind(b, m);
    json_decref(root);
    return tp_seterr(err, errlen, TP_EPARSE, "Coinbase message: %s", what);
}

static int set_text(tp_batch *b, tp_msg_info *info, const char *s, size_t n) {
    if (n > UINT32_MAX) n = UINT32_MAX;
    info->text.ptr = tp_batch_strdup(b, s, n);
    info->text.len = (uint32_t)n;
    return info->text.ptr ? 0 : TP_ENOMEM;
}

static int str_field(json_t *o, const char *key, const char **s, size_t *n) {
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v)) return -1;
    *s = json_string_value(v);
    *n = json_string_length(v);
    return 0;
}

static int cb_parse_match(json_t *root, int last, tp_batch *b, tp_batch_mark m, tp_msg_info *info, char *err,
                          size_t errlen) {
    const char *pid, *ps, *ss, *ts;
    size_t pidn, psn, ssn, tsn;
    json_t *tid = json_object_get(root, "trade_id");
    if (!json_is_integer(tid) || json_integer_value(tid) <= 0)
        return fail(b, m, root, err, errlen, "trade_id missing or not a positive integer");
    if (str_field(root, "product_id", &pid, &pidn) || pidn == 0 || pidn > 64 || memchr(pid, '\0', pidn))
        return fail(b, m, root, err, errlen, "product_id missing or not a product name");
    double price, size;
    if (str_field(root, "price", &ps, &psn) || tp_decimal_str_to_double(ps, psn, &price) || !(price > 0))
        return fail(b, m, root, err, errlen, "price missing or not a decimal string > 0");
    if (str_field(root, "size", &ss, &ssn) || tp_decimal_str_to_double(ss, ssn, &size))
        return fail(b, m, root, err, errlen, "size missing or not a decimal string");
    int64_t ms;
    if (str_field(root, "time", &ts, &tsn) || tp_rfc3339_to_ms(ts, tsn, &ms))
        return fail(b, m, root, err, errlen, "time missing or not an ISO 8601 time");
    tp_trade *t = tp_batch_add(b);
    if (!t) return fail(b, m, root, err, errlen, "too many trades (batch limit)");
    char *sym = tp_batch_alloc(b, CB_PREFIX_LEN + pidn + 1);
    if (!sym) return fail(b, m, root, err, errlen, "out of memory");
    memcpy(sym, CB_PREFIX, CB_PREFIX_LEN);
    memcpy(sym + CB_PREFIX_LEN, pid, pidn);
    sym[CB_PREFIX_LEN + pidn] = '\0';
    t->symbol.ptr = sym;
    t->symbol.len = (uint32_t)(CB_PREFIX_LEN + pidn);
    t->price = price;
    t->volume = size;
    t->ts_ms = ms;
    t->ncond = TP_COND_NULL;
    t->cond = NULL;
    t->trade_id = (int64_t)json_integer_value(tid);
    info->type = TP_MSG_TRADE;
    info->ntrades = 1;
    info->snapshot = last;
    json_decref(root);
    return 0;
}

static int cb_parse(const char *msg, size_t len, tp_batch *b, tp_msg_info *info, char *err, size_t errlen) {
    memset(info, 0, sizeof *info);
    tp_batch_mark m = tp_batch_get_mark(b);
    int as_real;
    json_t *root = tp_venue_json_load(msg, len, &as_real, err, errlen);
    if (!root) return TP_EPARSE;
    if (!json_is_object(root)) return fail(b, m, root, err, errlen, "not a JSON object");
    const char *type;
    size_t tn;
    if (str_field(root, "type", &type, &tn))
        return fail(b, m, root, err, errlen, "\"type\" missing or not a string");
    int rc = 0;
    if ((tn == 5 && !memcmp(type, "match", 5)) || (tn == 10 && !memcmp(type, "last_match", 10))) {
        if (as_real) return fail(b, m, root, err, errlen, "a number is out of range");
        return cb_parse_match(root, tn == 10, b, m, info, err, errlen);
    } else if (tn == 9 && !memcmp(type, "heartbeat", 9)) {
        info->type = TP_MSG_HEARTBEAT;
    } else if (tn == 13 && !memcmp(type, "subscriptions", 13)) {
        info->type = TP_MSG_CONTROL;
        rc = set_text(b, info, type, tn);
    } else if (tn == 5 && !memcmp(type, "error", 5)) {
        info->type = TP_MSG_ERROR;
        const char *ms = "", *rs = NULL;
        size_t mn = 0, rn = 0;
        (void)str_field(root, "message", &ms, &mn);
        if (str_field(root, "reason", &rs, &rn)) rs = NULL;
        if (rs && rn) {
            size_t n = mn + 2 + rn;
            char *t = tp_batch_alloc(b, n + 1);
            if (!t) {
                rc = TP_ENOMEM;
            } else {
                memcpy(t, ms, mn);
                memcpy(t + mn, ": ", 2);
                memcpy(t + mn + 2, rs, rn);
                t[n] = '\0';
                info->text.ptr = t;
                info->text.len = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
            }
        } else {
            rc = set_text(b, info, ms, mn);
        }
    } else {
        info->type = TP_MSG_UNKNOWN;
        rc = set_text(b, info, type, tn);
    }
    json_decref(root);
    if (rc) {
        tp_batch_rewind(b, m);
        return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    }
    return 0;
}

/* ---- writers (venue_write.h) */

int tp_coinbase_match_json(const tp_trade *t, int64_t sequence, int last, char *out, size_t outlen) {
    char price[80], size[80], when[40];
    if (!t || !t->symbol.ptr || t->trade_id <= 0 || !(t->price > 0) ||
        tp_double_to_decimal_str(t->price, price, sizeof price) < 0 ||
        tp_double_to_decimal_str(t->volume, size, sizeof size) < 0 ||
        tp_ms_to_rfc3339(t->ts_ms, when, sizeof when) < 0)
        return -1;
    size_t pn = t->symbol.len;
    const char *pid = tp_venue_strip(t->symbol.ptr, &pn, CB_PREFIX);
    uint64_t id = (uint64_t)t->trade_id;
    size_t o = 0;
    if (tp_venue_put(out, outlen, &o,
                     "{\"type\":\"%s\",\"trade_id\":%" PRId64 ",\"sequence\":%" PRId64
                     ",\"maker_order_id\":\"00000000-0000-4000-8000-%012" PRIx64
                     "\",\"taker_order_id\":\"00000000-0000-"
                     "4000-9000-%012" PRIx64 "\",\"time\":\"%s\",\"product_id\":\"",
                     last ? "last_match" : "match", t->trade_id, sequence, (uint64_t)(id & 0xffffffffffffULL),
                     (uint64_t)(id & 0xffffffffffffULL), when) ||
        tp_venue_put_esc(out, outlen, &o, pid, pn) ||
        tp_venue_put(out, outlen, &o, "\",\"size\":\"%s\",\"price\":\"%s\",\"side\":\"sell\"}", size, price))
        return -1;
    return (int)o;
}

int tp_coinbase_heartbeat_json(const char *product, int64_t sequence, int64_t last_trade_id, int64_t time_ms,
                               char *out, size_t outlen) {
    char when[40];
    if (!product || tp_ms_to_rfc3339(time_ms, when, sizeof when) < 0) return -1;
    size_t pn = strlen(product);
    const char *pid = tp_venue_strip(product, &pn, CB_PREFIX);
    size_t o = 0;
    if (tp_venue_put(out, outlen, &o,
                     "{\"type\":\"heartbeat\",\"sequence\":%" PRId64 ",\"last_trade_id\":%" PRId64
                     ",\"product_id\":\"",
                     sequence, last_trade_id) ||
        tp_venue_put_esc(out, outlen, &o, pid, pn) ||
        tp_venue_put(out, outlen, &o, "\",\"time\":\"%s\"}", when))
        return -1;
    return (int)o;
}

int tp_coinbase_subscriptions_json(const char *const *products, size_t n, char *out, size_t outlen) {
    static const char *const chans[] = {"matches", "heartbeat"};
    size_t o = 0;
    if (tp_venue_put(out, outlen, &o, "{\"type\":\"subscriptions\",\"channels\":[")) return -1;
    for (int c = 0; c < 2; c++) {
        if (tp_venue_put(out, outlen, &o, "%s{\"name\":\"%s\",\"product_ids\":[", c ? "," : "", chans[c]) ||
            tp_venue_symbol_list(products, n, CB_PREFIX, out, outlen, &o) ||
            tp_venue_put(out, outlen, &o, "]}"))
            return -1;
    }
    if (tp_venue_put(out, outlen, &o, "]}")) return -1;
    return (int)o;
}

const tp_feed_ops tp_feed_coinbase = {
    .name = "coinbase",
    .default_url = "wss://ws-feed.exchange.coinbase.com",
    .default_rest_url = "https://api.exchange.coinbase.com",
    .connect_path = cb_connect_path,
    .subscribe_msg = cb_subscribe_msg,
    .parse = cb_parse,
    .classify = cb_classify,
    .reason_words = cb_reason_words,
    .symbol_exists = NULL,
    .needs_token = 0,
    .token_env = NULL,
    .sym_prefix = CB_PREFIX,
    .normalize_symbol = cb_normalize,
    .subscribe_many = cb_subscribe_many,
    .max_symbols_per_msg = 100, /* Coinbase closes on "Message too big" without naming a size */
    .max_msgs_per_s = 8,        /* "Requests per second per IP: 8" (earlier: 10 inbound a second) */
    .lifetime_ms = 0,
    .subscribe_deadline_ms = 5000,
    .heartbeat_ms = 1000,
};
