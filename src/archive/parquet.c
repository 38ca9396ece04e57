/* parquet.c - see parquet.h. The layout of a file:
 *   "PAR1" | row group 1: column chunk 1 .. N | ... | FileMetaData
 *   (Thrift compact) | its length (4 bytes LE) | "PAR1"
 * A column chunk is [dictionary page] data page, each a PageHeader
 * (Thrift compact) followed by its zstd-compressed body. */
#include "archive/parquet.h"

#include "archive/thrift_compact.h"
#include "core/err.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

/* parquet.thrift's enums */
enum { PQ_BOOLEAN = 0, PQ_INT32 = 1, PQ_INT64 = 2, PQ_DOUBLE = 5, PQ_BYTE_ARRAY = 6, PQ_FLBA = 7 };
enum { ENC_PLAIN = 0, ENC_RLE = 3, ENC_RLE_DICTIONARY = 8 };
enum { PAGE_DATA = 0, PAGE_DICTIONARY = 2 };
enum { CODEC_ZSTD = 6 };
enum { CT_UTF8 = 0, CT_TIMESTAMP_MILLIS = 9 };

typedef struct pq_col {
    tp_pq_column def;
    tp_buf values;  /* PLAIN-encoded non-null values (bool: one byte each) */
    tp_buf levels;  /* uint32 definition levels (nullable columns) */
    tp_buf indices; /* uint32 dictionary indices (dictionary columns) */
    /* dictionary: PLAIN entries in values-like dict_plain, hash of entry
     * number + 1 (0 = empty slot) */
    tp_buf dict_plain;
    tp_buf dict_off; /* uint32 offset of each entry's length prefix in dict_plain */
    uint32_t *slots;
    size_t nslots, ndict;
    /* statistics of the row group */
    int has_minmax;
    int64_t min_i, max_i;
    double min_d, max_d;
    tp_buf min_s, max_s;
    int64_t nulls;
    int set; /* a value given for the current row */
} pq_col;

struct tp_pq_writer {
    FILE *f;
    pq_col *cols;
    size_t ncols;
    size_t rg_rows_max, rg_rows;
    uint64_t rows, offset;
    int level;
    char created_by[64];
    tp_buf rowgroups; /* serialized RowGroup structs */
    uint32_t nrowgroups;
    tp_buf page, body, comp, hdr; /* scratch */
    ZSTD_CCtx *zc;
    int failed;
};

static int phys_type(tp_pq_kind k) {
    switch (k) {
    case TP_PQ_BOOL: return PQ_BOOLEAN;
    case TP_PQ_INT32: return PQ_INT32;
    case TP_PQ_INT64:
    case TP_PQ_TIMESTAMP_MS: return PQ_INT64;
    case TP_PQ_DOUBLE: return PQ_DOUBLE;
    case TP_PQ_STRING: return PQ_BYTE_ARRAY;
    case TP_PQ_UUID: return PQ_FLBA;
    }
    return PQ_INT64;
}

static int write_out(tp_pq_writer *w, const void *p, size_t n, char *err, size_t errlen) {
    if (n && fwrite(p, 1, n, w->f) != n) {
        w->failed = 1;
        return tp_seterr(err, errlen, TP_EIO, "parquet: write: %s", strerror(errno ? errno : EIO));
    }
    w->offset += n;
    return 0;
}

