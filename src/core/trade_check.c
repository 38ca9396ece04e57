/* trade_check.c - see trade_check.h. */
#include "core/trade_check.h"

#include "core/config.h"
#include "core/log.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const k_names[TP_REJECT_N] = {
    "none",  "symbol_empty", "symbol_too_long", "symbol_characters", "unsubscribed",
    "price", "volume",       "time_past",       "time_future",
};

static const char *const k_texts[TP_REJECT_N] = {
    "valid",
    "the symbol is empty",
    "the symbol is longer than 64 bytes",
    "the symbol holds a control character or bytes that are not UTF-8, or starts or ends with a space",
    "the symbol was not subscribed on this connection",
    "the price is not a finite number > 0",
    "the volume is not a finite number >= 0",
    "the trade time is further behind the receive time than --max-trade-age",
    "the trade time is further ahead of the receive time than --max-trade-ahead",
};

const char *tp_reject_name(tp_reject r) {
    return (unsigned)r < TP_REJECT_N ? k_names[r] : "unknown";
}

const char *tp_reject_text(tp_reject r) {
    return (unsigned)r < TP_REJECT_N ? k_texts[r] : "unknown";
}

void tp_trade_limits_default(tp_trade_limits *l) {
    l->max_age_ms = TP_TRADE_MAX_AGE_MS_DEFAULT;
    l->max_ahead_ms = TP_TRADE_MAX_AHEAD_MS_DEFAULT;
}

/* Length of the valid UTF-8 sequence at s (n bytes left) whose code point
 * is printable (not a C0 or C1 control or DEL), else 0. */
