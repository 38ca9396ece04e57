/* test_kraken.c - the Kraken WebSocket v2 feed (feed/kraken.c): the
 * example messages of Kraken's documentation parse into the right trades
 * (values written out here, times checked against epoch values computed
 * independently), every message kind, hostile and malformed messages
 * (rejected with the batch left exactly as it was), symbol normalisation,
 * subscribe messages read back by jansson, the writers:
 * parse(write(t)) == t, and the simulator's Kraken personality speaking
 * what this parser reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/err.h"
#include "feed/feed.h"
#include "feed/venue.h"
#include "feed/venue_write.h"
#include "sim/personality.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* docs.kraken.com, Spot WebSocket v2, trade: Snapshot / Update example */
static const char DOC_SNAPSHOT[] = "{\n"
                                   "    \"channel\": \"trade\",\n"
                                   "    \"type\": \"snapshot\",\n"
                                   "    \"data\": [\n"
                                   "        {\n"
                                   "            \"symbol\": \"MATIC/USD\",\n"
                                   "            \"side\": \"buy\",\n"
                                   "            \"price\": 0.5147,\n"
                                   "            \"qty\": 6423.46326,\n"
                                   "            \"ord_type\": \"limit\",\n"
                                   "            \"trade_id\": 4665846,\n"
                                   "            \"timestamp\": \"2023-09-25T07:48:36.925533Z\"\n"
                                   "        },\n"
                                   "        {\n"
                                   "            \"symbol\": \"MATIC/USD\",\n"
                                   "            \"side\": \"buy\",\n"
                                   "            \"price\": 0.5147,\n"
                                   "            \"qty\": 1136.19677815,\n"
                                   "            \"ord_type\": \"limit\",\n"
                                   "            \"trade_id\": 4665847,\n"
                                   "            \"timestamp\": \"2023-09-25T07:49:36.925603Z\"\n"
                                   "        }\n"
                                   "    ]\n"
                                   "}";
/* the same schema as an update (the documentation: "The snapshot and update
 * responses share the same schema") */
static const char DOC_UPDATE[] =
    "{\"channel\":\"trade\",\"type\":\"update\",\"data\":[{\"symbol\":\"MATIC/USD\",\"side\":\"sell\","
    "\"price\":0.5117,\"qty\":40.0,\"ord_type\":\"market\",\"trade_id\":4665906,"
    "\"timestamp\":\"2023-09-25T07:49:37.708706Z\"}]}";
/* heartbeat */
static const char DOC_HEARTBEAT[] = "{\n    \"channel\": \"heartbeat\"\n}";
/* status: its connection_id is beyond int64 */
static const char DOC_STATUS[] = "{\n    \"channel\": \"status\",\n    \"data\": [\n        {\n"
                                 "            \"api_version\": \"v2\",\n"
                                 "            \"connection_id\": 13834774380200032777,\n"
                                 "            \"system\": \"online\",\n"
                                 "            \"version\": \"2.0.0\"\n        }\n    ],\n"
                                 "    \"type\": \"update\"\n}";
/* a subscribe acknowledgement, fields as the trade page's Subscribe Ack schema lists them */
static const char DOC_ACK[] =
    "{\"method\":\"subscribe\",\"result\":{\"channel\":\"trade\",\"snapshot\":true,\"symbol\":\"MATIC/USD\"},"
    "\"success\":true,\"time_in\":\"2023-09-25T09:04:31.742599Z\",\"time_out\":\"2023-09-25T09:04:31."
    "742648Z\"}";
static const char DOC_NACK[] =
    "{\"error\":\"Currency pair not "
    "supported\",\"method\":\"subscribe\",\"success\":false,\"symbol\":\"ABC/XYZ\","
    "\"time_in\":\"2023-09-25T09:04:31.742599Z\",\"time_out\":\"2023-09-25T09:04:31.742648Z\"}";
/* ping answer: method pong, req_id, time_in, time_out */
static const char DOC_PONG[] =
    "{\"method\":\"pong\",\"req_id\":101,\"time_in\":\"2023-09-24T14:10:23.799685Z\","
    "\"time_out\":\"2023-09-24T14:10:23.799703Z\"}";

