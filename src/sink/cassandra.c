/* cassandra.c - the Apache Cassandra store
 * (`cassandra://[user:password@]host[:9042][,host2[:port]...]/keyspace?...`)
 * over the CQL native protocol (cql.h).
 *
 * Design:
 * - Cassandra has no transactions, so a unit of work is buffered in memory
 *   (each row's bound values already encoded) and commit() sends it.
 *   Rows are grouped by partition key ((symbol, day) and so on) into
 *   UNLOGGED BATCHes of one partition each: one mutation per partition for
 *   the server, and no batch-size warnings, which exempt single-partition
 *   batches. Up to PIPELINE batches are in flight at once on one
 *   connection. A failed commit drops the unit; the caller re-sends it
 *   (sink.h), which is safe because every write is an upsert keyed by a
 *   deterministic id or window.
 * - Partitions are bounded to one UTC day (see sql/cassandra.cql);
 *   symbol_days records the days each symbol has, written with the rows.
 *   Readers walk those days: newest first for "the latest N" (then put the
 *   rows oldest first), oldest first when there is no limit, with paged
 *   reads inside a day. Rows of one millisecond are put in id order by the
 *   reader, as the other stores return them.
 * - Final versions of candles and averages win through write timestamps:
 *   USING TIMESTAMP version_ms * 1000 + (final ? 2^50 : 0).
 * - Retention is Cassandra's own: every row is written USING TTL, the time
 *   left until its event time (trade time, window or candle start, the end
 *   of a symbol_days day) plus the retention of its kind, so a row expires
 *   when the SQL stores' batched deletes would remove it, whatever its
 *   write time, and a re-sent row expires at the same moment. TTL 0 (the
 *   retention 0 = forever) writes no expiry. The retain op takes the
 *   settings for the writes that follow and deletes nothing itself; the
 *   pipeline calls it before its first write.
 * - Text that is not valid UTF-8 (Cassandra refuses it) becomes U+FFFD, so
 *   one bad string cannot make every retry of a unit fail.
 * - Errors by kind (cql.h): a lost connection or a transient server error
 *   (Overloaded, Unavailable, timeouts) fails the call with "will retry";
 *   the next call reconnects, starting at the next contact point. A
 *   refused request (syntax, invalid, unauthorized) is a clear error.
 * - Schema from sql/cassandra.cql at open when schema_version is missing:
 *   keyspace (with the URL's replication), tables, then schema agreement.
 *
 * One thread per store handle (see sink.h). */
#include "sink/cassandra_url.h"
#include "sink/cql.h"
#include "sink/rowfmt.h"
#include "sink/sink.h"

#include "core/config.h"
#include "core/err.h"
#include "core/hex.h"
#include "core/log.h"

#include <ctype.h>
#include <curl/curl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

extern const char tp_sql_cassandra[];

#define SCHEMA_VERSION 3
/* The columns added after the DDL (sql/cassandra.cql is version 1), run
 * after it (which creates any table missing, feed_gaps included): version
 * 2, windows that overlap a feed gap are marked (process/window.h);
 * version 3, a gap's missing venue trade ids (feed/gaps.h). An opener that
 * finds a column there already (the DDL made it, or another opener added
 * it) goes on. */
static const char *const k_schema_v2[] = {
    "ALTER TABLE running_averages_15_sec ADD incomplete boolean",
    "ALTER TABLE candles ADD incomplete boolean",
    "ALTER TABLE feed_gaps ADD from_trade_id bigint",
    "ALTER TABLE feed_gaps ADD to_trade_id bigint",
};
#define FINAL_BONUS_US (1LL << 50)
#define DAY_MS 86400000LL
#define PIPELINE 32
#define BATCH_MAX_ROWS 250
#define BATCH_MAX_BYTES (256u << 10)
#define PAGE_SIZE 5000
#define DAY_CACHE 256

enum {
    ST_INS_TRADE,
    ST_INS_AVG,
    ST_INS_CANDLE,
    ST_INS_DAY,
    ST_SEL_DAYS,
    ST_SEL_ALL_DAYS,
    ST_SEL_TRADES_DESC,
    ST_SEL_TRADES_ASC,
    ST_SEL_COUNT,
    ST_SEL_LAST,
    ST_SEL_AT,
    ST_SEL_AVG_DESC,
    ST_SEL_AVG_ASC,
    ST_SEL_CANDLE_DESC,
    ST_SEL_CANDLE_ASC,
    ST_INS_GAP,
    ST_SEL_GAPS,
    ST_COUNT
};

#define TRADE_COLS "trade_timestamp, uuid, price, volume, trade_conditions, ingest_timestamp"
#define AVG_COLS                                                                                             \
    "window_start, window_end, uuid, price_volume_multiply, trade_count, ingest_timestamp, final, "          \
    "incomplete"
#define CANDLE_COLS                                                                                          \
    "start_time, open, high, low, close, volume, vwap, trade_count, updated_at, final, incomplete"

static const char *const k_cql[ST_COUNT] = {
    [ST_INS_TRADE] =
        "INSERT INTO trades (symbol, day, trade_timestamp, uuid, price, volume, trade_conditions, "
        "ingest_timestamp) VALUES (?, ?, ?, ?, ?, ?, ?, ?) USING TTL ?",
    [ST_INS_AVG] =
        "INSERT INTO running_averages_15_sec (symbol, day, window_start, window_end, uuid, "
        "price_volume_multiply, trade_count, ingest_timestamp, final, incomplete) VALUES (?, ?, ?, ?, ?, ?, "
        "?, ?, ?, ?) USING TIMESTAMP ? AND TTL ?",
    [ST_INS_CANDLE] =
        "INSERT INTO candles (symbol, interval_s, day, start_time, open, high, low, close, volume, "
        "vwap, trade_count, updated_at, final, incomplete) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "USING TIMESTAMP ? AND TTL ?",
    [ST_INS_DAY] = "INSERT INTO symbol_days (symbol, kind, day) VALUES (?, ?, ?) USING TTL ?",
    [ST_SEL_DAYS] = "SELECT day FROM symbol_days WHERE symbol = ? AND kind = ?",
    [ST_SEL_ALL_DAYS] = "SELECT symbol, kind, day FROM symbol_days",
    [ST_SEL_TRADES_DESC] = "SELECT " TRADE_COLS " FROM trades WHERE symbol = ? AND day = ? AND "
                           "trade_timestamp >= ? AND trade_timestamp < ?",
    [ST_SEL_TRADES_ASC] = "SELECT " TRADE_COLS " FROM trades WHERE symbol = ? AND day = ? AND "
                          "trade_timestamp >= ? AND trade_timestamp < ? ORDER BY trade_timestamp ASC",
    [ST_SEL_COUNT] = "SELECT count(*) FROM trades WHERE symbol = ? AND day = ?",
    [ST_SEL_LAST] = "SELECT trade_timestamp FROM trades WHERE symbol = ? AND day = ? LIMIT 1",
    [ST_SEL_AT] = "SELECT uuid, price FROM trades WHERE symbol = ? AND day = ? AND trade_timestamp = ?",
    [ST_SEL_AVG_DESC] = "SELECT " AVG_COLS " FROM running_averages_15_sec WHERE symbol = ? AND day = ? AND "
                        "window_start >= ? AND window_start < ?",
    [ST_SEL_AVG_ASC] = "SELECT " AVG_COLS " FROM running_averages_15_sec WHERE symbol = ? AND day = ? AND "
                       "window_start >= ? AND window_start < ? ORDER BY window_start ASC",
    [ST_SEL_CANDLE_DESC] =
        "SELECT " CANDLE_COLS " FROM candles WHERE symbol = ? AND interval_s = ? AND day = ? "
        "AND start_time >= ? AND start_time < ?",
    [ST_SEL_CANDLE_ASC] =
        "SELECT " CANDLE_COLS " FROM candles WHERE symbol = ? AND interval_s = ? AND day = ? "
        "AND start_time >= ? AND start_time < ? ORDER BY start_time ASC",
    [ST_INS_GAP] = "INSERT INTO feed_gaps (symbol, from_ms, connection, to_ms, reason, detected_at, "
                   "from_trade_id, to_trade_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?) USING TIMESTAMP ? AND TTL ?",
    [ST_SEL_GAPS] = "SELECT from_ms, connection, to_ms, reason, detected_at, from_trade_id, to_trade_id "
                    "FROM feed_gaps "
                    "WHERE symbol = ? AND from_ms < ?",
};

/* One buffered row: its statement, partition key bytes and bound values. */
typedef struct pend {
    uint32_t seq;
    uint8_t stmt;
    uint32_t key_len, val_len;
    size_t key_off, val_off;
} pend;

typedef struct cass_store {
    tp_cql_config cfg;
    char user[256], password[256], ca_file[512];
    char ks[64];
    int consistency;
    char replication[512]; /* CQL map literal */
    char where[300];       /* contact points, for messages */
    tp_cql_conn *conn;
    int next_host;
    tp_cql_stmt st[ST_COUNT];
    /* the unit */
    tp_buf keys, vals;
    pend *rows;
    size_t nrows, cap;
    tp_buf *bodies;
    size_t nbodies_cap;
    /* scratch */
    tp_buf tmp, cond, text, args, paging;
    tp_cond_decoder dec;
    /* symbol_days rows already in the unit, by key hash: most trades of a
     * unit fall on a few (symbol, day) pairs, so most repeats stop here */
    struct {
        size_t off;
        uint32_t len;
    } day_seen[DAY_CACHE];
    tp_retention ret; /* from the retain op: the TTL of the rows written */
    int64_t now_ms;   /* wall clock of the current write call, for TTLs */
} cass_store;

/* ---- URL ---- */

static int valid_keyspace(const char *ks) {
    size_t n = strlen(ks);
    if (n < 1 || n > 48 || !isalpha((unsigned char)ks[0])) return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)ks[i]) && ks[i] != '_') return 0;
    return 1;
}

/* replication=N (SimpleStrategy) or replication=DC1:3,DC2:3
 * (NetworkTopologyStrategy). */
