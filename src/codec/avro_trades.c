/* avro_trades.c - Avro binary encoding of FinnhubProducer.message.
 *
 * The schema is fixed (schemas/trades.avsc, checked with avro-c at start by
 * tp_avro_schema_check), so the encoder and decoder are written out by hand
 * for it instead of walking avro-c's generic values: one size pass, one
 * reserve, one write pass, no allocation per trade. Layout of one message:
 *
 *   data: array block(s) of records, then a 0 count
 *     c: union index (0 = array of union[null,string], 1 = null)
 *        array: block(s) of items (union index 0 = null, 1 = string), 0
 *     p: double, 8 bytes little-endian
 *     s: string (zigzag varint length, bytes)
 *     t: long (zigzag varint)
 *     v: double
 *   type: string
 *
 * The encoder writes every array as one block (count, items, 0), or a lone
 * 0 when empty. The decoder accepts everything the Avro spec allows here,
 * including several blocks and negative block counts followed by a byte
 * size, and checks every length against the end of the input. Doubles are
 * copied bit for bit (NaN payloads and -0.0 survive a round trip). */
#include "codec/avro_trades.h"
#include "core/err.h"

#include <avro.h>
#include <stdio.h>
#include <string.h>

/* ---- schema check ---- */

static int expect_type(avro_schema_t s, avro_type_t t, const char *what, char *err, size_t errlen) {
    if (s && avro_typeof(s) == t) return 0;
    return tp_seterr(err, errlen, TP_EINVAL, "Avro schema: %s has type %s, expected another", what,
                     s ? avro_schema_type_name(s) : "(missing)");
}

static int expect_field(avro_schema_t rec, int idx, const char *name, char *err, size_t errlen) {
    const char *fn = avro_schema_record_field_name(rec, idx);
    if (fn && strcmp(fn, name) == 0) return 0;
    return tp_seterr(err, errlen, TP_EINVAL, "Avro schema: field %d of record %s is \"%s\", expected \"%s\"",
                     idx, avro_schema_name(rec), fn ? fn : "(none)", name);
}

static int check_shape(avro_schema_t root, char *err, size_t errlen) {
    int rc;
    if ((rc = expect_type(root, AVRO_RECORD, "the top level", err, errlen))) return rc;
    const char *ns = avro_schema_namespace(root);
    if (strcmp(avro_schema_name(root), "message") != 0 || !ns || strcmp(ns, "FinnhubProducer") != 0)
        return tp_seterr(err, errlen, TP_EINVAL,
                         "Avro schema: top record is %s.%s, expected FinnhubProducer.message", ns ? ns : "",
                         avro_schema_name(root));
    if (avro_schema_record_size(root) != 2)
        return tp_seterr(err, errlen, TP_EINVAL,
                         "Avro schema: message has %zu fields, expected 2 (data, type)",
                         avro_schema_record_size(root));
    if ((rc = expect_field(root, 0, "data", err, errlen)) ||
        (rc = expect_field(root, 1, "type", err, errlen)))
        return rc;
    avro_schema_t data = avro_schema_record_field_get_by_index(root, 0);
    if ((rc = expect_type(data, AVRO_ARRAY, "message.data", err, errlen))) return rc;
    avro_schema_t item = avro_schema_array_items(data);
    if ((rc = expect_type(item, AVRO_RECORD, "message.data items", err, errlen))) return rc;
    if (strcmp(avro_schema_name(item), "data") != 0)
        return tp_seterr(err, errlen, TP_EINVAL, "Avro schema: data items are record %s, expected data",
                         avro_schema_name(item));
    if ((rc = expect_type(avro_schema_record_field_get_by_index(root, 1), AVRO_STRING, "message.type", err,
                          errlen)))
        return rc;
    static const char *names[] = {"c", "p", "s", "t", "v"};
    static const avro_type_t types[] = {AVRO_UNION, AVRO_DOUBLE, AVRO_STRING, AVRO_INT64, AVRO_DOUBLE};
    if (avro_schema_record_size(item) != 5)
        return tp_seterr(err, errlen, TP_EINVAL,
                         "Avro schema: record data has %zu fields, expected 5 (c, p, s, t, v)",
                         avro_schema_record_size(item));
    for (int i = 0; i < 5; i++) {
        char what[32];
        snprintf(what, sizeof what, "data.%s", names[i]);
        if ((rc = expect_field(item, i, names[i], err, errlen)) ||
            (rc = expect_type(avro_schema_record_field_get_by_index(item, i), types[i], what, err, errlen)))
            return rc;
    }
    avro_schema_t c = avro_schema_record_field_get_by_index(item, 0);
    if (avro_schema_union_size(c) != 2)
        return tp_seterr(err, errlen, TP_EINVAL, "Avro schema: data.c must be union[array, null]");
    avro_schema_t carr = avro_schema_union_branch(c, 0);
    if ((rc = expect_type(carr, AVRO_ARRAY, "data.c branch 0", err, errlen)) ||
        (rc = expect_type(avro_schema_union_branch(c, 1), AVRO_NULL, "data.c branch 1", err, errlen)))
        return rc;
    avro_schema_t citem = avro_schema_array_items(carr);
    if ((rc = expect_type(citem, AVRO_UNION, "data.c items", err, errlen))) return rc;
    if (avro_schema_union_size(citem) != 2)
        return tp_seterr(err, errlen, TP_EINVAL, "Avro schema: data.c items must be union[null, string]");
    if ((rc = expect_type(avro_schema_union_branch(citem, 0), AVRO_NULL, "data.c item branch 0", err,
                          errlen)) ||
        (rc = expect_type(avro_schema_union_branch(citem, 1), AVRO_STRING, "data.c item branch 1", err,
                          errlen)))
        return rc;
    return 0;
}

