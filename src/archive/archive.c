/* archive.c - see archive.h. */
#include "archive/archive.h"

#include "archive/export.h"
#include "core/err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int tp_archive_url_dir(const char *url, const char **dir, char *err, size_t errlen) {
    if (strncmp(url, "file:", 5) || !url[5])
        return tp_seterr(err, errlen, TP_EINVAL, "archive URL '%s': give file:DIR (a directory)", url);
    *dir = url + 5;
    if (!strncmp(*dir, "//", 2)) *dir += 2;
    if (!**dir) return tp_seterr(err, errlen, TP_EINVAL, "archive URL '%s': no directory after file:", url);
    return 0;
}

/* mkdir -p */
static int make_dirs(char *path, char *err, size_t errlen) {
    for (char *p = path + 1;; p++) {
        if (*p == '/' || !*p) {
            char c = *p;
            *p = 0;
            int r = mkdir(path, 0755);
            int e = errno;
            *p = c;
            if (r && e != EEXIST)
                return tp_seterr(err, errlen, TP_EIO, "cannot create %s: %s", path, strerror(e));
            if (!c) return 0;
        }
    }
}

static void sync_dir(const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

/* One (table, day) file. */
static int archive_one(tp_sink *s, const char *dir, int table, int64_t day, tp_archive_stats *st, char *err,
                       size_t errlen) {
    char date[16], folder[4096], path[4200], tmp[4200];
    time_t secs = (time_t)(day / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(date, sizeof date, "%Y-%m-%d", &tm);
    snprintf(folder, sizeof folder, "%s/table=%s/date=%s", dir, tp_export_table_name(table), date);
    snprintf(path, sizeof path, "%s/part-%lld-%lld.parquet", folder, (long long)day,
             (long long)(day + TP_DAY_MS));
    snprintf(tmp, sizeof tmp, "%s/.part-%lld-%lld.parquet.tmp", folder, (long long)day,
             (long long)(day + TP_DAY_MS));
    struct stat sb;
    if (!stat(path, &sb)) {
        st->days_kept++;
        return 0;
    }
    int rc = make_dirs(folder, err, errlen);
    if (rc) return rc;
    FILE *f = fopen(tmp, "wb");
    if (!f) return tp_seterr(err, errlen, TP_EIO, "cannot create %s: %s", tmp, strerror(errno));
    tp_export_opts o = {.table = table,
                        .format = TP_EX_PARQUET,
                        .from_ms = day,
                        .to_ms = day + TP_DAY_MS,
                        .final_only = 1,
                        .gaps_by_start = 1};
    tp_rowout *w = NULL;
    uint64_t nf = 0, rows = 0;
    rc = tp_rowout_open(&w, f, table, TP_EX_PARQUET, err, errlen);
    if (!rc) rc = tp_export_rows(&o, s, w, &nf, err, errlen);
    if (!rc) {
        rows = tp_rowout_rows(w);
        rc = tp_rowout_close(w, err, errlen);
    } else {
        tp_rowout_free(w);
    }
    if (!rc && (fflush(f) || fsync(fileno(f))))
        rc = tp_seterr(err, errlen, TP_EIO, "write %s: %s", tmp, strerror(errno));
    if (fclose(f) && !rc) rc = tp_seterr(err, errlen, TP_EIO, "write %s: %s", tmp, strerror(errno));
    if (rc || rows == 0) {
        unlink(tmp);
        if (!rc && !rmdir(folder)) { /* only if empty, and its table's folder too */
            char *slash = strrchr(folder, '/');
            if (slash) *slash = 0;
            rmdir(folder);
        }
        st->not_final += nf;
        return rc;
    }
    if (rename(tmp, path)) {
        rc = tp_seterr(err, errlen, TP_EIO, "rename %s: %s", tmp, strerror(errno));
        unlink(tmp);
        return rc;
    }
    sync_dir(folder);
    st->rows[table] += rows;
    st->not_final += nf;
    st->files++;
    return 0;
}

int tp_archive_days(const char *store_url, const char *dir, int64_t from_ms, int64_t to_ms,
                    tp_archive_stats *st, char *err, size_t errlen) {
    memset(st, 0, sizeof *st);
    int64_t first = from_ms - from_ms % TP_DAY_MS, end = to_ms - to_ms % TP_DAY_MS;
    if (first >= end) return 0;
    char *d = strdup(dir);
    if (!d) return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    int rc = make_dirs(d, err, errlen);
    free(d);
    if (rc) return rc;
    tp_sink *s = NULL;
    rc = tp_sink_open(store_url, &s, err, errlen);
    if (rc) return rc;
    for (int table = TP_EX_TRADES; !rc && table <= TP_EX_GAPS; table++) {
        if (table == TP_EX_GAPS && !tp_sink_can_query_gaps(s)) continue;
        for (int64_t day = first; !rc && day < end; day += TP_DAY_MS)
            rc = archive_one(s, dir, table, day, st, err, errlen);
    }
    tp_sink_close(s);
    return rc;
}
