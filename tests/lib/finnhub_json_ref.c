/* finnhub_json_ref.c - the reference Finnhub frame parser, on jansson.
 *
 * Slow and obviously correct: it is the oracle the hand-written parser in
 * finnhub_json.c is tested and fuzzed against. Same rules as documented in
 * finnhub_json.h. One deviation from plain json_loadb: a raw NUL byte is
 * rejected up front (jansson would skip one after a number or literal). */
#include "finnhub_json_ref.h"
#include "core/err.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

static int get_number(json_t *v, double *out) {
    if (json_is_integer(v)) {
        *out = (double)json_integer_value(v);
        return 0;
    }
    if (json_is_real(v)) {
        *out = json_real_value(v);
        return 0;
    }
    return -1;
}

static int fail(tp_batch *out, tp_batch_mark n0, json_t *root, char *err, size_t errlen, const char *fmt,
                size_t i) {
    tp_batch_rewind(out, n0);
    json_decref(root);
    char msg[160];
    snprintf(msg, sizeof msg, fmt, i);
    return tp_seterr(err, errlen, TP_EPARSE, "%s", msg);
}

int tp_finnhub_parse_ref(const char *frame, size_t len, tp_batch *out, tp_msg_info *info, char *err,
                         size_t errlen) {
    json_error_t je;
    tp_batch_mark n0 = tp_batch_get_mark(out);
    memset(info, 0, sizeof(*info));
    /* jansson silently drops one NUL byte that directly follows a number or
     * a literal (its lexer's look-ahead); JSON allows NUL nowhere raw. */
    const char *nul = memchr(frame, '\0', len);
    if (nul)
        return tp_seterr(err, errlen, TP_EPARSE, "invalid JSON at byte %zu: NUL byte", (size_t)(nul - frame));
    json_t *root = json_loadb(frame, len, 0, &je);
    if (!root) return tp_seterr(err, errlen, TP_EPARSE, "invalid JSON at byte %d: %s", je.position, je.text);
    if (!json_is_object(root)) return fail(out, n0, root, err, errlen, "frame is not a JSON object", 0);
    json_t *type = json_object_get(root, "type");
    if (!json_is_string(type)) return fail(out, n0, root, err, errlen, "\"type\" missing or not a string", 0);
    const char *ts = json_string_value(type);
    size_t tslen = json_string_length(type);
    if (tslen == 4 && memcmp(ts, "ping", 4) == 0) {
        info->type = TP_MSG_PING;
        json_decref(root);
        return 0;
    }
    if (tslen == 5 && memcmp(ts, "error", 5) == 0) {
        info->type = TP_MSG_ERROR;
        json_t *msg = json_object_get(root, "msg");
        const char *m = json_is_string(msg) ? json_string_value(msg) : "";
        size_t mlen = json_is_string(msg) ? json_string_length(msg) : 0;
        info->text.ptr = tp_batch_strdup(out, m, mlen);
        info->text.len = (uint32_t)mlen;
        json_decref(root);
        return info->text.ptr ? 0 : TP_ENOMEM;
    }
    if (!(tslen == 5 && memcmp(ts, "trade", 5) == 0)) {
        info->type = TP_MSG_UNKNOWN;
        info->text.ptr = tp_batch_strdup(out, ts, tslen);
        info->text.len = (uint32_t)tslen;
        json_decref(root);
        return info->text.ptr ? 0 : TP_ENOMEM;
    }
    info->type = TP_MSG_TRADE;
    json_t *data = json_object_get(root, "data");
    if (!json_is_array(data))
        return fail(out, n0, root, err, errlen, "trade frame without a \"data\" array", 0);
    size_t i;
    json_t *item;
    json_array_foreach(data, i, item) {
        if (!json_is_object(item)) return fail(out, n0, root, err, errlen, "data[%zu] is not an object", i);
        json_t *s = json_object_get(item, "s"), *p = json_object_get(item, "p"),
               *t = json_object_get(item, "t"), *v = json_object_get(item, "v"),
               *c = json_object_get(item, "c");
        double price, vol, tsd;
        if (!json_is_string(s))
            return fail(out, n0, root, err, errlen, "data[%zu].s missing or not a string", i);
        if (get_number(p, &price))
            return fail(out, n0, root, err, errlen, "data[%zu].p missing or not a number", i);
        if (get_number(v, &vol))
            return fail(out, n0, root, err, errlen, "data[%zu].v missing or not a number", i);
        if (json_is_integer(t)) {
            tsd = 0;
        } else if (get_number(t, &tsd) || tsd != floor(tsd) || fabs(tsd) > 9.0e15) {
            return fail(out, n0, root, err, errlen, "data[%zu].t missing or not a whole number", i);
        }
        int64_t tms = json_is_integer(t) ? (int64_t)json_integer_value(t) : (int64_t)tsd;
        if (!isfinite(price) || !isfinite(vol))
            return fail(out, n0, root, err, errlen, "data[%zu] has a non-finite number", i);
        int32_t ncond = TP_COND_NULL;
        tp_str *cond = NULL;
        if (c && !json_is_null(c)) {
            if (!json_is_array(c)) return fail(out, n0, root, err, errlen, "data[%zu].c is not a list", i);
            ncond = (int32_t)json_array_size(c);
            if (ncond > 0) {
                cond = tp_batch_alloc(out, sizeof(tp_str) * (size_t)ncond);
                if (!cond) return fail(out, n0, root, err, errlen, "out of memory at data[%zu]", i);
            }
            for (int32_t k = 0; k < ncond; k++) {
                json_t *ck = json_array_get(c, (size_t)k);
                if (json_is_null(ck)) {
                    cond[k].ptr = NULL;
                    cond[k].len = 0;
                } else if (json_is_string(ck)) {
                    cond[k].len = (uint32_t)json_string_length(ck);
                    cond[k].ptr = tp_batch_strdup(out, json_string_value(ck), cond[k].len);
                    if (!cond[k].ptr)
                        return fail(out, n0, root, err, errlen, "out of memory at data[%zu]", i);
                } else {
                    return fail(out, n0, root, err, errlen, "data[%zu].c has an item that is not a string",
                                i);
                }
            }
        }
        tp_trade *tr = tp_batch_add(out);
        if (!tr) return fail(out, n0, root, err, errlen, "too many trades (limit reached at data[%zu])", i);
        tr->symbol.len = (uint32_t)json_string_length(s);
        tr->symbol.ptr = tp_batch_strdup(out, json_string_value(s), tr->symbol.len);
        if (!tr->symbol.ptr) return fail(out, n0, root, err, errlen, "out of memory at data[%zu]", i);
        tr->price = price;
        tr->volume = vol;
        tr->ts_ms = tms;
        tr->ncond = ncond;
        tr->cond = cond;
    }
    info->ntrades = out->n - n0.n;
    json_decref(root);
    return 0;
}
