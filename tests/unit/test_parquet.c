/* test_parquet.c - the Parquet writer's pieces with exact bytes: Thrift's
 * compact protocol (varints, zigzag, field headers with short and long
 * deltas, bools in the type nibble, nested structs, list headers) and the
 * RLE/bit-packed hybrid (the specification's own example among them); and
 * the writer's refusals. Whole files are checked against pyarrow and
 * DuckDB in tests/integration/export_parquet.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "archive/parquet.h"
#include "archive/thrift_compact.h"
#include "core/err.h"

#include <stdio.h>
#include <string.h>

#define assert_bytes(buf, ...)                                                                               \
    do {                                                                                                     \
        const uint8_t want_[] = {__VA_ARGS__};                                                               \
        assert_int_equal((buf)->len, sizeof want_);                                                          \
        assert_memory_equal((buf)->p, want_, sizeof want_);                                                  \
    } while (0)

static void test_varint_zigzag(void **state) {
    (void)state;
    tp_buf b = {0};
    tp_tc t;
    tp_tc_init(&t, &b);
    tp_tc_varint(&t, 300);
    tp_tc_varint(&t, 0);
    tp_tc_zigzag(&t, -1);
    tp_tc_zigzag(&t, 1);
    tp_tc_zigzag(&t, -64);
    tp_tc_zigzag(&t, 64);
    tp_tc_zigzag(&t, INT64_MIN);
    assert_false(tp_tc_failed(&t));
    assert_bytes(&b, 0xac, 0x02, 0x00, 0x01, 0x02, 0x7f, 0x80, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                 0xff, 0xff, 0x01);
    tp_buf_free(&b);
}

static void test_struct_fields(void **state) {
    (void)state;
    tp_buf b = {0};
    tp_tc t;
    tp_tc_init(&t, &b);
    tp_tc_struct_begin(&t);
    tp_tc_i32_field(&t, 1, 5);           /* delta 1, i32: 0x15, zigzag 10 */
    tp_tc_bool_field(&t, 3, 1);          /* delta 2, true in the nibble */
    tp_tc_i64_field(&t, 20, -2);         /* delta 17: long form 0x06, id zigzag 40 */
    tp_tc_binary_field(&t, 21, "ab", 2); /* delta 1, binary */
    tp_tc_field(&t, 22, TP_TC_STRUCT);   /* nested: its ids restart at 0 */
    tp_tc_struct_begin(&t);
    tp_tc_i32_field(&t, 1, 7);
    tp_tc_bool_field(&t, 2, 0);
    tp_tc_struct_end(&t);
    tp_tc_i8_field(&t, 23, -3);       /* back in the outer struct: delta 1 from 22 */
    tp_tc_empty_struct_field(&t, 40); /* delta 17 again */
    tp_tc_struct_end(&t);
    assert_false(tp_tc_failed(&t));
    assert_bytes(&b, 0x15, 0x0a, 0x21, 0x06, 0x28, 0x03, 0x18, 0x02, 'a', 'b', 0x1c, 0x15, 0x0e, 0x12, 0x00,
                 0x13, 0xfd, 0x0c, 0x50, 0x00, 0x00);
    tp_buf_free(&b);
}

static void test_lists(void **state) {
    (void)state;
    tp_buf b = {0};
    tp_tc t;
    tp_tc_init(&t, &b);
    tp_tc_list(&t, TP_TC_I32, 3);
    tp_tc_list(&t, TP_TC_BINARY, 14);
    tp_tc_list(&t, TP_TC_BINARY, 15); /* 15 and up: long form */
    tp_tc_list(&t, TP_TC_STRUCT, 300);
    tp_tc_binary(&t, "xyz", 3);
    assert_bytes(&b, 0x35, 0xe8, 0xf8, 0x0f, 0xfc, 0xac, 0x02, 0x03, 'x', 'y', 'z');
    tp_buf_free(&b);
}

static void hybrid(tp_buf *b, const uint32_t *v, size_t n, int bw) {
    tp_buf_reset(b);
    assert_int_equal(tp_pq_rle_hybrid(b, v, n, bw), 0);
}

