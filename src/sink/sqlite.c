/* sqlite.c - the embedded store (`sqlite:PATH`), tickpipe's default.
 *
 * Design:
 * - WAL journal, so readers (a second tp_sink on the same file, `serve`,
 *   the sqlite3 shell) never block the writer and see the last commit.
 * - synchronous=FULL: commit() fsyncs the WAL, so a commit that returned 0
 *   survives power loss. That is what lets the processor commit its Kafka
 *   offsets after commit(); NORMAL would only survive a process crash. The
 *   cost is one fsync per unit of work, and units are thousands of rows.
 * - One transaction per unit of work, begun lazily by the first write and
 *   ended by commit(); every row goes through a prepared statement.
 * - Idempotent writes: trades ON CONFLICT DO NOTHING (the key includes the
 *   id); candles and averages are upserted on their natural key, and a
 *   non-final version never replaces a final one.
 * - busy_timeout so concurrent writers/readers wait instead of failing.
 * - Schema from sql/sqlite.sql (embedded) when the database is new; the
 *   schema_version table says which migrations in k_migrations still run.
 *
 * One thread per store handle (see sink.h). */
#include "sink/rowfmt.h"
#include "sink/sink.h"

#include "core/dirs.h"
#include "core/err.h"
#include "core/log.h"

#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const char tp_sql_sqlite[];

/* k_migrations[i] takes the schema from version i to i + 1. Version 1 is
 * the whole of sql/sqlite.sql; later versions append ALTERs here. */
static const char *const k_migrations[] = {
    tp_sql_sqlite,
    /* 2: windows that overlap a feed gap are marked (process/window.h) */
    "ALTER TABLE running_averages_15_sec ADD COLUMN incomplete INTEGER NOT NULL DEFAULT 0;"
    " ALTER TABLE candles ADD COLUMN incomplete INTEGER NOT NULL DEFAULT 0",
    /* 3: a gap's missing venue trade ids (feed/gaps.h), NULL when unknown;
     * feed_gaps itself is created here if the file has none yet */
    "CREATE TABLE IF NOT EXISTS feed_gaps (symbol TEXT NOT NULL, from_ms INTEGER NOT NULL,"
    " to_ms INTEGER NOT NULL, reason TEXT NOT NULL, detected_at INTEGER NOT NULL,"
    " connection INTEGER NOT NULL, PRIMARY KEY (symbol, from_ms, connection)) WITHOUT ROWID;"
    " ALTER TABLE feed_gaps ADD COLUMN from_trade_id INTEGER;"
    " ALTER TABLE feed_gaps ADD COLUMN to_trade_id INTEGER",
};
#define SCHEMA_VERSION ((int)(sizeof k_migrations / sizeof k_migrations[0]))

#define BUSY_TIMEOUT_MS 10000

typedef struct sqlite_store {
    sqlite3 *db;
    char path[1024];
    int in_tx;
    sqlite3_stmt *ins_trade, *ins_avg, *ins_candle;
    tp_buf cond; /* conditions JSON scratch */
    tp_cond_decoder dec;
} sqlite_store;

static int db_err(sqlite_store *s, int rc, char *err, size_t errlen, const char *what) {
    int code = (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)                           ? TP_EUNAVAIL
               : (rc == SQLITE_FULL || rc == SQLITE_IOERR || rc == SQLITE_CANTOPEN) ? TP_EIO
                                                                                    : TP_EREFUSED;
    int full = (rc & 0xff) == SQLITE_FULL || (s->db && sqlite3_system_errno(s->db) == ENOSPC);
    if (full) code = TP_EIO;
    return tp_seterr(err, errlen, code, "SQLite %s: %s: %s%s", s->path, what,
                     s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc),
                     full ? " (the disk holding it is full: free space there; writes resume by themselves)"
                          : "");
}

static int exec(sqlite_store *s, const char *sql, char *err, size_t errlen) {
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK) return db_err(s, rc, err, errlen, sql);
    return 0;
}

