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

/* Trade-id state of one symbol: bit (id mod W) of bits is set when id was
 * seen, for ids in (max - W, max]. */
#define IDW TP_DEDUPE_ID_WINDOW
typedef struct id_sym {
    char *name;
    uint32_t len;
    int seen; /* max is set */
    int64_t max;
    uint64_t bits[IDW / 64];
} id_sym;

struct tp_dedupe {
    id_sym **ids; /* open addressing by symbol; NULL = empty */
    size_t nids, ids_mask;
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
    for (size_t i = 0; d->ids && i <= d->ids_mask; i++)
        if (d->ids[i]) {
            free(d->ids[i]->name);
            free(d->ids[i]);
        }
    free(d->ids);
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

/* The hash of the trades without a trade id, in order (all of them when
 * none has one: then equal to tp_dedupe_hash). */
static uint64_t hash_no_id(const tp_trade *t, size_t n, size_t *count) {
    uint64_t h = 14695981039346656037ull;
    size_t c = 0;
    for (size_t i = 0; i < n; i++) {
        if (t[i].trade_id) continue;
        c++;
        uint32_t sl = t[i].symbol.len;
        h = mix(h, &sl, sizeof sl);
        if (sl) h = mix(h, t[i].symbol.ptr, sl);
        h = mix(h, &t[i].ts_ms, sizeof t[i].ts_ms);
        h = mix(h, &t[i].price, sizeof t[i].price);
        h = mix(h, &t[i].volume, sizeof t[i].volume);
        h = mix(h, &t[i].ncond, sizeof t[i].ncond);
        for (int32_t k = 0; k < t[i].ncond; k++) {
            const tp_str *cd = &t[i].cond[k];
            uint32_t cl = cd->ptr ? cd->len : UINT32_MAX;
            h = mix(h, &cl, sizeof cl);
            if (cd->ptr && cd->len) h = mix(h, cd->ptr, cd->len);
        }
    }
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    h ^= h >> 31;
    *count = c;
    return h;
}

static int check_hash(tp_dedupe *d, uint64_t h, size_t n, int64_t recv_ms);

int tp_dedupe_check(tp_dedupe *d, const tp_trade *t, size_t n, int64_t recv_ms) {
    if (n == 0 || d->horizon_ms <= 0) return 0;
    return check_hash(d, tp_dedupe_hash(t, n), n, recv_ms);
}

static int check_hash(tp_dedupe *d, uint64_t h, size_t n, int64_t recv_ms) {
    while (d->count && recv_ms - d->ring[d->tail].recv_ms > d->horizon_ms) remove_tail(d);
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

static uint32_t sym_hash(const char *p, size_t len) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) h = (h ^ (uint8_t)p[i]) * 16777619u;
    return h;
}

size_t tp_dedupe_id_symbols(const tp_dedupe *d) {
    return d->nids;
}

/* The symbol's state, created (and the table grown) when new; NULL on OOM. */
static id_sym *id_state(tp_dedupe *d, tp_str sym) {
    if (d->ids) {
        for (size_t j = sym_hash(sym.ptr, sym.len) & d->ids_mask; d->ids[j]; j = (j + 1) & d->ids_mask)
            if (d->ids[j]->len == sym.len && !memcmp(d->ids[j]->name, sym.ptr, sym.len)) return d->ids[j];
    }
    if (!d->ids || 2 * (d->nids + 1) > d->ids_mask + 1) { /* at most half full */
        size_t cap = d->ids ? 2 * (d->ids_mask + 1) : 16;
        id_sym **t = calloc(cap, sizeof *t);
        if (!t) return NULL;
        for (size_t i = 0; d->ids && i <= d->ids_mask; i++) {
            if (!d->ids[i]) continue;
            size_t j = sym_hash(d->ids[i]->name, d->ids[i]->len) & (cap - 1);
            while (t[j]) j = (j + 1) & (cap - 1);
            t[j] = d->ids[i];
        }
        free(d->ids);
        d->ids = t;
        d->ids_mask = cap - 1;
    }
    id_sym *e = calloc(1, sizeof *e);
    if (!e || !(e->name = malloc(sym.len ? sym.len : 1))) {
        free(e);
        return NULL;
    }
    if (sym.len) memcpy(e->name, sym.ptr, sym.len);
    e->len = sym.len;
    size_t j = sym_hash(sym.ptr, sym.len) & d->ids_mask;
    while (d->ids[j]) j = (j + 1) & d->ids_mask;
    d->ids[j] = e;
    d->nids++;
    return e;
}

#define BIT(id) ((uint64_t)(id) & (IDW - 1))

int tp_dedupe_id_check(tp_dedupe *d, tp_str symbol, int64_t id) {
    if (!id) return 0;
    id_sym *e = id_state(d, symbol);
    if (!e) return -1;
    if (!e->seen) { /* first id of the symbol */
        e->seen = 1;
        e->max = id;
        e->bits[BIT(id) / 64] |= 1ull << (BIT(id) % 64);
        return 0;
    }
    if (id > e->max) {
        uint64_t step = (uint64_t)id - (uint64_t)e->max;
        if (step >= IDW) {
            memset(e->bits, 0, sizeof e->bits);
        } else {
            for (uint64_t k = 1; k <= step; k++) { /* ids max+1..id leave the window's bottom */
                uint64_t b = BIT((uint64_t)e->max + k);
                e->bits[b / 64] &= ~(1ull << (b % 64));
            }
        }
        e->max = id;
        e->bits[BIT(id) / 64] |= 1ull << (BIT(id) % 64);
        return 0;
    }
    if ((uint64_t)e->max - (uint64_t)id >= IDW) return TP_DEDUPE_ID_TOO_OLD;
    uint64_t b = BIT(id), m = 1ull << (b % 64);
    if (e->bits[b / 64] & m) return 1;
    e->bits[b / 64] |= m;
    return 0;
}

size_t tp_dedupe_filter(tp_dedupe *d, tp_trade *t, size_t *n, int64_t recv_ms) {
    size_t nt = *n, noid;
    if (!nt) return 0;
    uint64_t h = hash_no_id(t, nt, &noid);
    int drop_noid = noid && d->horizon_ms > 0 && check_hash(d, h, noid, recv_ms);
    if (noid == nt) { /* no ids: today's path, whole message */
        if (!drop_noid) return 0;
        *n = 0;
        return nt;
    }
    size_t kept = 0;
    for (size_t i = 0; i < nt; i++) {
        int drop = t[i].trade_id ? tp_dedupe_id_check(d, t[i].symbol, t[i].trade_id) > 0 : drop_noid;
        if (drop) continue;
        if (kept != i) t[kept] = t[i];
        kept++;
    }
    *n = kept;
    return nt - kept;
}
