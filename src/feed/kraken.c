/* kraken.c - Kraken's WebSocket v2 public feed as a tp_feed_ops (feed.h):
 * the `trade` channel.
 *
 * From Kraken's documentation (docs.kraken.com, Spot WebSocket v2: trade,
 * heartbeat, status, ping):
 * - wss://ws.kraken.com/v2, no authentication for public channels. One
 *   message subscribes many symbols:
 *   {"method":"subscribe","params":{"channel":"trade","symbol":["BTC/USD"],"snapshot":true}},
 *   answered per symbol by {"method":"subscribe","result":{...},
 *   "success":true,"time_in":...,"time_out":...}, or "success":false with
 *   an "error" text. `unsubscribe` is the same shape; so is the answer to
 *   a {"method":"ping"} ("pong", where "success" may be left out).
 * - Trades: {"channel":"trade","type":"snapshot"|"update","data":[{"symbol",
 *   "side" (taker),"price","qty" (JSON numbers),"ord_type","trade_id"
 *   (a sequence number per book),"timestamp" (RFC 3339, microseconds)}]}.
 *   Several trades may share one message. The snapshot is the symbol's
 *   most recent 50 trades: it overlaps what is stored, so its trades are
 *   marked info->snapshot = 1 (dedupe by trade id drops the repeats and
 *   keeps what was missed).
 * - {"channel":"heartbeat"} about once a second when no other message was
 *   sent; {"channel":"status","type":"update","data":[{"system":"online",
 *   "api_version":"v2","connection_id":...,"version":...}]} on connect and
 *   when the engine's status changes. Its connection_id can exceed int64
 *   (the documentation's own example does), so such a message is read
 *   with integers as reals (venue.h) and never yields trades.
 *
 * Symbols. Kraken v2 writes its pairs BASE/QUOTE with common asset codes
 * ("BTC/USD"; v1 and REST wrote XBT and XDG). Finnhub's KRAKEN: symbols
 * are Kraken's REST pair keys: "KRAKEN:XXBTZUSD", "KRAKEN:XETHZUSD",
 * "KRAKEN:XXMRZEUR" for the older pairs, "KRAKEN:SOLUSD", "KRAKEN:ADAUSD"
 * for newer ones. There is no rule from "BTC/USD" to those keys: the
 * older pairs carry X/Z asset prefixes, newer ones do not, and which is
 * which is only in Kraken's AssetPairs table (GET /0/public/AssetPairs:
 * key, altname, wsname), which tickpipe cannot hold offline. So symbols
 * are stored as "KRAKEN:" + Kraken v2's own name ("KRAKEN:BTC/USD"):
 * exactly what the venue sends, reversible without a table, and never
 * mistaken for a Finnhub KRAKEN: row (those never hold a '/'). A user may
 * write "btc/usd", "XBT/USD" or "KRAKEN:BTC/USD"; XBT and XDG become BTC
 * and DOGE as v2 writes them. Finnhub's key form ("XXBTZUSD") is refused
 * with a hint, since it cannot be split into BASE/QUOTE without the table. */
#include "core/err.h"
#include "feed/venue.h"
#include "feed/venue_write.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define KR_PREFIX "KRAKEN:"
#define KR_PREFIX_LEN (sizeof KR_PREFIX - 1)
#define KR_MAX_PART 16

/* one side of a pair, upper-cased, XBT -> BTC, XDG -> DOGE; its length or -1 */
static int kr_part(const char *s, size_t n, char *out) {
    if (n == 0 || n > KR_MAX_PART) return -1;
    char up[KR_MAX_PART + 1];
    for (size_t i = 0; i < n; i++) {
        if (!isalnum((unsigned char)s[i])) return -1;
        up[i] = (char)toupper((unsigned char)s[i]);
    }
    up[n] = '\0';
    const char *v = !strcmp(up, "XBT") ? "BTC" : !strcmp(up, "XDG") ? "DOGE" : up;
    size_t vn = strlen(v);
    memcpy(out, v, vn);
    return (int)vn;
}

static int kr_normalize(const char *in, char *out, size_t outlen, char *err, size_t errlen) {
    const char *s = in ? in : "";
    if (!strncasecmp(s, KR_PREFIX, KR_PREFIX_LEN)) s += KR_PREFIX_LEN;
    const char *slash = strchr(s, '/');
    char buf[2 * KR_MAX_PART + 8];
    int a = -1, q = -1;
    if (slash && !strchr(slash + 1, '/')) {
        a = kr_part(s, (size_t)(slash - s), buf);
        if (a > 0) {
            buf[a] = '/';
            q = kr_part(slash + 1, strlen(slash + 1), buf + a + 1);
        }
    }
    if (a <= 0 || q <= 0)
        return tp_seterr(err, errlen, TP_EINVAL,
                         "not a Kraken pair: \"%s\" (write BASE/QUOTE as Kraken v2 does, e.g. BTC/USD or "
                         "KRAKEN:BTC/USD; Finnhub's KRAKEN:XXBTZUSD form is not accepted)",
                         in ? in : "");
    size_t n = (size_t)a + 1 + (size_t)q;
    if (KR_PREFIX_LEN + n + 1 > outlen)
        return tp_seterr(err, errlen, TP_EINVAL, "symbol too long: \"%s\"", in);
    memcpy(out, KR_PREFIX, KR_PREFIX_LEN);
    memcpy(out + KR_PREFIX_LEN, buf, n);
    out[KR_PREFIX_LEN + n] = '\0';
    return 0;
}

