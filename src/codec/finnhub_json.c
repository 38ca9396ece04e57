/* finnhub_json.c - Finnhub frame parser (placeholder: delegates to the
 * jansson reference until the allocation-free tokenizer lands). */
#include "codec/finnhub_json.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

int tp_finnhub_parse(const char *frame, size_t len, tp_batch *out, tp_msg_info *info, char *err,
                     size_t errlen) {
    return tp_finnhub_parse_ref(frame, len, out, info, err, errlen);
}

int tp_finnhub_trade_json(const tp_trade *t, char *out, size_t outlen) {
    json_t *o = json_object();
    json_object_set_new(o, "s", json_stringn(t->symbol.ptr, t->symbol.len));
    json_object_set_new(o, "p", json_real(t->price));
    json_object_set_new(o, "t", json_integer(t->ts_ms));
    json_object_set_new(o, "v", json_real(t->volume));
    if (t->ncond == TP_COND_NULL) {
        json_object_set_new(o, "c", json_null());
    } else {
        json_t *c = json_array();
        for (int32_t i = 0; i < t->ncond; i++)
            json_array_append_new(c, t->cond[i].ptr ? json_stringn(t->cond[i].ptr, t->cond[i].len)
                                                    : json_null());
        json_object_set_new(o, "c", c);
    }
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    json_decref(o);
    if (!s) return -1;
    size_t n = strlen(s);
    if (n + 1 > outlen) {
        free(s);
        return -1;
    }
    memcpy(out, s, n + 1);
    free(s);
    return (int)n;
}
