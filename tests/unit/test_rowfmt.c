/* test_rowfmt.c - the row encodings every store shares: trade conditions
 * as JSON (checked against jansson as an independent decoder), their
 * decoding, UUID text, and store URLs masked in messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/log.h"
#include "sink/rowfmt.h"
#include "sink/sink.h"

#include <jansson.h>
#include <string.h>

static tp_trade trade_with(int n, const tp_str *items) {
    tp_trade t;
    memset(&t, 0, sizeof t);
    t.ncond = n;
    t.cond = items;
    return t;
}

static void encode(const tp_trade *t, tp_buf *b) {
    tp_buf_reset(b);
    assert_int_equal(tp_cond_json(b, t), 0);
    assert_int_equal(tp_buf_append(b, "", 1), 0);
    b->len--;
}

static void test_cond_shapes(void **state) {
    (void)state;
    tp_buf b = {0};
    tp_trade t = trade_with(TP_COND_NULL, NULL);
    encode(&t, &b);
    assert_int_equal(b.len, 0); /* NULL: nothing, the store writes SQL NULL */
    t = trade_with(0, NULL);
    encode(&t, &b);
    assert_string_equal((char *)b.p, "[]");
    tp_str two[] = {{"1", 1}, {"12", 2}};
    t = trade_with(2, two);
    encode(&t, &b);
    assert_string_equal((char *)b.p, "[\"1\",\"12\"]");
    tp_buf_free(&b);
}

static void test_cond_escapes_against_jansson(void **state) {
    (void)state;
    static const char ctl[] = {'a', 1, 0x1f, 'b', 0x7f};
    tp_str items[] = {{NULL, 0}, {"", 0}, {"q\"b\\s/", 6}, {"t\tn\nr\rf\fb\b", 10}, {ctl, 5}, {"ünï😀", 9}};
    tp_trade t = trade_with(6, items);
    tp_buf b = {0};
    encode(&t, &b);
    json_error_t je;
    json_t *arr = json_loadb((const char *)b.p, b.len, 0, &je);
    assert_non_null(arr);
    assert_int_equal(json_array_size(arr), 6);
    assert_true(json_is_null(json_array_get(arr, 0)));
    for (int i = 1; i < 6; i++) {
        json_t *v = json_array_get(arr, (size_t)i);
        assert_true(json_is_string(v));
        assert_int_equal(json_string_length(v), items[i].len);
        assert_memory_equal(json_string_value(v), items[i].ptr, items[i].len);
    }
    json_decref(arr);

    /* and back through the decoder the stores use */
    tp_cond_decoder d = {0};
    tp_trade back;
    memset(&back, 0, sizeof back);
    assert_int_equal(tp_cond_decode(&d, (const char *)b.p, b.len, &back), 0);
    assert_int_equal(back.ncond, 6);
    assert_null(back.cond[0].ptr);
    for (int i = 1; i < 6; i++) {
        assert_non_null(back.cond[i].ptr);
        assert_int_equal(back.cond[i].len, items[i].len);
        assert_memory_equal(back.cond[i].ptr, items[i].ptr, items[i].len);
    }
    tp_cond_decoder_free(&d);
    tp_buf_free(&b);
}

static void test_cond_decode(void **state) {
    (void)state;
    tp_cond_decoder d = {0};
    tp_trade t;
    memset(&t, 0, sizeof t);
    assert_int_equal(tp_cond_decode(&d, NULL, 0, &t), 0);
    assert_int_equal(t.ncond, TP_COND_NULL);
    assert_int_equal(tp_cond_decode(&d, "[]", 2, &t), 0);
    assert_int_equal(t.ncond, 0);
    /* jsonb's spelling, with spaces */
    assert_int_equal(tp_cond_decode(&d, "[\"1\", \"\", null]", 15, &t), 0);
    assert_int_equal(t.ncond, 3);
    assert_int_equal(t.cond[1].len, 0);
    assert_non_null(t.cond[1].ptr); /* "" is not null */
    assert_null(t.cond[2].ptr);
    assert_int_equal(tp_cond_decode(&d, "[\"\"]", 4, &t), 0); /* only empty strings: still not null */
    assert_non_null(t.cond[0].ptr);
    assert_int_equal(tp_cond_decode(&d, "{}", 2, &t), -1);
    assert_int_equal(tp_cond_decode(&d, "[1]", 3, &t), -1);
    assert_int_equal(tp_cond_decode(&d, "[\"x\"", 4, &t), -1);
    /* many items (past the decoder's stack array) */
    char big[4096] = "[";
    for (int i = 0; i < 200; i++) strcat(big, i ? ",\"ab\"" : "\"ab\"");
    strcat(big, "]");
    assert_int_equal(tp_cond_decode(&d, big, strlen(big), &t), 0);
    assert_int_equal(t.ncond, 200);
    assert_memory_equal(t.cond[199].ptr, "ab", 2);
    tp_cond_decoder_free(&d);
}

static void test_uuid(void **state) {
    (void)state;
    uint8_t id[16], back[16];
    for (int i = 0; i < 16; i++) id[i] = (uint8_t)(i * 17 + 3);
    char text[37];
    tp_uuid_format(id, text);
    assert_string_equal(text, "03142536-4758-697a-8b9c-adbecfe0f102");
    assert_int_equal(tp_uuid_parse(text, 36, back), 0);
    assert_memory_equal(id, back, 16);
    assert_int_equal(tp_uuid_parse("03142536475869 7a8b9cadbecfe0f102", 33, back), -1);
    assert_int_equal(tp_uuid_parse("0314253647", 10, back), -1);
    assert_int_equal(tp_uuid_parse("03142536-4758-697a-8b9c-adbecfe0f1020", 37, back), -1);
}

static void test_store_urls_masked(void **state) {
    (void)state;
    char out[256];
    tp_log_redact("clickhouse://h:8123/db?user=u&password=s3cret", out, sizeof out);
    assert_null(strstr(out, "s3cret"));
    tp_log_redact("postgresql://tp:s3cret@127.0.0.1:5432/db", out, sizeof out);
    assert_null(strstr(out, "s3cret"));
    /* an unknown scheme is refused with a list of the known ones, password masked */
    tp_sink *s;
    char err[512];
    assert_int_not_equal(tp_sink_open("mysql://u:s3cret@h/db", &s, err, sizeof err), 0);
    assert_null(strstr(err, "s3cret"));
    assert_non_null(strstr(err, "sqlite:"));
    assert_non_null(strstr(err, "clickhouse:"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cond_shapes),       cmocka_unit_test(test_cond_escapes_against_jansson),
        cmocka_unit_test(test_cond_decode),       cmocka_unit_test(test_uuid),
        cmocka_unit_test(test_store_urls_masked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
