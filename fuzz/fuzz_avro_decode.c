/* fuzz_avro_decode.c - the hand-written Avro decoder on arbitrary bytes.
 *
 * - A rejected input leaves the batch exactly as it was (count and arena).
 * - An accepted input is also read by avro-c's generic reader with the same
 *   schema: avro-c must accept it, consume every byte and give the same
 *   values (doubles bit for bit, null and empty lists of c kept apart).
 * - Accepted trades re-encoded with tp_avro_encode decode to the same trades
 *   and type, and re-encoding that gives the same bytes again.
 * Any disagreement aborts. (avro-c is not run on inputs tickpipe rejects: it
 * trusts lengths and counts in ways a fuzzer turns into huge allocations.) */
#include "codec/avro_trades.h"
#include "core/err.h"

#include <avro.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static avro_schema_t g_schema;
static avro_value_iface_t *g_iface;

__attribute__((noreturn)) static void die(const char *what) {
    fprintf(stderr, "fuzz_avro_decode: %s\n", what);
    abort();
}

static int same_str(tp_str a, const char *s, size_t n) {
    return a.ptr && a.len == n && (n == 0 || memcmp(a.ptr, s, n) == 0);
}

static int same_double(double a, double b) {
    return memcmp(&a, &b, sizeof a) == 0;
}

static int same_trade(const tp_trade *a, const tp_trade *b) {
    if (a->symbol.len != b->symbol.len || memcmp(a->symbol.ptr, b->symbol.ptr, a->symbol.len)) return 0;
    if (!same_double(a->price, b->price) || !same_double(a->volume, b->volume) || a->ts_ms != b->ts_ms)
        return 0;
    if (a->ncond != b->ncond) return 0;
    for (int32_t k = 0; k < a->ncond; k++) {
        if ((a->cond[k].ptr == NULL) != (b->cond[k].ptr == NULL)) return 0;
        if (a->cond[k].ptr && !same_str(a->cond[k], b->cond[k].ptr, b->cond[k].len)) return 0;
    }
    return 1;
}