static size_t printable_char(const unsigned char *s, size_t n) {
    unsigned c = s[0];
    if (c < 0x80) return c >= 0x20 && c < 0x7f;
    size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
    if (!len || len > n || c > 0xf4) return 0;
    uint32_t cp = c & (0x7f >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0; /* overlong, surrogate */
    if (cp < 0xa0 || cp == 0x2028 || cp == 0x2029) return 0; /* C1 controls, separators */
    return len;
}

tp_reject tp_symbol_check(const char *p, size_t len) {
    if (!p || !len) return TP_REJECT_SYMBOL_EMPTY;
    if (len > TP_SYMBOL_MAX) return TP_REJECT_SYMBOL_LONG;
    const unsigned char *s = (const unsigned char *)p;
    /* a space inside is Finnhub's ("IC MARKETS:1"); at either end it is not */
    if (s[0] == ' ' || s[len - 1] == ' ') return TP_REJECT_SYMBOL_CHARS;
    for (size_t i = 0; i < len;) {
        if (s[i] >= 0x20 && s[i] < 0x7f) { /* printable ASCII: nearly every symbol */
            i++;
            continue;
        }
        size_t n = printable_char(s + i, len - i);
        if (!n) return TP_REJECT_SYMBOL_CHARS;
        i += n;
    }
    return TP_REJECT_NONE;
}

tp_reject tp_trade_check(const tp_trade *t, int64_t recv_ms, const tp_trade_limits *l) {
    tp_reject r = tp_symbol_check(t->symbol.ptr, t->symbol.len);
    return r ? r : tp_trade_check_values(t, recv_ms, l);
}

tp_reject tp_symbol_cache_check(tp_symbol_cache *c, const tp_trade *t, int64_t recv_ms,
                                const tp_trade_limits *l, tp_symbol_pred wanted, void *ud) {
    tp_reject r;
    if (c->ok.ptr && tp_str_eq(c->ok, t->symbol))
        r = tp_trade_check_values(t, recv_ms, l);
    else if ((r = tp_symbol_check(t->symbol.ptr, t->symbol.len)) == TP_REJECT_NONE)
        r = wanted && !wanted(ud, t->symbol) ? TP_REJECT_UNSUBSCRIBED : tp_trade_check_values(t, recv_ms, l);
    if (r == TP_REJECT_NONE) c->ok = t->symbol;
    return r;
}

tp_reject tp_trade_check_values(const tp_trade *t, int64_t recv_ms, const tp_trade_limits *l) {
    if (!isfinite(t->price) || !(t->price > 0)) return TP_REJECT_PRICE;
    if (!isfinite(t->volume) || !(t->volume >= 0)) return TP_REJECT_VOLUME;
    /* the differences saturate: ts_ms can be anything a feed sends */
    if (l && l->max_age_ms > 0 && (t->ts_ms < recv_ms - l->max_age_ms)) return TP_REJECT_TIME_PAST;
    if (l && l->max_ahead_ms > 0 && t->ts_ms > recv_ms && t->ts_ms - recv_ms > l->max_ahead_ms)
        return TP_REJECT_TIME_FUTURE;
    return TP_REJECT_NONE;
}

void tp_rejects_init(tp_rejects *r, const char *stage) {
    memset(r, 0, sizeof *r);
    r->stage = stage;
    for (int i = 1; i < TP_REJECT_N; i++) {
        char labels[96];
        snprintf(labels, sizeof labels, "stage=\"%s\",reason=\"%s\"", stage, k_names[i]);
        r->m[i] = tp_metrics_counter("tickpipe_trades_rejected_total", labels,
                                     "Trades rejected at the door (never stored), by stage and reason");
    }
}

#define LOG_LINES_PER_MINUTE 10

void tp_rejects_note(tp_rejects *r, tp_reject why, const tp_trade *t, int64_t recv_ms, const char *where) {
    if ((unsigned)why >= TP_REJECT_N || why == TP_REJECT_NONE) return;
    atomic_fetch_add_explicit(&r->n[why], 1, memory_order_relaxed);
    tp_counter_add(r->m[why], 1);
    int64_t now = tp_now_ms();
    if (now - r->window_start_ms >= 60000) {
        if (r->window_quiet)
            tp_warn(r->stage,
                    "%" PRIu64 " more rejected trades were not logged in the last minute (see "
                    "tickpipe_trades_rejected_total)",
                    r->window_quiet);
        r->window_start_ms = now;
        r->window_lines = r->window_quiet = 0;
    }
    if (r->window_lines >= LOG_LINES_PER_MINUTE) {
        r->window_quiet++;
        return;
    }
    r->window_lines++;
    r->logged++;
    char sym[64];
    tp_log_sample(t->symbol.ptr, t->symbol.len, 40, sym, sizeof sym);
    tp_warn(
        r->stage,
        "rejected a trade from %s (%s): symbol \"%s\" (%u bytes), price %.17g, volume %.17g, time %" PRId64
        " ms (received %" PRId64 ")",
        where, tp_reject_text(why), sym, (unsigned)t->symbol.len, t->price, t->volume, t->ts_ms, recv_ms);
}

uint64_t tp_rejects_total(const tp_rejects *r) {
    uint64_t n = 0;
    for (int i = 1; i < TP_REJECT_N; i++) n += atomic_load_explicit(&r->n[i], memory_order_relaxed);
    return n;
}

void tp_rejects_format_counts(const uint64_t *n, char *out, size_t outlen) {
    uint64_t total = 0;
    for (int i = 1; i < TP_REJECT_N; i++) total += n[i];
    size_t off = (size_t)snprintf(out, outlen, "%" PRIu64 " rejected", total);
    const char *sep = " (";
    for (int i = 1; i < TP_REJECT_N && off < outlen; i++) {
        if (!n[i]) continue;
        off += (size_t)snprintf(out + off, outlen - off, "%s%s %" PRIu64, sep, k_names[i], n[i]);
        sep = ", ";
    }
    if (*sep == ',' && off < outlen) snprintf(out + off, outlen - off, ")");
}

void tp_rejects_format(const tp_rejects *r, char *out, size_t outlen) {
    uint64_t n[TP_REJECT_N];
    for (int i = 0; i < TP_REJECT_N; i++) n[i] = atomic_load_explicit(&r->n[i], memory_order_relaxed);
    tp_rejects_format_counts(n, out, outlen);
}