/* computed independently (Python datetime) */
#define MS1 1695628116925LL /* 2023-09-25T07:48:36.925Z */
#define MS2 1695628176925LL /* 2023-09-25T07:49:36.925Z */
#define MS3 1695628177708LL /* 2023-09-25T07:49:37.708Z */

static const tp_feed_ops *F;

static int setup(void **state) {
    (void)state;
    F = tp_feed_find("kraken");
    return F ? 0 : -1;
}

static void check(const tp_trade *t, const char *sym, double price, double qty, int64_t ms, int64_t id) {
    assert_int_equal(t->symbol.len, strlen(sym));
    assert_memory_equal(t->symbol.ptr, sym, t->symbol.len);
    assert_true(t->price == price);
    assert_true(t->volume == qty);
    assert_int_equal(t->ts_ms, ms);
    assert_int_equal(t->trade_id, id);
    assert_int_equal(t->ncond, TP_COND_NULL);
}

static void preload(tp_batch *b) {
    tp_batch_init(b);
    b->arena.block_size = 256;
    tp_msg_info info;
    assert_int_equal(F->parse(DOC_SNAPSHOT, sizeof DOC_SNAPSHOT - 1, b, &info, NULL, 0), 0);
    assert_int_equal(b->n, 2);
}

static void check_preload(const tp_batch *b) {
    check(&b->trades[0], "KRAKEN:MATIC/USD", 0.5147, 6423.46326, MS1, 4665846);
    check(&b->trades[1], "KRAKEN:MATIC/USD", 0.5147, 1136.19677815, MS2, 4665847);
}

static void test_doc_trades(void **state) {
    (void)state;
    tp_batch b;
    tp_batch_init(&b);
    tp_msg_info info;
    char err[256] = "";
    assert_int_equal(F->parse(DOC_SNAPSHOT, sizeof DOC_SNAPSHOT - 1, &b, &info, err, sizeof err), 0);
    assert_int_equal(info.type, TP_MSG_TRADE);
    assert_int_equal(info.ntrades, 2);
    assert_int_equal(info.snapshot, 1);
    check_preload(&b);
    assert_int_equal(F->parse(DOC_UPDATE, sizeof DOC_UPDATE - 1, &b, &info, err, sizeof err), 0);
    assert_int_equal(info.type, TP_MSG_TRADE);
    assert_int_equal(info.ntrades, 1);
    assert_int_equal(info.snapshot, 0);
    assert_int_equal(b.n, 3);
    check(&b.trades[2], "KRAKEN:MATIC/USD", 0.5117, 40.0, MS3, 4665906);
    /* an empty snapshot (a pair without trades) is no error */
    static const char empty[] = "{\"channel\":\"trade\",\"type\":\"snapshot\",\"data\":[]}";
    assert_int_equal(F->parse(empty, sizeof empty - 1, &b, &info, err, sizeof err), 0);
    assert_int_equal(info.type, TP_MSG_TRADE);
    assert_int_equal(info.ntrades, 0);
    assert_int_equal(b.n, 3);
    tp_batch_free(&b);
}

static void kind(const char *msg, tp_msg_type type, const char *text) {
    tp_batch b;
    preload(&b);
    tp_msg_info info;
    char err[256] = "";
    int rc = F->parse(msg, strlen(msg), &b, &info, err, sizeof err);
    if (rc) fail_msg("%s: %s", msg, err);
    assert_int_equal(info.type, type);
    assert_int_equal(info.ntrades, 0);
    assert_int_equal(b.n, 2);
    if (text) {
        assert_int_equal(info.text.len, strlen(text));
        assert_memory_equal(info.text.ptr, text, info.text.len);
    }
    tp_batch_free(&b);
}

static void test_kinds(void **state) {
    (void)state;
    kind(DOC_HEARTBEAT, TP_MSG_HEARTBEAT, NULL);
    kind(DOC_STATUS, TP_MSG_CONTROL, "online");
    kind(DOC_ACK, TP_MSG_CONTROL, "subscribe");
    kind(DOC_NACK, TP_MSG_ERROR, "Currency pair not supported");
    kind("{\"method\":\"subscribe\",\"success\":false}", TP_MSG_ERROR, "request failed");
    kind(DOC_PONG, TP_MSG_CONTROL, "pong");
    kind("{\"channel\":\"book\",\"type\":\"snapshot\",\"data\":[]}", TP_MSG_UNKNOWN, "book");
    kind("{\"channel\":\"trade\",\"type\":\"replay\",\"data\":[]}", TP_MSG_UNKNOWN, "trade/replay");
    kind("{\"something\":1}", TP_MSG_UNKNOWN, "");
}

