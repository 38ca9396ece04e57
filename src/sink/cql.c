/* cql.c - the CQL native protocol v4 client (see cql.h).
 *
 * Design:
 * - Blocking sockets with SO_RCVTIMEO/SO_SNDTIMEO: a store handle is used
 *   by one thread and every call waits for its answer anyway, so there is
 *   no event loop. Pipelining (several requests on distinct stream ids
 *   before reading answers) is what makes bulk writes fast, and that needs
 *   no event loop either: tp_cql_batches writes up to `window` frames, then
 *   reads one answer per frame written, matching answers by stream id.
 * - Every byte from the server is untrusted: the header is checked first
 *   (version, direction, length against TP_CQL_MAX_FRAME), then the body
 *   is read whole and decoded by the bounds-checked readers below (a
 *   reader that runs out of bytes sets a flag; nothing reads past n).
 * - A failure of the connection itself (I/O error, timeout, garbage) marks
 *   it broken; the owner reconnects. Server errors keep it usable.
 * - TLS through OpenSSL, verifying the server's certificate against the
 *   CA file (or the system store) and its name against the host.
 * - Passwords only ever go into the SASL PLAIN token, never into text. */
#include "sink/cql.h"

#include "core/err.h"
#include "core/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define REQ_VERSION 0x04
#define RESP_VERSION 0x84
#define MAX_TYPE_DEPTH 8
#define MAX_INFLIGHT 128

/* ---- bounds-checked reader ---- */

typedef struct rd {
    const uint8_t *p;
    size_t n, off;
    int bad;
} rd;

static int need(rd *r, size_t k) {
    if (r->bad || r->n - r->off < k) {
        r->bad = 1;
        return 0;
    }
    return 1;
}
static uint16_t rd_u16(rd *r) {
    if (!need(r, 2)) return 0;
    uint16_t v = (uint16_t)(r->p[r->off] << 8 | r->p[r->off + 1]);
    r->off += 2;
    return v;
}
static int32_t rd_i32(rd *r) {
    if (!need(r, 4)) return 0;
    uint32_t v = (uint32_t)r->p[r->off] << 24 | (uint32_t)r->p[r->off + 1] << 16 |
                 (uint32_t)r->p[r->off + 2] << 8 | r->p[r->off + 3];
    r->off += 4;
    return (int32_t)v;
}
static const uint8_t *rd_take(rd *r, size_t k) {
    if (!need(r, k)) return NULL;
    const uint8_t *q = r->p + r->off;
    r->off += k;
    return q;
}
/* [string]: u16 length + bytes */
static const uint8_t *rd_string(rd *r, uint16_t *len) {
    *len = rd_u16(r);
    return rd_take(r, *len);
}
/* [bytes]: i32 length (negative = null) + bytes */
static const uint8_t *rd_bytes(rd *r, int32_t *len) {
    *len = rd_i32(r);
    if (r->bad || *len < 0) return NULL;
    return rd_take(r, (size_t)*len);
}

/* ---- decoding ---- */

int tp_cql_parse_header(const uint8_t *p, size_t n, uint32_t max_body, tp_cql_header *h, char *err,
                        size_t errlen) {
    if (n < TP_CQL_HEADER_LEN) return tp_seterr(err, errlen, TP_EPARSE, "short frame header");
    h->version = p[0];
    h->flags = p[1];
    h->stream = (int16_t)(uint16_t)(p[2] << 8 | p[3]);
    h->opcode = p[4];
    h->length = (uint32_t)p[5] << 24 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 8 | p[8];
    if (h->version != RESP_VERSION) {
        if ((h->version & 0x80) && (h->version & 0x7f) >= 1 && (h->version & 0x7f) <= 6)
            return tp_seterr(err, errlen, TP_EPARSE,
                             "the server answered in native protocol v%d, not v4 (Cassandra 2.2 or later "
                             "speaks v4)",
                             h->version & 0x7f);
        return tp_seterr(err, errlen, TP_EPARSE,
                         "not a CQL native protocol frame (first byte 0x%02x); is this the Cassandra native "
                         "port (9042 by default)?",
                         h->version);
    }
    if (h->flags & 0x01) return tp_seterr(err, errlen, TP_EPARSE, "compressed frame, but none was asked for");
    if (h->opcode > TP_CQL_OP_AUTH_SUCCESS || h->opcode == 0x04)
        return tp_seterr(err, errlen, TP_EPARSE, "unknown opcode 0x%02x", h->opcode);
    if (h->length > max_body)
        return tp_seterr(err, errlen, TP_ELIMIT, "frame of %u bytes is over the %u-byte limit", h->length,
                         max_body);
    return 0;
}

int tp_cql_skip_prefix(uint8_t flags, const uint8_t *body, size_t n, size_t *off, char *err, size_t errlen) {
    rd r = {body, n, 0, 0};
    if (flags & 0x02) rd_take(&r, 16); /* tracing id */
    if (flags & 0x08) {                /* warnings: [string list] */
        uint16_t k = rd_u16(&r), len;
        for (uint16_t i = 0; i < k && !r.bad; i++) rd_string(&r, &len);
    }
    if (flags & 0x04) { /* custom payload: [bytes map] */
        uint16_t k = rd_u16(&r), len;
        int32_t blen;
        for (uint16_t i = 0; i < k && !r.bad; i++) {
            rd_string(&r, &len);
            rd_bytes(&r, &blen);
        }
    }
    if (r.bad) return tp_seterr(err, errlen, TP_EPARSE, "truncated frame prefix");
    *off = r.off;
    return 0;
}

