/* test_coinbase.c - the Coinbase Exchange feed (feed/coinbase.c): the
 * example messages of Coinbase's documentation parse into the right trades
 * (values written out here, times checked against epoch values computed
 * independently), every message kind, hostile and malformed messages
 * (rejected with the batch left exactly as it was), the strict ISO 8601
 * time reader, symbol normalisation, subscribe messages read back by
 * jansson, and the writers: parse(write(t)) == t; the simulator's
 * Coinbase personality speaks what this parser reads. */
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

/* docs.cdp.coinbase.com, Exchange WebSocket channels: Match */
static const char DOC_MATCH[] = "{\n"
                                "  \"type\": \"match\",\n"
                                "  \"trade_id\": 10,\n"
                                "  \"sequence\": 50,\n"
                                "  \"maker_order_id\": \"ac928c66-ca53-498f-9c13-a110027a60e8\",\n"
                                "  \"taker_order_id\": \"132fb6ae-456b-4654-b4e0-d681ac05cea1\",\n"
                                "  \"time\": \"2014-11-07T08:19:27.028459Z\",\n"
                                "  \"product_id\": \"BTC-USD\",\n"
                                "  \"size\": \"5.23512\",\n"
                                "  \"price\": \"400.23\",\n"
                                "  \"side\": \"sell\"\n"
                                "}";
/* the same channel's first message after subscribing ("type": "last_match", same fields) */
static const char DOC_LAST_MATCH[] =
    "{\"type\":\"last_match\",\"trade_id\":10,\"sequence\":50,"
    "\"maker_order_id\":\"ac928c66-ca53-498f-9c13-a110027a60e8\","
    "\"taker_order_id\":\"132fb6ae-456b-4654-b4e0-d681ac05cea1\",\"time\":\"2014-11-07T08:19:27.028459Z\","
    "\"product_id\":\"BTC-USD\",\"size\":\"5.23512\",\"price\":\"400.23\",\"side\":\"sell\"}";
/* Heartbeat Channel */
static const char DOC_HEARTBEAT[] =
    "{\n  \"type\": \"heartbeat\",\n  \"sequence\": 90,\n  \"last_trade_id\": 20,\n"
    "  \"product_id\": \"BTC-USD\",\n  \"time\": \"2014-11-07T08:19:28.464459Z\"\n}";
/* Exchange WebSocket overview: Subscriptions Message */
static const char DOC_SUBSCRIPTIONS[] =
    "{\"type\":\"subscriptions\",\"channels\":[{\"name\":\"level2\",\"product_ids\":[\"ETH-USD\",\"ETH-EUR\"]"
    "},"
    "{\"name\":\"heartbeat\",\"product_ids\":[\"ETH-USD\",\"ETH-EUR\"]},"
    "{\"name\":\"ticker\",\"product_ids\":[\"ETH-USD\",\"ETH-EUR\",\"ETH-BTC\"]}]}";
/* Exchange WebSocket errors */
static const char DOC_ERROR[] = "{\n  \"type\": \"error\",\n  \"message\": \"error message\"\n}";
/* Ticker Channel (a type this feed does not subscribe to) */
static const char DOC_TICKER[] =
    "{\"type\":\"ticker\",\"sequence\":37475248783,\"product_id\":\"ETH-USD\",\"price\":\"1285.22\","
    "\"open_24h\":\"1310.79\",\"volume_24h\":\"245532.79269678\",\"low_24h\":\"1280.52\",\"high_24h\":\"1313."
    "8\","
    "\"volume_30d\":\"9788783.60117027\",\"best_bid\":\"1285.04\",\"best_bid_size\":\"0.46688654\","
    "\"best_ask\":\"1285.27\",\"best_ask_size\":\"1.56637040\",\"side\":\"buy\","
    "\"time\":\"2022-10-19T23:28:22.061769Z\",\"trade_id\":370843401,\"last_size\":\"11.4396987\"}";

/* 2014-11-07T08:19:27.028Z, computed independently (Python datetime) */
#define DOC_MATCH_MS 1415348367028LL

