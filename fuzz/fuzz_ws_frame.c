/* fuzz_ws_frame.c - the feed's WebSocket client decoder (feed/ws_frame.h)
 * on arbitrary bytes from a "server", and the check of the upgrade answer.
 * The first input byte picks the piece size; the rest is decoded once
 * whole and once in pieces, and both runs must give the same events (the
 * same reassembled messages, control frames and outcome): a decoder that
 * depends on where reads split the stream is wrong. A data piece must
 * point inside the input, and a control frame is at most 125 bytes. */
#include "core/err.h"
#include "feed/ws_frame.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct events {
    const uint8_t *base;
    size_t len;
    uint64_t hash; /* of every event in order, reassembled */
    size_t data;   /* data payload bytes handed on */
} events;

static void mix(events *e, const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) e->hash = (e->hash ^ p[i]) * 0x100000001B3ULL;
}

static int on_data(void *ud, int op, const uint8_t *p, size_t n, int last) {
    events *e = ud;
    if (n && (p < e->base || p + n > e->base + e->len)) abort();
    if (op != TP_WS_TEXT && op != TP_WS_BINARY) abort();
    e->data += n;
    if (e->data > e->len) abort();
    mix(e, p, n); /* pieces may split differently: hash the bytes, not the pieces */
    if (last) {
        uint8_t m[2] = {0xFF, (uint8_t)op};
        mix(e, m, 2);
    }
    return 0;
}

static int on_control(void *ud, int op, const uint8_t *p, size_t n) {
    events *e = ud;
    if (n > 125 || (op != TP_WS_PING && op != TP_WS_PONG && op != TP_WS_CLOSE)) abort();
    uint8_t m[3] = {0xFE, (uint8_t)op, (uint8_t)n};
    mix(e, m, 3);
    mix(e, p, n);
    return op == TP_WS_CLOSE;
}

static int run(const uint8_t *p, size_t n, size_t piece, events *e) {
    tp_ws_decoder d;
    tp_ws_decoder_init(&d);
    char err[256];
    e->base = p;
    e->len = n;
    size_t off = 0;
    int rc = 0;
    while (off < n && rc == 0) {
        size_t k = n - off < piece ? n - off : piece;
        rc = tp_ws_decode(&d, p + off, k, on_data, on_control, e, err, sizeof err);
        off += k;
    }
    if (rc < 0 && !err[0]) abort(); /* an error always says why */
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    size_t piece = (size_t)data[0] % 17 + 1;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    events whole = {0}, pieces = {0};
    int a = run(p, n, n ? n : 1, &whole);
    int b = run(p, n, piece, &pieces);
    if (a != b || whole.hash != pieces.hash || whole.data != pieces.data) abort();

    /* the same bytes as the server's answer to the upgrade */
    size_t used = 0;
    int status = 0;
    char err[256];
    int rc = tp_ws_response((const char *)p, n, "dGhlIHNhbXBsZSBub25jZQ==", &used, &status, err, sizeof err);
    if (rc == 0 && (used > n || status != 101)) abort();
    return 0;
}
