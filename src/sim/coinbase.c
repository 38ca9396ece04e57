/* coinbase.c - the simulator's Coinbase Exchange personality
 * (personality.h): the `matches` and `heartbeat` channels.
 *
 * No token. The client sends {"type":"subscribe"|"unsubscribe",
 * "product_ids":["BTC-USD",...],"channels":["matches","heartbeat"]}
 * (channels as names or {"name":...} objects) and gets a `subscriptions`
 * message listing the products of that message on both channels, or
 * {"type":"error","message":"Failed to subscribe","reason":...} for a
 * message that is not one (all or nothing). A client that has not
 * subscribed within 5 s is closed, as the venue does. On subscribing, a
 * product that has traded gets a `last_match`: its latest trade already
 * sent (a repeat for a client that holds it). Then one `match` per trade,
 * with the product's consecutive trade_id (kept across connections) and a
 * sequence that follows it; a `heartbeat` per product once a second with
 * the product's last trade id (whether or not the client asked for the
 * heartbeat channel: a simplification). Messages as src/feed/venue_write.h writes
 * them (the feed's own writers). */
#include "feed/venue_write.h"
#include "sim/personality.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define PREFIX "COINBASE:"
#define MAX_PART 16
/* the sequence of a product's trade: its trade id past a fixed start (the
 * simulated product has no other events that would take numbers) */
#define SEQ_BASE 50000000000LL

static size_t answer_error(char *out, size_t cap, const char *reason) {
    int n = snprintf(out, cap, "{\"type\":\"error\",\"message\":\"Failed to subscribe\",\"reason\":\"%s\"}",
                     reason);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* "BTC-USD": upper-case letters and digits, one dash */
static int product_ok(const char *s, size_t n) {
    const char *d = memchr(s, '-', n);
    if (!d || d == s || (size_t)(d - s) > MAX_PART || n - (size_t)(d - s) - 1 == 0 ||
        n - (size_t)(d - s) - 1 > MAX_PART)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s + i != d && !isupper((unsigned char)s[i]) && !isdigit((unsigned char)s[i])) return 0;
    return 1;
}

static int channels_ok(json_t *ch) {
    size_t i;
    json_t *v;
    int matches = 0;
    if (!json_is_array(ch)) return 0;
    json_array_foreach(ch, i, v) {
        const char *name =
            json_is_object(v) ? json_string_value(json_object_get(v, "name")) : json_string_value(v);
        if (!name) return 0;
        if (!strcmp(name, "matches"))
            matches = 1;
        else if (strcmp(name, "heartbeat"))
            return 0;
    }
    return matches;
}

static size_t cb_client_msg(const char *data, size_t len, tp_sim_sub_fn fn, void *ud, char *out, size_t cap) {
    json_error_t je;
    json_t *root = json_loadb(data, len, 0, &je);
    const char *type = json_is_object(root) ? json_string_value(json_object_get(root, "type")) : NULL;
    json_t *pids = type ? json_object_get(root, "product_ids") : NULL;
    size_t n = 0, i;
    json_t *v;
    if (!json_is_object(root)) {
        n = answer_error(out, cap, "malformed JSON");
    } else if (!type || (strcmp(type, "subscribe") && strcmp(type, "unsubscribe"))) {
        n = answer_error(out, cap, "type must be subscribe or unsubscribe");
    } else if (!json_is_array(pids) || !json_array_size(pids) || json_array_size(pids) > 1000) {
        n = answer_error(out, cap, "product_ids must be a list of products");
    } else if (!channels_ok(json_object_get(root, "channels"))) {
        n = answer_error(out, cap, "channels must hold matches (and heartbeat)");
    } else {
        int ok = 1;
        json_array_foreach(pids, i, v) {
            ok = ok && json_is_string(v) && product_ok(json_string_value(v), json_string_length(v));
        }
        if (!ok) {
            n = answer_error(out, cap, "product_ids holds a product that is not BASE-QUOTE");
        } else {
            int sub = !strcmp(type, "subscribe");
            const char *names[1000];
            char name[sizeof PREFIX + 2 * MAX_PART + 2];
            json_array_foreach(pids, i, v) {
                snprintf(name, sizeof name, PREFIX "%s", json_string_value(v));
                fn(ud, sub, name);
                names[i] = json_string_value(v);
            }
            int w = tp_coinbase_subscriptions_json(names, sub ? json_array_size(pids) : 0, out, cap);
            n = w > 0 ? (size_t)w : 0;
        }
    }
    json_decref(root);
    return n;
}

static size_t cb_trade_msg(const char *obj, size_t objlen, int64_t trade_id, char *out) {
    tp_trade t;
    if (tp_sim_trade_from_obj(obj, objlen, trade_id, &t)) return 0;
    int n = tp_coinbase_match_json(&t, SEQ_BASE + trade_id, 0, out, objlen + 400);
    return n > 0 ? (size_t)n : 0;
}

static size_t cb_recent_msg(const tp_trade *t, size_t n, char *out, size_t cap) {
    if (!n) return 0; /* not traded yet */
    int w = tp_coinbase_match_json(&t[n - 1], SEQ_BASE + t[n - 1].trade_id, 1, out, cap);
    return w > 0 ? (size_t)w : 0;
}

static size_t cb_heartbeat_msg(const char *symbol, int64_t last_trade_id, int64_t now_ms, char *out,
                               size_t cap) {
    int n = tp_coinbase_heartbeat_json(symbol, SEQ_BASE + last_trade_id, last_trade_id, now_ms, out, cap);
    return n > 0 ? (size_t)n : 0;
}

const tp_sim_personality tp_sim_coinbase = {
    .name = "coinbase",
    .needs_token = 0,
    .ws_ping = 0,
    .lifetime_s = 0,
    .client_msg = cb_client_msg,
    .trade_msg = cb_trade_msg,
    .subscribe_deadline_s = 5,
    .deadline_error = NULL, /* the venue closes without a word */
    .recent_max = 1,
    .recent_msg = cb_recent_msg,
    .heartbeat_s = 1,
    .heartbeat_per_symbol = 1,
    .heartbeat_msg = cb_heartbeat_msg,
};
