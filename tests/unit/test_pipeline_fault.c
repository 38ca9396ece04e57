/* test_pipeline_fault.c - the pipeline over a store that fails.
 *
 * This program defines the tp_sink_* functions itself (tpcore is a static
 * library, so the linker takes these and never pulls sink/sink.c in): a
 * fake store that follows sink.h's protocol exactly (rows written since the
 * last successful commit are lost on any failure) and fails on command.
 * The tests check that a flush retries until the store takes the unit,
 * that a retried unit is complete (trades and the window rows emitted before
 * the failure, final ones included, each window once), that stop() ends the
 * retries with TP_ESTATE and keeps the unit, and that on_durable only sees
 * committed rows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/config.h"
#include "core/err.h"
#include "process/pipeline.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BASE 1699999980000LL

/* ---- the fake store ---- */
typedef struct fake_row {
    char sym[16];
    int kind; /* 0 trade, 1 candle 1s, 60 candle 1m, 2 average */
    int64_t key;
    double value; /* trade: price; candle: close; average: pv mean */
    int64_t count;
    int final;
    uint8_t id[16];
} fake_row;

static struct {
    fake_row unit[4096];
    size_t nunit;
    fake_row durable[4096];
    size_t ndurable;
    int fail_next;   /* fail this many calls (write or commit) */
    int fail_commit; /* fail only commits */
    unsigned calls, failures, commits;
} F;

struct tp_sink {
    int dummy;
};
static struct tp_sink the_sink;

static int maybe_fail(char *err, size_t errlen) {
    F.calls++;
    if (F.fail_next > 0) {
        F.fail_next--;
        F.failures++;
        F.nunit = 0; /* the unit is lost */
        return tp_seterr(err, errlen, TP_EUNAVAIL, "fake store down (injected)");
    }
    return 0;
}

int tp_sink_open(const char *url, tp_sink **out, char *err, size_t errlen) {
    (void)url, (void)err, (void)errlen;
    *out = &the_sink;
    return 0;
}
const char *tp_sink_scheme(const tp_sink *s) {
    (void)s;
    return "fake";
}
void tp_sink_close(tp_sink *s) {
    (void)s;
}

/* The restart rebuild reads the store at open: this one starts empty. */
int tp_sink_retain(tp_sink *s, const tp_retention *r, int64_t now_ms, int max_rows, uint64_t *deleted,
                   char *err, size_t errlen) {
    (void)s, (void)r, (void)now_ms, (void)max_rows, (void)err, (void)errlen;
    *deleted = 0;
    return 0;
}
int tp_sink_can_read(const tp_sink *s) {
    (void)s;
    return 1;
}
int tp_sink_can_write_gaps(const tp_sink *s) {
    (void)s;
    return 0;
}
int tp_sink_write_gaps(tp_sink *s, const tp_gap_row *g, size_t n, char *err, size_t errlen) {
    (void)s, (void)g, (void)n, (void)err, (void)errlen;
    return 0;
}
int tp_sink_can_query_gaps(const tp_sink *s) {
    (void)s;
    return 0;
}
int tp_sink_query_gaps(tp_sink *s, const tp_query *q, tp_gap_row_fn fn, void *ud, char *err, size_t errlen) {
    (void)s, (void)q, (void)fn, (void)ud, (void)err, (void)errlen;
    return 0;
}
int tp_sink_query_latest(tp_sink *s, tp_symbol_row_fn fn, void *ud, char *err, size_t errlen) {
    (void)s, (void)fn, (void)ud, (void)err, (void)errlen;
    return 0;
}
int tp_sink_query_trades(tp_sink *s, const tp_query *q, tp_trade_row_fn fn, void *ud, char *err,
                         size_t errlen) {
    (void)s, (void)q, (void)fn, (void)ud, (void)err, (void)errlen;
    return 0;
}
int tp_sink_query_candles(tp_sink *s, const tp_query *q, tp_candle_row_fn fn, void *ud, char *err,
                          size_t errlen) {
    (void)s, (void)q, (void)fn, (void)ud, (void)err, (void)errlen;
    return 0;
}
int tp_sink_query_averages(tp_sink *s, const tp_query *q, tp_average_row_fn fn, void *ud, char *err,
                           size_t errlen) {
    (void)s, (void)q, (void)fn, (void)ud, (void)err, (void)errlen;
    return 0;
}

static fake_row *new_row(void) {
    assert_true(F.nunit < 4096);
    fake_row *r = &F.unit[F.nunit++];
    memset(r, 0, sizeof *r);
    return r;
}

