/* test_cql.c - the CQL native protocol codec (sink/cql.h) without a
 * server: values encoded by the client decode back exactly; a RESULT built
 * byte by byte as the protocol spec lays it out parses into the columns and
 * rows it holds; every truncation of it is refused, never read past; frame
 * headers of another version, a request, compression or an oversized body
 * are refused with a message; error codes sort into retryable or not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/err.h"
#include "sink/cql.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static tp_cql_value value_at(const tp_buf *b, size_t off) {
    int32_t len = (int32_t)((uint32_t)b->p[off] << 24 | (uint32_t)b->p[off + 1] << 16 |
                            (uint32_t)b->p[off + 2] << 8 | b->p[off + 3]);
    tp_cql_value v = {len >= 0 ? b->p + off + 4 : NULL, len};
    return v;
}

static void test_values_round_trip(void **state) {
    (void)state;
    tp_buf b = {0};
    const double doubles[] = {0.1 + 0.2, -0.0, 5e-324, 1.7976931348623157e308, INFINITY};
    for (size_t i = 0; i < sizeof doubles / sizeof doubles[0]; i++) {
        tp_buf_reset(&b);
        assert_int_equal(tp_cql_val_double(&b, doubles[i]), 0);
        double d;
        assert_int_equal(tp_cql_get_double(value_at(&b, 0), &d), 0);
        assert_memory_equal(&d, &doubles[i], sizeof d); /* the same bits */
    }
    const int64_t longs[] = {0, -1, INT64_MIN, INT64_MAX, 1700000000123LL};
    for (size_t i = 0; i < sizeof longs / sizeof longs[0]; i++) {
        tp_buf_reset(&b);
        assert_int_equal(tp_cql_val_i64(&b, longs[i]), 0);
        int64_t x;
        assert_int_equal(tp_cql_get_i64(value_at(&b, 0), &x), 0);
        assert_true(x == longs[i]);
    }
    /* date: days since the epoch, centred on 2^31 on the wire */
    const int64_t days[] = {0, -1, 19676, -719162};
    for (size_t i = 0; i < sizeof days / sizeof days[0]; i++) {
        tp_buf_reset(&b);
        assert_int_equal(tp_cql_val_date(&b, days[i]), 0);
        int64_t d;
        assert_int_equal(tp_cql_get_date(value_at(&b, 0), &d), 0);
        assert_true(d == days[i]);
    }
    tp_buf_reset(&b);
    tp_cql_val_date(&b, 0);
    assert_memory_equal(b.p + 4, "\x80\x00\x00\x00", 4);
    tp_buf_reset(&b);
    assert_int_equal(tp_cql_val_null(&b), 0);
    assert_int_equal(value_at(&b, 0).len, -1);
    int64_t x;
    assert_int_equal(tp_cql_get_i64(value_at(&b, 0), &x), -1); /* null is not a value */
    tp_buf_reset(&b);
    assert_int_equal(tp_cql_val_unset(&b), 0);
    assert_int_equal(value_at(&b, 0).len, -2);
    tp_buf_reset(&b);
    assert_int_equal(tp_cql_val_i32(&b, 7), 0);
    assert_int_equal(tp_cql_get_i64(value_at(&b, 0), &x), -1); /* wrong size */
    tp_buf_free(&b);
}

/* ROWS: Global_tables_spec | Has_more_pages, columns (ts timestamp, id uuid,
 * c text, l list<text>), two rows, the second with nulls. */