static const tp_feed_ops *F;

static int setup(void **state) {
    (void)state;
    F = tp_feed_find("coinbase");
    return F ? 0 : -1;
}

/* A batch that already holds the documented trade, to see that a rejected
 * message leaves it exactly as it was. */
static void preload(tp_batch *b) {
    tp_batch_init(b);
    b->arena.block_size = 256; /* rewinds across arena blocks */
    tp_msg_info info;
    assert_int_equal(F->parse(DOC_MATCH, sizeof DOC_MATCH - 1, b, &info, NULL, 0), 0);
    assert_int_equal(b->n, 1);
}

static void check_doc_trade(const tp_trade *t) {
    assert_int_equal(t->symbol.len, strlen("COINBASE:BTC-USD"));
    assert_memory_equal(t->symbol.ptr, "COINBASE:BTC-USD", t->symbol.len);
    assert_true(t->price == 400.23);
    assert_true(t->volume == 5.23512);
    assert_int_equal(t->ts_ms, DOC_MATCH_MS);
    assert_int_equal(t->trade_id, 10);
    assert_int_equal(t->ncond, TP_COND_NULL);
}

static void test_doc_match(void **state) {
    (void)state;
    tp_batch b;
    tp_batch_init(&b);
    tp_msg_info info;
    char err[256] = "";
    assert_int_equal(F->parse(DOC_MATCH, sizeof DOC_MATCH - 1, &b, &info, err, sizeof err), 0);
    assert_int_equal(info.type, TP_MSG_TRADE);
    assert_int_equal(info.ntrades, 1);
    assert_int_equal(info.snapshot, 0);
    assert_int_equal(b.n, 1);
    check_doc_trade(&b.trades[0]);
    /* last_match: the same trade, marked as a possible repeat */
    assert_int_equal(F->parse(DOC_LAST_MATCH, sizeof DOC_LAST_MATCH - 1, &b, &info, err, sizeof err), 0);
    assert_int_equal(info.type, TP_MSG_TRADE);
    assert_int_equal(info.ntrades, 1);
    assert_int_equal(info.snapshot, 1);
    assert_int_equal(b.n, 2);
    check_doc_trade(&b.trades[1]);
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
    assert_int_equal(b.n, 1);
    if (text) {
        assert_int_equal(info.text.len, strlen(text));
        assert_memory_equal(info.text.ptr, text, info.text.len);
    }
    tp_batch_free(&b);
}

static void test_kinds(void **state) {
    (void)state;
    kind(DOC_HEARTBEAT, TP_MSG_HEARTBEAT, NULL);
    kind(DOC_SUBSCRIPTIONS, TP_MSG_CONTROL, "subscriptions");
    kind(DOC_ERROR, TP_MSG_ERROR, "error message");
    kind("{\"type\":\"error\",\"message\":\"Failed to subscribe\",\"reason\":\"BTC-XYZ is not a valid "
         "product\"}",
         TP_MSG_ERROR, "Failed to subscribe: BTC-XYZ is not a valid product");
    kind("{\"type\":\"error\"}", TP_MSG_ERROR, "");
    kind(DOC_TICKER, TP_MSG_UNKNOWN, "ticker");
    kind("{\"type\":\"status\",\"products\":[],\"currencies\":[]}", TP_MSG_UNKNOWN, "status");
    /* an unknown type may hold anything, even an integer beyond int64 */
    kind("{\"type\":\"new_thing\",\"n\":123456789012345678901234567890}", TP_MSG_UNKNOWN, "new_thing");
}

/* A hostile or malformed message: nonzero, an error text, batch untouched. */
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
    check_doc_trade(&b.trades[0]);
    tp_batch_free(&b);
}

