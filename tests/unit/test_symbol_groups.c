/* test_symbol_groups.c - produce's per-symbol grouping (feed/symbol_groups.h)
 * against a recomputation by brute force: groups in order of first
 * appearance, trades in frame order, every trade exactly once; reuse across
 * frames of different sizes; many symbols (table collisions). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "feed/symbol_groups.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char g_names[4096][12];

static void make_frame(tp_trade *t, size_t n, size_t nsym, unsigned seed) {
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        size_t s = (seed >> 8) % nsym;
        t[i].symbol.ptr = g_names[s];
        t[i].symbol.len = (uint32_t)strlen(g_names[s]);
        t[i].ts_ms = (int64_t)i;
    }
}

/* The oracle: walk the frame, a new symbol opens a group at the end. */
static void check(const tp_symbol_groups *g, const tp_trade *t, size_t n) {
    const char *seen[4096];
    size_t nseen = 0, pos = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        while (k < nseen && strcmp(seen[k], t[i].symbol.ptr)) k++;
        if (k == nseen) seen[nseen++] = t[i].symbol.ptr;
    }
    assert_int_equal(g->n, nseen);
    for (size_t k = 0; k < nseen; k++) {
        assert_int_equal(g->start[k], pos);
        int64_t last = -1;
        size_t cnt = 0;
        for (size_t i = 0; i < n; i++) {
            if (strcmp(t[i].symbol.ptr, seen[k])) continue;
            uint32_t idx = g->order[g->start[k] + cnt];
            assert_int_equal(idx, i); /* frame order within the group */
            assert_true(t[idx].ts_ms > last);
            last = t[idx].ts_ms;
            cnt++;
        }
        assert_int_equal(g->count[k], cnt);
        pos += cnt;
    }
    assert_int_equal(pos, n);
}

static void test_groups(void **state) {
    (void)state;
    for (int i = 0; i < 4096; i++) snprintf(g_names[i], sizeof g_names[i], "SYM%d", i);
    static tp_trade t[5000];
    tp_symbol_groups g;
    tp_symbol_groups_init(&g);
    assert_int_equal(tp_symbol_groups_build(&g, t, 0), 0);
    assert_int_equal(g.n, 0);
    const size_t sizes[] = {1, 7, 300, 5000, 3, 1000};
    const size_t nsyms[] = {1, 3, 8, 4096, 3, 1000};
    for (size_t r = 0; r < sizeof sizes / sizeof sizes[0]; r++) {
        make_frame(t, sizes[r], nsyms[r], (unsigned)r + 1);
        assert_int_equal(tp_symbol_groups_build(&g, t, sizes[r]), 0);
        check(&g, t, sizes[r]);
    }
    tp_symbol_groups_free(&g);
}

static void test_same_bytes_other_pointers(void **state) {
    (void)state;
    /* equal symbols compare by content, not pointer */
    char a[] = "AAPL", b[] = "AAPL", c[] = "AAP";
    tp_trade t[3] = {0};
    t[0].symbol = (tp_str){a, 4};
    t[1].symbol = (tp_str){c, 3};
    t[2].symbol = (tp_str){b, 4};
    tp_symbol_groups g;
    tp_symbol_groups_init(&g);
    assert_int_equal(tp_symbol_groups_build(&g, t, 3), 0);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.count[0], 2);
    assert_int_equal(g.order[0], 0);
    assert_int_equal(g.order[1], 2);
    assert_int_equal(g.order[2], 1);
    tp_symbol_groups_free(&g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_groups),
        cmocka_unit_test(test_same_bytes_other_pointers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
