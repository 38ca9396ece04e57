/* test_trade_ids.c - venue trade ids on the Kafka path: the tp-trade-ids
 * header (kafka/trade_ids.h) byte for byte, its round trip beside an Avro
 * record that stays exactly what trades.avsc describes, the errors that
 * dead-letter a record; and a gap record's trade-id headers
 * (kafka/gap_record.h) both ways. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "codec/avro_trades.h"
#include "core/err.h"
#include "kafka/gap_record.h"
#include "kafka/trade_ids.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static tp_trade mk(const char *sym, int64_t id) {
    tp_trade t;
    memset(&t, 0, sizeof t);
    t.symbol = (tp_str){sym, (uint32_t)strlen(sym)};
    t.price = 100.5;
    t.volume = 0.25;
    t.ts_ms = 1765000000000;
    t.ncond = TP_COND_NULL;
    t.trade_id = id;
    return t;
}

static void test_encode_exact(void **state) {
    (void)state;
    tp_trade t[3] = {mk("BINANCE:BTCUSDT", 1), mk("BINANCE:BTCUSDT", INT64_MAX), mk("BINANCE:BTCUSDT", -2)};
    tp_buf b = {0};
    assert_int_equal(tp_trade_ids_encode(t, NULL, 3, &b), 1);
    static const char want[] = "1,9223372036854775807,-2";
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.p, want, b.len);
    /* in the order of idx (the record's order), not the batch's */
    tp_buf_reset(&b);
    uint32_t idx[2] = {2, 0};
    assert_int_equal(tp_trade_ids_encode(t, idx, 2, &b), 1);
    assert_int_equal(b.len, 4);
    assert_memory_equal(b.p, "-2,1", 4);
    /* no ids: no header, nothing written */
    tp_trade f[2] = {mk("AAPL", 0), mk("AAPL", 0)};
    tp_buf_reset(&b);
    assert_int_equal(tp_trade_ids_encode(f, NULL, 2, &b), 0);
    assert_int_equal(b.len, 0);
    /* one id among none: every trade has its slot, 0 = none */
    f[1].trade_id = 9;
    assert_int_equal(tp_trade_ids_encode(f, NULL, 2, &b), 1);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.p, "0,9", 3);
    tp_buf_free(&b);
}

static void test_apply_errors(void **state) {
    (void)state;
    tp_trade t[2] = {mk("X", 0), mk("X", 0)};
    char err[256];
    assert_int_equal(tp_trade_ids_apply("5,-9223372036854775808", 22, t, 2, err, sizeof err), 0);
    assert_int_equal(t[0].trade_id, 5);
    assert_true(t[1].trade_id == INT64_MIN);
    t[0].trade_id = t[1].trade_id = 0;
    static const char *const bad[] = {"",
                                      "1",
                                      "1,2,3",
                                      "1,",
                                      ",1",
                                      "1,x",
                                      "1, 2",
                                      "1,+2",
                                      "1,9223372036854775808",
                                      "1,-",
                                      "1,12345678901234567890",
                                      "1,2\n"};
    static const char *const why[] = {
        "the tp-trade-ids header lists 0 ids, the record holds 2 trades",
        "the tp-trade-ids header lists 1 ids, the record holds 2 trades",
        "the tp-trade-ids header lists 3 ids, the record holds 2 trades",
        "the tp-trade-ids header's id 2 is not a decimal 64-bit integer",
        "the tp-trade-ids header's id 1 is not a decimal 64-bit integer",
        "the tp-trade-ids header's id 2 is not a decimal 64-bit integer",
        "the tp-trade-ids header's id 2 is not a decimal 64-bit integer",
        "the tp-trade-ids header's id 2 is not a decimal 64-bit integer",
        "the tp-trade-ids header's id 2 is not a decimal 64-bit integer",
        "the tp-trade-ids header's id 2 is not a decimal 64-bit integer",
        "the tp-trade-ids header's id 2 is not a decimal 64-bit integer",
        "the tp-trade-ids header's id 2 is not a decimal 64-bit integer",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(tp_trade_ids_apply(bad[i], strlen(bad[i]), t, 2, err, sizeof err), TP_EPARSE);
        assert_string_equal(err, why[i]);
        assert_int_equal(t[0].trade_id, 0); /* untouched */
        assert_int_equal(t[1].trade_id, 0);
    }
    /* a record without trades takes only an empty header */
    assert_int_equal(tp_trade_ids_apply("", 0, t, 0, err, sizeof err), 0);
}