/* the documented match with one field's value replaced (raw JSON) */
static void bad_field(const char *key, const char *value) {
    char msg[1024];
    snprintf(msg, sizeof msg,
             "{\"type\":\"match\",\"trade_id\":%s,\"sequence\":50,\"time\":%s,\"product_id\":%s,\"size\":%s,"
             "\"price\":%s,\"side\":\"sell\"}",
             !strcmp(key, "trade_id") ? value : "10",
             !strcmp(key, "time") ? value : "\"2014-11-07T08:19:27.028459Z\"",
             !strcmp(key, "product_id") ? value : "\"BTC-USD\"", !strcmp(key, "size") ? value : "\"5.23512\"",
             !strcmp(key, "price") ? value : "\"400.23\"");
    bad(msg, strlen(msg));
}

static void test_malformed(void **state) {
    (void)state;
    const char *whole[] = {
        "",
        "not json",
        "[]",
        "\"match\"",
        "{}",
        "{\"type\":5}",
        "{\"type\":null}",
        "{\"type\":\"match\"}",
        "{\"type\":\"match\",\"type\":\"heartbeat\"}", /* duplicate key */
        "{\"type\":\"heartbeat\"} trailing",
        "{\"type\":\"match\",\"trade_id\":10,\"time\":\"2014-11-07T08:19:27Z\",\"product_id\":\"BTC-USD\","
        "\"size\":\"1\"}", /* no price */
        "{\"type\":\"match\",\"trade_id\":99999999999999999999,\"time\":\"2014-11-07T08:19:27Z\","
        "\"product_id\":\"BTC-USD\",\"size\":\"1\",\"price\":\"1\"}", /* trade id beyond int64 */
    };
    for (size_t i = 0; i < sizeof whole / sizeof whole[0]; i++) bad(whole[i], strlen(whole[i]));
    static const char nul[] = "{\"type\":\"heartbeat\"}\0";
    bad(nul, sizeof nul - 1);
    static const char nul2[] = "{\"type\":\"heart\0beat\"}";
    bad(nul2, sizeof nul2 - 1);

    const char *trade_ids[] = {"\"10\"", "0", "-1", "1.5", "null", "true", "1e3"};
    for (size_t i = 0; i < sizeof trade_ids / sizeof trade_ids[0]; i++) bad_field("trade_id", trade_ids[i]);
    const char *numbers[] = {
        "400.23",
        "\"\"",
        "\"NaN\"",
        "\"nan\"",
        "\"inf\"",
        "\"Infinity\"",
        "\"-1\"",
        "\"+1\"",
        "\"1e5\"",
        "\" 1\"",
        "\"1 \"",
        "\"1.\"",
        "\".5\"",
        "\"1.2.3\"",
        "\"0x10\"",
        "\"1,5\"",
        "null",
        "\"100000000000000000000000000000000000000000000000000\"",                 /* >= 1e40 */
        "\"0.0000000000000000000000000000000000000000000000000000000000000001\""}; /* > 64 */
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
        bad_field("price", numbers[i]);
        bad_field("size", numbers[i]);
    }
    bad_field("price", "\"0\""); /* a trade at price 0 */
    bad_field("price", "\"0.000\"");
    const char *times[] = {"\"2026-02-30T00:00:00Z\"",
                           "\"2025-02-29T00:00:00Z\"",
                           "\"2100-02-29T00:00:00Z\"",
                           "\"2014-13-07T08:19:27Z\"",
                           "\"2014-00-07T08:19:27Z\"",
                           "\"2014-11-00T08:19:27Z\"",
                           "\"2014-11-31T08:19:27Z\"",
                           "\"2014-11-07T24:00:00Z\"",
                           "\"2014-11-07T08:60:27Z\"",
                           "\"2014-11-07T08:19:60Z\"",
                           "\"2014-11-07 08:19:27Z\"",
                           "\"2014-11-07T08:19:27\"",
                           "\"2014-11-07T08:19:27.Z\"",
                           "\"2014-11-07T08:19:27.1234567891Z\"",
                           "\"2014-11-07T08:19:27+24:00\"",
                           "\"2014-11-07T08:19:27+01:60\"",
                           "\"2014-11-07T08:19:27+0100\"",
                           "\"2014-11-07T08:19:27Z \"",
                           "\"2014-11-07T08:19:27ZZ\"",
                           "\"2014-11-7T08:19:27Z\"",
                           "\"0000-01-01T00:00:00Z\"",
                           "\"1415348367028\"",
                           "1415348367028",
                           "\"\"",
                           "\"+2014-11-07T08:19:27Z\"",
                           "\"2014-11-07T08:19:27.028459UTC\""};
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) bad_field("time", times[i]);
    const char *products[] = {
        "\"\"", "5", "null", "[\"BTC-USD\"]",
        "\"BTC-USD-XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX\""};
    for (size_t i = 0; i < sizeof products / sizeof products[0]; i++) bad_field("product_id", products[i]);
}