int tp_pq_open(tp_pq_writer **out, FILE *f, const tp_pq_column *cols, size_t ncols, const tp_pq_options *opt,
               char *err, size_t errlen) {
    *out = NULL;
    if (!ncols) return tp_seterr(err, errlen, TP_EINVAL, "parquet: no columns");
    for (size_t i = 0; i < ncols; i++)
        if (cols[i].dictionary && cols[i].kind != TP_PQ_STRING)
            return tp_seterr(err, errlen, TP_EINVAL, "parquet: column %s: only strings take a dictionary",
                             cols[i].name);
    tp_pq_writer *w = calloc(1, sizeof *w);
    if (!w) return tp_seterr(err, errlen, TP_ENOMEM, "parquet: out of memory");
    w->cols = calloc(ncols, sizeof *w->cols);
    w->zc = ZSTD_createCCtx();
    if (!w->cols || !w->zc) {
        tp_pq_free(w);
        return tp_seterr(err, errlen, TP_ENOMEM, "parquet: out of memory");
    }
    w->f = f;
    w->ncols = ncols;
    for (size_t i = 0; i < ncols; i++) w->cols[i].def = cols[i];
    w->rg_rows_max = opt && opt->row_group_rows ? opt->row_group_rows : 131072;
    w->level = opt && opt->zstd_level ? opt->zstd_level : 3;
    snprintf(w->created_by, sizeof w->created_by, "%s",
             opt && opt->created_by ? opt->created_by : "tickpipe version " TP_VERSION);
    int rc = write_out(w, "PAR1", 4, err, errlen);
    if (rc) {
        tp_pq_free(w);
        return rc;
    }
    *out = w;
    return 0;
}

static void col_reset(pq_col *c) {
    tp_buf_reset(&c->values);
    tp_buf_reset(&c->levels);
    tp_buf_reset(&c->indices);
    tp_buf_reset(&c->dict_plain);
    tp_buf_reset(&c->dict_off);
    if (c->slots) memset(c->slots, 0, c->nslots * sizeof *c->slots);
    c->ndict = 0;
    c->has_minmax = 0;
    c->nulls = 0;
    tp_buf_reset(&c->min_s);
    tp_buf_reset(&c->max_s);
}

static void col_free(pq_col *c) {
    tp_buf_free(&c->values);
    tp_buf_free(&c->levels);
    tp_buf_free(&c->indices);
    tp_buf_free(&c->dict_plain);
    tp_buf_free(&c->dict_off);
    tp_buf_free(&c->min_s);
    tp_buf_free(&c->max_s);
    free(c->slots);
}

void tp_pq_free(tp_pq_writer *w) {
    if (!w) return;
    if (w->cols)
        for (size_t i = 0; i < w->ncols; i++) col_free(&w->cols[i]);
    free(w->cols);
    tp_buf_free(&w->rowgroups);
    tp_buf_free(&w->page);
    tp_buf_free(&w->body);
    tp_buf_free(&w->comp);
    tp_buf_free(&w->hdr);
    ZSTD_freeCCtx(w->zc);
    free(w);
}

uint64_t tp_pq_rows(const tp_pq_writer *w) {
    return w->rows;
}

uint64_t tp_pq_bytes(const tp_pq_writer *w) {
    return w->offset;
}

/* ---- values ---- */

static pq_col *take(tp_pq_writer *w, size_t col) {
    if (col >= w->ncols || w->failed) return NULL;
    pq_col *c = &w->cols[col];
    if (c->set) return NULL;
    c->set = 1;
    return c;
}

static int level(pq_col *c, uint32_t l) {
    if (!c->def.nullable) return 0;
    return tp_buf_append(&c->levels, &l, sizeof l) ? TP_ENOMEM : 0;
}

static void le64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

int tp_pq_set_i64(tp_pq_writer *w, size_t col, int64_t v) {
    pq_col *c = take(w, col);
    if (!c) return TP_ESTATE;
    if (c->def.kind == TP_PQ_INT32) {
        if (v < INT32_MIN || v > INT32_MAX) return TP_EINVAL;
        uint8_t b[4];
        for (int i = 0; i < 4; i++) b[i] = (uint8_t)((uint32_t)v >> (8 * i));
        if (tp_buf_append(&c->values, b, 4)) return TP_ENOMEM;
    } else if (c->def.kind == TP_PQ_INT64 || c->def.kind == TP_PQ_TIMESTAMP_MS) {
        uint8_t b[8];
        le64(b, (uint64_t)v);
        if (tp_buf_append(&c->values, b, 8)) return TP_ENOMEM;
    } else {
        return TP_EINVAL;
    }
    if (!c->has_minmax || v < c->min_i) c->min_i = v;
    if (!c->has_minmax || v > c->max_i) c->max_i = v;
    c->has_minmax = 1;
    return level(c, 1);
}

