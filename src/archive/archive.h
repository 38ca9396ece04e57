/* archive.h - the Parquet archive of a store, day by day, after the fact
 * (`tickpipe archive`).
 *
 * Layout (Hive partitions, as DuckDB, Spark, Athena and pyarrow read them):
 *   DIR/table=TABLE/date=YYYY-MM-DD/part-FROM-TO.parquet
 * FROM and TO are the day's bounds in epoch ms: one file per (table, UTC
 * day), holding the day's rows by event time (trade time, candle start,
 * window start, gap start), final candles and averages only.
 *
 * A day is written once: a day whose file exists is skipped, so running
 * the archiver again (or after a crash) never writes a row twice, and a
 * day the store has since trimmed by retention never replaces a fuller
 * file. A file is written as .part-FROM-TO.parquet.tmp in its folder
 * (invisible to *.parquet globs), fsynced and renamed: a reader sees the
 * whole file or none; a crash leaves only a .tmp that the next run
 * replaces. A day with no rows of a table gets no file of that table. */
#ifndef TP_ARCHIVE_H
#define TP_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

#define TP_DAY_MS 86400000LL

/* file:DIR -> DIR (a pointer into url); TP_EINVAL naming the form. */
int tp_archive_url_dir(const char *url, const char **dir, char *err, size_t errlen);

typedef struct tp_archive_stats {
    uint64_t rows[4];   /* by tp_export_table */
    uint64_t files;     /* files published */
    uint64_t days_kept; /* (table, day) files already there, skipped */
    uint64_t not_final; /* candles and averages left out: not final yet */
} tp_archive_stats;

/* Archive the UTC days [day of from_ms, day of to_ms) (to_ms is rounded
 * down to its day) of every table of the store at store_url under dir. */
int tp_archive_days(const char *store_url, const char *dir, int64_t from_ms, int64_t to_ms,
                    tp_archive_stats *st, char *err, size_t errlen);

#endif