int tp_avro_schema_check(const char *schema_json, char *err, size_t errlen) {
    avro_schema_t s = NULL;
    if (avro_schema_from_json_length(schema_json, strlen(schema_json), &s))
        return tp_seterr(err, errlen, TP_EINVAL, "Avro schema does not parse: %s", avro_strerror());
    int rc = check_shape(s, err, errlen);
    avro_schema_decref(s);
    return rc;
}

/* ---- encoder ---- */

static inline uint8_t *put_long(uint8_t *p, int64_t v) {
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    while (z >= 0x80) {
        *p++ = (uint8_t)(z | 0x80);
        z >>= 7;
    }
    *p++ = (uint8_t)z;
    return p;
}

static inline uint8_t *put_double(uint8_t *p, double d) {
    uint64_t u;
    memcpy(&u, &d, 8);
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(u >> (8 * i));
    return p + 8;
}

static inline uint8_t *put_string(uint8_t *p, const char *s, uint32_t len) {
    p = put_long(p, (int64_t)len);
    if (len) memcpy(p, s, len);
    return p + len;
}

#define VARINT_MAX 10

int tp_avro_encode(const tp_trade *trades, const uint32_t *idx, size_t n, const char *type, tp_buf *out) {
    size_t tlen = type ? strlen(type) : 0;
    /* Upper bound of the encoded size, so the write pass needs no checks. */
    size_t need = 2 * VARINT_MAX + tlen + VARINT_MAX;
    for (size_t i = 0; i < n; i++) {
        const tp_trade *t = &trades[idx ? idx[i] : i];
        need += 1 + 2 * VARINT_MAX + 16 + VARINT_MAX + t->symbol.len + VARINT_MAX;
        for (int32_t k = 0; k < t->ncond; k++) need += 1 + VARINT_MAX + t->cond[k].len;
    }
    if (tp_buf_reserve(out, need)) return TP_ENOMEM;
    uint8_t *p = out->p + out->len;
    if (n) p = put_long(p, (int64_t)n);
    for (size_t i = 0; i < n; i++) {
        const tp_trade *t = &trades[idx ? idx[i] : i];
        if (t->ncond < 0) {
            *p++ = 2; /* union branch 1: null */
        } else {
            *p++ = 0; /* union branch 0: array */
            if (t->ncond > 0) {
                p = put_long(p, t->ncond);
                for (int32_t k = 0; k < t->ncond; k++) {
                    if (!t->cond[k].ptr) {
                        *p++ = 0; /* null */
                    } else {
                        *p++ = 2; /* string */
                        p = put_string(p, t->cond[k].ptr, t->cond[k].len);
                    }
                }
            }
            *p++ = 0;
        }
        p = put_double(p, t->price);
        p = put_string(p, t->symbol.ptr, t->symbol.len);
        p = put_long(p, t->ts_ms);
        p = put_double(p, t->volume);
    }
    *p++ = 0; /* end of data */
    p = put_string(p, type, (uint32_t)tlen);
    out->len = (size_t)(p - out->p);
    return 0;
}