/* the error names the field */
static void test_error_words(void **state) {
    (void)state;
    struct {
        const char *key, *value, *words;
    } c[] = {{"price", "400.23", "price missing or not a decimal string > 0"},
             {"size", "\"NaN\"", "size missing or not a decimal string"},
             {"trade_id", "\"10\"", "trade_id missing or not a positive integer"},
             {"time", "\"2026-02-30T00:00:00Z\"", "time missing or not an ISO 8601 time"},
             {"product_id", "\"\"", "product_id missing or not a product name"}};
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        bad_field(c[i].key, c[i].value);
        if (!strstr(last_err, c[i].words)) fail_msg("%s: %s", c[i].key, last_err);
    }
}

static void test_time(void **state) {
    (void)state;
    /* expected values computed independently (Python datetime) */
    struct {
        const char *s;
        int64_t ms;
    } ok[] = {
        {"2014-11-07T08:19:27.028459Z", 1415348367028LL},
        {"2014-11-07T08:19:28.464459Z", 1415348368464LL},
        {"2024-02-29T23:59:59.999999Z", 1709251199999LL},
        {"2024-02-29T23:59:59.999999999Z", 1709251199999LL}, /* nanoseconds, truncated */
        {"2000-01-01T00:00:00+01:30", 946679400000LL},
        {"1999-12-31T22:30:00-00:00", 946679400000LL},
        {"1999-12-31t22:30:00z", 946679400000LL},
        {"1970-01-01T00:00:00Z", 0},
        {"1970-01-01T00:00:00.5Z", 500},
        {"1970-01-01T00:00:00.05Z", 50},
        {"1969-12-31T23:59:59.999Z", -1},
        {"0001-01-01T00:00:00Z", -62135596800000LL},
        {"9999-12-31T23:59:59.999Z", 253402300799999LL},
        {"2000-02-29T12:00:00Z", 951825600000LL},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int64_t ms = 42;
        if (tp_rfc3339_to_ms(ok[i].s, strlen(ok[i].s), &ms)) fail_msg("rejected %s", ok[i].s);
        if (ms != ok[i].ms) fail_msg("%s: %lld, want %lld", ok[i].s, (long long)ms, (long long)ok[i].ms);
        /* the writer's form reads back to the same ms */
        char w[40];
        assert_int_equal(tp_ms_to_rfc3339(ms, w, sizeof w), 27);
        int64_t back;
        assert_int_equal(tp_rfc3339_to_ms(w, strlen(w), &back), 0);
        assert_int_equal(back, ms);
    }
    char w[40];
    assert_int_equal(tp_ms_to_rfc3339(1415348367028LL, w, sizeof w), 27);
    assert_string_equal(w, "2014-11-07T08:19:27.028000Z");
    assert_int_equal(tp_ms_to_rfc3339(-1, w, sizeof w), 27);
    assert_string_equal(w, "1969-12-31T23:59:59.999000Z");
    assert_int_equal(tp_ms_to_rfc3339(253402300800000LL, w, sizeof w), -1); /* year 10000 */
    assert_int_equal(tp_ms_to_rfc3339(0, w, 27), -1);                       /* no room for the NUL */
}

