/* test_feed.c - the feed table (feed/feed.h) and its Finnhub entry: the
 * subscribe messages (JSON-escaped, checked by jansson), the request path
 * with the token percent-encoded, error classification, lookup by name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/err.h"
#include "feed/feed.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static void test_subscribe_msg(void **state) {
    (void)state;
    const tp_feed_ops *f = &tp_feed_finnhub;
    const char *syms[] = {"AAPL", "BINANCE:BTCUSDT", "we\"ird\\sym", "ctl\x01\x1f"};
    for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
        for (int sub = 0; sub <= 1; sub++) {
            char buf[256];
            int n = f->subscribe_msg(syms[i], sub, buf, sizeof buf);
            assert_true(n > 0);
            assert_int_equal((size_t)n, strlen(buf));
            json_error_t je;
            json_t *o = json_loadb(buf, (size_t)n, 0, &je); /* an independent JSON parser reads it back */
            assert_non_null(o);
            assert_string_equal(json_string_value(json_object_get(o, "type")),
                                sub ? "subscribe" : "unsubscribe");
            assert_string_equal(json_string_value(json_object_get(o, "symbol")), syms[i]);
            json_decref(o);
        }
    }
    char small[24];
    assert_int_equal(f->subscribe_msg("AAPL", 1, small, sizeof small),
                     -1); /* does not fit: no half message */
}

static void test_connect_path(void **state) {
    (void)state;
    const tp_feed_ops *f = &tp_feed_finnhub;
    char out[256], err[128];
    assert_int_equal(f->connect_path("", "abc", out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "/?token=abc");
    assert_int_equal(f->connect_path("ws?x=1", "a b&c/é", out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "/ws?x=1&token=a%20b%26c%2F%C3%A9");
    assert_int_equal(f->connect_path("p", NULL, out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "/p");
    char tiny[8];
    assert_int_equal(f->connect_path("", "longtoken", tiny, sizeof tiny, err, sizeof err), TP_EINVAL);
}

static void test_classify_and_find(void **state) {
    (void)state;
    const tp_feed_ops *f = tp_feed_find("finnhub");
    assert_ptr_equal(f, &tp_feed_finnhub);
    assert_null(tp_feed_find("nosuch"));
    assert_null(tp_feed_find(NULL));
    const char *in_use = "API key in use by another connection";
    assert_int_equal(f->classify(in_use, strlen(in_use)), TP_FEED_REASON_KEY_IN_USE);
    assert_int_equal(f->classify("Invalid API key", 15), TP_FEED_REASON_BAD_TOKEN);
    assert_int_equal(f->classify("rate limit", 10), TP_FEED_REASON_OTHER);
    assert_non_null(strstr(f->reason_words(TP_FEED_REASON_KEY_IN_USE), "one connection per key"));
    assert_null(f->reason_words(TP_FEED_REASON_OTHER));
    assert_non_null(strstr(tp_feed_names(), "finnhub"));
    /* the names come from the table (cmake/feeds.cmake): each one is found,
     * and the first is the default */
    char names[256];
    snprintf(names, sizeof names, "%s", tp_feed_names());
    int n = 0;
    for (char *save = NULL, *t = strtok_r(names, ", ", &save); t; t = strtok_r(NULL, ", ", &save), n++) {
        assert_non_null(tp_feed_find(t));
        assert_string_equal(tp_feed_find(t)->name, t);
        if (n == 0) assert_ptr_equal(tp_feed_default(), tp_feed_find(t));
    }
    assert_true(n >= 1);
    assert_ptr_equal(tp_feed_default(), &tp_feed_finnhub);
    tp_batch b;
    tp_batch_init(&b);
    tp_msg_info info;
    char err[128];
    const char *msg = "{\"data\":[{\"p\":1.5,\"s\":\"AAPL\",\"t\":1,\"v\":2}],\"type\":\"trade\"}";
    assert_int_equal(f->parse(msg, strlen(msg), &b, &info, err, sizeof err), 0);
    assert_int_equal(info.type, TP_MSG_TRADE);
    assert_int_equal(b.n, 1);
    tp_batch_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_subscribe_msg),
        cmocka_unit_test(test_connect_path),
        cmocka_unit_test(test_classify_and_find),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
