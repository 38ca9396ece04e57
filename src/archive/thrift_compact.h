/* thrift_compact.h - a writer of Apache Thrift's compact protocol, enough
 * for Parquet's metadata (FileMetaData, PageHeader): structs, fields of
 * bool, i8, i16, i32, i64 and binary, lists of structs, i32 and binary.
 *
 * Errors stick: after an out-of-memory every call is a no-op and
 * tp_tc_failed() says so, so a caller checks once at the end. */
#ifndef TP_THRIFT_COMPACT_H
#define TP_THRIFT_COMPACT_H

#include "core/buf.h"

#include <stddef.h>
#include <stdint.h>

/* Compact protocol type codes (field headers and list headers). */
enum {
    TP_TC_TRUE = 1,
    TP_TC_FALSE = 2,
    TP_TC_BYTE = 3,
    TP_TC_I16 = 4,
    TP_TC_I32 = 5,
    TP_TC_I64 = 6,
    TP_TC_DOUBLE = 7,
    TP_TC_BINARY = 8,
    TP_TC_LIST = 9,
    TP_TC_STRUCT = 12,
};

#define TP_TC_MAX_DEPTH 16

typedef struct tp_tc {
    tp_buf *out;
    int16_t last[TP_TC_MAX_DEPTH]; /* last field id written, per open struct */
    int depth;
    int failed;
} tp_tc;

void tp_tc_init(tp_tc *w, tp_buf *out);
int tp_tc_failed(const tp_tc *w);

/* Raw pieces (also the unit tests' subjects). */
void tp_tc_varint(tp_tc *w, uint64_t v);
void tp_tc_zigzag(tp_tc *w, int64_t v); /* zigzag then varint */

/* Structs: begin/end around the fields of a nested struct value; the
 * outermost struct also needs them (end writes its stop byte). */
void tp_tc_struct_begin(tp_tc *w);
void tp_tc_struct_end(tp_tc *w);

/* A field header; the value follows (for everything but bool). */
void tp_tc_field(tp_tc *w, int16_t id, int type);

void tp_tc_bool_field(tp_tc *w, int16_t id, int v);
void tp_tc_i8_field(tp_tc *w, int16_t id, int8_t v);
void tp_tc_i32_field(tp_tc *w, int16_t id, int32_t v);
void tp_tc_i64_field(tp_tc *w, int16_t id, int64_t v);
void tp_tc_binary_field(tp_tc *w, int16_t id, const void *p, size_t n);
/* Field id then an empty struct value (Parquet's unions of empty structs:
 * StringType, MilliSeconds). */
void tp_tc_empty_struct_field(tp_tc *w, int16_t id);
/* A list header of n elements of type elem (the elements follow: structs
 * with struct_begin/end, i32 with tp_tc_zigzag, binary with
 * tp_tc_binary). */
void tp_tc_list(tp_tc *w, int elem, uint32_t n);
void tp_tc_binary(tp_tc *w, const void *p, size_t n);

#endif
