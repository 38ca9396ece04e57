/* test_gaps.c - per-symbol holes (feed/gaps.h): a disconnect opens a gap
 * for each symbol that had traded, from its newest event time; the
 * symbol's first trade after closes it with that trade's time and the
 * reason; a second drop before recovery keeps the first reason; symbols
 * that never traded before, or are not subscribed, report nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "feed/gaps.h"

#include <stdio.h>
#include <string.h>

typedef struct got {
    char sym[16][16];
    tp_feed_gap g[16];
    size_t n;
} got;

static void on_gap(void *ud, const tp_feed_gap *g) {
    got *o = ud;
    snprintf(o->sym[o->n], sizeof o->sym[0], "%s", g->symbol);
    o->g[o->n] = *g;
    o->g[o->n].symbol = o->sym[o->n];
    o->n++;
}

static tp_trade tr(const char *s, int64_t ts) {
    tp_trade t;
    memset(&t, 0, sizeof t);
    t.symbol.ptr = s;
    t.symbol.len = (uint32_t)strlen(s);
    t.ts_ms = ts;
    return t;
}

static void test_gaps(void **state) {
    (void)state;
    static const char *const syms[] = {"AAPL", "MSFT", "IBM"};
    tp_gaps *g;
    assert_int_equal(tp_gaps_new(syms, 3, 2, &g), 0);
    got o = {0};
    tp_trade a[] = {tr("AAPL", 100), tr("MSFT", 105), tr("AAPL", 103), tr("XXX", 1)};
    assert_int_equal(tp_gaps_trades(g, a, 4, 200, on_gap, &o), 0);
    tp_gaps_disconnect(g, TP_GAP_SILENCE);
    tp_gaps_disconnect(g, TP_GAP_RECONNECT); /* a failed reconnect: the first reason stays */
    tp_trade b[] = {tr("AAPL", 900), tr("IBM", 901), tr("AAPL", 950)};
    assert_int_equal(tp_gaps_trades(g, b, 3, 1000, on_gap, &o), 1);
    assert_int_equal(o.n, 1);
    assert_string_equal(o.g[0].symbol, "AAPL");
    assert_int_equal(o.g[0].from_ms, 103); /* the newest, not the last received */
    assert_int_equal(o.g[0].to_ms, 900);
    assert_int_equal(o.g[0].reason, TP_GAP_SILENCE);
    assert_int_equal(o.g[0].detected_at_ms, 1000);
    assert_int_equal(o.g[0].connection, 2);
    /* MSFT's gap is still open: it closes at MSFT's first trade */
    tp_trade c[] = {tr("MSFT", 1200)};
    assert_int_equal(tp_gaps_trades(g, c, 1, 1300, on_gap, &o), 1);
    assert_string_equal(o.g[1].symbol, "MSFT");
    assert_int_equal(o.g[1].from_ms, 105);
    assert_int_equal(o.g[1].to_ms, 1200);
    /* next drop: IBM has traded now, so all three get a gap */
    tp_gaps_disconnect(g, TP_GAP_KEY_IN_USE);
    tp_trade d[] = {tr("IBM", 2000), tr("AAPL", 2001), tr("MSFT", 2002), tr("IBM", 2003)};
    assert_int_equal(tp_gaps_trades(g, d, 4, 2100, on_gap, &o), 3);
    assert_int_equal(o.n, 5);
    assert_string_equal(o.g[2].symbol, "IBM");
    assert_int_equal(o.g[2].from_ms, 901);
    assert_int_equal(o.g[2].reason, TP_GAP_KEY_IN_USE);
    assert_string_equal(tp_gap_reason_name(o.g[2].reason), "key_in_use");
    tp_gaps_free(g);
}

static tp_trade tri(const char *s, int64_t id, int64_t ts) {
    tp_trade t = tr(s, ts);
    t.trade_id = id;
    return t;
}

/* Venue trade ids: a jump is a gap with its exact id range, on a live
 * connection or after a drop; a drop that lost nothing (the next id comes
 * next) reports nothing; ids going backward are never gaps. */
