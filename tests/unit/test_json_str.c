/* test_json_str.c - the JSON string writer (core/json_str.h) against
 * jansson as the oracle: every escaped string parses back to its input
 * (valid UTF-8) or to valid JSON with U+FFFD (repair mode), the short
 * escapes are used, and a short buffer gets a prefix and the full length. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/json_str.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* Escape s, quote it, parse it with jansson; the decoded bytes in out. */
static json_t *roundtrip(const char *s, size_t n, unsigned flags) {
    char *buf = malloc(n * TP_JSON_ESCAPE_MAX + 2);
    assert_non_null(buf);
    buf[0] = '"';
    size_t k = tp_json_escape_to(buf + 1, n * TP_JSON_ESCAPE_MAX, s, n, flags);
    assert_true(k <= n * TP_JSON_ESCAPE_MAX);
    buf[k + 1] = '"';
    json_error_t je;
    json_t *j = json_loadb(buf, k + 2, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (!j) fail_msg("jansson rejects %.*s: %s", (int)(k + 2), buf, je.text);
    free(buf);
    return j;
}

static void test_known(void **state) {
    (void)state;
    char out[64];
    size_t n = tp_json_escape_to(out, sizeof out, "a\"b\\c\n\r\t\b\f\x01\x1f", 12, 0);
    assert_int_equal(n, 29);
    assert_memory_equal(out, "a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001f", 29);
    /* non-ASCII copied as is, unless repairing an invalid byte */
    n = tp_json_escape_to(out, sizeof out, "\xc3\xa4\xff", 3, 0);
    assert_int_equal(n, 3);
    n = tp_json_escape_to(out, sizeof out, "\xc3\xa4\xff", 3, TP_JSON_REPAIR_UTF8);
    assert_int_equal(n, 8);
    assert_memory_equal(out, "\xc3\xa4\\ufffd", 8);
    /* too small: a prefix that ends at an escape boundary, and the full length */
    memset(out, '#', sizeof out);
    n = tp_json_escape_to(out, 4, "ab\"cd", 5, 0);
    assert_int_equal(n, 6);
    assert_memory_equal(out, "ab\\\"##", 6);
    memset(out, '#', sizeof out);
    n = tp_json_escape_to(out, 3, "ab\"cd", 5, 0);
    assert_int_equal(n, 6);
    assert_memory_equal(out, "ab#", 3);
    assert_int_equal(tp_json_escape_to(NULL, 0, "abc", 3, 0), 3);
    tp_buf b = {0};
    assert_int_equal(tp_json_escape(&b, "", 0), 0);
    assert_int_equal(tp_json_escape(&b, "x\"", 2), 0);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.p, "x\\\"", 3);
    tp_buf_free(&b);
}

static void test_random(void **state) {
    (void)state;
    srand(7);
    unsigned char s[64];
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = (size_t)(rand() % (int)sizeof s);
        for (size_t i = 0; i < n; i++) {
            int r = rand() % 8;
            s[i] = (unsigned char)(r < 3 ? rand() % 0x20 : r < 5 ? "\"\\/a"[rand() % 4] : rand() % 256);
        }
        json_t *j = roundtrip((const char *)s, n, TP_JSON_REPAIR_UTF8);
        json_decref(j);
        /* valid UTF-8 (ASCII here) reads back byte for byte without repair */
        for (size_t i = 0; i < n; i++) s[i] &= 0x7f;
        j = roundtrip((const char *)s, n, 0);
        assert_int_equal(json_string_length(j), n);
        assert_memory_equal(json_string_value(j), s, n);
        json_decref(j);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known),
        cmocka_unit_test(test_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
