/* test_avro.c - the hand-written Avro codec against avro-c as the oracle.
 *
 * Every fixture is encoded by tickpipe and read back by avro-c's generic
 * reader (field by field), written by avro-c and decoded by tickpipe, and
 * the two encoders must produce the same bytes. The decoder's bounds checks
 * are exercised with hand-made malformed messages; on every error the batch
 * must be left exactly as it was (trade count and arena fill). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "codec/avro_trades.h"
#include "core/err.h"

#include "../lib/avro_fixtures.h"

#include <avro.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static avro_schema_t g_schema;
static avro_value_iface_t *g_iface;

static int setup(void **state) {
    (void)state;
    if (avro_schema_from_json_length(tp_avro_schema_json, strlen(tp_avro_schema_json), &g_schema)) return -1;
    g_iface = avro_generic_class_from_schema(g_schema);
    return g_iface ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    avro_value_iface_decref(g_iface);
    avro_schema_decref(g_schema);
    return 0;
}

static void assert_double_bits(double a, double b) {
    uint64_t x, y;
    memcpy(&x, &a, 8);
    memcpy(&y, &b, 8);
    if (x != y)
        fail_msg("double %.17g (0x%016llx) != %.17g (0x%016llx)", a, (unsigned long long)x, b,
                 (unsigned long long)y);
}

static void assert_str(tp_str got, tp_str want) {
    assert_int_equal(got.len, want.len);
    if (want.ptr == NULL) {
        assert_null(got.ptr);
        return;
    }
    assert_non_null(got.ptr);
    if (want.len) assert_memory_equal(got.ptr, want.ptr, want.len);
}

static void assert_trade_equal(const tp_trade *got, const tp_trade *want) {
    assert_str(got->symbol, want->symbol);
    assert_double_bits(got->price, want->price);
    assert_double_bits(got->volume, want->volume);
    assert_int_equal(got->ts_ms, want->ts_ms);
    assert_int_equal(got->ncond, want->ncond);
    for (int32_t k = 0; k < want->ncond; k++) assert_str(got->cond[k], want->cond[k]);
}

/* Read bytes with avro-c into the trades of b and the type; the input must be
 * consumed exactly. */
