/* test_core.c - batch/arena, symbol lists, redaction, metrics rendering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/config.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/resolve.h"
#include "core/suggest.h"
#include "core/trade.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_batch_reuse(void **state) {
    (void)state;
    tp_batch b;
    tp_batch_init(&b);
    b.arena.block_size = 64; /* force several blocks */
    const char *ptrs[100];
    for (int i = 0; i < 100; i++) {
        tp_trade *t = tp_batch_add(&b);
        assert_non_null(t);
        char sym[32];
        int n = snprintf(sym, sizeof sym, "SYM%d", i);
        ptrs[i] = tp_batch_strdup(&b, sym, (size_t)n);
        t->symbol.ptr = ptrs[i];
        t->symbol.len = (uint32_t)n;
        assert_int_equal(t->ncond, TP_COND_NULL);
    }
    /* earlier pointers stay valid after later blocks were added */
    for (int i = 0; i < 100; i++) {
        char sym[32];
        snprintf(sym, sizeof sym, "SYM%d", i);
        assert_string_equal(ptrs[i], sym);
        assert_ptr_equal(b.trades[i].symbol.ptr, ptrs[i]);
    }
    assert_int_equal(b.n, 100);
    tp_batch_reset(&b);
    assert_int_equal(b.n, 0);
    b.max_trades = 2;
    assert_non_null(tp_batch_add(&b));
    assert_non_null(tp_batch_add(&b));
    assert_null(tp_batch_add(&b));
    tp_batch_free(&b);
}

static void test_copy_trade(void **state) {
    (void)state;
    tp_batch a, b;
    tp_batch_init(&a);
    tp_batch_init(&b);
    tp_str conds[2] = {{"12", 2}, {NULL, 0}};
    tp_trade *t = tp_batch_add(&a);
    t->symbol = (tp_str){"AAPL", 4};
    t->price = 1.5;
    t->ncond = 2;
    t->cond = conds;
    tp_trade *c = tp_batch_copy_trade(&b, t);
    assert_non_null(c);
    assert_true(c->symbol.ptr != t->symbol.ptr);
    assert_memory_equal(c->symbol.ptr, "AAPL", 4);
    assert_int_equal(c->ncond, 2);
    assert_memory_equal(c->cond[0].ptr, "12", 2);
    assert_null(c->cond[1].ptr);
    assert_true(c->price == 1.5);
    tp_batch_free(&a);
    tp_batch_free(&b);
}

static void test_symbols(void **state) {
    (void)state;
    tp_symbols s;
    char err[256];
    assert_int_equal(
        tp_symbols_parse("[\"AAPL\",\"MSFT\",\"BINANCE:BTCUSDT\",\"AAPL\"]", &s, err, sizeof err), 0);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.items[2], "BINANCE:BTCUSDT");
    tp_symbols_free(&s);
    assert_int_equal(tp_symbols_parse(" AAPL , ,MSFT,", &s, err, sizeof err), 0);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.items[0], "AAPL");
    assert_string_equal(s.items[1], "MSFT");
    tp_symbols_free(&s);
    assert_int_not_equal(tp_symbols_parse("[\"AAPL\", 3]", &s, err, sizeof err), 0);
    assert_non_null(strstr(err, "not a string"));
    assert_int_not_equal(tp_symbols_parse("[\"AAPL\"", &s, err, sizeof err), 0);
}

static void test_redact(void **state) {
    (void)state;
    char out[256];
    tp_log_redact("wss://ws.finnhub.io?token=SECRET123&x=1", out, sizeof out);
    assert_string_equal(out, "wss://ws.finnhub.io?token=***&x=1");
    tp_log_redact("postgresql://user:pw@host/db?password=zz", out, sizeof out);
    assert_string_equal(out, "postgresql://user:***@host/db?password=***");
    tp_log_redact("clickhouse://host:8123/db", out, sizeof out);
    assert_string_equal(out, "clickhouse://host:8123/db");
    /* a raw '@' in the password: the userinfo ends at the last '@' */
    tp_log_redact("cassandra://alice:top@secret@127.0.0.1:9042/ks", out, sizeof out);
    assert_string_equal(out, "cassandra://alice:***@127.0.0.1:9042/ks");
    /* an '@' after the path is not userinfo */
    tp_log_redact("cassandra://h:9042/ks?x=a@b", out, sizeof out);
    assert_string_equal(out, "cassandra://h:9042/ks?x=a@b");
}

