/* gaps.c - see gaps.h. */
#include "feed/gaps.h"

#include "core/err.h"

#include <stdlib.h>
#include <string.h>

typedef struct sym_state {
    char *name;
    uint32_t len;
    int64_t last_ms; /* newest event time; INT64_MIN = none yet */
    int64_t last_id; /* highest venue trade id seen; 0 = none yet */
    int open;        /* a gap is open since last_ms */
    tp_gap_reason reason;
} sym_state;

struct tp_gaps {
    sym_state *s;
    size_t n;
    uint32_t *tab; /* index + 1; 0 = empty */
    size_t mask;
    int connection;
};

static const char *const k_names[] = {"reconnect", "silence", "key_in_use", "server_error", "id_jump"};

const char *tp_gap_reason_name(tp_gap_reason r) {
    return (unsigned)r < sizeof k_names / sizeof k_names[0] ? k_names[r] : "reconnect";
}

static uint32_t hash(const char *p, size_t len) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) h = (h ^ (uint8_t)p[i]) * 16777619u;
    return h;
}

static sym_state *find(tp_gaps *g, const char *p, size_t len) {
    for (size_t j = hash(p, len) & g->mask; g->tab[j]; j = (j + 1) & g->mask) {
        sym_state *s = &g->s[g->tab[j] - 1];
        if (s->len == len && !memcmp(s->name, p, len)) return s;
    }
    return NULL;
}

int tp_gaps_new(const char *const *symbols, size_t n, int connection, tp_gaps **out) {
    tp_gaps *g = calloc(1, sizeof *g);
    if (!g) return TP_ENOMEM;
    size_t hs = 16;
    while (hs < 2 * n) hs *= 2;
    g->s = calloc(n ? n : 1, sizeof *g->s);
    g->tab = calloc(hs, sizeof *g->tab);
    g->mask = hs - 1;
    g->connection = connection;
    if (!g->s || !g->tab) {
        tp_gaps_free(g);
        return TP_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(symbols[i]);
        if (find(g, symbols[i], len)) continue; /* listed twice */
        sym_state *s = &g->s[g->n];
        if (!(s->name = strdup(symbols[i]))) {
            tp_gaps_free(g);
            return TP_ENOMEM;
        }
        s->len = (uint32_t)len;
        s->last_ms = INT64_MIN;
        size_t j = hash(symbols[i], len) & g->mask;
        while (g->tab[j]) j = (j + 1) & g->mask;
        g->tab[j] = (uint32_t)(++g->n);
    }
    *out = g;
    return 0;
}

int tp_gaps_has(tp_gaps *g, tp_str symbol) {
    return find(g, symbol.ptr, symbol.len) != NULL;
}

int tp_gaps_last_id(tp_gaps *g, tp_str symbol, int64_t *last_id, size_t *index) {
    sym_state *st = symbol.ptr ? find(g, symbol.ptr, symbol.len) : NULL;
    if (!st) return -1;
    *last_id = st->last_id;
    *index = (size_t)(st - g->s);
    return 0;
}

void tp_gaps_free(tp_gaps *g) {
    if (!g) return;
    for (size_t i = 0; i < g->n; i++) free(g->s[i].name);
    free(g->s);
    free(g->tab);
    free(g);
}

void tp_gaps_disconnect(tp_gaps *g, tp_gap_reason r) {
    for (size_t i = 0; i < g->n; i++) {
        sym_state *s = &g->s[i];
        if (s->last_ms == INT64_MIN || s->open) continue;
        s->open = 1;
        s->reason = r;
    }
}

size_t tp_gaps_trades(tp_gaps *g, const tp_trade *t, size_t n, int64_t recv_ms, tp_gap_fn fn, void *ud) {
    size_t reported = 0;
    for (size_t i = 0; i < n; i++) {
        sym_state *s = find(g, t[i].symbol.ptr, t[i].symbol.len);
        if (!s) continue; /* not subscribed here */
        int64_t id = t[i].trade_id;
        if (id && s->last_id) {
            if (id <= s->last_id) continue; /* a snapshot, an overlap, a repeat: never a gap */
            if (id > s->last_id + 1) {
                tp_feed_gap gap = {
                    .symbol = s->name,
                    .from_ms = s->last_ms,
                    .to_ms = t[i].ts_ms > s->last_ms ? t[i].ts_ms : s->last_ms,
                    .reason = s->open ? s->reason : TP_GAP_ID_JUMP,
                    .detected_at_ms = recv_ms,
                    .connection = g->connection,
                    .from_trade_id = s->last_id + 1,
                    .to_trade_id = id - 1,
                };
                if (fn) fn(ud, &gap);
                reported++;
            }
            s->open = 0; /* the next id, after a drop: nothing was lost */
            s->last_id = id;
            if (t[i].ts_ms > s->last_ms) s->last_ms = t[i].ts_ms;
            continue;
        }
        if (id) s->last_id = id;
        if (s->open) {
            s->open = 0;
            tp_feed_gap gap = {
                .symbol = s->name,
                .from_ms = s->last_ms,
                .to_ms = t[i].ts_ms > s->last_ms ? t[i].ts_ms : s->last_ms,
                .reason = s->reason,
                .detected_at_ms = recv_ms,
                .connection = g->connection,
            };
            if (fn) fn(ud, &gap);
            reported++;
        }
        if (t[i].ts_ms > s->last_ms) s->last_ms = t[i].ts_ms;
    }
    return reported;
}