static int read_version(sqlite_store *s, int *version, char *err, size_t errlen) {
    *version = 0;
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(
        s->db, "SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_version'", -1, &st, NULL);
    if (rc != SQLITE_OK) return db_err(s, rc, err, errlen, "reading the schema");
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE) return 0;
    if (rc != SQLITE_ROW) return db_err(s, rc, err, errlen, "reading the schema");
    rc = sqlite3_prepare_v2(s->db, "SELECT max(version) FROM schema_version", -1, &st, NULL);
    if (rc != SQLITE_OK) return db_err(s, rc, err, errlen, "reading schema_version");
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW) return db_err(s, rc, err, errlen, "reading schema_version");
    return 0;
}

/* Bring the schema to SCHEMA_VERSION under a write lock, so two processes
 * opening a new file at once do not both create it. */
static int migrate(sqlite_store *s, char *err, size_t errlen) {
    int v;
    int rc = read_version(s, &v, err, errlen);
    if (rc) return rc;
    if (v == SCHEMA_VERSION) return 0;
    if (v > SCHEMA_VERSION)
        return tp_seterr(
            err, errlen, TP_EREFUSED,
            "SQLite %s: schema version %d is newer than this tickpipe knows (%d); upgrade tickpipe", s->path,
            v, SCHEMA_VERSION);
    if ((rc = exec(s, "BEGIN IMMEDIATE", err, errlen))) return rc;
    if ((rc = read_version(s, &v, err, errlen))) goto fail;
    if (!v &&
        (rc = exec(s, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)", err, errlen)))
        goto fail;
    for (; v < SCHEMA_VERSION; v++) {
        if ((rc = exec(s, k_migrations[v], err, errlen))) goto fail;
        char sql[96];
        snprintf(sql, sizeof sql, "INSERT INTO schema_version(version) VALUES (%d)", v + 1);
        if ((rc = exec(s, sql, err, errlen))) goto fail;
        tp_info("sqlite", "%s: schema migrated to version %d", s->path, v + 1);
    }
    if ((rc = exec(s, "COMMIT", err, errlen))) goto fail;
    return 0;
fail:
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static void sqlite_close(void *state) {
    sqlite_store *s = state;
    if (!s) return;
    if (s->in_tx) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_finalize(s->ins_trade);
    sqlite3_finalize(s->ins_avg);
    sqlite3_finalize(s->ins_candle);
    sqlite3_close(s->db);
    tp_buf_free(&s->cond);
    tp_cond_decoder_free(&s->dec);
    free(s);
}

static int prepare(sqlite_store *s, const char *sql, sqlite3_stmt **st, char *err, size_t errlen) {
    int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
    return rc == SQLITE_OK ? 0 : db_err(s, rc, err, errlen, "preparing a statement");
}

static int sqlite_open(const char *url, void **state, char *err, size_t errlen) {
    const char *path = url + strlen("sqlite:");
    if (!strncmp(path, "//", 2)) path += 2; /* sqlite:///abs/path */
    if (!*path)
        return tp_seterr(err, errlen, TP_EINVAL, "store URL '%s' has no path; use sqlite:data/tickpipe.db",
                         url);
    sqlite_store *s = calloc(1, sizeof *s);
    if (!s) return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    snprintf(s->path, sizeof s->path, "%s", path);
    char derr[400];
    int rc = 0;
    if (strcmp(path, ":memory:") && tp_mkdir_parents(path, derr, sizeof derr)) {
        rc = tp_seterr(err, errlen, TP_EIO, "SQLite %s: %s", path, derr);
        goto fail;
    }
    int src =
        sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (src != SQLITE_OK) {
        rc = tp_seterr(err, errlen, TP_EIO, "SQLite %s: cannot open: %s", path,
                       s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(src));
        goto fail;
    }
    sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
    /* auto_vacuum must precede the first table: a new file gives freed pages
     * back to the file system (retention's incremental_vacuum); on an older
     * file the pragma does nothing until a VACUUM. */
    if ((rc = exec(s,
                   "PRAGMA auto_vacuum=INCREMENTAL; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                   " PRAGMA foreign_keys=OFF",
                   err, errlen)))
        goto fail;
    if ((rc = migrate(s, err, errlen))) goto fail;
    /* feed_gaps: created (and given its trade-id columns) by migration 3 */
    if ((rc = prepare(s,
                      "INSERT INTO trades(uuid, symbol, trade_conditions, price, volume, trade_timestamp,"
                      " ingest_timestamp) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
                      " ON CONFLICT(symbol, trade_timestamp, uuid) DO NOTHING",
                      &s->ins_trade, err, errlen)))
        goto fail;
    if ((rc = prepare(s,
                      "INSERT INTO running_averages_15_sec(uuid, symbol, window_start, window_end,"
                      " price_volume_multiply, trade_count, ingest_timestamp, final, incomplete)"
                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
                      " ON CONFLICT(symbol, window_start) DO UPDATE SET uuid = excluded.uuid,"
                      " window_end = excluded.window_end,"
                      " price_volume_multiply = excluded.price_volume_multiply,"
                      " trade_count = excluded.trade_count, ingest_timestamp = excluded.ingest_timestamp,"
                      " final = excluded.final,"
                      " incomplete = max(incomplete, excluded.incomplete)"
                      " WHERE excluded.final >= running_averages_15_sec.final",
                      &s->ins_avg, err, errlen)))
        goto fail;
    if ((rc = prepare(s,
                      "INSERT INTO candles(symbol, interval_s, start_ms, open, high, low, close, volume,"
                      " vwap, trade_count, updated_ms, final, incomplete)"
                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
                      " ON CONFLICT(symbol, interval_s, start_ms) DO UPDATE SET open = excluded.open,"
                      " high = excluded.high, low = excluded.low, close = excluded.close,"
                      " volume = excluded.volume, vwap = excluded.vwap, trade_count = excluded.trade_count,"
                      " updated_ms = excluded.updated_ms, final = excluded.final,"
                      " incomplete = max(incomplete, excluded.incomplete)"
                      " WHERE excluded.final >= candles.final",
                      &s->ins_candle, err, errlen)))
        goto fail;
    *state = s;
    return 0;
fail:
    sqlite_close(s);
    return rc;
}

static int begin(sqlite_store *s, char *err, size_t errlen) {
    if (s->in_tx) return 0;
    int rc = exec(s, "BEGIN IMMEDIATE", err, errlen);
    if (!rc) s->in_tx = 1;
    return rc;
}

/* A failed write loses the unit (sink.h): roll back so the caller's retry
 * starts clean. */
static int fail_unit(sqlite_store *s, int rc) {
    if (s->in_tx) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    s->in_tx = 0;
    return rc;
}

static int step_reset(sqlite_store *s, sqlite3_stmt *st, char *err, size_t errlen, const char *what) {
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return fail_unit(s, db_err(s, rc, err, errlen, what));
    return 0;
}

static int sqlite_write_trades(void *state, const tp_trade *t, size_t n, int64_t ingest_ms, char *err,
                               size_t errlen) {
    sqlite_store *s = state;
    int rc = begin(s, err, errlen);
    if (rc) return rc;
    sqlite3_stmt *st = s->ins_trade;
    char uuid[37];
    for (size_t i = 0; i < n; i++) {
        tp_uuid_format(t[i].id, uuid);
        sqlite3_bind_text(st, 1, uuid, 36, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, t[i].symbol.ptr ? t[i].symbol.ptr : "", (int)t[i].symbol.len, SQLITE_STATIC);
        if (t[i].ncond == TP_COND_NULL) {
            sqlite3_bind_null(st, 3);
        } else {
            tp_buf_reset(&s->cond);
            if (tp_cond_json(&s->cond, &t[i]))
                return fail_unit(s, tp_seterr(err, errlen, TP_ENOMEM, "out of memory"));
            sqlite3_bind_text(st, 3, s->cond.len ? (const char *)s->cond.p : "", (int)s->cond.len,
                              SQLITE_STATIC);
        }
        sqlite3_bind_double(st, 4, t[i].price);
        sqlite3_bind_double(st, 5, t[i].volume);
        sqlite3_bind_int64(st, 6, t[i].ts_ms);
        sqlite3_bind_int64(st, 7, ingest_ms);
        if ((rc = step_reset(s, st, err, errlen, "writing trades"))) return rc;
    }
    return 0;
}

static int sqlite_write_averages(void *state, const tp_average *a, size_t n, char *err, size_t errlen) {
    sqlite_store *s = state;
    int rc = begin(s, err, errlen);
    if (rc) return rc;
    sqlite3_stmt *st = s->ins_avg;
    char uuid[37];
    for (size_t i = 0; i < n; i++) {
        tp_uuid_format(a[i].id, uuid);
        sqlite3_bind_text(st, 1, uuid, 36, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, a[i].symbol.ptr ? a[i].symbol.ptr : "", (int)a[i].symbol.len, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, a[i].window_start_ms);
        sqlite3_bind_int64(st, 4, a[i].window_end_ms);
        sqlite3_bind_double(st, 5, a[i].price_volume_multiply);
        sqlite3_bind_int64(st, 6, a[i].trade_count);
        sqlite3_bind_int64(st, 7, a[i].ingest_ms);
        sqlite3_bind_int(st, 8, a[i].final ? 1 : 0);
        sqlite3_bind_int(st, 9, a[i].incomplete ? 1 : 0);
        if ((rc = step_reset(s, st, err, errlen, "writing running averages"))) return rc;
    }
    return 0;
}

static int sqlite_write_candles(void *state, const tp_candle *c, size_t n, char *err, size_t errlen) {
    sqlite_store *s = state;
    int rc = begin(s, err, errlen);
    if (rc) return rc;
    sqlite3_stmt *st = s->ins_candle;
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_text(st, 1, c[i].symbol.ptr ? c[i].symbol.ptr : "", (int)c[i].symbol.len, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, c[i].interval_s);
        sqlite3_bind_int64(st, 3, c[i].start_ms);
        sqlite3_bind_double(st, 4, c[i].open);
        sqlite3_bind_double(st, 5, c[i].high);
        sqlite3_bind_double(st, 6, c[i].low);
        sqlite3_bind_double(st, 7, c[i].close);
        sqlite3_bind_double(st, 8, c[i].volume);
        if (isnan(c[i].vwap))
            sqlite3_bind_null(st, 9);
        else
            sqlite3_bind_double(st, 9, c[i].vwap);
        sqlite3_bind_int64(st, 10, c[i].trade_count);
        sqlite3_bind_int64(st, 11, c[i].updated_ms);
        sqlite3_bind_int(st, 12, c[i].final ? 1 : 0);
        sqlite3_bind_int(st, 13, c[i].incomplete ? 1 : 0);
        if ((rc = step_reset(s, st, err, errlen, "writing candles"))) return rc;
    }
    return 0;
}

static int sqlite_commit(void *state, char *err, size_t errlen) {
    sqlite_store *s = state;
    if (!s->in_tx) return 0;
    int rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) return fail_unit(s, db_err(s, rc, err, errlen, "commit"));
    s->in_tx = 0;
    return 0;
}

/* Range bounds shared by the time-series queries: 0 means unbounded. */
static void bind_range(sqlite3_stmt *st, int first, const tp_query *q) {
    sqlite3_bind_int64(st, first, q->from_ms > 0 ? q->from_ms : INT64_MIN);
    sqlite3_bind_int64(st, first + 1, q->to_ms > 0 ? q->to_ms : INT64_MAX);
    sqlite3_bind_int64(st, first + 2, q->limit > 0 ? q->limit : -1);
}

static int query_prepare(sqlite_store *s, const char *sql, const tp_query *q, sqlite3_stmt **st, char *err,
                         size_t errlen) {
    if (q && (!q->symbol || !*q->symbol)) return tp_seterr(err, errlen, TP_EINVAL, "query needs a symbol");
    int rc = sqlite3_prepare_v2(s->db, sql, -1, st, NULL);
    if (rc != SQLITE_OK) return db_err(s, rc, err, errlen, "preparing a query");
    return 0;
}

static tp_str col_str(sqlite3_stmt *st, int i) {
    const char *p = (const char *)sqlite3_column_text(st, i);
    tp_str r = {p ? p : "", (uint32_t)sqlite3_column_bytes(st, i)};
    return r;
}

static int query_end(sqlite_store *s, sqlite3_stmt *st, int rc, char *err, size_t errlen) {
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        rc = db_err(s, rc, err, errlen, "query");
    else
        rc = 0;
    sqlite3_finalize(st);
    return rc;
}

static int sqlite_query_symbols(void *state, tp_symbol_row_fn fn, void *ud, char *err, size_t errlen) {
    sqlite_store *s = state;
    sqlite3_stmt *st;
    int rc = query_prepare(s,
                           "SELECT symbol, count(*), (SELECT price FROM trades l WHERE l.symbol = t.symbol"
                           " ORDER BY trade_timestamp DESC, uuid DESC LIMIT 1), max(trade_timestamp)"
                           " FROM trades t GROUP BY symbol ORDER BY symbol",
                           NULL, &st, err, errlen);
    if (rc) return rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        tp_symbol_info r = {col_str(st, 0), sqlite3_column_int64(st, 1), sqlite3_column_double(st, 2),
                            sqlite3_column_int64(st, 3)};
        if (fn(ud, &r)) break;
    }
    return query_end(s, st, rc, err, errlen);
}

