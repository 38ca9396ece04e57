/* cql.h - a client for the CQL native protocol, version 4 (Apache
 * Cassandra, ScyllaDB), over TCP or TLS (OpenSSL). Internal to sink/.
 *
 * Two layers:
 * - Decoding (tp_cql_parse_*): pure functions over bytes from the server,
 *   which are untrusted: every length is checked against what is left,
 *   a frame body is at most TP_CQL_MAX_FRAME bytes, a result at most
 *   TP_CQL_MAX_COLS columns, types nest at most 8 deep. A parsed result
 *   points into the body it came from. Fuzzed by fuzz/fuzz_cql_frame.c.
 * - A connection (tp_cql_conn): STARTUP, SASL PLAIN authentication for
 *   PasswordAuthenticator, QUERY, PREPARE, EXECUTE with bound values and
 *   paging, pipelined BATCH requests on several stream ids, schema
 *   agreement. Contact points are tried in turn at connect.
 *
 * Errors: calls return 0 or a negative tp_err with text in err:
 *   TP_EUNAVAIL  the connection is gone (tp_cql_broken() says so; connect
 *                again) or the server answered with a transient error
 *                (Overloaded, Unavailable, Read/WriteTimeout,
 *                IsBootstrapping): retry later
 *   TP_EREFUSED  the server refused the request (syntax, invalid,
 *                unauthorized, bad credentials): retrying will not help
 *   TP_EPARSE    the peer does not speak the protocol (connection closed)
 * An Unprepared answer is handled inside: the statement is prepared again
 * and the request re-sent. tp_cql_last_code() gives the server's error code.
 *
 * Ownership and threads: a tp_cql_conn belongs to one thread. Results and
 * row values point into the connection's receive buffer and are valid only
 * until the next request on that connection. Passwords are never put in
 * error text. */
#ifndef TP_SINK_CQL_H
#define TP_SINK_CQL_H

#include "core/buf.h"

#include <stddef.h>
#include <stdint.h>

#define TP_CQL_MAX_FRAME (64u << 20) /* largest frame body accepted */
#define TP_CQL_MAX_COLS 64
#define TP_CQL_MAX_HOSTS 8

/* Opcodes (spec section 2.4). */
enum {
    TP_CQL_OP_ERROR = 0x00,
    TP_CQL_OP_STARTUP = 0x01,
    TP_CQL_OP_READY = 0x02,
    TP_CQL_OP_AUTHENTICATE = 0x03,
    TP_CQL_OP_OPTIONS = 0x05,
    TP_CQL_OP_SUPPORTED = 0x06,
    TP_CQL_OP_QUERY = 0x07,
    TP_CQL_OP_RESULT = 0x08,
    TP_CQL_OP_PREPARE = 0x09,
    TP_CQL_OP_EXECUTE = 0x0A,
    TP_CQL_OP_REGISTER = 0x0B,
    TP_CQL_OP_EVENT = 0x0C,
    TP_CQL_OP_BATCH = 0x0D,
    TP_CQL_OP_AUTH_CHALLENGE = 0x0E,
    TP_CQL_OP_AUTH_RESPONSE = 0x0F,
    TP_CQL_OP_AUTH_SUCCESS = 0x10,
};

/* Consistency levels (spec section 3, [consistency]). */
enum {
    TP_CQL_ANY = 0,
    TP_CQL_ONE = 1,
    TP_CQL_TWO = 2,
    TP_CQL_THREE = 3,
    TP_CQL_QUORUM = 4,
    TP_CQL_ALL = 5,
    TP_CQL_LOCAL_QUORUM = 6,
    TP_CQL_EACH_QUORUM = 7,
    TP_CQL_LOCAL_ONE = 10,
};
/* "LOCAL_QUORUM" -> 6 (case-insensitive); -1 if unknown. */
int tp_cql_consistency_parse(const char *name);

/* Error codes (spec section 9) the client acts on. */
enum {
    TP_CQL_E_SERVER = 0x0000,
    TP_CQL_E_PROTOCOL = 0x000A,
    TP_CQL_E_BAD_CREDENTIALS = 0x0100,
    TP_CQL_E_UNAVAILABLE = 0x1000,
    TP_CQL_E_OVERLOADED = 0x1001,
    TP_CQL_E_BOOTSTRAPPING = 0x1002,
    TP_CQL_E_TRUNCATE = 0x1003,
    TP_CQL_E_WRITE_TIMEOUT = 0x1100,
    TP_CQL_E_READ_TIMEOUT = 0x1200,
    TP_CQL_E_READ_FAILURE = 0x1300,
    TP_CQL_E_FUNCTION_FAILURE = 0x1400,
    TP_CQL_E_WRITE_FAILURE = 0x1500,
    TP_CQL_E_SYNTAX = 0x2000,
    TP_CQL_E_UNAUTHORIZED = 0x2100,
    TP_CQL_E_INVALID = 0x2200,
    TP_CQL_E_CONFIG = 0x2300,
    TP_CQL_E_ALREADY_EXISTS = 0x2400,
    TP_CQL_E_UNPREPARED = 0x2500,
};
/* Is a server error code transient (retry the request later)? */
int tp_cql_code_retryable(int32_t code);