static void avroc_read(const uint8_t *buf, size_t len, tp_batch *b, char *type, size_t typelen) {
    avro_value_t v;
    assert_int_equal(avro_generic_value_new(g_iface, &v), 0);
    avro_reader_t r = avro_reader_memory((const char *)buf, (int64_t)len);
    if (avro_value_read(r, &v)) fail_msg("avro-c cannot read our bytes: %s", avro_strerror());
    char extra;
    assert_int_not_equal(avro_read(r, &extra, 1), 0); /* nothing left */
    avro_reader_free(r);

    avro_value_t data, typev;
    assert_int_equal(avro_value_get_by_name(&v, "data", &data, NULL), 0);
    assert_int_equal(avro_value_get_by_name(&v, "type", &typev, NULL), 0);
    const char *ts;
    size_t tsz;
    assert_int_equal(avro_value_get_string(&typev, &ts, &tsz), 0);
    snprintf(type, typelen, "%s", ts);
    size_t n;
    assert_int_equal(avro_value_get_size(&data, &n), 0);
    for (size_t i = 0; i < n; i++) {
        avro_value_t rec, f, br;
        assert_int_equal(avro_value_get_by_index(&data, i, &rec, NULL), 0);
        tp_trade *t = tp_batch_add(b);
        const char *s;
        size_t sz;
        assert_int_equal(avro_value_get_by_name(&rec, "s", &f, NULL), 0);
        assert_int_equal(avro_value_get_string(&f, &s, &sz), 0);
        t->symbol.ptr = tp_batch_strdup(b, s, sz - 1);
        t->symbol.len = (uint32_t)(sz - 1);
        assert_int_equal(avro_value_get_by_name(&rec, "p", &f, NULL), 0);
        assert_int_equal(avro_value_get_double(&f, &t->price), 0);
        assert_int_equal(avro_value_get_by_name(&rec, "v", &f, NULL), 0);
        assert_int_equal(avro_value_get_double(&f, &t->volume), 0);
        assert_int_equal(avro_value_get_by_name(&rec, "t", &f, NULL), 0);
        assert_int_equal(avro_value_get_long(&f, &t->ts_ms), 0);
        assert_int_equal(avro_value_get_by_name(&rec, "c", &f, NULL), 0);
        int disc;
        assert_int_equal(avro_value_get_discriminant(&f, &disc), 0);
        assert_int_equal(avro_value_get_current_branch(&f, &br), 0);
        if (disc == 1) {
            assert_int_equal(avro_value_get_type(&br), AVRO_NULL);
            t->ncond = TP_COND_NULL;
            continue;
        }
        assert_int_equal(disc, 0);
        size_t nc;
        assert_int_equal(avro_value_get_size(&br, &nc), 0);
        t->ncond = (int32_t)nc;
        tp_str *c = nc ? tp_batch_alloc(b, sizeof(tp_str) * nc) : NULL;
        for (size_t k = 0; k < nc; k++) {
            avro_value_t item, ib;
            int idisc;
            assert_int_equal(avro_value_get_by_index(&br, k, &item, NULL), 0);
            assert_int_equal(avro_value_get_discriminant(&item, &idisc), 0);
            assert_int_equal(avro_value_get_current_branch(&item, &ib), 0);
            if (idisc == 0) {
                c[k] = (tp_str){NULL, 0};
            } else {
                assert_int_equal(idisc, 1);
                assert_int_equal(avro_value_get_string(&ib, &s, &sz), 0);
                c[k] = (tp_str){tp_batch_strdup(b, s, sz - 1), (uint32_t)(sz - 1)};
            }
        }
        t->cond = c;
    }
    avro_value_decref(&v);
}

/* Write trades with avro-c; returns malloc'd bytes. */
static uint8_t *avroc_write(const tp_trade *trades, size_t n, const char *type, size_t *len) {
    avro_value_t v, data, typev;
    assert_int_equal(avro_generic_value_new(g_iface, &v), 0);
    assert_int_equal(avro_value_get_by_name(&v, "data", &data, NULL), 0);
    assert_int_equal(avro_value_get_by_name(&v, "type", &typev, NULL), 0);
    assert_int_equal(avro_value_set_string_len(&typev, type, strlen(type) + 1), 0);
    for (size_t i = 0; i < n; i++) {
        const tp_trade *t = &trades[i];
        avro_value_t rec, f, br;
        assert_int_equal(avro_value_append(&data, &rec, NULL), 0);
        assert_int_equal(avro_value_get_by_name(&rec, "s", &f, NULL), 0);
        /* set_string_len copies size bytes, the last being the NUL */
        char *tmp = malloc(t->symbol.len + 1);
        memcpy(tmp, t->symbol.ptr, t->symbol.len);
        tmp[t->symbol.len] = 0;
        assert_int_equal(avro_value_set_string_len(&f, tmp, t->symbol.len + 1), 0);
        free(tmp);
        assert_int_equal(avro_value_get_by_name(&rec, "p", &f, NULL), 0);
        assert_int_equal(avro_value_set_double(&f, t->price), 0);
        assert_int_equal(avro_value_get_by_name(&rec, "v", &f, NULL), 0);
        assert_int_equal(avro_value_set_double(&f, t->volume), 0);
        assert_int_equal(avro_value_get_by_name(&rec, "t", &f, NULL), 0);
        assert_int_equal(avro_value_set_long(&f, t->ts_ms), 0);
        assert_int_equal(avro_value_get_by_name(&rec, "c", &f, NULL), 0);
        if (t->ncond == TP_COND_NULL) {
            assert_int_equal(avro_value_set_branch(&f, 1, &br), 0);
            assert_int_equal(avro_value_set_null(&br), 0);
            continue;
        }
        assert_int_equal(avro_value_set_branch(&f, 0, &br), 0);
        for (int32_t k = 0; k < t->ncond; k++) {
            avro_value_t item, ib;
            assert_int_equal(avro_value_append(&br, &item, NULL), 0);
            if (!t->cond[k].ptr) {
                assert_int_equal(avro_value_set_branch(&item, 0, &ib), 0);
                assert_int_equal(avro_value_set_null(&ib), 0);
            } else {
                assert_int_equal(avro_value_set_branch(&item, 1, &ib), 0);
                char *ct = malloc(t->cond[k].len + 1);
                memcpy(ct, t->cond[k].ptr, t->cond[k].len);
                ct[t->cond[k].len] = 0;
                assert_int_equal(avro_value_set_string_len(&ib, ct, t->cond[k].len + 1), 0);
                free(ct);
            }
        }
    }
    size_t sz;
    assert_int_equal(avro_value_sizeof(&v, &sz), 0);
    uint8_t *buf = malloc(sz ? sz : 1);
    avro_writer_t w = avro_writer_memory((const char *)buf, (int64_t)sz);
    assert_int_equal(avro_value_write(w, &v), 0);
    assert_int_equal(avro_writer_tell(w), (int64_t)sz);
    avro_writer_free(w);
    avro_value_decref(&v);
    *len = sz;
    return buf;
}