static int kr_subscribe_many(const char *const *symbols, size_t n, int subscribe, char *out, size_t outlen) {
    size_t o = 0;
    if (tp_venue_put(out, outlen, &o, "{\"method\":\"%s\",\"params\":{\"channel\":\"trade\",\"symbol\":[",
                     subscribe ? "subscribe" : "unsubscribe") ||
        tp_venue_symbol_list(symbols, n, KR_PREFIX, out, outlen, &o) ||
        tp_venue_put(out, outlen, &o, "]%s}}", subscribe ? ",\"snapshot\":true" : ""))
        return -1;
    return (int)o;
}

static int kr_subscribe_msg(const char *symbol, int subscribe, char *out, size_t outlen) {
    return kr_subscribe_many(&symbol, 1, subscribe, out, outlen);
}

static int kr_connect_path(const char *path, const char *token, char *out, size_t outlen, char *err,
                           size_t errlen) {
    (void)token; /* public channels: no token */
    int n = snprintf(out, outlen, "/%s", path);
    if (n < 0 || (size_t)n >= outlen)
        return tp_seterr(err, errlen, TP_EINVAL, "the WebSocket URL is too long");
    return 0;
}

static tp_feed_reason kr_classify(const char *text, size_t len) {
    if (tp_venue_ci_contains(text, len, "rate") || tp_venue_ci_contains(text, len, "too many"))
        return TP_FEED_REASON_RATE_LIMIT;
    return TP_FEED_REASON_OTHER;
}

static const char *kr_reason_words(tp_feed_reason r) {
    switch (r) {
    case TP_FEED_REASON_RATE_LIMIT:
        return "Kraken refused a request for exceeding its rate limit (too many messages or connections)";
    case TP_FEED_REASON_SLOW_CONSUMER: return "Kraken disconnected a client that read too slowly";
    case TP_FEED_REASON_KEY_IN_USE:
    case TP_FEED_REASON_BAD_TOKEN: return "Kraken refused the connection";
    default: return NULL;
    }
}

/* ---- parse */

static int fail(tp_batch *b, tp_batch_mark m, json_t *root, char *err, size_t errlen, const char *what,
                size_t i) {
    tp_batch_rewind(b, m);
    json_decref(root);
    if (i == (size_t)-1) return tp_seterr(err, errlen, TP_EPARSE, "Kraken message: %s", what);
    return tp_seterr(err, errlen, TP_EPARSE, "Kraken message: %s (data[%zu])", what, i);
}

#define NOI ((size_t)-1)

static int set_text(tp_batch *b, tp_msg_info *info, const char *s, size_t n) {
    if (n > UINT32_MAX) n = UINT32_MAX;
    info->text.ptr = tp_batch_strdup(b, s, n);
    info->text.len = (uint32_t)n;
    return info->text.ptr ? 0 : TP_ENOMEM;
}

static int num(json_t *v, double *out) {
    if (json_is_integer(v))
        *out = (double)json_integer_value(v);
    else if (json_is_real(v))
        *out = json_real_value(v);
    else
        return -1;
    return isfinite(*out) ? 0 : -1;
}

