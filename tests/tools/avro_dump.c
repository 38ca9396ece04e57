/* avro_dump.c - feed tickpipe's Avro bytes to independent decoders.
 *
 *   avro_dump write DIR
 *       For every fixture message (tests/lib/avro_fixtures.h, plus the
 *       values the JSON feed produces: exponent-form prices, v = 0), write
 *       DIR/NAME.avro (tp_avro_encode's bytes) and DIR/NAME.want.json (the
 *       input values, exact: strings as hex bytes, doubles as their 64 bits
 *       in hex).
 *   avro_dump avroc SCHEMA FILE.avro...
 *       Decode each file with avro-c's generic reader and the schema file
 *       given (the reference schema, not the one built into tickpipe) and
 *       print one JSON line per file in the .want.json format, so a test
 *       can compare avro-c's view with the input field by field.
 *
 * tests/integration/produce_avro_oracles.sh runs both and decodes the same
 * files with Python's avro package. */
#include "codec/avro_trades.h"
#include "core/buf.h"

#include "../lib/avro_fixtures.h"

#include <avro.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put_hex(FILE *f, const void *p, size_t n) {
    const uint8_t *b = p;
    fputc('"', f);
    for (size_t i = 0; i < n; i++) fprintf(f, "%02x", b[i]);
    fputc('"', f);
}

static void put_double(FILE *f, double d) {
    uint64_t u;
    memcpy(&u, &d, 8);
    fprintf(f, "\"%016llx\"", (unsigned long long)u);
}

static void put_trade(FILE *f, const tp_trade *t) {
    fputs("{\"s\":", f);
    put_hex(f, t->symbol.ptr, t->symbol.len);
    fputs(",\"p\":", f);
    put_double(f, t->price);
    fprintf(f, ",\"t\":%lld,\"v\":", (long long)t->ts_ms);
    put_double(f, t->volume);
    fputs(",\"c\":", f);
    if (t->ncond == TP_COND_NULL) {
        fputs("null", f);
    } else {
        fputc('[', f);
        for (int32_t k = 0; k < t->ncond; k++) {
            if (k) fputc(',', f);
            if (!t->cond[k].ptr)
                fputs("null", f);
            else
                put_hex(f, t->cond[k].ptr, t->cond[k].len);
        }
        fputc(']', f);
    }
    fputc('}', f);
}

static void put_message(FILE *f, const char *type, size_t typelen, const tp_trade *t, size_t n) {
    fputs("{\"type\":", f);
    put_hex(f, type, typelen);
    fputs(",\"data\":[", f);
    for (size_t i = 0; i < n; i++) {
        if (i) fputc(',', f);
        put_trade(f, &t[i]);
    }
    fputs("]}\n", f);
}

static int write_one(const char *dir, const char *name, const char *type, const tp_trade *t, size_t n) {
    tp_buf b = {0};
    if (tp_avro_encode(t, NULL, n, type, &b)) {
        fprintf(stderr, "avro_dump: cannot encode %s\n", name);
        return 1;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.avro", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b.p, 1, b.len, f) != b.len || fclose(f)) {
        perror(path);
        return 1;
    }
    snprintf(path, sizeof path, "%s/%s.want.json", dir, name);
    f = fopen(path, "w");
    if (!f) {
        perror(path);
        return 1;
    }
    put_message(f, type, strlen(type), t, n);
    if (fclose(f)) return 1;
    tp_buf_free(&b);
    return 0;
}

/* Values as the JSON feed yields them: prices written in exponent form,
 * forex price updates with v = 0, every shape of c in one message. */
static const tp_str feed_cond[] = {S("1"), S("12")};
static const tp_trade feed_trades[] = {
    TR(S("BINANCE:BTCUSDT"), 4.23456789e4, 1700000000123, 1.5e-7, 0, NULL),
    TR(S("OANDA:EUR_USD"), 1.0855e0, 1700000000124, 0, TP_COND_NULL, NULL),
    TR(S("AAPL"), 1.895E+2, 1700000000125, 1e2, 2, feed_cond),
    TR(S("\xc3\x9c"
         "BER"),
       3.3e-5, 1700000000126, 2.5e+3, 1, fx_cond_b),
};

static int cmd_write(const char *dir) {
    int rc = 0;
    for (size_t i = 0; i < FX_NMSGS; i++)
        rc |= write_one(dir, fx_msgs[i].name, fx_msgs[i].type, fx_msgs[i].trades, fx_msgs[i].n);
    rc |= write_one(dir, "feed_values", "trade", feed_trades, sizeof feed_trades / sizeof feed_trades[0]);
    tp_batch big;
    tp_batch_init(&big);
    fx_big_batch(&big, 500, 42);
    rc |= write_one(dir, "big_500", "trade", big.trades, big.n);
    tp_batch_free(&big);
    return rc;
}

