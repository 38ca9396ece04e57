/* parquet.h - a writer of Apache Parquet files (format 2.x, data pages v1),
 * written from the specification (parquet-format's parquet.thrift): no C
 * Parquet library is packaged for Debian.
 *
 * What it writes: flat schemas of required or optional (nullable) columns
 * of the kinds below; PLAIN values, or RLE_DICTIONARY with a dictionary page
 * for a string column marked `dictionary` (low cardinality: symbols);
 * definition levels (RLE/bit-packed hybrid, width 1) for nullable columns;
 * zstd-compressed pages (libzstd); one data page per column chunk; row
 * groups of at most row_group_rows rows; column statistics (min_value,
 * max_value, null_count; min/max too for the numeric kinds) with a
 * TYPE_ORDER column order. The output is a stream (FILE *): nothing is
 * sought, so it may be a pipe (stdout).
 *
 * Use: open, then per row one set_* (or set_null) per column and end_row,
 * then close (writes the footer). free() without close abandons the file.
 * One writer belongs to one thread. */
#ifndef TP_PARQUET_H
#define TP_PARQUET_H

#include "core/buf.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum tp_pq_kind {
    TP_PQ_BOOL,         /* BOOLEAN */
    TP_PQ_INT32,        /* INT32 */
    TP_PQ_INT64,        /* INT64 */
    TP_PQ_DOUBLE,       /* DOUBLE */
    TP_PQ_STRING,       /* BYTE_ARRAY, logical STRING (UTF-8) */
    TP_PQ_UUID,         /* FIXED_LEN_BYTE_ARRAY(16), logical UUID */
    TP_PQ_TIMESTAMP_MS, /* INT64, logical TIMESTAMP(MILLIS, UTC) */
} tp_pq_kind;

typedef struct tp_pq_column {
    const char *name;
    tp_pq_kind kind;
    int nullable;   /* OPTIONAL (else REQUIRED) */
    int dictionary; /* TP_PQ_STRING only: RLE_DICTIONARY */
} tp_pq_column;

typedef struct tp_pq_options {
    size_t row_group_rows;  /* 0 = 131072 */
    int zstd_level;         /* 0 = 3 */
    const char *created_by; /* NULL = "tickpipe version X" */
} tp_pq_options;

typedef struct tp_pq_writer tp_pq_writer;

/* Writes the leading magic to f (which stays the caller's). */
int tp_pq_open(tp_pq_writer **out, FILE *f, const tp_pq_column *cols, size_t ncols, const tp_pq_options *opt,
               char *err, size_t errlen);
/* One value of column col of the current row; the kind must match. */
int tp_pq_set_i64(tp_pq_writer *w, size_t col, int64_t v); /* INT64, TIMESTAMP_MS, INT32 */
int tp_pq_set_double(tp_pq_writer *w, size_t col, double v);
int tp_pq_set_bool(tp_pq_writer *w, size_t col, int v);
int tp_pq_set_str(tp_pq_writer *w, size_t col, const char *p, size_t n);
int tp_pq_set_uuid(tp_pq_writer *w, size_t col, const uint8_t id[16]);
int tp_pq_set_null(tp_pq_writer *w, size_t col); /* nullable columns only */
/* Ends the row: every column must have had its value (TP_ESTATE naming the
 * one that did not). May write a row group. */
int tp_pq_end_row(tp_pq_writer *w, char *err, size_t errlen);
uint64_t tp_pq_rows(const tp_pq_writer *w);
/* Bytes written to f so far. */
uint64_t tp_pq_bytes(const tp_pq_writer *w);
/* Writes the last row group and the footer, flushes f and frees w. */
int tp_pq_close(tp_pq_writer *w, char *err, size_t errlen);
/* Frees w without finishing the file. NULL is fine. */
void tp_pq_free(tp_pq_writer *w);

/* The RLE/bit-packed hybrid encoding of n values of bit_width bits (1..32),
 * appended to out (no length prefix): runs of 8 or more equal values as
 * RLE runs, the rest bit-packed in groups of 8 (the last group padded with
 * zeros). 0, or -1 on out of memory. Exposed for the unit tests. */
int tp_pq_rle_hybrid(tp_buf *out, const uint32_t *v, size_t n, int bit_width);

#endif