static void rows_body(tp_buf *b) {
    tp_buf_reset(b);
    tp_cql_put_i32(b, TP_CQL_R_ROWS);
    tp_cql_put_i32(b, 0x0001 | 0x0002);
    tp_cql_put_i32(b, 4);
    tp_cql_put_i32(b, 3);
    tp_buf_append(b, "PG1", 3);
    tp_cql_put_string(b, "market", 6);
    tp_cql_put_string(b, "trades", 6);
    tp_cql_put_string(b, "ts", 2);
    tp_cql_put_u16(b, TP_CQL_T_TIMESTAMP);
    tp_cql_put_string(b, "id", 2);
    tp_cql_put_u16(b, TP_CQL_T_UUID);
    tp_cql_put_string(b, "c", 1);
    tp_cql_put_u16(b, TP_CQL_T_VARCHAR);
    tp_cql_put_string(b, "l", 1);
    tp_cql_put_u16(b, TP_CQL_T_LIST);
    tp_cql_put_u16(b, TP_CQL_T_VARCHAR);
    tp_cql_put_i32(b, 2);
    static const uint8_t id[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    tp_cql_val_i64(b, 1700000000001LL);
    tp_cql_val_uuid(b, id);
    tp_cql_val_blob(b, "[\"1\"]", 5);
    tp_cql_val_blob(b, "", 0);
    tp_cql_val_i64(b, 1700000000002LL);
    tp_cql_val_uuid(b, id);
    tp_cql_val_null(b);
    tp_cql_val_null(b);
}

static void test_rows(void **state) {
    (void)state;
    tp_buf b = {0};
    rows_body(&b);
    tp_cql_result r;
    char err[256];
    assert_int_equal(tp_cql_parse_result(b.p, b.len, &r, err, sizeof err), 0);
    assert_int_equal(r.kind, TP_CQL_R_ROWS);
    assert_int_equal(r.ncols, 4);
    assert_int_equal(r.nrows, 2);
    assert_int_equal(r.cols[1].type, TP_CQL_T_UUID);
    assert_int_equal(r.cols[3].type, TP_CQL_T_LIST);
    assert_int_equal(r.cols[3].elem_type, TP_CQL_T_VARCHAR);
    assert_int_equal(r.cols[2].name_len, 1);
    assert_memory_equal(r.cols[2].name, "c", 1);
    assert_int_equal(r.paging_len, 3);
    assert_memory_equal(r.paging, "PG1", 3);
    tp_cql_rows it;
    tp_cql_value v[TP_CQL_MAX_COLS];
    tp_cql_rows_begin(&r, &it);
    assert_int_equal(tp_cql_row_next(&it, v), 1);
    int64_t ts;
    assert_int_equal(tp_cql_get_i64(v[0], &ts), 0);
    assert_true(ts == 1700000000001LL);
    assert_int_equal(v[2].len, 5);
    assert_memory_equal(v[2].p, "[\"1\"]", 5);
    assert_int_equal(v[3].len, 0);
    assert_int_equal(tp_cql_row_next(&it, v), 1);
    assert_int_equal(v[2].len, -1);
    assert_int_equal(tp_cql_row_next(&it, v), 0);

    /* every truncation is refused, and ASan sees any read past the copy */
    for (size_t n = 0; n < b.len; n++) {
        uint8_t *cut = malloc(n ? n : 1);
        memcpy(cut, b.p, n);
        err[0] = 0;
        assert_int_equal(tp_cql_parse_result(cut, n, &r, err, sizeof err), TP_EPARSE);
        assert_true(err[0] != 0);
        free(cut);
    }
    tp_buf_free(&b);
}

static void test_prepared_and_error(void **state) {
    (void)state;
    tp_buf b = {0};
    tp_cql_put_i32(&b, TP_CQL_R_PREPARED);
    tp_cql_put_short_bytes(&b, (const uint8_t *)"0123456789abcdef", 16);
    tp_cql_put_i32(&b, 0x0001);
    tp_cql_put_i32(&b, 2); /* bind markers */
    tp_cql_put_i32(&b, 1); /* partition key columns */
    tp_cql_put_u16(&b, 0);
    tp_cql_put_string(&b, "ks", 2);
    tp_cql_put_string(&b, "t", 1);
    tp_cql_put_string(&b, "a", 1);
    tp_cql_put_u16(&b, TP_CQL_T_VARCHAR);
    tp_cql_put_string(&b, "b", 1);
    tp_cql_put_u16(&b, TP_CQL_T_BIGINT);
    tp_cql_put_i32(&b, 0x0004); /* result metadata: none */
    tp_cql_put_i32(&b, 0);
    tp_cql_result r;
    char err[256];
    assert_int_equal(tp_cql_parse_result(b.p, b.len, &r, err, sizeof err), 0);
    assert_int_equal(r.kind, TP_CQL_R_PREPARED);
    assert_int_equal(r.nbind, 2);
    assert_int_equal(r.prepared_id_len, 16);
    assert_memory_equal(r.prepared_id, "0123456789abcdef", 16);

    tp_buf_reset(&b);
    tp_cql_put_i32(&b, TP_CQL_E_UNPREPARED);
    tp_cql_put_string(&b, "gone", 4);
    tp_cql_put_short_bytes(&b, (const uint8_t *)"0123456789abcdef", 16);
    tp_cql_error e;
    assert_int_equal(tp_cql_parse_error(b.p, b.len, &e, err, sizeof err), 0);
    assert_int_equal(e.code, TP_CQL_E_UNPREPARED);
    assert_int_equal(e.unprepared_id_len, 16);
    assert_int_equal(tp_cql_parse_error(b.p, b.len - 1, &e, err, sizeof err), TP_EPARSE);
    tp_buf_free(&b);

    assert_true(tp_cql_code_retryable(TP_CQL_E_OVERLOADED));
    assert_true(tp_cql_code_retryable(TP_CQL_E_WRITE_TIMEOUT));
    assert_true(tp_cql_code_retryable(TP_CQL_E_UNAVAILABLE));
    assert_true(tp_cql_code_retryable(TP_CQL_E_READ_TIMEOUT));
    assert_false(tp_cql_code_retryable(TP_CQL_E_SYNTAX));
    assert_false(tp_cql_code_retryable(TP_CQL_E_INVALID));
    assert_false(tp_cql_code_retryable(TP_CQL_E_UNAUTHORIZED));
    assert_false(tp_cql_code_retryable(TP_CQL_E_BAD_CREDENTIALS));
    assert_int_equal(tp_cql_consistency_parse("local_quorum"), TP_CQL_LOCAL_QUORUM);
    assert_int_equal(tp_cql_consistency_parse("ONE"), TP_CQL_ONE);
    assert_int_equal(tp_cql_consistency_parse("MOST"), -1);
}

static void test_headers(void **state) {
    (void)state;
    tp_cql_header h;
    char err[256];
    uint8_t ok[9] = {0x84, 0, 0, 7, TP_CQL_OP_RESULT, 0, 0, 1, 0};
    assert_int_equal(tp_cql_parse_header(ok, 9, 1 << 20, &h, err, sizeof err), 0);
    assert_int_equal(h.stream, 7);
    assert_int_equal(h.length, 256);
    uint8_t v5[9] = {0x85, 0, 0, 0, TP_CQL_OP_RESULT, 0, 0, 0, 0};
    assert_int_equal(tp_cql_parse_header(v5, 9, 1 << 20, &h, err, sizeof err), TP_EPARSE);
    assert_non_null(strstr(err, "v5, not v4"));
    uint8_t req[9] = {0x04, 0, 0, 0, TP_CQL_OP_QUERY, 0, 0, 0, 0};
    assert_int_equal(tp_cql_parse_header(req, 9, 1 << 20, &h, err, sizeof err), TP_EPARSE);
    assert_non_null(strstr(err, "not a CQL native protocol frame"));
    uint8_t comp[9] = {0x84, 0x01, 0, 0, TP_CQL_OP_RESULT, 0, 0, 0, 0};
    assert_int_equal(tp_cql_parse_header(comp, 9, 1 << 20, &h, err, sizeof err), TP_EPARSE);
    uint8_t big[9] = {0x84, 0, 0, 0, TP_CQL_OP_RESULT, 0x10, 0, 0, 1};
    assert_int_equal(tp_cql_parse_header(big, 9, 1 << 20, &h, err, sizeof err), TP_ELIMIT);
    assert_non_null(strstr(err, "over the"));
    assert_int_equal(tp_cql_parse_header(ok, 8, 1 << 20, &h, err, sizeof err), TP_EPARSE);
    /* the warnings prefix is skipped */
    tp_buf b = {0};
    tp_cql_put_u16(&b, 1);
    tp_cql_put_string(&b, "careful", 7);
    tp_cql_put_i32(&b, TP_CQL_R_VOID);
    size_t off;
    assert_int_equal(tp_cql_skip_prefix(0x08, b.p, b.len, &off, err, sizeof err), 0);
    assert_int_equal(off, 11);
    assert_int_equal(tp_cql_skip_prefix(0x08, b.p, 5, &off, err, sizeof err), TP_EPARSE);
    tp_buf_free(&b);
}

/* A batch body: type, count patched per statement, values, consistency. */
static void test_batch_body(void **state) {
    (void)state;
    tp_cql_stmt st = {.cql = "INSERT ...", .id_len = 2, .nbind = 1};
    st.id[0] = 0xab;
    st.id[1] = 0xcd;
    tp_buf b = {0};
    tp_cql_batch_begin(&b, 1);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(tp_cql_batch_add(&b, &st), 0);
        assert_int_equal(tp_cql_val_i32(&b, i), 0);
    }
    assert_int_equal(tp_cql_batch_end(&b, TP_CQL_LOCAL_QUORUM), 0);
    assert_int_equal(b.p[0], 1);               /* unlogged */
    assert_int_equal(b.p[1] << 8 | b.p[2], 3); /* statements */
    assert_int_equal(b.p[3], 1);               /* kind: prepared */
    assert_int_equal(b.p[4] << 8 | b.p[5], 2); /* id length */
    assert_int_equal(b.len, 3 + 3 * (1 + 2 + 2 + 2 + 8) + 3);
    assert_int_equal(b.p[b.len - 3] << 8 | b.p[b.len - 2], TP_CQL_LOCAL_QUORUM);
    tp_buf_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_round_trip),  cmocka_unit_test(test_rows),
        cmocka_unit_test(test_prepared_and_error), cmocka_unit_test(test_headers),
        cmocka_unit_test(test_batch_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