/* ---- decoder ---- */

typedef struct rd {
    const uint8_t *p, *start, *end;
    const char *what; /* what failed, for the error message */
} rd;

static inline int get_long(rd *r, int64_t *v) {
    uint64_t z = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end) {
            r->what = "truncated varint";
            return -1;
        }
        uint8_t b = *r->p++;
        if (shift == 63 && b > 1) break;
        z |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
            return 0;
        }
    }
    r->what = "varint longer than 64 bits";
    return -1;
}

static inline int get_double(rd *r, double *d) {
    if (r->end - r->p < 8) {
        r->what = "truncated double";
        return -1;
    }
    uint64_t u = 0;
    for (int i = 0; i < 8; i++) u |= (uint64_t)r->p[i] << (8 * i);
    memcpy(d, &u, 8);
    r->p += 8;
    return 0;
}

static inline int get_string(rd *r, const uint8_t **s, size_t *len) {
    int64_t l;
    if (get_long(r, &l)) return -1;
    if (l < 0) {
        r->what = "negative string length";
        return -1;
    }
    if ((uint64_t)l > (uint64_t)(r->end - r->p)) {
        r->what = "string runs past the end";
        return -1;
    }
    if ((uint64_t)l > UINT32_MAX) {
        r->what = "string too long";
        return -1;
    }
    *s = r->p;
    *len = (size_t)l;
    r->p += l;
    return 0;
}

/* Read an array block header: the item count (0 = end of array). A negative
 * count is followed by the block's size in bytes, which must fit. */
static inline int get_block(rd *r, int64_t *count) {
    if (get_long(r, count)) return -1;
    if (*count < 0) {
        if (*count == INT64_MIN) {
            r->what = "bad block count";
            return -1;
        }
        *count = -*count;
        int64_t bytes;
        if (get_long(r, &bytes)) return -1;
        if (bytes < 0 || (uint64_t)bytes > (uint64_t)(r->end - r->p)) {
            r->what = "bad block byte size";
            return -1;
        }
    }
    return 0;
}

/* Scan c's array without storing it, to learn its item count before
 * allocating it (the count is bounded by the bytes left, never trusted). */
static int scan_cond(rd *r, int64_t *total) {
    *total = 0;
    for (;;) {
        int64_t count;
        if (get_block(r, &count)) return -1;
        if (count == 0) return 0;
        /* every item takes at least one byte */
        if ((uint64_t)count > (uint64_t)(r->end - r->p) || *total + count > INT32_MAX) {
            r->what = "c array count past the end";
            return -1;
        }
        *total += count;
        for (int64_t k = 0; k < count; k++) {
            int64_t branch;
            const uint8_t *s;
            size_t len;
            if (get_long(r, &branch)) return -1;
            if (branch == 1) {
                if (get_string(r, &s, &len)) return -1;
            } else if (branch != 0) {
                r->what = "bad union branch for an item of c";
                return -1;
            }
        }
    }
}