static void check_roundtrip(const tp_trade *trades, size_t n, const char *type) {
    tp_buf enc = {0};
    assert_int_equal(tp_avro_encode(trades, NULL, n, type, &enc), 0);

    /* tickpipe -> avro-c */
    tp_batch b;
    tp_batch_init(&b);
    char t2[64];
    avroc_read(enc.p, enc.len, &b, t2, sizeof t2);
    assert_string_equal(t2, type);
    assert_int_equal(b.n, n);
    for (size_t i = 0; i < n; i++) assert_trade_equal(&b.trades[i], &trades[i]);
    tp_batch_free(&b);

    /* avro-c -> tickpipe, and the same bytes from both writers */
    size_t alen;
    uint8_t *abuf = avroc_write(trades, n, type, &alen);
    assert_int_equal(alen, enc.len);
    assert_memory_equal(abuf, enc.p, alen);
    tp_batch_init(&b);
    char err[256] = "";
    char t3[64];
    int rc = tp_avro_decode(abuf, alen, &b, t3, sizeof t3, err, sizeof err);
    if (rc) fail_msg("decode: %s", err);
    assert_string_equal(t3, type);
    assert_int_equal(b.n, n);
    for (size_t i = 0; i < n; i++) assert_trade_equal(&b.trades[i], &trades[i]);
    tp_batch_free(&b);
    free(abuf);
    tp_buf_free(&enc);
}

static void test_fixtures(void **state) {
    (void)state;
    for (size_t m = 0; m < FX_NMSGS; m++) {
        print_message("fixture %s\n", fx_msgs[m].name);
        check_roundtrip(fx_msgs[m].trades, fx_msgs[m].n, fx_msgs[m].type);
    }
}

static void test_large_batch(void **state) {
    (void)state;
    tp_batch src;
    tp_batch_init(&src);
    fx_big_batch(&src, 20000, 42);
    check_roundtrip(src.trades, src.n, "trade");
    tp_batch_free(&src);
}