static char last_err[256];

static void bad(const char *msg, size_t len) {
    tp_batch b;
    preload(&b);
    tp_batch_mark before = tp_batch_get_mark(&b);
    tp_msg_info info;
    char err[256] = "";
    int rc = F->parse(msg, len, &b, &info, err, sizeof err);
    if (rc == 0) fail_msg("accepted: %.*s", (int)len, msg);
    assert_true(err[0] != '\0');
    memcpy(last_err, err, sizeof err);
    tp_batch_mark after = tp_batch_get_mark(&b);
    assert_int_equal(after.n, before.n);
    assert_ptr_equal(after.head, before.head);
    assert_int_equal(after.used, before.used);
    check_preload(&b);
    tp_batch_free(&b);
}

/* an update of two trades, the second with one field's raw JSON replaced:
 * the good first trade must not be kept either */
static void bad_field(const char *key, const char *value) {
    char msg[1024];
    snprintf(
        msg, sizeof msg,
        "{\"channel\":\"trade\",\"type\":\"update\",\"data\":[{\"symbol\":\"MATIC/USD\",\"price\":0.5117,"
        "\"qty\":40.0,\"trade_id\":4665906,\"timestamp\":\"2023-09-25T07:49:37.708706Z\"},"
        "{\"symbol\":%s,\"side\":\"sell\",\"price\":%s,\"qty\":%s,\"ord_type\":\"market\",\"trade_id\":%s,"
        "\"timestamp\":%s}]}",
        !strcmp(key, "symbol") ? value : "\"MATIC/USD\"", !strcmp(key, "price") ? value : "0.5117",
        !strcmp(key, "qty") ? value : "40.0", !strcmp(key, "trade_id") ? value : "4665907",
        !strcmp(key, "timestamp") ? value : "\"2023-09-25T07:49:37.708706Z\"");
    bad(msg, strlen(msg));
}

static void test_malformed(void **state) {
    (void)state;
    const char *whole[] = {
        "",
        "{",
        "[]",
        "null",
        "{\"channel\":5}",
        "{\"method\":5}",
        "{\"method\":\"subscribe\",\"success\":\"yes\"}",
        "{\"channel\":\"trade\"}",
        "{\"channel\":\"trade\",\"type\":\"update\"}",
        "{\"channel\":\"trade\",\"type\":\"update\",\"data\":{}}",
        "{\"channel\":\"trade\",\"type\":\"update\",\"data\":[5]}",
        "{\"channel\":\"trade\",\"type\":7,\"data\":[]}",
        "{\"channel\":\"heartbeat\",\"channel\":\"trade\"}",
        "{\"channel\":\"heartbeat\"}{}",
        /* trades in a message with an integer beyond int64 */
        "{\"channel\":\"trade\",\"type\":\"update\",\"n\":99999999999999999999,\"data\":[{\"symbol\":\"A/B\","
        "\"price\":1,\"qty\":1,\"trade_id\":1,\"timestamp\":\"2023-09-25T07:49:37Z\"}]}",
    };
    for (size_t i = 0; i < sizeof whole / sizeof whole[0]; i++) bad(whole[i], strlen(whole[i]));
    static const char nul[] = "{\"channel\":\"heartbeat\"}\0";
    bad(nul, sizeof nul - 1);

    const char *prices[] = {"\"0.5117\"", "-0.5117",  "0",     "0.0",  "-0.0", "null", "true",
                            "NaN",        "Infinity", "1e400", "1e40", "[1]",  "{}"};
    for (size_t i = 0; i < sizeof prices / sizeof prices[0]; i++) bad_field("price", prices[i]);
    const char *qtys[] = {"\"40\"", "-1", "-1e-300", "null", "NaN", "1e999", "1e41"};
    for (size_t i = 0; i < sizeof qtys / sizeof qtys[0]; i++) bad_field("qty", qtys[i]);
    const char *ids[] = {"\"4665907\"", "0", "-4", "1.5", "4665907.0", "null", "99999999999999999999"};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) bad_field("trade_id", ids[i]);
    const char *times[] = {"\"2026-02-30T00:00:00Z\"",
                           "\"2023-02-29T07:49:37Z\"",
                           "\"2023-09-25T07:49:37\"",
                           "\"2023-09-25T25:49:37Z\"",
                           "\"2023-09-25T07:49:37.Z\"",
                           "\"1695628177708\"",
                           "1695628177",
                           "null",
                           "\"2023-09-25T07:49:37.1234567890Z\"",
                           "\"2023-09-25T07:49:37+99:00\""};
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) bad_field("timestamp", times[i]);
    const char *syms[] = {
        "\"\"", "5", "null", "[\"A/B\"]",
        "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/B\""};
    for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) bad_field("symbol", syms[i]);
}

