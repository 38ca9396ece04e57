/* test_binance.c - the Binance spot feed (feed/binance.c): the trade event
 * and the combined-stream wrapper of the venue's documentation, parsed to
 * exact values; the subscription answer and error answers; malformed
 * messages rejected with the batch left as it was; symbols put in the
 * stored form; SUBSCRIBE messages read back by jansson. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/err.h"
#include "feed/feed.h"

#include <jansson.h>
#include <string.h>

/* The trade stream's payload as the documentation shows it
 * (developers.binance.com, WebSocket Streams, "Trade Streams"). */
#define DOC_TRADE                                                                                            \
    "{\"e\":\"trade\",\"E\":1672515782136,\"s\":\"BNBBTC\",\"t\":12345,\"p\":\"0.001\",\"q\":\"100\","       \
    "\"T\":1672515782136,\"m\":true,\"M\":true}"

static const tp_feed_ops *binance(void) {
    const tp_feed_ops *f = tp_feed_find("binance");
    assert_non_null(f);
    return f;
}

static int parse(const char *msg, tp_batch *b, tp_msg_info *info, char *err, size_t errlen) {
    return binance()->parse(msg, strlen(msg), b, info, err, errlen);
}

static void check_doc_trade(const tp_trade *t) {
    assert_int_equal(t->symbol.len, strlen("BINANCE:BNBBTC"));
    assert_memory_equal(t->symbol.ptr, "BINANCE:BNBBTC", t->symbol.len);
    assert_true(t->price == 0.001);
    assert_true(t->volume == 100.0);
    assert_int_equal(t->ts_ms, 1672515782136LL);
    assert_int_equal(t->trade_id, 12345);
    assert_int_equal(t->ncond, TP_COND_NULL);
}

static void test_trade(void **state) {
    (void)state;
    tp_batch b;
    tp_batch_init(&b);
    tp_msg_info info;
    char err[256];
    assert_int_equal(parse(DOC_TRADE, &b, &info, err, sizeof err), 0);
    assert_int_equal(info.type, TP_MSG_TRADE);
    assert_int_equal(info.ntrades, 1);
    assert_int_equal(b.n, 1);
    check_doc_trade(&b.trades[0]);
    /* the combined stream's wrapper */
    tp_batch_reset(&b);
    assert_int_equal(
        parse("{\"stream\":\"bnbbtc@trade\",\"data\":" DOC_TRADE "}", &b, &info, err, sizeof err), 0);
    assert_int_equal(info.type, TP_MSG_TRADE);
    assert_int_equal(b.n, 1);
    check_doc_trade(&b.trades[0]);
    /* trade time T, not event time E; prices as the venue writes them */
    tp_batch_reset(&b);
    const char *m =
        "{\"e\":\"trade\",\"E\":1700000000999,\"s\":\"BTCUSDT\",\"t\":3300000001,"
        "\"p\":\"37123.45000000\",\"q\":\"0.00012000\",\"T\":1700000000998,\"m\":false,\"M\":true}";
    assert_int_equal(parse(m, &b, &info, err, sizeof err), 0);
    assert_int_equal(b.trades[0].ts_ms, 1700000000998LL);
    assert_int_equal(b.trades[0].trade_id, 3300000001LL);
    assert_true(b.trades[0].price == 37123.45);
    assert_true(b.trades[0].volume == 0.00012);
    assert_memory_equal(b.trades[0].symbol.ptr, "BINANCE:BTCUSDT", 15);
    tp_batch_free(&b);
}