static void test_exact_bytes(void **state) {
    (void)state;
    /* hand-computed encoding, independent of both implementations */
    tp_str c[2] = {{"1", 1}, {NULL, 0}};
    tp_trade t = {.symbol = {"AB", 2}, .price = 1.0, .ts_ms = -2, .volume = 0.5, .ncond = 2, .cond = c};
    const uint8_t want[] = {0x02,                                          /* 1 trade */
                            0x00, 0x04, 0x02, 0x02, '1', 0x00, 0x00,       /* c: [ "1", null ] */
                            0,    0,    0,    0,    0,   0,    0xf0, 0x3f, /* p 1.0 */
                            0x04, 'A',  'B',                               /* s */
                            0x03,                                          /* t -2 */
                            0,    0,    0,    0,    0,   0,    0xe0, 0x3f, /* v 0.5 */
                            0x00,                                          /* end */
                            0x0a, 't',  'r',  'a',  'd', 'e'};
    tp_buf enc = {0};
    assert_int_equal(tp_avro_encode(&t, NULL, 1, "trade", &enc), 0);
    assert_int_equal(enc.len, sizeof want);
    assert_memory_equal(enc.p, want, sizeof want);
    /* idx selects and orders trades; appends after existing bytes */
    tp_trade two[2] = {t, t};
    two[0].ts_ms = 5;
    uint32_t idx[1] = {1};
    tp_buf_reset(&enc);
    tp_buf_append(&enc, "X", 1);
    assert_int_equal(tp_avro_encode(two, idx, 1, "trade", &enc), 0);
    assert_int_equal(enc.len, 1 + sizeof want);
    assert_memory_equal(enc.p + 1, want, sizeof want);
    tp_buf_free(&enc);
}

/* Decode must fail with TP_EPARSE and leave the batch untouched. */
static void expect_decode_error(const uint8_t *buf, size_t len, const char *needle) {
    tp_batch b;
    tp_batch_init(&b);
    b.arena.block_size = 64;
    tp_trade *pre = tp_batch_add(&b);
    pre->symbol.ptr = tp_batch_strdup(&b, "PRE", 3);
    pre->symbol.len = 3;
    tp_batch_mark m0 = tp_batch_get_mark(&b);
    char err[256] = "";
    char type[16] = "unchanged";
    int rc = tp_avro_decode(buf, len, &b, type, sizeof type, err, sizeof err);
    assert_int_equal(rc, TP_EPARSE);
    if (needle && !strstr(err, needle)) fail_msg("error \"%s\" lacks \"%s\"", err, needle);
    assert_non_null(strstr(err, "at byte"));
    tp_batch_mark m1 = tp_batch_get_mark(&b);
    assert_int_equal(b.n, 1);
    assert_ptr_equal(m1.head, m0.head);
    assert_int_equal(m1.used, m0.used);
    assert_string_equal(type, "unchanged");
    assert_string_equal(b.trades[0].symbol.ptr, "PRE");
    tp_batch_free(&b);
}

