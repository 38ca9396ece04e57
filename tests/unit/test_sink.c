/* test_sink.c - the store table: every entry generated from
 * cmake/stores.cmake is well formed (scheme, every writer operation, a
 * reader that is whole or absent), schemes are unique, the help text lists
 * exactly the table, the registration check refuses broken entries, and a
 * write-only store is refused where reading is needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/err.h"
#include "sink/sink.h"

#include <stdio.h>
#include <string.h>

static void test_table(void **state) {
    (void)state;
    size_t n;
    const tp_sink_ops *const *t = tp_sink_table(&n);
    assert_true(n >= 1);
    char err[256], expect[512] = "";
    size_t o = 0, readers = 0;
    for (size_t i = 0; i < n; i++) {
        if (tp_sink_check_ops(t[i], err, sizeof err)) fail_msg("store %zu: %s", i, err);
        readers += t[i]->reader != NULL;
        o += (size_t)snprintf(expect + o, sizeof expect - o, "%s%s:", i ? ", " : "", t[i]->scheme);
        for (size_t j = 0; j < i; j++) {
            const char *a[] = {t[i]->scheme, t[i]->alias}, *b[] = {t[j]->scheme, t[j]->alias};
            for (int x = 0; x < 2; x++)
                for (int y = 0; y < 2; y++)
                    if (a[x] && b[y] && !strcmp(a[x], b[y])) fail_msg("scheme '%s' registered twice", a[x]);
        }
        /* every scheme resolves to its own entry */
        char url[64];
        snprintf(url, sizeof url, "%s:x", t[i]->scheme);
        assert_int_equal(tp_sink_check_url(url, err, sizeof err), 0);
        assert_int_equal(tp_sink_check_reader_url(url, err, sizeof err), t[i]->reader ? 0 : TP_EINVAL);
        if (t[i]->alias) { /* "postgres:" for postgresql */
            snprintf(url, sizeof url, "%s:x", t[i]->alias);
            assert_int_equal(tp_sink_check_url(url, err, sizeof err), 0);
        }
    }
    assert_true(readers >= 1); /* serve needs one */
    assert_string_equal(tp_sink_schemes(), expect);
    /* the default store comes first */
    assert_string_equal(t[0]->scheme, "sqlite");
}

static int w_open(const char *url, void **st, char *err, size_t errlen) {
    (void)url, (void)err, (void)errlen;
    *st = NULL;
    return 0;
}
static int w_trades(void *st, const tp_trade *t, size_t n, int64_t ms, char *err, size_t errlen) {
    (void)st, (void)t, (void)n, (void)ms, (void)err, (void)errlen;
    return 0;
}
static int w_avgs(void *st, const tp_average *a, size_t n, char *err, size_t errlen) {
    (void)st, (void)a, (void)n, (void)err, (void)errlen;
    return 0;
}
static int w_cands(void *st, const tp_candle *c, size_t n, char *err, size_t errlen) {
    (void)st, (void)c, (void)n, (void)err, (void)errlen;
    return 0;
}
static int w_commit(void *st, char *err, size_t errlen) {
    (void)st, (void)err, (void)errlen;
    return 0;
}
static void w_close(void *st) {
    (void)st;
}
static int r_symbols(void *st, tp_symbol_row_fn fn, void *ud, char *err, size_t errlen) {
    (void)st, (void)fn, (void)ud, (void)err, (void)errlen;
    return 0;
}

static void expect_bad(const tp_sink_ops *o, const char *text) {
    char err[256] = "";
    assert_int_equal(tp_sink_check_ops(o, err, sizeof err), TP_EINVAL);
    if (!strstr(err, text)) fail_msg("error '%s' lacks '%s'", err, text);
}

static void test_check_ops(void **state) {
    (void)state;
    tp_sink_ops w = {.scheme = "wonly",
                     .open = w_open,
                     .write_trades = w_trades,
                     .write_averages = w_avgs,
                     .write_candles = w_cands,
                     .commit = w_commit,
                     .close = w_close};
    char err[256];
    assert_int_equal(tp_sink_check_ops(&w, err, sizeof err), 0); /* write-only is fine */

    tp_sink_ops b = w;
    b.commit = NULL;
    expect_bad(&b, "lacks the writer operation commit");
    b = w;
    b.open = NULL;
    expect_bad(&b, "open");
    b = w;
    b.scheme = "Bad Scheme";
    expect_bad(&b, "scheme");
    b = w;
    b.scheme = NULL;
    expect_bad(&b, "scheme");
    b = w;
    b.alias = "";
    expect_bad(&b, "scheme");
    tp_sink_reader_ops half = {.query_symbols = r_symbols};
    b = w;
    b.reader = &half;
    expect_bad(&b, "lacks query_trades (give all four, or none)");
    expect_bad(NULL, "NULL");
}

static void test_write_only(void **state) {
    (void)state;
    char err[512];
    /* null: is the write-only store */
    assert_int_equal(tp_sink_check_url("null:", err, sizeof err), 0);
    assert_int_equal(tp_sink_check_reader_url("null:", err, sizeof err), TP_EINVAL);
    assert_non_null(strstr(err, "write-only"));
    assert_non_null(strstr(err, "sqlite:")); /* names the stores that can be read */
    assert_null(strstr(err, "null:"));
    tp_sink *s;
    assert_int_equal(tp_sink_open("null:", &s, err, sizeof err), 0);
    assert_int_equal(tp_sink_can_read(s), 0);
    assert_int_equal(tp_sink_query_symbols(s, NULL, NULL, err, sizeof err), TP_ESTATE);
    assert_non_null(strstr(err, "write-only"));
    tp_query q = {.symbol = "A", .limit = 1, .interval_s = 60};
    assert_int_equal(tp_sink_query_trades(s, &q, NULL, NULL, err, sizeof err), TP_ESTATE);
    assert_int_equal(tp_sink_query_candles(s, &q, NULL, NULL, err, sizeof err), TP_ESTATE);
    assert_int_equal(tp_sink_query_averages(s, &q, NULL, NULL, err, sizeof err), TP_ESTATE);
    tp_sink_close(s);

    assert_int_equal(tp_sink_open("sqlite::memory:", &s, err, sizeof err), 0);
    assert_int_equal(tp_sink_can_read(s), 1);
    tp_sink_close(s);
}

static void test_unknown(void **state) {
    (void)state;
    char err[512];
    assert_int_equal(tp_sink_check_url("mongodb://u:secret@h/db", err, sizeof err), TP_EINVAL);
    assert_non_null(strstr(err, tp_sink_schemes()));
    assert_null(strstr(err, "secret"));
    assert_int_equal(tp_sink_check_url("", err, sizeof err), TP_EINVAL);
    assert_non_null(strstr(err, tp_sink_schemes()));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_check_ops),
        cmocka_unit_test(test_write_only),
        cmocka_unit_test(test_unknown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