static void test_rle_hybrid(void **state) {
    (void)state;
    tp_buf b = {0};
    uint32_t ten5[10] = {5, 5, 5, 5, 5, 5, 5, 5, 5, 5};
    hybrid(&b, ten5, 10, 3); /* RLE run: header 10<<1, value in 1 byte */
    assert_bytes(&b, 0x14, 0x05);
    /* the specification's bit-packing example: 0..7 in 3 bits */
    uint32_t seq[17] = {0, 1, 2, 3, 4, 5, 6, 7, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    hybrid(&b, seq, 8, 3);
    assert_bytes(&b, 0x03, 0x88, 0xc6, 0xfa);
    /* a literal group then a run of nine */
    hybrid(&b, seq, 17, 3);
    assert_bytes(&b, 0x03, 0x88, 0xc6, 0xfa, 0x12, 0x01);
    /* a short tail: one group padded with zeros */
    uint32_t lv[3] = {1, 0, 1};
    hybrid(&b, lv, 3, 1);
    assert_bytes(&b, 0x03, 0x05);
    /* a run shorter than 8 before a run of 8 that starts off a group edge
     * is packed together with it */
    uint32_t mix[12] = {1, 2, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7};
    hybrid(&b, mix, 12, 3);
    /* 16 values packed: 1,2,7x10,0x4 */
    assert_bytes(&b, 0x05, 0xd1, 0xff, 0xff, 0xff, 0x0f, 0x00);
    /* wide values: 2 bytes for 9 bits */
    uint32_t wide[8] = {300, 300, 300, 300, 300, 300, 300, 300};
    hybrid(&b, wide, 8, 9);
    assert_bytes(&b, 0x10, 0x2c, 0x01);
    tp_buf_reset(&b);
    assert_int_equal(tp_pq_rle_hybrid(&b, wide, 8, 0), -1);
    tp_buf_free(&b);
}

static const tp_pq_column cols[] = {
    {"sym", TP_PQ_STRING, 0, 1},
    {"px", TP_PQ_DOUBLE, 1, 0},
};

static void test_writer_refusals(void **state) {
    (void)state;
    char err[256];
    FILE *f = tmpfile();
    assert_non_null(f);
    tp_pq_writer *w;
    tp_pq_column bad = {"x", TP_PQ_INT64, 0, 1};
    assert_int_equal(tp_pq_open(&w, f, &bad, 1, NULL, err, sizeof err), TP_EINVAL);
    assert_non_null(strstr(err, "only strings take a dictionary"));
    assert_int_equal(tp_pq_open(&w, f, cols, 2, NULL, err, sizeof err), 0);
    assert_int_equal(tp_pq_set_str(w, 0, "A", 1), 0);
    assert_int_equal(tp_pq_set_str(w, 0, "B", 1), TP_ESTATE); /* twice in a row */
    assert_int_equal(tp_pq_end_row(w, err, sizeof err), TP_ESTATE);
    assert_non_null(strstr(err, "no value for column px"));
    assert_int_equal(tp_pq_set_i64(w, 1, 3), TP_EINVAL); /* wrong kind */
    tp_pq_free(w);
    /* a required column refuses null */
    rewind(f);
    assert_int_equal(tp_pq_open(&w, f, cols, 2, NULL, err, sizeof err), 0);
    assert_int_equal(tp_pq_set_null(w, 0), TP_EINVAL);
    tp_pq_free(w);
    fclose(f);
}

static void test_writer_frame(void **state) {
    (void)state;
    char err[256];
    FILE *f = tmpfile();
    assert_non_null(f);
    tp_pq_writer *w;
    tp_pq_options o = {.row_group_rows = 2};
    assert_int_equal(tp_pq_open(&w, f, cols, 2, &o, err, sizeof err), 0);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(tp_pq_set_str(w, 0, i % 2 ? "A" : "B", 1), 0);
        if (i == 3)
            assert_int_equal(tp_pq_set_null(w, 1), 0);
        else
            assert_int_equal(tp_pq_set_double(w, 1, i * 1.5), 0);
        assert_int_equal(tp_pq_end_row(w, err, sizeof err), 0);
    }
    assert_int_equal(tp_pq_rows(w), 5);
    assert_int_equal(tp_pq_close(w, err, sizeof err), 0);
    long size = ftell(f);
    assert_true(size > 12);
    uint8_t head[4], tail[8];
    rewind(f);
    assert_int_equal(fread(head, 1, 4, f), 4);
    fseek(f, size - 8, SEEK_SET);
    assert_int_equal(fread(tail, 1, 8, f), 8);
    assert_memory_equal(head, "PAR1", 4);
    assert_memory_equal(tail + 4, "PAR1", 4);
    uint32_t flen = tail[0] | tail[1] << 8 | tail[2] << 16 | (uint32_t)tail[3] << 24;
    assert_true(flen > 0 && flen < (uint32_t)size - 12);
    /* the footer is a struct: FileMetaData's field 1 (version, i32) first */
    uint8_t first;
    fseek(f, size - 8 - (long)flen, SEEK_SET);
    assert_int_equal(fread(&first, 1, 1, f), 1);
    assert_int_equal(first, 0x15);
    fclose(f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_varint_zigzag),   cmocka_unit_test(test_struct_fields),
        cmocka_unit_test(test_lists),           cmocka_unit_test(test_rle_hybrid),
        cmocka_unit_test(test_writer_refusals), cmocka_unit_test(test_writer_frame),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