/* Column types (spec section 4.2.5.2, [option] ids). */
enum {
    TP_CQL_T_CUSTOM = 0x0000,
    TP_CQL_T_ASCII = 0x0001,
    TP_CQL_T_BIGINT = 0x0002,
    TP_CQL_T_BLOB = 0x0003,
    TP_CQL_T_BOOLEAN = 0x0004,
    TP_CQL_T_COUNTER = 0x0005,
    TP_CQL_T_DOUBLE = 0x0007,
    TP_CQL_T_INT = 0x0009,
    TP_CQL_T_TIMESTAMP = 0x000B,
    TP_CQL_T_UUID = 0x000C,
    TP_CQL_T_VARCHAR = 0x000D,
    TP_CQL_T_TIMEUUID = 0x000F,
    TP_CQL_T_DATE = 0x0011,
    TP_CQL_T_LIST = 0x0020,
    TP_CQL_T_MAP = 0x0021,
    TP_CQL_T_SET = 0x0022,
    TP_CQL_T_UDT = 0x0030,
    TP_CQL_T_TUPLE = 0x0031,
};

/* RESULT kinds. */
enum {
    TP_CQL_R_VOID = 1,
    TP_CQL_R_ROWS = 2,
    TP_CQL_R_SET_KEYSPACE = 3,
    TP_CQL_R_PREPARED = 4,
    TP_CQL_R_SCHEMA_CHANGE = 5,
};

/* ---- decoding (pure; untrusted input) ---- */

typedef struct tp_cql_header {
    uint8_t version; /* 0x84 for a v4 response */
    uint8_t flags;
    int16_t stream;
    uint8_t opcode;
    uint32_t length; /* body bytes that follow */
} tp_cql_header;
#define TP_CQL_HEADER_LEN 9

/* Parse the 9-byte header at p (n >= 9). Refuses another protocol version,
 * a request (not response) frame, compression, and bodies over max_body. */
int tp_cql_parse_header(const uint8_t *p, size_t n, uint32_t max_body, tp_cql_header *h, char *err,
                        size_t errlen);

/* Skip what the header's flags put before the message proper (tracing id,
 * warnings, custom payload); *off is where the message starts. */
int tp_cql_skip_prefix(uint8_t flags, const uint8_t *body, size_t n, size_t *off, char *err, size_t errlen);

typedef struct tp_cql_col {
    const uint8_t *name;
    uint16_t name_len;
    uint16_t type;      /* TP_CQL_T_* of the column */
    uint16_t elem_type; /* element type of a list or set, else 0 */
} tp_cql_col;

typedef struct tp_cql_value {
    const uint8_t *p;
    int32_t len; /* < 0: null */
} tp_cql_value;

typedef struct tp_cql_result {
    int32_t kind;
    /* ROWS */
    int ncols;
    tp_cql_col cols[TP_CQL_MAX_COLS];
    int32_t nrows;
    const uint8_t *rows; /* row content, checked to hold nrows rows */
    size_t rows_len;
    const uint8_t *paging; /* paging state when more pages follow, else NULL */
    int32_t paging_len;
    /* PREPARED */
    const uint8_t *prepared_id;
    uint16_t prepared_id_len;
    int nbind; /* bind markers */
} tp_cql_result;

/* Parse a RESULT message (after tp_cql_skip_prefix). For ROWS every row is
 * checked to fit, so iterating with tp_cql_row_next cannot overrun. */
int tp_cql_parse_result(const uint8_t *p, size_t n, tp_cql_result *r, char *err, size_t errlen);

typedef struct tp_cql_error {
    int32_t code;
    const char *msg;
    uint16_t msg_len;
    const uint8_t *unprepared_id; /* TP_CQL_E_UNPREPARED */
    uint16_t unprepared_id_len;
} tp_cql_error;

/* Parse an ERROR message (after tp_cql_skip_prefix). */
int tp_cql_parse_error(const uint8_t *p, size_t n, tp_cql_error *e, char *err, size_t errlen);

typedef struct tp_cql_rows {
    const uint8_t *p, *end;
    int ncols;
    int32_t left;
} tp_cql_rows;

void tp_cql_rows_begin(const tp_cql_result *r, tp_cql_rows *it);
/* Fill vals[0..ncols) with the next row; 1 if there was one, 0 at the end. */
int tp_cql_row_next(tp_cql_rows *it, tp_cql_value *vals);