/* An [option] (a type), nested types consumed; returns the top id. */
static uint16_t rd_type(rd *r, int depth, uint16_t *elem) {
    uint16_t id = rd_u16(r), len, k;
    if (elem) *elem = 0;
    if (depth > MAX_TYPE_DEPTH) {
        r->bad = 1;
        return 0;
    }
    switch (id) {
    case TP_CQL_T_CUSTOM: rd_string(r, &len); break;
    case TP_CQL_T_LIST:
    case TP_CQL_T_SET: {
        uint16_t e = rd_type(r, depth + 1, NULL);
        if (elem) *elem = e;
        break;
    }
    case TP_CQL_T_MAP:
        rd_type(r, depth + 1, NULL);
        rd_type(r, depth + 1, NULL);
        break;
    case TP_CQL_T_UDT:
        rd_string(r, &len); /* keyspace */
        rd_string(r, &len); /* type name */
        k = rd_u16(r);
        for (uint16_t i = 0; i < k && !r->bad; i++) {
            rd_string(r, &len);
            rd_type(r, depth + 1, NULL);
        }
        break;
    case TP_CQL_T_TUPLE:
        k = rd_u16(r);
        for (uint16_t i = 0; i < k && !r->bad; i++) rd_type(r, depth + 1, NULL);
        break;
    default:
        if (id > 0x0015) r->bad = 1; /* no such type in v4 (0x15 duration is tolerated) */
        break;
    }
    return id;
}

/* Rows metadata (also a prepared statement's result metadata). */
static int rd_metadata(rd *r, tp_cql_result *res, int prepared, char *err, size_t errlen) {
    int32_t flags = rd_i32(r), ncols = rd_i32(r);
    if (r->bad) return tp_seterr(err, errlen, TP_EPARSE, "truncated result metadata");
    if (ncols < 0 || ncols > TP_CQL_MAX_COLS)
        return tp_seterr(err, errlen, TP_EPARSE, "result with %d columns (at most %d handled)", ncols,
                         TP_CQL_MAX_COLS);
    if (prepared) {
        int32_t npk = rd_i32(r);
        if (npk < 0 || npk > ncols)
            return tp_seterr(err, errlen, TP_EPARSE, "bad partition key count %d", npk);
        rd_take(r, 2 * (size_t)npk);
        res->nbind = ncols;
    } else {
        res->ncols = ncols;
        if (flags & 0x0002) { /* Has_more_pages */
            int32_t len;
            const uint8_t *ps = rd_bytes(r, &len);
            if (ps && len > 0) {
                res->paging = ps;
                res->paging_len = len;
            }
        }
    }
    if (flags & 0x0004) return r->bad ? tp_seterr(err, errlen, TP_EPARSE, "truncated result metadata") : 0;
    uint16_t len;
    if (flags & 0x0001) { /* global table spec */
        rd_string(r, &len);
        rd_string(r, &len);
    }
    for (int32_t i = 0; i < ncols && !r->bad; i++) {
        if (!(flags & 0x0001)) {
            rd_string(r, &len);
            rd_string(r, &len);
        }
        tp_cql_col col = {0};
        col.name = rd_string(r, &col.name_len);
        col.type = rd_type(r, 0, &col.elem_type);
        if (!prepared) res->cols[i] = col;
    }
    if (r->bad) return tp_seterr(err, errlen, TP_EPARSE, "truncated or malformed result metadata");
    return 0;
}

int tp_cql_parse_result(const uint8_t *p, size_t n, tp_cql_result *res, char *err, size_t errlen) {
    memset(res, 0, sizeof *res);
    rd r = {p, n, 0, 0};
    res->kind = rd_i32(&r);
    if (r.bad) return tp_seterr(err, errlen, TP_EPARSE, "truncated RESULT");
    switch (res->kind) {
    case TP_CQL_R_VOID: return 0;
    case TP_CQL_R_SET_KEYSPACE: {
        uint16_t len;
        rd_string(&r, &len);
        break;
    }
    case TP_CQL_R_SCHEMA_CHANGE: {
        uint16_t len;
        rd_string(&r, &len); /* change type */
        rd_string(&r, &len); /* target; options follow, not needed */
        break;
    }
    case TP_CQL_R_PREPARED: {
        res->prepared_id = rd_string(&r, &res->prepared_id_len);
        if (r.bad || !res->prepared_id_len)
            return tp_seterr(err, errlen, TP_EPARSE, "malformed PREPARED result");
        int rc = rd_metadata(&r, res, 1, err, errlen);
        if (rc) return rc;
        tp_cql_result meta;
        memset(&meta, 0, sizeof meta);
        return rd_metadata(&r, &meta, 0, err, errlen);
    }
    case TP_CQL_R_ROWS: {
        int rc = rd_metadata(&r, res, 0, err, errlen);
        if (rc) return rc;
        res->nrows = rd_i32(&r);
        if (r.bad || res->nrows < 0) return tp_seterr(err, errlen, TP_EPARSE, "bad row count");
        if (res->nrows > 0 && res->ncols == 0)
            return tp_seterr(err, errlen, TP_EPARSE, "%d rows without columns", res->nrows);
        res->rows = p + r.off;
        /* each row is ncols [bytes]: check they all fit before anyone reads */
        for (int32_t i = 0; i < res->nrows && !r.bad; i++)
            for (int c = 0; c < res->ncols && !r.bad; c++) {
                int32_t len;
                rd_bytes(&r, &len);
            }
        if (r.bad) return tp_seterr(err, errlen, TP_EPARSE, "rows overrun the frame");
        res->rows_len = (size_t)(p + r.off - res->rows);
        return 0;
    }
    default: return tp_seterr(err, errlen, TP_EPARSE, "unknown RESULT kind %d", res->kind);
    }
    return r.bad ? tp_seterr(err, errlen, TP_EPARSE, "truncated RESULT") : 0;
}