static int kr_parse_trades(json_t *root, int snapshot, tp_batch *b, tp_batch_mark m, tp_msg_info *info,
                           char *err, size_t errlen) {
    json_t *data = json_object_get(root, "data");
    if (!json_is_array(data))
        return fail(b, m, root, err, errlen, "trade message without a \"data\" list", NOI);
    size_t i;
    json_t *it;
    json_array_foreach(data, i, it) {
        if (!json_is_object(it)) return fail(b, m, root, err, errlen, "a trade is not an object", i);
        json_t *sym = json_object_get(it, "symbol"), *tid = json_object_get(it, "trade_id"),
               *ts = json_object_get(it, "timestamp");
        double price, qty;
        int64_t ms;
        if (!json_is_string(sym) || json_string_length(sym) == 0 || json_string_length(sym) > 64 ||
            memchr(json_string_value(sym), '\0', json_string_length(sym)))
            return fail(b, m, root, err, errlen, "symbol missing or not a pair name", i);
        if (num(json_object_get(it, "price"), &price) || !(price > 0) || price >= 1e40)
            return fail(b, m, root, err, errlen, "price missing or not a number > 0", i);
        if (num(json_object_get(it, "qty"), &qty) || !(qty >= 0) || qty >= 1e40)
            return fail(b, m, root, err, errlen, "qty missing or not a number >= 0", i);
        if (!json_is_integer(tid) || json_integer_value(tid) <= 0)
            return fail(b, m, root, err, errlen, "trade_id missing or not a positive integer", i);
        if (!json_is_string(ts) || tp_rfc3339_to_ms(json_string_value(ts), json_string_length(ts), &ms))
            return fail(b, m, root, err, errlen, "timestamp missing or not an RFC 3339 time", i);
        size_t sn = json_string_length(sym);
        tp_trade *t = tp_batch_add(b);
        if (!t) return fail(b, m, root, err, errlen, "too many trades (batch limit)", i);
        char *s = tp_batch_alloc(b, KR_PREFIX_LEN + sn + 1);
        if (!s) return fail(b, m, root, err, errlen, "out of memory", i);
        memcpy(s, KR_PREFIX, KR_PREFIX_LEN);
        memcpy(s + KR_PREFIX_LEN, json_string_value(sym), sn);
        s[KR_PREFIX_LEN + sn] = '\0';
        t->symbol.ptr = s;
        t->symbol.len = (uint32_t)(KR_PREFIX_LEN + sn);
        t->price = price;
        t->volume = qty;
        t->ts_ms = ms;
        t->ncond = TP_COND_NULL;
        t->cond = NULL;
        t->trade_id = (int64_t)json_integer_value(tid);
    }
    info->type = TP_MSG_TRADE;
    info->ntrades = b->n - m.n;
    info->snapshot = snapshot;
    json_decref(root);
    return 0;
}

static int is(json_t *v, const char *lit) {
    size_t n = strlen(lit);
    return json_is_string(v) && json_string_length(v) == n && !memcmp(json_string_value(v), lit, n);
}

static int kr_parse(const char *msg, size_t len, tp_batch *b, tp_msg_info *info, char *err, size_t errlen) {
    memset(info, 0, sizeof *info);
    tp_batch_mark m = tp_batch_get_mark(b);
    int as_real;
    json_t *root = tp_venue_json_load(msg, len, &as_real, err, errlen);
    if (!root) return TP_EPARSE;
    if (!json_is_object(root)) return fail(b, m, root, err, errlen, "not a JSON object", NOI);
    json_t *channel = json_object_get(root, "channel"), *method = json_object_get(root, "method");
    int rc = 0;
    if (channel) {
        if (!json_is_string(channel))
            return fail(b, m, root, err, errlen, "\"channel\" is not a string", NOI);
        json_t *type = json_object_get(root, "type");
        if (is(channel, "trade")) {
            if (!json_is_string(type))
                return fail(b, m, root, err, errlen, "trade message without a type", NOI);
            if (is(type, "snapshot") || is(type, "update")) {
                if (as_real) return fail(b, m, root, err, errlen, "a number is out of range", NOI);
                return kr_parse_trades(root, is(type, "snapshot"), b, m, info, err, errlen);
            }
            info->type = TP_MSG_UNKNOWN; /* a trade message of a type this feed does not know */
            char t[80];
            int n = snprintf(t, sizeof t, "trade/%.*s",
                             (int)(json_string_length(type) > 60 ? 60 : json_string_length(type)),
                             json_string_value(type));
            rc = set_text(b, info, t, (size_t)n);
        } else if (is(channel, "heartbeat")) {
            info->type = TP_MSG_HEARTBEAT;
        } else if (is(channel, "status")) {
            info->type = TP_MSG_CONTROL;
            json_t *d0 = json_array_get(json_object_get(root, "data"), 0);
            json_t *sys = json_object_get(d0, "system");
            rc = json_is_string(sys) ? set_text(b, info, json_string_value(sys), json_string_length(sys))
                                     : set_text(b, info, "status", 6);
        } else {
            info->type = TP_MSG_UNKNOWN;
            rc = set_text(b, info, json_string_value(channel), json_string_length(channel));
        }
    } else if (method) {
        if (!json_is_string(method)) return fail(b, m, root, err, errlen, "\"method\" is not a string", NOI);
        json_t *success = json_object_get(root, "success");
        if (success && !json_is_boolean(success))
            return fail(b, m, root, err, errlen, "\"success\" is not true or false", NOI);
        if (!json_is_false(success)) { /* true, or absent (a pong need not say) */
            info->type = TP_MSG_CONTROL;
            rc = set_text(b, info, json_string_value(method), json_string_length(method));
        } else {
            info->type = TP_MSG_ERROR;
            json_t *e = json_object_get(root, "error");
            rc = json_is_string(e) ? set_text(b, info, json_string_value(e), json_string_length(e))
                                   : set_text(b, info, "request failed", 14);
        }
    } else {
        info->type = TP_MSG_UNKNOWN; /* neither a channel message nor an answer */
        rc = set_text(b, info, "", 0);
    }
    json_decref(root);
    if (rc) {
        tp_batch_rewind(b, m);
        return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    }
    return 0;
}