static void test_decode_errors(void **state) {
    (void)state;
    /* every strict prefix of every fixture is an error */
    for (size_t m = 0; m < FX_NMSGS; m++) {
        tp_buf enc = {0};
        assert_int_equal(tp_avro_encode(fx_msgs[m].trades, NULL, fx_msgs[m].n, fx_msgs[m].type, &enc), 0);
        for (size_t l = 0; l < enc.len; l++) expect_decode_error(enc.p, l, NULL);
        /* trailing byte */
        tp_buf_append(&enc, "\0", 1);
        expect_decode_error(enc.p, enc.len, "trailing bytes");
        tp_buf_free(&enc);
    }
    /* negative string length for the type */
    expect_decode_error((const uint8_t[]){0x00, 0x01}, 2, "negative string length");
    /* type string past the end */
    expect_decode_error((const uint8_t[]){0x00, 0x0a, 'a'}, 3, "past the end");
    /* absurd trade count */
    expect_decode_error((const uint8_t[]){0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x00}, 10,
                        "count past the end");
    /* INT64_MIN block count */
    expect_decode_error((const uint8_t[]){0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 10,
                        "bad block count");
    /* varint over 64 bits */
    expect_decode_error((const uint8_t[]){0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02}, 10,
                        "64 bits");
    /* negative block count with a byte size past the end */
    expect_decode_error((const uint8_t[]){0x01, 0x7e, 0x02}, 3, "byte size");
    /* union branch 2 for c */
    uint8_t bad_c[] = {0x02, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x00};
    expect_decode_error(bad_c, sizeof bad_c, "union branch for c");
    /* union branch 2 for an item of c */
    uint8_t bad_item[] = {0x02, 0x00, 0x02, 0x04, 0x00, 0, 0, 0, 0, 0, 0,    0,   0,
                          0x00, 0x00, 0,    0,    0,    0, 0, 0, 0, 0, 0x00, 0x00};
    expect_decode_error(bad_item, sizeof bad_item, "item of c");
    /* c item count larger than the bytes left */
    uint8_t big_c[27] = {0x02, 0x00, 0xfe, 0xff, 0xff, 0xff, 0x0f}; /* then zeros */
    expect_decode_error(big_c, sizeof big_c, "c array count");
    /* negative symbol length */
    uint8_t neg_sym[] = {0x02, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x00};
    expect_decode_error(neg_sym, sizeof neg_sym, "negative string length");
}

static void test_decode_blocks(void **state) {
    (void)state;
    /* data as two blocks, the second with a negative count and byte size;
     * c as two blocks likewise: must decode like the one-block form. */
    const uint8_t trade_x[] = {0x02, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0x02, 'X', 0x02, 0, 0, 0, 0, 0, 0, 0, 0};
    tp_buf in = {0};
    tp_buf_append(&in, "\x02", 1); /* block of 1 */
    tp_buf_append(&in, trade_x, sizeof trade_x);
    tp_buf_append(&in, "\x01", 1); /* block of -1 ... */
    uint8_t sz = (uint8_t)(2 * (7 + 8 + 2 + 1 + 8));
    tp_buf_append(&in, &sz, 1); /* ... of 26 bytes */
    const uint8_t c_two_blocks[] = {0x00, 0x02, 0x02, 0x02, 'a', 0x01, 0x02, 0x00, 0x00};
    tp_buf_append(&in, c_two_blocks, sizeof c_two_blocks);
    tp_buf_append(&in, trade_x + 1, sizeof trade_x - 1);
    tp_buf_append(&in, "\x00\x02t", 3);
    tp_batch b;
    tp_batch_init(&b);
    char type[4], err[256] = "";
    int rc = tp_avro_decode(in.p, in.len, &b, type, sizeof type, err, sizeof err);
    if (rc) fail_msg("%s", err);
    assert_string_equal(type, "t");
    assert_int_equal(b.n, 2);
    assert_int_equal(b.trades[0].ncond, TP_COND_NULL);
    assert_int_equal(b.trades[1].ncond, 2);
    assert_string_equal(b.trades[1].cond[0].ptr, "a");
    assert_null(b.trades[1].cond[1].ptr);
    for (int i = 0; i < 2; i++) {
        assert_string_equal(b.trades[i].symbol.ptr, "X");
        assert_true(b.trades[i].price == 1.0);
        assert_int_equal(b.trades[i].ts_ms, 1);
    }
    /* the type is truncated to the buffer */
    tp_buf_reset(&in);
    tp_buf_append(&in, "\x00\x0atrade", 7);
    tp_batch_reset(&b);
    assert_int_equal(tp_avro_decode(in.p, in.len, &b, type, sizeof type, err, sizeof err), 0);
    assert_string_equal(type, "tra");
    tp_batch_free(&b);
    tp_buf_free(&in);
}

static void test_max_trades(void **state) {
    (void)state;
    tp_buf enc = {0};
    const fx_msg *m = &fx_msgs[7]; /* 6 trades */
    assert_int_equal(m->n, 6);
    assert_int_equal(tp_avro_encode(m->trades, NULL, m->n, "trade", &enc), 0);
    tp_batch b;
    tp_batch_init(&b);
    b.max_trades = 8;
    char err[256];
    assert_int_equal(tp_avro_decode(enc.p, enc.len, &b, NULL, 0, err, sizeof err), 0);
    assert_int_equal(b.n, 6);
    tp_batch_mark m0 = tp_batch_get_mark(&b);
    assert_int_equal(tp_avro_decode(enc.p, enc.len, &b, NULL, 0, err, sizeof err), TP_EPARSE);
    assert_non_null(strstr(err, "max_trades"));
    tp_batch_mark m1 = tp_batch_get_mark(&b);
    assert_int_equal(b.n, 6);
    assert_ptr_equal(m1.head, m0.head);
    assert_int_equal(m1.used, m0.used);
    tp_batch_free(&b);
    tp_buf_free(&enc);
}

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s", path);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    return strdup(buf);
}

