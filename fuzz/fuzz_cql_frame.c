/* fuzz_cql_frame.c - the CQL native protocol decoder on arbitrary bytes
 * from a "server": a stream of frames, each header checked
 * (tp_cql_parse_header), its flag prefix skipped, then decoded as the
 * client would (RESULT: rows, prepared, schema change; ERROR), every row
 * iterated and every value read with each typed reader. Nothing may read
 * past the input, and a parsed result must be consistent with it. */
#include "core/err.h"
#include "sink/cql.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void read_rows(const tp_cql_result *r, const uint8_t *body, size_t n) {
    if (r->rows && (r->rows < body || r->rows + r->rows_len > body + n)) abort();
    if (r->paging && (r->paging < body || r->paging + r->paging_len > body + n)) abort();
    tp_cql_rows it;
    tp_cql_value v[TP_CQL_MAX_COLS];
    tp_cql_rows_begin(r, &it);
    int32_t rows = 0;
    while (tp_cql_row_next(&it, v)) {
        rows++;
        for (int c = 0; c < r->ncols; c++) {
            if (v[c].len >= 0 && (v[c].p < body || v[c].p + v[c].len > body + n)) abort();
            int64_t i64;
            int32_t i32;
            double d;
            int b;
            uint8_t u[16];
            tp_cql_get_i64(v[c], &i64);
            tp_cql_get_i32(v[c], &i32);
            tp_cql_get_double(v[c], &d);
            tp_cql_get_bool(v[c], &b);
            tp_cql_get_uuid(v[c], u);
            tp_cql_get_date(v[c], &i64);
        }
    }
    if (rows != r->nrows) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[256];
    while (size >= TP_CQL_HEADER_LEN) {
        tp_cql_header h;
        /* a small limit here, so oversized frames are exercised too */
        if (tp_cql_parse_header(data, size, 1u << 20, &h, err, sizeof err)) {
            if (!err[0]) abort();
            return 0;
        }
        data += TP_CQL_HEADER_LEN;
        size -= TP_CQL_HEADER_LEN;
        size_t n = h.length < size ? h.length : size;
        /* a copy of exactly n bytes, so ASan sees any read past the body */
        uint8_t *body = malloc(n ? n : 1);
        if (!body) return 0;
        memcpy(body, data, n);
        size_t off = 0;
        if (!tp_cql_skip_prefix(h.flags, body, n, &off, err, sizeof err)) {
            if (off > n) abort();
            if (h.opcode == TP_CQL_OP_RESULT) {
                tp_cql_result r;
                if (!tp_cql_parse_result(body + off, n - off, &r, err, sizeof err))
                    read_rows(&r, body + off, n - off);
            } else if (h.opcode == TP_CQL_OP_ERROR) {
                tp_cql_error e;
                if (!tp_cql_parse_error(body + off, n - off, &e, err, sizeof err)) {
                    if (e.msg_len &&
                        ((const uint8_t *)e.msg < body || (const uint8_t *)e.msg + e.msg_len > body + n))
                        abort();
                    (void)tp_cql_code_retryable(e.code);
                }
            }
        }
        free(body);
        data += n;
        size -= n;
    }
    return 0;
}
