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
    /* a raw '/' in the password: masked up to the '@' all the same */
    tp_log_redact("postgresql://tp:S3cr/3tPw@host/db", out, sizeof out);
    assert_string_equal(out, "postgresql://tp:***@host/db");
    /* a mangled password= parameter */
    tp_log_redact("clickhouse://h/db?user=u&password%3DS3cr3t&x=1", out, sizeof out);
    assert_string_equal(out, "clickhouse://h/db?user=u&password***&x=1");
    tp_log_redact("postgresql:tp:S3cr3t@host/db", out, sizeof out);
    assert_string_equal(out, "postgresql:tp:***@host/db");
}

static void test_scrub(void **state) {
    (void)state;
    char t[256];
    /* libpq's parse error quotes the URL */
    snprintf(t, sizeof t, "invalid: \"postgresql://tp:S3cr3tPw@[::1:5432/db\"");
    tp_log_scrub("postgresql://tp:S3cr3tPw@[::1:5432/db", t, sizeof t);
    assert_string_equal(t, "invalid: \"postgresql://tp:***@[::1:5432/db\"");
    /* as written, decoded and encoded again (both hex cases) */
    snprintf(t, sizeof t, "a S3cr3t%%50w b S3cr3tPw c p@ss d p%%40ss e p%%40ss");
    tp_log_scrub("clickhouse://u:S3cr3t%50w@h/db", t, sizeof t);
    assert_string_equal(t, "a *** b *** c p@ss d p%40ss e p%40ss");
    snprintf(t, sizeof t, "x p@ss:w y p%%40ss%%3aw z");
    tp_log_scrub("clickhouse://u:p%40ss%3Aw@h/db", t, sizeof t);
    assert_string_equal(t, "x *** y *** z");
    /* ?password= and token=, and a mangled one */
    snprintf(t, sizeof t, "bad value 'hunter 2' or hunter+2; TOKEN9");
    tp_log_scrub("cassandra://h/ks?user=u&password=hunter+2&token=TOKEN9", t, sizeof t);
    assert_string_equal(t, "bad value '***' or ***; ***");
    snprintf(t, sizeof t, "unknown 'password%%3DS3cr3t'");
    tp_log_scrub("clickhouse://h/db?password%3DS3cr3t", t, sizeof t);
    assert_string_equal(t, "unknown 'password***'");
    /* libpq reads a raw '@' in the password as its end: both readings */
    snprintf(t, sizeof t, "user tp, password S3cr, host 3tPw@h");
    tp_log_scrub("postgresql://tp:S3cr@3tPw@h/db", t, sizeof t);
    assert_null(strstr(t, "S3cr"));
    /* a short buffer stays terminated; nothing to scrub leaves it alone */
    snprintf(t, 8, "a:b");
    tp_log_scrub("postgresql://u:a@h/db", t, 4);
    assert_string_equal(t, "***");
    /* a short password only where it stands alone */
    snprintf(t, sizeof t, "not a native protocol frame: p, \"p\", u:p@h");
    tp_log_scrub("cassandra://u:p@h/ks", t, sizeof t);
    assert_string_equal(t, "not a native protocol frame: ***, \"***\", u:***@h");
    snprintf(t, sizeof t, "no secret here");
    tp_log_scrub("postgresql://u@h/db", t, sizeof t);
    assert_string_equal(t, "no secret here");
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

/* A scaled gauge renders exactly in its unit (ms -> seconds), a cleared one
 * is left out of /metrics and of tp_metrics_value, and every render has
 * build_info and the process metrics. */
static void test_metrics_scaled_absent(void **state) {
    (void)state;
    tp_gauge *ts = tp_metrics_gauge_scaled("tickpipe_test_timestamp_seconds", "k=\"a\"", "a time", 1000);
    tp_gauge *gone = tp_metrics_gauge_scaled("tickpipe_test_timestamp_seconds", "k=\"b\"", "a time", 1000);
    tp_gauge_set(ts, 1765112345007);
    tp_gauge_clear(gone);
    tp_gauge *neg = tp_metrics_gauge_scaled("tickpipe_test_offset_seconds", NULL, "an offset", 1000);
    tp_gauge_set(neg, -1500);
    double v;
    assert_int_equal(tp_metrics_value("tickpipe_test_timestamp_seconds", NULL, &v), 0);
    assert_true(v > 1765112345.006 && v < 1765112345.008);
    char *text = tp_metrics_render(NULL);
    assert_non_null(text);
    assert_non_null(strstr(text, "tickpipe_test_timestamp_seconds{k=\"a\"} 1765112345.007\n"));
    assert_null(strstr(text, "tickpipe_test_timestamp_seconds{k=\"b\"}"));
    assert_non_null(strstr(text, "tickpipe_test_offset_seconds -1.500\n"));
    assert_non_null(strstr(text, "# TYPE tickpipe_build_info gauge\ntickpipe_build_info{version=\""));
    assert_non_null(strstr(text, "\nprocess_start_time_seconds "));
    assert_non_null(strstr(text, "\nprocess_cpu_seconds_total "));
    assert_non_null(strstr(text, "\nprocess_resident_memory_bytes "));
    assert_non_null(strstr(text, "\nprocess_open_fds "));
    free(text);
    tp_gauge_set(gone, 2000);
    text = tp_metrics_render(NULL);
    assert_non_null(strstr(text, "tickpipe_test_timestamp_seconds{k=\"b\"} 2.000\n"));
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
        cmocka_unit_test(test_batch_reuse),
        cmocka_unit_test(test_copy_trade),
        cmocka_unit_test(test_symbols),
        cmocka_unit_test(test_redact),
        cmocka_unit_test(test_scrub),
        cmocka_unit_test(test_metrics),
        cmocka_unit_test(test_metrics_scaled_absent),
        cmocka_unit_test(test_resolve_order),
        cmocka_unit_test(test_suggest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