/* Distinct symbols by a loose index scan over the trades key (one seek per
 * symbol, not a scan of every row), each with its newest trade time. */
static int sqlite_query_latest(void *state, tp_symbol_row_fn fn, void *ud, char *err, size_t errlen) {
    sqlite_store *s = state;
    sqlite3_stmt *st;
    int rc = query_prepare(s,
                           "WITH RECURSIVE syms(sym) AS (SELECT (SELECT min(symbol) FROM trades)"
                           " UNION ALL SELECT (SELECT min(symbol) FROM trades WHERE symbol > syms.sym)"
                           " FROM syms WHERE syms.sym IS NOT NULL)"
                           " SELECT sym, (SELECT max(trade_timestamp) FROM trades WHERE symbol = syms.sym)"
                           " FROM syms WHERE sym IS NOT NULL",
                           NULL, &st, err, errlen);
    if (rc) return rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        tp_symbol_info r = {col_str(st, 0), -1, NAN, sqlite3_column_int64(st, 1)};
        if (fn(ud, &r)) break;
    }
    return query_end(s, st, rc, err, errlen);
}

static int sqlite_query_trades(void *state, const tp_query *q, tp_trade_row_fn fn, void *ud, char *err,
                               size_t errlen) {
    sqlite_store *s = state;
    sqlite3_stmt *st;
    int rc = query_prepare(s,
                           "SELECT * FROM (SELECT uuid, symbol, trade_conditions, price, volume,"
                           " trade_timestamp, ingest_timestamp FROM trades WHERE symbol = ?1"
                           " AND trade_timestamp >= ?2 AND trade_timestamp < ?3"
                           " ORDER BY trade_timestamp DESC, uuid DESC LIMIT ?4)"
                           " ORDER BY trade_timestamp, uuid",
                           q, &st, err, errlen);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, q->symbol, -1, SQLITE_STATIC);
    bind_range(st, 2, q);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        tp_trade t;
        memset(&t, 0, sizeof t);
        tp_str id = col_str(st, 0);
        if (tp_uuid_parse(id.ptr, id.len, t.id)) memset(t.id, 0, sizeof t.id);
        t.symbol = col_str(st, 1);
        const char *cj = (const char *)sqlite3_column_text(st, 2);
        if (tp_cond_decode(&s->dec, cj, (size_t)sqlite3_column_bytes(st, 2), &t)) {
            sqlite3_finalize(st);
            return tp_seterr(err, errlen, TP_EPARSE, "SQLite %s: trade %.36s has bad trade_conditions",
                             s->path, id.ptr);
        }
        t.price = sqlite3_column_double(st, 3);
        t.volume = sqlite3_column_double(st, 4);
        t.ts_ms = sqlite3_column_int64(st, 5);
        int64_t ingest = sqlite3_column_int64(st, 6);
        t.recv_ms = ingest;
        if (fn(ud, &t, ingest)) break;
    }
    return query_end(s, st, rc, err, errlen);
}