static int parse_replication(const char *v, char *out, size_t n, char *err, size_t errlen) {
    char *end;
    long rf = strtol(v, &end, 10);
    if (*v && !*end) {
        if (rf < 1 || rf > 99)
            return tp_seterr(err, errlen, TP_EINVAL,
                             "Cassandra store URL: replication=%s: a factor from 1 to 99", v);
        snprintf(out, n, "{'class': 'SimpleStrategy', 'replication_factor': %ld}", rf);
        return 0;
    }
    size_t o = (size_t)snprintf(out, n, "{'class': 'NetworkTopologyStrategy'");
    char dcs[256];
    if (strlen(v) >= sizeof dcs)
        return tp_seterr(err, errlen, TP_EINVAL, "Cassandra store URL: replication= too long");
    strcpy(dcs, v);
    char *save = NULL;
    for (char *tok = strtok_r(dcs, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(tok, ':');
        long f = colon ? strtol(colon + 1, &end, 10) : 0;
        if (!colon || colon == tok || *end || f < 1 || f > 99)
            return tp_seterr(
                err, errlen, TP_EINVAL,
                "Cassandra store URL: replication=%s: use a factor (replication=3) or DC:FACTOR pairs "
                "(replication=dc1:3,dc2:2)",
                v);
        *colon = 0;
        for (char *q = tok; *q; q++)
            if (!isalnum((unsigned char)*q) && *q != '_' && *q != '-' && *q != '.')
                return tp_seterr(err, errlen, TP_EINVAL,
                                 "Cassandra store URL: replication: bad data center name '%s'", tok);
        if (o < n) o += (size_t)snprintf(out + o, n - o, ", '%s': %ld", tok, f);
    }
    if (o + 2 > n) return tp_seterr(err, errlen, TP_EINVAL, "Cassandra store URL: replication= too long");
    snprintf(out + o, n - o, "}");
    return 0;
}

/* Copy part `what` of u into out (percent-decoded with flags
 * CURLU_URLDECODE); a part the URL does not have leaves out as it is.
 * 0, or TP_EINVAL saying which part is wrong (never its value). */
static int url_part(CURLU *u, CURLUPart part, unsigned flags, const char *what, char *out, size_t outlen,
                    char *err, size_t errlen) {
    char *v = NULL;
    CURLUcode uc = curl_url_get(u, part, &v, flags);
    if (uc == CURLUE_NO_USER || uc == CURLUE_NO_PASSWORD || uc == CURLUE_NO_PORT || uc == CURLUE_NO_QUERY)
        return 0;
    if (uc != CURLUE_OK)
        return tp_seterr(err, errlen, TP_EINVAL, "Cassandra store URL: the %s: %s", what,
                         curl_url_strerror(uc));
    size_t n = strlen(v);
    int rc = n < outlen ? 0
                        : tp_seterr(err, errlen, TP_EINVAL,
                                    "Cassandra store URL: the %s is longer than %zu bytes", what, outlen - 1);
    if (!rc) memcpy(out, v, n + 1);
    curl_free(v);
    return rc;
}

/* One contact point, HOST[:PORT] or [IPV6][:PORT], through curl_url. */
static int parse_host(const char *p, size_t n, tp_cql_host *h, char *err, size_t errlen) {
    static const char k_form[] = "HOST[:PORT], port 1-65535, an IPv6 address in [ ]; percent-encode '/', '?' "
                                 "and '@' in a password";
    if (!n)
        return tp_seterr(err, errlen, TP_EINVAL,
                         "Cassandra store URL: no host in the URL; use cassandra://HOST[:9042]/KEYSPACE");
    char one[300], host[sizeof h->name + 2] = "", port[16] = "9042";
    if (n + 16 > sizeof one)
        return tp_seterr(err, errlen, TP_EINVAL, "Cassandra store URL: a host is too long");
    snprintf(one, sizeof one, "cassandra://%.*s/", (int)n, p);
    CURLU *u = curl_url();
    if (!u) return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    CURLUcode uc = curl_url_set(u, CURLUPART_URL, one, CURLU_NON_SUPPORT_SCHEME);
    /* curl's text names the problem, never the host (the segment could
     * hold the tail of a password with a raw '/' or '?') */
    int rc = uc != CURLUE_OK ? tp_seterr(err, errlen, TP_EINVAL, "Cassandra store URL: bad host (%s): %s",
                                         curl_url_strerror(uc), k_form)
                             : 0;
    if (!rc) rc = url_part(u, CURLUPART_HOST, 0, "host", host, sizeof host, err, errlen);
    if (!rc) rc = url_part(u, CURLUPART_PORT, 0, "port", port, sizeof port, err, errlen);
    curl_url_cleanup(u);
    if (rc) return rc;
    char *end;
    long v = strtol(port, &end, 10);
    if (*end || v < 1 || v > 65535)
        return tp_seterr(err, errlen, TP_EINVAL, "Cassandra store URL: bad port in a host: %s", k_form);
    size_t hl = strlen(host);
    const char *hp = host;
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') hp++, hl -= 2; /* IPv6: the address alone */
    if (!hl || hl >= sizeof h->name)
        return tp_seterr(err, errlen, TP_EINVAL, "Cassandra store URL: empty or too long host in the URL");
    memcpy(h->name, hp, hl);
    h->name[hl] = 0;
    h->port = (uint16_t)v;
    return 0;
}

/* One "name=value" of the query string; the value percent-decoded. */
static int url_param(tp_cass_url *c, const char *kv, size_t n, char *err, size_t errlen) {
    const char *eq = memchr(kv, '=', n);
    size_t kn = eq ? (size_t)(eq - kv) : n;
    char key[32], val[512] = "";
    if (!kn) return 0; /* "a=1&&b=2" */
    if (kn >= sizeof key) kn = sizeof key - 1;
    memcpy(key, kv, kn);
    key[kn] = 0;
    if (eq && tp_pct_decode(eq + 1, n - (size_t)(eq - kv) - 1, 0, val, sizeof val) < 0)
        return tp_seterr(err, errlen, TP_EINVAL,
                         "Cassandra store URL: ?%s= is longer than %zu bytes or holds %%00", key,
                         sizeof val - 1);
    int rc = 0;
    if (!strcmp(key, "consistency")) {
        c->consistency = tp_cql_consistency_parse(val);
        if (c->consistency < 0 || c->consistency == TP_CQL_ANY)
            return tp_seterr(
                err, errlen, TP_EINVAL,
                "Cassandra store URL: consistency=%s: use ONE, TWO, THREE, QUORUM, ALL, LOCAL_QUORUM "
                "(default), EACH_QUORUM or LOCAL_ONE",
                val);
    } else if (!strcmp(key, "replication")) {
        rc = parse_replication(val, c->replication, sizeof c->replication, err, errlen);
    } else if (!strcmp(key, "tls")) {
        if (strcmp(val, "0") && strcmp(val, "1"))
            return tp_seterr(err, errlen, TP_EINVAL, "Cassandra store URL: tls=%s: use tls=1 or tls=0", val);
        c->tls = val[0] == '1';
    } else if (!strcmp(key, "cafile")) {
        if (strlen(val) >= sizeof c->ca_file)
            return tp_seterr(err, errlen, TP_EINVAL, "Cassandra store URL: cafile path too long");
        strcpy(c->ca_file, val);
        c->tls = 1;
    } else if (!strcmp(key, "user") || !strcmp(key, "password")) {
        char *dst = key[0] == 'u' ? c->user : c->password;
        if (strlen(val) >= sizeof c->user)
            return tp_seterr(err, errlen, TP_EINVAL, "Cassandra store URL: %s too long", key);
        strcpy(dst, val);
        c->credentials = 1;
    } else {
        /* a mangled "password%3D...": not echoed, it holds the password */
        for (const char *k = key; *k; k++)
            if (!isalnum((unsigned char)*k) && *k != '_')
                return tp_seterr(
                    err, errlen, TP_EINVAL,
                    "Cassandra store URL: an unknown URL parameter (known: consistency, replication, "
                    "tls, cafile, user, password; percent-encode '=', '&' and '%%' in a value)");
        return tp_seterr(
            err, errlen, TP_EINVAL,
            "Cassandra store URL: unknown URL parameter '%s' (known: consistency, replication, tls, "
            "cafile, user, password)",
            key);
    }
    return rc;
}

/* The URL through libcurl's URL API (curl_url), as ClickHouse's: curl
 * takes one host, so the contact points (between the '@' and the path)
 * are cut out and parsed one by one, and the rest (user, password,
 * keyspace, parameters) from the URL with a placeholder host. */
static int parse_cass_url(const char *url, tp_cass_url *c, char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    if (strncmp(url, "cassandra://", 12))
        return tp_seterr(err, errlen, TP_EINVAL, "Cassandra store URL: it must start with cassandra://");
    int rc = tp_sink_url_syntax(url, "Cassandra", err, errlen);
    if (rc) return rc;
    const char *auth = url + 12, *auth_end = auth + strcspn(auth, "/?");
    const char *at = memchr(auth, '@', (size_t)(auth_end - auth)); /* at most one (tp_sink_url_syntax) */
    const char *hosts = at ? at + 1 : auth;
    /* host[:port] list */
    size_t wo = 0;
    for (const char *p = hosts;;) {
        const char *comma = memchr(p, ',', (size_t)(auth_end - p));
        const char *e = comma ? comma : auth_end;
        if (c->nhosts == TP_CQL_MAX_HOSTS)
            return tp_seterr(err, errlen, TP_EINVAL, "Cassandra store URL: at most %d contact points",
                             TP_CQL_MAX_HOSTS);
        tp_cql_host *h = &c->hosts[c->nhosts];
        if ((rc = parse_host(p, (size_t)(e - p), h, err, errlen))) return rc;
        int v6 = strchr(h->name, ':') != NULL;
        if (wo < sizeof c->where)
            wo += (size_t)snprintf(c->where + wo, sizeof c->where - wo, "%s%s%s%s:%u", c->nhosts ? "," : "",
                                   v6 ? "[" : "", h->name, v6 ? "]" : "", h->port);
        c->nhosts++;
        if (!comma) break;
        p = comma + 1;
    }
    /* the rest: cassandra://USERINFO@h/PATH?QUERY */
    char rest[2048];
    size_t ul = (size_t)(hosts - auth);
    if (12 + ul + 1 + strlen(auth_end) >= sizeof rest)
        return tp_seterr(err, errlen, TP_EINVAL, "Cassandra store URL: URL too long");
    snprintf(rest, sizeof rest, "cassandra://%.*sh%s", (int)ul, auth, auth_end);
    CURLU *u = curl_url();
    if (!u) return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    CURLUcode uc = curl_url_set(u, CURLUPART_URL, rest, CURLU_NON_SUPPORT_SCHEME);
    char path[160] = "", query[1024] = "";
    if (uc != CURLUE_OK)
        rc = tp_seterr(err, errlen, TP_EINVAL,
                       "Cassandra store URL: %s; it must look like cassandra://HOST[:9042]/KEYSPACE",
                       curl_url_strerror(uc));
    if (!rc) rc = url_part(u, CURLUPART_USER, CURLU_URLDECODE, "user", c->user, sizeof c->user, err, errlen);
    if (!rc)
        rc = url_part(u, CURLUPART_PASSWORD, CURLU_URLDECODE, "password", c->password, sizeof c->password,
                      err, errlen);
    if (!rc) rc = url_part(u, CURLUPART_PATH, CURLU_URLDECODE, "keyspace", path, sizeof path, err, errlen);
    if (!rc) rc = url_part(u, CURLUPART_QUERY, 0, "query string", query, sizeof query, err, errlen);
    curl_url_cleanup(u);
    if (rc) goto fail;
    c->credentials = at != NULL;
    /* keyspace */
    const char *ks = path[0] == '/' ? path + 1 : path;
    strcpy(c->ks, "market");
    if (*ks) {
        if (strlen(ks) >= sizeof c->ks || !valid_keyspace(ks)) {
            rc = tp_seterr(err, errlen, TP_EINVAL,
                           "Cassandra store URL: keyspace '%.60s' is not a valid CQL name (a letter, then "
                           "letters, digits or _, at most 48)",
                           ks);
            goto fail;
        }
        size_t i = 0;
        for (; ks[i]; i++) c->ks[i] = (char)tolower((unsigned char)ks[i]);
        c->ks[i] = 0;
    }
    /* parameters */
    c->consistency = TP_CQL_LOCAL_QUORUM;
    snprintf(c->replication, sizeof c->replication, "{'class': 'SimpleStrategy', 'replication_factor': 1}");
    for (const char *p = query; *p;) {
        size_t n = strcspn(p, "&");
        if ((rc = url_param(c, p, n, err, errlen))) goto fail;
        p += n;
        if (*p == '&') p++;
    }
    return 0;
fail:
    memset(c->password, 0, sizeof c->password);
    return rc;
}

int tp_cassandra_parse_url(const char *url, tp_cass_url *out, char *err, size_t errlen) {
    return parse_cass_url(url, out, err, errlen);
}

/* The store's configuration from the URL. */
static int parse_url(cass_store *s, const char *url, char *err, size_t errlen) {
    tp_cass_url *c = calloc(1, sizeof *c);
    if (!c) return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    int rc = parse_cass_url(url, c, err, errlen);
    if (!rc) {
        memcpy(s->cfg.hosts, c->hosts, sizeof c->hosts);
        s->cfg.nhosts = c->nhosts;
        memcpy(s->where, c->where, sizeof s->where);
        memcpy(s->user, c->user, sizeof s->user);
        memcpy(s->password, c->password, sizeof s->password);
        if (c->credentials) {
            s->cfg.user = s->user;
            s->cfg.password = s->password;
        }
        memcpy(s->ks, c->ks, sizeof s->ks);
        s->consistency = c->consistency;
        memcpy(s->replication, c->replication, sizeof s->replication);
        s->cfg.tls = c->tls;
        memcpy(s->ca_file, c->ca_file, sizeof s->ca_file);
        if (c->ca_file[0]) s->cfg.ca_file = s->ca_file;
    }
    memset(c->password, 0, sizeof c->password);
    free(c);
    return rc;
}

/* ---- text ---- */

/* Length of the valid UTF-8 sequence at p (1..4), or 0. */
static size_t utf8_len(const unsigned char *p, size_t n) {
    unsigned c = p[0];
    if (c < 0x80) return 1;
    size_t len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (!len || len > n) return 0;
    for (size_t i = 1; i < len; i++)
        if ((p[i] & 0xc0) != 0x80) return 0;
    if (c == 0xe0 && p[1] < 0xa0) return 0;
    if (c == 0xed && p[1] >= 0xa0) return 0;
    if (c == 0xf0 && p[1] < 0x90) return 0;
    if (c == 0xf4 && p[1] >= 0x90) return 0;
    return len;
}

/* s as UTF-8 Cassandra accepts: invalid bytes become U+FFFD. Returns a
 * pointer to s itself when it is valid (the usual case), else into out. */
static const char *utf8_clean(const char *s, size_t n, tp_buf *out, size_t *outlen) {
    size_t i = 0;
    while (i < n) {
        size_t l = utf8_len((const unsigned char *)s + i, n - i);
        if (!l) break;
        i += l;
    }
    if (i == n) {
        *outlen = n;
        return s;
    }
    tp_buf_reset(out);
    if (tp_buf_append(out, s, i)) return NULL;
    while (i < n) {
        size_t l = utf8_len((const unsigned char *)s + i, n - i);
        if (l ? tp_buf_append(out, s + i, l) : tp_buf_append(out, "\xef\xbf\xbd", 3)) return NULL;
        i += l ? l : 1;
    }
    *outlen = out->len;
    return (const char *)out->p;
}

static int val_text(cass_store *s, tp_buf *b, const char *p, size_t n) {
    size_t len;
    const char *t = utf8_clean(p, n, &s->text, &len);
    return t ? tp_cql_val_blob(b, t, len) : -1;
}

static int64_t day_of(int64_t ms) {
    return ms >= 0 ? ms / DAY_MS : -((-ms + DAY_MS - 1) / DAY_MS);
}

/* Cassandra refuses a TTL above 20 years: a longer retention is forever. */
#define CASS_MAX_TTL_S 630720000LL

/* The TTL (s) of a row whose event time is event_ms, kept keep_ms (0 =
 * forever): what is left of its retention, at least 1 s (a row already past
 * it goes at once, as a batched delete would take it). */
static int32_t ttl_of(const cass_store *s, int64_t event_ms, int64_t keep_ms) {
    if (keep_ms <= 0 || keep_ms / 1000 > CASS_MAX_TTL_S) return 0;
    int64_t left = event_ms + keep_ms - s->now_ms;
    if (left <= 0) return 1;
    left = (left + 999) / 1000;
    return (int32_t)(left > CASS_MAX_TTL_S ? CASS_MAX_TTL_S : left);
}

/* ---- connection ---- */

static int use_and_prepare(cass_store *s, char *err, size_t errlen) {
    char cql[128];
    snprintf(cql, sizeof cql, "USE %s", s->ks);
    int rc = tp_cql_query(s->conn, cql, s->consistency, NULL, err, errlen);
    for (int i = 0; !rc && i < ST_COUNT; i++) {
        s->st[i].cql = k_cql[i];
        rc = tp_cql_prepare(s->conn, &s->st[i], err, errlen);
    }
    return rc;
}

static void drop_conn(cass_store *s) {
    tp_cql_close(s->conn);
    s->conn = NULL;
}

/* A usable connection: reconnect (next contact point first) when the last
 * one broke. with_ks: also USE the keyspace and prepare the statements. */
static int ensure_conn(cass_store *s, int with_ks, char *err, size_t errlen) {
    if (s->conn && !tp_cql_broken(s->conn)) return 0;
    drop_conn(s);
    s->cfg.first_host = s->next_host;
    s->next_host = (s->next_host + 1) % s->cfg.nhosts;
    int rc = tp_cql_connect(&s->cfg, &s->conn, err, errlen);
    if (rc) return rc;
    if (with_ks && (rc = use_and_prepare(s, err, errlen))) {
        drop_conn(s);
        return rc;
    }
    return 0;
}

/* After a failed call: a broken connection is dropped (the next call
 * reconnects); a transient server error keeps it. */
static int after(cass_store *s, int rc) {
    if (rc && s->conn && tp_cql_broken(s->conn)) drop_conn(s);
    return rc;
}

/* ---- schema ---- */

static int is_skipped_stmt(const char *stmt) {
    return !strncasecmp(stmt, "CREATE KEYSPACE", 15) || !strncasecmp(stmt, "USE ", 4);
}

/* Run each statement of the DDL file: "--" comments dropped, split at ';'. */
static int run_ddl(cass_store *s, const char *ddl, char *err, size_t errlen) {
    tp_buf *b = &s->tmp;
    tp_buf_reset(b);
    for (const char *p = ddl; *p;) {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        const char *dash = NULL;
        for (size_t i = 0; i + 1 < n; i++)
            if (p[i] == '-' && p[i + 1] == '-') {
                dash = p + i;
                break;
            }
        if (tp_buf_append(b, p, dash ? (size_t)(dash - p) : n) || tp_buf_append(b, "\n", 1))
            return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
        p += n + (eol ? 1 : 0);
    }
    if (tp_buf_append(b, "", 1)) return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    char *text = (char *)b->p, *save = NULL;
    for (char *stmt = strtok_r(text, ";", &save); stmt; stmt = strtok_r(NULL, ";", &save)) {
        while (isspace((unsigned char)*stmt)) stmt++;
        if (!*stmt || is_skipped_stmt(stmt)) continue;
        int rc = tp_cql_query(s->conn, stmt, s->consistency, NULL, err, errlen);
        if (rc) return rc;
    }
    return 0;
}

static int schema_current(cass_store *s, int *version, char *err, size_t errlen) {
    char cql[160];
    snprintf(cql, sizeof cql, "SELECT version FROM %s.schema_version", s->ks);
    tp_cql_result r;
    int rc = tp_cql_query(s->conn, cql, s->consistency, &r, err, errlen);
    *version = 0;
    if (rc) return rc;
    tp_cql_rows it;
    tp_cql_value v[TP_CQL_MAX_COLS];
    tp_cql_rows_begin(&r, &it);
    while (tp_cql_row_next(&it, v)) {
        int32_t x;
        if (r.ncols >= 1 && !tp_cql_get_i32(v[0], &x) && x > *version) *version = x;
    }
    return 0;
}

static int ensure_schema(cass_store *s, char *err, size_t errlen) {
    int version = 0;
    char e[600];
    int rc = schema_current(s, &version, e, sizeof e);
    if (!rc && version >= SCHEMA_VERSION) return 0;
    if (rc && tp_cql_last_code(s->conn) != TP_CQL_E_INVALID) return tp_seterr(err, errlen, rc, "%s", e);
    /* no keyspace or no table yet: make them */
    char cql[800];
    snprintf(cql, sizeof cql, "CREATE KEYSPACE IF NOT EXISTS %s WITH replication = %s", s->ks,
             s->replication);
    rc = tp_cql_query(s->conn, cql, s->consistency, NULL, e, sizeof e);
    if (rc && tp_cql_last_code(s->conn) == TP_CQL_E_UNAUTHORIZED)
        return tp_seterr(err, errlen, TP_EREFUSED,
                         "%s; keyspace '%s' is missing and user '%s' may not create it: create it first, or "
                         "grant CREATE on ALL KEYSPACES",
                         e, s->ks, s->user[0] ? s->user : "(none)");
    if (rc) return tp_seterr(err, errlen, rc, "%s", e);
    if ((rc = tp_cql_await_schema(s->conn, 60000, err, errlen))) return rc;
    snprintf(cql, sizeof cql, "USE %s", s->ks);
    if ((rc = tp_cql_query(s->conn, cql, s->consistency, NULL, err, errlen))) return rc;
    if ((rc = run_ddl(s, tp_sql_cassandra, e, sizeof e))) {
        if (tp_cql_last_code(s->conn) == TP_CQL_E_UNAUTHORIZED)
            return tp_seterr(err, errlen, TP_EREFUSED, "%s; grant CREATE on keyspace %s to user '%s'", e,
                             s->ks, s->user);
        return tp_seterr(err, errlen, rc, "%s", e);
    }
    if ((rc = tp_cql_await_schema(s->conn, 60000, err, errlen))) return rc;
    for (size_t i = 0; i < sizeof k_schema_v2 / sizeof k_schema_v2[0]; i++) {
        rc = tp_cql_query(s->conn, k_schema_v2[i], s->consistency, NULL, e, sizeof e);
        if (rc && tp_cql_last_code(s->conn) != TP_CQL_E_INVALID) return tp_seterr(err, errlen, rc, "%s", e);
    }
    if ((rc = tp_cql_await_schema(s->conn, 60000, err, errlen))) return rc;
    snprintf(cql, sizeof cql,
             "INSERT INTO schema_version (version, applied_at) VALUES (%d, toTimestamp(now()))",
             SCHEMA_VERSION);
    if ((rc = tp_cql_query(s->conn, cql, s->consistency, NULL, err, errlen))) return rc;
    tp_info("cassandra", "created schema version %d in keyspace %s", SCHEMA_VERSION, s->ks);
    return 0;
}

/* feed_gaps is created if missing, by its statement in sql/cassandra.cql,
 * rather than by a migration: a new table alone, so a keyspace of schema
 * version 1 made before it simply gains it. Asking system_schema first
 * keeps a user without CREATE permission working once the table exists. */
static int ensure_gaps_table(cass_store *s, char *err, size_t errlen) {
    char cql[256];
    snprintf(cql, sizeof cql,
             "SELECT table_name FROM system_schema.tables WHERE keyspace_name = '%s' AND table_name = "
             "'feed_gaps'",
             s->ks);
    tp_cql_result r;
    int rc = tp_cql_query(s->conn, cql, s->consistency, &r, err, errlen);
    if (rc) return rc;
    tp_cql_rows it;
    tp_cql_value v[TP_CQL_MAX_COLS];
    tp_cql_rows_begin(&r, &it);
    if (tp_cql_row_next(&it, v)) return 0;
    const char *p = strstr(tp_sql_cassandra, "CREATE TABLE IF NOT EXISTS feed_gaps");
    const char *end = p ? strchr(p, ';') : NULL;
    if (!end) return tp_seterr(err, errlen, TP_ESTATE, "sql/cassandra.cql has no feed_gaps table");
    char *ddl = strndup(p, (size_t)(end - p + 1));
    if (!ddl) return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    snprintf(cql, sizeof cql, "USE %s", s->ks);
    rc = tp_cql_query(s->conn, cql, s->consistency, NULL, err, errlen);
    if (!rc) rc = run_ddl(s, ddl, err, errlen);
    free(ddl);
    if (!rc) rc = tp_cql_await_schema(s->conn, 60000, err, errlen);
    if (!rc) tp_info("cassandra", "created table feed_gaps in keyspace %s", s->ks);
    return rc;
}

static void cass_close(void *state);

static int cass_open(const char *url, void **state, char *err, size_t errlen) {
    cass_store *s = calloc(1, sizeof *s);
    if (!s) return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    int rc = parse_url(s, url, err, errlen);
    if (!rc) rc = ensure_conn(s, 0, err, errlen);
    if (!rc) rc = ensure_schema(s, err, errlen);
    if (!rc) rc = ensure_gaps_table(s, err, errlen);
    if (!rc) rc = use_and_prepare(s, err, errlen);
    if (rc) {
        cass_close(s);
        return rc;
    }
    *state = s;
    return 0;
}

static void cass_close(void *state) {
    cass_store *s = state;
    if (!s) return;
    drop_conn(s);
    tp_buf_free(&s->keys);
    tp_buf_free(&s->vals);
    free(s->rows);
    for (size_t i = 0; i < s->nbodies_cap; i++) tp_buf_free(&s->bodies[i]);
    free(s->bodies);
    tp_buf_free(&s->tmp);
    tp_buf_free(&s->cond);
    tp_buf_free(&s->text);
    tp_buf_free(&s->args);
    tp_buf_free(&s->paging);
    tp_cond_decoder_free(&s->dec);
    memset(s->password, 0, sizeof s->password);
    free(s);
}

/* ---- writes: buffered until commit ---- */

static void drop_unit(cass_store *s) {
    memset(s->day_seen, 0, sizeof s->day_seen);
    tp_buf_reset(&s->keys);
    tp_buf_reset(&s->vals);
    s->nrows = 0;
}

/* Start a row of statement st; the caller then appends its partition key
 * to s->keys and its values to s->vals, and calls row_end. */
static pend *row_begin(cass_store *s, int st) {
    if (s->nrows == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        pend *r = realloc(s->rows, cap * sizeof *r);
        if (!r) return NULL;
        s->rows = r;
        s->cap = cap;
    }
    pend *r = &s->rows[s->nrows];
    r->seq = (uint32_t)s->nrows;
    r->stmt = (uint8_t)st;
    r->key_off = s->keys.len;
    r->val_off = s->vals.len;
    return r;
}

static void row_end(cass_store *s, pend *r) {
    r->key_len = (uint32_t)(s->keys.len - r->key_off);
    r->val_len = (uint32_t)(s->vals.len - r->val_off);
    s->nrows++;
}

/* Partition key bytes: symbol (cleaned), then the rest as raw bytes. */
static int key_put(cass_store *s, const char *sym, size_t n, const void *rest, size_t rn) {
    size_t len;
    const char *t = utf8_clean(sym, n, &s->text, &len);
    uint32_t l32 = (uint32_t)len;
    return !t || tp_buf_append(&s->keys, &l32, 4) || tp_buf_append(&s->keys, t, len) ||
                   tp_buf_append(&s->keys, rest, rn)
               ? -1
               : 0;
}

static int add_day(cass_store *s, const char *sym, size_t n, const char *kind, int64_t day, int64_t keep_ms) {
    pend *r = row_begin(s, ST_INS_DAY);
    if (!r) return -1;
    size_t kl = strlen(kind);
    uint8_t rest[64];
    memcpy(rest, kind, kl);
    memcpy(rest + kl, &day, 8);
    if (key_put(s, sym, n, rest, kl + 8)) return -1;
    /* the same key already in this unit: take the key back, add nothing */
    const uint8_t *key = s->keys.p + r->key_off;
    uint32_t len = (uint32_t)(s->keys.len - r->key_off);
    uint64_t h = 1469598103934665603ULL;
    for (uint32_t i = 0; i < len; i++) h = (h ^ key[i]) * 1099511628211ULL;
    size_t slot = (size_t)(h % DAY_CACHE);
    if (s->day_seen[slot].len == len && !memcmp(s->keys.p + s->day_seen[slot].off, key, len)) {
        s->keys.len = r->key_off;
        return 0;
    }
    s->day_seen[slot].off = r->key_off;
    s->day_seen[slot].len = len;
    if (val_text(s, &s->vals, sym, n) || tp_cql_val_blob(&s->vals, kind, kl) ||
        tp_cql_val_date(&s->vals, day) || tp_cql_val_i32(&s->vals, ttl_of(s, (day + 1) * DAY_MS, keep_ms)))
        return -1;
    row_end(s, r);
    return 0;
}

/* symbol_days rows: add_day drops most repeats, build_batches the rest. */
static int cass_write_trades(void *state, const tp_trade *t, size_t n, int64_t ingest_ms, char *err,
                             size_t errlen) {
    cass_store *s = state;
    const tp_trade *prev = NULL;
    int64_t prev_day = 0;
    s->now_ms = tp_now_ms();
    for (size_t i = 0; i < n; i++) {
        int64_t day = day_of(t[i].ts_ms);
        if (!prev || day != prev_day || !tp_str_eq(prev->symbol, t[i].symbol)) {
            if (add_day(s, t[i].symbol.ptr, t[i].symbol.len, "trades", day, s->ret.trades_ms)) goto oom;
            prev = &t[i];
            prev_day = day;
        }
        pend *r = row_begin(s, ST_INS_TRADE);
        int32_t d32 = (int32_t)day;
        if (!r || key_put(s, t[i].symbol.ptr, t[i].symbol.len, &d32, 4)) goto oom;
        tp_buf *v = &s->vals;
        if (val_text(s, v, t[i].symbol.ptr, t[i].symbol.len) || tp_cql_val_date(v, day) ||
            tp_cql_val_i64(v, t[i].ts_ms) || tp_cql_val_uuid(v, t[i].id) ||
            tp_cql_val_double(v, t[i].price) || tp_cql_val_double(v, t[i].volume))
            goto oom;
        if (t[i].ncond == TP_COND_NULL) {
            /* unset, not null: an idempotent re-write leaves no tombstone */
            if (tp_cql_val_unset(v)) goto oom;
        } else {
            tp_buf_reset(&s->cond);
            if (tp_cond_json(&s->cond, &t[i]) || val_text(s, v, (const char *)s->cond.p, s->cond.len))
                goto oom;
        }
        if (tp_cql_val_i64(v, ingest_ms) || tp_cql_val_i32(v, ttl_of(s, t[i].ts_ms, s->ret.trades_ms)))
            goto oom;
        row_end(s, r);
    }
    return 0;
oom:
    drop_unit(s);
    return tp_seterr(err, errlen, TP_ENOMEM, "cassandra: out of memory buffering the unit");
}

static int64_t write_time(int64_t version_ms, int final) {
    return version_ms * 1000 + (final ? FINAL_BONUS_US : 0);
}

static int cass_write_averages(void *state, const tp_average *a, size_t n, char *err, size_t errlen) {
    cass_store *s = state;
    s->now_ms = tp_now_ms();
    for (size_t i = 0; i < n; i++) {
        int64_t day = day_of(a[i].window_start_ms);
        if (add_day(s, a[i].symbol.ptr, a[i].symbol.len, "averages", day, s->ret.averages_ms)) goto oom;
        pend *r = row_begin(s, ST_INS_AVG);
        int32_t d32 = (int32_t)day;
        if (!r || key_put(s, a[i].symbol.ptr, a[i].symbol.len, &d32, 4)) goto oom;
        tp_buf *v = &s->vals;
        if (val_text(s, v, a[i].symbol.ptr, a[i].symbol.len) || tp_cql_val_date(v, day) ||
            tp_cql_val_i64(v, a[i].window_start_ms) || tp_cql_val_i64(v, a[i].window_end_ms) ||
            tp_cql_val_uuid(v, a[i].id) || tp_cql_val_double(v, a[i].price_volume_multiply) ||
            tp_cql_val_i64(v, a[i].trade_count) || tp_cql_val_i64(v, a[i].ingest_ms) ||
            tp_cql_val_bool(v, a[i].final) || tp_cql_val_bool(v, a[i].incomplete) ||
            tp_cql_val_i64(v, write_time(a[i].ingest_ms, a[i].final)))
            goto oom;
        if (tp_cql_val_i32(v, ttl_of(s, a[i].window_start_ms, s->ret.averages_ms))) goto oom;
        row_end(s, r);
    }
    return 0;
oom:
    drop_unit(s);
    return tp_seterr(err, errlen, TP_ENOMEM, "cassandra: out of memory buffering the unit");
}

static int cass_write_candles(void *state, const tp_candle *c, size_t n, char *err, size_t errlen) {
    cass_store *s = state;
    s->now_ms = tp_now_ms();
    for (size_t i = 0; i < n; i++) {
        int64_t day = day_of(c[i].start_ms);
        char kind[24];
        snprintf(kind, sizeof kind, "candles:%d", c[i].interval_s);
        int64_t keep = c[i].interval_s == 1    ? s->ret.candles_1s_ms
                       : c[i].interval_s == 60 ? s->ret.candles_1m_ms
                                               : 0;
        if (add_day(s, c[i].symbol.ptr, c[i].symbol.len, kind, day, keep)) goto oom;
        pend *r = row_begin(s, ST_INS_CANDLE);
        int32_t kp[2] = {c[i].interval_s, (int32_t)day};
        if (!r || key_put(s, c[i].symbol.ptr, c[i].symbol.len, kp, sizeof kp)) goto oom;
        tp_buf *v = &s->vals;
        if (val_text(s, v, c[i].symbol.ptr, c[i].symbol.len) || tp_cql_val_i32(v, c[i].interval_s) ||
            tp_cql_val_date(v, day) || tp_cql_val_i64(v, c[i].start_ms) || tp_cql_val_double(v, c[i].open) ||
            tp_cql_val_double(v, c[i].high) || tp_cql_val_double(v, c[i].low) ||
            tp_cql_val_double(v, c[i].close) || tp_cql_val_double(v, c[i].volume) ||
            (isnan(c[i].vwap) ? tp_cql_val_null(v) : tp_cql_val_double(v, c[i].vwap)) ||
            tp_cql_val_i64(v, c[i].trade_count) || tp_cql_val_i64(v, c[i].updated_ms) ||
            tp_cql_val_bool(v, c[i].final) || tp_cql_val_bool(v, c[i].incomplete) ||
            tp_cql_val_i64(v, write_time(c[i].updated_ms, c[i].final)))
            goto oom;
        if (tp_cql_val_i32(v, ttl_of(s, c[i].start_ms, keep))) goto oom;
        row_end(s, r);
    }
    return 0;
oom:
    drop_unit(s);
    return tp_seterr(err, errlen, TP_ENOMEM, "cassandra: out of memory buffering the unit");
}

/* The order a commit makes rows durable in, so that a writer killed in the
 * middle never leaves a row that says more than the rows it rests on:
 * symbol_days first (readers find trades only through it), then trades,
 * then the window rows computed from them. A final window row stored
 * without its trades would stay wrong for good; trades stored without
 * their window rows are rebuilt at the next start (process/pipeline.c). */
static int phase_of(int stmt) {
    return stmt == ST_INS_DAY ? 0 : stmt == ST_INS_TRADE ? 1 : 2;
}
#define PHASES 3

/* 10^15 us (2001) - detected_at: the earliest detection of a gap has the
 * latest write time and wins whatever order rows arrive in (the rule of
 * every store), and every real write time (a DELETE's) is larger. */
static int64_t gap_write_time(int64_t detected_at_ms) {
    return 1000000000000000LL - (detected_at_ms > 0 ? detected_at_ms : 0);
}

static int cass_write_gaps(void *state, const tp_gap_row *g, size_t n, char *err, size_t errlen) {
    cass_store *s = state;
    s->now_ms = tp_now_ms(); /* for the TTLs */
    for (size_t i = 0; i < n; i++) {
        const char *reason = g[i].reason ? g[i].reason : "";
        pend *r = row_begin(s, ST_INS_GAP);
        if (!r || key_put(s, g[i].symbol.ptr, g[i].symbol.len, "", 0)) goto oom;
        tp_buf *v = &s->vals;
        if (val_text(s, v, g[i].symbol.ptr, g[i].symbol.len) || tp_cql_val_i64(v, g[i].from_ms) ||
            tp_cql_val_i32(v, g[i].connection) || tp_cql_val_i64(v, g[i].to_ms) ||
            val_text(s, v, reason, strlen(reason)) || tp_cql_val_i64(v, g[i].detected_at_ms) ||
            (g[i].from_trade_id ? tp_cql_val_i64(v, g[i].from_trade_id) : tp_cql_val_null(v)) ||
            (g[i].from_trade_id ? tp_cql_val_i64(v, g[i].to_trade_id) : tp_cql_val_null(v)) ||
            tp_cql_val_i64(v, gap_write_time(g[i].detected_at_ms)) ||
            tp_cql_val_i32(v, ttl_of(s, g[i].to_ms, s->ret.gaps_ms)))
            goto oom;
        row_end(s, r);
    }
    return 0;
oom:
    drop_unit(s);
    return tp_seterr(err, errlen, TP_ENOMEM, "cassandra: out of memory buffering the unit");
}

static int cmp_pend(const void *x, const void *y, void *ud) {
    const cass_store *s = ud;
    const pend *a = x, *b = y;
    if (phase_of(a->stmt) != phase_of(b->stmt)) return phase_of(a->stmt) < phase_of(b->stmt) ? -1 : 1;
    if (a->stmt != b->stmt) return a->stmt < b->stmt ? -1 : 1;
    if (a->key_len != b->key_len) return a->key_len < b->key_len ? -1 : 1;
    int c = memcmp(s->keys.p + a->key_off, s->keys.p + b->key_off, a->key_len);
    if (c) return c;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int same_key(const cass_store *s, const pend *a, const pend *b) {
    return a->stmt == b->stmt && a->key_len == b->key_len &&
           !memcmp(s->keys.p + a->key_off, s->keys.p + b->key_off, a->key_len);
}

static tp_buf *next_body(cass_store *s, size_t *nb) {
    if (*nb == s->nbodies_cap) {
        size_t cap = s->nbodies_cap ? s->nbodies_cap * 2 : 64;
        tp_buf *b = realloc(s->bodies, cap * sizeof *b);
        if (!b) return NULL;
        memset(b + s->nbodies_cap, 0, (cap - s->nbodies_cap) * sizeof *b);
        s->bodies = b;
        s->nbodies_cap = cap;
    }
    tp_buf *b = &s->bodies[(*nb)++];
    tp_cql_batch_begin(b, 1);
    return b;
}

/* The unit as single-partition UNLOGGED BATCH bodies, phase by phase:
 * phase_end[p] is the number of bodies of phases 0..p. */
static int build_batches(cass_store *s, size_t *nbodies, size_t phase_end[PHASES]) {
    qsort_r(s->rows, s->nrows, sizeof *s->rows, cmp_pend, s);
    size_t nb = 0;
    tp_buf *b = NULL;
    size_t in_batch = 0;
    for (size_t i = 0; i < s->nrows; i++) {
        const pend *r = &s->rows[i];
        int same = i > 0 && same_key(s, &s->rows[i - 1], r);
        /* a symbol_days row's key is the whole row: a repeat adds nothing */
        if (same && r->stmt == ST_INS_DAY) continue;
        if (!same || !b || in_batch >= BATCH_MAX_ROWS || b->len >= BATCH_MAX_BYTES) {
            if (b && tp_cql_batch_end(b, s->consistency)) return -1;
            if (!(b = next_body(s, &nb))) return -1;
            for (int p = phase_of(r->stmt); p < PHASES; p++) phase_end[p] = nb;
            in_batch = 0;
        }
        if (tp_cql_batch_add(b, &s->st[r->stmt]) || tp_buf_append(b, s->vals.p + r->val_off, r->val_len))
            return -1;
        in_batch++;
    }
    if (b && tp_cql_batch_end(b, s->consistency)) return -1;
    *nbodies = nb;
    return 0;
}

static int cass_commit(void *state, char *err, size_t errlen) {
    cass_store *s = state;
    if (!s->nrows) return 0;
    int rc = ensure_conn(s, 1, err, errlen);
    size_t nb = 0, phase_end[PHASES] = {0};
    if (!rc && build_batches(s, &nb, phase_end))
        rc = tp_seterr(err, errlen, TP_ENOMEM, "cassandra: out of memory");
    /* each phase durable before the next starts (see phase_of) */
    for (size_t p = 0, from = 0; !rc && p < PHASES; from = phase_end[p++])
        if (phase_end[p] > from)
            rc = after(s, tp_cql_batches(s->conn, s->bodies + from, phase_end[p] - from, PIPELINE, s->st,
                                         ST_COUNT, err, errlen));
    drop_unit(s);
    return rc;
}

/* ---- reads ---- */

static int args_reset(cass_store *s) {
    tp_buf_reset(&s->args);
    return 0;
}

/* Days of (symbol, kind) in [dfrom, dto], newest first, into *days. */
static int load_days(cass_store *s, const char *sym, const char *kind, int64_t dfrom, int64_t dto,
                     int64_t **days, size_t *n, char *err, size_t errlen) {
    *n = 0;
    size_t cap = 0;
    tp_buf_reset(&s->paging);
    for (;;) {
        args_reset(s);
        if (val_text(s, &s->args, sym, strlen(sym)) || tp_cql_val_blob(&s->args, kind, strlen(kind)))
            return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
        tp_cql_result r;
        int rc = after(s, tp_cql_execute(s->conn, &s->st[ST_SEL_DAYS], &s->args, 2, s->consistency, PAGE_SIZE,
                                         &s->paging, &r, err, errlen));
        if (rc) return rc;
        tp_cql_rows it;
        tp_cql_value v[TP_CQL_MAX_COLS];
        tp_cql_rows_begin(&r, &it);
        while (tp_cql_row_next(&it, v)) {
            int64_t d;
            if (tp_cql_get_date(v[0], &d) || d < dfrom || d > dto) continue;
            if (*n == cap) {
                cap = cap ? cap * 2 : 64;
                int64_t *x = realloc(*days, cap * sizeof *x);
                if (!x) return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
                *days = x;
            }
            (*days)[(*n)++] = d;
        }
        tp_buf_reset(&s->paging);
        if (!r.paging) return 0;
        if (tp_buf_append(&s->paging, r.paging, (size_t)r.paging_len))
            return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    }
}

static void day_bounds(const tp_query *q, int64_t *from, int64_t *to, int64_t *dfrom, int64_t *dto) {
    *from = q->from_ms ? q->from_ms : INT64_MIN;
    *to = q->to_ms ? q->to_ms : INT64_MAX;
    *dfrom = q->from_ms ? day_of(q->from_ms) : INT64_MIN;
    *dto = q->to_ms ? day_of(q->to_ms - 1) : INT64_MAX;
}

/* Calls fn for each row of one day partition, page by page; fn returns 1
 * to stop. */
typedef int (*row_fn)(void *ud, const tp_cql_result *r, const tp_cql_value *v);

static int scan_day(cass_store *s, int st, const char *sym, const int32_t *interval, int64_t day,
                    int64_t from, int64_t to, row_fn fn, void *ud, int *stopped, char *err, size_t errlen) {
    tp_buf_reset(&s->paging);
    *stopped = 0;
    for (;;) {
        args_reset(s);
        int nv = interval ? 5 : 4;
        if (val_text(s, &s->args, sym, strlen(sym)) || (interval && tp_cql_val_i32(&s->args, *interval)) ||
            tp_cql_val_date(&s->args, day) || tp_cql_val_i64(&s->args, from) || tp_cql_val_i64(&s->args, to))
            return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
        tp_cql_result r;
        int rc = after(s, tp_cql_execute(s->conn, &s->st[st], &s->args, nv, s->consistency, PAGE_SIZE,
                                         &s->paging, &r, err, errlen));
        if (rc) return rc;
        tp_cql_rows it;
        tp_cql_value v[TP_CQL_MAX_COLS];
        tp_cql_rows_begin(&r, &it);
        while (tp_cql_row_next(&it, v)) {
            int x = fn(ud, &r, v);
            if (x < 0)
                return tp_seterr(err, errlen, TP_EPARSE, "Cassandra at %s: a row of unexpected shape",
                                 s->where);
            if (x) {
                *stopped = 1;
                return 0;
            }
        }
        tp_buf_reset(&s->paging);
        if (!r.paging) return 0;
        if (tp_buf_append(&s->paging, r.paging, (size_t)r.paging_len))
            return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    }
}

/* trades */

typedef struct trade_acc {
    cass_store *s;
    const char *sym;
    tp_batch b;
    int64_t *ingest;
    size_t cap;
    int limit;
    int64_t boundary; /* ts of the limit-th newest row */
    int full;
} trade_acc;

static int on_trade_row(void *ud, const tp_cql_result *r, const tp_cql_value *v) {
    trade_acc *a = ud;
    if (r->ncols != 6) return -1;
    tp_trade t;
    memset(&t, 0, sizeof t);
    int64_t ingest = 0;
    if (tp_cql_get_i64(v[0], &t.ts_ms) || tp_cql_get_uuid(v[1], t.id) || tp_cql_get_double(v[2], &t.price) ||
        tp_cql_get_double(v[3], &t.volume))
        return -1;
    tp_cql_get_i64(v[5], &ingest);
    /* past the limit, only rows of the boundary millisecond still count:
     * which of them are the latest depends on id order */
    if (a->full && t.ts_ms < a->boundary) return 1;
    t.symbol.ptr = a->sym;
    t.symbol.len = (uint32_t)strlen(a->sym);
    if (tp_cond_decode(&a->s->dec, v[4].len < 0 ? NULL : (const char *)v[4].p,
                       v[4].len < 0 ? 0 : (size_t)v[4].len, &t))
        t.ncond = TP_COND_NULL;
    if (!tp_batch_copy_trade(&a->b, &t)) return -1;
    if (a->b.n > a->cap) {
        size_t cap = a->b.n * 2;
        int64_t *x = realloc(a->ingest, cap * sizeof *x);
        if (!x) return -1;
        a->ingest = x;
        a->cap = cap;
    }
    a->ingest[a->b.n - 1] = ingest;
    if (a->limit && !a->full && (int)a->b.n >= a->limit) {
        a->full = 1;
        a->boundary = t.ts_ms;
    }
    return 0;
}

typedef struct trade_ix {
    const tp_trade *t;
    int64_t ingest;
} trade_ix;

static int cmp_trade_ix(const void *x, const void *y) {
    const tp_trade *a = ((const trade_ix *)x)->t, *b = ((const trade_ix *)y)->t;
    if (a->ts_ms != b->ts_ms) return a->ts_ms < b->ts_ms ? -1 : 1;
    return memcmp(a->id, b->id, 16); /* byte order = the UUID text order */
}

/* Emit the last `keep` (0 = all) of the collected rows, oldest first. */
static int emit_trades(trade_acc *a, size_t keep, tp_trade_row_fn fn, void *ud, int *stopped) {
    size_t n = a->b.n;
    trade_ix *ix = malloc((n ? n : 1) * sizeof *ix);
    if (!ix) return -1;
    for (size_t i = 0; i < n; i++) ix[i] = (trade_ix){&a->b.trades[i], a->ingest[i]};
    qsort(ix, n, sizeof *ix, cmp_trade_ix);
    size_t first = keep && n > keep ? n - keep : 0;
    for (size_t i = first; i < n; i++)
        if (fn(ud, ix[i].t, ix[i].ingest)) {
            *stopped = 1;
            break;
        }
    free(ix);
    return 0;
}

static int cass_query_trades(void *state, const tp_query *q, tp_trade_row_fn fn, void *ud, char *err,
                             size_t errlen) {
    cass_store *s = state;
    int rc = ensure_conn(s, 1, err, errlen);
    if (rc) return rc;
    int64_t from, to, dfrom, dto, *days = NULL;
    size_t nd = 0;
    day_bounds(q, &from, &to, &dfrom, &dto);
    rc = load_days(s, q->symbol, "trades", dfrom, dto, &days, &nd, err, errlen);
    trade_acc a;
    memset(&a, 0, sizeof a);
    a.s = s;
    a.sym = q->symbol;
    a.limit = q->limit > 0 ? q->limit : 0;
    tp_batch_init(&a.b);
    int stopped = 0;
    if (!rc && a.limit) {
        /* newest day first, until the limit (and its millisecond) is in */
        for (size_t i = 0; i < nd && !rc && !stopped; i++)
            rc = scan_day(s, ST_SEL_TRADES_DESC, q->symbol, NULL, days[i], from, to, on_trade_row, &a,
                          &stopped, err, errlen);
        stopped = 0;
        if (!rc && emit_trades(&a, (size_t)a.limit, fn, ud, &stopped))
            rc = tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    } else if (!rc) {
        /* oldest day first, one day in memory at a time */
        for (size_t i = nd; i-- > 0 && !rc && !stopped;) {
            tp_batch_reset(&a.b);
            int dummy;
            rc = scan_day(s, ST_SEL_TRADES_ASC, q->symbol, NULL, days[i], from, to, on_trade_row, &a, &dummy,
                          err, errlen);
            if (!rc && emit_trades(&a, 0, fn, ud, &stopped))
                rc = tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
        }
    }
    tp_batch_free(&a.b);
    free(a.ingest);
    free(days);
    return rc;
}

/* candles and averages: one row per clustering key, no ties */

typedef struct win_acc {
    const char *sym;
    int32_t interval;
    void *items; /* tp_candle or tp_average */
    size_t n, cap, size;
    int limit;
} win_acc;

static void *win_push(win_acc *a) {
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        void *x = realloc(a->items, cap * a->size);
        if (!x) return NULL;
        a->items = x;
        a->cap = cap;
    }
    return (char *)a->items + a->size * a->n++;
}

static int on_candle_row(void *ud, const tp_cql_result *r, const tp_cql_value *v) {
    win_acc *a = ud;
    if (r->ncols != 11) return -1;
    tp_candle *c = win_push(a);
    if (!c) return -1;
    memset(c, 0, sizeof *c);
    c->symbol.ptr = a->sym;
    c->symbol.len = (uint32_t)strlen(a->sym);
    c->interval_s = a->interval;
    if (tp_cql_get_i64(v[0], &c->start_ms) || tp_cql_get_double(v[1], &c->open) ||
        tp_cql_get_double(v[2], &c->high) || tp_cql_get_double(v[3], &c->low) ||
        tp_cql_get_double(v[4], &c->close) || tp_cql_get_double(v[5], &c->volume))
        return -1;
    if (tp_cql_get_double(v[6], &c->vwap)) c->vwap = NAN;
    tp_cql_get_i64(v[7], &c->trade_count);
    tp_cql_get_i64(v[8], &c->updated_ms);
    tp_cql_get_bool(v[9], &c->final);
    if (tp_cql_get_bool(v[10], &c->incomplete)) c->incomplete = 0; /* null: written before version 2 */
    return a->limit && (int)a->n >= a->limit;
}

static int on_average_row(void *ud, const tp_cql_result *r, const tp_cql_value *v) {
    win_acc *a = ud;
    if (r->ncols != 8) return -1;
    tp_average *x = win_push(a);
    if (!x) return -1;
    memset(x, 0, sizeof *x);
    x->symbol.ptr = a->sym;
    x->symbol.len = (uint32_t)strlen(a->sym);
    if (tp_cql_get_i64(v[0], &x->window_start_ms) || tp_cql_get_i64(v[1], &x->window_end_ms) ||
        tp_cql_get_double(v[3], &x->price_volume_multiply))
        return -1;
    tp_cql_get_uuid(v[2], x->id);
    tp_cql_get_i64(v[4], &x->trade_count);
    tp_cql_get_i64(v[5], &x->ingest_ms);
    tp_cql_get_bool(v[6], &x->final);
    if (tp_cql_get_bool(v[7], &x->incomplete)) x->incomplete = 0;
    return a->limit && (int)a->n >= a->limit;
}

/* Collect rows of kind over the days of q: with a limit newest first (then
 * reversed), else oldest first. Rows come out oldest first in a->items. */
static int collect_windows(cass_store *s, const tp_query *q, const char *kind, int st_desc, int st_asc,
                           const int32_t *interval, row_fn fn, win_acc *a, char *err, size_t errlen) {
    int rc = ensure_conn(s, 1, err, errlen);
    if (rc) return rc;
    int64_t from, to, dfrom, dto, *days = NULL;
    size_t nd = 0;
    day_bounds(q, &from, &to, &dfrom, &dto);
    rc = load_days(s, q->symbol, kind, dfrom, dto, &days, &nd, err, errlen);
    int stopped = 0;
    if (a->limit) {
        for (size_t i = 0; i < nd && !rc && !stopped; i++)
            rc = scan_day(s, st_desc, q->symbol, interval, days[i], from, to, fn, a, &stopped, err, errlen);
        /* newest first -> oldest first */
        char tmp[sizeof(tp_candle) > sizeof(tp_average) ? sizeof(tp_candle) : sizeof(tp_average)];
        for (size_t i = 0, j = a->n ? a->n - 1 : 0; i < j; i++, j--) {
            char *x = (char *)a->items + i * a->size, *y = (char *)a->items + j * a->size;
            memcpy(tmp, x, a->size);
            memcpy(x, y, a->size);
            memcpy(y, tmp, a->size);
        }
    } else {
        for (size_t i = nd; i-- > 0 && !rc;)
            rc = scan_day(s, st_asc, q->symbol, interval, days[i], from, to, fn, a, &stopped, err, errlen);
    }
    free(days);
    return rc;
}

static int cass_query_candles(void *state, const tp_query *q, tp_candle_row_fn fn, void *ud, char *err,
                              size_t errlen) {
    cass_store *s = state;
    char kind[24];
    snprintf(kind, sizeof kind, "candles:%d", q->interval_s);
    win_acc a = {q->symbol, q->interval_s, NULL, 0, 0, sizeof(tp_candle), q->limit > 0 ? q->limit : 0};
    int32_t iv = q->interval_s;
    int rc = collect_windows(s, q, kind, ST_SEL_CANDLE_DESC, ST_SEL_CANDLE_ASC, &iv, on_candle_row, &a, err,
                             errlen);
    for (size_t i = 0; !rc && i < a.n; i++)
        if (fn(ud, (const tp_candle *)a.items + i)) break;
    free(a.items);
    return rc;
}

static int cass_query_averages(void *state, const tp_query *q, tp_average_row_fn fn, void *ud, char *err,
                               size_t errlen) {
    cass_store *s = state;
    win_acc a = {q->symbol, 0, NULL, 0, 0, sizeof(tp_average), q->limit > 0 ? q->limit : 0};
    int rc = collect_windows(s, q, "averages", ST_SEL_AVG_DESC, ST_SEL_AVG_ASC, NULL, on_average_row, &a, err,
                             errlen);
    for (size_t i = 0; !rc && i < a.n; i++)
        if (fn(ud, (const tp_average *)a.items + i)) break;
    free(a.items);
    return rc;
}

/* symbols: from symbol_days, then per day a count and the newest trade */

typedef struct sym_day {
    size_t sym_off;
    uint32_t sym_len;
    int64_t day;
} sym_day;

static int exec_simple(cass_store *s, int st, int nv, tp_cql_result *r, char *err, size_t errlen) {
    return after(s,
                 tp_cql_execute(s->conn, &s->st[st], &s->args, nv, s->consistency, 0, NULL, r, err, errlen));
}

static int symbol_info(cass_store *s, const char *sym, size_t sl, const sym_day *d, size_t nd,
                       tp_symbol_info *info, char *err, size_t errlen) {
    memset(info, 0, sizeof *info);
    info->symbol.ptr = sym;
    info->symbol.len = (uint32_t)sl;
    int64_t newest = INT64_MIN;
    for (size_t i = 0; i < nd; i++) {
        args_reset(s);
        if (tp_cql_val_blob(&s->args, sym, sl) || tp_cql_val_date(&s->args, d[i].day))
            return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
        tp_cql_result r;
        int rc = exec_simple(s, ST_SEL_COUNT, 2, &r, err, errlen);
        if (rc) return rc;
        tp_cql_rows it;
        tp_cql_value v[TP_CQL_MAX_COLS];
        tp_cql_rows_begin(&r, &it);
        int64_t c = 0;
        if (tp_cql_row_next(&it, v)) tp_cql_get_i64(v[0], &c);
        info->trade_count += c;
        if (c > 0 && d[i].day > newest) newest = d[i].day;
    }
    if (newest == INT64_MIN) return 0;
    /* the newest trade: latest millisecond, then the greatest id, as the SQL stores */
    args_reset(s);
    if (tp_cql_val_blob(&s->args, sym, sl) || tp_cql_val_date(&s->args, newest))
        return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    tp_cql_result r;
    int rc = exec_simple(s, ST_SEL_LAST, 2, &r, err, errlen);
    if (rc) return rc;
    tp_cql_rows it;
    tp_cql_value v[TP_CQL_MAX_COLS];
    tp_cql_rows_begin(&r, &it);
    if (!tp_cql_row_next(&it, v) || tp_cql_get_i64(v[0], &info->last_ts_ms)) return 0;
    if (tp_cql_val_i64(&s->args, info->last_ts_ms)) return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    if ((rc = exec_simple(s, ST_SEL_AT, 3, &r, err, errlen))) return rc;
    uint8_t best[16];
    int have = 0;
    tp_cql_rows_begin(&r, &it);
    while (tp_cql_row_next(&it, v)) {
        uint8_t id[16];
        double p;
        if (tp_cql_get_uuid(v[0], id) || tp_cql_get_double(v[1], &p)) continue;
        if (!have || memcmp(id, best, 16) > 0) {
            memcpy(best, id, 16);
            info->last_price = p;
            have = 1;
        }
    }
    return 0;
}

static int cmp_sym_day(const void *x, const void *y, void *ud) {
    const tp_buf *names = ud;
    const sym_day *a = x, *b = y;
    if (a->sym_off != b->sym_off) {
        size_t n = a->sym_len < b->sym_len ? a->sym_len : b->sym_len;
        int c = memcmp(names->p + a->sym_off, names->p + b->sym_off, n);
        if (c) return c;
        if (a->sym_len != b->sym_len) return a->sym_len < b->sym_len ? -1 : 1;
    }
    return a->day > b->day ? -1 : a->day < b->day;
}

/* Every (symbol, day) of trades from symbol_days, names copied into *names;
 * one symbol's days are adjacent, newest first. */
static int load_symbol_days(cass_store *s, tp_buf *names, sym_day **out, size_t *nout, char *err,
                            size_t errlen) {
    sym_day *d = NULL;
    size_t nd = 0, cap = 0;
    int rc = 0;
    tp_buf_reset(&s->paging);
    for (;;) {
        tp_cql_result r;
        rc = after(s, tp_cql_execute(s->conn, &s->st[ST_SEL_ALL_DAYS], NULL, 0, s->consistency, PAGE_SIZE,
                                     &s->paging, &r, err, errlen));
        if (rc) break;
        tp_cql_rows it;
        tp_cql_value v[TP_CQL_MAX_COLS];
        tp_cql_rows_begin(&r, &it);
        while (tp_cql_row_next(&it, v)) {
            int64_t day;
            if (r.ncols != 3 || v[0].len < 0 || v[1].len != 6 || memcmp(v[1].p, "trades", 6) ||
                tp_cql_get_date(v[2], &day))
                continue;
            if (nd == cap) {
                cap = cap ? cap * 2 : 256;
                sym_day *x = realloc(d, cap * sizeof *x);
                if (!x) {
                    rc = tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
                    break;
                }
                d = x;
            }
            /* rows of one symbol are adjacent (one partition): share the name */
            if (nd && d[nd - 1].sym_len == (uint32_t)v[0].len &&
                !memcmp(names->p + d[nd - 1].sym_off, v[0].p, (size_t)v[0].len)) {
                d[nd] = (sym_day){d[nd - 1].sym_off, d[nd - 1].sym_len, day};
            } else {
                d[nd] = (sym_day){names->len, (uint32_t)v[0].len, day};
                if (tp_buf_append(names, v[0].p, (size_t)v[0].len) || tp_buf_append(names, "", 1)) {
                    rc = tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
                    break;
                }
            }
            nd++;
        }
        if (rc) break;
        tp_buf_reset(&s->paging);
        if (!r.paging) break;
        if (tp_buf_append(&s->paging, r.paging, (size_t)r.paging_len)) {
            rc = tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
            break;
        }
    }
    /* symbols in byte order, as the SQL stores list them; days newest first */
    if (!rc && nd > 1) qsort_r(d, nd, sizeof *d, cmp_sym_day, names);
    *out = d;
    *nout = nd;
    return rc;
}

/* One symbol's days of trades (newest first) from load_symbol_days; returns
 * 0, a negative tp_err code, or 1 to stop early without an error. */
typedef int (*sym_days_fn)(cass_store *s, const char *sym, uint32_t sym_len, const sym_day *d, size_t n,
                           void *ud, char *err, size_t errlen);

/* Calls fn once per symbol, in byte order, with all of its days. */
static int each_symbol(cass_store *s, sym_days_fn fn, void *ud, char *err, size_t errlen) {
    int rc = ensure_conn(s, 1, err, errlen);
    if (rc) return rc;
    tp_buf names = {0};
    sym_day *d = NULL;
    size_t nd = 0;
    rc = load_symbol_days(s, &names, &d, &nd, err, errlen);
    for (size_t i = 0; !rc && i < nd;) {
        size_t j = i;
        while (j < nd && d[j].sym_off == d[i].sym_off) j++;
        rc = fn(s, (const char *)names.p + d[i].sym_off, d[i].sym_len, d + i, j - i, ud, err, errlen);
        i = j;
    }
    free(d);
    tp_buf_free(&names);
    return rc > 0 ? 0 : rc;
}

typedef struct {
    tp_symbol_row_fn fn;
    void *ud;
} sym_cb;

static int symbol_counted(cass_store *s, const char *sym, uint32_t sym_len, const sym_day *d, size_t n,
                          void *ud, char *err, size_t errlen) {
    sym_cb *cb = ud;
    tp_symbol_info info;
    int rc = symbol_info(s, sym, sym_len, d, n, &info, err, errlen);
    if (rc) return rc;
    return info.trade_count > 0 && cb->fn(cb->ud, &info) ? 1 : 0;
}

static int cass_query_symbols(void *state, tp_symbol_row_fn fn, void *ud, char *err, size_t errlen) {
    sym_cb cb = {fn, ud};
    return each_symbol(state, symbol_counted, &cb, err, errlen);
}

/* The newest trade of a symbol, without counting: the newest day of trades
 * that holds one (days come newest first, clustering order), then its
 * latest row. */
static int symbol_latest(cass_store *s, const char *sym, uint32_t sym_len, const sym_day *d, size_t n,
                         void *ud, char *err, size_t errlen) {
    sym_cb *cb = ud;
    tp_symbol_info info = {{sym, sym_len}, -1, NAN, 0};
    for (size_t k = 0; k < n; k++) {
        args_reset(s);
        if (tp_cql_val_blob(&s->args, sym, sym_len) || tp_cql_val_date(&s->args, d[k].day))
            return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
        tp_cql_result r;
        int rc = exec_simple(s, ST_SEL_LAST, 2, &r, err, errlen);
        if (rc) return rc;
        tp_cql_rows it;
        tp_cql_value v[TP_CQL_MAX_COLS];
        tp_cql_rows_begin(&r, &it);
        if (tp_cql_row_next(&it, v) && !tp_cql_get_i64(v[0], &info.last_ts_ms))
            return cb->fn(cb->ud, &info) ? 1 : 0;
    }
    return 0;
}

static int cass_query_latest(void *state, tp_symbol_row_fn fn, void *ud, char *err, size_t errlen) {
    sym_cb cb = {fn, ud};
    return each_symbol(state, symbol_latest, &cb, err, errlen);
}

/* gaps: the symbol's one partition, newest first, to_ms filtered here (not
 * a clustering column) */

typedef struct gap_item {
    int64_t from_ms, to_ms, detected_at_ms;
    int32_t connection;
    char reason[32];
    int64_t from_trade_id, to_trade_id; /* 0 when null */
} gap_item;

static int cass_query_gaps(void *state, const tp_query *q, tp_gap_row_fn fn, void *ud, char *err,
                           size_t errlen) {
    cass_store *s = state;
    if (!q->symbol || !*q->symbol) return tp_seterr(err, errlen, TP_EINVAL, "query needs a symbol");
    int rc = ensure_conn(s, 1, err, errlen);
    if (rc) return rc;
    gap_item *items = NULL;
    size_t n = 0, cap = 0;
    int full = 0;
    tp_buf_reset(&s->paging);
    while (!rc && !full) {
        args_reset(s);
        if (val_text(s, &s->args, q->symbol, strlen(q->symbol)) ||
            tp_cql_val_i64(&s->args, q->to_ms ? q->to_ms : INT64_MAX)) {
            rc = tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
            break;
        }
        tp_cql_result r;
        rc = after(s, tp_cql_execute(s->conn, &s->st[ST_SEL_GAPS], &s->args, 2, s->consistency, PAGE_SIZE,
                                     &s->paging, &r, err, errlen));
        if (rc) break;
        tp_cql_rows it;
        tp_cql_value v[TP_CQL_MAX_COLS];
        tp_cql_rows_begin(&r, &it);
        while (!full && tp_cql_row_next(&it, v)) {
            gap_item g;
            memset(&g, 0, sizeof g);
            if (r.ncols != 7 || tp_cql_get_i64(v[0], &g.from_ms) || tp_cql_get_i32(v[1], &g.connection) ||
                tp_cql_get_i64(v[2], &g.to_ms)) {
                rc = tp_seterr(err, errlen, TP_EPARSE, "Cassandra at %s: a feed_gaps row of unexpected shape",
                               s->where);
                break;
            }
            tp_cql_get_i64(v[4], &g.detected_at_ms);
            if (tp_cql_get_i64(v[5], &g.from_trade_id) || tp_cql_get_i64(v[6], &g.to_trade_id))
                g.from_trade_id = g.to_trade_id = 0; /* null: no venue ids */
            if (v[3].len > 0)
                snprintf(g.reason, sizeof g.reason, "%.*s", (int)v[3].len, (const char *)v[3].p);
            if (q->from_ms && g.to_ms < q->from_ms) continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 64;
                gap_item *x = realloc(items, cap * sizeof *x);
                if (!x) {
                    rc = tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
                    break;
                }
                items = x;
            }
            items[n++] = g;
            full = q->limit > 0 && (int)n >= q->limit;
        }
        if (rc) break;
        tp_buf_reset(&s->paging);
        if (!r.paging) break;
        if (tp_buf_append(&s->paging, r.paging, (size_t)r.paging_len))
            rc = tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    }
    /* newest first -> oldest first */
    for (size_t i = n; !rc && i-- > 0;) {
        tp_gap_row g = {
            .symbol = {q->symbol, (uint32_t)strlen(q->symbol)},
            .from_ms = items[i].from_ms,
            .to_ms = items[i].to_ms,
            .reason = items[i].reason,
            .detected_at_ms = items[i].detected_at_ms,
            .connection = items[i].connection,
            .from_trade_id = items[i].from_trade_id,
            .to_trade_id = items[i].to_trade_id,
        };
        if (fn(ud, &g)) break;
    }
    free(items);
    return rc;
}

