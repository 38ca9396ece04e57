/* postgresql.c - the PostgreSQL store (`postgresql://...`, `postgres://...`,
 * any libpq connection URI).
 *
 * Design:
 * - write_* only append rows, in COPY text format, to per-table buffers in
 *   memory; commit() sends the unit in one transaction: COPY into session
 *   temp staging tables (unlogged, ON COMMIT DELETE ROWS), then one
 *   INSERT ... SELECT per table with ON CONFLICT. COPY is PostgreSQL's bulk
 *   path; the staging step is what lets conflict handling make it
 *   idempotent (trades: DO NOTHING; candles and averages: DO UPDATE, where a
 *   non-final version never replaces a final one).
 * - Several versions of one candle/average in one unit: DISTINCT ON keeps
 *   the last final one if any, else the last one, which is what writing
 *   them one by one would leave.
 * - Times are timestamptz (Grafana reads them as time columns), converted
 *   from epoch ms by exact integer interval arithmetic, read back with
 *   extract(epoch ...) which is numeric and exact.
 * - A dead connection is reset at the next call (PQreset) and the staging
 *   tables are made again; errors say "PostgreSQL at HOST:PORT: ... (is the
 *   server running?)", HOST:PORT as the URL names them.
 * - The URL is checked before libpq connects (pg_parse_url, also the
 *   store's check_url, so a bad one is a usage error at start): libpq's
 *   own parser, PQconninfoParse, so the check and the connection read it
 *   alike, plus rules of our own (tp_sink_url_syntax, a numeric port, no
 *   '@' in a host). libpq's parse errors quote the URL or a piece of it,
 *   password and all: only their text before the quote is kept. Every
 *   error is scrubbed of the password again by sink.c.
 * - Schema from sql/postgresql.sql under an advisory lock, versioned by
 *   schema_version.
 *
 * One thread per store handle (see sink.h). */
#include "sink/rowfmt.h"
#include "sink/sink.h"

#include "core/err.h"
#include "core/log.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

extern const char tp_sql_postgresql[];

/* k_migrations[i] takes the schema from version i to i + 1. */
static const char *const k_migrations[] = {
    tp_sql_postgresql,
    /* 2: windows that overlap a feed gap are marked (process/window.h) */
    "ALTER TABLE running_averages_15_sec ADD COLUMN IF NOT EXISTS incomplete smallint NOT NULL DEFAULT 0;"
    " ALTER TABLE candles ADD COLUMN IF NOT EXISTS incomplete smallint NOT NULL DEFAULT 0",
    /* 3: a gap's missing venue trade ids (feed/gaps.h), NULL when unknown;
     * feed_gaps itself is created here if the database has none yet */
    "CREATE TABLE IF NOT EXISTS feed_gaps (symbol text NOT NULL, from_ms int8 NOT NULL,"
    " to_ms int8 NOT NULL, reason text NOT NULL, detected_at int8 NOT NULL,"
    " connection int4 NOT NULL, PRIMARY KEY (symbol, from_ms, connection));"
    " ALTER TABLE feed_gaps ADD COLUMN IF NOT EXISTS from_trade_id int8,"
    " ADD COLUMN IF NOT EXISTS to_trade_id int8",
};
#define SCHEMA_VERSION ((int)(sizeof k_migrations / sizeof k_migrations[0]))
#define MIGRATION_LOCK_KEY 0x7469636b70697065LL /* "tickpipe" */

/* epoch ms <-> timestamptz, exactly */
#define TS(x) "(timestamptz 'epoch' + (" x ") * interval '1 millisecond')"
#define MS(x) "(extract(epoch from " x ") * 1000)::int8"

typedef struct pg_store {
    PGconn *conn;
    char where[256];     /* "host:port" for messages */
    char url_where[256]; /* the same as the URL names them, or "" */
    int session_ready;
    tp_buf trades, averages, candles; /* COPY text rows of the unit */
    size_t n_trades, n_averages, n_candles;
    tp_buf gaps; /* feed gaps of the unit: 6 NUL-terminated parameters each */
    size_t n_gaps;
    int64_t seq;
    tp_buf cond;
    tp_cond_decoder dec;
    int64_t time_sec; /* copy_time's cache */
    char time_text[32];
    size_t time_len;
} pg_store;

/* Server NOTICEs ("relation already exists, skipping") are not for users. */
static void quiet_notice(void *arg, const char *msg) {
    (void)arg;
    tp_debug("postgresql", "%s", msg);
}

/* libpq's message without what it quotes: its URL parser's errors end in
 * ': "<the URL or a piece of it>"', password included. Keeps the text
 * before the first quoted string longer than 3 bytes ("]" and "=" name a
 * character, and stay). */
static void unquoted(const char *msg, char *out, size_t n) {
    snprintf(out, n, "%s", msg ? msg : "");
    out[strcspn(out, "\n")] = '\0';
    for (char *q = strchr(out, '"'); q; q = strchr(q + 1, '"')) {
        char *close = strchr(q + 1, '"');
        if (!close || close - q - 1 > 3) {
            *q = '\0';
            break;
        }
        q = close;
    }
    size_t len = strlen(out);
    while (len && (out[len - 1] == ' ' || out[len - 1] == ':')) out[--len] = '\0';
}

static const char *opt_val(const PQconninfoOption *o, const char *key) {
    for (; o && o->keyword; o++)
        if (!strcmp(o->keyword, key)) return o->val;
    return NULL;
}

/* A port list as libpq takes it ("5432" or "5432,5433"; empty = 5432):
 * each a number from 1 to 65535. */
static int ports_ok(const char *p) {
    if (!p) return 1;
    for (;;) {
        size_t n = strcspn(p, ",");
        long v = 0;
        for (size_t i = 0; i < n; i++) {
            if (p[i] < '0' || p[i] > '9' || v > 65535) return 0;
            v = v * 10 + (p[i] - '0');
        }
        if (n && (v < 1 || v > 65535)) return 0;
        if (!p[n]) return 1;
        p += n + 1;
    }
}

/* "host:port[,host2:port2]" as the URL names them (an IPv6 address in
 * brackets), for messages; empty if the URL names no host (libpq then
 * uses its defaults). */