static int read_cond(rd *r, tp_batch *out, tp_trade *t) {
    int64_t branch;
    if (get_long(r, &branch)) return -1;
    if (branch == 1) {
        t->ncond = TP_COND_NULL;
        return 0;
    }
    if (branch != 0) {
        r->what = "bad union branch for c";
        return -1;
    }
    int64_t total;
    rd scan = *r;
    if (scan_cond(&scan, &total)) {
        *r = scan;
        return -1;
    }
    t->ncond = (int32_t)total;
    if (total == 0) {
        *r = scan;
        return 0;
    }
    tp_str *cond = tp_batch_alloc(out, sizeof(tp_str) * (size_t)total);
    if (!cond) {
        r->what = "out of memory";
        return -1;
    }
    int64_t k = 0, count = 0;
    for (;;) {
        if (get_block(r, &count)) return -1; /* cannot fail: validated by scan_cond */
        if (count == 0) break;
        for (int64_t j = 0; j < count; j++, k++) {
            int64_t b = 0;
            if (get_long(r, &b)) return -1;
            if (b == 0) {
                cond[k].ptr = NULL;
                cond[k].len = 0;
            } else {
                const uint8_t *s = NULL;
                size_t len = 0;
                if (get_string(r, &s, &len)) return -1;
                cond[k].ptr = tp_batch_strdup(out, (const char *)s, len);
                cond[k].len = (uint32_t)len;
                if (!cond[k].ptr) {
                    r->what = "out of memory";
                    return -1;
                }
            }
        }
    }
    t->cond = cond;
    return 0;
}

static int read_trade(rd *r, tp_batch *out, tp_trade *t) {
    const uint8_t *s;
    size_t len;
    if (read_cond(r, out, t) || get_double(r, &t->price) || get_string(r, &s, &len)) return -1;
    t->symbol.ptr = tp_batch_strdup(out, (const char *)s, len);
    t->symbol.len = (uint32_t)len;
    if (!t->symbol.ptr) {
        r->what = "out of memory";
        return -1;
    }
    if (get_long(r, &t->ts_ms) || get_double(r, &t->volume)) return -1;
    return 0;
}

int tp_avro_decode(const uint8_t *buf, size_t len, tp_batch *out, char *type, size_t typelen, char *err,
                   size_t errlen) {
    rd r = {buf, buf, buf + len, NULL};
    tp_batch_mark mark = tp_batch_get_mark(out);
    int code = TP_EPARSE;
    size_t added = 0;
    for (;;) {
        int64_t count;
        if (get_block(&r, &count)) goto fail;
        if (count == 0) break;
        /* every trade takes at least 19 bytes: refuse absurd counts before looping */
        if ((uint64_t)count > (uint64_t)(r.end - r.p) / 19) {
            r.what = "data array count past the end";
            goto fail;
        }
        for (int64_t i = 0; i < count; i++) {
            if (out->max_trades && out->n >= out->max_trades) {
                r.what = "more trades than the batch's max_trades";
                goto fail;
            }
            tp_trade *t = tp_batch_add(out);
            if (!t) {
                r.what = "out of memory";
                code = TP_ENOMEM;
                goto fail;
            }
            if (read_trade(&r, out, t)) goto fail;
            added++;
        }
    }
    const uint8_t *ts;
    size_t tslen;
    if (get_string(&r, &ts, &tslen)) goto fail;
    if (r.p != r.end) {
        r.what = "trailing bytes after the message";
        goto fail;
    }
    if (type && typelen) {
        size_t k = tslen < typelen - 1 ? tslen : typelen - 1;
        memcpy(type, ts, k);
        type[k] = '\0';
    }
    return 0;
fail:
    tp_batch_rewind(out, mark);
    if (r.what && strcmp(r.what, "out of memory") == 0) code = TP_ENOMEM;
    return tp_seterr(err, errlen, code, "Avro message: %s at byte %zu (trade %zu)", r.what ? r.what : "error",
                     (size_t)(r.p - r.start), added);
}