static void test_metrics(void **state) {
    (void)state;
    tp_counter *c = tp_metrics_counter("tickpipe_test_total", NULL, "a test counter");
    assert_ptr_equal(c, tp_metrics_counter("tickpipe_test_total", NULL, "again"));
    tp_counter *c2 = tp_metrics_counter("tickpipe_test_total", "kind=\"b\"", "a test counter");
    tp_counter_add(c, 3);
    tp_counter_add(c2, 5);
    tp_histogram *h = tp_metrics_histogram("tickpipe_test_seconds", NULL, "latency");
    tp_histogram_observe_us(h, 150);
    tp_histogram_observe_us(h, 2000000);
    size_t len;
    char *text = tp_metrics_render(&len);
    assert_non_null(text);
    assert_non_null(strstr(text, "# TYPE tickpipe_test_total counter\ntickpipe_test_total 3\n"
                                 "tickpipe_test_total{kind=\"b\"} 5\n"));
    assert_non_null(strstr(text, "tickpipe_test_seconds_bucket{le=\"0.0001\"} 0\n"));
    assert_non_null(strstr(text, "tickpipe_test_seconds_bucket{le=\"0.00025\"} 1\n"));
    assert_non_null(strstr(text, "tickpipe_test_seconds_bucket{le=\"+Inf\"} 2\n"));
    assert_non_null(strstr(text, "tickpipe_test_seconds_count 2\n"));
    assert_int_equal(strlen(text), len);
    free(text);
}

/* RFC 8305 section 4: families interleaved from the first address's. */
static void test_resolve_order(void **state) {
    (void)state;
    tp_addr a[5] = {{AF_INET6, "2001:db8::1"},
                    {AF_INET6, "2001:db8::2"},
                    {AF_INET6, "2001:db8::3"},
                    {AF_INET, "192.0.2.1"},
                    {AF_INET, "192.0.2.2"}};
    tp_resolve_interleave(a, 5);
    const char *want[5] = {"2001:db8::1", "192.0.2.1", "2001:db8::2", "192.0.2.2", "2001:db8::3"};
    for (int i = 0; i < 5; i++) assert_string_equal(a[i].text, want[i]);
    /* numeric names resolve to themselves, one address */
    tp_addr r[TP_RESOLVE_MAX];
    char err[256];
    assert_int_equal(tp_resolve("127.0.0.1", r, TP_RESOLVE_MAX, err, sizeof err), 1);
    assert_string_equal(r[0].text, "127.0.0.1");
    assert_int_equal(tp_resolve("::1", r, TP_RESOLVE_MAX, err, sizeof err), 1);
    assert_int_equal(r[0].family, AF_INET6);
    assert_true(tp_resolve("no-such-host.invalid", r, TP_RESOLVE_MAX, err, sizeof err) < 0);
    assert_non_null(strstr(err, "cannot resolve no-such-host.invalid"));
}

static void test_suggest(void **state) {
    (void)state;
    assert_int_equal(tp_edit_distance("http", 4, "http"), 0);
    assert_int_equal(tp_edit_distance("htpp", 4, "http"), 1); /* substitution */
    assert_int_equal(tp_edit_distance("htp", 3, "http"), 1);  /* insertion */
    assert_int_equal(tp_edit_distance("thtp", 4, "http"), 1); /* swap */
    assert_int_equal(tp_edit_distance("sqlit", 5, "sqlite"), 1);
    assert_int_equal(tp_edit_distance("", 0, "abc"), 3);
    const char *flags[] = {"http", "store", "symbols", "no-http"};
    assert_string_equal(tp_suggest("htpp", 4, flags, 4), "http");
    assert_string_equal(tp_suggest("smybols", 7, flags, 4), "symbols");
    assert_string_equal(tp_suggest("STORE", 5, flags, 4), "store");
    assert_null(tp_suggest("frobnicate", 10, flags, 4));
    assert_null(tp_suggest("xy", 2, flags, 4)); /* 2 edits of 2 letters: not a typo */
    const char *schemes[] = {"sqlite", "postgresql", "postgres", "clickhouse"};
    assert_string_equal(tp_suggest("sqlit:x.db", 5, schemes, 4), "sqlite");
    assert_null(tp_suggest("mysql", 5, schemes, 4));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_reuse), cmocka_unit_test(test_copy_trade),
        cmocka_unit_test(test_symbols),     cmocka_unit_test(test_redact),
        cmocka_unit_test(test_metrics),     cmocka_unit_test(test_resolve_order),
        cmocka_unit_test(test_suggest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