static void test_normalize(void **state) {
    (void)state;
    struct {
        const char *in, *out;
    } ok[] = {{"btc-usd", "COINBASE:BTC-USD"},
              {"BTC-USD", "COINBASE:BTC-USD"},
              {"COINBASE:eth-eur", "COINBASE:ETH-EUR"},
              {"coinbase:1INCH-USD", "COINBASE:1INCH-USD"},
              {"00-USD", "COINBASE:00-USD"}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char out[64], err[256];
        assert_int_equal(F->normalize_symbol(ok[i].in, out, sizeof out, err, sizeof err), 0);
        assert_string_equal(out, ok[i].out);
    }
    const char *no[] = {"",
                        "BTCUSD",
                        "BTC-",
                        "-USD",
                        "BTC-USD-EUR",
                        "BTC/USD",
                        "BTC USD",
                        "BTC-US D",
                        "BINANCE:BTC-USD",
                        "COINBASE:",
                        "BTC-\"USD",
                        "ABCDEFGHIJKLMNOPQ-USD",
                        "BTC-ABCDEFGHIJKLMNOPQ"};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        char out[64], err[256] = "";
        assert_int_equal(F->normalize_symbol(no[i], out, sizeof out, err, sizeof err), TP_EINVAL);
        assert_non_null(strstr(err, "not a Coinbase product"));
    }
    char small[12], err[256];
    assert_int_equal(F->normalize_symbol("BTC-USD", small, sizeof small, err, sizeof err), TP_EINVAL);
}

static void test_subscribe(void **state) {
    (void)state;
    const char *syms[] = {"COINBASE:BTC-USD", "COINBASE:ETH-EUR", "we\"ird"};
    for (int sub = 0; sub <= 1; sub++) {
        char buf[512];
        int n = F->subscribe_many(syms, 3, sub, buf, sizeof buf);
        assert_true(n > 0);
        assert_int_equal((size_t)n, strlen(buf));
        json_error_t je;
        json_t *o = json_loadb(buf, (size_t)n, 0, &je);
        assert_non_null(o);
        assert_string_equal(json_string_value(json_object_get(o, "type")), sub ? "subscribe" : "unsubscribe");
        json_t *p = json_object_get(o, "product_ids");
        assert_int_equal(json_array_size(p), 3);
        assert_string_equal(json_string_value(json_array_get(p, 0)), "BTC-USD");
        assert_string_equal(json_string_value(json_array_get(p, 1)), "ETH-EUR");
        assert_string_equal(json_string_value(json_array_get(p, 2)), "we\"ird");
        json_t *c = json_object_get(o, "channels");
        assert_int_equal(json_array_size(c), 2);
        assert_string_equal(json_string_value(json_array_get(c, 0)), "matches");
        assert_string_equal(json_string_value(json_array_get(c, 1)), "heartbeat");
        json_decref(o);
        /* every buffer too small fails whole */
        for (size_t cap = 0; cap <= (size_t)n; cap++) {
            char small[512];
            assert_int_equal(F->subscribe_many(syms, 3, sub, small, cap), -1);
        }
    }
    char one[128];
    int n = F->subscribe_msg("COINBASE:BTC-USD", 1, one, sizeof one);
    assert_string_equal(one,
                        "{\"type\":\"subscribe\",\"product_ids\":[\"BTC-USD\"],\"channels\":[\"matches\","
                        "\"heartbeat\"]}");
    assert_int_equal(n, (int)strlen(one));
}

static void test_ops(void **state) {
    (void)state;
    assert_ptr_equal(F, &tp_feed_coinbase);
    assert_string_equal(F->default_url, "wss://ws-feed.exchange.coinbase.com");
    assert_string_equal(F->default_rest_url, "https://api.exchange.coinbase.com");
    assert_int_equal(F->needs_token, 0);
    assert_string_equal(F->sym_prefix, "COINBASE:");
    assert_int_equal(F->subscribe_deadline_ms, 5000);
    assert_int_equal(F->heartbeat_ms, 1000);
    char path[64], err[128];
    assert_int_equal(F->connect_path("", NULL, path, sizeof path, err, sizeof err), 0);
    assert_string_equal(path, "/");
    assert_int_equal(F->classify("ErrSlowConsume", 14), TP_FEED_REASON_SLOW_CONSUMER);
    assert_int_equal(F->classify("errslowread", 11), TP_FEED_REASON_RATE_LIMIT);
    assert_int_equal(F->classify("Failed to subscribe", 19), TP_FEED_REASON_OTHER);
    assert_int_equal(F->classify(NULL, 0), TP_FEED_REASON_OTHER);
    assert_non_null(F->reason_words(TP_FEED_REASON_SLOW_CONSUMER));
    assert_non_null(F->reason_words(TP_FEED_REASON_RATE_LIMIT));
    assert_null(F->reason_words(TP_FEED_REASON_OTHER));
    assert_non_null(strstr(tp_feed_names(), "coinbase"));
}