static void test_control_and_errors(void **state) {
    (void)state;
    tp_batch b;
    tp_batch_init(&b);
    tp_msg_info info;
    char err[256];
    assert_int_equal(parse("{\"result\":null,\"id\":1}", &b, &info, err, sizeof err), 0);
    assert_int_equal(info.type, TP_MSG_CONTROL);
    assert_int_equal(b.n, 0);
    /* error answers, as documented ("Error Messages") and the older nesting */
    assert_int_equal(parse("{\"code\":0,\"msg\":\"Unknown property\",\"id\":1}", &b, &info, err, sizeof err),
                     0);
    assert_int_equal(info.type, TP_MSG_ERROR);
    assert_string_equal(info.text.ptr, "Unknown property (code 0)");
    assert_int_equal(info.text.len, strlen("Unknown property (code 0)"));
    assert_int_equal(parse("{\"error\":{\"code\":2,\"msg\":\"Invalid request: unknown variant\"},\"id\":3}",
                           &b, &info, err, sizeof err),
                     0);
    assert_int_equal(info.type, TP_MSG_ERROR);
    assert_string_equal(info.text.ptr, "Invalid request: unknown variant (code 2)");
    assert_int_equal(parse("{\"e\":\"aggTrade\",\"s\":\"BNBBTC\"}", &b, &info, err, sizeof err), 0);
    assert_int_equal(info.type, TP_MSG_UNKNOWN);
    assert_string_equal(info.text.ptr, "aggTrade");
    assert_int_equal(parse("{\"e\":\"serverShutdown\",\"E\":1}", &b, &info, err, sizeof err), 0);
    assert_int_equal(info.type, TP_MSG_CONTROL);
    assert_int_equal(b.n, 0);
    tp_batch_free(&b);
}

static void test_malformed(void **state) {
    (void)state;
    static const char *const bad[] = {
        "", "not json", "[1,2]", "{\"e\":5}", "{\"stream\":\"x\",\"data\":[1]}",
        /* each field of a trade wrong in turn */
        "{\"e\":\"trade\",\"s\":\"BNBBTC\",\"t\":12345,\"p\":\"0.001\",\"q\":\"100\"}",             /* no T */
        "{\"e\":\"trade\",\"s\":\"BNBBTC\",\"t\":\"12345\",\"p\":\"0.001\",\"q\":\"100\",\"T\":1}", /* t str
                                                                                                     */
        "{\"e\":\"trade\",\"s\":\"BNBBTC\",\"t\":0,\"p\":\"0.001\",\"q\":\"100\",\"T\":1}",         /* t 0 */
        "{\"e\":\"trade\",\"s\":\"BNBBTC\",\"t\":-4,\"p\":\"0.001\",\"q\":\"100\",\"T\":1}",  /* t < 0 */
        "{\"e\":\"trade\",\"s\":\"BNBBTC\",\"t\":1,\"p\":0.001,\"q\":\"100\",\"T\":1}",       /* p num */
        "{\"e\":\"trade\",\"s\":\"BNBBTC\",\"t\":1,\"p\":\"nan\",\"q\":\"100\",\"T\":1}",     /* p nan */
        "{\"e\":\"trade\",\"s\":\"BNBBTC\",\"t\":1,\"p\":\"inf\",\"q\":\"100\",\"T\":1}",     /* p inf */
        "{\"e\":\"trade\",\"s\":\"BNBBTC\",\"t\":1,\"p\":\"1e400\",\"q\":\"100\",\"T\":1}",   /* p exp */
        "{\"e\":\"trade\",\"s\":\"BNBBTC\",\"t\":1,\"p\":\"1.\",\"q\":\"100\",\"T\":1}",      /* p 1. */
        "{\"e\":\"trade\",\"s\":\"BNBBTC\",\"t\":1,\"p\":\".5\",\"q\":\"100\",\"T\":1}",      /* p .5 */
        "{\"e\":\"trade\",\"s\":\"BNBBTC\",\"t\":1,\"p\":\"-1\",\"q\":\"100\",\"T\":1}",      /* p -1 */
        "{\"e\":\"trade\",\"s\":\"BNBBTC\",\"t\":1,\"p\":\"1.5x\",\"q\":\"100\",\"T\":1}",    /* p junk */
        "{\"e\":\"trade\",\"s\":\"BNBBTC\",\"t\":1,\"p\":\"\",\"q\":\"100\",\"T\":1}",        /* p "" */
        "{\"e\":\"trade\",\"s\":\"BNBBTC\",\"t\":1,\"p\":\"1\",\"q\":\"1 \",\"T\":1}",        /* q sp */
        "{\"e\":\"trade\",\"s\":\"BNB-BTC\",\"t\":1,\"p\":\"1\",\"q\":\"1\",\"T\":1}",        /* s '-' */
        "{\"e\":\"trade\",\"s\":\"\",\"t\":1,\"p\":\"1\",\"q\":\"1\",\"T\":1}",               /* s "" */
        "{\"e\":\"trade\",\"t\":1,\"p\":\"1\",\"q\":\"1\",\"T\":1}",                          /* no s */
        "{\"e\":\"trade\",\"s\":\"B\\u0000C\",\"t\":1,\"p\":\"1\",\"q\":\"1\",\"T\":1}",      /* NUL */
        "{\"e\":\"trade\",\"s\":\"BNBBTC\",\"t\":1,\"t\":2,\"p\":\"1\",\"q\":\"1\",\"T\":1}", /* dup */
        "{\"e\":\"trade\",\"s\":\"BNBBTC\",\"t\":1,\"p\":\"1\",\"q\":\"1\",\"T\":1.5}",       /* T real */
    };
    tp_batch b;
    tp_batch_init(&b);
    tp_msg_info info;
    char err[256];
    /* a trade already in the batch stays, alone */
    assert_int_equal(parse(DOC_TRADE, &b, &info, err, sizeof err), 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        if (parse(bad[i], &b, &info, err, sizeof err) == 0) fail_msg("accepted: %s", bad[i]);
        assert_true(err[0] != '\0');
        assert_int_equal(b.n, 1);
    }
    check_doc_trade(&b.trades[0]);
    tp_batch_free(&b);
}

