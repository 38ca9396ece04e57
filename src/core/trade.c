/* trade.c - batch and arena. See trade.h for the design. */
#include "core/trade.h"

#include <stdlib.h>
#include <string.h>

struct tp_arena_block {
    tp_arena_block *next;
    size_t cap, used;
    _Alignas(16) unsigned char data[];
};

#define TP_ARENA_DEFAULT 65536

static tp_arena_block *block_new(size_t cap) {
    tp_arena_block *blk = malloc(sizeof(*blk) + cap);
    if (!blk) return NULL;
    blk->next = NULL;
    blk->cap = cap;
    blk->used = 0;
    return blk;
}

void tp_batch_init(tp_batch *b) {
    memset(b, 0, sizeof(*b));
    b->arena.block_size = TP_ARENA_DEFAULT;
    b->origin.partition = -1;
}

void tp_batch_reset(tp_batch *b) {
    b->n = 0;
    b->recv_ms = 0;
    tp_arena *a = &b->arena;
    if (!a->first) return;
    /* Keep the first block; free the overflow ones. A batch that needed
     * more than one block once will likely need it again, so grow the
     * first block to the total instead of freeing it every time. */
    size_t total = 0;
    tp_arena_block *blk = a->first->next;
    while (blk) {
        tp_arena_block *next = blk->next;
        total += blk->cap;
        free(blk);
        blk = next;
    }
    if (total) {
        tp_arena_block *bigger = block_new(a->first->cap + total);
        if (bigger) {
            free(a->first);
            a->first = bigger;
        }
    }
    a->first->next = NULL;
    a->first->used = 0;
    a->head = a->first;
}

void tp_batch_free(tp_batch *b) {
    tp_arena_block *blk = b->arena.first;
    while (blk) {
        tp_arena_block *next = blk->next;
        free(blk);
        blk = next;
    }
    free(b->trades);
    memset(b, 0, sizeof(*b));
}

tp_trade *tp_batch_add(tp_batch *b) {
    if (b->max_trades && b->n >= b->max_trades) return NULL;
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        tp_trade *t = realloc(b->trades, cap * sizeof(*t));
        if (!t) return NULL;
        b->trades = t;
        b->cap = cap;
    }
    tp_trade *t = &b->trades[b->n++];
    memset(t, 0, sizeof(*t));
    t->ncond = TP_COND_NULL;
    t->recv_ms = b->recv_ms;
    return t;
}

void *tp_batch_alloc(tp_batch *b, size_t size) {
    tp_arena *a = &b->arena;
    size = (size + 7) & ~(size_t)7;
    if (a->head && a->head->cap - a->head->used >= size) {
        void *p = a->head->data + a->head->used;
        a->head->used += size;
        return p;
    }
    size_t cap = a->block_size ? a->block_size : TP_ARENA_DEFAULT;
    if (cap < size) cap = size;
    tp_arena_block *blk = block_new(cap);
    if (!blk) return NULL;
    if (!a->first)
        a->first = blk;
    else
        a->head->next = blk;
    a->head = blk;
    blk->used = size;
    return blk->data;
}

const char *tp_batch_strdup(tp_batch *b, const char *s, size_t len) {
    char *p = tp_batch_alloc(b, len + 1);
    if (!p) return NULL;
    if (len) memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

tp_trade *tp_batch_copy_trade(tp_batch *b, const tp_trade *src) {
    const char *sym = tp_batch_strdup(b, src->symbol.ptr ? src->symbol.ptr : "", src->symbol.len);
    if (!sym) return NULL;
    tp_str *cond = NULL;
    if (src->ncond > 0) {
        cond = tp_batch_alloc(b, sizeof(tp_str) * (size_t)src->ncond);
        if (!cond) return NULL;
        for (int32_t i = 0; i < src->ncond; i++) {
            cond[i].len = src->cond[i].len;
            cond[i].ptr = src->cond[i].ptr ? tp_batch_strdup(b, src->cond[i].ptr, src->cond[i].len) : NULL;
            if (src->cond[i].ptr && !cond[i].ptr) return NULL;
        }
    }
    tp_trade *t = tp_batch_add(b);
    if (!t) return NULL;
    *t = *src;
    t->symbol.ptr = sym;
    t->cond = cond;
    return t;
}

tp_batch_mark tp_batch_get_mark(const tp_batch *b) {
    tp_batch_mark m = {b->n, b->arena.head, b->arena.head ? b->arena.head->used : 0};
    return m;
}

void tp_batch_rewind(tp_batch *b, tp_batch_mark m) {
    tp_arena *a = &b->arena;
    tp_arena_block *blk = m.head ? m.head->next : a->first;
    while (blk) {
        tp_arena_block *next = blk->next;
        free(blk);
        blk = next;
    }
    if (m.head) {
        m.head->next = NULL;
        m.head->used = m.used;
    } else {
        a->first = NULL;
    }
    a->head = m.head;
    b->n = m.n;
}