int tp_sink_write_trades(tp_sink *s, const tp_trade *t, size_t n, int64_t ingest_ms, char *err,
                         size_t errlen) {
    (void)s, (void)ingest_ms;
    if (maybe_fail(err, errlen)) return TP_EUNAVAIL;
    for (size_t i = 0; i < n; i++) {
        fake_row *r = new_row();
        snprintf(r->sym, sizeof r->sym, "%.*s", (int)t[i].symbol.len, t[i].symbol.ptr);
        r->kind = 0;
        r->key = t[i].ts_ms;
        r->value = t[i].price;
        memcpy(r->id, t[i].id, 16);
    }
    return 0;
}
int tp_sink_write_averages(tp_sink *s, const tp_average *a, size_t n, char *err, size_t errlen) {
    (void)s;
    if (maybe_fail(err, errlen)) return TP_EUNAVAIL;
    for (size_t i = 0; i < n; i++) {
        fake_row *r = new_row();
        snprintf(r->sym, sizeof r->sym, "%.*s", (int)a[i].symbol.len, a[i].symbol.ptr);
        r->kind = 2;
        r->key = a[i].window_start_ms;
        r->value = a[i].price_volume_multiply;
        r->count = a[i].trade_count;
        r->final = a[i].final;
    }
    return 0;
}
int tp_sink_write_candles(tp_sink *s, const tp_candle *c, size_t n, char *err, size_t errlen) {
    (void)s;
    if (maybe_fail(err, errlen)) return TP_EUNAVAIL;
    for (size_t i = 0; i < n; i++) {
        fake_row *r = new_row();
        snprintf(r->sym, sizeof r->sym, "%.*s", (int)c[i].symbol.len, c[i].symbol.ptr);
        r->kind = c[i].interval_s;
        r->key = c[i].start_ms;
        r->value = c[i].close;
        r->count = c[i].trade_count;
        r->final = c[i].final;
    }
    return 0;
}
int tp_sink_commit(tp_sink *s, char *err, size_t errlen) {
    (void)s;
    if (F.fail_commit > 0) {
        F.fail_commit--;
        F.failures++;
        F.nunit = 0;
        return tp_seterr(err, errlen, TP_EUNAVAIL, "fake commit failed (injected)");
    }
    if (maybe_fail(err, errlen)) return TP_EUNAVAIL;
    /* upsert the unit into the durable rows */
    for (size_t i = 0; i < F.nunit; i++) {
        fake_row *u = &F.unit[i];
        size_t j = 0;
        for (; j < F.ndurable; j++) {
            fake_row *d = &F.durable[j];
            if (d->kind == u->kind && d->key == u->key && !strcmp(d->sym, u->sym) &&
                (u->kind != 0 || !memcmp(d->id, u->id, 16)))
                break;
        }
        if (j == F.ndurable) F.ndurable++;
        F.durable[j] = *u;
    }
    F.nunit = 0;
    F.commits++;
    return 0;
}

static const fake_row *durable(const char *sym, int kind, int64_t key) {
    for (size_t j = 0; j < F.ndurable; j++)
        if (F.durable[j].kind == kind && F.durable[j].key == key && !strcmp(F.durable[j].sym, sym))
            return &F.durable[j];
    return NULL;
}

static size_t count_kind(int kind) {
    size_t n = 0;
    for (size_t j = 0; j < F.ndurable; j++) n += F.durable[j].kind == kind;
    return n;
}

/* ---- tests ---- */
static size_t hook_trades, hook_calls;
static void on_durable(void *ud, const tp_trade *t, size_t nt, const tp_candle *c, size_t nc,
                       const tp_average *a, size_t na) {
    (void)ud, (void)t, (void)c, (void)nc, (void)a, (void)na;
    hook_calls++;
    hook_trades += nt;
    /* at the time of the call, the rows are durable */
    assert_int_equal(F.nunit, 0);
    assert_int_equal(count_kind(0), hook_trades);
}

static int setup(void **state) {
    (void)state;
    memset(&F, 0, sizeof F);
    hook_trades = hook_calls = 0;
    return 0;
}

static tp_pipeline *mkpipe(void) {
    tp_pipeline_config c;
    tp_pipeline_config_default(&c);
    c.store_url = "fake:";
    c.win.allowed_lateness_ms = 1000;
    c.win.emit_interval_ms = 0;
    c.on_durable = on_durable;
    tp_pipeline *p = NULL;
    char err[256];
    assert_int_equal(tp_pipeline_new(&c, &p, err, sizeof err), 0);
    return p;
}