static void round_trip(const char *sym, double price, double size, int64_t ms, int64_t id, int last) {
    tp_trade t = {0};
    t.symbol.ptr = sym;
    t.symbol.len = (uint32_t)strlen(sym);
    t.price = price;
    t.volume = size;
    t.ts_ms = ms;
    t.trade_id = id;
    t.ncond = TP_COND_NULL;
    char buf[1024];
    int n = tp_coinbase_match_json(&t, 123456789012LL, last, buf, sizeof buf);
    assert_true(n > 0);
    assert_int_equal((size_t)n, strlen(buf));
    /* the documented fields, read by jansson */
    json_error_t je;
    json_t *o = json_loadb(buf, (size_t)n, 0, &je);
    assert_non_null(o);
    const char *keys[] = {"type", "trade_id",   "sequence", "maker_order_id", "taker_order_id",
                          "time", "product_id", "size",     "price",          "side"};
    assert_int_equal(json_object_size(o), 10);
    for (size_t i = 0; i < 10; i++) assert_non_null(json_object_get(o, keys[i]));
    assert_string_equal(json_string_value(json_object_get(o, "type")), last ? "last_match" : "match");
    assert_true(json_is_string(json_object_get(o, "price")));
    assert_int_equal(json_integer_value(json_object_get(o, "sequence")), 123456789012LL);
    json_decref(o);
    tp_batch b;
    tp_batch_init(&b);
    tp_msg_info info;
    char err[256] = "";
    if (F->parse(buf, (size_t)n, &b, &info, err, sizeof err)) fail_msg("%s: %s", buf, err);
    assert_int_equal(info.ntrades, 1);
    assert_int_equal(info.snapshot, last);
    const tp_trade *r = &b.trades[0];
    char want[64];
    snprintf(want, sizeof want, "%s%s", strncmp(sym, "COINBASE:", 9) ? "COINBASE:" : "", sym);
    assert_int_equal(r->symbol.len, strlen(want));
    assert_memory_equal(r->symbol.ptr, want, r->symbol.len);
    assert_memory_equal(&r->price, &price, sizeof price); /* bit for bit */
    assert_memory_equal(&r->volume, &size, sizeof size);
    assert_int_equal(r->ts_ms, ms);
    assert_int_equal(r->trade_id, id);
    for (size_t cap = 0; cap <= (size_t)n; cap++) {
        char small[1024];
        assert_int_equal(tp_coinbase_match_json(&t, 123456789012LL, last, small, cap), -1);
    }
    tp_batch_free(&b);
}

