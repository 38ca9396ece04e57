/* dedupe.c - see dedupe.h.
 *
 * The ring holds entries oldest (tail) to newest (head); the set's slots
 * hold ring index + 1 (0 = empty), at most half full (2 x capacity slots),
 * so probes stay short. Removing the tail entry finds its slot by probing
 * from the entry's home slot and closes the hole by backward shift. */
#include "feed/dedupe.h"

#include "core/err.h"

#include <stdlib.h>
#include <string.h>

typedef struct entry {
    uint64_t hash;
    int64_t recv_ms;
    uint32_t n;
} entry;

struct tp_dedupe {
    entry *ring;
    size_t cap, mask;   /* ring: power of two */
    size_t tail, count; /* oldest entry, number of entries */
    uint32_t *slots;    /* set: 2 x cap slots */
    size_t smask;
    int64_t horizon_ms;
};

int tp_dedupe_new(size_t capacity, int64_t horizon_ms, tp_dedupe **out) {
    size_t cap = 16;
    while (cap < capacity && cap < ((size_t)1 << 30)) cap *= 2;
    tp_dedupe *d = calloc(1, sizeof *d);
    if (!d) return TP_ENOMEM;
    d->ring = calloc(cap, sizeof *d->ring);
    d->slots = calloc(cap * 2, sizeof *d->slots);
    if (!d->ring || !d->slots) {
        tp_dedupe_free(d);
        return TP_ENOMEM;
    }
    d->cap = cap;
    d->mask = cap - 1;
    d->smask = cap * 2 - 1;
    d->horizon_ms = horizon_ms;
    *out = d;
    return 0;
}

void tp_dedupe_free(tp_dedupe *d) {
    if (!d) return;
    free(d->ring);
    free(d->slots);
    free(d);
}

size_t tp_dedupe_size(const tp_dedupe *d) {
    return d->count;
}

/* FNV-1a over the bytes, then a splitmix64 finalizer so the low bits used
 * for the slot are well mixed. No adversary worth more: the only party who
 * can forge messages is the feed server, which could as well drop them. */
static uint64_t mix(uint64_t h, const void *p, size_t len) {
    const unsigned char *b = p;
    for (size_t i = 0; i < len; i++) h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

uint64_t tp_dedupe_hash(const tp_trade *t, size_t n) {
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < n; i++) {
        uint32_t sl = t[i].symbol.len;
        h = mix(h, &sl, sizeof sl);
        if (sl) h = mix(h, t[i].symbol.ptr, sl);
        h = mix(h, &t[i].ts_ms, sizeof t[i].ts_ms);
        h = mix(h, &t[i].price, sizeof t[i].price);
        h = mix(h, &t[i].volume, sizeof t[i].volume);
        h = mix(h, &t[i].ncond, sizeof t[i].ncond);
        for (int32_t k = 0; k < t[i].ncond; k++) {
            const tp_str *c = &t[i].cond[k];
            uint32_t cl = c->ptr ? c->len : UINT32_MAX; /* null item != "" */
            h = mix(h, &cl, sizeof cl);
            if (c->ptr && c->len) h = mix(h, c->ptr, c->len);
        }
    }
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    h ^= h >> 31;
    return h;
}

static void remove_tail(tp_dedupe *d) {
    size_t idx = d->tail;
    size_t j = d->ring[idx].hash & d->smask;
    while (d->slots[j] != idx + 1) j = (j + 1) & d->smask; /* it is there */
    d->slots[j] = 0;
    /* backward shift: move up every later entry of the probe run whose home
     * is not cyclically in (j, k] */
    for (size_t k = (j + 1) & d->smask; d->slots[k]; k = (k + 1) & d->smask) {
        size_t home = d->ring[d->slots[k] - 1].hash & d->smask;
        int in_range = j <= k ? (home > j && home <= k) : (home > j || home <= k);
        if (!in_range) {
            d->slots[j] = d->slots[k];
            d->slots[k] = 0;
            j = k;
        }
    }
    d->tail = (d->tail + 1) & d->mask;
    d->count--;
}

int tp_dedupe_check(tp_dedupe *d, const tp_trade *t, size_t n, int64_t recv_ms) {
    if (n == 0) return 0;
    while (d->count && recv_ms - d->ring[d->tail].recv_ms > d->horizon_ms) remove_tail(d);
    uint64_t h = tp_dedupe_hash(t, n);
    size_t j = h & d->smask;
    for (; d->slots[j]; j = (j + 1) & d->smask) {
        const entry *e = &d->ring[d->slots[j] - 1];
        if (e->hash == h && e->n == (uint32_t)n) return 1;
    }
    if (d->count == d->cap) {
        remove_tail(d);
        /* the shift may have moved entries into j's run: find a free slot again */
        for (j = h & d->smask; d->slots[j]; j = (j + 1) & d->smask) {
        }
    }
    size_t idx = (d->tail + d->count) & d->mask;
    d->ring[idx] = (entry){.hash = h, .recv_ms = recv_ms, .n = (uint32_t)n};
    d->slots[j] = (uint32_t)(idx + 1);
    d->count++;
    return 0;
}