int tp_cql_parse_error(const uint8_t *p, size_t n, tp_cql_error *e, char *err, size_t errlen) {
    memset(e, 0, sizeof *e);
    rd r = {p, n, 0, 0};
    e->code = rd_i32(&r);
    e->msg = (const char *)rd_string(&r, &e->msg_len);
    if (r.bad) return tp_seterr(err, errlen, TP_EPARSE, "truncated ERROR");
    if (e->code == TP_CQL_E_UNPREPARED) {
        e->unprepared_id = rd_string(&r, &e->unprepared_id_len);
        if (r.bad) return tp_seterr(err, errlen, TP_EPARSE, "truncated Unprepared error");
    }
    return 0;
}

void tp_cql_rows_begin(const tp_cql_result *res, tp_cql_rows *it) {
    it->p = res->rows;
    it->end = res->rows + res->rows_len;
    it->ncols = res->ncols;
    it->left = res->kind == TP_CQL_R_ROWS ? res->nrows : 0;
}

int tp_cql_row_next(tp_cql_rows *it, tp_cql_value *vals) {
    if (it->left <= 0) return 0;
    rd r = {it->p, (size_t)(it->end - it->p), 0, 0};
    for (int c = 0; c < it->ncols; c++) {
        vals[c].p = rd_bytes(&r, &vals[c].len);
        if (r.bad) { /* cannot happen after tp_cql_parse_result; stop rather than trust */
            it->left = 0;
            return 0;
        }
    }
    it->p += r.off;
    it->left--;
    return 1;
}

static uint64_t be64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | p[i];
    return v;
}

int tp_cql_get_i64(tp_cql_value v, int64_t *out) {
    if (v.len != 8 || !v.p) return -1;
    *out = (int64_t)be64(v.p);
    return 0;
}
int tp_cql_get_i32(tp_cql_value v, int32_t *out) {
    if (v.len != 4 || !v.p) return -1;
    *out = (int32_t)((uint32_t)v.p[0] << 24 | (uint32_t)v.p[1] << 16 | (uint32_t)v.p[2] << 8 | v.p[3]);
    return 0;
}
int tp_cql_get_double(tp_cql_value v, double *out) {
    if (v.len != 8 || !v.p) return -1;
    uint64_t u = be64(v.p);
    memcpy(out, &u, 8);
    return 0;
}
int tp_cql_get_bool(tp_cql_value v, int *out) {
    if (v.len != 1 || !v.p) return -1;
    *out = v.p[0] != 0;
    return 0;
}
int tp_cql_get_uuid(tp_cql_value v, uint8_t out[16]) {
    if (v.len != 16 || !v.p) return -1;
    memcpy(out, v.p, 16);
    return 0;
}
int tp_cql_get_date(tp_cql_value v, int64_t *days) {
    int32_t u;
    if (tp_cql_get_i32(v, &u)) return -1;
    *days = (int64_t)(uint32_t)u - (1LL << 31);
    return 0;
}

/* ---- encoding ---- */

int tp_cql_put_u8(tp_buf *b, uint8_t v) {
    return tp_buf_append(b, &v, 1);
}
int tp_cql_put_u16(tp_buf *b, uint16_t v) {
    uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    return tp_buf_append(b, x, 2);
}
int tp_cql_put_i32(tp_buf *b, int32_t v) {
    uint32_t u = (uint32_t)v;
    uint8_t x[4] = {(uint8_t)(u >> 24), (uint8_t)(u >> 16), (uint8_t)(u >> 8), (uint8_t)u};
    return tp_buf_append(b, x, 4);
}
int tp_cql_put_i64(tp_buf *b, int64_t v) {
    uint64_t u = (uint64_t)v;
    uint8_t x[8];
    for (int i = 0; i < 8; i++) x[i] = (uint8_t)(u >> (56 - 8 * i));
    return tp_buf_append(b, x, 8);
}
int tp_cql_put_string(tp_buf *b, const char *s, size_t len) {
    if (len > 0xffff) return -1;
    return tp_cql_put_u16(b, (uint16_t)len) || tp_buf_append(b, s, len) ? -1 : 0;
}
int tp_cql_put_long_string(tp_buf *b, const char *s, size_t len) {
    if (len > 0x7fffffff) return -1;
    return tp_cql_put_i32(b, (int32_t)len) || tp_buf_append(b, s, len) ? -1 : 0;
}
int tp_cql_put_short_bytes(tp_buf *b, const uint8_t *p, size_t len) {
    return tp_cql_put_string(b, (const char *)p, len);
}
int tp_cql_val_null(tp_buf *b) {
    return tp_cql_put_i32(b, -1);
}
int tp_cql_val_unset(tp_buf *b) {
    return tp_cql_put_i32(b, -2);
}
int tp_cql_val_blob(tp_buf *b, const void *p, size_t len) {
    return tp_cql_put_long_string(b, p, len);
}
int tp_cql_val_i64(tp_buf *b, int64_t v) {
    return tp_cql_put_i32(b, 8) || tp_cql_put_i64(b, v) ? -1 : 0;
}
int tp_cql_val_i32(tp_buf *b, int32_t v) {
    return tp_cql_put_i32(b, 4) || tp_cql_put_i32(b, v) ? -1 : 0;
}
int tp_cql_val_double(tp_buf *b, double v) {
    int64_t u;
    memcpy(&u, &v, 8);
    return tp_cql_val_i64(b, u);
}
int tp_cql_val_bool(tp_buf *b, int v) {
    return tp_cql_put_i32(b, 1) || tp_cql_put_u8(b, v ? 1 : 0) ? -1 : 0;
}
int tp_cql_val_uuid(tp_buf *b, const uint8_t id[16]) {
    return tp_cql_put_i32(b, 16) || tp_buf_append(b, id, 16) ? -1 : 0;
}
int tp_cql_val_date(tp_buf *b, int64_t days) {
    return tp_cql_val_i32(b, (int32_t)(uint32_t)(days + (1LL << 31)));
}