static int sqlite_query_candles(void *state, const tp_query *q, tp_candle_row_fn fn, void *ud, char *err,
                                size_t errlen) {
    sqlite_store *s = state;
    sqlite3_stmt *st;
    int rc =
        query_prepare(s,
                      "SELECT * FROM (SELECT symbol, interval_s, start_ms, open, high, low, close, volume,"
                      " vwap, trade_count, updated_ms, final, incomplete FROM candles WHERE symbol = ?1"
                      " AND interval_s = ?5 AND start_ms >= ?2 AND start_ms < ?3"
                      " ORDER BY start_ms DESC LIMIT ?4) ORDER BY start_ms",
                      q, &st, err, errlen);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, q->symbol, -1, SQLITE_STATIC);
    bind_range(st, 2, q);
    sqlite3_bind_int(st, 5, q->interval_s > 0 ? q->interval_s : 1);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        tp_candle c = {
            .symbol = col_str(st, 0),
            .interval_s = sqlite3_column_int(st, 1),
            .start_ms = sqlite3_column_int64(st, 2),
            .open = sqlite3_column_double(st, 3),
            .high = sqlite3_column_double(st, 4),
            .low = sqlite3_column_double(st, 5),
            .close = sqlite3_column_double(st, 6),
            .volume = sqlite3_column_double(st, 7),
            .vwap = sqlite3_column_type(st, 8) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 8),
            .trade_count = sqlite3_column_int64(st, 9),
            .updated_ms = sqlite3_column_int64(st, 10),
            .final = sqlite3_column_int(st, 11),
            .incomplete = sqlite3_column_int(st, 12),
        };
        if (fn(ud, &c)) break;
    }
    return query_end(s, st, rc, err, errlen);
}