int tp_pq_set_double(tp_pq_writer *w, size_t col, double v) {
    pq_col *c = take(w, col);
    if (!c) return TP_ESTATE;
    if (c->def.kind != TP_PQ_DOUBLE) return TP_EINVAL;
    uint64_t bits;
    memcpy(&bits, &v, 8);
    uint8_t b[8];
    le64(b, bits);
    if (tp_buf_append(&c->values, b, 8)) return TP_ENOMEM;
    if (!isnan(v)) { /* NaN takes no part in min/max */
        if (!c->has_minmax || v < c->min_d) c->min_d = v;
        if (!c->has_minmax || v > c->max_d) c->max_d = v;
        c->has_minmax = 1;
    }
    return level(c, 1);
}

int tp_pq_set_bool(tp_pq_writer *w, size_t col, int v) {
    pq_col *c = take(w, col);
    if (!c) return TP_ESTATE;
    if (c->def.kind != TP_PQ_BOOL) return TP_EINVAL;
    uint8_t b = v ? 1 : 0;
    if (tp_buf_append(&c->values, &b, 1)) return TP_ENOMEM;
    if (!c->has_minmax || b < c->min_i) c->min_i = b;
    if (!c->has_minmax || b > c->max_i) c->max_i = b;
    c->has_minmax = 1;
    return level(c, 1);
}

/* unsigned byte-wise order (TYPE_ORDER of STRING and UUID) */
static int bytes_cmp(const void *a, size_t an, const void *b, size_t bn) {
    int r = memcmp(a, b, an < bn ? an : bn);
    if (r) return r;
    return an < bn ? -1 : an > bn;
}

static int minmax_bytes(pq_col *c, const void *p, size_t n) {
    if (!c->has_minmax || bytes_cmp(p, n, c->min_s.p, c->min_s.len) < 0) {
        tp_buf_reset(&c->min_s);
        if (tp_buf_append(&c->min_s, p, n)) return TP_ENOMEM;
    }
    if (!c->has_minmax || bytes_cmp(p, n, c->max_s.p, c->max_s.len) > 0) {
        tp_buf_reset(&c->max_s);
        if (tp_buf_append(&c->max_s, p, n)) return TP_ENOMEM;
    }
    c->has_minmax = 1;
    return 0;
}

static uint32_t hash_bytes(const char *p, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)p[i]) * 16777619u;
    return h;
}

static const uint8_t *dict_entry(const pq_col *c, uint32_t k, uint32_t *len) {
    uint32_t off;
    memcpy(&off, c->dict_off.p + (size_t)k * 4, 4);
    const uint8_t *e = c->dict_plain.p + off;
    *len = (uint32_t)e[0] | (uint32_t)e[1] << 8 | (uint32_t)e[2] << 16 | (uint32_t)e[3] << 24;
    return e + 4;
}

static int dict_grow(pq_col *c) {
    size_t n = c->nslots ? c->nslots * 2 : 64;
    uint32_t *s = calloc(n, sizeof *s);
    if (!s) return TP_ENOMEM;
    for (uint32_t k = 0; k < c->ndict; k++) {
        uint32_t len;
        const uint8_t *e = dict_entry(c, k, &len);
        size_t i = hash_bytes((const char *)e, len) & (n - 1);
        while (s[i]) i = (i + 1) & (n - 1);
        s[i] = k + 1;
    }
    free(c->slots);
    c->slots = s;
    c->nslots = n;
    return 0;
}

static int plain_bytes(tp_buf *b, const char *p, size_t n) {
    uint8_t l[4] = {(uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), (uint8_t)(n >> 24)};
    if (tp_buf_append(b, l, 4) || tp_buf_append(b, p, n)) return TP_ENOMEM;
    return 0;
}