/* produce's record (Avro value + header) read back as process reads it */
static void test_round_trip_with_avro(void **state) {
    (void)state;
    tp_trade t[3] = {mk("KRAKEN:XBT/USD", 81234567), mk("KRAKEN:XBT/USD", 81234568),
                     mk("KRAKEN:XBT/USD", 81234570)};
    tp_buf val = {0}, val0 = {0}, hdr = {0};
    assert_int_equal(tp_avro_encode(t, NULL, 3, "trade", &val), 0);
    assert_int_equal(tp_trade_ids_encode(t, NULL, 3, &hdr), 1);
    /* the value is the same bytes as without ids: trades.avsc unchanged */
    tp_trade z[3] = {t[0], t[1], t[2]};
    for (int i = 0; i < 3; i++) z[i].trade_id = 0;
    assert_int_equal(tp_avro_encode(z, NULL, 3, "trade", &val0), 0);
    assert_int_equal(val.len, val0.len);
    assert_memory_equal(val.p, val0.p, val.len);
    tp_batch b;
    tp_batch_init(&b);
    char type[16], err[256];
    assert_int_equal(tp_avro_decode(val.p, val.len, &b, type, sizeof type, err, sizeof err), 0);
    assert_int_equal(b.n, 3);
    for (size_t i = 0; i < 3; i++) assert_int_equal(b.trades[i].trade_id, 0);
    assert_int_equal(tp_trade_ids_apply(hdr.p, hdr.len, b.trades, b.n, err, sizeof err), 0);
    assert_int_equal(b.trades[0].trade_id, 81234567);
    assert_int_equal(b.trades[1].trade_id, 81234568);
    assert_int_equal(b.trades[2].trade_id, 81234570);
    /* the wrong count: refused, the trades untouched */
    for (size_t i = 0; i < 3; i++) b.trades[i].trade_id = 0;
    assert_int_equal(tp_trade_ids_apply(hdr.p, hdr.len - 9, b.trades, b.n, err, sizeof err), TP_EPARSE);
    assert_string_equal(err, "the tp-trade-ids header lists 2 ids, the record holds 3 trades");
    for (size_t i = 0; i < 3; i++) assert_int_equal(b.trades[i].trade_id, 0);
    tp_batch_free(&b);
    tp_buf_free(&val);
    tp_buf_free(&val0);
    tp_buf_free(&hdr);
}

/* a record's headers for tp_gap_record_parse */
typedef struct hdrs {
    tp_gap_header h[16];
    size_t n;
} hdrs;

static int get(void *ud, const char *name, const void **val, size_t *len) {
    hdrs *x = ud;
    for (size_t i = x->n; i-- > 0;)
        if (!strcmp(x->h[i].name, name)) {
            *val = x->h[i].value;
            *len = strlen(x->h[i].value);
            return 0;
        }
    return -1;
}

static void test_gap_record_ids(void **state) {
    (void)state;
    tp_feed_gap g = {.symbol = "COINBASE:BTC-USD",
                     .from_ms = 1765000000100,
                     .to_ms = 1765000000900,
                     .reason = TP_GAP_ID_JUMP,
                     .detected_at_ms = 1765000000950,
                     .connection = 1,
                     .from_trade_id = 700001,
                     .to_trade_id = 700041};
    tp_gap_record_buf buf;
    hdrs x = {.n = 0};
    tp_gap_record_headers(&g, &buf, x.h);
    x.n = TP_GAP_RECORD_NHEADERS;
    assert_int_equal(tp_gap_record_id_headers(&g, &buf, x.h + x.n), 2);
    assert_string_equal(x.h[x.n].name, "tp-gap-from-trade-id");
    assert_string_equal(x.h[x.n].value, "700001");
    assert_string_equal(x.h[x.n + 1].name, "tp-gap-to-trade-id");
    assert_string_equal(x.h[x.n + 1].value, "700041");
    assert_string_equal(x.h[4].value, "id_jump");
    x.n += 2;
    tp_gap_row row;
    char sym[TP_GAP_RECORD_MAX_SYMBOL + 1], err[256];
    assert_int_equal(tp_gap_record_parse(get, &x, &row, sym, err, sizeof err), 0);
    assert_string_equal(sym, "COINBASE:BTC-USD");
    assert_int_equal(row.from_ms, 1765000000100);
    assert_int_equal(row.to_ms, 1765000000900);
    assert_string_equal(row.reason, "id_jump");
    assert_int_equal(row.detected_at_ms, 1765000000950);
    assert_int_equal(row.connection, 1);
    assert_int_equal(row.from_trade_id, 700001);
    assert_int_equal(row.to_trade_id, 700041);
    /* one without the other, out of order, not positive: refused */
    x.n--;
    assert_int_equal(tp_gap_record_parse(get, &x, &row, sym, err, sizeof err), TP_EPARSE);
    assert_string_equal(err, "the gap record has tp-gap-from-trade-id but not tp-gap-to-trade-id");
    x.h[x.n++] = (tp_gap_header){"tp-gap-to-trade-id", "700000"};
    assert_int_equal(tp_gap_record_parse(get, &x, &row, sym, err, sizeof err), TP_EPARSE);
    assert_string_equal(err, "the trade-id range 700001..700000 is not positive and in order");
    x.h[x.n - 1] = (tp_gap_header){"tp-gap-to-trade-id", "7x"};
    assert_int_equal(tp_gap_record_parse(get, &x, &row, sym, err, sizeof err), TP_EPARSE);
    assert_string_equal(err, "the tp-gap-to-trade-id header is not a number");
    /* a gap without ids: no id headers, and a record without them parses to 0, 0 */
    g.from_trade_id = g.to_trade_id = 0;
    g.reason = TP_GAP_RECONNECT;
    x.n = 0;
    tp_gap_record_headers(&g, &buf, x.h);
    x.n = TP_GAP_RECORD_NHEADERS;
    assert_int_equal(tp_gap_record_id_headers(&g, &buf, x.h + x.n), 0);
    assert_int_equal(tp_gap_record_parse(get, &x, &row, sym, err, sizeof err), 0);
    assert_int_equal(row.from_trade_id, 0);
    assert_int_equal(row.to_trade_id, 0);
    assert_string_equal(row.reason, "reconnect");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_exact),
        cmocka_unit_test(test_apply_errors),
        cmocka_unit_test(test_round_trip_with_avro),
        cmocka_unit_test(test_gap_record_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