/* avro-c must read exactly what tickpipe read. */
static void check_with_avroc(const uint8_t *buf, size_t len, const tp_batch *b, const char *type) {
    if (!g_iface) {
        if (avro_schema_from_json_length(tp_avro_schema_json, strlen(tp_avro_schema_json), &g_schema))
            die("avro-c cannot parse the schema");
        g_iface = avro_generic_class_from_schema(g_schema);
        if (!g_iface) die("avro-c generic class");
    }
    avro_value_t v;
    if (avro_generic_value_new(g_iface, &v)) die("avro-c value");
    avro_reader_t r = avro_reader_memory((const char *)buf, (int64_t)len);
    if (avro_value_read(r, &v)) die("avro-c rejects a message tickpipe accepted");
    char extra;
    if (avro_read(r, &extra, 1) == 0) die("avro-c left bytes tickpipe consumed");
    avro_reader_free(r);
    avro_value_t data, typev, rec, f, br, item, ib;
    const char *s;
    size_t sz, n;
    if (avro_value_get_by_name(&v, "data", &data, NULL) || avro_value_get_by_name(&v, "type", &typev, NULL) ||
        avro_value_get_string(&typev, &s, &sz) || avro_value_get_size(&data, &n))
        die("avro-c value shape");
    if (memcmp(s, type, sz - 1) != 0 || type[sz - 1] != '\0') die("type differs from avro-c");
    if (n != b->n) die("trade count differs from avro-c");
    for (size_t i = 0; i < n; i++) {
        const tp_trade *t = &b->trades[i];
        double d;
        int64_t l;
        int disc;
        if (avro_value_get_by_index(&data, i, &rec, NULL)) die("avro-c record");
        if (avro_value_get_by_name(&rec, "s", &f, NULL) || avro_value_get_string(&f, &s, &sz) ||
            !same_str(t->symbol, s, sz - 1))
            die("s differs from avro-c");
        if (avro_value_get_by_name(&rec, "p", &f, NULL) || avro_value_get_double(&f, &d) ||
            !same_double(d, t->price))
            die("p differs from avro-c");
        if (avro_value_get_by_name(&rec, "v", &f, NULL) || avro_value_get_double(&f, &d) ||
            !same_double(d, t->volume))
            die("v differs from avro-c");
        if (avro_value_get_by_name(&rec, "t", &f, NULL) || avro_value_get_long(&f, &l) || l != t->ts_ms)
            die("t differs from avro-c");
        if (avro_value_get_by_name(&rec, "c", &f, NULL) || avro_value_get_discriminant(&f, &disc) ||
            avro_value_get_current_branch(&f, &br))
            die("avro-c c");
        if (disc == 1) {
            if (t->ncond != TP_COND_NULL) die("c null differs from avro-c");
            continue;
        }
        size_t nc;
        if (avro_value_get_size(&br, &nc) || t->ncond < 0 || nc != (size_t)t->ncond) die("c size differs");
        for (size_t k = 0; k < nc; k++) {
            if (avro_value_get_by_index(&br, k, &item, NULL) || avro_value_get_discriminant(&item, &disc) ||
                avro_value_get_current_branch(&item, &ib))
                die("avro-c c item");
            if (disc == 0) {
                if (t->cond[k].ptr) die("c item null differs from avro-c");
            } else if (avro_value_get_string(&ib, &s, &sz) || !same_str(t->cond[k], s, sz - 1)) {
                die("c item differs from avro-c");
            }
        }
    }
    avro_value_decref(&v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char type[70000], type2[70000];
    tp_batch b;
    tp_batch_init(&b);
    b.arena.block_size = 256;
    b.max_trades = 100000;
    /* Something already in the batch that a rejected message must not touch. */
    static const uint8_t pre[] = {2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 2, 'X', 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 'x'};
    char err[256];
    if (tp_avro_decode(pre, sizeof pre, &b, type, sizeof type, err, sizeof err)) die(err);
    tp_batch_mark m0 = tp_batch_get_mark(&b);
    int rc = tp_avro_decode(data, size, &b, type, sizeof type, err, sizeof err);
    if (rc) {
        tp_batch_mark m1 = tp_batch_get_mark(&b);
        if (m1.n != m0.n || m1.head != m0.head || m1.used != m0.used)
            die("rejected message changed the batch");
        if (!err[0]) die("error without a message");
        tp_batch_free(&b);
        return 0;
    }
    /* Only the new trades, in a batch of their own, for avro-c. */
    tp_batch nb;
    tp_batch_init(&nb);
    for (size_t i = m0.n; i < b.n; i++)
        if (!tp_batch_copy_trade(&nb, &b.trades[i])) die("copy");
    check_with_avroc(data, size, &nb, type);

    tp_buf e1 = {0}, e2 = {0};
    if (tp_avro_encode(nb.trades, NULL, nb.n, type, &e1)) die("encode");
    tp_batch rb;
    tp_batch_init(&rb);
    if (tp_avro_decode(e1.p, e1.len, &rb, type2, sizeof type2, err, sizeof err))
        die("re-encoded message rejected");
    if (strcmp(type, type2) != 0 || rb.n != nb.n) die("re-encoded message differs");
    for (size_t i = 0; i < nb.n; i++)
        if (!same_trade(&rb.trades[i], &nb.trades[i])) die("re-encoded trade differs");
    if (tp_avro_encode(rb.trades, NULL, rb.n, type2, &e2)) die("encode 2");
    if (e1.len != e2.len || memcmp(e1.p, e2.p, e1.len)) die("encoding is not stable");
    tp_buf_free(&e1);
    tp_buf_free(&e2);
    tp_batch_free(&rb);
    tp_batch_free(&nb);
    tp_batch_free(&b);
    return 0;
}
