/* symbol_groups.c - see symbol_groups.h. */
#include "feed/symbol_groups.h"

#include "core/err.h"

#include <stdlib.h>
#include <string.h>

void tp_symbol_groups_init(tp_symbol_groups *g) {
    memset(g, 0, sizeof *g);
}

void tp_symbol_groups_free(tp_symbol_groups *g) {
    free(g->order);
    free(g->start);
    free(g->count);
    free(g->gid);
    free(g->first);
    free(g->htab);
    tp_symbol_groups_init(g);
}

static int grow(tp_symbol_groups *g, size_t n) {
    if (n <= g->cap) return 0;
    size_t cap = g->cap ? g->cap : 64;
    while (cap < n) cap *= 2;
    size_t hcap = cap * 2;
    uint32_t *a[6];
    size_t sizes[6] = {cap, cap, cap, cap, cap, hcap};
    for (int i = 0; i < 6; i++) {
        a[i] = malloc(sizes[i] * sizeof(uint32_t));
        if (!a[i]) {
            while (i--) free(a[i]);
            return TP_ENOMEM;
        }
    }
    tp_symbol_groups_free(g);
    g->order = a[0];
    g->start = a[1];
    g->count = a[2];
    g->gid = a[3];
    g->first = a[4];
    g->htab = a[5];
    g->cap = cap;
    g->hcap = hcap;
    return 0;
}

static uint32_t hash_str(tp_str s) {
    uint32_t h = 2166136261u; /* FNV-1a: short keys, no adversary worth more */
    for (uint32_t i = 0; i < s.len; i++) h = (h ^ (uint8_t)s.ptr[i]) * 16777619u;
    return h;
}

int tp_symbol_groups_build(tp_symbol_groups *g, const tp_trade *t, size_t n) {
    g->n = 0;
    if (n == 0) return 0;
    if (n > UINT32_MAX / 2 || grow(g, n)) return TP_ENOMEM;
    /* a table twice the frame's size, not the largest frame's */
    size_t hsize = 16;
    while (hsize < 2 * n) hsize *= 2;
    if (hsize > g->hcap) hsize = g->hcap;
    memset(g->htab, 0, hsize * sizeof(uint32_t));
    size_t mask = hsize - 1, ng = 0;
    for (size_t i = 0; i < n; i++) {
        size_t h = hash_str(t[i].symbol) & mask;
        for (;;) {
            uint32_t g1 = g->htab[h]; /* group + 1; 0 = empty slot */
            if (!g1) {
                g->htab[h] = (uint32_t)(ng + 1);
                g->first[ng] = (uint32_t)i;
                g->count[ng] = 0;
                g->gid[i] = (uint32_t)ng++;
                break;
            }
            if (tp_str_eq(t[g->first[g1 - 1]].symbol, t[i].symbol)) {
                g->gid[i] = g1 - 1;
                break;
            }
            h = (h + 1) & mask;
        }
        g->count[g->gid[i]]++;
    }
    uint32_t pos = 0;
    for (size_t k = 0; k < ng; k++) {
        g->start[k] = pos;
        pos += g->count[k];
    }
    /* first[] is no longer needed for lookups: reuse it as the fill cursor */
    for (size_t k = 0; k < ng; k++) g->first[k] = g->start[k];
    for (size_t i = 0; i < n; i++) g->order[g->first[g->gid[i]]++] = (uint32_t)i;
    g->n = ng;
    return 0;
}