int tp_cql_consistency_parse(const char *name) {
    static const struct {
        const char *name;
        int v;
    } k[] = {{"ANY", TP_CQL_ANY},
             {"ONE", TP_CQL_ONE},
             {"TWO", TP_CQL_TWO},
             {"THREE", TP_CQL_THREE},
             {"QUORUM", TP_CQL_QUORUM},
             {"ALL", TP_CQL_ALL},
             {"LOCAL_QUORUM", TP_CQL_LOCAL_QUORUM},
             {"EACH_QUORUM", TP_CQL_EACH_QUORUM},
             {"LOCAL_ONE", TP_CQL_LOCAL_ONE}};
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
        if (!strcasecmp(name, k[i].name)) return k[i].v;
    return -1;
}

int tp_cql_code_retryable(int32_t code) {
    switch (code) {
    case TP_CQL_E_SERVER:
    case TP_CQL_E_UNAVAILABLE:
    case TP_CQL_E_OVERLOADED:
    case TP_CQL_E_BOOTSTRAPPING:
    case TP_CQL_E_TRUNCATE:
    case TP_CQL_E_WRITE_TIMEOUT:
    case TP_CQL_E_READ_TIMEOUT:
    case TP_CQL_E_READ_FAILURE:
    case TP_CQL_E_WRITE_FAILURE: return 1;
    default: return 0;
    }
}

/* ---- the connection ---- */

struct tp_cql_conn {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
    char where[280];
    int broken;
    int32_t last_code;
    int request_timeout_ms;
    tp_buf out, in;
    tp_cql_header h; /* of the frame in `in` */
    size_t body_off; /* where the message starts in `in` */
};

const char *tp_cql_where(const tp_cql_conn *c) {
    return c->where;
}
int tp_cql_broken(const tp_cql_conn *c) {
    return c->broken;
}
int32_t tp_cql_last_code(const tp_cql_conn *c) {
    return c->last_code;
}