static void test_symbols(void **state) {
    (void)state;
    const tp_feed_ops *f = binance();
    assert_int_equal(f->needs_token, 0);
    assert_string_equal(f->sym_prefix, "BINANCE:");
    char out[64], err[256];
    static const char *const same[] = {"btcusdt", "BTCUSDT", "BINANCE:BTCUSDT", "binance:btcUSDT"};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(f->normalize_symbol(same[i], out, sizeof out, err, sizeof err), 0);
        assert_string_equal(out, "BINANCE:BTCUSDT");
    }
    static const char *const bad[] = {
        "", "BTC-USD", "BINANCE:", "btc usdt", "COINBASE:BTC-USD", "btcusdt@trade"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(f->normalize_symbol(bad[i], out, sizeof out, err, sizeof err), TP_EINVAL);
        assert_non_null(strstr(err, "not a Binance symbol"));
    }
    /* SUBSCRIBE with the streams in the venue's lower case, read back by jansson */
    const char *syms[] = {"BINANCE:BTCUSDT", "BINANCE:ETHUSDT"};
    char msg[256];
    int n = f->subscribe_many(syms, 2, 1, msg, sizeof msg);
    assert_true(n > 0);
    assert_int_equal((size_t)n, strlen(msg));
    json_error_t je;
    json_t *o = json_loadb(msg, (size_t)n, 0, &je);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "method")), "SUBSCRIBE");
    json_t *p = json_object_get(o, "params");
    assert_int_equal(json_array_size(p), 2);
    assert_string_equal(json_string_value(json_array_get(p, 0)), "btcusdt@trade");
    assert_string_equal(json_string_value(json_array_get(p, 1)), "ethusdt@trade");
    assert_true(json_is_integer(json_object_get(o, "id")));
    json_decref(o);
    n = f->subscribe_msg("BINANCE:BNBBTC", 0, msg, sizeof msg);
    assert_string_equal(msg, "{\"method\":\"UNSUBSCRIBE\",\"params\":[\"bnbbtc@trade\"],\"id\":2}");
    assert_int_equal(n, (int)strlen(msg));
    char small[40];
    assert_int_equal(f->subscribe_many(syms, 2, 1, small, sizeof small), -1); /* no half message */
    /* the path as given: no token */
    assert_int_equal(f->connect_path("ws", "tok", out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "/ws");
    assert_int_equal(f->classify("Invalid API key", 15), TP_FEED_REASON_OTHER);
    assert_int_equal(f->max_msgs_per_s, 5);
    assert_int_equal(f->lifetime_ms, 24LL * 3600 * 1000);
    assert_non_null(strstr(tp_feed_names(), "binance"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trade),
        cmocka_unit_test(test_control_and_errors),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_symbols),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