/* the error names the field and the trade */
static void test_error_words(void **state) {
    (void)state;
    struct {
        const char *key, *value, *words;
    } c[] = {{"price", "\"1\"", "price missing or not a number > 0 (data[1])"},
             {"qty", "-1", "qty missing or not a number >= 0 (data[1])"},
             {"trade_id", "1.5", "trade_id missing or not a positive integer (data[1])"},
             {"timestamp", "\"2026-02-30T00:00:00Z\"", "timestamp missing or not an RFC 3339 time (data[1])"},
             {"symbol", "5", "symbol missing or not a pair name (data[1])"}};
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        bad_field(c[i].key, c[i].value);
        assert_non_null(strstr(last_err, c[i].words));
    }
    bad("{\"channel\":\"trade\"}", 19);
    assert_string_equal(last_err, "Kraken message: trade message without a type");
}

static void test_normalize(void **state) {
    (void)state;
    struct {
        const char *in, *out;
    } ok[] = {{"btc/usd", "KRAKEN:BTC/USD"},
              {"XBT/USD", "KRAKEN:BTC/USD"},
              {"kraken:xdg/eur", "KRAKEN:DOGE/EUR"},
              {"ETH/XBT", "KRAKEN:ETH/BTC"},
              {"KRAKEN:MATIC/USD", "KRAKEN:MATIC/USD"},
              {"1INCH/USD", "KRAKEN:1INCH/USD"}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char out[64], err[256];
        assert_int_equal(F->normalize_symbol(ok[i].in, out, sizeof out, err, sizeof err), 0);
        assert_string_equal(out, ok[i].out);
    }
    const char *no[] = {"",         "XXBTZUSD", "KRAKEN:XXBTZUSD", "BTCUSD",
                        "BTC/",     "/USD",     "BTC/USD/EUR",     "BTC-USD",
                        "BTC /USD", "KRAKEN:",  "BTC/U\"SD",       "ABCDEFGHIJKLMNOPQ/USD"};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        char out[64], err[256] = "";
        assert_int_equal(F->normalize_symbol(no[i], out, sizeof out, err, sizeof err), TP_EINVAL);
        assert_non_null(strstr(err, "not a Kraken pair"));
    }
}

static void test_subscribe(void **state) {
    (void)state;
    const char *syms[] = {"KRAKEN:BTC/USD", "KRAKEN:MATIC/GBP", "we\"ird"};
    for (int sub = 0; sub <= 1; sub++) {
        char buf[512];
        int n = F->subscribe_many(syms, 3, sub, buf, sizeof buf);
        assert_true(n > 0);
        assert_int_equal((size_t)n, strlen(buf));
        json_error_t je;
        json_t *o = json_loadb(buf, (size_t)n, 0, &je);
        assert_non_null(o);
        assert_string_equal(json_string_value(json_object_get(o, "method")),
                            sub ? "subscribe" : "unsubscribe");
        json_t *p = json_object_get(o, "params");
        assert_string_equal(json_string_value(json_object_get(p, "channel")), "trade");
        json_t *s = json_object_get(p, "symbol");
        assert_int_equal(json_array_size(s), 3);
        assert_string_equal(json_string_value(json_array_get(s, 0)), "BTC/USD");
        assert_string_equal(json_string_value(json_array_get(s, 1)), "MATIC/GBP");
        assert_string_equal(json_string_value(json_array_get(s, 2)), "we\"ird");
        if (sub)
            assert_true(json_is_true(json_object_get(p, "snapshot")));
        else
            assert_null(json_object_get(p, "snapshot"));
        json_decref(o);
        for (size_t cap = 0; cap <= (size_t)n; cap++) {
            char small[512];
            assert_int_equal(F->subscribe_many(syms, 3, sub, small, cap), -1);
        }
    }
    char one[128];
    F->subscribe_msg("KRAKEN:MATIC/USD", 1, one, sizeof one);
    assert_string_equal(
        one, "{\"method\":\"subscribe\",\"params\":{\"channel\":\"trade\",\"symbol\":[\"MATIC/USD\"],"
             "\"snapshot\":true}}");
}