static int get_str(avro_value_t *v, tp_batch *b, tp_str *out) {
    const char *s;
    size_t sz;
    if (avro_value_get_string(v, &s, &sz)) return -1;
    /* avro-c counts the NUL terminator it adds */
    out->len = (uint32_t)(sz ? sz - 1 : 0);
    out->ptr = tp_batch_strdup(b, s, out->len);
    return 0;
}

static int avroc_one(avro_value_iface_t *iface, const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 1;
    }
    static char buf[1 << 20];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    avro_value_t v;
    if (avro_generic_value_new(iface, &v)) return 1;
    avro_reader_t r = avro_reader_memory(buf, (int64_t)len);
    if (avro_value_read(r, &v)) {
        fprintf(stderr, "avro_dump: avro-c cannot read %s: %s\n", path, avro_strerror());
        return 1;
    }
    char extra;
    if (avro_read(r, &extra, 1) == 0) {
        fprintf(stderr, "avro_dump: %s has bytes after the message\n", path);
        return 1;
    }
    avro_reader_free(r);
    tp_batch b;
    tp_batch_init(&b);
    avro_value_t data, typev, rec, fv, br, item, ib;
    tp_str type;
    size_t n = 0;
    int bad = avro_value_get_by_name(&v, "data", &data, NULL) ||
              avro_value_get_by_name(&v, "type", &typev, NULL) || get_str(&typev, &b, &type) ||
              avro_value_get_size(&data, &n);
    for (size_t i = 0; !bad && i < n; i++) {
        tp_trade *t = tp_batch_add(&b);
        bad = !t || avro_value_get_by_index(&data, i, &rec, NULL) ||
              avro_value_get_by_name(&rec, "s", &fv, NULL) || get_str(&fv, &b, &t->symbol) ||
              avro_value_get_by_name(&rec, "p", &fv, NULL) || avro_value_get_double(&fv, &t->price) ||
              avro_value_get_by_name(&rec, "v", &fv, NULL) || avro_value_get_double(&fv, &t->volume) ||
              avro_value_get_by_name(&rec, "t", &fv, NULL) || avro_value_get_long(&fv, &t->ts_ms) ||
              avro_value_get_by_name(&rec, "c", &fv, NULL) || avro_value_get_current_branch(&fv, &br);
        if (bad) break;
        if (avro_value_get_type(&br) == AVRO_NULL) {
            t->ncond = TP_COND_NULL;
            continue;
        }
        size_t nc = 0;
        bad = avro_value_get_size(&br, &nc);
        tp_str *c = tp_batch_alloc(&b, sizeof(tp_str) * (nc ? nc : 1));
        for (size_t k = 0; !bad && k < nc; k++) {
            bad = avro_value_get_by_index(&br, k, &item, NULL) || avro_value_get_current_branch(&item, &ib);
            if (bad) break;
            if (avro_value_get_type(&ib) == AVRO_NULL)
                c[k] = (tp_str){NULL, 0};
            else
                bad = get_str(&ib, &b, &c[k]);
        }
        t->ncond = (int32_t)nc;
        t->cond = c;
    }
    if (bad) {
        fprintf(stderr, "avro_dump: unexpected shape in %s: %s\n", path, avro_strerror());
    } else {
        put_message(stdout, type.ptr, type.len, b.trades, b.n);
    }
    tp_batch_free(&b);
    avro_value_decref(&v);
    return bad;
}

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "write")) return cmd_write(argv[2]);
    if (argc >= 4 && !strcmp(argv[1], "avroc")) {
        avro_schema_t schema;
        FILE *f = fopen(argv[2], "r");
        static char js[65536];
        size_t jl = f ? fread(js, 1, sizeof js - 1, f) : 0;
        if (f) fclose(f);
        if (!jl || avro_schema_from_json_length(js, jl, &schema)) {
            fprintf(stderr, "avro_dump: cannot parse schema %s: %s\n", argv[2], avro_strerror());
            return 1;
        }
        avro_value_iface_t *iface = avro_generic_class_from_schema(schema);
        int rc = 0;
        for (int i = 3; i < argc; i++) rc |= avroc_one(iface, argv[i]);
        avro_value_iface_decref(iface);
        avro_schema_decref(schema);
        return rc;
    }
    fprintf(stderr, "usage: avro_dump write DIR | avro_dump avroc SCHEMA FILE.avro...\n");
    return 2;
}