static int sqlite_query_averages(void *state, const tp_query *q, tp_average_row_fn fn, void *ud, char *err,
                                 size_t errlen) {
    sqlite_store *s = state;
    sqlite3_stmt *st;
    int rc =
        query_prepare(s,
                      "SELECT * FROM (SELECT uuid, symbol, window_start, window_end, price_volume_multiply,"
                      " trade_count, ingest_timestamp, final, incomplete FROM running_averages_15_sec"
                      " WHERE symbol = ?1 AND window_start >= ?2 AND window_start < ?3"
                      " ORDER BY window_start DESC LIMIT ?4) ORDER BY window_start",
                      q, &st, err, errlen);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, q->symbol, -1, SQLITE_STATIC);
    bind_range(st, 2, q);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        tp_average a;
        memset(&a, 0, sizeof a);
        tp_str id = col_str(st, 0);
        if (tp_uuid_parse(id.ptr, id.len, a.id)) memset(a.id, 0, sizeof a.id);
        a.symbol = col_str(st, 1);
        a.window_start_ms = sqlite3_column_int64(st, 2);
        a.window_end_ms = sqlite3_column_int64(st, 3);
        a.price_volume_multiply = sqlite3_column_double(st, 4);
        a.trade_count = sqlite3_column_int64(st, 5);
        a.ingest_ms = sqlite3_column_int64(st, 6);
        a.final = sqlite3_column_int(st, 7);
        a.incomplete = sqlite3_column_int(st, 8);
        if (fn(ud, &a)) break;
    }
    return query_end(s, st, rc, err, errlen);
}

