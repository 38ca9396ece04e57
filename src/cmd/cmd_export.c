/* cmd_export.c - `tickpipe export`: one table of a store (trades, candles,
 * averages or gaps) as Parquet (archive/parquet.h), CSV or JSON lines, to a
 * file or standard output.
 *
 * Rows are read through the store's reader operations, which answer the
 * LATEST `limit` rows of a time range, oldest first. So a range is read
 * forward in time windows: a window whose answer fills the page may have
 * lost its oldest rows, so it is read again at half the width; a window
 * that did not fill it is complete, written out, and the next one is twice
 * as wide. Gaps are few and are read in one query per symbol. Rows come out
 * by symbol (the store's order), then by time (candles: 1 s, then 1 min). */
#include "cmd/commands.h"

#include "archive/export.h"
#include "cmd/flags.h"
#include "core/err.h"
#include "core/iso_time.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int parse_time(const char *s, const char *flag, int64_t *ms) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!errno && end != s && !*end && v >= 0) {
        *ms = v;
        return 0;
    }
    if (!tp_iso_parse(s, strlen(s), ms)) return 0;
    return tp_cmd_usage_error(&tp_spec_export,
                              "--%s '%s' is neither epoch milliseconds nor an RFC 3339 time "
                              "(2023-11-14T22:13:20Z)",
                              flag, s);
}

int tp_cmd_export(tp_cmd_args *a, int argc, char **argv, int first_arg) {
    (void)argc;
    (void)argv;
    (void)first_arg;
    char err[512];
    const tp_export_flags *e = &a->export_;
    if (!e->table)
        return tp_cmd_usage_error(&tp_spec_export, "give --table trades, candles, averages or gaps");
    tp_export_opts o = {0};
    o.store = a->store.store;
    o.table = tp_export_table_by_name(e->table);
    o.format = tp_export_format_by_name(e->format ? e->format : "parquet");
    o.symbol = e->symbol;
    if (e->from && parse_time(e->from, "from", &o.from_ms)) return TP_EXIT_USAGE;
    if (e->to && parse_time(e->to, "to", &o.to_ms)) return TP_EXIT_USAGE;
    if (o.from_ms && o.to_ms && o.from_ms >= o.to_ms)
        return tp_cmd_usage_error(&tp_spec_export, "--from must be before --to");
    if (tp_sink_check_reader_url(o.store, err, sizeof err))
        return tp_cmd_usage_error(&tp_spec_export, "%s", err);
    /* export only reads: a SQLite file that is not there is a wrong path,
     * not a store to create */
    if (!strncmp(o.store, "sqlite:", 7)) {
        const char *path = o.store + 7;
        if (!strncmp(path, "//", 2)) path += 2;
        struct stat st;
        if (strcmp(path, ":memory:") && stat(path, &st))
            return tp_cmd_fail(&tp_spec_export, "the SQLite store %s does not exist", path);
    }
    const char *out = e->out ? e->out : "-";
    if (isatty(2)) o.progress = stderr; /* "N rows (SYMBOL)" while it runs */
    uint64_t rows = 0;
    int rc = tp_export_to_path(&o, out, &rows, err, sizeof err);
    if (rc) return tp_cmd_fail(&tp_spec_export, "%s", err);
    fprintf(stderr, "tickpipe export: %llu %s rows to %s\n", (unsigned long long)rows, e->table,
            strcmp(out, "-") ? out : "standard output");
    return 0;
}
