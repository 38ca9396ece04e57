/* fuzz_finnhub_json.c - differential fuzzing of the Finnhub frame parser.
 *
 * Every input is parsed by the hand-written parser and by the jansson
 * reference; any disagreement (return code, message type, text, trades
 * field by field with doubles bit for bit, batch left untouched on error)
 * aborts. Every parsed trade is then written with tp_finnhub_trade_json,
 * wrapped in a frame and parsed again: it must come back identical, and the
 * line must be valid JSON to jansson with the same values. */
#include "../tests/lib/finnhub_compare.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

__attribute__((noreturn)) static void die(const char *what, const char *detail) {
    fprintf(stderr, "fuzz_finnhub_json: %s: %s\n", what, detail ? detail : "");
    abort();
}

static void check_line_with_jansson(const tp_trade *t, const char *line, int n) {
    json_error_t je;
    json_t *o = json_loadb(line, (size_t)n, 0, &je);
    if (!o) die("trade line is not JSON to jansson", je.text);
    json_t *s = json_object_get(o, "s"), *p = json_object_get(o, "p"), *ts = json_object_get(o, "t"),
           *v = json_object_get(o, "v"), *c = json_object_get(o, "c");
    if (!json_is_string(s) || json_string_length(s) != t->symbol.len ||
        memcmp(json_string_value(s), t->symbol.ptr, t->symbol.len))
        die("line: s differs", line);
    if (!json_is_real(p) || !tp_cmp_double(json_real_value(p), t->price)) die("line: p differs", line);
    if (!json_is_real(v) || !tp_cmp_double(json_real_value(v), t->volume)) die("line: v differs", line);
    if (!json_is_integer(ts) || json_integer_value(ts) != t->ts_ms) die("line: t differs", line);
    if (t->ncond == TP_COND_NULL) {
        if (!json_is_null(c)) die("line: c should be null", line);
    } else {
        if (!json_is_array(c) || json_array_size(c) != (size_t)t->ncond) die("line: c differs", line);
        for (int32_t i = 0; i < t->ncond; i++) {
            json_t *it = json_array_get(c, (size_t)i);
            if (!t->cond[i].ptr) {
                if (!json_is_null(it)) die("line: c item should be null", line);
            } else if (!json_is_string(it) || json_string_length(it) != t->cond[i].len ||
                       memcmp(json_string_value(it), t->cond[i].ptr, t->cond[i].len)) {
                die("line: c item differs", line);
            }
        }
    }
    json_decref(o);
}

static void round_trip(const tp_trade *t) {
    static char frame[1 << 20];
    static const char head[] = "{\"type\":\"trade\",\"data\":[";
    size_t h = sizeof head - 1;
    memcpy(frame, head, h);
    int n = tp_finnhub_trade_json(t, frame + h, sizeof frame - h - 3);
    if (n < 0) die("trade_json failed", NULL);
    check_line_with_jansson(t, frame + h, n);
    memcpy(frame + h + (size_t)n, "]}", 3);
    tp_batch b;
    tp_batch_init(&b);
    tp_msg_info info;
    char err[256];
    int rc = tp_finnhub_parse(frame, h + (size_t)n + 2, &b, &info, err, sizeof err);
    if (rc || info.ntrades != 1) die("written trade does not parse back", err);
    const char *f = tp_cmp_trade(&b.trades[0], t);
    if (f) die("written trade parses back different", f);
    /* Too small buffers must fail cleanly, never overflow. */
    char small[16];
    if (n >= (int)sizeof small && tp_finnhub_trade_json(t, small, sizeof small) != -1)
        die("trade_json ignored the buffer size", NULL);
    tp_batch_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tp_batch bh, br;
    tp_batch_init(&bh);
    tp_batch_init(&br);
    /* Small arena blocks so rewinds across blocks get exercised. */
    bh.arena.block_size = 256;
    br.arena.block_size = 256;
    /* Something already in the batch that a rejected frame must not touch. */
    static const char pre[] =
        "{\"type\":\"trade\",\"data\":[{\"s\":\"PRE\",\"p\":1,\"t\":2,\"v\":3,\"c\":[\"x\"]}]}";
    tp_msg_info info;
    if (tp_finnhub_parse(pre, sizeof pre - 1, &bh, &info, NULL, 0) ||
        tp_finnhub_parse_ref(pre, sizeof pre - 1, &br, &info, NULL, 0))
        die("preload frame rejected", NULL);
    tp_parse_result rh, rr;
    char why[600];
    const char *diff = tp_finnhub_compare((const char *)data, size, &bh, &br, &rh, &rr, why, sizeof why);
    if (diff) die("parsers disagree", diff);
    for (size_t i = 1; i < bh.n; i++) round_trip(&bh.trades[i]);
    tp_batch_free(&bh);
    tp_batch_free(&br);
    return 0;
}