static void test_trade_id_gaps(void **state) {
    (void)state;
    static const char *const syms[] = {"BINANCE:BTCUSDT", "BINANCE:ETHUSDT"};
    tp_gaps *g;
    assert_int_equal(tp_gaps_new(syms, 2, 1, &g), 0);
    got o = {0};
    tp_trade a[] = {tri("BINANCE:BTCUSDT", 500, 10), tri("BINANCE:BTCUSDT", 501, 11),
                    tri("BINANCE:ETHUSDT", 90, 11), tri("BINANCE:BTCUSDT", 502, 11)};
    assert_int_equal(tp_gaps_trades(g, a, 4, 20, on_gap, &o), 0);
    /* live connection, ids jump 502 -> 510: 503..509 are missing */
    tp_trade b[] = {tri("BINANCE:BTCUSDT", 510, 15)};
    assert_int_equal(tp_gaps_trades(g, b, 1, 30, on_gap, &o), 1);
    assert_string_equal(o.g[0].symbol, "BINANCE:BTCUSDT");
    assert_int_equal(o.g[0].from_trade_id, 503);
    assert_int_equal(o.g[0].to_trade_id, 509);
    assert_int_equal(o.g[0].from_ms, 11);
    assert_int_equal(o.g[0].to_ms, 15);
    assert_int_equal(o.g[0].reason, TP_GAP_ID_JUMP);
    assert_string_equal(tp_gap_reason_name(o.g[0].reason), "id_jump");
    assert_int_equal(o.g[0].detected_at_ms, 30);
    assert_int_equal(o.g[0].connection, 1);
    /* backward ids (an overlap) and a repeat: nothing, and the state stays */
    tp_trade c[] = {tri("BINANCE:BTCUSDT", 505, 13), tri("BINANCE:BTCUSDT", 510, 15),
                    tri("BINANCE:BTCUSDT", 511, 16)};
    assert_int_equal(tp_gaps_trades(g, c, 3, 40, on_gap, &o), 0);
    /* a drop that lost nothing: a snapshot overlapping what was seen, then the next id */
    tp_gaps_disconnect(g, TP_GAP_RECONNECT);
    tp_trade d[] = {tri("BINANCE:BTCUSDT", 509, 15), tri("BINANCE:BTCUSDT", 510, 15),
                    tri("BINANCE:BTCUSDT", 511, 16), tri("BINANCE:BTCUSDT", 512, 17),
                    tri("BINANCE:ETHUSDT", 91, 18)};
    assert_int_equal(tp_gaps_trades(g, d, 5, 50, on_gap, &o), 0);
    assert_int_equal(o.n, 1);
    /* a drop that lost trades: the drop's reason and the exact ids */
    tp_gaps_disconnect(g, TP_GAP_SILENCE);
    tp_trade e[] = {tri("BINANCE:ETHUSDT", 91, 18), tri("BINANCE:ETHUSDT", 95, 60),
                    tri("BINANCE:BTCUSDT", 1000, 61), tri("BINANCE:BTCUSDT", 1001, 61)};
    assert_int_equal(tp_gaps_trades(g, e, 4, 70, on_gap, &o), 2);
    assert_int_equal(o.n, 3);
    assert_string_equal(o.g[1].symbol, "BINANCE:ETHUSDT");
    assert_int_equal(o.g[1].from_trade_id, 92);
    assert_int_equal(o.g[1].to_trade_id, 94);
    assert_int_equal(o.g[1].from_ms, 18);
    assert_int_equal(o.g[1].to_ms, 60);
    assert_int_equal(o.g[1].reason, TP_GAP_SILENCE);
    assert_string_equal(o.g[2].symbol, "BINANCE:BTCUSDT");
    assert_int_equal(o.g[2].from_trade_id, 513);
    assert_int_equal(o.g[2].to_trade_id, 999);
    assert_int_equal(o.g[2].from_ms, 17);
    assert_int_equal(o.g[2].to_ms, 61);
    assert_int_equal(o.g[2].reason, TP_GAP_SILENCE);
    /* the gap is closed: the next jump is an id_jump again */
    tp_trade f[] = {tri("BINANCE:BTCUSDT", 1003, 62)};
    assert_int_equal(tp_gaps_trades(g, f, 1, 80, on_gap, &o), 1);
    assert_int_equal(o.g[3].from_trade_id, 1002);
    assert_int_equal(o.g[3].to_trade_id, 1002);
    assert_int_equal(o.g[3].reason, TP_GAP_ID_JUMP);
    tp_gaps_free(g);
}

/* Without ids, time gaps carry no id range (0, 0). */
/* tp_gaps_last_id: what a connection handover asks of the shared tracker */
static void test_last_id(void **state) {
    (void)state;
    static const char *const syms[] = {"BINANCE:BTCUSDT", "BINANCE:ETHUSDT"};
    tp_gaps *g;
    assert_int_equal(tp_gaps_new(syms, 2, 0, &g), 0);
    int64_t last = -1;
    size_t idx = 9;
    tp_str eth = {"BINANCE:ETHUSDT", 15}, other = {"BINANCE:XRPUSDT", 15};
    assert_int_equal(tp_gaps_last_id(g, eth, &last, &idx), 0);
    assert_int_equal(last, 0); /* none yet */
    assert_int_equal(idx, 1);
    assert_int_equal(tp_gaps_last_id(g, other, &last, &idx), -1);
    tp_trade a[] = {tri("BINANCE:ETHUSDT", 41, 10), tri("BINANCE:ETHUSDT", 42, 11),
                    tri("BINANCE:ETHUSDT", 40, 11)};
    got o = {0};
    assert_int_equal(tp_gaps_trades(g, a, 3, 20, on_gap, &o), 0);
    assert_int_equal(tp_gaps_last_id(g, eth, &last, &idx), 0);
    assert_int_equal(last, 42); /* the highest, not the latest */
    tp_gaps_free(g);
}

static void test_time_gap_has_no_ids(void **state) {
    (void)state;
    static const char *const syms[] = {"AAPL"};
    tp_gaps *g;
    assert_int_equal(tp_gaps_new(syms, 1, 0, &g), 0);
    got o = {0};
    tp_trade a[] = {tr("AAPL", 100)};
    assert_int_equal(tp_gaps_trades(g, a, 1, 200, on_gap, &o), 0);
    tp_gaps_disconnect(g, TP_GAP_RECONNECT);
    tp_trade b[] = {tr("AAPL", 300)};
    assert_int_equal(tp_gaps_trades(g, b, 1, 400, on_gap, &o), 1);
    assert_int_equal(o.g[0].from_trade_id, 0);
    assert_int_equal(o.g[0].to_trade_id, 0);
    assert_int_equal(o.g[0].from_ms, 100);
    assert_int_equal(o.g[0].to_ms, 300);
    tp_gaps_free(g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gaps),
        cmocka_unit_test(test_trade_id_gaps),
        cmocka_unit_test(test_time_gap_has_no_ids),
        cmocka_unit_test(test_last_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