static int dict_add(pq_col *c, const char *p, size_t n) {
    if ((c->ndict + 1) * 2 > c->nslots && dict_grow(c)) return TP_ENOMEM;
    size_t i = hash_bytes(p, n) & (c->nslots - 1);
    uint32_t k;
    for (;;) {
        if (!c->slots[i]) {
            k = (uint32_t)c->ndict;
            uint32_t off = (uint32_t)c->dict_plain.len;
            if (tp_buf_append(&c->dict_off, &off, 4) || plain_bytes(&c->dict_plain, p, n)) return TP_ENOMEM;
            c->slots[i] = k + 1;
            c->ndict++;
            break;
        }
        uint32_t len;
        const uint8_t *e = dict_entry(c, c->slots[i] - 1, &len);
        if (len == n && !memcmp(e, p, n)) {
            k = c->slots[i] - 1;
            break;
        }
        i = (i + 1) & (c->nslots - 1);
    }
    return tp_buf_append(&c->indices, &k, 4) ? TP_ENOMEM : 0;
}

int tp_pq_set_str(tp_pq_writer *w, size_t col, const char *p, size_t n) {
    pq_col *c = take(w, col);
    if (!c) return TP_ESTATE;
    if (c->def.kind != TP_PQ_STRING || n > INT32_MAX) return TP_EINVAL;
    int rc = c->def.dictionary ? dict_add(c, p, n) : plain_bytes(&c->values, p, n);
    if (!rc) rc = minmax_bytes(c, p, n);
    return rc ? rc : level(c, 1);
}

int tp_pq_set_uuid(tp_pq_writer *w, size_t col, const uint8_t id[16]) {
    pq_col *c = take(w, col);
    if (!c) return TP_ESTATE;
    if (c->def.kind != TP_PQ_UUID) return TP_EINVAL;
    if (tp_buf_append(&c->values, id, 16)) return TP_ENOMEM;
    int rc = minmax_bytes(c, id, 16);
    return rc ? rc : level(c, 1);
}

int tp_pq_set_null(tp_pq_writer *w, size_t col) {
    pq_col *c = take(w, col);
    if (!c) return TP_ESTATE;
    if (!c->def.nullable) return TP_EINVAL;
    c->nulls++;
    return level(c, 0);
}

/* ---- encodings ---- */

static int put_le(tp_buf *out, uint64_t v, int nbytes) {
    uint8_t b[8];
    for (int i = 0; i < nbytes; i++) b[i] = (uint8_t)(v >> (8 * i));
    return tp_buf_append(out, b, (size_t)nbytes);
}