static void url_where(const PQconninfoOption *o, char *out, size_t n) {
    const char *h = opt_val(o, "host"), *p = opt_val(o, "port");
    if (!h || !*h) h = opt_val(o, "hostaddr");
    out[0] = '\0';
    if (!h || !*h) return;
    size_t w = 0;
    const char *pp = p && *p ? p : "";
    for (int i = 0; w < n; i++) {
        size_t hl = strcspn(h, ","), pl = strcspn(pp, ",");
        int v6 = memchr(h, ':', hl) != NULL;
        w += (size_t)snprintf(out + w, n - w, "%s%s%.*s%s:%.*s", i ? "," : "", v6 ? "[" : "", (int)hl, h,
                              v6 ? "]" : "", (int)(pl ? pl : 4), pl ? pp : "5432");
        if (!h[hl]) break;
        h += hl + 1;
        if (pp[pl]) pp += pl + 1; /* one port for all hosts, or one each */
    }
}

/* Checks url as described at the top; 0 with where set (if given), or
 * TP_EINVAL with err saying what is wrong, never quoting the URL. */
static int pg_parse_url(const char *url, char *where, size_t wherelen, char *err, size_t errlen) {
    if (strncmp(url, "postgresql://", 13) && strncmp(url, "postgres://", 11))
        return tp_seterr(err, errlen, TP_EINVAL,
                         "PostgreSQL store URL: it must look like postgresql://USER:PASSWORD@HOST:5432/DB");
    int rc = tp_sink_url_syntax(url, "PostgreSQL", err, errlen);
    if (rc) return rc;
    /* libpq ends the user:password at the first '@' or '/', not at '?'
     * as the others (and tp_log_redact) do */
    const char *auth = strstr(url, "://") + 3;
    size_t an = strcspn(auth, "@/");
    if (auth[an] == '@' && memchr(auth, '?', an))
        return tp_seterr(err, errlen, TP_EINVAL,
                         "PostgreSQL store URL: a '?' before the '@'; percent-encode '?' in a user or "
                         "password as %%3F");
    char *msg = NULL;
    PQconninfoOption *o = PQconninfoParse(url, &msg);
    if (!o) {
        char why[256];
        unquoted(msg ? msg : "out of memory", why, sizeof why);
        PQfreemem(msg);
        return tp_seterr(err, errlen, TP_EINVAL,
                         "PostgreSQL store URL could not be parsed: %s; it must look like "
                         "postgresql://USER:PASSWORD@HOST:5432/DB (percent-encode special characters)",
                         why);
    }
    const char *h = opt_val(o, "host");
    if (!ports_ok(opt_val(o, "port")))
        rc = tp_seterr(err, errlen, TP_EINVAL,
                       "PostgreSQL store URL: a port is a number from 1 to 65535 (percent-encode ':', '/', "
                       "'?' and '@' in a password)");
    else if (h && strchr(h, '@'))
        rc = tp_seterr(err, errlen, TP_EINVAL,
                       "PostgreSQL store URL: an '@' in the host; percent-encode '@' in a password as %%40");
    else if (where)
        url_where(o, where, wherelen);
    PQconninfoFree(o);
    return rc;
}

static int pg_check_url(const char *url, char *err, size_t errlen) {
    return pg_parse_url(url, NULL, 0, err, errlen);
}

/* The server for messages: the URL's, else the one libpq chose. */
static void set_where(pg_store *s) {
    if (s->url_where[0]) {
        snprintf(s->where, sizeof s->where, "%s", s->url_where);
        return;
    }
    const char *h = s->conn ? PQhost(s->conn) : NULL, *p = s->conn ? PQport(s->conn) : NULL;
    snprintf(s->where, sizeof s->where, "%s:%s", h && *h ? h : "localhost", p && *p ? p : "5432");
}

/* First line of libpq's message, without the trailing newline. */
static void first_line(const char *msg, char *out, size_t n) {
    snprintf(out, n, "%s", msg ? msg : "");
    out[strcspn(out, "\n")] = '\0';
}

static int conn_err(pg_store *s, char *err, size_t errlen, const char *what) {
    char line[512];
    first_line(PQerrorMessage(s->conn), line, sizeof line);
    set_where(s);
    return tp_seterr(err, errlen, TP_EUNAVAIL, "PostgreSQL at %s: %s: %s (is the server running?)", s->where,
                     what, line);
}

/* Error of a failed command: connection lost (retry later) or refused. */
static int res_err(pg_store *s, PGresult *r, char *err, size_t errlen, const char *what) {
    if (PQstatus(s->conn) != CONNECTION_OK) {
        PQclear(r);
        s->session_ready = 0;
        return conn_err(s, err, errlen, what);
    }
    char line[512];
    first_line(r ? PQresultErrorMessage(r) : PQerrorMessage(s->conn), line, sizeof line);
    PQclear(r);
    return tp_seterr(err, errlen, TP_EREFUSED, "PostgreSQL at %s: %s: %s", s->where, what, line);
}

static int exec_ok(pg_store *s, const char *sql, char *err, size_t errlen, const char *what) {
    PGresult *r = PQexec(s->conn, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return res_err(s, r, err, errlen, what);
    PQclear(r);
    return 0;
}

static int migrate(pg_store *s, char *err, size_t errlen) {
    int rc;
    if ((rc = exec_ok(s, "BEGIN", err, errlen, "begin"))) return rc;
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT pg_advisory_xact_lock(%lld)", (long long)MIGRATION_LOCK_KEY);
    if ((rc = exec_ok(s, sql, err, errlen, "taking the schema lock"))) goto fail;
    if ((rc = exec_ok(s, "CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)", err, errlen,
                      "creating schema_version")))
        goto fail;
    PGresult *r = PQexec(s->conn, "SELECT coalesce(max(version), 0) FROM schema_version");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        rc = res_err(s, r, err, errlen, "reading schema_version");
        goto fail;
    }
    int v = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    if (v > SCHEMA_VERSION) {
        rc = tp_seterr(
            err, errlen, TP_EREFUSED,
            "PostgreSQL at %s: schema version %d is newer than this tickpipe knows (%d); upgrade tickpipe",
            s->where, v, SCHEMA_VERSION);
        goto fail;
    }
    for (; v < SCHEMA_VERSION; v++) {
        if ((rc = exec_ok(s, k_migrations[v], err, errlen, "creating the schema"))) goto fail;
        snprintf(sql, sizeof sql, "INSERT INTO schema_version(version) VALUES (%d)", v + 1);
        if ((rc = exec_ok(s, sql, err, errlen, "recording the schema version"))) goto fail;
        tp_info("postgresql", "%s: schema migrated to version %d", s->where, v + 1);
    }
    /* feed_gaps is created if missing rather than by a migration (a new
     * table alone, so an older database simply gains it), under the schema
     * lock: two CREATE TABLE IF NOT EXISTS at once collide in pg_type */
    if ((rc = exec_ok(s,
                      "CREATE TABLE IF NOT EXISTS feed_gaps (symbol text NOT NULL, from_ms int8 NOT NULL,"
                      " to_ms int8 NOT NULL, reason text NOT NULL, detected_at int8 NOT NULL,"
                      " connection int4 NOT NULL, PRIMARY KEY (symbol, from_ms, connection))",
                      err, errlen, "creating feed_gaps")))
        goto fail;
    return exec_ok(s, "COMMIT", err, errlen, "commit");
fail:
    PQclear(PQexec(s->conn, "ROLLBACK"));
    return rc;
}