/* ---- writers (venue_write.h) */

int tp_kraken_trade_json(const tp_trade *t, size_t n, int snapshot, char *out, size_t outlen) {
    size_t o = 0;
    if (tp_venue_put(out, outlen, &o, "{\"channel\":\"trade\",\"type\":\"%s\",\"data\":[",
                     snapshot ? "snapshot" : "update"))
        return -1;
    for (size_t i = 0; i < n; i++) {
        char price[48], qty[48], when[40];
        if (!t[i].symbol.ptr || t[i].trade_id <= 0 || !(t[i].price > 0) || !(t[i].volume >= 0) ||
            t[i].price >= 1e40 || t[i].volume >= 1e40 ||
            tp_double_to_json_number(t[i].price, price, sizeof price) < 0 ||
            tp_double_to_json_number(t[i].volume, qty, sizeof qty) < 0 ||
            tp_ms_to_rfc3339(t[i].ts_ms, when, sizeof when) < 0)
            return -1;
        size_t sn = t[i].symbol.len;
        const char *sym = tp_venue_strip(t[i].symbol.ptr, &sn, KR_PREFIX);
        if (tp_venue_put(out, outlen, &o, "%s{\"symbol\":\"", i ? "," : "") ||
            tp_venue_put_esc(out, outlen, &o, sym, sn) ||
            tp_venue_put(
                out, outlen, &o,
                "\",\"side\":\"buy\",\"price\":%s,\"qty\":%s,\"ord_type\":\"limit\",\"trade_id\":%" PRId64
                ",\"timestamp\":\"%s\"}",
                price, qty, t[i].trade_id, when))
            return -1;
    }
    if (tp_venue_put(out, outlen, &o, "]}")) return -1;
    return (int)o;
}

int tp_kraken_heartbeat_json(char *out, size_t outlen) {
    int n = snprintf(out, outlen, "{\"channel\":\"heartbeat\"}");
    return n < 0 || (size_t)n >= outlen ? -1 : n;
}

int tp_kraken_subscribe_ack_json(const char *symbol, int subscribe, const char *error, char *out,
                                 size_t outlen) {
    if (!symbol) return -1;
    size_t sn = strlen(symbol), o = 0;
    const char *sym = tp_venue_strip(symbol, &sn, KR_PREFIX);
    const char *method = subscribe ? "subscribe" : "unsubscribe";
    if (error) {
        if (tp_venue_put(out, outlen, &o, "{\"error\":\"") ||
            tp_venue_put_esc(out, outlen, &o, error, strlen(error)) ||
            tp_venue_put(out, outlen, &o, "\",\"method\":\"%s\",\"success\":false,\"symbol\":\"", method) ||
            tp_venue_put_esc(out, outlen, &o, sym, sn) || tp_venue_put(out, outlen, &o, "\"}"))
            return -1;
        return (int)o;
    }
    if (tp_venue_put(out, outlen, &o, "{\"method\":\"%s\",\"result\":{\"channel\":\"trade\",%s\"symbol\":\"",
                     method, subscribe ? "\"snapshot\":true," : "") ||
        tp_venue_put_esc(out, outlen, &o, sym, sn) || tp_venue_put(out, outlen, &o, "\"},\"success\":true}"))
        return -1;
    return (int)o;
}

const tp_feed_ops tp_feed_kraken = {
    .name = "kraken",
    .default_url = "wss://ws.kraken.com/v2",
    .default_rest_url = "https://api.kraken.com/0/public",
    .connect_path = kr_connect_path,
    .subscribe_msg = kr_subscribe_msg,
    .parse = kr_parse,
    .classify = kr_classify,
    .reason_words = kr_reason_words,
    .symbol_exists = NULL,
    .needs_token = 0,
    .token_env = NULL,
    .sym_prefix = KR_PREFIX,
    .normalize_symbol = kr_normalize,
    .subscribe_many = kr_subscribe_many,
    .max_symbols_per_msg = 100, /* no documented limit: a conservative batch */
    .max_msgs_per_s = 0,        /* dynamic, no number documented ("Exceeded msg rate" when passed) */
    .lifetime_ms = 0,
    .subscribe_deadline_ms = 0,
    .heartbeat_ms = 1000,
};