/* Typed reads of one value: 0, or -1 if null or of the wrong size. */
int tp_cql_get_i64(tp_cql_value v, int64_t *out); /* bigint, timestamp, counter */
int tp_cql_get_i32(tp_cql_value v, int32_t *out);
int tp_cql_get_double(tp_cql_value v, double *out);
int tp_cql_get_bool(tp_cql_value v, int *out);
int tp_cql_get_uuid(tp_cql_value v, uint8_t out[16]);
int tp_cql_get_date(tp_cql_value v, int64_t *days); /* days since the epoch */

/* ---- encoding of request parts (spec section 3 notation) ---- */

int tp_cql_put_u8(tp_buf *b, uint8_t v);
int tp_cql_put_u16(tp_buf *b, uint16_t v);
int tp_cql_put_i32(tp_buf *b, int32_t v);
int tp_cql_put_i64(tp_buf *b, int64_t v);
int tp_cql_put_string(tp_buf *b, const char *s, size_t len);      /* [string] */
int tp_cql_put_long_string(tp_buf *b, const char *s, size_t len); /* [long string] */
int tp_cql_put_short_bytes(tp_buf *b, const uint8_t *p, size_t len);
/* [value]s of bound variables */
int tp_cql_val_null(tp_buf *b);
int tp_cql_val_unset(tp_buf *b);
int tp_cql_val_blob(tp_buf *b, const void *p, size_t len); /* text too: the caller ensures UTF-8 */
int tp_cql_val_i64(tp_buf *b, int64_t v);                  /* bigint, timestamp */
int tp_cql_val_i32(tp_buf *b, int32_t v);
int tp_cql_val_double(tp_buf *b, double v);
int tp_cql_val_bool(tp_buf *b, int v);
int tp_cql_val_uuid(tp_buf *b, const uint8_t id[16]);
int tp_cql_val_date(tp_buf *b, int64_t days);

/* ---- a connection ---- */

typedef struct tp_cql_host {
    char name[256];
    uint16_t port;
} tp_cql_host;

typedef struct tp_cql_config {
    tp_cql_host hosts[TP_CQL_MAX_HOSTS];
    int nhosts;
    const char *user, *password; /* NULL: no credentials */
    int tls;
    const char *ca_file;    /* NULL: the system's CA store */
    int connect_timeout_ms; /* 0: 5000 */
    int request_timeout_ms; /* 0: 30000 */
    int first_host;         /* where to start trying (rotated by the caller) */
} tp_cql_config;

typedef struct tp_cql_conn tp_cql_conn;

/* A prepared statement; the text is kept to prepare it again. */
typedef struct tp_cql_stmt {
    const char *cql;
    uint8_t id[64];
    uint16_t id_len;
    int nbind;
} tp_cql_stmt;

/* Connect to the first contact point that answers, starting at
 * cfg->first_host, and authenticate. err names every host tried. */
int tp_cql_connect(const tp_cql_config *cfg, tp_cql_conn **out, char *err, size_t errlen);
void tp_cql_close(tp_cql_conn *c);
const char *tp_cql_where(const tp_cql_conn *c); /* "host:port" */
int tp_cql_broken(const tp_cql_conn *c);        /* 1 once the connection is unusable */
int32_t tp_cql_last_code(const tp_cql_conn *c); /* server error code of the last failure, or -1 */

/* A statement without values; *res (may be NULL) is valid until the next call. */
int tp_cql_query(tp_cql_conn *c, const char *cql, int consistency, tp_cql_result *res, char *err,
                 size_t errlen);
int tp_cql_prepare(tp_cql_conn *c, tp_cql_stmt *st, char *err, size_t errlen);
/* EXECUTE st with nvals [value]s already encoded in vals. page_size 0: no
 * paging; paging (may be NULL/empty) continues a previous page. */
int tp_cql_execute(tp_cql_conn *c, tp_cql_stmt *st, const tp_buf *vals, int nvals, int consistency,
                   int page_size, const tp_buf *paging, tp_cql_result *res, char *err, size_t errlen);

/* A BATCH body under construction: tp_cql_batch_begin, then per statement
 * tp_cql_batch_add followed by its values (tp_cql_val_*), then
 * tp_cql_batch_end. */
void tp_cql_batch_begin(tp_buf *b, int type); /* 0 logged, 1 unlogged */
int tp_cql_batch_add(tp_buf *b, const tp_cql_stmt *st);
int tp_cql_batch_end(tp_buf *b, int consistency);

/* Send bodies[0..n) as BATCH requests, up to `window` in flight. If the
 * server lost a prepared statement (Unprepared), every statement in stmts
 * is prepared again and the affected batches re-sent. The first other
 * error is returned after every answer has been read. */
int tp_cql_batches(tp_cql_conn *c, const tp_buf *bodies, size_t n, int window, tp_cql_stmt *stmts,
                   size_t nstmts, char *err, size_t errlen);

/* Wait until every node reports the same schema_version (after DDL). */
int tp_cql_await_schema(tp_cql_conn *c, int timeout_ms, char *err, size_t errlen);

#endif