static void test_ops(void **state) {
    (void)state;
    assert_ptr_equal(F, &tp_feed_kraken);
    assert_string_equal(F->default_url, "wss://ws.kraken.com/v2");
    assert_string_equal(F->default_rest_url, "https://api.kraken.com/0/public");
    assert_int_equal(F->needs_token, 0);
    assert_string_equal(F->sym_prefix, "KRAKEN:");
    assert_int_equal(F->heartbeat_ms, 1000);
    char path[64], err[128];
    assert_int_equal(F->connect_path("v2", NULL, path, sizeof path, err, sizeof err), 0);
    assert_string_equal(path, "/v2");
    assert_int_equal(F->classify("Exceeded msg rate", 17), TP_FEED_REASON_RATE_LIMIT);
    assert_int_equal(F->classify("Currency pair not supported", 27), TP_FEED_REASON_OTHER);
    assert_non_null(F->reason_words(TP_FEED_REASON_RATE_LIMIT));
    assert_null(F->reason_words(TP_FEED_REASON_OTHER));
    assert_non_null(strstr(tp_feed_names(), "kraken"));
}

static void test_writers(void **state) {
    (void)state;
    const char *syms[] = {"KRAKEN:BTC/USD", "KRAKEN:MATIC/USD", "ETH/EUR", "KRAKEN:X/Y"};
    double prices[] = {63983.99, 0.5147, 0.1 + 0.2, 1e-30};
    double qtys[] = {0.00000015, 6423.46326, 0, 9.999999999999999e38};
    int64_t ms[] = {1782030435506LL, MS1, -62135596800000LL, 253402300799999LL};
    int64_t ids[] = {1, 4665846, INT64_MAX, 7};
    tp_trade t[4];
    memset(t, 0, sizeof t);
    for (int i = 0; i < 4; i++) {
        t[i].symbol.ptr = syms[i];
        t[i].symbol.len = (uint32_t)strlen(syms[i]);
        t[i].price = prices[i];
        t[i].volume = qtys[i];
        t[i].ts_ms = ms[i];
        t[i].trade_id = ids[i];
        t[i].ncond = TP_COND_NULL;
    }
    for (int snap = 0; snap <= 1; snap++) {
        char buf[2048];
        int n = tp_kraken_trade_json(t, 4, snap, buf, sizeof buf);
        assert_true(n > 0);
        assert_int_equal((size_t)n, strlen(buf));
        json_error_t je;
        json_t *o = json_loadb(buf, (size_t)n, 0, &je); /* jansson reads the documented fields */
        assert_non_null(o);
        assert_string_equal(json_string_value(json_object_get(o, "channel")), "trade");
        assert_string_equal(json_string_value(json_object_get(o, "type")), snap ? "snapshot" : "update");
        json_t *d1 = json_array_get(json_object_get(o, "data"), 1);
        assert_int_equal(json_object_size(d1), 7);
        assert_true(json_is_real(json_object_get(d1, "price")));
        assert_true(json_real_value(json_object_get(d1, "price")) == 0.5147);
        assert_string_equal(json_string_value(json_object_get(d1, "timestamp")),
                            "2023-09-25T07:48:36.925000Z");
        json_decref(o);
        tp_batch b;
        tp_batch_init(&b);
        tp_msg_info info;
        char err[256] = "";
        if (F->parse(buf, (size_t)n, &b, &info, err, sizeof err)) fail_msg("%s: %s", buf, err);
        assert_int_equal(info.ntrades, 4);
        assert_int_equal(info.snapshot, snap);
        for (int i = 0; i < 4; i++) {
            char want[64];
            snprintf(want, sizeof want, "%s%s", strncmp(syms[i], "KRAKEN:", 7) ? "KRAKEN:" : "", syms[i]);
            assert_int_equal(b.trades[i].symbol.len, strlen(want));
            assert_memory_equal(b.trades[i].symbol.ptr, want, strlen(want));
            assert_memory_equal(&b.trades[i].price, &prices[i], sizeof(double));
            assert_memory_equal(&b.trades[i].volume, &qtys[i], sizeof(double));
            assert_int_equal(b.trades[i].ts_ms, ms[i]);
            assert_int_equal(b.trades[i].trade_id, ids[i]);
        }
        tp_batch_free(&b);
        for (size_t cap = 0; cap <= (size_t)n; cap++) {
            char small[2048];
            assert_int_equal(tp_kraken_trade_json(t, 4, snap, small, cap), -1);
        }
    }
    char buf[512];
    t[0].trade_id = 0;
    assert_int_equal(tp_kraken_trade_json(t, 1, 0, buf, sizeof buf), -1);
    assert_int_equal(tp_kraken_heartbeat_json(buf, sizeof buf), (int)strlen("{\"channel\":\"heartbeat\"}"));
    kind(buf, TP_MSG_HEARTBEAT, NULL);
    assert_true(tp_kraken_subscribe_ack_json("KRAKEN:BTC/USD", 1, NULL, buf, sizeof buf) > 0);
    assert_string_equal(buf, "{\"method\":\"subscribe\",\"result\":{\"channel\":\"trade\",\"snapshot\":true,"
                             "\"symbol\":\"BTC/USD\"},\"success\":true}");
    kind(buf, TP_MSG_CONTROL, "subscribe");
    assert_true(tp_kraken_subscribe_ack_json("ABC/XYZ", 1, "Currency pair not supported", buf, sizeof buf) >
                0);
    kind(buf, TP_MSG_ERROR, "Currency pair not supported");
    assert_true(tp_kraken_subscribe_ack_json("BTC/USD", 0, NULL, buf, sizeof buf) > 0);
    kind(buf, TP_MSG_CONTROL, "unsubscribe");
}