static void test_writers(void **state) {
    (void)state;
    round_trip("COINBASE:BTC-USD", 400.23, 5.23512, DOC_MATCH_MS, 10, 0);
    round_trip("COINBASE:BTC-USD", 63983.99, 0.00000015, 1782030435506LL, 1040839665, 1);
    round_trip("ETH-USD", 0.1 + 0.2, 0, 1, 1, 0);
    round_trip("COINBASE:X-Y", 1e-30, 123456789.123456789, 253402300799999LL, INT64_MAX, 0);
    round_trip("COINBASE:SHIB-USD", 0.00001234, 9.999999999999999e38, -62135596800000LL, 7, 1);
    tp_trade t = {0};
    t.symbol.ptr = "COINBASE:BTC-USD";
    t.symbol.len = 16;
    t.price = 1;
    t.trade_id = 0; /* no venue id: cannot be a Coinbase match */
    char buf[512];
    assert_int_equal(tp_coinbase_match_json(&t, 1, 0, buf, sizeof buf), -1);
    t.trade_id = 1;
    t.price = -1;
    assert_int_equal(tp_coinbase_match_json(&t, 1, 0, buf, sizeof buf), -1);

    int n = tp_coinbase_heartbeat_json("COINBASE:BTC-USD", 90, 20, 1415348368464LL, buf, sizeof buf);
    assert_true(n > 0);
    assert_string_equal(
        buf, "{\"type\":\"heartbeat\",\"sequence\":90,\"last_trade_id\":20,\"product_id\":\"BTC-USD\","
             "\"time\":\"2014-11-07T08:19:28.464000Z\"}");
    kind(buf, TP_MSG_HEARTBEAT, NULL);
    const char *p[] = {"COINBASE:BTC-USD", "ETH-EUR"};
    n = tp_coinbase_subscriptions_json(p, 2, buf, sizeof buf);
    assert_true(n > 0);
    assert_string_equal(buf,
                        "{\"type\":\"subscriptions\",\"channels\":[{\"name\":\"matches\",\"product_ids\":"
                        "[\"BTC-USD\",\"ETH-EUR\"]},{\"name\":\"heartbeat\",\"product_ids\":[\"BTC-USD\","
                        "\"ETH-EUR\"]}]}");
    kind(buf, TP_MSG_CONTROL, "subscriptions");
}

static void test_decimal(void **state) {
    (void)state;
    double v;
    assert_int_equal(tp_decimal_str_to_double("400.23", 6, &v), 0);
    assert_true(v == 400.23);
    assert_int_equal(tp_decimal_str_to_double("0.00000015", 10, &v), 0);
    assert_true(v == 1.5e-7);
    assert_int_equal(tp_decimal_str_to_double("007", 3, &v), 0);
    assert_true(v == 7);
    char out[80];
    assert_int_equal(tp_double_to_decimal_str(1.5e-7, out, sizeof out), 10);
    assert_string_equal(out, "0.00000015");
    assert_int_equal(tp_double_to_decimal_str(400.23, out, sizeof out), 6);
    assert_string_equal(out, "400.23");
    assert_int_equal(tp_double_to_decimal_str(-1, out, sizeof out), -1);
    assert_int_equal(tp_double_to_decimal_str(1e40, out, sizeof out), -1);
}

/* The simulator's personality (src/sim/coinbase.c): the documentation's
 * subscribe message is answered by a `subscriptions` message and hands on
 * the products; a bad one gets an error and hands on none; its match,
 * last_match and heartbeat messages parse, with this feed's parser, into
 * exactly the market's trade. */
static char subs[4][64];
static int nsubs_seen;
static void on_sub(void *ud, int subscribe, const char *name) {
    (void)ud;
    assert_int_equal(subscribe, 1);
    assert_true(nsubs_seen < 4);
    snprintf(subs[nsubs_seen++], sizeof subs[0], "%s", name);
}

static void parse_ok(const char *msg, size_t len, tp_batch *b, tp_msg_info *info) {
    char err[256] = "";
    if (F->parse(msg, len, b, info, err, sizeof err)) fail_msg("%.*s: %s", (int)len, msg, err);
}