static int put_varint(tp_buf *out, uint64_t v) {
    uint8_t tmp[10];
    size_t n = 0;
    while (v >= 0x80) {
        tmp[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (uint8_t)v;
    return tp_buf_append(out, tmp, n);
}

static size_t run_at(const uint32_t *v, size_t n, size_t i) {
    size_t j = i + 1;
    while (j < n && v[j] == v[i]) j++;
    return j - i;
}

int tp_pq_rle_hybrid(tp_buf *out, const uint32_t *v, size_t n, int bit_width) {
    if (bit_width < 1 || bit_width > 32) return -1;
    int vbytes = (bit_width + 7) / 8;
    size_t i = 0;
    while (i < n) {
        size_t r = run_at(v, n, i);
        if (r >= 8) { /* RLE run: header count<<1, the value in vbytes LE */
            if (put_varint(out, (uint64_t)r << 1) || put_le(out, v[i], vbytes)) return -1;
            i += r;
            continue;
        }
        /* bit-packed groups of 8 until a run of 8 starts at a group edge */
        size_t start = i;
        do {
            i += 8;
        } while (i < n && run_at(v, n, i) < 8);
        size_t groups = (i - start) / 8;
        if (i > n) i = n;
        if (put_varint(out, (uint64_t)groups << 1 | 1)) return -1;
        size_t nbytes = groups * (size_t)bit_width; /* 8 values of bit_width bits each */
        if (tp_buf_reserve(out, nbytes)) return -1;
        uint8_t *p = out->p + out->len;
        memset(p, 0, nbytes);
        size_t bit = 0;
        for (size_t k = start; k < start + groups * 8; k++) {
            uint64_t x = k < n ? v[k] : 0;
            for (int b = 0; b < bit_width; b++, bit++)
                if (x >> b & 1) p[bit / 8] |= (uint8_t)(1u << (bit % 8));
        }
        out->len += nbytes;
    }
    return 0;
}

static int bits_for(uint32_t max) {
    int b = 1;
    while (b < 32 && (max >> b)) b++;
    return b;
}

/* ---- pages and chunks ---- */

/* Compress w->page into a page with its header, written out; sizes added. */
static int write_page(tp_pq_writer *w, int type, int32_t num_values, int encoding, int64_t *unc,
                      int64_t *comp, char *err, size_t errlen) {
    size_t bound = ZSTD_compressBound(w->page.len);
    tp_buf_reset(&w->comp);
    if (tp_buf_reserve(&w->comp, bound)) return tp_seterr(err, errlen, TP_ENOMEM, "parquet: out of memory");
    size_t zn = ZSTD_compressCCtx(w->zc, w->comp.p, bound, w->page.p, w->page.len, w->level);
    if (ZSTD_isError(zn)) return tp_seterr(err, errlen, TP_EIO, "parquet: zstd: %s", ZSTD_getErrorName(zn));
    w->comp.len = zn;
    tp_buf_reset(&w->hdr);
    tp_tc t;
    tp_tc_init(&t, &w->hdr);
    tp_tc_struct_begin(&t);
    tp_tc_i32_field(&t, 1, type);
    tp_tc_i32_field(&t, 2, (int32_t)w->page.len);
    tp_tc_i32_field(&t, 3, (int32_t)zn);
    if (type == PAGE_DATA) {
        tp_tc_field(&t, 5, TP_TC_STRUCT);
        tp_tc_struct_begin(&t);
        tp_tc_i32_field(&t, 1, num_values);
        tp_tc_i32_field(&t, 2, encoding);
        tp_tc_i32_field(&t, 3, ENC_RLE);
        tp_tc_i32_field(&t, 4, ENC_RLE);
        tp_tc_struct_end(&t);
    } else {
        tp_tc_field(&t, 7, TP_TC_STRUCT);
        tp_tc_struct_begin(&t);
        tp_tc_i32_field(&t, 1, num_values);
        tp_tc_i32_field(&t, 2, encoding);
        tp_tc_struct_end(&t);
    }
    tp_tc_struct_end(&t);
    if (tp_tc_failed(&t)) return tp_seterr(err, errlen, TP_ENOMEM, "parquet: out of memory");
    *unc += (int64_t)(w->hdr.len + w->page.len);
    *comp += (int64_t)(w->hdr.len + zn);
    int rc = write_out(w, w->hdr.p, w->hdr.len, err, errlen);
    return rc ? rc : write_out(w, w->comp.p, zn, err, errlen);
}

static void stat_value(const pq_col *c, int max, tp_buf *out, int *ok) {
    uint8_t b[8];
    *ok = 1;
    switch (c->def.kind) {
    case TP_PQ_BOOL:
        b[0] = (uint8_t)(max ? c->max_i : c->min_i);
        *ok = !tp_buf_append(out, b, 1);
        break;
    case TP_PQ_INT32: {
        uint32_t v = (uint32_t)(int32_t)(max ? c->max_i : c->min_i);
        for (int i = 0; i < 4; i++) b[i] = (uint8_t)(v >> (8 * i));
        *ok = !tp_buf_append(out, b, 4);
        break;
    }
    case TP_PQ_INT64:
    case TP_PQ_TIMESTAMP_MS:
        le64(b, (uint64_t)(max ? c->max_i : c->min_i));
        *ok = !tp_buf_append(out, b, 8);
        break;
    case TP_PQ_DOUBLE: {
        double d = max ? c->max_d : c->min_d;
        uint64_t bits;
        memcpy(&bits, &d, 8);
        le64(b, bits);
        *ok = !tp_buf_append(out, b, 8);
        break;
    }
    case TP_PQ_STRING:
    case TP_PQ_UUID: {
        const tp_buf *s = max ? &c->max_s : &c->min_s;
        *ok = !tp_buf_append(out, s->p, s->len);
        break;
    }
    }
}

/* One column chunk of the current row group: its pages written out, its
 * ColumnChunk struct appended to t. */
static int write_chunk(tp_pq_writer *w, pq_col *c, tp_tc *t, int64_t *rg_bytes, char *err, size_t errlen) {
    int64_t unc = 0, comp = 0;
    int64_t dict_off = -1;
    int64_t chunk_start = (int64_t)w->offset;
    int rc;
    if (c->def.dictionary) {
        dict_off = (int64_t)w->offset;
        tp_buf_reset(&w->page);
        if (tp_buf_append(&w->page, c->dict_plain.p, c->dict_plain.len))
            return tp_seterr(err, errlen, TP_ENOMEM, "parquet: out of memory");
        rc = write_page(w, PAGE_DICTIONARY, (int32_t)c->ndict, ENC_PLAIN, &unc, &comp, err, errlen);
        if (rc) return rc;
    }
    int64_t data_off = (int64_t)w->offset;
    tp_buf_reset(&w->page);
    int oom = 0;
    if (c->def.nullable) { /* 4-byte length, then the levels (width 1) */
        tp_buf_reset(&w->body);
        oom |= tp_pq_rle_hybrid(&w->body, (const uint32_t *)(void *)c->levels.p, w->rg_rows, 1);
        oom |= put_le(&w->page, w->body.len, 4);
        oom |= tp_buf_append(&w->page, w->body.p, w->body.len);
    }
    if (c->def.dictionary) {
        size_t n = c->indices.len / 4;
        uint8_t bw = (uint8_t)bits_for(c->ndict ? (uint32_t)c->ndict - 1 : 0);
        oom |= tp_buf_append(&w->page, &bw, 1);
        oom |= tp_pq_rle_hybrid(&w->page, (const uint32_t *)(void *)c->indices.p, n, bw);
    } else if (c->def.kind == TP_PQ_BOOL) { /* PLAIN booleans: bit-packed, LSB first */
        size_t n = c->values.len, nb = (n + 7) / 8;
        if (!tp_buf_reserve(&w->page, nb)) {
            uint8_t *p = w->page.p + w->page.len;
            memset(p, 0, nb);
            for (size_t i = 0; i < n; i++)
                if (c->values.p[i]) p[i / 8] |= (uint8_t)(1u << (i % 8));
            w->page.len += nb;
        } else {
            oom = 1;
        }
    } else {
        oom |= tp_buf_append(&w->page, c->values.p, c->values.len);
    }
    if (oom) return tp_seterr(err, errlen, TP_ENOMEM, "parquet: out of memory");
    rc = write_page(w, PAGE_DATA, (int32_t)w->rg_rows, c->def.dictionary ? ENC_RLE_DICTIONARY : ENC_PLAIN,
                    &unc, &comp, err, errlen);
    if (rc) return rc;
    *rg_bytes += unc;

    /* ColumnChunk { 2: file_offset, 3: ColumnMetaData } */
    tp_tc_struct_begin(t);
    tp_tc_i64_field(t, 2, chunk_start);
    tp_tc_field(t, 3, TP_TC_STRUCT);
    tp_tc_struct_begin(t);
    tp_tc_i32_field(t, 1, phys_type(c->def.kind));
    tp_tc_field(t, 2, TP_TC_LIST);
    if (c->def.dictionary) {
        tp_tc_list(t, TP_TC_I32, 3);
        tp_tc_zigzag(t, ENC_PLAIN);
        tp_tc_zigzag(t, ENC_RLE);
        tp_tc_zigzag(t, ENC_RLE_DICTIONARY);
    } else {
        tp_tc_list(t, TP_TC_I32, 2);
        tp_tc_zigzag(t, ENC_PLAIN);
        tp_tc_zigzag(t, ENC_RLE);
    }
    tp_tc_field(t, 3, TP_TC_LIST);
    tp_tc_list(t, TP_TC_BINARY, 1);
    tp_tc_binary(t, c->def.name, strlen(c->def.name));
    tp_tc_i32_field(t, 4, CODEC_ZSTD);
    tp_tc_i64_field(t, 5, (int64_t)w->rg_rows);
    tp_tc_i64_field(t, 6, unc);
    tp_tc_i64_field(t, 7, comp);
    tp_tc_i64_field(t, 9, data_off);
    if (dict_off >= 0) tp_tc_i64_field(t, 11, dict_off);
    /* 12: Statistics */
    tp_tc_field(t, 12, TP_TC_STRUCT);
    tp_tc_struct_begin(t);
    int ok = 1, ok2 = 1;
    int legacy = c->def.kind != TP_PQ_STRING && c->def.kind != TP_PQ_UUID;
    if (c->has_minmax && legacy) { /* 1: max, 2: min (signed order = type order here) */
        tp_buf_reset(&w->body);
        stat_value(c, 1, &w->body, &ok);
        tp_tc_binary_field(t, 1, w->body.p, w->body.len);
        tp_buf_reset(&w->body);
        stat_value(c, 0, &w->body, &ok2);
        tp_tc_binary_field(t, 2, w->body.p, w->body.len);
    }
    tp_tc_i64_field(t, 3, c->nulls);
    if (c->has_minmax) { /* 5: max_value, 6: min_value */
        tp_buf_reset(&w->body);
        stat_value(c, 1, &w->body, &ok);
        tp_tc_binary_field(t, 5, w->body.p, w->body.len);
        tp_buf_reset(&w->body);
        stat_value(c, 0, &w->body, &ok2);
        tp_tc_binary_field(t, 6, w->body.p, w->body.len);
    }
    tp_tc_struct_end(t);
    tp_tc_struct_end(t); /* ColumnMetaData */
    tp_tc_struct_end(t); /* ColumnChunk */
    if (!ok || !ok2) return tp_seterr(err, errlen, TP_ENOMEM, "parquet: out of memory");
    return 0;
}

static int flush_row_group(tp_pq_writer *w, char *err, size_t errlen) {
    if (!w->rg_rows) return 0;
    int64_t start = (int64_t)w->offset, bytes = 0;
    tp_buf chunks = {0};
    tp_tc t;
    tp_tc_init(&t, &chunks);
    /* RowGroup { 1: columns, 2: total_byte_size, 3: num_rows, 5: file_offset,
     * 6: total_compressed_size } */
    tp_tc_struct_begin(&t);
    tp_tc_field(&t, 1, TP_TC_LIST);
    tp_tc_list(&t, TP_TC_STRUCT, (uint32_t)w->ncols);
    for (size_t i = 0; i < w->ncols; i++) {
        int rc = write_chunk(w, &w->cols[i], &t, &bytes, err, errlen);
        if (rc) {
            tp_buf_free(&chunks);
            w->failed = 1;
            return rc;
        }
    }
    tp_tc_i64_field(&t, 2, bytes);
    tp_tc_i64_field(&t, 3, (int64_t)w->rg_rows);
    tp_tc_i64_field(&t, 5, start);
    tp_tc_i64_field(&t, 6, (int64_t)w->offset - start);
    tp_tc_struct_end(&t);
    int oom = tp_tc_failed(&t) || tp_buf_append(&w->rowgroups, chunks.p, chunks.len);
    tp_buf_free(&chunks);
    if (oom) {
        w->failed = 1;
        return tp_seterr(err, errlen, TP_ENOMEM, "parquet: out of memory");
    }
    w->nrowgroups++;
    w->rg_rows = 0;
    for (size_t i = 0; i < w->ncols; i++) col_reset(&w->cols[i]);
    return 0;
}

int tp_pq_end_row(tp_pq_writer *w, char *err, size_t errlen) {
    if (w->failed) return tp_seterr(err, errlen, TP_ESTATE, "parquet: the writer failed before");
    for (size_t i = 0; i < w->ncols; i++)
        if (!w->cols[i].set)
            return tp_seterr(err, errlen, TP_ESTATE, "parquet: row %llu has no value for column %s",
                             (unsigned long long)w->rows, w->cols[i].def.name);
    for (size_t i = 0; i < w->ncols; i++) w->cols[i].set = 0;
    w->rows++;
    if (++w->rg_rows >= w->rg_rows_max) return flush_row_group(w, err, errlen);
    return 0;
}

static void schema_element(tp_tc *t, const tp_pq_column *c) {
    tp_tc_struct_begin(t);
    tp_tc_i32_field(t, 1, phys_type(c->kind));
    if (c->kind == TP_PQ_UUID) tp_tc_i32_field(t, 2, 16);
    tp_tc_i32_field(t, 3, c->nullable ? 1 : 0);
    tp_tc_binary_field(t, 4, c->name, strlen(c->name));
    if (c->kind == TP_PQ_STRING) tp_tc_i32_field(t, 6, CT_UTF8);
    if (c->kind == TP_PQ_TIMESTAMP_MS) tp_tc_i32_field(t, 6, CT_TIMESTAMP_MILLIS);
    if (c->kind == TP_PQ_STRING || c->kind == TP_PQ_UUID || c->kind == TP_PQ_TIMESTAMP_MS) {
        tp_tc_field(t, 10, TP_TC_STRUCT); /* LogicalType */
        tp_tc_struct_begin(t);
        if (c->kind == TP_PQ_STRING) tp_tc_empty_struct_field(t, 1);
        if (c->kind == TP_PQ_UUID) tp_tc_empty_struct_field(t, 14);
        if (c->kind == TP_PQ_TIMESTAMP_MS) {
            tp_tc_field(t, 8, TP_TC_STRUCT);
            tp_tc_struct_begin(t);
            tp_tc_bool_field(t, 1, 1); /* isAdjustedToUTC */
            tp_tc_field(t, 2, TP_TC_STRUCT);
            tp_tc_struct_begin(t);
            tp_tc_empty_struct_field(t, 1); /* MILLIS */
            tp_tc_struct_end(t);
            tp_tc_struct_end(t);
        }
        tp_tc_struct_end(t);
    }
    tp_tc_struct_end(t);
}

int tp_pq_close(tp_pq_writer *w, char *err, size_t errlen) {
    int rc = 0;
    if (w->failed) rc = tp_seterr(err, errlen, TP_ESTATE, "parquet: the writer failed before");
    for (size_t i = 0; !rc && i < w->ncols; i++)
        if (w->cols[i].set) rc = tp_seterr(err, errlen, TP_ESTATE, "parquet: close in the middle of a row");
    if (!rc) rc = flush_row_group(w, err, errlen);
    tp_buf meta = {0};
    if (!rc) {
        tp_tc t;
        tp_tc_init(&t, &meta);
        tp_tc_struct_begin(&t);
        tp_tc_i32_field(&t, 1, 1); /* version */
        tp_tc_field(&t, 2, TP_TC_LIST);
        tp_tc_list(&t, TP_TC_STRUCT, (uint32_t)w->ncols + 1);
        tp_tc_struct_begin(&t); /* the root */
        tp_tc_binary_field(&t, 4, "schema", 6);
        tp_tc_i32_field(&t, 5, (int32_t)w->ncols);
        tp_tc_struct_end(&t);
        for (size_t i = 0; i < w->ncols; i++) schema_element(&t, &w->cols[i].def);
        tp_tc_i64_field(&t, 3, (int64_t)w->rows);
        tp_tc_field(&t, 4, TP_TC_LIST);
        tp_tc_list(&t, TP_TC_STRUCT, w->nrowgroups);
        if (!tp_tc_failed(&t) && tp_buf_append(&meta, w->rowgroups.p, w->rowgroups.len)) t.failed = 1;
        tp_tc_binary_field(&t, 6, w->created_by, strlen(w->created_by));
        tp_tc_field(&t, 7, TP_TC_LIST); /* column_orders: TYPE_ORDER each */
        tp_tc_list(&t, TP_TC_STRUCT, (uint32_t)w->ncols);
        for (size_t i = 0; i < w->ncols; i++) {
            tp_tc_struct_begin(&t);
            tp_tc_empty_struct_field(&t, 1);
            tp_tc_struct_end(&t);
        }
        tp_tc_struct_end(&t);
        if (tp_tc_failed(&t) || put_le(&meta, meta.len, 4) || tp_buf_append(&meta, "PAR1", 4))
            rc = tp_seterr(err, errlen, TP_ENOMEM, "parquet: out of memory");
    }
    if (!rc) rc = write_out(w, meta.p, meta.len, err, errlen);
    if (!rc && fflush(w->f)) rc = tp_seterr(err, errlen, TP_EIO, "parquet: write: %s", strerror(errno));
    tp_buf_free(&meta);
    tp_pq_free(w);
    return rc;
}