/* Retention by TTL (see the top): keep the settings for the next writes. */
static int cass_retain(void *state, const tp_retention *r, int64_t now_ms, int max_rows, uint64_t *deleted,
                       char *err, size_t errlen) {
    cass_store *s = state;
    (void)now_ms, (void)max_rows, (void)err, (void)errlen;
    s->ret = *r;
    *deleted = 0;
    return 0;
}

static int cass_check_url(const char *url, char *err, size_t errlen) {
    cass_store *s = calloc(1, sizeof *s);
    if (!s) return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    int rc = parse_url(s, url, err, errlen);
    memset(s->password, 0, sizeof s->password);
    free(s);
    return rc ? TP_EINVAL : 0;
}

static const tp_sink_reader_ops cass_reader = {
    .query_symbols = cass_query_symbols,
    .query_trades = cass_query_trades,
    .query_candles = cass_query_candles,
    .query_averages = cass_query_averages,
};

const tp_sink_ops tp_sink_cassandra_ops = {
    .scheme = "cassandra",
    .alias = NULL,
    .open = cass_open,
    .write_trades = cass_write_trades,
    .write_averages = cass_write_averages,
    .write_candles = cass_write_candles,
    .commit = cass_commit,
    .close = cass_close,
    .reader = &cass_reader,
    .check_url = cass_check_url,
    .query_latest = cass_query_latest,
    .write_gaps = cass_write_gaps,
    .query_gaps = cass_query_gaps,
    .retain = cass_retain,
};