static void test_sim_personality(void **state) {
    (void)state;
    const tp_sim_personality *p = tp_sim_personality_find("coinbase");
    assert_non_null(p);
    assert_non_null(p->client_msg);
    assert_true(p->subscribe_deadline_s == 5 && p->heartbeat_s == 1 && p->recent_max == 1);
    char out[65536];
    tp_batch b;
    tp_batch_init(&b);
    tp_msg_info info;
    static const char sub[] =
        "{\"type\":\"subscribe\",\"product_ids\":[\"ETH-USD\",\"BTC-USD\"],\"channels\":[\"matches\","
        "{\"name\":\"heartbeat\"}]}";
    nsubs_seen = 0;
    size_t n = p->client_msg(sub, sizeof sub - 1, on_sub, NULL, out, sizeof out);
    assert_int_equal(nsubs_seen, 2);
    assert_string_equal(subs[0], "COINBASE:ETH-USD");
    assert_string_equal(subs[1], "COINBASE:BTC-USD");
    assert_string_equal(out,
                        "{\"type\":\"subscriptions\",\"channels\":[{\"name\":\"matches\",\"product_ids\":["
                        "\"ETH-USD\",\"BTC-USD\"]},{\"name\":\"heartbeat\",\"product_ids\":[\"ETH-USD\","
                        "\"BTC-USD\"]}]}");
    parse_ok(out, n, &b, &info);
    assert_int_equal(info.type, TP_MSG_CONTROL);
    static const char *const bad[] = {
        "not json",
        "{\"type\":\"subscribe\",\"product_ids\":[\"BTC-USD\",\"btc/usd\"],\"channels\":[\"matches\"]}",
        "{\"type\":\"subscribe\",\"product_ids\":[\"BTC-USD\"],\"channels\":[\"level2\"]}",
        "{\"type\":\"subscribe\",\"product_ids\":[],\"channels\":[\"matches\"]}",
        "{\"type\":\"hello\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        nsubs_seen = 0;
        n = p->client_msg(bad[i], strlen(bad[i]), on_sub, NULL, out, sizeof out);
        assert_int_equal(nsubs_seen, 0);
        tp_batch_reset(&b);
        parse_ok(out, n, &b, &info);
        assert_int_equal(info.type, TP_MSG_ERROR);
        assert_non_null(strstr(info.text.ptr, "Failed to subscribe: "));
    }
    /* a trade as the market writes it */
    static const char obj[] =
        "{\"c\":null,\"p\":60512.31,\"s\":\"COINBASE:BTC-USD\",\"t\":1796659365544,\"v\":0.0042}";
    n = p->trade_msg(obj, sizeof obj - 1, 41, out);
    assert_true(n > 0 && n <= sizeof obj - 1 + 400);
    tp_batch_reset(&b);
    parse_ok(out, n, &b, &info);
    assert_int_equal(info.type, TP_MSG_TRADE);
    assert_int_equal(info.snapshot, 0);
    assert_int_equal(b.n, 1);
    assert_string_equal(b.trades[0].symbol.ptr, "COINBASE:BTC-USD");
    assert_true(b.trades[0].price == 60512.31 && b.trades[0].volume == 0.0042);
    assert_int_equal(b.trades[0].ts_ms, 1796659365544);
    assert_int_equal(b.trades[0].trade_id, 41);
    json_error_t je;
    json_t *o = json_loadb(out, n, 0, &je);
    assert_non_null(o);
    assert_int_equal(json_integer_value(json_object_get(o, "sequence")), 50000000041);
    json_decref(o);
    /* the latest trade sent again as last_match, marked a snapshot */
    tp_trade t = b.trades[0];
    n = p->recent_msg(&t, 1, out, sizeof out);
    assert_true(n > 0);
    assert_non_null(strstr(out, "\"type\":\"last_match\""));
    tp_batch_reset(&b);
    parse_ok(out, n, &b, &info);
    assert_true(info.type == TP_MSG_TRADE && info.snapshot == 1 && b.n == 1 && b.trades[0].trade_id == 41);
    assert_int_equal(p->recent_msg(&t, 0, out, sizeof out), 0); /* not traded yet: none */
    n = p->heartbeat_msg("COINBASE:BTC-USD", 41, 1796659365544, out, sizeof out);
    assert_string_equal(
        out, "{\"type\":\"heartbeat\",\"sequence\":50000000041,\"last_trade_id\":41,\"product_id\":"
             "\"BTC-USD\",\"time\":\"2026-12-07T16:02:45.544000Z\"}");
    tp_batch_reset(&b);
    parse_ok(out, n, &b, &info);
    assert_int_equal(info.type, TP_MSG_HEARTBEAT);
    tp_batch_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_doc_match),
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_error_words),
        cmocka_unit_test(test_time),
        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_subscribe),
        cmocka_unit_test(test_ops),
        cmocka_unit_test(test_writers),
        cmocka_unit_test(test_decimal),
        cmocka_unit_test(test_sim_personality),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