static void add(tp_pipeline *p, int64_t off, const char *sym, double price, int64_t ts) {
    tp_batch b;
    tp_batch_init(&b);
    snprintf(b.origin.topic, sizeof b.origin.topic, "market");
    b.origin.partition = 0;
    b.origin.offset = off;
    tp_trade *t = tp_batch_add(&b);
    t->symbol = (tp_str){tp_batch_strdup(&b, sym, strlen(sym)), (uint32_t)strlen(sym)};
    t->price = price;
    t->volume = 1;
    t->ts_ms = ts;
    t->ncond = TP_COND_NULL;
    t->recv_ms = tp_now_ms();
    assert_int_equal(tp_pipeline_add(p, &b), 0);
    tp_batch_free(&b);
}

static void test_retry_until_success(void **state) {
    (void)state;
    tp_pipeline *p = mkpipe();
    add(p, 0, "A", 10, BASE + 100);
    add(p, 1, "A", 11, BASE + 200);
    F.fail_next = 3; /* writes fail three times: 0.1 + 0.2 + 0.4 s of backoff */
    assert_int_equal(tp_pipeline_flush(p, 1), 0);
    assert_int_equal(F.failures, 3);
    assert_int_equal(F.commits, 1);
    assert_int_equal(count_kind(0), 2);
    const fake_row *c = durable("A", 1, BASE);
    assert_non_null(c);
    assert_true(c->value == 11);
    assert_int_equal(c->count, 2);
    assert_int_equal(hook_calls, 1);
    tp_pipeline_stats st;
    tp_pipeline_get_stats(p, &st);
    assert_int_equal(st.store_errors, 3);
    assert_int_equal(st.flushes, 1);
    tp_pipeline_free(p);
}

/* A window emitted final in a unit that failed is gone from the window
 * module: the pipeline must still hold it and re-send it. */
static void test_final_rows_survive_failed_commit(void **state) {
    (void)state;
    tp_pipeline *p = mkpipe();
    add(p, 0, "A", 10, BASE + 100);
    assert_int_equal(tp_pipeline_flush(p, 1), 0); /* open candle durable */
    add(p, 1, "A", 20, BASE + 5000);              /* watermark BASE+4000: bucket BASE final */
    F.fail_commit = 1;
    F.fail_next = 0;
    /* stop after the first failure: flush gives up, the unit stays */
    tp_pipeline_stop(p);
    assert_int_equal(tp_pipeline_flush(p, 0), TP_ESTATE);
    assert_int_equal(count_kind(0), 1);
    const fake_row *c = durable("A", 1, BASE);
    assert_int_equal(c->final, 0);
    tp_pipeline_stats st;
    tp_pipeline_get_stats(p, &st);
    assert_int_equal(st.pending, 1);
    /* the store is back: the next flush (one attempt even after stop) re-sends
     * the whole unit, the final candle included */
    add(p, 2, "A", 21, BASE + 5100);
    assert_int_equal(tp_pipeline_flush(p, 0), 0);
    assert_int_equal(count_kind(0), 3);
    c = durable("A", 1, BASE);
    assert_non_null(c);
    assert_int_equal(c->final, 1);
    assert_true(c->value == 10);
    c = durable("A", 1, BASE + 5000);
    assert_non_null(c);
    assert_int_equal(c->count, 2);
    assert_true(c->value == 21);
    tp_pipeline_free(p);
}

static void *stopper(void *arg) {
    usleep(300000);
    tp_pipeline_stop(arg);
    return NULL;
}

static void test_stop_ends_retries(void **state) {
    (void)state;
    tp_pipeline *p = mkpipe();
    add(p, 0, "A", 10, BASE + 100);
    F.fail_next = 1000000; /* down for good */
    pthread_t th;
    pthread_create(&th, NULL, stopper, p);
    assert_int_equal(tp_pipeline_flush(p, 1), TP_ESTATE);
    pthread_join(th, NULL);
    assert_true(F.failures >= 2);
    assert_int_equal(F.commits, 0);
    assert_int_equal(hook_calls, 0);
    tp_pipeline_free(p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_retry_until_success, setup),
        cmocka_unit_test_setup(test_final_rows_survive_failed_commit, setup),
        cmocka_unit_test_setup(test_stop_ends_retries, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
