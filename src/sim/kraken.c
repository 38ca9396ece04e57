/* kraken.c - the simulator's Kraken WebSocket v2 personality
 * (personality.h): the `trade` channel.
 *
 * No token. The client sends {"method":"subscribe"|"unsubscribe","params":
 * {"channel":"trade","symbol":["BTC/USD",...],"snapshot":true},"req_id":N}
 * and gets one answer per symbol ({"method":"subscribe","result":{...},
 * "success":true}), or "success":false with an "error" for a message or a
 * symbol that is not one; {"method":"ping"} gets a "pong". A connection
 * opens with a `status` message (system online; its connection_id, as in
 * the documentation's example, exceeds int64). On subscribing
 * (unless "snapshot":false) a `snapshot` of the symbol's last up to 50
 * trades already sent (overlapping what a client holds), then one `update`
 * per trade with the symbol's consecutive trade_id (kept across
 * connections); {"channel":"heartbeat"} once a second. Messages as
 * src/feed/venue_write.h writes them (the feed's own writers). */
#include "feed/venue_write.h"
#include "sim/personality.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define PREFIX "KRAKEN:"
#define MAX_PART 16
#define MAX_SYMS 1000

static size_t answer_error(char *out, size_t cap, const char *method, const char *error, json_t *req_id) {
    char rid[40] = "";
    if (json_is_integer(req_id))
        snprintf(rid, sizeof rid, ",\"req_id\":%lld", (long long)json_integer_value(req_id));
    int n =
        snprintf(out, cap, "{\"error\":\"%s\",\"method\":\"%s\"%s,\"success\":false}", error, method, rid);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* "BTC/USD": upper-case letters and digits, one slash */
static int pair_ok(const char *s, size_t n) {
    const char *d = memchr(s, '/', n);
    if (!d || d == s || (size_t)(d - s) > MAX_PART || n - (size_t)(d - s) - 1 == 0 ||
        n - (size_t)(d - s) - 1 > MAX_PART)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s + i != d && !isupper((unsigned char)s[i]) && !isdigit((unsigned char)s[i])) return 0;
    return 1;
}

static size_t kr_client_msg(const char *data, size_t len, tp_sim_sub_fn fn, void *ud, char *out, size_t cap) {
    json_error_t je;
    json_t *root = json_loadb(data, len, 0, &je);
    const char *method = json_is_object(root) ? json_string_value(json_object_get(root, "method")) : NULL;
    json_t *rid = method ? json_object_get(root, "req_id") : NULL;
    json_t *params = method ? json_object_get(root, "params") : NULL;
    json_t *syms = json_object_get(params, "symbol"), *snap = json_object_get(params, "snapshot");
    const char *channel = json_string_value(json_object_get(params, "channel"));
    size_t n = 0, i;
    json_t *v;
    if (!json_is_object(root)) {
        n = answer_error(out, cap, "unknown", "Malformed request", NULL);
    } else if (!method) {
        n = answer_error(out, cap, "unknown", "Missing field: method", NULL);
    } else if (!strcmp(method, "ping")) {
        int w = json_is_integer(rid) ? snprintf(out, cap, "{\"method\":\"pong\",\"req_id\":%lld}",
                                                (long long)json_integer_value(rid))
                                     : snprintf(out, cap, "{\"method\":\"pong\"}");
        n = w > 0 && (size_t)w < cap ? (size_t)w : 0;
    } else if (strcmp(method, "subscribe") && strcmp(method, "unsubscribe")) {
        n = answer_error(out, cap, "unknown", "Method not found", rid);
    } else if (!channel || strcmp(channel, "trade")) {
        n = answer_error(out, cap, method, "Channel not found", rid);
    } else if (!json_is_array(syms) || !json_array_size(syms) || json_array_size(syms) > MAX_SYMS ||
               (snap && !json_is_boolean(snap))) {
        n = answer_error(out, cap, method, "Invalid parameters: symbol must be a list of pairs", rid);
    } else {
        int sub = !strcmp(method, "subscribe") ? (json_is_false(snap) ? 2 : 1) : 0;
        json_array_foreach(syms, i, v) {
            char name[sizeof PREFIX + 2 * MAX_PART + 2];
            const char *s = json_string_value(v);
            int ok = s && pair_ok(s, json_string_length(v));
            int w;
            if (ok)
                w = tp_kraken_subscribe_ack_json(s, sub != 0, NULL, out + n, cap - n);
            else
                w = tp_kraken_subscribe_ack_json(s && json_string_length(v) < 64 && !strchr(s, '"') ? s : "?",
                                                 sub != 0, "Currency pair not supported", out + n, cap - n);
            if (w <= 0 || n + (size_t)w + 1 >= cap) break; /* no room for its answer: not taken */
            if (ok) {
                snprintf(name, sizeof name, PREFIX "%s", s);
                fn(ud, sub, name);
            }
            n += (size_t)w;
            out[n++] = '\n';
        }
        if (n) out[--n] = '\0';
    }
    json_decref(root);
    return n;
}

static size_t kr_trade_msg(const char *obj, size_t objlen, int64_t trade_id, char *out) {
    tp_trade t;
    if (tp_sim_trade_from_obj(obj, objlen, trade_id, &t)) return 0;
    int n = tp_kraken_trade_json(&t, 1, 0, out, objlen + 400);
    return n > 0 ? (size_t)n : 0;
}

static size_t kr_recent_msg(const tp_trade *t, size_t n, char *out, size_t cap) {
    int w = tp_kraken_trade_json(t, n, 1, out, cap);
    return w > 0 ? (size_t)w : 0;
}

static size_t kr_heartbeat_msg(const char *symbol, int64_t last_trade_id, int64_t now_ms, char *out,
                               size_t cap) {
    (void)symbol, (void)last_trade_id, (void)now_ms;
    int n = tp_kraken_heartbeat_json(out, cap);
    return n > 0 ? (size_t)n : 0;
}

const tp_sim_personality tp_sim_kraken = {
    .name = "kraken",
    .needs_token = 0,
    .ws_ping = 0,
    .lifetime_s = 0,
    .greeting = "{\"channel\":\"status\",\"type\":\"update\",\"data\":[{\"version\":\"2.0.0\",\"system\":"
                "\"online\",\"api_version\":\"v2\",\"connection_id\":12893948786584050000}]}",
    .client_msg = kr_client_msg,
    .trade_msg = kr_trade_msg,
    .recent_max = 50,
    .recent_msg = kr_recent_msg,
    .heartbeat_s = 1,
    .heartbeat_per_symbol = 0,
    .heartbeat_msg = kr_heartbeat_msg,
};
