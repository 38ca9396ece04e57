/* clickhouse.c - the ClickHouse store (`clickhouse://HOST:PORT/DB?user=U&password=P`)
 * over ClickHouse's HTTP interface, through libcurl.
 *
 * Design:
 * - ClickHouse has no transactions, so a unit of work is buffered in
 *   memory, one RowBinary buffer per table, and commit() sends each buffer
 *   as one bulk INSERT. A failed commit drops the unit; the caller re-sends
 *   it all (sink.h), which is safe because every table is a
 *   ReplacingMergeTree keyed like the SQL stores' primary keys, and every
 *   query reads with FINAL, so a row written twice is seen once.
 * - RowBinary both ways: no escaping, and doubles travel as their exact
 *   bits.
 * - Candles and averages carry version = final * 2^62 + ingest ms: the
 *   replacing engine keeps the highest version, so a final row is never
 *   replaced by a non-final one and a later version beats an earlier one.
 * - Times are Int64 epoch ms (18.16 has no DateTime64) plus MATERIALIZED
 *   DateTime columns for Grafana; see sql/clickhouse.sql.
 * - One keep-alive curl handle per store; a dead server shows as a curl
 *   error: "ClickHouse at HOST:PORT: ... (is the server running?)". The
 *   password goes in a basic-auth header, never in a URL or message.
 *
 * One thread per store handle (see sink.h). */
#include "sink/rowfmt.h"
#include "sink/clickhouse_url.h"
#include "sink/sink.h"

#include "core/err.h"
#include "core/hex.h"
#include "core/log.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const char tp_sql_clickhouse[];

/* k_migrations[i] takes the schema from version i to i + 1: statements
 * separated by ";" at the end of a line. */
static const char *const k_migrations[] = {
    tp_sql_clickhouse,
    /* 2: windows that overlap a feed gap are marked (process/window.h); a
     * re-marked row carries a newer version, so it replaces the old one */
    "ALTER TABLE running_averages_15_sec ADD COLUMN incomplete UInt8 DEFAULT 0;\n"
    "ALTER TABLE candles ADD COLUMN incomplete UInt8 DEFAULT 0;\n",
    /* 3: a gap's missing venue trade ids (feed/gaps.h), NULL when unknown
     * (feed_gaps is created first if missing: ensure_gaps_table) */
    "ALTER TABLE feed_gaps ADD COLUMN from_trade_id Nullable(Int64);\n"
    "ALTER TABLE feed_gaps ADD COLUMN to_trade_id Nullable(Int64);\n",
};
#define GAP_IDS_VERSION 2 /* k_migrations[2] alters feed_gaps */
#define SCHEMA_VERSION ((int)(sizeof k_migrations / sizeof k_migrations[0]))
#define FINAL_BIT (1ULL << 62)

typedef struct ch_store {
    CURL *curl;
    struct curl_slist *headers;
    char base[300];  /* http://host:port/ */
    char where[280]; /* host:port */
    char db[128];
    char user[128], password[256];
    tp_buf trades, averages, candles; /* RowBinary rows of the unit */
    tp_buf gaps;                      /* feed_gaps rows of the unit */
    tp_buf resp, sql, cond;
    tp_cond_decoder dec;
} ch_store;

static pthread_once_t g_curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- URL ---- */

/* A database name goes into `CREATE DATABASE` and into request URLs, so it
 * is held to a rule wherever it comes from (path or ?database=). */
