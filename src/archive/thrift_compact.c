/* thrift_compact.c - see thrift_compact.h. */
#include "archive/thrift_compact.h"

#include <string.h>

void tp_tc_init(tp_tc *w, tp_buf *out) {
    memset(w, 0, sizeof *w);
    w->out = out;
}

int tp_tc_failed(const tp_tc *w) {
    return w->failed;
}

static void put(tp_tc *w, const void *p, size_t n) {
    if (w->failed) return;
    if (tp_buf_append(w->out, p, n)) w->failed = 1;
}

static void put_byte(tp_tc *w, uint8_t b) {
    put(w, &b, 1);
}

void tp_tc_varint(tp_tc *w, uint64_t v) {
    uint8_t tmp[10];
    size_t n = 0;
    while (v >= 0x80) {
        tmp[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (uint8_t)v;
    put(w, tmp, n);
}

void tp_tc_zigzag(tp_tc *w, int64_t v) {
    tp_tc_varint(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

void tp_tc_struct_begin(tp_tc *w) {
    if (w->depth >= TP_TC_MAX_DEPTH) {
        w->failed = 1;
        return;
    }
    w->last[w->depth++] = 0;
}

void tp_tc_struct_end(tp_tc *w) {
    put_byte(w, 0);
    if (w->depth > 0) w->depth--;
}

void tp_tc_field(tp_tc *w, int16_t id, int type) {
    if (w->depth == 0) {
        w->failed = 1;
        return;
    }
    int16_t *last = &w->last[w->depth - 1];
    int delta = id - *last;
    if (delta > 0 && delta <= 15) {
        put_byte(w, (uint8_t)(delta << 4 | type));
    } else {
        put_byte(w, (uint8_t)type);
        tp_tc_zigzag(w, id);
    }
    *last = id;
}

void tp_tc_bool_field(tp_tc *w, int16_t id, int v) {
    tp_tc_field(w, id, v ? TP_TC_TRUE : TP_TC_FALSE);
}

void tp_tc_i8_field(tp_tc *w, int16_t id, int8_t v) {
    tp_tc_field(w, id, TP_TC_BYTE);
    put_byte(w, (uint8_t)v);
}

void tp_tc_i32_field(tp_tc *w, int16_t id, int32_t v) {
    tp_tc_field(w, id, TP_TC_I32);
    tp_tc_zigzag(w, v);
}

void tp_tc_i64_field(tp_tc *w, int16_t id, int64_t v) {
    tp_tc_field(w, id, TP_TC_I64);
    tp_tc_zigzag(w, v);
}

void tp_tc_binary(tp_tc *w, const void *p, size_t n) {
    tp_tc_varint(w, n);
    put(w, p, n);
}

void tp_tc_binary_field(tp_tc *w, int16_t id, const void *p, size_t n) {
    tp_tc_field(w, id, TP_TC_BINARY);
    tp_tc_binary(w, p, n);
}

void tp_tc_empty_struct_field(tp_tc *w, int16_t id) {
    tp_tc_field(w, id, TP_TC_STRUCT);
    put_byte(w, 0);
}

void tp_tc_list(tp_tc *w, int elem, uint32_t n) {
    if (n < 15) {
        put_byte(w, (uint8_t)(n << 4 | elem));
    } else {
        put_byte(w, (uint8_t)(0xf0 | elem));
        tp_tc_varint(w, n);
    }
}