/* Per-connection setup: the staging tables live as long as the session. */
static int session_setup(pg_store *s, char *err, size_t errlen) {
    static const char *const sql =
        "SET client_min_messages = warning;"
        "CREATE TEMP TABLE IF NOT EXISTS tp_stage_trades (LIKE trades) ON COMMIT DELETE ROWS;"
        "CREATE TEMP TABLE IF NOT EXISTS tp_stage_averages (seq int8, uuid uuid, symbol text, ws int8, we "
        "int8,"
        " pv float8, n int8, ingest int8, final bool, inc int2) ON COMMIT DELETE ROWS;"
        "CREATE TEMP TABLE IF NOT EXISTS tp_stage_candles (seq int8, symbol text, iv int4, start int8,"
        " open float8, high float8, low float8, close float8, volume float8, vwap float8, n int8, upd int8,"
        " final bool, inc int2) ON COMMIT DELETE ROWS;";
    int rc = exec_ok(s, sql, err, errlen, "creating staging tables");
    if (!rc) s->session_ready = 1;
    return rc;
}

/* A live connection with its staging tables, resetting a dead one. */
static int ensure(pg_store *s, char *err, size_t errlen) {
    if (PQstatus(s->conn) != CONNECTION_OK) {
        s->session_ready = 0;
        PQreset(s->conn);
        if (PQstatus(s->conn) != CONNECTION_OK) return conn_err(s, err, errlen, "cannot connect");
        tp_info("postgresql", "reconnected to %s", s->where);
    }
    return s->session_ready ? 0 : session_setup(s, err, errlen);
}

static void drop_unit(pg_store *s) {
    tp_buf_reset(&s->trades);
    tp_buf_reset(&s->averages);
    tp_buf_reset(&s->candles);
    tp_buf_reset(&s->gaps);
    s->n_trades = s->n_averages = s->n_candles = s->n_gaps = 0;
    s->seq = 0;
}

static void pg_close(void *state) {
    pg_store *s = state;
    if (!s) return;
    PQfinish(s->conn);
    tp_buf_free(&s->trades);
    tp_buf_free(&s->averages);
    tp_buf_free(&s->candles);
    tp_buf_free(&s->gaps);
    tp_buf_free(&s->cond);
    tp_cond_decoder_free(&s->dec);
    free(s);
}

static int pg_open(const char *url, void **state, char *err, size_t errlen) {
    pg_store *s = calloc(1, sizeof *s);
    if (!s) return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    int rc = pg_parse_url(url, s->url_where, sizeof s->url_where, err, errlen);
    if (rc) {
        free(s);
        return rc;
    }
    /* Our defaults first: values in the URL override them. */
    const char *const keys[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *const vals[] = {"10", "tickpipe", url, NULL};
    s->conn = PQconnectdbParams(keys, vals, 1);
    if (!s->conn) {
        rc = tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
        goto fail;
    }
    PQsetNoticeProcessor(s->conn, quiet_notice, NULL);
    set_where(s);
    if (PQstatus(s->conn) != CONNECTION_OK) {
        rc = conn_err(s, err, errlen, "cannot connect");
        goto fail;
    }
    if ((rc = migrate(s, err, errlen)) || (rc = session_setup(s, err, errlen))) goto fail;
    *state = s;
    return 0;
fail:
    pg_close(s);
    return rc;
}

/* ---- COPY text encoding ---- */

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if it is not one.
 * NUL counts as invalid: PostgreSQL text cannot hold it. */
static size_t utf8_len(const unsigned char *p, size_t n) {
    unsigned c = p[0];
    if (c >= 0x01 && c < 0x80) return 1;
    size_t len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (!len || len > n) return 0;
    for (size_t i = 1; i < len; i++)
        if ((p[i] & 0xc0) != 0x80) return 0;
    if (c == 0xe0 && p[1] < 0xa0) return 0;  /* overlong */
    if (c == 0xed && p[1] >= 0xa0) return 0; /* surrogate */
    if (c == 0xf0 && p[1] < 0x90) return 0;  /* overlong */
    if (c == 0xf4 && p[1] >= 0x90) return 0; /* past U+10FFFF */
    return len;
}

/* Append text in COPY text format. Bytes PostgreSQL would refuse (NUL,
 * invalid UTF-8) become U+FFFD: one bad string must not make every retry
 * of the unit fail. */
static int copy_text(tp_buf *b, const char *p, size_t n) {
    if (tp_buf_reserve(b, n)) return -1;
    size_t run = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)p[i];
        char e = 0;
        switch (c) {
        case '\\': e = '\\'; break;
        case '\t': e = 't'; break;
        case '\n': e = 'n'; break;
        case '\r': e = 'r'; break;
        default: break;
        }
        if (e) {
            char esc[2] = {'\\', e};
            if (tp_buf_append(b, p + run, i - run) || tp_buf_append(b, esc, 2)) return -1;
            run = ++i;
            continue;
        }
        size_t len = utf8_len((const unsigned char *)p + i, n - i);
        if (len) {
            i += len;
            continue;
        }
        if (tp_buf_append(b, p + run, i - run) || tp_buf_append(b, "\xef\xbf\xbd", 3)) return -1;
        run = ++i;
    }
    return tp_buf_append(b, p + run, n - run);
}

