/* cmd_archive.c - `tickpipe archive`: the days of a store as Parquet files
 * under a directory, Hive-partitioned by table and day (archive/archive.h
 * says how a day is never written twice). */
#include "cmd/commands.h"

#include "archive/archive.h"
#include "archive/export.h"
#include "cmd/flags.h"
#include "core/config.h"
#include "core/err.h"
#include "core/iso_time.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int parse_time(const char *s, const char *flag, int64_t *ms) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!errno && end != s && !*end && v >= 0) {
        *ms = v;
        return 0;
    }
    if (!tp_iso_parse(s, strlen(s), ms)) return 0;
    return tp_cmd_usage_error(&tp_spec_archive,
                              "--%s '%s' is neither epoch milliseconds nor an RFC 3339 time "
                              "(2023-11-14T00:00:00Z)",
                              flag, s);
}

int tp_cmd_archive(tp_cmd_args *a, int argc, char **argv, int first_arg) {
    (void)argc;
    (void)argv;
    (void)first_arg;
    char err[512];
    const tp_export_flags *e = &a->export_;
    if (!e->archive) return tp_cmd_usage_error(&tp_spec_archive, "give --archive file:DIR");
    const char *dir;
    if (tp_archive_url_dir(e->archive, &dir, err, sizeof err))
        return tp_cmd_usage_error(&tp_spec_archive, "%s", err);
    const char *store = a->store.store;
    if (tp_sink_check_reader_url(store, err, sizeof err))
        return tp_cmd_usage_error(&tp_spec_archive, "%s", err);
    if (!strncmp(store, "sqlite:", 7)) {
        const char *path = store + 7;
        if (!strncmp(path, "//", 2)) path += 2;
        struct stat st;
        if (strcmp(path, ":memory:") && stat(path, &st))
            return tp_cmd_fail(&tp_spec_archive, "the SQLite store %s does not exist", path);
    }
    /* default: the closed days (an hour past midnight, for late windows to
     * become final) of the last week */
    int64_t to = tp_now_ms() - 3600000, from;
    to -= to % TP_DAY_MS;
    if (e->to && parse_time(e->to, "to", &to)) return TP_EXIT_USAGE;
    from = to - 7 * TP_DAY_MS;
    if (e->from && parse_time(e->from, "from", &from)) return TP_EXIT_USAGE;
    if (from >= to) return tp_cmd_usage_error(&tp_spec_archive, "--from must be before --to");
    if (to / TP_DAY_MS - from / TP_DAY_MS > 366 * 20)
        return tp_cmd_usage_error(&tp_spec_archive, "--from .. --to spans more than 20 years of days");
    tp_archive_stats st;
    int rc = tp_archive_days(store, dir, from, to, &st, err, sizeof err);
    if (rc) return tp_cmd_fail(&tp_spec_archive, "%s", err);
    fprintf(stderr,
            "tickpipe archive: %llu files published under %s (trades=%llu candles=%llu averages=%llu "
            "gaps=%llu), %llu already there (kept), %llu not final yet (left out)\n",
            (unsigned long long)st.files, dir, (unsigned long long)st.rows[TP_EX_TRADES],
            (unsigned long long)st.rows[TP_EX_CANDLES], (unsigned long long)st.rows[TP_EX_AVERAGES],
            (unsigned long long)st.rows[TP_EX_GAPS], (unsigned long long)st.days_kept,
            (unsigned long long)st.not_final);
    return 0;
}
