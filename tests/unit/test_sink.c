/* test_sink.c - the store table: every entry generated from
 * cmake/stores.cmake is well formed (scheme, every writer operation, a
 * reader that is whole or absent), schemes are unique, the help text lists
 * exactly the table, the registration check refuses broken entries, and a
 * write-only store is refused where reading is needed. Also the ClickHouse
 * URL parser (libcurl's curl_url) and the hex/percent codec. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/err.h"
#include "core/hex.h"
#include "sink/clickhouse_url.h"
#include "sink/sink.h"
#include "sink/store_forms.h"

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
        snprintf(url, sizeof url, "%s://127.0.0.1/x", t[i]->scheme);
        assert_int_equal(tp_sink_check_url(url, err, sizeof err), 0);
        assert_int_equal(tp_sink_check_reader_url(url, err, sizeof err), t[i]->reader ? 0 : TP_EINVAL);
        if (t[i]->alias) { /* "postgres:" for postgresql */
            snprintf(url, sizeof url, "%s://127.0.0.1/x", t[i]->alias);
            assert_int_equal(tp_sink_check_url(url, err, sizeof err), 0);
        }
    }
    assert_true(readers >= 1); /* serve needs one */
    assert_string_equal(tp_sink_schemes(), expect);
    /* the default store is the first of the build (cmake/stores.cmake),
     * serve's the first that can be read; the generated list of readable
     * stores (WRITE_ONLY in stores.cmake) agrees with the table's readers */
    char want[512];
    snprintf(want, sizeof want, "%s:", t[0]->scheme);
    assert_int_equal(strncmp(TP_STORE_DEFAULT_URL, want, strlen(want)), 0);
    assert_int_equal(tp_sink_check_url(TP_STORE_DEFAULT_URL, err, sizeof err), 0);
    assert_int_equal(tp_sink_check_reader_url(TP_STORE_READER_DEFAULT_URL, err, sizeof err), 0);
    size_t first_reader = 0;
    while (!t[first_reader]->reader) first_reader++;
    snprintf(want, sizeof want, "%s:", t[first_reader]->scheme);
    assert_int_equal(strncmp(TP_STORE_READER_DEFAULT_URL, want, strlen(want)), 0);
    o = 0;
    for (size_t i = 0; i < n; i++)
        if (t[i]->reader)
            o += (size_t)snprintf(want + o, sizeof want - o, "%s%s:", o ? ", " : "", t[i]->scheme);
    assert_string_equal(TP_STORE_READER_SCHEMES, want);
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

static void ch_ok(const char *url, const char *where, const char *db, const char *user, const char *pw) {
    tp_ch_url u;
    char err[256] = "";
    if (tp_clickhouse_parse_url(url, &u, err, sizeof err)) fail_msg("%s: %s", url, err);
    assert_string_equal(u.where, where);
    char base[300];
    snprintf(base, sizeof base, "http://%s/", where);
    assert_string_equal(u.base, base);
    assert_string_equal(u.db, db);
    assert_string_equal(u.user, user);
    assert_string_equal(u.password, pw);
}

static void ch_bad(const char *url, const char *text) {
    tp_ch_url u;
    char err[256] = "";
    assert_int_equal(tp_clickhouse_parse_url(url, &u, err, sizeof err), TP_EINVAL);
    if (!strstr(err, text)) fail_msg("%s: error '%s' lacks '%s'", url, err, text);
    if (strstr(err, "s3cret")) fail_msg("%s: the password is in the error '%s'", url, err);
}

static void test_clickhouse_url(void **state) {
    (void)state;
    ch_ok("clickhouse://h", "h:8123", "default", "default", "");
    ch_ok("clickhouse://h:9000/market", "h:9000", "market", "default", "");
    ch_ok("clickhouse://bob:p%40ss%3Aw@h/db_1", "h:8123", "db_1", "bob", "p@ss:w");
    ch_ok("clickhouse://h/x?user=a+b&password=%26%3D&database=Other_2", "h:8123", "Other_2", "a b", "&=");
    ch_ok("clickhouse://[::1]:8123/", "[::1]:8123", "default", "default", "");
    ch_ok("clickhouse://h/db?&user=u&", "h:8123", "db", "u", "");

    /* the defect: ?database= skipped the name rule and reached CREATE DATABASE */
    const char *rule = "a name is letters, digits and _ only";
    ch_bad("clickhouse://h/ok?database=x%3B%20DROP%20DATABASE%20y", rule);
    ch_bad("clickhouse://h/ok?database=tp_evil+ENGINE+%3D+Memory", rule);
    ch_bad("clickhouse://h/ok?database=", rule);
    ch_bad("clickhouse://h/ok?database=a%60b", rule);
    ch_bad("clickhouse://h/a%20b", rule);
    ch_bad("clickhouse://h/a/b", rule);
    ch_bad("clickhouse://u:s3cret@h/bad-name", rule);
    ch_bad("clickhouse://h/db?database=a%00b", "%00");
    ch_bad("clickhouse://h/db?colour=red", "unknown parameter 'colour'");
    ch_bad("clickhouse://u:s3cret@h:port/db", "ClickHouse store URL");
    ch_bad("clickhouse://", "ClickHouse store URL");
    ch_bad("clickhous://h/db", "must look like");
    char longdb[300] = "clickhouse://h/";
    memset(longdb + strlen(longdb), 'a', 200);
    ch_bad(longdb, "longer than");

    /* the usage check at start runs the same parser */
    char err[256];
    assert_int_equal(tp_sink_check_url("clickhouse://h/ok?database=x;y", err, sizeof err), TP_EINVAL);
    assert_non_null(strstr(err, rule));
    assert_int_equal(tp_sink_check_reader_url("clickhouse://h/ok?database=x;y", err, sizeof err), TP_EINVAL);
    assert_int_equal(tp_sink_check_url("clickhouse://h/ok?database=fine", err, sizeof err), 0);
}

static void test_hex(void **state) {
    (void)state;
    char out[64];
    assert_int_equal(tp_pct_decode("a%41%2b+%zz%4", 13, 1, out, sizeof out), 9);
    assert_string_equal(out, "aA+ %zz%4");
    assert_int_equal(tp_pct_decode("a+b", 3, 0, out, sizeof out), 3);
    assert_string_equal(out, "a+b");
    assert_int_equal(tp_pct_decode("abcd", 4, 0, out, 4), -1); /* no room for the NUL */
    assert_int_equal(tp_pct_decode("abc", 3, 0, out, 4), 3);
    assert_int_equal(tp_pct_decode("a%00", 4, 0, out, sizeof out), -1);
    assert_int_equal(tp_pct_decode("", 0, 0, out, 1), 0);
    const uint8_t bytes[] = {0x00, 0x9f, 0xa0, 0xff};
    tp_hex_encode(bytes, 4, out);
    out[8] = 0;
    assert_string_equal(out, "009fa0ff");
    uint8_t back[4];
    assert_int_equal(tp_hex_decode("009FA0ff", 4, back), 0);
    assert_memory_equal(back, bytes, 4);
    assert_int_equal(tp_hex_decode("0g", 1, back), -1);
    uint8_t id[16];
    for (int i = 0; i < 16; i++) id[i] = (uint8_t)(i * 17);
    char uuid[37];
    tp_uuid_format(id, uuid);
    assert_string_equal(uuid, "00112233-4455-6677-8899-aabbccddeeff");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),          cmocka_unit_test(test_check_ops),
        cmocka_unit_test(test_write_only),     cmocka_unit_test(test_unknown),
        cmocka_unit_test(test_clickhouse_url), cmocka_unit_test(test_hex),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
