/* rowfmt.c - see rowfmt.h. The encoder is hand-written because it runs on
 * the write path for every trade; the decoder uses jansson (query path). */
#include "sink/rowfmt.h"

#include "core/hex.h"
#include "core/json_str.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

int tp_cond_json(tp_buf *b, const tp_trade *t) {
    if (t->ncond == TP_COND_NULL) return 0;
    if (tp_buf_append(b, "[", 1)) return -1;
    for (int32_t i = 0; i < t->ncond; i++) {
        if (i && tp_buf_append(b, ",", 1)) return -1;
        const tp_str *c = &t->cond[i];
        if (!c->ptr) {
            if (tp_buf_append(b, "null", 4)) return -1;
            continue;
        }
        if (tp_buf_append(b, "\"", 1) || tp_json_escape(b, c->ptr, c->len) || tp_buf_append(b, "\"", 1))
            return -1;
    }
    return tp_buf_append(b, "]", 1);
}

int tp_uuid_parse(const char *s, size_t len, uint8_t out[16]) {
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '-') continue;
        if (o >= 32 || i + 1 >= len) return -1;
        int hi = tp_hex_digit((unsigned char)s[i]), lo = tp_hex_digit((unsigned char)s[i + 1]);
        if (hi < 0 || lo < 0) return -1;
        out[o / 2] = (uint8_t)(hi << 4 | lo);
        o += 2;
        i++;
    }
    return o == 32 ? 0 : -1;
}

int tp_cond_decode(tp_cond_decoder *d, const char *json, size_t len, tp_trade *t) {
    t->cond = NULL;
    if (!json) {
        t->ncond = TP_COND_NULL;
        return 0;
    }
    json_error_t je;
    json_t *arr = json_loadb(json, len, JSON_ALLOW_NUL, &je);
    if (!arr || !json_is_array(arr)) {
        json_decref(arr);
        return -1;
    }
    size_t n = json_array_size(arr);
    if (n > d->cap) {
        tp_str *p = realloc(d->items, n * sizeof *p);
        if (!p) {
            json_decref(arr);
            return -1;
        }
        d->items = p;
        d->cap = n;
    }
    /* Copy the strings into one buffer first, then point into it: the
     * buffer may move while it grows. */
    tp_buf_reset(&d->text);
    size_t off[64], *offs = n <= 64 ? off : malloc(n * sizeof *offs);
    int rc = offs ? 0 : -1;
    for (size_t i = 0; !rc && i < n; i++) {
        json_t *v = json_array_get(arr, i);
        if (json_is_null(v)) {
            offs[i] = SIZE_MAX;
            d->items[i].len = 0;
        } else if (json_is_string(v)) {
            offs[i] = d->text.len;
            d->items[i].len = (uint32_t)json_string_length(v);
            if (tp_buf_append(&d->text, json_string_value(v), json_string_length(v))) rc = -1;
        } else {
            rc = -1;
        }
    }
    for (size_t i = 0; !rc && i < n; i++) {
        if (offs[i] == SIZE_MAX)
            d->items[i].ptr = NULL;
        else /* an empty string item is "" , never NULL */
            d->items[i].ptr = d->text.p ? (const char *)d->text.p + offs[i] : "";
    }
    if (offs != off) free(offs);
    json_decref(arr);
    if (rc) return -1;
    t->ncond = (int32_t)n;
    t->cond = d->items;
    return 0;
}

void tp_cond_decoder_free(tp_cond_decoder *d) {
    free(d->items);
    tp_buf_free(&d->text);
    memset(d, 0, sizeof *d);
}