static int sqlite_write_gaps(void *state, const tp_gap_row *g, size_t n, char *err, size_t errlen) {
    sqlite_store *s = state;
    int rc = begin(s, err, errlen);
    if (rc) return rc;
    sqlite3_stmt *st;
    int prc =
        sqlite3_prepare_v2(s->db,
                           "INSERT INTO feed_gaps(symbol, from_ms, to_ms, reason, detected_at, connection,"
                           " from_trade_id, to_trade_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                           " ON CONFLICT (symbol, from_ms, connection) DO UPDATE SET to_ms = excluded.to_ms,"
                           " reason = excluded.reason, detected_at = excluded.detected_at,"
                           " from_trade_id = excluded.from_trade_id, to_trade_id = excluded.to_trade_id"
                           " WHERE excluded.detected_at < feed_gaps.detected_at",
                           -1, &st, NULL);
    if (prc != SQLITE_OK) return fail_unit(s, db_err(s, prc, err, errlen, "preparing the gap insert"));
    for (size_t i = 0; i < n && !rc; i++) {
        sqlite3_bind_text(st, 1, g[i].symbol.ptr ? g[i].symbol.ptr : "", (int)g[i].symbol.len, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, g[i].from_ms);
        sqlite3_bind_int64(st, 3, g[i].to_ms);
        sqlite3_bind_text(st, 4, g[i].reason, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, g[i].detected_at_ms);
        sqlite3_bind_int(st, 6, g[i].connection);
        if (g[i].from_trade_id) {
            sqlite3_bind_int64(st, 7, g[i].from_trade_id);
            sqlite3_bind_int64(st, 8, g[i].to_trade_id);
        } else {
            sqlite3_bind_null(st, 7);
            sqlite3_bind_null(st, 8);
        }
        rc = step_reset(s, st, err, errlen, "writing feed gaps");
    }
    sqlite3_finalize(st);
    return rc;
}

