/* test_sim.c - the simulator without a WebSocket client: the market's
 * trades read back through both Finnhub parsers (the project's and the
 * jansson reference) with the shape rules per asset class, escaping of odd
 * symbols, reproducibility per seed; and the server started in-process
 * (tp_sim_start on port 0) answering the REST client of feed/rest.c, with
 * its token check, plus the configuration errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "../lib/finnhub_json_ref.h"
#include "core/err.h"
#include "core/log.h"
#include "feed/rest.h"
#include "sim/market.h"
#include "sim/sim.h"

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* One frame of n trades of sym, parsed by both parsers, which must agree. */
static void frame_of(tp_market_sym *s, int n, tp_batch *out) {
    static char buf[1 << 20];
    char *o = buf;
    memcpy(o, "{\"data\":[", 9);
    o += 9;
    for (int i = 0; i < n; i++) {
        if (i) *o++ = ',';
        size_t w = tp_market_trade_json(s, 1764000000000 + i, o);
        assert_true(w <= tp_market_trade_max(s));
        o += w;
    }
    memcpy(o, "],\"type\":\"trade\"}", 17);
    o += 17;
    tp_msg_info info, rinfo;
    char err[256];
    tp_batch ref;
    tp_batch_init(&ref);
    int rc = tp_finnhub_parse(buf, (size_t)(o - buf), out, &info, err, sizeof err);
    if (rc) fail_msg("%s: %s in %.200s", s->name, err, buf);
    assert_int_equal(tp_finnhub_parse_ref(buf, (size_t)(o - buf), &ref, &rinfo, err, sizeof err), 0);
    assert_int_equal(info.type, TP_MSG_TRADE);
    assert_int_equal(out->n, (size_t)n);
    assert_int_equal(ref.n, (size_t)n);
    for (int i = 0; i < n; i++) {
        assert_true(out->trades[i].price == ref.trades[i].price);
        assert_true(out->trades[i].volume == ref.trades[i].volume);
        assert_int_equal(out->trades[i].ncond, ref.trades[i].ncond);
    }
    tp_batch_free(&ref);
}

static void test_market_shapes(void **state) {
    (void)state;
    size_t nk;
    const tp_market_info *k = tp_market_known(&nk);
    assert_true(nk >= 30);
    tp_market *m = tp_market_new(1);
    tp_batch b;
    tp_batch_init(&b);
    for (size_t i = 0; i < nk; i++) {
        tp_market_sym *s = tp_market_get(m, k[i].symbol, strlen(k[i].symbol));
        assert_non_null(s);
        assert_ptr_equal(s, tp_market_get(m, k[i].symbol, strlen(k[i].symbol)));
        for (int r = 0; r < 20; r++) {
            tp_batch_reset(&b);
            frame_of(s, 500, &b);
            for (size_t j = 0; j < b.n; j++) {
                const tp_trade *t = &b.trades[j];
                assert_int_equal(t->symbol.len, strlen(k[i].symbol));
                assert_memory_equal(t->symbol.ptr, k[i].symbol, t->symbol.len);
                if (t->price < k[i].price * 0.8 || t->price > k[i].price * 1.25)
                    fail_msg("%s: price %g far from its level %g", k[i].symbol, t->price, k[i].price);
                /* quoted with the symbol's decimals */
                double scaled = t->price * pow(10, k[i].pdec);
                assert_true(fabs(scaled - round(scaled)) < 1e-6 * scaled);
                assert_int_equal(t->ts_ms, 1764000000000 + (int64_t)j);
                switch (k[i].asset) {
                case TP_ASSET_STOCK:
                    assert_true(t->volume >= 1 && t->volume == floor(t->volume));
                    assert_true(t->ncond >= 1);
                    for (int c = 0; c < t->ncond; c++) assert_non_null(t->cond[c].ptr);
                    break;
                case TP_ASSET_CRYPTO:
                    assert_true(t->volume > 0);
                    assert_int_equal(t->ncond, TP_COND_NULL);
                    break;
                case TP_ASSET_FOREX:
                    assert_true(t->volume == 0);
                    assert_int_equal(t->ncond, TP_COND_NULL);
                    break;
                }
            }
        }
    }
    tp_batch_free(&b);
    tp_market_free(m);
}

static void test_odd_symbols(void **state) {
    (void)state;
    static const char *const names[] = {"A\"B\\C", "tab\there",       "\x01\x1f",      "株:7203",
                                        "ÜBER",    "BINANCE:NEWCOIN", "OANDA:ABC_DEF", "ZZZZ"};
    tp_market *m = tp_market_new(3);
    tp_batch b;
    tp_batch_init(&b);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        tp_market_sym *s = tp_market_get(m, names[i], strlen(names[i]));
        assert_non_null(s);
        tp_batch_reset(&b);
        frame_of(s, 50, &b);
        assert_int_equal(b.trades[0].symbol.len, strlen(names[i]));
        assert_memory_equal(b.trades[0].symbol.ptr, names[i], strlen(names[i]));
        assert_true(b.trades[0].price > 0);
    }
    assert_int_equal(tp_market_get(m, "OANDA:ABC_DEF", 13)->asset, TP_ASSET_FOREX);
    assert_int_equal(tp_market_get(m, "BINANCE:NEWCOIN", 15)->asset, TP_ASSET_CRYPTO);
    assert_int_equal(tp_market_get(m, "ZZZZ", 4)->asset, TP_ASSET_STOCK);
    assert_null(tp_market_get(m, "", 0));
    tp_batch_free(&b);
    tp_market_free(m);
}