static int copy_fmt(tp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int copy_fmt(tp_buf *b, const char *fmt, ...) {
    if (tp_buf_reserve(b, 64)) return -1;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf((char *)b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0) return -1;
    if ((size_t)n >= b->cap - b->len) {
        if (tp_buf_reserve(b, (size_t)n + 1)) return -1;
        va_start(ap, fmt);
        vsnprintf((char *)b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
    return 0;
}

static int copy_double(tp_buf *b, double d) {
    if (isnan(d)) return copy_fmt(b, "NaN");
    if (isinf(d)) return copy_fmt(b, d > 0 ? "Infinity" : "-Infinity");
    return copy_fmt(b, "%.17g", d);
}

/* jsonb refuses the escape \\u0000 (a NUL in a condition): make it U+FFFD.
 * Only a backslash that is not itself escaped starts an escape. */
static int json_no_nul(tp_buf *b) {
    for (size_t i = 0; i + 6 <= b->len; i++) {
        if (b->p[i] != '\\') continue;
        if (!memcmp(b->p + i, "\\u0000", 6)) memcpy(b->p + i, "\\ufffd", 6);
        i++; /* skip the escaped character */
    }
    return 0;
}

/* A timestamptz literal for epoch ms, "2023-11-14 22:13:20.123+00". The
 * date part is cached per second: trades arrive in time order. */
static int copy_time(pg_store *s, tp_buf *b, int64_t ms) {
    int64_t sec = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    int frac = (int)(ms - sec * 1000);
    if (sec != s->time_sec || !s->time_len) {
        time_t t = (time_t)sec;
        struct tm tm;
        if (!gmtime_r(&t, &tm)) return -1;
        s->time_len = strftime(s->time_text, sizeof s->time_text, "%Y-%m-%d %H:%M:%S", &tm);
        if (!s->time_len) return -1;
        s->time_sec = sec;
    }
    char tail[8] = {
        '.', (char)('0' + frac / 100), (char)('0' + frac / 10 % 10), (char)('0' + frac % 10), '+', '0', '0'};
    return tp_buf_append(b, s->time_text, s->time_len) || tp_buf_append(b, tail, 7);
}

static int pg_write_trades(void *state, const tp_trade *t, size_t n, int64_t ingest_ms, char *err,
                           size_t errlen) {
    pg_store *s = state;
    tp_buf *b = &s->trades;
    char uuid[37];
    for (size_t i = 0; i < n; i++) {
        tp_uuid_format(t[i].id, uuid);
        int bad = tp_buf_append(b, uuid, 36) || tp_buf_append(b, "\t", 1) ||
                  copy_text(b, t[i].symbol.ptr ? t[i].symbol.ptr : "", t[i].symbol.len) ||
                  tp_buf_append(b, "\t", 1);
        if (!bad && t[i].ncond == TP_COND_NULL) {
            bad = tp_buf_append(b, "\\N", 2);
        } else if (!bad) {
            tp_buf_reset(&s->cond);
            bad = tp_cond_json(&s->cond, &t[i]) || json_no_nul(&s->cond) ||
                  copy_text(b, (const char *)s->cond.p, s->cond.len);
        }
        bad = bad || tp_buf_append(b, "\t", 1) || copy_double(b, t[i].price) || tp_buf_append(b, "\t", 1) ||
              copy_double(b, t[i].volume) || tp_buf_append(b, "\t", 1) || copy_time(s, b, t[i].ts_ms) ||
              tp_buf_append(b, "\t", 1) || copy_time(s, b, ingest_ms) || tp_buf_append(b, "\n", 1);
        if (bad) {
            drop_unit(s);
            return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
        }
    }
    s->n_trades += n;
    return 0;
}

static int pg_write_averages(void *state, const tp_average *a, size_t n, char *err, size_t errlen) {
    pg_store *s = state;
    tp_buf *b = &s->averages;
    char uuid[37];
    for (size_t i = 0; i < n; i++) {
        tp_uuid_format(a[i].id, uuid);
        int bad = copy_fmt(b, "%" PRId64 "\t%s\t", s->seq++, uuid) ||
                  copy_text(b, a[i].symbol.ptr ? a[i].symbol.ptr : "", a[i].symbol.len) ||
                  copy_fmt(b, "\t%" PRId64 "\t%" PRId64 "\t", a[i].window_start_ms, a[i].window_end_ms) ||
                  copy_double(b, a[i].price_volume_multiply) ||
                  copy_fmt(b, "\t%" PRId64 "\t%" PRId64 "\t%c\t%d\n", a[i].trade_count, a[i].ingest_ms,
                           a[i].final ? 't' : 'f', a[i].incomplete ? 1 : 0);
        if (bad) {
            drop_unit(s);
            return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
        }
    }
    s->n_averages += n;
    return 0;
}

static int pg_write_candles(void *state, const tp_candle *c, size_t n, char *err, size_t errlen) {
    pg_store *s = state;
    tp_buf *b = &s->candles;
    for (size_t i = 0; i < n; i++) {
        int bad = copy_fmt(b, "%" PRId64 "\t", s->seq++) ||
                  copy_text(b, c[i].symbol.ptr ? c[i].symbol.ptr : "", c[i].symbol.len) ||
                  copy_fmt(b, "\t%d\t%" PRId64 "\t", (int)c[i].interval_s, c[i].start_ms);
        const double v[] = {c[i].open, c[i].high, c[i].low, c[i].close, c[i].volume};
        for (size_t k = 0; !bad && k < 5; k++) bad = copy_double(b, v[k]) || tp_buf_append(b, "\t", 1);
        bad = bad || (isnan(c[i].vwap) ? tp_buf_append(b, "\\N", 2) : copy_double(b, c[i].vwap)) ||
              copy_fmt(b, "\t%" PRId64 "\t%" PRId64 "\t%c\t%d\n", c[i].trade_count, c[i].updated_ms,
                       c[i].final ? 't' : 'f', c[i].incomplete ? 1 : 0);
        if (bad) {
            drop_unit(s);
            return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
        }
    }
    s->n_candles += n;
    return 0;
}

/* COPY b into table. *unique (if non-NULL) is set when the COPY failed
 * only because a row already exists. */
static int copy_in(pg_store *s, const char *table, const tp_buf *b, int *unique, char *err, size_t errlen) {
    char sql[96];
    snprintf(sql, sizeof sql, "COPY %s FROM STDIN", table);
    PGresult *r = PQexec(s->conn, sql);
    if (PQresultStatus(r) != PGRES_COPY_IN) return res_err(s, r, err, errlen, "COPY");
    PQclear(r);
    const size_t chunk = 1 << 20;
    for (size_t off = 0; off < b->len; off += chunk) {
        size_t n = b->len - off < chunk ? b->len - off : chunk;
        if (PQputCopyData(s->conn, (const char *)b->p + off, (int)n) != 1) {
            s->session_ready = PQstatus(s->conn) == CONNECTION_OK;
            return conn_err(s, err, errlen, "COPY");
        }
    }
    if (PQputCopyEnd(s->conn, NULL) != 1) return conn_err(s, err, errlen, "COPY");
    r = PQgetResult(s->conn);
    if (unique && PQresultStatus(r) != PGRES_COMMAND_OK) {
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        *unique = state && !strcmp(state, "23505");
    }
    int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : res_err(s, r, err, errlen, "COPY");
    if (!rc) PQclear(r);
    while ((r = PQgetResult(s->conn))) PQclear(r);
    return rc;
}

static const char k_merge_trades[] =
    "INSERT INTO trades SELECT * FROM tp_stage_trades ON CONFLICT DO NOTHING";

static const char k_merge_averages[] =
    "INSERT INTO running_averages_15_sec AS t (uuid, symbol, window_start, window_end, price_volume_multiply,"
    " trade_count, ingest_timestamp, final, incomplete)"
    " SELECT DISTINCT ON (symbol, ws) uuid, symbol, " TS("ws") ", " TS("we") ", pv, n, " TS(
        "ingest") ", final, inc"
                  " FROM tp_stage_averages ORDER BY symbol, ws, final DESC, seq DESC"
                  " ON CONFLICT (symbol, window_start) DO UPDATE SET uuid = excluded.uuid, window_end = "
                  "excluded.window_end,"
                  " price_volume_multiply = excluded.price_volume_multiply, trade_count = "
                  "excluded.trade_count,"
                  " ingest_timestamp = excluded.ingest_timestamp, final = excluded.final,"
                  " incomplete = greatest(t.incomplete, excluded.incomplete)"
                  " WHERE excluded.final OR NOT t.final";

static const char k_merge_candles[] =
    "INSERT INTO candles AS t (symbol, interval_s, start_time, open, high, low, close, volume, vwap,"
    " trade_count, updated_at, final, incomplete)"
    " SELECT DISTINCT ON (symbol, iv, start) symbol, iv, " TS(
        "start") ", open, high, low, close, volume, vwap,"
                 " n, " TS(
                     "upd") ", final, inc FROM tp_stage_candles ORDER BY symbol, iv, start, final DESC, seq "
                            "DESC"
                            " ON CONFLICT (symbol, interval_s, start_time) DO UPDATE SET open = "
                            "excluded.open, high = excluded.high,"
                            " low = excluded.low, close = excluded.close, volume = excluded.volume, vwap = "
                            "excluded.vwap,"
                            " trade_count = excluded.trade_count, updated_at = excluded.updated_at, final = "
                            "excluded.final, incomplete = greatest(t.incomplete, excluded.incomplete)"
                            " WHERE excluded.final OR NOT t.final";

/* Trades, which are most of the rows: COPY straight into the table, as
 * PostgreSQL's own bulk load does. Only if some row is already there (a
 * re-sent unit, after a failure or a restart) is the unit rolled back to
 * the savepoint and merged through the staging table with ON CONFLICT DO
 * NOTHING. */
static int write_trades_unit(pg_store *s, char *err, size_t errlen) {
    int rc = exec_ok(s, "SAVEPOINT tp_trades", err, errlen, "savepoint");
    if (rc) return rc;
    int unique = 0;
    rc = copy_in(s, "trades", &s->trades, &unique, err, errlen);
    if (!rc || !unique) return rc;
    tp_debug("postgresql", "%s: unit holds trades already stored; merging", s->where);
    if ((rc = exec_ok(s, "ROLLBACK TO SAVEPOINT tp_trades", err, errlen, "rollback to savepoint"))) return rc;
    if ((rc = copy_in(s, "tp_stage_trades", &s->trades, NULL, err, errlen))) return rc;
    return exec_ok(s, k_merge_trades, err, errlen, "writing trades");
}

/* The unit's gaps, one INSERT each (they are rare), inside the commit's
 * transaction; of two rows of one key the earliest detection is kept. */
static int write_gaps_unit(pg_store *s, char *err, size_t errlen) {
    const char *p = (const char *)s->gaps.p;
    for (size_t i = 0; i < s->n_gaps; i++) {
        const char *v[8];
        for (int k = 0; k < 8; k++) {
            v[k] = p;
            p += strlen(p) + 1;
        }
        if (!*v[6]) v[6] = v[7] = NULL; /* no trade ids: NULL */
        PGresult *r =
            PQexecParams(s->conn,
                         "INSERT INTO feed_gaps(symbol, from_ms, to_ms, reason, detected_at, connection,"
                         " from_trade_id, to_trade_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                         " ON CONFLICT (symbol, from_ms, connection) DO UPDATE SET to_ms = excluded.to_ms,"
                         " reason = excluded.reason, detected_at = excluded.detected_at,"
                         " from_trade_id = excluded.from_trade_id, to_trade_id = excluded.to_trade_id"
                         " WHERE excluded.detected_at < feed_gaps.detected_at",
                         8, NULL, v, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) return res_err(s, r, err, errlen, "writing feed gaps");
        PQclear(r);
    }
    return 0;
}

static int pg_commit(void *state, char *err, size_t errlen) {
    pg_store *s = state;
    if (!s->n_trades && !s->n_averages && !s->n_candles && !s->n_gaps) return 0;
    int rc = ensure(s, err, errlen);
    if (rc) goto out;
    if ((rc = exec_ok(s, "BEGIN", err, errlen, "begin"))) goto out;
    if (s->n_trades && (rc = write_trades_unit(s, err, errlen))) goto rollback;
    if (s->n_averages && ((rc = copy_in(s, "tp_stage_averages", &s->averages, NULL, err, errlen)) ||
                          (rc = exec_ok(s, k_merge_averages, err, errlen, "writing running averages"))))
        goto rollback;
    if (s->n_candles && ((rc = copy_in(s, "tp_stage_candles", &s->candles, NULL, err, errlen)) ||
                         (rc = exec_ok(s, k_merge_candles, err, errlen, "writing candles"))))
        goto rollback;
    if (s->n_gaps && (rc = write_gaps_unit(s, err, errlen))) goto rollback;
    rc = exec_ok(s, "COMMIT", err, errlen, "commit");
    goto out;
rollback:
    if (PQstatus(s->conn) == CONNECTION_OK) PQclear(PQexec(s->conn, "ROLLBACK"));
out:
    drop_unit(s); /* durable, or lost: the caller re-sends (sink.h) */
    return rc;
}

/* ---- queries ---- */

static int query(pg_store *s, const char *sql, int nparams, const char *const *params, PGresult **out,
                 char *err, size_t errlen) {
    int rc = ensure(s, err, errlen);
    if (rc) return rc;
    PGresult *r = PQexecParams(s->conn, sql, nparams, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) return res_err(s, r, err, errlen, "query");
    *out = r;
    return 0;
}

static tp_str val_str(const PGresult *r, int row, int col) {
    tp_str v = {PQgetvalue(r, row, col), (uint32_t)PQgetlength(r, row, col)};
    return v;
}
static int64_t val_i64(const PGresult *r, int row, int col) {
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}
static double val_f64(const PGresult *r, int row, int col) {
    return PQgetisnull(r, row, col) ? NAN : strtod(PQgetvalue(r, row, col), NULL);
}

/* $2 from, $3 to, $4 limit (NULL = no bound) */
typedef struct range_params {
    char from[24], to[24], limit[16];
    const char *v[5];
} range_params;

static int range_init(range_params *p, const tp_query *q, char *err, size_t errlen) {
    if (!q->symbol || !*q->symbol) return tp_seterr(err, errlen, TP_EINVAL, "query needs a symbol");
    snprintf(p->from, sizeof p->from, "%" PRId64, q->from_ms);
    snprintf(p->to, sizeof p->to, "%" PRId64, q->to_ms);
    snprintf(p->limit, sizeof p->limit, "%d", q->limit);
    p->v[0] = q->symbol;
    p->v[1] = q->from_ms > 0 ? p->from : NULL;
    p->v[2] = q->to_ms > 0 ? p->to : NULL;
    p->v[3] = q->limit > 0 ? p->limit : NULL;
    p->v[4] = NULL;
    return 0;
}

#define RANGE(col)                                                                                           \
    " AND ($2::int8 IS NULL OR " col " >= " TS("$2::int8") ") AND ($3::int8 IS NULL OR " col                 \
                                                           " < " TS("$3::int8") ")"

static int pg_query_symbols(void *state, tp_symbol_row_fn fn, void *ud, char *err, size_t errlen) {
    pg_store *s = state;
    PGresult *r = NULL;
    // clang-format off
    int rc = query(s,
        "SELECT c.symbol, c.n, l.price, " MS("l.trade_timestamp") " FROM"
        " (SELECT symbol, count(*) AS n FROM trades GROUP BY symbol) c"
        " CROSS JOIN LATERAL (SELECT price, trade_timestamp FROM trades t WHERE t.symbol = c.symbol"
        "                     ORDER BY trade_timestamp DESC, uuid DESC LIMIT 1) l"
        " ORDER BY c.symbol COLLATE \"C\"",
        0, NULL, &r, err, errlen);
    // clang-format on
    if (rc) return rc;
    for (int i = 0, n = PQntuples(r); i < n; i++) {
        tp_symbol_info si = {val_str(r, i, 0), val_i64(r, i, 1), val_f64(r, i, 2), val_i64(r, i, 3)};
        if (fn(ud, &si)) break;
    }
    PQclear(r);
    return 0;
}

/* Distinct symbols by a loose index scan over the trades key (one index
 * probe per symbol), each with its newest trade time. */
static int pg_query_latest(void *state, tp_symbol_row_fn fn, void *ud, char *err, size_t errlen) {
    pg_store *s = state;
    PGresult *r = NULL;
    // clang-format off
    int rc = query(s,
        "WITH RECURSIVE syms(sym) AS (SELECT (SELECT min(symbol) FROM trades)"
        "  UNION ALL SELECT (SELECT min(symbol) FROM trades WHERE symbol > syms.sym)"
        "  FROM syms WHERE syms.sym IS NOT NULL)"
        " SELECT sym, " MS("(SELECT max(trade_timestamp) FROM trades WHERE symbol = syms.sym)")
        " FROM syms WHERE sym IS NOT NULL",
        0, NULL, &r, err, errlen);
    // clang-format on
    if (rc) return rc;
    for (int i = 0, n = PQntuples(r); i < n; i++) {
        tp_symbol_info si = {val_str(r, i, 0), -1, NAN, val_i64(r, i, 1)};
        if (fn(ud, &si)) break;
    }
    PQclear(r);
    return 0;
}

static int pg_query_trades(void *state, const tp_query *q, tp_trade_row_fn fn, void *ud, char *err,
                           size_t errlen) {
    pg_store *s = state;
    range_params p;
    int rc = range_init(&p, q, err, errlen);
    if (rc) return rc;
    PGresult *r = NULL;
    // clang-format off
    static const char sql_trades[] =
        "SELECT uuid, symbol, cond, price, volume, ts, ingest FROM"
        " (SELECT uuid, symbol, trade_conditions::text AS cond, price, volume, trade_timestamp,"
        "         " MS("trade_timestamp") " AS ts, " MS("ingest_timestamp") " AS ingest"
        "  FROM trades WHERE symbol = $1" RANGE("trade_timestamp")
        "  ORDER BY trade_timestamp DESC, uuid DESC LIMIT $4::int8) x"
        " ORDER BY trade_timestamp, uuid";
    // clang-format on
    rc = query(s, sql_trades, 4, p.v, &r, err, errlen);
    if (rc) return rc;
    for (int i = 0, n = PQntuples(r); i < n; i++) {
        tp_trade t;
        memset(&t, 0, sizeof t);
        tp_str id = val_str(r, i, 0);
        if (tp_uuid_parse(id.ptr, id.len, t.id)) memset(t.id, 0, sizeof t.id);
        t.symbol = val_str(r, i, 1);
        if (tp_cond_decode(&s->dec, PQgetisnull(r, i, 2) ? NULL : PQgetvalue(r, i, 2),
                           (size_t)PQgetlength(r, i, 2), &t)) {
            PQclear(r);
            return tp_seterr(err, errlen, TP_EPARSE, "PostgreSQL at %s: trade %.36s has bad trade_conditions",
                             s->where, id.ptr);
        }
        t.price = val_f64(r, i, 3);
        t.volume = val_f64(r, i, 4);
        t.ts_ms = val_i64(r, i, 5);
        t.recv_ms = val_i64(r, i, 6);
        if (fn(ud, &t, t.recv_ms)) break;
    }
    PQclear(r);
    return 0;
}

static int pg_query_candles(void *state, const tp_query *q, tp_candle_row_fn fn, void *ud, char *err,
                            size_t errlen) {
    pg_store *s = state;
    range_params p;
    int rc = range_init(&p, q, err, errlen);
    if (rc) return rc;
    char iv[16];
    snprintf(iv, sizeof iv, "%d", q->interval_s > 0 ? q->interval_s : 1);
    p.v[4] = iv;
    PGresult *r = NULL;
    // clang-format off
    rc = query(s,
        "SELECT * FROM"
        " (SELECT symbol, interval_s, " MS("start_time") " AS start, open, high, low, close,"
        "         volume, vwap, trade_count, " MS("updated_at") ", final, incomplete"
        "  FROM candles WHERE symbol = $1 AND interval_s = $5::int4" RANGE("start_time")
        "  ORDER BY start_time DESC LIMIT $4::int8) x"
        " ORDER BY start",
        5, p.v, &r, err, errlen);
    // clang-format on
    if (rc) return rc;
    for (int i = 0, n = PQntuples(r); i < n; i++) {
        tp_candle c = {
            .symbol = val_str(r, i, 0),
            .interval_s = (int32_t)val_i64(r, i, 1),
            .start_ms = val_i64(r, i, 2),
            .open = val_f64(r, i, 3),
            .high = val_f64(r, i, 4),
            .low = val_f64(r, i, 5),
            .close = val_f64(r, i, 6),
            .volume = val_f64(r, i, 7),
            .vwap = val_f64(r, i, 8),
            .trade_count = val_i64(r, i, 9),
            .updated_ms = val_i64(r, i, 10),
            .final = PQgetvalue(r, i, 11)[0] == 't',
            .incomplete = val_i64(r, i, 12) != 0,
        };
        if (fn(ud, &c)) break;
    }
    PQclear(r);
    return 0;
}

static int pg_query_averages(void *state, const tp_query *q, tp_average_row_fn fn, void *ud, char *err,
                             size_t errlen) {
    pg_store *s = state;
    range_params p;
    int rc = range_init(&p, q, err, errlen);
    if (rc) return rc;
    PGresult *r = NULL;
    // clang-format off
    static const char sql_averages[] =
        "SELECT * FROM"
        " (SELECT uuid, symbol, " MS("window_start") " AS ws, " MS("window_end") ","
        "         price_volume_multiply, trade_count, " MS("ingest_timestamp") ", final, incomplete"
        "  FROM running_averages_15_sec WHERE symbol = $1" RANGE("window_start")
        "  ORDER BY window_start DESC LIMIT $4::int8) x"
        " ORDER BY ws";
    // clang-format on
    rc = query(s, sql_averages, 4, p.v, &r, err, errlen);
    if (rc) return rc;
    for (int i = 0, n = PQntuples(r); i < n; i++) {
        tp_average a;
        memset(&a, 0, sizeof a);
        tp_str id = val_str(r, i, 0);
        if (tp_uuid_parse(id.ptr, id.len, a.id)) memset(a.id, 0, sizeof a.id);
        a.symbol = val_str(r, i, 1);
        a.window_start_ms = val_i64(r, i, 2);
        a.window_end_ms = val_i64(r, i, 3);
        a.price_volume_multiply = val_f64(r, i, 4);
        a.trade_count = val_i64(r, i, 5);
        a.ingest_ms = val_i64(r, i, 6);
        a.final = PQgetvalue(r, i, 7)[0] == 't';
        a.incomplete = val_i64(r, i, 8) != 0;
        if (fn(ud, &a)) break;
    }
    PQclear(r);
    return 0;
}

/* Gaps are staged like the bulk rows and written at commit(), in its
 * transaction (write_gaps_unit), so they are part of the unit of work. */
static int pg_write_gaps(void *state, const tp_gap_row *g, size_t n, char *err, size_t errlen) {
    pg_store *s = state;
    for (size_t i = 0; i < n; i++) {
        char num[3][24], conn[16], ids[2][24] = {"", ""};
        if (g[i].from_trade_id) {
            snprintf(ids[0], sizeof ids[0], "%" PRId64, g[i].from_trade_id);
            snprintf(ids[1], sizeof ids[1], "%" PRId64, g[i].to_trade_id);
        }
        snprintf(num[0], sizeof num[0], "%" PRId64, g[i].from_ms);
        snprintf(num[1], sizeof num[1], "%" PRId64, g[i].to_ms);
        snprintf(num[2], sizeof num[2], "%" PRId64, g[i].detected_at_ms);
        snprintf(conn, sizeof conn, "%d", (int)g[i].connection);
        const char *reason = g[i].reason ? g[i].reason : "";
        /* a NUL inside the symbol would end the parameter early: PostgreSQL text holds no NUL */
        size_t sl = g[i].symbol.ptr ? strnlen(g[i].symbol.ptr, g[i].symbol.len) : 0;
        if (tp_buf_append(&s->gaps, g[i].symbol.ptr ? g[i].symbol.ptr : "", sl) ||
            tp_buf_append(&s->gaps, "", 1) || tp_buf_append(&s->gaps, num[0], strlen(num[0]) + 1) ||
            tp_buf_append(&s->gaps, num[1], strlen(num[1]) + 1) ||
            tp_buf_append(&s->gaps, reason, strlen(reason) + 1) ||
            tp_buf_append(&s->gaps, num[2], strlen(num[2]) + 1) ||
            tp_buf_append(&s->gaps, conn, strlen(conn) + 1) ||
            tp_buf_append(&s->gaps, ids[0], strlen(ids[0]) + 1) ||
            tp_buf_append(&s->gaps, ids[1], strlen(ids[1]) + 1)) {
            drop_unit(s);
            return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
        }
        s->n_gaps++;
    }
    return 0;
}

static int pg_query_gaps(void *state, const tp_query *q, tp_gap_row_fn fn, void *ud, char *err,
                         size_t errlen) {
    pg_store *s = state;
    range_params p;
    int rc = range_init(&p, q, err, errlen);
    if (rc) return rc;
    PGresult *r = NULL;
    rc = query(s,
               "SELECT * FROM (SELECT symbol, from_ms, to_ms, reason, detected_at, connection,"
               " from_trade_id, to_trade_id FROM feed_gaps"
               " WHERE symbol = $1 AND ($2::int8 IS NULL OR to_ms >= $2::int8)"
               " AND ($3::int8 IS NULL OR from_ms < $3::int8) ORDER BY from_ms DESC, connection DESC LIMIT "
               "$4::int8) x"
               " ORDER BY from_ms, connection",
               4, p.v, &r, err, errlen);
    if (rc) return rc;
    for (int i = 0, n = PQntuples(r); i < n; i++) {
        tp_gap_row g = {
            .symbol = val_str(r, i, 0),
            .from_ms = val_i64(r, i, 1),
            .to_ms = val_i64(r, i, 2),
            .reason = PQgetvalue(r, i, 3),
            .detected_at_ms = val_i64(r, i, 4),
            .connection = (int32_t)val_i64(r, i, 5),
            .from_trade_id = val_i64(r, i, 6), /* NULL reads as "": 0 */
            .to_trade_id = val_i64(r, i, 7),
        };
        if (fn(ud, &g)) break;
    }
    PQclear(r);
    return 0;
}

static const tp_sink_reader_ops pg_reader = {
    .query_symbols = pg_query_symbols,
    .query_trades = pg_query_trades,
    .query_candles = pg_query_candles,
    .query_averages = pg_query_averages,
};

/* Retention: per table one statement (its own transaction) that deletes,
 * through the key of each symbol (found by a loose index scan), the oldest
 * expired rows, at most max_rows in all. Autovacuum makes the space
 * reusable, so the tables stop growing. */
static int pg_retain(void *state, const tp_retention *r, int64_t now_ms, int max_rows, uint64_t *deleted,
                     char *err, size_t errlen) {
    pg_store *s = state;
#define PG_SYMS(t)                                                                                           \
    "WITH RECURSIVE syms(sym) AS (SELECT (SELECT min(symbol) FROM " t ") UNION ALL SELECT (SELECT "          \
    "min(symbol) FROM " t " WHERE symbol > syms.sym) FROM syms WHERE syms.sym IS NOT NULL), "
#define PG_DEL(t, cond, col)                                                                                 \
    PG_SYMS(t)                                                                                               \
    "d AS (DELETE FROM " t " WHERE ctid = ANY(ARRAY(SELECT x.ctid FROM syms CROSS JOIN LATERAL"              \
    " (SELECT ctid FROM " t " WHERE symbol = syms.sym" cond " AND " col                                      \
    " < " TS("$1::int8") " ORDER BY " col                                                                    \
                         " LIMIT $2::int8) x WHERE syms.sym IS NOT NULL LIMIT $2::int8)) RETURNING 1)"       \
                         " SELECT count(*) FROM d"
/* feed gaps are few and keep plain epoch ms */
#define PG_DEL_GAPS                                                                                          \
    "WITH d AS (DELETE FROM feed_gaps WHERE ctid = ANY(ARRAY(SELECT ctid FROM feed_gaps"                     \
    " WHERE to_ms < $1::int8 LIMIT $2::int8)) RETURNING 1) SELECT count(*) FROM d"
    static const char *const k_sql[] = {
        PG_DEL("trades", "", "trade_timestamp"),
        PG_DEL("candles", " AND interval_s = 1", "start_time"),
        PG_DEL("candles", " AND interval_s = 60", "start_time"),
        PG_DEL("running_averages_15_sec", "", "window_start"),
        PG_DEL_GAPS,
    };
#undef PG_DEL_GAPS
#undef PG_DEL
#undef PG_SYMS
    const int64_t keep[] = {r->trades_ms, r->candles_1s_ms, r->candles_1m_ms, r->averages_ms, r->gaps_ms};
    *deleted = 0;
    for (size_t t = 0; t < sizeof k_sql / sizeof k_sql[0]; t++) {
        if (keep[t] <= 0) continue;
        char cut[24], lim[16];
        snprintf(cut, sizeof cut, "%lld", (long long)(now_ms - keep[t]));
        snprintf(lim, sizeof lim, "%d", max_rows);
        const char *params[2] = {cut, lim};
        PGresult *res = NULL;
        int rc = query(s, k_sql[t], 2, params, &res, err, errlen);
        if (rc) return rc;
        *deleted += (uint64_t)val_i64(res, 0, 0);
        PQclear(res);
    }
    return 0;
}

const tp_sink_ops tp_sink_postgresql_ops = {
    .scheme = "postgresql",
    .alias = "postgres",
    .open = pg_open,
    .write_trades = pg_write_trades,
    .write_averages = pg_write_averages,
    .write_candles = pg_write_candles,
    .commit = pg_commit,
    .close = pg_close,
    .reader = &pg_reader,
    .query_latest = pg_query_latest,
    .write_gaps = pg_write_gaps,
    .query_gaps = pg_query_gaps,
    .retain = pg_retain,
    .check_url = pg_check_url,
};