static int sqlite_query_gaps(void *state, const tp_query *q, tp_gap_row_fn fn, void *ud, char *err,
                             size_t errlen) {
    sqlite_store *s = state;
    sqlite3_stmt *st;
    int rc = query_prepare(s,
                           "SELECT symbol, from_ms, to_ms, reason, detected_at, connection,"
                           " from_trade_id, to_trade_id FROM ("
                           " SELECT * FROM feed_gaps WHERE symbol = ?1 AND to_ms >= ?2 AND from_ms < ?3"
                           " ORDER BY from_ms DESC, connection DESC LIMIT ?4) ORDER BY from_ms, connection",
                           q, &st, err, errlen);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, q->symbol, -1, SQLITE_STATIC);
    bind_range(st, 2, q);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        tp_gap_row g = {
            .symbol = {(const char *)sqlite3_column_text(st, 0), (uint32_t)sqlite3_column_bytes(st, 0)},
            .from_ms = sqlite3_column_int64(st, 1),
            .to_ms = sqlite3_column_int64(st, 2),
            .reason = (const char *)sqlite3_column_text(st, 3),
            .detected_at_ms = sqlite3_column_int64(st, 4),
            .connection = sqlite3_column_int(st, 5),
            .from_trade_id = sqlite3_column_int64(st, 6), /* NULL reads as 0 */
            .to_trade_id = sqlite3_column_int64(st, 7),
        };
        if (fn(ud, &g)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    return query_end(s, st, rc, err, errlen);
}

static const tp_sink_reader_ops sqlite_reader = {
    .query_symbols = sqlite_query_symbols,
    .query_trades = sqlite_query_trades,
    .query_candles = sqlite_query_candles,
    .query_averages = sqlite_query_averages,
};

/* Symbols of `table` by a loose index scan (the key starts with symbol). */
static int list_symbols(sqlite_store *s, const char *table, char ***out, size_t *n, char *err,
                        size_t errlen) {
    char sql[400];
    snprintf(
        sql, sizeof sql,
        "WITH RECURSIVE syms(sym) AS (SELECT (SELECT min(symbol) FROM %s) UNION ALL"
        " SELECT (SELECT min(symbol) FROM %s WHERE symbol > syms.sym) FROM syms WHERE syms.sym IS NOT NULL)"
        " SELECT sym FROM syms WHERE sym IS NOT NULL",
        table, table);
    sqlite3_stmt *st;
    int rc = query_prepare(s, sql, NULL, &st, err, errlen);
    if (rc) return rc;
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nn = realloc(*out, cap * sizeof *nn);
            if (!nn) break;
            *out = nn;
        }
        (*out)[*n] = strdup((const char *)sqlite3_column_text(st, 0));
        if (!(*out)[*n]) break;
        (*n)++;
    }
    if (rc == SQLITE_ROW) rc = SQLITE_NOMEM;
    return query_end(s, st, rc, err, errlen);
}