static void sequence(uint64_t seed, const char *sym, char *out, size_t n) {
    tp_market *m = tp_market_new(seed);
    tp_market_get(m, "MSFT", 4); /* other symbols do not disturb it */
    tp_market_sym *s = tp_market_get(m, sym, strlen(sym));
    char *o = out;
    for (size_t i = 0; i < n; i++) o += tp_market_trade_json(s, 1, o);
    *o = '\0';
    tp_market_free(m);
}

static void test_seed(void **state) {
    (void)state;
    static char a[200000], b[200000], c[200000];
    sequence(42, "AAPL", a, 1000);
    sequence(42, "AAPL", b, 1000);
    sequence(43, "AAPL", c, 1000);
    assert_string_equal(a, b);
    assert_true(strcmp(a, c) != 0);
    sequence(42, "BINANCE:BTCUSDT", c, 1000);
    assert_true(strcmp(a, c) != 0);
}

/* ------------------------------------------------------------ server */

typedef struct found {
    int n, has_aapl;
    char first[64];
} found;
static int on_sym(void *ud, const tp_rest_symbol *s) {
    found *f = ud;
    if (!f->n) snprintf(f->first, sizeof f->first, "%s", s->symbol);
    f->n++;
    if (!strcmp(s->symbol, "AAPL") && !strcmp(s->description, "APPLE INC") &&
        !strcmp(s->display_symbol, "AAPL") && !strcmp(s->type, "Common Stock"))
        f->has_aapl = 1;
    return 0;
}

static void test_server_rest(void **state) {
    (void)state;
    tp_sim_config cfg;
    tp_sim_config_default(&cfg);
    cfg.listen = "127.0.0.1:0";
    cfg.token = "sekrit";
    tp_sim *sim;
    char err[512], url[128];
    assert_int_equal(tp_sim_start(&cfg, &sim, err, sizeof err), 0);
    int port = tp_sim_port(sim);
    assert_true(port > 0 && port < 65536);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/api/v1", port);

    found f = {0};
    size_t count = 0;
    assert_int_equal(tp_rest_search(url, "sekrit", "apple", 0, on_sym, &f, &count, err, sizeof err), 0);
    assert_int_equal(count, 1);
    assert_true(f.has_aapl);

    memset(&f, 0, sizeof f);
    assert_int_equal(tp_rest_search(url, "sekrit", "usd", 0, on_sym, &f, &count, err, sizeof err), 0);
    assert_true(count >= 10); /* crypto pairs and forex */

    memset(&f, 0, sizeof f);
    assert_int_equal(tp_rest_search(url, "sekrit", "goog", 0, on_sym, &f, &count, err, sizeof err), 0);
    assert_int_equal(count, 2);
    assert_string_equal(f.first, "GOOG"); /* exact match first */

    int exists = -1;
    assert_int_equal(tp_rest_symbol_exists(url, "sekrit", "BINANCE:BTCUSDT", &exists, err, sizeof err), 0);
    assert_int_equal(exists, 1);
    assert_int_equal(tp_rest_symbol_exists(url, "sekrit", "OANDA:EUR_USD", &exists, err, sizeof err), 0);
    assert_int_equal(exists, 1);
    assert_int_equal(tp_rest_symbol_exists(url, "sekrit", "AAP", &exists, err, sizeof err), 0);
    assert_int_equal(exists, 0);
    assert_int_equal(tp_rest_search(url, "wrong", "apple", 0, on_sym, &f, &count, err, sizeof err),
                     TP_EREFUSED);
    assert_non_null(strstr(err, "401"));
    assert_int_equal(tp_rest_search(url, "", "apple", 0, on_sym, &f, &count, err, sizeof err), TP_EREFUSED);

    /* the port is taken while it runs */
    tp_sim_config c2 = cfg;
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    c2.listen = listen;
    tp_sim *sim2 = NULL;
    assert_int_not_equal(tp_sim_start(&c2, &sim2, err, sizeof err), 0);
    assert_null(sim2);
    assert_non_null(strstr(err, "cannot listen on"));

    tp_sim_stats st;
    tp_sim_get_stats(sim, &st);
    assert_int_equal(st.searches, 8);
    tp_sim_stop(sim);
}

static void test_config_errors(void **state) {
    (void)state;
    tp_sim_config cfg;
    tp_sim *sim = NULL;
    char err[512];
    static const char *const bad_listen[] = {"nonsense", "127.0.0.1:99999", "127.0.0.1:-1",
                                             "no.such.host.invalid:1"};
    for (size_t i = 0; i < sizeof bad_listen / sizeof bad_listen[0]; i++) {
        tp_sim_config_default(&cfg);
        cfg.listen = bad_listen[i];
        assert_int_equal(tp_sim_start(&cfg, &sim, err, sizeof err), TP_EINVAL);
        assert_null(sim);
    }
    tp_sim_config_default(&cfg);
    cfg.listen = "127.0.0.1:0";
    cfg.batch = 0;
    assert_int_equal(tp_sim_start(&cfg, &sim, err, sizeof err), TP_EINVAL);
    cfg.batch = 1;
    cfg.tls_cert = "/etc/hostname";
    assert_int_equal(tp_sim_start(&cfg, &sim, err, sizeof err), TP_EINVAL);
    assert_non_null(strstr(err, "--tls-key"));
    cfg.tls_cert = NULL;
    cfg.replay_path = "/nonexistent/recording";
    assert_int_not_equal(tp_sim_start(&cfg, &sim, err, sizeof err), 0);
    assert_non_null(strstr(err, "/nonexistent/recording"));
    assert_null(sim);
}

int main(void) {
    tp_log_set_level(TP_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_market_shapes), cmocka_unit_test(test_odd_symbols),
        cmocka_unit_test(test_seed),          cmocka_unit_test(test_server_rest),
        cmocka_unit_test(test_config_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