static int db_name_ok(const char *db) {
    if (!*db) return 0;
    for (const char *c = db; *c; c++)
        if (!(*c == '_' || (*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z')))
            return 0;
    return 1;
}

/* Copy part `what` of u into out (URL-decoded if decode); an absent part
 * leaves out as it is. 0, or TP_EINVAL if it does not fit. */
static int url_part(CURLU *u, CURLUPart part, unsigned flags, const char *what, char *out, size_t outlen,
                    char *err, size_t errlen) {
    char *v = NULL;
    CURLUcode uc = curl_url_get(u, part, &v, flags);
    if (uc != CURLUE_OK) return 0; /* absent */
    size_t n = strlen(v);
    if (n >= outlen) {
        curl_free(v);
        return tp_seterr(err, errlen, TP_EINVAL, "ClickHouse store URL: the %s is longer than %zu bytes",
                         what, outlen - 1);
    }
    memcpy(out, v, n + 1);
    curl_free(v);
    return 0;
}

/* One "name=value" of the query string. */
static int url_param(ch_store *s, const char *p, size_t n, char *err, size_t errlen) {
    const char *eq = memchr(p, '=', n);
    size_t kn = eq ? (size_t)(eq - p) : n;
    const char *v = eq ? eq + 1 : p + n;
    size_t vn = eq ? n - kn - 1 : 0;
    char *out;
    size_t outlen;
    const char *what;
    if (kn == 4 && !memcmp(p, "user", 4))
        out = s->user, outlen = sizeof s->user, what = "user";
    else if (kn == 8 && !memcmp(p, "password", 8))
        out = s->password, outlen = sizeof s->password, what = "password";
    else if (kn == 8 && !memcmp(p, "database", 8))
        out = s->db, outlen = sizeof s->db, what = "database";
    else if (!kn)
        return 0; /* "a=1&&b=2" */
    else          /* a mangled "password%3D..." is scrubbed by sink.c */
        return tp_seterr(err, errlen, TP_EINVAL,
                         "ClickHouse store URL: unknown parameter '%.*s' (known: user, password, database)",
                         (int)(kn > 64 ? 64 : kn), p);
    if (tp_pct_decode(v, vn, 1, out, outlen) < 0)
        return tp_seterr(err, errlen, TP_EINVAL,
                         "ClickHouse store URL: ?%s= is longer than %zu bytes or holds %%00", what,
                         outlen - 1);
    return 0;
}

/* clickhouse://[USER[:PASSWORD]@]HOST[:PORT][/DB][?user=U&password=P&database=D],
 * through libcurl's URL API (curl_url): the same parser that later sends
 * the requests. The query string is split by hand because curl leaves it
 * whole; its values are percent-decoded with '+' as space. */
static int parse_url(ch_store *s, const char *url, char *err, size_t errlen) {
    if (strncmp(url, "clickhouse://", 13))
        return tp_seterr(err, errlen, TP_EINVAL,
                         "ClickHouse store URL must look like clickhouse://HOST:8123/DB");
    int rc = tp_sink_url_syntax(url, "ClickHouse", err, errlen);
    if (rc) return rc;
    CURLU *u = curl_url();
    if (!u) return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
    if (uc != CURLUE_OK) {
        /* curl's text names the problem, never the URL (which may hold a password) */
        rc = tp_seterr(err, errlen, TP_EINVAL,
                       "ClickHouse store URL: %s; it must look like clickhouse://HOST:8123/DB",
                       curl_url_strerror(uc));
        goto out;
    }
    char host[256] = "", port[16] = "8123", path[160] = "", query[1024] = "";
    snprintf(s->user, sizeof s->user, "default");
    snprintf(s->db, sizeof s->db, "default");
    s->password[0] = '\0';
    if ((rc = url_part(u, CURLUPART_HOST, 0, "host", host, sizeof host, err, errlen)) ||
        (rc = url_part(u, CURLUPART_PORT, 0, "port", port, sizeof port, err, errlen)) ||
        (rc = url_part(u, CURLUPART_USER, CURLU_URLDECODE, "user", s->user, sizeof s->user, err, errlen)) ||
        (rc = url_part(u, CURLUPART_PASSWORD, CURLU_URLDECODE, "password", s->password, sizeof s->password,
                       err, errlen)) ||
        (rc = url_part(u, CURLUPART_PATH, CURLU_URLDECODE, "path", path, sizeof path, err, errlen)) ||
        (rc = url_part(u, CURLUPART_QUERY, 0, "query string", query, sizeof query, err, errlen)))
        goto out;
    if (!host[0]) {
        rc = tp_seterr(err, errlen, TP_EINVAL, "ClickHouse store URL has no host");
        goto out;
    }
    snprintf(s->where, sizeof s->where, "%s:%s", host, port);
    snprintf(s->base, sizeof s->base, "http://%s/", s->where);
    const char *db = path[0] == '/' ? path + 1 : path;
    if (strlen(db) >= sizeof s->db) {
        rc = tp_seterr(err, errlen, TP_EINVAL, "ClickHouse database name is longer than %zu bytes",
                       sizeof s->db - 1);
        goto out;
    }
    if (*db) memcpy(s->db, db, strlen(db) + 1);
    for (const char *p = query; *p;) {
        size_t n = strcspn(p, "&");
        if ((rc = url_param(s, p, n, err, errlen))) goto out;
        p += n;
        if (*p == '&') p++;
    }
    /* checked last, so ?database= is held to the rule as well */
    if (!db_name_ok(s->db))
        rc = tp_seterr(
            err, errlen, TP_EINVAL,
            "ClickHouse database name '%.64s': a name is letters, digits and _ only (in the path or "
            "?database=)",
            s->db);
out:
    curl_url_cleanup(u);
    if (rc) memset(s->password, 0, sizeof s->password);
    return rc;
}

int tp_clickhouse_parse_url(const char *url, tp_ch_url *out, char *err, size_t errlen) {
    ch_store *s = calloc(1, sizeof *s);
    if (!s) return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    int rc = parse_url(s, url, err, errlen);
    if (!rc) {
        memcpy(out->base, s->base, sizeof out->base);
        memcpy(out->where, s->where, sizeof out->where);
        memcpy(out->db, s->db, sizeof out->db);
        memcpy(out->user, s->user, sizeof out->user);
        memcpy(out->password, s->password, sizeof out->password);
    }
    free(s);
    return rc;
}

/* ---- HTTP ---- */

static size_t on_body(char *data, size_t size, size_t n, void *ud) {
    return tp_buf_append(ud, data, size * n) ? 0 : size * n;
}

/* POST body to the server. `query` (optional) goes in the URL, for INSERTs
 * whose data is the body; otherwise the body is the query. The response is
 * in s->resp. */
static int request(ch_store *s, const char *query, const void *body, size_t len, int use_db, char *err,
                   size_t errlen) {
    char *url = NULL;
    char *q = query ? curl_easy_escape(s->curl, query, 0) : NULL;
    size_t ulen = strlen(s->base) + (q ? strlen(q) : 0) + sizeof s->db + 64;
    url = malloc(ulen);
    if (!url || (query && !q)) {
        free(url);
        curl_free(q);
        return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    }
    snprintf(url, ulen, "%s?%s%s%s%s", s->base, use_db ? "database=" : "", use_db ? s->db : "",
             q && use_db ? "&" : "", q ? "query=" : "");
    if (q) strcat(url, q);
    curl_free(q);
    tp_buf_reset(&s->resp);
    curl_easy_setopt(s->curl, CURLOPT_URL, url);
    curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, body ? body : "");
    curl_easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    CURLcode cc = curl_easy_perform(s->curl);
    free(url);
    if (cc != CURLE_OK)
        return tp_seterr(err, errlen, TP_EUNAVAIL, "ClickHouse at %s: %s (is the server running?)", s->where,
                         curl_easy_strerror(cc));
    long code = 0;
    curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &code);
    if (code != 200) {
        char line[400];
        size_t n = s->resp.len < sizeof line - 1 ? s->resp.len : sizeof line - 1;
        memcpy(line, s->resp.p ? (const char *)s->resp.p : "", n);
        line[n] = '\0';
        line[strcspn(line, "\n")] = '\0';
        return tp_seterr(err, errlen, code >= 500 && code != 500 ? TP_EUNAVAIL : TP_EREFUSED,
                         "ClickHouse at %s: HTTP %ld: %s", s->where, code, line);
    }
    return 0;
}

static int exec_sql(ch_store *s, const char *sql, int use_db, char *err, size_t errlen) {
    return request(s, NULL, sql, strlen(sql), use_db, err, errlen);
}

/* ---- schema ---- */

static int add_column_done(const char *stmt, size_t n, const char *err) {
    static const char k_add[] = "ADD COLUMN";
    for (size_t i = 0; i + sizeof k_add - 1 <= n; i++)
        if (!memcmp(stmt + i, k_add, sizeof k_add - 1))
            return strstr(err, "Code: 44,") && strstr(err, "column with this name already exists");
    return 0;
}

static int run_script(ch_store *s, const char *script, char *err, size_t errlen) {
    const char *p = script;
    while (*p) {
        const char *end = strstr(p, ";\n");
        size_t n = end ? (size_t)(end - p) : strlen(p);
        /* skip pieces that are only comments and blank lines */
        int has_sql = 0;
        for (const char *l = p; l < p + n;) {
            const char *nl = memchr(l, '\n', (size_t)(p + n - l));
            const char *le = nl ? nl : p + n;
            const char *c = l;
            while (c < le && (*c == ' ' || *c == '\t')) c++;
            if (c < le && !(le - c >= 2 && c[0] == '-' && c[1] == '-')) has_sql = 1;
            l = nl ? nl + 1 : p + n;
        }
        if (has_sql) {
            int rc = request(s, NULL, p, n, 1, err, errlen);
            /* 18.16 has no ADD COLUMN IF NOT EXISTS, and members of a
             * group migrate a fresh store at once: a column another member
             * added first is this migration done (code 44, "column with
             * this name already exists") */
            if (rc && add_column_done(p, n, err)) rc = 0;
            if (rc) return rc;
        }
        p += n;
        if (end) p += 2;
    }
    return 0;
}

static int ensure_gaps_table(ch_store *s, char *err, size_t errlen);

static int migrate(ch_store *s, char *err, size_t errlen) {
    char sql[256];
    int rc;
    if (strcmp(s->db, "default")) {
        snprintf(sql, sizeof sql, "CREATE DATABASE IF NOT EXISTS `%s`", s->db);
        if ((rc = exec_sql(s, sql, 0, err, errlen))) return rc;
    }
    /* Log, not TinyLog: members of a consumer group open a fresh store at
     * once, and TinyLog fails a read that overlaps another process's INSERT
     * ("File not found: .../tmp_sizes.json"); Log makes the read wait. The
     * migration itself is idempotent (IF NOT EXISTS, max(version)). */
    if ((rc = exec_sql(s, "CREATE TABLE IF NOT EXISTS schema_version (version UInt32) ENGINE = Log", 1, err,
                       errlen)))
        return rc;
    if ((rc = exec_sql(s, "SELECT max(version) FROM schema_version", 1, err, errlen))) return rc;
    tp_buf_append(&s->resp, "", 1);
    int v = atoi(s->resp.p ? (const char *)s->resp.p : "0");
    if (v > SCHEMA_VERSION)
        return tp_seterr(
            err, errlen, TP_EREFUSED,
            "ClickHouse at %s: schema version %d is newer than this tickpipe knows (%d); upgrade tickpipe",
            s->where, v, SCHEMA_VERSION);
    for (; v < SCHEMA_VERSION; v++) {
        if (v == GAP_IDS_VERSION && (rc = ensure_gaps_table(s, err, errlen))) return rc;
        if ((rc = run_script(s, k_migrations[v], err, errlen))) return rc;
        snprintf(sql, sizeof sql, "INSERT INTO schema_version VALUES (%d)", v + 1);
        if ((rc = exec_sql(s, sql, 1, err, errlen))) return rc;
        tp_info("clickhouse", "%s/%s: schema migrated to version %d", s->where, s->db, v + 1);
    }
    return 0;
}

/* feed_gaps is created if missing at every open, by its statement in
 * sql/clickhouse.sql, rather than by a migration: a new table alone, so a
 * database of schema version 1 made before it simply gains it. */
static int ensure_gaps_table(ch_store *s, char *err, size_t errlen) {
    const char *p = strstr(tp_sql_clickhouse, "CREATE TABLE IF NOT EXISTS feed_gaps");
    const char *end = p ? strstr(p, ";\n") : NULL;
    if (!end) return tp_seterr(err, errlen, TP_ESTATE, "sql/clickhouse.sql has no feed_gaps table");
    return request(s, NULL, p, (size_t)(end - p), 1, err, errlen);
}

static void ch_close(void *state) {
    ch_store *s = state;
    if (!s) return;
    if (s->curl) curl_easy_cleanup(s->curl);
    curl_slist_free_all(s->headers);
    tp_buf_free(&s->trades);
    tp_buf_free(&s->averages);
    tp_buf_free(&s->candles);
    tp_buf_free(&s->gaps);
    tp_buf_free(&s->resp);
    tp_buf_free(&s->sql);
    tp_buf_free(&s->cond);
    tp_cond_decoder_free(&s->dec);
    memset(s->password, 0, sizeof s->password);
    free(s);
}

static int ch_open(const char *url, void **state, char *err, size_t errlen) {
    pthread_once(&g_curl_once, curl_init_once);
    ch_store *s = calloc(1, sizeof *s);
    if (!s) return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    int rc = parse_url(s, url, err, errlen);
    if (rc) goto fail;
    s->curl = curl_easy_init();
    if (!s->curl) {
        rc = tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
        goto fail;
    }
    curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, &s->resp);
    curl_easy_setopt(s->curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(s->curl, CURLOPT_LOW_SPEED_LIMIT, 1L); /* a server that stops answering */
    curl_easy_setopt(s->curl, CURLOPT_LOW_SPEED_TIME, 120L);
    curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(s->curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(s->curl, CURLOPT_USERNAME, s->user);
    curl_easy_setopt(s->curl, CURLOPT_PASSWORD, s->password);
    curl_easy_setopt(s->curl, CURLOPT_USERAGENT, "tickpipe");
    s->headers = curl_slist_append(NULL, "Expect:"); /* no 100-continue round trip on large inserts */
    curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, s->headers);
    if ((rc = migrate(s, err, errlen)) || (rc = ensure_gaps_table(s, err, errlen))) goto fail;
    *state = s;
    return 0;
fail:
    ch_close(s);
    return rc;
}

/* ---- RowBinary writing ---- */

static int put_varint(tp_buf *b, uint64_t v) {
    uint8_t tmp[10];
    size_t n = 0;
    do {
        tmp[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    return tp_buf_append(b, tmp, n);
}
static int put_str(tp_buf *b, const char *p, size_t n) {
    return put_varint(b, n) || tp_buf_append(b, p ? p : "", n);
}
static int put_u64(tp_buf *b, uint64_t v) {
    uint8_t tmp[8];
    for (int i = 0; i < 8; i++) tmp[i] = (uint8_t)(v >> (8 * i));
    return tp_buf_append(b, tmp, 8);
}
static int put_i64(tp_buf *b, int64_t v) {
    return put_u64(b, (uint64_t)v);
}
static int put_f64(tp_buf *b, double d) {
    uint64_t v;
    memcpy(&v, &d, 8);
    return put_u64(b, v);
}
static int put_i32(tp_buf *b, int32_t v) {
    uint8_t tmp[4];
    for (int i = 0; i < 4; i++) tmp[i] = (uint8_t)((uint32_t)v >> (8 * i));
    return tp_buf_append(b, tmp, 4);
}
static int put_u8(tp_buf *b, uint8_t v) {
    return tp_buf_append(b, &v, 1);
}

static void drop_unit(ch_store *s) {
    tp_buf_reset(&s->trades);
    tp_buf_reset(&s->averages);
    tp_buf_reset(&s->candles);
    tp_buf_reset(&s->gaps);
}

static int oom(ch_store *s, char *err, size_t errlen) {
    drop_unit(s);
    return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
}

static uint64_t version_of(int final, int64_t ms) {
    return (final ? FINAL_BIT : 0) + (uint64_t)(ms > 0 ? ms : 0);
}

static int ch_write_trades(void *state, const tp_trade *t, size_t n, int64_t ingest_ms, char *err,
                           size_t errlen) {
    ch_store *s = state;
    tp_buf *b = &s->trades;
    char uuid[37];
    for (size_t i = 0; i < n; i++) {
        tp_uuid_format(t[i].id, uuid);
        int bad = put_str(b, uuid, 36) || put_str(b, t[i].symbol.ptr, t[i].symbol.len);
        if (!bad && t[i].ncond == TP_COND_NULL) {
            bad = put_u8(b, 1);
        } else if (!bad) {
            tp_buf_reset(&s->cond);
            bad = tp_cond_json(&s->cond, &t[i]) || put_u8(b, 0) ||
                  put_str(b, (const char *)s->cond.p, s->cond.len);
        }
        bad = bad || put_f64(b, t[i].price) || put_f64(b, t[i].volume) || put_i64(b, t[i].ts_ms) ||
              put_i64(b, ingest_ms);
        if (bad) return oom(s, err, errlen);
    }
    return 0;
}

static int ch_write_averages(void *state, const tp_average *a, size_t n, char *err, size_t errlen) {
    ch_store *s = state;
    tp_buf *b = &s->averages;
    char uuid[37];
    for (size_t i = 0; i < n; i++) {
        tp_uuid_format(a[i].id, uuid);
        if (put_str(b, uuid, 36) || put_str(b, a[i].symbol.ptr, a[i].symbol.len) ||
            put_i64(b, a[i].window_start_ms) || put_i64(b, a[i].window_end_ms) ||
            put_f64(b, a[i].price_volume_multiply) || put_i64(b, a[i].trade_count) ||
            put_i64(b, a[i].ingest_ms) || put_u8(b, a[i].final ? 1 : 0) ||
            put_u64(b, version_of(a[i].final, a[i].ingest_ms)) || put_u8(b, a[i].incomplete ? 1 : 0))
            return oom(s, err, errlen);
    }
    return 0;
}

static int ch_write_candles(void *state, const tp_candle *c, size_t n, char *err, size_t errlen) {
    ch_store *s = state;
    tp_buf *b = &s->candles;
    for (size_t i = 0; i < n; i++) {
        int bad = put_str(b, c[i].symbol.ptr, c[i].symbol.len) || put_i32(b, c[i].interval_s) ||
                  put_i64(b, c[i].start_ms) || put_f64(b, c[i].open) || put_f64(b, c[i].high) ||
                  put_f64(b, c[i].low) || put_f64(b, c[i].close) || put_f64(b, c[i].volume);
        bad = bad || (isnan(c[i].vwap) ? put_u8(b, 1) : (put_u8(b, 0) || put_f64(b, c[i].vwap)));
        bad = bad || put_i64(b, c[i].trade_count) || put_i64(b, c[i].updated_ms) ||
              put_u8(b, c[i].final ? 1 : 0) || put_u64(b, version_of(c[i].final, c[i].updated_ms)) ||
              put_u8(b, c[i].incomplete ? 1 : 0);
        if (bad) return oom(s, err, errlen);
    }
    return 0;
}

/* 2^62 - detected_at: the replacing engine keeps the highest version, so
 * the earliest detection of a gap wins whatever order rows arrive in (the
 * rule of every store). */
static uint64_t gap_version(int64_t detected_at_ms) {
    return FINAL_BIT - (uint64_t)(detected_at_ms > 0 ? detected_at_ms : 0);
}

static int ch_write_gaps(void *state, const tp_gap_row *g, size_t n, char *err, size_t errlen) {
    ch_store *s = state;
    tp_buf *b = &s->gaps;
    for (size_t i = 0; i < n; i++) {
        const char *reason = g[i].reason ? g[i].reason : "";
        if (put_str(b, g[i].symbol.ptr, g[i].symbol.len) || put_i64(b, g[i].from_ms) ||
            put_i64(b, g[i].to_ms) || put_str(b, reason, strlen(reason)) || put_i64(b, g[i].detected_at_ms) ||
            put_i32(b, g[i].connection) || put_u64(b, gap_version(g[i].detected_at_ms)))
            return oom(s, err, errlen);
        /* Nullable(Int64) in RowBinary: a null byte, then the value if not null */
        int ok = g[i].from_trade_id ? !tp_buf_append(b, "\0", 1) && !put_i64(b, g[i].from_trade_id) &&
                                          !tp_buf_append(b, "\0", 1) && !put_i64(b, g[i].to_trade_id)
                                    : !tp_buf_append(b, "\1\1", 2);
        if (!ok) return oom(s, err, errlen);
    }
    return 0;
}

static int ch_commit(void *state, char *err, size_t errlen) {
    ch_store *s = state;
    int rc = 0;
    if (s->trades.len)
        rc = request(s,
                     "INSERT INTO trades (uuid, symbol, trade_conditions, price, volume, trade_timestamp,"
                     " ingest_timestamp) FORMAT RowBinary",
                     s->trades.p, s->trades.len, 1, err, errlen);
    if (!rc && s->averages.len)
        rc = request(s,
                     "INSERT INTO running_averages_15_sec (uuid, symbol, window_start, window_end,"
                     " price_volume_multiply, trade_count, ingest_timestamp, final, version, incomplete)"
                     " FORMAT RowBinary",
                     s->averages.p, s->averages.len, 1, err, errlen);
    if (!rc && s->candles.len)
        rc =
            request(s,
                    "INSERT INTO candles (symbol, interval_s, start_ms, open, high, low, close, volume, vwap,"
                    " trade_count, updated_ms, final, version, incomplete) FORMAT RowBinary",
                    s->candles.p, s->candles.len, 1, err, errlen);
    if (!rc && s->gaps.len)
        rc =
            request(s,
                    "INSERT INTO feed_gaps (symbol, from_ms, to_ms, reason, detected_at, connection, version,"
                    " from_trade_id, to_trade_id) FORMAT RowBinary",
                    s->gaps.p, s->gaps.len, 1, err, errlen);
    drop_unit(s); /* durable, or lost: the caller re-sends (sink.h) */
    return rc;
}

/* ---- RowBinary reading ---- */

typedef struct rb {
    const uint8_t *p, *end;
    int bad;
} rb;

static uint64_t rb_u64(rb *r) {
    if (r->end - r->p < 8) return r->bad = 1, 0;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)r->p[i] << (8 * i);
    r->p += 8;
    return v;
}
static int64_t rb_i64(rb *r) {
    return (int64_t)rb_u64(r);
}
/* Nullable(Int64): a null byte (1 = NULL, read as 0), then the value */
static int64_t rb_nullable_i64(rb *r) {
    if (r->p >= r->end) return r->bad = 1, 0;
    if (*r->p++) return 0;
    return rb_i64(r);
}
static double rb_f64(rb *r) {
    uint64_t v = rb_u64(r);
    double d;
    memcpy(&d, &v, 8);
    return d;
}
static int32_t rb_i32(rb *r) {
    if (r->end - r->p < 4) return r->bad = 1, 0;
    uint32_t v =
        (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 | (uint32_t)r->p[3] << 24;
    r->p += 4;
    return (int32_t)v;
}
static uint8_t rb_u8(rb *r) {
    if (r->p >= r->end) return r->bad = 1, 0;
    return *r->p++;
}
static tp_str rb_str(rb *r) {
    uint64_t n = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        uint8_t b = rb_u8(r);
        n |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) break;
    }
    tp_str s = {"", 0};
    if (r->bad || (uint64_t)(r->end - r->p) < n) {
        r->bad = 1;
        return s;
    }
    s.ptr = (const char *)r->p;
    s.len = (uint32_t)n;
    r->p += n;
    return s;
}

/* Append a single-quoted ClickHouse string literal. */
static int sql_quote(tp_buf *b, const char *p) {
    if (tp_buf_append(b, "'", 1)) return -1;
    for (; *p; p++) {
        if ((*p == '\'' || *p == '\\') && tp_buf_append(b, "\\", 1)) return -1;
        if (tp_buf_append(b, p, 1)) return -1;
    }
    return tp_buf_append(b, "'", 1);
}

static int sql_add(tp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int sql_add(tp_buf *b, const char *fmt, ...) {
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) return -1;
    return tp_buf_append(b, tmp, (size_t)n);
}

/* SELECT * FROM (SELECT cols FROM table FINAL WHERE symbol = .. [range]
 * ORDER BY key DESC LIMIT n) ORDER BY key: the latest rows, oldest first. */
static int range_query(ch_store *s, const char *cols, const char *table, const char *extra_where,
                       const char *tcol, const char *order_desc, const char *order_asc, const tp_query *q,
                       char *err, size_t errlen) {
    if (!q->symbol || !*q->symbol) return tp_seterr(err, errlen, TP_EINVAL, "query needs a symbol");
    tp_buf *b = &s->sql;
    tp_buf_reset(b);
    int bad = sql_add(b, "SELECT * FROM (SELECT %s FROM %s FINAL WHERE symbol = ", cols, table) ||
              sql_quote(b, q->symbol) || sql_add(b, "%s", extra_where);
    if (q->from_ms > 0) bad = bad || sql_add(b, " AND %s >= %" PRId64, tcol, q->from_ms);
    if (q->to_ms > 0) bad = bad || sql_add(b, " AND %s < %" PRId64, tcol, q->to_ms);
    bad = bad || sql_add(b, " ORDER BY %s", order_desc);
    if (q->limit > 0) bad = bad || sql_add(b, " LIMIT %d", q->limit);
    bad = bad || sql_add(b, ") ORDER BY %s FORMAT RowBinary", order_asc);
    if (bad) return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    return request(s, NULL, b->p, b->len, 1, err, errlen);
}

static int bad_reply(ch_store *s, char *err, size_t errlen) {
    return tp_seterr(err, errlen, TP_EPARSE, "ClickHouse at %s: reply does not match the expected columns",
                     s->where);
}

static int ch_query_symbols(void *state, tp_symbol_row_fn fn, void *ud, char *err, size_t errlen) {
    ch_store *s = state;
    int rc = exec_sql(
        s,
        "SELECT symbol, toInt64(count()), argMax(price, (trade_timestamp, uuid)), max(trade_timestamp)"
        " FROM trades FINAL GROUP BY symbol ORDER BY symbol FORMAT RowBinary",
        1, err, errlen);
    if (rc) return rc;
    rb r = {s->resp.p, s->resp.p + s->resp.len, 0};
    while (r.p < r.end) {
        tp_symbol_info si;
        si.symbol = rb_str(&r);
        si.trade_count = rb_i64(&r);
        si.last_price = rb_f64(&r);
        si.last_ts_ms = rb_i64(&r);
        if (r.bad) return bad_reply(s, err, errlen);
        if (fn(ud, &si)) break;
    }
    return 0;
}

static int ch_query_trades(void *state, const tp_query *q, tp_trade_row_fn fn, void *ud, char *err,
                           size_t errlen) {
    ch_store *s = state;
    int rc = range_query(
        s, "uuid, symbol, trade_conditions, price, volume, trade_timestamp, ingest_timestamp", "trades", "",
        "trade_timestamp", "trade_timestamp DESC, uuid DESC", "trade_timestamp, uuid", q, err, errlen);
    if (rc) return rc;
    rb r = {s->resp.p, s->resp.p + s->resp.len, 0};
    while (r.p < r.end) {
        tp_trade t;
        memset(&t, 0, sizeof t);
        tp_str id = rb_str(&r);
        t.symbol = rb_str(&r);
        int isnull = rb_u8(&r);
        tp_str cj = isnull ? (tp_str){NULL, 0} : rb_str(&r);
        t.price = rb_f64(&r);
        t.volume = rb_f64(&r);
        t.ts_ms = rb_i64(&r);
        t.recv_ms = rb_i64(&r);
        if (r.bad) return bad_reply(s, err, errlen);
        if (tp_uuid_parse(id.ptr, id.len, t.id)) memset(t.id, 0, sizeof t.id);
        if (tp_cond_decode(&s->dec, cj.ptr, cj.len, &t))
            return tp_seterr(err, errlen, TP_EPARSE, "ClickHouse at %s: trade %.*s has bad trade_conditions",
                             s->where, (int)id.len, id.ptr);
        if (fn(ud, &t, t.recv_ms)) break;
    }
    return 0;
}

static int ch_query_candles(void *state, const tp_query *q, tp_candle_row_fn fn, void *ud, char *err,
                            size_t errlen) {
    ch_store *s = state;
    char where[48];
    snprintf(where, sizeof where, " AND interval_s = %d", q->interval_s > 0 ? q->interval_s : 1);
    int rc = range_query(s,
                         "symbol, interval_s, start_ms, open, high, low, close, volume, vwap, trade_count,"
                         " updated_ms, final, incomplete",
                         "candles", where, "start_ms", "start_ms DESC", "start_ms", q, err, errlen);
    if (rc) return rc;
    rb r = {s->resp.p, s->resp.p + s->resp.len, 0};
    while (r.p < r.end) {
        tp_candle c;
        c.symbol = rb_str(&r);
        c.interval_s = rb_i32(&r);
        c.start_ms = rb_i64(&r);
        c.open = rb_f64(&r);
        c.high = rb_f64(&r);
        c.low = rb_f64(&r);
        c.close = rb_f64(&r);
        c.volume = rb_f64(&r);
        c.vwap = rb_u8(&r) ? NAN : rb_f64(&r);
        c.trade_count = rb_i64(&r);
        c.updated_ms = rb_i64(&r);
        c.final = rb_u8(&r);
        c.incomplete = rb_u8(&r);
        if (r.bad) return bad_reply(s, err, errlen);
        if (fn(ud, &c)) break;
    }
    return 0;
}

static int ch_query_averages(void *state, const tp_query *q, tp_average_row_fn fn, void *ud, char *err,
                             size_t errlen) {
    ch_store *s = state;
    int rc = range_query(s,
                         "uuid, symbol, window_start, window_end, price_volume_multiply, trade_count,"
                         " ingest_timestamp, final, incomplete",
                         "running_averages_15_sec", "", "window_start", "window_start DESC", "window_start",
                         q, err, errlen);
    if (rc) return rc;
    rb r = {s->resp.p, s->resp.p + s->resp.len, 0};
    while (r.p < r.end) {
        tp_average a;
        memset(&a, 0, sizeof a);
        tp_str id = rb_str(&r);
        a.symbol = rb_str(&r);
        a.window_start_ms = rb_i64(&r);
        a.window_end_ms = rb_i64(&r);
        a.price_volume_multiply = rb_f64(&r);
        a.trade_count = rb_i64(&r);
        a.ingest_ms = rb_i64(&r);
        a.final = rb_u8(&r);
        a.incomplete = rb_u8(&r);
        if (r.bad) return bad_reply(s, err, errlen);
        if (tp_uuid_parse(id.ptr, id.len, a.id)) memset(a.id, 0, sizeof a.id);
        if (fn(ud, &a)) break;
    }
    return 0;
}

/* The version of each key with the highest `version` (argMax over the
 * whole row, so a tie cannot mix two rows), filtered on to_ms only after
 * that: a filter on a column that differs between versions must not run
 * before they are collapsed, which FINAL does not promise. */
static int ch_query_gaps(void *state, const tp_query *q, tp_gap_row_fn fn, void *ud, char *err,
                         size_t errlen) {
    ch_store *s = state;
    if (!q->symbol || !*q->symbol) return tp_seterr(err, errlen, TP_EINVAL, "query needs a symbol");
    tp_buf *b = &s->sql;
    tp_buf_reset(b);
    int bad =
        sql_add(b,
                "SELECT * FROM (SELECT symbol, from_ms, g.1 AS to_ms, g.2 AS reason, g.3 AS detected_at,"
                " connection, g.4 AS from_trade_id, g.5 AS to_trade_id FROM (SELECT symbol, from_ms,"
                " connection, argMax(tuple(to_ms, reason, detected_at, from_trade_id, to_trade_id), version)"
                " AS g FROM feed_gaps"
                " WHERE symbol = ") ||
        sql_quote(b, q->symbol);
    if (q->to_ms > 0) bad = bad || sql_add(b, " AND from_ms < %" PRId64, q->to_ms);
    bad = bad || sql_add(b, " GROUP BY symbol, from_ms, connection)");
    if (q->from_ms > 0) bad = bad || sql_add(b, " WHERE g.1 >= %" PRId64, q->from_ms);
    bad = bad || sql_add(b, " ORDER BY from_ms DESC, connection DESC");
    if (q->limit > 0) bad = bad || sql_add(b, " LIMIT %d", q->limit);
    bad = bad || sql_add(b, ") ORDER BY from_ms, connection FORMAT RowBinary");
    if (bad) return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    int rc = request(s, NULL, b->p, b->len, 1, err, errlen);
    if (rc) return rc;
    rb r = {s->resp.p, s->resp.p + s->resp.len, 0};
    while (r.p < r.end) {
        tp_gap_row g;
        char reason[64];
        g.symbol = rb_str(&r);
        g.from_ms = rb_i64(&r);
        g.to_ms = rb_i64(&r);
        tp_str rs = rb_str(&r);
        g.detected_at_ms = rb_i64(&r);
        g.connection = rb_i32(&r);
        g.from_trade_id = rb_nullable_i64(&r);
        g.to_trade_id = rb_nullable_i64(&r);
        if (r.bad) return bad_reply(s, err, errlen);
        snprintf(reason, sizeof reason, "%.*s", (int)rs.len, rs.ptr);
        g.reason = reason;
        if (fn(ud, &g)) break;
    }
    return 0;
}

/* ---- retention ---- */

/* ClickHouse 18.16 has no TTL, and its only row delete is a mutation
 * (`ALTER TABLE ... DELETE WHERE`): asynchronous, run by the server's
 * background pool, so inserts never wait for it, but it rewrites every
 * active part of the table, matching rows or not (18.16 has no IN
 * PARTITION, and skips no part). A mutation per step would rewrite the
 * table every few seconds. So a step:
 *  1. drops the month partitions (PARTITION BY toYYYYMM, sql/clickhouse.sql)
 *     that lie wholly before the cut: a metadata operation, no rewrite;
 *  2. starts a mutation for the rest only when none is still running on the
 *     table (they would queue up and rewrite the same parts again) and the
 *     expired rows are at least a tenth of the table, so one rewrite frees at
 *     least a tenth of what it writes: rewriting costs at most ten rows per
 *     row deleted, and rows stay at most about a tenth of their retention
 *     longer than asked.
 * *deleted counts the rows that will go (a mutation finishes later).
 * max_rows does not apply: a mutation deletes by condition, not by count. */
typedef struct ch_retain_table {
    const char *table;
    char cond[200];    /* rows expired: the mutation's WHERE */
    int64_t month_cut; /* partitions of months before toYYYYMM(this ms) are wholly expired; 0 = none */
} ch_retain_table;

static int ch_u64(ch_store *s, const char *sql, uint64_t *out, char *err, size_t errlen) {
    int rc = exec_sql(s, sql, 1, err, errlen);
    if (rc) return rc;
    tp_buf_append(&s->resp, "", 1);
    *out = strtoull(s->resp.p ? (const char *)s->resp.p : "0", NULL, 10);
    return 0;
}

static int ch_retain_one(ch_store *s, const ch_retain_table *t, uint64_t *deleted, char *err, size_t errlen) {
    char sql[512];
    int rc;
    if (t->month_cut) {
        snprintf(sql, sizeof sql,
                 "SELECT partition, toString(sum(rows)) FROM system.parts WHERE database = currentDatabase()"
                 " AND table = '%s' AND active AND toUInt32(partition) < toYYYYMM(toDateTime(%" PRId64
                 ")) GROUP BY partition FORMAT TabSeparated",
                 t->table, t->month_cut / 1000);
        if ((rc = exec_sql(s, sql, 1, err, errlen))) return rc;
        tp_buf_append(&s->resp, "", 1);
        char parts[1024];
        snprintf(parts, sizeof parts, "%s", s->resp.p ? (const char *)s->resp.p : "");
        for (char *line = parts, *nl; *line; line = nl + 1) {
            if (!(nl = strchr(line, '\n'))) break;
            *nl = '\0';
            char *tab = strchr(line, '\t');
            size_t idlen = tab ? (size_t)(tab - line) : 0;
            if (!idlen || idlen > 20 || strspn(line, "0123456789") != idlen) continue; /* a toYYYYMM id */
            snprintf(sql, sizeof sql, "ALTER TABLE %s DROP PARTITION %.*s", t->table, (int)idlen, line);
            if ((rc = exec_sql(s, sql, 1, err, errlen))) return rc;
            *deleted += strtoull(tab + 1, NULL, 10);
        }
    }
    uint64_t running = 0, expired = 0, total = 0;
    snprintf(sql, sizeof sql,
             "SELECT count() FROM system.mutations WHERE database = currentDatabase() AND table = '%s'"
             " AND is_done = 0",
             t->table);
    if ((rc = ch_u64(s, sql, &running, err, errlen)) || running) return rc;
    snprintf(sql, sizeof sql, "SELECT count() FROM %s WHERE %s", t->table, t->cond);
    if ((rc = ch_u64(s, sql, &expired, err, errlen)) || !expired) return rc;
    snprintf(sql, sizeof sql,
             "SELECT sum(rows) FROM system.parts WHERE database = currentDatabase() AND table = '%s'"
             " AND active",
             t->table);
    if ((rc = ch_u64(s, sql, &total, err, errlen))) return rc;
    if (expired * 10 < total) return 0;
    snprintf(sql, sizeof sql, "ALTER TABLE %s DELETE WHERE %s", t->table, t->cond);
    if ((rc = exec_sql(s, sql, 1, err, errlen))) return rc;
    *deleted += expired;
    return 0;
}

static int ch_retain(void *state, const tp_retention *r, int64_t now_ms, int max_rows, uint64_t *deleted,
                     char *err, size_t errlen) {
    ch_store *s = state;
    (void)max_rows;
    *deleted = 0;
    ch_retain_table t[4] = {{.table = "trades"},
                            {.table = "running_averages_15_sec"},
                            {.table = "candles"},
                            {.table = "feed_gaps"}};
    if (r->gaps_ms > 0) snprintf(t[3].cond, sizeof t[3].cond, "to_ms < %" PRId64, now_ms - r->gaps_ms);
    if (r->trades_ms > 0) {
        snprintf(t[0].cond, sizeof t[0].cond, "trade_timestamp < %" PRId64, now_ms - r->trades_ms);
        t[0].month_cut = now_ms - r->trades_ms;
    }
    if (r->averages_ms > 0) {
        snprintf(t[1].cond, sizeof t[1].cond, "window_start < %" PRId64, now_ms - r->averages_ms);
        t[1].month_cut = now_ms - r->averages_ms;
    }
    if (r->candles_1s_ms > 0 || r->candles_1m_ms > 0) {
        char c1[80] = "0", c60[80] = "0";
        if (r->candles_1s_ms > 0)
            snprintf(c1, sizeof c1, "(interval_s = 1 AND start_ms < %" PRId64 ")", now_ms - r->candles_1s_ms);
        if (r->candles_1m_ms > 0)
            snprintf(c60, sizeof c60, "(interval_s = 60 AND start_ms < %" PRId64 ")",
                     now_ms - r->candles_1m_ms);
        snprintf(t[2].cond, sizeof t[2].cond, "%s OR %s", c1, c60);
        /* a month partition holds both intervals: dropped once both are past it */
        if (r->candles_1s_ms > 0 && r->candles_1m_ms > 0)
            t[2].month_cut =
                now_ms - (r->candles_1s_ms > r->candles_1m_ms ? r->candles_1s_ms : r->candles_1m_ms);
    }
    for (int i = 0; i < 4; i++) {
        if (!t[i].cond[0]) continue;
        int rc = ch_retain_one(s, &t[i], deleted, err, errlen);
        if (rc) return rc;
    }
    return 0;
}

static const tp_sink_reader_ops ch_reader = {
    .query_symbols = ch_query_symbols,
    .query_trades = ch_query_trades,
    .query_candles = ch_query_candles,
    .query_averages = ch_query_averages,
};

static int ch_check_url(const char *url, char *err, size_t errlen) {
    tp_ch_url u;
    int rc = tp_clickhouse_parse_url(url, &u, err, errlen);
    memset(u.password, 0, sizeof u.password);
    return rc;
}

const tp_sink_ops tp_sink_clickhouse_ops = {
    .scheme = "clickhouse",
    .alias = NULL,
    .open = ch_open,
    .write_trades = ch_write_trades,
    .write_averages = ch_write_averages,
    .write_candles = ch_write_candles,
    .commit = ch_commit,
    .close = ch_close,
    .reader = &ch_reader,
    .check_url = ch_check_url,
    .write_gaps = ch_write_gaps,
    .query_gaps = ch_query_gaps,
    .retain = ch_retain,
};