static void free_symbols(char **v, size_t n) {
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

/* Retention: per table and symbol, delete the oldest expired rows through
 * the key (symbol first, then time), at most max_rows per table, in one
 * short transaction; then give up to 1,000 free pages back to the file. */
static int sqlite_retain(void *state, const tp_retention *r, int64_t now_ms, int max_rows, uint64_t *deleted,
                         char *err, size_t errlen) {
    sqlite_store *s = state;
    static const struct {
        const char *table, *del;
        int interval;
    } k[] = {
        {"trades",
         "DELETE FROM trades WHERE (symbol, trade_timestamp, uuid) IN (SELECT symbol, trade_timestamp, uuid"
         " FROM trades WHERE symbol = ?1 AND trade_timestamp < ?2 ORDER BY trade_timestamp LIMIT ?3)",
         0},
        {"candles",
         "DELETE FROM candles WHERE (symbol, interval_s, start_ms) IN (SELECT symbol, interval_s, start_ms"
         " FROM candles WHERE symbol = ?1 AND interval_s = ?4 AND start_ms < ?2 ORDER BY start_ms LIMIT ?3)",
         1},
        {"candles",
         "DELETE FROM candles WHERE (symbol, interval_s, start_ms) IN (SELECT symbol, interval_s, start_ms"
         " FROM candles WHERE symbol = ?1 AND interval_s = ?4 AND start_ms < ?2 ORDER BY start_ms LIMIT ?3)",
         60},
        {"running_averages_15_sec",
         "DELETE FROM running_averages_15_sec WHERE (symbol, window_start) IN (SELECT symbol, window_start"
         " FROM running_averages_15_sec WHERE symbol = ?1 AND window_start < ?2 ORDER BY window_start LIMIT "
         "?3)",
         0},
        {"feed_gaps",
         "DELETE FROM feed_gaps WHERE (symbol, from_ms, connection) IN (SELECT symbol, from_ms, connection"
         " FROM feed_gaps WHERE symbol = ?1 AND to_ms < ?2 LIMIT ?3)",
         0},
    };
    const int64_t keep[] = {r->trades_ms, r->candles_1s_ms, r->candles_1m_ms, r->averages_ms, r->gaps_ms};
    *deleted = 0;
    if (s->in_tx)
        return tp_seterr(err, errlen, TP_ESTATE, "SQLite %s: retention inside a unit of work", s->path);
    int rc = 0;
    for (size_t t = 0; t < sizeof k / sizeof k[0] && !rc; t++) {
        if (keep[t] <= 0) continue;
        char **syms;
        size_t nsyms;
        if ((rc = list_symbols(s, k[t].table, &syms, &nsyms, err, errlen))) break;
        sqlite3_stmt *st = NULL;
        rc = query_prepare(s, k[t].del, NULL, &st, err, errlen);
        if (!rc) rc = begin(s, err, errlen);
        int left = max_rows;
        for (size_t i = 0; i < nsyms && !rc && left > 0; i++) {
            sqlite3_bind_text(st, 1, syms[i], -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 2, now_ms - keep[t]);
            sqlite3_bind_int(st, 3, left);
            if (k[t].interval) sqlite3_bind_int(st, 4, k[t].interval);
            int src = sqlite3_step(st);
            sqlite3_reset(st);
            if (src != SQLITE_DONE) {
                rc = fail_unit(s, db_err(s, src, err, errlen, "deleting expired rows"));
                break;
            }
            int n = sqlite3_changes(s->db);
            left -= n;
            *deleted += (uint64_t)n;
        }
        if (st) sqlite3_finalize(st);
        free_symbols(syms, nsyms);
        if (!rc) rc = sqlite_commit(s, err, errlen);
    }
    if (!rc && *deleted) {
        int vrc = sqlite3_exec(s->db, "PRAGMA incremental_vacuum(1000)", NULL, NULL, NULL);
        if (vrc != SQLITE_OK) rc = db_err(s, vrc, err, errlen, "incremental vacuum");
    }
    return rc;
}

/* A path is required (sqlite: alone is a usage error, not a store that
 * cannot open). */
static int sqlite_check_url(const char *url, char *err, size_t errlen) {
    const char *path = url + strlen("sqlite:");
    if (!strncmp(path, "//", 2)) path += 2;
    if (!*path)
        return tp_seterr(err, errlen, TP_EINVAL, "store URL '%s' has no path; use sqlite:data/tickpipe.db",
                         url);
    return 0;
}

const tp_sink_ops tp_sink_sqlite_ops = {
    .scheme = "sqlite",
    .alias = NULL,
    .open = sqlite_open,
    .write_trades = sqlite_write_trades,
    .write_averages = sqlite_write_averages,
    .write_candles = sqlite_write_candles,
    .commit = sqlite_commit,
    .close = sqlite_close,
    .reader = &sqlite_reader,
    .query_latest = sqlite_query_latest,
    .write_gaps = sqlite_write_gaps,
    .query_gaps = sqlite_query_gaps,
    .retain = sqlite_retain,
    .check_url = sqlite_check_url,
};
