/* export.h - the tables of tickpipe's files (export and archive): their
 * columns, one row writer for the three formats, and the export of a
 * store's table read through its reader operations (sink/sink.h).
 *
 * The tables (Parquet types; csv and jsonl give timestamps as epoch
 * milliseconds, ids as UUID text, booleans as true/false):
 *   trades   id UUID, symbol STRING (dictionary), price DOUBLE,
 *            volume DOUBLE, ts TIMESTAMP(ms, UTC), conditions STRING
 *            (nullable; a JSON array, jsonl: the array itself),
 *            ingest_ts TIMESTAMP
 *   candles  symbol, interval_s INT32, start TIMESTAMP, open, high, low,
 *            close, volume DOUBLE, vwap DOUBLE (nullable: no volume),
 *            trade_count INT64, final BOOLEAN, incomplete BOOLEAN,
 *            updated_ts TIMESTAMP
 *   averages id UUID, symbol, window_start, window_end TIMESTAMP,
 *            price_volume_multiply DOUBLE, trade_count INT64, final,
 *            incomplete BOOLEAN, ingest_ts TIMESTAMP
 *   gaps     symbol, from_ts, to_ts TIMESTAMP, reason STRING (dictionary),
 *            connection INT32, detected_ts TIMESTAMP
 * Every column is required but conditions and vwap. */
#ifndef TP_EXPORT_H
#define TP_EXPORT_H

#include "archive/parquet.h"
#include "sink/sink.h"

#include <stdint.h>
#include <stdio.h>

typedef enum tp_export_table { TP_EX_TRADES, TP_EX_CANDLES, TP_EX_AVERAGES, TP_EX_GAPS } tp_export_table;
typedef enum tp_export_format { TP_EX_PARQUET, TP_EX_CSV, TP_EX_JSONL } tp_export_format;

/* -1 for an unknown name */
int tp_export_table_by_name(const char *name);
int tp_export_format_by_name(const char *name);
const char *tp_export_table_name(int table);
const tp_pq_column *tp_export_columns(int table, size_t *n);

/* One row writer of one table in one format onto a FILE (which stays the
 * caller's). */
typedef struct tp_rowout tp_rowout;
int tp_rowout_open(tp_rowout **out, FILE *f, int table, int format, char *err, size_t errlen);
int tp_rowout_trade(tp_rowout *w, const tp_trade *t, int64_t ingest_ms, char *err, size_t errlen);
int tp_rowout_candle(tp_rowout *w, const tp_candle *c, char *err, size_t errlen);
int tp_rowout_average(tp_rowout *w, const tp_average *a, char *err, size_t errlen);
int tp_rowout_gap(tp_rowout *w, const tp_gap_row *g, char *err, size_t errlen);
uint64_t tp_rowout_rows(const tp_rowout *w);
/* Finish the file (Parquet's footer) and free w. */
int tp_rowout_close(tp_rowout *w, char *err, size_t errlen);
void tp_rowout_free(tp_rowout *w);

typedef struct tp_export_opts {
    const char *store;  /* a store URL with reader operations */
    int table, format;  /* tp_export_table, tp_export_format */
    const char *symbol; /* NULL = every symbol with stored trades */
    int64_t from_ms;    /* inclusive; 0 = no bound */
    int64_t to_ms;      /* exclusive; 0 = no bound */
    int page_rows;      /* rows per store query; 0 = 20000 */
    int final_only;     /* candles and averages: only final ones */
    int gaps_by_start;  /* gaps: only those that start at or after from_ms
                           (else: those that overlap the range) */
    FILE *progress;     /* non-NULL: a line "N rows (SYMBOL)" rewritten
                           there at most twice a second (a terminal) */
} tp_export_opts;

/* Every row of the table within the options into w, read from s;
 * *not_final (may be NULL) the rows final_only left out. */
int tp_export_rows(const tp_export_opts *o, tp_sink *s, tp_rowout *w, uint64_t *not_final, char *err,
                   size_t errlen);
/* Open the store, export into path ("-" = stdout; a file is written as
 * PATH.tmp and renamed when complete), close; *rows the count. */
int tp_export_to_path(const tp_export_opts *o, const char *path, uint64_t *rows, char *err, size_t errlen);

#endif
