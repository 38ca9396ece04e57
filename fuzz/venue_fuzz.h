/* venue_fuzz.h - the fuzz body shared by the venue feeds' targets
 * (fuzz_coinbase.c, fuzz_kraken.c, ...): included by each, which names its
 * feed and its writer.
 *
 * A rejected message must leave the batch exactly as it was (trade count
 * and arena mark); an accepted one may only yield trades with a positive
 * finite price, a finite volume >= 0, a positive venue trade id and the
 * venue's symbol prefix. Every parsed trade is written back with the
 * venue's writer (venue_write.h) and parsed again: it must come back
 * identical, doubles bit for bit. The input is also tried as a symbol:
 * a normalised symbol normalises to itself, and its subscribe message is
 * valid JSON. */
#ifndef TP_VENUE_FUZZ_H
#define TP_VENUE_FUZZ_H

#include "core/err.h"
#include "feed/feed.h"
#include "feed/venue.h"
#include "feed/venue_write.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *g_feed = "";

__attribute__((noreturn)) static void die(const char *what, const char *detail) {
    fprintf(stderr, "fuzz %s: %s: %s\n", g_feed, what, detail ? detail : "");
    abort();
}

static void same(const tp_trade *a, const tp_trade *b) {
    if (a->symbol.len != b->symbol.len || memcmp(a->symbol.ptr, b->symbol.ptr, a->symbol.len))
        die("symbol differs after a round trip", NULL);
    if (memcmp(&a->price, &b->price, sizeof(double)) || memcmp(&a->volume, &b->volume, sizeof(double)))
        die("price or volume differs after a round trip", NULL);
    if (a->ts_ms != b->ts_ms || a->trade_id != b->trade_id)
        die("time or trade id differs after a round trip", NULL);
}

static void symbol(const tp_feed_ops *f, const uint8_t *data, size_t size) {
    if (size > 200) return;
    char in[201], out[256], again[256], err[256];
    memcpy(in, data, size);
    in[size] = '\0';
    if (f->normalize_symbol(in, out, sizeof out, err, sizeof err)) return;
    if (strncmp(out, f->sym_prefix, strlen(f->sym_prefix))) die("normalised symbol without its prefix", out);
    if (f->normalize_symbol(out, again, sizeof again, err, sizeof err) || strcmp(out, again))
        die("normalising is not idempotent", out);
    char msg[512];
    const char *one[] = {out};
    int n = f->subscribe_many(one, 1, 1, msg, sizeof msg);
    json_error_t je;
    json_t *o = n > 0 ? json_loadb(msg, (size_t)n, 0, &je) : NULL;
    if (!o) die("subscribe message is not JSON", msg);
    json_decref(o);
}

/* One input against the feed named `feed`; write_one writes a parsed trade
 * back in the venue's form (its length, or -1). */
static int venue_fuzz_one(const char *feed, int (*write_one)(const tp_trade *, int, char *, size_t),
                          const uint8_t *data, size_t size) {
    g_feed = feed;
    const tp_feed_ops *f = tp_feed_find(feed);
    if (!f) die("feed not found", NULL);
    tp_batch b;
    tp_batch_init(&b);
    b.arena.block_size = 256; /* rewinds across arena blocks */
    tp_msg_info info;
    char err[512];
    /* something already in the batch that a rejected message must not touch */
    tp_trade *pre = tp_batch_add(&b);
    pre->symbol.ptr = tp_batch_strdup(&b, "PRE", 3);
    pre->symbol.len = 3;
    tp_batch_mark m0 = tp_batch_get_mark(&b);
    int rc = f->parse((const char *)data, size, &b, &info, err, sizeof err);
    tp_batch_mark m1 = tp_batch_get_mark(&b);
    if (rc) {
        if (m1.n != m0.n || m1.head != m0.head || m1.used != m0.used)
            die("rejected message changed the batch", err);
        if (!err[0]) die("rejected message without an error text", NULL);
    } else {
        if (info.ntrades != b.n - 1) die("ntrades differs from the trades added", NULL);
        if (info.ntrades && info.type != TP_MSG_TRADE) die("trades from a message that is not a trade", NULL);
        size_t pl = strlen(f->sym_prefix);
        for (size_t i = 1; i < b.n; i++) {
            const tp_trade *t = &b.trades[i];
            if (!isfinite(t->price) || !(t->price > 0) || !isfinite(t->volume) || !(t->volume >= 0) ||
                t->trade_id <= 0 || t->symbol.len <= pl || memcmp(t->symbol.ptr, f->sym_prefix, pl))
                die("accepted a trade with a bad field", NULL);
            static char buf[1 << 16];
            int n = write_one(t, info.snapshot, buf, sizeof buf);
            if (n < 0) die("writer refused a parsed trade", NULL);
            tp_batch r;
            tp_batch_init(&r);
            tp_msg_info ri;
            if (f->parse(buf, (size_t)n, &r, &ri, err, sizeof err) || ri.ntrades != 1 ||
                ri.snapshot != info.snapshot)
                die("written trade does not parse back", buf);
            same(t, &r.trades[0]);
            tp_batch_free(&r);
        }
    }
    tp_batch_free(&b);
    symbol(f, data, size);
    return 0;
}

#endif
