/* binance.c - the simulator's Binance spot personality (personality.h).
 *
 * No token. The client sends {"method":"SUBSCRIBE"|"UNSUBSCRIBE",
 * "params":["btcusdt@trade",...],"id":N} and gets {"result":null,"id":N},
 * or {"code":2,"msg":"Invalid request: ...","id":N} for a message that is
 * not one (as the venue answers). One trade per message,
 * {"e":"trade","E":..,"s":"BTCUSDT","t":ID,"p":"..","q":"..","T":..,
 * "m":..,"M":true}, with the symbol's consecutive trade id; keep-alive by
 * WebSocket ping frames; a connection lives 24 h. */
#include "sim/personality.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define PREFIX "BINANCE:"

static size_t answer_error(char *out, size_t cap, const char *msg, json_t *id) {
    char ids[32] = "null";
    if (json_is_integer(id)) snprintf(ids, sizeof ids, "%lld", (long long)json_integer_value(id));
    int n = snprintf(out, cap, "{\"code\":2,\"msg\":\"Invalid request: %s\",\"id\":%s}", msg, ids);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* "btcusdt@trade" -> "BINANCE:BTCUSDT"; 0, or -1 for another stream. */
static int stream_to_name(const char *s, size_t n, char *out, size_t cap) {
    const char *at = memchr(s, '@', n);
    size_t sl = at ? (size_t)(at - s) : 0;
    if (!at || sl == 0 || n - sl != 6 || memcmp(at, "@trade", 6) || sizeof PREFIX + sl > cap) return -1;
    for (size_t i = 0; i < sl; i++)
        if (!isalnum((unsigned char)s[i])) return -1;
    memcpy(out, PREFIX, sizeof PREFIX - 1);
    for (size_t i = 0; i < sl; i++) out[sizeof PREFIX - 1 + i] = (char)toupper((unsigned char)s[i]);
    out[sizeof PREFIX - 1 + sl] = '\0';
    return 0;
}

static size_t binance_client_msg(const char *data, size_t len, tp_sim_sub_fn fn, void *ud, char *out,
                                 size_t cap) {
    json_error_t je;
    json_t *root = json_loadb(data, len, 0, &je);
    json_t *id = root ? json_object_get(root, "id") : NULL;
    const char *method = root ? json_string_value(json_object_get(root, "method")) : NULL;
    json_t *params = root ? json_object_get(root, "params") : NULL;
    size_t n;
    if (!root || !json_is_object(root)) {
        n = answer_error(out, cap, "not a JSON object", NULL);
    } else if (!method || (strcmp(method, "SUBSCRIBE") && strcmp(method, "UNSUBSCRIBE"))) {
        n = answer_error(out, cap, "unknown method", id);
    } else if (!json_is_array(params) || !json_is_integer(id)) {
        n = answer_error(out, cap, "params must be an array of streams and id an integer", id);
    } else {
        /* every stream is checked before any is taken: all or nothing */
        char name[64];
        size_t i;
        json_t *v;
        int ok = 1;
        json_array_foreach(params, i, v) {
            ok = ok && json_is_string(v) &&
                 !stream_to_name(json_string_value(v), json_string_length(v), name, sizeof name);
        }
        if (!ok) {
            n = answer_error(out, cap, "params must be streams SYMBOL@trade", id);
        } else {
            int sub = !strcmp(method, "SUBSCRIBE");
            json_array_foreach(params, i, v) {
                stream_to_name(json_string_value(v), json_string_length(v), name, sizeof name);
                fn(ud, sub, name);
            }
            int w = snprintf(out, cap, "{\"result\":null,\"id\":%lld}", (long long)json_integer_value(id));
            n = w > 0 && (size_t)w < cap ? (size_t)w : 0;
        }
    }
    json_decref(root);
    return n;
}

/* The value text of "key": in a Finnhub trade object (number or string). */
static const char *field(const char *obj, size_t len, const char *key, size_t *vl) {
    size_t kl = strlen(key);
    for (size_t i = 0; i + kl < len; i++) {
        if (memcmp(obj + i, key, kl)) continue;
        size_t s = i + kl, e = s;
        while (e < len && obj[e] != ',' && obj[e] != '}') e++;
        *vl = e - s;
        return obj + s;
    }
    *vl = 0;
    return "";
}

static size_t binance_trade_msg(const char *obj, size_t objlen, int64_t trade_id, char *out) {
    size_t pl, sl, tl, vl;
    const char *p = field(obj, objlen, "\"p\":", &pl), *s = field(obj, objlen, "\"s\":\"", &sl),
               *t = field(obj, objlen, "\"t\":", &tl), *v = field(obj, objlen, "\"v\":", &vl);
    if (sl) sl--; /* the closing quote */
    if (sl >= sizeof PREFIX - 1 && !memcmp(s, PREFIX, sizeof PREFIX - 1)) {
        s += sizeof PREFIX - 1;
        sl -= sizeof PREFIX - 1;
    }
    int n = sprintf(out,
                    "{\"e\":\"trade\",\"E\":%.*s,\"s\":\"%.*s\",\"t\":%lld,\"p\":\"%.*s\",\"q\":\"%.*s\","
                    "\"T\":%.*s,\"m\":%s,\"M\":true}",
                    (int)tl, t, (int)sl, s, (long long)trade_id, (int)pl, p, (int)vl, v, (int)tl, t,
                    trade_id & 1 ? "true" : "false");
    return n > 0 ? (size_t)n : 0;
}

const tp_sim_personality tp_sim_binance = {
    .name = "binance",
    .needs_token = 0,
    .ws_ping = 1,
    .lifetime_s = 24.0 * 3600,
    .client_msg = binance_client_msg,
    .trade_msg = binance_trade_msg,
};
