/* test_source_group.c - how many connections a symbol list needs
 * (tp_source_plan, feed/source_group.h), and that too few tokens is an
 * error naming the fix; and that tp_source_new builds a group only when
 * more than one connection is needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/err.h"
#include "feed/source_group.h"

#include <string.h>

static void test_plan(void **state) {
    (void)state;
    char err[512];
    size_t n = 0;
    assert_int_equal(tp_source_plan(150, 3, 50, &n, err, sizeof err), 0);
    assert_int_equal(n, 3);
    assert_int_equal(tp_source_plan(10, 3, 50, &n, err, sizeof err), 0);
    assert_int_equal(n, 1); /* as many connections as needed, not as tokens */
    assert_int_equal(tp_source_plan(51, 2, 50, &n, err, sizeof err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(tp_source_plan(50, 0, 50, &n, err, sizeof err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(tp_source_plan(5000, 1, 0, &n, err, sizeof err), 0); /* no limit */
    assert_int_equal(n, 1);
    assert_int_equal(tp_source_plan(151, 3, 50, &n, err, sizeof err), TP_EINVAL);
    assert_non_null(strstr(err, "151 symbols need 4 connections"));
    assert_non_null(strstr(err, "3 tokens were given"));
    assert_int_equal(tp_source_plan(51, 0, 50, &n, err, sizeof err), TP_EINVAL);
    assert_non_null(strstr(err, "FINNHUB_API_TOKENS"));
}

static void test_needed(void **state) {
    (void)state;
    static const char *const syms[] = {"A", "B", "C"};
    static const char *const toks[] = {"t1", "t2"};
    tp_source_config c;
    tp_source_config_default(&c);
    c.symbols = syms;
    c.nsymbols = 3;
    c.token = "t1";
    assert_false(tp_source_group_needed(&c));
    c.tokens = toks;
    c.ntokens = 2;
    c.max_symbols_per_connection = 50;
    assert_false(tp_source_group_needed(&c)); /* one connection does */
    c.max_symbols_per_connection = 2;
    assert_true(tp_source_group_needed(&c));
    c.replay_path = "x.tprec"; /* a recording is one stream */
    assert_false(tp_source_group_needed(&c));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan),
        cmocka_unit_test(test_needed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