/* The simulator's personality (src/sim/kraken.c): the documentation's
 * subscribe message is answered per pair (one message a line) and hands on
 * the pairs; a bad pair gets a failure answer and is not handed on;
 * "snapshot":false subscribes without the snapshot; its status, update,
 * snapshot and heartbeat messages parse, with this feed's parser, into
 * exactly the market's trades. */
static char subs[4][64];
static int subv[4], nsubs_seen;
static void on_sub(void *ud, int subscribe, const char *name) {
    (void)ud;
    assert_true(nsubs_seen < 4);
    subv[nsubs_seen] = subscribe;
    snprintf(subs[nsubs_seen++], sizeof subs[0], "%s", name);
}

static void parse_ok(const char *msg, size_t len, tp_batch *b, tp_msg_info *info) {
    char err[256] = "";
    if (F->parse(msg, len, b, info, err, sizeof err)) fail_msg("%.*s: %s", (int)len, msg, err);
}

static void test_sim_personality(void **state) {
    (void)state;
    const tp_sim_personality *p = tp_sim_personality_find("kraken");
    assert_non_null(p);
    assert_true(p->recent_max == 50 && p->heartbeat_s == 1 && p->subscribe_deadline_s == 0);
    char out[65536];
    tp_batch b;
    tp_batch_init(&b);
    tp_msg_info info;
    parse_ok(p->greeting, strlen(p->greeting), &b, &info);
    assert_int_equal(info.type, TP_MSG_CONTROL);
    assert_string_equal(info.text.ptr, "online");
    static const char sub[] =
        "{\"method\":\"subscribe\",\"params\":{\"channel\":\"trade\",\"symbol\":[\"MATIC/USD\","
        "\"abc/xyz\",\"BTC/USD\"],\"snapshot\":true},\"req_id\":7}";
    nsubs_seen = 0;
    size_t n = p->client_msg(sub, sizeof sub - 1, on_sub, NULL, out, sizeof out);
    assert_int_equal(nsubs_seen, 2);
    assert_string_equal(subs[0], "KRAKEN:MATIC/USD");
    assert_string_equal(subs[1], "KRAKEN:BTC/USD");
    assert_true(subv[0] == 1 && subv[1] == 1);
    assert_int_equal(strlen(out), n);
    static const tp_msg_type want[] = {TP_MSG_CONTROL, TP_MSG_ERROR, TP_MSG_CONTROL};
    size_t lines = 0;
    for (char *line = out, *nl; line; line = nl ? nl + 1 : NULL, lines++) {
        nl = strchr(line, '\n');
        assert_true(lines < 3);
        tp_batch_reset(&b);
        parse_ok(line, nl ? (size_t)(nl - line) : strlen(line), &b, &info);
        assert_int_equal(info.type, want[lines]);
    }
    assert_int_equal(lines, 3);
    static const char nosnap[] = "{\"method\":\"subscribe\",\"params\":{\"channel\":\"trade\",\"symbol\":["
                                 "\"ETH/USD\"],\"snapshot\":false}}";
    nsubs_seen = 0;
    p->client_msg(nosnap, sizeof nosnap - 1, on_sub, NULL, out, sizeof out);
    assert_true(nsubs_seen == 1 && subv[0] == 2);
    static const char *const bad[] = {"not json",
                                      "{\"method\":\"subscribe\",\"params\":{\"channel\":\"book\","
                                      "\"symbol\":[\"BTC/USD\"]}}",
                                      "{\"method\":\"hello\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        nsubs_seen = 0;
        n = p->client_msg(bad[i], strlen(bad[i]), on_sub, NULL, out, sizeof out);
        assert_int_equal(nsubs_seen, 0);
        tp_batch_reset(&b);
        parse_ok(out, n, &b, &info);
        assert_int_equal(info.type, TP_MSG_ERROR);
    }
    static const char ping[] = "{\"method\":\"ping\",\"req_id\":3}";
    n = p->client_msg(ping, sizeof ping - 1, on_sub, NULL, out, sizeof out);
    assert_string_equal(out, "{\"method\":\"pong\",\"req_id\":3}");
    static const char obj[] =
        "{\"c\":null,\"p\":0.5624,\"s\":\"KRAKEN:MATIC/USD\",\"t\":1796659365544,\"v\":12.5}";
    n = p->trade_msg(obj, sizeof obj - 1, 4665905, out);
    assert_true(n > 0 && n <= sizeof obj - 1 + 400);
    tp_batch_reset(&b);
    parse_ok(out, n, &b, &info);
    assert_true(info.type == TP_MSG_TRADE && info.snapshot == 0 && b.n == 1);
    assert_string_equal(b.trades[0].symbol.ptr, "KRAKEN:MATIC/USD");
    assert_true(b.trades[0].price == 0.5624 && b.trades[0].volume == 12.5);
    assert_int_equal(b.trades[0].ts_ms, 1796659365544);
    assert_int_equal(b.trades[0].trade_id, 4665905);
    tp_trade t[2] = {b.trades[0], b.trades[0]};
    t[1].trade_id = 4665906;
    n = p->recent_msg(t, 2, out, sizeof out);
    tp_batch_reset(&b);
    parse_ok(out, n, &b, &info);
    assert_true(info.type == TP_MSG_TRADE && info.snapshot == 1 && b.n == 2);
    assert_true(b.trades[0].trade_id == 4665905 && b.trades[1].trade_id == 4665906);
    n = p->heartbeat_msg(NULL, 0, 0, out, sizeof out);
    assert_string_equal(out, "{\"channel\":\"heartbeat\"}");
    tp_batch_reset(&b);
    parse_ok(out, n, &b, &info);
    assert_int_equal(info.type, TP_MSG_HEARTBEAT);
    tp_batch_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_doc_trades),
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_error_words),
        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_subscribe),
        cmocka_unit_test(test_ops),
        cmocka_unit_test(test_writers),
        cmocka_unit_test(test_sim_personality),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
