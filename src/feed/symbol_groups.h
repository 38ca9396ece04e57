/* symbol_groups.h - the trades of one frame grouped by symbol, as `produce`
 * needs them (one Kafka message per symbol per frame, keyed by the symbol,
 * so a symbol keeps one partition and its order).
 *
 * tp_symbol_groups_build() puts the indices of the frame's trades in
 * `order`, group after group: groups in the order their symbol first
 * appears, trades in frame order within a group. It costs O(trades): an
 * open-addressing table of twice the frame's size (rebuilt per frame) finds
 * a symbol's group, a counting sort places the indices. The arrays grow to
 * the largest frame seen and are then reused: no allocation per frame.
 *
 * Ownership and threads: the caller owns the struct; one thread at a time.
 * The trades passed in must stay unchanged while the groups are read. */
#ifndef TP_SYMBOL_GROUPS_H
#define TP_SYMBOL_GROUPS_H

#include "core/trade.h"

#include <stddef.h>
#include <stdint.h>

typedef struct tp_symbol_groups {
    uint32_t *order; /* trade indices, group after group */
    uint32_t *start; /* group g's indices begin at order + start[g] */
    uint32_t *count; /* ... and there are count[g] of them */
    size_t n;        /* groups in the last build */
    /* scratch, grown with the frame size */
    uint32_t *gid, *first, *htab;
    size_t cap, hcap;
} tp_symbol_groups;

void tp_symbol_groups_init(tp_symbol_groups *g);
/* Group t[0..n). 0, or TP_ENOMEM (the groups are then empty). */
int tp_symbol_groups_build(tp_symbol_groups *g, const tp_trade *t, size_t n);
void tp_symbol_groups_free(tp_symbol_groups *g);

#endif
