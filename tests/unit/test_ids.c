/* test_ids.c - the trade id hash (process/id.h) on the inputs it really
 * gets: Kafka coordinates on a dense grid (partitions x indexes x
 * offsets, and neighbouring topics). No two ids are equal, not even in one
 * 64-bit half; every free output bit is set about half the time; and
 * flipping any one input bit flips about half of the 122 free output bits
 * (avalanche). The evidence for docs/architecture.md, "Trade ids". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/trade.h"
#include "process/id.h"
#include "process/pipeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NP 32 /* partitions */
#define NI 64 /* indexes within a record */
#define NO 32 /* offsets */
#define NTOPIC 4

static int cmp16(const void *a, const void *b) {
    return memcmp(a, b, 16);
}
static int cmp8(const void *a, const void *b) {
    return memcmp(a, b, 8);
}

static const uint8_t k_mask[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f, 0xff,
                                   0x3f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}; /* version/variant out */

static void test_grid_unique(void **state) {
    (void)state;
    size_t n = (size_t)NTOPIC * NP * NI * NO;
    uint8_t *ids = malloc(n * 16);
    assert_non_null(ids);
    uint64_t ones[128] = {0};
    size_t k = 0;
    for (int t = 0; t < NTOPIC; t++) {
        tp_origin o;
        memset(&o, 0, sizeof o);
        snprintf(o.topic, sizeof o.topic, t < 2 ? "market%d" : "feed:%d", t); /* near-identical names */
        for (int p = 0; p < NP; p++)
            for (int off = 0; off < NO; off++)
                for (int i = 0; i < NI; i++) {
                    o.partition = p;
                    o.offset = off;
                    uint8_t *id = ids + 16 * k++;
                    tp_trade_id(&o, (uint32_t)i, id);
                    assert_int_equal(id[6] >> 4, 8);      /* version 8 */
                    assert_int_equal(id[8] & 0xc0, 0x80); /* RFC 4122 variant */
                    for (int b = 0; b < 128; b++) ones[b] += id[b / 8] >> (7 - b % 8) & 1;
                }
    }
    for (int b = 0; b < 128; b++) {
        if (!(k_mask[b / 8] >> (7 - b % 8) & 1)) continue;
        double f = (double)ones[b] / (double)n;
        if (f < 0.49 || f > 0.51) fail_msg("output bit %d is set in %.4f of the ids", b, f);
    }
    qsort(ids, n, 16, cmp16);
    for (size_t i = 1; i < n; i++)
        if (!memcmp(ids + 16 * (i - 1), ids + 16 * i, 16)) fail_msg("duplicate id at %zu of %zu", i, n);
    /* each half alone is unique too: the halves are not one hash twice */
    for (int half = 0; half < 2; half++) {
        uint8_t *h = malloc(n * 8);
        assert_non_null(h);
        for (size_t i = 0; i < n; i++) memcpy(h + 8 * i, ids + 16 * i + 8 * half, 8);
        qsort(h, n, 8, cmp8);
        for (size_t i = 1; i < n; i++)
            if (!memcmp(h + 8 * (i - 1), h + 8 * i, 8))
                fail_msg("duplicate %s half at %zu", half ? "low" : "high", i);
        free(h);
    }
    free(ids);
}

static int popcount_diff(const uint8_t a[16], const uint8_t b[16]) {
    int d = 0;
    for (int i = 0; i < 16; i++) d += __builtin_popcount((unsigned)((a[i] ^ b[i]) & k_mask[i]));
    return d;
}

/* Flip each bit of partition, index and offset in turn: on average about
 * 61 of the 122 free bits change, and never fewer than 30. */
static void test_avalanche(void **state) {
    (void)state;
    tp_origin o;
    memset(&o, 0, sizeof o);
    snprintf(o.topic, sizeof o.topic, "market");
    uint64_t total = 0, flips = 0;
    int worst = 128;
    srand(11);
    for (int s = 0; s < 200; s++) {
        o.partition = rand() % 1024;
        o.offset = ((int64_t)rand() << 20) ^ rand();
        uint32_t idx = (uint32_t)rand() % 4096;
        uint8_t base[16], x[16];
        tp_trade_id(&o, idx, base);
        for (int bit = 0; bit < 31 + 32 + 40; bit++) {
            tp_origin o2 = o;
            uint32_t idx2 = idx;
            if (bit < 31)
                o2.partition ^= 1 << bit;
            else if (bit < 63)
                idx2 ^= 1u << (bit - 31);
            else
                o2.offset ^= (int64_t)1 << (bit - 63);
            tp_trade_id(&o2, idx2, x);
            int d = popcount_diff(base, x);
            total += (uint64_t)d;
            flips++;
            if (d < worst) worst = d;
        }
    }
    double mean = (double)total / (double)flips;
    if (mean < 59 || mean > 63)
        fail_msg("a one-bit change flips %.2f output bits on average (want ~61)", mean);
    if (worst < 30) fail_msg("a one-bit change flipped only %d output bits", worst);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grid_unique),
        cmocka_unit_test(test_avalanche),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