static int conn_fail(tp_cql_conn *c, char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int conn_fail(tp_cql_conn *c, char *err, size_t errlen, int code, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->broken = 1;
    return tp_seterr(err, errlen, code, "Cassandra at %s: %s", c->where, msg);
}

static const char *ssl_errtext(char *buf, size_t n) {
    unsigned long e = ERR_get_error();
    if (!e) return "connection closed";
    ERR_error_string_n(e, buf, n);
    return buf;
}

static int io_write(tp_cql_conn *c, const uint8_t *p, size_t n, char *err, size_t errlen) {
    while (n) {
        ssize_t k;
        if (c->ssl) {
            int w = SSL_write(c->ssl, p, (int)(n > 1 << 30 ? 1 << 30 : n));
            if (w <= 0) {
                char e[256];
                return conn_fail(c, err, errlen, TP_EUNAVAIL, "TLS write failed: %s (is the server running?)",
                                 ssl_errtext(e, sizeof e));
            }
            k = w;
        } else {
            k = send(c->fd, p, n, MSG_NOSIGNAL);
            if (k < 0 && errno == EINTR) continue;
            if (k <= 0)
                return conn_fail(c, err, errlen, TP_EUNAVAIL, "write failed: %s (is the server running?)",
                                 k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? "timed out"
                                                                                    : strerror(errno));
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static int io_read(tp_cql_conn *c, uint8_t *p, size_t n, char *err, size_t errlen) {
    while (n) {
        ssize_t k;
        if (c->ssl) {
            int r = SSL_read(c->ssl, p, (int)(n > 1 << 30 ? 1 << 30 : n));
            if (r <= 0) {
                char e[256];
                return conn_fail(c, err, errlen, TP_EUNAVAIL, "TLS read failed: %s (is the server running?)",
                                 ssl_errtext(e, sizeof e));
            }
            k = r;
        } else {
            k = recv(c->fd, p, n, 0);
            if (k < 0 && errno == EINTR) continue;
            if (k == 0)
                return conn_fail(c, err, errlen, TP_EUNAVAIL,
                                 "connection closed by the server (is the server running?)");
            if (k < 0)
                return conn_fail(c, err, errlen, TP_EUNAVAIL, "read failed: %s (is the server running?)",
                                 errno == EAGAIN || errno == EWOULDBLOCK
                                     ? "no answer within the request timeout"
                                     : strerror(errno));
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Frame header + body into c->out, then onto the wire. */
static int send_frame(tp_cql_conn *c, int16_t stream, uint8_t opcode, const uint8_t *body, size_t len,
                      char *err, size_t errlen) {
    if (len > TP_CQL_MAX_FRAME)
        return tp_seterr(err, errlen, TP_ELIMIT, "Cassandra at %s: request of %zu bytes is too large",
                         c->where, len);
    tp_buf_reset(&c->out);
    if (tp_cql_put_u8(&c->out, REQ_VERSION) || tp_cql_put_u8(&c->out, 0) ||
        tp_cql_put_u16(&c->out, (uint16_t)stream) || tp_cql_put_u8(&c->out, opcode) ||
        tp_cql_put_i32(&c->out, (int32_t)len) || tp_buf_append(&c->out, body, len))
        return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    return io_write(c, c->out.p, c->out.len, err, errlen);
}

/* Read one frame (skipping server events) into c->in. */
static int recv_frame(tp_cql_conn *c, char *err, size_t errlen) {
    for (;;) {
        uint8_t hb[TP_CQL_HEADER_LEN];
        int rc = io_read(c, hb, sizeof hb, err, errlen);
        if (rc) return rc;
        char perr[256];
        rc = tp_cql_parse_header(hb, sizeof hb, TP_CQL_MAX_FRAME, &c->h, perr, sizeof perr);
        if (rc) return conn_fail(c, err, errlen, rc, "%s", perr);
        tp_buf_reset(&c->in);
        if (tp_buf_reserve(&c->in, c->h.length ? c->h.length : 1))
            return conn_fail(c, err, errlen, TP_ENOMEM, "out of memory for a %u-byte frame", c->h.length);
        rc = io_read(c, c->in.p, c->h.length, err, errlen);
        if (rc) return rc;
        c->in.len = c->h.length;
        rc = tp_cql_skip_prefix(c->h.flags, c->in.p, c->in.len, &c->body_off, perr, sizeof perr);
        if (rc) return conn_fail(c, err, errlen, rc, "%s", perr);
        if (c->h.opcode == TP_CQL_OP_EVENT || c->h.stream < 0) continue;
        return 0;
    }
}

/* Turn an ERROR frame in c->in into a tp_err with the server's message. */
static int server_error(tp_cql_conn *c, const char *what, tp_cql_error *out, char *err, size_t errlen) {
    tp_cql_error e;
    char perr[128];
    if (tp_cql_parse_error(c->in.p + c->body_off, c->in.len - c->body_off, &e, perr, sizeof perr))
        return conn_fail(c, err, errlen, TP_EPARSE, "%s", perr);
    if (out) *out = e;
    c->last_code = e.code;
    char msg[300];
    tp_log_sample(e.msg, e.msg_len, 250, msg, sizeof msg);
    if (e.code == TP_CQL_E_BAD_CREDENTIALS)
        return tp_seterr(err, errlen, TP_EREFUSED,
                         "Cassandra at %s: authentication failed: %s (check the user and password in the "
                         "store URL)",
                         c->where, msg);
    if (e.code == TP_CQL_E_PROTOCOL) c->broken = 1;
    int code = tp_cql_code_retryable(e.code) ? TP_EUNAVAIL : TP_EREFUSED;
    return tp_seterr(err, errlen, code, "Cassandra at %s: %s: %s (error 0x%04x%s)", c->where, what, msg,
                     (unsigned)e.code, code == TP_EUNAVAIL ? ", will retry" : "");
}

/* One request, one answer (stream 0). */
static int roundtrip(tp_cql_conn *c, uint8_t opcode, const uint8_t *body, size_t len, char *err,
                     size_t errlen) {
    if (c->broken) return tp_seterr(err, errlen, TP_EUNAVAIL, "Cassandra at %s: connection lost", c->where);
    c->last_code = -1;
    int rc = send_frame(c, 0, opcode, body, len, err, errlen);
    if (!rc) rc = recv_frame(c, err, errlen);
    if (!rc && c->h.stream != 0)
        rc = conn_fail(c, err, errlen, TP_EPARSE, "answer on stream %d, none pending", c->h.stream);
    return rc;
}

static int expect_result(tp_cql_conn *c, const char *what, tp_cql_result *res, tp_cql_error *e, char *err,
                         size_t errlen) {
    if (c->h.opcode == TP_CQL_OP_ERROR) return server_error(c, what, e, err, errlen);
    if (c->h.opcode != TP_CQL_OP_RESULT)
        return conn_fail(c, err, errlen, TP_EPARSE, "%s: unexpected answer (opcode 0x%02x)", what,
                         c->h.opcode);
    tp_cql_result tmp;
    char perr[256];
    int rc = tp_cql_parse_result(c->in.p + c->body_off, c->in.len - c->body_off, res ? res : &tmp, perr,
                                 sizeof perr);
    if (rc) return conn_fail(c, err, errlen, TP_EPARSE, "%s: %s", what, perr);
    return 0;
}

static int authenticate(tp_cql_conn *c, const tp_cql_config *cfg, char *err, size_t errlen) {
    if (!cfg->user)
        return conn_fail(c, err, errlen, TP_EREFUSED,
                         "the server requires authentication; put user:password@ in the store URL");
    size_t ul = strlen(cfg->user), pl = cfg->password ? strlen(cfg->password) : 0;
    tp_buf tok = {0}, body = {0};
    int rc = 0;
    /* SASL PLAIN: authzid NUL authcid NUL password */
    if (tp_cql_put_u8(&tok, 0) || tp_buf_append(&tok, cfg->user, ul) || tp_cql_put_u8(&tok, 0) ||
        tp_buf_append(&tok, cfg->password ? cfg->password : "", pl) ||
        tp_cql_put_long_string(&body, (const char *)tok.p, tok.len))
        rc = tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    if (!rc) rc = roundtrip(c, TP_CQL_OP_AUTH_RESPONSE, body.p, body.len, err, errlen);
    if (tok.p) memset(tok.p, 0, tok.len);
    if (body.p) memset(body.p, 0, body.len);
    if (c->out.p) memset(c->out.p, 0, c->out.len);
    tp_buf_free(&tok);
    tp_buf_free(&body);
    if (rc) return rc;
    if (c->h.opcode == TP_CQL_OP_AUTH_SUCCESS) return 0;
    if (c->h.opcode == TP_CQL_OP_ERROR) {
        rc = server_error(c, "authentication", NULL, err, errlen);
        c->broken = 1;
        return rc;
    }
    if (c->h.opcode == TP_CQL_OP_AUTH_CHALLENGE)
        return conn_fail(c, err, errlen, TP_EREFUSED,
                         "the server's authenticator asks for more than a password (only "
                         "PasswordAuthenticator is supported)");
    return conn_fail(c, err, errlen, TP_EPARSE, "unexpected answer to AUTH_RESPONSE (opcode 0x%02x)",
                     c->h.opcode);
}

static int startup(tp_cql_conn *c, const tp_cql_config *cfg, char *err, size_t errlen) {
    tp_buf body = {0};
    int rc = 0;
    if (tp_cql_put_u16(&body, 1) || tp_cql_put_string(&body, "CQL_VERSION", 11) ||
        tp_cql_put_string(&body, "3.0.0", 5))
        rc = tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    if (!rc) rc = roundtrip(c, TP_CQL_OP_STARTUP, body.p, body.len, err, errlen);
    tp_buf_free(&body);
    if (rc) return rc;
    switch (c->h.opcode) {
    case TP_CQL_OP_READY: return 0;
    case TP_CQL_OP_AUTHENTICATE: return authenticate(c, cfg, err, errlen);
    case TP_CQL_OP_ERROR:
        rc = server_error(c, "STARTUP", NULL, err, errlen);
        c->broken = 1;
        return rc;
    default:
        return conn_fail(c, err, errlen, TP_EPARSE, "unexpected answer to STARTUP (opcode 0x%02x)",
                         c->h.opcode);
    }
}

static int tcp_connect(const tp_cql_host *h, int timeout_ms, char *err, size_t errlen) {
    char port[8];
    snprintf(port, sizeof port, "%u", h->port);
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_socktype = SOCK_STREAM;
    int g = getaddrinfo(h->name, port, &hints, &ai);
    if (g) return tp_seterr(err, errlen, TP_EUNAVAIL, "cannot resolve host: %s", gai_strerror(g));
    int fd = -1, last = 0;
    for (struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            last = errno;
            continue;
        }
        int r = connect(fd, a->ai_addr, a->ai_addrlen);
        if (r < 0 && errno == EINPROGRESS) {
            struct pollfd pf = {fd, POLLOUT, 0};
            r = poll(&pf, 1, timeout_ms);
            if (r == 0) {
                errno = ETIMEDOUT;
                r = -1;
            } else if (r > 0) {
                int soerr = 0;
                socklen_t sl = sizeof soerr;
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
                if (soerr) {
                    errno = soerr;
                    r = -1;
                } else {
                    r = 0;
                }
            }
        }
        if (r < 0) {
            last = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(ai);
    if (fd < 0) return tp_seterr(err, errlen, TP_EUNAVAIL, "%s", strerror(last ? last : ECONNREFUSED));
    int fl = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &fl, sizeof fl);
    return fd;
}

static int tls_start(tp_cql_conn *c, const tp_cql_config *cfg, const char *host, char *err, size_t errlen) {
    char e[256];
    c->ctx = SSL_CTX_new(TLS_client_method());
    if (!c->ctx) return tp_seterr(err, errlen, TP_ENOMEM, "TLS: %s", ssl_errtext(e, sizeof e));
    SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
    int ok = cfg->ca_file ? SSL_CTX_load_verify_locations(c->ctx, cfg->ca_file, NULL)
                          : SSL_CTX_set_default_verify_paths(c->ctx);
    if (ok != 1)
        return tp_seterr(err, errlen, TP_EINVAL, "TLS: cannot load the CA file %s: %s",
                         cfg->ca_file ? cfg->ca_file : "(system)", ssl_errtext(e, sizeof e));
    c->ssl = SSL_new(c->ctx);
    if (!c->ssl) return tp_seterr(err, errlen, TP_ENOMEM, "TLS: %s", ssl_errtext(e, sizeof e));
    SSL_set_fd(c->ssl, c->fd);
    struct in6_addr a6;
    struct in_addr a4;
    int is_ip = inet_pton(AF_INET, host, &a4) == 1 || inet_pton(AF_INET6, host, &a6) == 1;
    if (!is_ip) SSL_set_tlsext_host_name(c->ssl, host);
    X509_VERIFY_PARAM *vp = SSL_get0_param(c->ssl);
    if (is_ip)
        X509_VERIFY_PARAM_set1_ip_asc(vp, host);
    else
        X509_VERIFY_PARAM_set1_host(vp, host, 0);
    if (SSL_connect(c->ssl) != 1) {
        long v = SSL_get_verify_result(c->ssl);
        if (v != X509_V_OK)
            return tp_seterr(err, errlen, TP_EREFUSED,
                             "TLS: the server's certificate is not trusted: %s (give "
                             "its CA with cafile=PATH)",
                             X509_verify_cert_error_string(v));
        return tp_seterr(err, errlen, TP_EUNAVAIL,
                         "TLS handshake failed: %s (does the server have TLS on "
                         "its native port?)",
                         ssl_errtext(e, sizeof e));
    }
    return 0;
}

static void conn_free(tp_cql_conn *c) {
    if (!c) return;
    if (c->ssl) SSL_free(c->ssl);
    if (c->ctx) SSL_CTX_free(c->ctx);
    if (c->fd >= 0) close(c->fd);
    tp_buf_free(&c->out);
    tp_buf_free(&c->in);
    free(c);
}

static int connect_one(const tp_cql_config *cfg, const tp_cql_host *h, tp_cql_conn **out, char *err,
                       size_t errlen) {
    tp_cql_conn *c = calloc(1, sizeof *c);
    if (!c) return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    c->fd = -1;
    c->last_code = -1;
    snprintf(c->where, sizeof c->where, strchr(h->name, ':') ? "[%s]:%u" : "%s:%u", h->name, h->port);
    int cto = cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : 5000;
    c->request_timeout_ms = cfg->request_timeout_ms > 0 ? cfg->request_timeout_ms : 30000;
    char e[300];
    int rc = tcp_connect(h, cto, e, sizeof e);
    if (rc < 0) {
        tp_seterr(err, errlen, rc, "%s: %s", c->where, e);
        conn_free(c);
        return rc;
    }
    c->fd = rc;
    /* blocking from here on, bounded by the timeouts */
    struct timeval tv = {cto / 1000, (cto % 1000) * 1000};
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) & ~O_NONBLOCK);
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (cfg->tls && (rc = tls_start(c, cfg, h->name, e, sizeof e))) {
        tp_seterr(err, errlen, rc, "%s: %s", c->where, e);
        conn_free(c);
        return rc;
    }
    rc = startup(c, cfg, err, errlen);
    if (rc) {
        conn_free(c);
        return rc;
    }
    tv.tv_sec = c->request_timeout_ms / 1000;
    tv.tv_usec = (c->request_timeout_ms % 1000) * 1000;
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    *out = c;
    return 0;
}

int tp_cql_connect(const tp_cql_config *cfg, tp_cql_conn **out, char *err, size_t errlen) {
    *out = NULL;
    if (cfg->nhosts < 1) return tp_seterr(err, errlen, TP_EINVAL, "no Cassandra contact point");
    char all[1024] = "";
    size_t o = 0;
    int rc = TP_EUNAVAIL;
    for (int k = 0; k < cfg->nhosts; k++) {
        const tp_cql_host *h = &cfg->hosts[(cfg->first_host + k) % cfg->nhosts];
        char e[512];
        rc = connect_one(cfg, h, out, e, sizeof e);
        if (!rc) return 0;
        /* wrong credentials or a refused request: the next node says the same */
        if (rc == TP_EREFUSED || rc == TP_EINVAL) return tp_seterr(err, errlen, rc, "%s", e);
        if (o < sizeof all) o += (size_t)snprintf(all + o, sizeof all - o, "%s%s", k ? "; " : "", e);
    }
    if (rc == TP_EPARSE) return tp_seterr(err, errlen, rc, "%s", all);
    return tp_seterr(err, errlen, rc, "%s%s (is the server running?)",
                     strncmp(all, "Cassandra at ", 13) ? "Cassandra at " : "", all);
}

void tp_cql_close(tp_cql_conn *c) {
    if (c && c->ssl && !c->broken) SSL_shutdown(c->ssl);
    conn_free(c);
}

/* <query_parameters> for QUERY/EXECUTE. */
static int put_params(tp_buf *b, const tp_buf *vals, int nvals, int consistency, int page_size,
                      const tp_buf *paging) {
    uint8_t flags = 0;
    if (nvals > 0) flags |= 0x01;
    if (page_size > 0) flags |= 0x04;
    if (paging && paging->len) flags |= 0x08;
    if (tp_cql_put_u16(b, (uint16_t)consistency) || tp_cql_put_u8(b, flags)) return -1;
    if (nvals > 0 && (tp_cql_put_u16(b, (uint16_t)nvals) || tp_buf_append(b, vals->p, vals->len))) return -1;
    if (page_size > 0 && tp_cql_put_i32(b, page_size)) return -1;
    if (paging && paging->len && tp_cql_put_long_string(b, (const char *)paging->p, paging->len)) return -1;
    return 0;
}

int tp_cql_query(tp_cql_conn *c, const char *cql, int consistency, tp_cql_result *res, char *err,
                 size_t errlen) {
    tp_buf body = {0};
    int rc = 0;
    if (tp_cql_put_long_string(&body, cql, strlen(cql)) || put_params(&body, NULL, 0, consistency, 0, NULL))
        rc = tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    if (!rc) rc = roundtrip(c, TP_CQL_OP_QUERY, body.p, body.len, err, errlen);
    tp_buf_free(&body);
    if (!rc) rc = expect_result(c, "query", res, NULL, err, errlen);
    return rc;
}

int tp_cql_prepare(tp_cql_conn *c, tp_cql_stmt *st, char *err, size_t errlen) {
    tp_buf body = {0};
    int rc = 0;
    if (tp_cql_put_long_string(&body, st->cql, strlen(st->cql)))
        rc = tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    if (!rc) rc = roundtrip(c, TP_CQL_OP_PREPARE, body.p, body.len, err, errlen);
    tp_buf_free(&body);
    tp_cql_result r;
    if (!rc) rc = expect_result(c, "prepare", &r, NULL, err, errlen);
    if (rc) return rc;
    if (r.kind != TP_CQL_R_PREPARED || r.prepared_id_len > sizeof st->id)
        return conn_fail(c, err, errlen, TP_EPARSE, "PREPARE answered with result kind %d", r.kind);
    memcpy(st->id, r.prepared_id, r.prepared_id_len);
    st->id_len = r.prepared_id_len;
    st->nbind = r.nbind;
    return 0;
}

int tp_cql_execute(tp_cql_conn *c, tp_cql_stmt *st, const tp_buf *vals, int nvals, int consistency,
                   int page_size, const tp_buf *paging, tp_cql_result *res, char *err, size_t errlen) {
    for (int attempt = 0;; attempt++) {
        tp_buf body = {0};
        int rc = 0;
        if (tp_cql_put_short_bytes(&body, st->id, st->id_len) ||
            put_params(&body, vals, nvals, consistency, page_size, paging))
            rc = tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
        if (!rc) rc = roundtrip(c, TP_CQL_OP_EXECUTE, body.p, body.len, err, errlen);
        tp_buf_free(&body);
        if (rc) return rc;
        rc = expect_result(c, "execute", res, NULL, err, errlen);
        /* the server forgot the statement (restarted, cache evicted): prepare again, once */
        if (rc && c->last_code == TP_CQL_E_UNPREPARED && attempt == 0 && !c->broken) {
            rc = tp_cql_prepare(c, st, err, errlen);
            if (rc) return rc;
            continue;
        }
        return rc;
    }
}

void tp_cql_batch_begin(tp_buf *b, int type) {
    tp_buf_reset(b);
    uint8_t hdr[3] = {(uint8_t)type, 0, 0};
    tp_buf_append(b, hdr, 3); /* count patched by add */
}

int tp_cql_batch_add(tp_buf *b, const tp_cql_stmt *st) {
    if (b->len < 3) return -1;
    uint16_t k = (uint16_t)(b->p[1] << 8 | b->p[2]);
    if (k == 0xffff) return -1;
    k++;
    b->p[1] = (uint8_t)(k >> 8);
    b->p[2] = (uint8_t)k;
    return tp_cql_put_u8(b, 1) || tp_cql_put_short_bytes(b, st->id, st->id_len) ||
                   tp_cql_put_u16(b, (uint16_t)st->nbind)
               ? -1
               : 0;
}

int tp_cql_batch_end(tp_buf *b, int consistency) {
    return tp_cql_put_u16(b, (uint16_t)consistency) || tp_cql_put_u8(b, 0) ? -1 : 0;
}

static int reprepare(tp_cql_conn *c, tp_cql_stmt *stmts, size_t n, char *err, size_t errlen) {
    for (size_t i = 0; i < n; i++) {
        int rc = tp_cql_prepare(c, &stmts[i], err, errlen);
        if (rc) return rc;
    }
    return 0;
}

int tp_cql_batches(tp_cql_conn *c, const tp_buf *bodies, size_t n, int window, tp_cql_stmt *stmts,
                   size_t nstmts, char *err, size_t errlen) {
    if (window < 1) window = 1;
    if (window > MAX_INFLIGHT) window = MAX_INFLIGHT;
    uint8_t *redo = calloc(n ? n : 1, 1);
    if (!redo) return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    int first_rc = 0;
    for (int round = 0; round < 3; round++) {
        size_t slot_of[MAX_INFLIGHT];        /* stream id - 1 -> body index */
        uint8_t pending[MAX_INFLIGHT] = {0}; /* stream id - 1 -> a request waits there */
        int free_streams[MAX_INFLIGHT], nfree = window;
        for (int i = 0; i < window; i++) free_streams[i] = window - i;
        size_t next = 0, inflight = 0;
        int unprepared = 0;
        for (;;) {
            while (!first_rc && nfree && next < n) {
                if (round && !redo[next]) {
                    next++;
                    continue;
                }
                int sid = free_streams[--nfree];
                slot_of[sid - 1] = next;
                if (c->broken) {
                    first_rc =
                        tp_seterr(err, errlen, TP_EUNAVAIL, "Cassandra at %s: connection lost", c->where);
                    break;
                }
                int rc = send_frame(c, (int16_t)sid, TP_CQL_OP_BATCH, bodies[next].p, bodies[next].len, err,
                                    errlen);
                if (rc) {
                    first_rc = rc;
                    break;
                }
                redo[next] = 0;
                pending[sid - 1] = 1;
                next++;
                inflight++;
            }
            /* a failed write broke the connection: no answer will come */
            if (!inflight || c->broken) break;
            char e[512];
            int rc = recv_frame(c, e, sizeof e);
            if (rc) { /* the connection is gone: every answer with it */
                if (!first_rc) {
                    first_rc = rc;
                    tp_seterr(err, errlen, rc, "%s", e);
                }
                break;
            }
            int sid = c->h.stream;
            /* an answer on a stream with nothing waiting (a second answer,
             * or a stream never used) would free the stream twice and match
             * a result to the wrong batch: the server is not to be trusted */
            if (sid < 1 || sid > window || !pending[sid - 1]) {
                if (!first_rc)
                    first_rc = conn_fail(c, err, errlen, TP_EPARSE, "answer on unknown stream %d", sid);
                break;
            }
            pending[sid - 1] = 0;
            size_t idx = slot_of[sid - 1];
            free_streams[nfree++] = sid;
            inflight--;
            c->last_code = -1;
            rc = expect_result(c, "batch", NULL, NULL, e, sizeof e);
            if (rc && c->last_code == TP_CQL_E_UNPREPARED) {
                redo[idx] = 1;
                unprepared = 1;
            } else if (rc && !first_rc) {
                first_rc = rc;
                tp_seterr(err, errlen, rc, "%s", e);
            }
            if (c->broken) break;
        }
        if (first_rc || !unprepared) break;
        int rc = reprepare(c, stmts, nstmts, err, errlen);
        if (rc) {
            first_rc = rc;
            break;
        }
        if (round == 2)
            first_rc = tp_seterr(err, errlen, TP_EUNAVAIL,
                                 "Cassandra at %s: statements keep getting unprepared", c->where);
    }
    free(redo);
    return first_rc;
}

static int schema_versions(tp_cql_conn *c, const char *cql, uint8_t *first, int *have, int *agree, char *err,
                           size_t errlen) {
    tp_cql_result r;
    int rc = tp_cql_query(c, cql, TP_CQL_ONE, &r, err, errlen);
    if (rc) return rc;
    tp_cql_rows it;
    tp_cql_value v[TP_CQL_MAX_COLS];
    tp_cql_rows_begin(&r, &it);
    while (tp_cql_row_next(&it, v)) {
        uint8_t u[16];
        if (r.ncols < 1 || tp_cql_get_uuid(v[0], u)) continue; /* a peer still joining */
        if (!*have) {
            memcpy(first, u, 16);
            *have = 1;
        } else if (memcmp(first, u, 16)) {
            *agree = 0;
        }
    }
    return 0;
}

int tp_cql_await_schema(tp_cql_conn *c, int timeout_ms, char *err, size_t errlen) {
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        uint8_t first[16];
        int have = 0, agree = 1;
        int rc =
            schema_versions(c, "SELECT schema_version FROM system.local", first, &have, &agree, err, errlen);
        if (!rc)
            rc = schema_versions(c, "SELECT schema_version FROM system.peers", first, &have, &agree, err,
                                 errlen);
        if (rc) return rc;
        if (agree) return 0;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000 > timeout_ms)
            return tp_seterr(
                err, errlen, TP_EUNAVAIL,
                "Cassandra at %s: the nodes do not agree on the schema after %d ms (is a node down?)",
                c->where, timeout_ms);
        struct timespec ts = {0, 200 * 1000000L};
        nanosleep(&ts, NULL);
    }
}