static void test_schema(void **state) {
    (void)state;
    char err[256] = "";
    int rc = tp_avro_schema_check(tp_avro_schema_json, err, sizeof err);
    if (rc) fail_msg("%s", err);
    /* the embedded schema is schemas/trades.avsc, equivalent to the reference */
    char *file = read_file(TP_SOURCE_DIR "/schemas/trades.avsc");
    assert_string_equal(file, tp_avro_schema_json);
    char *ref = read_file(TP_SOURCE_DIR "/tests/fixtures/reference-trades.avsc");
    avro_schema_t a, b;
    assert_int_equal(avro_schema_from_json_length(file, strlen(file), &a), 0);
    assert_int_equal(avro_schema_from_json_length(ref, strlen(ref), &b), 0);
    assert_true(avro_schema_equal(a, b));
    assert_int_equal(tp_avro_schema_check(ref, err, sizeof err), 0);
    avro_schema_decref(a);
    avro_schema_decref(b);
    free(file);
    free(ref);

    /* shapes the encoder does not write are refused */
    static const struct {
        const char *from, *to, *needle;
    } bad[] = {
        {"\"FinnhubProducer\"", "\"Other\"", "FinnhubProducer.message"},
        {"\"name\" : \"message\"", "\"name\" : \"msg\"", "FinnhubProducer.message"},
        {"\"type\" : \"long\"", "\"type\" : \"int\"", "data.t"},
        {"\"items\":[\"null\",\"string\"]", "\"items\":[\"string\",\"null\"]", "item branch 0"},
        {"\"name\" : \"p\"", "\"name\" : \"q\"", "\"q\", expected \"p\""},
        {"\"type\" : \"string\",\n    \"doc\"  : \"Type", "\"type\" : \"bytes\",\n    \"doc\"  : \"Type",
         "message.type"},
        {"{\n  \"type\" : \"record\"", "{{", "does not parse"},
        {"},\n            \"null\"", "},\n            \"string\"", "data.c branch 1"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *at = strstr(tp_avro_schema_json, bad[i].from);
        if (!at) fail_msg("fixture %zu: \"%s\" not in schema", i, bad[i].from);
        char *s = malloc(strlen(tp_avro_schema_json) + 64);
        size_t pre = (size_t)(at - tp_avro_schema_json);
        memcpy(s, tp_avro_schema_json, pre);
        strcpy(s + pre, bad[i].to);
        strcat(s, at + strlen(bad[i].from));
        err[0] = 0;
        assert_int_equal(tp_avro_schema_check(s, err, sizeof err), TP_EINVAL);
        if (!strstr(err, bad[i].needle))
            fail_msg("case %zu: error \"%s\" lacks \"%s\"", i, err, bad[i].needle);
        free(s);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixtures),      cmocka_unit_test(test_large_batch),
        cmocka_unit_test(test_exact_bytes),   cmocka_unit_test(test_decode_errors),
        cmocka_unit_test(test_decode_blocks), cmocka_unit_test(test_max_trades),
        cmocka_unit_test(test_schema),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
